/* {"op":"delta","rows":[NAME...],"detail":NAME,"all_latency":BOOL}: the
 * changes an attached
 * console polls for. The reply:
 *
 *   {"ok":true,"seq":N,"full":BOOL,"count":N,"system_health":..,
 *    "gate":{..as in status..},"override_ttl_s":N,
 *    "deps":[{"i":N,"state":..,"health":..,"fail":N,"p50":MS|null,
 *             "p95":MS|null,"error":TEXT|null,"retry_ms":N,"due_ms":N,
 *             "calls_min":N,"calls_failed_min":N,"calls_total":N,
 *             "shadow":STATE (with shadow.KEY settings; in full rows)},...],
 *    "recent":[{"i":N,"add"|"set":[US,...]},...],
 *    "detail":{"i":N,"url":..,"for_ms":N,"reason":..,"counters":{..},
 *              "history":[US,...],"settings":[[KEY,VALUE,SOURCE],...],
 *              "shadow":{"state":..,"failure_count":N,
 *                        "settings":[[KEY,VALUE],...]} (when it has one)}}
 *
 * `deps` holds only the dependencies whose shown fields (state, health,
 * consecutive failures, p50/p95, last error, open wait) changed since
 * this connection's previous delta -- latency only for the rows named
 * in "rows" (those on the console's screen; each sent whole when it
 * comes on screen), or for all with "all_latency":true (the console
 * sorts by it) -- and all of them, with "service",
 * "kind", "critical" and "interval_ms", the first time and after a
 * reload ("full":true), "i" being the index all later replies use.
 * `recent` has, for the rows on screen, the outcomes that came since
 * the previous poll ("add"), or the newest sixteen ("set") for a row
 * that poll did not name; latency in us, a
 * failure is -1. `detail` is the named dependency's counters and history
 * (asked only while the console shows it). So the traffic follows what
 * changed and what is on screen, not the number of dependencies. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backlog.h"
#include "control_delta.h"
#include "fleet.h"
#include "status.h"

#define RECENT 16 /* outcomes per row: the console's RECENT column */

struct fb_delta_memo {
	unsigned reloads; /* of the runtime when this was filled */
	size_t n;
	uint64_t polls;     /* deltas answered */
	uint64_t *shown;    /* per dependency: a hash of what was sent */
	int64_t *recent_at; /* per dependency: its newest outcome sent */
	uint64_t *listed;   /* per dependency: the poll that last named it */
	uint64_t *before;   /* per dependency: the one that named it before */
};

void fb_delta_memo_free(fb_delta_memo *memo)
{
	if (!memo)
		return;
	free(memo->shown);
	free(memo->recent_at);
	free(memo->listed);
	free(memo->before);
	free(memo);
}

/* A fresh memo for the runtime's dependencies, or NULL. */
static fb_delta_memo *memo_new(const fb_runtime *rt)
{
	fb_delta_memo *m = calloc(1, sizeof *m);
	size_t n = rt->engine.reg.count ? rt->engine.reg.count : 1;
	if (!m)
		return NULL;
	m->shown = calloc(n, sizeof *m->shown);
	m->recent_at = calloc(n, sizeof *m->recent_at);
	m->listed = calloc(n, sizeof *m->listed);
	m->before = calloc(n, sizeof *m->before);
	if (!m->shown || !m->recent_at || !m->listed || !m->before) {
		fb_delta_memo_free(m);
		return NULL;
	}
	m->reloads = rt->reloads;
	m->n = rt->engine.reg.count;
	return m;
}

/* A latency as the console shows it: 0.1 ms below 10 ms, else whole. */
static double shown_ms(double ms)
{
	return ms < 0 ? -1 : ms < 10 ? round(ms * 10.0) / 10.0 : round(ms);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h;
}

/* A hash of what a row shows; never 0, which means "never sent". The
 * latency counts for a row on the console's screen, or for every row
 * while the console sorts by it. */
