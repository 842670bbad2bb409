/* The replay screen: a header with the cursor, the timeline bar with
 * markers, then the console's own table and log pane over the past
 * (model_replay.c) at the cursor, and keys to play, step and jump. */
#include <curses.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "console/columns.h"
#include "console/replay.h"
#include "core/parse.h"
#include "eventlog.h"

static const int speeds[] = {1, 2, 5, 10, 30, 60, 120, 300, 600};
#define NSPEEDS (int)(sizeof speeds / sizeof speeds[0])
#define TICK_MS 100

/* ---- the screen's life ------------------------------------------------ */

con_replay *con_replay_open(char *const *paths, size_t n, const con_model *also,
                            fb_error *err)
{
	con_replay *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err->text, sizeof err->text, "out of memory");
		return NULL;
	}
	if (!(r->past = con_past_open(paths, n, also, err))) {
		free(r);
		return NULL;
	}
	r->speed = 5; /* 60x */
	return r;
}

void con_replay_free(con_replay *r)
{
	if (!r)
		return;
	con_whatif_free(r->whatif);
	con_model_free(&r->past->m);
	free(r->marks);
	free(r);
}

/* ---- the what-if overlay ---------------------------------------------- */

#define WHATIF_SLICE_MS 30 /* of work between key polls while computing */

static void whatif_off(con_replay *r)
{
	con_whatif_free(r->whatif);
	r->whatif = NULL;
	r->past->whatif = NULL;
	r->whatif_note[0] = '\0';
	r->past->m.changed = true;
}

/* Computes a slice of the overlay that is coming; true when the screen
 * should show something new. */
static bool whatif_work(con_replay *r)
{
	char err[160];
	con_whatif *w = r->whatif;
	if (!w || w->ready)
		return false;
	int rc = con_whatif_work(w, r->past, WHATIF_SLICE_MS, err, sizeof err);
	if (rc < 0) {
		whatif_off(r);
		snprintf(r->note, sizeof r->note, " %.110s", err);
		return true;
	}
	char note[sizeof r->whatif_note];
	snprintf(note, sizeof note, "computing what-if... %d%%",
	         con_whatif_percent(w, r->past));
	bool news = rc > 0 || strcmp(note, r->whatif_note) != 0;
	snprintf(r->whatif_note, sizeof r->whatif_note, "%s",
	         rc > 0 ? "" : note);
	if (rc > 0) {
		r->past->whatif = w;
		r->past->m.changed = true;
		snprintf(r->note, sizeof r->note,
		         " what-if %.60s: computed in %lld ms", w->set.text,
		         (long long)w->took_ms);
	}
	return news;
}

/* Enter on the `w` prompt: an empty answer cancels, a bad set says why;
 * either way nothing changes. */
static void whatif_answer(con_replay *r)
{
	char err[160];
	r->asking_whatif = false;
	if (!r->line.text[0]) {
		snprintf(r->note, sizeof r->note, " what-if cancelled");
		return;
	}
	con_whatif *w = con_whatif_start(r->line.text, r->past->m.config_path,
	                                 err, sizeof err);
	if (!w) { /* the parser's words are the command line's */
		snprintf(r->note, sizeof r->note, " %.110s",
		         err + (strncmp(err, "--", 2) == 0 ? 2 : 0));
		return;
	}
	r->whatif = w;
	whatif_work(r); /* a small log is done at once */
}

static void whatif_key(con_replay *r, int key)
{
	if (key == 27) {
		r->asking_whatif = false;
		snprintf(r->note, sizeof r->note, " what-if cancelled");
	} else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		whatif_answer(r);
	} else {
		con_line_key(&r->line, key);
	}
}

bool con_replay_tick(con_replay *r, int64_t now_ms, int64_t *next_ms)
{
	bool news = whatif_work(r);
	bool busy = r->whatif && !r->whatif->ready;
	*next_ms = busy ? 0 : -1; /* the next slice after a look at the keys */
	if (!r->playing)
		return news;
	int64_t dt = now_ms - r->last_tick_ms;
	if (dt < TICK_MS) {
		*next_ms = busy ? 0 : TICK_MS - dt;
		return news;
	}
	r->last_tick_ms = now_ms;
	con_past_seek(r->past, r->past->cursor_ms + dt * speeds[r->speed]);
	if (r->past->cursor_ms >= con_past_last_ms(r->past)) {
		r->playing = false;
		snprintf(r->note, sizeof r->note, " end of the log");
	}
	*next_ms = busy ? 0 : r->playing ? TICK_MS : -1;
	return true;
}

