/* What an operator decided survives the instance (SPEC section 2): the
 * pure parts first (fb_breaker_restore_open with the injected clock, the
 * fold of events into what is restored, its JSON form), then end to end:
 * the real, sanitized `fusebox run`, told things by the real CLI, killed
 * with SIGKILL and started again, in a temp dir of its own against the
 * fault-injection HTTP fixture. The checkpoint (LOG.state) is damaged,
 * removed, made stale or left behind by rotation, and the log given torn
 * and foreign lines, to show the log itself stays the record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "clock.h"
#include "eventlog.h"
#include "fusebox/breaker.h"
#include "helpers.h"
#include "lasting.h"
#include "runtime.h"

#define WAIT_MS 8000 /* the longest any one condition may take */
#define CLI_MS  15000

static char g_fusebox[PATH_MAX];
static char g_fixture[PATH_MAX];

/* ---- fb_breaker_restore_open, with the injected clock ------------------ */

static fb_breaker *new_breaker(th_rng_seq *rng)
{
	fb_breaker_config c;
	fb_breaker_config_default(&c);
	c.failure_threshold = 2;
	c.recovery_timeout_ms = 1000;
	c.backoff_cap_ms = 60000;
	c.jitter = 0;
	fb_breaker *b = fb_breaker_new(&c, (fb_rng){th_rng_next, rng}, 0);
	assert_non_null(b);
	return b;
}

/* Open for the wait given, then a trial whose failure doubles from the
 * step given: as if the instance had never gone. */
static void test_breaker_restore_open_keeps_wait_and_step(void **state)
{
	(void)state;
	static const uint64_t vals[] = {0};
	th_rng_seq rng = {vals, 1, 0};
	fb_breaker *b = new_breaker(&rng);
	fb_transition tr;
	int64_t wait = 0;
	fb_breaker_restore_open(b, 100, 500, 2, &tr);
	assert_true(tr.changed);
	assert_int_equal(tr.from, FB_STATE_CLOSED);
	assert_int_equal(tr.to, FB_STATE_OPEN);
	assert_int_equal(tr.retry_after_ms, 500);
	assert_false(fb_breaker_allow(b, 599, &wait, &tr));
	assert_int_equal(wait, 1);
	assert_true(fb_breaker_allow(b, 600, &wait, &tr));
	assert_true(tr.changed);
	assert_int_equal(tr.to, FB_STATE_HALF_OPEN);
	fb_breaker_failure(b, 700, &tr);
	assert_true(tr.changed);
	assert_int_equal(tr.to, FB_STATE_OPEN);
	assert_int_equal(tr.retry_after_ms, 8000); /* 1s x 2^3: step 2 + 1 */
	fb_breaker_snapshot snap;
	fb_breaker_snapshot_get(b, &snap);
	assert_int_equal(snap.failed_trials, 3);
	assert_int_equal(snap.open_until_ms, 8700);
	fb_breaker_free(b);
}

/* A wait already over: the next allow is a trial. A wait beyond the cap
 * is capped. A breaker that is not closed is left alone. */
static void test_breaker_restore_open_edges(void **state)
{
	(void)state;
	static const uint64_t vals[] = {0};
	th_rng_seq rng = {vals, 1, 0};
	fb_breaker *b = new_breaker(&rng);
	fb_transition tr;
	int64_t wait;
	fb_breaker_restore_open(b, 50, 0, 0, &tr);
	assert_true(tr.changed);
	assert_true(fb_breaker_allow(b, 50, &wait, &tr));
	assert_int_equal(fb_breaker_state(b), FB_STATE_HALF_OPEN);
	fb_breaker_restore_open(b, 60, 500, 1, &tr);
	assert_false(tr.changed);
	assert_int_equal(fb_breaker_state(b), FB_STATE_HALF_OPEN);
	fb_breaker_reset(b, 70, &tr);
	fb_breaker_restore_open(b, 80, 10LL * 24 * 3600 * 1000, 0, &tr);
	assert_int_equal(tr.retry_after_ms, 60000);
	fb_breaker_force_open(b, 90, &tr);
	fb_breaker_reset(b, 95, &tr);
	fb_breaker_force_open(b, 96, &tr);
	fb_breaker_restore_open(b, 100, 500, 0, &tr);
	assert_false(tr.changed);
	assert_int_equal(fb_breaker_state(b), FB_STATE_FORCED_OPEN);
	fb_breaker_free(b);
}

/* ---- the fold ------------------------------------------------------------ */

static fb_lasting_event op(uint64_t seq, fb_action a, const char *dep,
                           const char *reason)
{
	return (fb_lasting_event){.seq = seq,
	                          .wall_ms = (int64_t)seq * 1000,
	                          .kind = FB_EV_OPERATOR,
	                          .action = a,
	                          .dep = dep,
	                          .actor = "alice (uid 1000)",
	                          .reason = reason,
	                          .retry_after_ms = -1};
}

static fb_lasting_event tr_ev(uint64_t seq, const char *dep, const char *from,
                              const char *to, int64_t retry, const char *reason)
{
	return (fb_lasting_event){.seq = seq,
	                          .wall_ms = (int64_t)seq * 1000,
	                          .kind = FB_EV_TRANSITION,
	                          .dep = dep,
	                          .from = from,
	                          .to = to,
	                          .reason = reason,
	                          .retry_after_ms = retry};
}

static bool fold(fb_lasting *l, fb_lasting_event ev)
{
	return fb_lasting_fold(l, &ev, 600000);
}

