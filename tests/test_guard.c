/* The guardian never proceeds on doubt (SPEC sections 2, 3, 6 and 7):
 * one instance per event log however many start at once, an event log
 * that is not followed through symlinks nor opened on FIFOs, created
 * private. Each test runs the real, sanitized `fusebox run` in a temp dir
 * of its own. */
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
#include <sys/socket.h>
#include <sys/stat.h>
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

/* A critical dependency on the fixture, and whatever [fusebox] lines the
 * test adds (log and socket by default). */
static void write_config(const env *e, const char *fusebox)
{
	FILE *f = fopen(e->cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "[fusebox]\n%s\nhost = guard\n\n[defaults]\ninterval = 200ms\n"
	        "timeout = 300ms\n\n[dep api]\nurl = http://127.0.0.1:%d/api\n"
	        "critical = true\n",
	        fusebox ? fusebox : "log = events.jsonl\ncontrol_socket = ctl.sock",
	        e->fx.port);
	assert_int_equal(fclose(f), 0);
}

static pid_t spawn_run(const env *e, const char *out, const char *err)
{
	char *argv[] = {g_fusebox, "run", "--config", (char *)e->cfg, NULL};
	pid_t pid = th_spawn(argv, out, err);
	assert_true(pid > 0);
	return pid;
}

/* ---- one instance per log ------------------------------------------------ */

#define RACERS 30

/* Starts `fusebox run` stopped (SIGSTOP before exec), so that a test can
 * let many go at the same instant with SIGCONT. */
static pid_t spawn_stopped(const env *e, const char *err)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen(err, "w", stderr);
		raise(SIGSTOP);
		execl(g_fusebox, g_fusebox, "run", "--config", e->cfg, (char *)NULL);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	assert_true(WIFSTOPPED(status));
	return pid;
}

