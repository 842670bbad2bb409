/* The registry: O(1) lookup, the latency history ring, percentiles, and
 * health per dependency and for the system (SPEC section 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fusebox/registry.h"
#include "helpers.h"

typedef struct rx {
	fb_config cfg;
	fb_registry reg;
	uint64_t state;
} rx;

static void rx_build(rx *x, size_t n, const bool *critical)
{
	th_config_init(&x->cfg, n);
	for (size_t i = 0; i < n; i++) {
		char name[FB_NAME_MAX];
		snprintf(name, sizeof name, "dep-%04zu", i);
		th_dep_init(&x->cfg.deps[i], name, critical ? critical[i] : true);
	}
	x->state = 0x1234;
	assert_int_equal(fb_registry_init(&x->reg, &x->cfg,
	                                  (fb_rng){fb_rng_xorshift, &x->state}, 0),
	                 0);
}

static int teardown(void **state)
{
	rx *x = *state;
	if (x) {
		fb_registry_free(&x->reg);
		fb_config_free(&x->cfg);
		free(x);
	}
	return 0;
}

static int setup_empty(void **state)
{
	*state = calloc(1, sizeof(rx));
	return *state ? 0 : -1;
}

/* ---- lookup ---------------------------------------------------------------- */

static void test_find_every_one_of_1000(void **state)
{
	rx *x = *state;
	rx_build(x, 1000, NULL);
	assert_int_equal(x->reg.count, 1000);
	/* the table: a power of two, at least twice the count */
	assert_true(x->reg.nslots >= 2000);
	assert_int_equal(x->reg.nslots & (x->reg.nslots - 1), 0);
	for (size_t i = 0; i < 1000; i++) {
		char name[FB_NAME_MAX];
		snprintf(name, sizeof name, "dep-%04zu", i);
		fb_dep *d = fb_registry_find(&x->reg, name);
		if (d != &x->reg.deps[i])
			fail_msg("%s: found %p, expected %p", name, (void *)d,
			         (void *)&x->reg.deps[i]);
		assert_string_equal(d->cfg.name, name);
		assert_non_null(d->breaker);
		assert_int_equal(fb_breaker_state(d->breaker), FB_STATE_CLOSED);
		/* no outcome yet since the start (SPEC 2) */
		assert_int_equal(d->health, FB_HEALTH_UNKNOWN);
		assert_int_equal(d->last_error_ms, -1);
		assert_int_equal(d->probe_began_ms, -1);
		/* near misses: a longer name, a shorter one */
		char near[FB_NAME_MAX + 8];
		snprintf(near, sizeof near, "%sx", name);
		if (fb_registry_find(&x->reg, near))
			fail_msg("'%s' found", near);
		snprintf(near, sizeof near, "%.7s", name);
		if (fb_registry_find(&x->reg, near))
			fail_msg("'%s' found", near);
	}
	static const char *const unknown[] = {"dep-1000", "dep-000", "dep-00000",
	                                      "", "DEP-0001", "dep-0001 ",
	                                      "nope"};
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		if (fb_registry_find(&x->reg, unknown[i]))
			fail_msg("'%s' found", unknown[i]);
	}
}

static void test_find_in_empty_registry(void **state)
{
	rx *x = *state;
	rx_build(x, 0, NULL);
	assert_int_equal(x->reg.count, 0);
	assert_null(fb_registry_find(&x->reg, "anything"));
	assert_null(fb_registry_find(&x->reg, ""));
	fb_registry_free(&x->reg);
	assert_null(fb_registry_find(&x->reg, "anything")); /* freed: empty */
}

static void test_breakers_get_dep_tuning(void **state)
{
	rx *x = *state;
	th_config_init(&x->cfg, 1);
	th_dep_init(&x->cfg.deps[0], "chroma", true);
	x->cfg.deps[0].t[FB_T_FAILURE_THRESHOLD] = 2;
	x->cfg.deps[0].t[FB_T_RECOVERY_TIMEOUT] = 7000;
	x->cfg.deps[0].t[FB_T_JITTER] = 0;
	x->state = 1;
	assert_int_equal(fb_registry_init(&x->reg, &x->cfg,
	                                  (fb_rng){fb_rng_xorshift, &x->state}, 0),
	                 0);
	fb_dep *d = fb_registry_find(&x->reg, "chroma");
	assert_non_null(d);
	fb_transition tr;
	fb_breaker_failure(d->breaker, 100, &tr);
	assert_false(tr.changed);
	fb_breaker_failure(d->breaker, 100, &tr);
	assert_true(tr.changed);
	assert_int_equal(tr.retry_after_ms, 7000);
}

