/* Calls that services report (passive health, SPEC section 7), in the
 * pure core: reported outcomes move the breaker as probe outcomes do,
 * half-open trial permits are shared by probes and callers, a permit
 * comes back by report or expiry, and the per-minute counters the
 * console shows. The clock is a plain now_ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include "fusebox/engine.h"
#include "helpers.h"

typedef struct ex {
	fb_config cfg;
	fb_engine e;
	int transitions, opened, closed, jobs;
	char last_reason[200], job_command[200];
	int64_t job_status;
} ex;

static void on_event(void *ctx, const fb_event *ev)
{
	ex *x = ctx;
	if (ev->kind == FB_EV_TRANSITION) {
		x->transitions++;
		x->opened += strcmp(ev->to, "open") == 0;
		x->closed += strcmp(ev->to, "closed") == 0;
		snprintf(x->last_reason, sizeof x->last_reason, "%s",
		         ev->reason);
	}
	if (ev->kind == FB_EV_OPERATOR &&
	    (ev->action == FB_ACT_JOB_START || ev->action == FB_ACT_JOB_END)) {
		x->jobs++;
		snprintf(x->job_command, sizeof x->job_command, "%s",
		         ev->command ? ev->command : "");
		x->job_status = ev->exit_status;
	}
}

/* api: 3 consecutive failures open it, 10s first wait, no jitter, 2s
 * timeout, half_open_probes as given. */
static ex *make(int half_open)
{
	ex *x = calloc(1, sizeof *x);
	assert_non_null(x);
	th_config_init(&x->cfg, 1);
	fb_dep_config *d = &x->cfg.deps[0];
	th_dep_init(d, "api", true);
	d->t[FB_T_FAILURE_THRESHOLD] = 3;
	d->t[FB_T_RECOVERY_TIMEOUT] = 10000;
	d->t[FB_T_TIMEOUT] = 2000;
	d->t[FB_T_HALF_OPEN_PROBES] = half_open;
	d->t[FB_T_JITTER] = 0;
	d->t[FB_T_BACKOFF_CAP] = FB_MS_H;
	assert_int_equal(fb_engine_init(&x->e, &x->cfg, 1, 0, on_event, x), 0);
	return x;
}

static void done(ex *x)
{
	fb_engine_free(&x->e);
	fb_config_free(&x->cfg);
	free(x);
}

static fb_dep *api(ex *x)
{
	return &x->e.reg.deps[0];
}

static fb_state state(ex *x)
{
	return fb_breaker_state(api(x)->breaker);
}

/* Opens api with three reported failures at t = 1000..1002. */
static void open_by_reports(ex *x)
{
	for (int i = 0; i < 3; i++)
		fb_engine_call_report(&x->e, api(x), 1000 + i, false, 5000,
		                      "connect: refused", 0);
	assert_int_equal(state(x), FB_STATE_OPEN);
}

static void test_reports_open_the_breaker_as_probes_do(void **state_)
{
	(void)state_;
	ex *x = make(1);
	fb_engine_call_report(&x->e, api(x), 100, true, 3000, NULL, 0);
	assert_int_equal(api(x)->health, FB_HEALTH_HEALTHY);
	open_by_reports(x);
	assert_int_equal(x->opened, 1);
	assert_string_equal(x->last_reason, "3 consecutive failures");
	assert_string_equal(api(x)->last_error, "connect: refused");
	assert_int_equal(api(x)->health, FB_HEALTH_UNHEALTHY);
	assert_true(x->e.decision.blocked);
	/* and they were counted apart from probes */
	assert_int_equal(api(x)->calls.total, 4);
	assert_int_equal(api(x)->calls.failed, 3);
	assert_int_equal(api(x)->probes, 0);
	assert_int_equal(api(x)->history.len, 0);
	/* the same outcomes from probes open it at the same count */
	ex *y = make(1);
	for (int i = 0; i < 3; i++) {
		assert_true(
		    fb_engine_probe_begin(&y->e, api(y), 1000 + i, NULL));
		fb_engine_probe_end(&y->e, api(y), 1000 + i, false, 5000,
		                    "connect: refused");
	}
	assert_int_equal(state(y), FB_STATE_OPEN);
	done(y);
	done(x);
}

