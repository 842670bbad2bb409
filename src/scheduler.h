/* The probe scheduler: every dependency at its interval, with a per-
 * dependency phase so a large fleet does not fire in one burst; nothing
 * while a breaker is open (the next probe is due when the open wait
 * ends), then only the permitted half-open trials. */
#ifndef FB_SCHEDULER_H
#define FB_SCHEDULER_H

#include "core/heap.h"
#include "fusebox/engine.h"
#include "probe.h"

#define FB_LATE_BUCKETS 1001 /* lateness histogram: 0..1000 ms, then more */

typedef struct fb_sched {
	fb_engine *engine;
	fb_probes *probes;
	fb_heap heap;
	int64_t *due_ms; /* per dependency: when its next probe is due */
	uint32_t *gen;   /* per dependency: current heap generation */
	size_t n;
	uint64_t late[FB_LATE_BUCKETS]; /* how late probes started, in ms */
	uint64_t started;
} fb_sched;

/* Schedules the first probe of every dependency of the engine. Returns 0
 * or -1 when out of memory. */
int fb_sched_init(fb_sched *s, fb_engine *e, fb_loop *loop, int64_t now_ms);
void fb_sched_free(fb_sched *s);

/* Starts the probes that are due. Returns ms until the next one. */
int64_t fb_sched_run(fb_sched *s, int64_t now_ms);

/* Makes dependency `id` due now (operator reset, "probe now"). */
void fb_sched_kick(fb_sched *s, uint32_t id, int64_t now_ms);

/* When the next probe of `id` is due (CLOCK_MONOTONIC ms). */
int64_t fb_sched_due(const fb_sched *s, uint32_t id);

/* The p-th percentile (0-100) of probe start lateness, in ms. */
int64_t fb_sched_lateness(const fb_sched *s, int pct);

#endif
