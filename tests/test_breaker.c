/* The circuit breaker (SPEC section 2): every state transition and timing
 * rule, with an injected clock (plain now_ms values) and an injected rng. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "fusebox/breaker.h"
#include "helpers.h"

/* ---- fixtures ------------------------------------------------------------ */

/* A breaker with its own fake rng (u = 0.5 unless set: no jitter effect). */
typedef struct bk {
	uint64_t seqv[8];
	th_rng_seq seq;
	fb_breaker *b;
} bk;

/* The tuning most tests start from: 3 consecutive failures open, 10s
 * first wait, 80s cap, no jitter, one trial, one success closes. */
static fb_breaker_config base_cfg(void)
{
	fb_breaker_config c;
	fb_breaker_config_default(&c);
	c.failure_threshold = 3;
	c.failure_rate = 0;
	c.window = 10;
	c.min_calls = 5;
	c.recovery_timeout_ms = 10000;
	c.backoff_cap_ms = 80000;
	c.jitter = 0.0;
	c.half_open_probes = 1;
	c.success_threshold = 1;
	c.slow_call_ms = 1000;
	return c;
}

/* Breakers a test still holds, freed by the teardown when an assertion
 * ends the test early. */
static bk *live[16];

static void live_add(bk *k)
{
	for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
		if (!live[i]) {
			live[i] = k;
			return;
		}
	}
	fail_msg("too many live breakers");
}

/* `us` are the uniform values the rng hands out in turn (cycling); n = 0
 * means always 0.5. */
static bk *bk_new(const fb_breaker_config *cfg, const double *us, size_t n,
                  int64_t now_ms)
{
	bk *k = calloc(1, sizeof *k);
	assert_non_null(k);
	if (n == 0) {
		k->seqv[0] = th_unit(0.5);
		n = 1;
	}
	for (size_t i = 0; i < n && i < 8; i++)
		k->seqv[i] = us == NULL ? k->seqv[0] : th_unit(us[i]);
	k->seq = (th_rng_seq){k->seqv, n, 0};
	k->b = fb_breaker_new(cfg, (fb_rng){th_rng_next, &k->seq}, now_ms);
	assert_non_null(k->b);
	live_add(k);
	return k;
}

static void bk_free(bk *k)
{
	for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
		if (live[i] == k)
			live[i] = NULL;
	}
	fb_breaker_free(k->b);
	free(k);
}

static int free_live(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof live / sizeof live[0]; i++) {
		if (live[i])
			bk_free(live[i]);
	}
	return 0;
}

static fb_breaker_snapshot snap(fb_breaker *b)
{
	fb_breaker_snapshot s;
	fb_breaker_snapshot_get(b, &s);
	return s;
}

/* Failures until the breaker opens (threshold rule); returns the
 * transition that opened it. */
static fb_transition open_now(fb_breaker *b, int64_t now_ms)
{
	fb_transition tr = {0};
	for (int i = 0; i < 1000 && fb_breaker_state(b) == FB_STATE_CLOSED; i++)
		fb_breaker_failure(b, now_ms, &tr);
	assert_int_equal(fb_breaker_state(b), FB_STATE_OPEN);
	assert_true(tr.changed);
	return tr;
}

static void assert_tr(const fb_transition *tr, fb_state from, fb_state to,
                      int64_t at, int64_t retry, uint32_t failures,
                      const char *reason)
{
	assert_true(tr->changed);
	assert_string_equal(fb_state_name(tr->from), fb_state_name(from));
	assert_string_equal(fb_state_name(tr->to), fb_state_name(to));
	assert_int_equal(tr->at_ms, at);
	assert_int_equal(tr->retry_after_ms, retry);
	assert_int_equal(tr->failures, failures);
	assert_string_equal(tr->reason, reason);
}

/* ---- the threshold rule -------------------------------------------------- */

static void test_new_breaker_is_closed_and_clean(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 500);
	fb_breaker_snapshot s = snap(k->b);
	assert_int_equal(s.state, FB_STATE_CLOSED);
	assert_int_equal(s.consecutive_failures, 0);
	assert_int_equal(s.successes, 0);
	assert_int_equal(s.failures, 0);
	assert_int_equal(s.slow_calls, 0);
	assert_int_equal(s.rejected, 0);
	assert_int_equal(s.window_calls, 0);
	assert_int_equal(s.last_change_ms, 500);
	assert_int_equal(s.last_success_ms, -1);
	assert_int_equal(s.last_failure_ms, -1);
	fb_transition tr = {.changed = true};
	assert_true(fb_breaker_allow(k->b, 500, NULL, &tr));
	assert_false(tr.changed);
	bk_free(k);
}

static void test_threshold_opens_at_exactly_n(void **state)
{
	(void)state;
	static const int thresholds[] = {1, 2, 3, 5, 10, 37};
	for (size_t t = 0; t < sizeof thresholds / sizeof thresholds[0]; t++) {
		int n = thresholds[t];
		fb_breaker_config c = base_cfg();
		c.failure_threshold = n;
		bk *k = bk_new(&c, NULL, 0, 0);
		fb_transition tr;
		for (int i = 1; i < n; i++) {
			fb_breaker_failure(k->b, 100 + i, &tr);
			assert_false(tr.changed);
			assert_int_equal(fb_breaker_state(k->b), FB_STATE_CLOSED);
			assert_int_equal(snap(k->b).consecutive_failures, i);
		}
		fb_breaker_failure(k->b, 1000, &tr);
		char why[96];
		snprintf(why, sizeof why, "%d consecutive failures", n);
		assert_tr(&tr, FB_STATE_CLOSED, FB_STATE_OPEN, 1000, 10000,
		          (uint32_t)n, why);
		fb_breaker_snapshot s = snap(k->b);
		assert_int_equal(s.state, FB_STATE_OPEN);
		assert_int_equal(s.open_until_ms, 11000);
		assert_int_equal(s.open_wait_ms, 10000);
		assert_int_equal(s.last_change_ms, 1000);
		assert_int_equal(s.last_failure_ms, 1000);
		assert_string_equal(s.last_reason, why);
		bk_free(k);
	}
}