static void test_allow_answers_as_the_breaker_says(void **state_)
{
	(void)state_;
	ex *x = make(1);
	fb_call_answer a;
	fb_engine_call_allow(&x->e, api(x), 10, &a);
	assert_true(a.allowed);
	assert_int_equal(a.state, FB_STATE_CLOSED);
	assert_int_equal(a.permit, 0);
	open_by_reports(x);
	fb_engine_call_allow(&x->e, api(x), 5002, &a);
	assert_false(a.allowed);
	assert_int_equal(a.state, FB_STATE_OPEN);
	assert_int_equal(a.health, FB_HEALTH_UNHEALTHY);
	assert_int_equal(a.retry_after_ms, 6000);
	assert_int_equal(api(x)->calls.refused, 1);
	done(x);
}

/* Half-open with one trial: a caller that asks first holds the permit,
 * and the probe is refused until it reports; its success closes. */
static void test_half_open_permit_is_shared_with_probes(void **state_)
{
	(void)state_;
	ex *x = make(1);
	open_by_reports(x);
	fb_call_answer a, b;
	fb_engine_call_allow(&x->e, api(x), 11002, &a);
	assert_true(a.allowed);
	assert_int_equal(a.state, FB_STATE_HALF_OPEN);
	assert_true(a.permit != 0);
	fb_engine_call_allow(&x->e, api(x), 11003, &b);
	assert_false(b.allowed);
	assert_int_equal(b.retry_after_ms, 0);
	int64_t wait = -5;
	assert_false(fb_engine_probe_begin(&x->e, api(x), 11004, &wait));
	assert_int_equal(wait, 0);
	/* a report without the permit does not decide the trial */
	fb_engine_call_report(&x->e, api(x), 11005, true, 1000, NULL, 0);
	assert_int_equal(state(x), FB_STATE_HALF_OPEN);
	fb_engine_call_report(&x->e, api(x), 11006, false, 1000, "x", 0);
	assert_int_equal(state(x), FB_STATE_HALF_OPEN);
	/* the permit's report does */
	fb_engine_call_report(&x->e, api(x), 11007, true, 1000, NULL, a.permit);
	assert_int_equal(state(x), FB_STATE_CLOSED);
	assert_int_equal(x->closed, 1);
	done(x);
}

/* The other way round: a probe holds the only trial, a caller is told
 * to wait; a failed trial of a caller re-opens with a longer wait. */
static void test_probe_trial_blocks_callers(void **state_)
{
	(void)state_;
	ex *x = make(1);
	open_by_reports(x);
	assert_true(fb_engine_probe_begin(&x->e, api(x), 11002, NULL));
	fb_call_answer a;
	fb_engine_call_allow(&x->e, api(x), 11003, &a);
	assert_false(a.allowed);
	assert_int_equal(a.state, FB_STATE_HALF_OPEN);
	fb_engine_probe_end(&x->e, api(x), 11004, false, 1000, "down");
	assert_int_equal(state(x), FB_STATE_OPEN);
	fb_engine_call_allow(&x->e, api(x), 31004, &a);
	assert_true(a.allowed);
	fb_engine_call_report(&x->e, api(x), 31005, false, 1000, "still",
	                      a.permit);
	assert_int_equal(state(x), FB_STATE_OPEN);
	fb_breaker_snapshot s;
	fb_breaker_snapshot_get(api(x)->breaker, &s);
	assert_int_equal(s.failed_trials, 2);
	assert_int_equal(s.open_wait_ms, 40000);
	done(x);
}

/* With half_open_probes 2, two callers get a permit each and a third is
 * refused: never more trials out than the breaker allows. */
static void test_no_more_permits_than_half_open_probes(void **state_)
{
	(void)state_;
	ex *x = make(2);
	open_by_reports(x);
	fb_call_answer a, b, c;
	fb_engine_call_allow(&x->e, api(x), 11002, &a);
	fb_engine_call_allow(&x->e, api(x), 11002, &b);
	fb_engine_call_allow(&x->e, api(x), 11002, &c);
	assert_true(a.allowed && b.allowed);
	assert_true(a.permit != b.permit);
	assert_false(c.allowed);
	assert_false(fb_engine_probe_begin(&x->e, api(x), 11003, NULL));
	done(x);
}

/* A permit that is never reported comes back after timeout + 1s, and
 * then the probe can take the trial. */
