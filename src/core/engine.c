/* The engine: turns probe outcomes and operator commands into breaker
 * transitions, health changes and gate changes, and reports each one as
 * an event in the order it happened. */
#include <stdio.h>
#include <string.h>

#include "core/engine_impl.h"
#include "fusebox/engine.h"
#include "fusebox/sanitize.h"

#define RECENT_SAMPLES 5 /* median of these decides "slow" */

static void emit(fb_engine *e, fb_event ev)
{
	if (e->emit)
		e->emit(e->emit_ctx, &ev);
}

static fb_event blank_event(fb_event_kind kind, int64_t now_ms)
{
	return (fb_event){.kind = kind,
	                  .at_ms = now_ms,
	                  .failures = -1,
	                  .retry_after_ms = -1,
	                  .from_seq = -1};
}

static const char *decision_name(bool blocked)
{
	return blocked ? "blocked" : "allowed";
}

/* Re-evaluates the gate and reports a change of decision or mode. */
static void update_gate(fb_engine *e, int64_t now_ms)
{
	fb_gate_decision d;
	fb_gate_decide(&e->gate, &e->reg, now_ms, &d);
	e->system = fb_system_health(&e->reg);
	if (d.blocked == e->decision.blocked && d.mode == e->decision.mode) {
		e->decision = d;
		return;
	}
	fb_event ev = blank_event(FB_EV_GATE, now_ms);
	ev.from = decision_name(e->decision.blocked);
	ev.to = decision_name(d.blocked);
	ev.mode = fb_gate_mode_name(d.mode);
	ev.reason = d.reason;
	ev.retry_after_ms = d.retry_after_ms;
	e->decision = d;
	emit(e, ev);
}

/* ---- shadow breakers: fed what the real one is fed, moving nothing --- */

/* Gives each dependency with shadow.KEY settings its shadow breaker.
 * Returns 0, or -1 when out of memory. */
static int make_shadows(fb_engine *e, fb_registry *reg, int64_t now_ms)
{
	fb_rng rng = {fb_rng_xorshift, &e->shadow_rng_state};
	for (size_t i = 0; i < reg->count; i++) {
		fb_breaker_config bc;
		fb_dep *d = &reg->deps[i];
		if (d->shadow || !fb_dep_shadow_config(&d->cfg, &bc))
			continue;
		d->shadow = fb_breaker_new(&bc, rng, now_ms);
		if (!d->shadow)
			return -1;
	}
	return 0;
}

/* A would-be transition of d's shadow, as a `shadow` event. */
static void shadow_moved(fb_engine *e, fb_dep *d, const fb_transition *tr,
                         int64_t now_ms)
{
	if (!tr->changed)
		return;
	fb_event ev = blank_event(FB_EV_SHADOW, now_ms);
	ev.dep = d->cfg.name;
	ev.from = fb_state_name(tr->from);
	ev.to = fb_state_name(tr->to);
	ev.reason = tr->reason;
	ev.failures = tr->failures;
	ev.retry_after_ms = tr->retry_after_ms;
	emit(e, ev);
}

/* The outcome the real breaker got, for the shadow: only a call it would
 * have let through counts (a reported one asks it now). */
static void shadow_outcome(fb_engine *e, fb_dep *d, int64_t now_ms, bool ok,
                           int64_t latency_us)
{
	fb_transition tr;
	bool permit = d->shadow_permit;
	d->shadow_permit = false;
	if (!d->shadow)
		return;
	if (d->probe_began_ms < 0) {
		permit = fb_breaker_allow(d->shadow, now_ms, NULL, &tr);
		shadow_moved(e, d, &tr, now_ms);
	}
	if (!permit)
		return;
	if (ok)
		fb_breaker_success(d->shadow, now_ms, latency_us / 1000, &tr);
	else
		fb_breaker_failure(d->shadow, now_ms, &tr);
	shadow_moved(e, d, &tr, now_ms);
}

