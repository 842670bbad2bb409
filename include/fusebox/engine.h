/* The engine: the registry, the gate and the rules that join them. Every
 * change it makes is reported, in order, to one event callback -- that is
 * the only way state changes leave the core.
 *
 * Pure and single-threaded: adapters (probes, socket, console) call it
 * from the event loop with the current CLOCK_MONOTONIC time. */
#ifndef FUSEBOX_ENGINE_H
#define FUSEBOX_ENGINE_H

#include "fusebox/config.h"
#include "fusebox/event.h"
#include "fusebox/gate.h"
#include "fusebox/registry.h"

typedef struct fb_engine {
	fb_registry reg;
	fb_gate gate;
	fb_gate_decision decision; /* as of the last event */
	fb_health system;
	fb_event_fn emit;
	void *emit_ctx;
	uint64_t rng_state;     /* the breakers' fb_rng points here */
	int64_t started_ms;     /* the instance's start: startup_grace counts
	                       from here */
	bool grace_pending;     /* some startup_grace has not ended yet */
	int64_t outsum_next_ms; /* the next outcome window to close; -1 */
	/* the shadow breakers' own jitter, so they change no real draw */
	uint64_t shadow_rng_state;
} fb_engine;

/* Builds the engine from a loaded config; `now_ms` is the instance's
 * start. Every dependency's health is unknown until its first outcome,
 * so the gate blocks until each critical one has answered. Within a
 * dependency's startup_grace after the start, failures are counted (and
 * degrade its health) but do not open its breaker. `seed` feeds the
 * jitter (any value; 0 is replaced). The engine must not move in memory
 * after this: breakers keep a pointer to its rng state. Returns 0, or -1
 * when out of memory. */
int fb_engine_init(fb_engine *e, const fb_config *cfg, uint64_t seed,
                   int64_t now_ms, fb_event_fn emit, void *emit_ctx);
void fb_engine_free(fb_engine *e);

/* May a probe of `d` start now? Refused while open (*retry_after_ms says
 * how long) and when the half-open trials are all out. */
bool fb_engine_probe_begin(fb_engine *e, fb_dep *d, int64_t now_ms,
                           int64_t *retry_after_ms);

/* The outcome of a probe that fb_engine_probe_begin() allowed. `error` is
 * untrusted text (sanitised here), NULL on success. */
void fb_engine_probe_end(fb_engine *e, fb_dep *d, int64_t now_ms, bool ok,
                         int64_t latency_us, const char *error);

/* Writes the outcome windows that have lasted their interval as
 * `outcomes` events (SPEC 6); every open window when `all` (before the
 * instance stops). fb_engine_tick() does the former. */
void fb_engine_flush_outcomes(fb_engine *e, int64_t now_ms, bool all);

/* A probe that was allowed but never finished (shutdown, reload). */
void fb_engine_probe_abandon(fb_engine *e, fb_dep *d);

/* ---- calls that services make themselves (fusebox/calls.h) ---------- */

/* The answer to "may a call to d go ahead now?". */
typedef struct fb_call_answer {
	bool allowed;
	fb_state state;
	fb_health health;
	int64_t retry_after_ms; /* when refused: time left to wait; 0 a
	                           trial is out; -1 only an operator helps */
	uint64_t permit;        /* a half-open trial permit lent to the
	                           caller (give it back with the report);
	                           0 none */
} fb_call_answer;

/* Asks d's breaker as a probe would: closed and forced closed allow;
 * open refuses until its wait ends, then half-open lends one of the trial
 * permits probes use (never more than half_open_probes out, probes and
 * callers together). A lent permit expires after the dependency's
 * timeout plus a second. */
void fb_engine_call_allow(fb_engine *e, fb_dep *d, int64_t now_ms,
                          fb_call_answer *out);

