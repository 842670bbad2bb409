/* Health probes: HTTP through libcurl's multi interface, Redis PING
 * through hiredis, TCP connect. All non-blocking, driven by fb_loop; each
 * dependency has at most one probe in flight. */
#ifndef FB_PROBE_H
#define FB_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "fusebox/config.h"
#include "fusebox/registry.h"
#include "loop.h"

typedef struct fb_probe_result {
	bool ok;
	int64_t latency_us;
	char error[FB_ERROR_MAX]; /* raw (unsanitised) reason, "" when ok */
} fb_probe_result;

/* Called once for every started probe that was not cancelled. */
typedef void (*fb_probe_done_fn)(void *ctx, uint32_t id,
                                 const fb_probe_result *r);

typedef struct fb_probes fb_probes;

/* A prober for dependencies 0..ndeps-1. Returns NULL when out of memory. */
fb_probes *fb_probes_new(fb_loop *loop, size_t ndeps, fb_probe_done_fn done,
                         void *ctx);
/* Cancels everything in flight (no callbacks) and frees. */
void fb_probes_free(fb_probes *p);

/* Starts probing dependency `id` described by cfg (which must stay valid
 * until the probe ends). Returns 0; on -1 the probe finished at once and
 * the callback has already been called with the error. */
int fb_probes_start(fb_probes *p, uint32_t id, const fb_dep_config *cfg);
bool fb_probes_busy(const fb_probes *p, uint32_t id);
/* Abandons a probe in flight; no callback. */
void fb_probes_cancel(fb_probes *p, uint32_t id);

/* Deadlines of Redis probes (curl keeps those of HTTP and TCP, and of
 * the Redis connect): fails the probes that are overdue, and returns ms
 * until the next deadline (-1: none). */
int64_t fb_probes_expire(fb_probes *p, int64_t now_ms);

#endif
