/* The console's life: start the engine, own the terminal, turn events
 * into log lines, run the loop (redraw on change and once a second), and
 * always give the terminal back -- on quit, on signals, and on a crash. */
#include <curses.h>
#include <fcntl.h>
#include <langinfo.h>
#include <limits.h>
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
#include "client.h"
#include "console/console.h"
#include "console/replay.h"
#include "runtime.h"

/* ---- rows -------------------------------------------------------------- */

static fb_console *sort_ctx; /* qsort has no context argument */

static int severity(const con_row *r)
{
	static const int rank[FB_STATE_COUNT] = {[FB_STATE_CLOSED] = 0,
	                                         [FB_STATE_FORCED_CLOSED] = 1,
	                                         [FB_STATE_HALF_OPEN] = 2,
	                                         [FB_STATE_FORCED_OPEN] = 3,
	                                         [FB_STATE_OPEN] = 4};
	if (!r->known)
		return -1;
	return (int)r->health * 10 +
	       ((unsigned)r->state < FB_STATE_COUNT ? rank[r->state] : 0) +
	       (r->critical ? 5 : 0);
}

static int compare(const void *a, const void *b)
{
	const con_row *x = &sort_ctx->model->rows[*(const uint32_t *)a];
	const con_row *y = &sort_ctx->model->rows[*(const uint32_t *)b];
	int d = 0;
	switch (sort_ctx->sort) {
	case SORT_WORST: d = severity(y) - severity(x); break;
	case SORT_KIND: d = (int)x->kind - (int)y->kind; break;
	case SORT_FAILURES:
		d = (y->fails > x->fails) - (y->fails < x->fails);
		break;
	case SORT_LATENCY:
		d = (y->p50_ms > x->p50_ms) - (y->p50_ms < x->p50_ms);
		break;
	default: break;
	}
	return d ? d : strcmp(x->name, y->name);
}

void con_resort(fb_console *c)
{
	con_model *m = c->model;
	if (c->generation != m->generation) { /* new rows: find it by name */
		long at = con_model_find(m, c->selected_name);
		c->selected = at >= 0 ? (uint32_t)at : UINT32_MAX; /* top row */
		c->generation = m->generation;
	}
	uint32_t *order =
	    realloc(c->order, (m->nrows ? m->nrows : 1) * sizeof *order);
	if (!order)
		return;
	c->order = order;
	c->norder = 0;
	c->name_w = 0;
	for (uint32_t i = 0; i < m->nrows; i++) {
		int w = con_width(m->rows[i].name);
		c->name_w = w > c->name_w ? w : c->name_w;
		if (!c->filter[0] || strcasestr(m->rows[i].name, c->filter))
			c->order[c->norder++] = i;
	}
	sort_ctx = c;
	qsort(c->order, c->norder, sizeof *c->order, compare);
	c->cursor = 0;
	for (size_t i = 0; i < c->norder; i++) {
		if (c->order[i] == c->selected)
			c->cursor = i;
	}
	if (c->norder) {
		c->selected = c->order[c->cursor];
		snprintf(c->selected_name, sizeof c->selected_name, "%s",
		         m->rows[c->selected].name);
	}
}

const con_row *con_selected(fb_console *c)
{
	if (!c->norder || c->selected >= c->model->nrows)
		return NULL;
	return &c->model->rows[c->selected];
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
	const con_row *r = con_selected(c);
	bool on_dep = action == FB_ACT_TRIP || action == FB_ACT_RESET ||
	              action == FB_ACT_DISABLE;
	char msg[160];
	if (c->readonly) {
		con_flash(c, "read-only: actions are disabled");
		return;
	}
	if (on_dep && !r) {
		con_flash(c, "no dependency selected");
		return;
	}
	con_model_act(c->model, action, on_dep ? r->name : NULL, reason, msg,
	              sizeof msg);
	con_flash(c, "%s", msg);
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
static int divert_stderr(const char *log, char *path, size_t len)
{
	snprintf(path, len, "%s.console-errors", log);
	int saved = dup(STDERR_FILENO);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) /* not ours to write there (attached): not on the screen */
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
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
	con_mouse_start();
	return 0;
}

void con_screen_end(void)
{
	endwin();
}

/* ---- input ------------------------------------------------------------- */

/* Back from the replay screen to the live source; on its own (fusebox
 * --replay), leaving it is quitting. */
static void leave_replay(fb_console *c)
{
	if (c->live == &c->replay->past->m) {
		c->quit = true;
		return;
	}
	con_replay_free(c->replay);
	c->replay = NULL;
	c->model = c->live;
	c->generation = UINT_MAX; /* other rows: sort them, find the cursor */
	c->log_scroll = 0;
}

static void handle(fb_console *c, int key)
{
	c->last_key_ms = fb_now_ms();
	c->dirty = true;
	if (key == '\r')
		key = '\n';
	/* the replay's own keys first, unless a dialog or filter is open */
	if (c->replay && c->mode == MODE_NORMAL && key != KEY_RESIZE &&
	    con_replay_key(c, c->replay, key)) {
		if (c->replay->done)
			leave_replay(c);
		return;
	}
	int flags = con_key(c, key);
	if (flags & ACT_RESORT)
		con_resort(c);
	c->dirty = true;
}

/* Reads every waiting key. A terminal that is gone (EOF, EIO, hang-up)
 * makes the console quit instead of spinning. */
