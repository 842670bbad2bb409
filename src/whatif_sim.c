/* replay --what-if: one dependency's breaker run again over what the log
 * recorded, and what a run's transitions mean against the truth. The
 * breaker is the engine's own (fb_breaker_*), never a copy. */
#include <stdlib.h>
#include <string.h>

#include "fusebox/breaker.h"
#include "whatif_impl.h"

/* The jitter source of a run: the real openings' draws first, in order,
 * then a generator seeded by the dependency's name. */
typedef struct draws {
	const uint64_t *v;
	size_t n, k;
	uint64_t x;
} draws;

static uint64_t next_draw(void *ctx)
{
	draws *d = ctx;
	return d->k < d->n ? d->v[d->k++] : fb_rng_xorshift(&d->x);
}

/* A down span: the real breaker open, so nothing was observed. */
typedef struct span {
	int64_t start, end;
} span;

typedef struct sim {
	const fb_whatif *w;
	wi_dep *d;
	wi_run *run;
	fb_breaker *b;
	fb_breaker_config bc;
	int64_t interval, grace, recheck_at, next_syn;
	span *spans;
	size_t nspans, si;
	uint8_t *allowed; /* per call: did the breaker let it through */
	bool ends_up;     /* the real breaker was closed at the end */
	bool failed;
} sim;

static void record(sim *s, const fb_transition *tr, bool restored)
{
	if (!tr->changed)
		return;
	wi_run *r = s->run;
	if (fb_wi_grow((void **)&r->tr, &r->cap, r->n, sizeof *r->tr)) {
		s->failed = true;
		return;
	}
	r->tr[r->n++] = (wi_trans){tr->at_ms, tr->from, tr->to,
	                           tr->retry_after_ms, restored};
	if (tr->to == FB_STATE_OPEN) /* the scheduler looks again then */
		s->next_syn = tr->at_ms + tr->retry_after_ms;
}

static int make_spans(sim *s)
{
	const wi_dep *d = s->d;
	s->spans = calloc(d->real.n ? d->real.n : 1, sizeof *s->spans);
	if (!s->spans)
		return -1;
	for (size_t i = 0; i < d->real.n; i++) {
		if (d->real.v[i].to != FB_STATE_OPEN)
			continue;
		/* unobserved until its wait ended; after that the real
		 * scheduler was only late, and its trial is in the log */
		int64_t next =
		    i + 1 < d->real.n ? d->real.v[i + 1].at : s->w->last_ms;
		int64_t end =
		    d->real.v[i].retry_after_ms >= 0
		        ? d->real.v[i].at + d->real.v[i].retry_after_ms
		        : next;
		if (next < end)
			end = next;
		s->spans[s->nspans++] = (span){d->real.v[i].at, end};
	}
	return 0;
}

/* A probe the scheduler would have sent at t where the log saw none. */
static void synthetic(sim *s, int64_t t, bool ok)
{
	fb_transition tr;
	int64_t wait = -1;
	bool allowed = fb_breaker_allow(s->b, t, &wait, &tr);
	record(s, &tr, false);
	s->next_syn = t + s->interval;
	if (!allowed) {
		if (wait > 0)
			s->next_syn = t + wait;
		return;
	}
	if (ok)
		fb_breaker_success(s->b, t, 0, &tr);
	else
		fb_breaker_failure(s->b, t, &tr);
	record(s, &tr, false);
}

/* The probes of the unobserved spans before `until`: failures inside a
 * down span (before the real open wait ended); after the last
 * point (`tail`), when the real breaker ended closed, successes until
 * this one closes too. */
static void fill(sim *s, int64_t until, bool tail)
{
	while (s->next_syn >= 0 && s->next_syn < until && !s->failed) {
		int64_t t = s->next_syn;
		while (s->si < s->nspans && s->spans[s->si].end <= t)
			s->si++;
		if (s->si < s->nspans && s->spans[s->si].start <= t) {
			synthetic(s, t, false);
			continue;
		}
		if (tail && s->ends_up &&
		    fb_breaker_state(s->b) != FB_STATE_CLOSED &&
		    fb_breaker_state(s->b) != FB_STATE_FORCED_CLOSED &&
		    fb_breaker_state(s->b) != FB_STATE_FORCED_OPEN) {
			synthetic(s, t, true);
			continue;
		}
		/* observed (or healthy) time: to the first slot of the next
		 * down span, or past `until` */
		int64_t to = s->si < s->nspans && s->spans[s->si].start < until
		                 ? s->spans[s->si].start
		                 : until;
		int64_t steps = (to - t + s->interval - 1) / s->interval;
		s->next_syn = t + (steps > 0 ? steps : 1) * s->interval;
		if (to == until)
			return;
	}
}