static void test_origin_of_a_restored_reason(void **state)
{
	(void)state;
	const char *rest;
	assert_int_equal(
	    fb_lasting_origin("restored (seq 41): vendor outage", 60, &rest),
	    41);
	assert_string_equal(rest, "vendor outage");
	assert_int_equal(fb_lasting_origin("restored (seq 41)", 60, &rest), 41);
	assert_string_equal(rest, "");
	/* not from an earlier event, or not quite the form: plain reasons */
	assert_int_equal(fb_lasting_origin("restored (seq 70): x", 60, &rest),
	                 0);
	assert_string_equal(rest, "restored (seq 70): x");
	assert_int_equal(fb_lasting_origin("restored (seq 4x): x", 60, &rest),
	                 0);
	assert_int_equal(fb_lasting_origin("restored (seq ): x", 60, &rest), 0);
	assert_int_equal(fb_lasting_origin("restored (seq 4) x", 60, &rest), 0);
	assert_int_equal(fb_lasting_origin(NULL, 60, &rest), 0);
	assert_string_equal(rest, "");
	char buf[64];
	fb_lasting_restored_reason(buf, sizeof buf, 41, "vendor outage");
	assert_string_equal(buf, "restored (seq 41): vendor outage");
	fb_lasting_restored_reason(buf, sizeof buf, 41, "");
	assert_string_equal(buf, "restored (seq 41)");
}

static void test_fold_decisions_and_their_cancelling(void **state)
{
	(void)state;
	fb_lasting l;
	fb_lasting_init(&l);
	assert_true(fold(&l, op(3, FB_ACT_TRIP, "api", "vendor outage")));
	assert_true(fold(&l, op(4, FB_ACT_DISABLE, "db", "flaky")));
	assert_true(fold(&l, op(5, FB_ACT_GATE_BLOCK, NULL, "migration")));
	const fb_lasting_dep *d = fb_lasting_find(&l, "api");
	assert_non_null(d);
	assert_int_equal(d->forced, FB_STATE_FORCED_OPEN);
	assert_int_equal(d->forced_seq, 3);
	assert_string_equal(d->actor, "alice (uid 1000)");
	assert_string_equal(d->reason, "vendor outage");
	assert_int_equal(fb_lasting_find(&l, "db")->forced,
	                 FB_STATE_FORCED_CLOSED);
	assert_int_equal(l.gate.mode, FB_GATE_BLOCK);
	assert_int_equal(l.gate.seq, 5);
	/* nothing about them changes with probes, health or gate events */
	fb_lasting_event h = {.seq = 6, .kind = FB_EV_HEALTH, .dep = "api"};
	assert_false(fold(&l, h));
	/* reset and gate auto cancel what came before */
	assert_true(fold(&l, op(7, FB_ACT_RESET, "api", NULL)));
	assert_null(fb_lasting_find(&l, "api"));
	assert_true(fold(&l, op(8, FB_ACT_GATE_AUTO, NULL, NULL)));
	assert_int_equal(l.gate.mode, FB_GATE_AUTO);
	assert_false(fold(&l, op(9, FB_ACT_GATE_AUTO, NULL, NULL)));
	assert_false(fold(&l, op(10, FB_ACT_RESET, "nope", NULL)));
	assert_int_equal(l.count, 1);
	assert_int_equal(l.seq, 10);
	fb_lasting_free(&l);
}

/* An allow lasts ttl from its own event; restoring it keeps that. */
static void test_fold_allow_keeps_its_expiry(void **state)
{
	(void)state;
	fb_lasting l;
	fb_lasting_init(&l);
	assert_true(fold(&l, op(10, FB_ACT_GATE_ALLOW, NULL, "hotfix")));
	assert_int_equal(l.gate.until_ms, 10000 + 600000);
	assert_false(fold(
	    &l, op(20, FB_ACT_GATE_ALLOW, NULL, "restored (seq 10): hotfix")));
	assert_int_equal(l.gate.until_ms, 10000 + 600000);
	assert_int_equal(l.gate.seq, 10);
	assert_string_equal(l.gate.reason, "hotfix");
	/* a new allow starts a new ttl */
	assert_true(fold(&l, op(30, FB_ACT_GATE_ALLOW, NULL, "again")));
	assert_int_equal(l.gate.until_ms, 30000 + 600000);
	/* a restored one the fold never saw (rotated away) counts as new */
	fb_lasting_free(&l);
	fb_lasting_init(&l);
	assert_true(fold(
	    &l, op(20, FB_ACT_GATE_ALLOW, NULL, "restored (seq 10): hotfix")));
	assert_int_equal(l.gate.seq, 10);
	assert_string_equal(l.gate.reason, "hotfix");
	fb_lasting_free(&l);
}

/* The backoff step: failed trials since the last close. */
static void test_fold_open_waits_and_steps(void **state)
{
	(void)state;
	fb_lasting l;
	fb_lasting_init(&l);
	assert_true(
	    fold(&l, tr_ev(2, "api", "closed", "open", 1000, "2 fails")));
	assert_false(fold(&l, tr_ev(3, "api", "open", "half_open", -1, "x")));
	assert_true(fold(&l, tr_ev(4, "api", "half_open", "open", 2000,
	                           "half-open trial failed")));
	assert_true(fold(&l, tr_ev(6, "api", "half_open", "open", 4000,
	                           "half-open trial failed")));
	const fb_lasting_dep *d = fb_lasting_find(&l, "api");
	assert_true(d->open);
	assert_int_equal(d->step, 2);
	assert_int_equal(d->open_seq, 6);
	assert_int_equal(d->open_until_ms, 6000 + 4000);
	/* restored: same wait, same step, same origin */
	assert_false(
	    fold(&l, tr_ev(9, "api", "closed", "open", 1000,
	                   "restored (seq 6): half-open trial failed")));
	d = fb_lasting_find(&l, "api");
	assert_int_equal(d->step, 2);
	assert_int_equal(d->open_until_ms, 10000);
	assert_string_equal(d->open_reason, "half-open trial failed");
	/* the next failed trial after a restore goes on from the step */
	assert_true(fold(&l, tr_ev(12, "api", "half_open", "open", 8000,
	                           "half-open trial failed")));
	assert_int_equal(fb_lasting_find(&l, "api")->step, 3);
	/* a close forgets it all */
	assert_true(
	    fold(&l, tr_ev(14, "api", "half_open", "closed", -1, "ok")));
	assert_null(fb_lasting_find(&l, "api"));
	assert_false(
	    fold(&l, tr_ev(15, "api", "half_open", "closed", -1, "ok")));
	fb_lasting_free(&l);
}

