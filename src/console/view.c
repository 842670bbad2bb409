/* Drawing the console: header, gate line, dependency table, detail or
 * log pane, key hints, and the dialogs on top. Widgets only draw; they
 * never change state. */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "console/console.h"

typedef struct layout {
	int rows, cols;
	int table_y, table_h; /* first table row (after titles), rows */
	int pane_y, pane_h;   /* pane title row, rows including the title */
	bool spark, error_col;
} layout;

/* The table's titles at row y0, its rows, then the pane: h rows. */
static layout plan(const fb_console *c, int y0, int h)
{
	layout l = {.rows = LINES, .cols = COLS};
	l.pane_h = c->detail ? l.rows / 2 : (l.rows >= 20 ? l.rows / 3 : 4);
	l.table_y = y0 + 1;
	l.table_h = h - 1 - l.pane_h;
	l.pane_y = l.table_y + l.table_h;
	l.spark = l.cols >= 100;
	l.error_col = l.cols >= 90;
	return l;
}

/* ---- shared bits ------------------------------------------------------- */

static fb_role state_role(fb_state s)
{
	switch (s) {
	case FB_STATE_CLOSED: return FB_ROLE_OK;
	case FB_STATE_HALF_OPEN: return FB_ROLE_WARN;
	case FB_STATE_OPEN: return FB_ROLE_BAD;
	default: return FB_ROLE_FORCED;
	}
}

static fb_role health_role(fb_health h)
{
	return h == FB_HEALTH_HEALTHY    ? FB_ROLE_OK
	       : h == FB_HEALTH_DEGRADED ? FB_ROLE_WARN
	                                 : FB_ROLE_BAD;
}

static const char *state_glyph(const fb_console *c, fb_state s)
{
	static const char *const utf8[] = {"●", "✖", "◐", "⊘", "⊙"};
	static const char *const ascii[] = {"o", "X", "~", "!", "="};
	return (unsigned)s < FB_STATE_COUNT ? (c->utf8 ? utf8 : ascii)[s] : "?";
}

static void fill(fb_console *c, int y, int x, int width, fb_role role)
{
	attrset(c->attr[role]);
	mvhline(y, x, ' ', width);
	attrset(c->attr[FB_ROLE_NORMAL]);
}

/* ---- header and gate line ---------------------------------------------- */

/* The header: fusebox, trouble (DISCONNECTED...), system health, the
 * gate, where the data comes from -- and, when they fit, the gate's
 * countdown and the clock, which give way in that order. */
