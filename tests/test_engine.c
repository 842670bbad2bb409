/* The engine: probe outcomes and operator commands in, ordered events out
 * (SPEC sections 2, 3 and 6). The clock is a plain now_ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fusebox/engine.h"
#include "helpers.h"

/* ---- recording events (their strings are borrowed: copy them) ---------- */

#define NONE "(null)"

typedef struct rec {
	fb_event_kind kind;
	int64_t at_ms;
	fb_action action;
	int64_t failures, retry_after_ms;
	char dep[64], from[32], to[32], health[32], mode[16];
	char reason[400], error[300], actor[96];
} rec;

typedef struct recorder {
	rec ev[64];
	size_t n;
} recorder;

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : NONE);
}

static void on_event(void *ctx, const fb_event *ev)
{
	recorder *r = ctx;
	if (ev->kind == FB_EV_OUTCOMES)
		return; /* summaries: test_outcomes.c */
	if (r->n >= sizeof r->ev / sizeof r->ev[0])
		fail_msg("too many events");
	rec *e = &r->ev[r->n++];
	memset(e, 0, sizeof *e);
	e->kind = ev->kind;
	e->at_ms = ev->at_ms;
	e->action = ev->action;
	e->failures = ev->failures;
	e->retry_after_ms = ev->retry_after_ms;
	copy(e->dep, sizeof e->dep, ev->dep);
	copy(e->from, sizeof e->from, ev->from);
	copy(e->to, sizeof e->to, ev->to);
	copy(e->health, sizeof e->health, ev->health);
	copy(e->mode, sizeof e->mode, ev->mode);
	copy(e->reason, sizeof e->reason, ev->reason);
	copy(e->error, sizeof e->error, ev->error);
	copy(e->actor, sizeof e->actor, ev->actor);
}

/* ---- fixture --------------------------------------------------------------- */

typedef struct ex {
	fb_config cfg;
	fb_engine e;
	recorder r;
	bool live;
} ex;

/* chroma (critical) and search (not critical): 3 failures open, 12s first
 * wait, no jitter; gate override ttl 60s. */
static void cfg_build(fb_config *cfg, const char *const *names,
                      const bool *critical, size_t n)
{
	th_config_init(cfg, n);
	cfg->gate_override_ttl_ms = 60000;
	for (size_t i = 0; i < n; i++) {
		fb_dep_config *d = &cfg->deps[i];
		th_dep_init(d, names[i], critical[i]);
		d->t[FB_T_FAILURE_THRESHOLD] = 3;
		d->t[FB_T_RECOVERY_TIMEOUT] = 12000;
		d->t[FB_T_BACKOFF_CAP] = FB_MS_H;
		d->t[FB_T_JITTER] = 0;
	}
}

/* A fresh instance, started at 0: nothing has answered yet. */
static int setup_cold(void **state)
{
	static const char *const names[] = {"chroma", "search"};
	static const bool critical[] = {true, false};
	ex *x = calloc(1, sizeof *x);
	if (!x)
		return -1;
	*state = x;
	cfg_build(&x->cfg, names, critical, 2);
	if (fb_engine_init(&x->e, &x->cfg, 42, 0, on_event, &x->r) != 0)
		return -1;
	x->live = true;
	return 0;
}

static void warm_probe(ex *x, const char *name);

/* A running instance: both answered a first probe at 0, and the events
 * that made (first health, the gate allowing) are left out. */
static int setup(void **state)
{
	if (setup_cold(state) != 0)
		return -1;
	ex *x = *state;
	warm_probe(x, "chroma");
	warm_probe(x, "search");
	if (x->r.n != 3 || x->e.decision.blocked ||
	    x->e.system != FB_HEALTH_HEALTHY)
		return -1;
	x->r.n = 0;
	return 0;
}

static int teardown(void **state)
{
	ex *x = *state;
	if (x->live)
		fb_engine_free(&x->e);
	fb_config_free(&x->cfg);
	free(x);
	return 0;
}

static fb_dep *dep(ex *x, const char *name)
{
	fb_dep *d = fb_registry_find(&x->e.reg, name);
	assert_non_null(d);
	return d;
}

/* One probe start to end; asserts it was allowed. */
static void probe(ex *x, const char *name, int64_t now_ms, bool ok,
                  int64_t latency_us, const char *error)
{
	fb_dep *d = dep(x, name);
	int64_t retry = -99;
	if (!fb_engine_probe_begin(&x->e, d, now_ms, &retry))
		fail_msg("probe of %s refused at %lld (retry %lld)", name,
		         (long long)now_ms, (long long)retry);
	fb_engine_probe_end(&x->e, d, now_ms, ok, latency_us, error);
}

static void warm_probe(ex *x, const char *name)
{
	probe(x, name, 0, true, 1000, NULL);
}

static const rec *ev_at(ex *x, size_t i)
{
	if (i >= x->r.n)
		fail_msg("event %zu missing: only %zu recorded", i, x->r.n);
	return &x->r.ev[i];
}