static fb_health derive(const fb_dep *d)
{
	fb_breaker_snapshot snap;
	fb_breaker_snapshot_get(d->breaker, &snap);
	fb_latency lat = fb_history_latency(&d->history, RECENT_SAMPLES);
	return fb_health_derive(&snap, lat.p50, d->cfg.t[FB_T_SLOW_CALL]);
}

/* Why health moved when the breaker did not. */
/* Did the newest outcome, probe or reported call, succeed? */
static bool last_ok(const fb_dep *d)
{
	const fb_sample *s =
	    d->history.len ? fb_history_at(&d->history, 0) : NULL;
	if (d->calls.total && (!s || d->calls.last_ms >= s->at_ms))
		return d->calls.last_ok;
	return s && s->ok;
}

static const char *health_reason(const fb_dep *d, fb_health to)
{
	bool ok = last_ok(d);
	if (d->health == FB_HEALTH_UNKNOWN)
		return to == FB_HEALTH_HEALTHY ? "first success since start"
		       : ok                    ? "slow from the first response"
		                               : "first failure since start";
	if (to < d->health)
		return "recovered";
	return ok ? "slow responses" : "recent failures";
}

/* Reports a breaker transition (if any), then the health and gate changes
 * that follow from it. `why` overrides the breaker's own reason. */
static void after(fb_engine *e, fb_dep *d, const fb_transition *tr,
                  int64_t now_ms, const char *why)
{
	fb_health h = derive(d);
	const char *reason = why ? why : tr->reason;
	if (tr->changed) {
		fb_event ev = blank_event(FB_EV_TRANSITION, now_ms);
		ev.dep = d->cfg.name;
		ev.from = fb_state_name(tr->from);
		ev.to = fb_state_name(tr->to);
		ev.health = fb_health_name(h);
		ev.reason = reason;
		ev.failures = tr->failures;
		ev.retry_after_ms = tr->retry_after_ms;
		ev.error = d->last_error;
		emit(e, ev);
	}
	/* a critical dependency's outcome can move the gate with no change
	 * of state or health: its first success, or its failures reaching
	 * what would open it during startup_grace */
	if (!tr->changed && h == d->health && !d->cfg.critical)
		return; /* nothing the gate depends on moved */
	if (h != d->health) {
		fb_event ev = blank_event(FB_EV_HEALTH, now_ms);
		ev.dep = d->cfg.name;
		ev.from = fb_health_name(d->health);
		ev.to = fb_health_name(h);
		ev.reason = tr->changed ? reason : health_reason(d, h);
		d->health = h;
		emit(e, ev);
	}
	update_gate(e, now_ms);
}

/* Holds each breaker closed for its startup_grace after the start. A
 * grace that a reload cut short ends at the next tick; one that was over
 * before stays over. */
static void apply_grace(fb_engine *e, int64_t now_ms)
{
	e->grace_pending = false;
	for (size_t i = 0; i < e->reg.count; i++) {
		fb_dep *d = &e->reg.deps[i];
		int64_t grace = d->cfg.t[FB_T_STARTUP_GRACE];
		int64_t until = grace > 0 ? e->started_ms + grace : 0;
		if (until <= now_ms)
			until = d->grace_until_ms ? now_ms : 0;
		d->grace_until_ms = until;
		fb_breaker_hold(d->breaker, until);
		if (d->shadow)
			fb_breaker_hold(d->shadow, until);
		e->grace_pending = e->grace_pending || until != 0;
	}
}

/* A grace that is over: the breaker opens now if its failures say so. */
static void end_grace(fb_engine *e, int64_t now_ms)
{
	e->grace_pending = false;
	for (size_t i = 0; i < e->reg.count; i++) {
		fb_dep *d = &e->reg.deps[i];
		if (!d->grace_until_ms)
			continue;
		if (now_ms < d->grace_until_ms) {
			e->grace_pending = true;
			continue;
		}
		d->grace_until_ms = 0;
		fb_transition tr;
		char why[160];
		if (d->shadow) {
			fb_breaker_recheck(d->shadow, now_ms, &tr);
			shadow_moved(e, d, &tr, now_ms);
		}
		fb_breaker_recheck(d->breaker, now_ms, &tr);
		if (!tr.changed)
			continue;
		snprintf(why, sizeof why, "%s; startup_grace ended", tr.reason);
		after(e, d, &tr, now_ms, why);
	}
}