/* A new instance: fresh breakers, and the open wait the last one left. */
static void restart(sim *s, int64_t at, draws *rng)
{
	fb_breaker_snapshot snap;
	fb_transition tr;
	fb_breaker_snapshot_get(s->b, &snap);
	fb_breaker *fresh =
	    fb_breaker_new(&s->bc, (fb_rng){next_draw, rng}, at);
	if (!fresh) {
		s->failed = true;
		return;
	}
	fb_breaker_free(s->b);
	s->b = fresh;
	if (s->grace > 0) {
		fb_breaker_hold(s->b, at + s->grace);
		s->recheck_at = at + s->grace;
	}
	if (snap.state == FB_STATE_OPEN || snap.state == FB_STATE_HALF_OPEN) {
		int64_t left =
		    snap.state == FB_STATE_OPEN ? snap.open_until_ms - at : 0;
		fb_breaker_restore_open(s->b, at, left, snap.failed_trials,
		                        &tr);
		record(s, &tr, true);
	}
}

static void step(sim *s, const wi_point *p, draws *rng)
{
	fb_transition tr;
	tr.changed = false;
	if (s->recheck_at >= 0 && s->recheck_at <= p->at) {
		fb_breaker_recheck(s->b, s->recheck_at, &tr);
		record(s, &tr, false);
		s->recheck_at = -1;
	}
	switch ((wi_what)p->what) {
	case WP_BEGIN:
		s->allowed[p->call] =
		    fb_breaker_allow(s->b, p->at, NULL, &tr) ? 1 : 0;
		s->next_syn = p->at + s->interval;
		break;
	case WP_END:
		if (!s->allowed[p->call])
			return;
		if (p->result == FB_OUT_FAIL)
			fb_breaker_failure(s->b, p->at, &tr);
		else
			fb_breaker_success(s->b, p->at, 0, &tr);
		break;
	case WP_CALL: { /* WP_BEGIN then WP_END, as they would run */
		bool allowed = fb_breaker_allow(s->b, p->at, NULL, &tr);
		s->next_syn = p->at + s->interval;
		record(s, &tr, false);
		if (!allowed)
			return;
		if (p->result == FB_OUT_FAIL)
			fb_breaker_failure(s->b, p->at, &tr);
		else
			fb_breaker_success(s->b, p->at, 0, &tr);
		break;
	}
	case WP_TRIP: fb_breaker_force_open(s->b, p->at, &tr); break;
	case WP_RESET: fb_breaker_reset(s->b, p->at, &tr); break;
	case WP_DISABLE: fb_breaker_force_closed(s->b, p->at, &tr); break;
	case WP_START: restart(s, p->at, rng); return;
	default: return;
	}
	record(s, &tr, false);
}

int fb_wi_simulate(const fb_whatif *w, wi_dep *d, const fb_dep_config *cfg,
                   wi_run *run)
{
	draws rng = {d->draws.v, d->draws.n, 0, 0x9E3779B97F4A7C15ULL};
	for (const char *p = d->name; *p; p++)
		rng.x = (rng.x ^ (uint8_t)*p) * 0x100000001B3ULL;
	if (!rng.x)
		rng.x = 1;
	sim s = {.w = w,
	         .d = d,
	         .run = run,
	         .interval = cfg->t[FB_T_INTERVAL],
	         .grace = cfg->t[FB_T_STARTUP_GRACE],
	         .recheck_at = -1,
	         .next_syn = -1};
	fb_dep_breaker_config(cfg, &s.bc);
	fb_state last =
	    d->real.n ? d->real.v[d->real.n - 1].to : FB_STATE_CLOSED;
	s.ends_up = last == FB_STATE_CLOSED || last == FB_STATE_FORCED_CLOSED;
	s.b = fb_breaker_new(&s.bc, (fb_rng){next_draw, &rng}, w->first_ms);
	s.allowed = calloc(d->calls ? d->calls : 1, 1);
	if (!s.b || !s.allowed || make_spans(&s)) {
		s.failed = true;
		goto out;
	}
	for (size_t i = 0; i < d->pts.n && !s.failed; i++) {
		fill(&s, d->pts.v[i].at, false);
		step(&s, &d->pts.v[i], &rng);
	}
	fill(&s, w->last_ms + 1, true);
out:
	fb_breaker_free(s.b);
	free(s.allowed);
	free(s.spans);
	return s.failed ? -1 : 0;
}

