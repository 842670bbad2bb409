/* `fusebox run` under systemd: the sd_notify protocol (READY=1 only once
 * the control socket is served and the start event is durable,
 * RELOADING=1 + MONOTONIC_USEC then READY=1 around a SIGHUP reload,
 * STOPPING=1, STATUS=, the watchdog), the stderr lines' syslog levels
 * with and without the journal, and the unit files.
 *
 * The end-to-end tests play the service manager: they bind an AF_UNIX
 * datagram socket in the test's temp dir, start the real, sanitized
 * `fusebox run` with NOTIFY_SOCKET naming it, and read what it is told.
 * Every wait polls with a deadline; teardown kills whatever was started. */
/* what cmocka.h needs first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "stderr_log.h"

#define WAIT_MS 8000 /* the longest any one condition may take */

static char g_fusebox[PATH_MAX]; /* build/tests/fusebox, absolute */
static char g_fixture[PATH_MAX]; /* build/tests/fixture-httpd */

/* Fast probes; an open breaker stays open for the whole test unless the
 * test says otherwise. */
static const char DEFAULTS[] = "interval = 100ms\ntimeout = 300ms\n"
                               "failure_threshold = 2\njitter = 0\n";

/* The variables a service manager sets; none leaks from the test's own
 * environment into an instance that is not meant to see it. */
static const char *const MANAGER_VARS[] = {"NOTIFY_SOCKET", "JOURNAL_STREAM",
                                           "WATCHDOG_USEC", "WATCHDOG_PID"};

typedef struct world {
	th_env *e;
	char notify[400]; /* the notify socket's path */
	int nfd;          /* bound to it, or -1 */
} world;

/* ---- set-up and tear-down ------------------------------------------------ */

static int setup(void **state)
{
	world *w = calloc(1, sizeof *w);
	if (!w || !(w->e = th_env_new(g_fixture))) {
		free(w);
		return -1;
	}
	w->nfd = -1;
	snprintf(w->notify, sizeof w->notify, "%s/notify.sock", w->e->dir);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	world *w = *state;
	if (w->nfd >= 0)
		close(w->nfd);
	th_env_free(w->e);
	free(w);
	return 0;
}

/* ---- diagnostics ----------------------------------------------------------- */

static void show(const th_env *e)
{
	th_show_tail("event log", e->log);
	th_show_tail("fusebox stderr", e->err);
}

/* ---- configuration and the instance ---------------------------------------- */

static void add_dep(char *buf, size_t len, const th_env *e, const char *name,
                    bool critical)
{
	size_t used = strlen(buf);
	snprintf(buf + used, len - used,
	         "[dep %s]\nurl = http://127.0.0.1:%d/%s\ncritical = %s\n\n",
	         name, e->fx.port, name, critical ? "true" : "false");
}

static void write_config(const th_env *e, const char *more_defaults,
                         const char *deps)
{
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%s.tmp", e->cfg);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f,
	        "[fusebox]\nlog = events.jsonl\ncontrol_socket = ctl.sock\n"
	        "host = testhost\n\n[defaults]\n%s%s\n%s",
	        DEFAULTS, more_defaults, deps);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, e->cfg), 0);
}

/* A critical "api" and a non-critical "cache". */
static void standard_config(const th_env *e, const char *more_defaults)
{
	char deps[1024] = "";
	add_dep(deps, sizeof deps, e, "api", true);
	add_dep(deps, sizeof deps, e, "cache", false);
	write_config(e, more_defaults, deps);
}

static void set_or_unset(const char *name, const char *value)
{
	if (value)
		assert_int_equal(setenv(name, value, 1), 0);
	else
		unsetenv(name);
}

static void unset_manager_vars(void)
{
	for (size_t i = 0; i < sizeof MANAGER_VARS / sizeof *MANAGER_VARS; i++)
		unsetenv(MANAGER_VARS[i]);
}

/* What the service manager puts in the environment of `fusebox run`;
 * NULL leaves a variable out. */
typedef struct manager_env {
	const char *notify_socket, *journal_stream, *watchdog_usec,
	    *watchdog_pid;
} manager_env;

/* Starts `fusebox run --config CFG` with stderr to err_path and the
 * given manager variables (and no others). */
static pid_t spawn_run(const th_env *e, const char *err_path,
                       const manager_env *m)
{
	char *argv[] = {g_fusebox, "run", "--config", (char *)e->cfg, NULL};
	set_or_unset("NOTIFY_SOCKET", m->notify_socket);
	set_or_unset("JOURNAL_STREAM", m->journal_stream);
	set_or_unset("WATCHDOG_USEC", m->watchdog_usec);
	set_or_unset("WATCHDOG_PID", m->watchdog_pid);
	pid_t pid = th_spawn(argv, e->out, err_path);
	unset_manager_vars();
	assert_true(pid > 0);
	return pid;
}

static int count_events(const th_env *e, const char *kind)
{
	cJSON *ev = th_jsonl_read(e->log, NULL, NULL);
	int n = th_events_count(ev, kind, NULL, NULL, NULL);
	cJSON_Delete(ev);
	return n;
}

/* Waits for the start event and the control socket. */
static void wait_up(th_env *e)
{
	if (!th_wait_events(e->log, 1, "start", NULL, NULL, NULL, WAIT_MS) ||
	    !th_wait_unix_socket(e->sock, WAIT_MS)) {
		show(e);
		fail_msg(
		    "fusebox run did not log its start and serve its socket");
	}
}

