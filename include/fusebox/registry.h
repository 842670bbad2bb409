/* The registry: every configured dependency with its breaker, health,
 * counters, last error and latency history; lookup by name in O(1).
 *
 * Pure: owned by the engine's thread. The breakers inside may also be used
 * from other threads through fb_breaker_*(). */
#ifndef FUSEBOX_REGISTRY_H
#define FUSEBOX_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "fusebox/breaker.h"
#include "fusebox/calls.h"
#include "fusebox/config.h"
#include "fusebox/outcomes.h"

#define FB_HISTORY   120 /* probe outcomes kept per dependency */
#define FB_ERROR_MAX 256

typedef struct fb_sample {
	int64_t at_ms;
	int32_t latency_us;
	int8_t ok;
} fb_sample;

/* A ring of the latest probe outcomes, oldest overwritten first. */
typedef struct fb_history {
	fb_sample s[FB_HISTORY];
	uint32_t head, len;
} fb_history;

typedef struct fb_latency {
	double p50, p95, p99; /* milliseconds; -1 when no successful sample */
} fb_latency;

typedef struct fb_dep {
	fb_dep_config cfg;
	fb_breaker *breaker;
	fb_health health; /* unknown until the first outcome */
	fb_history history;
	char last_error[FB_ERROR_MAX]; /* sanitised; "" when none yet */
	int64_t last_error_ms;         /* -1 = never */
	uint64_t probes;               /* probes started */
	int64_t probe_began_ms;        /* the probe in flight; -1 = none */
	/* startup_grace holds the breaker closed until then; 0 = no grace,
	 * or it has ended */
	int64_t grace_until_ms;
	fb_call_stats calls; /* what services reported (fusebox/calls.h) */
	fb_outsum outsum; /* the outcomes of the current interval */
	/* shadow.KEY settings: a second breaker fed the same outcomes, which
	 * moves nothing (NULL = none); made by the engine */
	fb_breaker *shadow;
	bool shadow_permit; /* the probe in flight had the shadow's permit */
} fb_dep;

typedef struct fb_registry {
	fb_dep *deps;
	size_t count;
	uint32_t *slots; /* open addressing: index + 1, 0 = empty */
	size_t nslots;   /* a power of two, at least 2 * count */
} fb_registry;

/* Builds one dependency per cfg->deps entry, every breaker closed and
 * every health unknown. Returns 0, or -1 when out of memory (*reg is then
 * empty). */
int fb_registry_init(fb_registry *reg, const fb_config *cfg, fb_rng rng,
                     int64_t now_ms);
void fb_registry_free(fb_registry *reg);

/* NULL when no dependency has that name. */
fb_dep *fb_registry_find(const fb_registry *reg, const char *name);

void fb_history_add(fb_history *h, int64_t at_ms, int64_t latency_us, bool ok);
/* i = 0 is the newest sample; i must be < h->len. */
const fb_sample *fb_history_at(const fb_history *h, uint32_t i);
/* Percentiles of the successful samples among the newest `n`. */
fb_latency fb_history_latency(const fb_history *h, uint32_t n);

/* Health from the breaker snapshot and the recent latency (SPEC 2):
 * open or forced open is unhealthy; half-open is degraded; closed or
 * forced closed with no outcome yet (no success and no failure since the
 * breaker was made, at the instance's start) is unknown; recent failures
 * in the window, or a median latency over slow_call, is degraded. */
fb_health fb_health_derive(const fb_breaker_snapshot *snap,
                           double recent_p50_ms, int64_t slow_call_ms);

/* Worst health among critical dependencies (unhealthy, then unknown, then
 * degraded). A non-critical dependency counts as at most degraded, and
 * one still unknown only keeps the system from being healthy: the system
 * is unknown when everything else is healthy. No dependency: healthy. */
fb_health fb_system_health(const fb_registry *reg);

#endif