static uint64_t fingerprint(const fb_dep *d, const fb_breaker_snapshot *s,
                            const fb_latency *lat, bool latency)
{
	uint64_t h = 1469598103934665603ull;
	h = mix(h, (uint64_t)s->state);
	h = mix(h, (uint64_t)d->health);
	h = mix(h, s->consecutive_failures);
	if (latency) {
		h = mix(h, (uint64_t)(int64_t)(shown_ms(lat->p50) * 10));
		h = mix(h, (uint64_t)(int64_t)(shown_ms(lat->p95) * 10));
	}
	h = mix(h, (uint64_t)d->last_error_ms);
	h = mix(h, (uint64_t)s->open_until_ms);
	return h ? h : 1;
}

static void add_ms_or_null(cJSON *o, const char *key, double ms)
{
	if (ms < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, shown_ms(ms));
}

static cJSON *dep_delta(const fb_runtime *rt, size_t i, bool full,
                        const fb_breaker_snapshot *s, const fb_latency *lat,
                        int64_t now)
{
	const fb_dep *d = &rt->engine.reg.deps[i];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "i", (double)i);
	if (full) {
		cJSON_AddStringToObject(o, "service", d->cfg.name);
		cJSON_AddStringToObject(o, "kind", fb_kind_name(d->cfg.kind));
		cJSON_AddBoolToObject(o, "critical", d->cfg.critical);
		cJSON_AddNumberToObject(o, "interval_ms",
		                        (double)d->cfg.t[FB_T_INTERVAL]);
		if (d->shadow) /* later, its `shadow` events say */
			cJSON_AddStringToObject(
			    o, "shadow",
			    fb_state_name(fb_breaker_state(d->shadow)));
	}
	cJSON_AddStringToObject(o, "state", fb_state_name(s->state));
	cJSON_AddStringToObject(o, "health", fb_health_name(d->health));
	cJSON_AddNumberToObject(o, "fail", s->consecutive_failures);
	add_ms_or_null(o, "p50", lat->p50);
	add_ms_or_null(o, "p95", lat->p95);
	if (d->last_error[0])
		cJSON_AddStringToObject(o, "error", d->last_error);
	else
		cJSON_AddNullToObject(o, "error");
	int64_t retry = s->state == FB_STATE_OPEN && s->open_until_ms > now
	                    ? s->open_until_ms - now
	                    : 0;
	cJSON_AddNumberToObject(o, "retry_ms", (double)retry);
	fb_call_rate calls = fb_call_stats_minute(&d->calls, now);
	cJSON_AddNumberToObject(o, "calls_min", calls.calls);
	cJSON_AddNumberToObject(o, "calls_failed_min", calls.failed);
	cJSON_AddNumberToObject(o, "calls_total", (double)d->calls.total);
	int64_t due = fb_sched_due(&rt->sched, (uint32_t)i);
	cJSON_AddNumberToObject(o, "due_ms",
	                        (double)(due < 0     ? -1
	                                 : due > now ? due - now
	                                             : 0));
	return o;
}

/* The newest outcomes (at most max) that came after after_ms, newest
 * first; *newest gets the time of the first. */
static cJSON *samples(const fb_history *h, uint32_t max, int64_t after_ms,
                      int64_t *newest)
{
	cJSON *a = cJSON_CreateArray();
	uint32_t n = h->len < max ? h->len : max;
	for (uint32_t k = 0; k < n; k++) {
		const fb_sample *s = fb_history_at(h, k);
		if (s->at_ms <= after_ms)
			break;
		if (k == 0 && newest)
			*newest = s->at_ms;
		cJSON_AddItemToArray(
		    a, cJSON_CreateNumber(s->ok ? (double)s->latency_us : -1));
	}
	return a;
}

/* Notes which rows the console shows now (at most a screen's worth):
 * listed[i] is this poll for them, before[i] the poll before that. */
static void mark_shown(const fb_runtime *rt, fb_delta_memo *memo,
                       const cJSON *names)
{
	const cJSON *name;
	int taken = 0;
	memo->polls++;
	cJSON_ArrayForEach(name, names)
	{
		if (!cJSON_IsString(name) || ++taken > 200)
			break;
		fb_dep *d =
		    fb_registry_find(&rt->engine.reg, name->valuestring);
		if (!d)
			continue;
		size_t i = (size_t)(d - rt->engine.reg.deps);
		if (memo->listed[i] != memo->polls) { /* a name twice: once */
			memo->before[i] = memo->listed[i];
			memo->listed[i] = memo->polls;
		}
	}
}

