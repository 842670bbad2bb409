/* End to end: passive health and jobs under the gate (SPEC sections 3, 4
 * and 7). The real, sanitized `fusebox run` in a temp dir of its own,
 * against the fault-injection HTTP fixture: services' `allow` and
 * `report` (single and batched) move the breaker as probes do, share the
 * half-open trial with probes, and cannot starve `gate_check`; `fusebox
 * health` exits by the worst health and fails closed; `fusebox gate exec`
 * refuses to start a job while a critical dependency is down, stops a
 * running one when it goes down or the instance goes away, and logs
 * job_start / job_end. */
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
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fusebox/client.h"
#include "helpers.h"

#define WAIT_MS 10000
#define CLI_MS  20000

static char g_fusebox[PATH_MAX];
static char g_fixture[PATH_MAX];

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

static void show(const env *e)
{
	th_show_tail("event log", e->log);
	th_show_tail("fusebox stderr", e->err);
}

/* A critical "api" on the fixture with the [defaults] lines given. */
static void write_config(const env *e, const char *defaults)
{
	FILE *f = fopen(e->cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "[fusebox]\nlog = events.jsonl\ncontrol_socket = ctl.sock\n"
	        "host = passive\n\n[defaults]\njitter = 0\n%s\n"
	        "[dep api]\nurl = http://127.0.0.1:%d/api\ncritical = true\n",
	        defaults, e->fx.port);
	assert_int_equal(fclose(f), 0);
}

static void start(env *e)
{
	char *argv[] = {g_fusebox, "run", "--config", e->cfg, NULL};
	e->fb = th_spawn(argv, e->out, e->err);
	assert_true(e->fb > 0);
	if (!th_wait_unix_socket(e->sock, WAIT_MS)) {
		show(e);
		fail_msg("the instance does not serve %s", e->sock);
	}
}

static void wait_events(const env *e, int n, const char *kind, const char *dep,
                        const char *from, const char *to)
{
	if (!th_wait_events(e->log, n, kind, dep, from, to, WAIT_MS)) {
		show(e);
		fail_msg("no %d event(s) %s %s %s->%s", n, kind,
		         dep ? dep : "*", from ? from : "*", to ? to : "*");
	}
}

/* Started, first probe answered, gate allowed. */
static void start_healthy(env *e, const char *defaults)
{
	write_config(e, defaults);
	start(e);
	wait_events(e, 1, "gate", NULL, "blocked", "allowed");
}

/* One request line (no newline) and its reply, parsed. */
static cJSON *ask(const env *e, const char *req)
{
	char buf[16384];
	char *line = NULL;
	int n = snprintf(buf, sizeof buf, "%s\n", req);
	int rc = th_unix_exchange(e->sock, buf, (size_t)n, WAIT_MS, &line);
	if (rc != TH_LINE)
		fail_msg("no reply to %s (%d)", req, rc);
	cJSON *o = cJSON_Parse(line);
	if (!o)
		fail_msg("not JSON: %s", line);
	free(line);
	return o;
}

