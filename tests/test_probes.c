/* End to end: the probe scheduler, the headless engine and the event log
 * (SPEC sections 2, 3 and 6). Each test runs the real, sanitized
 * `fusebox run` in a temp dir of its own against the fault-injection HTTP
 * fixture (and a real redis-server), then reads the JSONL log it wrote.
 * Timings use jitter 0, so open waits are exact; every wait polls for a
 * condition with a deadline, and teardown kills whatever was started. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define WAIT_MS 8000 /* the longest any one condition may take */

static char g_fusebox[PATH_MAX]; /* build/tests/fusebox, absolute */
static char g_fixture[PATH_MAX]; /* build/tests/fixture-httpd */

/* Fast probes and exact open waits; a test appends what it changes. */
#define FAST                                                                  \
	"interval = 100ms\ntimeout = 300ms\nbackoff_cap = 1m\njitter = 0\n"

typedef th_env env;

/* ---- set-up and tear-down ------------------------------------------------ */

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

/* ---- diagnostics ----------------------------------------------------------- */

static const char *nz(const char *s)
{
	return s ? s : "*";
}


static cJSON *ctl_status(const env *e);

static void show(const env *e)
{
	th_show_tail("event log", e->log);
	th_show_tail("fusebox stderr", e->err);
	if (e->fb > 0 && th_alive(e->fb)) {
		cJSON *doc = ctl_status(e);
		if (!doc)
			print_message("fusebox (pid %d) is running but does not answer "
			              "on its control socket: its event loop is stuck\n",
			              (int)e->fb);
		cJSON_Delete(doc);
	}
}

#define WAIT_EVENTS(e, n, kind, dep, from, to, ms)                            \
	do {                                                                      \
		if (!th_wait_events((e)->log, (n), (kind), (dep), (from), (to),       \
		                    (ms))) {                                          \
			show(e);                                                          \
			fail_msg("no %d event(s) kind=%s dep=%s %s->%s within %d ms",     \
			         (n), nz(kind), nz(dep), nz(from), nz(to), (ms));         \
		}                                                                     \
	} while (0)

/* ---- configuration and the instance ---------------------------------------- */

/* Appends one http dependency at the fixture's /NAME to buf. */
static void add_dep(char *buf, size_t len, const env *e, const char *name,
                    bool critical, const char *extra)
{
	size_t used = strlen(buf);
	snprintf(buf + used, len - used,
	         "[dep %s]\nurl = http://127.0.0.1:%d/%s\ncritical = %s\n%s\n",
	         name, e->fx.port, name, critical ? "true" : "false", extra);
}

/* Writes the config atomically (a reload never sees half a file). */
static void write_config(const env *e, const char *fusebox_extra,
                         const char *defaults, const char *deps)
{
	char tmp[420];
	FILE *f;
	snprintf(tmp, sizeof tmp, "%s.tmp", e->cfg);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f,
	        "[fusebox]\nlog = events.jsonl\ncontrol_socket = ctl.sock\n"
	        "host = testhost\n%s\n[defaults]\n%s\n%s",
	        fusebox_extra, defaults, deps);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, e->cfg), 0);
}

static pid_t spawn_run(const env *e, const char *duration, const char *out,
                       const char *err)
{
	char *argv[] = {g_fusebox, "run", "--config", (char *)e->cfg,
	                duration ? "--duration" : NULL, (char *)duration, NULL};
	pid_t pid = th_spawn(argv, out, err);
	assert_true(pid > 0);
	return pid;
}

/* Starts `fusebox run` and waits for its start event and socket. */
static void start_fusebox(env *e)
{
	e->fb = spawn_run(e, NULL, e->out, e->err);
	if (!th_wait_unix_socket(e->sock, WAIT_MS)) {
		show(e);
		fail_msg("fusebox run did not open its control socket");
	}
	WAIT_EVENTS(e, 1, "start", NULL, NULL, NULL, WAIT_MS);
}

/* SIGTERM, and the exit status it ended with. */
static int stop_fusebox(env *e)
{
	int st = th_kill(e->fb, SIGTERM, 10000);
	e->fb = 0;
	return st;
}

static cJSON *read_log(const env *e)
{
	int bad = 0;
	cJSON *ev = th_jsonl_read(e->log, &bad, NULL);
	assert_non_null(ev);
	if (bad) {
		show(e);
		fail_msg("%d line(s) of the log are not JSON objects", bad);
	}
	return ev;
}

/* The live status document over the control socket; NULL on failure. */
static cJSON *ctl_status(const env *e)
{
	static const char req[] = "{\"op\":\"status\"}\n";
	char *line = NULL;
	if (th_unix_exchange(e->sock, req, sizeof req - 1, 5000, &line) != TH_LINE)
		return NULL;
	cJSON *doc = cJSON_Parse(line);
	free(line);
	return doc;
}

static const cJSON *status_dep(const cJSON *doc, const char *name)
{
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "dependencies"))
	{
		const char *s = th_json_str(d, "service");
		if (s && strcmp(s, name) == 0)
			return d;
	}
	return NULL;
}

