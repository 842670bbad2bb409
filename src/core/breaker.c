/* The circuit breaker engine (SPEC section 2).
 *
 * The hot path is lock-free: `state` and `successes` are atomics, and on a
 * closed breaker allow() is one acquire load and success() one relaxed
 * add (plus a relaxed store of the time). Everything that can change the
 * state runs under `lock`.
 *
 * Consecutive failures without a hot-path write: success() only bumps
 * `successes`. The failure path remembers the value it saw last time; if
 * it moved, a success came in between and the streak starts again.
 *
 * The failure-rate rule looks at the last `window` calls. A call's index
 * is successes + failures; the failure path keeps the indexes of the last
 * `window` failures in a ring, so the failures inside the window are the
 * ring entries newer than (index - window). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusebox/breaker.h"

struct fb_breaker {
	/* Hot: read or bumped without the lock. */
	_Atomic int state;
	_Atomic uint64_t successes;
	_Atomic uint64_t slow_calls;
	_Atomic int64_t last_success_ms;
	_Atomic int64_t slow_call_ms;
	_Atomic uint64_t rejected;
	_Atomic int64_t
	    open_until; /* mirrors open_until_ms for lock-free rejects */

	pthread_mutex_t lock; /* guards everything below */
	fb_breaker_config cfg;
	fb_rng rng;
	uint64_t failures;    /* total since reset */
	uint64_t streak_mark; /* `successes` seen by the last failure */
	uint32_t streak;      /* consecutive failures */
	uint64_t window_base; /* call index at the last close or reset */
	uint64_t *fail_ring;  /* call indexes of the latest failures */
	uint32_t ring_cap, ring_head, ring_len;
	uint32_t failed_trials;
	int in_flight;
	int trial_successes;
	int64_t open_until_ms, open_wait_ms;
	int64_t last_change_ms, last_failure_ms;
	int64_t hold_until_ms; /* no opening by the counting rules before */
	uint32_t frozen_failures, frozen_window_calls, frozen_window_failures;
	uint64_t frozen_slow_calls;
	char last_reason[96];
};

void fb_breaker_config_default(fb_breaker_config *cfg)
{
	*cfg = (fb_breaker_config){
	    .failure_threshold = 5,
	    .failure_rate = 0,
	    .window = 20,
	    .min_calls = 10,
	    .recovery_timeout_ms = 60 * 1000,
	    .backoff_cap_ms = 10 * 60 * 1000,
	    .jitter = 0.2,
	    .half_open_probes = 1,
	    .success_threshold = 1,
	    .slow_call_ms = 1000,
	};
}

uint64_t fb_rng_xorshift(void *state)
{
	uint64_t *s = state;
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

int64_t fb_backoff_base(const fb_breaker_config *cfg, uint32_t failed_trials)
{
	int64_t wait = cfg->recovery_timeout_ms;
	for (uint32_t i = 0; i < failed_trials && wait < cfg->backoff_cap_ms;
	     i++)
		wait *= 2;
	return wait < cfg->backoff_cap_ms ? wait : cfg->backoff_cap_ms;
}

int64_t fb_backoff_jitter(int64_t base, double jitter, double u, int64_t cap_ms)
{
	double factor = 1.0 + jitter * (2.0 * u - 1.0);
	int64_t wait = (int64_t)((double)base * factor);
	if (wait > cap_ms)
		wait = cap_ms;
	return wait < 1 ? 1 : wait;
}

/* A uniform double in [0, 1) from the injected source. */
static double rng_unit(fb_rng *rng)
{
	return (double)(rng->next(rng->ctx) >> 11) * (1.0 / 9007199254740992.0);
}

static bool ring_resize(fb_breaker *b, int window)
{
	uint32_t cap = window > 0 ? (uint32_t)window : 1;
	uint64_t *ring = calloc(cap, sizeof *ring);
	if (!ring)
		return false;
	free(b->fail_ring);
	b->fail_ring = ring;
	b->ring_cap = cap;
	b->ring_head = 0;
	b->ring_len = 0;
	return true;
}

fb_breaker *fb_breaker_new(const fb_breaker_config *cfg, fb_rng rng,
                           int64_t now_ms)
{
	/* a cache line of its own: breakers used by different threads must
	 * not slow each other down */
	size_t size = (sizeof(fb_breaker) + 63) & ~(size_t)63;
	fb_breaker *b = aligned_alloc(64, size);
	if (!b)
		return NULL;
	memset(b, 0, size);
	if (!ring_resize(b, cfg->window)) {
		free(b);
		return NULL;
	}
	pthread_mutex_init(&b->lock, NULL);
	b->cfg = *cfg;
	b->rng = rng;
	atomic_init(&b->state, FB_STATE_CLOSED);
	atomic_init(&b->successes, 0);
	atomic_init(&b->slow_calls, 0);
	atomic_init(&b->last_success_ms, -1);
	atomic_init(&b->slow_call_ms, cfg->slow_call_ms);
	atomic_init(&b->rejected, 0);
	atomic_init(&b->open_until, 0);
	b->last_change_ms = now_ms;
	b->last_failure_ms = -1;
	return b;
}

void fb_breaker_free(fb_breaker *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b->fail_ring);
	free(b);
}