/* SIGTERM (or sig); the wait status; the instance is gone afterwards. */
static int stop_run(th_env *e, int sig)
{
	int st = th_kill(e->fb, sig, 10000);
	e->fb = 0;
	return st;
}

static void expect_clean_exit(th_env *e, int sig)
{
	int st = stop_run(e, sig);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		show(e);
		fail_msg("signal %d: wait status 0x%x, not exit 0", sig, st);
	}
}

/* The live status document over the control socket; NULL on failure. */
static cJSON *ctl_status(const th_env *e)
{
	static const char req[] = "{\"op\":\"status\"}\n";
	char *line = NULL;
	if (th_unix_exchange(e->sock, req, sizeof req - 1, 5000, &line) !=
	    TH_LINE)
		return NULL;
	cJSON *doc = cJSON_Parse(line);
	free(line);
	return doc;
}

static void ctl_ok(const th_env *e, const char *req)
{
	char *line = NULL;
	assert_int_equal(
	    th_unix_exchange(e->sock, req, strlen(req), WAIT_MS, &line),
	    TH_LINE);
	if (!strstr(line, "\"ok\":true"))
		fail_msg("%s -> %s", req, line);
	free(line);
}

/* ---- the notify socket: playing the service manager ------------------------- */

static void notify_bind(world *w)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	assert_true(strlen(w->notify) < sizeof a.sun_path);
	memcpy(a.sun_path, w->notify, strlen(w->notify) + 1);
	w->nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(w->nfd >= 0);
	assert_int_equal(bind(w->nfd, (struct sockaddr *)&a, sizeof a), 0);
}

/* The next datagram within timeout_ms, NUL-terminated (caller frees);
 * NULL when none came. */
