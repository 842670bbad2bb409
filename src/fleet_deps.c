/* The fleet's decisions for each dependency (SPEC 8): what operators
 * recorded for the fleet, the quorum open, and the one half-open trial
 * for the whole fleet. The decisions are the core's (core/fleet.c);
 * this file moves them between the view, the engine and Redis. Every
 * change goes through the decide script, conditional on the record's gen
 * (the fencing token), so two instances never both win, and a late
 * result from an old lease changes nothing. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "clock.h"
#include "fleet_impl.h"
#include "fleet_scripts.h"
#include "runtime.h"
#include "stderr_log.h"

#define FOLLOW_MARGIN_MS (2 * FB_FLEET_HEARTBEAT_MS) /* for the result */

static const char *host_of(const fb_fleet *f, const char *id)
{
	const fb_fleet_inst *in = fb_fleet_find_inst(f->view, id);
	if (strcmp(id, f->id) == 0)
		return f->rt->cfg.host;
	return in && in->host[0] ? in->host : id;
}

bool fleet_deps_votes(const fb_fleet *f, size_t i)
{
	const fb_dep *d = &f->rt->engine.reg.deps[i];
	fb_state s = fb_breaker_state(d->breaker);
	return (s == FB_STATE_OPEN || s == FB_STATE_HALF_OPEN) &&
	       !(i < FB_FLEET_DEPS_MAX && f->driven[i]);
}

static void operate(fb_fleet *f, fb_action a, const char *dep,
                    const char *actor, const char *by, const char *reason)
{
	char who[400];
	fb_error err;
	snprintf(who, sizeof who, "%s via the fleet from %s",
	         actor[0] ? actor : "an operator", host_of(f, by));
	if (fb_runtime_operate(f->rt, a, dep, who, reason, &err) != 0)
		fb_stderr_say(LOG_WARNING, "fleet: %s%s%s not applied: %s",
		              fb_action_name(a), dep ? " " : "", dep ? dep : "",
		              err.text);
}

static void on_decided(void *ctx, const redisReply *r)
{
	fb_fleet_decide_ctx *c = ctx;
	fb_fleet *f = c->f;
	f->deciding[c->k] = false;
	if (r && r->type == REDIS_REPLY_ERROR)
		fb_stderr_say(LOG_WARNING, "fleet: %.*s", (int)r->len, r->str);
	f->next_hb_ms = 0; /* see the outcome at once */
}

/* Runs the decide script on dependency k's record: only while its gen
 * is still `gen`. pairs: field, value, ... (n strings). */
static void decide(fb_fleet *f, size_t k, int64_t gen, int64_t open_for_ms,
                   int64_t lease_ms, const char *const *pairs, size_t n)
{
	char key[240], g[24], open[24] = "", lease[24] = "";
	const char *argv[32];
	size_t lens[32];
	const fb_dep *d = &f->rt->engine.reg.deps[k];
	if (f->deciding[k] || n > 24)
		return;
	snprintf(key, sizeof key, "%sdep:%s", f->prefix, d->cfg.name);
	snprintf(g, sizeof g, "%lld", (long long)gen);
	if (open_for_ms >= 0)
		snprintf(open, sizeof open, "%lld", (long long)open_for_ms);
	if (lease_ms >= 0)
		snprintf(lease, sizeof lease, "%lld", (long long)lease_ms);
	size_t m = 0;
	argv[m++] = key;
	argv[m++] = g;
	argv[m++] = open;
	argv[m++] = lease;
	for (size_t i = 0; i < n; i++)
		argv[m++] = pairs[i];
	for (size_t i = 0; i < m; i++)
		lens[i] = strlen(argv[i]);
	f->decide_ctx[k] = (fb_fleet_decide_ctx){f, k};
	if (fb_fleet_conn_eval(f->conn, FB_SCRIPT_DECIDE, 1, (int)m, argv, lens,
	                       on_decided, &f->decide_ctx[k]) == 0)
		f->deciding[k] = true;
}

/* ---- applying a record ---------------------------------------------------- */

/* The record says open: the lease holder tries at once, the others wait
 * for its result. */