/* Outcome strings: F = failure, S = success. `opens_at` is the index of
 * the call that opens the breaker, -1 for none. */
typedef struct seq_case {
	const char *name;
	int threshold, rate, window, min_calls;
	const char *calls;
	int opens_at;
	const char *reason;
	uint32_t window_calls, window_failures; /* after the last call */
} seq_case;

static const seq_case seq_cases[] = {
    {"success between restarts streak", 3, 0, 10, 5, "FFSFF", -1, NULL, 5, 4},
    {"streak after success opens", 3, 0, 10, 5, "FFSFFF", 5,
     "3 consecutive failures", 6, 5},
    {"alternating never opens", 2, 0, 10, 5, "FSFSFSFSFSFSFS", -1, NULL, 10, 5},
    {"threshold 0 is off", 0, 0, 10, 5, "FFFFFFFFFFFFFFFFFFFF", -1, NULL, 10,
     10},
    /* the failure-rate rule */
    {"rate: below min_calls never opens", 0, 50, 10, 6, "FFFFF", -1, NULL, 5, 5},
    {"rate: opens once min_calls reached", 0, 50, 10, 6, "FFFFFF", 5,
     "failure rate 100% over the last 6 calls", 6, 6},
    {"rate: just under the rate", 0, 50, 10, 4, "SSSFF", -1, NULL, 5, 2},
    {"rate: exactly the rate opens", 0, 50, 10, 4, "SSSFFF", 5,
     "failure rate 50% over the last 6 calls", 6, 3},
    {"rate: 40% over full window", 0, 50, 10, 10, "SSSSSSFFFF", -1, NULL, 10, 4},
    /* 2 old failures, then 10 successes push them out of the window: three
     * new failures are needed for 30%, not one */
    {"rate: old failures slide out", 0, 30, 10, 10, "FFSSSSSSSSSSFF", -1, NULL,
     10, 2},
    {"rate: slid out, opens at the rate", 0, 30, 10, 10, "FFSSSSSSSSSSFFF", 14,
     "failure rate 30% over the last 10 calls", 10, 3},
    {"rate: one slid out", 0, 50, 10, 10, "FFSSSSSSSSS", -1, NULL, 10, 1},
    {"rate and threshold: threshold first", 3, 90, 10, 10, "FFF", 2,
     "3 consecutive failures", 3, 3},
};

static void test_call_sequences(void **state)
{
	(void)state;
	for (size_t ci = 0; ci < sizeof seq_cases / sizeof seq_cases[0]; ci++) {
		const seq_case *sc = &seq_cases[ci];
		fb_breaker_config c = base_cfg();
		c.failure_threshold = sc->threshold;
		c.failure_rate = sc->rate;
		c.window = sc->window;
		c.min_calls = sc->min_calls;
		bk *k = bk_new(&c, NULL, 0, 0);
		int opened = -1;
		fb_transition opening = {0};
		for (int i = 0; sc->calls[i]; i++) {
			fb_transition tr;
			assert_true(fb_breaker_allow(k->b, i, NULL, NULL));
			if (sc->calls[i] == 'F')
				fb_breaker_failure(k->b, i, &tr);
			else
				fb_breaker_success(k->b, i, 5, &tr);
			if (tr.changed) {
				if (opened >= 0)
					fail_msg("%s: moved twice", sc->name);
				opened = i;
				opening = tr;
			}
		}
		if (opened != sc->opens_at)
			fail_msg("%s: opened at %d, expected %d", sc->name, opened,
			         sc->opens_at);
		fb_breaker_snapshot s = snap(k->b);
		if (sc->opens_at >= 0) {
			assert_int_equal(opening.from, FB_STATE_CLOSED);
			assert_int_equal(opening.to, FB_STATE_OPEN);
			assert_string_equal(opening.reason, sc->reason);
			assert_int_equal(s.state, FB_STATE_OPEN);
		} else {
			assert_int_equal(s.state, FB_STATE_CLOSED);
		}
		if (s.window_calls != sc->window_calls ||
		    s.window_failures != sc->window_failures)
			fail_msg("%s: window %u calls %u failures, expected %u %u",
			         sc->name, s.window_calls, s.window_failures,
			         sc->window_calls, sc->window_failures);
		bk_free(k);
	}
}

static void test_slow_calls_counted_separately(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	fb_transition tr;
	fb_breaker_success(k->b, 10, 999, &tr);
	fb_breaker_success(k->b, 20, 1000, &tr); /* not over slow_call */
	assert_int_equal(snap(k->b).slow_calls, 0);
	fb_breaker_success(k->b, 30, 1001, &tr);
	assert_false(tr.changed);
	fb_breaker_success(k->b, 40, 60000, &tr);
	fb_breaker_failure(k->b, 50, &tr);
	fb_breaker_snapshot s = snap(k->b);
	assert_int_equal(s.slow_calls, 2);
	assert_int_equal(s.successes, 4);
	assert_int_equal(s.failures, 1);
	assert_int_equal(s.state, FB_STATE_CLOSED);
	assert_int_equal(s.last_success_ms, 40);
	assert_int_equal(s.last_failure_ms, 50);

	/* a new slow_call applies at once (reload) */
	c.slow_call_ms = 100;
	fb_breaker_configure(k->b, &c);
	fb_breaker_success(k->b, 60, 101, &tr);
	assert_int_equal(snap(k->b).slow_calls, 3);
	bk_free(k);
}

/* ---- open, half-open, single flight ---------------------------------------- */