static void test_fold_restoring_twice_is_restoring_once(void **state)
{
	(void)state;
	fb_lasting l;
	fb_lasting_init(&l);
	fold(&l, op(41, FB_ACT_TRIP, "api", "vendor outage"));
	assert_false(fold(&l, op(60, FB_ACT_TRIP, "api",
	                         "restored (seq 41): vendor outage")));
	assert_false(fold(&l, op(90, FB_ACT_TRIP, "api",
	                         "restored (seq 41): vendor outage")));
	const fb_lasting_dep *d = fb_lasting_find(&l, "api");
	assert_int_equal(d->forced_seq, 41);
	assert_string_equal(d->reason, "vendor outage");
	/* a second real trip is a new decision */
	assert_true(fold(&l, op(95, FB_ACT_TRIP, "api", "still down")));
	assert_int_equal(fb_lasting_find(&l, "api")->forced_seq, 95);
	fb_lasting_free(&l);
}

static void test_lasting_json_round_trip(void **state)
{
	(void)state;
	fb_lasting l, back;
	char why[128];
	fb_lasting_init(&l);
	fb_lasting_init(&back);
	fold(&l, op(3, FB_ACT_TRIP, "api", "vendor \"outage\""));
	fold(&l, tr_ev(4, "db", "half_open", "open", 2000, "trial failed"));
	fold(&l, op(5, FB_ACT_GATE_ALLOW, NULL, "hotfix"));
	cJSON *o = cJSON_CreateObject();
	assert_int_equal(fb_lasting_to_json(&l, o), 0);
	char *text = cJSON_PrintUnformatted(o);
	cJSON *again = cJSON_Parse(text);
	assert_int_equal(fb_lasting_from_json(&back, again, why, sizeof why),
	                 0);
	assert_int_equal(back.seq, 5);
	assert_int_equal(back.count, 2);
	assert_int_equal(back.gate.mode, FB_GATE_ALLOW);
	assert_int_equal(back.gate.until_ms, 5000 + 600000);
	assert_string_equal(back.gate.actor, "alice (uid 1000)");
	const fb_lasting_dep *a = fb_lasting_find(&back, "api");
	assert_int_equal(a->forced, FB_STATE_FORCED_OPEN);
	assert_string_equal(a->reason, "vendor \"outage\"");
	const fb_lasting_dep *d = fb_lasting_find(&back, "db");
	assert_true(d->open);
	assert_int_equal(d->step, 1);
	assert_int_equal(d->open_until_ms, 6000);
	/* damaged: a wrong type or a missing member is refused */
	cJSON_ReplaceItemInObject(again, "seq", cJSON_CreateString("5"));
	fb_lasting_free(&back);
	assert_int_equal(fb_lasting_from_json(&back, again, why, sizeof why),
	                 -1);
	assert_non_null(strstr(why, "seq"));
	cJSON_ReplaceItemInObject(again, "seq", cJSON_CreateNumber(5));
	cJSON_DeleteItemFromObject(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(again, "deps"), 0), "step");
	fb_lasting_free(&back);
	assert_int_equal(fb_lasting_from_json(&back, again, why, sizeof why),
	                 -1);
	assert_non_null(strstr(why, "step"));
	fb_lasting_free(&back);
	cJSON_Delete(again);
	cJSON_free(text);
	cJSON_Delete(o);
	fb_lasting_free(&l);
}

/* ---- end to end: set-up -------------------------------------------------- */

typedef th_env env;

static int setup(void **state)
{
	*state = th_env_new(g_fixture);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	th_env_free(*state);
	return 0;
}

static const char *nz(const char *s)
{
	return s ? s : "(none)";
}

static void show(const env *e, const char *err)
{
	th_show_tail("event log", e->log);
	th_show_tail("fusebox stderr", err ? err : e->err);
}

/* A critical "api" and a non-critical "cache" on the fixture, fast
 * probes, no jitter; `extra` adds [fusebox] lines, recovery the open
 * wait. */
static void write_config(const env *e, const char *extra, const char *recovery)
{
	FILE *f = fopen(e->cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "[fusebox]\nlog = events.jsonl\ncontrol_socket = ctl.sock\n"
	        "host = restore\n%s\n\n[defaults]\ninterval = 100ms\n"
	        "timeout = 300ms\nfailure_threshold = 2\n"
	        "recovery_timeout = %s\njitter = 0\n\n"
	        "[dep api]\nurl = http://127.0.0.1:%d/api\ncritical = true\n\n"
	        "[dep cache]\nurl = http://127.0.0.1:%d/cache\n"
	        "critical = false\n",
	        extra ? extra : "gate_override_ttl = 10m", recovery, e->fx.port,
	        e->fx.port);
	assert_int_equal(fclose(f), 0);
}