static bool on_screen(const fb_delta_memo *memo, size_t i)
{
	return memo->listed[i] == memo->polls;
}

/* Shown now but not at the previous poll: the console lost track. */
static bool came_on_screen(const fb_delta_memo *memo, size_t i)
{
	return on_screen(memo, i) && memo->before[i] + 1 != memo->polls;
}

/* For each row on screen, the outcomes that came since they were last
 * sent ("add"), or its newest RECENT ("set") when it just came on
 * screen. */
static void add_recent(const fb_runtime *rt, fb_delta_memo *memo, cJSON *out)
{
	cJSON *arr = cJSON_AddArrayToObject(out, "recent");
	for (size_t i = 0; i < memo->n; i++) {
		if (!on_screen(memo, i))
			continue;
		const fb_dep *d = &rt->engine.reg.deps[i];
		bool fresh = came_on_screen(memo, i);
		const fb_sample *top =
		    d->history.len ? fb_history_at(&d->history, 0) : NULL;
		if (!fresh && (!top || top->at_ms <= memo->recent_at[i]))
			continue; /* nothing new */
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "i", (double)i);
		cJSON_AddItemToObject(
		    o, fresh ? "set" : "add",
		    samples(&d->history, RECENT,
		            fresh ? INT64_MIN : memo->recent_at[i],
		            &memo->recent_at[i]));
		cJSON_AddItemToArray(arr, o);
	}
}

static cJSON *counters(const fb_breaker_snapshot *s)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddNumberToObject(c, "window_calls", s->window_calls);
	cJSON_AddNumberToObject(c, "window_failures", s->window_failures);
	cJSON_AddNumberToObject(c, "successes", (double)s->successes);
	cJSON_AddNumberToObject(c, "failures", (double)s->failures);
	cJSON_AddNumberToObject(c, "slow", (double)s->slow_calls);
	cJSON_AddNumberToObject(c, "rejected", (double)s->rejected);
	cJSON_AddNumberToObject(c, "failed_trials", s->failed_trials);
	cJSON_AddNumberToObject(c, "frozen_failures", s->frozen_failures);
	cJSON_AddNumberToObject(c, "frozen_window_calls",
	                        s->frozen_window_calls);
	cJSON_AddNumberToObject(c, "frozen_window_failures",
	                        s->frozen_window_failures);
	cJSON_AddNumberToObject(c, "frozen_slow", (double)s->frozen_slow_calls);
	return c;
}

/* The address without any user:password@ in it. */
static void shown_url(const char *url, char *out, size_t len)
{
	const char *host = strstr(url, "://");
	const char *at = host ? strchr(host + 3, '@') : NULL;
	const char *slash = host ? strchr(host + 3, '/') : NULL;
	if (at && (!slash || at < slash))
		snprintf(out, len, "%.*s%s", (int)(host + 3 - url), url,
		         at + 1);
	else
		snprintf(out, len, "%s", url);
}

/* The shadow breaker: its state, failures and shadow.KEY settings. */
static cJSON *shadow_detail(const fb_dep *d)
{
	fb_breaker_snapshot s;
	fb_breaker_snapshot_get(d->shadow, &s);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "state", fb_state_name(s.state));
	cJSON_AddNumberToObject(o, "failure_count", s.consecutive_failures);
	cJSON *set = cJSON_AddArrayToObject(o, "settings");
	for (int i = 0; i < FB_TUNABLE_COUNT; i++) {
		char v[40];
		if (!(d->cfg.shadow.set & (1u << i)))
			continue;
		fb_tunable_format((fb_tunable)i, d->cfg.shadow.v[i], v,
		                  sizeof v);
		const char *row[2] = {fb_tunable_key((fb_tunable)i), v};
		cJSON_AddItemToArray(set, cJSON_CreateStringArray(row, 2));
	}
	return o;
}

