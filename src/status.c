/* The status document (SPEC section 7). */
#include <math.h>

#include "eventlog.h"
#include "status.h"

/* A monotonic instant as an RFC 3339 wall time; null when never. */
static void add_time(cJSON *o, const char *key, int64_t at_ms, int64_t now_ms,
                     int64_t wall_ms)
{
	char ts[40];
	if (at_ms < 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	fb_format_rfc3339(wall_ms - (now_ms - at_ms), ts, sizeof ts);
	cJSON_AddStringToObject(o, key, ts);
}

static double round1(double v)
{
	return round(v * 10.0) / 10.0;
}

cJSON *fb_gate_json(const fb_gate_decision *d)
{
	cJSON *g = cJSON_CreateObject();
	cJSON_AddStringToObject(g, "decision",
	                        d->blocked ? "blocked" : "allowed");
	cJSON_AddStringToObject(g, "mode", fb_gate_mode_name(d->mode));
	cJSON_AddStringToObject(g, "reason", d->reason);
	cJSON_AddNumberToObject(g, "retry_after_s",
	                        (double)((d->retry_after_ms + 999) / 1000));
	if (d->mode == FB_GATE_ALLOW)
		cJSON_AddNumberToObject(
		    g, "override_expires_in_s",
		    (double)((d->override_left_ms + 999) / 1000));
	return g;
}

static void add_latency(cJSON *o, const fb_dep *d)
{
	fb_latency l = fb_history_latency(&d->history, FB_HISTORY);
	cJSON *lat = cJSON_AddObjectToObject(o, "latency_ms");
	if (l.p50 < 0) {
		cJSON_AddNullToObject(lat, "p50");
		cJSON_AddNullToObject(lat, "p95");
		cJSON_AddNullToObject(lat, "p99");
		return;
	}
	cJSON_AddNumberToObject(lat, "p50", round1(l.p50));
	cJSON_AddNumberToObject(lat, "p95", round1(l.p95));
	cJSON_AddNumberToObject(lat, "p99", round1(l.p99));
}

static cJSON *dep_json(const fb_dep *d, int64_t now_ms, int64_t wall_ms)
{
	fb_breaker_snapshot s;
	fb_breaker_snapshot_get(d->breaker, &s);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "service", d->cfg.name);
	cJSON_AddStringToObject(o, "kind", fb_kind_name(d->cfg.kind));
	cJSON_AddBoolToObject(o, "critical", d->cfg.critical);
	cJSON_AddStringToObject(o, "state", fb_state_name(s.state));
	cJSON_AddStringToObject(o, "health", fb_health_name(d->health));
	cJSON_AddNumberToObject(o, "failure_count", s.consecutive_failures);
	add_time(o, "last_failure", s.last_failure_ms, now_ms, wall_ms);
	if (d->last_error[0])
		cJSON_AddStringToObject(o, "last_error", d->last_error);
	else
		cJSON_AddNullToObject(o, "last_error");
	add_time(o, "last_success", s.last_success_ms, now_ms, wall_ms);
	add_time(o, "last_state_change", s.last_change_ms, now_ms, wall_ms);
	double retry = s.state == FB_STATE_OPEN && s.open_until_ms > now_ms
	                   ? round1((double)(s.open_until_ms - now_ms) / 1000.0)
	                   : 0;
	cJSON_AddNumberToObject(o, "retry_after_s", retry);
	add_latency(o, d);
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
	cJSON_AddStringToObject(o, "host", host);
	cJSON_AddStringToObject(o, "ts", ts);
	cJSON_AddStringToObject(o, "system_health",
	                        fb_health_name(fb_system_health(&e->reg)));
	cJSON_AddItemToObject(o, "gate", fb_gate_json(&gate));
	cJSON *deps = cJSON_AddArrayToObject(o, "dependencies");
	for (size_t i = 0; i < e->reg.count; i++)
		cJSON_AddItemToArray(
		    deps, dep_json(&e->reg.deps[i], now_ms, wall_ms));
	return o;
}