static void expect_transition(ex *x, size_t i, const char *dep_name,
                              const char *from, const char *to,
                              const char *health, int64_t failures,
                              int64_t retry, const char *reason)
{
	const rec *e = ev_at(x, i);
	assert_int_equal(e->kind, FB_EV_TRANSITION);
	assert_string_equal(e->dep, dep_name);
	assert_string_equal(e->from, from);
	assert_string_equal(e->to, to);
	assert_string_equal(e->health, health);
	assert_int_equal(e->failures, failures);
	assert_int_equal(e->retry_after_ms, retry);
	assert_string_equal(e->reason, reason);
}

static void expect_health(ex *x, size_t i, const char *dep_name,
                          const char *from, const char *to, const char *reason)
{
	const rec *e = ev_at(x, i);
	assert_int_equal(e->kind, FB_EV_HEALTH);
	assert_string_equal(e->dep, dep_name);
	assert_string_equal(e->from, from);
	assert_string_equal(e->to, to);
	assert_string_equal(e->reason, reason);
}

static void expect_gate(ex *x, size_t i, const char *from, const char *to,
                        const char *mode, int64_t retry, const char *reason)
{
	const rec *e = ev_at(x, i);
	assert_int_equal(e->kind, FB_EV_GATE);
	assert_string_equal(e->from, from);
	assert_string_equal(e->to, to);
	assert_string_equal(e->mode, mode);
	assert_int_equal(e->retry_after_ms, retry);
	assert_string_equal(e->reason, reason);
}

static void expect_operator(ex *x, size_t i, fb_action action,
                            const char *dep_name, const char *actor,
                            const char *reason)
{
	const rec *e = ev_at(x, i);
	assert_int_equal(e->kind, FB_EV_OPERATOR);
	assert_string_equal(fb_action_name(e->action), fb_action_name(action));
	assert_string_equal(e->dep, dep_name);
	assert_string_equal(e->actor, actor);
	assert_string_equal(e->reason, reason);
}

#define HOSTILE "connect: \x1b]0;PWNED\x07refused"
#define CLEANED "connect: refused"

/* Three failed probes of chroma at 1000, 2000, 3000: open until 15000. */
static void open_chroma(ex *x)
{
	probe(x, "chroma", 1000, false, 0, "timeout");
	probe(x, "chroma", 2000, false, 0, "timeout");
	probe(x, "chroma", 3000, false, 0, HOSTILE);
	assert_int_equal(fb_breaker_state(dep(x, "chroma")->breaker),
	                 FB_STATE_OPEN);
}

/* ---- probes ------------------------------------------------------------------ */

/* A fresh instance knows nothing: every health unknown, the gate blocked
 * until the critical dependency answers, and nothing reported yet. */
static void test_init_state(void **state)
{
	ex *x = *state;
	assert_int_equal(x->r.n, 0);
	assert_int_equal(x->e.reg.count, 2);
	assert_true(x->e.decision.blocked);
	assert_string_equal(x->e.decision.reason,
	                    "Starting: waiting for the first probe of chroma");
	assert_int_equal(x->e.decision.retry_after_ms, 0);
	assert_int_equal(x->e.system, FB_HEALTH_UNKNOWN);
	assert_int_equal(dep(x, "chroma")->health, FB_HEALTH_UNKNOWN);
	assert_int_equal(dep(x, "search")->health, FB_HEALTH_UNKNOWN);
	assert_int_equal(dep(x, "chroma")->last_error_ms, -1);
	assert_string_equal(dep(x, "chroma")->last_error, "");
	fb_gate_decision d;
	fb_engine_gate(&x->e, 0, &d);
	assert_true(d.blocked);
}

/* The first outcome of each is reported as a health event from unknown;
 * the critical one's first success lifts the gate. */
static void test_first_outcomes(void **state)
{
	ex *x = *state;
	probe(x, "search", 50, false, 0, "refused");
	assert_int_equal(x->r.n, 1);
	expect_health(x, 0, "search", "unknown", "degraded",
	              "first failure since start");
	assert_true(x->e.decision.blocked); /* search is not critical */
	probe(x, "chroma", 100, true, 3000, NULL);
	assert_int_equal(x->r.n, 3);
	expect_health(x, 1, "chroma", "unknown", "healthy",
	              "first success since start");
	expect_gate(x, 2, "blocked", "allowed", "auto", 0,
	            "All critical dependencies healthy");
	assert_int_equal(ev_at(x, 2)->at_ms, 100);
	assert_false(x->e.decision.blocked);
	assert_int_equal(x->e.system, FB_HEALTH_DEGRADED);
	/* the next success says nothing */
	probe(x, "chroma", 200, true, 3000, NULL);
	assert_int_equal(x->r.n, 3);
}

static void test_first_outcome_slow(void **state)
{
	ex *x = *state;
	probe(x, "chroma", 100, true, 1500000, NULL); /* 1.5s, slow_call 1s */
	assert_int_equal(x->r.n, 2);
	expect_health(x, 0, "chroma", "unknown", "degraded",
	              "slow from the first response");
	expect_gate(x, 1, "blocked", "allowed", "auto", 0,
	            "Allowed: chroma degraded (slow responses); no critical "
	            "dependency is down");
}