void fb_breaker_configure(fb_breaker *b, const fb_breaker_config *cfg)
{
	pthread_mutex_lock(&b->lock);
	if ((uint32_t)(cfg->window > 0 ? cfg->window : 1) != b->ring_cap)
		ring_resize(b, cfg->window); /* on failure the old ring stays */
	b->cfg = *cfg;
	atomic_store(&b->slow_call_ms, cfg->slow_call_ms);
	pthread_mutex_unlock(&b->lock);
}

fb_state fb_breaker_state(const fb_breaker *b)
{
	return (fb_state)atomic_load_explicit(&b->state, memory_order_acquire);
}

/* ---- counting (lock held) ---------------------------------------------- */

static uint64_t call_index(fb_breaker *b)
{
	return atomic_load_explicit(&b->successes, memory_order_relaxed) +
	       b->failures;
}

static uint32_t window_calls(fb_breaker *b)
{
	uint64_t n = call_index(b) - b->window_base;
	uint64_t w = (uint64_t)(b->cfg.window > 0 ? b->cfg.window : 1);
	return (uint32_t)(n < w ? n : w);
}

static uint32_t window_failures(fb_breaker *b)
{
	uint64_t now = call_index(b);
	uint64_t w = (uint64_t)(b->cfg.window > 0 ? b->cfg.window : 1);
	uint64_t oldest = now > w ? now - w : 0; /* indexes > oldest count */
	if (oldest < b->window_base)
		oldest = b->window_base;
	uint32_t n = 0;
	for (uint32_t i = 0; i < b->ring_len; i++) {
		uint32_t at =
		    (b->ring_head + b->ring_cap - 1 - i) % b->ring_cap;
		if (b->fail_ring[at] <= oldest)
			break;
		n++;
	}
	return n;
}

static void note_failure(fb_breaker *b, int64_t now_ms)
{
	uint64_t seen =
	    atomic_load_explicit(&b->successes, memory_order_relaxed);
	if (seen != b->streak_mark) {
		b->streak = 0;
		b->streak_mark = seen;
	}
	b->streak++;
	b->failures++;
	b->fail_ring[b->ring_head] = call_index(b);
	b->ring_head = (b->ring_head + 1) % b->ring_cap;
	if (b->ring_len < b->ring_cap)
		b->ring_len++;
	b->last_failure_ms = now_ms;
}

/* Consecutive failures now: a success since the last failure ends them. */
static uint32_t current_streak(fb_breaker *b)
{
	uint64_t seen =
	    atomic_load_explicit(&b->successes, memory_order_relaxed);
	return seen == b->streak_mark ? b->streak : 0;
}

static void clear_counts(fb_breaker *b)
{
	b->streak = 0;
	b->streak_mark =
	    atomic_load_explicit(&b->successes, memory_order_relaxed);
	b->window_base = call_index(b);
	b->ring_len = 0;
	b->failed_trials = 0;
	b->trial_successes = 0;
	b->in_flight = 0;
	b->open_until_ms = 0;
	b->open_wait_ms = 0;
}

/* ---- transitions (lock held) ------------------------------------------- */

static void no_change(fb_transition *tr)
{
	if (tr)
		tr->changed = false;
}

