/* The destructive-operation gate (SPEC section 3): auto, block and allow
 * modes over a small registry, the reason text and the retry countdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fusebox/gate.h"
#include "fusebox/registry.h"
#include "helpers.h"

/* ---- fixture: chroma and redis-main critical, search not ---------------- */

typedef struct gx {
	fb_config cfg;
	fb_registry reg;
	uint64_t half;
	th_rng_seq seq;
	fb_gate gate;
} gx;

/* Every dependency opens on its first failure; recovery waits are given
 * per dependency, jitter is off. */
static void gx_build(gx *g, const char *const *names, const bool *critical,
                     const int64_t *recovery_ms, size_t n)
{
	memset(g, 0, sizeof *g);
	th_config_init(&g->cfg, n);
	for (size_t i = 0; i < n; i++) {
		fb_dep_config *d = &g->cfg.deps[i];
		th_dep_init(d, names[i], critical[i]);
		d->t[FB_T_FAILURE_THRESHOLD] = 1;
		d->t[FB_T_RECOVERY_TIMEOUT] = recovery_ms[i];
		d->t[FB_T_BACKOFF_CAP] = 24 * FB_MS_H;
		d->t[FB_T_JITTER] = 0;
	}
	g->half = th_unit(0.5);
	g->seq = (th_rng_seq){&g->half, 1, 0};
	assert_int_equal(
	    fb_registry_init(&g->reg, &g->cfg, (fb_rng){th_rng_next, &g->seq}, 0),
	    0);
	fb_gate_init(&g->gate, g->cfg.gate_override_ttl_ms);
}

/* Health as the engine keeps it: derived from the breaker snapshot. */
static void sync_health(gx *g)
{
	for (size_t i = 0; i < g->reg.count; i++) {
		fb_dep *d = &g->reg.deps[i];
		fb_breaker_snapshot s;
		fb_breaker_snapshot_get(d->breaker, &s);
		d->health = fb_health_derive(&s, -1, d->cfg.t[FB_T_SLOW_CALL]);
	}
}

/* A running instance: every dependency has answered once, at 0. */
static void warm(gx *g)
{
	for (size_t i = 0; i < g->reg.count; i++)
		fb_breaker_success(g->reg.deps[i].breaker, 0, 1, NULL);
	sync_health(g);
}

static gx *three(void)
{
	static const char *const names[] = {"chroma", "redis-main", "search"};
	static const bool critical[] = {true, true, false};
	static const int64_t recovery[] = {12000, 185000, 3720000};
	gx *g = calloc(1, sizeof *g);
	if (g)
		gx_build(g, names, critical, recovery, 3);
	return g;
}

static int setup(void **state)
{
	gx *g = three();
	if (!g)
		return -1;
	warm(g);
	*state = g;
	return 0;
}

/* A fresh instance: no probe has answered yet. */
static int setup_cold(void **state)
{
	gx *g = three();
	*state = g;
	return g ? 0 : -1;
}

static int teardown(void **state)
{
	gx *g = *state;
	fb_registry_free(&g->reg);
	fb_config_free(&g->cfg);
	free(g);
	return 0;
}

static fb_dep *dep(gx *g, const char *name)
{
	fb_dep *d = fb_registry_find(&g->reg, name);
	assert_non_null(d);
	return d;
}

/* Opens `name` at now_ms (threshold 1). */
static void trip(gx *g, const char *name, int64_t now_ms)
{
	fb_dep *d = dep(g, name);
	fb_breaker_failure(d->breaker, now_ms, NULL);
	assert_int_equal(fb_breaker_state(d->breaker), FB_STATE_OPEN);
	sync_health(g);
}

static fb_gate_decision decide(gx *g, int64_t now_ms)
{
	fb_gate_decision out;
	memset(&out, 0x5a, sizeof out);
	fb_gate_decide(&g->gate, &g->reg, now_ms, &out);
	return out;
}

/* ---- auto -------------------------------------------------------------- */

