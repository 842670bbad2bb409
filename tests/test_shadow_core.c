/* Shadow breakers in the engine (shadow.KEY settings): fed the outcomes
 * the real breaker is fed, reported as FB_EV_SHADOW, and changing nothing
 * else -- the same engine without them emits the very same events, to the
 * jitter of each open wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_impl.h"
#include "fusebox/engine.h"
#include "helpers.h"

#define MAX_EVENTS 4096

typedef struct line {
	char text[256];
} line;

typedef struct rec {
	line real[MAX_EVENTS];
	size_t nreal;
	int shadows, shadow_opens;
} rec;

static void on_event(void *ctx, const fb_event *ev)
{
	rec *r = ctx;
	if (ev->kind == FB_EV_SHADOW) {
		r->shadows++;
		r->shadow_opens += !strcmp(ev->to, "open");
		return;
	}
	if (ev->kind == FB_EV_OUTCOMES || r->nreal == MAX_EVENTS)
		return;
	char d[192];
	fb_event_describe(ev, d, sizeof d);
	snprintf(r->real[r->nreal++].text, sizeof r->real[0].text,
	         "%lld %s retry=%lld", (long long)ev->at_ms, d,
	         (long long)ev->retry_after_ms);
}

/* Two outages of api and flapping in between, every 100 ms. */
static void drive(fb_engine *e)
{
	fb_dep *d = &e->reg.deps[0];
	for (int64_t t = 0; t < 120000; t += 100) {
		bool up = t < 10000 ||
		          (t > 40000 && t < 60000 && t % 700 < 400) ||
		          t > 90000;
		int64_t wait;
		if (!fb_engine_probe_begin(e, d, t, &wait))
			continue;
		fb_engine_probe_end(e, d, t + 3, up, 3000, up ? NULL : "503");
		fb_engine_tick(e, t + 50);
	}
}

static void config(fb_config *cfg, bool shadow)
{
	th_config_init(cfg, 1);
	th_dep_init(&cfg->deps[0], "api", true);
	cfg->deps[0].t[FB_T_INTERVAL] = 100;
	cfg->deps[0].t[FB_T_FAILURE_THRESHOLD] = 4;
	cfg->deps[0].t[FB_T_RECOVERY_TIMEOUT] = 3000;
	cfg->deps[0].t[FB_T_JITTER] = 300000; /* 0.3: the draws matter */
	if (shadow) {
		fb_tunables_set(&cfg->deps[0].shadow, FB_T_FAILURE_THRESHOLD,
		                2);
		fb_tunables_set(&cfg->deps[0].shadow, FB_T_RECOVERY_TIMEOUT,
		                700);
	}
}

static void test_shadow_changes_no_real_event(void **state)
{
	(void)state;
	static rec with, without;
	fb_config a, b;
	fb_engine ea, eb;
	config(&a, true);
	config(&b, false);
	assert_int_equal(fb_engine_init(&ea, &a, 99, 0, on_event, &with), 0);
	assert_int_equal(fb_engine_init(&eb, &b, 99, 0, on_event, &without), 0);
	assert_non_null(ea.reg.deps[0].shadow);
	assert_null(eb.reg.deps[0].shadow);
	drive(&ea);
	drive(&eb);
	assert_true(with.shadows > 4);
	assert_true(with.shadow_opens > 2);
	assert_true(without.nreal > 6); /* the real breaker opened and tried */
	assert_int_equal(with.nreal, without.nreal);
	for (size_t i = 0; i < with.nreal; i++)
		assert_string_equal(with.real[i].text, without.real[i].text);
	assert_int_equal(without.shadows, 0);
	fb_engine_free(&ea);
	fb_engine_free(&eb);
	fb_config_free(&a);
	fb_config_free(&b);
}

static void test_shadow_survives_reload(void **state)
{
	(void)state;
	static rec r;
	fb_config a, b;
	fb_engine e;
	char summary[256];
	config(&a, true);
	config(&b, true);
	assert_int_equal(fb_engine_init(&e, &a, 5, 0, on_event, &r), 0);
	fb_dep *d = &e.reg.deps[0];
	for (int64_t t = 0; t < 300; t += 100) {
		assert_true(fb_engine_probe_begin(&e, d, t, NULL));
		fb_engine_probe_end(&e, d, t + 1, false, 1000, "503");
	}
	assert_int_equal(fb_breaker_state(d->shadow), FB_STATE_OPEN);
	assert_int_equal(fb_breaker_state(d->breaker), FB_STATE_CLOSED);
	assert_int_equal(fb_engine_reload(&e, &b, 400, summary, sizeof summary),
	                 0);
	assert_int_equal(fb_breaker_state(e.reg.deps[0].shadow), FB_STATE_OPEN);
	fb_engine_free(&e);
	fb_config_free(&a);
	fb_config_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shadow_changes_no_real_event),
	    cmocka_unit_test(test_shadow_survives_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