/* ---- what a run means -------------------------------------------------- */

static bool rejecting(fb_state s)
{
	return s == FB_STATE_OPEN || s == FB_STATE_FORCED_OPEN;
}

/* The truth at t: the last change at or before it (up before any). */
static bool up_at(const wi_dep *d, int64_t t, size_t *at_index)
{
	size_t lo = 0, hi = d->truth.n; /* first change after t */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->truth.v[mid].at <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (at_index)
		*at_index = lo;
	return lo == 0 || d->truth.v[lo - 1].up;
}

/* When the dependency first went down at or after `from` (itself when it
 * was down then); -1 when it did not before `to`. */
static int64_t first_down(const wi_dep *d, int64_t from, int64_t to)
{
	size_t i;
	if (!up_at(d, from, &i))
		return from;
	for (; i < d->truth.n && d->truth.v[i].at <= to; i++) {
		if (!d->truth.v[i].up)
			return d->truth.v[i].at;
	}
	return -1;
}

/* When the dependency last came back up at or before t; -1 when it was
 * down at t. */
static int64_t came_up(const wi_dep *d, int64_t t)
{
	size_t i;
	if (!up_at(d, t, &i))
		return -1;
	while (i > 0 && d->truth.v[i - 1].up)
		i--;
	return i < d->truth.n && i > 0 ? d->truth.v[i].at : -1;
}

void fb_wi_measure(const fb_whatif *w, const wi_dep *d, const wi_trans *tr,
                   size_t n, wi_metrics *m)
{
	int64_t interval = d->cfg.t[FB_T_INTERVAL];
	int64_t last_close = w->first_ms, down_since = -1;
	int64_t detect = 0, recover = 0, ndetect = 0, nrecover = 0;
	int64_t false_ms = 0, let_ms = 0;
	memset(m, 0, sizeof *m);
	m->first_open_ms = -1;
	/* sweep the state and the truth together */
	fb_state s = FB_STATE_CLOSED;
	int64_t t = w->first_ms;
	size_t ti = 0, ri = 0;
	while (ti < d->truth.n && d->truth.v[ti].at <= t)
		ti++;
	bool up = up_at(d, t, NULL);
	while (t < w->last_ms) {
		int64_t next = w->last_ms;
		if (ri < n && tr[ri].at < next)
			next = tr[ri].at;
		if (ti < d->truth.n && d->truth.v[ti].at < next)
			next = d->truth.v[ti].at;
		if (next > t) {
			if (rejecting(s) && up)
				false_ms += next - t;
			if (!rejecting(s) && !up)
				let_ms += next - t;
			t = next;
		}
		while (ti < d->truth.n && d->truth.v[ti].at <= t)
			up = d->truth.v[ti++].up;
		while (ri < n && tr[ri].at <= t)
			s = tr[ri++].to;
	}
	for (size_t i = 0; i < n; i++) {
		const wi_trans *x = &tr[i];
		m->transitions++;
		if (x->to == FB_STATE_HALF_OPEN)
			m->trials++;
		bool was_up = x->from == FB_STATE_CLOSED ||
		              x->from == FB_STATE_FORCED_CLOSED;
		if (rejecting(x->to) && was_up) {
			m->down_windows++;
			down_since = x->at;
			if (x->to == FB_STATE_OPEN) {
				m->opens++;
				if (m->first_open_ms < 0)
					m->first_open_ms = x->at;
				int64_t f = first_down(d, last_close, x->at);
				if (f >= 0) {
					detect += x->at - f;
					ndetect++;
				}
			}
		}
		if (x->to == FB_STATE_CLOSED ||
		    x->to == FB_STATE_FORCED_CLOSED) {
			last_close = x->at;
			if (down_since >= 0)
				m->down_ms += x->at - down_since;
			down_since = -1;
			int64_t u = came_up(d, x->at);
			if (x->from == FB_STATE_HALF_OPEN && u >= 0) {
				recover += x->at - u;
				nrecover++;
			}
		}
	}
	if (down_since >= 0)
		m->down_ms += w->last_ms - down_since;
	m->detect_ms = ndetect ? detect / ndetect : -1;
	m->recover_ms = nrecover ? recover / nrecover : -1;
	m->false_trip_calls =
	    interval > 0 ? (false_ms + interval / 2) / interval : 0;
	m->let_through_calls =
	    interval > 0 ? (let_ms + interval / 2) / interval : 0;
}