static int64_t ev_ts(const cJSON *ev)
{
	assert_non_null(ev);
	int64_t ms = th_rfc3339_ms(th_json_str(ev, "ts"));
	assert_true(ms > 0);
	return ms;
}

static long ev_num(const cJSON *ev, const char *key)
{
	assert_non_null(ev);
	return (long)th_json_num(ev, key, -1);
}

/* Every event has v 1, the host, a kind, an RFC 3339 ts, and seq
 * strictly increasing. Returns the last seq (0 for an empty log). */
static long check_seq(const cJSON *events)
{
	long last = 0;
	const cJSON *ev;
	cJSON_ArrayForEach(ev, events)
	{
		long seq = ev_num(ev, "seq");
		assert_int_equal(ev_num(ev, "v"), 1);
		assert_non_null(th_json_str(ev, "kind"));
		assert_string_equal(th_json_str(ev, "host"), "testhost");
		assert_true(th_rfc3339_ms(th_json_str(ev, "ts")) > 0);
		if (seq <= last)
			fail_msg("seq %ld follows seq %ld", seq, last);
		last = seq;
	}
	return last;
}

/* ---- 1. the threshold ------------------------------------------------------ */

static void test_threshold_opens_at_exactly_n_failures(void **state)
{
	env *e = *state;
	char deps[512] = "";
	add_dep(deps, sizeof deps, e, "a", true, "");
	write_config(e, "", FAST "failure_threshold = 3\nrecovery_timeout = 1s\n",
	             deps);
	assert_int_equal(th_fixture_set(&e->fx, "/a", "fail"), 0);
	start_fusebox(e);

	WAIT_EVENTS(e, 1, "transition", "a", "closed", "open", WAIT_MS);
	assert_int_equal(th_fixture_count(&e->fx, "/a"), 3);
	cJSON *ev = read_log(e);
	const cJSON *open = th_events_nth(ev, 0, "transition", "a", NULL, NULL);
	assert_true(th_event_matches(open, "transition", "a", "closed", "open"));
	assert_int_equal(ev_num(open, "failures"), 3);
	assert_int_equal(ev_num(open, "retry_after_ms"), 1000);
	assert_string_equal(th_json_str(open, "health"), "unhealthy");
	int64_t opened = ev_ts(open);
	cJSON_Delete(ev);

	/* The whole open wait: the count is read before the log, and the
	 * half-open transition is logged before its trial is sent. */
	int64_t end = th_now_ms() + WAIT_MS;
	const cJSON *trial = NULL;
	for (;;) {
		long count = th_fixture_count(&e->fx, "/a");
		ev = read_log(e);
		trial = th_events_nth(ev, 0, "transition", "a", "open", "half_open");
		if (trial)
			break;
		cJSON_Delete(ev);
		if (count != 3)
			fail_msg("a request reached the dependency while the breaker "
			         "was open: count %ld", count);
		assert_true(th_now_ms() < end);
		th_sleep_ms(20);
	}
	int64_t waited = ev_ts(trial) - opened;
	cJSON_Delete(ev);
	print_message("open wait observed: %lld ms\n", (long long)waited);
	assert_true(waited >= 990);
	WAIT_EVENTS(e, 1, "transition", "a", "half_open", "open", WAIT_MS);
	assert_int_equal(th_fixture_count(&e->fx, "/a"), 4);
}

/* ---- 2. the open wait doubles, and a close resets it ------------------------ */

static void test_open_wait_doubles_and_resets_after_close(void **state)
{
	env *e = *state;
	char deps[512] = "";
	add_dep(deps, sizeof deps, e, "a", true, "");
	write_config(e, "",
	             FAST "failure_threshold = 2\nrecovery_timeout = 500ms\n", deps);
	assert_int_equal(th_fixture_set(&e->fx, "/a", "fail"), 0);
	start_fusebox(e);

	WAIT_EVENTS(e, 1, "transition", "a", "half_open", "open", WAIT_MS);
	assert_int_equal(th_fixture_set(&e->fx, "/a", "ok"), 0);
	cJSON *ev = read_log(e);
	const cJSON *first = th_events_nth(ev, 0, "transition", "a", "closed", "open");
	const cJSON *trial = th_events_nth(ev, 0, "transition", "a", "open", "half_open");
	const cJSON *second = th_events_nth(ev, 0, "transition", "a", "half_open", "open");
	assert_int_equal(ev_num(first, "retry_after_ms"), 500);
	assert_int_equal(ev_num(second, "retry_after_ms"), 1000);
	assert_true(ev_ts(trial) - ev_ts(first) >= 490);
	int64_t second_at = ev_ts(second);
	cJSON_Delete(ev);

	WAIT_EVENTS(e, 1, "transition", "a", "half_open", "closed", WAIT_MS);
	ev = read_log(e);
	trial = th_events_nth(ev, 1, "transition", "a", "open", "half_open");
	int64_t waited = ev_ts(trial) - second_at;
	cJSON_Delete(ev);
	print_message("second open wait observed: %lld ms\n", (long long)waited);
	assert_true(waited >= 990);

	/* Closed again: the next open waits recovery_timeout, not 2000 ms. */
	assert_int_equal(th_fixture_set(&e->fx, "/a", "fail"), 0);
	WAIT_EVENTS(e, 2, "transition", "a", "closed", "open", WAIT_MS);
	WAIT_EVENTS(e, 3, "transition", "a", "open", "half_open", WAIT_MS);
	ev = read_log(e);
	const cJSON *again = th_events_nth(ev, 1, "transition", "a", "closed", "open");
	assert_int_equal(ev_num(again, "retry_after_ms"), 500);
	trial = th_events_nth(ev, 2, "transition", "a", "open", "half_open");
	waited = ev_ts(trial) - ev_ts(again);
	cJSON_Delete(ev);
	assert_true(waited >= 490 && waited < 990);
}