static void test_auto_all_healthy_allows(void **state)
{
	gx *g = *state;
	sync_health(g);
	fb_gate_decision d = decide(g, 0);
	assert_false(d.blocked);
	assert_int_equal(d.mode, FB_GATE_AUTO);
	assert_int_equal(d.retry_after_ms, 0);
	assert_string_equal(d.reason, "All critical dependencies healthy");
}

static void test_auto_non_critical_unhealthy_allows(void **state)
{
	gx *g = *state;
	trip(g, "search", 0);
	assert_int_equal(dep(g, "search")->health, FB_HEALTH_UNHEALTHY);
	fb_gate_decision d = decide(g, 10);
	assert_false(d.blocked);
	assert_int_equal(d.retry_after_ms, 0);
	assert_string_equal(d.reason, "All critical dependencies healthy");
}

static void test_auto_critical_degraded_allows(void **state)
{
	gx *g = *state;
	/* a failure below the threshold: closed with a recent failure */
	fb_dep *d = dep(g, "chroma");
	fb_breaker_config bc;
	fb_dep_breaker_config(&d->cfg, &bc);
	bc.failure_threshold = 5;
	fb_breaker_configure(d->breaker, &bc);
	fb_breaker_failure(d->breaker, 0, NULL);
	sync_health(g);
	assert_int_equal(d->health, FB_HEALTH_DEGRADED);
	fb_gate_decision out = decide(g, 10);
	assert_false(out.blocked);
	/* allowed, and the reason does not call it healthy */
	assert_string_equal(out.reason, "Allowed: chroma degraded (recent "
	                                "failures); no critical dependency is "
	                                "down");
	assert_int_equal(out.retry_after_ms, 0);
}

