/* The replay source: a loaded log (fb_timeline) with a cursor. Rows are
 * the log's dependencies and the configured ones, in the state the log
 * says they were in at the cursor; the log pane's lines are the events
 * up to it. A dependency with no transition yet but an instance started
 * before the cursor was closed (what a fresh instance starts as), its
 * health not yet known. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/replay.h"
#include "core/hash.h"
#include "eventlog.h"

int64_t con_past_first_ms(const con_past *p)
{
	return p->tl.n ? p->tl.ev[0].ts_ms : 0;
}

int64_t con_past_last_ms(const con_past *p)
{
	return p->tl.n ? p->tl.ev[p->tl.n - 1].ts_ms : 0;
}

void con_past_seek(con_past *p, int64_t ms)
{
	if (ms < con_past_first_ms(p))
		ms = con_past_first_ms(p);
	if (ms > con_past_last_ms(p))
		ms = con_past_last_ms(p);
	p->cursor_ms = ms;
	p->pos = fb_timeline_count_at(&p->tl, ms);
	fb_timeline_state(&p->tl, p->pos, &p->st);
	p->m.changed = true;
}

void con_past_step(con_past *p, int dir)
{
	if (dir > 0 && p->pos < p->tl.n)
		con_past_seek(p, p->tl.ev[p->pos].ts_ms);
	else if (dir < 0) { /* the instant before the cursor's, whatever
	                       number of events share it */
		size_t before = fb_timeline_count_at(&p->tl, p->cursor_ms - 1);
		if (before > 0)
			con_past_seek(p, p->tl.ev[before - 1].ts_ms);
	}
}

/* Has an instance started at or before the cursor? */
static bool started(const con_past *p)
{
	return p->nstarts && p->starts[0] < p->pos;
}

static short step(con_model *m, int in_fd, int max_ms)
{
	struct pollfd fd = {in_fd, POLLIN, 0};
	(void)m;
	if (poll(&fd, in_fd >= 0 ? 1 : 0, max_ms) <= 0)
		return 0;
	return fd.revents;
}

/* The shadow breaker of tl's dependency d at the cursor: its last
 * `shadow` event's state, or closed (a fresh one) when none came since
 * the last start; false when the log has no shadow of it. */
