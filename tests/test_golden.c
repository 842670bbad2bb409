/* Golden screens (issue 11): the real console (build/tests/fusebox,
 * sanitized) in tmux at 60x12, 80x24 and 160x45, each screen compared
 * with tests/golden/SCREEN-COLSxROWS.txt -- the live (embedded) screen,
 * attached to `fusebox run`, disconnected from it (killed), and the
 * replay screen over tests/golden/replay-events.jsonl.
 *
 * What is fixed: the wall clock (libfaketime, frozen at 2026-03-14
 * 09:26:53 UTC; the monotonic clock runs, so the event loop does), the
 * locale (C.UTF-8), the zone (TZ=UTC; the live screen once in JST-9 too),
 * the fixture's modes, and the probe schedule (interval 2h and open
 * waits of 2h: every countdown reads "2h 00m" for the first minute, and
 * the probes start in the order of their names' hash phase).
 *
 * What is masked, and only that: the temp dir ($DIR), the fixture's port
 * ($PORT), the instance's pid ("pid $PID"), the measured latencies
 * ("0.4/0.6" -> "#/#", padded to the same width) and the age of the data
 * of a disconnected console ("data 3s old" -> "data #s old", a digit a
 * digit).
 *
 * A screen counts when it shows what it must and stays the same for
 * 1.1 s (the table sorts itself again on each second's tick). To write the golden files again (after a change to the
 * screens that is meant): FUSEBOX_GOLDEN_UPDATE=1 build/tests/test_golden,
 * then read the diff before committing it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ctype.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include "helpers.h"

#define FUSEBOX_BIN "build/tests/fusebox"
#define FIXTURE_BIN "build/tests/fixture-httpd"
#define GOLDEN_DIR  "tests/golden"
#define WAIT_MS     10000
#define FROZEN_AT   "1773480413" /* 2026-03-14T09:26:53Z */

typedef struct gold {
	char dir[512];
	char cfg[600], log[600];
	char sock[64];
	char bin[PATH_MAX];
	char faketime[PATH_MAX];
	th_fixture fx;
	pid_t run; /* `fusebox run`, for the attached screens */
	char pid[16];
	bool tmux_up;
	char *screen; /* the last masked capture */
} gold;

static bool updating(void)
{
	const char *u = getenv("FUSEBOX_GOLDEN_UPDATE");
	return u && u[0] && strcmp(u, "0") != 0;
}

/* libfaketime's library, wherever the distribution put it. */
static bool find_faketime(char *out, size_t len)
{
	glob_t g;
	bool ok =
	    glob("/usr/lib/*/faketime/libfaketime.so.1", 0, NULL, &g) == 0 ||
	    glob("/usr/lib*/faketime/libfaketime.so.1", 0, NULL, &g) == 0;
	if (ok)
		snprintf(out, len, "%s", g.gl_pathv[0]);
	if (ok || g.gl_pathc)
		globfree(&g);
	return ok;
}

static int setup(void **state)
{
	static int serial;
	gold *g = calloc(1, sizeof *g);
	if (!g)
		return -1;
	if (!find_faketime(g->faketime, sizeof g->faketime)) {
		print_message("# libfaketime is missing: make deps (Debian "
		              "package faketime)\n");
		free(g);
		return -1;
	}
	if (!realpath(FUSEBOX_BIN, g->bin)) {
		print_message("# %s is missing: make %s\n", FUSEBOX_BIN,
		              FUSEBOX_BIN);
		free(g);
		return -1;
	}
	th_tempdir(g->dir, sizeof g->dir);
	snprintf(g->cfg, sizeof g->cfg, "%s/config.ini", g->dir);
	snprintf(g->log, sizeof g->log, "%s/events.jsonl", g->dir);
	snprintf(g->sock, sizeof g->sock, "fbgold-%ld-%d", (long)getpid(),
	         ++serial);
	if (th_fixture_start(&g->fx, FIXTURE_BIN, g->dir) != 0) {
		print_message("# cannot start %s\n", FIXTURE_BIN);
		th_rmtree(g->dir);
		free(g);
		return -1;
	}
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	gold *g = *state;
	if (g->tmux_up)
		th_tmux_kill(g->sock);
	if (g->run > 0)
		th_kill(g->run, SIGTERM, 3000);
	pid_t left = th_proc_find(g->bin, g->cfg);
	if (left > 0 && !th_proc_wait_gone(left, 3000)) {
		kill(left, SIGKILL);
		th_proc_wait_gone(left, 2000);
	}
	th_fixture_stop(&g->fx);
	free(g->screen);
	th_rmtree(g->dir);
	free(g);
	return 0;
}