/* ---- history ----------------------------------------------------------------- */

static void test_history_ring_wraps(void **state)
{
	(void)state;
	fb_history h;
	memset(&h, 0, sizeof h);
	fb_history_add(&h, 7, 1000, true);
	assert_int_equal(h.len, 1);
	assert_int_equal(fb_history_at(&h, 0)->at_ms, 7);
	memset(&h, 0, sizeof h);
	for (int i = 0; i < FB_HISTORY + 10; i++) {
		fb_history_add(&h, 1000 + i, i, i % 3 != 0);
		uint32_t want = i + 1 < FB_HISTORY ? (uint32_t)i + 1 : FB_HISTORY;
		assert_int_equal(h.len, want);
		assert_int_equal(fb_history_at(&h, 0)->at_ms, 1000 + i); /* newest */
	}
	for (uint32_t i = 0; i < FB_HISTORY; i++) {
		int64_t want = 1000 + FB_HISTORY + 10 - 1 - (int64_t)i;
		const fb_sample *s = fb_history_at(&h, i);
		assert_int_equal(s->at_ms, want);
		assert_int_equal(s->latency_us, want - 1000);
		assert_int_equal(s->ok, (want - 1000) % 3 != 0);
	}
	/* the oldest kept is the 11th added */
	assert_int_equal(fb_history_at(&h, FB_HISTORY - 1)->at_ms, 1010);
}

static void test_history_latency_clamps(void **state)
{
	(void)state;
	fb_history h;
	memset(&h, 0, sizeof h);
	fb_history_add(&h, 1, (int64_t)INT32_MAX + 5000, true);
	assert_int_equal(fb_history_at(&h, 0)->latency_us, INT32_MAX);
}

static void test_latency_percentiles_nearest_rank(void **state)
{
	(void)state;
	fb_history h;
	memset(&h, 0, sizeof h);
	/* 1..100 ms in a scrambled order, with failures in between that
	 * carry huge latencies and must not count */
	for (int i = 0; i < 100; i++) {
		int v = (i * 37) % 100 + 1;
		fb_history_add(&h, i, (int64_t)v * 1000, true);
		if (i % 10 == 0 && i < 40)
			fb_history_add(&h, i, 9000000, false);
	}
	assert_int_equal(h.len, 104);
	fb_latency l = fb_history_latency(&h, FB_HISTORY);
	assert_true(l.p50 == 50.0);
	assert_true(l.p95 == 95.0);
	assert_true(l.p99 == 99.0);

	static const struct {
		int n;
		int64_t us[6];
		double p50, p95, p99;
	} cases[] = {
	    {1, {3000}, 3.0, 3.0, 3.0},
	    {2, {1000, 2000}, 1.0, 2.0, 2.0},
	    {4, {4000, 1000, 3000, 2000}, 2.0, 4.0, 4.0},
	    {5, {1500, 2500, 500, 3500, 4500}, 2.5, 4.5, 4.5},
	    {6, {1000, 1000, 1000, 1000, 1000, 60000}, 1.0, 60.0, 60.0},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		memset(&h, 0, sizeof h);
		for (int i = 0; i < cases[c].n; i++)
			fb_history_add(&h, i, cases[c].us[i], true);
		l = fb_history_latency(&h, FB_HISTORY);
		if (l.p50 != cases[c].p50 || l.p95 != cases[c].p95 ||
		    l.p99 != cases[c].p99)
			fail_msg("case %zu: %g %g %g", c, l.p50, l.p95, l.p99);
	}
}

static void test_latency_newest_n_only(void **state)
{
	(void)state;
	fb_history h;
	memset(&h, 0, sizeof h);
	for (int i = 0; i < 50; i++)
		fb_history_add(&h, i, 100000, true); /* old: 100 ms */
	for (int i = 0; i < 5; i++)
		fb_history_add(&h, 50 + i, 2000 * (i + 1), true); /* 2..10 ms */
	fb_latency l = fb_history_latency(&h, 5);
	assert_true(l.p50 == 6.0);
	assert_true(l.p99 == 10.0);
	/* a failure among the newest n takes a slot but gives no sample */
	fb_history_add(&h, 60, 1, false);
	l = fb_history_latency(&h, 5);
	assert_true(l.p50 == 6.0); /* 4, 6, 8, 10 ms: rank 2 */
	assert_true(l.p95 == 10.0);
	l = fb_history_latency(&h, 0);
	assert_true(l.p50 == -1 && l.p95 == -1 && l.p99 == -1);
}

