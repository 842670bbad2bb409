/* End to end: the control socket and the operator CLI (SPEC sections 3, 4,
 * 6 and 7). Each test runs the real, sanitized `fusebox run` in a temp
 * dir of its own against the fault-injection HTTP fixture, and drives it
 * with `fusebox status|gate|trip|reset|disable` and with raw socket
 * clients. Every wait polls for a condition with a deadline; teardown
 * kills whatever was started. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define WAIT_MS 8000   /* the longest any one condition may take */
#define CLI_MS 15000   /* the longest one CLI command may take */

static char g_fusebox[PATH_MAX]; /* build/tests/fusebox, absolute */
static char g_fixture[PATH_MAX]; /* build/tests/fixture-httpd */

/* Fast probes; an open breaker stays open for the whole test. */
static const char DEFAULTS[] = "interval = 100ms\ntimeout = 300ms\n"
                               "failure_threshold = 2\nrecovery_timeout = 30s\n"
                               "jitter = 0\n";

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

/* ---- diagnostics ------------------------------------------------------------ */

static const char *nz(const char *s)
{
	return s ? s : "*";
}


static void show(const env *e)
{
	th_show_tail("event log", e->log);
	th_show_tail("fusebox stderr", e->err);
}

#define WAIT_EVENTS(e, n, kind, dep, from, to)                                \
	do {                                                                      \
		if (!th_wait_events((e)->log, (n), (kind), (dep), (from), (to),       \
		                    WAIT_MS)) {                                       \
			show(e);                                                          \
			fail_msg("no %d event(s) kind=%s dep=%s %s->%s", (n), nz(kind),   \
			         nz(dep), nz(from), nz(to));                              \
		}                                                                     \
	} while (0)

/* ---- configuration, the instance, the CLI ----------------------------------- */

static void add_dep(char *buf, size_t len, const env *e, const char *name,
                    bool critical)
{
	size_t used = strlen(buf);
	snprintf(buf + used, len - used,
	         "[dep %s]\nurl = http://127.0.0.1:%d/%s\ncritical = %s\n\n", name,
	         e->fx.port, name, critical ? "true" : "false");
}

static void write_config(const env *e, const char *deps)
{
	FILE *f = fopen(e->cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "[fusebox]\nlog = events.jsonl\ncontrol_socket = ctl.sock\n"
	        "host = testhost\ngate_override_ttl = 10m\n\n[defaults]\n%s\n%s",
	        DEFAULTS, deps);
	assert_int_equal(fclose(f), 0);
}

/* The usual pair: a critical "api" and a non-critical "cache". */
static void standard_config(const env *e)
{
	char deps[1024] = "";
	add_dep(deps, sizeof deps, e, "api", true);
	add_dep(deps, sizeof deps, e, "cache", false);
	write_config(e, deps);
}

static pid_t spawn_run(const env *e, const char *err)
{
	char *argv[] = {g_fusebox, "run", "--config", (char *)e->cfg, NULL};
	pid_t pid = th_spawn(argv, e->out, err);
	assert_true(pid > 0);
	return pid;
}

static int count_starts(const env *e)
{
	cJSON *ev = th_jsonl_read(e->log, NULL, NULL);
	int n = th_events_count(ev, "start", NULL, NULL, NULL);
	cJSON_Delete(ev);
	return n;
}

/* Starts `fusebox run`; waits for its start event and its socket. */
static void start_fusebox(env *e)
{
	int starts = count_starts(e);
	e->fb = spawn_run(e, e->err);
	WAIT_EVENTS(e, starts + 1, "start", NULL, NULL, NULL);
	if (!th_wait_unix_socket(e->sock, WAIT_MS)) {
		show(e);
		fail_msg("fusebox run does not accept on its control socket");
	}
}

/* Runs `fusebox ARGS... --config CFG`; returns the exit code. */
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

#define CLI(e, r, ...) cli((e), (r), (const char *const[]){__VA_ARGS__, NULL})