static bool is_true(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* The api entry of the status document (the caller frees *doc). */
static const cJSON *api_status(const env *e, cJSON **doc)
{
	*doc = ask(e, "{\"op\":\"status\"}");
	const cJSON *deps =
	    cJSON_GetObjectItemCaseSensitive(*doc, "dependencies");
	return cJSON_GetArrayItem(deps, 0);
}

static double calls_field(const env *e, const char *key)
{
	cJSON *doc;
	const cJSON *d = api_status(e, &doc);
	double v =
	    th_json_num(cJSON_GetObjectItemCaseSensitive(d, "calls"), key, -1);
	cJSON_Delete(doc);
	return v;
}

static int cli(const env *e, th_result *r, const char *a, const char *b,
               const char *c, const char *d)
{
	char *argv[] = {g_fusebox, (char *)a, "--config", (char *)e->cfg,
	                (char *)b, (char *)c, (char *)d,  NULL};
	return th_run(argv, CLI_MS, r);
}

/* ---- allow and report ----------------------------------------------------- */

/* Reports alone open the breaker (probes are an hour apart here), with
 * the reported error as its last error, sanitised; allow then refuses
 * with the wait, the gate blocks, and status counts the calls apart. */
static void test_reports_open_the_breaker(void **state)
{
	env *e = *state;
	start_healthy(e, "interval = 1h\nfailure_threshold = 3\n"
	                 "recovery_timeout = 30s\n");
	cJSON *a = ask(e, "{\"op\":\"allow\",\"dep\":\"api\"}");
	assert_true(is_true(a, "ok") && is_true(a, "allowed"));
	assert_string_equal(th_json_str(a, "state"), "closed");
	assert_string_equal(th_json_str(a, "health"), "healthy");
	cJSON_Delete(a);
	a = ask(e, "{\"op\":\"report\",\"dep\":\"api\",\"ok\":true,"
	           "\"latency_ms\":2.5}");
	assert_true(is_true(a, "ok"));
	assert_int_equal(th_json_num(a, "accepted", 0), 1);
	cJSON_Delete(a);
	a = ask(e,
	        "{\"op\":\"report\",\"outcomes\":["
	        "{\"dep\":\"api\",\"ok\":false,\"latency_ms\":9,"
	        "\"error\":\"\\u001b[31mupstream reset\"},"
	        "{\"dep\":\"api\",\"ok\":false,\"error\":\"upstream reset\"},"
	        "{\"dep\":\"api\",\"ok\":false,\"error\":"
	        "\"\\u001b[31mupstream\\u0007reset\"}]}");
	assert_true(is_true(a, "ok"));
	assert_int_equal(th_json_num(a, "accepted", 0), 3);
	cJSON_Delete(a);
	wait_events(e, 1, "transition", "api", "closed", "open");
	cJSON *log = th_jsonl_read(e->log, NULL, NULL);
	const cJSON *tr =
	    th_events_nth(log, 0, "transition", "api", "closed", "open");
	assert_string_equal(th_json_str(tr, "reason"),
	                    "3 consecutive failures");
	assert_string_equal(th_json_str(tr, "error"), "upstream reset");
	cJSON_Delete(log);
	a = ask(e, "{\"op\":\"allow\",\"dep\":\"api\"}");
	assert_true(is_true(a, "ok"));
	assert_false(is_true(a, "allowed"));
	assert_string_equal(th_json_str(a, "state"), "open");
	assert_string_equal(th_json_str(a, "health"), "unhealthy");
	assert_true(th_json_num(a, "retry_after_ms", 0) > 25000);
	cJSON_Delete(a);
	th_result r;
	assert_int_equal(cli(e, &r, "gate", "check", NULL, NULL), 75);
	th_result_free(&r);
	assert_int_equal(calls_field(e, "total"), 4);
	assert_int_equal(calls_field(e, "failed"), 3);
	assert_int_equal(calls_field(e, "last_min"), 4);
	assert_int_equal(calls_field(e, "refused"), 1);
	cJSON *doc;
	const cJSON *d = api_status(e, &doc);
	assert_int_equal(th_json_num(d, "probes", -1), 1); /* apart */
	cJSON_Delete(doc);
}

/* An fb_client given the instance's socket asks it before each attempt
 * and reports each outcome: its reports open the instance's breaker
 * (whose threshold is lower than the client's own), the client then
 * refuses at once with the instance's wait and calls the dependency
 * unhealthy; with the instance gone it works alone. */
static void test_client_asks_and_tells_the_instance(void **state)
{
	env *e = *state;
	start_healthy(e, "interval = 1h\nfailure_threshold = 2\n"
	                 "recovery_timeout = 30s\n");
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", e->fx.port);
	fb_client_options o;
	fb_client_options_init(&o);
	o.url = url;
	o.socket = e->sock;
	o.max_retries = 0;
	fb_error err;
	fb_response r;
	fb_client *c = fb_client_new("api", NULL, &o, &err);
	assert_non_null(c);
	assert_int_equal(fb_client_get(c, "/api", &r, &err), FB_OK);
	fb_response_free(&r);
	assert_int_equal(th_fixture_set(&e->fx, "/api", "fail"), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fb_client_get(c, "/api", &r, &err), FB_OK);
		assert_int_equal(r.status, 503);
		fb_response_free(&r);
	}
	/* batched: out within FB_REPORT_FLUSH_MS, or at the next add */
	wait_events(e, 1, "transition", "api", "closed", "open");
	assert_int_equal(calls_field(e, "total"), 3);
	assert_int_equal(calls_field(e, "failed"), 2);
	assert_int_equal(fb_client_state(c), FB_STATE_CLOSED); /* ours */
	assert_int_equal(th_fixture_set(&e->fx, "/api", "ok"), 0);
	long sent = th_fixture_count(&e->fx, "/api");
	assert_int_equal(fb_client_get(c, "/api", &r, &err), FB_E_UNAVAILABLE);
	assert_true(err.retry_after_ms > 20000);
	assert_non_null(strstr(err.text, "api is unavailable; retry in"));
	assert_int_equal(th_fixture_count(&e->fx, "/api"), sent);
	assert_int_equal(fb_client_health(c), FB_HEALTH_UNHEALTHY);

	assert_int_equal(th_kill(e->fb, SIGTERM, WAIT_MS), 0);
	e->fb = 0;
	/* the reported failures are in the log's outcome summary (SPEC 6),
	 * written at the stop since the interval is an hour */
	cJSON *log = th_jsonl_read(e->log, NULL, NULL);
	const cJSON *sum = th_events_nth(log, 0, "outcomes", "api", NULL, NULL);
	assert_non_null(sum);
	assert_int_equal(th_json_num(sum, "failed", -1), 2);
	cJSON_Delete(log);
	assert_int_equal(fb_client_get(c, "/api", &r, &err), FB_OK);
	assert_int_equal(r.status, 200);
	fb_response_free(&r);
	fb_client_free(c);
}

