/* The event stream (SPEC section 7, `watch`; `fusebox events`): a status
 * document, then every event in seq order with no gap; many watchers see
 * one action at once; a watcher that does not read is dropped with a last
 * error line and never slows the engine. Real `fusebox run` instances on
 * the fault-injection fixture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define WAIT_MS 8000

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

/* api on the fixture (healthy), and `flaky`, which fails. */
static void start(env *e, const char *log)
{
	FILE *f = fopen(e->cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "[fusebox]\nlog = %s\ncontrol_socket = ctl.sock\nhost = w\n"
	        "[defaults]\ninterval = 100ms\ntimeout = 300ms\n"
	        "failure_threshold = 2\nrecovery_timeout = 1s\njitter = 0\n"
	        "[dep api]\nurl = http://127.0.0.1:%d/api\ncritical = true\n"
	        "[dep flaky]\nurl = tcp://127.0.0.1:1\n",
	        log, e->fx.port);
	fclose(f);
	char *argv[] = {g_fusebox, "run", "--config", e->cfg, NULL};
	e->fb = th_spawn(argv, e->out, e->err);
	assert_true(e->fb > 0);
	assert_true(th_wait_unix_socket(e->sock, WAIT_MS));
}

static int cli(const env *e, const char *a, const char *b, const char *c)
{
	char *argv[] = {g_fusebox, (char *)a, (char *)b, (char *)c, "--config",
	                (char *)e->cfg, NULL};
	if (!c) {
		argv[3] = "--config";
		argv[4] = (char *)e->cfg;
		argv[5] = NULL;
	}
	th_result r;
	int rc = th_run(argv, WAIT_MS, &r);
	th_result_free(&r);
	return rc;
}

/* One line from fd, byte by byte so nothing after it is taken. Returns
 * its length, or -1 on timeout or close. */
static int read_line(int fd, char *buf, size_t cap, int timeout_ms)
{
	int64_t end = th_now_ms() + timeout_ms;
	size_t n = 0;
	while (n + 1 < cap) {
		struct pollfd p = {fd, POLLIN, 0};
		int64_t left = end - th_now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			return -1;
		ssize_t got = recv(fd, buf + n, 1, 0);
		if (got <= 0)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return (int)n;
		}
		n++;
	}
	return -1;
}

/* A raw watcher: connected, asked, its status line read. */
static int watcher(const env *e, int rcvbuf, double *seq)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	memcpy(a.sun_path, e->sock, strlen(e->sock) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(th_send_all(fd, "{\"op\":\"watch\"}\n", 15, WAIT_MS), 0);
	char line[65536];
	assert_true(read_line(fd, line, sizeof line, WAIT_MS) > 0);
	cJSON *doc = cJSON_Parse(line);
	assert_non_null(doc);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "ok")));
	assert_non_null(cJSON_GetObjectItem(doc, "dependencies"));
	if (seq)
		*seq = th_json_num(doc, "seq", -1);
	cJSON_Delete(doc);
	return fd;
}

/* `events --follow --json` started after some history: what it prints is
 * the log's events, each once, seq by seq, the past and the stream
 * joined without a gap, until the instance stops (exit 69). */