/* Runs a command that must exit with `want`; returns its output. */
static void expect_exit(const env *e, th_result *r, int want,
                        const char *const *args)
{
	int got = cli(e, r, args);
	if (got != want) {
		print_message("stdout: %s\nstderr: %s\n", r->out, r->err);
		fail_msg("`fusebox %s %s` exited %d, not %d", args[0],
		         args[1] ? args[1] : "", got, want);
	}
}

#define EXPECT(e, r, want, ...)                                               \
	expect_exit((e), (r), (want), (const char *const[]){__VA_ARGS__, NULL})

static cJSON *read_log(const env *e)
{
	cJSON *ev = th_jsonl_read(e->log, NULL, NULL);
	assert_non_null(ev);
	return ev;
}

/* The live status document over the socket; NULL on failure. */
static cJSON *ctl_status(const char *sock)
{
	static const char req[] = "{\"op\":\"status\"}\n";
	char *line = NULL;
	if (th_unix_exchange(sock, req, sizeof req - 1, 5000, &line) != TH_LINE)
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

/* The state of one dependency according to `fusebox status --json`. */
static char *cli_state(const env *e, const char *dep)
{
	th_result r;
	EXPECT(e, &r, 0, "status", "--json");
	cJSON *doc = cJSON_Parse(r.out);
	th_result_free(&r);
	assert_non_null(doc);
	const char *s = th_json_str(status_dep(doc, dep), "state");
	char *copy = strdup(nz(s));
	cJSON_Delete(doc);
	return copy;
}

static void assert_state(const env *e, const char *dep, const char *want)
{
	char *got = cli_state(e, dep);
	if (strcmp(got, want) != 0) {
		print_message("%s is %s, not %s\n", dep, got, want);
		free(got);
		fail();
	}
	free(got);
}

typedef struct probed {
	const env *e;
	const char *dep;
} probed;

/* The dependency has had a successful probe. */
static bool has_succeeded(void *ctx)
{
	probed *p = ctx;
	cJSON *doc = ctl_status(p->e->sock);
	bool ok = th_json_str(status_dep(doc, p->dep), "last_success") != NULL;
	cJSON_Delete(doc);
	return ok;
}

static void wait_success(const env *e, const char *dep)
{
	probed p = {e, dep};
	if (!th_wait_until(has_succeeded, &p, WAIT_MS)) {
		show(e);
		fail_msg("%s never had a successful probe", dep);
	}
}

/* The nth operator event with this action, or NULL. */
static const cJSON *operator_event(const cJSON *events, const char *action,
                                   int nth, int *index)
{
	const cJSON *ev;
	int i = 0;
	cJSON_ArrayForEach(ev, events)
	{
		const char *a = th_json_str(ev, "action");
		if (th_event_matches(ev, "operator", NULL, NULL, NULL) && a &&
		    strcmp(a, action) == 0 && nth-- == 0) {
			if (index)
				*index = i;
			return ev;
		}
		i++;
	}
	return NULL;
}

/* The first transition of dep after position `after`, or NULL. */
static const cJSON *transition_after(const cJSON *events, const char *dep,
                                     int after)
{
	for (int i = after + 1; i < cJSON_GetArraySize(events); i++) {
		const cJSON *ev = cJSON_GetArrayItem(events, i);
		if (th_event_matches(ev, "transition", dep, NULL, NULL))
			return ev;
	}
	return NULL;
}

/* "alice (uid 1000)" style: the user's name and uid both appear. */
static void assert_actor_is_me(const cJSON *ev)
{
	const char *actor = th_json_str(ev, "actor");
	struct passwd *pw = getpwuid(getuid());
	char uid[32];
	assert_non_null(actor);
	assert_non_null(pw);
	snprintf(uid, sizeof uid, "uid %u", (unsigned)getuid());
	if (!strstr(actor, pw->pw_name) || !strstr(actor, uid))
		fail_msg("actor \"%s\" does not name %s and %s", actor, pw->pw_name, uid);
}

/* ---- 1. status ------------------------------------------------------------------ */

static void assert_keys_exactly(const cJSON *o, const char *what,
                                const char *const *keys)
{
	const cJSON *m;
	size_t n = 0;
	assert_true(cJSON_IsObject(o));
	for (; keys[n]; n++) {
		if (!cJSON_HasObjectItem(o, keys[n]))
			fail_msg("%s lacks \"%s\"", what, keys[n]);
	}
	cJSON_ArrayForEach(m, o)
	{
		size_t k = 0;
		while (keys[k] && strcmp(keys[k], m->string) != 0)
			k++;
		if (!keys[k])
			fail_msg("%s has a field SPEC 7 does not list: \"%s\"", what,
			         m->string);
	}
}

static bool is_one_of(const char *s, const char *const *set)
{
	for (; s && *set; set++) {
		if (strcmp(s, *set) == 0)
			return true;
	}
	return false;
}

static void assert_time_or_null(const cJSON *d, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, key);
	assert_non_null(v);
	if (!cJSON_IsNull(v) && th_rfc3339_ms(cJSON_IsString(v) ? v->valuestring : NULL) < 0)
		fail_msg("\"%s\" is neither null nor an RFC 3339 time", key);
}