static void test_latency_without_success_is_minus_one(void **state)
{
	(void)state;
	fb_history h;
	memset(&h, 0, sizeof h);
	fb_latency l = fb_history_latency(&h, FB_HISTORY);
	assert_true(l.p50 == -1 && l.p95 == -1 && l.p99 == -1);
	for (int i = 0; i < 10; i++)
		fb_history_add(&h, i, 5000, false);
	l = fb_history_latency(&h, FB_HISTORY);
	assert_true(l.p50 == -1 && l.p95 == -1 && l.p99 == -1);
	fb_history_add(&h, 11, 5000, true);
	l = fb_history_latency(&h, FB_HISTORY);
	assert_true(l.p50 == 5.0);
}

/* ---- health ---------------------------------------------------------------- */

static void test_health_derive_table(void **state)
{
	(void)state;
	static const struct {
		fb_state st;
		uint32_t consecutive, window_failures;
		double p50;
		fb_health want;
	} cases[] = {
	    {FB_STATE_OPEN, 0, 0, -1, FB_HEALTH_UNHEALTHY},
	    {FB_STATE_OPEN, 5, 5, 1, FB_HEALTH_UNHEALTHY},
	    {FB_STATE_FORCED_OPEN, 0, 0, -1, FB_HEALTH_UNHEALTHY},
	    {FB_STATE_FORCED_OPEN, 0, 0, 1, FB_HEALTH_UNHEALTHY},
	    {FB_STATE_HALF_OPEN, 0, 0, -1, FB_HEALTH_DEGRADED},
	    {FB_STATE_HALF_OPEN, 0, 0, 1, FB_HEALTH_DEGRADED},
	    {FB_STATE_CLOSED, 0, 0, -1, FB_HEALTH_HEALTHY},
	    {FB_STATE_CLOSED, 0, 0, 999.9, FB_HEALTH_HEALTHY},
	    {FB_STATE_CLOSED, 0, 0, 1000, FB_HEALTH_HEALTHY},
	    {FB_STATE_CLOSED, 0, 0, 1000.5, FB_HEALTH_DEGRADED},
	    {FB_STATE_CLOSED, 0, 1, 3, FB_HEALTH_DEGRADED},
	    {FB_STATE_CLOSED, 1, 1, 3, FB_HEALTH_DEGRADED},
	    {FB_STATE_CLOSED, 4, 4, 3, FB_HEALTH_DEGRADED},
	    {FB_STATE_FORCED_CLOSED, 0, 0, -1, FB_HEALTH_HEALTHY},
	    {FB_STATE_FORCED_CLOSED, 900, 20, 3, FB_HEALTH_DEGRADED},
	    {FB_STATE_FORCED_CLOSED, 0, 0, 5000, FB_HEALTH_DEGRADED},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fb_breaker_snapshot s;
		memset(&s, 0, sizeof s);
		s.state = cases[i].st;
		s.consecutive_failures = cases[i].consecutive;
		s.window_failures = cases[i].window_failures;
		s.window_calls = cases[i].window_failures;
		fb_health h = fb_health_derive(&s, cases[i].p50, 1000);
		if (h != cases[i].want)
			fail_msg("case %zu (%s): %s, expected %s", i,
			         fb_state_name(cases[i].st), fb_health_name(h),
			         fb_health_name(cases[i].want));
	}
}

/* No success and no failure since the breaker was made: unknown, unless
 * the state itself says more (open, forced open, half-open). One outcome
 * of either kind is evidence. */
static void test_health_unknown_until_an_outcome(void **state)
{
	(void)state;
	static const struct {
		fb_state st;
		int64_t last_success, last_failure;
		uint32_t consecutive;
		double p50;
		fb_health want;
	} cases[] = {
	    {FB_STATE_CLOSED, -1, -1, 0, -1, FB_HEALTH_UNKNOWN},
	    {FB_STATE_FORCED_CLOSED, -1, -1, 0, -1, FB_HEALTH_UNKNOWN},
	    {FB_STATE_OPEN, -1, -1, 0, -1, FB_HEALTH_UNHEALTHY},
	    {FB_STATE_FORCED_OPEN, -1, -1, 0, -1, FB_HEALTH_UNHEALTHY},
	    {FB_STATE_HALF_OPEN, -1, -1, 0, -1, FB_HEALTH_DEGRADED},
	    {FB_STATE_CLOSED, 0, -1, 0, 3, FB_HEALTH_HEALTHY},
	    {FB_STATE_CLOSED, 250, -1, 0, 3, FB_HEALTH_HEALTHY},
	    {FB_STATE_CLOSED, 250, -1, 0, 1500, FB_HEALTH_DEGRADED},
	    {FB_STATE_CLOSED, -1, 0, 1, -1, FB_HEALTH_DEGRADED},
	    {FB_STATE_FORCED_CLOSED, -1, 7, 1, -1, FB_HEALTH_DEGRADED},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fb_breaker_snapshot s;
		memset(&s, 0, sizeof s);
		s.state = cases[i].st;
		s.last_success_ms = cases[i].last_success;
		s.last_failure_ms = cases[i].last_failure;
		s.consecutive_failures = cases[i].consecutive;
		s.window_failures = cases[i].consecutive;
		s.window_calls = cases[i].consecutive;
		fb_health h = fb_health_derive(&s, cases[i].p50, 1000);
		if (h != cases[i].want)
			fail_msg("case %zu (%s): %s, expected %s", i,
			         fb_state_name(cases[i].st), fb_health_name(h),
			         fb_health_name(cases[i].want));
	}
}