/* An unknown dependency, anywhere in a batch, is an error naming it, and
 * nothing of the batch is counted; so are bad fields and a batch over
 * the cap. */
static void test_bad_reports_change_nothing(void **state)
{
	env *e = *state;
	start_healthy(e, "interval = 1h\nfailure_threshold = 1\n");
	static const char *const bad[] = {
	    "{\"op\":\"report\",\"outcomes\":[{\"dep\":\"api\",\"ok\":false},"
	    "{\"dep\":\"nope\\u001b[2J\",\"ok\":false}]}",
	    "{\"op\":\"report\",\"dep\":\"api\"}",
	    "{\"op\":\"report\",\"dep\":\"api\",\"ok\":false,\"latency_ms\":-"
	    "1}",
	    "{\"op\":\"report\",\"dep\":\"api\",\"ok\":\"no\"}",
	    "{\"op\":\"report\",\"outcomes\":{\"dep\":\"api\"}}",
	    "{\"op\":\"allow\",\"dep\":\"nope\"}",
	    "{\"op\":\"allow\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cJSON *a = ask(e, bad[i]);
		if (is_true(a, "ok"))
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(th_json_str(a, "error"));
		if (i == 0) {
			assert_string_equal(th_json_str(a, "error"),
			                    "report: outcome 2: unknown "
			                    "dependency 'nope'");
		}
		cJSON_Delete(a);
	}
	/* 1001 outcomes: over the cap (in one line under the size cap) */
	char big[16384];
	size_t n = (size_t)snprintf(big, sizeof big,
	                            "{\"op\":\"report\",\"outcomes\":[");
	for (int i = 0; i < 1001; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "%s{}",
		                      i ? "," : "");
	snprintf(big + n, sizeof big - n, "]}");
	assert_true(strlen(big) < 8192);
	cJSON *a = ask(e, big);
	assert_false(is_true(a, "ok"));
	assert_non_null(strstr(th_json_str(a, "error"), "at most 1000"));
	cJSON_Delete(a);
	assert_int_equal(calls_field(e, "total"), 0);
	cJSON *log = th_jsonl_read(e->log, NULL, NULL);
	assert_int_equal(th_events_count(log, "transition", NULL, NULL, NULL),
	                 0);
	cJSON_Delete(log);
}

/* Half-open with one trial, probes every 3 s and the breaker opened by
 * reports just after the first: a caller's allow takes the trial when
 * the open wait ends, and the probe due later is refused (it never
 * reaches the fixture) until the caller's report, which closes it. */