static const char *const DEP_KEYS[] = {
    "service",      "kind",         "critical",      "state",
    "health",       "failure_count", "last_failure", "last_error",
    "last_success", "last_state_change", "retry_after_s", "latency_ms", NULL};

/* Every SPEC 7 field of one dependency entry, with its type; fields beyond
 * SPEC 7's list are shown, not refused (SPEC 7 lists a minimum). */
static void check_dep_types(const cJSON *d)
{
	static const char *const kinds[] = {"http", "redis", "tcp", NULL};
	static const char *const states[] = {"closed", "open", "half_open",
	                                     "forced_open", "forced_closed", NULL};
	static const char *const healths[] = {"unknown", "healthy", "degraded",
	                                      "unhealthy", NULL};
	static const char *const lat_keys[] = {"p50", "p95", "p99", NULL};
	const char *name = nz(th_json_str(d, "service"));
	for (size_t i = 0; DEP_KEYS[i]; i++) {
		if (!cJSON_HasObjectItem(d, DEP_KEYS[i]))
			fail_msg("dependency %s lacks \"%s\"", name, DEP_KEYS[i]);
	}
	const cJSON *m;
	cJSON_ArrayForEach(m, d)
	{
		size_t k = 0;
		while (DEP_KEYS[k] && strcmp(DEP_KEYS[k], m->string) != 0)
			k++;
		if (!DEP_KEYS[k])
			print_message("note: dependency %s also has \"%s\" (not in SPEC 7)\n",
			              name, m->string);
	}
	assert_true(is_one_of(th_json_str(d, "kind"), kinds));
	assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(d, "critical")));
	assert_true(is_one_of(th_json_str(d, "state"), states));
	assert_true(is_one_of(th_json_str(d, "health"), healths));
	assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(d, "failure_count")));
	assert_true(th_json_num(d, "failure_count", -1) >= 0);
	assert_time_or_null(d, "last_failure");
	assert_time_or_null(d, "last_success");
	assert_time_or_null(d, "last_state_change");
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(d, "last_error");
	assert_true(cJSON_IsNull(err) || cJSON_IsString(err));
	assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(d, "retry_after_s")));
	assert_true(th_json_num(d, "retry_after_s", -1) >= 0);
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(d, "latency_ms");
	assert_keys_exactly(lat, "latency_ms", lat_keys);
	cJSON_ArrayForEach(m, lat)
	{
		assert_true(cJSON_IsNumber(m) || cJSON_IsNull(m));
	}
}