/* ---- keys -------------------------------------------------------------- */

/* "2026-11-23T10:00:00Z", "10:00:00" (the cursor's day, UTC), "-5m" or
 * "+5m" (from the cursor). */
static bool parse_goto(const con_replay *r, const char *s, int64_t *out)
{
	const char *why;
	int64_t cur = r->past->cursor_ms;
	return fb_parse_when(s, cur, cur, out, &why) == 0;
}

static void goto_key(con_replay *r, int key)
{
	if (key == 27) {
		r->asking_time = false;
	} else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		int64_t at;
		r->asking_time = false;
		if (parse_goto(r, r->input, &at))
			con_past_seek(r->past, at);
		else
			snprintf(r->note, sizeof r->note, " not a time: %s",
			         r->input);
	} else if ((key == KEY_BACKSPACE || key == 127 || key == 8) &&
	           r->input_len) {
		r->input[--r->input_len] = '\0';
	} else if (key >= 32 && key < 127 &&
	           r->input_len + 1 < sizeof r->input) {
		r->input[r->input_len++] = (char)key;
		r->input[r->input_len] = '\0';
	}
}

bool con_replay_key(fb_console *c, con_replay *r, int key)
{
	con_past *p = r->past;
	(void)c;
	r->note[0] = '\0';
	if (r->asking_time) {
		goto_key(r, key);
		return true;
	}
	if (r->asking_whatif) {
		whatif_key(r, key);
		return true;
	}
	if (r->help) {
		r->help = false; /* any key closes it */
		return true;
	}
	switch (key) {
	case ' ':
		r->playing = !r->playing && p->cursor_ms < con_past_last_ms(p);
		r->last_tick_ms = fb_now_ms();
		break;
	case '+':
	case '=':
		r->speed = r->speed + 1 < NSPEEDS ? r->speed + 1 : r->speed;
		break;
	case '-': r->speed = r->speed > 0 ? r->speed - 1 : 0; break;
	case KEY_RIGHT: con_past_step(p, 1); break;
	case KEY_LEFT: con_past_step(p, -1); break;
	case ']': con_past_seek(p, p->cursor_ms + 60000); break;
	case '[': con_past_seek(p, p->cursor_ms - 60000); break;
	case '}': con_past_seek(p, p->cursor_ms + 600000); break;
	case '{': con_past_seek(p, p->cursor_ms - 600000); break;
	case KEY_HOME: con_past_seek(p, con_past_first_ms(p)); break;
	case KEY_END: con_past_seek(p, con_past_last_ms(p)); break;
	case 'g':
		r->asking_time = true;
		r->input_len = 0;
		r->input[0] = '\0';
		break;
	case 'w': /* the overlay off, or the prompt for one */
		if (r->whatif) {
			bool was = r->whatif->ready;
			whatif_off(r);
			snprintf(r->note, sizeof r->note, " what-if %s",
			         was ? "off" : "cancelled");
		} else {
			r->asking_whatif = true;
			con_line_set(&r->line, NULL);
		}
		break;
	case '?':
	case KEY_F(1): r->help = true; break;
	case 'q':
	case 27:
	case KEY_F(10): r->done = true; break;
	case 't':
	case 'r':
	case 'd':
	case 'p':
		snprintf(r->note, sizeof r->note, " %s", p->m.src.no_action);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
	case 'R':
		snprintf(r->note, sizeof r->note,
		         " REPLAY: the log keeps no detail; the events are "
		         "below");
		break;
	default: return false; /* the table's: move, filter, sort, Tab */
	}
	return true;
}

/* ---- drawing ----------------------------------------------------------- */

/* Worst event per column of the bar: 3 open or blocked, 2 half-open or
 * forced, 1 anything else, 0 none. Rebuilt when the width changes. */
