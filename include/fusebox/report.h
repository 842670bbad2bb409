/* Passive health for services that call their dependencies themselves:
 * ask the running fusebox instance before a call (fb_allow) and tell it
 * how each call went (an fb_reporter), so real traffic feeds the host's
 * breakers and shows in the console (SPEC section 7, ops allow and
 * report). */
#ifndef FUSEBOX_REPORT_H
#define FUSEBOX_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The instance's answer to "may a call to this dependency go ahead?". */
typedef struct fb_allow_answer {
	bool allowed;
	char state[16];         /* "closed", "open", "half_open", ... */
	char health[16];        /* "healthy", "degraded", ... */
	int64_t retry_after_ms; /* when refused: the wait left; 0 while a
	                           trial is out; -1 only an operator helps */
	uint64_t permit;        /* a half-open trial permit lent to us: pass
	                           it to the report of this call; 0 none */
	char error[160];        /* why it could not be asked (on -1) */
	bool answered;          /* on -1: the instance replied, refusing the
	                           question (an unknown dependency) */
} fb_allow_answer;

/* Asks the instance serving socket_path about dependency dep, waiting at
 * most timeout_ms. Returns 0 with *out filled, or -1 when it could not be
 * asked (no instance, no answer in time, an unknown dependency): then
 * out->allowed is false and out->error says why; what to do then is the
 * caller's choice (fb_client works on alone). Blocks for at most
 * timeout_ms; thread-safe (one connection per call). */
int fb_allow(const char *socket_path, const char *dep, int timeout_ms,
             fb_allow_answer *out);

/* A reporter: a bounded queue of outcomes and a batched, non-blocking
 * sender. Every function is thread-safe and none waits for the instance:
 * an outcome is queued and sent with others when a batch is full or
 * FB_REPORT_FLUSH_MS have passed since the last send, by whichever
 * thread adds or flushes then, with non-blocking writes on one Unix
 * socket. While the instance is away (no socket, refused, gone), or the
 * queue is full because it does not keep up, outcomes are dropped and
 * counted; the reporter tries to connect again at most once a second. */
typedef struct fb_reporter fb_reporter;

#define FB_REPORT_QUEUE    2048 /* outcomes queued at most, by default */
#define FB_REPORT_BATCH    100  /* outcomes in one report request */
#define FB_REPORT_FLUSH_MS 100

typedef struct fb_reporter_stats {
	uint64_t added;        /* fb_reporter_add() calls */
	uint64_t sent;         /* outcomes written to the socket */
	uint64_t dropped_full; /* the queue was full */
	uint64_t dropped_away; /* no instance to send them to */
	uint64_t rejected;     /* report replies that said "ok":false (each
	                          a whole batch; counted as they are read) */
} fb_reporter_stats;

/* A reporter for the instance on socket_path, queueing at most capacity
 * outcomes (0: FB_REPORT_QUEUE). Connects lazily. Returns NULL when out
 * of memory. Free with fb_reporter_free(). */
fb_reporter *fb_reporter_new(const char *socket_path, size_t capacity);

/* Queues one outcome of a call to dep: ok, how long it took, the error
 * (NULL on success; copied, cut at 120 bytes) and the permit fb_allow()
 * lent for it (0 none). Never blocks on I/O. */
void fb_reporter_add(fb_reporter *r, const char *dep, bool ok,
                     int64_t latency_us, const char *error, uint64_t permit);

/* Sends what the socket takes now, without waiting (nothing when another
 * thread is sending). For a service that wants its last outcomes out
 * before FB_REPORT_FLUSH_MS. */
void fb_reporter_flush(fb_reporter *r);

void fb_reporter_stats_get(fb_reporter *r, fb_reporter_stats *out);

/* One last non-blocking flush, then frees. No other thread may use r
 * then. NULL is fine. */
void fb_reporter_free(fb_reporter *r);

#endif