static void test_open_refuses_with_retry_after(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	open_now(k->b, 1000); /* open until 11000 */
	static const struct {
		int64_t now, retry;
	} waits[] = {{1000, 10000}, {1001, 9999}, {6000, 5000}, {10999, 1}};
	for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++) {
		int64_t retry = -99;
		fb_transition tr = {.changed = true};
		assert_false(fb_breaker_allow(k->b, waits[i].now, &retry, &tr));
		assert_int_equal(retry, waits[i].retry);
		assert_false(tr.changed);
		assert_int_equal(fb_breaker_state(k->b), FB_STATE_OPEN);
	}
	assert_int_equal(snap(k->b).rejected, 4);
	assert_false(fb_breaker_allow(k->b, 10999, NULL, NULL)); /* NULL ok */

	fb_transition tr;
	int64_t retry = -99;
	assert_true(fb_breaker_allow(k->b, 11000, &retry, &tr));
	assert_tr(&tr, FB_STATE_OPEN, FB_STATE_HALF_OPEN, 11000, 0, 3,
	          "open wait elapsed");
	fb_breaker_snapshot s = snap(k->b);
	assert_int_equal(s.state, FB_STATE_HALF_OPEN);
	assert_int_equal(s.in_flight, 1);
	assert_int_equal(s.rejected, 5);
	assert_int_equal(s.last_change_ms, 11000);
	bk_free(k);
}

static void test_results_while_open_move_nothing(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	open_now(k->b, 0);
	fb_transition tr;
	fb_breaker_success(k->b, 100, 5, &tr);
	assert_false(tr.changed);
	fb_breaker_failure(k->b, 200, &tr);
	assert_false(tr.changed);
	fb_breaker_snapshot s = snap(k->b);
	assert_int_equal(s.state, FB_STATE_OPEN);
	assert_int_equal(s.open_until_ms, 10000);
	assert_int_equal(s.successes, 1);
	assert_int_equal(s.failures, 4);
	bk_free(k);
}

static void test_single_flight_one_probe(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	open_now(k->b, 0);
	int64_t retry = -99;
	assert_true(fb_breaker_allow(k->b, 10000, &retry, NULL));
	for (int i = 0; i < 5; i++) {
		retry = -99;
		assert_false(fb_breaker_allow(k->b, 10001 + i, &retry, NULL));
		assert_int_equal(retry, 0); /* the trial out decides */
	}
	assert_int_equal(snap(k->b).in_flight, 1);
	assert_int_equal(fb_breaker_state(k->b), FB_STATE_HALF_OPEN);

	/* giving the permit back lets exactly one more through */
	fb_breaker_release(k->b);
	assert_int_equal(snap(k->b).in_flight, 0);
	assert_int_equal(fb_breaker_state(k->b), FB_STATE_HALF_OPEN);
	assert_true(fb_breaker_allow(k->b, 10100, NULL, NULL));
	assert_false(fb_breaker_allow(k->b, 10101, NULL, NULL));
	bk_free(k);
}

static void test_half_open_probes_three(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	c.half_open_probes = 3;
	bk *k = bk_new(&c, NULL, 0, 0);
	open_now(k->b, 0);
	fb_transition tr;
	assert_true(fb_breaker_allow(k->b, 10000, NULL, &tr));
	assert_true(tr.changed);
	assert_true(fb_breaker_allow(k->b, 10000, NULL, &tr));
	assert_false(tr.changed);
	assert_true(fb_breaker_allow(k->b, 10000, NULL, NULL));
	assert_int_equal(snap(k->b).in_flight, 3);
	assert_false(fb_breaker_allow(k->b, 10000, NULL, NULL));
	assert_false(fb_breaker_allow(k->b, 20000, NULL, NULL));
	fb_breaker_release(k->b);
	assert_true(fb_breaker_allow(k->b, 20000, NULL, NULL));
	assert_false(fb_breaker_allow(k->b, 20000, NULL, NULL));
	bk_free(k);
}

static void test_release_never_goes_negative(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	open_now(k->b, 0);
	assert_true(fb_breaker_allow(k->b, 10000, NULL, NULL));
	fb_breaker_release(k->b);
	fb_breaker_release(k->b);
	fb_breaker_release(k->b);
	assert_int_equal(snap(k->b).in_flight, 0);
	assert_true(fb_breaker_allow(k->b, 10000, NULL, NULL));
	assert_false(fb_breaker_allow(k->b, 10000, NULL, NULL));
	bk_free(k);
}

static void test_success_closes_one_trial(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	open_now(k->b, 0);
	assert_true(fb_breaker_allow(k->b, 10000, NULL, NULL));
	fb_transition tr;
	fb_breaker_success(k->b, 10050, 50, &tr);
	assert_tr(&tr, FB_STATE_HALF_OPEN, FB_STATE_CLOSED, 10050, 0, 0,
	          "1 trial success");
	fb_breaker_snapshot s = snap(k->b);
	assert_int_equal(s.state, FB_STATE_CLOSED);
	assert_int_equal(s.consecutive_failures, 0);
	assert_int_equal(s.window_calls, 0);
	assert_int_equal(s.window_failures, 0);
	assert_int_equal(s.in_flight, 0);
	assert_int_equal(s.failed_trials, 0);
	bk_free(k);
}

static void test_success_threshold_two(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	c.success_threshold = 2;
	bk *k = bk_new(&c, NULL, 0, 0);
	open_now(k->b, 0);
	fb_transition tr;
	assert_true(fb_breaker_allow(k->b, 10000, NULL, NULL));
	fb_breaker_success(k->b, 10010, 10, &tr);
	assert_false(tr.changed);
	assert_int_equal(fb_breaker_state(k->b), FB_STATE_HALF_OPEN);
	assert_int_equal(snap(k->b).in_flight, 0);
	/* a success with no trial out is not a trial success */
	fb_breaker_success(k->b, 10015, 10, &tr);
	assert_false(tr.changed);
	assert_int_equal(fb_breaker_state(k->b), FB_STATE_HALF_OPEN);
	assert_true(fb_breaker_allow(k->b, 10020, NULL, NULL));
	fb_breaker_success(k->b, 10030, 10, &tr);
	assert_tr(&tr, FB_STATE_HALF_OPEN, FB_STATE_CLOSED, 10030, 0, 0,
	          "2 trial successes");
	bk_free(k);
}

/* ---- backoff and jitter ---------------------------------------------------- */