/* ---- 3. half-open is single-flight ------------------------------------------ */

static void test_half_open_sends_exactly_one_trial(void **state)
{
	env *e = *state;
	char deps[512] = "";
	add_dep(deps, sizeof deps, e, "a", true, "");
	write_config(e, "",
	             FAST "failure_threshold = 2\nrecovery_timeout = 500ms\n", deps);
	assert_int_equal(th_fixture_set(&e->fx, "/a", "fail"), 0);
	start_fusebox(e);

	WAIT_EVENTS(e, 1, "transition", "a", "closed", "open", WAIT_MS);
	assert_int_equal(th_fixture_set(&e->fx, "/a", "hang"), 0);
	long base = th_fixture_count(&e->fx, "/a");
	assert_int_equal(base, 2);

	for (int trial = 1; trial <= 2; trial++) {
		long most = 0;
		bool seen_one = false;
		int64_t end = th_now_ms() + WAIT_MS;
		for (;;) {
			long inflight = th_fixture_inflight(&e->fx, "/a");
			cJSON *ev = read_log(e);
			int done = th_events_count(ev, "transition", "a", "half_open", "open");
			int started = th_events_count(ev, "transition", "a", "open", "half_open");
			cJSON_Delete(ev);
			assert_true(inflight >= 0);
			if (inflight > most)
				most = inflight;
			if (started == trial && done < trial && inflight == 1)
				seen_one = true;
			if (done >= trial)
				break;
			if (th_now_ms() > end) {
				show(e);
				fail_msg("trial %d did not end", trial);
			}
			th_sleep_ms(20);
		}
		print_message("trial %d: most in flight %ld\n", trial, most);
		assert_int_equal(most, 1);
		assert_true(seen_one);
		assert_int_equal(th_fixture_count(&e->fx, "/a"), base + trial);
	}
	cJSON *ev = read_log(e);
	const cJSON *failed = th_events_nth(ev, 0, "transition", "a", "half_open", "open");
	assert_non_null(strstr(nz(th_json_str(failed, "error")), "timeout"));
	cJSON_Delete(ev);
}

/* ---- 4. a hanging dependency does not delay the others ----------------------- */

typedef struct count_goal {
	const th_fixture *fx;
	const char *path;
	long at_least;
} count_goal;

static bool count_reached(void *ctx)
{
	count_goal *g = ctx;
	return th_fixture_count(g->fx, g->path) >= g->at_least;
}

static bool inflight_one(void *ctx)
{
	count_goal *g = ctx;
	return th_fixture_inflight(g->fx, g->path) == 1;
}

static void test_hanging_dependency_does_not_delay_others(void **state)
{
	env *e = *state;
	char deps[1024] = "";
	add_dep(deps, sizeof deps, e, "stuck", true, "timeout = 2s\n");
	add_dep(deps, sizeof deps, e, "quick", true, "");
	write_config(e, "", FAST "failure_threshold = 3\nrecovery_timeout = 1s\n",
	             deps);
	assert_int_equal(th_fixture_set(&e->fx, "/stuck", "hang"), 0);
	start_fusebox(e);

	count_goal hang = {&e->fx, "/stuck", 1};
	assert_true(th_wait_until(inflight_one, &hang, WAIT_MS));
	int64_t t0 = th_now_ms();
	long before = th_fixture_count(&e->fx, "/quick");
	count_goal quick = {&e->fx, "/quick", before + 15};
	bool reached = th_wait_until(count_reached, &quick, 2000);
	long after = th_fixture_count(&e->fx, "/quick");
	print_message("quick probes while stuck hangs: %ld in %lld ms\n",
	              after - before, (long long)(th_now_ms() - t0));
	assert_true(reached);
	assert_true(after - before >= 15);
}

/* ---- 5. Redis down, then up again --------------------------------------------- */

static bool redis_probed_ok(void *ctx)
{
	cJSON *doc = ctl_status(ctx);
	const cJSON *d = status_dep(doc, "cache");
	bool ok = d && th_json_str(d, "last_success") &&
	          strcmp(nz(th_json_str(d, "state")), "closed") == 0;
	cJSON_Delete(doc);
	return ok;
}