static void follow_open(fb_fleet *f, size_t k, const fb_fleet_dep *r, bool news)
{
	fb_runtime *rt = f->rt;
	fb_dep *d = &rt->engine.reg.deps[k];
	int64_t now = fb_now_ms(), at = f->view->redis_ms;
	char why[400];
	fb_error err;
	if (strcmp(r->trial_owner, f->id) == 0 && at < r->trial_exp_ms) {
		if (!news)
			return; /* our trial is under way */
		f->token[k] = r->gen;
		f->probes_at[k] = d->probes;
		snprintf(
		    why, sizeof why,
		    "fleet: this instance runs the fleet's trial (lease %lld)",
		    (long long)r->gen);
		fb_engine_fleet_open(&rt->engine, d->cfg.name, now, 0,
		                     r->trials, why, &err);
		fb_sched_kick(&rt->sched, (uint32_t)k, now);
		f->driven[k] = true;
		return;
	}
	if (strcmp(r->action, "trial") == 0)
		snprintf(why, sizeof why, "fleet: waiting for the trial on %s",
		         host_of(f, r->trial_owner));
	else
		snprintf(why, sizeof why, "fleet: %s", r->reason);
	fb_engine_fleet_open(&rt->engine, d->cfg.name, now,
	                     fb_fleet_follow_wait(r, at, FOLLOW_MARGIN_MS),
	                     r->trials, why, &err);
	f->driven[k] = true;
	f->token[k] = 0;
}

/* A record with a gen this instance has not applied yet. The first view
 * after the start applies only what protects (forced states, opens), so
 * an old reset does not undo what this instance restored. */
static void apply_record(fb_fleet *f, size_t k, const fb_fleet_dep *r)
{
	fb_runtime *rt = f->rt;
	fb_dep *d = &rt->engine.reg.deps[k];
	fb_state want, now_state = fb_breaker_state(d->breaker);
	char why[400];
	fb_error err;
	if (!fb_state_parse(r->state, &want))
		return;
	if (want == FB_STATE_OPEN) {
		follow_open(f, k, r, true);
		return;
	}
	f->driven[k] = false;
	f->token[k] = 0;
	if (want == FB_STATE_CLOSED && strcmp(r->action, "trial_ok") == 0) {
		snprintf(why, sizeof why, "fleet: the trial on %s succeeded",
		         host_of(f, r->by));
		fb_engine_fleet_close(&rt->engine, d->cfg.name, fb_now_ms(),
		                      why, &err);
		return;
	}
	fb_action a = want == FB_STATE_FORCED_OPEN     ? FB_ACT_TRIP
	              : want == FB_STATE_FORCED_CLOSED ? FB_ACT_DISABLE
	                                               : FB_ACT_RESET;
	if (f->applied_once || (a != FB_ACT_RESET && now_state != want))
		operate(f, a, d->cfg.name, r->actor, r->by, r->reason);
}

/* ---- the trial, the quorum ------------------------------------------------ */

/* Our trial ended (the breaker left half-open after a probe): tell the
 * fleet, fenced by the lease's gen. */
static void report_trial(fb_fleet *f, size_t k, const fb_fleet_dep *r)
{
	const fb_dep *d = &f->rt->engine.reg.deps[k];
	fb_state s = fb_breaker_state(d->breaker);
	char reason[300];
	if (d->probes <= f->probes_at[k] || s == FB_STATE_HALF_OPEN)
		return; /* not yet */
	if (s == FB_STATE_CLOSED) {
		snprintf(reason, sizeof reason, "the trial on %.64s succeeded",
		         f->rt->cfg.host);
		const char *p[] = {"state",    "closed", "action",
		                   "trial_ok", "by",     f->id,
		                   "reason",   reason,   "trial_owner",
		                   "",         "trials", "0"};
		decide(f, k, f->token[k], -1, -1, p, 12);
	} else if (s == FB_STATE_OPEN) {
		fb_breaker_config bc;
		char trials[16];
		fb_dep_breaker_config(&d->cfg, &bc);
		int64_t wait = fb_backoff_base(&bc, r->trials + 1);
		snprintf(trials, sizeof trials, "%u", r->trials + 1);
		snprintf(reason, sizeof reason,
		         "the trial on %.64s failed (%.100s); open %llds",
		         f->rt->cfg.host, d->last_error,
		         (long long)(wait / 1000));
		const char *p[] = {
		    "state",       "open", "action", "trial_failed",
		    "by",          f->id,  "reason", reason,
		    "trial_owner", "",     "trials", trials};
		decide(f, k, f->token[k], wait, -1, p, 12);
	}
}