static void test_failed_trials_double_the_wait(void **state)
{
	(void)state;
	static const int64_t waits[] = {10000, 20000, 40000, 80000, 80000, 80000};
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	int64_t now = 0;
	fb_transition tr = open_now(k->b, now);
	assert_int_equal(tr.retry_after_ms, waits[0]);
	for (size_t i = 1; i < sizeof waits / sizeof waits[0]; i++) {
		now += waits[i - 1];
		int64_t retry = -99;
		assert_false(fb_breaker_allow(k->b, now - 1, &retry, NULL));
		assert_int_equal(retry, 1);
		assert_true(fb_breaker_allow(k->b, now, NULL, &tr));
		assert_int_equal(tr.to, FB_STATE_HALF_OPEN);
		fb_breaker_failure(k->b, now + 5, &tr);
		assert_true(tr.changed);
		assert_int_equal(tr.from, FB_STATE_HALF_OPEN);
		assert_int_equal(tr.to, FB_STATE_OPEN);
		assert_int_equal(tr.retry_after_ms, waits[i]);
		assert_string_equal(tr.reason, "half-open trial failed");
		fb_breaker_snapshot s = snap(k->b);
		assert_int_equal(s.failed_trials, i);
		assert_int_equal(s.open_wait_ms, waits[i]);
		assert_int_equal(s.open_until_ms, now + 5 + waits[i]);
		now += 5;
	}
	bk_free(k);
}

static void test_close_resets_backoff(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	int64_t now = 0;
	fb_transition tr = open_now(k->b, now);
	for (int i = 0; i < 2; i++) { /* two failed trials: wait is now 40s */
		now += tr.retry_after_ms;
		assert_true(fb_breaker_allow(k->b, now, NULL, NULL));
		fb_breaker_failure(k->b, now, &tr);
	}
	assert_int_equal(tr.retry_after_ms, 40000);
	now += 40000;
	assert_true(fb_breaker_allow(k->b, now, NULL, NULL));
	fb_breaker_success(k->b, now, 1, &tr);
	assert_int_equal(tr.to, FB_STATE_CLOSED);
	assert_int_equal(snap(k->b).failed_trials, 0);
	tr = open_now(k->b, now + 100);
	assert_int_equal(tr.retry_after_ms, 10000);
	assert_int_equal(snap(k->b).open_until_ms, now + 100 + 10000);
	bk_free(k);
}

/* u ~ 1: the largest value rng_unit can produce. */
#define U_MAX (1.0 - 1.0 / 9007199254740992.0)

static void test_jitter_bounds_injected_rng(void **state)
{
	(void)state;
	static const struct {
		double u;
		int64_t cap, lo, hi;
	} cases[] = {
	    {0.0, 100000, 8000, 8000},   /* base * (1 - j) */
	    {0.5, 100000, 10000, 10000}, /* base */
	    {0.25, 100000, 9000, 9000},
	    {U_MAX, 100000, 11999, 12000}, /* base * (1 + j) */
	    {U_MAX, 11000, 11000, 11000},  /* never above the cap */
	    {0.0, 10000, 8000, 8000},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fb_breaker_config c = base_cfg();
		c.jitter = 0.2;
		c.backoff_cap_ms = cases[i].cap;
		bk *k = bk_new(&c, &cases[i].u, 1, 0);
		fb_transition tr = open_now(k->b, 0);
		assert_in_range(tr.retry_after_ms, cases[i].lo, cases[i].hi);
		fb_breaker_snapshot s = snap(k->b);
		assert_int_equal(s.open_wait_ms, tr.retry_after_ms);
		assert_int_equal(s.open_until_ms, tr.retry_after_ms);
		int64_t retry;
		assert_false(fb_breaker_allow(k->b, 0, &retry, NULL));
		assert_int_equal(retry, tr.retry_after_ms);
		bk_free(k);
	}

	/* jitter applies to the doubled wait too: u = 0 after one failed
	 * trial gives 20000 * 0.8 */
	fb_breaker_config c = base_cfg();
	c.jitter = 0.2;
	double u0 = 0.0;
	bk *k = bk_new(&c, &u0, 1, 0);
	fb_transition tr = open_now(k->b, 0);
	assert_int_equal(tr.retry_after_ms, 8000);
	assert_true(fb_breaker_allow(k->b, 8000, NULL, NULL));
	fb_breaker_failure(k->b, 8000, &tr);
	assert_int_equal(tr.retry_after_ms, 16000);
	bk_free(k);

	/* at the cap, no u goes above it */
	c = base_cfg();
	c.jitter = 0.5;
	c.recovery_timeout_ms = 80000; /* == cap */
	for (int i = 0; i <= 20; i++) {
		double u = i == 20 ? U_MAX : i / 20.0;
		k = bk_new(&c, &u, 1, 0);
		tr = open_now(k->b, 0);
		assert_in_range(tr.retry_after_ms, 40000, 80000);
		bk_free(k);
	}
}