/* A live breaker, as the engine sees it. */
static void test_health_from_live_breaker(void **state)
{
	(void)state;
	fb_breaker_config c;
	fb_breaker_config_default(&c);
	c.failure_threshold = 2;
	c.jitter = 0;
	uint64_t seed = 9;
	fb_breaker *b = fb_breaker_new(&c, (fb_rng){fb_rng_xorshift, &seed}, 0);
	assert_non_null(b);
	fb_breaker_snapshot s;
	fb_breaker_snapshot_get(b, &s);
	/* a new breaker has seen nothing: unknown */
	assert_int_equal(fb_health_derive(&s, -1, 1000), FB_HEALTH_UNKNOWN);
	fb_breaker_allow(b, 1, NULL, NULL); /* an allowed call is no outcome */
	fb_breaker_snapshot_get(b, &s);
	assert_int_equal(fb_health_derive(&s, -1, 1000), FB_HEALTH_UNKNOWN);
	fb_breaker_failure(b, 1, NULL);
	fb_breaker_snapshot_get(b, &s);
	assert_int_equal(fb_health_derive(&s, -1, 1000), FB_HEALTH_DEGRADED);
	fb_breaker_force_closed(b, 2, NULL);
	for (int i = 0; i < 10; i++)
		fb_breaker_failure(b, 3, NULL);
	fb_breaker_snapshot_get(b, &s);
	assert_int_equal(fb_health_derive(&s, -1, 1000), FB_HEALTH_DEGRADED);
	/* a reset clears the counters, not the evidence: known, healthy */
	fb_breaker_reset(b, 4, NULL);
	fb_breaker_snapshot_get(b, &s);
	assert_int_equal(fb_health_derive(&s, -1, 1000), FB_HEALTH_HEALTHY);
	fb_breaker_free(b);

	/* a first success alone: healthy */
	b = fb_breaker_new(&c, (fb_rng){fb_rng_xorshift, &seed}, 0);
	assert_non_null(b);
	fb_breaker_success(b, 5, 3, NULL);
	fb_breaker_snapshot_get(b, &s);
	assert_int_equal(fb_health_derive(&s, 3, 1000), FB_HEALTH_HEALTHY);
	fb_breaker_free(b);
}

