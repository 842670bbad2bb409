/* Drawing the console: header, gate line, dependency table, detail or
 * log pane, key hints, and the dialogs on top. Widgets only draw; they
 * never change state. */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "console/columns.h"
#include "console/console.h"

typedef struct layout {
	int rows, cols;
	int table_y, table_h; /* first table row (after titles), rows */
	int pane_y, pane_h;   /* pane title row, rows including the title */
	con_columns col;      /* the columns that fit */
} layout;

/* The table's titles at row y0, its rows, then the pane: h rows. */
static layout plan(const fb_console *c, int y0, int h)
{
	layout l = {.rows = LINES, .cols = COLS};
	l.pane_h = c->detail ? l.rows / 2 : (l.rows >= 20 ? l.rows / 3 : 4);
	l.table_y = y0 + 1;
	l.table_h = h - 1 - l.pane_h;
	/* rows the table does not need go to the pane */
	int want = c->norder ? (int)c->norder : 1;
	if (want < l.table_h) {
		l.pane_h += l.table_h - want;
		l.table_h = want;
	}
	l.pane_y = l.table_y + l.table_h;
	con_table_columns(c, l.cols, &l.col);
	return l;
}

void con_table_columns(const fb_console *c, int cols, con_columns *out)
{
	unsigned extra = 0; /* CALLS only when services report; SHADOW and
	                       WHAT-IF only when some row has one; HOSTS in
	                       the fleet view */
	for (size_t i = 0; i < c->model->nrows; i++) {
		const con_row *r = &c->model->rows[i];
		extra |= (r->calls_total > 0 ? 1u << CON_COL_CALLS : 0) |
		         (r->has_shadow ? 1u << CON_COL_SHADOW : 0) |
		         (r->has_whatif ? 1u << CON_COL_WHATIF : 0) |
		         (r->fleet_hosts ? 1u << CON_COL_HOSTS : 0);
	}
	con_columns_fit(cols, c->name_w, extra, out);
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
	       : h == FB_HEALTH_UNKNOWN  ? FB_ROLE_DIM /* no outcome yet */
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
	if (y < 0 || y >= LINES || x < 0 || x >= COLS)
		return;
	if (width > COLS - x)
		width = COLS - x; /* never past the edge: no wrap, no residue */
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
	char clock[40], trouble[200] = "", sys[48], gate[48], retry[48] = "";
	char where[160], age[32] = "";
	con_time(c, fb_wall_ms(), "  %H:%M:%S %Z", clock, sizeof clock);
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
	/* each whole or not at all: never "SYSTEM UNHE" */
	if (x + con_width(sys) <= l->cols)
		x += con_put(c, 0, x, l->cols - x,
		             live ? health_role(m->system) : FB_ROLE_DIM, sys);
	if (x + 1 + con_width(gate) <= l->cols)
		x += 1 + con_put(c, 0, x + 1, l->cols - x - 1,
		                 !live        ? FB_ROLE_DIM
		                 : g->blocked ? FB_ROLE_BAD
		                              : FB_ROLE_OK,
		                 gate);
	x += con_put(c, 0, x, l->cols - x, FB_ROLE_HEADER, retry);
	char right[200];
	snprintf(right, sizeof right, "%s%s ", where, clock);
	int w = con_width(right);
	if (w > l->cols - x && m->src.brief[0]) { /* in a word, not cut */
		snprintf(right, sizeof right, " %s ", m->src.brief);
		w = con_width(right);
	}
	if (w <= l->cols - x) /* whole, at the right, or not at all */
		con_put(c, 0, l->cols - w, w, FB_ROLE_HEADER, right);
	/* the gate's reason, in words */
	x = 0; /* a failing event log first: it must not be clipped away */
	if (m->log_trouble[0])
		x = con_put(c, 1, 0, l->cols, FB_ROLE_BAD, m->log_trouble);
	if (m->fleet_note[0]) /* local-first: it says it works alone */
		x += con_put(c, 1, x, l->cols - x, FB_ROLE_BANNER,
		             m->fleet_note);
	x += con_put(c, 1, x, l->cols - x, FB_ROLE_DIM,
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

static const char *sort_name(con_sort s)
{
	static const char *const names[] = {
#define CON_X_SORT_NAME(id, name) name,
	    CON_SORT_TABLE(CON_X_SORT_NAME)
#undef CON_X_SORT_NAME
	};
	return (unsigned)s < SORT_COUNT ? names[s] : "?";
}

/* What the rows are: " sort: worst first  filter: bill ". Returns its
 * width. */
static int rows_are(const fb_console *c, char *buf, size_t len)
{
	snprintf(buf, len, " sort: %s%s%.40s ", sort_name(c->sort),
	         c->filter[0] || c->mode == MODE_FILTER ? "  filter: " : "",
	         c->filter);
	return con_width(buf);
}

/* Is there room for it at the right of the titles? It may go over the
 * LAST ERROR title (the column is plain enough without it), over no
 * other. */
static bool rows_are_on_titles(const layout *l, int w)
{
	const con_columns *col = &l->col;
	int end = 0;
	for (int i = 0; i < CON_COL_COUNT; i++) {
		int e = col->x[i] + con_width(con_col_title((con_col)i));
		if (col->on[i] && i != CON_COL_ERROR && e > end)
			end = e;
	}
	return l->cols - w > end;
}

/* The titles, and what the rows are at the right (or, with no room, on
 * the pane's title line). */
static void draw_titles(fb_console *c, const layout *l)
{
	int y = l->table_y - 1;
	const con_columns *col = &l->col;
	char what[120];
	int w = rows_are(c, what, sizeof what);
	bool here = rows_are_on_titles(l, w);
	fill(c, y, 0, l->cols, FB_ROLE_TITLE);
	for (int i = 0; i < CON_COL_COUNT; i++) {
		bool covered =
		    i == CON_COL_ERROR && here && l->cols - w < col->x[i] + 11;
		if (col->on[i] && !covered)
			con_put(c, y, col->x[i], col->w[i], FB_ROLE_TITLE,
			        con_col_title((con_col)i));
	}
	if (here)
		con_put(c, y, l->cols - w, w, FB_ROLE_BANNER, what);
}

/* A SHADOW or WHAT-IF cell: the other breaker's state, marked and
 * highlighted where it differs from the real one ("≠ open"); "-" when
 * the row has none. */
static fb_role other_cell(const fb_console *c, const con_row *d, bool has,
                          fb_state other, char *buf, size_t len)
{
	if (!has || !d->known) {
		snprintf(buf, len, "%s", has ? fb_state_name(other) : "-");
		return FB_ROLE_DIM;
	}
	if (other == d->state) {
		snprintf(buf, len, "%s", fb_state_name(other));
		return FB_ROLE_DIM;
	}
	snprintf(buf, len, "%s %s", c->utf8 ? "≠" : "!", fb_state_name(other));
	return FB_ROLE_BANNER;
}

static void draw_row(fb_console *c, const layout *l, int y, const con_row *d,
                     bool selected)
{
	char cell[CON_COL_COUNT][64] = {{0}};
	const con_columns *col = &l->col;
	bool live = c->model->src.live;
	snprintf(cell[CON_COL_NAME], 64, "%s", d->name);
	snprintf(cell[CON_COL_KIND], 64, "%s", fb_kind_name(d->kind));
	snprintf(cell[CON_COL_CRIT], 64, "%s", d->critical ? "*" : "");
	snprintf(cell[CON_COL_STATE], 64, "%s %s",
	         d->known ? state_glyph(c, d->state) : "",
	         d->known ? fb_state_name(d->state) : "-");
	snprintf(cell[CON_COL_HEALTH], 64, "%s",
	         d->health_known ? fb_health_name(d->health) : "-");
	if (d->fails < 0)
		snprintf(cell[CON_COL_FAIL], 64, "-");
	else
		snprintf(cell[CON_COL_FAIL], 64, "%lld", (long long)d->fails);
	if (d->p50_ms < 0)
		snprintf(cell[CON_COL_LATENCY], 64, "-");
	else
		snprintf(cell[CON_COL_LATENCY], 64,
		         d->p95_ms < 10 ? "%.1f/%.1f" : "%.0f/%.0f", d->p50_ms,
		         d->p95_ms);
	fb_role shadow = other_cell(c, d, d->has_shadow, d->shadow,
	                            cell[CON_COL_SHADOW], 64);
	fb_role whatif = other_cell(c, d, d->has_whatif, d->whatif,
	                            cell[CON_COL_WHATIF], 64);
	countdown(d, cell[CON_COL_TIMER], 64);
	con_calls_cell(d->calls_total > 0 ? d->calls_min : -1,
	               d->calls_failed_min, cell[CON_COL_CALLS], 64);
	fb_role roles[CON_COL_COUNT] = {
	    [CON_COL_CALLS] =
	        d->calls_failed_min > 0 ? FB_ROLE_WARN : FB_ROLE_NORMAL,
	    [CON_COL_NAME] = FB_ROLE_NORMAL,
	    [CON_COL_KIND] = FB_ROLE_DIM,
	    [CON_COL_CRIT] = FB_ROLE_WARN,
	    [CON_COL_STATE] = d->known ? state_role(d->state) : FB_ROLE_DIM,
	    [CON_COL_SHADOW] = shadow,
	    [CON_COL_WHATIF] = whatif,
	    [CON_COL_HEALTH] =
	        d->health_known ? health_role(d->health) : FB_ROLE_DIM,
	    [CON_COL_FAIL] = d->fails > 0 ? FB_ROLE_WARN : FB_ROLE_DIM,
	    [CON_COL_LATENCY] = FB_ROLE_NORMAL,
	    [CON_COL_TIMER] = d->known && d->state == FB_STATE_OPEN
	                          ? FB_ROLE_BAD
	                          : FB_ROLE_DIM,
	    [CON_COL_HOSTS] = d->known && d->state != FB_STATE_CLOSED
	                          ? state_role(d->state)
	                          : FB_ROLE_DIM,
	    [CON_COL_RECENT] = FB_ROLE_DIM,
	    [CON_COL_ERROR] = FB_ROLE_DIM};
	if (!live) /* stale data is never drawn as live */
		for (int i = 0; i < CON_COL_COUNT; i++)
			roles[i] = FB_ROLE_DIM;
	if (selected)
		fill(c, y, 0, l->cols, FB_ROLE_SELECTED);
	for (int i = 0; i < CON_COL_COUNT; i++) {
		if (!col->on[i])
			continue;
		bool keeps =
		    live && (i == CON_COL_STATE || i == CON_COL_HEALTH ||
		             roles[i] == FB_ROLE_BANNER);
		fb_role role = selected && !keeps ? FB_ROLE_SELECTED : roles[i];
		if (i == CON_COL_RECENT) {
			const fb_sample *at[CON_RECENT];
			for (uint32_t k = 0; k < d->nrecent; k++)
				at[k] = &d->recent[k];
			sparkline(c, y, col->x[i], col->w[i], at, d->nrecent);
		} else {
			con_put(c, y, col->x[i], col->w[i], role,
			        i == CON_COL_ERROR   ? d->error
			        : i == CON_COL_HOSTS ? d->fleet_hosts
			                             : cell[i]);
		}
	}
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
	char what[120];
	int w = rows_are(c, what, sizeof what), end = l->cols - (focus ? 9 : 0);
	fill(c, l->pane_y, 0, l->cols, FB_ROLE_TITLE);
	con_put(c, l->pane_y, 1, l->cols - 2, FB_ROLE_TITLE, title);
	if (!rows_are_on_titles(l, w) && end - w > 0)
		con_put(c, l->pane_y, end - w, w, FB_ROLE_BANNER, what);
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
	char zone[16];
	con_time(c, fb_wall_ms(), "%Z", zone, sizeof zone);
	snprintf(title, sizeof title,
	         "EVENTS  %zu shown, newest last, times %s%s", n, zone,
	         c->log_scroll ? "  (scrolled back)" : "");
	pane_title(c, l, title, c->log_focus);
	int lines = l->pane_h - 1;
	c->log_rows = lines > 0 ? (size_t)lines : 0;
	for (int i = 0; i < lines; i++) {
		size_t back = c->log_scroll + (size_t)(lines - 1 - i);
		con_log_line e;
		if (back >= n || !con_model_event(c->model, back, &e))
			continue;
		char ts[16];
		con_time(c, e.wall_ms, "%H:%M:%S ", ts, sizeof ts);
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

/* The shadow breaker: its state in words against the real one, then
 * the shadow.KEY settings it runs with. */
static void detail_shadow(detail_writer *w, const con_detail *d)
{
	char set[400] = "", fails[48] = "";
	size_t used = 0;
	if (!d->has_shadow)
		return;
	for (int i = 0; i < d->nshadow && used < sizeof set; i++) {
		int n = snprintf(set + used, sizeof set - used, "%s%s=%s",
		                 i ? " " : "", d->shadow_settings[i].key,
		                 d->shadow_settings[i].value);
		used += n > 0 ? (size_t)n : 0;
	}
	if (d->shadow_fails >= 0)
		snprintf(fails, sizeof fails, ", %lld consecutive failures",
		         (long long)d->shadow_fails);
	bool agrees = d->shadow == d->snap.state;
	dline(w, agrees ? FB_ROLE_NORMAL : FB_ROLE_BANNER,
	      "shadow: %s%s; %s the real one (%s)", fb_state_name(d->shadow),
	      fails, agrees ? "agrees with" : "DISAGREES with",
	      fb_state_name(d->snap.state));
	dline(w, FB_ROLE_NORMAL, "shadow settings: %s",
	      set[0] ? set : "(not known here)");
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
	if (r->calls_total > 0) {
		char cell[32];
		con_calls_cell(r->calls_min, r->calls_failed_min, cell,
		               sizeof cell);
		dline(&w,
		      r->calls_failed_min > 0 ? FB_ROLE_WARN : FB_ROLE_NORMAL,
		      "calls reported by services, last minute: %s failed; "
		      "%lld since start (probes apart)",
		      cell, (long long)r->calls_total);
	}
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
	detail_shadow(&w, &d);
	detail_config(&w, &d);
}

/* ---- hints and dialogs ------------------------------------------------- */

static void draw_hints(fb_console *c, const layout *l, int64_t now)
{
	int y = l->rows - 1;
	fill(c, y, 0, l->cols, FB_ROLE_HINT);
	if (c->mode == MODE_FILTER) {
		int x = con_put(c, y, 0, l->cols, FB_ROLE_HINT, " filter: ");
		con_prompt(c, y, x, l->cols - x - 1, FB_ROLE_HINT, &c->line);
		int w = con_width(c->line.text);
		if (x + w + 34 < l->cols)
			con_put(c, y, x + w + 3, l->cols - x - w - 3,
			        FB_ROLE_HINT, "(Enter keeps it, Esc clears)");
		return;
	}
	if (c->flash[0] && now < c->flash_until) {
		con_put(c, y, 0, l->cols, FB_ROLE_BANNER, c->flash);
		return;
	}
	/* help first and quit last, always; the rest as they fit */
	static const char *const act[] = {
	    "?:help",  "t:trip",   "r:reset",      "d:disable",
	    "g:gate",  "/:filter", "Enter:detail", "s:sort",
	    "p:probe", "Tab:log",  "R:replay",     "q:quit"};
	static const char *const watch[] = {
	    "?:help", "j/k:move", "/:filter", "Enter:detail",
	    "s:sort", "Tab:log",  "R:replay", "q:quit"};
	const char *rows =
	    c->fleet_instances ? "i:dependencies" : "i:instances";
	const char *const fleet[] = {
	    "?:help", "t:trip",   "r:reset", "d:disable", "g:gate",
	    rows,     "/:filter", "s:sort",  "F:back",    "q:quit"};
	char text[200];
	if (c->fleet && !c->readonly)
		con_hints_fit(fleet, (int)(sizeof fleet / sizeof fleet[0]),
		              l->cols, text, sizeof text);
	else if (c->readonly)
		con_hints_fit(watch, (int)(sizeof watch / sizeof watch[0]),
		              l->cols, text, sizeof text);
	else
		con_hints_fit(act, (int)(sizeof act / sizeof act[0]), l->cols,
		              text, sizeof text);
	con_put(c, y, 0, l->cols, FB_ROLE_HINT, text);
}

/* A centred box with the given lines. */
/* Returns the column of the lines' left edge; *top gets the first's row. */
static int dialog_box(fb_console *c, const char *const *lines, int n, int *top)
{
	int w = 0;
	for (int i = 0; i < n; i++) {
		int lw = con_width(lines[i]);
		if (lw > w)
			w = lw;
	}
	w = w + 4 < COLS ? w + 4 : COLS;
	/* a blank line above and below, when there is room for them; the
	 * hint line at the bottom stays in view */
	int room = LINES - 1;
	int pad = n + 2 <= room ? 1 : 0;
	int h = n + 2 * pad < room ? n + 2 * pad : room;
	int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;
	for (int i = 0; i < h; i++)
		fill(c, y0 + i, x0, w, FB_ROLE_DIALOG);
	for (int i = 0; i < n && pad + i < h; i++)
		con_put(c, y0 + pad + i, x0 + 2, w - 4, FB_ROLE_DIALOG,
		        lines[i]);
	if (top)
		*top = y0 + pad;
	return x0 + 2;
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
	dialog_box(c, rows, h.n, NULL);
}

/* The one action that lets destructive jobs through asks first, and
 * says for how long. */
static void allow_question(const fb_console *c, char *buf, size_t len)
{
	char ttl[32], until[40];
	fb_format_wait(c->model->gate_ttl_ms, ttl, sizeof ttl);
	con_time(c, fb_wall_ms() + c->model->gate_ttl_ms, "%H:%M:%S %Z", until,
	         sizeof until);
	snprintf(buf, len,
	         "Allow destructive jobs for %s, until %s, whatever the "
	         "health?",
	         ttl, until);
}

static void draw_dialog(fb_console *c)
{
	const con_row *d = con_selected(c);
	const char *scope = c->model->act_scope;
	char a[200], b[160];
	const char *rows[3] = {a, "", b};
	static const char *const what[FB_ACT_COUNT] = {
	    [FB_ACT_TRIP] = "Trip %s (force it open until reset)?",
	    [FB_ACT_RESET] = "Reset %s (close it, clear its counters)?",
	    [FB_ACT_DISABLE] = "Disable %s (force it closed; probes go on)?"};
	switch (c->mode) {
	case MODE_CONFIRM:
		/* "trip api for the fleet: 3 live instances of checkout?" */
		if (scope[0])
			snprintf(a, sizeof a, "%s%s%s %s? (y/n)",
			         fb_action_name(c->pending),
			         c->pending < FB_ACT_GATE_BLOCK ? " " : "",
			         c->pending < FB_ACT_GATE_BLOCK && d ? d->name
			                                             : "",
			         scope);
		else if (c->pending == FB_ACT_GATE_ALLOW)
			allow_question(c, a, sizeof a);
		else
			snprintf(a, sizeof a, what[c->pending],
			         d ? d->name : "?");
		snprintf(b, sizeof b, "y: yes    any other key: no");
		dialog_box(c, rows, 3, NULL);
		break;
	case MODE_GATE_MENU: {
		char ttl[32];
		fb_format_wait(c->model->gate_ttl_ms, ttl, sizeof ttl);
		snprintf(a, sizeof a,
		         "Gate: b block (lock)   a allow (override, %s)", ttl);
		snprintf(b, sizeof b, "      u auto            Esc cancel");
		dialog_box(c, rows, 3, NULL);
		break;
	}
	case MODE_REASON: {
		snprintf(a, sizeof a, "Reason for %s%s%s (optional):",
		         fb_action_name(c->pending), scope[0] ? " " : "",
		         scope);
		/* room for the longest line the prompt may hold */
		snprintf(b, sizeof b, "> %*s", 60, "");
		rows[1] = "Enter: go   Esc: cancel";
		int top, x = dialog_box(c, rows, 3, &top);
		con_put(c, top + 2, x, 2, FB_ROLE_DIALOG, "> ");
		con_prompt(c, top + 2, x + 2, 60, FB_ROLE_DIALOG, &c->line);
		break;
	}
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
	if (c->fleet && c->fleet_instances) {
		con_fleet_draw_instances(c, y0, h);
		return;
	}
	layout l = plan(c, y0, h);
	if (c->cursor >= c->top + (size_t)l.table_h)
		c->top = c->cursor - (size_t)l.table_h + 1;
	if (c->cursor < c->top)
		c->top = c->cursor;
	c->table_rows = (size_t)l.table_h;
	c->table_y = l.table_y;
	c->pane_y = l.pane_y;
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
	c->cursor_y = -1;
	draw_header(c, &l);
	con_draw_body(c, 2, LINES - 3);
	draw_hints(c, &l, now);
	if (c->mode == MODE_HELP)
		draw_help(c);
	else if (c->mode != MODE_NORMAL && c->mode != MODE_FILTER)
		draw_dialog(c);
	con_show_cursor(c);
	refresh();
}
