/* The console attached to a running instance (SPEC section 4): a real
 * `fusebox run` on the fault-injection fixture, and the real consoles
 * (build/tests/fusebox, sanitized) in real terminals -- a tmux server of
 * their own each, fixed size, C.UTF-8, TZ=UTC. Keys go in with
 * send-keys, screens come back with capture-pane, every wait polls a
 * condition with a deadline. */
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
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include "helpers.h"

#define WAIT_MS 8000

static char g_fusebox[PATH_MAX];
static char g_fixture[PATH_MAX];

/* One terminal with a console in it. */
typedef struct term {
	char sock[64];   /* tmux -L */
	char exitf[600]; /* the shell writes EXIT=N here */
	char theme[16];  /* tells the consoles apart in /proc */
	pid_t pid;
	bool up;
	char *screen; /* the last capture a check looked at */
} term;

typedef struct world {
	th_env *env;
	term t[2];
	int runs; /* instances started */
} world;

static int setup(void **state)
{
	static int serial;
	world *w = calloc(1, sizeof *w);
	if (!w || !(w->env = th_env_new(g_fixture))) {
		free(w);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		snprintf(w->t[i].sock, sizeof w->t[i].sock, "fbatt-%ld-%d-%d",
		         (long)getpid(), ++serial, i);
		snprintf(w->t[i].exitf, sizeof w->t[i].exitf, "%s/exit%d",
		         w->env->dir, i);
		snprintf(w->t[i].theme, sizeof w->t[i].theme, "%s",
		         i ? "mono" : "default");
	}
	*state = w;
	return 0;
}

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

static int teardown(void **state)
{
	world *w = *state;
	for (int i = 0; i < 2; i++) {
		term *t = &w->t[i];
		if (t->up)
			th_tmux_kill(t->sock); /* SIGHUP: the console stops */
		if (t->pid > 0 && !th_proc_wait_gone(t->pid, 3000)) {
			kill(t->pid, SIGKILL);
			th_proc_wait_gone(t->pid, 2000);
		}
		free(t->screen);
	}
	char errs[700];
	snprintf(errs, sizeof errs, "%s.console-errors", w->env->log);
	char *text = th_slurp(errs, NULL);
	if (text && text[0]) {
		print_message("# the consoles' stderr:\n");
		print_lines(text, 16);
	}
	free(text);
	th_env_free(w->env);
	free(w);
	return 0;
}

/* ---- the instance ------------------------------------------------------ */

/* alpha and bravo answer on the fixture; bravo is critical. */
static void write_config(world *w)
{
	th_env *e = w->env;
	assert_int_equal(th_fixture_set(&e->fx, "/alpha", "ok"), 0);
	assert_int_equal(th_fixture_set(&e->fx, "/bravo", "ok"), 0);
	FILE *f = fopen(e->cfg, "w");
	assert_non_null(f);
	fprintf(
	    f,
	    "[fusebox]\nlog = %s\ncontrol_socket = %s\nhost = attach-test\n"
	    "[defaults]\ninterval = 200ms\ntimeout = 1s\n"
	    "failure_threshold = 2\nrecovery_timeout = 30s\n"
	    "[dep alpha]\nurl = http://127.0.0.1:%d/alpha\n"
	    "[dep bravo]\nurl = http://127.0.0.1:%d/bravo\ncritical = true\n",
	    e->log, e->sock, e->fx.port, e->fx.port);
	fclose(f);
}

static void start_instance(world *w)
{
	th_env *e = w->env;
	char *argv[] = {g_fusebox, "run", "--config", e->cfg, NULL};
	e->fb = th_spawn(argv, e->out, e->err);
	assert_true(e->fb > 0);
	w->runs++;
	assert_true(th_wait_events(e->log, w->runs, "start", NULL, NULL, NULL,
	                           WAIT_MS));
	assert_true(th_wait_unix_socket(e->sock, WAIT_MS));
}

/* ---- consoles ---------------------------------------------------------- */

typedef struct find_ctx {
	term *t;
	const char *bin;
} find_ctx;

static bool find_console(void *ctx)
{
	find_ctx *f = ctx;
	f->t->pid = th_proc_find(f->bin, f->t->theme);
	return f->t->pid > 0;
}