static void test_backoff_base_table(void **state)
{
	(void)state;
	static const struct {
		int64_t recovery, cap;
		uint32_t trials;
		int64_t want;
	} cases[] = {
	    {60000, 600000, 0, 60000},   {60000, 600000, 1, 120000},
	    {60000, 600000, 2, 240000},  {60000, 600000, 3, 480000},
	    {60000, 600000, 4, 600000},  {60000, 600000, 5, 600000},
	    {60000, 600000, 63, 600000}, {60000, 600000, 64, 600000},
	    {60000, 600000, 4000000000u, 600000},
	    {1000, 1000, 0, 1000},       {1000, 1000, 3, 1000},
	    {90000, 60000, 0, 60000}, /* recovery over the cap: the cap */
	    {1, 1000000000000LL, 30, 1073741824LL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fb_breaker_config c = base_cfg();
		c.recovery_timeout_ms = cases[i].recovery;
		c.backoff_cap_ms = cases[i].cap;
		int64_t got = fb_backoff_base(&c, cases[i].trials);
		if (got != cases[i].want)
			fail_msg("case %zu: base %lld, expected %lld", i, (long long)got,
			         (long long)cases[i].want);
	}
}

static void test_backoff_jitter_table(void **state)
{
	(void)state;
	static const struct {
		int64_t base;
		double jitter, u;
		int64_t cap, lo, hi;
	} cases[] = {
	    {10000, 0.2, 0.0, 1000000, 8000, 8000},
	    {10000, 0.2, 0.5, 1000000, 10000, 10000},
	    {10000, 0.2, 0.75, 1000000, 11000, 11000},
	    {10000, 0.2, U_MAX, 1000000, 11999, 12000},
	    {10000, 0.2, U_MAX, 10500, 10500, 10500}, /* capped */
	    {10000, 0.0, 0.0, 1000000, 10000, 10000},
	    {10000, 0.0, U_MAX, 1000000, 10000, 10000},
	    {10000, 1.0, 0.0, 1000000, 1, 1},      /* never below 1 */
	    {0, 0.2, 0.5, 1000000, 1, 1},          /* never below 1 */
	    {600000, 0.2, U_MAX, 600000, 600000, 600000},
	    {600000, 0.2, 0.0, 600000, 480000, 480000},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t got = fb_backoff_jitter(cases[i].base, cases[i].jitter,
		                                cases[i].u, cases[i].cap);
		if (got < cases[i].lo || got > cases[i].hi)
			fail_msg("case %zu: %lld not in [%lld, %lld]", i, (long long)got,
			         (long long)cases[i].lo, (long long)cases[i].hi);
	}
}

/* ---- forced states and reset ---------------------------------------------- */

static void test_forced_open_stays_until_operator(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	fb_transition tr;
	fb_breaker_force_open(k->b, 100, &tr);
	assert_tr(&tr, FB_STATE_CLOSED, FB_STATE_FORCED_OPEN, 100, 0, 0,
	          "tripped by operator");
	static const int64_t times[] = {100, 10000, 10100, 3600000,
	                                1000LL * 86400 * 365};
	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
		int64_t retry = -99;
		fb_transition t2 = {.changed = true};
		assert_false(fb_breaker_allow(k->b, times[i], &retry, &t2));
		assert_int_equal(retry, -1); /* only an operator helps */
		assert_false(t2.changed);
		assert_int_equal(fb_breaker_state(k->b), FB_STATE_FORCED_OPEN);
	}
	for (int i = 0; i < 20; i++) {
		fb_breaker_success(k->b, 200 + i, 1, &tr);
		assert_false(tr.changed);
		fb_breaker_failure(k->b, 300 + i, &tr);
		assert_false(tr.changed);
	}
	fb_breaker_snapshot s = snap(k->b);
	assert_int_equal(s.state, FB_STATE_FORCED_OPEN);
	assert_int_equal(s.successes, 20);
	assert_int_equal(s.failures, 20);
	assert_int_equal(s.rejected, 5);
	fb_breaker_release(k->b);
	assert_int_equal(fb_breaker_state(k->b), FB_STATE_FORCED_OPEN);

	/* tripping again changes nothing */
	fb_breaker_force_open(k->b, 500, &tr);
	assert_false(tr.changed);
	fb_breaker_reset(k->b, 600, &tr);
	assert_tr(&tr, FB_STATE_FORCED_OPEN, FB_STATE_CLOSED, 600, 0, 0,
	          "reset by operator");
	assert_true(fb_breaker_allow(k->b, 600, NULL, NULL));
	bk_free(k);
}

static void test_forced_open_from_open_never_half_opens(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	open_now(k->b, 0);
	fb_transition tr;
	fb_breaker_force_open(k->b, 10, &tr);
	assert_true(tr.changed);
	assert_int_equal(tr.from, FB_STATE_OPEN);
	assert_int_equal(tr.to, FB_STATE_FORCED_OPEN);
	assert_false(fb_breaker_allow(k->b, 10000, NULL, &tr));
	assert_false(tr.changed);
	assert_false(fb_breaker_allow(k->b, 999999, NULL, NULL));
	assert_int_equal(fb_breaker_state(k->b), FB_STATE_FORCED_OPEN);
	bk_free(k);
}

static void test_forced_closed_allows_and_counts(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	c.failure_rate = 10;
	c.min_calls = 1;
	bk *k = bk_new(&c, NULL, 0, 0);
	fb_transition tr;
	fb_breaker_force_closed(k->b, 50, &tr);
	assert_tr(&tr, FB_STATE_CLOSED, FB_STATE_FORCED_CLOSED, 50, 0, 0,
	          "disabled by operator");
	for (int i = 0; i < 500; i++) {
		assert_true(fb_breaker_allow(k->b, 100 + i, NULL, &tr));
		assert_false(tr.changed);
		fb_breaker_failure(k->b, 100 + i, &tr);
		assert_false(tr.changed);
	}
	fb_breaker_snapshot s = snap(k->b);
	assert_int_equal(s.state, FB_STATE_FORCED_CLOSED);
	assert_int_equal(s.failures, 500);
	assert_int_equal(s.consecutive_failures, 500);
	assert_int_equal(s.window_failures, 10);
	assert_int_equal(s.last_failure_ms, 599);
	assert_int_equal(s.rejected, 0);
	fb_breaker_success(k->b, 700, 1, &tr);
	assert_false(tr.changed);
	assert_int_equal(fb_breaker_state(k->b), FB_STATE_FORCED_CLOSED);
	fb_breaker_force_closed(k->b, 800, &tr);
	assert_false(tr.changed);
	bk_free(k);
}

static void test_forced_closed_from_open_allows_at_once(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	open_now(k->b, 0);
	fb_transition tr;
	fb_breaker_force_closed(k->b, 5, &tr);
	assert_true(tr.changed);
	assert_int_equal(tr.from, FB_STATE_OPEN);
	assert_int_equal(tr.to, FB_STATE_FORCED_CLOSED);
	assert_true(fb_breaker_allow(k->b, 6, NULL, NULL));
	bk_free(k);
}

