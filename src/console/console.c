/* The console's life: start the engine, own the terminal, turn events
 * into log lines, run the loop (redraw on change and once a second), and
 * always give the terminal back -- on quit, on signals, and on a crash. */
#include <curses.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "console/console.h"
#include "console/replay.h"
#include "logread.h"

/* ---- rows -------------------------------------------------------------- */

static fb_console *sort_ctx; /* qsort has no context argument */

static int severity(const fb_dep *d)
{
	static const int rank[FB_STATE_COUNT] = {[FB_STATE_CLOSED] = 0,
	                                         [FB_STATE_FORCED_CLOSED] = 1,
	                                         [FB_STATE_HALF_OPEN] = 2,
	                                         [FB_STATE_FORCED_OPEN] = 3,
	                                         [FB_STATE_OPEN] = 4};
	return (int)d->health * 10 + rank[fb_breaker_state(d->breaker)] +
	       (d->cfg.critical ? 5 : 0);
}

static double p50(const fb_dep *d)
{
	return fb_history_latency(&d->history, FB_HISTORY).p50;
}

static int compare(const void *a, const void *b)
{
	const fb_dep *x = &sort_ctx->rt->engine.reg.deps[*(const uint32_t *)a];
	const fb_dep *y = &sort_ctx->rt->engine.reg.deps[*(const uint32_t *)b];
	int d = 0;
	fb_breaker_snapshot sx, sy;
	switch (sort_ctx->sort) {
	case SORT_WORST: d = severity(y) - severity(x); break;
	case SORT_KIND: d = (int)x->cfg.kind - (int)y->cfg.kind; break;
	case SORT_FAILURES:
		fb_breaker_snapshot_get(x->breaker, &sx);
		fb_breaker_snapshot_get(y->breaker, &sy);
		d = (sy.failures > sx.failures) - (sy.failures < sx.failures);
		break;
	case SORT_LATENCY: d = (p50(y) > p50(x)) - (p50(y) < p50(x)); break;
	default: break;
	}
	return d ? d : strcmp(x->cfg.name, y->cfg.name);
}

void con_resort(fb_console *c)
{
	fb_registry *reg = &c->rt->engine.reg;
	uint32_t *order =
	    realloc(c->order, (reg->count ? reg->count : 1) * sizeof *order);
	if (!order)
		return;
	c->order = order;
	c->norder = 0;
	for (uint32_t i = 0; i < reg->count; i++) {
		if (!c->filter[0] ||
		    strcasestr(reg->deps[i].cfg.name, c->filter))
			c->order[c->norder++] = i;
	}
	sort_ctx = c;
	qsort(c->order, c->norder, sizeof *c->order, compare);
	c->cursor = 0;
	for (size_t i = 0; i < c->norder; i++) {
		if (c->order[i] == c->selected)
			c->cursor = i;
	}
	if (c->norder)
		c->selected = c->order[c->cursor];
}

fb_dep *con_selected(fb_console *c)
{
	if (!c->norder || c->selected >= c->rt->engine.reg.count)
		return NULL;
	return &c->rt->engine.reg.deps[c->selected];
}

void con_flash(fb_console *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	c->flash[0] = ' ';
	vsnprintf(c->flash + 1, sizeof c->flash - 1, fmt, ap);
	va_end(ap);
	c->flash_until = fb_now_ms() + 5000;
	c->dirty = true;
}

void con_operate(fb_console *c, fb_action action, const char *reason)
{
	fb_error err;
	fb_dep *d = con_selected(c);
	bool on_dep = action == FB_ACT_TRIP || action == FB_ACT_RESET ||
	              action == FB_ACT_DISABLE;
	const char *name = on_dep && d ? d->cfg.name : NULL;
	if (c->readonly) {
		con_flash(c, "read-only: actions are disabled");
		return;
	}
	if (fb_runtime_operate(c->rt, action, name, c->actor, reason, &err) !=
	    0)
		con_flash(c, "%s refused: %s", fb_action_name(action),
		          err.text);
	else
		con_flash(c, "done: %s%s%s, logged as %s",
		          fb_action_name(action), name ? " " : "",
		          name ? name : "", c->actor);
}

/* ---- events into log lines --------------------------------------------- */

/* The colour role of an event's tone. */
fb_role con_tone_role(fb_tone tone)
{
	static const fb_role roles[] = {[FB_TONE_PLAIN] = FB_ROLE_DIM,
	                                [FB_TONE_GOOD] = FB_ROLE_OK,
	                                [FB_TONE_WARN] = FB_ROLE_WARN,
	                                [FB_TONE_BAD] = FB_ROLE_BAD,
	                                [FB_TONE_FORCED] = FB_ROLE_FORCED};
	return roles[tone];
}