static void test_auto_critical_open_blocks_with_countdown(void **state)
{
	gx *g = *state;
	trip(g, "chroma", 1000); /* open until 13000 */
	static const struct {
		int64_t now, retry;
		const char *reason;
	} cases[] = {
	    {1000, 12000, "System unhealthy: chroma is open; retry in 12s"},
	    {1500, 11500, "System unhealthy: chroma is open; retry in 12s"},
	    {2000, 11000, "System unhealthy: chroma is open; retry in 11s"},
	    {12001, 999, "System unhealthy: chroma is open; retry in 1s"},
	    {12999, 1, "System unhealthy: chroma is open; retry in 1s"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fb_gate_decision d = decide(g, cases[i].now);
		assert_true(d.blocked);
		assert_int_equal(d.mode, FB_GATE_AUTO);
		assert_int_equal(d.retry_after_ms, cases[i].retry);
		assert_string_equal(d.reason, cases[i].reason);
	}
	/* the wait is over but no probe has run yet: still open, no countdown */
	fb_gate_decision d = decide(g, 20000);
	assert_true(d.blocked);
	assert_int_equal(d.retry_after_ms, 0);
	assert_string_equal(d.reason, "System unhealthy: chroma is open");
}

static void test_auto_retry_is_longest_wait(void **state)
{
	gx *g = *state;
	trip(g, "chroma", 0);     /* 12s */
	trip(g, "redis-main", 0); /* 3m 05s */
	trip(g, "search", 0);     /* 1h 02m, but not critical */
	fb_gate_decision d = decide(g, 0);
	assert_true(d.blocked);
	assert_int_equal(d.retry_after_ms, 185000);
	assert_string_equal(d.reason, "System unhealthy: chroma is open, "
	                              "redis-main is open; retry in 3m 05s");
	/* once chroma's wait is over, redis-main's still counts */
	d = decide(g, 13000);
	assert_int_equal(d.retry_after_ms, 172000);
	assert_string_equal(d.reason, "System unhealthy: chroma is open, "
	                              "redis-main is open; retry in 2m 52s");
}

static void test_auto_forced_open_blocks_without_countdown(void **state)
{
	gx *g = *state;
	fb_breaker_force_open(dep(g, "redis-main")->breaker, 0, NULL);
	sync_health(g);
	fb_gate_decision d = decide(g, 5000);
	assert_true(d.blocked);
	assert_int_equal(d.retry_after_ms, 0);
	assert_string_equal(d.reason, "System unhealthy: redis-main is forced_open");
}

static void test_auto_half_open_blocks(void **state)
{
	gx *g = *state;
	trip(g, "chroma", 0);
	fb_dep *d = dep(g, "chroma");
	assert_true(fb_breaker_allow(d->breaker, 12000, NULL, NULL));
	sync_health(g);
	assert_int_equal(d->health, FB_HEALTH_DEGRADED);
	fb_gate_decision out = decide(g, 12001);
	assert_true(out.blocked);
	assert_int_equal(out.retry_after_ms, 0);
	assert_string_equal(out.reason, "System unhealthy: chroma is half_open");
	fb_breaker_success(d->breaker, 12050, 1, NULL);
	sync_health(g);
	out = decide(g, 12051);
	assert_false(out.blocked);
}

static const char *const five[] = {"a", "b", "c", "d", "e"};

static int setup_five(void **state)
{
	static const bool critical[] = {true, true, true, true, true};
	static const int64_t recovery[] = {12000, 12000, 12000, 12000, 12000};
	gx *g = calloc(1, sizeof *g);
	if (!g)
		return -1;
	gx_build(g, five, critical, recovery, 5);
	warm(g);
	*state = g;
	return 0;
}

static int setup_five_cold(void **state)
{
	static const bool critical[] = {true, true, true, true, true};
	static const int64_t recovery[] = {12000, 12000, 12000, 12000, 12000};
	gx *g = calloc(1, sizeof *g);
	if (!g)
		return -1;
	gx_build(g, five, critical, recovery, 5);
	*state = g;
	return 0;
}

static void test_auto_names_three_then_counts(void **state)
{
	gx *g = *state;
	for (size_t i = 0; i < 5; i++)
		trip(g, five[i], 0);
	fb_gate_decision d = decide(g, 0);
	assert_true(d.blocked);
	assert_string_equal(d.reason, "System unhealthy: a is open, b is open, "
	                              "c is open and 2 more; retry in 12s");
}

/* ---- a fresh instance ---------------------------------------------------- */

/* Sets `name`'s consecutive-failure threshold (the fixture opens on the
 * first failure). */
static void threshold(gx *g, const char *name, int n)
{
	fb_dep *d = dep(g, name);
	fb_breaker_config bc;
	fb_dep_breaker_config(&d->cfg, &bc);
	bc.failure_threshold = n;
	fb_breaker_configure(d->breaker, &bc);
}

static void test_cold_unknown_blocks_starting(void **state)
{
	gx *g = *state;
	sync_health(g);
	assert_int_equal(dep(g, "chroma")->health, FB_HEALTH_UNKNOWN);
	assert_int_equal(dep(g, "search")->health, FB_HEALTH_UNKNOWN);
	fb_gate_decision d = decide(g, 0);
	assert_true(d.blocked);
	assert_int_equal(d.mode, FB_GATE_AUTO);
	/* no probe out yet: no idea when there will be news */
	assert_int_equal(d.retry_after_ms, 0);
	/* search is not critical: not named */
	assert_string_equal(d.reason, "Starting: waiting for the first probe of "
	                              "chroma, redis-main");
}

/* With probes out, the wait is until the slowest of them times out. */
static void test_cold_retry_is_first_probe_timeout(void **state)
{
	gx *g = *state;
	sync_health(g);
	assert_int_equal(dep(g, "chroma")->cfg.t[FB_T_TIMEOUT], 2000);
	dep(g, "chroma")->probe_began_ms = 100;
	fb_gate_decision d = decide(g, 600);
	assert_true(d.blocked);
	assert_int_equal(d.retry_after_ms, 1500);
	assert_string_equal(d.reason, "Starting: waiting for the first probe of "
	                              "chroma, redis-main; retry in 2s");
	dep(g, "redis-main")->probe_began_ms = 900;
	d = decide(g, 1000);
	assert_int_equal(d.retry_after_ms, 1900);
	/* overdue: nothing promised */
	d = decide(g, 5000);
	assert_int_equal(d.retry_after_ms, 0);
	assert_string_equal(d.reason, "Starting: waiting for the first probe of "
	                              "chroma, redis-main");
}

/* Each first success takes one name off; the last one allows. */
static void test_cold_first_successes_allow(void **state)
{
	gx *g = *state;
	fb_breaker_success(dep(g, "chroma")->breaker, 50, 2, NULL);
	sync_health(g);
	assert_int_equal(dep(g, "chroma")->health, FB_HEALTH_HEALTHY);
	fb_gate_decision d = decide(g, 60);
	assert_true(d.blocked);
	assert_string_equal(d.reason,
	                    "Starting: waiting for the first probe of redis-main");
	fb_breaker_success(dep(g, "redis-main")->breaker, 70, 2, NULL);
	sync_health(g);
	d = decide(g, 80);
	assert_false(d.blocked);
	assert_int_equal(d.retry_after_ms, 0);
	/* search (not critical) may still be unknown */
	assert_int_equal(dep(g, "search")->health, FB_HEALTH_UNKNOWN);
	assert_string_equal(d.reason, "All critical dependencies healthy");
}

/* A first outcome that is a failure is no evidence of health: blocked
 * until a success, though the breaker is closed and health degraded. */
static void test_cold_failures_only_block(void **state)
{
	gx *g = *state;
	threshold(g, "chroma", 5);
	fb_breaker_failure(dep(g, "chroma")->breaker, 50, NULL);
	sync_health(g);
	assert_int_equal(dep(g, "chroma")->health, FB_HEALTH_DEGRADED);
	fb_gate_decision d = decide(g, 60);
	assert_true(d.blocked);
	assert_string_equal(d.reason,
	                    "Starting: waiting for the first probe of redis-main; "
	                    "no success yet from chroma");
	fb_breaker_success(dep(g, "redis-main")->breaker, 70, 2, NULL);
	fb_breaker_failure(dep(g, "chroma")->breaker, 80, NULL);
	sync_health(g);
	d = decide(g, 90);
	assert_true(d.blocked);
	assert_string_equal(d.reason, "Starting: no success yet from chroma");
	/* one success: evidence; degraded by its recent failures, allowed */
	fb_breaker_success(dep(g, "chroma")->breaker, 100, 2, NULL);
	sync_health(g);
	assert_int_equal(dep(g, "chroma")->health, FB_HEALTH_DEGRADED);
	d = decide(g, 110);
	assert_false(d.blocked);
	assert_string_equal(d.reason, "Allowed: chroma degraded (recent "
	                              "failures); no critical dependency is "
	                              "down");
}

/* Down and not known yet at once: both said, down first. */
static void test_cold_open_and_unknown(void **state)
{
	gx *g = *state;
	trip(g, "chroma", 1000);
	fb_gate_decision d = decide(g, 1000);
	assert_true(d.blocked);
	assert_int_equal(d.retry_after_ms, 12000);
	assert_string_equal(d.reason, "System unhealthy: chroma is open; waiting "
	                              "for the first probe of redis-main; retry "
	                              "in 12s");
}

static void test_cold_names_three_then_counts(void **state)
{
	gx *g = *state;
	sync_health(g);
	fb_gate_decision d = decide(g, 0);
	assert_true(d.blocked);
	assert_string_equal(d.reason, "Starting: waiting for the first probe of "
	                              "a, b, c and 2 more");
	fb_breaker_success(dep(g, "b")->breaker, 1, 1, NULL);
	fb_breaker_success(dep(g, "d")->breaker, 1, 1, NULL);
	sync_health(g);
	d = decide(g, 2);
	assert_string_equal(d.reason,
	                    "Starting: waiting for the first probe of a, c, e");
}

/* startup_grace keeps a failing breaker closed; the gate still blocks,
 * saying so, until the grace ends. */
static void test_grace_held_blocks(void **state)
{
	gx *g = *state;
	threshold(g, "chroma", 2);
	fb_breaker_hold(dep(g, "chroma")->breaker, 30000);
	for (int i = 0; i < 3; i++)
		fb_breaker_failure(dep(g, "chroma")->breaker, 1000 + i, NULL);
	sync_health(g);
	assert_int_equal(fb_breaker_state(dep(g, "chroma")->breaker),
	                 FB_STATE_CLOSED);
	assert_int_equal(dep(g, "chroma")->health, FB_HEALTH_DEGRADED);
	fb_gate_decision d = decide(g, 10000);
	assert_true(d.blocked);
	assert_int_equal(d.retry_after_ms, 20000);
	assert_string_equal(d.reason,
	                    "System unhealthy: chroma held closed by "
	                    "startup_grace (3 consecutive failures); retry in "
	                    "20s");
	/* below the threshold it is an ordinary degraded dependency */
	fb_breaker_success(dep(g, "chroma")->breaker, 10001, 1, NULL);
	fb_breaker_failure(dep(g, "chroma")->breaker, 10002, NULL);
	sync_health(g);
	d = decide(g, 10003);
	assert_false(d.blocked);
	assert_string_equal(d.reason, "Allowed: chroma degraded (recent "
	                              "failures); no critical dependency is "
	                              "down");
}

static void test_degraded_reasons_say_why(void **state)
{
	gx *g = *state;
	/* slow: degraded with no failure */
	dep(g, "chroma")->health = FB_HEALTH_DEGRADED;
	fb_gate_decision d = decide(g, 10);
	assert_false(d.blocked);
	assert_string_equal(d.reason, "Allowed: chroma degraded (slow "
	                              "responses); no critical dependency is "
	                              "down");
	/* disabled by an operator and failing */
	fb_dep *r = dep(g, "redis-main");
	fb_breaker_force_closed(r->breaker, 20, NULL);
	fb_breaker_failure(r->breaker, 30, NULL);
	r->health = FB_HEALTH_DEGRADED;
	d = decide(g, 40);
	assert_false(d.blocked);
	assert_string_equal(d.reason,
	                    "Allowed: chroma degraded (slow responses), "
	                    "redis-main degraded (recent failures; breaker "
	                    "disabled); no critical dependency is down");
}

static void test_no_critical_dependency(void **state)
{
	(void)state;
	static const char *const names[] = {"x", "y"};
	static const bool critical[] = {false, false};
	static const int64_t recovery[] = {1000, 1000};
	gx g;
	gx_build(&g, names, critical, recovery, 2);
	fb_breaker_failure(g.reg.deps[0].breaker, 1, NULL); /* opens */
	sync_health(&g);
	fb_gate_decision d = decide(&g, 2);
	assert_false(d.blocked);
	assert_string_equal(d.reason, "Allowed: no dependency is critical");
	fb_registry_free(&g.reg);
	fb_config_free(&g.cfg);
}

/* ---- block and allow ------------------------------------------------------ */

static void test_block_mode(void **state)
{
	gx *g = *state;
	sync_health(g);
	fb_gate_set(&g->gate, FB_GATE_BLOCK, 100, "alice (uid 1000)",
	            "maintenance");
	fb_gate_decision d = decide(g, 200);
	assert_true(d.blocked);
	assert_int_equal(d.mode, FB_GATE_BLOCK);
	assert_int_equal(d.retry_after_ms, 0);
	assert_string_equal(d.reason, "Gate locked by alice (uid 1000): maintenance");
	/* a lock does not expire */
	assert_false(fb_gate_expire(&g->gate, 100 + 365LL * 24 * FB_MS_H));
	assert_int_equal(g->gate.mode, FB_GATE_BLOCK);

	fb_gate_set(&g->gate, FB_GATE_BLOCK, 300, "alice (uid 1000)", NULL);
	d = decide(g, 300);
	assert_string_equal(d.reason, "Gate locked by alice (uid 1000)");
	fb_gate_set(&g->gate, FB_GATE_BLOCK, 300, NULL, "");
	d = decide(g, 300);
	assert_string_equal(d.reason, "Gate locked by an operator");
}

static void test_allow_mode_overrides_and_expires(void **state)
{
	gx *g = *state;
	trip(g, "chroma", 0);
	assert_true(decide(g, 10).blocked);
	fb_gate_set(&g->gate, FB_GATE_ALLOW, 1000, "bob (uid 1001)", "deploy");
	fb_gate_decision d = decide(g, 1000);
	assert_false(d.blocked);
	assert_int_equal(d.mode, FB_GATE_ALLOW);
	assert_int_equal(d.override_left_ms, 15 * FB_MS_M);
	assert_string_equal(d.reason, "Gate overridden by bob (uid 1001): deploy; "
	                              "back to auto in 15m 00s");
	/* not before the ttl */
	int64_t until = 1000 + 15 * FB_MS_M;
	assert_false(fb_gate_expire(&g->gate, 1000));
	assert_false(fb_gate_expire(&g->gate, until - 1));
	assert_int_equal(g->gate.mode, FB_GATE_ALLOW);
	d = decide(g, until - 1);
	assert_false(d.blocked);
	assert_int_equal(d.override_left_ms, 1);
	/* at the ttl: back to auto, and chroma blocks again */
	assert_true(fb_gate_expire(&g->gate, until));
	assert_int_equal(g->gate.mode, FB_GATE_AUTO);
	assert_string_equal(g->gate.reason, "");
	assert_false(fb_gate_expire(&g->gate, until + 1));
	d = decide(g, until);
	assert_true(d.blocked);
	assert_int_equal(d.mode, FB_GATE_AUTO);
}

static void test_allow_ttl_from_init(void **state)
{
	(void)state;
	fb_gate g;
	fb_gate_init(&g, 60000);
	assert_int_equal(g.mode, FB_GATE_AUTO);
	fb_gate_set(&g, FB_GATE_ALLOW, 5000, "x", NULL);
	assert_int_equal(g.override_until_ms, 65000);
	assert_false(fb_gate_expire(&g, 64999));
	assert_true(fb_gate_expire(&g, 70000));
	/* auto and block never expire */
	assert_false(fb_gate_expire(&g, 999999));
	fb_gate_set(&g, FB_GATE_AUTO, 0, NULL, NULL);
	assert_false(fb_gate_expire(&g, 999999));
}

/* A reason or actor too long for its buffer is cut between characters,
 * never inside one: it goes to the event log, where a line that is not
 * UTF-8 is lost to every reader (found by fuzz_control). */
static void test_long_reason_is_cut_between_characters(void **state)
{
	(void)state;
	fb_gate g;
	char reason[400], actor[200];
	memset(reason, 'r', 158);
	snprintf(reason + 158, sizeof reason - 158, "\xc3\xa9tail");
	memset(actor, 'a', 94);
	snprintf(actor + 94, sizeof actor - 94, "\xe2\x82\xac (uid 1)");
	fb_gate_init(&g, 60000);
	fb_gate_set(&g, FB_GATE_BLOCK, 0, actor, reason);
	assert_int_equal(strlen(g.reason), 158); /* not 159: half of é */
	assert_int_equal(strspn(g.reason, "r"), 158);
	assert_int_equal(strlen(g.actor), 94);
	fb_gate_set(&g, FB_GATE_BLOCK, 0, "bob", "d\xc3\xa9ploy");
	assert_string_equal(g.reason, "d\xc3\xa9ploy"); /* short text kept */
}

static void test_gate_mode_parse(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		bool ok;
		fb_gate_mode mode;
	} cases[] = {
	    {"auto", true, FB_GATE_AUTO},    {"block", true, FB_GATE_BLOCK},
	    {"allow", true, FB_GATE_ALLOW},  {"AUTO", false, 0},
	    {"", false, 0},                  {"blocked", false, 0},
	    {"allow ", false, 0},            {"al", false, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fb_gate_mode m = (fb_gate_mode)77;
		bool ok = fb_gate_mode_parse(cases[i].name, &m);
		if (ok != cases[i].ok)
			fail_msg("'%s': parse %d", cases[i].name, ok);
		if (ok)
			assert_int_equal(m, cases[i].mode);
		else
			assert_int_equal(m, 77); /* left alone */
	}
	assert_string_equal(fb_gate_mode_name(FB_GATE_AUTO), "auto");
	assert_string_equal(fb_gate_mode_name(FB_GATE_BLOCK), "block");
	assert_string_equal(fb_gate_mode_name(FB_GATE_ALLOW), "allow");
	assert_string_equal(fb_gate_mode_name(FB_GATE_MODE_COUNT), "?");
}

/* ---- the countdown text --------------------------------------------------- */

static void test_format_wait(void **state)
{
	(void)state;
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
	    {0, "0s"},
	    {-5000, "0s"},
	    {1, "1s"},
	    {999, "1s"},
	    {1000, "1s"},
	    {1001, "2s"},
	    {11001, "12s"},
	    {12000, "12s"},
	    {59000, "59s"},
	    {59001, "1m 00s"},
	    {60000, "1m 00s"},
	    {184001, "3m 05s"},
	    {185000, "3m 05s"},
	    {3599000, "59m 59s"},
	    {3599001, "1h 00m"},
	    {3600000, "1h 00m"},
	    {3720000, "1h 02m"},
	    {36000000, "10h 00m"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char buf[32];
		fb_format_wait(cases[i].ms, buf, sizeof buf);
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("%lld ms: '%s', expected '%s'", (long long)cases[i].ms,
			         buf, cases[i].want);
	}
	char small[4];
	fb_format_wait(185000, small, sizeof small);
	assert_string_equal(small, "3m ");
}

/* gate.c rounds up "never promise too early"; the hour form must too. */
static void test_format_wait_hours_round_up(void **state)
{
	(void)state;
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
	    {3600001, "1h 01m"},
	    {3720001, "1h 03m"},
	    {3779000, "1h 03m"},
	    {7199000, "2h 00m"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char buf[32];
		fb_format_wait(cases[i].ms, buf, sizeof buf);
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("%lld ms: '%s', expected '%s'", (long long)cases[i].ms,
			         buf, cases[i].want);
	}
}

int main(void)
{
#define G(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define C(f) cmocka_unit_test_setup_teardown(f, setup_cold, teardown)
	const struct CMUnitTest tests[] = {
	    G(test_auto_all_healthy_allows),
	    G(test_auto_non_critical_unhealthy_allows),
	    G(test_auto_critical_degraded_allows),
	    G(test_auto_critical_open_blocks_with_countdown),
	    G(test_auto_retry_is_longest_wait),
	    G(test_auto_forced_open_blocks_without_countdown),
	    G(test_auto_half_open_blocks),
	    cmocka_unit_test_setup_teardown(test_auto_names_three_then_counts,
	                                setup_five, teardown),
	    C(test_cold_unknown_blocks_starting),
	    C(test_cold_retry_is_first_probe_timeout),
	    C(test_cold_first_successes_allow),
	    C(test_cold_failures_only_block),
	    C(test_cold_open_and_unknown),
	    cmocka_unit_test_setup_teardown(test_cold_names_three_then_counts,
	                                setup_five_cold, teardown),
	    G(test_grace_held_blocks),
	    G(test_degraded_reasons_say_why),
	    cmocka_unit_test(test_no_critical_dependency),
	    G(test_block_mode),
	    G(test_allow_mode_overrides_and_expires),
	    cmocka_unit_test(test_allow_ttl_from_init),
	    cmocka_unit_test(test_long_reason_is_cut_between_characters),
	    cmocka_unit_test(test_gate_mode_parse),
	    cmocka_unit_test(test_format_wait),
	    cmocka_unit_test(test_format_wait_hours_round_up),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