/* Brings a breaker to open after two failed trials (wait 40s). */
static int64_t into_deep_backoff(fb_breaker *b)
{
	int64_t now = 0;
	fb_transition tr = open_now(b, now);
	for (int i = 0; i < 2; i++) {
		now += tr.retry_after_ms;
		assert_true(fb_breaker_allow(b, now, NULL, NULL));
		fb_breaker_failure(b, now, &tr);
	}
	assert_int_equal(tr.retry_after_ms, 40000);
	return now;
}

static void test_reset_clears_state_and_backoff(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	c.failure_rate = 50;
	bk *k = bk_new(&c, NULL, 0, 0);
	int64_t now = into_deep_backoff(k->b);
	fb_transition tr;
	fb_breaker_reset(k->b, now + 1, &tr);
	assert_tr(&tr, FB_STATE_OPEN, FB_STATE_CLOSED, now + 1, 0, 0,
	          "reset by operator");
	fb_breaker_snapshot s = snap(k->b);
	assert_int_equal(s.state, FB_STATE_CLOSED);
	assert_int_equal(s.consecutive_failures, 0);
	assert_int_equal(s.window_calls, 0);
	assert_int_equal(s.window_failures, 0);
	assert_int_equal(s.failed_trials, 0);
	assert_int_equal(s.in_flight, 0);
	assert_int_equal(s.open_until_ms, 0);
	assert_int_equal(s.open_wait_ms, 0);
	/* the next open waits recovery_timeout again */
	tr = open_now(k->b, now + 2);
	assert_int_equal(tr.retry_after_ms, 10000);
	assert_int_equal(tr.failures, 3);
	fb_breaker_reset(k->b, now + 3, &tr);
	assert_true(tr.changed);
	/* reset of a closed breaker: no transition, counters still cleared */
	fb_breaker_failure(k->b, now + 4, &tr);
	fb_breaker_reset(k->b, now + 5, &tr);
	assert_false(tr.changed);
	assert_int_equal(snap(k->b).consecutive_failures, 0);
	assert_int_equal(snap(k->b).window_failures, 0);
	bk_free(k);
}

/* breaker.h: "reset closes the breaker and clears every counter"; the
 * totals are counters too (breaker.c calls `failures` "total since
 * reset"). */
static void test_reset_clears_totals(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	fb_breaker_success(k->b, 1, 5000, NULL); /* one slow success */
	int64_t now = into_deep_backoff(k->b);
	assert_false(fb_breaker_allow(k->b, now, NULL, NULL)); /* one rejected */
	fb_breaker_reset(k->b, now + 1, NULL);
	fb_breaker_snapshot s = snap(k->b);
	assert_int_equal(s.failures, 0);
	assert_int_equal(s.successes, 0);
	assert_int_equal(s.slow_calls, 0);
	assert_int_equal(s.rejected, 0);
	bk_free(k);
}

/* ---- frozen counters and transition records ------------------------------- */

static void test_frozen_counters_keep_the_trip(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	fb_transition tr;
	fb_breaker_success(k->b, 1, 2000, &tr); /* slow */
	fb_breaker_success(k->b, 2, 3000, &tr); /* slow */
	fb_breaker_failure(k->b, 3, &tr);
	fb_breaker_failure(k->b, 4, &tr);
	fb_breaker_failure(k->b, 5, &tr);
	assert_int_equal(tr.to, FB_STATE_OPEN);
	fb_breaker_snapshot s = snap(k->b);
	assert_int_equal(s.frozen_failures, 3);
	assert_int_equal(s.frozen_window_calls, 5);
	assert_int_equal(s.frozen_window_failures, 3);
	assert_int_equal(s.frozen_slow_calls, 2);

	/* counts move on; the frozen copies do not */
	fb_breaker_failure(k->b, 6, &tr);
	fb_breaker_failure(k->b, 7, &tr);
	fb_breaker_success(k->b, 8, 9000, &tr);
	s = snap(k->b);
	assert_int_equal(s.failures, 5);
	assert_int_equal(s.slow_calls, 3);
	assert_int_equal(s.window_calls, 8);
	assert_int_equal(s.window_failures, 5);
	assert_int_equal(s.frozen_failures, 3);
	assert_int_equal(s.frozen_window_calls, 5);
	assert_int_equal(s.frozen_window_failures, 3);
	assert_int_equal(s.frozen_slow_calls, 2);
	assert_string_equal(s.last_reason, "3 consecutive failures");
	bk_free(k);
}

/* A transition records the consecutive failures when it happened: after a
 * success the streak is 0, whatever the failures before it. */
static void test_transition_failures_after_success(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	fb_transition tr;
	fb_breaker_failure(k->b, 1, &tr);
	fb_breaker_failure(k->b, 2, &tr);
	fb_breaker_success(k->b, 3, 1, &tr);
	assert_int_equal(snap(k->b).consecutive_failures, 0);
	fb_breaker_force_open(k->b, 4, &tr);
	assert_true(tr.changed);
	assert_int_equal(tr.failures, 0);
	assert_int_equal(snap(k->b).frozen_failures, 0);
	bk_free(k);
}

typedef enum { OP_FAIL, OP_OK, OP_ALLOW, OP_TRIP, OP_DISABLE, OP_RESET } op_kind;

