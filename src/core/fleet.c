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
