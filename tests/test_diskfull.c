/* End to end: the event log on a full filesystem (SPEC section 3, "When
 * the event log cannot be written", and the `gap` kind of section 6).
 * Each test mounts a small tmpfs (64 KiB) in its temp dir, puts the log
 * there, runs the real, sanitized `fusebox run` (or the console, in
 * tmux) against a flapping dependency so that events keep coming, and
 * fills the tmpfs with a filler file: the instance must say so (stderr
 * once, status, metrics, the console header), refuse operator actions,
 * keep the events, and write them in order once the filler is gone --
 * or a gap event for those it could not keep. Needs root (mount); as a
 * normal user each test says so and passes without running. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define WAIT_MS     10000 /* the longest any one condition may take */
#define CLI_MS      15000 /* the longest one CLI command may take */
#define ENOSPC_TEXT "No space left on device"

static char g_fusebox[PATH_MAX];
static char g_fixture[PATH_MAX];

typedef struct world {
	th_env *e;
	char full[400];   /* the tmpfs */
	char filler[450]; /* the file that fills it */
	char log[450];    /* the event log, on it */
	bool mounted;
	/* the console, when a test runs it */
	char tmux[64];
	bool tmux_up;
} world;

/* ---- set-up: a temp dir, the fixture, a 64 KiB tmpfs ---------------- */

static int setup(void **state)
{
	world *w = calloc(1, sizeof *w);
	if (!w || !(w->e = th_env_new(g_fixture)))
		return -1;
	snprintf(w->full, sizeof w->full, "%s/full", w->e->dir);
	snprintf(w->filler, sizeof w->filler, "%s/filler", w->full);
	snprintf(w->log, sizeof w->log, "%s/events.jsonl", w->full);
	snprintf(w->tmux, sizeof w->tmux, "fbdf-%ld", (long)getpid());
	if (mkdir(w->full, 0700) != 0)
		return -1;
	if (geteuid() != 0)
		print_message("# not run: mounting a tmpfs needs root\n");
	else if (mount("tmpfs", w->full, "tmpfs", MS_NOSUID | MS_NODEV,
	               "size=64k,mode=0700") != 0)
		print_message("# not run: cannot mount a tmpfs on %s: %s\n",
		              w->full, strerror(errno));
	else
		w->mounted = true;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	world *w = *state;
	if (w->tmux_up)
		th_tmux_kill(w->tmux);
	if (w->e->fb > 0)
		th_kill(w->e->fb, SIGKILL, 3000);
	w->e->fb = 0;
	pid_t console = th_proc_find(g_fusebox, w->e->cfg);
	if (console > 0) {
		kill(console, SIGKILL);
		th_proc_wait_gone(console, 3000);
	}
	if (w->mounted && umount(w->full) != 0)
		umount2(w->full, MNT_DETACH);
	th_env_free(w->e);
	free(w);
	return 0;
}

/* ---- the filesystem -------------------------------------------------- */