/* Failures alone prove nothing: the gate stays blocked until a success,
 * which lifts it even though health stays degraded. */
static void test_first_failure_keeps_blocked_until_success(void **state)
{
	ex *x = *state;
	probe(x, "chroma", 100, false, 0, "connect: refused");
	assert_int_equal(x->r.n, 1);
	expect_health(x, 0, "chroma", "unknown", "degraded",
	              "first failure since start");
	assert_true(x->e.decision.blocked);
	assert_string_equal(x->e.decision.reason,
	                    "Starting: no success yet from chroma");
	probe(x, "chroma", 200, true, 3000, NULL);
	assert_int_equal(dep(x, "chroma")->health, FB_HEALTH_DEGRADED);
	assert_int_equal(x->r.n, 2);
	expect_gate(x, 1, "blocked", "allowed", "auto", 0,
	            "Allowed: chroma degraded (recent failures); no critical "
	            "dependency is down");
}

/* While the first probe is out, the gate says when it will have news. */
static void test_first_probe_in_flight_sets_retry(void **state)
{
	ex *x = *state;
	fb_dep *d = dep(x, "chroma");
	assert_true(fb_engine_probe_begin(&x->e, d, 100, NULL));
	assert_int_equal(d->probe_began_ms, 100);
	fb_gate_decision g;
	fb_engine_gate(&x->e, 600, &g);
	assert_true(g.blocked);
	assert_int_equal(g.retry_after_ms, 1500); /* timeout 2s */
	assert_string_equal(g.reason, "Starting: waiting for the first probe of "
	                              "chroma; retry in 2s");
	fb_engine_probe_abandon(&x->e, d);
	assert_int_equal(d->probe_began_ms, -1);
	fb_engine_gate(&x->e, 700, &g);
	assert_int_equal(g.retry_after_ms, 0);
	assert_true(fb_engine_probe_begin(&x->e, d, 800, NULL));
	fb_engine_probe_end(&x->e, d, 900, true, 1000, NULL);
	assert_int_equal(d->probe_began_ms, -1);
	fb_engine_gate(&x->e, 900, &g);
	assert_false(g.blocked);
}

/* An operator's trip and reset before any probe: unhealthy, then unknown
 * again -- a reset is no evidence. */
static void test_reset_before_any_probe_is_unknown(void **state)
{
	ex *x = *state;
	fb_error err = {0};
	assert_int_equal(fb_engine_operate(&x->e, FB_ACT_TRIP, "chroma", 100,
	                                   "alice (uid 1000)", NULL, &err),
	                 0);
	assert_int_equal(x->r.n, 3); /* operator, transition, health */
	expect_health(x, 2, "chroma", "unknown", "unhealthy",
	              "tripped by alice (uid 1000)");
	assert_int_equal(fb_engine_operate(&x->e, FB_ACT_RESET, "chroma", 200,
	                                   "alice (uid 1000)", NULL, &err),
	                 0);
	assert_int_equal(x->r.n, 6);
	expect_health(x, 5, "chroma", "unhealthy", "unknown",
	              "reset by alice (uid 1000)");
	assert_true(x->e.decision.blocked);
	assert_string_equal(x->e.decision.reason,
	                    "Starting: waiting for the first probe of chroma");
}

static void test_failures_open_then_health_then_gate(void **state)
{
	ex *x = *state;
	probe(x, "chroma", 1000, false, 0, "timeout");
	/* closed with a failure: degraded, gate still allowed */
	assert_int_equal(x->r.n, 1);
	expect_health(x, 0, "chroma", "healthy", "degraded", "recent failures");
	probe(x, "chroma", 2000, false, 0, "timeout");
	assert_int_equal(x->r.n, 1);
	probe(x, "chroma", 3000, false, 0, HOSTILE);
	assert_int_equal(x->r.n, 4);
	expect_transition(x, 1, "chroma", "closed", "open", "unhealthy", 3, 12000,
	                  "3 consecutive failures");
	assert_string_equal(ev_at(x, 1)->error, CLEANED);
	assert_int_equal(ev_at(x, 1)->at_ms, 3000);
	expect_health(x, 2, "chroma", "degraded", "unhealthy",
	              "3 consecutive failures");
	expect_gate(x, 3, "allowed", "blocked", "auto", 12000,
	            "System unhealthy: chroma is open; retry in 12s");
	fb_dep *d = dep(x, "chroma");
	assert_string_equal(d->last_error, CLEANED);
	assert_null(strchr(d->last_error, '\x1b'));
	assert_null(strchr(d->last_error, '\x07'));
	assert_int_equal(d->last_error_ms, 3000);
	assert_int_equal(d->probes, 4); /* the warm-up probe, then 3 */
	assert_int_equal(d->history.len, 4);
	assert_int_equal(d->health, FB_HEALTH_UNHEALTHY);
	assert_true(x->e.decision.blocked);
	assert_int_equal(x->e.system, FB_HEALTH_UNHEALTHY);
	for (size_t i = 0; i < x->r.n; i++) {
		assert_null(strchr(x->r.ev[i].error, '\x1b'));
		assert_null(strchr(x->r.ev[i].error, '\x07'));
		assert_null(strchr(x->r.ev[i].reason, '\x1b'));
	}
}