/* ---- the world ---------------------------------------------------------- */

/* api-gateway and cache answer, billing-db (critical) fails with 503,
 * search resets the connection. One probe each at the start, then none
 * for two hours; an open breaker waits two hours. */
static void write_config(gold *g)
{
	char text[4096], path[700];
	assert_int_equal(th_fixture_set(&g->fx, "/api", "ok"), 0);
	assert_int_equal(th_fixture_set(&g->fx, "/billing", "fail"), 0);
	assert_int_equal(th_fixture_set(&g->fx, "/search", "reset"), 0);
	assert_int_equal(th_fixture_set(&g->fx, "/cache", "ok"), 0);
	snprintf(text, sizeof text,
	         "[fusebox]\n"
	         "log = %s\n"
	         "control_socket = %s/fb.sock\n"
	         "host = golden\n"
	         "\n"
	         "[defaults]\n"
	         "interval = 2h\n"
	         "timeout = 1s\n"
	         "failure_threshold = 1\n"
	         "recovery_timeout = 2h\n"
	         "backoff_cap = 4h\n"
	         "jitter = 0\n"
	         "\n"
	         "[dep api-gateway]\nurl = http://127.0.0.1:%d/api\n\n"
	         "[dep billing-db]\nurl = http://127.0.0.1:%d/billing\n"
	         "critical = true\n\n"
	         "[dep search]\nurl = http://127.0.0.1:%d/search\n\n"
	         "[dep cache]\nurl = http://127.0.0.1:%d/cache\n"
	         "critical = true\n",
	         g->log, g->dir, g->fx.port, g->fx.port, g->fx.port,
	         g->fx.port);
	th_write_file(g->dir, "config.ini", text, path, sizeof path);
}

/* The variables that freeze the wall clock, as `env` arguments: an epoch
 * second (FAKETIME_FMT=%s), so that it is the same instant in every
 * zone. ASan
 * wants to be the first library; with libfaketime preloaded it is not,
 * and that is all right here. */
static void frozen_env(const gold *g, char *out, size_t len)
{
	const char *asan = getenv("ASAN_OPTIONS");
	snprintf(out, len,
	         "LD_PRELOAD=%s FAKETIME_FMT=%%s FAKETIME=%s "
	         "FAKETIME_DONT_FAKE_MONOTONIC=1 "
	         "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
	         g->faketime, FROZEN_AT, asan && asan[0] ? asan : "",
	         asan && asan[0] ? ":" : "");
}

/* The console in a cols x rows terminal (TZ=UTC unless tz), run as
 * `fusebox ARGS`, with the wall clock frozen. */
static void start_console(gold *g, int cols, int rows, const char *tz,
                          const char *args)
{
	char env[PATH_MAX + 200], cmd[3 * PATH_MAX];
	frozen_env(g, env, sizeof env);
	snprintf(
	    cmd, sizeof cmd,
	    "timeout --foreground -k 2 120 env %s%s%s %s %s; exec sleep 120",
	    env, tz ? " TZ=" : "", tz ? tz : "", g->bin, args);
	assert_int_equal(th_tmux_start(g->sock, g->dir, cols, rows, cmd), 0);
	g->tmux_up = true;
}

/* `fusebox run` with the wall clock frozen, as the attached screens'
 * instance. */
static void start_instance(gold *g)
{
	char env[PATH_MAX + 200];
	frozen_env(g, env, sizeof env);
	setenv("LD_PRELOAD", g->faketime, 1);
	setenv("FAKETIME_FMT", "%s", 1);
	setenv("FAKETIME", FROZEN_AT, 1);
	setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1", 1);
	char *asan = strstr(env, "ASAN_OPTIONS=") + strlen("ASAN_OPTIONS=");
	char *old = getenv("ASAN_OPTIONS");
	char saved[512];
	snprintf(saved, sizeof saved, "%s", old ? old : "");
	setenv("ASAN_OPTIONS", asan, 1);
	char err[700];
	snprintf(err, sizeof err, "%s/run.err", g->dir);
	char *argv[] = {g->bin, "run", "--config", g->cfg, NULL};
	g->run = th_spawn(argv, NULL, err);
	unsetenv("LD_PRELOAD");
	unsetenv("FAKETIME_FMT");
	unsetenv("FAKETIME");
	unsetenv("FAKETIME_DONT_FAKE_MONOTONIC");
	if (saved[0])
		setenv("ASAN_OPTIONS", saved, 1);
	else
		unsetenv("ASAN_OPTIONS");
	assert_true(g->run > 0);
	snprintf(g->pid, sizeof g->pid, "%ld", (long)g->run);
	char sock[700];
	snprintf(sock, sizeof sock, "%s/fb.sock", g->dir);
	if (!th_wait_unix_socket(sock, WAIT_MS)) {
		th_show_tail("fusebox run", err);
		fail_msg("fusebox run did not serve %s", sock);
	}
}