static void test_unreported_permit_expires(void **state_)
{
	(void)state_;
	ex *x = make(1);
	open_by_reports(x);
	fb_call_answer a;
	fb_engine_call_allow(&x->e, api(x), 11002, &a);
	assert_true(a.allowed);
	fb_engine_tick(&x->e, 14001);
	assert_false(fb_engine_probe_begin(&x->e, api(x), 14001, NULL));
	fb_engine_tick(&x->e, 14002);
	assert_int_equal(api(x)->calls.expired, 1);
	assert_true(fb_engine_probe_begin(&x->e, api(x), 14003, NULL));
	/* the late report of the expired permit decides nothing */
	fb_engine_call_report(&x->e, api(x), 14004, true, 1000, NULL, a.permit);
	assert_int_equal(state(x), FB_STATE_HALF_OPEN);
	fb_engine_probe_end(&x->e, api(x), 14005, true, 1000, NULL);
	assert_int_equal(state(x), FB_STATE_CLOSED);
	done(x);
}

/* A permit from an earlier half-open spell is void in a later one: it
 * must not take the trial of whoever holds it now. */
static void test_permit_of_an_earlier_spell_is_void(void **state_)
{
	(void)state_;
	ex *x = make(2);
	open_by_reports(x);
	fb_call_answer old, now;
	fb_engine_call_allow(&x->e, api(x), 11002, &old);
	assert_true(old.allowed);
	/* a probe's failed trial re-opens it; the next spell starts */
	assert_true(fb_engine_probe_begin(&x->e, api(x), 11003, NULL));
	fb_engine_probe_end(&x->e, api(x), 11004, false, 1000, "down");
	assert_int_equal(state(x), FB_STATE_OPEN);
	fb_engine_call_allow(&x->e, api(x), 31004, &now);
	assert_true(now.allowed);
	assert_true(fb_engine_probe_begin(&x->e, api(x), 31004, NULL));
	/* both trials are out: the stale permit's expiry gives none back */
	fb_engine_tick(&x->e, 31004 + 3001);
	fb_engine_call_allow(&x->e, api(x), 31004 + 3001, &old);
	/* the current permit expired too; one trial (the probe's) is out */
	assert_true(old.allowed);
	fb_call_answer third;
	fb_engine_call_allow(&x->e, api(x), 31004 + 3002, &third);
	assert_false(third.allowed);
	done(x);
}

static void test_minute_counters(void **state_)
{
	(void)state_;
	ex *x = make(1);
	for (int i = 0; i < 100; i++)
		fb_engine_call_report(&x->e, api(x), 1000 + i * 500,
		                      i % 10 != 0, 2000, "e", 0);
	/* 100 calls over 50 s; 10 failed; successes took 2 ms */
	fb_call_rate r = fb_call_stats_minute(&api(x)->calls, 51000);
	assert_int_equal(r.calls, 100);
	assert_int_equal(r.failed, 10);
	assert_true(r.mean_ms > 1.99 && r.mean_ms < 2.01);
	/* at 81 s only seconds 22..81 count: calls 42..99, 5 failed */
	r = fb_call_stats_minute(&api(x)->calls, 81000);
	assert_int_equal(r.calls, 58);
	assert_int_equal(r.failed, 5);
	r = fb_call_stats_minute(&api(x)->calls, 200000);
	assert_int_equal(r.calls, 0);
	assert_true(r.mean_ms < 0);
	assert_int_equal(api(x)->calls.total, 100);
	done(x);
}

static void test_job_events_carry_command_and_status(void **state_)
{
	(void)state_;
	ex *x = make(1);
	fb_engine_job(&x->e, 5, false, "alice (uid 1000)", "pg_dump db", 0,
	              "pid 42");
	assert_int_equal(x->jobs, 1);
	assert_string_equal(x->job_command, "pg_dump db");
	assert_int_equal(x->job_status, -1);
	fb_engine_job(&x->e, 6, true, "alice (uid 1000)", "pg_dump db", 143,
	              "stopped: gate blocked");
	assert_int_equal(x->job_status, 143);
	assert_int_equal(x->transitions, 0);
	done(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reports_open_the_breaker_as_probes_do),
	    cmocka_unit_test(test_allow_answers_as_the_breaker_says),
	    cmocka_unit_test(test_half_open_permit_is_shared_with_probes),
	    cmocka_unit_test(test_probe_trial_blocks_callers),
	    cmocka_unit_test(test_no_more_permits_than_half_open_probes),
	    cmocka_unit_test(test_unreported_permit_expires),
	    cmocka_unit_test(test_permit_of_an_earlier_spell_is_void),
	    cmocka_unit_test(test_minute_counters),
	    cmocka_unit_test(test_job_events_carry_command_and_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
