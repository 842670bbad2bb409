/* The replay screen: timeline bar with markers, reconstructed table, the
 * log in step with the cursor, and keys to play, step and jump. */
#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "console/replay.h"
#include "core/parse.h"
#include "eventlog.h"
#include "loop.h"

static const int speeds[] = {1, 2, 5, 10, 30, 60, 120, 300, 600};
#define NSPEEDS (int)(sizeof speeds / sizeof speeds[0])
#define TICK_MS 100

/* ---- the model --------------------------------------------------------- */

static int64_t first_ms(const con_replay *r)
{
	return r->tl.n ? r->tl.ev[0].ts_ms : 0;
}
static int64_t last_ms(const con_replay *r)
{
	return r->tl.n ? r->tl.ev[r->tl.n - 1].ts_ms : 0;
}

/* Puts the cursor at `ms` (clamped) and rebuilds the state there. */
static void seek(con_replay *r, int64_t ms)
{
	if (ms < first_ms(r))
		ms = first_ms(r);
	if (ms > last_ms(r))
		ms = last_ms(r);
	r->cursor_ms = ms;
	r->pos = fb_timeline_count_at(&r->tl, ms);
	fb_timeline_state(&r->tl, r->pos, &r->st);
}

/* Steps to the instant of the next (or previous) event. */
static void step(con_replay *r, int dir)
{
	if (dir > 0 && r->pos < r->tl.n)
		seek(r, r->tl.ev[r->pos].ts_ms);
	else if (dir < 0 && r->pos > 1)
		seek(r, r->tl.ev[r->pos - 2].ts_ms);
}

con_replay *con_replay_open(char *const *paths, size_t n, fb_error *err)
{
	con_replay *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err->text, sizeof err->text, "out of memory");
		return NULL;
	}
	if (fb_timeline_load(&r->tl, paths, n, true, err->text,
	                     sizeof err->text)) {
		free(r);
		return NULL;
	}
	if (r->tl.n == 0) {
		snprintf(err->text, sizeof err->text,
		         "%s: no valid event to replay", paths[0]);
		con_replay_free(r);
		return NULL;
	}
	size_t nd = r->tl.ndeps ? r->tl.ndeps : 1;
	r->st.state = malloc(nd);
	r->st.health = malloc(nd);
	r->order = malloc(nd * sizeof *r->order);
	if (!r->st.state || !r->st.health || !r->order) {
		snprintf(err->text, sizeof err->text, "out of memory");
		con_replay_free(r);
		return NULL;
	}
	r->speed = 5; /* 60x */
	seek(r, first_ms(r));
	return r;
}

void con_replay_free(con_replay *r)
{
	if (!r)
		return;
	fb_timeline_free(&r->tl);
	free(r->st.state);
	free(r->st.health);
	free(r->order);
	free(r->marks);
	free(r);
}

bool con_replay_tick(con_replay *r, int64_t now_ms, int64_t *next_ms)
{
	*next_ms = -1;
	if (!r->playing)
		return false;
	int64_t dt = now_ms - r->last_tick_ms;
	if (dt < TICK_MS) {
		*next_ms = TICK_MS - dt;
		return false;
	}
	r->last_tick_ms = now_ms;
	seek(r, r->cursor_ms + dt * speeds[r->speed]);
	if (r->cursor_ms >= last_ms(r)) {
		r->playing = false;
		snprintf(r->note, sizeof r->note, " end of the log");
	}
	*next_ms = r->playing ? TICK_MS : -1;
	return true;
}

/* ---- keys -------------------------------------------------------------- */

/* "2026-11-23T10:00:00Z", "10:00:00" (the cursor's day, UTC), "-5m" or
 * "+5m" (from the cursor). */
static bool parse_goto(const con_replay *r, const char *s, int64_t *out)
{
	int64_t d;
	const char *why;
	if ((s[0] == '-' || s[0] == '+') &&
	    fb_parse_duration(s + 1, &d, &why) == 0) {
		*out = r->cursor_ms + (s[0] == '-' ? -d : d);
		return true;
	}
	if (fb_parse_rfc3339(s, strlen(s), out) == 0)
		return true;
	int h, m, sec;
	char tail;
	if (sscanf(s, "%2d:%2d:%2d%c", &h, &m, &sec, &tail) == 3 && h < 24 &&
	    m < 60 && sec < 61) {
		int64_t day = r->cursor_ms - r->cursor_ms % 86400000;
		*out = day + ((int64_t)h * 3600 + m * 60 + sec) * 1000;
		return true;
	}
	return false;
}

