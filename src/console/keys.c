/* The key table: one row per key, mapping it to an action, with the text
 * the help screen shows. Dispatch and help come from the same table, so
 * they cannot disagree. Actions change state and return flags; they
 * never draw. */
#include <curses.h>
#include <limits.h>
#include <string.h>

#include "console/console.h"
#include "console/line.h"
#include "console/replay.h"

typedef int (*action_fn)(fb_console *c);

static bool writable(fb_console *c)
{
	if (c->readonly)
		con_flash(c, "read-only: actions are disabled (started with "
		             "--readonly)");
	else if (!c->model->src.actions)
		con_flash(c, "refused: %s", c->model->src.no_action);
	return !c->readonly && c->model->src.actions;
}

void con_scroll_log(fb_console *c, long back)
{
	long s = (long)c->log_scroll + back;
	/* as far back as fills the pane with the oldest lines */
	size_t len = con_model_nevents(c->model);
	long max = len > c->log_rows ? (long)(len - c->log_rows) : 0;
	c->log_scroll = (size_t)(s < 0 ? 0 : s > max ? max : s);
}

void con_move_cursor(fb_console *c, long delta)
{
	if (!c->norder)
		return;
	long n = (long)c->cursor + delta;
	long last = (long)c->norder - 1;
	c->cursor = (size_t)(n < 0 ? 0 : n > last ? last : n);
	c->selected = c->order[c->cursor];
}

static void move_cursor(fb_console *c, long delta)
{
	if (c->log_focus)
		con_scroll_log(c, -delta);
	else
		con_move_cursor(c, delta);
}

static long page(void)
{
	return LINES > 12 ? LINES / 2 : 1;
}

static int act_up(fb_console *c)
{
	move_cursor(c, -1);
	return ACT_REDRAW;
}
static int act_down(fb_console *c)
{
	move_cursor(c, 1);
	return ACT_REDRAW;
}
static int act_pgup(fb_console *c)
{
	move_cursor(c, -page());
	return ACT_REDRAW;
}
static int act_pgdn(fb_console *c)
{
	move_cursor(c, page());
	return ACT_REDRAW;
}
static int act_home(fb_console *c)
{
	move_cursor(c, -(1L << 30));
	return ACT_REDRAW;
}
static int act_end(fb_console *c)
{
	move_cursor(c, 1L << 30);
	return ACT_REDRAW;
}

static int act_filter(fb_console *c)
{
	c->mode = MODE_FILTER;
	con_line_set(&c->line, c->filter);
	return ACT_REDRAW;
}

static int act_clear(fb_console *c)
{
	if (!c->filter[0])
		return ACT_NONE;
	c->filter[0] = '\0';
	con_flash(c, "filter cleared: every dependency shown");
	return ACT_RESORT;
}

static int act_zone(fb_console *c)
{
	c->utc = !c->utc;
	con_flash(c, "times in %s", c->utc ? "UTC" : "local time");
	return ACT_REDRAW;
}

static int act_sort(fb_console *c)
{
	c->sort = (con_sort)((c->sort + 1) % SORT_COUNT);
	return ACT_RESORT;
}

static int act_detail(fb_console *c)
{
	c->detail = !c->detail;
	return ACT_REDRAW;
}

static int act_focus(fb_console *c)
{
	c->log_focus = !c->log_focus && !c->detail;
	return ACT_REDRAW;
}

static int ask(fb_console *c, fb_action a)
{
	if (!writable(c))
		return ACT_REDRAW;
	if (!con_selected(c)) {
		con_flash(c, "no dependency selected");
		return ACT_REDRAW;
	}
	if (c->fleet_instances) { /* the selected row is hidden there */
		con_flash(c, "pick the dependency first: i shows them again");
		return ACT_REDRAW;
	}
	c->pending = a;
	c->mode = MODE_CONFIRM;
	return ACT_REDRAW;
}