static cJSON *detail(const fb_runtime *rt, fb_dep *d, int64_t now)
{
	fb_breaker_snapshot s;
	char url[FB_URL_MAX];
	fb_breaker_snapshot_get(d->breaker, &s);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "i", (double)(d - rt->engine.reg.deps));
	shown_url(d->cfg.url, url, sizeof url);
	cJSON_AddStringToObject(o, "url", url);
	cJSON_AddNumberToObject(
	    o, "for_ms",
	    (double)(s.last_change_ms < 0 ? -1 : now - s.last_change_ms));
	cJSON_AddStringToObject(o, "reason", s.last_reason);
	cJSON_AddItemToObject(o, "counters", counters(&s));
	cJSON_AddItemToObject(
	    o, "history", samples(&d->history, FB_HISTORY, INT64_MIN, NULL));
	cJSON *set = cJSON_AddArrayToObject(o, "settings");
	for (int i = 0; i < FB_TUNABLE_COUNT; i++) {
		char v[40];
		fb_tunable_format((fb_tunable)i, d->cfg.t[i], v, sizeof v);
		const char *row[3] = {fb_tunable_key((fb_tunable)i), v,
		                      fb_source_name(d->cfg.source[i])};
		cJSON_AddItemToArray(set, cJSON_CreateStringArray(row, 3));
	}
	if (d->shadow)
		cJSON_AddItemToObject(o, "shadow", shadow_detail(d));
	return o;
}

cJSON *fb_delta_json(fb_runtime *rt, fb_delta_memo **memo, const cJSON *req)
{
	int64_t now = fb_now_ms();
	bool full = !*memo || (*memo)->reloads != rt->reloads ||
	            (*memo)->n != rt->engine.reg.count;
	if (full) {
		fb_delta_memo_free(*memo);
		if (!(*memo = memo_new(rt)))
			return NULL;
	}
	fb_delta_memo *m = *memo;
	fb_gate_decision gate;
	fb_engine_gate(&rt->engine, now, &gate);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", true);
	cJSON_AddNumberToObject(o, "seq", (double)rt->log.seq);
	cJSON_AddBoolToObject(o, "full", full);
	cJSON_AddNumberToObject(o, "count", (double)m->n);
	cJSON_AddStringToObject(
	    o, "system_health",
	    fb_health_name(fb_system_health(&rt->engine.reg)));
	cJSON_AddItemToObject(o, "gate", fb_gate_json(&gate));
	cJSON_AddItemToObject(o, "event_log", fb_backlog_json(&rt->backlog));
	if (rt->fleet)
		fb_fleet_delta_json(rt->fleet, o);
	cJSON_AddNumberToObject(o, "override_ttl_s",
	                        (double)(rt->engine.gate.ttl_ms / 1000));
	mark_shown(rt, m, cJSON_GetObjectItemCaseSensitive(req, "rows"));
	bool all_latency =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "all_latency"));
	cJSON *deps = cJSON_AddArrayToObject(o, "deps");
	for (size_t i = 0; i < m->n; i++) {
		fb_dep *d = &rt->engine.reg.deps[i];
		fb_breaker_snapshot s;
		fb_breaker_snapshot_get(d->breaker, &s);
		fb_latency lat = fb_history_latency(&d->history, FB_HISTORY);
		uint64_t fp =
		    fingerprint(d, &s, &lat, all_latency || on_screen(m, i));
		fb_call_rate calls = fb_call_stats_minute(&d->calls, now);
		fp = mix(mix(fp, calls.calls), calls.failed) | 1;
		if (!full && m->shown[i] == fp && !came_on_screen(m, i))
			continue;
		m->shown[i] = fp;
		cJSON_AddItemToArray(deps,
		                     dep_delta(rt, i, full, &s, &lat, now));
	}
	add_recent(rt, m, o);
	const cJSON *want = cJSON_GetObjectItemCaseSensitive(req, "detail");
	fb_dep *d = cJSON_IsString(want)
	                ? fb_registry_find(&rt->engine.reg, want->valuestring)
	                : NULL;
	if (d)
		cJSON_AddItemToObject(o, "detail", detail(rt, d, now));
	return o;
}
