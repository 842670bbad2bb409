/* The status document (SPEC section 7). */
#include <math.h>

#include "eventlog.h"
#include "status.h"

/* Every builder below gives a whole document or nothing: a cJSON add
 * that fails for want of memory makes it return false or NULL, never a
 * document with fields missing. */

/* Adds item to o under key; false (item freed) when either failed. */
bool fb_json_put(cJSON *o, const char *key, cJSON *item)
{
	if (item && o &&
	    (key ? cJSON_AddItemToObject(o, key, item)
	         : cJSON_AddItemToArray(o, item)))
		return true;
	cJSON_Delete(item);
	return false;
}

/* A monotonic instant as an RFC 3339 wall time; null when never. */
static bool add_time(cJSON *o, const char *key, int64_t at_ms, int64_t now_ms,
                     int64_t wall_ms)
{
	char ts[40];
	if (at_ms < 0)
		return cJSON_AddNullToObject(o, key) != NULL;
	fb_format_rfc3339(wall_ms - (now_ms - at_ms), ts, sizeof ts);
	return cJSON_AddStringToObject(o, key, ts) != NULL;
}

static double round1(double v)
{
	return round(v * 10.0) / 10.0;
}

cJSON *fb_gate_json(const fb_gate_decision *d)
{
	cJSON *g = cJSON_CreateObject();
	bool ok =
	    cJSON_AddStringToObject(g, "decision",
	                            d->blocked ? "blocked" : "allowed") &&
	    cJSON_AddStringToObject(g, "mode", fb_gate_mode_name(d->mode)) &&
	    cJSON_AddStringToObject(g, "reason", d->reason) &&
	    cJSON_AddNumberToObject(g, "retry_after_s",
	                            (double)((d->retry_after_ms + 999) / 1000));
	if (ok && d->mode == FB_GATE_ALLOW)
		ok = cJSON_AddNumberToObject(
		    g, "override_expires_in_s",
		    (double)((d->override_left_ms + 999) / 1000));
	if (!ok) {
		cJSON_Delete(g);
		return NULL;
	}
	return g;
}

static bool add_latency(cJSON *o, const fb_dep *d)
{
	fb_latency l = fb_history_latency(&d->history, FB_HISTORY);
	cJSON *lat = cJSON_AddObjectToObject(o, "latency_ms");
	if (l.p50 < 0)
		return cJSON_AddNullToObject(lat, "p50") &&
		       cJSON_AddNullToObject(lat, "p95") &&
		       cJSON_AddNullToObject(lat, "p99");
	return cJSON_AddNumberToObject(lat, "p50", round1(l.p50)) &&
	       cJSON_AddNumberToObject(lat, "p95", round1(l.p95)) &&
	       cJSON_AddNumberToObject(lat, "p99", round1(l.p99));
}

/* What services reported of their own calls (passive health), beside
 * the probes: since the start, and over the last minute. */
static bool add_calls(cJSON *o, const fb_dep *d, int64_t now_ms,
                      int64_t wall_ms)
{
	const fb_call_stats *s = &d->calls;
	fb_call_rate r = fb_call_stats_minute(s, now_ms);
	cJSON *c = cJSON_AddObjectToObject(o, "calls");
	return cJSON_AddNumberToObject(o, "probes", (double)d->probes) && c &&
	       cJSON_AddNumberToObject(c, "total", (double)s->total) &&
	       cJSON_AddNumberToObject(c, "failed", (double)s->failed) &&
	       cJSON_AddNumberToObject(c, "slow", (double)s->slow) &&
	       cJSON_AddNumberToObject(c, "refused", (double)s->refused) &&
	       cJSON_AddNumberToObject(c, "trials", (double)s->trials) &&
	       cJSON_AddNumberToObject(c, "last_min", r.calls) &&
	       cJSON_AddNumberToObject(c, "last_min_failed", r.failed) &&
	       (r.mean_ms < 0 ? cJSON_AddNullToObject(c, "mean_ms") != NULL
	                      : cJSON_AddNumberToObject(
	                            c, "mean_ms", round1(r.mean_ms)) != NULL) &&
	       add_time(c, "last", s->total ? s->last_ms : -1, now_ms, wall_ms);
}

/* "shadow": the shadow breaker's state and whether it agrees with the
 * real one; nothing without shadow.KEY settings. */
static bool add_shadow(cJSON *o, const fb_dep *d, fb_state real)
{
	fb_breaker_snapshot s;
	if (!d->shadow)
		return true;
	fb_breaker_snapshot_get(d->shadow, &s);
	cJSON *sh = cJSON_AddObjectToObject(o, "shadow");
	return sh &&
	       cJSON_AddStringToObject(sh, "state", fb_state_name(s.state)) &&
	       cJSON_AddNumberToObject(sh, "failure_count",
	                               s.consecutive_failures) &&
	       cJSON_AddBoolToObject(sh, "agrees", s.state == real);
}

static cJSON *dep_json(const fb_dep *d, int64_t now_ms, int64_t wall_ms)
{
	fb_breaker_snapshot s;
	fb_breaker_snapshot_get(d->breaker, &s);
	cJSON *o = cJSON_CreateObject();
	double retry = s.state == FB_STATE_OPEN && s.open_until_ms > now_ms
	                   ? round1((double)(s.open_until_ms - now_ms) / 1000.0)
	                   : 0;
	bool ok =
	    cJSON_AddStringToObject(o, "service", d->cfg.name) &&
	    cJSON_AddStringToObject(o, "kind", fb_kind_name(d->cfg.kind)) &&
	    cJSON_AddBoolToObject(o, "critical", d->cfg.critical) &&
	    cJSON_AddStringToObject(o, "state", fb_state_name(s.state)) &&
	    cJSON_AddStringToObject(o, "health", fb_health_name(d->health)) &&
	    cJSON_AddNumberToObject(o, "failure_count",
	                            s.consecutive_failures) &&
	    add_time(o, "last_failure", s.last_failure_ms, now_ms, wall_ms) &&
	    (d->last_error[0]
	         ? cJSON_AddStringToObject(o, "last_error", d->last_error)
	         : cJSON_AddNullToObject(o, "last_error")) &&
	    add_time(o, "last_success", s.last_success_ms, now_ms, wall_ms) &&
	    add_time(o, "last_state_change", s.last_change_ms, now_ms,
	             wall_ms) &&
	    cJSON_AddNumberToObject(o, "retry_after_s", retry) &&
	    add_latency(o, d) && add_calls(o, d, now_ms, wall_ms) &&
	    add_shadow(o, d, s.state);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *fb_status_json(const fb_engine *e, const char *host, int64_t now_ms,
                      int64_t wall_ms)
{
	char ts[40];
	fb_gate_decision gate;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	fb_format_rfc3339(wall_ms, ts, sizeof ts);
	fb_engine_gate(e, now_ms, &gate);
	cJSON *deps = NULL;
	bool ok = cJSON_AddStringToObject(o, "host", host) &&
	          cJSON_AddStringToObject(o, "ts", ts) &&
	          cJSON_AddStringToObject(
	              o, "system_health",
	              fb_health_name(fb_system_health(&e->reg))) &&
	          fb_json_put(o, "gate", fb_gate_json(&gate)) &&
	          (deps = cJSON_AddArrayToObject(o, "dependencies"));
	for (size_t i = 0; ok && i < e->reg.count; i++)
		ok = fb_json_put(deps, NULL,
		                 dep_json(&e->reg.deps[i], now_ms, wall_ms));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