static void test_system_health(void **state)
{
	rx *x = *state;
	static const bool critical[] = {true, true, false};
	rx_build(x, 3, critical);
	static const struct {
		fb_health h[3];
		fb_health want;
	} cases[] = {
	    {{FB_HEALTH_HEALTHY, FB_HEALTH_HEALTHY, FB_HEALTH_HEALTHY},
	     FB_HEALTH_HEALTHY},
	    {{FB_HEALTH_HEALTHY, FB_HEALTH_HEALTHY, FB_HEALTH_DEGRADED},
	     FB_HEALTH_DEGRADED},
	    {{FB_HEALTH_HEALTHY, FB_HEALTH_HEALTHY, FB_HEALTH_UNHEALTHY},
	     FB_HEALTH_DEGRADED},
	    {{FB_HEALTH_DEGRADED, FB_HEALTH_HEALTHY, FB_HEALTH_HEALTHY},
	     FB_HEALTH_DEGRADED},
	    {{FB_HEALTH_HEALTHY, FB_HEALTH_UNHEALTHY, FB_HEALTH_HEALTHY},
	     FB_HEALTH_UNHEALTHY},
	    {{FB_HEALTH_DEGRADED, FB_HEALTH_UNHEALTHY, FB_HEALTH_UNHEALTHY},
	     FB_HEALTH_UNHEALTHY},
	    {{FB_HEALTH_DEGRADED, FB_HEALTH_DEGRADED, FB_HEALTH_UNHEALTHY},
	     FB_HEALTH_DEGRADED},
	    /* unknown: worse than degraded, better than unhealthy */
	    {{FB_HEALTH_UNKNOWN, FB_HEALTH_UNKNOWN, FB_HEALTH_UNKNOWN},
	     FB_HEALTH_UNKNOWN},
	    {{FB_HEALTH_UNKNOWN, FB_HEALTH_HEALTHY, FB_HEALTH_HEALTHY},
	     FB_HEALTH_UNKNOWN},
	    {{FB_HEALTH_UNKNOWN, FB_HEALTH_DEGRADED, FB_HEALTH_HEALTHY},
	     FB_HEALTH_UNKNOWN},
	    {{FB_HEALTH_UNKNOWN, FB_HEALTH_UNHEALTHY, FB_HEALTH_HEALTHY},
	     FB_HEALTH_UNHEALTHY},
	    /* a non-critical one unknown: only keeps it from healthy */
	    {{FB_HEALTH_HEALTHY, FB_HEALTH_HEALTHY, FB_HEALTH_UNKNOWN},
	     FB_HEALTH_UNKNOWN},
	    {{FB_HEALTH_DEGRADED, FB_HEALTH_HEALTHY, FB_HEALTH_UNKNOWN},
	     FB_HEALTH_DEGRADED},
	    {{FB_HEALTH_HEALTHY, FB_HEALTH_UNHEALTHY, FB_HEALTH_UNKNOWN},
	     FB_HEALTH_UNHEALTHY},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (size_t k = 0; k < 3; k++)
			x->reg.deps[k].health = cases[i].h[k];
		fb_health h = fb_system_health(&x->reg);
		if (h != cases[i].want)
			fail_msg("case %zu: %s, expected %s", i, fb_health_name(h),
			         fb_health_name(cases[i].want));
	}
}

static void test_system_health_empty(void **state)
{
	rx *x = *state;
	rx_build(x, 0, NULL);
	assert_int_equal(fb_system_health(&x->reg), FB_HEALTH_HEALTHY);
}

static void test_state_names(void **state)
{
	(void)state;
	static const char *const states[] = {"closed", "open", "half_open",
	                                     "forced_open", "forced_closed"};
	for (int i = 0; i < FB_STATE_COUNT; i++) {
		fb_state s = (fb_state)99;
		assert_string_equal(fb_state_name((fb_state)i), states[i]);
		assert_true(fb_state_parse(states[i], &s));
		assert_int_equal(s, i);
	}
	assert_string_equal(fb_state_name(FB_STATE_COUNT), "?");
	assert_string_equal(fb_health_name(FB_HEALTH_DEGRADED), "degraded");
	assert_string_equal(fb_health_name(FB_HEALTH_UNKNOWN), "unknown");
	fb_health u = FB_HEALTH_HEALTHY;
	assert_true(fb_health_parse("unknown", &u));
	assert_int_equal(u, FB_HEALTH_UNKNOWN);
	assert_string_equal(fb_kind_name(FB_KIND_REDIS), "redis");
	fb_health h = FB_HEALTH_HEALTHY;
	assert_false(fb_health_parse("sick", &h));
	assert_int_equal(h, FB_HEALTH_HEALTHY);
	/* ordered best to worst */
	assert_true(FB_HEALTH_HEALTHY < FB_HEALTH_DEGRADED);
	assert_true(FB_HEALTH_DEGRADED < FB_HEALTH_UNKNOWN);
	assert_true(FB_HEALTH_UNKNOWN < FB_HEALTH_UNHEALTHY);
}

int main(void)
{
#define R(f) cmocka_unit_test_setup_teardown(f, setup_empty, teardown)
	const struct CMUnitTest tests[] = {
	    R(test_find_every_one_of_1000),
	    R(test_find_in_empty_registry),
	    R(test_breakers_get_dep_tuning),
	    cmocka_unit_test(test_history_ring_wraps),
	    cmocka_unit_test(test_history_latency_clamps),
	    cmocka_unit_test(test_latency_percentiles_nearest_rank),
	    cmocka_unit_test(test_latency_newest_n_only),
	    cmocka_unit_test(test_latency_without_success_is_minus_one),
	    cmocka_unit_test(test_health_derive_table),
	    cmocka_unit_test(test_health_unknown_until_an_outcome),
	    cmocka_unit_test(test_health_from_live_breaker),
	    R(test_system_health),
	    R(test_system_health_empty),
	    cmocka_unit_test(test_state_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
