/* Private to the HTTP client (client_http.c, client_curl.c,
 * client_status.c), `fusebox call` and the tests: the client's insides,
 * its clock seam and the seam where a running instance joins in. */
#ifndef FB_CLIENT_HTTP_IMPL_H
#define FB_CLIENT_HTTP_IMPL_H

#include <curl/curl.h>
#include <pthread.h>

#include "core/retry.h"
#include "fusebox/client.h"
#include "fusebox/registry.h"

#define FB_CLIENT_MAX_BODY (16LL << 20)
#define FB_CLIENT_IDLE_MAX 16 /* easy handles kept for reuse */
#define FB_CLIENT_BASE_MAX (FB_URL_MAX + 256)
#define FB_CLIENT_URL_MAX  4096
/* Retry budget: 20% of calls plus 10 retries a second (Finagle's). */
#define FB_BUDGET_PERCENT 20
#define FB_BUDGET_FLOOR   10
/* With no deadline, a Retry-After longer than this ends the call. */
#define FB_RETRY_AFTER_MAX_MS (60 * 1000)

/* Time and chance, injectable so that tests can check the 1s/2s/4s
 * schedule without waiting for it. sleep_ms returns early (false) when
 * *cancel becomes non-zero. All three may be called from any thread. */
typedef struct fb_client_clock {
	int64_t (*now_ms)(void *ctx);
	bool (*sleep_ms)(void *ctx, int64_t ms, const atomic_int *cancel);
	uint64_t (*random)(void *ctx); /* uniform 64-bit values */
	void *ctx;
} fb_client_clock;

/* The running instance, when there is one (SPEC 7 `allow` and `report`):
 * the seam the reporter of the ops work plugs into. allow is asked
 * before each attempt the local breaker let through (false refuses it,
 * with *retry_after_ms); report gets every attempt's outcome and must
 * never block. NULL members: the client works alone. */
typedef struct fb_client_peer {
	bool (*allow)(void *ctx, const char *service, int64_t *retry_after_ms,
	              uint64_t *permit);
	void (*report)(void *ctx, const char *service, bool ok,
	               int64_t latency_us, const char *error, uint64_t permit);
	void (*flush)(void *ctx); /* at the end of a call; never blocks */
	void *ctx;
} fb_client_peer;

/* The running fusebox instance as a client's peer (SPEC 7: allow before
 * an attempt, report after it, batched and never blocking; see
 * client_peer.c). Returns NULL when out of memory. */
typedef struct fb_instance_peer fb_instance_peer;
fb_instance_peer *fb_instance_peer_new(const char *socket_path);
void fb_instance_peer_free(fb_instance_peer *p);
/* The peer's functions, for fb_client_set_peer(). */
fb_client_peer fb_instance_peer_ops(fb_instance_peer *p);
/* The instance's last word on the dependency's health, if it spoke in
 * the last few seconds; false otherwise. */
bool fb_instance_peer_health(fb_instance_peer *p, int64_t now_ms,
                             fb_health *out);

/* The connection pool: one curl share handle (connections, DNS, TLS
 * sessions) behind its locks, and the easy handles no call is using. */
typedef struct fb_http_pool {
	CURLSH *share;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t idle_lock;
	CURL *idle[FB_CLIENT_IDLE_MAX];
	int nidle;
} fb_http_pool;

/* One attempt as the curl adapter sends it. */
typedef struct fb_http_attempt {
	const char *method, *url;
	const struct curl_slist *headers;
	const void *body;
	size_t len;
	int64_t timeout_ms;
	int64_t max_body;
	const atomic_int *cancel;
} fb_http_attempt;

/* What came back. status 0: no answer, error says why. */
typedef struct fb_http_result {
	CURLcode code;
	long status;
	char *body; /* owned: free() it (NULL when status is 0) */
	size_t len;
	int64_t retry_after_ms; /* the answer's Retry-After; -1 = none */
	int64_t latency_us;
	bool too_big;    /* the body passed max_body */
	char error[256]; /* sanitised */
} fb_http_result;

int fb_http_pool_init(fb_http_pool *p, fb_error *err);
void fb_http_pool_free(fb_http_pool *p);
/* Sends one attempt on a pooled handle and fills *res. */
void fb_http_perform(fb_http_pool *p, const fb_http_attempt *a,
                     fb_http_result *res);
/* curl_slist of the headers, plus "Expect:" (no 100-continue pause);
 * NULL when out of memory. Free with curl_slist_free_all(). */
struct curl_slist *fb_http_headers(const char *const *headers);

struct fb_client {
	char service[FB_NAME_MAX];
	char base[FB_CLIENT_BASE_MAX]; /* scheme://host:port[/path], no
	                                  trailing slash */
	fb_dep_config dep;             /* the effective tuning */
	int64_t deadline_ms, max_body;
	bool retry_unsafe;
	fb_log_fn log;
	void *log_ctx;
	int log_level;
	fb_client_clock clock;
	fb_client_peer peer;
	fb_instance_peer *instance; /* owned; NULL: none (or a test's peer) */
	fb_breaker *breaker;
	uint64_t breaker_rng; /* its fb_rng state, used under its lock */
	fb_http_pool pool;
	pthread_mutex_t lock; /* guards what follows */
	uint64_t rng;         /* the default clock's random state */
	fb_retry_budget budget;
	fb_history history; /* attempts' latencies, for status and health */
	char last_error[FB_ERROR_MAX];
};

/* A client for a dependency the configuration already resolved (`fusebox
 * call --dep`): its tuning as it is, base `base` (NULL: the scheme, host
 * and port of d->url). The rest as fb_client_new(). */
fb_client *fb_client_new_dep(const fb_dep_config *d, const char *base,
                             const fb_client_options *opts, fb_error *err);

/* Tests: replaces the clock (copied) and the peer. */
void fb_client_set_clock(fb_client *c, const fb_client_clock *clock);
void fb_client_set_peer(fb_client *c, const fb_client_peer *peer);

/* "1s", "1.5s", "250ms": a wait as log lines write it. */
void fb_client_format_wait(int64_t ms, char *buf, size_t len);

/* The URL with any user:password@ removed, sanitised, for log lines. */
void fb_client_url_for_log(const char *url, char *buf, size_t len);

#endif
