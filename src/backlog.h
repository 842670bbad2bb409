/* The events the event log could not take yet (SPEC section 3): when a
 * write fails (disk full, I/O error, quota...), each event waits in
 * memory, in order, up to a cap, and is written when the log works
 * again -- retried with the next event and every FB_BACKLOG_RETRY_MS.
 * Past the cap the oldest waiting event is dropped and counted; a `gap`
 * event (SPEC section 6: `lost`, `reason`) then goes into the log first,
 * exactly where the lost events were, before the ones that waited.
 *
 * Seq numbers are given as lines are written (fb_log_write), so the
 * file's seq stays strictly increasing with no hole, across restarts,
 * and only a gap event says events are missing. Each waiting event keeps
 * the wall time it happened at. */
#ifndef FB_BACKLOG_H
#define FB_BACKLOG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eventlog.h"

#define FB_BACKLOG_EVENTS    4096      /* waiting events, by default */
#define FB_BACKLOG_BYTES     (4 << 20) /* and their bytes, at most */
#define FB_BACKLOG_RETRY_MS  1000      /* between two retries on the timer */
#define FB_BACKLOG_MAX_LIMIT 1000000 /* the most FUSEBOX_EVENT_BACKLOG takes */

typedef struct fb_waiting {
	char *text;      /* fb_log_render()'s line, owned by the backlog */
	size_t len;      /* its length */
	int64_t wall_ms; /* when the event happened */
} fb_waiting;

typedef struct fb_backlog {
	fb_waiting *ring; /* the waiting events, oldest at head */
	size_t cap;       /* ring slots: the cap on waiting events */
	size_t head, len; /* the oldest waiting one; how many wait */
	size_t bytes;     /* held by the waiting events */
	size_t max_bytes; /* the cap on those */
	int err;          /* errno of the last failed write; 0: the log works */
	int lost_err;     /* errno when the first unreported loss happened */
	uint64_t lost;    /* dropped and not yet told by a gap event */
	int64_t lost_wall; /* when the first of those happened */
	int64_t retry_ms;  /* the next retry on the timer (CLOCK_MONOTONIC) */
	/* this episode: from a failed write until the backlog is empty */
	uint64_t late;    /* events written late */
	uint64_t dropped; /* events lost */
	/* since the instance started */
	uint64_t held_total; /* events not written when they happened */
	uint64_t lost_total; /* events lost */
} fb_backlog;

/* What an fb_backlog_log() or fb_backlog_retry() changed. */
typedef enum {
	FB_BACKLOG_SAME,     /* no change: working, or still failing */
	FB_BACKLOG_FAILING,  /* a write failed and the log was working */
	FB_BACKLOG_RECOVERED /* everything that waited is written now */
} fb_backlog_change;

/* An empty backlog that holds at most max_events events and max_bytes
 * bytes of them (at least one event either way). Nothing is allocated
 * until the first failure. */
void fb_backlog_init(fb_backlog *b, size_t max_events, size_t max_bytes);
void fb_backlog_free(fb_backlog *b);

/* Logs an event that happened at wall_ms: after those still waiting,
 * which are tried first, or waiting behind them. Never fails: an event
 * that cannot even be kept (out of memory) is counted as lost. */
fb_backlog_change fb_backlog_log(fb_backlog *b, fb_log *log, const fb_event *ev,
                                 int64_t wall_ms, int64_t now_ms);

/* Writes what waits, when the timer says so or `now` (an operator
 * action asks) is true. */
fb_backlog_change fb_backlog_retry(fb_backlog *b, fb_log *log, int64_t now_ms,
                                   bool now);

/* True while events wait because the log cannot be written. */
bool fb_backlog_failing(const fb_backlog *b);

/* Ms until the next retry on the timer is due (0: now), or -1 when
 * nothing waits. */
int64_t fb_backlog_due(const fb_backlog *b, int64_t now_ms);

/* The cap on waiting events: $FUSEBOX_EVENT_BACKLOG (1 to
 * FB_BACKLOG_MAX_LIMIT), else FB_BACKLOG_EVENTS. A bad value is said in
 * warn (else it is empty) and the default used. */
size_t fb_backlog_cap_from_env(char *warn, size_t len);

/* {"ok":bool, "error":"No space left on device" (only while failing),
 * "queued":N, "lost":N (since start)}: the event_log member of the
 * status document. NULL when out of memory. */
cJSON *fb_backlog_json(const fb_backlog *b);

#endif
