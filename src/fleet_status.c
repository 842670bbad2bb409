/* The fleet in the status document (`status --fleet`, the socket). */
#include <string.h>

#include "fleet_impl.h"
#include "runtime.h"
#include "status.h"

static cJSON *inst_json(const fb_fleet *f, const fb_fleet_inst *in,
                        int64_t age_ms)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *deps = cJSON_CreateObject();
	bool ok = fb_json_put(o, "dependencies", deps);
	ok = ok && cJSON_AddStringToObject(o, "instance", in->id);
	ok = ok && cJSON_AddStringToObject(o, "host", in->host);
	ok = ok && cJSON_AddNumberToObject(o, "pid", (double)in->pid);
	ok = ok && cJSON_AddStringToObject(o, "version", in->version);
	ok = ok && cJSON_AddBoolToObject(o, "self", strcmp(in->id, f->id) == 0);
	int64_t seen = f->view->redis_ms - in->seen_ms + age_ms;
	ok = ok && cJSON_AddNumberToObject(o, "age_s", (double)seen / 1000.0);
	for (size_t i = 0; ok && i < in->ndeps; i++) {
		cJSON *d = cJSON_CreateObject();
		ok = fb_json_put(deps, in->deps[i].name, d) &&
		     cJSON_AddStringToObject(
		         d, "state", fb_state_name(in->deps[i].state)) &&
		     cJSON_AddStringToObject(
		         d, "health", fb_health_name(in->deps[i].health));
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *gate_json(const fb_fleet *f, int64_t now_ms)
{
	fb_fleet_decision d;
	fb_fleet_gate(f, now_ms, &d);
	cJSON *g = cJSON_CreateObject();
	if (!g ||
	    !cJSON_AddStringToObject(g, "decision",
	                             d.blocked ? "blocked" : "allowed") ||
	    !cJSON_AddStringToObject(g, "mode",
	                             f->has_view && f->view->gate.mode[0]
	                                 ? f->view->gate.mode
	                                 : "auto") ||
	    !cJSON_AddStringToObject(g, "reason", d.reason)) {
		cJSON_Delete(g);
		return NULL;
	}
	return g;
}

void fb_fleet_delta_json(const fb_fleet *f, cJSON *o)
{
	char line[600];
	fb_fleet_headline(f, line, sizeof line);
	cJSON *fl = cJSON_AddObjectToObject(o, "fleet");
	cJSON_AddStringToObject(fl, "message", line);
}

cJSON *fb_fleet_json(const fb_fleet *f, int64_t now_ms)
{
	const fb_redis_config *rc = &f->rt->cfg.redis;
	char line[600];
	cJSON *o = cJSON_CreateObject();
	cJSON *list = cJSON_CreateArray();
	bool up = fb_fleet_conn_ready(f->conn);
	int64_t age = now_ms - f->got_ms;
	bool ok = fb_json_put(o, "instances", list);
	fb_fleet_headline(f, line, sizeof line);
	ok = ok && cJSON_AddStringToObject(o, "instance", f->id);
	ok = ok && cJSON_AddStringToObject(o, "service", rc->service);
	ok = ok && cJSON_AddBoolToObject(o, "connected", up);
	ok = ok &&
	     cJSON_AddStringToObject(o, "error", fb_fleet_conn_error(f->conn));
	ok = ok && cJSON_AddStringToObject(o, "mode", up ? "shared" : "local");
	ok = ok && cJSON_AddStringToObject(o, "message", line);
	ok = ok && (f->has_view ? cJSON_AddNumberToObject(o, "view_age_s",
	                                                  (double)age / 1000.0)
	                        : cJSON_AddNullToObject(o, "view_age_s"));
	ok = ok && cJSON_AddNumberToObject(o, "stale_after_s",
	                                   (double)rc->stale_after_ms / 1000.0);
	ok =
	    ok && cJSON_AddNumberToObject(o, "published", (double)f->published);
	ok = ok && cJSON_AddNumberToObject(o, "cursor", (double)f->cursor);
	ok = ok && cJSON_AddBoolToObject(o, "caught_up", up && f->live);
	ok = ok && fb_json_put(o, "gate", gate_json(f, now_ms));
	for (size_t i = 0; ok && f->has_view && i < f->view->ninst; i++)
		ok = fb_json_put(list, NULL,
		                 inst_json(f, &f->view->inst[i], age));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
