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

/* The first three phrases of one kind, and how many there were. */
typedef struct phrases {
	char text[3][FB_NAME_MAX + 256]; /* name, what and why: never cut */
	int n;
} phrases;

static void add(phrases *p, const char *name, const char *what, const char *why)
{
	if (p->n < 3)
		snprintf(p->text[p->n], sizeof p->text[0], "%s%s%s%s%s", name,
		         what, why[0] ? " (" : "", why, why[0] ? ")" : "");
	p->n++;
}

/* "<head>a, b, c and 2 more": nothing when the list is empty. */
static void say_list(fb_gate_decision *out, const char *head, const phrases *p)
{
	char more[32];
	if (p->n == 0)
		return;
	say(out, head);
	for (int i = 0; i < p->n && i < 3; i++) {
		if (i)
			say(out, ", ");
		say(out, p->text[i]);
	}
	if (p->n > 3) {
		snprintf(more, sizeof more, " and %d more", p->n - 3);
		say(out, more);
	}
}

static void wait_at_least(fb_gate_decision *out, int64_t ms)
{
	if (ms > out->retry_after_ms)
		out->retry_after_ms = ms;
}

/* What a critical dependency says about the gate, sorted into the lists. */
typedef struct verdict {
	phrases down;     /* open, forced open, half-open, or held closed */
	phrases waiting;  /* unknown: no outcome yet */
	phrases no_ok;    /* failures only since the start */
	phrases degraded; /* answering, with trouble: does not block */
	int critical;
} verdict;

/* A probe in flight tells when there will be news: when it times out. */
static void wait_for_probe(const fb_dep *d, int64_t now_ms,
                           fb_gate_decision *out)
{
	if (d->probe_began_ms >= 0)
		wait_at_least(out, d->probe_began_ms + d->cfg.t[FB_T_TIMEOUT] -
		                       now_ms);
}

static void judge(const fb_dep *d, int64_t now_ms, verdict *v,
                  fb_gate_decision *out)
{
	fb_breaker_snapshot s;
	fb_breaker_snapshot_get(d->breaker, &s);
	const char *name = d->cfg.name;
	char what[120];
	v->critical++;
	switch (s.state) {
	case FB_STATE_OPEN:
		wait_at_least(out, s.open_until_ms - now_ms);
		/* fall through */
	case FB_STATE_FORCED_OPEN:
	case FB_STATE_HALF_OPEN: /* a trial has not proven recovery yet */
		snprintf(what, sizeof what, " is %s", fb_state_name(s.state));
		add(&v->down, name, what, "");
		return;
	default: break;
	}
	if (s.would_open[0]) { /* only a hold keeps it closed */
		bool held = now_ms < s.hold_until_ms;
		if (held)
			wait_at_least(out, s.hold_until_ms - now_ms);
		add(&v->down, name,
		    held ? " held closed by startup_grace" : " is failing",
		    s.would_open);
	} else if (d->health == FB_HEALTH_UNKNOWN) {
		wait_for_probe(d, now_ms, out);
		add(&v->waiting, name, "", "");
	} else if (s.last_success_ms < 0) {
		wait_for_probe(d, now_ms, out);
		add(&v->no_ok, name, "", "");
	} else if (d->health == FB_HEALTH_DEGRADED) {
		bool failing = s.consecutive_failures || s.window_failures;
		snprintf(what, sizeof what, "%s%s",
		         failing ? "recent failures" : "slow responses",
		         s.state == FB_STATE_FORCED_CLOSED
		             ? "; breaker disabled"
		             : "");
		add(&v->degraded, name, " degraded", what);
	}
}

static void decide_auto(const fb_registry *reg, int64_t now_ms,
                        fb_gate_decision *out)
{
	verdict v;
	memset(&v, 0, sizeof v);
	for (size_t i = 0; i < reg->count; i++) {
		if (reg->deps[i].cfg.critical)
			judge(&reg->deps[i], now_ms, &v, out);
	}
	out->blocked = v.down.n || v.waiting.n || v.no_ok.n;
	if (!out->blocked) {
		out->retry_after_ms = 0;
		if (v.critical == 0)
			say(out, "Allowed: no dependency is critical");
		else if (v.degraded.n == 0)
			say(out, "All critical dependencies healthy");
		else {
			say_list(out, "Allowed: ", &v.degraded);
			say(out, "; no critical dependency is down");
		}
		return;
	}
	say_list(out, "System unhealthy: ", &v.down);
	say_list(out,
	         v.down.n ? "; waiting for the first probe of "
	                  : "Starting: waiting for the first probe of ",
	         &v.waiting);
	say_list(out,
	         v.down.n || v.waiting.n ? "; no success yet from "
	                                 : "Starting: no success yet from ",
	         &v.no_ok);
	if (out->retry_after_ms > 0) {
		char wait[32], part[48];
		fb_format_wait(out->retry_after_ms, wait, sizeof wait);
		snprintf(part, sizeof part, "; retry in %s", wait);
		say(out, part);
	}
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