static void test_redis_down_then_up(void **state)
{
	env *e = *state;
	char deps[512];
	assert_int_equal(th_redis_start(&e->redis, e->dir, 0), 0);
	snprintf(deps, sizeof deps,
	         "[dep cache]\nkind = redis\nurl = redis://127.0.0.1:%d/0\n"
	         "critical = true\n",
	         e->redis.port);
	write_config(e, "",
	             FAST "failure_threshold = 2\nrecovery_timeout = 500ms\n", deps);
	start_fusebox(e);
	assert_true(th_wait_until(redis_probed_ok, e, WAIT_MS));

	th_redis_stop(&e->redis);
	WAIT_EVENTS(e, 1, "transition", "cache", "closed", "open", WAIT_MS);
	cJSON *ev = read_log(e);
	const char *err =
	    th_json_str(th_events_nth(ev, 0, "transition", "cache", "closed", "open"),
	                "error");
	print_message("redis down: error \"%s\"\n", nz(err));
	assert_non_null(err);
	assert_true(strcasestr(err, "connect") || strcasestr(err, "refused"));
	cJSON_Delete(ev);

	assert_int_equal(th_redis_start(&e->redis, e->dir, e->redis.port), 0);
	WAIT_EVENTS(e, 1, "transition", "cache", NULL, "closed", WAIT_MS);
	ev = read_log(e);
	assert_true(th_events_index(ev, 0, "transition", "cache", NULL, "closed") >
	            th_events_index(ev, 0, "transition", "cache", "closed", "open"));
	cJSON_Delete(ev);
}

/* ---- 6. the gate follows critical dependencies only --------------------------- */

static void test_gate_blocks_only_for_critical(void **state)
{
	env *e = *state;
	char deps[1024] = "";
	add_dep(deps, sizeof deps, e, "core", true, "");
	add_dep(deps, sizeof deps, e, "extra", false, "");
	write_config(e, "",
	             FAST "failure_threshold = 2\nrecovery_timeout = 500ms\n", deps);
	start_fusebox(e);
	/* The start: blocked until core's first probe answers, then allowed. */
	WAIT_EVENTS(e, 1, "gate", NULL, "blocked", "allowed", WAIT_MS);

	/* A non-critical dependency down: no more gate events, system
	 * degraded. */
	assert_int_equal(th_fixture_set(&e->fx, "/extra", "fail"), 0);
	WAIT_EVENTS(e, 1, "transition", "extra", "closed", "open", WAIT_MS);
	WAIT_EVENTS(e, 1, "transition", "extra", "open", "half_open", WAIT_MS);
	cJSON *ev = read_log(e);
	assert_int_equal(th_events_count(ev, "gate", NULL, NULL, NULL), 1);
	assert_true(th_events_index(ev, 0, "gate", NULL, "blocked", "allowed") >
	            th_events_index(ev, 0, "health", "core", "unknown",
	                            "healthy"));
	cJSON_Delete(ev);
	cJSON *doc = ctl_status(e);
	assert_non_null(doc);
	assert_string_equal(th_json_str(doc, "system_health"), "degraded");
	assert_string_equal(
	    th_json_str(cJSON_GetObjectItemCaseSensitive(doc, "gate"), "decision"),
	    "allowed");
	cJSON_Delete(doc);

	/* The critical one down: blocked, naming it. */
	assert_int_equal(th_fixture_set(&e->fx, "/core", "fail"), 0);
	WAIT_EVENTS(e, 1, "gate", NULL, "allowed", "blocked", WAIT_MS);
	ev = read_log(e);
	const cJSON *gate = th_events_nth(ev, 0, "gate", NULL, "allowed", "blocked");
	assert_string_equal(th_json_str(gate, "mode"), "auto");
	const char *reason = nz(th_json_str(gate, "reason"));
	print_message("gate reason: %s\n", reason);
	assert_true(strncmp(reason, "System unhealthy: core is open; retry in ", 41) == 0);
	assert_true(ev_num(gate, "retry_after_ms") > 0 &&
	            ev_num(gate, "retry_after_ms") <= 500);
	assert_true(th_events_index(ev, 0, "gate", NULL, "allowed", "blocked") >
	            th_events_index(ev, 0, "transition", "core", "closed", "open"));
	cJSON_Delete(ev);

	/* It recovers (extra still failing): allowed again. */
	assert_int_equal(th_fixture_set(&e->fx, "/core", "ok"), 0);
	WAIT_EVENTS(e, 2, "gate", NULL, "blocked", "allowed", WAIT_MS);
	ev = read_log(e);
	assert_true(th_events_index(ev, 1, "gate", NULL, "blocked", "allowed") >
	            th_events_index(ev, 0, "transition", "core", NULL, "closed"));
	assert_int_equal(th_events_count(ev, "gate", NULL, NULL, "blocked"), 1);
	/* at the start, and after the recovery */
	assert_int_equal(th_events_count(ev, "gate", NULL, NULL, "allowed"), 2);
	assert_true(th_events_count(ev, "transition", "extra", NULL, "open") >= 1);
	cJSON_Delete(ev);
}