static bool shadow_now(const con_past *p, long d, fb_state *out)
{
	if (d < 0 || !p->shadow_at || p->shadow_at[d] == p->shadow_at[d + 1])
		return false;
	const size_t *ev = p->shadow_ev + p->shadow_at[d];
	size_t lo = 0, hi = p->shadow_at[d + 1] - p->shadow_at[d];
	while (lo < hi) { /* shadow events before the cursor */
		size_t mid = lo + (hi - lo) / 2;
		if (ev[mid] < p->pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t s = 0, e = p->nstarts;
	while (s < e) { /* starts before the cursor */
		size_t mid = s + (e - s) / 2;
		if (p->starts[mid] < p->pos)
			s = mid + 1;
		else
			e = mid;
	}
	bool restarted = s && lo && p->starts[s - 1] > ev[lo - 1];
	uint8_t to = lo ? p->tl.ev[ev[lo - 1]].to : FB_TL_UNKNOWN;
	*out =
	    to != FB_TL_UNKNOWN && !restarted ? (fb_state)to : FB_STATE_CLOSED;
	return true;
}

static void refresh(con_model *m)
{
	con_past *p = (con_past *)m;
	bool fresh = started(p);
	for (size_t i = 0; i < m->nrows; i++) {
		con_row *r = &m->rows[i];
		long d = p->dep_of[i];
		uint8_t s = d >= 0 ? p->st.state[d] : FB_TL_UNKNOWN;
		uint8_t h = d >= 0 ? p->st.health[d] : FB_TL_UNKNOWN;
		r->known = s != FB_TL_UNKNOWN || fresh;
		r->state = s != FB_TL_UNKNOWN ? (fb_state)s : FB_STATE_CLOSED;
		r->health_known = h != FB_TL_UNKNOWN;
		r->health =
		    h != FB_TL_UNKNOWN ? (fb_health)h : FB_HEALTH_HEALTHY;
		r->has_shadow = shadow_now(p, d, &r->shadow);
		r->has_whatif =
		    p->whatif &&
		    con_whatif_state(p->whatif, i, p->cursor_ms, &r->whatif);
	}
	m->gate.blocked = p->st.gate_blocked;
	snprintf(m->gate.reason, sizeof m->gate.reason, "%s at the cursor",
	         p->st.gate_blocked ? "blocked" : "allowed");
}

static bool detail(con_model *m, size_t row, con_detail *out)
{
	(void)m;
	(void)row;
	(void)out;
	return false; /* the log keeps no counters */
}

/* The what-if overlay's lines up to the cursor. */
static size_t whatif_lines(const con_past *p)
{
	const con_whatif *w = p->whatif;
	size_t lo = 0, hi = w ? w->nlines : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (w->lines[mid].at_ms <= p->cursor_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t nevents(con_model *m)
{
	con_past *p = (con_past *)m;
	return p->pos + whatif_lines(p);
}

/* The log pane's lines are the events up to the cursor and, with the
 * overlay on, the what-if run's transitions after the events of their
 * instant. Line b of the overlay is number lines[b].after + b of them
 * all: *line gets b when `rank` is one of those, else -1 and *event the
 * timeline's event. */
static void line_at(const con_past *p, size_t rank, long *line, size_t *event)
{
	if (!p->whatif) { /* no overlay: every line is an event */
		*line = -1;
		*event = rank;
		return;
	}
	const con_wi_line *l = p->whatif->lines;
	size_t lo = 0, hi = whatif_lines(p);
	while (lo < hi) { /* overlay lines before rank */
		size_t mid = lo + (hi - lo) / 2;
		if (l[mid].after + mid < rank)
			lo = mid + 1;
		else
			hi = mid;
	}
	bool ours = lo < whatif_lines(p) && l[lo].after + lo == rank;
	*line = ours ? (long)lo : -1;
	*event = rank - lo;
}

static fb_tone move_tone(fb_state to)
{
	switch (to) {
	case FB_STATE_CLOSED: return FB_TONE_GOOD;
	case FB_STATE_HALF_OPEN: return FB_TONE_WARN;
	case FB_STATE_OPEN: return FB_TONE_BAD;
	default: return FB_TONE_FORCED;
	}
}

static bool event(con_model *m, size_t back, con_log_line *out)
{
	con_past *p = (con_past *)m;
	fb_log_event ev;
	fb_event e;
	size_t total = nevents(m), at;
	long line;
	if (back >= total)
		return false;
	line_at(p, total - 1 - back, &line, &at);
	if (line >= 0) {
		const con_wi_line *l = &p->whatif->lines[line];
		out->seq = 0;
		out->wall_ms = l->at_ms;
		out->tone = move_tone(l->to);
		snprintf(out->text, sizeof out->text, "what-if: %s %s -> %s",
		         m->rows[l->row].name, fb_state_name(l->from),
		         fb_state_name(l->to));
		return true;
	}
	if (fb_timeline_event(&p->tl, at, &ev))
		return false;
	fb_log_event_as_event(&ev, &e);
	out->seq = ev.seq;
	out->wall_ms = ev.ts_ms;
	out->tone = fb_event_tone(&e);
	fb_event_describe(&e, out->text, sizeof out->text);
	cJSON_Delete(ev.json);
	return true;
}

static int act(con_model *m, fb_action action, const char *dep,
               const char *reason, char *msg, size_t len)
{
	(void)dep;
	(void)reason;
	snprintf(msg, len, "%s refused: %s", fb_action_name(action),
	         m->src.no_action);
	return -1;
}

static int probe(con_model *m, const char *dep, char *msg, size_t len)
{
	(void)dep;
	snprintf(msg, len, "probe refused: %s", m->src.no_action);
	return -1;
}

static void free_past(con_model *m)
{
	con_past *p = (con_past *)m;
	fb_timeline_free(&p->tl);
	free(p->st.state);
	free(p->st.health);
	free(p->dep_of);
	free(p->starts);
	free(p->shadow_at);
	free(p->shadow_ev);
	free(m->rows);
	free(p);
}

static const con_model_ops ops = {
    .step = step,
    .refresh = refresh,
    .detail = detail,
    .act = act,
    .probe = probe,
    .nevents = nevents,
    .event = event,
    .free = free_past,
};

/* The timeline's dependency called `name`, through a table of nslots
 * (a power of two) that holds index + 1; -1 when none. */
static long tl_find(const con_past *p, const uint32_t *slots, size_t nslots,
                    const char *name)
{
	for (size_t i = fb_hash_name(name) & (nslots - 1);;
	     i = (i + 1) & (nslots - 1)) {
		if (!slots[i])
			return -1;
		if (strcmp(p->tl.deps[slots[i] - 1], name) == 0)
			return (long)slots[i] - 1;
	}
}

/* Rows: the log's dependencies, then those of `also` it does not name
 * (with their kind and criticality, which only a configuration knows). */
static int build_rows(con_past *p, const con_model *also)
{
	size_t extra = also ? also->nrows : 0, nslots = 16;
	while (nslots < 2 * p->tl.ndeps + 2)
		nslots *= 2;
	uint32_t *slots = calloc(nslots, sizeof *slots);
	con_row *rows = calloc(p->tl.ndeps + extra + 1, sizeof *rows);
	long *dep_of = calloc(p->tl.ndeps + extra + 1, sizeof *dep_of);
	if (!slots || !rows || !dep_of) {
		free(slots);
		free(rows);
		free(dep_of);
		return -1;
	}
	size_t n = 0;
	for (size_t d = 0; d < p->tl.ndeps; d++) {
		size_t s = fb_hash_name(p->tl.deps[d]) & (nslots - 1);
		while (slots[s])
			s = (s + 1) & (nslots - 1);
		slots[s] = (uint32_t)d + 1;
		snprintf(rows[n].name, sizeof rows[n].name, "%s",
		         p->tl.deps[d]);
		rows[n].kind = FB_KIND_COUNT; /* "?": the log does not say */
		dep_of[n++] = (long)d;
	}
	for (size_t i = 0; i < extra; i++) {
		const con_row *a = &also->rows[i];
		long d = tl_find(p, slots, nslots, a->name);
		con_row *r = d >= 0 ? &rows[d] : &rows[n];
		if (d < 0) {
			snprintf(r->name, sizeof r->name, "%s", a->name);
			dep_of[n++] = -1;
		}
		r->kind = a->kind;
		r->critical = a->critical;
	}
	for (size_t i = 0; i < n; i++) {
		rows[i].fails = -1;
		rows[i].p50_ms = rows[i].p95_ms = -1;
		rows[i].retry_in_ms = rows[i].next_in_ms = -1;
	}
	free(slots);
	p->m.rows = rows;
	p->m.nrows = n;
	p->dep_of = dep_of;
	p->m.generation++;
	return 0;
}

static int find_starts(con_past *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->tl.n; i++)
		n += p->tl.ev[i].kind == FB_EV_START;
	p->starts = calloc(n ? n : 1, sizeof *p->starts);
	if (!p->starts)
		return -1;
	for (size_t i = 0; i < p->tl.n; i++) {
		if (p->tl.ev[i].kind == FB_EV_START)
			p->starts[p->nstarts++] = i;
	}
	return 0;
}

/* The `shadow` events of each dependency, in order (see con_past). */
static int find_shadows(con_past *p)
{
	size_t nd = p->tl.ndeps, n = 0;
	p->shadow_at = calloc(nd + 1, sizeof *p->shadow_at);
	if (!p->shadow_at)
		return -1;
	for (size_t i = 0; i < p->tl.n; i++) {
		const fb_tl_event *e = &p->tl.ev[i];
		if (e->kind == FB_EV_SHADOW && e->dep != FB_TL_NONE) {
			p->shadow_at[e->dep + 1]++;
			n++;
		}
	}
	for (size_t d = 0; d < nd; d++)
		p->shadow_at[d + 1] += p->shadow_at[d];
	p->shadow_ev = calloc(n ? n : 1, sizeof *p->shadow_ev);
	size_t *next = calloc(nd ? nd : 1, sizeof *next);
	if (!p->shadow_ev || !next) {
		free(next);
		return -1;
	}
	for (size_t i = 0; i < p->tl.n; i++) {
		const fb_tl_event *e = &p->tl.ev[i];
		if (e->kind == FB_EV_SHADOW && e->dep != FB_TL_NONE)
			p->shadow_ev[p->shadow_at[e->dep] + next[e->dep]++] = i;
	}
	free(next);
	return 0;
}

con_past *con_past_open(char *const *paths, size_t n, const con_model *also,
                        fb_error *err)
{
	con_past *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(err->text, sizeof err->text, "out of memory");
		return NULL;
	}
	p->m.ops = &ops;
	if (fb_timeline_load(&p->tl, paths, n, true, err->text,
	                     sizeof err->text)) {
		free(p);
		return NULL;
	}
	if (p->tl.n == 0) {
		snprintf(err->text, sizeof err->text,
		         "%s: no valid event to replay", paths[0]);
		free_past(&p->m);
		return NULL;
	}
	size_t nd = p->tl.ndeps ? p->tl.ndeps : 1;
	p->st.state = malloc(nd);
	p->st.health = malloc(nd);
	if (!p->st.state || !p->st.health || build_rows(p, also) != 0 ||
	    find_starts(p) != 0 || find_shadows(p) != 0) {
		snprintf(err->text, sizeof err->text, "out of memory");
		free_past(&p->m);
		return NULL;
	}
	snprintf(p->m.src.brief, sizeof p->m.src.brief, "replay");
	snprintf(p->m.src.where, sizeof p->m.src.where, "replay of %.100s%s",
	         paths[0], n > 1 ? " and more" : "");
	p->m.src.live = true; /* current, as of the cursor */
	p->m.src.age_ms = -1;
	snprintf(p->m.src.no_action, sizeof p->m.src.no_action,
	         "REPLAY: actions are off (this is the past)");
	snprintf(p->m.log_path, sizeof p->m.log_path, "%s", paths[0]);
	if (also) /* a what-if starts from the settings it runs */
		snprintf(p->m.config_path, sizeof p->m.config_path, "%s",
		         also->config_path);
	con_past_seek(p, con_past_first_ms(p));
	refresh(&p->m);
	return p;
}
