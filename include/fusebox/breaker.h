/* The circuit breaker: one per dependency (SPEC section 2).
 *
 * Pure: no I/O and no clock. Every function takes the caller's `now_ms`
 * (CLOCK_MONOTONIC milliseconds) and randomness comes from an injected
 * fb_rng, so every transition can be tested to the millisecond.
 *
 * Thread safety: every function may be called from any thread. The hot
 * path -- fb_breaker_allow() and fb_breaker_success() on a closed (or
 * forced closed) breaker -- is one atomic load plus one relaxed atomic
 * add: no lock, no allocation. Everything else takes the breaker's lock. */
#ifndef FUSEBOX_BREAKER_H
#define FUSEBOX_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

#include "fusebox/state.h"

/* A source of uniformly distributed 64-bit values. */
typedef struct fb_rng {
	uint64_t (*next)(void *ctx);
	void *ctx;
} fb_rng;

/* A small, fast generator (xorshift64*) for production use; *state must be
 * non-zero. Use as fb_rng{fb_rng_xorshift, &state}. */
uint64_t fb_rng_xorshift(void *state);

typedef struct fb_breaker_config {
	int failure_threshold; /* consecutive failures that open; 0 = off */
	int failure_rate;      /* percent of the window that opens; 0 = off */
	int window;            /* calls in the sliding count window */
	int min_calls;         /* calls the rate rule needs in the window */
	int64_t recovery_timeout_ms; /* first open wait */
	int64_t backoff_cap_ms;      /* longest open wait */
	double jitter;               /* +- fraction applied to each open wait */
	int half_open_probes;        /* trials allowed in flight at once */
	int success_threshold;       /* trial successes needed to close */
	int64_t slow_call_ms;        /* a success slower than this is "slow" */
} fb_breaker_config;

/* A change of state. Filled by every call that can move the breaker;
 * `changed` is false when it did not. */
typedef struct fb_transition {
	bool changed;
	fb_state from, to;
	int64_t at_ms;
	int64_t retry_after_ms; /* open wait when `to` is open, else 0 */
	uint32_t failures;      /* consecutive failures when it happened */
	char reason[96];
} fb_transition;

/* Everything about a breaker at one instant, read under its lock. The
 * `frozen_*` counters are copies taken at the last transition, so the
 * operator can see what tripped it even after counts move on. */
typedef struct fb_breaker_snapshot {
	fb_state state;
	uint32_t consecutive_failures;
	uint32_t window_calls, window_failures;
	uint64_t successes, failures, slow_calls, rejected;
	uint32_t failed_trials; /* failed half-open trials since last close */
	int in_flight;          /* half-open trials out */
	int64_t open_until_ms;  /* when the open wait ends (open only) */
	int64_t open_wait_ms;   /* the current open wait */
	int64_t last_change_ms, last_success_ms,
	    last_failure_ms; /* -1 = never */
	uint32_t frozen_failures, frozen_window_calls, frozen_window_failures;
	uint64_t frozen_slow_calls;
	char last_reason[96];
	int64_t hold_until_ms; /* fb_breaker_hold(); 0 = none */
	/* Closed, yet its counts call for opening (a hold kept it closed):
	 * why, as an opening would say it ("5 consecutive failures"); ""
	 * otherwise. */
	char would_open[96];
} fb_breaker_snapshot;

typedef struct fb_breaker fb_breaker;

/* Fills *cfg with the built-in defaults of SPEC section 5. */
void fb_breaker_config_default(fb_breaker_config *cfg);

/* Returns a new closed breaker, or NULL when out of memory. The config is
 * copied; rng must outlive the breaker. Free with fb_breaker_free(). */
fb_breaker *fb_breaker_new(const fb_breaker_config *cfg, fb_rng rng,
                           int64_t now_ms);
void fb_breaker_free(fb_breaker *b);

/* Replaces the tuning (on reload). State and counters are kept. */
void fb_breaker_configure(fb_breaker *b, const fb_breaker_config *cfg);

/* May a call (or probe) go ahead now? Closed and forced closed: yes.
 * Open: no, until the open wait ends; then the breaker goes half-open and
 * hands out at most `half_open_probes` trial permits. Forced open: no.
 * On refusal *retry_after_ms (may be NULL) gets the time left to wait
 * (-1 when only an operator can help). */
bool fb_breaker_allow(fb_breaker *b, int64_t now_ms, int64_t *retry_after_ms,
                      fb_transition *tr);

/* Outcome of a call that was allowed. A result that arrives while the
 * breaker is open (a call allowed before it opened) is counted but moves
 * nothing. */
void fb_breaker_success(fb_breaker *b, int64_t now_ms, int64_t latency_ms,
                        fb_transition *tr);
void fb_breaker_failure(fb_breaker *b, int64_t now_ms, fb_transition *tr);

/* Gives back a half-open permit whose call was abandoned (no outcome). */
void fb_breaker_release(fb_breaker *b);

/* Until `until_ms`, failures are counted as ever but do not open a closed
 * breaker (startup_grace); 0 lifts the hold. Open, half-open and the
 * forced states are not affected. */
void fb_breaker_hold(fb_breaker *b, int64_t until_ms);

/* Opens a closed breaker whose counts already call for it, now that no
 * hold is in force at `now_ms`: what its last failure would have done
 * without the hold. Otherwise nothing changes (tr->changed false). */
void fb_breaker_recheck(fb_breaker *b, int64_t now_ms, fb_transition *tr);

/* Operator commands; the only way in or out of the forced states.
 * reset closes the breaker and clears every counter and the backoff. */
void fb_breaker_force_open(fb_breaker *b, int64_t now_ms, fb_transition *tr);
void fb_breaker_force_closed(fb_breaker *b, int64_t now_ms, fb_transition *tr);
void fb_breaker_reset(fb_breaker *b, int64_t now_ms, fb_transition *tr);

/* Puts a closed breaker back into the open state an earlier instance
 * left it in (SPEC section 2): open for wait_ms more (0: the next allow
 * starts a trial; capped at backoff_cap) after `failed_trials` failed
 * half-open trials, so the next failed trial waits as long as it would
 * have then. A breaker that is not closed is left alone (tr->changed is
 * false). */
void fb_breaker_restore_open(fb_breaker *b, int64_t now_ms, int64_t wait_ms,
                             uint32_t failed_trials, fb_transition *tr);

/* Lock-free read of the current state. */
fb_state fb_breaker_state(const fb_breaker *b);

void fb_breaker_snapshot_get(fb_breaker *b, fb_breaker_snapshot *out);

/* Open wait after `failed_trials` failed half-open trials, before jitter:
 * recovery_timeout * 2^failed_trials, capped at backoff_cap. */
int64_t fb_backoff_base(const fb_breaker_config *cfg, uint32_t failed_trials);

/* Applies +-jitter to `base` with the uniform value `u` in [0, 1) and caps
 * the result at `cap_ms`. Never returns less than 1. */
int64_t fb_backoff_jitter(int64_t base, double jitter, double u,
                          int64_t cap_ms);

#endif