/* ---- 6b. startup_grace ---------------------------------------------------------- */

/* a fails from the start, 2 failures would open it, but its 1.5s
 * startup_grace ([dep]) keeps it closed: the failures show and count,
 * the gate blocks saying why, and it opens when the grace ends. b, with
 * no grace, opens at its second failure. */
static void test_startup_grace_counts_then_opens(void **state)
{
	env *e = *state;
	char deps[1024] = "";
	add_dep(deps, sizeof deps, e, "a", true, "startup_grace = 1500ms\n");
	add_dep(deps, sizeof deps, e, "b", false, "");
	write_config(e, "", FAST "failure_threshold = 2\nrecovery_timeout = 30s\n",
	             deps);
	assert_int_equal(th_fixture_set(&e->fx, "/a", "fail"), 0);
	assert_int_equal(th_fixture_set(&e->fx, "/b", "fail"), 0);
	start_fusebox(e);

	WAIT_EVENTS(e, 1, "transition", "b", "closed", "open", WAIT_MS);
	/* a has failed past its threshold by now, and stays closed */
	int64_t end = th_now_ms() + WAIT_MS;
	double fails = 0;
	while (fails < 4 && th_now_ms() < end) {
		cJSON *doc = ctl_status(e);
		assert_non_null(doc);
		const cJSON *a = status_dep(doc, "a");
		fails = th_json_num(a, "failure_count", 0);
		cJSON_Delete(doc);
		th_sleep_ms(20);
	}
	cJSON *doc = ctl_status(e);
	assert_non_null(doc);
	const cJSON *a = status_dep(doc, "a");
	const cJSON *gate = cJSON_GetObjectItemCaseSensitive(doc, "gate");
	print_message("a: %s, %s, %g failures; gate: %s\n",
	              nz(th_json_str(a, "state")), nz(th_json_str(a, "health")),
	              th_json_num(a, "failure_count", -1),
	              nz(th_json_str(gate, "reason")));
	cJSON *ev = read_log(e);
	assert_int_equal(th_events_count(ev, "transition", "a", NULL, NULL), 0);
	cJSON_Delete(ev);
	assert_true(th_json_num(a, "failure_count", 0) >= 4);
	assert_string_equal(nz(th_json_str(a, "state")), "closed");
	assert_string_equal(nz(th_json_str(a, "health")), "degraded");
	assert_non_null(strstr(nz(th_json_str(a, "last_error")), "503"));
	assert_string_equal(nz(th_json_str(gate, "decision")), "blocked");
	assert_non_null(strstr(nz(th_json_str(gate, "reason")),
	                       "System unhealthy: a held closed by "
	                       "startup_grace ("));
	cJSON_Delete(doc);

	/* the grace ends: a opens, saying so */
	WAIT_EVENTS(e, 1, "transition", "a", "closed", "open", WAIT_MS);
	ev = read_log(e);
	const cJSON *start = th_events_nth(ev, 0, "start", NULL, NULL, NULL);
	const cJSON *open = th_events_nth(ev, 0, "transition", "a", "closed",
	                                  "open");
	const char *why = nz(th_json_str(open, "reason"));
	print_message("a opened %lld ms after the start: %s\n",
	              (long long)(ev_ts(open) - ev_ts(start)), why);
	assert_non_null(strstr(why, " consecutive failures; startup_grace ended"));
	assert_true(ev_num(open, "failures") >= 4);
	assert_true(ev_ts(open) - ev_ts(start) >= 1400);
	assert_int_equal(th_events_count(ev, "transition", "a", NULL, NULL), 1);
	cJSON_Delete(ev);
}

/* ---- 7. the log survives kill -9 ---------------------------------------------- */

static const char *const FLAPPERS[] = {"f1", "f2", "f3", "f4"};

/* Four dependencies that alternate ok/fail on every request. */
static void flapping_config(env *e, const char *fusebox_extra)
{
	char deps[2048] = "";
	for (size_t i = 0; i < sizeof FLAPPERS / sizeof FLAPPERS[0]; i++) {
		char path[16];
		snprintf(path, sizeof path, "/%s", FLAPPERS[i]);
		add_dep(deps, sizeof deps, e, FLAPPERS[i], true, "");
		assert_int_equal(th_fixture_set(&e->fx, path, "flap:1"), 0);
	}
	write_config(e, fusebox_extra,
	             FAST "failure_threshold = 1\nrecovery_timeout = 200ms\n", deps);
}