static void test_transition_walk(void **state)
{
	(void)state;
	static const struct {
		op_kind op;
		int64_t now;
		bool changed;
		fb_state from, to;
		int64_t retry;
		uint32_t failures;
		const char *reason;
	} steps[] = {
	    {OP_FAIL, 10, false, 0, 0, 0, 0, NULL},
	    {OP_FAIL, 20, false, 0, 0, 0, 0, NULL},
	    {OP_FAIL, 30, true, FB_STATE_CLOSED, FB_STATE_OPEN, 10000, 3,
	     "3 consecutive failures"},
	    {OP_ALLOW, 5000, false, 0, 0, 0, 0, NULL},
	    {OP_ALLOW, 10030, true, FB_STATE_OPEN, FB_STATE_HALF_OPEN, 0, 3,
	     "open wait elapsed"},
	    {OP_FAIL, 10040, true, FB_STATE_HALF_OPEN, FB_STATE_OPEN, 20000, 4,
	     "half-open trial failed"},
	    {OP_ALLOW, 30040, true, FB_STATE_OPEN, FB_STATE_HALF_OPEN, 0, 4,
	     "open wait elapsed"},
	    {OP_OK, 30050, true, FB_STATE_HALF_OPEN, FB_STATE_CLOSED, 0, 0,
	     "1 trial success"},
	    {OP_TRIP, 30060, true, FB_STATE_CLOSED, FB_STATE_FORCED_OPEN, 0, 0,
	     "tripped by operator"},
	    {OP_DISABLE, 30070, true, FB_STATE_FORCED_OPEN, FB_STATE_FORCED_CLOSED,
	     0, 0, "disabled by operator"},
	    {OP_FAIL, 30080, false, 0, 0, 0, 0, NULL},
	    {OP_TRIP, 30090, true, FB_STATE_FORCED_CLOSED, FB_STATE_FORCED_OPEN, 0,
	     1, "tripped by operator"},
	    {OP_RESET, 30100, true, FB_STATE_FORCED_OPEN, FB_STATE_CLOSED, 0, 0,
	     "reset by operator"},
	};
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		fb_transition tr = {.changed = !steps[i].changed};
		switch (steps[i].op) {
		case OP_FAIL: fb_breaker_failure(k->b, steps[i].now, &tr); break;
		case OP_OK: fb_breaker_success(k->b, steps[i].now, 1, &tr); break;
		case OP_ALLOW: fb_breaker_allow(k->b, steps[i].now, NULL, &tr); break;
		case OP_TRIP: fb_breaker_force_open(k->b, steps[i].now, &tr); break;
		case OP_DISABLE:
			fb_breaker_force_closed(k->b, steps[i].now, &tr);
			break;
		case OP_RESET: fb_breaker_reset(k->b, steps[i].now, &tr); break;
		}
		if (tr.changed != steps[i].changed)
			fail_msg("step %zu: changed %d", i, tr.changed);
		if (!steps[i].changed)
			continue;
		assert_tr(&tr, steps[i].from, steps[i].to, steps[i].now,
		          steps[i].retry, steps[i].failures, steps[i].reason);
		fb_breaker_snapshot s = snap(k->b);
		assert_int_equal(s.state, steps[i].to);
		assert_int_equal(s.last_change_ms, steps[i].now);
		assert_string_equal(s.last_reason, steps[i].reason);
	}
	bk_free(k);
}

static void test_tr_may_be_null(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	for (int i = 0; i < 3; i++)
		fb_breaker_failure(k->b, 0, NULL);
	assert_int_equal(fb_breaker_state(k->b), FB_STATE_OPEN);
	assert_true(fb_breaker_allow(k->b, 10000, NULL, NULL));
	fb_breaker_success(k->b, 10000, 1, NULL);
	assert_int_equal(fb_breaker_state(k->b), FB_STATE_CLOSED);
	fb_breaker_force_open(k->b, 1, NULL);
	fb_breaker_force_closed(k->b, 1, NULL);
	fb_breaker_reset(k->b, 1, NULL);
	assert_int_equal(fb_breaker_state(k->b), FB_STATE_CLOSED);
	bk_free(k);
}

static void test_configure_keeps_state(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	open_now(k->b, 0);
	c.failure_threshold = 1;
	c.window = 30;
	fb_breaker_configure(k->b, &c);
	fb_breaker_snapshot s = snap(k->b);
	assert_int_equal(s.state, FB_STATE_OPEN);
	assert_int_equal(s.open_until_ms, 10000);
	assert_int_equal(s.failures, 3);
	/* the new threshold applies after the next close */
	assert_true(fb_breaker_allow(k->b, 10000, NULL, NULL));
	fb_breaker_success(k->b, 10000, 1, NULL);
	fb_transition tr;
	fb_breaker_failure(k->b, 10001, &tr);
	assert_true(tr.changed);
	assert_string_equal(tr.reason, "1 consecutive failures");
	bk_free(k);
}

/* ---- threads ----------------------------------------------------------------- */

#define HOT_CALLS 100000

static void *hot_path(void *arg)
{
	fb_breaker *b = arg;
	int refused = 0;
	for (int i = 0; i < HOT_CALLS; i++) {
		if (!fb_breaker_allow(b, i, NULL, NULL)) {
			refused++;
			continue;
		}
		fb_breaker_success(b, i, 1, NULL);
	}
	return refused ? (void *)b : NULL;
}

static void test_two_threads_count_every_success(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hot_path, k->b), 0);
	for (int i = 0; i < 2; i++) {
		void *ret = &t;
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	fb_breaker_snapshot s = snap(k->b);
	assert_int_equal(s.successes, 2 * HOT_CALLS);
	assert_int_equal(s.failures, 0);
	assert_int_equal(s.rejected, 0);
	assert_int_equal(s.state, FB_STATE_CLOSED);
	bk_free(k);
}

/* ---- holds (startup_grace) ----------------------------------------------- */

/* Held: failures count, nothing opens, and the snapshot says why it
 * would; at the end of the hold, recheck opens it with that reason. */
static void test_hold_counts_but_keeps_closed(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg(); /* 3 consecutive failures open */
	bk *k = bk_new(&c, NULL, 0, 0);
	fb_breaker_hold(k->b, 5000);
	fb_transition tr;
	for (int i = 1; i <= 7; i++) {
		fb_breaker_failure(k->b, i * 100, &tr);
		assert_false(tr.changed);
	}
	fb_breaker_snapshot s = snap(k->b);
	assert_int_equal(s.state, FB_STATE_CLOSED);
	assert_int_equal(s.consecutive_failures, 7);
	assert_int_equal(s.failures, 7);
	assert_int_equal(s.last_failure_ms, 700);
	assert_int_equal(s.hold_until_ms, 5000);
	assert_string_equal(s.would_open, "7 consecutive failures");
	assert_true(fb_breaker_allow(k->b, 800, NULL, &tr)); /* calls pass */
	/* not before the hold ends */
	fb_breaker_recheck(k->b, 4999, &tr);
	assert_false(tr.changed);
	fb_breaker_failure(k->b, 4999, &tr);
	assert_false(tr.changed);
	fb_breaker_recheck(k->b, 5000, &tr);
	assert_tr(&tr, FB_STATE_CLOSED, FB_STATE_OPEN, 5000, 10000, 8,
	          "8 consecutive failures");
	s = snap(k->b);
	assert_int_equal(s.open_until_ms, 15000);
	assert_string_equal(s.would_open, ""); /* open, not closed */
	bk_free(k);
}

