/* Calls that services report (passive health): counted per second for
 * the console, fed to the breaker as probe outcomes are, with half-open
 * trial permits lent to callers and taken back by report or expiry. */
#include <string.h>

#include "core/engine_impl.h"
#include "fusebox/calls.h"
#include "fusebox/sanitize.h"

#define PERMIT_SLACK_MS 1000 /* a lent permit lives timeout + this */

fb_call_rate fb_call_stats_minute(const fb_call_stats *s, int64_t now_ms)
{
	fb_call_rate r = {0, 0, -1};
	int64_t sec = now_ms / 1000;
	uint64_t lat = 0, ok = 0;
	for (int i = 0; i < FB_CALL_BUCKETS; i++) {
		const fb_call_bucket *b = &s->minute[i];
		if (b->calls == 0 || b->sec > sec ||
		    b->sec <= sec - FB_CALL_BUCKETS)
			continue;
		r.calls += b->calls;
		r.failed += b->failed;
		lat += b->latency_us;
		ok += b->calls - b->failed;
	}
	if (ok)
		r.mean_ms = (double)lat / (double)ok / 1000.0;
	return r;
}

static void count(fb_dep *d, int64_t now_ms, bool ok, int64_t latency_us)
{
	fb_call_stats *s = &d->calls;
	int64_t sec = now_ms / 1000;
	fb_call_bucket *b =
	    &s->minute[(sec % FB_CALL_BUCKETS + FB_CALL_BUCKETS) %
	               FB_CALL_BUCKETS];
	if (b->sec != sec)
		*b = (fb_call_bucket){.sec = sec};
	b->calls++;
	s->total++;
	s->last_ms = now_ms;
	s->last_ok = ok;
	if (!ok) {
		b->failed++;
		s->failed++;
		return;
	}
	b->latency_us += (uint64_t)(latency_us > 0 ? latency_us : 0);
	if (latency_us / 1000 > d->cfg.t[FB_T_SLOW_CALL])
		s->slow++;
}

/* The half-open spell d's breaker is in, or -1 when it is not half-open. */
static int64_t episode(fb_dep *d)
{
	if (fb_breaker_state(d->breaker) != FB_STATE_HALF_OPEN)
		return -1;
	fb_breaker_snapshot snap;
	fb_breaker_snapshot_get(d->breaker, &snap);
	return snap.last_change_ms;
}

/* Lends a trial permit the breaker has just handed out. Returns its id,
 * or 0 when every slot is taken (the breaker's permit is then given
 * back). */
static uint64_t lend(fb_dep *d, int64_t now_ms)
{
	fb_call_stats *s = &d->calls;
	for (int i = 0; i < FB_CALL_PERMITS; i++) {
		fb_call_permit *p = &s->permit[i];
		if (p->id)
			continue;
		p->id = ++s->next_permit;
		p->episode_ms = episode(d);
		p->expires_ms =
		    now_ms + d->cfg.t[FB_T_TIMEOUT] + PERMIT_SLACK_MS;
		s->trials++;
		return p->id;
	}
	fb_breaker_release(d->breaker);
	return 0;
}

void fb_engine_call_allow(fb_engine *e, fb_dep *d, int64_t now_ms,
                          fb_call_answer *out)
{
	fb_transition tr;
	int64_t wait = 0;
	memset(out, 0, sizeof *out);
	out->allowed = fb_breaker_allow(d->breaker, now_ms, &wait, &tr);
	if (tr.changed) /* open wait over: half-open now */
		fb_engine_settle(e, d, &tr, now_ms);
	out->state = fb_breaker_state(d->breaker);
	if (out->allowed && out->state == FB_STATE_HALF_OPEN) {
		out->permit = lend(d, now_ms);
		out->allowed = out->permit != 0;
	}
	if (!out->allowed) {
		d->calls.refused++;
		out->retry_after_ms = wait;
	}
	out->health = d->health;
}

/* Takes back permit `id`. True when it was lent in the half-open spell
 * the breaker is still in: then it is a trial the breaker counts. */
static bool take_back(fb_dep *d, uint64_t id)
{
	for (int i = 0; id && i < FB_CALL_PERMITS; i++) {
		fb_call_permit *p = &d->calls.permit[i];
		if (p->id != id)
			continue;
		p->id = 0;
		return p->episode_ms >= 0 && p->episode_ms == episode(d);
	}
	return false;
}

void fb_engine_call_report(fb_engine *e, fb_dep *d, int64_t now_ms, bool ok,
                           int64_t latency_us, const char *error,
                           uint64_t permit)
{
	fb_transition tr = {.changed = false};
	count(d, now_ms, ok, latency_us);
	fb_engine_note_call(e, d, now_ms, ok, latency_us);
	bool trial = take_back(d, permit);
	if (!ok) {
		const char *text = error && error[0] ? error : "call failed";
		fb_sanitize(d->last_error, sizeof d->last_error, text,
		            strlen(text));
		d->last_error_ms = now_ms;
	}
	/* in half-open only a trial decides; any other call moves nothing */
	if (!trial && fb_breaker_state(d->breaker) == FB_STATE_HALF_OPEN)
		return;
	if (ok)
		fb_breaker_success(d->breaker, now_ms, latency_us / 1000, &tr);
	else
		fb_breaker_failure(d->breaker, now_ms, &tr);
	fb_engine_settle(e, d, &tr, now_ms);
}

void fb_engine_calls_expire(fb_engine *e, int64_t now_ms)
{
	for (size_t i = 0; i < e->reg.count; i++) {
		fb_dep *d = &e->reg.deps[i];
		for (int k = 0; k < FB_CALL_PERMITS; k++) {
			fb_call_permit *p = &d->calls.permit[k];
			if (!p->id || now_ms < p->expires_ms)
				continue;
			if (take_back(d, p->id))
				fb_breaker_release(d->breaker);
			d->calls.expired++;
		}
	}
}

void fb_engine_job(fb_engine *e, int64_t now_ms, bool end, const char *actor,
                   const char *command, int64_t exit_status, const char *reason)
{
	fb_event ev = {.kind = FB_EV_OPERATOR,
	               .at_ms = now_ms,
	               .action = end ? FB_ACT_JOB_END : FB_ACT_JOB_START,
	               .actor = actor,
	               .reason = reason ? reason : "",
	               .command = command,
	               .exit_status = end ? exit_status : -1,
	               .failures = -1,
	               .retry_after_ms = -1};
	if (e->emit)
		e->emit(e->emit_ctx, &ev);
}
