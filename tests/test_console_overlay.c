/* The console's other breakers, end to end (issue 15): in the replay
 * screen, `w` overlays a what-if run over the real timeline (a WHAT-IF
 * column beside the real state, the set in the header, its transitions
 * in the log pane); and a dependency with shadow.KEY settings shows its
 * shadow breaker where it disagrees with the real one, embedded,
 * attached and replayed. The real console (build/tests/fusebox) in a
 * tmux server of its own per test, fixed size, C.UTF-8, TZ=UTC, against
 * the fault-injection fixture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after what it needs */

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include "console/replay.h"
#include "helpers.h"

#define FUSEBOX_BIN "build/tests/fusebox"
#define ENGINE_BIN  "build/tests/fusebox-engine"
#define FIXTURE_BIN "build/tests/fixture-httpd"
#define WAIT_MS     8000 /* the longest any one condition may take */

typedef struct con {
	char dir[512];
	char cfg[600], log[600], errs[700];
	char sock[64];
	char bin[PATH_MAX], engine[PATH_MAX];
	th_fixture fx;
	pid_t run; /* a `fusebox run` of the test's, 0 when none */
	bool tmux_up;
	char *screen; /* the last capture a check looked at */
} con;

static int setup(void **state)
{
	static int serial;
	con *c = calloc(1, sizeof *c);
	if (!c)
		return -1;
	th_tempdir(c->dir, sizeof c->dir);
	snprintf(c->cfg, sizeof c->cfg, "%s/config.ini", c->dir);
	snprintf(c->log, sizeof c->log, "%s/events.jsonl", c->dir);
	snprintf(c->errs, sizeof c->errs, "%s.console-errors", c->log);
	snprintf(c->sock, sizeof c->sock, "fbovl-%ld-%d", (long)getpid(),
	         ++serial);
	if (!realpath(FUSEBOX_BIN, c->bin) ||
	    !realpath(ENGINE_BIN, c->engine) ||
	    th_fixture_start(&c->fx, FIXTURE_BIN, c->dir) != 0) {
		print_message("# %s, %s or %s is missing or does not start\n",
		              FUSEBOX_BIN, ENGINE_BIN, FIXTURE_BIN);
		th_rmtree(c->dir);
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	con *c = *state;
	if (c->tmux_up)
		th_tmux_kill(c->sock); /* SIGHUP to the console: it stops */
	pid_t left = th_proc_find(c->bin, c->cfg);
	if (left > 0 && !th_proc_wait_gone(left, 3000))
		kill(left, SIGKILL);
	if (c->run > 0)
		th_kill(c->run, SIGTERM, 5000);
	th_fixture_stop(&c->fx);
	char *errs = th_slurp(c->errs, NULL); /* ASan/UBSan reports */
	if (errs && errs[0])
		print_message("# the console's stderr:\n%.2000s\n", errs);
	free(errs);
	free(c->screen);
	th_rmtree(c->dir);
	free(c);
	return 0;
}

/* ---- the terminal ------------------------------------------------------ */

static void keys(con *c, const char *key)
{
	assert_int_equal(th_tmux_keys(c->sock, key), 0);
}

static void type_text(con *c, const char *text)
{
	assert_int_equal(th_tmux_type(c->sock, text), 0);
}

/* Starts `fusebox --config CFG ARGS` in a cols x rows terminal and waits
 * for needle on its screen. */
static void start(con *c, int cols, int rows, const char *args,
                  const char *needle)
{
	char cmd[3 * PATH_MAX];
	snprintf(cmd, sizeof cmd,
	         "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "
	         "timeout --foreground -k 2 120 %s --config %s %s 2>>%s; "
	         "exec sleep 120",
	         c->bin, c->cfg, args, c->errs);
	assert_int_equal(th_tmux_start(c->sock, c->dir, cols, rows, cmd), 0);
	c->tmux_up = true;
	assert_true(th_tmux_wait_text(c->sock, needle, WAIT_MS));
}

/* Waits for fn on the screen; on failure prints the last one. */
static bool wait_for(con *c, th_screen_fn fn, void *ctx, const char *what)
{
	free(c->screen);
	c->screen = NULL;
	bool ok = th_tmux_wait(c->sock, false, fn, ctx, WAIT_MS, &c->screen);
	if (!c->screen)
		c->screen = strdup("");
	if (!ok)
		print_message("# %s: not seen; the screen:\n%s\n", what,
		              c->screen);
	return ok;
}

/* The column (in characters) where `title` starts on the titles line. */
static int title_col(const char *screen, const char *title)
{
	char line[1024];
	for (int i = 0; i < 6; i++) {
		th_screen_line(screen, i, line, sizeof line);
		const char *t = strstr(line, "DEPENDENCY");
		const char *at = t ? strstr(line, title) : NULL;
		if (at)
			return (int)(at - line);
	}
	return -1;
}

/* The cell of row `name` under `title` (the column's first word, UTF-8
 * glyphs counted as one column): "" when either is missing. */
static const char *cell(const char *screen, const char *name, const char *title,
                        char *out, size_t len)
{
	char row[1024];
	int col = title_col(screen, title);
	th_screen_row(screen, name, row, sizeof row);
	out[0] = '\0';
	if (col < 0 || !row[0])
		return out;
	const char *p = row;
	for (int x = 0; *p && x < col; x++) { /* to the column's start */
		p++;
		while ((*p & 0xC0) == 0x80)
			p++;
	}
	size_t n = 0;
	while (p[n] && !(p[n] == ' ' && p[n + 1] == ' '))
		n++;
	snprintf(out, len, "%.*s", (int)n, p);
	return out;
}

/* ---- a recorded outage ------------------------------------------------- */

/* api answers for a second, then fails for four; its real breaker opens
 * at the third consecutive failure (failure_threshold = 3). `other`
 * answers throughout. */
static void record_outage(con *c)
{
	char text[2048], path[700];
	assert_int_equal(th_fixture_set(&c->fx, "/h", "ok"), 0);
	snprintf(text, sizeof text,
	         "[fusebox]\nlog = %s\ncontrol_socket = %s/fb.sock\n"
	         "host = overlay-test\n\n"
	         "[defaults]\ninterval = 100ms\ntimeout = 300ms\n"
	         "failure_threshold = 3\nrecovery_timeout = 1s\n\n"
	         "[dep api]\nurl = http://127.0.0.1:%d/h\ncritical = true\n\n"
	         "[dep other]\nurl = http://127.0.0.1:%d/o\n",
	         c->log, c->dir, c->fx.port, c->fx.port);
	th_write_file(c->dir, "config.ini", text, path, sizeof path);
	char *argv[] = {c->engine,    "run", "--config", c->cfg,
	                "--duration", "5",   NULL};
	pid_t run = th_spawn(argv, NULL, NULL);
	assert_true(run > 0);
	assert_true(th_wait_events(c->log, 1, "health", "api", NULL, "healthy",
	                           WAIT_MS));
	th_sleep_ms(600);
	assert_int_equal(th_fixture_set(&c->fx, "/h", "fail"), 0);
	int status;
	assert_true(th_wait_exit(run, 15000, &status));
	assert_true(th_wait_events(c->log, 1, "transition", "api", "closed",
	                           "open", 100));
}

typedef struct moment {
	char whatif[64], state[64];
} moment;

/* The api row with its real breaker closed and the what-if one open. */
static bool whatif_ahead(const char *screen, void *ctx)
{
	moment *m = ctx;
	cell(screen, "api", "STATE", m->state, sizeof m->state);
	cell(screen, "api", "WHAT-IF", m->whatif, sizeof m->whatif);
	return strstr(m->state, "closed") && !strcmp(m->whatif, "≠ open");
}

static bool whatif_column_gone(const char *screen, void *ctx)
{
	(void)ctx;
	return !strstr(screen, "WHAT-IF") &&
	       !strstr(screen, "what-if failure_threshold") &&
	       !strstr(screen, "what-if: api") && strstr(screen, "what-if off");
}

static void test_whatif_overlay_in_replay(void **state)
{
	con *c = *state;
	char line[1024];
	record_outage(c);
	char args[700];
	snprintf(args, sizeof args, "--replay %s", c->log);
	start(c, 100, 30, args, "REPLAY");

	/* a bad set: one line says why, nothing changes */
	keys(c, "w");
	assert_true(
	    wait_for(c, th_screen_has, "what-if (KEY=VALUE", "the prompt"));
	type_text(c, "failure_treshold=1");
	keys(c, "Enter");
	assert_true(
	    wait_for(c, th_screen_has, "unknown breaker tunable", "the error"));
	assert_non_null(strstr(c->screen, "'failure_treshold'"));
	assert_null(strstr(c->screen, "WHAT-IF"));
	/* Esc cancels */
	keys(c, "w");
	type_text(c, "failure_threshold=1");
	keys(c, "Escape");
	assert_true(
	    wait_for(c, th_screen_has, "what-if cancelled", "cancelled"));
	assert_null(strstr(c->screen, "WHAT-IF"));

	keys(c, "w");
	type_text(c, "failure_threshold=1");
	keys(c, "Enter");
	assert_true(wait_for(c, th_screen_has, "what-if failure_threshold=1",
	                     "the set in the header"));
	th_screen_line(c->screen, 0, line, sizeof line);
	assert_non_null(strstr(line, "what-if failure_threshold=1"));
	assert_true(title_col(c->screen, "WHAT-IF") >
	            title_col(c->screen, "STATE"));

	/* step forward until the what-if breaker is open before the real
	 * one: the first failure against the third */
	moment m = {{0}, {0}};
	bool seen = false;
	for (int i = 0; i < 40 && !seen; i++) {
		keys(c, "Right");
		free(c->screen);
		c->screen = NULL;
		seen = th_tmux_wait(c->sock, false, whatif_ahead, &m, 300,
		                    &c->screen);
	}
	if (!seen)
		print_message("# no moment with api closed and what-if open "
		              "(last: '%s' '%s'):\n%s\n",
		              m.state, m.whatif, c->screen ? c->screen : "");
	assert_true(seen);
	/* the log pane: the what-if transition at its time, the real one
	 * not yet */
	assert_non_null(strstr(c->screen, "what-if: api closed -> open"));
	assert_null(strstr(c->screen, "api closed -> open (3 consecutive"));
	keys(c, "End");
	assert_true(
	    wait_for(c, th_screen_has, "fusebox stop", "the log's end"));

	/* w again: the overlay is gone */
	keys(c, "w");
	assert_true(wait_for(c, whatif_column_gone, NULL, "no overlay"));
}

/* ---- shadow breakers --------------------------------------------------- */

/* api fails every other pair of probes (flap:2): two consecutive
 * failures never open its real breaker (5), and open its shadow (1). */
static void write_shadow_config(con *c)
{
	char text[2048], path[700];
	assert_int_equal(th_fixture_set(&c->fx, "/f", "flap:2"), 0);
	snprintf(text, sizeof text,
	         "[fusebox]\nlog = %s\ncontrol_socket = %s/fb.sock\n"
	         "host = shadow-test\n\n"
	         "[defaults]\ninterval = 200ms\ntimeout = 1s\n"
	         "recovery_timeout = 1m\n\n"
	         "[dep api]\nurl = http://127.0.0.1:%d/f\n"
	         "failure_threshold = 5\nshadow.failure_threshold = 1\n\n"
	         "[dep plain]\nurl = http://127.0.0.1:%d/ok\n",
	         c->log, c->dir, c->fx.port, c->fx.port);
	th_write_file(c->dir, "config.ini", text, path, sizeof path);
}

static bool shadow_disagrees(const char *screen, void *ctx)
{
	moment *m = ctx;
	cell(screen, "api", "STATE", m->state, sizeof m->state);
	cell(screen, "api", "SHADOW", m->whatif, sizeof m->whatif);
	return strstr(m->state, "closed") && !strcmp(m->whatif, "≠ open");
}

/* The table and the detail pane show the disagreement. */
static void expect_shadow_shown(con *c, bool detail)
{
	moment m = {{0}, {0}};
	char plain[64];
	assert_true(wait_for(c, shadow_disagrees, &m, "api's shadow open"));
	assert_string_equal(
	    cell(c->screen, "plain", "SHADOW", plain, sizeof plain), "-");
	if (!detail)
		return;
	/* api is the worst: the selected row */
	keys(c, "Enter");
	assert_true(wait_for(c, th_screen_has,
	                     "DISAGREES with the real one (closed)",
	                     "the detail's words"));
	assert_non_null(
	    strstr(c->screen, "shadow: open, 1 consecutive failures;"));
	assert_non_null(
	    strstr(c->screen, "shadow settings: failure_threshold=1"));
	keys(c, "Enter");
}

static void test_shadow_embedded(void **state)
{
	con *c = *state;
	write_shadow_config(c);
	start(c, 100, 30, "--embedded", "DEPENDENCY");
	expect_shadow_shown(c, true);
}

static void test_shadow_attached_and_replayed(void **state)
{
	con *c = *state;
	write_shadow_config(c);
	char *argv[] = {c->engine, "run", "--config", c->cfg, NULL};
	c->run = th_spawn(argv, NULL, NULL);
	assert_true(c->run > 0);
	char sock[700];
	snprintf(sock, sizeof sock, "%s/fb.sock", c->dir);
	assert_true(th_wait_unix_socket(sock, WAIT_MS));
	start(c, 100, 30, "", "attached to");
	expect_shadow_shown(c, true);
	/* the log's shadow events, replayed */
	keys(c, "R");
	assert_true(wait_for(c, th_screen_has, "REPLAY", "the replay screen"));
	keys(c, "End");
	expect_shadow_shown(c, false);
}

/* ---- the replay model, without a terminal ------------------------------ */

static con_past *past_of(char *dir, const char *text)
{
	char path[700];
	fb_error err;
	th_tempdir(dir, 512);
	th_write_file(dir, "events.jsonl", text, path, sizeof path);
	char *paths[] = {path};
	con_past *p = con_past_open(paths, 1, NULL, &err);
	if (!p)
		print_message("# %s\n", err.text);
	assert_non_null(p);
	return p;
}

#define EV(seq, s, rest)                                                       \
	"{\"v\":1,\"seq\":" #seq ",\"ts\":\"2026-11-23T10:00:0" s              \
	"Z\",\"host\":\"h\"," rest "}\n"
#define AT(s) (1795428000000LL + (int64_t)((s)*1000))

static const con_row *row_at(con_past *p, const char *name, double s)
{
	con_past_seek(p, AT(s));
	con_model_refresh(&p->m);
	long i = con_model_find(&p->m, name);
	assert_true(i >= 0);
	return &p->m.rows[i];
}

/* The shadow at the cursor is its last `shadow` event's state, and a
 * fresh (closed) one after a restart. */
static void test_replayed_shadow_follows_restarts(void **state)
{
	(void)state;
	char dir[512];
	con_past *p = past_of(
	    dir, EV(1, "0.000",
	            "\"kind\":\"start\",\"version\":\"0\",\"config\":\"c\"")
	             EV(2, "0.500",
	                "\"kind\":\"health\",\"dep\":\"other\","
	                "\"from\":\"unknown\",\"to\":\"healthy\"")
	                 EV(3, "1.000",
	                    "\"kind\":\"shadow\",\"dep\":\"api\","
	                    "\"from\":\"closed\",\"to\":\"open\"")
	                     EV(4, "2.000", "\"kind\":\"stop\"")
	                         EV(5, "3.000", "\"kind\":\"start\"")
	                             EV(6, "4.000",
	                                "\"kind\":\"health\",\"dep\":"
	                                "\"api\",\"from\":\"unknown\","
	                                "\"to\":\"healthy\""));
	const con_row *r = row_at(p, "api", 0.5);
	assert_true(r->has_shadow);
	assert_int_equal(r->shadow, FB_STATE_CLOSED);
	assert_int_equal(row_at(p, "api", 1.0)->shadow, FB_STATE_OPEN);
	assert_int_equal(row_at(p, "api", 2.5)->shadow, FB_STATE_OPEN);
	assert_int_equal(row_at(p, "api", 3.0)->shadow, FB_STATE_CLOSED);
	assert_false(row_at(p, "other", 4.0)->has_shadow);
	con_model_free(&p->m);
	th_rmtree(dir);
}

/* With an overlay, the log pane has the run's transitions after the
 * events of their instant, and the rows its state at the cursor. */
static void test_overlay_lines_interleave(void **state)
{
	(void)state;
	char dir[512];
	con_past *p = past_of(
	    dir, EV(1, "0.000", "\"kind\":\"start\"")
	             EV(2, "1.000",
	                "\"kind\":\"health\",\"dep\":\"api\","
	                "\"from\":\"unknown\",\"to\":\"healthy\"")
	                 EV(3, "2.000",
	                    "\"kind\":\"health\",\"dep\":\"api\","
	                    "\"from\":\"healthy\",\"to\":\"degraded\""));
	con_whatif *w = calloc(1, sizeof *w);
	assert_non_null(w);
	long api = con_model_find(&p->m, "api");
	assert_int_equal(api, 0);
	w->nrows = p->m.nrows;
	w->moves = calloc(w->nrows, sizeof *w->moves);
	w->nmoves = calloc(w->nrows, sizeof *w->nmoves);
	w->moves[0] = calloc(3, sizeof *w->moves[0]);
	w->lines = calloc(3, sizeof *w->lines);
	const fb_whatif_move m[3] = {
	    {AT(1.0), FB_STATE_CLOSED, FB_STATE_OPEN},
	    {AT(1.5), FB_STATE_OPEN, FB_STATE_HALF_OPEN},
	    {AT(2.0), FB_STATE_HALF_OPEN, FB_STATE_OPEN}};
	for (size_t i = 0; i < 3; i++) {
		w->moves[0][i] = m[i];
		w->lines[i] = (con_wi_line){
		    m[i].at_ms, fb_timeline_count_at(&p->tl, m[i].at_ms), 0,
		    m[i].from, m[i].to};
	}
	w->nmoves[0] = 3;
	w->nlines = 3;
	w->ready = true;
	p->whatif = w;
	static const char *const want[] = {
	    "what-if: api half_open -> open", "api health healthy -> degraded",
	    "what-if: api open -> half_open", "what-if: api closed -> open",
	    "api health unknown -> healthy"};
	con_past_seek(p, AT(2.0));
	assert_int_equal(con_model_nevents(&p->m), 6);
	for (size_t back = 0; back < 5; back++) {
		con_log_line l;
		assert_true(con_model_event(&p->m, back, &l));
		assert_non_null(strstr(l.text, want[back]));
	}
	con_past_seek(p, AT(1.2)); /* only what happened by then */
	assert_int_equal(con_model_nevents(&p->m), 3);
	con_log_line l;
	assert_true(con_model_event(&p->m, 0, &l));
	assert_string_equal(l.text, "what-if: api closed -> open");
	assert_int_equal(row_at(p, "api", 0.5)->whatif, FB_STATE_CLOSED);
	assert_int_equal(row_at(p, "api", 1.7)->whatif, FB_STATE_HALF_OPEN);
	assert_int_equal(row_at(p, "api", 2.0)->whatif, FB_STATE_OPEN);
	p->whatif = NULL;
	con_whatif_free(w);
	con_model_free(&p->m);
	th_rmtree(dir);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_whatif_overlay_in_replay),
	    T(test_shadow_embedded),
	    T(test_shadow_attached_and_replayed),
	    cmocka_unit_test(test_replayed_shadow_follows_restarts),
	    cmocka_unit_test(test_overlay_lines_interleave),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