/* Writes zeros to the filler until the tmpfs is full. */
static void fill(world *w)
{
	static const char zeros[4096];
	int fd =
	    open(w->filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	ssize_t n;
	size_t chunk = sizeof zeros;
	while (chunk > 0) {
		n = write(fd, zeros, chunk);
		if (n < 0 && errno == ENOSPC)
			chunk /= 2; /* then what is left of the last page */
		else
			assert_true(n > 0);
	}
	close(fd);
}

static void unfill(world *w)
{
	assert_int_equal(unlink(w->filler), 0);
}

/* ---- the instance ---------------------------------------------------- */

static void show(const world *w)
{
	th_show_tail("event log", w->log);
	th_show_tail("fusebox stderr", w->e->err);
}

/* A critical "api" in fixture mode `mode`, opening at its first failure
 * and staying open for `recovery`. */
static void write_config_as(const world *w, const char *mode,
                            const char *recovery)
{
	char text[2048], path[600];
	snprintf(text, sizeof text,
	         "[fusebox]\nlog = full/events.jsonl\ncontrol_socket = "
	         "ctl.sock\nhost = testhost\n\n[defaults]\ninterval = "
	         "100ms\ntimeout = 500ms\nfailure_threshold = 1\n"
	         "recovery_timeout = %s\njitter = 0\n\n[dep api]\nurl = "
	         "http://127.0.0.1:%d/api\ncritical = true\n",
	         recovery, w->e->fx.port);
	th_write_file(w->e->dir, "fusebox.ini", text, path, sizeof path);
	assert_int_equal(th_fixture_set(&w->e->fx, "/api", mode), 0);
}

/* It flaps (2 answers ok, 2 fail, ...), opening and closing every few
 * hundred ms: events keep coming. */
static void write_config(const world *w)
{
	write_config_as(w, "flap:2", "200ms");
}

/* `fusebox run`, with FUSEBOX_EVENT_BACKLOG=backlog when not NULL. */
static void start_run(world *w, const char *backlog)
{
	char *argv[] = {g_fusebox, "run", "--config", w->e->cfg, NULL};
	if (backlog)
		setenv("FUSEBOX_EVENT_BACKLOG", backlog, 1);
	w->e->fb = th_spawn(argv, w->e->out, w->e->err);
	unsetenv("FUSEBOX_EVENT_BACKLOG");
	assert_true(w->e->fb > 0);
	if (!th_wait_events(w->log, 1, "start", NULL, NULL, NULL, WAIT_MS) ||
	    !th_wait_unix_socket(w->e->sock, WAIT_MS)) {
		show(w);
		fail_msg("fusebox run did not start");
	}
}

/* Runs `fusebox ARGS... --config CFG`; returns the exit code. */
static int cli(const world *w, th_result *r, const char *const *args)
{
	char *argv[16];
	size_t n = 0;
	argv[n++] = g_fusebox;
	while (*args && n < 12)
		argv[n++] = (char *)*args++;
	argv[n++] = "--config";
	argv[n++] = (char *)w->e->cfg;
	argv[n] = NULL;
	th_run(argv, CLI_MS, r);
	return r->code;
}

#define CLI(w, r, ...) cli((w), (r), (const char *const[]){__VA_ARGS__, NULL})

/* The event_log member of `status --json`: a copy (delete it), or NULL. */
static cJSON *event_log_status(const world *w)
{
	th_result r;
	if (CLI(w, &r, "status", "--json") != 0) {
		th_result_free(&r);
		return NULL;
	}
	cJSON *doc = cJSON_Parse(r.out);
	th_result_free(&r);
	cJSON *log = cJSON_DetachItemFromObjectCaseSensitive(doc, "event_log");
	cJSON_Delete(doc);
	return log;
}

typedef struct log_cond {
	const world *w;
	bool ok;       /* wanted: the log working (true) or failing */
	double queued; /* at least this many waiting */
	double lost;   /* at least this many lost */
	cJSON *seen;   /* the last event_log member */
} log_cond;

static bool log_state_is(void *ctx)
{
	log_cond *c = ctx;
	cJSON_Delete(c->seen);
	c->seen = event_log_status(c->w);
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(c->seen, "ok");
	return cJSON_IsBool(ok) && cJSON_IsTrue(ok) == c->ok &&
	       th_json_num(c->seen, "queued", -1) >= c->queued &&
	       th_json_num(c->seen, "lost", -1) >= c->lost;
}

/* Waits for the event log's state in status; returns the last seen
 * event_log member (delete it). */
static cJSON *wait_log_state(const world *w, bool ok, double queued,
                             double lost)
{
	log_cond c = {w, ok, queued, lost, NULL};
	if (!th_wait_until(log_state_is, &c, WAIT_MS)) {
		char *text = c.seen ? cJSON_PrintUnformatted(c.seen) : NULL;
		show(w);
		fail_msg("status never showed the event log %s (queued >= "
		         "%.0f, lost >= %.0f); last: %s",
		         ok ? "working" : "failing", queued, lost,
		         text ? text : "(no answer)");
	}
	return c.seen;
}

/* How many times `needle` is in the file. */
static int count_in(const char *path, const char *needle)
{
	char *text = th_slurp(path, NULL);
	int n = 0;
	for (const char *p = text; p && (p = strstr(p, needle)); p++)
		n++;
	free(text);
	return n;
}

/* ---- the log, checked line by line ---------------------------------- */

typedef struct log_facts {
	int lines;
	int gaps;
	int gap_at;      /* line index of the first gap, -1 */
	double gap_lost; /* its `lost` */
	const char *gap_reason;
	int operators;
	cJSON *events; /* every line, parsed */
} log_facts;

/* Every line a whole event; seq strictly increasing by one from 1; ts
 * never going back (events written late keep their order); no event
 * twice (the same line but for seq); the file ends with a newline. */
static void check_log(const world *w, log_facts *f)
{
	size_t len = 0;
	char *text = th_slurp(w->log, &len);
	assert_non_null(text);
	memset(f, 0, sizeof *f);
	f->gap_at = -1;
	if (len && text[len - 1] != '\n') {
		show(w);
		fail_msg("the log ends in a partial line");
	}
	f->events = cJSON_CreateArray();
	char **bodies = calloc(len / 16 + 1, sizeof *bodies);
	int64_t last_ts = 0;
	for (char *line = text, *nl; line < text + len; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		cJSON *e = cJSON_Parse(line);
		if (!e) {
			show(w);
			fail_msg("line %d is not an event: %s", f->lines + 1,
			         line);
		}
		double seq = th_json_num(e, "seq", -1);
		if (seq != f->lines + 1) {
			show(w);
			fail_msg("line %d has seq %.0f", f->lines + 1, seq);
		}
		int64_t ts = th_rfc3339_ms(th_json_str(e, "ts"));
		if (ts < last_ts) {
			show(w);
			fail_msg("line %d goes back in time", f->lines + 1);
		}
		last_ts = ts;
		/* the event without its seq: what a duplicate would repeat */
		char *body = strstr(line, "\"ts\":");
		assert_non_null(body);
		for (int i = 0; i < f->lines; i++)
			if (bodies[i] && strcmp(bodies[i], body) == 0)
				fail_msg("lines %d and %d are one event twice",
				         i + 1, f->lines + 1);
		bodies[f->lines] = body;
		const char *kind = th_json_str(e, "kind");
		if (kind && strcmp(kind, "gap") == 0 && f->gaps++ == 0) {
			f->gap_at = f->lines;
			f->gap_lost = th_json_num(e, "lost", -1);
		}
		f->operators += kind && strcmp(kind, "operator") == 0;
		cJSON_AddItemToArray(f->events, e);
		f->lines++;
	}
	if (f->gap_at >= 0)
		f->gap_reason = th_json_str(
		    cJSON_GetArrayItem(f->events, f->gap_at), "reason");
	free(bodies);
	free(text);
}

/* "event log works again: N events written late, M lost": N and M. */
static void recovery_line(const world *w, long *late, long *lost)
{
	char *err = th_slurp(w->e->err, NULL);
	const char *p = err ? strstr(err, "event log works again: ") : NULL;
	if (!p || sscanf(p,
	                 "event log works again: %ld events written late, "
	                 "%ld lost",
	                 late, lost) != 2) {
		show(w);
		fail_msg("stderr never said the event log works again");
	}
	free(err);
}

/* ---- 1. a full disk: held, said, refused, then written --------------- */

static void test_full_disk_holds_events_and_refuses_actions(void **state)
{
	world *w = *state;
	th_result r;
	if (!w->mounted)
		return;
	write_config(w);
	start_run(w, NULL);
	assert_true(th_wait_events(w->log, 8, NULL, NULL, NULL, NULL, WAIT_MS));
	cJSON_Delete(wait_log_state(w, true, 0, 0));

	fill(w);
	cJSON *log = wait_log_state(w, false, 3, 0);
	assert_string_equal(th_json_str(log, "error"), ENOSPC_TEXT);
	double queued = th_json_num(log, "queued", -1);
	cJSON_Delete(log);
	/* while it fails: nothing is written, what is there is whole */
	log_facts before;
	check_log(w, &before);
	th_sleep_ms(400);
	log_facts still;
	check_log(w, &still);
	assert_int_equal(still.lines, before.lines);
	cJSON_Delete(still.events);

	/* said once on stderr, at ERR, with the real cause */
	assert_int_equal(count_in(w->e->err, "event log failing: " ENOSPC_TEXT),
	                 1);
	/* the status table says so under the gate */
	assert_int_equal(CLI(w, &r, "status"), 0);
	const char *gate = strstr(r.out, "GATE ");
	const char *line =
	    strstr(r.out, "\nEVENT LOG FAILING: " ENOSPC_TEXT " (");
	if (!gate || !line || line < gate || strchr(gate, '\n') != line)
		fail_msg("no EVENT LOG FAILING line under the gate:\n%s",
		         r.out);
	th_result_free(&r);
	/* and the metrics */
	assert_int_equal(CLI(w, &r, "status", "--prometheus"), 0);
	assert_non_null(strstr(r.out, "\nfusebox_event_log_ok 0\n"));
	const char *q = strstr(r.out, "\nfusebox_event_log_queued ");
	assert_non_null(q);
	assert_true(strtod(q + strlen("\nfusebox_event_log_queued "), NULL) >=
	            queued);
	assert_non_null(strstr(r.out, "\nfusebox_event_log_lost_total 0\n"));
	th_result_free(&r);

	/* operator actions could not be recorded: refused, nothing done */
	static const char refusal[] =
	    "not done: the event log cannot be written (" ENOSPC_TEXT
	    "); an operator action must be on record";
	assert_int_equal(CLI(w, &r, "trip", "api", "--reason", "drill"), 1);
	assert_non_null(strstr(r.err, refusal));
	th_result_free(&r);
	assert_int_equal(CLI(w, &r, "disable", "api"), 1);
	assert_non_null(strstr(r.err, refusal));
	th_result_free(&r);
	assert_int_equal(CLI(w, &r, "gate", "block"), 1);
	assert_non_null(strstr(r.err, refusal));
	th_result_free(&r);
	assert_int_equal(CLI(w, &r, "status", "--json"), 0);
	cJSON *doc = cJSON_Parse(r.out);
	th_result_free(&r);
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(doc, "gate");
	assert_string_equal(th_json_str(g, "mode"), "auto");
	const cJSON *dep = cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(doc, "dependencies"), 0);
	assert_null(strstr(th_json_str(dep, "state"), "forced"));
	cJSON_Delete(doc);

	/* room again: what waited is written, in order, then new events */
	unfill(w);
	log = wait_log_state(w, true, 0, 0);
	assert_true(th_json_num(log, "lost", -1) == 0);
	cJSON_Delete(log);
	long late = -1, lost = -1;
	recovery_line(w, &late, &lost);
	print_message("# %ld events written late, %ld lost (status saw %.0f "
	              "queued)\n",
	              late, lost, queued);
	assert_true(late >= queued);
	assert_int_equal(lost, 0);
	assert_int_equal(count_in(w->e->err, "event log failing: "), 1);
	assert_int_equal(count_in(w->e->err, "event log works again: "), 1);
	assert_true(th_wait_events(w->log, before.lines + (int)late + 2, NULL,
	                           NULL, NULL, NULL, WAIT_MS));
	log_facts after;
	check_log(w, &after);
	assert_int_equal(after.gaps, 0);
	assert_int_equal(after.operators, 0); /* the refused ones left none */
	/* what was written before the disk filled is still there, as it was */
	for (int i = 0; i < before.lines; i++)
		assert_true(cJSON_Compare(cJSON_GetArrayItem(before.events, i),
		                          cJSON_GetArrayItem(after.events, i),
		                          true));
	cJSON_Delete(before.events);
	cJSON_Delete(after.events);

	/* and operator actions work again */
	assert_int_equal(CLI(w, &r, "trip", "api", "--reason", "drill"), 0);
	th_result_free(&r);
	assert_true(
	    th_wait_events(w->log, 1, "operator", "api", NULL, NULL, WAIT_MS));
	int status = th_kill(w->e->fb, SIGTERM, WAIT_MS);
	w->e->fb = 0;
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	check_log(w, &after);
	assert_int_equal(after.gaps, 0);
	cJSON_Delete(after.events);
}

