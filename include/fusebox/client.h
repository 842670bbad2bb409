/* For programs that embed libfusebox: the resilient HTTP client (SPEC
 * section 9), and the gate question asked of a running fusebox instance
 * over its control socket.
 *
 * A client calls one dependency (a service name and a base URL) through
 * retries with jittered exponential backoff, a circuit breaker (the same
 * engine fusebox runs) and a retry budget; its connections are pooled.
 *
 * Thread safety: one fb_client may be used from any number of threads at
 * once; every function here is thread-safe on it, but fb_client_free()
 * must come after every other call on it has returned.
 *
 * Ownership, as curl writes it: what a function allocates is named at the
 * function, with the call that frees it. Strings passed in are copied or
 * used only during the call. */
#ifndef FUSEBOX_CLIENT_H
#define FUSEBOX_CLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fusebox/config.h"
#include "fusebox/state.h"

/* May a destructive operation go ahead now? Asks the instance serving
 * socket_path, waiting at most timeout_ms. Returns true only when the
 * instance answered "allowed"; no instance, no answer or a bad answer is
 * false -- a destructive operation never proceeds on doubt. The reason
 * (the gate's, or why it could not be asked) goes to reason (may be
 * NULL). */
bool fb_gate_allows(const char *socket_path, int timeout_ms, char *reason,
                    size_t len);

/* The same for the fleet gate (SPEC 8): true only when the instance
 * answered that every critical dependency is closed on every live
 * instance of its service, the fleet gate is not locked and its fleet
 * view is fresh. An instance without [redis] answers blocked. */
bool fb_gate_allows_fleet(const char *socket_path, int timeout_ms,
                          char *reason, size_t len);

/* ---- the resilient HTTP client ---------------------------------------- */

/* What fb_client_request() and its kin return. 0 means the dependency
 * answered: fb_response holds the last attempt's status (a 2xx, a 3xx --
 * redirects are not followed --, a 4xx, or a 429/5xx that the retries did
 * not cure). Each error fills fb_error: `text` is one line for humans
 * ("chroma is unavailable; retry in 12s"). */
enum {
	FB_OK = 0,
	FB_E_USAGE = -1,       /* bad arguments: nothing was sent */
	FB_E_UNAVAILABLE = -2, /* the breaker refused: retry_after_ms, state */
	FB_E_FAILED = -3,      /* no attempt got an answer (or the last did
	                          not, and no retry was left) */
	FB_E_CANCELLED = -4,   /* the request's cancel flag was set */
};

/* A fixed name for a return code ("breaker open"); for the particular
 * error, print fb_error's text. Never NULL. */
const char *fb_strerror(int rc);

/* Log levels of the per-attempt lines, most severe first. */
typedef enum {
	FB_LOG_ERROR, /* the call failed */
	FB_LOG_WARN,  /* an attempt failed, or the breaker refused */
	FB_LOG_INFO,  /* an attempt was answered */
	FB_LOG_DEBUG,
} fb_log_level;

/* One line per attempt, without a newline: method, URL (user and
 * password removed), attempt n/N, status or error, latency, and what
 * happens next ("retrying in 2s"). Called from the calling thread, with
 * no lock of the client held; `line` lives during the call only. */
typedef void (*fb_log_fn)(void *ctx, fb_log_level level, const char *line);

/* The client's tuning. Layers, weakest first: built-in defaults (SPEC 5:
 * timeout 2s, max_retries 3, retry_delay 1s doubling, failure_threshold 5,
 * recovery_timeout 60s), the named preset, these options, then the
 * environment. Always fill it with fb_client_options_init() first: it
 * sets `size` (so the struct can grow without breaking callers built
 * against an older one) and marks every value "not given" (-1, NULL). */
typedef struct fb_client_options {
	size_t size;            /* sizeof(fb_client_options) */
	const char *url;        /* base URL: http(s)://host[:port][/path] */
	const char *preset;     /* fast, slow or complex */
	int64_t timeout_ms;     /* one attempt */
	int max_retries;        /* attempts after the first */
	int64_t retry_delay_ms; /* first retry wait; doubles */
	int failure_threshold;  /* consecutive failures that open */
	int64_t recovery_timeout_ms; /* first open wait */
	int64_t deadline_ms; /* a whole call, retries and waits included;
	                         0 = none (the default) */
	int retry_unsafe;    /* 1: retry POST and PATCH without an
	                         Idempotency-Key too (default 0) */
	int64_t max_body;    /* largest response body kept (default 16 MiB) */
	fb_log_fn log;       /* default: silent */
	void *log_ctx;
	int log_level; /* the least severe level logged (default INFO) */
	const char *socket; /* a running fusebox instance's control socket:
	                       ask it (allow) and tell it (report) about every
	                       attempt; NULL: $FUSEBOX_SOCKET, if set; "":
	                       none even then */
} fb_client_options;

