/* The metrics document: the status document plus what a scraper needs. */
#include "metrics_doc.h"
#include "status.h"

static bool add_totals(cJSON *o, const fb_dep *d)
{
	fb_breaker_snapshot s;
	fb_breaker_snapshot_get(d->breaker, &s);
	bool ok =
	    cJSON_AddNumberToObject(o, "successes", (double)s.successes) &&
	    cJSON_AddNumberToObject(o, "failures", (double)s.failures) &&
	    cJSON_AddNumberToObject(o, "rejected", (double)s.rejected) &&
	    cJSON_AddNumberToObject(o, "slow_calls", (double)s.slow_calls) &&
	    cJSON_AddNumberToObject(o, "probes", (double)d->probes);
	/* unrounded, unlike the status document's latency_ms */
	fb_latency l = fb_history_latency(&d->history, FB_HISTORY);
	if (!ok || l.p50 < 0)
		return ok;
	cJSON *lat = cJSON_AddObjectToObject(o, "latency_s");
	return cJSON_AddNumberToObject(lat, "p50", l.p50 / 1000.0) &&
	       cJSON_AddNumberToObject(lat, "p95", l.p95 / 1000.0) &&
	       cJSON_AddNumberToObject(lat, "p99", l.p99 / 1000.0);
}

cJSON *fb_metrics_json(const fb_engine *e, const char *host,
                       const fb_metrics_instance *inst, int64_t now_ms,
                       int64_t wall_ms)
{
	cJSON *doc = fb_status_json(e, host, now_ms, wall_ms);
	cJSON *deps = cJSON_GetObjectItemCaseSensitive(doc, "dependencies");
	cJSON *o = doc ? cJSON_AddObjectToObject(doc, "instance") : NULL;
	bool ok = deps && o;
	/* fb_status_json lists the dependencies in registry order */
	cJSON *d = ok ? deps->child : NULL;
	for (size_t i = 0; ok && d && i < e->reg.count; i++, d = d->next)
		ok = add_totals(d, &e->reg.deps[i]);
	ok = ok && cJSON_AddStringToObject(o, "version", FB_VERSION);
	if (ok && inst)
		ok = cJSON_AddNumberToObject(o, "start_time_s",
		                             (double)inst->start_wall_ms /
		                                 1000.0) &&
		     cJSON_AddBoolToObject(o, "event_log_ok", inst->log_ok) &&
		     cJSON_AddNumberToObject(o, "event_log_write_errors",
		                             (double)inst->log_write_errors) &&
		     cJSON_AddNumberToObject(o, "event_log_queued",
		                             (double)inst->log_queued) &&
		     cJSON_AddNumberToObject(o, "event_log_lost",
		                             (double)inst->log_lost);
	if (!ok) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}