/* ---- 2. too long: the oldest go, a gap says how many ---------------- */

static void test_overflow_writes_a_gap(void **state)
{
	world *w = *state;
	th_result r;
	if (!w->mounted)
		return;
	write_config(w);
	start_run(w, "5");
	assert_true(th_wait_events(w->log, 5, NULL, NULL, NULL, NULL, WAIT_MS));
	fill(w);
	cJSON_Delete(wait_log_state(w, false, 5, 10));
	log_facts before;
	check_log(w, &before);
	assert_int_equal(before.gaps, 0);

	unfill(w);
	cJSON *log = wait_log_state(w, true, 0, 10);
	double lost = th_json_num(log, "lost", -1);
	cJSON_Delete(log);
	long late = -1, said_lost = -1;
	recovery_line(w, &late, &said_lost);
	print_message("# %ld written late, %ld lost\n", late, said_lost);
	assert_int_equal(late, 5); /* the backlog held 5: all written */
	assert_true(said_lost == lost);
	char *err = th_slurp(w->e->err, NULL);
	const char *again = err ? strstr(err, "event log works again") : NULL;
	assert_non_null(again);
	assert_non_null(strstr(again, "(a gap event says so)"));
	free(err);
	assert_true(th_wait_events(w->log, before.lines + 1 + 5 + 1, NULL, NULL,
	                           NULL, NULL, WAIT_MS));

	log_facts after;
	check_log(w, &after);
	assert_int_equal(after.gaps, 1);
	/* where the lost events were: right after what had been written,
	 * before the five that waited */
	assert_int_equal(after.gap_at, before.lines);
	assert_true(after.gap_lost == lost);
	assert_string_equal(after.gap_reason,
	                    "event log failing: " ENOSPC_TEXT);
	cJSON_Delete(before.events);
	cJSON_Delete(after.events);

	/* replay tells it: the timeline, and the summary */
	char lost_line[160];
	snprintf(lost_line, sizeof lost_line,
	         "%.0f events lost: event log failing: " ENOSPC_TEXT, lost);
	char *tl[] = {g_fusebox, "replay", w->log, NULL};
	th_run(tl, CLI_MS, &r);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, lost_line));
	th_result_free(&r);
	char *sum[] = {g_fusebox, "replay", "--summary", w->log, NULL};
	th_run(sum, CLI_MS, &r);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "EVENTS LOST\n"));
	assert_non_null(strstr(r.out, lost_line));
	th_result_free(&r);
}