/* dst (cap bytes) gets src, cut where snprintf("%s") would cut it: a
 * reason is copied at every transition, and the what-if makes millions. */
static void set_text(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* buf gets "<n><suffix>" as snprintf("%u%s") gives it, without its
 * format machinery when it fits. */
static void set_count(char *buf, size_t len, uint32_t n, const char *suffix)
{
	char digits[16];
	size_t at = sizeof digits, tail = strlen(suffix);
	uint32_t v = n;
	do {
		digits[--at] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	size_t used = sizeof digits - at;
	if (used + tail >= len) {
		snprintf(buf, len, "%u%s", n, suffix);
		return;
	}
	memcpy(buf, digits + at, used);
	memcpy(buf + used, suffix, tail + 1);
}

/* Moves to `to`, freezes the counters and describes it in *tr. */
static void move(fb_breaker *b, fb_state to, int64_t now_ms, const char *reason,
                 fb_transition *tr)
{
	fb_state from = (fb_state)atomic_load(&b->state);
	b->frozen_failures = current_streak(b);
	b->frozen_window_calls = window_calls(b);
	b->frozen_window_failures = window_failures(b);
	b->frozen_slow_calls = atomic_load(&b->slow_calls);
	b->last_change_ms = now_ms;
	set_text(b->last_reason, sizeof b->last_reason, reason);
	atomic_store_explicit(&b->state, (int)to, memory_order_release);
	if (!tr)
		return;
	tr->changed = true;
	tr->from = from;
	tr->to = to;
	tr->at_ms = now_ms;
	tr->failures = b->frozen_failures;
	tr->retry_after_ms = to == FB_STATE_OPEN ? b->open_wait_ms : 0;
	set_text(tr->reason, sizeof tr->reason, reason);
}

static void open_for(fb_breaker *b, int64_t now_ms, const char *reason,
                     fb_transition *tr)
{
	int64_t base = fb_backoff_base(&b->cfg, b->failed_trials);
	b->open_wait_ms = fb_backoff_jitter(
	    base, b->cfg.jitter, rng_unit(&b->rng), b->cfg.backoff_cap_ms);
	b->open_until_ms = now_ms + b->open_wait_ms;
	atomic_store_explicit(&b->open_until, b->open_until_ms,
	                      memory_order_relaxed);
	b->in_flight = 0;
	b->trial_successes = 0;
	move(b, FB_STATE_OPEN, now_ms, reason, tr);
}

/* Which rule, if any, says a closed breaker must open now. Writes the
 * reason to buf. */
static bool should_open(fb_breaker *b, char *buf, size_t len)
{
	const fb_breaker_config *c = &b->cfg;
	uint32_t streak = current_streak(b); /* a success since ends it */
	if (c->failure_threshold > 0 &&
	    streak >= (uint32_t)c->failure_threshold) {
		set_count(buf, len, streak, " consecutive failures");
		return true;
	}
	if (c->failure_rate <= 0)
		return false;
	uint32_t calls = window_calls(b);
	uint32_t fails = window_failures(b);
	if (calls == 0 || calls < (uint32_t)c->min_calls ||
	    (uint64_t)fails * 100 < (uint64_t)c->failure_rate * calls)
		return false;
	snprintf(buf, len, "failure rate %u%% over the last %u calls",
	         fails * 100 / calls, calls);
	return true;
}

/* ---- the public operations --------------------------------------------- */

static bool allow_slow(fb_breaker *b, int64_t now_ms, int64_t *retry_after_ms,
                       fb_transition *tr)
{
	bool ok = false;
	int64_t wait = -1;
	pthread_mutex_lock(&b->lock);
	fb_state s = (fb_state)atomic_load(&b->state);
	no_change(tr);
	if (s == FB_STATE_OPEN && now_ms >= b->open_until_ms) {
		b->in_flight = 0;
		b->trial_successes = 0;
		move(b, FB_STATE_HALF_OPEN, now_ms, "open wait elapsed", tr);
		s = FB_STATE_HALF_OPEN;
	}
	switch (s) {
	case FB_STATE_CLOSED:
	case FB_STATE_FORCED_CLOSED: ok = true; break;
	case FB_STATE_OPEN: wait = b->open_until_ms - now_ms; break;
	case FB_STATE_HALF_OPEN:
		ok = b->in_flight < b->cfg.half_open_probes;
		if (ok)
			b->in_flight++;
		else
			wait = 0; /* a trial is out: its result decides */
		break;
	default: /* forced open: only an operator helps */ break;
	}
	pthread_mutex_unlock(&b->lock);
	if (!ok) {
		atomic_fetch_add_explicit(&b->rejected, 1,
		                          memory_order_relaxed);
		if (retry_after_ms)
			*retry_after_ms = wait;
	}
	return ok;
}

bool fb_breaker_allow(fb_breaker *b, int64_t now_ms, int64_t *retry_after_ms,
                      fb_transition *tr)
{
	int s = atomic_load_explicit(&b->state, memory_order_acquire);
	if (s == FB_STATE_CLOSED || s == FB_STATE_FORCED_CLOSED) {
		no_change(tr);
		return true;
	}
	if (s == FB_STATE_OPEN) { /* still waiting: refuse without the lock */
		int64_t until =
		    atomic_load_explicit(&b->open_until, memory_order_relaxed);
		if (now_ms < until) {
			atomic_fetch_add_explicit(&b->rejected, 1,
			                          memory_order_relaxed);
			no_change(tr);
			if (retry_after_ms)
				*retry_after_ms = until - now_ms;
			return false;
		}
	}
	return allow_slow(b, now_ms, retry_after_ms, tr);
}

static void success_slow(fb_breaker *b, int64_t now_ms, fb_transition *tr)
{
	pthread_mutex_lock(&b->lock);
	no_change(tr);
	if (atomic_load(&b->state) == FB_STATE_HALF_OPEN && b->in_flight > 0) {
		b->in_flight--;
		if (++b->trial_successes >= b->cfg.success_threshold) {
			char why[96];
			set_count(why, sizeof why, (uint32_t)b->trial_successes,
			          b->trial_successes == 1 ? " trial success"
			                                  : " trial successes");
			clear_counts(b);
			move(b, FB_STATE_CLOSED, now_ms, why, tr);
		}
	}
	pthread_mutex_unlock(&b->lock);
}

void fb_breaker_success(fb_breaker *b, int64_t now_ms, int64_t latency_ms,
                        fb_transition *tr)
{
	atomic_fetch_add_explicit(&b->successes, 1, memory_order_relaxed);
	atomic_store_explicit(&b->last_success_ms, now_ms,
	                      memory_order_relaxed);
	if (latency_ms >
	    atomic_load_explicit(&b->slow_call_ms, memory_order_relaxed))
		atomic_fetch_add_explicit(&b->slow_calls, 1,
		                          memory_order_relaxed);
	int s = atomic_load_explicit(&b->state, memory_order_acquire);
	if (s == FB_STATE_CLOSED || s == FB_STATE_FORCED_CLOSED) {
		no_change(tr);
		return;
	}
	success_slow(b, now_ms, tr);
}

void fb_breaker_failure(fb_breaker *b, int64_t now_ms, fb_transition *tr)
{
	char why[96];
	pthread_mutex_lock(&b->lock);
	no_change(tr);
	note_failure(b, now_ms);
	fb_state s = (fb_state)atomic_load(&b->state);
	if (s == FB_STATE_CLOSED && now_ms >= b->hold_until_ms &&
	    should_open(b, why, sizeof why)) {
		open_for(b, now_ms, why, tr);
	} else if (s == FB_STATE_HALF_OPEN && b->in_flight > 0) {
		b->failed_trials++;
		open_for(b, now_ms, "half-open trial failed", tr);
	}
	pthread_mutex_unlock(&b->lock);
}

void fb_breaker_release(fb_breaker *b)
{
	pthread_mutex_lock(&b->lock);
	if (b->in_flight > 0)
		b->in_flight--;
	pthread_mutex_unlock(&b->lock);
}

void fb_breaker_hold(fb_breaker *b, int64_t until_ms)
{
	pthread_mutex_lock(&b->lock);
	b->hold_until_ms = until_ms;
	pthread_mutex_unlock(&b->lock);
}

void fb_breaker_recheck(fb_breaker *b, int64_t now_ms, fb_transition *tr)
{
	char why[96];
	pthread_mutex_lock(&b->lock);
	no_change(tr);
	if ((fb_state)atomic_load(&b->state) == FB_STATE_CLOSED &&
	    now_ms >= b->hold_until_ms && should_open(b, why, sizeof why))
		open_for(b, now_ms, why, tr);
	pthread_mutex_unlock(&b->lock);
}

static void force(fb_breaker *b, fb_state to, bool clear, int64_t now_ms,
                  const char *reason, fb_transition *tr)
{
	pthread_mutex_lock(&b->lock);
	no_change(tr);
	if (clear)
		clear_counts(b);
	if ((fb_state)atomic_load(&b->state) != to)
		move(b, to, now_ms, reason, tr);
	pthread_mutex_unlock(&b->lock);
}

void fb_breaker_force_open(fb_breaker *b, int64_t now_ms, fb_transition *tr)
{
	force(b, FB_STATE_FORCED_OPEN, false, now_ms, "tripped by operator",
	      tr);
}

void fb_breaker_force_closed(fb_breaker *b, int64_t now_ms, fb_transition *tr)
{
	force(b, FB_STATE_FORCED_CLOSED, false, now_ms, "disabled by operator",
	      tr);
}

void fb_breaker_reset(fb_breaker *b, int64_t now_ms, fb_transition *tr)
{
	pthread_mutex_lock(&b->lock);
	atomic_store(&b->successes, 0);
	atomic_store(&b->slow_calls, 0);
	atomic_store(&b->rejected, 0);
	b->failures = 0;
	pthread_mutex_unlock(&b->lock);
	force(b, FB_STATE_CLOSED, true, now_ms, "reset by operator", tr);
}

void fb_breaker_restore_open(fb_breaker *b, int64_t now_ms, int64_t wait_ms,
                             uint32_t failed_trials, fb_transition *tr)
{
	pthread_mutex_lock(&b->lock);
	no_change(tr);
	if ((fb_state)atomic_load(&b->state) == FB_STATE_CLOSED) {
		if (wait_ms < 0)
			wait_ms = 0;
		if (wait_ms > b->cfg.backoff_cap_ms)
			wait_ms = b->cfg.backoff_cap_ms;
		b->failed_trials = failed_trials;
		b->open_wait_ms = wait_ms;
		b->open_until_ms = now_ms + wait_ms;
		atomic_store_explicit(&b->open_until, b->open_until_ms,
		                      memory_order_relaxed);
		b->in_flight = 0;
		b->trial_successes = 0;
		move(b, FB_STATE_OPEN, now_ms, "restored", tr);
	}
	pthread_mutex_unlock(&b->lock);
}

void fb_breaker_snapshot_get(fb_breaker *b, fb_breaker_snapshot *out)
{
	pthread_mutex_lock(&b->lock);
	uint64_t seen = atomic_load(&b->successes);
	*out = (fb_breaker_snapshot){
	    .state = (fb_state)atomic_load(&b->state),
	    .consecutive_failures = current_streak(b),
	    .window_calls = window_calls(b),
	    .window_failures = window_failures(b),
	    .successes = seen,
	    .failures = b->failures,
	    .slow_calls = atomic_load(&b->slow_calls),
	    .rejected = atomic_load(&b->rejected),
	    .failed_trials = b->failed_trials,
	    .in_flight = b->in_flight,
	    .open_until_ms = b->open_until_ms,
	    .open_wait_ms = b->open_wait_ms,
	    .last_change_ms = b->last_change_ms,
	    .last_success_ms = atomic_load(&b->last_success_ms),
	    .last_failure_ms = b->last_failure_ms,
	    .frozen_failures = b->frozen_failures,
	    .frozen_window_calls = b->frozen_window_calls,
	    .frozen_window_failures = b->frozen_window_failures,
	    .frozen_slow_calls = b->frozen_slow_calls,
	};
	memcpy(out->last_reason, b->last_reason, sizeof out->last_reason);
	out->hold_until_ms = b->hold_until_ms;
	out->would_open[0] = '\0';
	if (out->state == FB_STATE_CLOSED)
		should_open(b, out->would_open, sizeof out->would_open);
	pthread_mutex_unlock(&b->lock);
}