void fb_client_options_init(fb_client_options *opts);

typedef struct fb_client fb_client;

/* A new client for the dependency `service` (a name, used in messages and
 * the status document). With env_prefix P (NULL: none), the environment
 * overrides the options: P_URL or P_BASE_URL, or P_HOST + P_PORT +
 * P_PROTOCOL; P_TIMEOUT, P_MAX_RETRIES, P_RETRY_DELAY,
 * P_FAILURE_THRESHOLD, P_RECOVERY_TIMEOUT. No config file is read.
 * Returns the client (free with fb_client_free()), or NULL with *err set
 * (a bad variable is named: "environment variable CHROMA_TIMEOUT: ...";
 * no address at all, a bad option, out of memory). */
fb_client *fb_client_new(const char *service, const char *env_prefix,
                         const fb_client_options *opts, fb_error *err);

/* Waits for nothing: call it once every call on c has returned. NULL is
 * fine. */
void fb_client_free(fb_client *c);

/* An answer. `body` is NUL-terminated for convenience (len excludes the
 * NUL) and owned by the response: free with fb_response_free(). */
typedef struct fb_response {
	long status;
	char *body;
	size_t len;
	int attempts;       /* attempts made, the last one included */
	int64_t elapsed_ms; /* the whole call, waits included */
} fb_response;

/* Frees the body and empties *r; safe on an emptied or zeroed one. */
void fb_response_free(fb_response *r);

/* One call, all of it spelt out. Fill with fb_request_init() first (it
 * sets `size`, as fb_client_options_init() does). */
typedef struct fb_request {
	size_t size;                /* sizeof(fb_request) */
	const char *method;         /* GET, POST, ...: upper case */
	const char *url;            /* a path ("/query") joined to the base
	                                URL, or a whole http(s) URL */
	const void *body;           /* may be NULL */
	size_t len;                 /* of body */
	const char *const *headers; /* "Name: value" lines, NULL-terminated;
	                                may be NULL */
	int64_t deadline_ms;        /* this call's deadline; 0 = the
	                                client's */
	const atomic_int *cancel;   /* set it non-zero (from any thread or a
	                                signal handler) to stop the call at
	                                the next wait or transfer tick; may
	                                be NULL */
	int retry_unsafe;           /* 1: retry even a POST or PATCH */
} fb_request;

void fb_request_init(fb_request *req, const char *method, const char *url);

/* Sends the request through the breaker and the retries. Returns FB_OK
 * with *resp filled (free it with fb_response_free()), or an FB_E_ code
 * with *err set and *resp emptied. err may be NULL. */
int fb_client_send(fb_client *c, const fb_request *req, fb_response *resp,
                   fb_error *err);

/* fb_client_send() with no headers, the client's deadline and no cancel
 * flag. */
int fb_client_request(fb_client *c, const char *method, const char *path_or_url,
                      const void *body, size_t len, fb_response *resp,
                      fb_error *err);
int fb_client_get(fb_client *c, const char *path_or_url, fb_response *resp,
                  fb_error *err);
int fb_client_post(fb_client *c, const char *path_or_url, const void *body,
                   size_t len, fb_response *resp, fb_error *err);
int fb_client_put(fb_client *c, const char *path_or_url, const void *body,
                  size_t len, fb_response *resp, fb_error *err);
int fb_client_delete(fb_client *c, const char *path_or_url, fb_response *resp,
                     fb_error *err);

/* The client's status document for a service's own status endpoint:
 * {"service", "state", "health", "failure_count", "last_failure",
 * "last_error", "last_state_change", "retry_after_s", "latency_ms":{"p50",
 * "p95", "p99"}} (times RFC 3339, null when never; latencies null before
 * the first answer). Returns a new string (free() it), or NULL when out
 * of memory. */
char *fb_client_status_json(fb_client *c);

/* Shed load while the dependency struggles: healthy, degraded (recent
 * failures, half-open or slow), unhealthy (open) or unknown (no call
 * answered or failed yet), from the client's breaker and, when a running
 * instance answered in the last 5 s, the worse of its view and ours. */
fb_health fb_client_health(fb_client *c);

/* The breaker's state now. */
fb_state fb_client_state(fb_client *c);

#endif
