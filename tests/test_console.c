/* The console end to end (SPEC sections 4 and 6): the real ncursesw
 * console (build/tests/fusebox, sanitized) in a real terminal -- a tmux
 * server of its own per test, fixed size, C.UTF-8, TZ=UTC -- probing a
 * fault-injection fixture of its own. Keys go in with send-keys, the
 * screen comes back with capture-pane, and every wait polls a condition
 * with a deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

#define FUSEBOX_BIN "build/tests/fusebox"
#define FIXTURE_BIN "build/tests/fixture-httpd"
#define WAIT_MS 5000 /* the longest any one condition may take */

typedef struct con {
	char dir[512];
	char cfg[600], log[600], exitf[600], errs[700];
	char sock[64];
	char bin[PATH_MAX];
	th_fixture fx;
	pid_t pid;       /* the console: a child of tmux's shell, not ours */
	bool tmux_up;
	bool watch_pid;  /* a wait on the screen gives up when it dies */
	char *screen;    /* the last capture a check looked at */
} con;

/* ---- set-up ------------------------------------------------------------ */

static int setup(void **state)
{
	static int serial;
	con *c = calloc(1, sizeof *c);
	if (!c)
		return -1;
	th_tempdir(c->dir, sizeof c->dir);
	snprintf(c->cfg, sizeof c->cfg, "%s/config.ini", c->dir);
	snprintf(c->log, sizeof c->log, "%s/events.jsonl", c->dir);
	snprintf(c->exitf, sizeof c->exitf, "%s/exit", c->dir);
	snprintf(c->errs, sizeof c->errs, "%s.console-errors", c->log);
	snprintf(c->sock, sizeof c->sock, "fbcon-%ld-%d", (long)getpid(), ++serial);
	if (!realpath(FUSEBOX_BIN, c->bin)) {
		print_message("# %s is missing: make %s\n", FUSEBOX_BIN, FUSEBOX_BIN);
		th_rmtree(c->dir);
		free(c);
		return -1;
	}
	if (th_fixture_start(&c->fx, FIXTURE_BIN, c->dir) != 0) {
		print_message("# cannot start %s\n", FIXTURE_BIN);
		th_rmtree(c->dir);
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

/* Prints text as TAP comments, at most max_lines lines, without the
 * blank lines at its end. */
static void print_lines(const char *text, int max_lines)
{
	const char *p = text ? text : "";
	const char *end = p + strlen(p);
	while (end > p && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	for (int i = 0; p < end && i < max_lines; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int n = nl ? (int)(nl - p) : (int)(end - p);
		print_message("#   |%.*s\n", n, p);
		p += n + (nl ? 1 : 0);
	}
}

static void print_screen(const char *screen)
{
	print_lines(screen, 60);
}

static int teardown(void **state)
{
	con *c = *state;
	if (c->tmux_up)
		th_tmux_kill(c->sock); /* SIGHUP to the console: it stops */
	if (c->pid > 0 && !th_proc_wait_gone(c->pid, 3000)) {
		kill(c->pid, SIGKILL);
		th_proc_wait_gone(c->pid, 2000);
	}
	th_fixture_stop(&c->fx);
	/* an ASan/UBSan report from the console lands here */
	char *errs = th_slurp(c->errs, NULL);
	if (errs && errs[0]) {
		print_message("# the console's stderr:\n");
		print_lines(errs, 16);
	}
	free(errs);
	free(c->screen);
	th_rmtree(c->dir);
	free(c);
	return 0;
}

/* ---- the console ------------------------------------------------------- */

static void write_config(con *c, const char *deps)
{
	char text[8192], path[700];
	snprintf(text, sizeof text,
	         "[fusebox]\n"
	         "log = %s\n"
	         "control_socket = %s/fb.sock\n"
	         "host = console-test\n"
	         "\n"
	         "[defaults]\n"
	         "interval = 200ms\n"
	         "timeout = 1s\n"
	         "failure_threshold = 2\n"
	         "recovery_timeout = 30s\n"
	         "backoff_cap = 1m\n"
	         "\n%s",
	         c->log, c->dir, deps);
	th_write_file(c->dir, "config.ini", text, path, sizeof path);
}

/* api-ok answers, billing-db (critical) fails with 503, cache-tcp is a
 * TCP port nobody listens on. */
static void write_standard_config(con *c)
{
	char deps[2048];
	int closed = th_free_port();
	assert_true(closed > 0);
	assert_int_equal(th_fixture_set(&c->fx, "/ok", "ok"), 0);
	assert_int_equal(th_fixture_set(&c->fx, "/billing", "fail"), 0);
	snprintf(deps, sizeof deps,
	         "[dep api-ok]\nurl = http://127.0.0.1:%d/ok\n\n"
	         "[dep billing-db]\nurl = http://127.0.0.1:%d/billing\n"
	         "critical = true\n\n"
	         "[dep cache-tcp]\nurl = tcp://127.0.0.1:%d\n",
	         c->fx.port, c->fx.port, closed);
	write_config(c, deps);
}

/* alpha and bravo both answer. */
static void write_two_ok_config(con *c)
{
	char deps[1024];
	assert_int_equal(th_fixture_set(&c->fx, "/alpha", "ok"), 0);
	assert_int_equal(th_fixture_set(&c->fx, "/bravo", "ok"), 0);
	snprintf(deps, sizeof deps,
	         "[dep alpha]\nurl = http://127.0.0.1:%d/alpha\n\n"
	         "[dep bravo]\nurl = http://127.0.0.1:%d/bravo\n",
	         c->fx.port, c->fx.port);
	write_config(c, deps);
}

static bool find_console(void *ctx)
{
	con *c = ctx;
	c->pid = th_proc_find(c->bin, c->cfg);
	return c->pid > 0;
}

static void keys(con *c, const char *key)
{
	assert_int_equal(th_tmux_keys(c->sock, key), 0);
}

static void type_text(con *c, const char *text)
{
	assert_int_equal(th_tmux_type(c->sock, text), 0);
}

static void resize(con *c, int cols, int rows)
{
	char x[16], y[16];
	snprintf(x, sizeof x, "%d", cols);
	snprintf(y, sizeof y, "%d", rows);
	assert_int_equal(th_tmux(c->sock, NULL, "resize-window", "-t", "=0:", "-x",
	                         x, "-y", y, (char *)NULL), 0);
}

/* `display -p FORMAT`, in a static buffer ("(tmux failed)" on error). */
static char display_buf[256];
static const char *display(con *c, const char *format)
{
	char *v = th_tmux_display(c->sock, format);
	snprintf(display_buf, sizeof display_buf, "%s", v ? v : "(tmux failed)");
	free(v);
	return display_buf;
}

typedef struct screen_wait {
	con *c;
	th_screen_fn fn;
	void *ctx;
	bool died;
} screen_wait;

static bool holds_or_died(const char *screen, void *ctx)
{
	screen_wait *w = ctx;
	if (w->fn(screen, w->ctx))
		return true;
	if (w->c->watch_pid && !th_proc_alive(w->c->pid)) {
		w->died = true;
		return true;
	}
	return false;
}

/* Waits up to timeout_ms for fn to hold on the screen (with escapes or
 * not). The last capture stays in c->screen for the checks that follow;
 * when the wait fails it is printed, with why. */
static bool wait_screen_for(con *c, bool escapes, th_screen_fn fn, void *ctx,
                            int timeout_ms, const char *what)
{
	screen_wait w = {c, fn, ctx, false};
	free(c->screen);
	c->screen = NULL;
	bool ok = th_tmux_wait(c->sock, escapes, holds_or_died, &w, timeout_ms,
	                       &c->screen);
	if (!c->screen)
		c->screen = strdup("");
	ok = ok && !w.died;
	if (!ok) {
		print_message("# %s: not seen within %d ms%s; the screen:\n", what,
		              timeout_ms, w.died ? " (the console died)" : "");
		print_screen(c->screen);
	}
	return ok;
}

static const char *wait_screen(con *c, th_screen_fn fn, void *ctx,
                               const char *what)
{
	wait_screen_for(c, false, fn, ctx, WAIT_MS, what);
	return c->screen;
}

/* Starts the console on c->cfg in a cols x rows terminal and waits for
 * its table. env: variables to set first ("TZ=JST-9"), or NULL; extra:
 * more arguments, or NULL. */
static void start_console_with(con *c, int cols, int rows, const char *env,
                               const char *extra)
{
	/* `timeout --foreground` (same process group: the console keeps the
	 * terminal) only bounds a console that a crashed suite left behind;
	 * the shell stays on after it so that the pane keeps the console's
	 * last word on the terminal (a dead pane is tmux's business). UBSan
	 * stops the console at its first report unless told otherwise. */
	char cmd[3 * PATH_MAX];
	snprintf(cmd, sizeof cmd,
	         "%s%sUBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} "
	         "timeout --foreground -k 2 120 %s --config %s%s%s; "
	         "echo EXIT=$? > %s; exec sleep 120",
	         env ? env : "", env ? " " : "", c->bin, c->cfg, extra ? " " : "",
	         extra ? extra : "", c->exitf);
	assert_int_equal(th_tmux_start(c->sock, c->dir, cols, rows, cmd), 0);
	c->tmux_up = true;
	if (!th_wait_until(find_console, c, WAIT_MS)) {
		char *screen = th_tmux_capture(c->sock, false);
		print_message("# the console did not start; the screen:\n");
		print_screen(screen);
		free(screen);
		fail_msg("no console process for %s", c->cfg);
	}
	c->watch_pid = true;
	assert_true(wait_screen_for(c, false, th_screen_has, "DEPENDENCY",
	                            WAIT_MS, "the table's titles"));
}

static void start_console(con *c, int cols, int rows, const char *extra)
{
	start_console_with(c, cols, rows, NULL, extra);
}

/* ---- reading the screen ------------------------------------------------ */

static bool row_has(const char *screen, const char *name, const char *word)
{
	char row[1024];
	return strstr(th_screen_row(screen, name, row, sizeof row), word) !=
	       NULL;
}

/* The number of lines holding `word` but not `not`, the bottom line left
 * out (the key hints). */
static int lines_with(const char *screen, const char *word, const char *not)
{
	int n = 0;
	for (const char *p = screen; p && *p;) {
		const char *nl = strchr(p, '\n');
		char line[1024];
		snprintf(line, sizeof line, "%.*s",
		         (int)(nl ? (size_t)(nl - p) : strlen(p)), p);
		bool last = !nl || !nl[1 + strspn(nl + 1, "\n")];
		if (!last && strstr(line, word) && !(not && strstr(line, not)))
			n++;
		p = nl ? nl + 1 : NULL;
	}
	return n;
}

/* Applies one SGR sequence's parameters (p..end) to the reverse flag. */
static void apply_sgr(const char *p, const char *end, bool *reverse)
{
	while (p <= end) {
		char *stop;
		long v = strtol(p, &stop, 10);
		if (stop == p)
			v = 0; /* an empty parameter is 0 */
		if (v == 0 || v == 27)
			*reverse = false;
		else if (v == 7)
			*reverse = true;
		else if (v == 38 || v == 48 || v == 58) { /* skip the colour */
			long kind = stop < end && (*stop == ';' || *stop == ':')
			                ? strtol(stop + 1, &stop, 10) : 0;
			for (long i = 0; i < (kind == 5 ? 1 : kind == 2 ? 3 : 0); i++) {
				if (stop < end && (*stop == ';' || *stop == ':'))
					strtol(stop + 1, &stop, 10);
			}
		}
		p = stop + 1; /* past the ';' (or the 'm') */
	}
}

/* In a `capture-pane -e` screen: the first word of the table row whose
 * first cell is drawn in reverse video -- the selection -- into out, or
 * "" when there is none. tmux carries attributes from line to line. */
static const char *selected_row(const char *s, char *out, size_t len)
{
	bool reverse = false, line_start = true;
	out[0] = '\0';
	for (const char *p = s; *p;) {
		if (p[0] == '\x1b' && p[1] == '[') {
			const char *q = p + 2;
			while (*q && !(*q >= 0x40 && *q <= 0x7e))
				q++;
			if (*q == 'm')
				apply_sgr(p + 2, q, &reverse);
			p = *q ? q + 1 : q;
			continue;
		}
		if (*p == '\n') {
			line_start = true;
			p++;
			continue;
		}
		if (line_start && reverse && *p != ' ') {
			size_t n = strcspn(p, " \x1b\n");
			snprintf(out, len, "%.*s", (int)n, p);
			return out;
		}
		line_start = false;
		p++;
	}
	return out;
}

/* ---- the event log ----------------------------------------------------- */

static int count_events(con *c, const char *kind, const char *dep,
                        const char *to)
{
	cJSON *events = th_jsonl_read(c->log, NULL, NULL);
	if (!events)
		return 0;
	int n = th_events_count(events, kind, dep, NULL, to);
	cJSON_Delete(events);
	return n;
}

static bool exit_file_written(const char *text, size_t len, void *ctx)
{
	(void)ctx;
	return len > 0 && strchr(text, '\n') != NULL;
}

/* Waits for the shell's "EXIT=N" line and returns N (-1: none). */
static int console_exit_code(con *c)
{
	char text[64];
	if (!th_wait_file_text(c->exitf, exit_file_written, NULL, WAIT_MS) ||
	    th_read_file(c->exitf, text, sizeof text) <= 0)
		return -1;
	int code = -1;
	return sscanf(text, "EXIT=%d", &code) == 1 ? code : -1;
}

static bool terminal_restored(void *ctx)
{
	con *c = ctx;
	char *alt = th_tmux_display(c->sock, "#{alternate_on} #{cursor_flag}");
	bool ok = alt && strcmp(alt, "0 1") == 0;
	free(alt);
	return ok;
}

/* After the console ended: its exit status is 0, the last event is
 * "stop", and the terminal is given back (main screen, cursor shown). */
static void expect_clean_exit(con *c)
{
	c->watch_pid = false;
	assert_int_equal(console_exit_code(c), 0);
	assert_true(th_proc_wait_gone(c->pid, WAIT_MS));

	cJSON *events = th_jsonl_read(c->log, NULL, NULL);
	assert_non_null(events);
	int n = cJSON_GetArraySize(events);
	assert_true(n > 0);
	const char *last = th_json_str(cJSON_GetArrayItem(events, n - 1), "kind");
	assert_non_null(last);
	assert_string_equal(last, "stop");
	cJSON_Delete(events);

	/* tmux reads the console's last output when it likes: wait for it */
	assert_true(th_wait_until(terminal_restored, c, WAIT_MS));
	assert_string_equal(display(c, "#{alternate_on}"), "0");
	assert_string_equal(display(c, "#{cursor_flag}"), "1");
	/* the main screen is back: the console's table is gone from view */
	assert_true(wait_screen_for(c, false, th_screen_lacks, "DEPENDENCY",
	                            WAIT_MS, "the main screen after exit"));
}

/* ---- 1. rows and states ------------------------------------------------ */

static bool states_settled(const char *s, void *ctx)
{
	(void)ctx;
	char head[512];
	int ok = th_screen_row_of(s, "api-ok"),
	    bad = th_screen_row_of(s, "billing-db"),
	    tcp = th_screen_row_of(s, "cache-tcp");
	return ok >= 0 && bad >= 0 && tcp >= 0 &&
	       strstr(th_screen_line(s, 0, head, sizeof head),
	              "GATE BLOCKED") &&
	       row_has(s, "billing-db", " open ") &&
	       row_has(s, "billing-db", "unhealthy") &&
	       row_has(s, "cache-tcp", " open ") &&
	       row_has(s, "cache-tcp", "unhealthy") &&
	       row_has(s, "api-ok", " closed ") &&
	       row_has(s, "api-ok", " healthy ") && bad < ok && tcp < ok;
}

static void test_rows_and_states(void **state)
{
	con *c = *state;
	write_standard_config(c);
	start_console(c, 80, 24, NULL);
	const char *s = wait_screen(c, states_settled, NULL,
	                            "every row in its state, worst first");
	char head[512];
	assert_true(th_screen_row_of(s, "api-ok") >= 0);
	assert_true(th_screen_row_of(s, "billing-db") >= 0);
	assert_true(th_screen_row_of(s, "cache-tcp") >= 0);
	assert_non_null(
	    strstr(th_screen_line(s, 0, head, sizeof head), "GATE BLOCKED"));
	assert_true(row_has(s, "billing-db", " open "));
	assert_true(row_has(s, "billing-db", "unhealthy"));
	assert_true(row_has(s, "cache-tcp", " open "));
	assert_true(row_has(s, "cache-tcp", "unhealthy"));
	assert_true(row_has(s, "api-ok", " closed "));
	assert_true(row_has(s, "api-ok", " healthy "));
	/* worst first: both broken dependencies above the healthy one */
	assert_true(th_screen_row_of(s, "billing-db") <
	            th_screen_row_of(s, "api-ok"));
	assert_true(th_screen_row_of(s, "cache-tcp") <
	            th_screen_row_of(s, "api-ok"));
}

/* ---- 2. help ----------------------------------------------------------- */

static bool help_open(const char *s, void *ctx)
{
	(void)ctx;
	/* rows of the key table, not the hint line ("t:trip", "q:quit") */
	return strstr(s, "fusebox keys") && lines_with(s, "trip", "t:trip") > 0 &&
	       lines_with(s, "quit", "q:quit") > 0;
}

static bool all_rows_shown(const char *s, void *ctx)
{
	(void)ctx;
	return !strstr(s, "fusebox keys") &&
	       th_screen_row_of(s, "api-ok") >= 0 &&
	       th_screen_row_of(s, "billing-db") >= 0 &&
	       th_screen_row_of(s, "cache-tcp") >= 0;
}

static void test_help_opens_and_closes(void **state)
{
	con *c = *state;
	write_standard_config(c);
	start_console(c, 80, 24, NULL);
	assert_true(wait_screen_for(c, false, all_rows_shown, NULL, WAIT_MS, "rows"));

	keys(c, "?");
	assert_true(wait_screen_for(c, false, help_open, NULL, WAIT_MS,
	                            "the help after '?'"));
	assert_true(lines_with(c->screen, "filter", "/:filter") > 0);
	keys(c, "x"); /* any key closes it */
	assert_true(wait_screen_for(c, false, all_rows_shown, NULL, WAIT_MS,
	                            "the table after closing the help"));

	keys(c, "F1");
	assert_true(wait_screen_for(c, false, help_open, NULL, WAIT_MS,
	                            "the help after F1"));
	keys(c, "Escape");
	assert_true(wait_screen_for(c, false, all_rows_shown, NULL, WAIT_MS,
	                            "the table after Esc on the help"));
	assert_true(th_proc_alive(c->pid));
}

/* ---- 3. filter --------------------------------------------------------- */

static bool only_billing(const char *s, void *ctx)
{
	(void)ctx;
	return th_screen_row_of(s, "billing-db") >= 0 &&
	       th_screen_row_of(s, "api-ok") < 0 &&
	       th_screen_row_of(s, "cache-tcp") < 0;
}

static void test_filter(void **state)
{
	con *c = *state;
	write_standard_config(c);
	start_console(c, 80, 24, NULL);
	assert_true(wait_screen_for(c, false, all_rows_shown, NULL, WAIT_MS,
	                            "all three rows"));

	keys(c, "/");
	type_text(c, "bill");
	assert_true(wait_screen_for(c, false, th_screen_has, "filter: bill",
	                            WAIT_MS, "the filter being typed"));
	keys(c, "Enter");
	assert_true(wait_screen_for(c, false, only_billing, NULL, WAIT_MS,
	                            "only the matching row"));
	assert_true(th_screen_row_of(c->screen, "billing-db") >= 0);
	assert_int_equal(th_screen_row_of(c->screen, "api-ok"), -1);
	assert_int_equal(th_screen_row_of(c->screen, "cache-tcp"), -1);

	keys(c, "/");
	keys(c, "Escape");
	assert_true(wait_screen_for(c, false, all_rows_shown, NULL, WAIT_MS,
	                            "every row back after Esc"));
	assert_true(th_screen_row_of(c->screen, "api-ok") >= 0);
	assert_true(th_screen_row_of(c->screen, "cache-tcp") >= 0);
}

/* ---- 4. trip, with confirmation ---------------------------------------- */

/* Both healthy, and sorted again since: an unknown row sorts above a
 * healthy one until the table re-sorts with the clock. */
static bool both_healthy(const char *s, void *ctx)
{
	(void)ctx;
	int a = th_screen_row_of(s, "alpha"), b = th_screen_row_of(s, "bravo");
	return a >= 0 && b > a && row_has(s, "alpha", " closed ") &&
	       row_has(s, "bravo", " closed ") &&
	       row_has(s, "alpha", " healthy ") && row_has(s, "bravo", " healthy ");
}

static bool bravo_tripped(const char *s, void *ctx)
{
	(void)ctx;
	return row_has(s, "bravo", "forced_open");
}

static void test_trip_with_confirmation(void **state)
{
	con *c = *state;
	const char *reason = "planned maintenance 42";
	write_two_ok_config(c);
	start_console(c, 80, 24, NULL);
	assert_true(wait_screen_for(c, false, both_healthy, NULL, WAIT_MS,
	                            "alpha and bravo healthy"));

	/* rows by name when all are healthy: alpha, then bravo */
	keys(c, "j");
	keys(c, "t");
	assert_true(wait_screen_for(c, false, th_screen_has, "Trip bravo",
	                            WAIT_MS, "a dialog naming bravo"));
	assert_non_null(strstr(c->screen, "y: yes"));

	/* no: nothing changes */
	keys(c, "n");
	assert_true(wait_screen_for(c, false, th_screen_lacks, "Trip bravo",
	                            WAIT_MS, "the dialog closed by 'n'"));
	assert_true(wait_screen_for(c, false, th_screen_has, "cancelled",
	                            WAIT_MS, "the cancel message"));
	assert_true(row_has(c->screen, "bravo", " closed "));
	assert_int_equal(count_events(c, "operator", NULL, NULL), 0);

	/* yes, with a reason */
	keys(c, "t");
	assert_true(wait_screen_for(c, false, th_screen_has, "Trip bravo",
	                            WAIT_MS, "the dialog again"));
	keys(c, "y");
	assert_true(wait_screen_for(c, false, th_screen_has, "Reason for trip",
	                            WAIT_MS, "the reason prompt"));
	type_text(c, reason);
	assert_true(wait_screen_for(c, false, th_screen_has,
	                            "> planned maintenance 42", WAIT_MS,
	                            "the reason as typed"));
	keys(c, "Enter");
	assert_true(wait_screen_for(c, false, bravo_tripped, NULL, WAIT_MS,
	                            "bravo forced_open"));
	assert_true(row_has(c->screen, "alpha", " closed "));

	assert_true(th_wait_events(c->log, 1, "transition", "bravo", NULL,
	                           "forced_open", WAIT_MS));
	cJSON *events = th_jsonl_read(c->log, NULL, NULL);
	assert_non_null(events);
	assert_int_equal(th_events_count(events, "operator", NULL, NULL, NULL), 1);
	int op_at = th_events_index(events, 0, "operator", "bravo", NULL, NULL);
	assert_true(op_at >= 0);
	const cJSON *op = cJSON_GetArrayItem(events, op_at);
	const char *action = th_json_str(op, "action");
	const char *actor = th_json_str(op, "actor");
	const char *why = th_json_str(op, "reason");
	assert_non_null(action);
	assert_string_equal(action, "trip");
	assert_non_null(actor);
	struct passwd *pw = getpwuid(getuid());
	assert_non_null(pw);
	char uid[32];
	snprintf(uid, sizeof uid, "uid %u", (unsigned)getuid());
	assert_non_null(strstr(actor, pw->pw_name));
	assert_non_null(strstr(actor, uid));
	assert_non_null(why);
	assert_string_equal(why, reason);
	/* the operator event comes first, then the transition it caused */
	int tr_at = th_events_index(events, 0, "transition", "bravo", "closed",
	                            "forced_open");
	assert_true(tr_at > op_at);
	assert_int_equal(th_events_count(events, "transition", "alpha", NULL,
	                                 "forced_open"), 0);
	cJSON_Delete(events);
}

/* ---- 5. read-only ------------------------------------------------------ */

static void test_readonly_refuses(void **state)
{
	con *c = *state;
	write_two_ok_config(c);
	start_console(c, 80, 24, "--readonly");
	assert_true(wait_screen_for(c, false, both_healthy, NULL, WAIT_MS,
	                            "alpha and bravo healthy"));
	assert_true(wait_screen_for(c, false, th_screen_has, "READ-ONLY",
	                            WAIT_MS, "the read-only banner"));

	keys(c, "t");
	assert_true(wait_screen_for(c, false, th_screen_has,
	                            "read-only: actions are disabled", WAIT_MS,
	                            "the read-only message"));
	assert_null(strstr(c->screen, "Trip "));
	assert_null(strstr(c->screen, "y: yes"));
	/* had a dialog opened after all, these would carry the trip out */
	keys(c, "y");
	keys(c, "Enter");
	keys(c, "?"); /* keys are handled in order: this one marks the end */
	assert_true(wait_screen_for(c, false, th_screen_has, "fusebox keys",
	                            WAIT_MS, "the help, after the other keys"));
	keys(c, "x");
	assert_true(wait_screen_for(c, false, both_healthy, NULL, WAIT_MS,
	                            "both rows still closed"));
	assert_int_equal(count_events(c, "operator", NULL, NULL), 0);
	assert_int_equal(count_events(c, "transition", NULL, "forced_open"), 0);
}

/* ---- 6. resizing ------------------------------------------------------- */

/* 80 columns: the columns that fit by priority, the last error among
 * them (its title gives way to the sort), RECENT not (it needs room) */
static bool table_at_80(const char *s, void *ctx)
{
	(void)ctx;
	return all_rows_shown(s, NULL) && strstr(s, "DEPENDENCY") &&
	       row_has(s, "billing-db", "bad status 503") && !strstr(s, "RECENT") &&
	       !strstr(s, "too small");
}

static bool table_at_100(const char *s, void *ctx)
{
	(void)ctx;
	return all_rows_shown(s, NULL) && strstr(s, "DEPENDENCY") &&
	       strstr(s, "RECENT") && !strstr(s, "too small");
}

/* The header's clock, "HH:MM:SS UTC", differs from ctx: a later redraw. */
static bool clock_moved(const char *s, void *ctx)
{
	char head[512];
	th_screen_line(s, 0, head, sizeof head);
	return table_at_100(s, NULL) && !strstr(head, ctx);
}

static void test_resize(void **state)
{
	con *c = *state;
	write_standard_config(c);
	start_console(c, 90, 26, NULL);
	assert_true(wait_screen_for(c, false, states_settled, NULL, WAIT_MS,
	                            "the table at 90x26"));
	/* the last error column (its title gives way to the sort) */
	assert_true(row_has(c->screen, "billing-db", "bad status 503"));

	resize(c, 80, 24);
	assert_true(wait_screen_for(c, false, table_at_80, NULL, WAIT_MS,
	                            "the table at 80x24"));
	resize(c, 20, 5);
	assert_true(wait_screen_for(c, false, th_screen_has, "too small",
	                            WAIT_MS, "'too small' at 20x5"));
	resize(c, 100, 30);
	assert_true(wait_screen_for(c, false, table_at_100, NULL, WAIT_MS,
	                            "the table again at 100x30"));
	/* and it keeps drawing: wait for the next tick of the header clock */
	char head[512], clock[16] = "";
	th_screen_line(c->screen, 0, head, sizeof head);
	size_t len = strlen(head);
	while (len && head[len - 1] == ' ')
		head[--len] = '\0';
	assert_true(len > 4 && strcmp(head + len - 4, " UTC") == 0); /* the zone */
	len -= 4;
	head[len] = '\0';
	if (len >= 8)
		snprintf(clock, sizeof clock, "%s", head + len - 8);
	assert_true(strlen(clock) == 8 && clock[2] == ':' && clock[5] == ':');
	assert_true(wait_screen_for(c, false, clock_moved, clock, WAIT_MS,
	                            "a redraw at 100x30"));
	assert_true(th_proc_alive(c->pid));
	struct stat st;
	assert_int_not_equal(stat(c->exitf, &st), 0); /* still running */
}

/* ---- 7. quitting gives the terminal back ------------------------------- */

static void test_quit_restores_terminal(void **state)
{
	con *c = *state;
	write_two_ok_config(c);
	start_console(c, 80, 24, NULL);
	assert_true(wait_screen_for(c, false, both_healthy, NULL, WAIT_MS,
	                            "alpha and bravo healthy"));
	/* while it runs: the alternate screen, no cursor */
	assert_string_equal(display(c, "#{alternate_on}"), "1");
	assert_string_equal(display(c, "#{cursor_flag}"), "0");

	keys(c, "q");
	expect_clean_exit(c);
	cJSON *events = th_jsonl_read(c->log, NULL, NULL);
	assert_non_null(events);
	assert_int_equal(th_events_count(events, "start", NULL, NULL, NULL), 1);
	assert_int_equal(th_events_count(events, "stop", NULL, NULL, NULL), 1);
	cJSON_Delete(events);
}

static void test_sigterm_restores_terminal(void **state)
{
	con *c = *state;
	write_two_ok_config(c);
	start_console(c, 80, 24, NULL);
	assert_true(wait_screen_for(c, false, both_healthy, NULL, WAIT_MS,
	                            "alpha and bravo healthy"));
	assert_string_equal(display(c, "#{alternate_on}"), "1");
	assert_string_equal(display(c, "#{cursor_flag}"), "0");

	assert_int_equal(kill(c->pid, SIGTERM), 0);
	expect_clean_exit(c);
}

/* ---- 8. a hostile dependency ------------------------------------------- */

static bool feed_open(const char *s, void *ctx)
{
	(void)ctx;
	return row_has(s, "feed", " open ") && strstr(s, "feed closed -> open");
}

static bool control_free(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

static void test_hostile_text_is_inert(void **state)
{
	con *c = *state;
	char deps[1024];
	assert_int_equal(th_fixture_set(&c->fx, "/evil", "hostile"), 0);
	assert_int_equal(th_fixture_set(&c->fx, "/ok", "ok"), 0);
	snprintf(deps, sizeof deps,
	         "[dep feed]\nurl = http://127.0.0.1:%d/evil\n\n"
	         "[dep api-ok]\nurl = http://127.0.0.1:%d/ok\n",
	         c->fx.port, c->fx.port);
	write_config(c, deps);
	/* 96 columns: the LAST ERROR column and long event lines are drawn */
	start_console(c, 96, 24, NULL);
	assert_true(th_wait_events(c->log, 1, "transition", "feed", "closed",
	                           "open", WAIT_MS));
	assert_true(wait_screen_for(c, false, feed_open, NULL, WAIT_MS,
	                            "feed open, its error in the event pane"));
	/* a full redraw with the error on screen, then look at it all */
	keys(c, "C-l");
	assert_true(wait_screen_for(c, false, feed_open, NULL, WAIT_MS,
	                            "the screen after Ctrl-L"));
	char head[512];
	assert_non_null(
	    strstr(th_screen_line(c->screen, 0, head, sizeof head), "fusebox"));

	const char *title = display(c, "#{pane_title}");
	assert_null(strstr(title, "PWNED"));
	assert_true(wait_screen_for(c, true, th_screen_has, "feed", WAIT_MS,
	                            "the screen with escapes"));
	assert_null(strstr(c->screen, "\x1b]0;PWNED"));
	assert_null(strstr(c->screen, "\x1b]2;"));
	assert_null(strstr(c->screen, "\x1b[41m")); /* the body's red background */
	assert_null(strstr(c->screen, "\x1b[5m"));  /* nor its blink */
	assert_null(strstr(c->screen, "\x07"));
	assert_true(th_proc_alive(c->pid));

	/* and the log holds the text stripped of control characters */
	cJSON *events = th_jsonl_read(c->log, NULL, NULL);
	assert_non_null(events);
	const cJSON *tr = th_events_nth(events, 0, "transition", "feed", "closed",
	                                "open");
	assert_non_null(tr);
	const char *error = th_json_str(tr, "error");
	assert_non_null(error);
	assert_true(control_free(error));
	cJSON_Delete(events);
}

/* ---- 9. no freeze while a probe hangs ---------------------------------- */

static bool probe_hanging(void *ctx)
{
	con *c = ctx;
	return th_fixture_inflight(&c->fx, "/hang") >= 1;
}

typedef struct selection {
	char want[64];   /* this name, or */
	char other[64];  /* any name but this one */
	char seen[64];
} selection;

static bool selection_is(const char *s, void *ctx)
{
	selection *w = ctx;
	selected_row(s, w->seen, sizeof w->seen);
	if (!w->seen[0])
		return false;
	if (w->want[0])
		return strcmp(w->seen, w->want) == 0;
	return strcmp(w->seen, w->other) != 0;
}

static void test_no_freeze_while_probe_hangs(void **state)
{
	con *c = *state;
	char deps[1024];
	assert_int_equal(th_fixture_set(&c->fx, "/hang", "hang"), 0);
	assert_int_equal(th_fixture_set(&c->fx, "/ok", "ok"), 0);
	snprintf(deps, sizeof deps,
	         "[dep alpha-ok]\nurl = http://127.0.0.1:%d/ok\n\n"
	         "[dep bravo-hang]\nurl = http://127.0.0.1:%d/hang\ntimeout = 3s\n\n"
	         "[dep charlie-ok]\nurl = http://127.0.0.1:%d/ok\n",
	         c->fx.port, c->fx.port, c->fx.port);
	write_config(c, deps);
	start_console(c, 80, 24, NULL);
	assert_true(th_wait_until(probe_hanging, c, WAIT_MS));
	int64_t hang_seen = th_now_ms();

	selection sel = {{0}, {0}, {0}};
	assert_true(wait_screen_for(c, true, selection_is, &sel, 1000,
	                            "a selected row"));
	char first[64];
	snprintf(first, sizeof first, "%s", sel.seen);

	/* j: the selection moves, in under a second */
	memset(&sel, 0, sizeof sel);
	snprintf(sel.other, sizeof sel.other, "%s", first);
	int64_t t0 = th_now_ms();
	keys(c, "j");
	assert_true(wait_screen_for(c, true, selection_is, &sel, 1000,
	                            "the selection moved by j"));
	int64_t took_j = th_now_ms() - t0;
	char second[64];
	snprintf(second, sizeof second, "%s", sel.seen);
	assert_string_not_equal(second, first);

	/* k: back where it was, in under a second */
	memset(&sel, 0, sizeof sel);
	snprintf(sel.want, sizeof sel.want, "%s", first);
	t0 = th_now_ms();
	keys(c, "k");
	assert_true(wait_screen_for(c, true, selection_is, &sel, 1000,
	                            "the selection moved back by k"));
	int64_t took_k = th_now_ms() - t0;

	/* all of it while the probe was still hanging */
	assert_true(th_fixture_inflight(&c->fx, "/hang") >= 1);
	assert_true(th_now_ms() - hang_seen < 3000);
	assert_true(took_j < 1000);
	assert_true(took_k < 1000);
	assert_true(th_proc_alive(c->pid));
}

/* ---- 9b. a fresh instance knows nothing yet ---------------------------- */

static bool starting_shown(const char *s, void *ctx)
{
	(void)ctx;
	return row_has(s, "bravo-hang", " unknown ") &&
	       row_has(s, "alpha-ok", " healthy ") &&
	       strstr(s, "SYSTEM UNKNOWN") && strstr(s, "GATE BLOCKED") &&
	       strstr(s, "Starting: waiting for the first probe of bravo-hang");
}

/* Until its first probe answers, a dependency's health reads "unknown"
 * (not blank, not healthy), and the gate says it is waiting for it. */
static void test_unknown_until_the_first_probe(void **state)
{
	con *c = *state;
	char deps[1024];
	assert_int_equal(th_fixture_set(&c->fx, "/hang", "hang"), 0);
	assert_int_equal(th_fixture_set(&c->fx, "/ok", "ok"), 0);
	snprintf(deps, sizeof deps,
	         "[dep alpha-ok]\nurl = http://127.0.0.1:%d/ok\ncritical = true\n\n"
	         "[dep bravo-hang]\nurl = http://127.0.0.1:%d/hang\n"
	         "timeout = 20s\ncritical = true\n",
	         c->fx.port, c->fx.port);
	write_config(c, deps);
	start_console(c, 100, 24, NULL);
	/* its first probe is out, and held */
	assert_true(th_wait_until(probe_hanging, c, WAIT_MS));
	assert_true(wait_screen_for(c, false, starting_shown, NULL, WAIT_MS,
	                            "bravo-hang unknown, the gate starting"));
	assert_true(th_fixture_inflight(&c->fx, "/hang") >= 1);
}

/* ---- 10. rows stay put while someone navigates ------------------------- */

static bool three_healthy_in_order(const char *s, void *ctx)
{
	(void)ctx;
	int a = th_screen_row_of(s, "alpha"), b = th_screen_row_of(s, "bravo"),
	    ch = th_screen_row_of(s, "charlie");
	return a >= 0 && b >= 0 && ch >= 0 && a < b && b < ch &&
	       row_has(s, "alpha", " healthy ") && row_has(s, "bravo", " healthy ") &&
	       row_has(s, "charlie", " healthy ");
}

static bool charlie_open(const char *s, void *ctx)
{
	(void)ctx;
	return row_has(s, "charlie", " open ");
}

static void test_rows_stay_put_while_navigating(void **state)
{
	con *c = *state;
	char deps[1024];
	assert_int_equal(th_fixture_set(&c->fx, "/a", "ok"), 0);
	assert_int_equal(th_fixture_set(&c->fx, "/b", "ok"), 0);
	assert_int_equal(th_fixture_set(&c->fx, "/c", "ok"), 0);
	snprintf(deps, sizeof deps,
	         "[dep alpha]\nurl = http://127.0.0.1:%d/a\n\n"
	         "[dep bravo]\nurl = http://127.0.0.1:%d/b\n\n"
	         "[dep charlie]\nurl = http://127.0.0.1:%d/c\n",
	         c->fx.port, c->fx.port, c->fx.port);
	write_config(c, deps);
	start_console(c, 80, 24, NULL);
	assert_true(wait_screen_for(c, false, three_healthy_in_order, NULL, WAIT_MS,
	                            "alpha, bravo, charlie, all healthy"));

	selection sel = {{0}, {0}, {0}};
	snprintf(sel.want, sizeof sel.want, "bravo");
	int64_t key_at = th_now_ms();
	keys(c, "j");
	assert_true(wait_screen_for(c, true, selection_is, &sel, WAIT_MS,
	                            "bravo selected"));
	/* charlie breaks while the operator is on the table */
	assert_int_equal(th_fixture_set(&c->fx, "/c", "fail"), 0);
	assert_true(wait_screen_for(c, false, charlie_open, NULL, WAIT_MS,
	                            "charlie open"));
	/* the premise: all of this within the hands-off time after a key */
	assert_true(th_now_ms() - key_at < 4000);
	assert_true(th_screen_row_of(c->screen, "charlie") >
	            th_screen_row_of(c->screen, "bravo"));

	/* moving up selects alpha, and the rows do not jump under the cursor */
	memset(&sel, 0, sizeof sel);
	snprintf(sel.want, sizeof sel.want, "alpha");
	keys(c, "k");
	assert_true(wait_screen_for(c, true, selection_is, &sel, WAIT_MS,
	                            "alpha selected"));
	assert_true(th_now_ms() - key_at < 5000);
	free(c->screen);
	c->screen = th_tmux_capture(c->sock, false);
	assert_non_null(c->screen);
	int a = th_screen_row_of(c->screen, "alpha"),
	    b = th_screen_row_of(c->screen, "bravo"),
	    ch = th_screen_row_of(c->screen, "charlie");
	if (!(a < b && b < ch))
		print_screen(c->screen);
	assert_true(a < b);
	assert_true(b < ch);
}

/* The event pane starts with what the log already held: the operator sees
 * what led up to now, not an empty pane. */
static void test_event_pane_starts_with_the_log(void **state)
{
	con *c = *state;
	write_standard_config(c);
	FILE *f = fopen(c->log, "w");
	assert_non_null(f);
	fputs("{\"v\":1,\"seq\":7,\"ts\":\"2026-11-23T03:00:00.000Z\",\"host\":\"h\","
	      "\"kind\":\"operator\",\"action\":\"trip\",\"dep\":\"bravo\","
	      "\"actor\":\"carol (uid 4242)\",\"reason\":\"earlier drill\"}\n",
	      f);
	fclose(f);
	start_console(c, 100, 30, NULL);
	assert_true(
	    wait_screen_for(c, false, th_screen_has,
	                    "carol (uid 4242): trip bravo -- earlier drill",
	                    WAIT_MS, "the earlier operator event"));
}

/* ---- 11. the replay screen is the console's table over the past ------- */

static bool billing_open_live(const char *s, void *ctx)
{
	(void)ctx;
	return row_has(s, "billing-db", " open ") &&
	       th_screen_row_of(s, "api-ok") >= 0 && !strstr(s, "REPLAY");
}

static bool replay_at_end(const char *s, void *ctx)
{
	(void)ctx;
	return strstr(s, "REPLAY") && row_has(s, "billing-db", " open ") &&
	       row_has(s, "api-ok", " closed ");
}

static void test_replay_shows_every_configured_dependency(void **state)
{
	con *c = *state;
	write_standard_config(c);
	start_console(c, 100, 30, NULL);
	assert_true(wait_screen_for(c, false, billing_open_live, NULL, WAIT_MS,
	                            "billing-db open, live"));
	keys(c, "R");
	assert_true(wait_screen_for(c, false, th_screen_has, "REPLAY", WAIT_MS,
	                            "the replay screen"));
	/* api-ok never had an event: still a row, closed since the start */
	keys(c, "End");
	assert_true(wait_screen_for(c, false, replay_at_end, NULL, WAIT_MS,
	                            "every configured row at the log's end"));
	/* its keys on ?, not the live console's */
	keys(c, "?");
	assert_true(wait_screen_for(c, false, th_screen_has, "REPLAY keys",
	                            WAIT_MS, "the replay's keys"));
	assert_non_null(strstr(c->screen, "one minute back or forward"));
	keys(c, "x");
	assert_true(wait_screen_for(c, false, th_screen_lacks, "REPLAY keys",
	                            WAIT_MS, "the help closed"));
	/* the table's keys work here too: a filter */
	keys(c, "/");
	type_text(c, "api");
	keys(c, "Enter");
	assert_true(wait_screen_for(c, false, th_screen_lacks,
	                            "billing-db      ", WAIT_MS,
	                            "only api-ok under the filter"));
	assert_true(th_screen_row_of(c->screen, "api-ok") >= 0);
	keys(c, "q");
	assert_true(wait_screen_for(c, false, th_screen_lacks, "REPLAY",
	                            WAIT_MS, "back to the live console"));
	assert_true(th_proc_alive(c->pid));
}

/* ---- 12. what a new operator stumbled over ----------------------------- */

/* billing-db fails with 503 and waits 90 s open; api-ok answers;
 * cache-tcp is a port nobody listens on. */
static void write_slow_recovery_config(con *c)
{
	char deps[2048];
	int closed = th_free_port();
	assert_true(closed > 0);
	assert_int_equal(th_fixture_set(&c->fx, "/ok", "ok"), 0);
	assert_int_equal(th_fixture_set(&c->fx, "/billing", "fail"), 0);
	snprintf(deps, sizeof deps,
	         "[dep api-ok]\nurl = http://127.0.0.1:%d/ok\n\n"
	         "[dep billing-db]\nurl = http://127.0.0.1:%d/billing\n"
	         "critical = true\nrecovery_timeout = 90s\nbackoff_cap = 5m\n"
	         "jitter = 0\n\n"
	         "[dep cache-tcp]\nurl = tcp://127.0.0.1:%d\n"
	         "recovery_timeout = 90s\nbackoff_cap = 5m\njitter = 0\n",
	         c->fx.port, c->fx.port, closed);
	write_config(c, deps);
}

/* Does line n (from 0) start with `word`? */
static bool line_starts(const char *s, int n, const char *word)
{
	char line[1024];
	th_screen_line(s, n, line, sizeof line);
	return strncmp(line, word, strlen(word)) == 0;
}

/* The rows at 60x12: each line of the table is one whole row, the pane
 * title comes right after the last, nothing written past an edge. */
static bool rows_whole_at_60(const char *s, void *ctx)
{
	(void)ctx;
	return row_has(s, "billing-db", " open ") &&
	       row_has(s, "cache-tcp", " open ") &&
	       row_has(s, "api-ok", " closed ") && line_starts(s, 3, "billing-db ") &&
	       line_starts(s, 4, "cache-tcp ") && line_starts(s, 5, "api-ok ") &&
	       line_starts(s, 6, " EVENTS");
}

static bool hints_whole(const char *s, void *ctx)
{
	(void)ctx;
	char last[1024];
	int n = 0;
	for (const char *p = s; (p = strchr(p, '\n')); p++)
		n++;
	/* the last non-empty line: the key hints */
	for (int i = n; i >= 0; i--) {
		th_screen_line(s, i, last, sizeof last);
		size_t len = strlen(last);
		while (len && last[len - 1] == ' ')
			last[--len] = '\0';
		if (len)
			return strncmp(last, " ?:help ", 8) == 0 && len > 7 &&
			       strcmp(last + len - 7, " q:quit") == 0;
	}
	return false;
}

static bool timer_whole_at_80(const char *s, void *ctx)
{
	(void)ctx;
	char row[1024];
	th_screen_row(s, "billing-db", row, sizeof row);
	const char *t = strstr(row, "retry 1m ");
	/* "retry 1m 05s": the seconds and their unit, never cut */
	return t && t[9] >= '0' && t[9] <= '9' && t[10] >= '0' && t[10] <= '9' &&
	       t[11] == 's' && row_has(s, "billing-db", "bad status 503") &&
	       hints_whole(s, NULL);
}

static void test_narrow_terminals_clip_and_choose(void **state)
{
	con *c = *state;
	write_slow_recovery_config(c);
	start_console(c, 60, 12, NULL);
	assert_true(wait_screen_for(c, false, rows_whole_at_60, NULL, WAIT_MS,
	                            "whole rows at 60x12"));
	assert_true(wait_screen_for(c, false, hints_whole, NULL, WAIT_MS,
	                            "?:help first and q:quit last at 60x12"));
	keys(c, "C-l");
	assert_true(wait_screen_for(c, false, rows_whole_at_60, NULL, WAIT_MS,
	                            "whole rows after Ctrl-L"));
	resize(c, 80, 24);
	assert_true(wait_screen_for(c, false, timer_whole_at_80, NULL, WAIT_MS,
	                            "a whole timer, LAST ERROR and the hints at "
	                            "80x24"));
}

static bool only_billing_titled(const char *s, void *ctx)
{
	char head[512];
	return only_billing(s, NULL) &&
	       strstr(th_screen_line(s, 2, head, sizeof head), ctx) != NULL;
}

static bool all_rows_unfiltered(const char *s, void *ctx)
{
	(void)ctx;
	char head[512];
	th_screen_line(s, 2, head, sizeof head);
	return all_rows_shown(s, NULL) && !strstr(head, "filter:") &&
	       strstr(head, "sort: worst first");
}

static bool sorted_by_name(const char *s, void *ctx)
{
	(void)ctx;
	char head[512];
	th_screen_line(s, 2, head, sizeof head);
	return strstr(head, "sort: name") &&
	       th_screen_row_of(s, "api-ok") <
	           th_screen_row_of(s, "billing-db") &&
	       th_screen_row_of(s, "billing-db") <
	           th_screen_row_of(s, "cache-tcp");
}

static void test_filter_live_and_shown_in_the_title(void **state)
{
	con *c = *state;
	write_standard_config(c);
	start_console(c, 120, 30, NULL);
	assert_true(wait_screen_for(c, false, all_rows_unfiltered, NULL, WAIT_MS,
	                            "all rows, sort shown in the title"));
	/* filtered as it is typed: no Enter */
	keys(c, "/");
	type_text(c, "bil");
	assert_true(wait_screen_for(c, false, only_billing_titled, "filter: bil",
	                            WAIT_MS, "billing-db alone while typing"));
	keys(c, "Enter");
	assert_true(wait_screen_for(c, false, only_billing_titled, "filter: bil",
	                            WAIT_MS, "the filter kept by Enter"));
	/* Esc in the table clears it */
	keys(c, "Escape");
	assert_true(wait_screen_for(c, false, all_rows_unfiltered, NULL, WAIT_MS,
	                            "every row after Esc in the table"));
	keys(c, "s");
	assert_true(wait_screen_for(c, false, sorted_by_name, NULL, WAIT_MS,
	                            "sort: name in the title, rows by name"));
}

/* The pane starts on the line after the last row; Home fills it. */
static bool pane_right_under_rows(const char *s, void *ctx)
{
	(void)ctx;
	return line_starts(s, 5, "api-ok ") && line_starts(s, 6, " EVENTS");
}

static bool oldest_on_top(const char *s, void *ctx)
{
	(void)ctx;
	char line[512];
	return pane_right_under_rows(s, NULL) && strstr(s, "scrolled back") &&
	       strstr(th_screen_line(s, 7, line, sizeof line),
	              "fusebox start") &&
	       strstr(th_screen_line(s, 10, line, sizeof line), " -> ");
}

static void test_spare_rows_go_to_the_log_pane(void **state)
{
	con *c = *state;
	write_standard_config(c);
	start_console(c, 80, 12, NULL);
	assert_true(wait_screen_for(c, false, states_settled, NULL, WAIT_MS,
	                            "the states settled"));
	assert_true(th_wait_events(c->log, 7, NULL, NULL, NULL, NULL, WAIT_MS));
	assert_true(wait_screen_for(c, false, pane_right_under_rows, NULL, WAIT_MS,
	                            "the pane right under the rows"));
	/* Home in the log pane: its oldest lines, filling the pane */
	keys(c, "Tab");
	keys(c, "Home");
	assert_true(wait_screen_for(c, false, oldest_on_top, NULL, WAIT_MS,
	                            "the oldest events filling the pane"));
}

static bool says_why_no_probe(const char *s, void *ctx)
{
	(void)ctx;
	return strstr(s, "no probe: billing-db is open") != NULL;
}

static void test_probe_on_an_open_breaker_says_why_not(void **state)
{
	con *c = *state;
	write_slow_recovery_config(c);
	start_console(c, 100, 30, NULL);
	assert_true(wait_screen_for(c, false, states_settled, NULL, WAIT_MS,
	                            "the states settled"));
	/* the cursor starts on the worst row: billing-db */
	selection sel = {{0}, {0}, {0}};
	snprintf(sel.want, sizeof sel.want, "billing-db");
	assert_true(wait_screen_for(c, true, selection_is, &sel, WAIT_MS,
	                            "billing-db under the cursor"));
	long before = th_fixture_count(&c->fx, "/billing");
	keys(c, "p");
	assert_true(wait_screen_for(c, false, says_why_no_probe, NULL, WAIT_MS,
	                            "why no probe starts"));
	assert_non_null(strstr(c->screen, "trial comes in 1m"));
	th_sleep_ms(300);
	assert_int_equal(th_fixture_count(&c->fx, "/billing"), before);
}

static bool allow_asked(const char *s, void *ctx)
{
	(void)ctx;
	return strstr(s, "Allow destructive jobs for 15m 00s, until ") &&
	       strstr(s, " UTC, whatever the health?") && strstr(s, "y: yes");
}

static void test_gate_allow_asks_naming_the_expiry(void **state)
{
	con *c = *state;
	write_two_ok_config(c);
	start_console(c, 100, 30, NULL);
	assert_true(wait_screen_for(c, false, both_healthy, NULL, WAIT_MS,
	                            "alpha and bravo healthy"));
	keys(c, "g");
	assert_true(wait_screen_for(c, false, th_screen_has, "a allow", WAIT_MS,
	                            "the gate menu"));
	keys(c, "a");
	assert_true(wait_screen_for(c, false, allow_asked, NULL, WAIT_MS,
	                            "the question naming 15m and its end"));
	keys(c, "n");
	assert_true(wait_screen_for(c, false, th_screen_has, "cancelled",
	                            WAIT_MS, "cancelled"));
	assert_int_equal(count_events(c, "operator", NULL, NULL), 0);

	keys(c, "g");
	keys(c, "a");
	assert_true(wait_screen_for(c, false, allow_asked, NULL, WAIT_MS,
	                            "the question again"));
	keys(c, "y");
	assert_true(wait_screen_for(c, false, th_screen_has,
	                            "Reason for gate_allow", WAIT_MS,
	                            "the reason prompt"));
	type_text(c, "schema migration");
	keys(c, "Enter");
	assert_true(wait_screen_for(c, false, th_screen_has,
	                            "GATE ALLOWED (allow)", WAIT_MS,
	                            "the override in the header"));
	/* the gate event says what moved: the mode, not a decision */
	assert_true(wait_screen_for(c, false, th_screen_has,
	                            "gate stays allowed, mode allow", WAIT_MS,
	                            "the gate event in words"));
	assert_null(strstr(c->screen, "allowed -> allowed"));
	/* auto asks for a reason too, as the CLI takes one */
	keys(c, "g");
	keys(c, "u");
	assert_true(wait_screen_for(c, false, th_screen_has,
	                            "Reason for gate_auto", WAIT_MS,
	                            "the reason prompt for auto"));
	type_text(c, "migration done");
	keys(c, "Enter");
	assert_true(wait_screen_for(c, false, th_screen_has,
	                            "GATE ALLOWED (auto)", WAIT_MS,
	                            "auto again"));
	cJSON *events = th_jsonl_read(c->log, NULL, NULL);
	assert_non_null(events);
	const cJSON *allow = th_events_nth(events, 0, "operator", NULL, NULL, NULL);
	const cJSON *back = th_events_nth(events, 1, "operator", NULL, NULL, NULL);
	assert_non_null(allow);
	assert_non_null(back);
	assert_string_equal(th_json_str(allow, "action"), "gate_allow");
	assert_string_equal(th_json_str(allow, "reason"), "schema migration");
	assert_string_equal(th_json_str(back, "action"), "gate_auto");
	assert_string_equal(th_json_str(back, "reason"), "migration done");
	cJSON_Delete(events);
}

static void test_reason_prompt_takes_utf8_and_readline_keys(void **state)
{
	con *c = *state;
	write_two_ok_config(c);
	start_console(c, 100, 30, NULL);
	assert_true(wait_screen_for(c, false, both_healthy, NULL, WAIT_MS,
	                            "alpha and bravo healthy"));
	keys(c, "t");
	assert_true(wait_screen_for(c, false, th_screen_has, "Trip alpha",
	                            WAIT_MS, "the confirmation"));
	keys(c, "y");
	assert_true(wait_screen_for(c, false, th_screen_has, "Reason for trip",
	                            WAIT_MS, "the reason prompt"));
	type_text(c, "café naïve");
	assert_true(wait_screen_for(c, false, th_screen_has, "> café naïve",
	                            WAIT_MS, "UTF-8 as typed"));
	keys(c, "C-w"); /* the word before the cursor */
	type_text(c, "ok");
	assert_true(wait_screen_for(c, false, th_screen_has, "> café ok",
	                            WAIT_MS, "Ctrl-W took the word"));
	keys(c, "C-a"); /* to the start */
	type_text(c, "¡");
	keys(c, "C-e"); /* to the end, then back over "ok" */
	keys(c, "Left");
	keys(c, "Left");
	type_text(c, "-");
	keys(c, "BSpace"); /* and the "-" goes again */
	type_text(c, "+");
	assert_true(wait_screen_for(c, false, th_screen_has, "> ¡café +ok",
	                            WAIT_MS,
	                            "Ctrl-A, Ctrl-E, Left and Backspace"));
	keys(c, "Enter");
	assert_true(th_wait_events(c->log, 1, "operator", "alpha", NULL, NULL,
	                           WAIT_MS));
	cJSON *events = th_jsonl_read(c->log, NULL, NULL);
	assert_non_null(events);
	const cJSON *op = th_events_nth(events, 0, "operator", "alpha", NULL, NULL);
	assert_non_null(op);
	assert_string_equal(th_json_str(op, "reason"), "¡café +ok");
	cJSON_Delete(events);
	/* Ctrl-U empties what is before the cursor */
	keys(c, "g");
	keys(c, "b");
	type_text(c, "all of this goes");
	keys(c, "C-u");
	type_text(c, "lock");
	keys(c, "Enter");
	assert_true(th_wait_events(c->log, 1, "gate", NULL, NULL, "blocked",
	                           WAIT_MS));
	events = th_jsonl_read(c->log, NULL, NULL);
	assert_non_null(events);
	op = th_events_nth(events, 1, "operator", NULL, NULL, NULL);
	assert_non_null(op);
	assert_string_equal(th_json_str(op, "reason"), "lock");
	cJSON_Delete(events);
}

static bool clock_in(const char *s, void *zone)
{
	char head[512], want[16];
	snprintf(want, sizeof want, " %s ", (const char *)zone);
	th_screen_line(s, 0, head, sizeof head);
	size_t len = strlen(head);
	while (len && head[len - 1] == ' ')
		head[--len] = '\0';
	/* "... HH:MM:SS ZONE" at the end, and the log pane says the zone */
	char tail[32];
	snprintf(tail, sizeof tail, " %s", (const char *)zone);
	return len > strlen(tail) + 8 &&
	       strcmp(head + len - strlen(tail), tail) == 0 &&
	       head[len - strlen(tail) - 3] == ':' &&
	       strstr(s, "times ") && strstr(strstr(s, "times "), zone);
}

static void test_time_zone_shown_and_switched(void **state)
{
	con *c = *state;
	write_two_ok_config(c);
	start_console_with(c, 100, 30, "TZ=JST-9", NULL);
	assert_true(wait_screen_for(c, false, clock_in, "JST", WAIT_MS,
	                            "the local zone in the header and the pane"));
	keys(c, "z");
	assert_true(wait_screen_for(c, false, clock_in, "UTC", WAIT_MS,
	                            "UTC after z"));
	keys(c, "z");
	assert_true(wait_screen_for(c, false, clock_in, "JST", WAIT_MS,
	                            "local time again"));
}

/* A close after a successful trial reads as a recovery, not with the
 * error that opened the breaker. */
static bool recovered_cleanly(const char *s, void *ctx)
{
	(void)ctx;
	char line[1024];
	for (int i = 0; i < 60; i++) {
		if (strstr(th_screen_line(s, i, line, sizeof line),
		           "flip half_open -> closed"))
			return strstr(line, "(1 trial success)") && !strstr(line, "503");
	}
	return false;
}

static void test_a_recovery_is_not_an_error(void **state)
{
	con *c = *state;
	char deps[512];
	assert_int_equal(th_fixture_set(&c->fx, "/flip", "fail"), 0);
	snprintf(deps, sizeof deps,
	         "[dep flip]\nurl = http://127.0.0.1:%d/flip\n"
	         "recovery_timeout = 1s\njitter = 0\n",
	         c->fx.port);
	write_config(c, deps);
	start_console(c, 120, 30, NULL);
	assert_true(th_wait_events(c->log, 1, "transition", "flip", "closed", "open",
	                           WAIT_MS));
	assert_int_equal(th_fixture_set(&c->fx, "/flip", "ok"), 0);
	assert_true(th_wait_events(c->log, 1, "transition", "flip", "half_open",
	                           "closed", WAIT_MS));
	assert_true(wait_screen_for(c, false, recovered_cleanly, NULL, WAIT_MS,
	                            "the close without the old error"));
	/* the opening still says why */
	assert_non_null(strstr(c->screen, "flip closed -> open"));
	assert_non_null(strstr(c->screen, "503"));
}

/* ---- --utc ------------------------------------------------------------- */

static void test_utc_option_starts_in_utc(void **state)
{
	con *c = *state;
	write_two_ok_config(c);
	start_console_with(c, 100, 30, "TZ=JST-9", "--utc");
	assert_true(wait_screen_for(c, false, clock_in, "UTC", WAIT_MS,
	                            "UTC from the start with --utc"));
	keys(c, "z");
	assert_true(wait_screen_for(c, false, clock_in, "JST", WAIT_MS,
	                            "local time after z"));
}

/* ---- the mouse ---------------------------------------------------------- */

/* A mouse event as the terminal reports it in normal (X10) mode, the one
 * ncurses asks tmux for: ESC [ M, then button, column and row, each plus
 * 32 (columns and rows from 1). send-keys -H writes the bytes as typed. */
static void mouse(con *c, int button, int x, int y)
{
	char b[8], cx[8], cy[8];
	snprintf(b, sizeof b, "%02x", 32 + button);
	snprintf(cx, sizeof cx, "%02x", 33 + x);
	snprintf(cy, sizeof cy, "%02x", 33 + y);
	assert_int_equal(th_tmux(c->sock, NULL, "send-keys", "-t", "=0:", "-H",
	                         "1b", "5b", "4d", b, cx, cy, (char *)NULL), 0);
}
#define MOUSE_LEFT     0
#define MOUSE_RELEASE  3 /* X10 says which button went up: none */
#define MOUSE_WHEEL_UP 64
#define MOUSE_WHEEL_DN 65

/* A click, as a terminal sends it: the press, then the release. */
static void click(con *c, int x, int y)
{
	mouse(c, MOUSE_LEFT, x, y);
	mouse(c, MOUSE_RELEASE, x, y);
}

static bool selected_is(const char *s, void *name)
{
	char sel[64];
	return strcmp(selected_row(s, sel, sizeof sel), name) == 0;
}

static bool twenty_healthy(const char *s, void *ctx)
{
	(void)ctx;
	return row_has(s, "dep-01", " healthy ") && row_has(s, "dep-12", " healthy ") &&
	       strstr(s, "21 shown");
}

/* The log pane's newest line (the last above the hints) as it was before
 * the wheel moved it. */
static char newest_line[256];

static bool scrolled_back(const char *s, void *ctx)
{
	(void)ctx;
	return strstr(s, "(scrolled back)") && !strstr(s, newest_line);
}

static bool not_scrolled(const char *s, void *ctx)
{
	(void)ctx;
	char line[256];
	return !strstr(s, "(scrolled back)") &&
	       strcmp(th_screen_line(s, 22, line, sizeof line), newest_line) ==
	           0;
}

static bool no_row(const char *s, void *name)
{
	return th_screen_row_of(s, name) < 0;
}

static void test_mouse_click_selects_and_wheel_scrolls(void **state)
{
	con *c = *state;
	char deps[4096];
	size_t used = 0;
	for (int i = 1; i <= 20; i++)
		used += (size_t)snprintf(deps + used, sizeof deps - used,
		                         "[dep dep-%02d]\nurl = http://127.0.0.1:%d/d%d\n"
		                         "interval = 1h\n\n",
		                         i, c->fx.port, i);
	write_config(c, deps);
	/* 80x24: the titles on line 2, 12 table rows (3..14), the log pane's
	 * title on 15 and its 7 lines under it */
	start_console(c, 80, 24, NULL);
	assert_true(wait_screen_for(c, true, selected_is, "dep-01", WAIT_MS,
	                            "the first row selected"));
	assert_true(wait_screen_for(c, false, twenty_healthy, NULL, WAIT_MS,
	                            "twenty healthy rows and their events"));
	/* normal reporting only (clicks, the wheel): no motion tracking, so
	 * the terminal's Shift-drag selection still works */
	assert_string_equal(display(c, "#{mouse_standard_flag}"), "1");
	assert_string_equal(display(c, "#{mouse_button_flag}"), "0");
	assert_string_equal(display(c, "#{mouse_all_flag}"), "0");

	/* a click on the fourth row selects it */
	int y = th_screen_row_of(c->screen, "dep-04");
	assert_int_equal(y, 6);
	click(c, 20, y);
	assert_true(wait_screen_for(c, true, selected_is, "dep-04", WAIT_MS,
	                            "dep-04 selected by a click"));

	/* the wheel over the table: three rows a notch, the rows follow */
	for (int i = 0; i < 4; i++)
		mouse(c, MOUSE_WHEEL_DN, 20, 8);
	assert_true(wait_screen_for(c, true, selected_is, "dep-16", WAIT_MS,
	                            "dep-16 after four notches down"));
	assert_true(wait_screen_for(c, false, no_row, "dep-01", WAIT_MS,
	                            "the table scrolled"));
	mouse(c, MOUSE_WHEEL_UP, 20, 8);
	assert_true(wait_screen_for(c, true, selected_is, "dep-13", WAIT_MS,
	                            "dep-13 after a notch up"));

	/* the wheel over the log pane scrolls it, not the table */
	assert_true(wait_screen_for(c, false, th_screen_has, "21 shown",
	                            WAIT_MS, "the log pane"));
	th_screen_line(c->screen, 22, newest_line, sizeof newest_line);
	assert_non_null(strstr(newest_line, " health unknown -> healthy"));
	for (int i = 0; i < 4; i++)
		mouse(c, MOUSE_WHEEL_UP, 20, 19);
	assert_true(wait_screen_for(c, false, scrolled_back, NULL, WAIT_MS,
	                            "the log pane scrolled back"));
	assert_true(selected_is(c->screen, "dep-13") ||
	            wait_screen_for(c, true, selected_is, "dep-13", WAIT_MS,
	                            "the selection left alone"));
	for (int i = 0; i < 4; i++)
		mouse(c, MOUSE_WHEEL_DN, 20, 19);
	assert_true(wait_screen_for(c, false, not_scrolled, NULL, WAIT_MS,
	                            "the log pane at its newest again"));

	/* a click on a column's title sorts by it */
	click(c, 2, 2);
	assert_true(
	    wait_screen_for(c, false, th_screen_has, "sort: name", WAIT_MS,
	                    "sorted by name after a click on its title"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_rows_and_states),
	    T(test_help_opens_and_closes),
	    T(test_filter),
	    T(test_trip_with_confirmation),
	    T(test_readonly_refuses),
	    T(test_resize),
	    T(test_quit_restores_terminal),
	    T(test_sigterm_restores_terminal),
	    T(test_hostile_text_is_inert),
	    T(test_no_freeze_while_probe_hangs),
	    T(test_unknown_until_the_first_probe),
	    T(test_rows_stay_put_while_navigating),
	    T(test_event_pane_starts_with_the_log),
	    T(test_replay_shows_every_configured_dependency),
	    T(test_narrow_terminals_clip_and_choose),
	    T(test_filter_live_and_shown_in_the_title),
	    T(test_spare_rows_go_to_the_log_pane),
	    T(test_probe_on_an_open_breaker_says_why_not),
	    T(test_gate_allow_asks_naming_the_expiry),
	    T(test_reason_prompt_takes_utf8_and_readline_keys),
	    T(test_time_zone_shown_and_switched),
	    T(test_a_recovery_is_not_an_error),
	    T(test_utc_option_starts_in_utc),
	    T(test_mouse_click_selects_and_wheel_scrolls),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