/* After the hold, the next failure opens as ever; a success in between
 * ends the streak, and a recheck then has nothing to open. */
static void test_hold_over_next_failure_opens(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	fb_breaker_hold(k->b, 1000);
	fb_transition tr;
	for (int i = 0; i < 4; i++)
		fb_breaker_failure(k->b, 10 + i, &tr);
	fb_breaker_failure(k->b, 1000, &tr);
	assert_tr(&tr, FB_STATE_CLOSED, FB_STATE_OPEN, 1000, 10000, 5,
	          "5 consecutive failures");
	bk_free(k);

	k = bk_new(&c, NULL, 0, 0);
	fb_breaker_hold(k->b, 1000);
	for (int i = 0; i < 4; i++)
		fb_breaker_failure(k->b, 10 + i, &tr);
	assert_string_equal(snap(k->b).would_open, "4 consecutive failures");
	fb_breaker_success(k->b, 500, 1, &tr);
	assert_string_equal(snap(k->b).would_open, "");
	fb_breaker_recheck(k->b, 1000, &tr);
	assert_false(tr.changed);
	assert_int_equal(fb_breaker_state(k->b), FB_STATE_CLOSED);
	bk_free(k);
}

/* A hold is about the counting rules only: a failed half-open trial still
 * re-opens, the forced states still come and go; 0 lifts it. */
static void test_hold_leaves_trials_and_operators_alone(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	bk *k = bk_new(&c, NULL, 0, 0);
	fb_transition tr;
	for (int i = 0; i < 3; i++)
		fb_breaker_failure(k->b, 10 + i, &tr); /* open until 10012 */
	fb_breaker_hold(k->b, 1000000);
	assert_true(fb_breaker_allow(k->b, 10012, NULL, &tr)); /* half-open */
	fb_breaker_failure(k->b, 10013, &tr);
	assert_tr(&tr, FB_STATE_HALF_OPEN, FB_STATE_OPEN, 10013, 20000, 4,
	          "half-open trial failed");
	fb_breaker_force_open(k->b, 10014, &tr);
	assert_true(tr.changed);
	fb_breaker_reset(k->b, 10015, &tr);
	assert_int_equal(fb_breaker_state(k->b), FB_STATE_CLOSED);
	for (int i = 0; i < 3; i++)
		fb_breaker_failure(k->b, 10016 + i, &tr);
	assert_int_equal(fb_breaker_state(k->b), FB_STATE_CLOSED); /* held */
	fb_breaker_hold(k->b, 0);
	fb_breaker_failure(k->b, 10020, &tr);
	assert_tr(&tr, FB_STATE_CLOSED, FB_STATE_OPEN, 10020, 10000, 4,
	          "4 consecutive failures");
	bk_free(k);
}

/* The failure-rate rule is held too, and the snapshot says so. */
static void test_hold_holds_the_rate_rule(void **state)
{
	(void)state;
	fb_breaker_config c = base_cfg();
	c.failure_threshold = 0;
	c.failure_rate = 50;
	c.min_calls = 4;
	bk *k = bk_new(&c, NULL, 0, 0);
	fb_breaker_hold(k->b, 100);
	fb_transition tr;
	fb_breaker_success(k->b, 1, 1, &tr);
	for (int i = 0; i < 3; i++)
		fb_breaker_failure(k->b, 2 + i, &tr);
	assert_false(tr.changed);
	assert_string_equal(snap(k->b).would_open,
	                    "failure rate 75% over the last 4 calls");
	fb_breaker_recheck(k->b, 100, &tr);
	assert_tr(&tr, FB_STATE_CLOSED, FB_STATE_OPEN, 100, 10000, 3,
	          "failure rate 75% over the last 4 calls");
	bk_free(k);
}

#define T(f) cmocka_unit_test_teardown(f, free_live)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_new_breaker_is_closed_and_clean),
	    T(test_threshold_opens_at_exactly_n),
	    T(test_call_sequences),
	    T(test_slow_calls_counted_separately),
	    T(test_open_refuses_with_retry_after),
	    T(test_results_while_open_move_nothing),
	    T(test_single_flight_one_probe),
	    T(test_half_open_probes_three),
	    T(test_release_never_goes_negative),
	    T(test_success_closes_one_trial),
	    T(test_success_threshold_two),
	    T(test_failed_trials_double_the_wait),
	    T(test_close_resets_backoff),
	    T(test_jitter_bounds_injected_rng),
	    T(test_backoff_base_table),
	    T(test_backoff_jitter_table),
	    T(test_forced_open_stays_until_operator),
	    T(test_forced_open_from_open_never_half_opens),
	    T(test_forced_closed_allows_and_counts),
	    T(test_forced_closed_from_open_allows_at_once),
	    T(test_reset_clears_state_and_backoff),
	    T(test_reset_clears_totals),
	    T(test_frozen_counters_keep_the_trip),
	    T(test_transition_failures_after_success),
	    T(test_transition_walk),
	    T(test_tr_may_be_null),
	    T(test_configure_keeps_state),
	    T(test_two_threads_count_every_success),
	    T(test_hold_counts_but_keeps_closed),
	    T(test_hold_over_next_failure_opens),
	    T(test_hold_leaves_trials_and_operators_alone),
	    T(test_hold_holds_the_rate_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