/* Waits for fn on terminal t's screen; on failure prints it. */
static bool wait_screen(term *t, bool escapes, th_screen_fn fn, void *ctx,
                        int timeout_ms, const char *what)
{
	free(t->screen);
	t->screen = NULL;
	bool ok =
	    th_tmux_wait(t->sock, escapes, fn, ctx, timeout_ms, &t->screen);
	if (!t->screen)
		t->screen = strdup("");
	if (!ok) {
		print_message("# %s: not seen within %d ms; the screen:\n",
		              what, timeout_ms);
		print_lines(t->screen, 60);
	}
	return ok;
}

/* Starts `fusebox --config CFG --theme THEME EXTRA` in terminal t and
 * waits for the process (not for its screen: it may refuse). */
static void start_console(world *w, term *t, int cols, int rows,
                          const char *extra)
{
	char cmd[3 * PATH_MAX];
	snprintf(cmd, sizeof cmd,
	         "UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_"
	         "error=1} "
	         "timeout --foreground -k 2 120 %s --config %s --theme %s%s%s; "
	         "echo EXIT=$? > %s; exec sleep 120",
	         g_fusebox, w->env->cfg, t->theme, extra ? " " : "",
	         extra ? extra : "", t->exitf);
	assert_int_equal(th_tmux_start(t->sock, w->env->dir, cols, rows, cmd),
	                 0);
	t->up = true;
}

static void start_attached(world *w, term *t)
{
	start_console(w, t, 160, 45, NULL);
	find_ctx f = {t, g_fusebox};
	assert_true(th_wait_until(find_console, &f, WAIT_MS));
	char where[128];
	snprintf(where, sizeof where, "attached to attach-test pid %ld",
	         (long)w->env->fb);
	assert_true(wait_screen(t, false, th_screen_has, where, WAIT_MS,
	                        "the header naming the instance"));
}

static void keys(term *t, const char *key)
{
	assert_int_equal(th_tmux_keys(t->sock, key), 0);
}

static void type_text(term *t, const char *text)
{
	assert_int_equal(th_tmux_type(t->sock, text), 0);
}

/* ---- reading screens --------------------------------------------------- */

/* The line of the screen (escapes stripped) that starts with "name ",
 * copied with its escapes into out; "" when none. */
static const char *row_line(const char *screen, const char *name, char *out,
                            size_t len)
{
	size_t n = strlen(name);
	out[0] = '\0';
	for (const char *p = screen; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		char plain[2048];
		size_t k = 0;
		for (size_t i = 0; i < l && k + 1 < sizeof plain; i++) {
			if (p[i] == '\x1b' && i + 1 < l && p[i + 1] == '[') {
				i += 2;
				while (i < l && !(p[i] >= 0x40 && p[i] <= 0x7e))
					i++;
				continue;
			}
			plain[k++] = p[i];
		}
		plain[k] = '\0';
		if (strncmp(plain, name, n) == 0 && plain[n] == ' ') {
			snprintf(out, len, "%.*s", (int)l, p);
			return out;
		}
		p = nl ? nl + 1 : NULL;
	}
	return out;
}

static bool row_has(const char *screen, const char *name, const char *word)
{
	char row[4096];
	return strstr(row_line(screen, name, row, sizeof row), word) != NULL;
}

typedef struct row_word {
	const char *name, *word;
} row_word;

static bool row_shows(const char *screen, void *ctx)
{
	row_word *rw = ctx;
	return row_has(screen, rw->name, rw->word);
}

/* Lines of the screen that hold needle. */
static int count_lines(const char *screen, const char *needle)
{
	int n = 0;
	for (const char *p = screen; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		char line[2048];
		snprintf(line, sizeof line, "%.*s", (int)l, p);
		if (strstr(line, needle))
			n++;
		p = nl ? nl + 1 : NULL;
	}
	return n;
}

/* Does the row (with escapes) draw anything in colour? The default
 * theme draws states and health green, yellow, red or magenta; greyed
 * rows are dim and colourless. */
static bool row_coloured(const char *escaped, const char *name)
{
	char row[4096];
	row_line(escaped, name, row, sizeof row);
	static const char *const fg[] = {"[31m", "[32m", "[33m", "[35m",
	                                 ";31m", ";32m", ";33m", ";35m"};
	for (size_t i = 0; i < sizeof fg / sizeof fg[0]; i++) {
		if (strstr(row, fg[i]))
			return true;
	}
	return false;
}

/* alpha: not under the cursor (bravo, critical, is the top row) */
static bool alpha_coloured(const char *s, void *ctx)
{
	(void)ctx;
	return row_has(s, "alpha", "healthy") && row_coloured(s, "alpha");
}

