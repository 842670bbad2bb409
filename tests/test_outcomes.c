/* Outcome summaries (SPEC section 6, `outcomes`): the pure window logic
 * with plain now_ms values, and the engine writing them at its single
 * outcome entry point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fusebox/engine.h"
#include "fusebox/outcomes.h"
#include "helpers.h"

static void test_healthy_windows_write_nothing(void **state)
{
	(void)state;
	fb_outsum s, out;
	fb_outsum_init(&s);
	for (int i = 0; i < 10; i++) {
		int64_t t = i * 1000;
		if (fb_outsum_due(&s, t, 1000))
			assert_false(fb_outsum_close(&s, &out));
		fb_outsum_add(&s, t - 2, t, FB_OUT_OK, false);
	}
	assert_false(fb_outsum_close(&s, &out));
	assert_int_equal(s.skipped_ok, 10);
}

static void test_failed_window_keeps_order_times_and_skipped(void **state)
{
	(void)state;
	fb_outsum s, out;
	fb_outsum_init(&s);
	fb_outsum_add(&s, 0, 1, FB_OUT_OK, false);
	assert_false(fb_outsum_close(&s, &out)); /* healthy: skipped */
	fb_outsum_add(&s, 5000, 5003, FB_OUT_FAIL, false);
	assert_false(fb_outsum_due(&s, 5999, 1000));
	fb_outsum_add(&s, 5500, 5900, FB_OUT_SLOW, false);
	fb_outsum_add(&s, 5950, 5951, FB_OUT_OK, false);
	assert_true(fb_outsum_due(&s, 6003, 1000));
	assert_true(fb_outsum_close(&s, &out));
	assert_int_equal(out.ok, 2);
	assert_int_equal(out.failed, 1);
	assert_int_equal(out.slow, 1);
	assert_int_equal(out.skipped_ok, 1);
	assert_int_equal(out.start_ms, 5003);
	assert_int_equal(fb_outsum_quantile(&out, 50), 3);
	assert_int_equal(fb_outsum_quantile(&out, 95), 400);
	char text[256];
	fb_outsum_trace_format(&out, text, sizeof text);
	assert_string_equal(text, "-3+3x 497+400s 947+1k");
	fb_outcome back[4];
	assert_int_equal(fb_outsum_trace_parse(text, 5003, back, 4), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(back[i].begin_ms, out.trace[i].begin_ms);
		assert_int_equal(back[i].end_ms, out.trace[i].end_ms);
		assert_int_equal(back[i].result, out.trace[i].result);
	}
	/* the skipped count starts again after a written window */
	assert_int_equal(s.skipped_ok, 0);
}

static void test_trial_window_is_written(void **state)
{
	(void)state;
	fb_outsum s, out;
	fb_outsum_init(&s);
	fb_outsum_add(&s, 10, 12, FB_OUT_OK, true);
	assert_true(fb_outsum_close(&s, &out));
	assert_int_equal(out.trials, 1);
}

static void test_trace_caps_and_counts_the_rest(void **state)
{
	(void)state;
	fb_outsum s, out;
	fb_outsum_init(&s);
	for (int i = 0; i < FB_OUTSUM_TRACE + 5; i++)
		fb_outsum_add(&s, i, i + 1, FB_OUT_FAIL, false);
	assert_true(fb_outsum_close(&s, &out));
	assert_int_equal(out.n, FB_OUTSUM_TRACE);
	assert_int_equal(out.lost, 5);
	assert_int_equal(out.failed, FB_OUTSUM_TRACE + 5);
	char small[20];
	size_t n = fb_outsum_trace_format(&out, small, sizeof small);
	assert_true(n < sizeof small);
	assert_int_equal(strlen(small), n);
	assert_true(n == 0 || small[n - 1] == 'x'); /* whole entries only */
}