static void build_marks(con_replay *r, int width)
{
	uint8_t *m = calloc((size_t)width, 1);
	if (!m)
		return;
	const con_past *p = r->past;
	int64_t t0 = con_past_first_ms(p), span = con_past_last_ms(p) - t0 + 1;
	for (size_t i = 0; i < p->tl.n; i++) {
		const fb_tl_event *e = &p->tl.ev[i];
		int col = (int)((e->ts_ms - t0) * width / span);
		uint8_t sev = 1;
		if (e->kind == FB_EV_TRANSITION)
			sev = e->to == FB_STATE_OPEN     ? 3
			      : e->to == FB_STATE_CLOSED ? 1
			                                 : 2;
		else if (e->kind == FB_EV_GATE)
			sev = e->to == 1 ? 3 : 1;
		else if (e->kind == FB_EV_GAP) /* the view lacks events */
			sev = 3;
		else if (e->kind == FB_EV_OPERATOR)
			sev = 2;
		else if (e->kind == FB_EV_HEALTH)
			continue;
		if (sev > m[col])
			m[col] = sev;
	}
	free(r->marks);
	r->marks = m;
	r->bar_width = width;
}

static void draw_bar(fb_console *c, con_replay *r, int y)
{
	int width = COLS - 2;
	if (width != r->bar_width)
		build_marks(r, width);
	if (!r->marks)
		return;
	static const char *const utf8[] = {"─", "·", "▴", "▲"};
	static const char *const ascii[] = {"-", ".", "^", "!"};
	static const fb_role roles[] = {FB_ROLE_DIM, FB_ROLE_OK, FB_ROLE_WARN,
	                                FB_ROLE_BAD};
	const con_past *p = r->past;
	int64_t t0 = con_past_first_ms(p), span = con_past_last_ms(p) - t0 + 1;
	int cur = (int)((p->cursor_ms - t0) * width / span);
	for (int x = 0; x < width; x++) {
		uint8_t m = r->marks[x];
		con_put(c, y, 1 + x, 1, x == cur ? FB_ROLE_SELECTED : roles[m],
		        x == cur ? (c->utf8 ? "█" : "#")
		                 : (c->utf8 ? utf8 : ascii)[m]);
	}
}

/* The header: the cursor, play and speed, the event, the gate and, at
 * the right, the what-if overlay's set (or its progress); with it,
 * the event count gives way first when they do not all fit, then the
 * cursor's day. */
static void draw_header(fb_console *c, con_replay *r)
{
	const con_past *p = r->past;
	char ts[40], text[200], event[48], what[120] = "";
	fb_format_rfc3339(p->cursor_ms, ts, sizeof ts);
	attrset(c->attr[FB_ROLE_HEADER]);
	mvhline(0, 0, ' ', COLS);
	int x = con_put(c, 0, 0, COLS, FB_ROLE_BANNER, " REPLAY ");
	if (r->whatif && r->whatif->ready)
		snprintf(what, sizeof what, " what-if %.100s ",
		         r->whatif->set.text);
	else if (r->whatif)
		snprintf(what, sizeof what, " %s ", r->whatif_note);
	int ww = what[0] ? con_width(what) + 1 : 0;
	snprintf(event, sizeof event, "  event %zu/%zu", p->pos, p->tl.n);
	for (int pass = 0; pass < 3; pass++) { /* then the day goes */
		snprintf(text, sizeof text, " %s  %s %dx%s  gate %s",
		         pass < 2 || strlen(ts) < 12 ? ts : ts + 11,
		         r->playing ? "playing" : "paused", speeds[r->speed],
		         pass ? "" : event,
		         p->st.gate_blocked ? "BLOCKED" : "allowed");
		if (!ww || x + con_width(text) + ww <= COLS)
			break; /* without an overlay: as it always was */
	}
	int room = COLS - x - con_width(text); /* narrower still: the set
	                                          is cut, never the gate */
	if (ww > room)
		ww = room >= 10 ? room : 0;
	con_put(c, 0, x, COLS - x - ww, FB_ROLE_HEADER, text);
	if (ww)
		con_put(c, 0, COLS - ww + 1, ww - 1, FB_ROLE_BANNER, what);
}