/* The live status document over the socket; NULL on failure. */
static cJSON *ctl_status(const env *e)
{
	static const char req[] = "{\"op\":\"status\"}\n";
	char *line = NULL;
	if (th_unix_exchange(e->sock, req, sizeof req - 1, 3000, &line) !=
	    TH_LINE)
		return NULL;
	cJSON *doc = cJSON_Parse(line);
	free(line);
	return doc;
}

static bool serves(void *ctx)
{
	cJSON *doc = ctl_status(ctx);
	cJSON_Delete(doc);
	return doc != NULL;
}

/* Starts `fusebox run` with its stderr in `err` and waits until it
 * answers on its socket (by then whatever was restored is). */
static void start(env *e, const char *err)
{
	char *argv[] = {g_fusebox, "run", "--config", e->cfg, NULL};
	e->fb = th_spawn(argv, e->out, err);
	assert_true(e->fb > 0);
	if (!th_wait_until(serves, e, WAIT_MS)) {
		show(e, err);
		fail_msg("fusebox run does not answer on its control socket");
	}
}

/* kill -9: nothing is written on the way out. */
static void crash(env *e)
{
	assert_true(th_kill(e->fb, SIGKILL, WAIT_MS) >= 0);
	e->fb = 0;
}

static int cli(const env *e, th_result *r, const char *const *args)
{
	char *argv[16];
	size_t n = 0;
	argv[n++] = g_fusebox;
	while (*args && n < 12)
		argv[n++] = (char *)*args++;
	argv[n++] = "--config";
	argv[n++] = (char *)e->cfg;
	argv[n] = NULL;
	th_run(argv, CLI_MS, r);
	return r->code;
}

static void expect_exit(const env *e, int want, const char *const *args)
{
	th_result r;
	int got = cli(e, &r, args);
	if (got != want) {
		print_message("stdout: %s\nstderr: %s\n", r.out, r.err);
		th_result_free(&r);
		fail_msg("`fusebox %s %s` exited %d, not %d", args[0],
		         args[1] ? args[1] : "", got, want);
	}
	th_result_free(&r);
}

#define EXPECT(e, want, ...)                                                   \
	expect_exit((e), (want), (const char *const[]){__VA_ARGS__, NULL})

static const cJSON *status_dep(const cJSON *doc, const char *name)
{
	const cJSON *d;
	cJSON_ArrayForEach(
	    d, cJSON_GetObjectItemCaseSensitive(doc, "dependencies"))
	{
		const char *s = th_json_str(d, "service");
		if (s && strcmp(s, name) == 0)
			return d;
	}
	return NULL;
}

static void assert_state(const env *e, const char *dep, const char *want)
{
	cJSON *doc = ctl_status(e);
	assert_non_null(doc);
	const char *got = th_json_str(status_dep(doc, dep), "state");
	if (!got || strcmp(got, want) != 0) {
		show(e, NULL);
		fail_msg("%s is %s, not %s", dep, nz(got), want);
	}
	cJSON_Delete(doc);
}

static char *gate_mode(const env *e)
{
	cJSON *doc = ctl_status(e);
	assert_non_null(doc);
	const char *m =
	    th_json_str(cJSON_GetObjectItemCaseSensitive(doc, "gate"), "mode");
	char *copy = strdup(nz(m));
	cJSON_Delete(doc);
	return copy;
}

static void assert_gate_mode(const env *e, const char *want)
{
	char *got = gate_mode(e);
	if (strcmp(got, want) != 0) {
		show(e, NULL);
		free(got);
		fail_msg("the gate's mode is not %s", want);
	}
	free(got);
}

static cJSON *read_log(const env *e)
{
	cJSON *ev = th_jsonl_read(e->log, NULL, NULL);
	assert_non_null(ev);
	return ev;
}

/* Index of the nth start event (0-based), or -1. */
static int start_index(const cJSON *events, int nth)
{
	return th_events_index(events, nth, "start", NULL, NULL, NULL);
}

/* The first event at or after index `from` of this kind (and action or
 * dep when given), or NULL. */
static const cJSON *find_after(const cJSON *events, int from, const char *kind,
                               const char *action, const char *dep)
{
	int i = 0;
	const cJSON *ev;
	cJSON_ArrayForEach(ev, events)
	{
		const char *a = th_json_str(ev, "action");
		if (i++ >= from &&
		    th_event_matches(ev, kind, dep, NULL, NULL) &&
		    (!action || (a && strcmp(a, action) == 0)))
			return ev;
	}
	return NULL;
}

/* How many events after index `from` have "restored" in their reason. */
static int restored_after(const cJSON *events, int from)
{
	int i = 0, n = 0;
	const cJSON *ev;
	cJSON_ArrayForEach(ev, events)
	{
		const char *r = th_json_str(ev, "reason");
		n += i++ > from && r && strstr(r, "restored (seq ");
	}
	return n;
}

static double seq_of(const cJSON *ev)
{
	return th_json_num(ev, "seq", -1);
}

static void assert_text(const char *what, const char *got, const char *want)
{
	if (!got || strcmp(got, want) != 0)
		fail_msg("%s: \"%s\", not \"%s\"", what, nz(got), want);
}

static void assert_contains(const char *what, const char *text,
                            const char *needle)
{
	if (!text || !strstr(text, needle))
		fail_msg("%s does not say \"%s\": %s", what, needle, nz(text));
}

static void assert_file_says(const char *path, const char *needle)
{
	char *text = th_slurp(path, NULL);
	if (!text || !strstr(text, needle)) {
		th_show_tail("file", path);
		free(text);
		fail_msg("%s does not say \"%s\"", path, needle);
	}
	free(text);
}