/* Adds one event to the log pane, stamped with its wall time. */
static void log_line(fb_console *c, const fb_event *ev, int64_t wall_ms)
{
	con_log_line *l = &c->log[c->log_head];
	l->wall_ms = wall_ms;
	l->role = con_tone_role(fb_event_tone(ev));
	fb_event_describe(ev, l->text, sizeof l->text);
	c->log_head = (c->log_head + 1) % CON_LOG_LINES;
	if (c->log_len < CON_LOG_LINES)
		c->log_len++;
	if (c->log_scroll && c->log_scroll + 1 < c->log_len)
		c->log_scroll++; /* keep a scrolled-back view where it is */
	c->dirty = true;
}

static void on_event(void *ctx, const fb_event *ev)
{
	log_line(ctx, ev, fb_wall_ms());
}

/* The log pane starts with what the event log already holds (its last
 * PRELOAD_BYTES), so the operator sees what led up to now. Bad lines are
 * passed over quietly: `fusebox replay` is the place to hear of them. */
#define PRELOAD_BYTES (256 * 1024)
static void preload_log(fb_console *c)
{
	fb_log_reader r;
	char err[600];
	const char *line;
	size_t len;
	if (fb_log_reader_open_tail(&r, c->rt->cfg.log, PRELOAD_BYTES, err,
	                            sizeof err) != 0)
		return;
	r.quiet = true;
	while (fb_log_reader_line(&r, &line, &len)) {
		fb_log_event ev;
		fb_event e;
		if (fb_log_event_parse(&r, line, len, &ev) != 0)
			continue;
		fb_log_event_as_event(&ev, &e);
		log_line(c, &e, ev.ts_ms);
		cJSON_Delete(ev.json);
	}
	r.skipped = 0;
	fb_log_reader_close(&r);
}

/* ---- the terminal ------------------------------------------------------ */

static struct termios saved_tty;
static bool have_tty;

/* Async-signal-safe: put the terminal back the hard way, then die of the
 * same signal so the crash is still reported. */
