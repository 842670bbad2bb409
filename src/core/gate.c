/* The gate: may a destructive operation go ahead now? (SPEC section 3) */
#include <stdio.h>
#include <string.h>

#include "fusebox/gate.h"
#include "fusebox/sanitize.h"

#define X_NAME(id, name, help) name,
static const char *const mode_names[] = {FB_GATE_MODE_TABLE(X_NAME)};
#undef X_NAME

const char *fb_gate_mode_name(fb_gate_mode m)
{
	return (unsigned)m < FB_GATE_MODE_COUNT ? mode_names[m] : "?";
}

bool fb_gate_mode_parse(const char *name, fb_gate_mode *out)
{
	for (int i = 0; i < FB_GATE_MODE_COUNT; i++) {
		if (strcmp(mode_names[i], name) == 0) {
			*out = (fb_gate_mode)i;
			return true;
		}
	}
	return false;
}

void fb_gate_init(fb_gate *g, int64_t ttl_ms)
{
	memset(g, 0, sizeof *g);
	g->mode = FB_GATE_AUTO;
	g->ttl_ms = ttl_ms;
}

void fb_gate_set(fb_gate *g, fb_gate_mode mode, int64_t now_ms,
                 const char *actor, const char *reason)
{
	g->mode = mode;
	g->override_until_ms = mode == FB_GATE_ALLOW ? now_ms + g->ttl_ms : 0;
	/* cut to fit at a character boundary, never inside one: these go to
	 * the event log and the socket, which must stay valid UTF-8 */
	fb_sanitize(g->reason, sizeof g->reason, reason ? reason : "",
	            reason ? strlen(reason) : 0);
	fb_sanitize(g->actor, sizeof g->actor, actor ? actor : "",
	            actor ? strlen(actor) : 0);
}

bool fb_gate_expire(fb_gate *g, int64_t now_ms)
{
	if (g->mode != FB_GATE_ALLOW || now_ms < g->override_until_ms)
		return false;
	fb_gate_set(g, FB_GATE_AUTO, now_ms, NULL, NULL);
	return true;
}

void fb_format_wait(int64_t ms, char *buf, size_t len)
{
	int64_t s = (ms + 999) / 1000; /* round up: never promise too early */
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm %02llds", (long long)(s / 60),
		         (long long)(s % 60));
	else {
		int64_t m = (s + 59) / 60; /* whole minutes, rounded up too */
		snprintf(buf, len, "%lldh %02lldm", (long long)(m / 60),
		         (long long)(m % 60));
	}
}

/* Appends to out->reason; silently truncates. */
static void say(fb_gate_decision *out, const char *text)
{
	size_t used = strlen(out->reason);
	snprintf(out->reason + used, sizeof out->reason - used, "%s", text);
}

static void decide_auto(const fb_registry *reg, int64_t now_ms,
                        fb_gate_decision *out)
{
	char part[160];
	int named = 0;
	for (size_t i = 0; i < reg->count; i++) {
		const fb_dep *d = &reg->deps[i];
		if (!d->cfg.critical)
			continue;
		fb_breaker_snapshot snap;
		fb_breaker_snapshot_get(d->breaker, &snap);
		/* a half-open trial has not proven recovery yet: still blocked */
		if (d->health != FB_HEALTH_UNHEALTHY &&
		    snap.state != FB_STATE_HALF_OPEN)
			continue;
		if (snap.state == FB_STATE_OPEN &&
		    snap.open_until_ms - now_ms > out->retry_after_ms)
			out->retry_after_ms = snap.open_until_ms - now_ms;
		snprintf(part, sizeof part, "%s%s is %s", named ? ", " : "",
		         d->cfg.name, fb_state_name(snap.state));
		if (named == 0)
			say(out, "System unhealthy: ");
		if (named < 3)
			say(out, part);
		named++;
		out->blocked = true;
	}
	if (named > 3) {
		snprintf(part, sizeof part, " and %d more", named - 3);
		say(out, part);
	}
	if (out->retry_after_ms > 0) {
		char wait[32];
		fb_format_wait(out->retry_after_ms, wait, sizeof wait);
		snprintf(part, sizeof part, "; retry in %s", wait);
		say(out, part);
	}
	if (!out->blocked)
		say(out, "All critical dependencies healthy");
}

void fb_gate_decide(const fb_gate *g, const fb_registry *reg, int64_t now_ms,
                    fb_gate_decision *out)
{
	memset(out, 0, sizeof *out);
	out->mode = g->mode;
	char wait[32];
	switch (g->mode) {
	case FB_GATE_BLOCK:
		out->blocked = true;
		snprintf(out->reason, sizeof out->reason,
		         "Gate locked by %s%s%s",
		         g->actor[0] ? g->actor : "an operator",
		         g->reason[0] ? ": " : "", g->reason);
		break;
	case FB_GATE_ALLOW:
		out->override_left_ms = g->override_until_ms - now_ms;
		fb_format_wait(out->override_left_ms, wait, sizeof wait);
		snprintf(out->reason, sizeof out->reason,
		         "Gate overridden by %s%s%s; back to auto in %s",
		         g->actor[0] ? g->actor : "an operator",
		         g->reason[0] ? ": " : "", g->reason, wait);
		break;
	default: decide_auto(reg, now_ms, out); break;
	}
}