static int act_trip(fb_console *c)
{
	return ask(c, FB_ACT_TRIP);
}
static int act_reset(fb_console *c)
{
	return ask(c, FB_ACT_RESET);
}
static int act_disable(fb_console *c)
{
	return ask(c, FB_ACT_DISABLE);
}

static int act_gate(fb_console *c)
{
	if (writable(c))
		c->mode = MODE_GATE_MENU;
	return ACT_REDRAW;
}

static int act_probe(fb_console *c)
{
	const con_row *d = con_selected(c);
	char msg[160];
	if (!d || !writable(c))
		return ACT_REDRAW;
	con_model_probe(c->model, d->name, msg, sizeof msg);
	con_flash(c, "%s", msg);
	return ACT_REDRAW;
}

static int act_help(fb_console *c)
{
	c->mode = MODE_HELP;
	return ACT_REDRAW;
}

static int act_quit(fb_console *c)
{
	c->quit = true;
	return ACT_NONE;
}

static int act_replay(fb_console *c)
{
	fb_error err;
	char *path = c->model->log_path;
	if (!path[0]) {
		con_flash(c, "replay: there is no event log to replay");
		return ACT_REDRAW;
	}
	con_fleet_close(c); /* the replay is of this instance */
	/* the configured dependencies are rows too, events or not */
	c->replay = con_replay_open(&path, 1, c->live, &err);
	if (!c->replay) {
		con_flash(c, "replay: %s", err.text);
		return ACT_REDRAW;
	}
	c->model = &c->replay->past->m;
	c->generation = UINT_MAX; /* other rows: sort them */
	c->detail = false;
	c->log_scroll = 0;
	return ACT_REDRAW;
}

static int act_fleet(fb_console *c)
{
	return con_fleet_toggle(c);
}

static int act_fleet_rows(fb_console *c)
{
	return con_fleet_rows(c);
}

static int act_redraw(fb_console *c)
{
	(void)c;
	clearok(curscr, TRUE);
	return ACT_REDRAW;
}

/*  key            shown as        help                                  action */
#define CON_KEY_TABLE(X)                                                       \
	X(KEY_UP, "Up k", "move up (in the log pane: scroll back)", act_up)    \
	X('k', "", "", act_up)                                                 \
	X(KEY_DOWN, "Down j", "move down", act_down)                           \
	X('j', "", "", act_down)                                               \
	X(KEY_PPAGE, "PgUp", "page up", act_pgup)                              \
	X(KEY_NPAGE, "PgDn", "page down", act_pgdn)                            \
	X(KEY_HOME, "Home", "first row", act_home)                             \
	X(KEY_END, "End", "last row", act_end)                                 \
	X('/', "/", "filter by name, as you type (Enter keeps it)",            \
	  act_filter)                                                          \
	X(27, "Esc", "clear the filter", act_clear)                            \
	X('s', "s",                                                            \
	  "cycle the sort: worst first, name, kind, failures, latency",        \
	  act_sort)                                                            \
	X('\n', "Enter", "toggle the detail pane", act_detail)                 \
	X(KEY_ENTER, "", "", act_detail)                                       \
	X('\t', "Tab", "move focus to the event log and back", act_focus)      \
	X('t', "t", "trip: force the breaker open (asks first)", act_trip)     \
	X('r', "r", "reset: close it and clear counters (asks first)",         \
	  act_reset)                                                           \
	X('d', "d", "disable: force it closed (asks first)", act_disable)      \
	X('g', "g", "gate: block, allow (expires) or auto", act_gate)          \
	X('p', "p", "probe it now (an open breaker: says why not)", act_probe) \
	X('?', "? F1", "this help", act_help)                                  \
	X(KEY_F(1), "", "", act_help)                                          \
	X('R', "R", "replay this instance's event log (q comes back)",         \
	  act_replay)                                                          \
	X('F', "F i", "fleet view, t r d g for all (F: back; i: instances)",   \
	  act_fleet)                                                           \
	X('i', "", "", act_fleet_rows)                                         \
	X('z', "z", "times in UTC or local time (--utc starts in UTC)",        \
	  act_zone)                                                            \
	X(12, "Ctrl-L", "redraw the screen", act_redraw)                       \
	X('q', "q F10", "quit", act_quit)                                      \
	X(KEY_F(10), "", "", act_quit)