/* ---- 3. nothing happens: the timer writes what waits ---------------- */

static void test_timer_writes_when_no_event_comes(void **state)
{
	world *w = *state;
	th_result r;
	if (!w->mounted)
		return;
	/* api fails and stays open for an hour: no event comes by itself */
	write_config_as(w, "fail", "1h");
	start_run(w, NULL);
	assert_true(th_wait_events(w->log, 1, "transition", "api", NULL, "open",
	                           WAIT_MS));
	fill(w);
	/* resets (each: a few events) until the log's last page is full: the
	 * first reset refused is the first that could not be recorded */
	int code = 0;
	for (int i = 0; i < 100 && code == 0; i++) {
		code = CLI(w, &r, "reset", "api");
		th_result_free(&r);
		th_sleep_ms(100); /* its probe fails: open again */
	}
	assert_int_equal(code, 1);
	cJSON *log = wait_log_state(w, false, 1, 0);
	cJSON_Delete(log);
	th_sleep_ms(1500);
	log = wait_log_state(w, false, 1, 0);
	double queued = th_json_num(log, "queued", -1);
	cJSON_Delete(log);
	th_sleep_ms(500);
	log = wait_log_state(w, false, 1, 0);
	assert_true(th_json_num(log, "queued", -1) == queued); /* quiet now */
	cJSON_Delete(log);
	log_facts before;
	check_log(w, &before);

	unfill(w); /* and no new event to bring them along */
	cJSON_Delete(wait_log_state(w, true, 0, 0));
	long late = -1, lost = -1;
	recovery_line(w, &late, &lost);
	assert_true(late == queued);
	log_facts after;
	check_log(w, &after);
	assert_int_equal(after.lines, before.lines + (int)queued);
	cJSON_Delete(before.events);
	cJSON_Delete(after.events);
}