static void test_caller_trial_holds_off_probes(void **state)
{
	env *e = *state;
	start_healthy(e, "interval = 3s\ntimeout = 8s\nfailure_threshold = 2\n"
	                 "recovery_timeout = 1s\n");
	int64_t first = th_now_ms(); /* the first probe just answered */
	assert_int_equal(th_fixture_count(&e->fx, "/api"), 1);
	cJSON_Delete(ask(e, "{\"op\":\"report\",\"outcomes\":["
	                    "{\"dep\":\"api\",\"ok\":false},"
	                    "{\"dep\":\"api\",\"ok\":false}]}"));
	wait_events(e, 1, "transition", "api", "closed", "open");
	th_sleep_ms(1100);
	cJSON *a = ask(e, "{\"op\":\"allow\",\"dep\":\"api\"}");
	assert_true(is_true(a, "allowed"));
	assert_string_equal(th_json_str(a, "state"), "half_open");
	double permit = th_json_num(a, "permit", 0);
	assert_true(permit > 0);
	cJSON_Delete(a);
	a = ask(e, "{\"op\":\"allow\",\"dep\":\"api\"}");
	assert_false(is_true(a, "allowed")); /* one trial only */
	assert_int_equal(th_json_num(a, "retry_after_ms", -1), 0);
	cJSON_Delete(a);
	int64_t past_due = first + 3000 + 700 - th_now_ms();
	th_sleep_ms(past_due > 0 ? (int)past_due : 0);
	assert_int_equal(th_fixture_count(&e->fx, "/api"), 1);
	char req[200];
	snprintf(req, sizeof req,
	         "{\"op\":\"report\",\"dep\":\"api\",\"ok\":true,"
	         "\"latency_ms\":4,\"permit\":%.0f}",
	         permit);
	cJSON_Delete(ask(e, req));
	wait_events(e, 1, "transition", "api", "half_open", "closed");
	cJSON *log = th_jsonl_read(e->log, NULL, NULL);
	const cJSON *tr =
	    th_events_nth(log, 0, "transition", "api", "half_open", "closed");
	assert_string_equal(th_json_str(tr, "reason"), "1 trial success");
	cJSON_Delete(log);
}

/* The other way round: probes every 50 ms hold the trial the moment the
 * open wait ends (the fixture hangs, so it stays out), and a caller is
 * refused while it is out. */
static void test_probe_trial_holds_off_callers(void **state)
{
	env *e = *state;
	start_healthy(e,
	              "interval = 50ms\ntimeout = 3s\nfailure_threshold = 2\n"
	              "recovery_timeout = 1s\n");
	assert_int_equal(th_fixture_set(&e->fx, "/api", "fail"), 0);
	wait_events(e, 1, "transition", "api", "closed", "open");
	assert_int_equal(th_fixture_set(&e->fx, "/api", "hang"), 0);
	wait_events(e, 1, "transition", "api", "open", "half_open");
	int64_t by = th_now_ms() + 1000;
	while (th_fixture_inflight(&e->fx, "/api") != 1 && th_now_ms() < by)
		th_sleep_ms(10);
	assert_int_equal(th_fixture_inflight(&e->fx, "/api"), 1);
	cJSON *a = ask(e, "{\"op\":\"allow\",\"dep\":\"api\"}");
	const char *st = th_json_str(a, "state");
	if (!st || strcmp(st, "half_open") != 0 || is_true(a, "allowed")) {
		char *text = cJSON_PrintUnformatted(a);
		show(e);
		fail_msg("a second trial while the probe's is out: %s", text);
	}
	assert_int_equal(th_json_num(a, "retry_after_ms", -1), 0);
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "permit"));
	cJSON_Delete(a);
	assert_int_equal(th_fixture_inflight(&e->fx, "/api"), 1);
}

/* A permit never reported comes back after the dependency's timeout
 * plus a second; then the next trial can be taken. */
static void test_unreported_permit_expires(void **state)
{
	env *e = *state;
	start_healthy(e,
	              "interval = 1h\ntimeout = 500ms\nfailure_threshold = 1\n"
	              "recovery_timeout = 500ms\n");
	cJSON_Delete(
	    ask(e, "{\"op\":\"report\",\"dep\":\"api\",\"ok\":false}"));
	wait_events(e, 1, "transition", "api", "closed", "open");
	th_sleep_ms(600);
	cJSON *a = ask(e, "{\"op\":\"allow\",\"dep\":\"api\"}");
	assert_true(is_true(a, "allowed"));
	assert_true(th_json_num(a, "permit", 0) > 0);
	cJSON_Delete(a);
	a = ask(e, "{\"op\":\"allow\",\"dep\":\"api\"}");
	assert_false(is_true(a, "allowed"));
	cJSON_Delete(a);
	int64_t until = th_now_ms() + 5000;
	bool again = false;
	while (!again && th_now_ms() < until) {
		th_sleep_ms(100);
		a = ask(e, "{\"op\":\"allow\",\"dep\":\"api\"}");
		again = is_true(a, "allowed");
		cJSON_Delete(a);
	}
	assert_true(again);
	assert_true(calls_field(e, "trials") >= 2);
}