/* ---- masking ------------------------------------------------------------ */

/* Replaces every `from` in *s with `to` (a new string). */
static void replace_all(char **s, const char *from, const char *to)
{
	size_t nf = strlen(from), nt = strlen(to), n = 0;
	if (!nf)
		return;
	for (const char *p = *s; (p = strstr(p, from)); p += nf)
		n++;
	if (!n)
		return;
	char *out = malloc(strlen(*s) + n * nt + 1), *o = out;
	assert_non_null(out);
	const char *p = *s, *q;
	while ((q = strstr(p, from))) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, nt);
		o += nt;
		p = q + nf;
	}
	memcpy(o, p, strlen(p) + 1);
	free(*s);
	*s = out;
}

/* A number as the table writes one: digits, maybe a dot and more. */
static size_t number_at(const char *p)
{
	size_t n = 0;
	while (isdigit((unsigned char)p[n]))
		n++;
	if (n && p[n] == '.' && isdigit((unsigned char)p[n + 1])) {
		n++;
		while (isdigit((unsigned char)p[n]))
			n++;
	}
	return n;
}

/* The byte offset of character column `col` in the line at p (every
 * character the table draws is one column wide), or -1 past its end. */
static long column_at(const char *p, int col)
{
	long off = 0;
	for (int c = 0; c < col; c++) {
		if (!p[off] || p[off] == '\n')
			return -1;
		off++;
		while (((unsigned char)p[off] & 0xc0) == 0x80)
			off++;
	}
	return off;
}

/* Under the "P50/P95 ms" title, a cell ("0.4/0.6", "12/31") becomes
 * "#/#" and spaces, as wide as it was; the age in "(data 12s old)"
 * becomes "(data ##s old)". */
static void mask_measured(char *s)
{
	int col = -1;
	for (char *line = s; *line;) {
		char *nl = strchr(line, '\n');
		char *title = strstr(line, "P50/P95 ms");
		if (title && (!nl || title < nl))
			col = (int)(title - line); /* the titles are ASCII */
		long off = col >= 0 ? column_at(line, col) : -1;
		size_t a = off >= 0 ? number_at(line + off) : 0;
		char *cell = line + (off >= 0 ? off : 0);
		size_t b = a && cell[a] == '/' ? number_at(cell + a + 1) : 0;
		if (b) {
			memset(cell, ' ', a + 1 + b);
			memcpy(cell, "#/#", 3);
		}
		char *age = strstr(line, "(data ");
		if (age && (!nl || age < nl)) {
			size_t n = number_at(age + 6);
			if (n && strncmp(age + 6 + n, "s old)", 6) == 0)
				memset(age + 6, '#', n);
		}
		if (!nl)
			break;
		line = nl + 1;
	}
}

/* Replaces `from` (once; no longer than to + 8) with `to` in the header,
 * where it ends a right-aligned run: the spaces before that run take up
 * the difference, so the line reads as if `from` had been as wide as
 * `to` (a pid of 4 digits or of 7 gives the same line). */
static void keep_right(char *s, const char *from, const char *to)
{
	char *at = strstr(s, from);
	size_t nf = strlen(from), nt = strlen(to);
	if (!at || nf > nt + 8)
		return;
	char *start = at; /* the run: back to two spaces in a row */
	while (start > s + 1 && start[-1] != '\n' &&
	       !(start[-1] == ' ' && start[-2] == ' '))
		start--;
	size_t run = (size_t)(at - start);
	char moved[512];
	if (run + nt >= sizeof moved)
		return;
	memcpy(moved, start, run);
	memcpy(moved + run, to, nt);
	/* the run moves right by nf - nt: spaces fill in from the left */
	if (nf >= nt) {
		memset(start, ' ', nf - nt);
		memcpy(start + nf - nt, moved, run + nt);
	} else if ((size_t)(start - s) >= nt - nf && start[-1] == ' ' &&
	           start[-2] == ' ') {
		start -= nt - nf; /* over spaces */
		memcpy(start, moved, run + nt);
	}
}