static char *dgram_next(int fd, int timeout_ms)
{
	char buf[4096];
	struct pollfd p = {fd, POLLIN, 0};
	if (poll(&p, 1, timeout_ms) != 1)
		return NULL;
	ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/* Does msg hold the assignment `line` ("READY=1") as a line of its own? */
static bool has_line(const char *msg, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = msg; p && *p;
	     p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* The value of KEY= in msg, copied to out; false when absent. */
static bool field(const char *msg, const char *key, char *out, size_t len)
{
	size_t k = strlen(key);
	for (const char *p = msg; p && *p;
	     p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (strncmp(p, key, k) != 0 || p[k] != '=')
			continue;
		const char *v = p + k + 1, *end = strchr(v, '\n');
		size_t n = end ? (size_t)(end - v) : strlen(v);
		if (n >= len)
			n = len - 1;
		memcpy(out, v, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

static long long field_num(const char *msg, const char *key)
{
	char v[64], *end;
	if (!field(msg, key, v, sizeof v) || !v[0])
		return -1;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	return errno || *end ? -1 : n;
}

/* Waits for a datagram holding the line `want`, skipping others. A
 * datagram holding `forbid` (may be NULL) first is a failure: the order is
 * the point. Returns the datagram (caller frees). */
static char *expect_msg(const world *w, const char *want, const char *forbid,
                        int timeout_ms)
{
	int64_t end = th_now_ms() + timeout_ms;
	for (;;) {
		int64_t left = end - th_now_ms();
		char *m = left > 0 ? dgram_next(w->nfd, (int)left) : NULL;
		if (!m) {
			show(w->e);
			fail_msg("no notification with %s within %d ms", want,
			         timeout_ms);
		}
		if (has_line(m, want))
			return m;
		if (forbid && has_line(m, forbid)) {
			show(w->e);
			fail_msg("got \"%s\" before %s", m, want);
		}
		free(m);
	}
}

/* Waits for a STATUS= that contains every needle (NULL-terminated). */
static void expect_status(const world *w, const char *const *needles)
{
	int64_t end = th_now_ms() + WAIT_MS;
	char last[600] = "";
	for (int64_t left = WAIT_MS; left > 0; left = end - th_now_ms()) {
		char *m = dgram_next(w->nfd, (int)left);
		if (!m)
			break;
		if (field(m, "STATUS", last, sizeof last)) {
			bool all = true;
			for (const char *const *n = needles; *n; n++)
				all = all && strstr(last, *n);
			if (all) {
				free(m);
				return;
			}
		}
		free(m);
	}
	show(w->e);
	fail_msg("no STATUS= with \"%s\"...; last: \"%s\"", needles[0], last);
}

#define EXPECT_STATUS(w, ...)                                                  \
	expect_status((w), (const char *const[]){__VA_ARGS__, NULL})

/* Nothing at all arrives on the notify socket within ms. */
static void expect_silence(const world *w, int ms)
{
	char *m = dgram_next(w->nfd, ms);
	if (m)
		fail_msg("unexpected notification: \"%s\"", m);
}

/* For ms, no datagram holding the line `line` arrives (others may). */
static void expect_none_with(const world *w, const char *line, int ms)
{
	int64_t end = th_now_ms() + ms;
	for (int64_t left = ms; left > 0; left = end - th_now_ms()) {
		char *m = dgram_next(w->nfd, (int)left);
		if (!m)
			return;
		if (has_line(m, line))
			fail_msg("unexpected notification: \"%s\"", m);
		free(m);
	}
}

/* Starts an instance told to use our notify socket and waits for READY=1;
 * returns that datagram (caller frees). */
static char *start_notified(world *w, const manager_env *more)
{
	manager_env m = more ? *more : (manager_env){0};
	m.notify_socket = w->notify;
	w->e->fb = spawn_run(w->e, w->e->err, &m);
	return expect_msg(w, "READY=1", NULL, WAIT_MS);
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- 1. READY=1 -------------------------------------------------------------- */

/* Fills the notify socket's queue with datagrams of our own until the
 * kernel refuses more, so that the instance's first notification blocks
 * in sendmsg() (sd_notify sends blocking) until we read. Returns how many
 * went in. */
static int fill_queue(const world *w)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	memcpy(a.sun_path, w->notify, strlen(w->notify) + 1);
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	int n = 0;
	while (n < 100000 && sendto(s, "FILL=1", 6, MSG_DONTWAIT,
	                            (struct sockaddr *)&a, sizeof a) == 6)
		n++;
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	close(s);
	return n;
}

/* READY=1 is sent only once the control socket is served and the start
 * event is in the log: with the notify queue full, the instance is held
 * at its READY=1 -- and by then both must already be there. */
static void test_ready_after_socket_and_start_event(void **state)
{
	world *w = *state;
	th_env *e = w->e;
	standard_config(e, "");
	notify_bind(w);
	int filled = fill_queue(w);
	print_message("notify queue holds %d datagrams\n", filled);
	w->e->fb =
	    spawn_run(e, e->err, &(manager_env){.notify_socket = w->notify});

	/* held at READY=1 (we have read nothing yet): the start event is
	 * durable and the socket accepts */
	wait_up(e);
	assert_int_equal(count_events(e, "start"), 1);
	int ctl = th_unix_connect(e->sock);
	assert_true(ctl >= 0);
	static const char req[] = "{\"op\":\"status\"}\n";
	assert_int_equal(th_send_all(ctl, req, sizeof req - 1, WAIT_MS), 0);
	assert_true(th_alive(e->fb));

	for (int i = 0; i < filled; i++) {
		char *m = dgram_next(w->nfd, WAIT_MS);
		assert_non_null(m);
		assert_string_equal(m, "FILL=1");
		free(m);
	}
	char *ready = dgram_next(w->nfd, WAIT_MS);
	if (!ready) {
		show(e);
		fail_msg("no READY=1 after the queue drained");
	}
	print_message("first notification: %s\n", ready);
	assert_true(has_line(ready, "READY=1"));
	assert_int_equal(field_num(ready, "MAINPID"), (long long)e->fb);
	char status[600];
	assert_true(field(ready, "STATUS", status, sizeof status));
	assert_non_null(strstr(status, "gate "));
	assert_non_null(strstr(status, "2 dependencies"));
	free(ready);

	/* the request sent while it was held is answered now */
	char *line = NULL;
	assert_int_equal(th_read_line(ctl, WAIT_MS, &line), TH_LINE);
	close(ctl);
	cJSON *doc = cJSON_Parse(line);
	free(line);
	assert_non_null(doc);
	assert_string_equal(th_json_str(doc, "host"), "testhost");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(doc, "gate"));
	cJSON_Delete(doc);

	/* no WATCHDOG_USEC: no keep-alives */
	expect_none_with(w, "WATCHDOG=1", 700);
	expect_clean_exit(e, SIGTERM);
}

/* ---- 2. reload ------------------------------------------------------------- */

static void expect_reload(const world *w, const char *status_needle)
{
	int64_t before = mono_us();
	assert_int_equal(kill(w->e->fb, SIGHUP), 0);
	char *m = expect_msg(w, "RELOADING=1", "READY=1", WAIT_MS);
	int64_t after = mono_us();
	long long usec = field_num(m, "MONOTONIC_USEC");
	print_message("reloading: %s\n", m);
	if (usec < before || usec > after)
		fail_msg("MONOTONIC_USEC=%lld is not between %lld and %lld",
		         usec, (long long)before, (long long)after);
	free(m);
	m = expect_msg(w, "READY=1", "RELOADING=1", WAIT_MS);
	print_message("after the reload: %s\n", m);
	assert_int_equal(field_num(m, "MAINPID"), (long long)w->e->fb);
	char status[600] = "";
	assert_true(field(m, "STATUS", status, sizeof status));
	if (status_needle && !strstr(status, status_needle))
		fail_msg("STATUS=%s lacks \"%s\"", status, status_needle);
	if (!status_needle && strstr(status, "refused"))
		fail_msg("STATUS=%s after a good reload", status);
	free(m);
}

/* SIGHUP: RELOADING=1 (with MONOTONIC_USEC, from the same clock as ours)
 * then READY=1 -- also when the new config is refused, which the status
 * then says until a reload succeeds. */
static void test_sighup_reloading_then_ready(void **state)
{
	world *w = *state;
	th_env *e = w->e;
	standard_config(e, "");
	notify_bind(w);
	free(start_notified(w, NULL));

	char deps[1024] = "";
	add_dep(deps, sizeof deps, e, "api", true);
	add_dep(deps, sizeof deps, e, "search", false);
	write_config(e, "", deps);
	expect_reload(w, NULL);
	if (!th_wait_file_contains(e->err, "added search", WAIT_MS)) {
		show(e);
		fail_msg("stderr does not tell of the reload");
	}

	FILE *f = fopen(e->cfg, "w");
	assert_non_null(f);
	fputs("[fusebox]\nno_such_key = 1\n", f);
	assert_int_equal(fclose(f), 0);
	expect_reload(w, "reload refused");
	assert_true(th_alive(e->fb));

	standard_config(e, "");
	expect_reload(w, NULL);
	expect_clean_exit(e, SIGTERM);
}

/* ---- 3. stopping ------------------------------------------------------------- */

/* SIGTERM and SIGINT: STOPPING=1 first, then the stop event, exit 0. */
static void test_stopping_on_sigterm_and_sigint(void **state)
{
	world *w = *state;
	th_env *e = w->e;
	const int sigs[] = {SIGTERM, SIGINT};
	standard_config(e, "");
	notify_bind(w);
	for (size_t i = 0; i < 2; i++) {
		free(start_notified(w, NULL));
		assert_int_equal(kill(e->fb, sigs[i]), 0);
		char *m = expect_msg(w, "STOPPING=1", "READY=1", WAIT_MS);
		print_message("signal %d: %s\n", sigs[i], m);
		free(m);
		expect_clean_exit(e, sigs[i]);
		assert_int_equal(count_events(e, "stop"), (int)i + 1);
	}
}

/* ---- 4. STATUS= follows the gate and health -------------------------------------- */

static void test_status_follows_gate_and_health(void **state)
{
	world *w = *state;
	th_env *e = w->e;
	standard_config(e, "recovery_timeout = 500ms\n");
	notify_bind(w);
	/* at READY=1 no probe has answered: nothing is called healthy */
	char *ready = start_notified(w, NULL);
	assert_non_null(ready);
	if (!strstr(ready, "STATUS=gate blocked, 2 dependencies, 2 unknown") ||
	    strstr(ready, "healthy"))
		fail_msg("READY=1 came with: %s", ready);
	free(ready);
	EXPECT_STATUS(w, "gate allowed", "all healthy");

	assert_int_equal(th_fixture_set(&e->fx, "/api", "fail"), 0);
	EXPECT_STATUS(w, "gate blocked", "1 unhealthy (api)");
	assert_int_equal(th_fixture_set(&e->fx, "/api", "ok"), 0);
	EXPECT_STATUS(w, "gate allowed", "2 dependencies");

	ctl_ok(e,
	       "{\"op\":\"gate\",\"mode\":\"block\",\"reason\":\"drill\"}\n");
	EXPECT_STATUS(w, "gate blocked (block)");
	ctl_ok(e, "{\"op\":\"gate\",\"mode\":\"auto\"}\n");
	EXPECT_STATUS(w, "gate allowed");
	expect_clean_exit(e, SIGTERM);
}

/* ---- 5. the watchdog ------------------------------------------------------------- */

/* WATCHDOG_USEC=400000: WATCHDOG=1 about every 200 ms, never a gap the
 * watchdog would kill for; with WATCHDOG_PID naming another process, none. */
static void test_watchdog_keepalive(void **state)
{
	world *w = *state;
	th_env *e = w->e;
	standard_config(e, "");
	notify_bind(w);
	free(start_notified(w, &(manager_env){.watchdog_usec = "400000"}));

	int64_t last = th_now_ms(), max_gap = 0;
	int pings = 0;
	while (pings < 8) {
		char *m = expect_msg(w, "WATCHDOG=1", NULL, 2000);
		int64_t now = th_now_ms();
		free(m);
		if (pings++ > 0 && now - last > max_gap)
			max_gap = now - last;
		last = now;
	}
	print_message("8 keep-alives, longest gap %lld ms\n",
	              (long long)max_gap);
	assert_true(max_gap < 400);
	assert_true(max_gap > 100); /* half the interval, not a busy loop */
	expect_clean_exit(e, SIGTERM);

	/* drain what came before the stop */
	char *m;
	while ((m = dgram_next(w->nfd, 100)) != NULL)
		free(m);
	free(start_notified(
	    w, &(manager_env){.watchdog_usec = "400000", .watchdog_pid = "1"}));
	expect_none_with(w, "WATCHDOG=1", 800);
	expect_clean_exit(e, SIGTERM);
}

/* ---- 6. no service manager ------------------------------------------------------- */

/* Without NOTIFY_SOCKET nothing is sent and everything works; with one
 * that names nothing, too. */
static void test_without_a_service_manager(void **state)
{
	world *w = *state;
	th_env *e = w->e;
	char gone[450];
	snprintf(gone, sizeof gone, "%s/no-such-dir/notify.sock", e->dir);
	const char *sockets[] = {NULL, gone};
	standard_config(e, "");
	notify_bind(w); /* bound, but nobody is told of it */
	for (size_t i = 0; i < 2; i++) {
		e->fb = spawn_run(e, e->err,
		                  &(manager_env){.notify_socket = sockets[i]});
		wait_up(e);
		cJSON *doc = ctl_status(e);
		assert_non_null(doc);
		cJSON_Delete(doc);
		assert_int_equal(kill(e->fb, SIGHUP), 0);
		if (!th_wait_file_contains(e->err, "fusebox: reloaded",
		                           WAIT_MS)) {
			show(e);
			fail_msg("SIGHUP did not reload");
		}
		doc = ctl_status(e);
		assert_non_null(doc);
		cJSON_Delete(doc);
		expect_clean_exit(e, SIGTERM);
		assert_int_equal(count_events(e, "stop"), (int)i + 1);
		unlink(e->err); /* the next run's "reloaded" is its own */
	}
	expect_silence(w, 200);
}

/* ---- 7. stderr levels --------------------------------------------------------- */

/* "DEV:INODE" of a file, as systemd writes JOURNAL_STREAM. */
static void stream_id(const char *path, char *out, size_t len)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	snprintf(out, len, "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

/* api answers, and the gate opens once it has; then api fails and opens;
 * cache is tripped by an operator; then SIGTERM. Returns the instance's
 * stderr (caller frees). */
static char *run_incident(th_env *e, const char *journal_stream)
{
	standard_config(e, "recovery_timeout = 30s\n");
	assert_int_equal(th_fixture_set(&e->fx, "/api", "ok"), 0);
	e->fb = spawn_run(e, e->err,
	                  &(manager_env){.journal_stream = journal_stream});
	wait_up(e);
	if (!th_wait_events(e->log, 1, "gate", NULL, "blocked", "allowed",
	                    WAIT_MS)) {
		show(e);
		fail_msg("the gate did not open after api's first probe");
	}
	assert_int_equal(th_fixture_set(&e->fx, "/api", "fail"), 0);
	if (!th_wait_events(e->log, 1, "gate", NULL, "allowed", "blocked",
	                    WAIT_MS)) {
		show(e);
		fail_msg("api did not open and block the gate");
	}
	ctl_ok(e, "{\"op\":\"trip\",\"dep\":\"cache\",\"reason\":\"drill\"}\n");
	assert_true(th_wait_events(e->log, 1, "transition", "cache", NULL,
	                           "forced_open", WAIT_MS));
	expect_clean_exit(e, SIGTERM);
	char *err = th_slurp(e->err, NULL);
	assert_non_null(err);
	return err;
}

/* Is there a line in text that starts with `start` and contains
 * `contains` and `also` (NULL: anything)? */
static bool has_stderr_line(const char *text, const char *start,
                            const char *contains, const char *also)
{
	size_t n = strlen(start);
	char line[2048];
	for (const char *p = text; p && *p;) {
		const char *end = strchr(p, '\n');
		size_t k = end ? (size_t)(end - p) : strlen(p);
		snprintf(line, sizeof line, "%.*s", (int)k, p);
		if (strncmp(line, start, n) == 0 &&
		    (!contains || strstr(line, contains)) &&
		    (!also || strstr(line, also)))
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

static void expect_line2(const char *text, const char *start,
                         const char *contains, const char *also)
{
	if (!has_stderr_line(text, start, contains, also)) {
		print_message("stderr:\n%s\n", text);
		fail_msg("no stderr line starting \"%s\" with \"%s\" and "
		         "\"%s\"",
		         start, contains ? contains : "", also ? also : "");
	}
}

static void expect_line(const char *text, const char *start,
                        const char *contains)
{
	expect_line2(text, start, contains, NULL);
}

/* stderr is the journal: every line carries its priority, none a
 * timestamp. */
static void test_journal_lines_carry_priorities(void **state)
{
	world *w = *state;
	th_env *e = w->e;
	char id[64];
	touch(e->err);
	stream_id(e->err, id, sizeof id);
	char *err = run_incident(e, id);

	expect_line(err, "<6>fusebox start ", NULL);
	expect_line(err, "<6>api health unknown -> healthy ",
	            "(first success since start)");
	expect_line(err, "<6>gate blocked -> allowed: ",
	            "All critical dependencies healthy");
	expect_line(err, "<4>api closed -> open (", NULL);
	expect_line(err, "<4>api health ", "-> unhealthy");
	expect_line(err, "<4>gate allowed -> blocked: ", "api is open");
	expect_line(err, "<5>", ": trip cache -- drill");
	expect_line(err, "<4>cache closed -> forced_open", NULL);
	expect_line(err, "<6>fusebox stop ", "signal");
	expect_line(err, "<6>ran ", "probes started");
	for (const char *p = err; *p;) {
		const char *end = strchr(p, '\n');
		bool prefixed =
		    p[0] == '<' && p[1] >= '0' && p[1] <= '7' && p[2] == '>';
		if (!prefixed || (p[3] >= '0' && p[3] <= '9')) {
			print_message("stderr:\n%s\n", err);
			fail_msg("a line without a priority prefix, or with a "
			         "timestamp: %.*s",
			         (int)(end ? end - p : (long)strlen(p)), p);
		}
		if (!end)
			break;
		p = end + 1;
	}
	free(err);
}

/* stderr is not the journal (no JOURNAL_STREAM, or one naming another
 * file): "<ts> LEVEL <text>". */
static void test_human_lines_carry_level_words(void **state)
{
	world *w = *state;
	th_env *e = w->e;
	char other[64];
	stream_id(e->dir, other, sizeof other); /* never fd 2 */
	const char *streams[] = {NULL, other};
	for (size_t i = 0; i < 2; i++) {
		unlink(e->err);
		unlink(e->log); /* each run its own incident */
		char *err = run_incident(e, streams[i]);
		const char *levels[][2] = {
		    {" INFO ", "fusebox start "},
		    {" WARNING ", "api closed -> open ("},
		    {" WARNING ", "gate allowed -> blocked: "},
		    {" NOTICE ", ": trip cache -- drill"},
		    {" WARNING ", "cache closed -> forced_open"},
		    {" INFO ", "fusebox stop "},
		};
		for (size_t k = 0; k < sizeof levels / sizeof *levels; k++)
			expect_line2(err, "20", levels[k][0], levels[k][1]);
		/* each event line: "<RFC 3339> LEVEL text" */
		const char *line = strstr(err, " WARNING api closed");
		assert_non_null(line);
		while (line > err && line[-1] != '\n')
			line--;
		char ts[40];
		snprintf(ts, sizeof ts, "%.*s", (int)strcspn(line, " "), line);
		if (th_rfc3339_ms(ts) <= 0)
			fail_msg("\"%s\" is not a timestamp", ts);
		assert_null(strstr(err, "\n<"));
		assert_false(err[0] == '<');
		expect_line(err, "fusebox: ran ", NULL);
		free(err);
	}
}

/* The event log cannot be written (the file may not grow: RLIMIT_FSIZE,
 * as on a full disk): an ERR line (<3> in the journal), a status that
 * says so, and the instance keeps serving. */
static void test_log_failure_is_err(void **state)
{
	world *w = *state;
	th_env *e = w->e;
	standard_config(e, "");
	/* an existing log, so that the limit can sit right at its end while
	 * stderr, a new small file, stays far below it */
	FILE *f = fopen(e->log, "w");
	assert_non_null(f);
	for (int i = 1; i <= 40; i++)
		fprintf(
		    f,
		    "{\"v\":1,\"seq\":%d,\"ts\":\"2026-01-01T00:00:00.000Z\","
		    "\"host\":\"testhost\",\"kind\":\"stop\",\"version\":"
		    "\"0.1.0\",\"config\":\"x\",\"reason\":\"%0120d\"}\n",
		    i, 0);
	assert_int_equal(fclose(f), 0);
	struct stat st;
	assert_int_equal(stat(e->log, &st), 0);
	touch(e->err);
	char id[64];
	stream_id(e->err, id, sizeof id);

	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size;
	void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	notify_bind(w);
	e->fb = spawn_run(
	    e, e->err,
	    &(manager_env){.journal_stream = id, .notify_socket = w->notify});
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, was);

	char *ready = expect_msg(w, "READY=1", NULL, WAIT_MS);
	print_message("%s\n", ready);
	char status[600] = "";
	assert_true(field(ready, "STATUS", status, sizeof status));
	free(ready);
	static const char says[] = "event log failing: File too large (";
	if (strncmp(status, says, strlen(says)) != 0 ||
	    !strstr(status, " queued); gate "))
		fail_msg("STATUS=%s does not say the log is failing", status);
	if (!th_wait_file_contains(e->err, "<3>event log failing: File too large",
	                           WAIT_MS)) {
		show(e);
		fail_msg("no <3> line for the failing event log");
	}
	assert_true(th_wait_unix_socket(e->sock, WAIT_MS));
	cJSON *doc = ctl_status(e);
	assert_non_null(doc);
	cJSON_Delete(doc);
	char *err = th_slurp(e->err, NULL);
	assert_non_null(err);
	print_message("stderr:\n%s", err);
	expect_line(err, "<6>fusebox start ", NULL);
	free(err);
	assert_int_equal(stat(e->log, &st), 0);
	assert_int_equal((long long)st.st_size, (long long)lim.rlim_cur);
	expect_clean_exit(e, SIGTERM);
}

/* ---- 8. the pieces, directly -------------------------------------------------- */

static void test_event_priorities(void **state)
{
	(void)state;
	struct {
		fb_event ev;
		int prio;
	} cases[] = {
	    {{.kind = FB_EV_TRANSITION, .from = "closed", .to = "open"},
	     LOG_WARNING},
	    {{.kind = FB_EV_TRANSITION, .from = "half_open", .to = "open"},
	     LOG_WARNING},
	    {{.kind = FB_EV_TRANSITION, .from = "closed", .to = "forced_open"},
	     LOG_WARNING},
	    {{.kind = FB_EV_TRANSITION, .from = "open", .to = "forced_closed"},
	     LOG_NOTICE},
	    {{.kind = FB_EV_TRANSITION, .from = "open", .to = "half_open"},
	     LOG_INFO},
	    {{.kind = FB_EV_TRANSITION, .from = "half_open", .to = "closed"},
	     LOG_INFO},
	    {{.kind = FB_EV_HEALTH, .from = "degraded", .to = "unhealthy"},
	     LOG_WARNING},
	    {{.kind = FB_EV_HEALTH, .from = "healthy", .to = "degraded"},
	     LOG_NOTICE},
	    {{.kind = FB_EV_HEALTH, .from = "unhealthy", .to = "healthy"},
	     LOG_INFO},
	    {{.kind = FB_EV_GATE, .from = "allowed", .to = "blocked"},
	     LOG_WARNING},
	    {{.kind = FB_EV_GATE, .from = "blocked", .to = "allowed"},
	     LOG_INFO},
	    {{.kind = FB_EV_OPERATOR, .action = FB_ACT_TRIP}, LOG_NOTICE},
	    {{.kind = FB_EV_OPERATOR, .action = FB_ACT_GATE_ALLOW}, LOG_NOTICE},
	    {{.kind = FB_EV_START}, LOG_INFO},
	    {{.kind = FB_EV_STOP}, LOG_INFO},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int got = fb_event_priority(&cases[i].ev);
		if (got != cases[i].prio)
			fail_msg("%s %s -> %s: priority %d, not %d",
			         fb_event_kind_name(cases[i].ev.kind),
			         cases[i].ev.from ? cases[i].ev.from : "",
			         cases[i].ev.to ? cases[i].ev.to : "", got,
			         cases[i].prio);
	}
	assert_string_equal(fb_priority_name(LOG_ERR), "ERR");
	assert_string_equal(fb_priority_name(LOG_WARNING), "WARNING");
	assert_string_equal(fb_priority_name(LOG_NOTICE), "NOTICE");
	assert_string_equal(fb_priority_name(LOG_INFO), "INFO");
}

/* JOURNAL_STREAM must name exactly what fd 2 is. */
static void test_journal_detection(void **state)
{
	world *w = *state;
	char path[500], id[64], bad[80];
	snprintf(path, sizeof path, "%s/stderr", w->e->dir);
	touch(path);
	stream_id(path, id, sizeof id);
	fflush(stderr);
	int saved = dup(2);
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(saved >= 0 && fd >= 0);
	assert_true(dup2(fd, 2) == 2);
	close(fd);

	bool unset = fb_stderr_is_journal();
	setenv("JOURNAL_STREAM", id, 1);
	bool exact = fb_stderr_is_journal();
	snprintf(bad, sizeof bad, "%s1", id); /* another inode */
	setenv("JOURNAL_STREAM", bad, 1);
	bool other = fb_stderr_is_journal();
	snprintf(bad, sizeof bad, "%s ", id);
	setenv("JOURNAL_STREAM", bad, 1);
	bool trailing = fb_stderr_is_journal();
	setenv("JOURNAL_STREAM", "", 1);
	bool empty = fb_stderr_is_journal();
	setenv("JOURNAL_STREAM", strchr(id, ':'), 1);
	bool no_dev = fb_stderr_is_journal();
	setenv("JOURNAL_STREAM", id, 1);
	fb_stderr_say(LOG_ERR, "event log: %s", "No space left on device");
	unsetenv("JOURNAL_STREAM");
	fb_stderr_say(LOG_ERR, "event log: %s", "No space left on device");

	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	assert_false(unset);
	assert_true(exact);
	assert_false(other);
	assert_false(trailing);
	assert_false(empty);
	assert_false(no_dev);
	char *text = th_slurp(path, NULL);
	assert_non_null(text);
	assert_string_equal(text,
	                    "<3>event log: No space left on device\n"
	                    "fusebox: event log: No space left on device\n");
	free(text);
}

/* ---- 9. the unit files ----------------------------------------------------------- */

static bool have_program(const char *name)
{
	const char *path = getenv("PATH");
	char dir[PATH_MAX], cand[PATH_MAX + 64];
	while (path && *path) {
		size_t n = strcspn(path, ":");
		snprintf(dir, sizeof dir, "%.*s", (int)n, path);
		snprintf(cand, sizeof cand, "%s/%s", dir[0] ? dir : ".", name);
		if (access(cand, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* `src` with @BINDIR@ replaced by the folder of the fusebox under test
 * (what `make install` does with its BINDIR), written to dir under the
 * same name; its path goes to out. Returns the original text (caller
 * frees). */
static char *install_unit(const char *src, const char *dir, char *out,
                          size_t len)
{
	char bindir[PATH_MAX], name[PATH_MAX];
	snprintf(bindir, sizeof bindir, "%s", g_fusebox);
	snprintf(name, sizeof name, "%s", src);
	const char *bin = dirname(bindir);
	char *text = th_slurp(src, NULL);
	if (!text)
		fail_msg("cannot read %s (run the suite from the repository)",
		         src);
	if (!strstr(text, "\nExecStart=@BINDIR@/fusebox run "))
		fail_msg("%s: no ExecStart=@BINDIR@/fusebox run", src);
	snprintf(out, len, "%s/%s", dir, basename(name));
	FILE *f = fopen(out, "w");
	assert_non_null(f);
	for (const char *p = text; *p;) {
		const char *hit = strstr(p, "@BINDIR@");
		size_t n = hit ? (size_t)(hit - p) : strlen(p);
		fwrite(p, 1, n, f);
		if (!hit)
			break;
		fputs(bin, f);
		p = hit + strlen("@BINDIR@");
	}
	assert_int_equal(fclose(f), 0);
	return text;
}

/* `systemd-analyze [--user] verify --man=no UNIT` finds nothing to say. */
static void verify_unit(const char *unit, bool user)
{
	char *sys_argv[] = {"systemd-analyze", "verify", "--man=no",
	                    (char *)unit, NULL};
	char *user_argv[] = {"systemd-analyze", "--user",     "verify",
	                     "--man=no",        (char *)unit, NULL};
	char name[PATH_MAX];
	th_result r;
	int rc = th_run(user ? user_argv : sys_argv, 60000, &r);
	print_message("systemd-analyze%s verify %s: exit %d\n%s%s",
	              user ? " --user" : "", unit, rc, r.out, r.err);
	/* verify exits 0 even for an unknown key: any word about the unit is
	 * a finding */
	snprintf(name, sizeof name, "%s", unit);
	const char *base = basename(name);
	bool said = strstr(r.out, base) || strstr(r.err, base);
	th_result_free(&r);
	assert_int_equal(rc, 0);
	assert_false(said);
}

/* Copies line, with what systemd and sysusers provide at run time made
 * here: the unit's folders under dir, and a group that exists. */
static void provided(FILE *f, const char *line, size_t n, const char *dir)
{
	static const char *const folders[] = {"/var/lib/fusebox", "/run/fusebox"};
	for (size_t i = 0; i < 2; i++) {
		const char *at = memmem(line, n, folders[i], strlen(folders[i]));
		if (at) {
			fprintf(f, "%.*s%s%.*s\n", (int)(at - line), line, dir,
			        (int)(n - (size_t)(at - line)), at);
			return;
		}
	}
	if (n > 16 && strncmp(line, "control_group = ", 16) == 0)
		fprintf(f, "control_group = root\n");
	else
		fprintf(f, "%.*s\n", (int)n, line);
}

/* The config the unit's comment shows ("#   " lines) is one that
 * `fusebox check-config` accepts, with the folders the unit provides
 * (StateDirectory, RuntimeDirectory: made under the test's dir here). */
static void check_config_snippet(const th_env *e, const char *unit_text)
{
	char path[600], folder[600];
	snprintf(path, sizeof path, "%s/snippet.ini", e->dir);
	snprintf(folder, sizeof folder, "%s/var/lib/fusebox", e->dir);
	assert_int_equal(th_mkdirs(folder, 0700), 0);
	snprintf(folder, sizeof folder, "%s/run/fusebox", e->dir);
	assert_int_equal(th_mkdirs(folder, 0700), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (const char *p = unit_text; p && *p;) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > 4 && strncmp(p, "#   ", 4) == 0)
			provided(f, p + 4, n - 4, e->dir);
		p = end ? end + 1 : NULL;
	}
	assert_int_equal(fclose(f), 0);
	char *argv[] = {g_fusebox, "check-config", path, NULL};
	th_result r;
	int rc = th_run(argv, 15000, &r);
	print_message("check-config of the unit's snippet: %d\n%s%s", rc, r.out,
	              r.err);
	bool sock = strstr(r.out, "/run/fusebox/fusebox.sock") != NULL;
	bool log = strstr(r.out, "/var/lib/fusebox/events.jsonl") != NULL;
	th_result_free(&r);
	assert_int_equal(rc, 0);
	assert_true(sock && log);
}

static void test_unit_files(void **state)
{
	world *w = *state;
	char sys_dir[600], user_dir[600], rt_dir[600], unit[PATH_MAX];
	snprintf(sys_dir, sizeof sys_dir, "%s/system", w->e->dir);
	snprintf(user_dir, sizeof user_dir, "%s/user", w->e->dir);
	snprintf(rt_dir, sizeof rt_dir, "%s/xdg-runtime", w->e->dir);
	assert_int_equal(mkdir(sys_dir, 0755), 0);
	assert_int_equal(mkdir(user_dir, 0755), 0);
	assert_int_equal(mkdir(rt_dir, 0700), 0);

	char *text = install_unit("src/systemd/fusebox.service", sys_dir, unit,
	                          sizeof unit);
	const char *must[] = {"Type=notify\n",
	                      "ExecReload=/bin/kill -HUP $MAINPID\n",
	                      "RuntimeDirectory=fusebox\n",
	                      "RuntimeDirectoryMode=0750\n",
	                      "StateDirectory=fusebox\n",
	                      "control_socket = /run/fusebox/fusebox.sock",
	                      "log = /var/lib/fusebox/",
	                      "ProtectSystem=strict\n",
	                      "CapabilityBoundingSet=\n",
	                      "NoNewPrivileges=yes\n"};
	for (size_t i = 0; i < sizeof must / sizeof *must; i++)
		if (!strstr(text, must[i]))
			fail_msg("fusebox.service lacks \"%s\"", must[i]);
	check_config_snippet(w->e, text);
	free(text);
	char user_unit[PATH_MAX];
	text = install_unit("src/systemd/user/fusebox.service", user_dir,
	                    user_unit, sizeof user_unit);
	assert_non_null(strstr(text, "Type=notify\n"));
	free(text);

	/* not cmocka's skip(): its TAP line is "not ok # SKIP", which
	 * tests/run-suites counts as a failure */
	if (!have_program("systemd-analyze")) {
		print_message(
		    "# SKIP systemd-analyze verify: systemd-analyze is "
		    "not installed (apt-get install systemd to check "
		    "the unit files)\n");
		return;
	}
	verify_unit(unit, false);
	char *saved = getenv("XDG_RUNTIME_DIR");
	char keep[PATH_MAX] = "";
	if (saved)
		snprintf(keep, sizeof keep, "%s", saved);
	setenv("XDG_RUNTIME_DIR", rt_dir, 1);
	verify_unit(user_unit, true);
	if (saved)
		setenv("XDG_RUNTIME_DIR", keep, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
}

/* ---- main ---------------------------------------------------------------------------- */

int main(void)
{
	if (getenv("FB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
	/* a suite run from a service must not tell its own manager things */
	unset_manager_vars();
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_ready_after_socket_and_start_event),
	    T(test_sighup_reloading_then_ready),
	    T(test_stopping_on_sigterm_and_sigint),
	    T(test_status_follows_gate_and_health),
	    T(test_watchdog_keepalive),
	    T(test_without_a_service_manager),
	    T(test_journal_lines_carry_priorities),
	    T(test_human_lines_carry_level_words),
	    T(test_log_failure_is_err),
	    cmocka_unit_test(test_event_priorities),
	    T(test_journal_detection),
	    T(test_unit_files),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