static void on_crash(int sig)
{
	static const char reset[] = "\033[0m\033[?25h\033[?1049l\r\n";
	if (have_tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	if (write(STDOUT_FILENO, reset, sizeof reset - 1) < 0)
		_exit(128 + sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_crashes(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
	struct sigaction sa = {.sa_handler = on_crash};
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
}

/* While curses owns the screen, stray library output to stderr goes to a
 * file next to the event log instead of scribbling on it. Returns the
 * saved stderr. */
static int divert_stderr(const fb_runtime *rt, char *path, size_t len)
{
	snprintf(path, len, "%s.console-errors", rt->cfg.log);
	int saved = dup(STDERR_FILENO);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	return saved;
}

static void restore_stderr(int saved, const char *path)
{
	if (saved < 0)
		return;
	dup2(saved, STDERR_FILENO);
	close(saved);
	FILE *f = fopen(path, "r");
	long size = 0;
	if (f) {
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fclose(f);
	}
	if (size > 0)
		fb_cli_error("messages from the session are in %s", path);
	else
		unlink(path);
}

int con_screen_start(fb_console *c, const char *theme_name, fb_error *err)
{
	const char *nc = getenv("NO_COLOR");
	bool want_colour = !(nc && nc[0]);
	int found =
	    fb_theme_load(want_colour ? theme_name : "mono", &c->theme, err);
	if (found < 0)
		return -1;
	if (found > 0) { /* missing: the built-in copy, with a warning */
		fb_cli_error("warning: %s", err->text);
		con_flash(c, "%s", err->text);
	}
	have_tty = tcgetattr(STDIN_FILENO, &saved_tty) == 0;
	catch_crashes();
	if (!initscr()) {
		snprintf(err->text, sizeof err->text,
		         "cannot start the terminal");
		return -1;
	}
	bool colour = want_colour && has_colors() && c->theme.colour;
	if (colour) {
		start_color();
		use_default_colors();
	}
	if (want_colour && !colour && strcmp(c->theme.name, "mono") != 0)
		fb_theme_load("mono", &c->theme, err); /* colourless terminal */
	fb_theme_apply(&c->theme, colour, c->attr);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	return 0;
}

void con_screen_end(void)
{
	endwin();
}

/* ---- input ------------------------------------------------------------- */

static void handle(fb_console *c, int key)
{
	c->last_key_ms = fb_now_ms();
	c->dirty = true;
	if (c->replay) {
		con_replay_key(c->replay, key);
		if (c->replay->done) {
			con_replay_free(c->replay);
			c->replay = NULL;
		}
		return;
	}
	if (key == '\r')
		key = '\n';
	int flags = con_key(c, key);
	if (flags & ACT_RESORT)
		con_resort(c);
	c->dirty = true;
}

/* Reads every waiting key. A terminal that is gone (EOF, EIO, hang-up)
 * makes the console quit instead of spinning. */
static void on_input(void *ctx, int fd, short revents)
{
	fb_console *c = ctx;
	int key, n = 0;
	(void)fd;
	while ((key = getch()) != ERR) {
		handle(c, key);
		n++;
	}
	/* readable but nothing to read, again and again: end of input */
	c->empty_reads = n ? 0 : c->empty_reads + 1;
	if ((revents & (POLLHUP | POLLERR | POLLNVAL)) || c->empty_reads > 3)
		c->quit = true;
}

static void actor_name(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(getuid());
	snprintf(buf, len, "%s (uid %u) via console", pw ? pw->pw_name : "?",
	         (unsigned)getuid());
}

/* ---- the loop ---------------------------------------------------------- */

static void run(fb_console *c)
{
	fb_runtime *rt = c->rt;
	unsigned known = rt->reloads;
	fb_loop_watch(rt->loop, STDIN_FILENO, POLLIN, on_input, c);
	con_resort(c);
	c->dirty = true;
	while (!c->quit && !rt->stopping) {
		int64_t now = fb_now_ms();
		if (rt->reloads != known) { /* new dependencies: new rows */
			known = rt->reloads;
			con_resort(c);
		}
		bool tick = now / 1000 != c->last_draw_ms / 1000;
		/* re-sort with the clock, but never while someone is navigating */
		if (tick && !c->replay && c->mode == MODE_NORMAL &&
		    now - c->last_key_ms > CON_HANDS_OFF_MS)
			con_resort(c);
		/* the replay moves on its own while playing (ten times a second) */
		int64_t wait = -1;
		bool moved =
		    c->replay && con_replay_tick(c->replay, now, &wait);
		if (c->dirty || tick || moved) {
			if (c->replay)
				con_replay_draw(c, c->replay);
			else
				con_draw(c);
			c->last_draw_ms = now;
			c->dirty = false;
		}
		/* wake for the next whole second: the countdowns tick */
		int64_t next = 1000 - fb_now_ms() % 1000;
		fb_runtime_step(rt,
		                (int)(wait >= 0 && wait < next ? wait : next));
		int key;
		while ((key = getch()) != ERR) /* KEY_RESIZE arrives here */
			handle(c, key);
	}
	fb_loop_unwatch(rt->loop, STDIN_FILENO);
}

int fb_console_main(const char *config, const char *theme, bool readonly)
{
	fb_console *c = calloc(1, sizeof *c);
	fb_runtime *rt = malloc(sizeof *rt);
	fb_error err;
	int code = FB_EXIT_FAIL;
	char errpath[600];
	setlocale(LC_ALL, "");
	if (!c || !rt ||
	    fb_runtime_start(rt, config, FB_RUNTIME_SERVE, &err, &code) != 0) {
		fb_cli_error("%s", c && rt ? err.text : "out of memory");
		free(c);
		free(rt);
		return code;
	}
	c->rt = rt;
	c->readonly = readonly;
	c->utf8 = strcasecmp(nl_langinfo(CODESET), "UTF-8") == 0;
	actor_name(c->actor, sizeof c->actor);
	rt->hup_stops = true; /* a hang-up means the terminal went away */
	preload_log(c);
	rt->listener = on_event;
	rt->listener_ctx = c;
	if (con_screen_start(c, theme ? theme : rt->cfg.theme, &err) != 0) {
		fb_runtime_stop(rt, "console could not start");
		fb_cli_error("%s", err.text);
		free(rt);
		free(c);
		return FB_EXIT_CONFIG;
	}
	int saved = divert_stderr(rt, errpath, sizeof errpath);
	run(c);
	con_replay_free(c->replay);
	endwin();
	restore_stderr(saved, errpath);
	rt->listener = NULL;
	fb_runtime_stop(rt, c->quit ? "console quit" : "signal");
	free(c->order);
	free(c);
	free(rt);
	return FB_EXIT_OK;
}
