/* Control requests for the fleet ({"op":..., "fleet":true}). */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "fleet.h"
#include "fusebox/sanitize.h"
#include "runtime.h"
#include "status.h"

static cJSON *answer(bool ok, const char *error)
{
	cJSON *o = cJSON_CreateObject();
	if (!cJSON_AddBoolToObject(o, "ok", ok) ||
	    (error && !cJSON_AddStringToObject(o, "error", error))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static const char *str_of(const cJSON *req, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *gate_check(fb_runtime *rt)
{
	fb_fleet_decision d = {.blocked = true};
	if (rt->fleet)
		fb_fleet_gate(rt->fleet, fb_now_ms(), &d);
	else
		snprintf(d.reason, sizeof d.reason,
		         "no fleet: [redis] is not configured");
	cJSON *o = answer(true, NULL);
	cJSON *g = cJSON_CreateObject();
	if (!fb_json_put(o, "gate", g) ||
	    !cJSON_AddStringToObject(g, "decision",
	                             d.blocked ? "blocked" : "allowed") ||
	    !cJSON_AddStringToObject(g, "reason", d.reason)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *status(fb_runtime *rt)
{
	cJSON *o = answer(true, NULL);
	if (!cJSON_AddStringToObject(o, "host", rt->cfg.host) ||
	    !fb_json_put(o, "fleet", fb_fleet_json(rt->fleet, fb_now_ms()))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The action a request names, or FB_ACT_NONE. */
static fb_action action_of(const char *op, const cJSON *req)
{
	const char *mode = str_of(req, "mode");
	if (strcmp(op, "trip") == 0)
		return FB_ACT_TRIP;
	if (strcmp(op, "reset") == 0)
		return FB_ACT_RESET;
	if (strcmp(op, "disable") == 0)
		return FB_ACT_DISABLE;
	if (strcmp(op, "gate") != 0 || !mode)
		return FB_ACT_NONE;
	if (strcmp(mode, "block") == 0)
		return FB_ACT_GATE_BLOCK;
	if (strcmp(mode, "allow") == 0)
		return FB_ACT_GATE_ALLOW;
	return strcmp(mode, "auto") == 0 ? FB_ACT_GATE_AUTO : FB_ACT_NONE;
}

static cJSON *operate(fb_runtime *rt, fb_action a, const cJSON *req,
                      const char *actor)
{
	char dep[FB_NAME_MAX * 2] = "", reason[256] = "", msg[200];
	const char *d = str_of(req, "dep"), *r = str_of(req, "reason");
	fb_error err;
	bool is_gate = a >= FB_ACT_GATE_BLOCK;
	if (!is_gate && !d)
		return answer(false, "this op needs a \"dep\"");
	if (d)
		fb_sanitize(dep, sizeof dep, d, strlen(d));
	if (r)
		fb_sanitize(reason, sizeof reason, r, strlen(r));
	if (fb_fleet_operate(rt->fleet, a, is_gate ? NULL : dep, actor, reason,
	                     &err) != 0)
		return answer(false, err.text);
	size_t n = fb_fleet_live(rt->fleet);
	snprintf(msg, sizeof msg,
	         "sent to the fleet: %zu live instance%s apply it within a "
	         "heartbeat",
	         n, n == 1 ? "" : "s");
	cJSON *o = answer(true, NULL);
	if (!cJSON_AddStringToObject(o, "message", msg) ||
	    !cJSON_AddNumberToObject(o, "instances", (double)n) ||
	    (!is_gate && !cJSON_AddStringToObject(o, "dep", dep))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *fb_fleet_answer(fb_runtime *rt, const char *op, const cJSON *req,
                       const char *actor)
{
	if (strcmp(op, "gate_check") == 0)
		return gate_check(rt);
	if (!rt->fleet)
		return answer(false, "no fleet: [redis] is not configured");
	if (strcmp(op, "status") == 0)
		return status(rt);
	fb_action a = action_of(op, req);
	if (a == FB_ACT_NONE)
		return answer(false, "unknown op for the fleet");
	return operate(rt, a, req, actor);
}