static void test_status_table_and_json(void **state)
{
	env *e = *state;
	char deps[1024] = "";
	add_dep(deps, sizeof deps, e, "api", true);
	add_dep(deps, sizeof deps, e, "cache", false);
	size_t used = strlen(deps);
	snprintf(deps + used, sizeof deps - used,
	         "[dep queue]\nurl = tcp://127.0.0.1:%d\ncritical = false\n", e->fx.port);
	write_config(e, deps);
	assert_int_equal(th_fixture_set(&e->fx, "/cache", "fail"), 0);
	start_fusebox(e);
	WAIT_EVENTS(e, 1, "transition", "cache", "closed", "open");
	wait_success(e, "api");
	wait_success(e, "queue");

	th_result r;
	EXPECT(e, &r, 0, "status");
	static const char *const names[] = {"api", "cache", "queue"};
	for (size_t i = 0; i < 3; i++) {
		char at_start[32];
		snprintf(at_start, sizeof at_start, "\n%s ", names[i]);
		if (!strstr(r.out, at_start) && strncmp(r.out, at_start + 1, strlen(at_start + 1)) != 0)
			fail_msg("the status table has no row for %s:\n%s", names[i], r.out);
	}
	th_result_free(&r);

	EXPECT(e, &r, 0, "status", "--json");
	cJSON *doc = cJSON_Parse(r.out);
	th_result_free(&r);
	assert_non_null(doc);
	static const char *const top[] = {"host", "ts", "system_health", "gate",
	                                  "dependencies", "event_log", NULL};
	static const char *const log_keys[] = {"ok", "queued", "lost", NULL};
	static const char *const gate_keys[] = {"decision", "mode", "reason",
	                                        "retry_after_s", NULL};
	assert_keys_exactly(doc, "the status document", top);
	/* a log that works: no error, nothing waiting, nothing lost */
	const cJSON *log = cJSON_GetObjectItemCaseSensitive(doc, "event_log");
	assert_keys_exactly(log, "event_log", log_keys);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(log, "ok")));
	assert_true(th_json_num(log, "queued", -1) == 0);
	assert_true(th_json_num(log, "lost", -1) == 0);
	assert_string_equal(th_json_str(doc, "host"), "testhost");
	assert_true(th_rfc3339_ms(th_json_str(doc, "ts")) > 0);
	assert_string_equal(th_json_str(doc, "system_health"), "degraded");
	const cJSON *gate = cJSON_GetObjectItemCaseSensitive(doc, "gate");
	assert_keys_exactly(gate, "gate", gate_keys);
	assert_string_equal(th_json_str(gate, "decision"), "allowed");
	assert_string_equal(th_json_str(gate, "mode"), "auto");
	assert_non_null(th_json_str(gate, "reason"));
	assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(gate, "retry_after_s")));
	assert_true(th_json_num(gate, "retry_after_s", -1) == 0);

	const cJSON *deps_arr = cJSON_GetObjectItemCaseSensitive(doc, "dependencies");
	assert_true(cJSON_IsArray(deps_arr));
	assert_int_equal(cJSON_GetArraySize(deps_arr), 3);
	const cJSON *d;
	cJSON_ArrayForEach(d, deps_arr)
	{
		check_dep_types(d);
	}

	const cJSON *api = status_dep(doc, "api");
	assert_string_equal(th_json_str(api, "kind"), "http");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(api, "critical")));
	assert_string_equal(th_json_str(api, "state"), "closed");
	assert_string_equal(th_json_str(api, "health"), "healthy");
	assert_true(th_json_num(api, "failure_count", -1) == 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(api, "last_error")));
	assert_non_null(th_json_str(api, "last_success"));
	assert_true(th_json_num(api, "retry_after_s", -1) == 0);
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(api, "latency_ms");
	double p50 = th_json_num(lat, "p50", -1), p95 = th_json_num(lat, "p95", -1),
	       p99 = th_json_num(lat, "p99", -1);
	assert_true(p50 >= 0 && p50 <= p95 && p95 <= p99);

	const cJSON *cache = status_dep(doc, "cache");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cache, "critical")));
	assert_string_equal(th_json_str(cache, "state"), "open");
	assert_string_equal(th_json_str(cache, "health"), "unhealthy");
	assert_true(th_json_num(cache, "failure_count", -1) == 2);
	assert_non_null(th_json_str(cache, "last_error"));
	assert_non_null(th_json_str(cache, "last_failure"));
	assert_non_null(th_json_str(cache, "last_state_change"));
	double retry = th_json_num(cache, "retry_after_s", -1);
	assert_true(retry > 0 && retry <= 30);

	assert_string_equal(th_json_str(status_dep(doc, "queue"), "kind"), "tcp");
	cJSON_Delete(doc);
}