/* The replay's keys, and the table's that work here too. */
static void draw_help(fb_console *c)
{
	static const char *const rows[] = {
	    "REPLAY keys (any key closes)",
	    "",
	    "Space       play or pause",
	    "+ -         faster or slower (1x to 600x)",
	    "Left Right  one event back or forward",
	    "[ ]         one minute back or forward",
	    "{ }         ten minutes back or forward",
	    "g           go to: 2026-11-23T10:00:00Z, 10:00:00 (the cursor's",
	    "            day, UTC), -5m or +1h (from the cursor)",
	    "Home End    the first or the last event",
	    "Up Down j k select a row",
	    "/  s  Tab   filter, sort, the log pane",
	    "z           the log pane's times in UTC or local time",
	    "w           what-if overlay: KEY=VALUE[,KEY=VALUE] (as replay",
	    "            --what-if), its states beside the real ones; w: off",
	    "q Esc F10   leave",
	};
	int n = (int)(sizeof rows / sizeof rows[0]), w = 0;
	for (int i = 0; i < n; i++)
		w = con_width(rows[i]) > w ? con_width(rows[i]) : w;
	w = w + 4 < COLS ? w + 4 : COLS;
	int h = n + 2 < LINES ? n + 2 : LINES;
	int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;
	for (int i = 0; i < h; i++) {
		attrset(c->attr[FB_ROLE_DIALOG]);
		mvhline(y0 + i, x0, ' ', w);
	}
	for (int i = 0; i < n && i + 1 < h; i++)
		con_put(c, y0 + 1 + i, x0 + 2, w - 4, FB_ROLE_DIALOG, rows[i]);
}

void con_replay_draw(fb_console *c, con_replay *r)
{
	static const char *const hints[] = {
	    "?:help",    "space:play", "<-/->:step", "g:go to",
	    "+/-:speed", "w:what-if",  "[ ]:1m",     "{ }:10m",
	    "Home/End",  "/:filter",   "Tab:log",    "q:leave"};
	erase();
	if (COLS < CON_MIN_COLS || LINES < CON_MIN_ROWS) {
		con_put(c, 0, 0, COLS, FB_ROLE_BAD, "terminal too small");
		refresh();
		return;
	}
	c->cursor_y = -1;
	draw_header(c, r);
	draw_bar(c, r, 1);
	con_draw_body(c, 2, LINES - 3);
	attrset(c->attr[FB_ROLE_HINT]);
	mvhline(LINES - 1, 0, ' ', COLS);
	char hint[160];
	if (r->asking_time)
		snprintf(hint, sizeof hint,
		         " go to (RFC 3339, HH:MM:SS UTC, or -5m, +1h from the "
		         "cursor): %s_",
		         r->input);
	else if (r->asking_whatif)
		snprintf(hint, sizeof hint, " what-if (KEY=VALUE,...): ");
	else if (c->mode == MODE_FILTER)
		snprintf(hint, sizeof hint, " filter: ");
	else if (r->note[0])
		snprintf(hint, sizeof hint, "%s", r->note);
	else /* help first and leave last, always; the rest as they fit */
		con_hints_fit(hints, (int)(sizeof hints / sizeof hints[0]),
		              COLS, hint, sizeof hint);
	int x = con_put(c, LINES - 1, 0, COLS,
	                r->note[0] ? FB_ROLE_BANNER : FB_ROLE_HINT, hint);
	if (r->asking_whatif)
		con_prompt(c, LINES - 1, x, COLS - x - 1, FB_ROLE_HINT,
		           &r->line);
	else if (c->mode == MODE_FILTER && !r->asking_time)
		con_prompt(c, LINES - 1, x, COLS - x - 1, FB_ROLE_HINT,
		           &c->line);
	if (r->help)
		draw_help(c);
	con_show_cursor(c);
	refresh();
}

/* ---- on its own -------------------------------------------------------- */

int fb_replay_console_main(char *const *paths, size_t n, const char *config,
                           const char *theme, bool utc)
{
	fb_console c = {.readonly = true, .utc = utc};
	fb_error err;
	setlocale(LC_ALL, "");
	c.utf8 = strcasecmp(nl_langinfo(CODESET), "UTF-8") == 0;
	for (size_t i = 0; i < n; i++) {
		if (access(paths[i], R_OK) != 0) {
			fb_cli_error("%s: cannot be read", paths[i]);
			return FB_EXIT_NOINPUT;
		}
	}
	con_replay *r = con_replay_open(paths, n, NULL, &err);
	if (!r) {
		fb_cli_error("%s", err.text);
		return FB_EXIT_DATAERR;
	}
	snprintf(r->past->m.config_path, sizeof r->past->m.config_path, "%s",
	         config ? config : "");
	if (con_screen_start(&c, theme ? theme : "default", &err) != 0) {
		fb_cli_error("%s", err.text);
		con_replay_free(r);
		return FB_EXIT_CONFIG;
	}
	/* the console's loop, with the past as its only source */
	c.model = c.live = &r->past->m;
	c.replay = r;
	c.generation = UINT_MAX;
	con_run(&c);
	con_screen_end();
	con_replay_free(r);
	free(c.order);
	return FB_EXIT_OK;
}