static bool alpha_greyed(const char *s, void *ctx)
{
	(void)ctx;
	return row_has(s, "alpha", "healthy") && !row_coloured(s, "alpha") &&
	       strstr(s, "[2m") != NULL;
}

/* ---- 1. trip from the console, seen by status and by another console -- */

static bool both_healthy(const char *s, void *ctx)
{
	(void)ctx;
	return row_has(s, "alpha", " healthy ") &&
	       row_has(s, "bravo", " healthy ");
}

static void test_trip_from_an_attached_console(void **state)
{
	world *w = *state;
	th_env *e = w->env;
	write_config(w);
	start_instance(w);
	start_attached(w, &w->t[0]);
	start_attached(w, &w->t[1]);
	assert_true(wait_screen(&w->t[0], false, both_healthy, NULL, WAIT_MS,
	                        "alpha and bravo healthy"));
	assert_true(wait_screen(&w->t[1], false, both_healthy, NULL, WAIT_MS,
	                        "alpha and bravo healthy, second console"));

	/* worst first: the critical bravo on top, under the cursor */
	keys(&w->t[0], "t");
	assert_true(wait_screen(&w->t[0], false, th_screen_has, "Trip bravo",
	                        WAIT_MS, "the confirmation naming bravo"));
	keys(&w->t[0], "y");
	assert_true(wait_screen(&w->t[0], false, th_screen_has,
	                        "Reason for trip", WAIT_MS,
	                        "the reason prompt"));
	type_text(&w->t[0], "attach drill 7");
	keys(&w->t[0], "Enter");
	int64_t acted = th_now_ms();

	row_word tripped = {"bravo", "forced_open"};
	assert_true(wait_screen(&w->t[1], false, row_shows, &tripped, WAIT_MS,
	                        "bravo forced_open in the other console"));
	int64_t seen_other = th_now_ms() - acted;
	assert_true(
	    wait_screen(&w->t[0], false, row_shows, &tripped, WAIT_MS,
	                "bravo forced_open in the console that did it"));
	assert_true(wait_screen(&w->t[1], false, th_screen_has,
	                        "trip bravo -- attach drill 7 (via console)",
	                        WAIT_MS, "the operator event, other console"));
	print_message("# the other console showed the trip %lld ms after Enter "
	              "(tmux polled every 25 ms)\n",
	              (long long)seen_other);
	assert_true(seen_other < 2000);

	/* the instance did it, and logged who: the uid of the console's user */
	char *argv[] = {g_fusebox,  "status", "--json",
	                "--config", e->cfg,   NULL};
	th_result r;
	assert_int_equal(th_run(argv, WAIT_MS, &r), 0);
	cJSON *doc = cJSON_Parse(r.out);
	th_result_free(&r);
	assert_non_null(doc);
	const cJSON *d;
	const char *bravo_state = NULL;
	cJSON_ArrayForEach(
	    d, cJSON_GetObjectItemCaseSensitive(doc, "dependencies"))
	{
		if (strcmp(th_json_str(d, "service"), "bravo") == 0)
			bravo_state = th_json_str(d, "state");
	}
	assert_non_null(bravo_state);
	assert_string_equal(bravo_state, "forced_open");
	cJSON_Delete(doc);

	cJSON *events = th_jsonl_read(e->log, NULL, NULL);
	assert_non_null(events);
	const cJSON *op =
	    th_events_nth(events, 0, "operator", "bravo", NULL, NULL);
	assert_non_null(op);
	assert_string_equal(th_json_str(op, "action"), "trip");
	assert_string_equal(th_json_str(op, "reason"),
	                    "attach drill 7 (via console)");
	struct passwd *pw = getpwuid(getuid());
	char actor[160];
	snprintf(actor, sizeof actor, "%s (uid %u)", pw ? pw->pw_name : "?",
	         (unsigned)getuid());
	assert_string_equal(th_json_str(op, "actor"), actor);
	assert_int_equal(th_events_count(events, "start", NULL, NULL, NULL), 1);
	cJSON_Delete(events);
	/* the consoles started no engine of their own */
	assert_true(th_alive(e->fb));

	/* the CLI takes a reason for reset too, as the console asks one */
	char *reset[] = {g_fusebox,   "reset",    "bravo", "--reason",
	                 "all clear", "--config", e->cfg,  NULL};
	assert_int_equal(th_run(reset, WAIT_MS, &r), 0);
	th_result_free(&r);
	assert_true(th_wait_events(e->log, 2, "operator", "bravo", NULL, NULL,
	                           WAIT_MS));
	events = th_jsonl_read(e->log, NULL, NULL);
	assert_non_null(events);
	op = th_events_nth(events, 1, "operator", "bravo", NULL, NULL);
	assert_non_null(op);
	assert_string_equal(th_json_str(op, "action"), "reset");
	assert_string_equal(th_json_str(op, "reason"), "all clear");
	cJSON_Delete(events);
	row_word closed = {"bravo", " closed "};
	assert_true(wait_screen(&w->t[1], false, row_shows, &closed, WAIT_MS,
	                        "bravo closed again in the other console"));
}