/* ---- 2. the gate ----------------------------------------------------------------- */

static void test_gate_check_block_allow_auto(void **state)
{
	env *e = *state;
	th_result r;
	standard_config(e);
	start_fusebox(e);
	wait_success(e, "api");

	EXPECT(e, &r, 0, "gate", "check");
	th_result_free(&r);

	EXPECT(e, &r, 0, "gate", "block", "--reason", "schema migration");
	th_result_free(&r);
	EXPECT(e, &r, 75, "gate", "check");
	assert_non_null(strstr(r.out, "schema migration"));
	th_result_free(&r);

	EXPECT(e, &r, 0, "gate", "allow", "--reason", "hotfix R2");
	print_message("gate allow says: %s", r.out);
	assert_true(strcasestr(r.out, "expire") || strcasestr(r.out, "back to auto"));
	assert_non_null(strstr(r.out, "10m"));
	th_result_free(&r);
	EXPECT(e, &r, 0, "gate", "check");
	th_result_free(&r);

	EXPECT(e, &r, 0, "gate", "auto");
	th_result_free(&r);
	EXPECT(e, &r, 0, "gate", "check");
	th_result_free(&r);

	/* A critical dependency open: blocked, with the SPEC 3 message. */
	assert_int_equal(th_fixture_set(&e->fx, "/api", "fail"), 0);
	WAIT_EVENTS(e, 1, "transition", "api", "closed", "open");
	EXPECT(e, &r, 75, "gate", "check");
	print_message("gate check says: %s", r.out);
	if (strncmp(r.out, "System unhealthy: api is open; retry in ", 40) != 0)
		fail_msg("gate check printed: %s", r.out);
	th_result_free(&r);

	/* An allow override wins over auto, and auto comes back. */
	EXPECT(e, &r, 0, "gate", "allow", "--reason", "emergency");
	th_result_free(&r);
	EXPECT(e, &r, 0, "gate", "check");
	th_result_free(&r);
	EXPECT(e, &r, 0, "gate", "auto");
	th_result_free(&r);
	EXPECT(e, &r, 75, "gate", "check");
	th_result_free(&r);

	cJSON *ev = read_log(e);
	const cJSON *op = operator_event(ev, "gate_block", 0, NULL);
	assert_non_null(op);
	assert_string_equal(th_json_str(op, "reason"), "schema migration");
	assert_actor_is_me(op);
	op = operator_event(ev, "gate_allow", 0, NULL);
	assert_non_null(op);
	assert_string_equal(th_json_str(op, "reason"), "hotfix R2");
	assert_non_null(operator_event(ev, "gate_auto", 1, NULL));
	const cJSON *g = th_events_nth(ev, 0, "gate", NULL, "allowed", "blocked");
	assert_non_null(g);
	assert_string_equal(th_json_str(g, "mode"), "block");
	cJSON_Delete(ev);
}

/* ---- 3. trip, disable, reset ----------------------------------------------------- */