int fb_engine_init(fb_engine *e, const fb_config *cfg, uint64_t seed,
                   int64_t now_ms, fb_event_fn fn, void *ctx)
{
	memset(e, 0, sizeof *e);
	e->rng_state = seed ? seed : 0x9E3779B97F4A7C15ULL;
	e->shadow_rng_state = e->rng_state ^ 0xD1B54A32D192ED03ULL;
	e->emit = fn;
	e->emit_ctx = ctx;
	fb_gate_init(&e->gate, cfg->gate_override_ttl_ms);
	fb_rng rng = {fb_rng_xorshift, &e->rng_state};
	if (fb_registry_init(&e->reg, cfg, rng, now_ms) != 0)
		return -1;
	if (make_shadows(e, &e->reg, now_ms) != 0) {
		fb_registry_free(&e->reg);
		return -1;
	}
	e->started_ms = now_ms;
	e->outsum_next_ms = -1;
	apply_grace(e, now_ms);
	fb_gate_decide(&e->gate, &e->reg, now_ms, &e->decision);
	e->system = fb_system_health(&e->reg);
	return 0;
}

void fb_engine_free(fb_engine *e)
{
	fb_registry_free(&e->reg);
}

bool fb_engine_probe_begin(fb_engine *e, fb_dep *d, int64_t now_ms,
                           int64_t *retry_after_ms)
{
	fb_transition tr;
	bool ok = fb_breaker_allow(d->breaker, now_ms, retry_after_ms, &tr);
	if (tr.changed)
		after(e, d, &tr, now_ms, NULL);
	if (ok) {
		d->probes++;
		d->probe_began_ms = now_ms;
	}
	if (ok && d->shadow) {
		d->shadow_permit =
		    fb_breaker_allow(d->shadow, now_ms, NULL, &tr);
		shadow_moved(e, d, &tr, now_ms);
	}
	return ok;
}

/* Writes d's outcome window, if it holds something worth writing. */
static void write_outcomes(fb_engine *e, fb_dep *d, int64_t now_ms)
{
	fb_outsum w;
	if (!fb_outsum_close(&d->outsum, &w))
		return;
	fb_event ev = blank_event(FB_EV_OUTCOMES, now_ms);
	ev.dep = d->cfg.name;
	ev.outcomes = &w;
	emit(e, ev);
}

/* Every outcome, probed or reported, is summarised here (SPEC 6). */
static void note_outcome(fb_engine *e, fb_dep *d, int64_t now_ms, bool ok,
                         int64_t latency_us)
{
	int64_t interval = d->cfg.t[FB_T_INTERVAL];
	if (fb_outsum_due(&d->outsum, now_ms, interval))
		write_outcomes(e, d, now_ms);
	fb_state s = fb_breaker_state(d->breaker);
	int64_t began = d->probe_began_ms >= 0 ? d->probe_began_ms
	                                       : now_ms - latency_us / 1000;
	fb_out_result r = !ok ? FB_OUT_FAIL
	                  : latency_us / 1000 > d->cfg.t[FB_T_SLOW_CALL]
	                      ? FB_OUT_SLOW
	                      : FB_OUT_OK;
	bool was_open = d->outsum.open;
	fb_outsum_add(&d->outsum, began, now_ms, r,
	              s == FB_STATE_HALF_OPEN || s == FB_STATE_OPEN);
	if (!was_open &&
	    (e->outsum_next_ms < 0 || now_ms + interval < e->outsum_next_ms))
		e->outsum_next_ms = now_ms + interval;
}

void fb_engine_flush_outcomes(fb_engine *e, int64_t now_ms, bool all)
{
	if (!all && (e->outsum_next_ms < 0 || now_ms < e->outsum_next_ms))
		return;
	e->outsum_next_ms = -1;
	for (size_t i = 0; i < e->reg.count; i++) {
		fb_dep *d = &e->reg.deps[i];
		int64_t interval = d->cfg.t[FB_T_INTERVAL];
		if (all || fb_outsum_due(&d->outsum, now_ms, interval))
			write_outcomes(e, d, now_ms);
		int64_t due = d->outsum.start_ms + interval;
		if (d->outsum.open &&
		    (e->outsum_next_ms < 0 || due < e->outsum_next_ms))
			e->outsum_next_ms = due;
	}
}