static void kill_hard(env *e)
{
	int st = th_kill(e->fb, SIGKILL, 5000);
	e->fb = 0;
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/* One more `fusebox run --duration 1`; returns its stderr (caller frees). */
static char *run_for_a_second(env *e)
{
	char err[420];
	int st = -1;
	snprintf(err, sizeof err, "%s/run2.err", e->dir);
	pid_t pid = spawn_run(e, "1", NULL, err);
	if (!th_wait_exit(pid, 10000, &st)) {
		cJSON *doc = ctl_status(e);
		bool stuck = doc == NULL;
		cJSON_Delete(doc);
		th_kill(pid, SIGKILL, 1000);
		th_show_tail("its stderr", err);
		fail_msg("fusebox run --duration 1 did not end within 10 s%s",
		         stuck ? ", nor answer on its control socket: its event loop "
		                 "is stuck"
		               : "");
	}
	char *text = th_slurp(err, NULL);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		print_message("%s\n", nz(text));
		fail_msg("fusebox run --duration 1 ended with status 0x%x", st);
	}
	return text ? text : strdup("");
}

static void test_log_survives_kill_9(void **state)
{
	env *e = *state;
	flapping_config(e, "");
	start_fusebox(e);
	WAIT_EVENTS(e, 40, NULL, NULL, NULL, NULL, 15000);
	kill_hard(e);

	size_t len = 0;
	char *raw = th_slurp(e->log, &len);
	assert_non_null(raw);
	assert_true(len > 0 && raw[len - 1] == '\n');
	free(raw);
	cJSON *ev = read_log(e);
	assert_int_equal(ev_num(cJSON_GetArrayItem(ev, 0), "seq"), 1);
	long last = check_seq(ev);
	int n = cJSON_GetArraySize(ev);
	assert_int_equal(last, n);
	cJSON_Delete(ev);
	print_message("killed after %ld events\n", last);

	free(run_for_a_second(e));
	ev = read_log(e);
	const cJSON *start = th_events_nth(ev, 1, "start", NULL, NULL, NULL);
	assert_non_null(start);
	assert_int_equal(ev_num(start, "seq"), last + 1);
	assert_int_equal(th_events_index(ev, 1, "start", NULL, NULL, NULL), n);
	check_seq(ev);
	assert_string_equal(
	    th_json_str(cJSON_GetArrayItem(ev, cJSON_GetArraySize(ev) - 1), "kind"),
	    "stop");
	cJSON_Delete(ev);
}

static void test_torn_line_is_reported_and_not_glued(void **state)
{
	env *e = *state;
	static const char torn[] = "{\"v\":1,\"seq\":";
	flapping_config(e, "");
	start_fusebox(e);
	WAIT_EVENTS(e, 10, NULL, NULL, NULL, NULL, 15000);
	kill_hard(e);

	cJSON *ev = read_log(e);
	long last = check_seq(ev);
	long lines = cJSON_GetArraySize(ev);
	cJSON_Delete(ev);
	FILE *f = fopen(e->log, "a");
	assert_non_null(f);
	fputs(torn, f);
	assert_int_equal(fclose(f), 0);

	char *err = run_for_a_second(e);
	char where[600];
	snprintf(where, sizeof where, "fusebox: %s:%ld: ", e->log, lines + 1);
	print_message("stderr: %.300s\n", err);
	if (!strstr(err, where))
		fail_msg("stderr does not name the torn line as '%s'", where);
	assert_non_null(strcasestr(err, "torn"));
	free(err);

	/* The torn line stays as it was; the next event has a line of its own. */
	char *raw = th_slurp(e->log, NULL);
	assert_non_null(raw);
	char *line = raw;
	for (long i = 0; i < lines; i++)
		line = strchr(line, '\n') + 1;
	char *nl = strchr(line, '\n');
	assert_non_null(nl);
	*nl = '\0';
	assert_string_equal(line, torn);
	char *next = nl + 1;
	nl = strchr(next, '\n');
	assert_non_null(nl);
	cJSON *start = cJSON_ParseWithLength(next, (size_t)(nl - next));
	free(raw);
	assert_non_null(start);
	assert_string_equal(th_json_str(start, "kind"), "start");
	assert_int_equal(ev_num(start, "seq"), last + 1);
	cJSON_Delete(start);

	int bad = 0, first_bad = 0;
	ev = th_jsonl_read(e->log, &bad, &first_bad);
	assert_int_equal(bad, 1);
	assert_int_equal(first_bad, lines + 1);
	check_seq(ev);
	cJSON_Delete(ev);
}

/* ---- 8. hostile text never reaches the log raw --------------------------------- */

static void assert_no_control_bytes(const char *what, const char *text,
                                    size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == 0x1b || c == 0x07 || c == 0x00 || c == '\r')
			fail_msg("%s holds byte 0x%02x at offset %zu", what, c, i);
	}
}

/* Decoded text from a peer: no control characters at all. */
static void assert_clean_text(const char *what, const char *s)
{
	assert_non_null(s);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fail_msg("%s holds control character 0x%02x: \"%s\"", what, *p, s);
	}
}

