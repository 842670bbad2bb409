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

/* The host of instance id, as the view knows it ("" for none). */
static const char *host_of(const fb_fleet *f, const char *id)
{
	const fb_fleet_inst *in = fb_fleet_find_inst(f->view, id);
	if (!id[0])
		return "";
	return in && in->host[0] ? in->host : id;
}

/* A dependency's fleet record: what was decided for the whole fleet, by
 * whom, and who holds the trial. */
static cJSON *record_json(const fb_fleet *f, const fb_fleet_dep *r)
{
	cJSON *o = cJSON_CreateObject();
	int64_t at = f->view->redis_ms;
	int64_t left = r->open_until_ms > at ? r->open_until_ms - at : 0;
	bool lease = r->trial_owner[0] && r->trial_exp_ms > at;
	bool ok =
	    cJSON_AddStringToObject(o, "name", r->name) &&
	    cJSON_AddStringToObject(o, "state", r->state) &&
	    cJSON_AddStringToObject(o, "action", r->action) &&
	    cJSON_AddStringToObject(o, "by", host_of(f, r->by)) &&
	    cJSON_AddStringToObject(o, "actor", r->actor) &&
	    cJSON_AddStringToObject(o, "reason", r->reason) &&
	    cJSON_AddNumberToObject(o, "gen", (double)r->gen) &&
	    cJSON_AddNumberToObject(
	        o, "open_for_s",
	        strcmp(r->state, "open") == 0 ? (double)left / 1000.0 : 0) &&
	    cJSON_AddStringToObject(o, "trial_by",
	                            lease ? host_of(f, r->trial_owner) : "") &&
	    cJSON_AddNumberToObject(o, "trials", (double)r->trials);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
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
	cJSON *recs = cJSON_CreateArray();
	ok = fb_json_put(o, "records", recs) && ok;
	for (size_t i = 0; ok && f->has_view && i < f->view->ndeps; i++)
		ok = fb_json_put(recs, NULL, record_json(f, &f->view->deps[i]));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