static void take_lease(fb_fleet *f, size_t k, const fb_fleet_dep *r)
{
	const fb_dep *d = &f->rt->engine.reg.deps[k];
	int64_t lease = d->cfg.t[FB_T_TIMEOUT] + 3 * FB_FLEET_HEARTBEAT_MS;
	const char *p[] = {"trial_owner", f->id, "action",
	                   "trial",       "by",  f->id};
	decide(f, k, r->gen, -1, lease, p, 6);
}

static void open_by_quorum(fb_fleet *f, size_t k, const fb_fleet_dep *r,
                           const char *why)
{
	const fb_dep *d = &f->rt->engine.reg.deps[k];
	const char *p[] = {"state",  "open",   "action", "quorum",      "by",
	                   f->id,    "reason", why,      "trial_owner", "",
	                   "trials", "0",      "name",   d->cfg.name};
	decide(f, k, r ? r->gen : 0, d->cfg.t[FB_T_RECOVERY_TIMEOUT], -1, p,
	       14);
}

static void one_dep(fb_fleet *f, size_t k)
{
	fb_dep *d = &f->rt->engine.reg.deps[k];
	const fb_fleet_dep *r = fb_fleet_find_dep(f->view, d->cfg.name);
	int64_t at = f->view->redis_ms;
	char why[300];
	int votes;
	fb_state s = fb_breaker_state(d->breaker);
	if (s == FB_STATE_CLOSED || s == FB_STATE_FORCED_CLOSED ||
	    s == FB_STATE_FORCED_OPEN)
		f->driven[k] = false;
	if (r && r->gen > f->dep_gen[k]) {
		f->dep_gen[k] = r->gen;
		apply_record(f, k, r);
	} else if (r && strcmp(r->state, "open") == 0 &&
	           s != FB_STATE_FORCED_OPEN && s != FB_STATE_FORCED_CLOSED) {
		if (f->token[k] &&
		    fb_fleet_trial_mine(r, f->id, f->token[k], at))
			report_trial(f, k, r);
		else if (fb_fleet_trial_free(r, at))
			take_lease(f, k, r);
		else
			follow_open(f, k, r, false); /* keep waiting */
	}
	bool fleet_open = r && (strcmp(r->state, "open") == 0 ||
	                        strcmp(r->state, "forced_open") == 0);
	if (!fleet_open &&
	    fb_fleet_quorum(f->view, d->cfg.name, f->rt->cfg.redis.quorum, why,
	                    sizeof why, &votes))
		open_by_quorum(f, k, r, why);
}

void fleet_deps_after_view(fb_fleet *f)
{
	fb_registry *reg = &f->rt->engine.reg;
	size_t n =
	    reg->count < FB_FLEET_DEPS_MAX ? reg->count : FB_FLEET_DEPS_MAX;
	for (size_t k = 0; k < n; k++)
		one_dep(f, k);
	const fb_fleet_gate_rec *g = &f->view->gate;
	if (g->gen > f->gate_gen) {
		f->gate_gen = g->gen;
		fb_gate_mode m;
		static const fb_action acts[] = {
		    [FB_GATE_AUTO] = FB_ACT_GATE_AUTO,
		    [FB_GATE_BLOCK] = FB_ACT_GATE_BLOCK,
		    [FB_GATE_ALLOW] = FB_ACT_GATE_ALLOW};
		if (fb_gate_mode_parse(g->mode, &m) &&
		    (f->applied_once || m == FB_GATE_BLOCK))
			operate(f, acts[m], NULL, g->actor, g->by, g->reason);
	}
	f->applied_once = true;
}