static void test_hostile_bodies_never_reach_the_log_raw(void **state)
{
	env *e = *state;
	char deps[512] = "";
	add_dep(deps, sizeof deps, e, "evil", true, "");
	write_config(e, "",
	             FAST "failure_threshold = 1\nrecovery_timeout = 500ms\n", deps);
	assert_int_equal(th_fixture_set(&e->fx, "/evil", "hostile"), 0);
	start_fusebox(e);
	WAIT_EVENTS(e, 1, "transition", "evil", "half_open", "open", WAIT_MS);

	size_t len = 0;
	char *raw = th_slurp(e->log, &len);
	assert_non_null(raw);
	assert_no_control_bytes("the event log", raw, len);
	free(raw);
	cJSON *ev = read_log(e);
	const cJSON *open = th_events_nth(ev, 0, "transition", "evil", "closed", "open");
	const char *err = th_json_str(open, "error");
	print_message("error field: %s\n", nz(err));
	assert_clean_text("the transition's error", err);
	assert_non_null(strstr(err, "500"));
	cJSON_Delete(ev);

	cJSON *doc = ctl_status(e);
	assert_clean_text("status last_error",
	                  th_json_str(status_dep(doc, "evil"), "last_error"));
	cJSON_Delete(doc);
	raw = th_slurp(e->err, &len);
	assert_non_null(raw);
	assert_no_control_bytes("fusebox run's stderr", raw, len);
	free(raw);
}

/* ---- 9. signals ------------------------------------------------------------------ */

static void test_sigterm_stops_cleanly(void **state)
{
	env *e = *state;
	char deps[512] = "";
	add_dep(deps, sizeof deps, e, "a", true, "");
	write_config(e, "", FAST "failure_threshold = 3\n", deps);
	start_fusebox(e);
	count_goal probed = {&e->fx, "/a", 3};
	assert_true(th_wait_until(count_reached, &probed, WAIT_MS));

	int st = stop_fusebox(e);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		show(e);
		fail_msg("SIGTERM: wait status 0x%x, not exit 0", st);
	}
	cJSON *ev = read_log(e);
	check_seq(ev);
	int n = cJSON_GetArraySize(ev);
	assert_string_equal(th_json_str(cJSON_GetArrayItem(ev, n - 1), "kind"), "stop");
	assert_int_equal(th_events_count(ev, "stop", NULL, NULL, NULL), 1);
	cJSON_Delete(ev);
}

static void test_sighup_reloads_and_keeps_state(void **state)
{
	env *e = *state;
	char deps[1024] = "";
	const char *defaults = FAST "failure_threshold = 2\nrecovery_timeout = 500ms\n";
	add_dep(deps, sizeof deps, e, "a", true, "recovery_timeout = 30s\n");
	add_dep(deps, sizeof deps, e, "b", false, "");
	write_config(e, "", defaults, deps);
	assert_int_equal(th_fixture_set(&e->fx, "/a", "fail"), 0);
	start_fusebox(e);
	WAIT_EVENTS(e, 1, "transition", "a", "closed", "open", WAIT_MS);
	count_goal b_probed = {&e->fx, "/b", 2};
	assert_true(th_wait_until(count_reached, &b_probed, WAIT_MS));

	deps[0] = '\0';
	add_dep(deps, sizeof deps, e, "a", true, "recovery_timeout = 30s\n");
	add_dep(deps, sizeof deps, e, "c", false, "");
	write_config(e, "", defaults, deps);
	assert_int_equal(kill(e->fb, SIGHUP), 0);
	if (!th_wait_file_contains(e->err, "removed b", WAIT_MS)) {
		show(e);
		fail_msg("stderr does not say that b was removed");
	}
	char *err = th_slurp(e->err, NULL);
	assert_non_null(strstr(err, "added c"));
	free(err);
	long b_count = th_fixture_count(&e->fx, "/b");

	count_goal c_probed = {&e->fx, "/c", 3};
	assert_true(th_wait_until(count_reached, &c_probed, WAIT_MS));
	assert_int_equal(th_fixture_count(&e->fx, "/b"), b_count);
	assert_true(th_alive(e->fb));

	cJSON *doc = ctl_status(e);
	assert_non_null(doc);
	assert_null(status_dep(doc, "b"));
	assert_non_null(status_dep(doc, "c"));
	const cJSON *a = status_dep(doc, "a");
	assert_string_equal(th_json_str(a, "state"), "open");
	assert_string_equal(th_json_str(a, "health"), "unhealthy");
	assert_int_equal((long)th_json_num(a, "failure_count", -1), 2);
	cJSON_Delete(doc);
	cJSON *ev = read_log(e);
	assert_int_equal(th_events_count(ev, "transition", "a", NULL, NULL), 1);
	cJSON_Delete(ev);
}

/* ---- 10. rotation ------------------------------------------------------------------ */

/* True once log.3 exists and no longer starts at seq 1: the oldest file
 * has been dropped at least once. */
static bool rotated_past_keep(void *ctx)
{
	char path[420];
	const env *e = ctx;
	snprintf(path, sizeof path, "%s.3", e->log);
	cJSON *ev = th_jsonl_read(path, NULL, NULL);
	const cJSON *first = cJSON_GetArrayItem(ev, 0);
	bool ok = first && th_json_num(first, "seq", 1) > 1;
	cJSON_Delete(ev);
	return ok;
}