/* ---- 2. the instance goes away, and comes back ------------------------- */

static void test_disconnect_and_resume(void **state)
{
	world *w = *state;
	th_env *e = w->env;
	term *t = &w->t[0];
	write_config(w);
	start_instance(w);
	start_attached(w, t);
	assert_true(wait_screen(t, false, both_healthy, NULL, WAIT_MS,
	                        "alpha and bravo healthy"));
	/* one action before, to count afterwards (bravo is on top) */
	keys(t, "d");
	assert_true(wait_screen(t, false, th_screen_has, "Disable bravo",
	                        WAIT_MS, "the confirmation"));
	keys(t, "y");
	assert_true(wait_screen(t, false, th_screen_has, "Reason for disable",
	                        WAIT_MS, "the reason prompt"));
	type_text(t, "before the kill");
	keys(t, "Enter");
	assert_true(
	    wait_screen(t, false, th_screen_has,
	                "disable bravo -- before the kill (via console)",
	                WAIT_MS, "the operator event"));
	assert_true(wait_screen(t, true, alpha_coloured, NULL, WAIT_MS,
	                        "alpha drawn in colour while live"));

	/* killed: DISCONNECTED within a second, the table greyed */
	pid_t old = e->fb;
	int64_t killed = th_now_ms();
	assert_int_equal(kill(old, SIGKILL), 0);
	assert_true(wait_screen(t, false, th_screen_has,
	                        "DISCONNECTED, retrying", 1000,
	                        "DISCONNECTED within a second of the kill"));
	print_message("# DISCONNECTED shown %lld ms after the kill\n",
	              (long long)(th_now_ms() - killed));
	th_wait_exit(old, WAIT_MS, NULL);
	e->fb = 0;
	assert_true(wait_screen(t, true, alpha_greyed, NULL, WAIT_MS,
	                        "alpha greyed while disconnected"));
	assert_true(wait_screen(t, false, th_screen_has, " old)", WAIT_MS,
	                        "the age of the data"));

	/* actions are refused, and nothing is asked */
	keys(t, "t");
	assert_true(wait_screen(t, false, th_screen_has,
	                        "refused: not connected", WAIT_MS,
	                        "the refusal"));
	assert_null(strstr(t->screen, "Trip bravo"));

	/* back: the console resumes by itself from a new snapshot */
	start_instance(w);
	char where[128];
	snprintf(where, sizeof where, "attached to attach-test pid %ld",
	         (long)e->fb);
	assert_true(wait_screen(t, false, th_screen_has, where, WAIT_MS,
	                        "the header naming the new instance"));
	assert_true(wait_screen(t, false, th_screen_lacks, "DISCONNECTED",
	                        WAIT_MS, "DISCONNECTED gone"));
	assert_true(wait_screen(t, true, alpha_coloured, NULL, WAIT_MS,
	                        "alpha in colour again"));
	/* both starts in the log pane, and every earlier event once */
	free(t->screen);
	t->screen = th_tmux_capture(t->sock, false);
	assert_non_null(t->screen);
	if (count_lines(t->screen, "fusebox start") != 2 ||
	    count_lines(t->screen, "disable bravo -- before the kill") != 1)
		print_lines(t->screen, 60);
	assert_int_equal(count_lines(t->screen, "fusebox start"), 2);
	assert_int_equal(
	    count_lines(t->screen, "disable bravo -- before the kill"), 1);
	assert_int_equal(count_lines(t->screen, "lost the instance"), 1);
	/* and acting works again */
	keys(t, "g");
	assert_true(wait_screen(t, false, th_screen_has, "Gate: b block",
	                        WAIT_MS, "the gate menu"));
	keys(t, "b");
	type_text(t, "after the restart");
	keys(t, "Enter");
	assert_true(
	    th_wait_events(e->log, 1, "gate", NULL, NULL, "blocked", WAIT_MS));
	assert_true(wait_screen(t, false, th_screen_has, "GATE BLOCKED (block)",
	                        WAIT_MS, "the gate blocked in the header"));
}