/* Two peers flood the socket with batched reports; gate_check from a
 * third still answers quickly. */
static void test_report_flood_does_not_starve_gate_check(void **state)
{
	env *e = *state;
	start_healthy(e, "interval = 1h\nfailure_threshold = 0\n");
	char batch[8192];
	size_t n = (size_t)snprintf(batch, sizeof batch,
	                            "{\"op\":\"report\",\"outcomes\":[");
	for (int i = 0; i < 150; i++)
		n += (size_t)snprintf(batch + n, sizeof batch - n,
		                      "%s{\"dep\":\"api\",\"ok\":%s,"
		                      "\"latency_ms\":3}",
		                      i ? "," : "", i % 4 ? "true" : "false");
	n += (size_t)snprintf(batch + n, sizeof batch - n, "]}\n");
	pid_t flood[2];
	for (int k = 0; k < 2; k++) {
		flood[k] = fork();
		assert_true(flood[k] >= 0);
		if (flood[k] ==
		    0) { /* pipelines and reads replies it ignores */
			int fd = th_unix_connect(e->sock);
			char junk[65536];
			int64_t end = th_now_ms() + 4000;
			while (fd >= 0 && th_now_ms() < end) {
				if (th_send_all(fd, batch, n, 2000) != 0)
					break;
				while (recv(fd, junk, sizeof junk,
				            MSG_DONTWAIT) > 0)
					;
			}
			_exit(0);
		}
	}
	th_sleep_ms(300);
	enum { CHECKS = 100 };
	int64_t ms[CHECKS], worst = 0;
	for (int i = 0; i < CHECKS; i++) {
		int64_t t0 = th_now_ms();
		cJSON *a = ask(e, "{\"op\":\"gate_check\"}");
		ms[i] = th_now_ms() - t0;
		assert_true(is_true(a, "ok"));
		cJSON_Delete(a);
		worst = ms[i] > worst ? ms[i] : worst;
		th_sleep_ms(20);
	}
	for (int k = 0; k < 2; k++)
		waitpid(flood[k], NULL, 0);
	int slow = 0;
	for (int i = 0; i < CHECKS; i++)
		slow += ms[i] > 200;
	double total = calls_field(e, "total");
	print_message("# %.0f outcomes absorbed; gate_check worst %lld ms, "
	              "%d of %d over 200 ms (sanitized build)\n",
	              total, (long long)worst, slow, CHECKS);
	assert_true(total > 10000);
	assert_true(slow <= 1); /* p99 under 200 ms even here */
}

/* The console attached to the instance shows the reported calls apart
 * from the probes: a CALLS/MIN column once services report. */
static void test_console_shows_calls(void **state)
{
	env *e = *state;
	start_healthy(e, "interval = 1h\nfailure_threshold = 0\n");
	char batch[4096];
	size_t n = (size_t)snprintf(batch, sizeof batch,
	                            "{\"op\":\"report\",\"outcomes\":[");
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(batch + n, sizeof batch - n,
		                      "%s{\"dep\":\"api\",\"ok\":%s}",
		                      i ? "," : "", i % 3 ? "true" : "false");
	snprintf(batch + n, sizeof batch - n, "]}");
	cJSON_Delete(ask(e, batch));
	char sock[64], cmd[2 * PATH_MAX];
	snprintf(sock, sizeof sock, "fbpassive%d", (int)getpid());
	snprintf(cmd, sizeof cmd, "%s --config %s; exec sleep 60", g_fusebox,
	         e->cfg);
	assert_int_equal(th_tmux_start(sock, e->dir, 160, 24, cmd), 0);
	bool shown = th_tmux_wait_text(sock, "CALLS/MIN", WAIT_MS) &&
	             th_tmux_wait_text(sock, "30 33%", WAIT_MS);
	char *screen = th_tmux_capture(sock, false);
	th_tmux_kill(sock);
	if (!shown)
		fail_msg("the console does not show the calls:\n%s", screen);
	assert_non_null(strstr(screen, "attached"));
	free(screen);
}

/* ---- fusebox health --------------------------------------------------- */