static void assert_file_lacks(const char *path, const char *needle)
{
	char *text = th_slurp(path, NULL);
	if (text && strstr(text, needle)) {
		th_show_tail("file", path);
		free(text);
		fail_msg("%s says \"%s\"", path, needle);
	}
	free(text);
}

static int64_t wall_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void err_path(const env *e, char *buf, size_t len, int run)
{
	snprintf(buf, len, "%s/run%d.err", e->dir, run);
}

static void ckpt_path(const env *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s.state", e->log);
}

/* The restored operator event for `action` after the nth start says
 * "restored (seq N): reason" with the original actor. */
static void assert_restored_op(const cJSON *events, int nth_start,
                               const char *action, const char *dep, double seq,
                               const char *actor, const char *reason)
{
	char want[300];
	const cJSON *ev = find_after(events, start_index(events, nth_start),
	                             "operator", action, dep);
	if (!ev)
		fail_msg("no %s was restored after start %d", action,
		         nth_start + 1);
	if (reason && reason[0])
		snprintf(want, sizeof want, "restored (seq %.0f): %s", seq,
		         reason);
	else
		snprintf(want, sizeof want, "restored (seq %.0f)", seq);
	assert_text("the restored reason", th_json_str(ev, "reason"), want);
	assert_text("the restored actor", th_json_str(ev, "actor"), actor);
}

/* ---- end to end: the tests ---------------------------------------------- */

/* The case: trip and gate block, kill -9, start again: still
 * forced open by the same person for the same reason, the gate still
 * locked; and again after a second crash, without "restored" nesting. */