static void test_log_rotation_keeps_seq_contiguous(void **state)
{
	env *e = *state;
	flapping_config(e, "log_max_size = 2K\nlog_keep = 3\n");
	start_fusebox(e);
	if (!th_wait_until(rotated_past_keep, e, 15000)) {
		show(e);
		fail_msg("the log did not rotate past log_keep files");
	}
	int st = stop_fusebox(e);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	char path[420];
	struct stat sb;
	snprintf(path, sizeof path, "%s.4", e->log);
	assert_int_equal(stat(path, &sb), -1);
	long prev = -1, total = 0;
	for (int i = 3; i >= 0; i--) {
		if (i)
			snprintf(path, sizeof path, "%s.%d", e->log, i);
		else
			snprintf(path, sizeof path, "%s", e->log);
		assert_int_equal(stat(path, &sb), 0);
		assert_true(sb.st_size <= 2048);
		int bad = 0;
		cJSON *ev = th_jsonl_read(path, &bad, NULL);
		assert_non_null(ev);
		assert_int_equal(bad, 0);
		const cJSON *x;
		cJSON_ArrayForEach(x, ev)
		{
			long seq = ev_num(x, "seq");
			if (prev >= 0 && seq != prev + 1)
				fail_msg("%s: seq %ld follows %ld", path, seq, prev);
			prev = seq;
			total++;
		}
		cJSON_Delete(ev);
	}
	print_message("%ld events across 4 files, last seq %ld\n", total, prev);
	assert_true(total > 0);
}

/* ---- main ---------------------------------------------------------------------- */

/* A dependency that answers with a 100 MB body: the probe keeps the first
 * KB for the error and stops reading there, instead of downloading all
 * of it on every probe. The server counts what it managed to send. */
static void serve_huge_body(int lfd, int report)
{
	static char chunk[65536];
	memset(chunk, 'y', sizeof chunk);
	long long sent = 0;
	int c = accept(lfd, NULL, NULL);
	char req[4096];
	if (c >= 0 && read(c, req, sizeof req) > 0) {
		const char *head = "HTTP/1.1 503 Service Unavailable\r\n"
		                   "Content-Length: 104857600\r\n\r\n";
		if (write(c, head, strlen(head)) > 0) {
			while (sent < 104857600LL) {
				ssize_t n = write(c, chunk, sizeof chunk);
				if (n <= 0)
					break;
				sent += n;
			}
		}
	}
	if (write(report, &sent, sizeof sent) != sizeof sent)
		_exit(1);
	_exit(0);
}

static void test_huge_body_is_not_downloaded(void **state)
{
	env *e = *state;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fds[2];
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	assert_int_equal(pipe(fds), 0);
	pid_t server = fork();
	assert_true(server >= 0);
	if (server == 0) {
		close(fds[0]);
		serve_huge_body(lfd, fds[1]);
	}
	close(lfd);
	close(fds[1]);
	char cfg[512];
	snprintf(cfg, sizeof cfg,
	         "[fusebox]\nlog = events.jsonl\ncontrol_socket = fb.sock\n"
	         "[dep huge]\nurl = http://127.0.0.1:%d/\ntimeout = 5s\n",
	         ntohs(a.sin_port));
	char path[600];
	th_write_file(e->dir, "huge.ini", cfg, path, sizeof path);
	char *argv[] = {g_fusebox, "status", "--probe", "--json", "--config",
	                path, NULL};
	th_result r;
	th_run(argv, 20000, &r);
	long long sent = -1;
	assert_int_equal(read(fds[0], &sent, sizeof sent), sizeof sent);
	close(fds[0]);
	waitpid(server, NULL, 0);
	bool said = strstr(r.out, "bad status 503") != NULL;
	if (!said)
		print_message("# status said: %s %s\n", r.out, r.err);
	th_result_free(&r);
	assert_true(said);
	print_message("# the server sent %lld bytes of its 100 MB body\n", sent);
	if (sent >= 32LL << 20)
		fail_msg("the server sent %lld bytes of 100 MB", sent);
}

int main(void)
{
	if (getenv("FB_TEST_FILTER")) /* e.g. "*redis*" */
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_threshold_opens_at_exactly_n_failures),
	    T(test_open_wait_doubles_and_resets_after_close),
	    T(test_half_open_sends_exactly_one_trial),
	    T(test_hanging_dependency_does_not_delay_others),
	    T(test_redis_down_then_up),
	    T(test_gate_blocks_only_for_critical),
	    T(test_startup_grace_counts_then_opens),
	    T(test_log_survives_kill_9),
	    T(test_torn_line_is_reported_and_not_glued),
	    T(test_hostile_bodies_never_reach_the_log_raw),
	    T(test_sigterm_stops_cleanly),
	    T(test_sighup_reloads_and_keeps_state),
	    T(test_log_rotation_keeps_seq_contiguous),
	    T(test_huge_body_is_not_downloaded),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