static void test_error_text_default_and_bounded(void **state)
{
	ex *x = *state;
	char big[2000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	probe(x, "search", 10, false, 0, NULL);
	assert_string_equal(dep(x, "search")->last_error, "probe failed");
	probe(x, "search", 20, false, 0, "");
	assert_string_equal(dep(x, "search")->last_error, "probe failed");
	probe(x, "search", 30, false, 0, big);
	assert_int_equal(strlen(dep(x, "search")->last_error), FB_ERROR_MAX - 1);
}

static void test_non_critical_open_emits_no_gate_event(void **state)
{
	ex *x = *state;
	probe(x, "search", 1000, false, 0, "e");
	probe(x, "search", 2000, false, 0, "e");
	probe(x, "search", 3000, false, 0, "e");
	assert_int_equal(x->r.n, 3);
	expect_health(x, 0, "search", "healthy", "degraded", "recent failures");
	expect_transition(x, 1, "search", "closed", "open", "unhealthy", 3, 12000,
	                  "3 consecutive failures");
	expect_health(x, 2, "search", "degraded", "unhealthy",
	              "3 consecutive failures");
	assert_false(x->e.decision.blocked);
	assert_int_equal(x->e.system, FB_HEALTH_DEGRADED);
}

static void test_probe_begin_refused_while_open(void **state)
{
	ex *x = *state;
	open_chroma(x);
	size_t n = x->r.n;
	fb_dep *d = dep(x, "chroma");
	int64_t retry = -99;
	assert_false(fb_engine_probe_begin(&x->e, d, 3000, &retry));
	assert_int_equal(retry, 12000);
	assert_false(fb_engine_probe_begin(&x->e, d, 14999, &retry));
	assert_int_equal(retry, 1);
	assert_int_equal(x->r.n, n);
	assert_int_equal(d->probes, 4);

	/* the wait ends: half-open, degraded; the gate stays blocked */
	assert_true(fb_engine_probe_begin(&x->e, d, 15000, &retry));
	assert_int_equal(d->probes, 5);
	assert_int_equal(x->r.n, n + 2);
	expect_transition(x, n, "chroma", "open", "half_open", "degraded", 3, 0,
	                  "open wait elapsed");
	expect_health(x, n + 1, "chroma", "unhealthy", "degraded",
	              "open wait elapsed");
	assert_true(x->e.decision.blocked);
	/* single flight: a second probe waits for the first */
	assert_false(fb_engine_probe_begin(&x->e, d, 15001, &retry));
	assert_int_equal(retry, 0);
	assert_int_equal(d->probes, 5);
	/* an abandoned trial gives its permit back */
	fb_engine_probe_abandon(&x->e, d);
	assert_true(fb_engine_probe_begin(&x->e, d, 15002, &retry));
}

static void test_recovery_closes_and_lifts_gate(void **state)
{
	ex *x = *state;
	open_chroma(x);
	fb_dep *d = dep(x, "chroma");
	assert_true(fb_engine_probe_begin(&x->e, d, 15000, NULL));
	size_t n = x->r.n;
	fb_engine_probe_end(&x->e, d, 15020, true, 20000, NULL);
	assert_int_equal(x->r.n, n + 3);
	expect_transition(x, n, "chroma", "half_open", "closed", "healthy", 0, 0,
	                  "1 trial success");
	expect_health(x, n + 1, "chroma", "degraded", "healthy",
	              "1 trial success");
	expect_gate(x, n + 2, "blocked", "allowed", "auto", 0,
	            "All critical dependencies healthy");
	assert_false(x->e.decision.blocked);
	assert_int_equal(x->e.system, FB_HEALTH_HEALTHY);
}

static void test_failed_trial_reopens_longer(void **state)
{
	ex *x = *state;
	open_chroma(x);
	fb_dep *d = dep(x, "chroma");
	assert_true(fb_engine_probe_begin(&x->e, d, 15000, NULL));
	size_t n = x->r.n;
	fb_engine_probe_end(&x->e, d, 15100, false, 0, "refused");
	assert_int_equal(x->r.n, n + 2); /* transition, health; gate unchanged */
	expect_transition(x, n, "chroma", "half_open", "open", "unhealthy", 4,
	                  24000, "half-open trial failed");
	assert_string_equal(ev_at(x, n)->error, "refused");
	expect_health(x, n + 1, "chroma", "degraded", "unhealthy",
	              "half-open trial failed");
	int64_t retry;
	assert_false(fb_engine_probe_begin(&x->e, d, 15100 + 23999, &retry));
	assert_int_equal(retry, 1);
	assert_true(fb_engine_probe_begin(&x->e, d, 15100 + 24000, &retry));
}

static void test_slow_probes_degrade(void **state)
{
	ex *x = *state;
	/* slow_call is 1s; the median of the recent probes decides: one
	 * slow answer after the fast warm-up one is not a slow median yet */
	probe(x, "chroma", 1000, true, 1500000, NULL);
	assert_int_equal(x->r.n, 0);
	probe(x, "chroma", 1500, true, 1500000, NULL);
	assert_int_equal(x->r.n, 1);
	expect_health(x, 0, "chroma", "healthy", "degraded", "slow responses");
	assert_false(x->e.decision.blocked);
	probe(x, "chroma", 2000, true, 3000, NULL);
	probe(x, "chroma", 3000, true, 3000, NULL);
	assert_int_equal(x->r.n, 2);
	expect_health(x, 1, "chroma", "degraded", "healthy", "recovered");
	assert_int_equal(fb_breaker_state(dep(x, "chroma")->breaker),
	                 FB_STATE_CLOSED);
}

/* ---- operator actions ---------------------------------------------------------- */

#define ALICE "alice (uid 1000)"

static void test_operator_trip_reset_disable(void **state)
{
	ex *x = *state;
	fb_error err = {0};
	assert_int_equal(fb_engine_operate(&x->e, FB_ACT_TRIP, "chroma", 100, ALICE,
	                                   "maintenance", &err),
	                 0);
	assert_int_equal(x->r.n, 4);
	expect_operator(x, 0, FB_ACT_TRIP, "chroma", ALICE, "maintenance");
	assert_int_equal(ev_at(x, 0)->at_ms, 100);
	expect_transition(x, 1, "chroma", "closed", "forced_open", "unhealthy", 0, 0,
	                  "tripped by " ALICE ": maintenance");
	expect_health(x, 2, "chroma", "healthy", "unhealthy",
	              "tripped by " ALICE ": maintenance");
	expect_gate(x, 3, "allowed", "blocked", "auto", 0,
	            "System unhealthy: chroma is forced_open");
	/* no time-based way out */
	int64_t retry;
	assert_false(fb_engine_probe_begin(&x->e, dep(x, "chroma"), 9999999, &retry));
	assert_int_equal(retry, -1);
	assert_int_equal(x->r.n, 4);

	assert_int_equal(fb_engine_operate(&x->e, FB_ACT_RESET, "chroma", 200, ALICE,
	                                   NULL, &err),
	                 0);
	assert_int_equal(x->r.n, 8);
	expect_operator(x, 4, FB_ACT_RESET, "chroma", ALICE, "");
	expect_transition(x, 5, "chroma", "forced_open", "closed", "healthy", 0, 0,
	                  "reset by " ALICE);
	expect_health(x, 6, "chroma", "unhealthy", "healthy", "reset by " ALICE);
	expect_gate(x, 7, "blocked", "allowed", "auto", 0,
	            "All critical dependencies healthy");

	assert_int_equal(fb_engine_operate(&x->e, FB_ACT_DISABLE, "chroma", 300,
	                                   "bob (uid 1001)", "flapping", &err),
	                 0);
	assert_int_equal(x->r.n, 10);
	expect_operator(x, 8, FB_ACT_DISABLE, "chroma", "bob (uid 1001)", "flapping");
	expect_transition(x, 9, "chroma", "closed", "forced_closed", "healthy", 0, 0,
	                  "disabled by bob (uid 1001): flapping");
	/* disabled: failures count and degrade health, nothing opens */
	for (int i = 0; i < 10; i++)
		probe(x, "chroma", 400 + i, false, 0, "down");
	assert_int_equal(x->r.n, 11);
	expect_health(x, 10, "chroma", "healthy", "degraded", "recent failures");
	assert_int_equal(fb_breaker_state(dep(x, "chroma")->breaker),
	                 FB_STATE_FORCED_CLOSED);
	assert_false(x->e.decision.blocked);
}

static void test_operator_unknown_dep(void **state)
{
	ex *x = *state;
	fb_error err = {0};
	assert_int_equal(fb_engine_operate(&x->e, FB_ACT_TRIP, "nope", 100, ALICE,
	                                   NULL, &err),
	                 -1);
	assert_string_equal(err.text, "unknown dependency 'nope'");
	memset(&err, 0, sizeof err);
	assert_int_equal(fb_engine_operate(&x->e, FB_ACT_RESET, NULL, 100, ALICE,
	                                   NULL, &err),
	                 -1);
	assert_string_equal(err.text, "unknown dependency ''");
	memset(&err, 0, sizeof err);
	assert_int_equal(fb_engine_operate(&x->e, FB_ACT_NONE, "chroma", 100, ALICE,
	                                   NULL, &err),
	                 -1);
	assert_string_equal(err.text, "unknown action");
	assert_int_equal(x->r.n, 0); /* nothing happened, nothing reported */
	assert_int_equal(fb_breaker_state(dep(x, "chroma")->breaker),
	                 FB_STATE_CLOSED);
}

static void test_operator_gate_modes(void **state)
{
	ex *x = *state;
	fb_error err = {0};
	assert_int_equal(fb_engine_operate(&x->e, FB_ACT_GATE_BLOCK, NULL, 100,
	                                   ALICE, "deploy freeze", &err),
	                 0);
	assert_int_equal(x->r.n, 2);
	expect_operator(x, 0, FB_ACT_GATE_BLOCK, NONE, ALICE, "deploy freeze");
	expect_gate(x, 1, "allowed", "blocked", "block", 0,
	            "Gate locked by " ALICE ": deploy freeze");

	assert_int_equal(fb_engine_operate(&x->e, FB_ACT_GATE_ALLOW, NULL, 200,
	                                   ALICE, "hotfix", &err),
	                 0);
	assert_int_equal(x->r.n, 4);
	expect_operator(x, 2, FB_ACT_GATE_ALLOW, NONE, ALICE, "hotfix");
	expect_gate(x, 3, "blocked", "allowed", "allow", 0,
	            "Gate overridden by " ALICE ": hotfix; back to auto in 1m 00s");

	assert_int_equal(fb_engine_operate(&x->e, FB_ACT_GATE_AUTO, NULL, 300,
	                                   ALICE, NULL, &err),
	                 0);
	assert_int_equal(x->r.n, 6);
	expect_operator(x, 4, FB_ACT_GATE_AUTO, NONE, ALICE, "");
	/* the decision stays allowed, the mode changes: still reported */
	expect_gate(x, 5, "allowed", "allowed", "auto", 0,
	            "All critical dependencies healthy");

	fb_gate_decision d;
	fb_engine_gate(&x->e, 400, &d);
	assert_false(d.blocked);
	assert_int_equal(d.mode, FB_GATE_AUTO);
}

static void test_override_expires_on_tick(void **state)
{
	ex *x = *state;
	open_chroma(x); /* blocked, open until 15000 */
	fb_error err = {0};
	assert_int_equal(fb_engine_operate(&x->e, FB_ACT_GATE_ALLOW, NULL, 4000,
	                                   ALICE, "deploy", &err),
	                 0);
	size_t n = x->r.n;
	expect_gate(x, n - 1, "blocked", "allowed", "allow", 0,
	            "Gate overridden by " ALICE ": deploy; back to auto in 1m 00s");
	fb_engine_tick(&x->e, 5000);
	fb_engine_tick(&x->e, 63999);
	assert_int_equal(x->r.n, n);
	fb_gate_decision d;
	fb_engine_gate(&x->e, 63999, &d);
	assert_false(d.blocked);
	assert_int_equal(d.override_left_ms, 1);

	fb_engine_tick(&x->e, 64000);
	assert_int_equal(x->r.n, n + 2);
	expect_operator(x, n, FB_ACT_GATE_AUTO, NONE, "fusebox",
	                "allow override expired");
	assert_int_equal(ev_at(x, n)->at_ms, 64000);
	expect_gate(x, n + 1, "allowed", "blocked", "auto", 0,
	            "System unhealthy: chroma is open");
	fb_engine_tick(&x->e, 65000);
	assert_int_equal(x->r.n, n + 2);
}

static void test_engine_gate_live_countdown(void **state)
{
	ex *x = *state;
	open_chroma(x);
	fb_gate_decision d;
	fb_engine_gate(&x->e, 3000, &d);
	assert_int_equal(d.retry_after_ms, 12000);
	fb_engine_gate(&x->e, 10000, &d);
	assert_true(d.blocked);
	assert_int_equal(d.retry_after_ms, 5000);
	assert_string_equal(d.reason, "System unhealthy: chroma is open; retry in 5s");
}

/* ---- startup_grace --------------------------------------------------------------- */

/* chroma with a 10s startup_grace (3 failures open it), started at 0. */
static int setup_grace(void **state)
{
	static const char *const names[] = {"chroma", "search"};
	static const bool critical[] = {true, false};
	ex *x = calloc(1, sizeof *x);
	if (!x)
		return -1;
	*state = x;
	cfg_build(&x->cfg, names, critical, 2);
	x->cfg.deps[0].t[FB_T_STARTUP_GRACE] = 10000;
	if (fb_engine_init(&x->e, &x->cfg, 42, 0, on_event, &x->r) != 0)
		return -1;
	x->live = true;
	return 0;
}

/* Inside the grace: shown and counted, never opened; the gate says why
 * it blocks. At the end of the grace the breaker opens at once. */
static void test_grace_counts_then_opens_at_its_end(void **state)
{
	ex *x = *state;
	for (int i = 1; i <= 5; i++)
		probe(x, "chroma", i * 1000, false, 0, "connect: refused");
	fb_dep *d = dep(x, "chroma");
	fb_breaker_snapshot s;
	fb_breaker_snapshot_get(d->breaker, &s);
	assert_int_equal(s.state, FB_STATE_CLOSED);
	assert_int_equal(s.consecutive_failures, 5);
	assert_string_equal(d->last_error, "connect: refused");
	assert_int_equal(d->health, FB_HEALTH_DEGRADED);
	assert_int_equal(x->r.n, 1); /* only unknown -> degraded */
	expect_health(x, 0, "chroma", "unknown", "degraded",
	              "first failure since start");
	fb_gate_decision g;
	fb_engine_gate(&x->e, 6000, &g);
	assert_true(g.blocked);
	assert_int_equal(g.retry_after_ms, 4000);
	assert_string_equal(g.reason, "System unhealthy: chroma held closed by "
	                              "startup_grace (5 consecutive failures); "
	                              "retry in 4s");
	/* calls still pass */
	assert_true(fb_engine_probe_begin(&x->e, d, 6000, NULL));
	fb_engine_probe_abandon(&x->e, d);

	fb_engine_tick(&x->e, 9999);
	assert_int_equal(x->r.n, 1);
	fb_engine_tick(&x->e, 10000);
	assert_int_equal(x->r.n, 3); /* transition, health; gate already blocked */
	expect_transition(x, 1, "chroma", "closed", "open", "unhealthy", 5, 12000,
	                  "5 consecutive failures; startup_grace ended");
	assert_int_equal(ev_at(x, 1)->at_ms, 10000);
	assert_string_equal(ev_at(x, 1)->error, "connect: refused");
	expect_health(x, 2, "chroma", "degraded", "unhealthy",
	              "5 consecutive failures; startup_grace ended");
	fb_engine_gate(&x->e, 10000, &g);
	assert_string_equal(g.reason,
	                    "System unhealthy: chroma is open; retry in 12s");
	/* the grace is over for good */
	fb_engine_tick(&x->e, 11000);
	assert_int_equal(x->r.n, 3);
	assert_false(x->e.grace_pending);
}

/* A success inside the grace ends the streak: nothing opens at its end. */
static void test_grace_recovered_stays_closed(void **state)
{
	ex *x = *state;
	for (int i = 1; i <= 4; i++)
		probe(x, "chroma", i * 1000, false, 0, "refused");
	probe(x, "chroma", 5000, true, 2000, NULL);
	fb_gate_decision g;
	fb_engine_gate(&x->e, 5000, &g);
	assert_false(g.blocked);
	size_t n = x->r.n;
	fb_engine_tick(&x->e, 10000);
	assert_int_equal(x->r.n, n);
	assert_int_equal(fb_breaker_state(dep(x, "chroma")->breaker),
	                 FB_STATE_CLOSED);
	/* after it, failures open as usual at the threshold */
	for (int i = 1; i <= 3; i++)
		probe(x, "chroma", 10000 + i * 1000, false, 0, "refused");
	assert_int_equal(fb_breaker_state(dep(x, "chroma")->breaker),
	                 FB_STATE_OPEN);
}

/* A failure after the grace and before the tick opens it itself. */
static void test_grace_over_next_failure_opens(void **state)
{
	ex *x = *state;
	for (int i = 1; i <= 3; i++)
		probe(x, "chroma", i * 1000, false, 0, "refused");
	assert_int_equal(fb_breaker_state(dep(x, "chroma")->breaker),
	                 FB_STATE_CLOSED);
	size_t n = x->r.n;
	probe(x, "chroma", 10000, false, 0, "refused");
	expect_transition(x, n, "chroma", "closed", "open", "unhealthy", 4, 12000,
	                  "4 consecutive failures");
	fb_engine_tick(&x->e, 10001);
	assert_int_equal(x->r.n, n + 2); /* transition, health: nothing more */
}

/* The grace counts from the start, per dependency: search has none. */
static void test_grace_is_per_dependency(void **state)
{
	ex *x = *state;
	for (int i = 1; i <= 3; i++)
		probe(x, "search", i * 1000, false, 0, "refused");
	assert_int_equal(fb_breaker_state(dep(x, "search")->breaker),
	                 FB_STATE_OPEN);
	assert_int_equal(dep(x, "chroma")->grace_until_ms, 10000);
	assert_int_equal(dep(x, "search")->grace_until_ms, 0);
}

/* A reload keeps counting the grace from the instance's start: a new
 * value moves its end, a dependency added within it gets what is left. */
static void test_grace_after_reload(void **state)
{
	ex *x = *state;
	for (int i = 1; i <= 3; i++)
		probe(x, "chroma", i * 1000, false, 0, "refused");
	static const char *const names[] = {"chroma", "kafka"};
	static const bool critical[] = {true, true};
	fb_config next;
	cfg_build(&next, names, critical, 2);
	next.deps[0].t[FB_T_STARTUP_GRACE] = 5000;
	next.deps[1].t[FB_T_STARTUP_GRACE] = 10000;
	char summary[256];
	assert_int_equal(fb_engine_reload(&x->e, &next, 4000, summary,
	                                  sizeof summary),
	                 0);
	fb_config_free(&next);
	assert_int_equal(dep(x, "chroma")->grace_until_ms, 5000);
	assert_int_equal(dep(x, "kafka")->grace_until_ms, 10000);
	for (int i = 0; i < 4; i++)
		probe(x, "kafka", 4100 + i, false, 0, "refused");
	assert_int_equal(fb_breaker_state(dep(x, "kafka")->breaker),
	                 FB_STATE_CLOSED);
	fb_engine_tick(&x->e, 5000);
	assert_int_equal(fb_breaker_state(dep(x, "chroma")->breaker),
	                 FB_STATE_OPEN);
	assert_int_equal(fb_breaker_state(dep(x, "kafka")->breaker),
	                 FB_STATE_CLOSED);
	fb_engine_tick(&x->e, 10000);
	assert_int_equal(fb_breaker_state(dep(x, "kafka")->breaker),
	                 FB_STATE_OPEN);
	assert_false(x->e.grace_pending);
}

/* ---- reload ----------------------------------------------------------------------- */

static void test_reload_keeps_and_drops(void **state)
{
	ex *x = *state;
	open_chroma(x);
	probe(x, "search", 3500, true, 2000, NULL);
	fb_dep *old = dep(x, "chroma");
	uint64_t probes = old->probes;

	static const char *const names[] = {"chroma", "kafka"};
	static const bool critical[] = {true, true};
	fb_config next;
	cfg_build(&next, names, critical, 2);
	next.deps[0].t[FB_T_FAILURE_THRESHOLD] = 1; /* new tuning for chroma */
	char summary[256] = "junk";
	size_t n = x->r.n;
	int rc = fb_engine_reload(&x->e, &next, 4000, summary, sizeof summary);
	fb_config_free(&next);
	assert_int_equal(rc, 0);
	assert_string_equal(summary,
	                    "2 dependencies; added kafka; removed search");
	assert_int_equal(x->e.reg.count, 2);
	assert_null(fb_registry_find(&x->e.reg, "search"));

	fb_dep *d = dep(x, "chroma");
	fb_breaker_snapshot s;
	fb_breaker_snapshot_get(d->breaker, &s);
	assert_int_equal(s.state, FB_STATE_OPEN);
	assert_int_equal(s.open_until_ms, 15000);
	assert_int_equal(s.failures, 3);
	assert_int_equal(d->health, FB_HEALTH_UNHEALTHY);
	assert_int_equal(d->history.len, 4);
	assert_int_equal(d->probes, probes);
	assert_string_equal(d->last_error, CLEANED);
	assert_int_equal(d->last_error_ms, 3000);
	assert_int_equal(d->cfg.t[FB_T_FAILURE_THRESHOLD], 1);

	fb_dep *k = dep(x, "kafka");
	assert_int_equal(fb_breaker_state(k->breaker), FB_STATE_CLOSED);
	assert_int_equal(k->health, FB_HEALTH_UNKNOWN); /* nothing seen yet */
	assert_int_equal(k->history.len, 0);
	/* still blocked by chroma: no gate event */
	assert_int_equal(x->r.n, n);
	assert_true(x->e.decision.blocked);

	/* the kept breaker goes on with its new tuning */
	int64_t retry;
	assert_false(fb_engine_probe_begin(&x->e, d, 14999, &retry));
	assert_int_equal(retry, 1);
	assert_true(fb_engine_probe_begin(&x->e, d, 15000, &retry));
	fb_engine_probe_end(&x->e, d, 15001, true, 1000, NULL);
	assert_int_equal(fb_breaker_state(d->breaker), FB_STATE_CLOSED);
	probe(x, "chroma", 16000, false, 0, "x");
	assert_int_equal(fb_breaker_state(d->breaker), FB_STATE_OPEN);
}

static void test_reload_dropping_the_blocker_lifts_gate(void **state)
{
	ex *x = *state;
	open_chroma(x);
	static const char *const names[] = {"search"};
	static const bool critical[] = {false};
	fb_config next;
	cfg_build(&next, names, critical, 1);
	char summary[256];
	size_t n = x->r.n;
	int rc = fb_engine_reload(&x->e, &next, 5000, summary, sizeof summary);
	fb_config_free(&next);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(summary, "removed chroma"));
	assert_null(strstr(summary, "added"));
	assert_int_equal(x->r.n, n + 1);
	expect_gate(x, n, "blocked", "allowed", "auto", 0,
	            "Allowed: no dependency is critical");
}