/* One reported call. `error` is untrusted text (sanitised here), NULL or
 * "" on success; `permit` is what fb_engine_call_allow() lent, or 0.
 * Counts toward d's breaker as a probe outcome does -- except that in
 * half-open only the report that brings back a trial permit decides the
 * trial; others are counted and move nothing. */
void fb_engine_call_report(fb_engine *e, fb_dep *d, int64_t now_ms, bool ok,
                           int64_t latency_us, const char *error,
                           uint64_t permit);

/* Gives back lent permits that expired (called by fb_engine_tick()). */
void fb_engine_calls_expire(fb_engine *e, int64_t now_ms);

/* Records the start (end false) or end of a destructive job run under
 * the gate (`fusebox gate exec`) as an operator event, job_start or
 * job_end, with who ran it, its command line (sanitised by the caller),
 * its exit status (end only: as a shell gives it, 128 + signal) and why
 * it ended or started. Changes no state. */
void fb_engine_job(fb_engine *e, int64_t now_ms, bool end, const char *actor,
                   const char *command, int64_t exit_status,
                   const char *reason);

/* An operator action: trip, reset or disable a dependency, or set the
 * gate mode. `actor` names who ("alice (uid 1000)"); `reason` may be NULL.
 * Returns 0, or -1 with *err set (unknown dependency, wrong action). */
int fb_engine_operate(fb_engine *e, fb_action action, const char *dep,
                      int64_t now_ms, const char *actor, const char *reason,
                      fb_error *err);

/* Restoring what an earlier instance left (SPEC section 2); forced
 * states and block come back through fb_engine_operate(). */

/* Puts a closed dependency back into open for wait_ms more (0: its next
 * probe is a trial) after `failed_trials` failed half-open trials, and
 * reports the transition with `why` as its reason. Returns 0, or -1 with
 * *err (unknown dependency, or its breaker is not closed). */
int fb_engine_restore_open(fb_engine *e, const char *dep, int64_t now_ms,
                           int64_t wait_ms, uint32_t failed_trials,
                           const char *why, fb_error *err);

/* An allow override, as the operator path sets it, that ends left_ms
 * from now (where the original ended) instead of a fresh ttl later. */
void fb_engine_restore_allow(fb_engine *e, int64_t now_ms, int64_t left_ms,
                             const char *actor, const char *reason);

/* The fleet's decisions (SPEC 8), which an adapter brings from the
 * other instances. fb_engine_fleet_open() opens dep (from closed, open or
 * half-open) for wait_ms from now after failed_trials failed fleet
 * trials -- an open one only has its wait set, with no event; the
 * counters start afresh. fb_engine_fleet_close() closes an open or
 * half-open dep (a fleet trial succeeded). Forced states are left
 * alone. Each change is reported with `why` as its reason. Return 0, or
 * -1 with *err for an unknown dependency. */
int fb_engine_fleet_open(fb_engine *e, const char *dep, int64_t now_ms,
                         int64_t wait_ms, uint32_t failed_trials,
                         const char *why, fb_error *err);
int fb_engine_fleet_close(fb_engine *e, const char *dep, int64_t now_ms,
                          const char *why, fb_error *err);

/* Time-driven work: ends an expired allow override (and reports the gate
 * change), and ends each startup_grace: a breaker whose failures already
 * call for opening opens then, with the reason "N consecutive failures;
 * startup_grace ended". Cheap; call at least once a second. */
void fb_engine_tick(fb_engine *e, int64_t now_ms);

/* The gate decision at `now_ms`, with a live retry countdown. */
void fb_engine_gate(const fb_engine *e, int64_t now_ms, fb_gate_decision *out);

/* Swaps in a new configuration. Dependencies that still exist keep their
 * breaker state, counters, history and health; new ones start closed and
 * unknown. startup_grace still counts from the instance's start. Writes a
 * one-line summary of what changed to `summary`. Returns 0, or -1 when
 * out of memory (the old configuration stays). */
int fb_engine_reload(fb_engine *e, const fb_config *cfg, int64_t now_ms,
                     char *summary, size_t len);

#endif