/* ---- 4. the console: the header says it, its actions are refused ---- */

static bool screen_has(const char *screen, void *ctx)
{
	return strstr(screen, ctx) != NULL;
}

static bool screen_lacks(const char *screen, void *ctx)
{
	return strstr(screen, ctx) == NULL;
}

static void wait_screen(world *w, th_screen_fn fn, const char *text)
{
	char *last = NULL;
	if (!th_tmux_wait(w->tmux, false, fn, (void *)text, WAIT_MS, &last)) {
		print_message("# the screen:\n%s\n", last ? last : "");
		free(last);
		fail_msg("the console never %s \"%s\"",
		         fn == screen_has ? "showed" : "stopped showing", text);
	}
	free(last);
}

static void keys(world *w, const char *key)
{
	assert_int_equal(th_tmux_keys(w->tmux, key), 0);
}

static void test_console_header_and_refusal(void **state)
{
	world *w = *state;
	static const char banner[] = "EVENT LOG FAILING: " ENOSPC_TEXT " (";
	if (!w->mounted)
		return;
	write_config(w);
	char cmd[3 * PATH_MAX];
	snprintf(cmd, sizeof cmd,
	         "timeout --foreground -k 2 120 %s --config %s; exec sleep 120",
	         g_fusebox, w->e->cfg);
	assert_int_equal(th_tmux_start(w->tmux, w->e->dir, 140, 30, cmd), 0);
	w->tmux_up = true;
	wait_screen(w, screen_has, "DEPENDENCY");
	assert_true(th_wait_events(w->log, 8, NULL, NULL, NULL, NULL, WAIT_MS));
	wait_screen(w, screen_lacks, banner);

	fill(w);
	wait_screen(w, screen_has, banner);
	/* trip api (the only row): confirm, no reason -- refused */
	keys(w, "t");
	wait_screen(w, screen_has, "Trip api");
	keys(w, "y");
	wait_screen(w, screen_has, "Reason for trip");
	keys(w, "Enter");
	wait_screen(w, screen_has,
	            "trip refused: not done: the event log cannot be written");

	unfill(w);
	wait_screen(w, screen_lacks, banner);
	log_facts f;
	check_log(w, &f);
	assert_int_equal(f.operators, 0);
	assert_int_equal(f.gaps, 0);
	cJSON_Delete(f.events);
	keys(w, "t");
	wait_screen(w, screen_has, "Trip api");
	keys(w, "y");
	wait_screen(w, screen_has, "Reason for trip");
	keys(w, "Enter");
	wait_screen(w, screen_has, "done: trip api");
	assert_true(
	    th_wait_events(w->log, 1, "operator", "api", NULL, NULL, WAIT_MS));
}

int main(void)
{
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
	if (getenv("FB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_full_disk_holds_events_and_refuses_actions),
	    T(test_overflow_writes_a_gap),
	    T(test_timer_writes_when_no_event_comes),
	    T(test_console_header_and_refusal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