static void test_trip_and_block_survive_kill(void **state)
{
	env *e = *state;
	char err1[450], err2[450], err3[450];
	err_path(e, err1, sizeof err1, 1);
	err_path(e, err2, sizeof err2, 2);
	err_path(e, err3, sizeof err3, 3);
	write_config(e, NULL, "30s");
	start(e, err1);
	EXPECT(e, 0, "trip", "api", "--reason", "vendor outage");
	EXPECT(e, 0, "gate", "block", "--reason", "migration");
	cJSON *events = read_log(e);
	const cJSON *trip = find_after(events, 0, "operator", "trip", "api");
	const cJSON *block =
	    find_after(events, 0, "operator", "gate_block", NULL);
	assert_non_null(trip);
	assert_non_null(block);
	double trip_seq = seq_of(trip), block_seq = seq_of(block);
	char actor[128];
	snprintf(actor, sizeof actor, "%s", nz(th_json_str(trip, "actor")));
	cJSON_Delete(events);
	crash(e);

	start(e, err2);
	assert_state(e, "api", "forced_open");
	th_result r;
	int code = cli(e, &r, (const char *const[]){"gate", "check", NULL});
	if (code != 75 || !strstr(r.out, "migration"))
		fail_msg("gate check: exit %d: %s%s", code, r.out, r.err);
	assert_contains("gate check", r.out, actor);
	th_result_free(&r);
	events = read_log(e);
	assert_restored_op(events, 1, "trip", "api", trip_seq, actor,
	                   "vendor outage");
	assert_restored_op(events, 1, "gate_block", NULL, block_seq, actor,
	                   "migration");
	const cJSON *t = find_after(events, start_index(events, 1),
	                            "transition", NULL, "api");
	assert_non_null(t);
	assert_text("the restored transition", th_json_str(t, "to"),
	            "forced_open");
	char want[200];
	snprintf(want, sizeof want, "restored (seq %.0f): vendor outage",
	         trip_seq);
	assert_contains("the restored transition", th_json_str(t, "reason"),
	                want);
	assert_contains("the restored transition", th_json_str(t, "reason"),
	                actor);
	cJSON_Delete(events);
	/* from the checkpoint: nothing says the log had to be read */
	assert_file_lacks(err2, "whole event log");
	char ck[450];
	struct stat st;
	ckpt_path(e, ck, sizeof ck);
	assert_int_equal(stat(ck, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	crash(e);

	start(e, err3);
	assert_state(e, "api", "forced_open");
	assert_gate_mode(e, "block");
	events = read_log(e);
	assert_restored_op(events, 2, "trip", "api", trip_seq, actor,
	                   "vendor outage");
	assert_restored_op(events, 2, "gate_block", NULL, block_seq, actor,
	                   "migration");
	cJSON_Delete(events);
}

/* An allow override survives with its original expiry, not a fresh
 * ttl from the restart. */
static void test_allow_keeps_its_original_expiry(void **state)
{
	env *e = *state;
	char err1[450], err2[450];
	err_path(e, err1, sizeof err1, 1);
	err_path(e, err2, sizeof err2, 2);
	write_config(e, "gate_override_ttl = 10m", "30s");
	start(e, err1);
	EXPECT(e, 0, "gate", "allow", "--reason", "hotfix");
	th_sleep_ms(2500);
	crash(e);
	start(e, err2);
	cJSON *doc = ctl_status(e);
	assert_non_null(doc);
	const cJSON *gate = cJSON_GetObjectItemCaseSensitive(doc, "gate");
	assert_text("gate mode", th_json_str(gate, "mode"), "allow");
	double left = th_json_num(gate, "override_expires_in_s", -1);
	cJSON *events = read_log(e);
	const cJSON *allow =
	    find_after(events, 0, "operator", "gate_allow", NULL);
	double elapsed =
	    (double)(wall_now_ms() - th_rfc3339_ms(th_json_str(allow, "ts"))) /
	    1000.0;
	/* the original 600 s less what has passed, give or take a second */
	if (left > 600 - elapsed + 1.5 || left < 600 - elapsed - 1.5)
		fail_msg("the override ends in %.0fs, %.1fs after it was set: "
		         "not the original 10m",
		         left, elapsed);
	assert_true(left <= 598);
	cJSON_Delete(doc);
	assert_restored_op(events, 1, "gate_allow", NULL, seq_of(allow),
	                   th_json_str(allow, "actor"), "hotfix");
	cJSON_Delete(events);
}

/* An allow that expired while no instance ran falls back to auto; the
 * trip next to it (which shows that restoring ran) comes back. */
static void test_expired_allow_falls_back_to_auto(void **state)
{
	env *e = *state;
	char err1[450], err2[450];
	err_path(e, err1, sizeof err1, 1);
	err_path(e, err2, sizeof err2, 2);
	write_config(e, "gate_override_ttl = 2s", "30s");
	start(e, err1);
	EXPECT(e, 0, "trip", "cache", "--reason", "drill");
	EXPECT(e, 0, "gate", "allow", "--reason", "short");
	int64_t allowed = th_now_ms();
	crash(e);
	cJSON *events = read_log(e);
	/* killed before the instance could end the override itself */
	assert_null(find_after(events, 0, "operator", "gate_auto", NULL));
	cJSON_Delete(events);
	int64_t wait = allowed + 2500 - th_now_ms();
	if (wait > 0)
		th_sleep_ms((int)wait);
	start(e, err2);
	assert_gate_mode(e, "auto");
	assert_state(e, "cache", "forced_open");
	events = read_log(e);
	int from = start_index(events, 1);
	assert_null(find_after(events, from, "operator", "gate_allow", NULL));
	assert_non_null(find_after(events, from, "operator", "trip", "cache"));
	cJSON_Delete(events);
	assert_file_says(err2, "allow override");
	assert_file_says(err2, "the gate is auto");
}

/* Opened with a 30s wait, restarted a second later: open with what is
 * left of the wait, not closed and not a fresh 30s. */
static void test_open_breaker_keeps_its_remaining_wait(void **state)
{
	env *e = *state;
	char err1[450], err2[450];
	err_path(e, err1, sizeof err1, 1);
	err_path(e, err2, sizeof err2, 2);
	write_config(e, NULL, "30s");
	assert_int_equal(th_fixture_set(&e->fx, "/api", "fail"), 0);
	start(e, err1);
	if (!th_wait_events(e->log, 1, "transition", "api", "closed", "open",
	                    WAIT_MS)) {
		show(e, err1);
		fail_msg("api never opened");
	}
	cJSON *events = read_log(e);
	const cJSON *opened =
	    th_events_nth(events, 0, "transition", "api", "closed", "open");
	double open_seq = seq_of(opened);
	int64_t open_wall = th_rfc3339_ms(th_json_str(opened, "ts"));
	assert_int_equal(th_json_num(opened, "retry_after_ms", -1), 30000);
	cJSON_Delete(events);
	th_sleep_ms(1000);
	crash(e);
	start(e, err2);
	cJSON *doc = ctl_status(e);
	const cJSON *api = status_dep(doc, "api");
	assert_text("api", th_json_str(api, "state"), "open");
	double left = th_json_num(api, "retry_after_s", -1);
	double want = (double)(open_wall + 30000 - wall_now_ms()) / 1000.0;
	if (left > 29.2 || left < want - 1.0 || left > want + 1.0)
		fail_msg("api opens again in %.1fs; expected about %.1fs", left,
		         want);
	cJSON_Delete(doc);
	events = read_log(e);
	const cJSON *t = find_after(events, start_index(events, 1),
	                            "transition", NULL, "api");
	assert_non_null(t);
	assert_text("restored", th_json_str(t, "to"), "open");
	char reason[100];
	snprintf(reason, sizeof reason,
	         "restored (seq %.0f): 2 consecutive "
	         "failures",
	         open_seq);
	assert_text("restored reason", th_json_str(t, "reason"), reason);
	double retry = th_json_num(t, "retry_after_ms", -1);
	assert_true(retry > 27000 && retry <= 29200);
	cJSON_Delete(events);
}

/* After two failed trials (waits 400, 800, 1600 ms), a restart keeps
 * the step: the next failed trial waits 3200 ms, not 400 again. */
static void test_open_breaker_keeps_its_backoff_step(void **state)
{
	env *e = *state;
	char err1[450], err2[450];
	err_path(e, err1, sizeof err1, 1);
	err_path(e, err2, sizeof err2, 2);
	write_config(e, NULL, "400ms");
	assert_int_equal(th_fixture_set(&e->fx, "/api", "fail"), 0);
	start(e, err1);
	if (!th_wait_events(e->log, 2, "transition", "api", "half_open", "open",
	                    WAIT_MS)) {
		show(e, err1);
		fail_msg("api did not fail two trials");
	}
	crash(e);
	cJSON *events = read_log(e);
	const cJSON *last =
	    th_events_nth(events, 1, "transition", "api", "half_open", "open");
	assert_int_equal(th_json_num(last, "retry_after_ms", -1), 1600);
	/* killed while that wait ran: no trial after it yet */
	assert_null(
	    th_events_nth(events, 2, "transition", "api", "half_open", "open"));
	cJSON_Delete(events);
	start(e, err2);
	if (!th_wait_events(e->log, 3, "transition", "api", "half_open", "open",
	                    WAIT_MS)) {
		show(e, err2);
		fail_msg("api's trial after the restart never failed");
	}
	events = read_log(e);
	int from = start_index(events, 1);
	const cJSON *restored =
	    find_after(events, from, "transition", NULL, "api");
	assert_text("restored", th_json_str(restored, "to"), "open");
	assert_true(th_json_num(restored, "retry_after_ms", -1) <= 1600);
	const cJSON *next =
	    th_events_nth(events, 2, "transition", "api", "half_open", "open");
	assert_int_equal(th_json_num(next, "retry_after_ms", -1), 3200);
	/* and no fresh count of failures opened it from closed meanwhile */
	assert_int_equal(
	    th_events_count(events, "transition", "api", "closed", "open"),
	    2); /* the first opening and the restored one */
	cJSON_Delete(events);
}

/* reset and gate auto cancel what came before them: only the trip that
 * stands comes back. */
static void test_reset_and_auto_cancel(void **state)
{
	env *e = *state;
	char err1[450], err2[450];
	err_path(e, err1, sizeof err1, 1);
	err_path(e, err2, sizeof err2, 2);
	write_config(e, NULL, "30s");
	start(e, err1);
	EXPECT(e, 0, "trip", "api", "--reason", "one");
	EXPECT(e, 0, "trip", "cache", "--reason", "two");
	EXPECT(e, 0, "reset", "api");
	EXPECT(e, 0, "gate", "block", "--reason", "three");
	EXPECT(e, 0, "gate", "auto");
	crash(e);
	start(e, err2);
	assert_state(e, "api", "closed");
	assert_state(e, "cache", "forced_open");
	assert_gate_mode(e, "auto");
	cJSON *events = read_log(e);
	int from = start_index(events, 1);
	assert_non_null(find_after(events, from, "operator", "trip", "cache"));
	assert_null(find_after(events, from, "operator", NULL, "api"));
	assert_null(find_after(events, from, "transition", NULL, "api"));
	assert_null(find_after(events, from, "operator", "gate_block", NULL));
	cJSON_Delete(events);
}

static void test_disabled_dependency_is_restored(void **state)
{
	env *e = *state;
	char err1[450], err2[450];
	err_path(e, err1, sizeof err1, 1);
	err_path(e, err2, sizeof err2, 2);
	write_config(e, NULL, "30s");
	start(e, err1);
	EXPECT(e, 0, "disable", "api", "--reason", "probe is wrong");
	cJSON *events = read_log(e);
	const cJSON *dis = find_after(events, 0, "operator", "disable", "api");
	double seq = seq_of(dis);
	char actor[128];
	snprintf(actor, sizeof actor, "%s", nz(th_json_str(dis, "actor")));
	cJSON_Delete(events);
	crash(e);
	start(e, err2);
	assert_state(e, "api", "forced_closed");
	events = read_log(e);
	assert_restored_op(events, 1, "disable", "api", seq, actor,
	                   "probe is wrong");
	cJSON_Delete(events);
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void overwrite(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A torn checkpoint, and a log with a foreign line and a torn one: what
 * was decided still comes back, from the log, with warnings. */
static void test_corrupt_checkpoint_and_bad_lines(void **state)
{
	env *e = *state;
	char err1[450], err2[450], ck[450];
	err_path(e, err1, sizeof err1, 1);
	err_path(e, err2, sizeof err2, 2);
	ckpt_path(e, ck, sizeof ck);
	write_config(e, NULL, "30s");
	start(e, err1);
	EXPECT(e, 0, "trip", "api", "--reason", "vendor outage");
	EXPECT(e, 0, "gate", "block", "--reason", "migration");
	crash(e);
	assert_true(th_wait_file(ck, 10));
	overwrite(ck, "{\"v\":1,\"log\":\"");
	append(e->log, "GET /health 200 -- not an event\n");
	append(e->log, "{\"v\":1,\"seq\":99999,\"ts\":\"2026-");
	start(e, err2);
	assert_state(e, "api", "forced_open");
	assert_gate_mode(e, "block");
	assert_file_says(err2, "not used");
	assert_file_says(err2, "whole event log");
	assert_file_says(err2, "skipped");
	cJSON *events = read_log(e);
	assert_int_equal(restored_after(events, start_index(events, 1)) >= 3,
	                 1);
	cJSON_Delete(events);
}

/* No checkpoint at all: restored from the log, and said so. Then one
 * that names another file (another log's inode): not believed. */
static void test_missing_or_foreign_checkpoint(void **state)
{
	env *e = *state;
	char err1[450], err2[450], err3[450], ck[450];
	err_path(e, err1, sizeof err1, 1);
	err_path(e, err2, sizeof err2, 2);
	err_path(e, err3, sizeof err3, 3);
	ckpt_path(e, ck, sizeof ck);
	write_config(e, NULL, "30s");
	start(e, err1);
	EXPECT(e, 0, "trip", "api", "--reason", "vendor outage");
	crash(e);
	assert_int_equal(unlink(ck), 0);
	start(e, err2);
	assert_state(e, "api", "forced_open");
	assert_file_says(err2, "no checkpoint");
	crash(e);
	/* a checkpoint written anew at that start, made to name another file
	 * and to say nothing was tripped */
	char *text = th_slurp(ck, NULL);
	assert_non_null(text);
	cJSON *o = cJSON_Parse(text);
	free(text);
	assert_non_null(o);
	cJSON_ReplaceItemInObject(o, "ino", cJSON_CreateNumber(1));
	cJSON_ReplaceItemInObject(o, "deps", cJSON_CreateArray());
	text = cJSON_PrintUnformatted(o);
	overwrite(ck, text);
	cJSON_free(text);
	cJSON_Delete(o);
	start(e, err3);
	assert_state(e, "api", "forced_open");
	assert_file_says(err3, "not used");
}

/* A checkpoint behind the log, as a crash between the log's write and the
 * checkpoint's leaves it: the events after it count too. */
static void test_events_after_the_checkpoint_count(void **state)
{
	env *e = *state;
	char err1[450], err2[450], ck[450];
	err_path(e, err1, sizeof err1, 1);
	err_path(e, err2, sizeof err2, 2);
	ckpt_path(e, ck, sizeof ck);
	write_config(e, NULL, "30s");
	start(e, err1);
	EXPECT(e, 0, "trip", "api", "--reason", "one");
	/* at most one checkpoint a second: the trip's comes within one */
	assert_true(th_wait_file_contains(ck, "forced_open", WAIT_MS));
	char *old = th_slurp(ck, NULL);
	assert_non_null(old);
	assert_non_null(strstr(old, "forced_open"));
	EXPECT(e, 0, "reset", "api");
	EXPECT(e, 0, "trip", "cache", "--reason", "two");
	crash(e);
	overwrite(ck, old);
	free(old);
	start(e, err2);
	assert_state(e, "api", "closed");
	assert_state(e, "cache", "forced_open");
	assert_file_lacks(err2, "whole event log");
}

typedef struct count_wait {
	const char *dir;
	int want;
} count_wait;

static bool rotated(void *ctx)
{
	count_wait *w = ctx;
	char path[600];
	snprintf(path, sizeof path, "%s/events.jsonl.%d", w->dir, w->want);
	return access(path, F_OK) == 0;
}

/* The trip in a rotated file: found with the checkpoint, and without. */
static void test_restored_across_rotated_files(void **state)
{
	env *e = *state;
	char err1[450], err2[450], err3[450], ck[450];
	err_path(e, err1, sizeof err1, 1);
	err_path(e, err2, sizeof err2, 2);
	err_path(e, err3, sizeof err3, 3);
	ckpt_path(e, ck, sizeof ck);
	write_config(
	    e, "gate_override_ttl = 10m\nlog_max_size = 2K\nlog_keep = 50",
	    "30s");
	start(e, err1);
	EXPECT(e, 0, "trip", "api", "--reason", "vendor outage");
	for (int i = 0; i < 12; i++) {
		EXPECT(e, 0, "gate", "allow", "--reason", "churn");
		EXPECT(e, 0, "gate", "auto");
	}
	count_wait w = {e->dir, 3};
	assert_true(th_wait_until(rotated, &w, WAIT_MS));
	crash(e);
	start(e, err2);
	assert_state(e, "api", "forced_open");
	assert_file_lacks(err2, "whole event log");
	crash(e);
	assert_int_equal(unlink(ck), 0);
	start(e, err3);
	assert_state(e, "api", "forced_open");
	assert_file_says(err3, "no checkpoint");
	assert_gate_mode(e, "auto");
}

/* Every event written must pass through the fold. One written past it
 * (as a writer that skipped the runtime's event path would) leaves no
 * checkpoint that can be believed: it is removed, said so, and the next
 * start reads the log, where that event counts. */
static void test_event_written_past_the_fold_drops_the_checkpoint(void **state)
{
	env *e = *state;
	char err2[450], ck[450];
	err_path(e, err2, sizeof err2, 2);
	ckpt_path(e, ck, sizeof ck);
	write_config(e, NULL, "30s");
	fb_runtime *rt = malloc(sizeof *rt);
	fb_error err;
	int code;
	assert_non_null(rt);
	assert_int_equal(fb_runtime_start(rt, e->cfg, 0, &err, &code), 0);
	assert_int_equal(
	    fb_runtime_operate(rt, FB_ACT_TRIP, "api", "tester", "drill", &err),
	    0);
	assert_int_equal(access(ck, F_OK), 0);
	fb_event ev = {.kind = FB_EV_OPERATOR,
	               .action = FB_ACT_RESET,
	               .dep = "api",
	               .actor = "tester",
	               .reason = "behind its back",
	               .failures = -1,
	               .retry_after_ms = -1};
	assert_int_equal(fb_log_append(&rt->log, &ev, fb_wall_ms(), &err), 0);
	assert_int_equal(fb_runtime_operate(rt, FB_ACT_TRIP, "cache", "tester",
	                                    "drill", &err),
	                 0);
	assert_int_not_equal(access(ck, F_OK), 0);
	fb_runtime_stop(rt, "test");
	free(rt);
	assert_int_not_equal(access(ck, F_OK), 0);
	start(e, err2);
	assert_state(e, "api", "closed");
	assert_state(e, "cache", "forced_open");
	assert_file_says(err2, "no checkpoint");
}

int main(void)
{
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
	if (getenv("FB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_breaker_restore_open_keeps_wait_and_step),
	    cmocka_unit_test(test_breaker_restore_open_edges),
	    cmocka_unit_test(test_origin_of_a_restored_reason),
	    cmocka_unit_test(test_fold_decisions_and_their_cancelling),
	    cmocka_unit_test(test_fold_allow_keeps_its_expiry),
	    cmocka_unit_test(test_fold_open_waits_and_steps),
	    cmocka_unit_test(test_fold_restoring_twice_is_restoring_once),
	    cmocka_unit_test(test_lasting_json_round_trip),
	    cmocka_unit_test_setup_teardown(test_trip_and_block_survive_kill,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_allow_keeps_its_original_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_expired_allow_falls_back_to_auto, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_open_breaker_keeps_its_remaining_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_open_breaker_keeps_its_backoff_step, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_and_auto_cancel, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_disabled_dependency_is_restored, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_corrupt_checkpoint_and_bad_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_or_foreign_checkpoint,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_events_after_the_checkpoint_count, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restored_across_rotated_files,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_event_written_past_the_fold_drops_the_checkpoint, setup,
	        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