static void goto_key(con_replay *r, int key)
{
	if (key == 27) {
		r->asking_time = false;
	} else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		int64_t at;
		r->asking_time = false;
		if (parse_goto(r, r->input, &at))
			seek(r, at);
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

void con_replay_key(con_replay *r, int key)
{
	r->note[0] = '\0';
	if (r->asking_time) {
		goto_key(r, key);
		return;
	}
	switch (key) {
	case ' ':
		r->playing = !r->playing && r->cursor_ms < last_ms(r);
		r->last_tick_ms = fb_now_ms();
		break;
	case '+':
	case '=':
		r->speed = r->speed + 1 < NSPEEDS ? r->speed + 1 : r->speed;
		break;
	case '-': r->speed = r->speed > 0 ? r->speed - 1 : 0; break;
	case KEY_RIGHT: step(r, 1); break;
	case KEY_LEFT: step(r, -1); break;
	case ']': seek(r, r->cursor_ms + 60000); break;
	case '[': seek(r, r->cursor_ms - 60000); break;
	case '}': seek(r, r->cursor_ms + 600000); break;
	case '{': seek(r, r->cursor_ms - 600000); break;
	case KEY_HOME: seek(r, first_ms(r)); break;
	case KEY_END: seek(r, last_ms(r)); break;
	case KEY_UP:
	case 'k': r->sel = r->sel ? r->sel - 1 : 0; break;
	case KEY_DOWN:
	case 'j':
		r->sel = r->sel + 1 < r->tl.ndeps ? r->sel + 1 : r->sel;
		break;
	case 'g':
		r->asking_time = true;
		r->input_len = 0;
		r->input[0] = '\0';
		break;
	case 'q':
	case 27:
	case KEY_F(10): r->done = true; break;
	case 't':
	case 'r':
	case 'd':
		snprintf(r->note, sizeof r->note,
		         " REPLAY: actions are off (this is the past)");
		break;
	default: break;
	}
}

/* ---- drawing ----------------------------------------------------------- */

static fb_role state_role(uint8_t s)
{
	return s == FB_STATE_OPEN        ? FB_ROLE_BAD
	       : s == FB_STATE_HALF_OPEN ? FB_ROLE_WARN
	       : s == FB_STATE_CLOSED    ? FB_ROLE_OK
	       : s == FB_TL_UNKNOWN      ? FB_ROLE_DIM
	                                 : FB_ROLE_FORCED;
}

/* Worst event per column of the bar: 3 open or blocked, 2 half-open or
 * forced, 1 anything else, 0 none. Rebuilt when the width changes. */
static void build_marks(con_replay *r, int width)
{
	uint8_t *m = calloc((size_t)width, 1);
	if (!m)
		return;
	int64_t t0 = first_ms(r), span = last_ms(r) - t0 + 1;
	for (size_t i = 0; i < r->tl.n; i++) {
		const fb_tl_event *e = &r->tl.ev[i];
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
	int64_t t0 = first_ms(r), span = last_ms(r) - t0 + 1;
	int cur = (int)((r->cursor_ms - t0) * width / span);
	for (int x = 0; x < width; x++) {
		uint8_t m = r->marks[x];
		con_put(c, y, 1 + x, 1, x == cur ? FB_ROLE_SELECTED : roles[m],
		        x == cur ? (c->utf8 ? "█" : "#")
		                 : (c->utf8 ? utf8 : ascii)[m]);
	}
}

static int worse(const void *a, const void *b, void *ctx)
{
	const con_replay *r = ctx;
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	int rx = r->st.health[x] == FB_TL_UNKNOWN ? -1 : r->st.health[x];
	int ry = r->st.health[y] == FB_TL_UNKNOWN ? -1 : r->st.health[y];
	if (rx != ry)
		return ry - rx;
	return strcmp(r->tl.deps[x], r->tl.deps[y]);
}

static void draw_table(fb_console *c, con_replay *r, int y, int rows)
{
	for (size_t i = 0; i < r->tl.ndeps; i++)
		r->order[i] = (uint16_t)i;
	qsort_r(r->order, r->tl.ndeps, sizeof *r->order, worse, r);
	if (r->sel >= r->top + (size_t)rows)
		r->top = r->sel - (size_t)rows + 1;
	if (r->sel < r->top)
		r->top = r->sel;
	con_put(c, y, 0, COLS, FB_ROLE_TITLE,
	        "DEPENDENCY                STATE           HEALTH");
	for (int i = 0; i < rows - 1 && r->top + (size_t)i < r->tl.ndeps; i++) {
		uint16_t d = r->order[r->top + (size_t)i];
		uint8_t s = r->st.state[d], h = r->st.health[d];
		bool selected = r->top + (size_t)i == r->sel;
		int row = y + 1 + i;
		if (selected) {
			attrset(c->attr[FB_ROLE_SELECTED]);
			mvhline(row, 0, ' ', COLS);
		}
		con_put(c, row, 0, 25,
		        selected ? FB_ROLE_SELECTED : FB_ROLE_NORMAL,
		        r->tl.deps[d]);
		con_put(c, row, 26, 15, state_role(s),
		        s == FB_TL_UNKNOWN ? "-" : fb_state_name((fb_state)s));
		con_put(
		    c, row, 42, 10,
		    h == FB_TL_UNKNOWN || h == FB_HEALTH_UNKNOWN ? FB_ROLE_DIM
		    : h == FB_HEALTH_UNHEALTHY                   ? FB_ROLE_BAD
		    : h == FB_HEALTH_DEGRADED                    ? FB_ROLE_WARN
		                                                 : FB_ROLE_OK,
		    h == FB_TL_UNKNOWN ? "-" : fb_health_name((fb_health)h));
	}
}

/* The events up to the cursor, newest at the bottom. */
static void draw_log(fb_console *c, con_replay *r, int y, int rows)
{
	con_put(c, y, 0, COLS, FB_ROLE_TITLE, " EVENTS up to the cursor");
	for (int i = 0; i < rows - 1; i++) {
		size_t back = (size_t)(rows - 2 - i);
		if (back >= r->pos)
			continue;
		fb_log_event ev;
		if (fb_timeline_event(&r->tl, r->pos - 1 - back, &ev) != 0)
			continue;
		char ts[40], text[768];
		fb_event e;
		fb_log_event_as_event(&ev, &e);
		fb_format_rfc3339(ev.ts_ms, ts, sizeof ts);
		fb_event_describe(&e, text, sizeof text);
		int x = con_put(c, y + 1 + i, 1, 25, FB_ROLE_DIM, ts + 11);
		con_put(c, y + 1 + i, 2 + x, COLS - 3 - x,
		        con_tone_role(fb_event_tone(&e)), text);
		cJSON_Delete(ev.json);
	}
}

static void draw_header(fb_console *c, con_replay *r)
{
	char ts[40], text[200];
	fb_format_rfc3339(r->cursor_ms, ts, sizeof ts);
	attrset(c->attr[FB_ROLE_HEADER]);
	mvhline(0, 0, ' ', COLS);
	int x = con_put(c, 0, 0, COLS, FB_ROLE_BANNER, " REPLAY ");
	snprintf(text, sizeof text, " %s  %s %dx  event %zu/%zu  gate %s", ts,
	         r->playing ? "playing" : "paused", speeds[r->speed], r->pos,
	         r->tl.n, r->st.gate_blocked ? "BLOCKED" : "allowed");
	con_put(c, 0, x, COLS - x, FB_ROLE_HEADER, text);
}

void con_replay_draw(fb_console *c, con_replay *r)
{
	erase();
	if (COLS < CON_MIN_COLS || LINES < CON_MIN_ROWS) {
		con_put(c, 0, 0, COLS, FB_ROLE_BAD, "terminal too small");
		refresh();
		return;
	}
	draw_header(c, r);
	draw_bar(c, r, 1);
	int pane = LINES / 3;
	draw_table(c, r, 2, LINES - 3 - pane);
	draw_log(c, r, LINES - 1 - pane, pane);
	attrset(c->attr[FB_ROLE_HINT]);
	mvhline(LINES - 1, 0, ' ', COLS);
	char hint[160];
	if (r->asking_time)
		snprintf(hint, sizeof hint,
		         " go to (RFC 3339, HH:MM:SS, -5m, +1h): %s_",
		         r->input);
	else
		snprintf(hint, sizeof hint, "%s",
		         r->note[0] ? r->note
		                    : " space play  +/- speed  <-/-> step  [ ] "
		                      "1m  { } 10m  g go to  "
		                      "Home/End  q leave");
	con_put(c, LINES - 1, 0, COLS,
	        r->note[0] ? FB_ROLE_BANNER : FB_ROLE_HINT, hint);
	refresh();
}

/* ---- on its own -------------------------------------------------------- */

int fb_replay_console_main(char *const *paths, size_t n, const char *theme)
{
	fb_console c = {.readonly = true};
	fb_error err;
	setlocale(LC_ALL, "");
	c.utf8 = strcasecmp(nl_langinfo(CODESET), "UTF-8") == 0;
	for (size_t i = 0; i < n; i++) {
		if (access(paths[i], R_OK) != 0) {
			fb_cli_error("%s: cannot be read", paths[i]);
			return FB_EXIT_NOINPUT;
		}
	}
	con_replay *r = con_replay_open(paths, n, &err);
	if (!r) {
		fb_cli_error("%s", err.text);
		return FB_EXIT_DATAERR;
	}
	if (con_screen_start(&c, theme ? theme : "default", &err) != 0) {
		fb_cli_error("%s", err.text);
		con_replay_free(r);
		return FB_EXIT_CONFIG;
	}
	int64_t idle = 0;
	while (!r->done) {
		int64_t wait;
		con_replay_tick(r, fb_now_ms(), &wait);
		con_replay_draw(&c, r);
		struct pollfd p = {STDIN_FILENO, POLLIN, 0};
		int rc = poll(&p, 1, (int)(wait >= 0 ? wait : 1000));
		int key, got = 0;
		while ((key = getch()) != ERR) {
			con_replay_key(r, key);
			got++;
		}
		/* a terminal that went away: readable, yet nothing, again and again */
		idle = rc > 0 && !got ? idle + 1 : 0;
		if ((p.revents & (POLLHUP | POLLERR)) || idle > 3)
			break;
	}
	con_screen_end();
	con_replay_free(r);
	return FB_EXIT_OK;
}