static void test_health_exit_codes(void **state)
{
	env *e = *state;
	th_result r;
	start_healthy(e, "interval = 1h\nfailure_threshold = 50\n");
	assert_int_equal(cli(e, &r, "health", "api", NULL, NULL), 0);
	assert_non_null(strstr(r.out, "api: healthy"));
	th_result_free(&r);
	/* closed with a recent failure: degraded */
	cJSON_Delete(ask(e, "{\"op\":\"report\",\"dep\":\"api\",\"ok\":false,"
	                    "\"error\":\"timeout\"}"));
	assert_int_equal(cli(e, &r, "health", "api", NULL, NULL), 1);
	assert_non_null(strstr(r.out, "api: degraded"));
	th_result_free(&r);
	assert_int_equal(cli(e, &r, "trip", "api", NULL, NULL), 0);
	th_result_free(&r);
	assert_int_equal(cli(e, &r, "health", "api", NULL, NULL), 75);
	assert_non_null(strstr(r.out, "api: unhealthy"));
	th_result_free(&r);
	assert_int_equal(cli(e, &r, "health", "api", "nope", NULL), 64);
	assert_non_null(strstr(r.err, "nope"));
	th_result_free(&r);
	assert_int_equal(th_kill(e->fb, SIGTERM, WAIT_MS), 0);
	e->fb = 0;
	assert_int_equal(cli(e, &r, "health", "api", NULL, NULL), 75);
	assert_non_null(strstr(r.out, "fail closed"));
	assert_non_null(strstr(r.err, "no running instance"));
	th_result_free(&r);
}

/* --wait returns once the dependency recovers; without recovery it
 * gives up at the deadline with 75. */