static void read_keys(fb_console *c, short revents)
{
	int key, n = 0;
	while ((key = getch()) != ERR) { /* KEY_RESIZE arrives here too */
		handle(c, key);
		n++;
	}
	if (!(revents & POLLIN))
		return;
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

static void draw(fb_console *c, int64_t now, bool tick)
{
	con_model *m = c->model;
	con_model_refresh(m);
	/* new rows, or the clock: sort again, but never while someone is
	 * navigating */
	if (m->generation != c->generation ||
	    (tick && c->mode == MODE_NORMAL &&
	     now - c->last_key_ms > CON_HANDS_OFF_MS))
		con_resort(c);
	m->changed = false;
	if (c->replay)
		con_replay_draw(c, c->replay);
	else
		con_draw(c);
	size_t shown = c->top < c->norder ? c->norder - c->top : 0;
	if (shown > c->table_rows)
		shown = c->table_rows;
	con_model_focus(m, c->order + c->top, shown,
	                c->detail && c->norder ? (long)c->selected : -1,
	                c->sort == SORT_LATENCY);
}

void con_run(fb_console *c)
{
	con_model *m = c->live; /* it runs, whatever is shown */
	con_model_refresh(c->model);
	con_resort(c);
	c->dirty = true;
	while (!c->quit && !m->ended) {
		int64_t now = fb_now_ms();
		bool tick = now / 1000 != c->last_draw_ms / 1000;
		/* the replay moves on its own while playing (ten times a second) */
		int64_t wait = -1;
		bool moved =
		    c->replay && con_replay_tick(c->replay, now, &wait);
		if (c->dirty || tick || moved || m->changed ||
		    c->model->changed) {
			draw(c, now, tick);
			c->last_draw_ms = now;
			c->dirty = false;
		}
		/* wake for the next whole second: the countdowns tick */
		int64_t next = 1000 - fb_now_ms() % 1000;
		short rev = con_model_step(
		    c->fleet ? c->fleet : m, STDIN_FILENO, /* it steps m */
		    (int)(wait >= 0 && wait < next ? wait : next));
		read_keys(c, rev);
	}
	con_model_step(m, -1, 0); /* stop watching the terminal */
}

/* Does an instance answer on the configured socket? */
static bool instance_running(const fb_config *cfg)
{
	fb_error err;
	int fd = fb_client_connect(cfg->control_socket, 1000, &err);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* The source: the instance serving the configured socket when there is
 * one, else an engine of our own. Returns NULL after saying why, with
 * the exit code in *code. */
static con_model *open_model(const char *config, bool embedded_only,
                             char *theme, size_t theme_len, int *code)
{
	char path[1024];
	fb_config cfg;
	fb_error err;
	con_model *m = NULL;
	*code = FB_EXIT_CONFIG;
	if (fb_config_locate(config, path, sizeof path, &err) != 0 ||
	    fb_config_load(path, &cfg, &err, NULL) != 0) {
		fb_cli_error("%s", err.text);
		return NULL;
	}
	snprintf(theme, theme_len, "%s", cfg.theme);
	if (instance_running(&cfg)) {
		if (embedded_only) {
			fb_cli_error("%s: an instance already serves this "
			             "socket; --embedded would start a second "
			             "engine on the same configuration (leave "
			             "--embedded out to attach to it)",
			             cfg.control_socket);
			*code = FB_EXIT_TEMPFAIL; /* already running */
		} else if (!(m = con_model_attached(&cfg, &err))) {
			fb_cli_error("%s", err.text);
			*code = FB_EXIT_UNAVAILABLE;
		}
		fb_config_free(&cfg);
		return m;
	}
	fb_config_free(&cfg);
	fb_runtime *rt = malloc(sizeof *rt);
	char actor[128];
	actor_name(actor, sizeof actor);
	if (!rt || fb_runtime_start(rt, config, FB_RUNTIME_SERVE, &err, code)) {
		fb_cli_error("%s", rt ? err.text : "out of memory");
		free(rt);
		return NULL;
	}
	rt->hup_stops = true; /* a hang-up means the terminal went away */
	if (!(m = con_model_embedded(rt, actor, &err))) {
		fb_runtime_stop(rt, "console could not start");
		free(rt);
		fb_cli_error("%s", err.text);
		*code = FB_EXIT_FAIL;
	}
	return m;
}

int fb_console_main(const char *config, const char *theme, bool readonly,
                    bool embedded_only, bool utc)
{
	fb_console *c = calloc(1, sizeof *c);
	int code = FB_EXIT_FAIL;
	char errpath[600], cfg_theme[64];
	setlocale(LC_ALL, "");
	if (!c) {
		fb_cli_error("out of memory");
		return code;
	}
	if (!(c->model = open_model(config, embedded_only, cfg_theme,
	                            sizeof cfg_theme, &code))) {
		free(c);
		return code;
	}
	c->live = c->model;
	c->readonly = readonly;
	c->utc = utc;
	c->utf8 = strcasecmp(nl_langinfo(CODESET), "UTF-8") == 0;
	fb_error err;
	con_model_refresh(c->model);
	if (con_screen_start(c, theme ? theme : cfg_theme, &err) != 0) {
		con_model_free(c->model);
		fb_cli_error("%s", err.text);
		free(c);
		return FB_EXIT_CONFIG;
	}
	int saved = divert_stderr(c->model->log_path, errpath, sizeof errpath);
	con_run(c);
	con_fleet_close(c);
	con_replay_free(c->replay);
	endwin();
	restore_stderr(saved, errpath);
	con_model_free(c->model);
	free(c->order);
	free(c);
	return FB_EXIT_OK;
}