/* The operator event for `action` on api, then the transition it caused. */
static void check_operator_then_transition(const env *e, const char *action,
                                           const char *reason,
                                           const char *from, const char *to)
{
	cJSON *ev = read_log(e);
	int at = -1;
	const cJSON *op = operator_event(ev, action, 0, &at);
	if (!op) {
		show(e);
		fail_msg("no operator event with action %s", action);
	}
	assert_string_equal(th_json_str(op, "dep"), "api");
	assert_actor_is_me(op);
	if (reason)
		assert_string_equal(th_json_str(op, "reason"), reason);
	const cJSON *tr = transition_after(ev, "api", at);
	assert_non_null(tr);
	assert_string_equal(th_json_str(tr, "from"), from);
	assert_string_equal(th_json_str(tr, "to"), to);
	assert_true(th_json_num(tr, "seq", 0) > th_json_num(op, "seq", 0));
	cJSON_Delete(ev);
}

static void test_trip_disable_reset(void **state)
{
	env *e = *state;
	th_result r;
	standard_config(e);
	start_fusebox(e);
	wait_success(e, "api");

	EXPECT(e, &r, 0, "trip", "api", "--reason", "bad deploy");
	th_result_free(&r);
	assert_state(e, "api", "forced_open");
	check_operator_then_transition(e, "trip", "bad deploy", "closed", "forced_open");
	EXPECT(e, &r, 75, "gate", "check");
	th_result_free(&r);

	EXPECT(e, &r, 0, "disable", "api", "--reason", "known flaky");
	th_result_free(&r);
	assert_state(e, "api", "forced_closed");
	check_operator_then_transition(e, "disable", "known flaky", "forced_open",
	                               "forced_closed");
	EXPECT(e, &r, 0, "gate", "check");
	th_result_free(&r);

	EXPECT(e, &r, 0, "reset", "api");
	th_result_free(&r);
	assert_state(e, "api", "closed");
	check_operator_then_transition(e, "reset", NULL, "forced_closed", "closed");

	static const char *const verbs[] = {"trip", "disable", "reset"};
	for (size_t i = 0; i < 3; i++) {
		int rc = CLI(e, &r, verbs[i], "no-such-dep");
		print_message("%s no-such-dep: exit %d, %s", verbs[i], rc, r.err);
		assert_true(rc != 0 && rc != 69);
		assert_non_null(strstr(r.err, "no-such-dep"));
		assert_true(strcasestr(r.err, "unknown") || strcasestr(r.err, "no such"));
		th_result_free(&r);
	}
	cJSON *ev = read_log(e);
	assert_int_equal(th_events_count(ev, NULL, "no-such-dep", NULL, NULL), 0);
	cJSON_Delete(ev);
}

/* ---- 4. the socket file ----------------------------------------------------------- */

static void test_socket_mode_stale_and_second_instance(void **state)
{
	env *e = *state;
	th_result r;
	struct stat sb;
	standard_config(e);
	start_fusebox(e);
	assert_int_equal(stat(e->sock, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);

	/* A crash leaves the socket file; the next instance takes it over. */
	assert_int_equal(kill(e->fb, SIGKILL), 0);
	assert_true(th_wait_exit(e->fb, 5000, NULL));
	e->fb = 0;
	assert_int_equal(stat(e->sock, &sb), 0);
	EXPECT(e, &r, 69, "status");
	th_result_free(&r);
	start_fusebox(e);
	EXPECT(e, &r, 0, "status");
	th_result_free(&r);
	assert_int_equal(stat(e->sock, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	/* A second instance on the same config is refused; the first serves
	 * on. */
	char err2[420];
	int st = 0;
	snprintf(err2, sizeof err2, "%s/second.err", e->dir);
	pid_t second = spawn_run(e, err2);
	if (!th_wait_exit(second, 10000, &st)) {
		th_kill(second, SIGKILL, 1000);
		fail_msg("a second instance on the same socket kept running");
	}
	char *text = th_slurp(err2, NULL);
	print_message("second instance: status 0x%x: %s", st, nz(text));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 75); /* running */
	assert_non_null(text);
	/* the event log's lock stops it before it reaches the socket */
	assert_non_null(strstr(text, "events.jsonl"));
	assert_non_null(strstr(text, "another fusebox instance"));
	free(text);
	assert_true(th_alive(e->fb));
	EXPECT(e, &r, 0, "status");
	th_result_free(&r);
	wait_success(e, "api"); /* a fresh instance allows once api answered */
	EXPECT(e, &r, 0, "gate", "check");
	th_result_free(&r);
}

/* ---- 5. hostile and slow clients ----------------------------------------------------- */

/* One bad request gets an error reply or a closed connection, never
 * silence; and the instance answers status afterwards. */
static void bad_request(const env *e, const char *label, const char *data,
                        size_t len)
{
	char *line = NULL;
	int rc = th_unix_exchange(e->sock, data, len, 5000, &line);
	if (rc == TH_LINE) {
		cJSON *reply = cJSON_Parse(line);
		if (!reply || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")) ||
		    !th_json_str(reply, "error"))
			fail_msg("%s: the reply is not an error: %.200s", label, line);
		print_message("%s -> %s\n", label, th_json_str(reply, "error"));
		cJSON_Delete(reply);
		free(line);
	} else if (rc == TH_CLOSED) {
		print_message("%s -> connection closed\n", label);
	} else {
		fail_msg("%s: no reply and no close (%d)", label, rc);
	}
	cJSON *doc = ctl_status(e->sock);
	if (!doc || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "dependencies")))
		fail_msg("after %s the instance no longer answers status", label);
	cJSON_Delete(doc);
}