void fb_engine_note_call(fb_engine *e, fb_dep *d, int64_t now_ms, bool ok,
                         int64_t latency_us)
{
	/* not the probe that may be in flight: the call's own begin time,
	 * and the shadow asked for this call alone */
	int64_t began = d->probe_began_ms;
	bool permit = d->shadow_permit;
	d->probe_began_ms = -1;
	d->shadow_permit = false;
	note_outcome(e, d, now_ms, ok, latency_us);
	shadow_outcome(e, d, now_ms, ok, latency_us);
	d->probe_began_ms = began;
	d->shadow_permit = permit;
}

void fb_engine_probe_end(fb_engine *e, fb_dep *d, int64_t now_ms, bool ok,
                         int64_t latency_us, const char *error)
{
	fb_transition tr;
	note_outcome(e, d, now_ms, ok, latency_us);
	shadow_outcome(e, d, now_ms, ok, latency_us);
	d->probe_began_ms = -1;
	fb_history_add(&d->history, now_ms, latency_us, ok);
	if (ok) {
		fb_breaker_success(d->breaker, now_ms, latency_us / 1000, &tr);
	} else {
		const char *text = error && error[0] ? error : "probe failed";
		fb_sanitize(d->last_error, sizeof d->last_error, text,
		            strlen(text));
		d->last_error_ms = now_ms;
		fb_breaker_failure(d->breaker, now_ms, &tr);
	}
	after(e, d, &tr, now_ms, NULL);
}

/* For calls.c: what a breaker move of d means for health and the gate. */
void fb_engine_settle(fb_engine *e, fb_dep *d, const fb_transition *tr,
                      int64_t now_ms)
{
	after(e, d, tr, now_ms, NULL);
}

void fb_engine_probe_abandon(fb_engine *e, fb_dep *d)
{
	(void)e;
	d->probe_began_ms = -1;
	fb_breaker_release(d->breaker);
	if (d->shadow && d->shadow_permit)
		fb_breaker_release(d->shadow);
	d->shadow_permit = false;
}

static void operator_event(fb_engine *e, fb_action action, const char *dep,
                           int64_t now_ms, const char *actor,
                           const char *reason)
{
	fb_event ev = blank_event(FB_EV_OPERATOR, now_ms);
	ev.action = action;
	ev.dep = dep;
	ev.actor = actor;
	ev.reason = reason ? reason : "";
	emit(e, ev);
}

static int operate_dep(fb_engine *e, fb_action action, fb_dep *d,
                       int64_t now_ms, const char *actor, const char *reason)
{
	static const char *const verbs[FB_ACT_COUNT] = {
	    [FB_ACT_TRIP] = "tripped",
	    [FB_ACT_RESET] = "reset",
	    [FB_ACT_DISABLE] = "disabled"};
	fb_transition tr;
	char why[256];
	operator_event(e, action, d->cfg.name, now_ms, actor, reason);
	if (action == FB_ACT_TRIP)
		fb_breaker_force_open(d->breaker, now_ms, &tr);
	else if (action == FB_ACT_DISABLE)
		fb_breaker_force_closed(d->breaker, now_ms, &tr);
	else
		fb_breaker_reset(d->breaker, now_ms, &tr);
	snprintf(why, sizeof why, "%s by %s%s%s", verbs[action], actor,
	         reason && reason[0] ? ": " : "", reason ? reason : "");
	after(e, d, &tr, now_ms, why);
	return 0;
}