int main(void)
{
#define E(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define C(f) cmocka_unit_test_setup_teardown(f, setup_cold, teardown)
#define S(f) cmocka_unit_test_setup_teardown(f, setup_grace, teardown)
	const struct CMUnitTest tests[] = {
	    C(test_init_state),
	    E(test_failures_open_then_health_then_gate),
	    E(test_error_text_default_and_bounded),
	    E(test_non_critical_open_emits_no_gate_event),
	    E(test_probe_begin_refused_while_open),
	    E(test_recovery_closes_and_lifts_gate),
	    E(test_failed_trial_reopens_longer),
	    E(test_slow_probes_degrade),
	    E(test_operator_trip_reset_disable),
	    E(test_operator_unknown_dep),
	    E(test_operator_gate_modes),
	    E(test_override_expires_on_tick),
	    E(test_engine_gate_live_countdown),
	    E(test_reload_keeps_and_drops),
	    E(test_reload_dropping_the_blocker_lifts_gate),
	    C(test_first_outcomes),
	    C(test_first_outcome_slow),
	    C(test_first_failure_keeps_blocked_until_success),
	    C(test_first_probe_in_flight_sets_retry),
	    C(test_reset_before_any_probe_is_unknown),
	    S(test_grace_counts_then_opens_at_its_end),
	    S(test_grace_recovered_stays_closed),
	    S(test_grace_over_next_failure_opens),
	    S(test_grace_is_per_dependency),
	    S(test_grace_after_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
