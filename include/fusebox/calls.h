/* Calls: what services tell the instance about their own calls to a
 * dependency (passive health, SPEC section 7), kept next to the probes.
 *
 * A service asks before a call (fb_engine_call_allow) and reports how it
 * went (fb_engine_call_report). Reported outcomes count toward the
 * dependency's breaker exactly as probe outcomes do; they are counted on
 * their own too, so the console can show calls and probes apart. In
 * half-open the breaker's trial permits are shared by probes and callers:
 * a permit lent to a caller comes back with its report, or when it
 * expires.
 *
 * Pure and single-threaded, like the engine: time is the caller's
 * CLOCK_MONOTONIC `now_ms`. */
#ifndef FUSEBOX_CALLS_H
#define FUSEBOX_CALLS_H

#include <stdbool.h>
#include <stdint.h>

#include "fusebox/state.h"

#define FB_CALL_PERMITS                                                        \
	8                  /* trial permits lent to callers at once, per
                              dependency (fewer when half_open_probes is) */
#define FB_CALL_BUCKETS 60 /* one a second: the last minute of calls */

/* A trial permit lent to a caller. id 0: the slot is free. */
typedef struct fb_call_permit {
	uint64_t id;
	int64_t episode_ms; /* the half-open spell it belongs to (when the
	                       breaker went half-open) */
	int64_t expires_ms;
} fb_call_permit;

/* One second of reported calls. */
typedef struct fb_call_bucket {
	int64_t sec; /* now_ms / 1000 that it counts */
	uint32_t calls, failed;
	uint64_t latency_us; /* sum over the successful ones */
} fb_call_bucket;

/* A dependency's reported calls (zeroed: none yet). */
typedef struct fb_call_stats {
	uint64_t total, failed, slow; /* reported since the instance started */
	uint64_t refused;             /* allow answered no */
	uint64_t trials;              /* permits lent */
	uint64_t expired;             /* permits that came back unreported */
	int64_t last_ms;              /* the last report; valid when total */
	bool last_ok;                 /* and how it went */
	fb_call_bucket minute[FB_CALL_BUCKETS];
	fb_call_permit permit[FB_CALL_PERMITS];
	uint64_t next_permit;
} fb_call_stats;

/* The last minute of calls at now_ms. */
typedef struct fb_call_rate {
	uint32_t calls, failed;
	double mean_ms; /* of the successful ones; -1 when none */
} fb_call_rate;

fb_call_rate fb_call_stats_minute(const fb_call_stats *s, int64_t now_ms);

#endif