int fb_engine_operate(fb_engine *e, fb_action action, const char *dep,
                      int64_t now_ms, const char *actor, const char *reason,
                      fb_error *err)
{
	static const fb_gate_mode modes[FB_ACT_COUNT] = {
	    [FB_ACT_GATE_BLOCK] = FB_GATE_BLOCK,
	    [FB_ACT_GATE_ALLOW] = FB_GATE_ALLOW,
	    [FB_ACT_GATE_AUTO] = FB_GATE_AUTO};
	switch (action) {
	case FB_ACT_TRIP:
	case FB_ACT_RESET:
	case FB_ACT_DISABLE: {
		fb_dep *d = dep ? fb_registry_find(&e->reg, dep) : NULL;
		if (!d) {
			snprintf(err->text, sizeof err->text,
			         "unknown dependency '%s'", dep ? dep : "");
			return -1;
		}
		return operate_dep(e, action, d, now_ms, actor, reason);
	}
	case FB_ACT_GATE_BLOCK:
	case FB_ACT_GATE_ALLOW:
	case FB_ACT_GATE_AUTO:
		operator_event(e, action, NULL, now_ms, actor, reason);
		fb_gate_set(&e->gate, modes[action], now_ms, actor, reason);
		update_gate(e, now_ms);
		return 0;
	default:
		snprintf(err->text, sizeof err->text, "unknown action");
		return -1;
	}
}

void fb_engine_tick(fb_engine *e, int64_t now_ms)
{
	if (e->grace_pending)
		end_grace(e, now_ms);
	fb_engine_calls_expire(e, now_ms);
	fb_engine_flush_outcomes(e, now_ms, false);
	/* The decision only moves with transitions, health and mode, which
	 * update the gate themselves; time alone ends an override or a
	 * grace. */
	if (!fb_gate_expire(&e->gate, now_ms))
		return;
	operator_event(e, FB_ACT_GATE_AUTO, NULL, now_ms, "fusebox",
	               "allow override expired");
	update_gate(e, now_ms);
}

void fb_engine_gate(const fb_engine *e, int64_t now_ms, fb_gate_decision *out)
{
	fb_gate_decide(&e->gate, &e->reg, now_ms, out);
}

/* Carries one dependency's live state from the old registry to the new. */
static void carry_over(fb_dep *to, fb_dep *from)
{
	fb_breaker_config bc;
	fb_dep_breaker_config(&to->cfg, &bc);
	fb_breaker_free(to->breaker);
	to->breaker = from->breaker;
	from->breaker = NULL;
	fb_breaker_configure(to->breaker, &bc);
	to->health = from->health;
	to->history = from->history;
	to->probes = from->probes;
	to->probe_began_ms = from->probe_began_ms;
	to->grace_until_ms = from->grace_until_ms;
	to->last_error_ms = from->last_error_ms;
	to->calls = from->calls;
	memcpy(to->last_error, from->last_error, sizeof to->last_error);
	to->outsum = from->outsum;
	fb_breaker_config sc;
	if (from->shadow && to->shadow &&
	    fb_dep_shadow_config(&to->cfg, &sc)) { /* keeps its state */
		fb_breaker_free(to->shadow);
		to->shadow = from->shadow;
		from->shadow = NULL;
		fb_breaker_configure(to->shadow, &sc);
		to->shadow_permit = from->shadow_permit;
	}
}

static void list_name(char *buf, size_t len, const char *label,
                      const char *name, int *count)
{
	size_t used = strlen(buf);
	if (used >= len)
		return;
	snprintf(buf + used, len - used, "%s%s%s", *count ? ", " : label,
	         *count ? "" : " ", name);
	(*count)++;
}

