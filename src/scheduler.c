/* The probe scheduler: a timer heap of due probes, fed by outcomes. */
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "scheduler.h"

/* Probes due this soon start with the ones due now, and first probes are
 * spread over slots this wide: one wake-up serves a batch instead of one
 * each, which is most of the cost of a probe at low rates. */
#define FB_SCHED_SLACK_MS 3
#define FB_SCHED_SLOT_MS  20

static void due_at(fb_sched *s, uint32_t id, int64_t when)
{
	s->due_ms[id] = when;
	fb_heap_push(&s->heap, (fb_heap_entry){when, id, ++s->gen[id]});
}

static void on_result(void *ctx, uint32_t id, const fb_probe_result *r)
{
	fb_sched *s = ctx;
	fb_dep *d = &s->engine->reg.deps[id];
	int64_t now = fb_now_ms();
	fb_engine_probe_end(s->engine, d, now, r->ok, r->latency_us, r->error);
	int64_t next = s->due_ms[id] + d->cfg.t[FB_T_INTERVAL];
	due_at(s, id, next > now ? next : now + d->cfg.t[FB_T_INTERVAL]);
}

int fb_sched_init(fb_sched *s, fb_engine *e, fb_loop *loop, int64_t now_ms)
{
	memset(s, 0, sizeof *s);
	s->engine = e;
	s->n = e->reg.count;
	s->due_ms = calloc(s->n ? s->n : 1, sizeof *s->due_ms);
	s->gen = calloc(s->n ? s->n : 1, sizeof *s->gen);
	s->probes = fb_probes_new(loop, s->n, on_result, s);
	if (!s->due_ms || !s->gen || !s->probes) {
		fb_sched_free(s);
		return -1;
	}
	for (uint32_t i = 0; i < s->n; i++) {
		const fb_dep_config *c = &e->reg.deps[i].cfg;
		int64_t window =
		    c->t[FB_T_INTERVAL] < 1000 ? c->t[FB_T_INTERVAL] : 1000;
		int64_t phase =
		    (int64_t)(fb_hash_name(c->name) % (uint32_t)window);
		due_at(s, i, now_ms + phase - phase % FB_SCHED_SLOT_MS);
	}
	return 0;
}

void fb_sched_free(fb_sched *s)
{
	if (s->probes) { /* abandoned probes give their permits back */
		for (uint32_t i = 0; i < s->n; i++) {
			if (fb_probes_busy(s->probes, i))
				fb_engine_probe_abandon(
				    s->engine, &s->engine->reg.deps[i]);
		}
	}
	fb_probes_free(s->probes);
	fb_heap_free(&s->heap);
	free(s->due_ms);
	free(s->gen);
	memset(s, 0, sizeof *s);
}

static void note_lateness(fb_sched *s, int64_t late_ms)
{
	if (late_ms < 0)
		late_ms = 0;
	s->late[late_ms < FB_LATE_BUCKETS - 1 ? late_ms
	                                      : FB_LATE_BUCKETS - 1]++;
	s->started++;
}

/* One due dependency: probe it, or work out when to look again. */
static void run_one(fb_sched *s, uint32_t id, int64_t now)
{
	fb_dep *d = &s->engine->reg.deps[id];
	int64_t interval = d->cfg.t[FB_T_INTERVAL];
	int64_t wait = -1;
	if (fb_probes_busy(s->probes, id)) { /* slower than its interval */
		due_at(s, id, now + interval);
		return;
	}
	if (!fb_engine_probe_begin(s->engine, d, now, &wait)) {
		/* open: when the wait ends; a trial out or forced: next interval.
		 * Never within the slack, or this pass would take it again. */
		int64_t when = now + (wait > 0 ? wait : interval);
		due_at(s, id,
		       when > now + FB_SCHED_SLACK_MS
		           ? when
		           : now + FB_SCHED_SLACK_MS + 1);
		return;
	}
	note_lateness(s, now - s->due_ms[id]);
	fb_probes_start(s->probes, id, &d->cfg);
}

int64_t fb_sched_run(fb_sched *s, int64_t now_ms)
{
	const fb_heap_entry *e;
	while ((e = fb_heap_peek(&s->heap)) &&
	       e->due_ms <= now_ms + FB_SCHED_SLACK_MS) {
		fb_heap_entry top = *e;
		fb_heap_pop(&s->heap);
		if (top.gen == s->gen[top.id])
			run_one(s, top.id, now_ms);
	}
	int64_t next = e ? e->due_ms - now_ms : 1000;
	if (next < 0)
		next = 0;
	int64_t deadline = fb_probes_expire(s->probes, now_ms);
	if (deadline >= 0 && deadline < next)
		next = deadline;
	return next;
}

void fb_sched_kick(fb_sched *s, uint32_t id, int64_t now_ms)
{
	if (id < s->n && !fb_probes_busy(s->probes, id))
		due_at(s, id, now_ms);
}

int64_t fb_sched_due(const fb_sched *s, uint32_t id)
{
	return id < s->n ? s->due_ms[id] : -1;
}

int64_t fb_sched_lateness(const fb_sched *s, int pct)
{
	uint64_t want = (s->started * (uint64_t)pct + 99) / 100, seen = 0;
	for (int i = 0; i < FB_LATE_BUCKETS; i++) {
		seen += s->late[i];
		if (seen >= want && want > 0)
			return i;
	}
	return 0;
}