#define BAD(e, label, lit) bad_request((e), (label), (lit), sizeof(lit) - 1)

static void test_bad_and_slow_clients(void **state)
{
	env *e = *state;
	th_result r;
	standard_config(e);
	start_fusebox(e);
	wait_success(e, "api"); /* the gate allows: the check below says 0 */

	BAD(e, "garbage", "garbage\n");
	BAD(e, "binary", "\x01\x02\xff\xfe\x00zz\n");
	BAD(e, "not JSON", "{not json\n");
	BAD(e, "a JSON array", "[1,2,3]\n");
	BAD(e, "JSON without op", "{\"dep\":\"api\"}\n");
	BAD(e, "op not a string", "{\"op\":42}\n");
	BAD(e, "unknown op", "{\"op\":\"frobnicate\"}\n");
	BAD(e, "trip without dep", "{\"op\":\"trip\"}\n");

	size_t big = 100 * 1024;
	char *line = malloc(big + 64);
	assert_non_null(line);
	memset(line, 'x', big);
	line[big] = '\n';
	bad_request(e, "100 KB of x", line, big + 1);
	int n = snprintf(line, 64, "{\"op\":\"status\",\"pad\":\"");
	memset(line + n, 'p', big - (size_t)n - 3);
	memcpy(line + big - 3, "\"}\n", 3);
	bad_request(e, "100 KB JSON line", line, big);
	free(line);

	/* Half a line, then silence: others are still served meanwhile. */
	int half = th_unix_connect(e->sock);
	assert_true(half >= 0);
	assert_int_equal(th_send_all(half, "{\"op\":\"sta", 10, 2000), 0);
	EXPECT(e, &r, 0, "status");
	print_message("status with a stalled client connected: %lld ms\n",
	              (long long)r.ms);
	assert_true(r.ms < 3000);
	th_result_free(&r);
	EXPECT(e, &r, 0, "gate", "check");
	th_result_free(&r);
	close(half);

	/* Fifty clients at once: all connected, then all asking. */
	enum { NCLIENTS = 50 };
	static const char req[] = "{\"op\":\"status\"}\n";
	int fds[NCLIENTS];
	for (int i = 0; i < NCLIENTS; i++) {
		fds[i] = th_unix_connect(e->sock);
		assert_true(fds[i] >= 0);
	}
	for (int i = 0; i < NCLIENTS; i++)
		assert_int_equal(th_send_all(fds[i], req, sizeof req - 1, 2000), 0);
	int answered = 0;
	for (int i = 0; i < NCLIENTS; i++) {
		char *reply = NULL;
		if (th_read_line(fds[i], 5000, &reply) == TH_LINE) {
			cJSON *doc = cJSON_Parse(reply);
			answered += doc && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(
			                       doc, "dependencies"));
			cJSON_Delete(doc);
		}
		free(reply);
		close(fds[i]);
	}
	assert_int_equal(answered, NCLIENTS);
	assert_true(th_alive(e->fb));
}

