/* The ops `allow`, `report` and `job` (see control_calls.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "control_calls.h"
#include "core/parse.h"
#include "fusebox/sanitize.h"
#include "status.h"

#define LATENCY_MAX_MS 3600000.0 /* an hour: a longer call is a bad report */

/* One outcome of a report, checked. */
typedef struct outcome {
	fb_dep *dep;
	bool ok;
	int64_t latency_us;
	const char *error;
	uint64_t permit;
} outcome;

bool fb_control_calls_op(const char *op)
{
	return strcmp(op, "allow") == 0 || strcmp(op, "report") == 0 ||
	       strcmp(op, "job") == 0;
}

static cJSON *error_reply(const char *why)
{
	cJSON *o = cJSON_CreateObject();
	if (!cJSON_AddBoolToObject(o, "ok", false) ||
	    !cJSON_AddStringToObject(o, "error", why)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static const cJSON *field(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* The dependency a request names, or NULL with why[] saying what is
 * wrong (the name, sanitised, when there is no such dependency). */
static fb_dep *find_dep(fb_runtime *rt, const cJSON *o, char *why, size_t len)
{
	const cJSON *v = field(o, "dep");
	if (!cJSON_IsString(v)) {
		snprintf(why, len, "needs a \"dep\"");
		return NULL;
	}
	fb_dep *d = fb_registry_find(&rt->engine.reg, v->valuestring);
	if (!d) {
		char name[FB_NAME_MAX * 2];
		fb_sanitize(name, sizeof name, v->valuestring,
		            strlen(v->valuestring));
		snprintf(why, len, "unknown dependency '%s'", name);
	}
	return d;
}

/* {"op":"allow","dep":..} */
static cJSON *do_allow(fb_runtime *rt, const cJSON *req)
{
	char why[200], msg[220];
	fb_dep *d = find_dep(rt, req, why, sizeof why);
	if (!d) {
		snprintf(msg, sizeof msg, "allow: %s", why);
		return error_reply(msg);
	}
	fb_call_answer a;
	fb_engine_call_allow(&rt->engine, d, fb_now_ms(), &a);
	cJSON *o = cJSON_CreateObject();
	bool ok =
	    cJSON_AddBoolToObject(o, "ok", true) &&
	    cJSON_AddStringToObject(o, "dep", d->cfg.name) &&
	    cJSON_AddBoolToObject(o, "allowed", a.allowed) &&
	    cJSON_AddStringToObject(o, "state", fb_state_name(a.state)) &&
	    cJSON_AddStringToObject(o, "health", fb_health_name(a.health)) &&
	    cJSON_AddNumberToObject(o, "retry_after_ms",
	                            (double)(a.allowed ? 0 : a.retry_after_ms));
	if (ok && a.permit)
		ok = cJSON_AddNumberToObject(o, "permit", (double)a.permit);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Checks one outcome object into *out; false with why[] when it is bad. */
static bool check_outcome(fb_runtime *rt, const cJSON *o, outcome *out,
                          char *why, size_t len)
{
	const cJSON *ok = field(o, "ok"), *lat = field(o, "latency_ms");
	const cJSON *err = field(o, "error"), *permit = field(o, "permit");
	int64_t id = 0;
	memset(out, 0, sizeof *out);
	if (!cJSON_IsObject(o)) {
		snprintf(why, len, "an outcome must be an object");
		return false;
	}
	if (!(out->dep = find_dep(rt, o, why, len)))
		return false;
	if (!cJSON_IsBool(ok)) {
		snprintf(why, len, "\"ok\" must be true or false");
		return false;
	}
	if (lat &&
	    (!cJSON_IsNumber(lat) || !isfinite(lat->valuedouble) ||
	     lat->valuedouble < 0 || lat->valuedouble > LATENCY_MAX_MS)) {
		snprintf(why, len,
		         "\"latency_ms\" must be a number of "
		         "milliseconds from 0 to 3600000");
		return false;
	}
	if (err && !cJSON_IsString(err)) {
		snprintf(why, len, "\"error\" must be a string");
		return false;
	}
	if (permit &&
	    (!cJSON_IsNumber(permit) ||
	     !fb_json_int(permit->valuedouble, 0, FB_JSON_INT_MAX, &id))) {
		snprintf(why, len, "\"permit\" must be what allow gave");
		return false;
	}
	out->ok = cJSON_IsTrue(ok);
	out->latency_us = lat ? (int64_t)(lat->valuedouble * 1000.0) : 0;
	out->error = err ? err->valuestring : NULL;
	out->permit = (uint64_t)id;
	return true;
}

/* {"op":"report",<one outcome>} or {"op":"report","outcomes":[...]}:
 * every outcome is checked before any is counted, so a bad one (an
 * unknown dependency, say) changes nothing. */
static cJSON *do_report(fb_runtime *rt, const cJSON *req)
{
	outcome batch[FB_REPORT_MAX_BATCH]; /* 40 KB of stack */
	const cJSON *list = field(req, "outcomes"), *item;
	char why[200], msg[260];
	int n = 0;
	if (list && !cJSON_IsArray(list))
		return error_reply("report: \"outcomes\" must be an array");
	if (list && cJSON_GetArraySize(list) > FB_REPORT_MAX_BATCH) {
		snprintf(msg, sizeof msg, "report: at most %d outcomes at once",
		         FB_REPORT_MAX_BATCH);
		return error_reply(msg);
	}
	if (!list) {
		if (!check_outcome(rt, req, &batch[0], why, sizeof why)) {
			snprintf(msg, sizeof msg, "report: %s", why);
			return error_reply(msg);
		}
		n = 1;
	}
	cJSON_ArrayForEach(item, list)
	{
		if (n == FB_REPORT_MAX_BATCH)
			break; /* the size was checked above */
		if (!check_outcome(rt, item, &batch[n], why, sizeof why)) {
			snprintf(msg, sizeof msg, "report: outcome %d: %s",
			         n + 1, why);
			return error_reply(msg);
		}
		n++;
	}
	int64_t now = fb_now_ms();
	for (int i = 0; i < n; i++)
		fb_engine_call_report(&rt->engine, batch[i].dep, now,
		                      batch[i].ok, batch[i].latency_us,
		                      batch[i].error, batch[i].permit);
	cJSON *o = cJSON_CreateObject();
	if (!cJSON_AddBoolToObject(o, "ok", true) ||
	    !cJSON_AddNumberToObject(o, "accepted", n)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static const char *text_of(const cJSON *o, const char *key)
{
	const cJSON *v = field(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The gate's answer, for a job that may not start. */
static cJSON *blocked_reply(const fb_gate_decision *g)
{
	char msg[sizeof g->reason + 16];
	snprintf(msg, sizeof msg, "gate blocked: %s", g->reason);
	cJSON *o = error_reply(msg);
	if (o && !fb_json_put(o, "gate", fb_gate_json(g))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* {"op":"job","action":"start"|"end","command":..,"exit_status":N,
 * "reason":..}: a start is refused while the gate blocks (the check and
 * the record are one step) or while the event log cannot be written (a
 * job must be on record); an end is always recorded. */
static cJSON *do_job(fb_runtime *rt, const char *actor, const cJSON *req)
{
	const char *action = text_of(req, "action"),
	           *cmd = text_of(req, "command");
	const char *reason = text_of(req, "reason");
	const cJSON *st = field(req, "exit_status");
	char command[FB_JOB_COMMAND_MAX], why[256] = "";
	int64_t status = -1;
	bool end = action && strcmp(action, "end") == 0;
	if (!action || (!end && strcmp(action, "start") != 0))
		return error_reply("job: \"action\" must be start or end");
	if (!cmd)
		return error_reply("job: needs a \"command\"");
	if (end && (!cJSON_IsNumber(st) ||
	            !fb_json_int(st->valuedouble, 0, 255, &status)))
		return error_reply("job: an end needs \"exit_status\" 0-255");
	fb_sanitize(command, sizeof command, cmd, strlen(cmd));
	if (reason)
		fb_sanitize(why, sizeof why, reason, strlen(reason));
	int64_t now = fb_now_ms();
	if (!end) {
		fb_gate_decision g;
		fb_engine_gate(&rt->engine, now, &g);
		if (g.blocked)
			return blocked_reply(&g);
		if (fb_backlog_failing(&rt->backlog))
			return error_reply(
			    "job: not started: the event log cannot be "
			    "written; a job must be on record");
	}
	fb_engine_job(&rt->engine, now, end, actor, command, status, why);
	cJSON *o = cJSON_CreateObject();
	if (!cJSON_AddBoolToObject(o, "ok", true)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *fb_control_calls_answer(fb_runtime *rt, const char *actor,
                               const char *op, const cJSON *req)
{
	if (strcmp(op, "allow") == 0)
		return do_allow(rt, req);
	if (strcmp(op, "report") == 0)
		return do_report(rt, req);
	return do_job(rt, actor, req);
}