static void test_events_follow_joins_past_and_present(void **state)
{
	env *e = *state;
	start(e, "events.jsonl");
	assert_int_equal(cli(e, "trip", "api", NULL), 0);
	char out[450], err[450];
	snprintf(out, sizeof out, "%s/follow.out", e->dir);
	snprintf(err, sizeof err, "%s/follow.err", e->dir);
	char *argv[] = {g_fusebox, "events", "--follow", "--json", "--lines",
	                "1000", "--config", e->cfg, NULL};
	pid_t f = th_spawn(argv, out, err);
	assert_true(th_wait_file_contains(out, "\"action\":\"trip\"", WAIT_MS));
	assert_int_equal(cli(e, "reset", "api", NULL), 0);
	assert_int_equal(cli(e, "gate", "block", NULL), 0);
	assert_true(th_wait_file_contains(out, "gate_block", WAIT_MS));
	assert_int_equal(th_kill(e->fb, SIGTERM, WAIT_MS), 0);
	e->fb = 0;
	int status;
	assert_true(th_wait_exit(f, WAIT_MS, &status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 69);
	cJSON *got = th_jsonl_read(out, NULL, NULL);
	cJSON *logged = th_jsonl_read(e->log, NULL, NULL);
	assert_int_equal(cJSON_GetArraySize(got), cJSON_GetArraySize(logged));
	for (int i = 0; i < cJSON_GetArraySize(got); i++) {
		double a = th_json_num(cJSON_GetArrayItem(got, i), "seq", -1);
		double b = th_json_num(cJSON_GetArrayItem(logged, i), "seq", -1);
		if (a != b || a != i + 1)
			fail_msg("event %d: seq %g printed, %g logged", i, a, b);
	}
	assert_string_equal(th_json_str(cJSON_GetArrayItem(got, cJSON_GetArraySize(got) - 1), "kind"),
	                    "stop");
	cJSON_Delete(got);
	cJSON_Delete(logged);
}

/* Three watchers; an action on the socket reaches all of them at once. */
static void test_every_watcher_sees_an_action(void **state)
{
	env *e = *state;
	start(e, "events.jsonl");
	double seq[3];
	int w[3];
	for (int i = 0; i < 3; i++)
		w[i] = watcher(e, 0, &seq[i]);
	int64_t t0 = th_now_ms();
	assert_int_equal(cli(e, "trip", "api", NULL), 0);
	int64_t acked = th_now_ms();
	int64_t worst = 0;
	for (int i = 0; i < 3; i++) {
		char line[65536];
		bool seen = false;
		double last = seq[i];
		while (!seen && read_line(w[i], line, sizeof line, WAIT_MS) > 0) {
			cJSON *ev = cJSON_Parse(line);
			assert_non_null(ev);
			double s = th_json_num(ev, "seq", -1);
			assert_true(s == last + 1); /* in order, no gap */
			last = s;
			const char *action = th_json_str(ev, "action");
			/* flaky's own events may come first: they have no action */
			seen = action && strcmp(action, "trip") == 0;
			cJSON_Delete(ev);
		}
		assert_true(seen);
		if (th_now_ms() - acked > worst)
			worst = th_now_ms() - acked;
		close(w[i]);
	}
	print_message("# trip acknowledged in %lld ms; every watcher had it "
	              "within %lld ms after\n",
	              (long long)(acked - t0), (long long)worst);
	assert_true(worst < 1000);
}

/* A watcher that stops reading while thousands of operator actions are
 * logged: it is dropped with a last error line (what it was not sent yet
 * is let go), and meanwhile `gate check` answers as quickly as ever. */
static void test_slow_watcher_is_dropped(void **state)
{
	env *e = *state;
	char log[300];
	snprintf(log, sizeof log, "/dev/shm/fusebox-watch-%d.jsonl", getpid());
	start(e, log); /* on tmpfs: thousands of fsyncs in a moment */
	int slow = watcher(e, 4096, NULL);
	char reason[240];
	memset(reason, 'r', sizeof reason - 1);
	reason[sizeof reason - 1] = '\0';
	int ctl = th_unix_connect(e->sock);
	assert_true(ctl >= 0);
	int64_t worst_gate = 0;
	for (int i = 0; i < 4000; i++) { /* some 4 MB of events */
		char req[400], *line = NULL;
		snprintf(req, sizeof req,
		         "{\"op\":\"%s\",\"dep\":\"flaky\",\"reason\":\"%s\"}\n",
		         i % 2 ? "reset" : "trip", reason);
		assert_int_equal(th_send_all(ctl, req, strlen(req), WAIT_MS), 0);
		assert_int_equal(th_read_line(ctl, WAIT_MS, &line), TH_LINE);
		free(line);
		if (i % 500 == 0) {
			int64_t t0 = th_now_ms();
			assert_true(cli(e, "gate", "check", NULL) >= 0);
			if (th_now_ms() - t0 > worst_gate)
				worst_gate = th_now_ms() - t0;
		}
	}
	close(ctl);
	char line[65536];
	bool dropped = false;
	int lines = 0;
	while (read_line(slow, line, sizeof line, 5000) > 0) {
		lines++;
		dropped = strstr(line, "\"ok\":false") && strstr(line, "behind");
	}
	close(slow);
	unlink(log);
	char lock[320];
	snprintf(lock, sizeof lock, "%s.lock", log);
	unlink(lock);
	print_message("# the slow watcher read %d lines before it was dropped; "
	              "gate check took at most %lld ms meanwhile\n",
	              lines, (long long)worst_gate);
	assert_true(dropped);
	assert_true(worst_gate < 2000);
	assert_true(th_alive(e->fb));
}

int main(void)
{
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_events_follow_joins_past_and_present),
	    T(test_every_watcher_sees_an_action),
	    T(test_slow_watcher_is_dropped),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