/* ---- 6. no instance ---------------------------------------------------------------------- */

static void test_no_instance_means_blocked(void **state)
{
	env *e = *state;
	th_result r;
	standard_config(e);

	EXPECT(e, &r, 69, "gate", "check");
	print_message("gate check, no instance: %s%s", r.out, r.err);
	assert_true(strcasestr(r.out, "blocked") || strcasestr(r.err, "blocked"));
	assert_true(strcasestr(r.out, "must wait") || strcasestr(r.err, "must wait"));
	th_result_free(&r);
	EXPECT(e, &r, 69, "status");
	th_result_free(&r);
	EXPECT(e, &r, 69, "status", "--json");
	assert_int_equal(r.out_len, 0);
	th_result_free(&r);

	/* A socket file nobody listens on (a crashed instance): the same. */
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	assert_true(strlen(e->sock) < sizeof addr.sun_path);
	memcpy(addr.sun_path, e->sock, strlen(e->sock) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
	close(fd);
	EXPECT(e, &r, 69, "gate", "check");
	assert_true(strcasestr(r.out, "blocked") || strcasestr(r.err, "blocked"));
	th_result_free(&r);
	EXPECT(e, &r, 69, "status");
	th_result_free(&r);
}

/* ---- gate check latency -------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void test_gate_check_latency(void **state)
{
	env *e = *state;
	enum { CALLS = 50 };
	int64_t ms[CALLS];
	th_result r;
	standard_config(e);
	start_fusebox(e);
	wait_success(e, "api");
	for (int i = 0; i < CALLS; i++) {
		EXPECT(e, &r, 0, "gate", "check");
		ms[i] = r.ms;
		th_result_free(&r);
	}
	qsort(ms, CALLS, sizeof ms[0], cmp_i64);
	print_message("gate check median %lld ms (min %lld, max %lld, %d calls)\n",
	              (long long)ms[CALLS / 2], (long long)ms[0],
	              (long long)ms[CALLS - 1], CALLS);
}

/* ---- main ---------------------------------------------------------------------------- */

/* A reason (or a name) sent over the socket reaches the log and the
 * console: control characters in it are stripped first. */
static void test_peer_text_is_sanitised(void **state)
{
	env *e = *state;
	char *line = NULL;
	standard_config(e);
	start_fusebox(e);
	static const char req[] =
	    "{\"op\":\"gate\",\"mode\":\"block\",\"reason\":\"x\\u001b]0;PWNED\\u0007y\"}\n";
	assert_int_equal(th_unix_exchange(e->sock, req, sizeof req - 1, WAIT_MS, &line),
	                 TH_LINE);
	assert_non_null(strstr(line, "\"ok\":true"));
	free(line);
	assert_true(th_wait_file_contains(e->log, "gate_block", WAIT_MS));
	size_t len = 0;
	char *log = th_slurp(e->log, &len);
	assert_non_null(log);
	assert_null(strstr(log, "\\u001b"));
	assert_null(strstr(log, "\\u0007"));
	assert_non_null(strstr(log, "\"reason\":\"xy\"")); /* the escape went whole */
	free(log);
}

int main(void)
{
	if (getenv("FB_TEST_FILTER")) /* e.g. "*redis*" */
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_status_table_and_json),
	    T(test_gate_check_block_allow_auto),
	    T(test_trip_disable_reset),
	    T(test_socket_mode_stale_and_second_instance),
	    T(test_bad_and_slow_clients),
	    T(test_peer_text_is_sanitised),
	    T(test_no_instance_means_blocked),
	    T(test_gate_check_latency),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