/* Leaves a socket file that nobody serves, as a killed instance does. */
static void leave_stale_socket(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	assert_true(strlen(path) < sizeof a.sun_path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	close(fd);
}

/* 30 instances started at the same moment on one config, after a crash
 * left its socket behind (each sees it stale and would take it over):
 * exactly one runs; the others say who holds the log and leave it alone,
 * so its seq stays strictly increasing. */
static void test_simultaneous_starts_run_one(void **state)
{
	env *e = *state;
	write_config(e, NULL);
	leave_stale_socket(e->sock);
	pid_t pid[RACERS];
	char err[RACERS][450];
	for (int i = 0; i < RACERS; i++) {
		snprintf(err[i], sizeof err[i], "%s/racer%d.err", e->dir, i);
		pid[i] = spawn_stopped(e, err[i]);
	}
	for (int i = 0; i < RACERS; i++)
		kill(pid[i], SIGCONT);
	int running = 0, refused = 0;
	for (int i = 0; i < RACERS; i++) {
		int status;
		if (th_wait_exit(pid[i], 3000, &status)) {
			refused += WIFEXITED(status) && WEXITSTATUS(status) != 0;
			continue;
		}
		running++;
		e->fb = pid[i]; /* teardown stops it */
	}
	assert_int_equal(running, 1);
	assert_int_equal(refused, RACERS - 1);
	int said = 0;
	for (int i = 0; i < RACERS; i++) {
		char text[1024];
		if (pid[i] != e->fb && th_read_file(err[i], text, sizeof text) > 0 &&
		    (strstr(text, "another fusebox instance") ||
		     strstr(text, "already serving")))
			said++;
	}
	assert_int_equal(said, RACERS - 1);
	assert_int_equal(th_kill(e->fb, SIGTERM, WAIT_MS), 0);
	e->fb = 0;
	int bad = 0;
	cJSON *events = th_jsonl_read(e->log, &bad, NULL);
	assert_int_equal(bad, 0);
	assert_int_equal(th_events_count(events, "start", NULL, NULL, NULL), 1);
	double last = 0;
	const cJSON *ev;
	cJSON_ArrayForEach(ev, events) {
		double seq = th_json_num(ev, "seq", -1);
		assert_true(seq == last + 1);
		last = seq;
	}
	cJSON_Delete(events);
}

/* Two configs with one log but each its own socket: the socket check
 * cannot see the other instance; the log's lock does. */
static void test_second_instance_on_the_same_log(void **state)
{
	env *e = *state;
	char other[450], text[2048];
	write_config(e, NULL);
	e->fb = spawn_run(e, "/dev/null", e->err);
	assert_true(th_wait_file_contains(e->log, "\"start\"", WAIT_MS));
	snprintf(other, sizeof other, "%s/other.ini", e->dir);
	char cfg[1024];
	snprintf(cfg, sizeof cfg,
	         "[fusebox]\nlog = events.jsonl\ncontrol_socket = other.sock\n"
	         "[dep api]\nurl = http://127.0.0.1:%d/api\n",
	         e->fx.port);
	th_write_file(e->dir, "other.ini", cfg, other, sizeof other);
	char errp[450];
	snprintf(errp, sizeof errp, "%s/other.err", e->dir);
	char *argv[] = {g_fusebox, "run", "--config", other, NULL};
	pid_t pid = th_spawn(argv, "/dev/null", errp);
	int status;
	if (!th_wait_exit(pid, WAIT_MS, &status)) {
		th_kill(pid, SIGKILL, WAIT_MS);
		fail_msg("a second instance ran on the same event log");
	}
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	th_read_file(errp, text, sizeof text);
	char want[64];
	snprintf(want, sizeof want, "another fusebox instance (pid %d)", e->fb);
	if (!strstr(text, want))
		fail_msg("the refusal does not name the holder: %s", text);
}

/* ---- the event log's file -------------------------------------------------- */

static int run_to_exit(const env *e, char *err, size_t len)
{
	char path[450];
	snprintf(path, sizeof path, "%s/once.err", e->dir);
	pid_t pid = spawn_run(e, "/dev/null", path);
	int status = -1;
	if (!th_wait_exit(pid, WAIT_MS, &status)) {
		th_kill(pid, SIGKILL, WAIT_MS);
		fail_msg("fusebox run kept running on a log it should refuse");
	}
	th_read_file(path, err, len);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* A log that is a symlink is refused, and the file it points at is never
 * written (an attacker's link to a file of the operator's). */
static void test_symlinked_log_is_refused(void **state)
{
	env *e = *state;
	char target[450], text[2048];
	th_write_file(e->dir, "precious", "keep me\n", target, sizeof target);
	assert_int_equal(symlink(target, e->log), 0);
	write_config(e, NULL);
	assert_int_not_equal(run_to_exit(e, text, sizeof text), 0);
	assert_non_null(strstr(text, "symbolic link"));
	assert_int_equal(th_read_file(target, text, sizeof text), 8);
	assert_string_equal(text, "keep me\n");
}

/* A FIFO (or any non-regular file) as the log is refused at once. */
static void test_fifo_log_is_refused(void **state)
{
	env *e = *state;
	char text[2048];
	assert_int_equal(mkfifo(e->log, 0600), 0);
	write_config(e, NULL);
	assert_int_not_equal(run_to_exit(e, text, sizeof text), 0);
	assert_non_null(strstr(text, "not a regular file"));
}

/* The log and its lock are created private to the user (0600), and an
 * older, wider log is tightened. */
static void test_log_is_created_private(void **state)
{
	env *e = *state;
	char lock[450], text[64];
	struct stat st;
	write_config(e, NULL);
	e->fb = spawn_run(e, "/dev/null", e->err);
	assert_true(th_wait_file_contains(e->log, "\"start\"", WAIT_MS));
	assert_int_equal(stat(e->log, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(lock, sizeof lock, "%s.lock", e->log);
	assert_int_equal(stat(lock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(th_read_file(lock, text, sizeof text) > 0);
	assert_int_equal(atoi(text), e->fb);
	assert_int_equal(th_kill(e->fb, SIGTERM, WAIT_MS), 0);
	e->fb = 0;
	assert_int_equal(chmod(e->log, 0666), 0);
	e->fb = spawn_run(e, "/dev/null", e->err);
	assert_true(th_wait_events(e->log, 2, "start", NULL, NULL, NULL, WAIT_MS));
	assert_int_equal(stat(e->log, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

int main(void)
{
	if (getenv("FB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_simultaneous_starts_run_one),
	    T(test_second_instance_on_the_same_log),
	    T(test_symlinked_log_is_refused),
	    T(test_fifo_log_is_refused),
	    T(test_log_is_created_private),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