static void test_trace_parse_rejects_garbage(void **state)
{
	(void)state;
	fb_outcome o[4];
	const char *bad[] = {"1",     "1+",    "+2k",      "1+2q", "1+2k  3+1k",
	                     "1+2k ", "1+-2k", "1+2k3+1k", "a+1k"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(fb_outsum_trace_parse(bad[i], 0, o, 4), -1);
	assert_int_equal(fb_outsum_trace_parse("", 0, o, 4), 0);
	assert_int_equal(fb_outsum_trace_parse("1+1k 2+1k 3+1k", 0, o, 2), -1);
	assert_int_equal(
	    fb_outsum_trace_parse("99999999999999999999+1k", 0, o, 4), -1);
}

/* ---- through the engine ---------------------------------------------- */

typedef struct rec {
	int outcomes, transitions;
	fb_outsum last;
	int64_t last_at;
	int transitions_before_first_outcomes;
} rec;

static void on_event(void *ctx, const fb_event *ev)
{
	rec *r = ctx;
	if (ev->kind == FB_EV_TRANSITION)
		r->transitions++;
	if (ev->kind != FB_EV_OUTCOMES)
		return;
	assert_non_null(ev->outcomes);
	assert_int_equal(ev->from_seq, -1); /* the log's to fill */
	if (!r->outcomes++)
		r->transitions_before_first_outcomes = r->transitions;
	r->last = *ev->outcomes;
	r->last_at = ev->at_ms;
}

static void test_engine_writes_one_window_per_interval(void **state)
{
	(void)state;
	fb_config cfg;
	th_config_init(&cfg, 1);
	th_dep_init(&cfg.deps[0], "api", true);
	cfg.deps[0].t[FB_T_INTERVAL] = 1000;
	cfg.deps[0].t[FB_T_FAILURE_THRESHOLD] = 3;
	fb_engine e;
	rec r = {0};
	assert_int_equal(fb_engine_init(&e, &cfg, 1, 0, on_event, &r), 0);
	fb_dep *d = &e.reg.deps[0];
	int64_t t = 0;
	for (int i = 0; i < 5; i++, t += 1000) { /* a healthy start */
		assert_true(fb_engine_probe_begin(&e, d, t, NULL));
		fb_engine_probe_end(&e, d, t + 2, true, 2000, NULL);
		fb_engine_tick(&e, t + 500);
	}
	assert_int_equal(r.outcomes, 0);
	for (int i = 0; i < 3; i++, t += 1000) { /* three failures open */
		assert_true(fb_engine_probe_begin(&e, d, t, NULL));
		fb_engine_probe_end(&e, d, t + 4, false, 4000, "refused");
	}
	/* each of the first two failures is a window of its own, written when
	 * the next outcome comes; the third waits for the tick */
	assert_int_equal(r.outcomes, 2);
	assert_int_equal(r.last.failed, 1);
	assert_int_equal(r.last.skipped_ok, 0);
	fb_engine_tick(&e, t + 3);
	assert_int_equal(r.outcomes, 2);
	fb_engine_tick(&e, t + 4);
	assert_int_equal(r.outcomes, 3);
	assert_int_equal(r.last_at, t + 4);
	assert_int_equal(r.last.trace[0].begin_ms, 7000);
	assert_int_equal(r.last.trace[0].end_ms, 7004);
	fb_engine_tick(&e, t + 5000); /* nothing more open */
	assert_int_equal(r.outcomes, 3);
	fb_engine_free(&e);
	fb_config_free(&cfg);
}

static void test_engine_flush_all_at_stop(void **state)
{
	(void)state;
	fb_config cfg;
	th_config_init(&cfg, 1);
	th_dep_init(&cfg.deps[0], "api", true);
	cfg.deps[0].t[FB_T_INTERVAL] = 60000;
	fb_engine e;
	rec r = {0};
	assert_int_equal(fb_engine_init(&e, &cfg, 1, 0, on_event, &r), 0);
	fb_dep *d = &e.reg.deps[0];
	fb_engine_probe_end(&e, d, 10, true, 5000000, NULL); /* slow */
	fb_engine_flush_outcomes(&e, 20, false);
	assert_int_equal(r.outcomes, 0);
	fb_engine_flush_outcomes(&e, 20, true);
	assert_int_equal(r.outcomes, 1);
	assert_int_equal(r.last.slow, 1);
	assert_int_equal(r.last.trace[0].begin_ms, 10 - 5000);
	fb_engine_free(&e);
	fb_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_healthy_windows_write_nothing),
	    cmocka_unit_test(test_failed_window_keeps_order_times_and_skipped),
	    cmocka_unit_test(test_trial_window_is_written),
	    cmocka_unit_test(test_trace_caps_and_counts_the_rest),
	    cmocka_unit_test(test_trace_parse_rejects_garbage),
	    cmocka_unit_test(test_engine_writes_one_window_per_interval),
	    cmocka_unit_test(test_engine_flush_all_at_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