static const struct key_row {
	int key;
	const char *label, *help;
	action_fn fn;
} key_rows[] = {
#define X_ROW(key, label, help, fn) {key, label, help, fn},
    CON_KEY_TABLE(X_ROW)
#undef X_ROW
};

void con_key_help(void (*fn)(void *ctx, const char *keys, const char *help),
                  void *ctx)
{
	for (size_t i = 0; i < sizeof key_rows / sizeof key_rows[0]; i++) {
		if (key_rows[i].label[0])
			fn(ctx, key_rows[i].label, key_rows[i].help);
	}
}

/* ---- keys inside dialogs ----------------------------------------------- */

static void start_reason(fb_console *c, fb_action a)
{
	c->pending = a;
	c->mode = MODE_REASON;
	con_line_set(&c->line, NULL);
}

static int modal_key(fb_console *c, int key)
{
	bool enter = key == '\n' || key == '\r' || key == KEY_ENTER;
	switch (c->mode) {
	case MODE_HELP: c->mode = MODE_NORMAL; return ACT_REDRAW;
	case MODE_CONFIRM:
		if (key == 'y' || key == 'Y') {
			start_reason(c, c->pending);
		} else {
			c->mode = MODE_NORMAL;
			con_flash(c, "cancelled: nothing changed");
		}
		return ACT_REDRAW;
	case MODE_GATE_MENU:
		c->mode = MODE_NORMAL;
		if (key == 'b') {
			start_reason(c, FB_ACT_GATE_BLOCK);
		} else if (key == 'a') { /* lets destructive jobs through */
			c->pending = FB_ACT_GATE_ALLOW;
			c->mode = MODE_CONFIRM;
		} else if (key == 'u') {
			start_reason(c, FB_ACT_GATE_AUTO);
		} else {
			con_flash(c, "cancelled: gate unchanged");
		}
		return ACT_REDRAW;
	case MODE_REASON:
		if (key == 27) {
			c->mode = MODE_NORMAL;
			con_flash(c, "cancelled: nothing changed");
		} else if (enter) {
			c->mode = MODE_NORMAL;
			con_operate(c, c->pending, c->line.text);
		} else {
			con_line_key(&c->line, key);
		}
		return ACT_REDRAW;
	case MODE_FILTER: /* applied as it is typed */
		if (key == 27) {
			c->filter[0] = '\0';
			c->mode = MODE_NORMAL;
			return ACT_RESORT;
		}
		if (enter) {
			c->mode = MODE_NORMAL;
			return ACT_RESORT;
		}
		con_line_key(&c->line, key);
		snprintf(c->filter, sizeof c->filter, "%s", c->line.text);
		return ACT_RESORT;
	default: return ACT_NONE;
	}
}

int con_key(fb_console *c, int key)
{
	if (key == KEY_MOUSE)
		return con_mouse(c);
	if (key == KEY_RESIZE) {
		clearok(curscr,
		        TRUE); /* a new size: nothing of the old stays */
		return ACT_REDRAW;
	}
	if (c->mode != MODE_NORMAL)
		return modal_key(c, key);
	if (COLS < CON_MIN_COLS || LINES < CON_MIN_ROWS)
		return key == 'q' || key == KEY_F(10) ? act_quit(c) : ACT_NONE;
	for (size_t i = 0; i < sizeof key_rows / sizeof key_rows[0]; i++) {
		if (key_rows[i].key == key)
			return key_rows[i].fn(
			    c); /* sort and filter ask to re-sort */
	}
	return ACT_NONE;
}