static void test_health_wait(void **state)
{
	env *e = *state;
	th_result r;
	start_healthy(e, "interval = 100ms\nfailure_threshold = 2\n"
	                 "recovery_timeout = 1s\n");
	assert_int_equal(th_fixture_set(&e->fx, "/api", "fail"), 0);
	wait_events(e, 1, "transition", "api", "closed", "open");
	assert_int_equal(cli(e, &r, "health", "api", "--wait", "1500ms"), 75);
	assert_true(r.ms >= 1400);
	th_result_free(&r);
	char out[450];
	snprintf(out, sizeof out, "%s/health.out", e->dir);
	char *argv[] = {g_fusebox, "health", "api", "--config",
	                e->cfg,    "--wait", "30",  NULL};
	pid_t pid = th_spawn(argv, out, NULL);
	th_sleep_ms(500);
	assert_true(th_alive(pid)); /* still down: it waits */
	assert_int_equal(th_fixture_set(&e->fx, "/api", "ok"), 0);
	int status;
	assert_true(th_wait_exit(pid, WAIT_MS, &status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(th_wait_file_contains(out, "api: healthy", 1000));
}

/* ---- fusebox gate exec ---------------------------------------------- */

static pid_t spawn_exec(env *e, const char *script, const char *on_block,
                        const char *err)
{
	char *argv[12];
	int n = 0;
	argv[n++] = g_fusebox;
	argv[n++] = "gate";
	argv[n++] = "exec";
	argv[n++] = "--config";
	argv[n++] = e->cfg;
	if (on_block) {
		argv[n++] = "--on-block";
		argv[n++] = (char *)on_block;
	}
	argv[n++] = "--";
	argv[n++] = "sh";
	argv[n++] = "-c";
	argv[n++] = (char *)script;
	argv[n] = NULL;
	pid_t pid = th_spawn(argv, NULL, err);
	assert_true(pid > 0);
	return pid;
}

static pid_t read_pid(const char *path)
{
	char text[32] = "";
	assert_true(th_wait_file_contains(path, "\n", WAIT_MS));
	assert_true(th_read_file(path, text, sizeof text) > 0);
	char *end;
	long pid = strtol(text, &end, 10);
	assert_true(end != text && pid > 0 && pid < INT_MAX);
	return (pid_t)pid;
}

static void test_gate_exec_refuses_while_down(void **state)
{
	env *e = *state;
	th_result r;
	start_healthy(e, "interval = 100ms\nfailure_threshold = 2\n"
	                 "recovery_timeout = 30s\n");
	assert_int_equal(th_fixture_set(&e->fx, "/api", "fail"), 0);
	wait_events(e, 1, "gate", NULL, "allowed", "blocked");
	char marker[450], script[600];
	snprintf(marker, sizeof marker, "%s/ran", e->dir);
	snprintf(script, sizeof script, "touch %s", marker);
	char *argv[] = {g_fusebox, "gate", "exec", "--config", e->cfg,
	                "--",      "sh",   "-c",   script,     NULL};
	assert_int_equal(th_run(argv, CLI_MS, &r), 75);
	assert_non_null(strstr(r.out, "blocked: System unhealthy: api"));
	th_result_free(&r);
	assert_int_equal(access(marker, F_OK), -1);
	char *log = th_slurp(e->log, NULL);
	assert_null(strstr(log, "job_start"));
	free(log);
	/* and with no instance at all */
	assert_int_equal(th_kill(e->fb, SIGTERM, WAIT_MS), 0);
	e->fb = 0;
	assert_int_equal(th_run(argv, CLI_MS, &r), 75);
	assert_non_null(strstr(r.out, "cannot be consulted"));
	th_result_free(&r);
	assert_int_equal(access(marker, F_OK), -1);
}

/* The job runs while the gate allows; the fixture fails, the gate
 * blocks, the job is stopped with SIGTERM and gate exec exits 75;
 * job_start and job_end say who, what and why. */
static void test_gate_exec_stops_job_when_dependency_goes_down(void **state)
{
	env *e = *state;
	start_healthy(e, "interval = 100ms\nfailure_threshold = 2\n"
	                 "recovery_timeout = 30s\n");
	char pidfile[450], script[600], err[450];
	snprintf(pidfile, sizeof pidfile, "%s/job.pid", e->dir);
	snprintf(err, sizeof err, "%s/exec.err", e->dir);
	snprintf(script, sizeof script, "echo $$ > %s; exec sleep 60", pidfile);
	pid_t pid = spawn_exec(e, script, NULL, err);
	pid_t job = read_pid(pidfile);
	wait_events(e, 1, "operator", NULL, NULL, NULL);
	th_sleep_ms(300);
	assert_true(th_alive(pid));
	assert_int_equal(th_fixture_set(&e->fx, "/api", "fail"), 0);
	int status;
	assert_true(th_wait_exit(pid, WAIT_MS, &status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 75);
	assert_true(th_proc_wait_gone(job, 2000));
	assert_true(th_wait_file_contains(e->log, "job_end", WAIT_MS));
	cJSON *log = th_jsonl_read(e->log, NULL, NULL);
	const cJSON *s = NULL, *end = NULL, *ev;
	cJSON_ArrayForEach(ev, log)
	{
		const char *a = th_json_str(ev, "action");
		if (a && strcmp(a, "job_start") == 0)
			s = ev;
		if (a && strcmp(a, "job_end") == 0)
			end = ev;
	}
	assert_non_null(s);
	assert_non_null(end);
	char uid[32];
	snprintf(uid, sizeof uid, "(uid %u)", (unsigned)getuid());
	assert_non_null(strstr(th_json_str(s, "actor"), uid));
	assert_non_null(strstr(th_json_str(s, "command"), "exec sleep 60"));
	assert_string_equal(th_json_str(end, "command"),
	                    th_json_str(s, "command"));
	assert_int_equal(th_json_num(end, "exit_status", -1), 128 + SIGTERM);
	assert_non_null(strstr(th_json_str(end, "reason"),
	                       "stopped: the gate blocked (System unhealthy"));
	cJSON_Delete(log);
	assert_true(th_wait_file_contains(err, "stopping the job", 1000));
}

static void test_gate_exec_passes_exit_status(void **state)
{
	env *e = *state;
	th_result r;
	start_healthy(e, "interval = 1h\n");
	char *argv[] = {g_fusebox, "gate", "exec", "--config",         e->cfg,
	                "--",      "sh",   "-c",   "echo out; exit 3", NULL};
	assert_int_equal(th_run(argv, CLI_MS, &r), 3);
	assert_string_equal(r.out, "out\n");
	th_result_free(&r);
	assert_true(th_wait_file_contains(e->log, "job_end", WAIT_MS));
	char *log = th_slurp(e->log, NULL);
	assert_non_null(
	    strstr(log, "\"command\":\"sh -c 'echo out; exit 3'\""));
	assert_non_null(strstr(log, "\"exit_status\":3,\"reason\":\"finished: "
	                            "exit 3\""));
	free(log);
}

/* The instance is killed while the job runs: the gate cannot be asked,
 * so the job is stopped (fail closed). */
static void test_gate_exec_fails_closed_when_instance_goes(void **state)
{
	env *e = *state;
	start_healthy(e, "interval = 1h\n");
	char pidfile[450], script[600], err[450];
	snprintf(pidfile, sizeof pidfile, "%s/job.pid", e->dir);
	snprintf(err, sizeof err, "%s/exec.err", e->dir);
	snprintf(script, sizeof script, "echo $$ > %s; exec sleep 60", pidfile);
	pid_t pid = spawn_exec(e, script, NULL, err);
	pid_t job = read_pid(pidfile);
	int killed = th_kill(e->fb, SIGKILL, WAIT_MS);
	assert_true(WIFSIGNALED(killed));
	e->fb = 0;
	int status;
	assert_true(th_wait_exit(pid, WAIT_MS, &status));
	assert_int_equal(WEXITSTATUS(status), 75);
	assert_true(th_proc_wait_gone(job, 2000));
	assert_true(th_wait_file_contains(err, "fail closed", 1000));
	assert_true(th_wait_file_contains(err, "job_end not recorded", 1000));
}

/* --on-block wait: the job finishes; the block is said and logged. */
static void test_gate_exec_on_block_wait(void **state)
{
	env *e = *state;
	start_healthy(e, "interval = 100ms\nfailure_threshold = 2\n"
	                 "recovery_timeout = 30s\n");
	char flag[450], script[700], err[450];
	snprintf(flag, sizeof flag, "%s/go", e->dir);
	snprintf(err, sizeof err, "%s/exec.err", e->dir);
	snprintf(script, sizeof script,
	         "while [ ! -e %s ]; do sleep 0.05; done; exit 0", flag);
	pid_t pid = spawn_exec(e, script, "wait", err);
	wait_events(e, 1, "operator", NULL, NULL, NULL);
	assert_int_equal(th_fixture_set(&e->fx, "/api", "fail"), 0);
	wait_events(e, 1, "gate", NULL, "allowed", "blocked");
	assert_true(th_wait_file_contains(err, "may finish", WAIT_MS));
	assert_true(th_alive(pid)); /* not stopped */
	char dir[450];
	th_write_file(e->dir, "go", "", dir, sizeof dir);
	int status;
	assert_true(th_wait_exit(pid, WAIT_MS, &status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(th_wait_file_contains(e->log, "--on-block wait", WAIT_MS));
}

/* A job that ignores SIGTERM gets SIGKILL ten seconds later. */
static void test_gate_exec_kills_a_job_that_ignores_term(void **state)
{
	env *e = *state;
	start_healthy(e, "interval = 100ms\nfailure_threshold = 2\n"
	                 "recovery_timeout = 30s\n");
	char pidfile[450], script[600];
	snprintf(pidfile, sizeof pidfile, "%s/job.pid", e->dir);
	snprintf(script, sizeof script,
	         "trap '' TERM; echo $$ > %s; while :; do sleep 1; done",
	         pidfile);
	pid_t pid = spawn_exec(e, script, NULL, NULL);
	pid_t job = read_pid(pidfile);
	assert_int_equal(th_fixture_set(&e->fx, "/api", "fail"), 0);
	wait_events(e, 1, "gate", NULL, "allowed", "blocked");
	int64_t t0 = th_now_ms();
	th_sleep_ms(8000);
	assert_true(th_proc_alive(job)); /* TERM ignored: still there */
	int status;
	assert_true(th_wait_exit(pid, 6000, &status));
	assert_int_equal(WEXITSTATUS(status), 75);
	assert_true(th_now_ms() - t0 >= 9000);
	assert_true(th_proc_wait_gone(job, 2000));
	assert_true(
	    th_wait_file_contains(e->log, "killed by signal 9", WAIT_MS));
}

int main(void)
{
	if (getenv("FB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_reports_open_the_breaker),
	    T(test_client_asks_and_tells_the_instance),
	    T(test_bad_reports_change_nothing),
	    T(test_caller_trial_holds_off_probes),
	    T(test_probe_trial_holds_off_callers),
	    T(test_unreported_permit_expires),
	    T(test_report_flood_does_not_starve_gate_check),
	    T(test_console_shows_calls),
	    T(test_health_exit_codes),
	    T(test_health_wait),
	    T(test_gate_exec_refuses_while_down),
	    T(test_gate_exec_stops_job_when_dependency_goes_down),
	    T(test_gate_exec_passes_exit_status),
	    T(test_gate_exec_fails_closed_when_instance_goes),
	    T(test_gate_exec_on_block_wait),
	    T(test_gate_exec_kills_a_job_that_ignores_term),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
