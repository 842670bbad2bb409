/* The fleet gate and view look-ups. */
#include <stdio.h>
#include <string.h>

#include "core/fleet.h"

const fb_fleet_inst *fb_fleet_find_inst(const fb_fleet_view *v, const char *id)
{
	for (size_t i = 0; i < v->ninst; i++)
		if (strcmp(v->inst[i].id, id) == 0)
			return &v->inst[i];
	return NULL;
}

const fb_fleet_dep *fb_fleet_find_dep(const fb_fleet_view *v, const char *name)
{
	for (size_t i = 0; i < v->ndeps; i++)
		if (strcmp(v->deps[i].name, name) == 0)
			return &v->deps[i];
	return NULL;
}

static const fb_fleet_seen *find_seen(const fb_fleet_inst *in, const char *name)
{
	for (size_t i = 0; i < in->ndeps; i++)
		if (strcmp(in->deps[i].name, name) == 0)
			return &in->deps[i];
	return NULL;
}

static void age_text(char *buf, size_t len, int64_t ms)
{
	if (ms < 10000)
		snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
	else
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
}

/* Why instance `in` blocks dependency d, or false when it does not. */
static bool inst_blocks(const fb_fleet_inst *in, const fb_dep *d, char *out,
                        size_t len)
{
	const fb_fleet_seen *s = find_seen(in, d->cfg.name);
	const char *host = in->host[0] ? in->host : in->id;
	if (!s) {
		snprintf(out, len, "%s does not watch %s", host, d->cfg.name);
		return true;
	}
	if (s->state != FB_STATE_CLOSED && s->state != FB_STATE_FORCED_CLOSED) {
		snprintf(out, len, "%s sees %s %s", host, d->cfg.name,
		         fb_state_name(s->state));
		return true;
	}
	if (s->health == FB_HEALTH_UNKNOWN) {
		snprintf(out, len, "%s has not probed %s yet", host,
		         d->cfg.name);
		return true;
	}
	return false;
}

void fb_fleet_gate_decide(const fb_fleet_view *view, int64_t age_ms,
                          int64_t stale_after_ms, const fb_registry *reg,
                          const char *why_none, fb_fleet_decision *out)
{
	char age[32];
	out->blocked = true;
	if (!view) {
		snprintf(out->reason, sizeof out->reason,
		         "no fleet view yet%s%s%s",
		         why_none && why_none[0] ? " (" : "",
		         why_none ? why_none : "",
		         why_none && why_none[0] ? ")" : "");
		return;
	}
	if (age_ms > stale_after_ms) {
		age_text(age, sizeof age, age_ms);
		snprintf(out->reason, sizeof out->reason,
		         "fleet view %s old%s%s", age,
		         why_none && why_none[0] ? ": " : "",
		         why_none ? why_none : "");
		return;
	}
	if (strcmp(view->gate.mode, "block") == 0) {
		snprintf(out->reason, sizeof out->reason,
		         "fleet gate locked by %s%s%s",
		         view->gate.actor[0] ? view->gate.actor : "an operator",
		         view->gate.reason[0] ? ": " : "", view->gate.reason);
		return;
	}
	if (view->ninst == 0) {
		snprintf(out->reason, sizeof out->reason,
		         "no live instance in the fleet view");
		return;
	}
	for (size_t i = 0; i < view->ninst; i++) {
		for (size_t k = 0; k < reg->count; k++) {
			const fb_dep *d = &reg->deps[k];
			if (d->cfg.critical &&
			    inst_blocks(&view->inst[i], d, out->reason,
			                sizeof out->reason))
				return;
		}
	}
	out->blocked = false;
	snprintf(out->reason, sizeof out->reason,
	         "fleet healthy: %zu instance%s, every critical dependency "
	         "closed",
	         view->ninst, view->ninst == 1 ? "" : "s");
}

static bool is_live(const fb_fleet_view *v, const char *id, const char **host)
{
	const fb_fleet_inst *in = fb_fleet_find_inst(v, id);
	if (in)
		*host = in->host[0] ? in->host : in->id;
	return in != NULL;
}

bool fb_fleet_quorum(const fb_fleet_view *v, const char *dep, int quorum,
                     char *reason, size_t len, int *votes)
{
	const fb_fleet_votes *vt = NULL;
	char hosts[256] = "";
	size_t used = 0;
	int n = 0;
	for (size_t i = 0; i < v->nvotes && !vt; i++)
		if (strcmp(v->votes[i].name, dep) == 0)
			vt = &v->votes[i];
	for (size_t i = 0; vt && i < vt->n; i++) {
		const char *host;
		if (!is_live(v, vt->ids[i], &host))
			continue;
		n++;
		int w = snprintf(hosts + used, sizeof hosts - used, "%s%s",
		                 used ? ", " : "", host);
		if (w > 0 && (size_t)w < sizeof hosts - used)
			used += (size_t)w;
	}
	*votes = n;
	if (n < quorum || n == 0)
		return false;
	snprintf(reason, len, "quorum %d of %zu: %s see%s %s down", n, v->ninst,
	         hosts, n == 1 ? "s" : "", dep);
	return true;
}

bool fb_fleet_trial_free(const fb_fleet_dep *r, int64_t now_ms)
{
	return strcmp(r->state, "open") == 0 && now_ms >= r->open_until_ms &&
	       (!r->trial_owner[0] || now_ms >= r->trial_exp_ms);
}

bool fb_fleet_trial_mine(const fb_fleet_dep *r, const char *me, int64_t token,
                         int64_t now_ms)
{
	return strcmp(r->state, "open") == 0 && r->gen == token &&
	       strcmp(r->trial_owner, me) == 0 && now_ms < r->trial_exp_ms;
}

int64_t fb_fleet_follow_wait(const fb_fleet_dep *r, int64_t now_ms,
                             int64_t margin_ms)
{
	int64_t until = r->trial_owner[0] && r->trial_exp_ms > now_ms
	                    ? r->trial_exp_ms
	                    : r->open_until_ms;
	int64_t wait = until - now_ms;
	return (wait > 0 ? wait : 0) + margin_ms;
}