/* ---- 3. an instance that does not answer ------------------------------ */

static void test_stopped_instance_is_not_answering(void **state)
{
	world *w = *state;
	th_env *e = w->env;
	term *t = &w->t[0];
	write_config(w);
	start_instance(w);
	start_attached(w, t);
	assert_true(wait_screen(t, false, both_healthy, NULL, WAIT_MS,
	                        "alpha and bravo healthy"));
	/* stopped: its socket stays, nothing answers */
	assert_int_equal(kill(e->fb, SIGSTOP), 0);
	int64_t stopped = th_now_ms();
	assert_true(wait_screen(t, false, th_screen_has,
	                        "NOT ANSWERING, waiting", WAIT_MS,
	                        "NOT ANSWERING"));
	int64_t took = th_now_ms() - stopped;
	print_message("# NOT ANSWERING shown %lld ms after SIGSTOP\n",
	              (long long)took);
	assert_true(took < 4000);
	assert_true(wait_screen(t, true, alpha_greyed, NULL, WAIT_MS,
	                        "alpha greyed while it does not answer"));
	keys(t, "t");
	assert_true(wait_screen(t, false, th_screen_has,
	                        "refused: the instance does not answer",
	                        WAIT_MS, "actions refused"));
	/* a busy instance is waited for, not dropped and asked again */
	int64_t left = stopped + 6000 - th_now_ms();
	if (left > 0)
		th_sleep_ms((int)left);
	assert_true(wait_screen(t, false, th_screen_has,
	                        "NOT ANSWERING, waiting", WAIT_MS,
	                        "still waiting after 6 s"));
	assert_null(strstr(t->screen, "DISCONNECTED"));
	/* going on: the same connection, no new snapshot, nothing lost */
	assert_int_equal(kill(e->fb, SIGCONT), 0);
	assert_true(wait_screen(t, false, th_screen_lacks, "NOT ANSWERING",
	                        WAIT_MS, "live again"));
	assert_true(wait_screen(t, true, alpha_coloured, NULL, WAIT_MS,
	                        "alpha in colour again"));
	assert_int_equal(count_lines(t->screen, "lost the instance"), 0);
	assert_int_equal(count_lines(t->screen, "fusebox start"), 1);
}

/* ---- 4. one engine per configuration ----------------------------------- */

static bool exit_written(const char *text, size_t len, void *ctx)
{
	(void)ctx;
	return len > 0 && strchr(text, '\n') != NULL;
}

static int exit_code(term *t)
{
	char text[64];
	int code = -1;
	if (!th_wait_file_text(t->exitf, exit_written, NULL, WAIT_MS) ||
	    th_read_file(t->exitf, text, sizeof text) <= 0 ||
	    sscanf(text, "EXIT=%d", &code) != 1)
		return -1;
	return code;
}

static void test_embedded_refused_while_an_instance_runs(void **state)
{
	world *w = *state;
	th_env *e = w->env;
	write_config(w);
	start_instance(w);
	term *t = &w->t[0];
	start_console(w, t, 200, 30, "--embedded");
	assert_int_equal(exit_code(t), 75); /* already running */
	assert_true(wait_screen(t, false, th_screen_has,
	                        "--embedded would start a second engine",
	                        WAIT_MS, "the refusal"));
	assert_true(th_alive(e->fb));
	cJSON *events = th_jsonl_read(e->log, NULL, NULL);
	assert_non_null(events);
	assert_int_equal(th_events_count(events, "start", NULL, NULL, NULL), 1);
	cJSON_Delete(events);

	/* with no instance, --embedded is the console's own engine */
	assert_int_equal(th_kill(e->fb, SIGTERM, WAIT_MS) >= 0, 1);
	e->fb = 0;
	term *u = &w->t[1];
	start_console(w, u, 120, 30, "--embedded");
	assert_true(wait_screen(u, false, th_screen_has,
	                        "attach-test (embedded)", WAIT_MS,
	                        "the header saying embedded"));
	assert_true(wait_screen(u, false, both_healthy, NULL, WAIT_MS,
	                        "its own probes"));
}

int main(void)
{
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_trip_from_an_attached_console),
	    T(test_disconnect_and_resume),
	    T(test_stopped_instance_is_not_answering),
	    T(test_embedded_refused_while_an_instance_runs),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