int fb_engine_reload(fb_engine *e, const fb_config *cfg, int64_t now_ms,
                     char *summary, size_t len)
{
	fb_registry next;
	fb_rng rng = {fb_rng_xorshift, &e->rng_state};
	if (fb_registry_init(&next, cfg, rng, now_ms) != 0)
		return -1;
	if (make_shadows(e, &next, now_ms) != 0) {
		fb_registry_free(&next);
		return -1;
	}
	char added[512] = "", removed[512] = "";
	int nadd = 0, nrem = 0;
	for (size_t i = 0; i < next.count; i++) {
		fb_dep *old = fb_registry_find(&e->reg, next.deps[i].cfg.name);
		if (old)
			carry_over(&next.deps[i], old);
		else
			list_name(added, sizeof added, "added",
			          next.deps[i].cfg.name, &nadd);
	}
	for (size_t i = 0; i < e->reg.count; i++) {
		if (e->reg.deps[i].breaker)
			list_name(removed, sizeof removed, "removed",
			          e->reg.deps[i].cfg.name, &nrem);
	}
	fb_registry_free(&e->reg);
	e->reg = next;
	e->gate.ttl_ms = cfg->gate_override_ttl_ms;
	apply_grace(e, now_ms);
	snprintf(summary, len, "%zu dependenc%s%s%s%s%s", next.count,
	         next.count == 1 ? "y" : "ies", nadd ? "; " : "", added,
	         nrem ? "; " : "", removed);
	update_gate(e, now_ms);
	return 0;
}

int fb_engine_restore_open(fb_engine *e, const char *dep, int64_t now_ms,
                           int64_t wait_ms, uint32_t failed_trials,
                           const char *why, fb_error *err)
{
	fb_dep *d = dep ? fb_registry_find(&e->reg, dep) : NULL;
	fb_transition tr;
	if (!d) {
		snprintf(err->text, sizeof err->text, "unknown dependency '%s'",
		         dep ? dep : "");
		return -1;
	}
	fb_breaker_restore_open(d->breaker, now_ms, wait_ms, failed_trials,
	                        &tr);
	if (!tr.changed) {
		snprintf(err->text, sizeof err->text, "%s is %s, not closed",
		         d->cfg.name,
		         fb_state_name(fb_breaker_state(d->breaker)));
		return -1;
	}
	after(e, d, &tr, now_ms, why);
	return 0;
}

void fb_engine_restore_allow(fb_engine *e, int64_t now_ms, int64_t left_ms,
                             const char *actor, const char *reason)
{
	operator_event(e, FB_ACT_GATE_ALLOW, NULL, now_ms, actor, reason);
	fb_gate_set(&e->gate, FB_GATE_ALLOW, now_ms, actor, reason);
	e->gate.override_until_ms = now_ms + (left_ms > 0 ? left_ms : 0);
	update_gate(e, now_ms);
}

/* ---- what the fleet decided (SPEC 8) ------------------------------------ */

int fb_engine_fleet_open(fb_engine *e, const char *dep, int64_t now_ms,
                         int64_t wait_ms, uint32_t failed_trials,
                         const char *why, fb_error *err)
{
	fb_dep *d = dep ? fb_registry_find(&e->reg, dep) : NULL;
	fb_transition tr, ignored;
	if (!d) {
		snprintf(err->text, sizeof err->text, "unknown dependency '%s'",
		         dep ? dep : "");
		return -1;
	}
	fb_state was = fb_breaker_state(d->breaker);
	if (was == FB_STATE_FORCED_OPEN || was == FB_STATE_FORCED_CLOSED)
		return 0; /* an operator's word stands over the fleet's */
	if (was != FB_STATE_CLOSED)
		fb_breaker_reset(d->breaker, now_ms, &ignored);
	fb_breaker_restore_open(d->breaker, now_ms, wait_ms, failed_trials,
	                        &tr);
	tr.from = was;
	tr.changed = was != FB_STATE_OPEN;
	after(e, d, &tr, now_ms, why);
	return 0;
}

int fb_engine_fleet_close(fb_engine *e, const char *dep, int64_t now_ms,
                          const char *why, fb_error *err)
{
	fb_dep *d = dep ? fb_registry_find(&e->reg, dep) : NULL;
	fb_transition tr;
	if (!d) {
		snprintf(err->text, sizeof err->text, "unknown dependency '%s'",
		         dep ? dep : "");
		return -1;
	}
	fb_state was = fb_breaker_state(d->breaker);
	if (was != FB_STATE_OPEN && was != FB_STATE_HALF_OPEN)
		return 0;
	fb_breaker_reset(d->breaker, now_ms, &tr);
	after(e, d, &tr, now_ms, why);
	return 0;
}