static char *masked_capture(gold *g)
{
	char *s = th_tmux_capture(g->sock, false);
	if (!s)
		return NULL;
	replace_all(&s, g->dir, "$DIR");
	char port[16];
	snprintf(port, sizeof port, ":%d", g->fx.port);
	replace_all(&s, port, ":$PORT");
	if (g->pid[0]) {
		char pid[32];
		snprintf(pid, sizeof pid, "pid %s", g->pid);
		keep_right(s, pid, "pid $PID");
	}
	mask_measured(s);
	return s;
}

/* ---- capture and compare ------------------------------------------------ */

typedef bool (*ready_fn)(const char *screen, void *ctx);

/* Waits until the masked screen holds ready() and stays the same for
 * STABLE_MS -- longer than a second, since the table sorts itself again
 * on the clock's tick -- and leaves it in g->screen. */
#define STABLE_MS 1100
static bool wait_stable(gold *g, ready_fn ready, void *ctx)
{
	int64_t end = th_now_ms() + WAIT_MS, since = 0;
	char *prev = NULL;
	bool ok = false;
	while (!ok && th_now_ms() < end) {
		char *s = masked_capture(g);
		int64_t now = th_now_ms();
		if (!s || !ready(s, ctx))
			since = 0;
		else if (!prev || strcmp(prev, s) != 0 || !since)
			since = now;
		else if (now - since >= STABLE_MS)
			ok = true;
		free(prev);
		prev = s;
		if (!ok)
			th_sleep_ms(200);
	}
	free(g->screen);
	g->screen = prev ? prev : strdup("");
	return ok;
}

static void print_text(const char *text)
{
	const char *p = text;
	for (int i = 0; *p && i < 80; i++) {
		size_t n = strcspn(p, "\n");
		print_message("#   |%.*s\n", (int)n, p);
		p += n + (p[n] ? 1 : 0);
	}
}

/* Compares g->screen with tests/golden/NAME.txt (or writes it, when
 * updating); on a difference, prints `diff -u`. */
static void compare(gold *g, const char *name)
{
	char path[600], got[700];
	snprintf(path, sizeof path, "%s/%s.txt", GOLDEN_DIR, name);
	if (updating()) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(g->screen, f);
		fclose(f);
		print_message("# wrote %s\n", path);
		return;
	}
	char *want = th_slurp(path, NULL);
	if (!want)
		fail_msg("%s is missing: FUSEBOX_GOLDEN_UPDATE=1 %s writes it",
		         path, "build/tests/test_golden");
	bool same = strcmp(want, g->screen) == 0;
	free(want);
	if (same)
		return;
	char out[700];
	snprintf(got, sizeof got, "%s/%s.txt", g->dir, name);
	th_write_file(g->dir, strrchr(got, '/') + 1, g->screen, out,
	              sizeof out);
	char *argv[] = {"diff", "-u", path, got, NULL};
	th_result r;
	th_run(argv, 5000, &r);
	print_message("# %s differs from the screen (- golden, + screen):\n",
	              path);
	print_text(r.out);
	th_result_free(&r);
	fail_msg("%s: the screen is not the golden one", name);
}

static void resize(gold *g, int cols, int rows)
{
	char x[16], y[16];
	snprintf(x, sizeof x, "%d", cols);
	snprintf(y, sizeof y, "%d", rows);
	assert_int_equal(th_tmux(g->sock, NULL, "resize-window", "-t",
	                         "=0:", "-x", x, "-y", y, (char *)NULL),
	                 0);
}

static void keys(gold *g, const char *key)
{
	assert_int_equal(th_tmux_keys(g->sock, key), 0);
}

/* Resizes to cols x rows, waits for a stable screen that holds ready()
 * and compares it with NAME-COLSxROWS (SUFFIX). */
static void shot(gold *g, const char *screen, int cols, int rows,
                 const char *suffix, ready_fn ready, void *ctx)
{
	char name[96];
	snprintf(name, sizeof name, "%s-%dx%d%s", screen, cols, rows,
	         suffix ? suffix : "");
	resize(g, cols, rows);
	char size[32];
	snprintf(size, sizeof size, "%d %d", cols, rows);
	char *now = th_tmux_display(g->sock, "#{pane_width} #{pane_height}");
	assert_non_null(now);
	assert_string_equal(now, size);
	free(now);
	if (!wait_stable(g, ready, ctx)) {
		print_message(
		    "# %s: no stable screen within %d ms; the last:\n", name,
		    WAIT_MS);
		print_text(g->screen);
		fail_msg("%s: no stable screen", name);
	}
	compare(g, name);
}