static void draw_header(fb_console *c, const layout *l)
{
	con_model *m = c->model;
	const fb_gate_decision *g = &m->gate;
	bool live = m->src.live;
	char clock[16], trouble[200] = "", sys[48], gate[48], retry[48] = "";
	char where[160], age[32] = "";
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(clock, sizeof clock, "  %H:%M:%S", &tm);
	if (m->src.trouble[0]) {
		if (m->src.age_ms >= 0)
			fb_format_wait(m->src.age_ms, age, sizeof age);
		snprintf(trouble, sizeof trouble, " %.120s%s%s%s ",
		         m->src.trouble, age[0] ? " (data " : "", age,
		         age[0] ? " old)" : "");
	}
	snprintf(sys, sizeof sys, " SYSTEM %s ", fb_health_name(m->system));
	for (char *p = sys; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	snprintf(gate, sizeof gate, " GATE %s (%s) ",
	         g->blocked ? "BLOCKED" : "ALLOWED",
	         fb_gate_mode_name(g->mode));
	if (live && g->blocked && g->retry_after_ms > 0) {
		char wait[32];
		fb_format_wait(g->retry_after_ms, wait, sizeof wait);
		snprintf(retry, sizeof retry, " retry in %s", wait);
	}
	snprintf(where, sizeof where, " %.120s", m->src.where);
	int need = 9 + (trouble[0] ? con_width(trouble) + 1 : 0) +
	           con_width(sys) + 1 + con_width(gate) + con_width(where) + 1;
	if (need + con_width(clock) > l->cols)
		clock[0] = '\0';
	if (need + con_width(clock) + con_width(retry) > l->cols)
		retry[0] = '\0';
	fill(c, 0, 0, l->cols, FB_ROLE_HEADER);
	int x = con_put(c, 0, 0, l->cols, FB_ROLE_HEADER, " fusebox ");
	if (trouble[0]) /* before anything it makes stale */
		x += 1 + con_put(c, 0, x, l->cols - x, FB_ROLE_BANNER, trouble);
	x += con_put(c, 0, x, l->cols - x,
	             live ? health_role(m->system) : FB_ROLE_DIM, sys);
	x += 1 + con_put(c, 0, x + 1, l->cols - x - 1,
	                 !live        ? FB_ROLE_DIM
	                 : g->blocked ? FB_ROLE_BAD
	                              : FB_ROLE_OK,
	                 gate);
	x += con_put(c, 0, x, l->cols - x, FB_ROLE_HEADER, retry);
	char right[200];
	snprintf(right, sizeof right, "%s%s ", where, clock);
	int w = con_width(right);
	if (l->cols - w > x)
		x = l->cols - w;
	con_put(c, 0, x, l->cols - x, FB_ROLE_HEADER, right);
	/* the gate's reason, in words */
	x = con_put(c, 1, 0, l->cols, FB_ROLE_DIM,
	            live ? " gate: " : " gate, when last seen: ");
	x += con_put(c, 1, x, l->cols - x,
	             !live        ? FB_ROLE_DIM
	             : g->blocked ? FB_ROLE_BAD
	                          : FB_ROLE_OK,
	             g->reason);
	const char *banner = c->readonly ? " READ-ONLY " : NULL;
	if (banner && l->cols - 11 > x)
		con_put(c, 1, l->cols - 11, 11, FB_ROLE_BANNER, banner);
}

/* ---- the table --------------------------------------------------------- */

static void countdown(const con_row *r, char *buf, size_t len)
{
	char wait[32];
	if (!r->known) {
		snprintf(buf, len, "-");
		return;
	}
	switch (r->state) {
	case FB_STATE_OPEN:
		if (r->retry_in_ms < 0) { /* not known here (a replay) */
			snprintf(buf, len, "-");
			return;
		}
		fb_format_wait(r->retry_in_ms, wait, sizeof wait);
		snprintf(buf, len, "retry %s", wait);
		return;
	case FB_STATE_HALF_OPEN: snprintf(buf, len, "trial"); return;
	case FB_STATE_FORCED_OPEN: snprintf(buf, len, "tripped"); return;
	default: break;
	}
	if (r->next_in_ms < 0) {
		snprintf(buf, len, "-");
		return;
	}
	if (r->next_in_ms == 0) {
		snprintf(buf, len, "probing");
		return;
	}
	fb_format_wait(r->next_in_ms, wait, sizeof wait);
	snprintf(buf, len, "next %s", wait);
}

/* Recent probe outcomes, newest on the right: bar height is latency
 * against the slowest in view, a cross is a failure. */
static void sparkline(fb_console *c, int y, int x, int width,
                      const fb_sample *const *at, uint32_t len)
{
	static const char *const bars[] = {"▁", "▂", "▃", "▄",
	                                   "▅", "▆", "▇", "█"};
	static const char ascii[] = "_.-=+*#@";
	uint32_t n = len < (uint32_t)width ? len : (uint32_t)width;
	int32_t top = 1;
	for (uint32_t i = 0; i < n; i++) {
		const fb_sample *s = at[i];
		if (s->ok && s->latency_us > top)
			top = s->latency_us;
	}
	for (uint32_t i = 0; i < n; i++) {
		const fb_sample *s = at[n - 1 - i];
		int level = s->ok ? (int)((int64_t)s->latency_us * 7 / top) : 0;
		if (level > 7)
			level = 7;
		char glyph[8] = {ascii[level], 0};
		if (c->utf8)
			snprintf(glyph, sizeof glyph, "%s",
			         s->ok ? bars[level] : "×");
		else if (!s->ok)
			glyph[0] = 'x';
		con_put(c, y, x + width - (int)n + (int)i, 1,
		        s->ok ? FB_ROLE_DIM : FB_ROLE_BAD, glyph);
	}
}

static const struct column {
	const char *title;
	int width;
} columns[] = {
    {"DEPENDENCY", 16}, {"KIND", 5}, {"C", 1},       {"STATE", 15},
    {"HEALTH", 9},      {"FAIL", 4}, {"P50/P95", 9}, {"TIMER", 11},
};
#define NCOLS   (int)(sizeof columns / sizeof columns[0])
#define SPARK_W 16

static void draw_titles(fb_console *c, const layout *l)
{
	int x = 0, y = l->table_y - 1;
	fill(c, y, 0, l->cols, FB_ROLE_TITLE);
	for (int i = 0; i < NCOLS; i++) {
		con_put(c, y, x, columns[i].width, FB_ROLE_TITLE,
		        columns[i].title);
		x += columns[i].width + 1;
	}
	if (l->spark) {
		con_put(c, y, x, SPARK_W, FB_ROLE_TITLE, "RECENT");
		x += SPARK_W + 1;
	}
	if (l->error_col)
		con_put(c, y, x, l->cols - x, FB_ROLE_TITLE, "LAST ERROR");
	char sort[48];
	snprintf(sort, sizeof sort, " sort: %s ",
	         c->sort == SORT_WORST      ? "worst first"
	         : c->sort == SORT_NAME     ? "name"
	         : c->sort == SORT_KIND     ? "kind"
	         : c->sort == SORT_FAILURES ? "failures"
	                                    : "latency");
	int w = con_width(sort);
	if (!l->error_col && l->cols - w > x)
		con_put(c, y, l->cols - w, w, FB_ROLE_TITLE, sort);
}

static void draw_row(fb_console *c, const layout *l, int y, const con_row *d,
                     bool selected)
{
	char cell[NCOLS][64];
	bool live = c->model->src.live;
	snprintf(cell[0], 64, "%s", d->name);
	snprintf(cell[1], 64, "%s", fb_kind_name(d->kind));
	snprintf(cell[2], 64, "%s", d->critical ? "*" : "");
	snprintf(cell[3], 64, "%s %s", d->known ? state_glyph(c, d->state) : "",
	         d->known ? fb_state_name(d->state) : "-");
	snprintf(cell[4], 64, "%s",
	         d->health_known ? fb_health_name(d->health) : "-");
	if (d->fails < 0)
		snprintf(cell[5], 64, "-");
	else
		snprintf(cell[5], 64, "%lld", (long long)d->fails);
	if (d->p50_ms < 0)
		snprintf(cell[6], 64, "-");
	else
		snprintf(cell[6], 64,
		         d->p95_ms < 10 ? "%.1f/%.1f" : "%.0f/%.0f", d->p50_ms,
		         d->p95_ms);
	countdown(d, cell[7], 64);
	fb_role roles[NCOLS] = {
	    FB_ROLE_NORMAL,
	    FB_ROLE_DIM,
	    FB_ROLE_WARN,
	    d->known ? state_role(d->state) : FB_ROLE_DIM,
	    d->health_known ? health_role(d->health) : FB_ROLE_DIM,
	    d->fails > 0 ? FB_ROLE_WARN : FB_ROLE_DIM,
	    FB_ROLE_NORMAL,
	    d->known && d->state == FB_STATE_OPEN ? FB_ROLE_BAD : FB_ROLE_DIM};
	if (!live) /* stale data is never drawn as live */
		for (int i = 0; i < NCOLS; i++)
			roles[i] = FB_ROLE_DIM;
	if (selected)
		fill(c, y, 0, l->cols, FB_ROLE_SELECTED);
	int x = 0;
	for (int i = 0; i < NCOLS; i++) {
		con_put(c, y, x, columns[i].width,
		        selected && (!live || (i != 3 && i != 4))
		            ? FB_ROLE_SELECTED
		            : roles[i],
		        cell[i]);
		x += columns[i].width + 1;
	}
	if (l->spark) {
		const fb_sample *at[CON_RECENT];
		for (uint32_t i = 0; i < d->nrecent; i++)
			at[i] = &d->recent[i];
		sparkline(c, y, x, SPARK_W, at, d->nrecent);
		x += SPARK_W + 1;
	}
	if (l->error_col && d->error[0])
		con_put(c, y, x, l->cols - x,
		        selected ? FB_ROLE_SELECTED : FB_ROLE_DIM, d->error);
}

static void draw_table(fb_console *c, const layout *l)
{
	draw_titles(c, l);
	if (c->norder == 0) {
		con_put(c, l->table_y, 1, l->cols - 2, FB_ROLE_DIM,
		        c->filter[0]
		            ? "no dependency matches the filter (Esc clears it)"
		            : "no dependencies configured");
		return;
	}
	for (int i = 0; i < l->table_h && c->top + (size_t)i < c->norder; i++) {
		size_t row = c->top + (size_t)i;
		const con_row *d = &c->model->rows[c->order[row]];
		draw_row(c, l, l->table_y + i, d, row == c->cursor);
	}
}

/* ---- panes ------------------------------------------------------------- */

static void pane_title(fb_console *c, const layout *l, const char *title,
                       bool focus)
{
	fill(c, l->pane_y, 0, l->cols, FB_ROLE_TITLE);
	con_put(c, l->pane_y, 1, l->cols - 2, FB_ROLE_TITLE, title);
	if (focus)
		con_put(c, l->pane_y, l->cols - 9, 8, FB_ROLE_BANNER,
		        " focus ");
}

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

static void draw_log(fb_console *c, const layout *l)
{
	char title[96];
	size_t n = con_model_nevents(c->model);
	snprintf(title, sizeof title, "EVENTS  %zu shown, newest last%s", n,
	         c->log_scroll ? "  (scrolled back)" : "");
	pane_title(c, l, title, c->log_focus);
	int lines = l->pane_h - 1;
	for (int i = 0; i < lines; i++) {
		size_t back = c->log_scroll + (size_t)(lines - 1 - i);
		con_log_line e;
		if (back >= n || !con_model_event(c->model, back, &e))
			continue;
		char ts[16];
		time_t t = (time_t)(e.wall_ms / 1000);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(ts, sizeof ts, "%H:%M:%S ", &tm);
		int x = con_put(c, l->pane_y + 1 + i, 1, 9, FB_ROLE_DIM, ts);
		con_put(c, l->pane_y + 1 + i, 1 + x, l->cols - 2 - x,
		        con_tone_role(e.tone), e.text);
	}
}

/* Lines of the detail pane, written one after another. */
typedef struct detail_writer {
	fb_console *c;
	int y, end, cols;
} detail_writer;

static void dline(detail_writer *w, fb_role role, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void dline(detail_writer *w, fb_role role, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (w->y >= w->end)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	con_put(w->c, w->y++, 1, w->cols - 2, role, buf);
}

static void detail_config(detail_writer *w, const con_detail *d)
{
	char line[512] = "";
	size_t used = 0;
	for (int i = 0; i < d->nsettings; i++) {
		const con_setting *s = &d->settings[i];
		int n = snprintf(line + used, sizeof line - used,
		                 "%s=%s (%s)  ", s->key, s->value, s->source);
		if (n < 0 || used + (size_t)n >= (size_t)w->cols - 2) {
			line[used] = '\0'; /* this entry starts the next line */
			dline(w, FB_ROLE_NORMAL, "%s", line);
			used = 0;
			i--;
			line[0] = '\0';
			if (w->y >= w->end)
				return;
			continue;
		}
		used += (size_t)n;
	}
	if (used)
		dline(w, FB_ROLE_NORMAL, "%s", line);
}

static void draw_detail(fb_console *c, const layout *l)
{
	const con_row *r = con_selected(c);
	con_detail d;
	if (!r) {
		pane_title(c, l, "DETAIL", false);
		return;
	}
	if (!con_model_detail(c->model, c->selected, &d)) {
		char title[120];
		snprintf(title, sizeof title, "DETAIL  %s  (asking...)",
		         r->name);
		pane_title(c, l, title, false);
		return;
	}
	const fb_breaker_snapshot *s = &d.snap;
	char title[200], since[32] = "?";
	snprintf(title, sizeof title, "DETAIL  %s  %.80s%s", r->name, d.url,
	         r->critical ? "  (critical)" : "");
	pane_title(c, l, title, false);
	detail_writer w = {c, l->pane_y + 1, l->pane_y + l->pane_h, l->cols};
	if (d.for_ms >= 0)
		fb_format_wait(d.for_ms, since, sizeof since);
	dline(&w, state_role(s->state), "%s for %s: %s",
	      fb_state_name(s->state), since,
	      s->last_reason[0] ? s->last_reason : "since start");
	dline(&w, FB_ROLE_NORMAL,
	      "now: %u consecutive failures, %u/%u failed in window, %llu ok, "
	      "%llu failed, %llu slow, %llu rejected, %d failed trials",
	      s->consecutive_failures, s->window_failures, s->window_calls,
	      (unsigned long long)s->successes, (unsigned long long)s->failures,
	      (unsigned long long)s->slow_calls,
	      (unsigned long long)s->rejected, (int)s->failed_trials);
	dline(
	    &w, FB_ROLE_NORMAL,
	    "at the last transition: %u consecutive failures, %u/%u in window, "
	    "%llu slow",
	    s->frozen_failures, s->frozen_window_failures,
	    s->frozen_window_calls, (unsigned long long)s->frozen_slow_calls);
	if (w.y < w.end) {
		char err[FB_ERROR_MAX + 16];
		snprintf(err, sizeof err, "last error: %s",
		         r->error[0] ? r->error : "none");
		w.y += con_put_wrapped(
		    c, w.y, 1, l->cols - 2, w.end - w.y > 3 ? 3 : 1,
		    r->error[0] ? FB_ROLE_BAD : FB_ROLE_DIM, err);
	}
	if (w.y < w.end && (int)d.history.len > 0) {
		const fb_sample *at[FB_HISTORY];
		for (uint32_t i = 0; i < d.history.len; i++)
			at[i] = fb_history_at(&d.history, i);
		con_put(c, w.y, 1, 9, FB_ROLE_DIM, "history ");
		int width =
		    l->cols - 12 < FB_HISTORY ? l->cols - 12 : FB_HISTORY;
		sparkline(c, w.y++, 10, width, at, d.history.len);
	}
	detail_config(&w, &d);
}

/* ---- hints and dialogs ------------------------------------------------- */

static void draw_hints(fb_console *c, const layout *l, int64_t now)
{
	int y = l->rows - 1;
	fill(c, y, 0, l->cols, FB_ROLE_HINT);
	if (c->mode == MODE_FILTER) {
		char text[128];
		snprintf(text, sizeof text,
		         " filter: %.60s_   (Enter applies, Esc clears)",
		         c->input);
		con_put(c, y, 0, l->cols, FB_ROLE_HINT, text);
		return;
	}
	if (c->flash[0] && now < c->flash_until) {
		con_put(c, y, 0, l->cols, FB_ROLE_BANNER, c->flash);
		return;
	}
	con_put(
	    c, y, 0, l->cols, FB_ROLE_HINT,
	    c->readonly
	        ? " ?:help  j/k:move  /:filter  s:sort  Enter:detail  Tab:log  "
	          "q:quit"
	        : " ?:help t:trip r:reset d:disable g:gate p:probe /:filter "
	          "s:sort Enter:detail q:quit");
}

/* A centred box with the given lines. */
static void dialog_box(fb_console *c, const char *const *lines, int n)
{
	int w = 0;
	for (int i = 0; i < n; i++) {
		int lw = con_width(lines[i]);
		if (lw > w)
			w = lw;
	}
	w = w + 4 < COLS ? w + 4 : COLS;
	int h = n + 2 < LINES ? n + 2 : LINES;
	int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;
	for (int i = 0; i < h; i++)
		fill(c, y0 + i, x0, w, FB_ROLE_DIALOG);
	for (int i = 0; i < n && i + 1 < h; i++)
		con_put(c, y0 + 1 + i, x0 + 2, w - 4, FB_ROLE_DIALOG, lines[i]);
}

typedef struct help_lines {
	char text[40][96];
	int n;
} help_lines;

static void add_help(void *ctx, const char *keys, const char *help)
{
	help_lines *h = ctx;
	if (h->n < 40)
		snprintf(h->text[h->n++], sizeof h->text[0], "%-14s %s", keys,
		         help);
}

static void draw_help(fb_console *c)
{
	help_lines h = {.n = 0};
	const char *rows[44];
	add_help(&h, "", "");
	con_key_help(add_help, &h);
	snprintf(h.text[0], sizeof h.text[0], "fusebox keys%s (any key closes)",
	         c->readonly ? " -- read-only: actions are off" : "");
	for (int i = 0; i < h.n; i++)
		rows[i] = h.text[i];
	dialog_box(c, rows, h.n);
}

static void draw_dialog(fb_console *c)
{
	const con_row *d = con_selected(c);
	char a[160], b[160];
	const char *rows[3] = {a, "", b};
	static const char *const what[FB_ACT_COUNT] = {
	    [FB_ACT_TRIP] = "Trip %s (force it open until reset)?",
	    [FB_ACT_RESET] = "Reset %s (close it, clear its counters)?",
	    [FB_ACT_DISABLE] = "Disable %s (force it closed; probes go on)?"};
	switch (c->mode) {
	case MODE_CONFIRM:
		snprintf(a, sizeof a, what[c->pending], d ? d->name : "?");
		snprintf(b, sizeof b, "y: yes    any other key: no");
		dialog_box(c, rows, 3);
		break;
	case MODE_GATE_MENU: {
		char ttl[32];
		fb_format_wait(c->model->gate_ttl_ms, ttl, sizeof ttl);
		snprintf(a, sizeof a,
		         "Gate: b block (lock)   a allow (override, %s)", ttl);
		snprintf(b, sizeof b, "      u auto            Esc cancel");
		dialog_box(c, rows, 3);
		break;
	}
	case MODE_REASON:
		snprintf(a, sizeof a, "Reason for %s (optional):",
		         fb_action_name(c->pending));
		snprintf(b, sizeof b, "> %.150s_", c->input);
		rows[1] = "Enter: go   Esc: cancel";
		dialog_box(c, rows, 3);
		break;
	default: break;
	}
}

/* ---- the screen -------------------------------------------------------- */

static void draw_too_small(fb_console *c)
{
	char a[64];
	snprintf(a, sizeof a, "terminal too small: %dx%d", COLS, LINES);
	con_put(c, 0, 0, COLS, FB_ROLE_BAD, a);
	if (LINES > 1) {
		snprintf(a, sizeof a, "fusebox needs %dx%d", CON_MIN_COLS,
		         CON_MIN_ROWS);
		con_put(c, 1, 0, COLS, FB_ROLE_NORMAL, a);
	}
	if (LINES > 2)
		con_put(c, 2, 0, COLS, FB_ROLE_DIM, "q quits");
}

void con_draw_body(fb_console *c, int y0, int h)
{
	layout l = plan(c, y0, h);
	if (c->cursor >= c->top + (size_t)l.table_h)
		c->top = c->cursor - (size_t)l.table_h + 1;
	if (c->cursor < c->top)
		c->top = c->cursor;
	c->table_rows = (size_t)l.table_h;
	draw_table(c, &l);
	if (c->detail)
		draw_detail(c, &l);
	else
		draw_log(c, &l);
}

void con_draw(fb_console *c)
{
	int64_t now = fb_now_ms();
	erase();
	if (COLS < CON_MIN_COLS || LINES < CON_MIN_ROWS) {
		draw_too_small(c);
		refresh();
		return;
	}
	layout l = plan(c, 2, LINES - 3);
	draw_header(c, &l);
	con_draw_body(c, 2, LINES - 3);
	draw_hints(c, &l, now);
	if (c->mode == MODE_HELP)
		draw_help(c);
	else if (c->mode != MODE_NORMAL && c->mode != MODE_FILTER)
		draw_dialog(c);
	refresh();
}