static bool has(const char *s, void *needle)
{
	return strstr(s, needle) != NULL;
}

/* ---- the screens -------------------------------------------------------- */

#define LIVE_EVENTS 7 /* start, 2 x healthy, 2 x (open, unhealthy) */

/* Every row in its state, every event in the pane. */
static bool live_ready(const char *s, void *ctx)
{
	const char *where = ctx;
	/* q:quit: the hints, not a passing message */
	return strstr(s, where) && strstr(s, "7 shown") &&
	       strstr(s, "q:quit") && strstr(s, "billing-db") &&
	       strstr(s, "retry 2h 00m") && !strstr(s, "probing") &&
	       !strstr(s, "unknown  ");
}

static void wait_events(gold *g, int n)
{
	if (!th_wait_events(g->log, n, NULL, NULL, NULL, NULL, WAIT_MS))
		fail_msg("the log did not get %d events", n);
}

static void test_live_screens(void **state)
{
	gold *g = *state;
	char args[1024];
	write_config(g);
	snprintf(args, sizeof args, "--config %s", g->cfg);
	/* local time in Japan first: the clock and the pane say JST */
	start_console(g, 160, 45, "JST-9", args);
	wait_events(g, LIVE_EVENTS);
	shot(g, "live", 160, 45, "-jst", live_ready, "golden (embedded)");
	assert_non_null(strstr(g->screen, "18:26:53 JST"));
	keys(g, "z"); /* UTC, and what every other screen shows */
	assert_true(wait_stable(g, has, "09:26:53 UTC"));
	shot(g, "live", 160, 45, NULL, live_ready, "golden (embedded)");
	shot(g, "live", 80, 24, NULL, live_ready, "golden (embedded)");
	shot(g, "live", 60, 12, NULL, live_ready, "embedded");
}

static bool disconnected_ready(const char *s, void *ctx)
{
	(void)ctx;
	/* the events, and the console's own line saying what happened */
	return strstr(s, "DISCONNECTED") && strstr(s, "8 shown") &&
	       strstr(s, "q:quit") && strstr(s, "lost the instance");
}

static void test_attached_and_disconnected_screens(void **state)
{
	gold *g = *state;
	char args[1024];
	write_config(g);
	start_instance(g);
	wait_events(g, LIVE_EVENTS);
	snprintf(args, sizeof args, "--config %s", g->cfg);
	start_console(g, 160, 45, NULL, args);
	shot(g, "attached", 160, 45, NULL, live_ready, "attached to golden");
	shot(g, "attached", 80, 24, NULL, live_ready, "attached to golden");
	shot(g, "attached", 60, 12, NULL, live_ready, "attached");
	/* the instance dies under it */
	assert_true(th_kill(g->run, SIGKILL, 3000) >= 0);
	g->run = 0;
	shot(g, "disconnected", 60, 12, NULL, disconnected_ready, NULL);
	shot(g, "disconnected", 80, 24, NULL, disconnected_ready, NULL);
	shot(g, "disconnected", 160, 45, NULL, disconnected_ready, NULL);
}

static bool replay_ready(const char *s, void *ctx)
{
	(void)ctx;
	return strstr(s, "REPLAY") && strstr(s, "09:12:31") &&
	       strstr(s, "q:leave") && strstr(s, "event 8/14");
}

static void test_replay_screens(void **state)
{
	gold *g = *state;
	char args[PATH_MAX + 16], log[PATH_MAX];
	assert_non_null(realpath(GOLDEN_DIR "/replay-events.jsonl", log));
	snprintf(args, sizeof args, "--replay %s", log);
	start_console(g, 160, 45, NULL, args);
	assert_true(wait_stable(g, has, "REPLAY"));
	/* the cursor on the outage: billing-db open, the gate blocked */
	keys(g, "g");
	assert_int_equal(th_tmux_type(g->sock, "09:12:31"), 0);
	keys(g, "Enter");
	shot(g, "replay", 160, 45, NULL, replay_ready, NULL);
	shot(g, "replay", 80, 24, NULL, replay_ready, NULL);
	shot(g, "replay", 60, 12, NULL, replay_ready, NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_live_screens),
	    T(test_attached_and_disconnected_screens),
	    T(test_replay_screens),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
