/* `fusebox status [--json|--prometheus] [--probe]`: the live state from
 * the running instance, or one probe round of our own (--probe, for cron
 * and CI). Both print the same document: the gate first, worst
 * dependencies next; --prometheus prints it as metrics. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "metrics.h"
#include "metrics_doc.h"
#include "probe.h"
#include "status.h"

static const char *get_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static double get_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static int health_rank(const cJSON *dep)
{
	fb_health h = FB_HEALTH_HEALTHY;
	fb_health_parse(get_str(dep, "health"), &h);
	return (int)h;
}

static int worst_first(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a,
	            *y = *(const cJSON *const *)b;
	int d = health_rank(y) - health_rank(x);
	return d ? d : strcmp(get_str(x, "service"), get_str(y, "service"));
}

typedef struct paint {
	bool on;
} paint;

static const char *colour(paint p, const char *health)
{
	if (!p.on)
		return "";
	if (strcmp(health, "unhealthy") == 0 || strcmp(health, "blocked") == 0)
		return "\033[1;31m";
	if (strcmp(health, "degraded") == 0)
		return "\033[33m";
	return "\033[32m";
}

static const char *plain(paint p)
{
	return p.on ? "\033[0m" : "";
}

static void print_dep(const cJSON *d, paint p)
{
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(d, "latency_ms");
	char latency[32] = "-", retry[32] = "-";
	if (get_num(lat, "p50") >= 0)
		snprintf(latency, sizeof latency, "%.1f/%.1f",
		         get_num(lat, "p50"), get_num(lat, "p95"));
	if (get_num(d, "retry_after_s") > 0)
		fb_format_wait((int64_t)(get_num(d, "retry_after_s") * 1000),
		               retry, sizeof retry);
	const char *health = get_str(d, "health");
	printf("%-20.20s %-5s %-4s %s%-13s %-9s%s %5.0f  %-7s %-13s %.60s\n",
	       get_str(d, "service"), get_str(d, "kind"),
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "critical"))
	           ? "yes"
	           : "",
	       colour(p, health), get_str(d, "state"), health, plain(p),
	       get_num(d, "failure_count"), retry, latency,
	       get_str(d, "last_error"));
}

static void print_table(const cJSON *doc, paint p)
{
	const cJSON *gate = cJSON_GetObjectItemCaseSensitive(doc, "gate");
	const cJSON *deps =
	    cJSON_GetObjectItemCaseSensitive(doc, "dependencies");
	const char *decision = get_str(gate, "decision");
	printf("GATE %s%s%s (mode %s): %s\n", colour(p, decision), decision,
	       plain(p), get_str(gate, "mode"), get_str(gate, "reason"));
	printf("system %s%s%s  host %s  at %s\n\n",
	       colour(p, get_str(doc, "system_health")),
	       get_str(doc, "system_health"), plain(p), get_str(doc, "host"),
	       get_str(doc, "ts"));
	printf("%-20s %-5s %-4s %-13s %-9s %5s  %-7s %-13s %s\n", "DEPENDENCY",
	       "KIND", "CRIT", "STATE", "HEALTH", "FAILS", "RETRY",
	       "P50/P95 MS", "LAST ERROR");
	int n = cJSON_GetArraySize(deps);
	const cJSON **rows = calloc((size_t)(n ? n : 1), sizeof *rows);
	if (!rows)
		return;
	for (int i = 0; i < n; i++)
		rows[i] = cJSON_GetArrayItem(deps, i);
	qsort(rows, (size_t)n, sizeof *rows, worst_first);
	for (int i = 0; i < n; i++)
		print_dep(rows[i], p);
	free(rows);
}

static int print_metrics(const cJSON *doc)
{
	char *text = fb_metrics_text(doc, NULL);
	if (!text) {
		fb_cli_error("metrics: out of memory");
		return FB_EXIT_FAIL;
	}
	fputs(text, stdout);
	free(text);
	return FB_EXIT_OK;
}

/* One probe of every dependency, in our own loop, no instance needed. */
static void round_done(void *ctx, uint32_t id, const fb_probe_result *r)
{
	fb_engine *e = ctx;
	fb_engine_probe_end(e, &e->reg.deps[id], fb_now_ms(), r->ok,
	                    r->latency_us, r->error);
}

static cJSON *probe_round(const fb_config *cfg, bool metrics)
{
	fb_engine e;
	fb_loop *loop = fb_loop_new();
	fb_probes *p = NULL;
	cJSON *doc = NULL;
	int64_t longest = 0;
	if (!loop || fb_engine_init(&e, cfg, (uint64_t)getpid(), fb_now_ms(),
	                            NULL, NULL) != 0) {
		fb_loop_free(loop);
		return NULL;
	}
	p = fb_probes_new(loop, e.reg.count, round_done, &e);
	for (uint32_t i = 0; p && i < e.reg.count; i++) {
		fb_dep *d = &e.reg.deps[i];
		if (d->cfg.t[FB_T_TIMEOUT] > longest)
			longest = d->cfg.t[FB_T_TIMEOUT];
		if (fb_engine_probe_begin(&e, d, fb_now_ms(), NULL))
			fb_probes_start(p, i, &d->cfg);
	}
	int64_t end = fb_now_ms() + longest + 1000;
	for (bool busy = true; p && busy && fb_now_ms() < end;) {
		int64_t next = fb_probes_expire(p, fb_now_ms());
		fb_loop_run_once(loop,
		                 (int)(next >= 0 && next < 100 ? next : 100));
		busy = false;
		for (uint32_t i = 0; i < e.reg.count; i++)
			busy = busy || fb_probes_busy(p, i);
	}
	if (p && metrics) /* no instance: no start time, no event log */
		doc = fb_metrics_json(&e, cfg->host, NULL, fb_now_ms(),
		                      fb_wall_ms());
	else if (p)
		doc = fb_status_json(&e, cfg->host, fb_now_ms(), fb_wall_ms());
	fb_probes_free(p);
	fb_loop_free(loop);
	fb_engine_free(&e);
	return doc;
}

/* op is "status", or "metrics" for the document with the totals. */
static cJSON *live_status(const char *config, const char *op, int *code)
{
	fb_config cfg;
	fb_error err;
	if (fb_cli_load_config(config, &cfg) != 0) {
		*code = FB_EXIT_CONFIG;
		return NULL;
	}
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", op);
	cJSON *doc = fb_client_call(cfg.control_socket, req, 5000, &err);
	cJSON_Delete(req);
	fb_config_free(&cfg);
	if (doc && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(doc, "ok"))) {
		snprintf(err.text, sizeof err.text, "the instance refused: %s",
		         get_str(doc, "error"));
		cJSON_Delete(doc);
		doc = NULL;
	}
	if (!doc) {
		fb_cli_error("%s", err.text);
		*code = FB_EXIT_UNAVAILABLE;
		return NULL;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(doc, "ok");
	return doc;
}

int fb_cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"probe", no_argument, NULL, 'p'},
	    {"prometheus", no_argument, NULL, 'P'},
	    {NULL, 0, NULL, 0}};
	const char *config = NULL;
	bool json = false, probe = false, prom = false;
	int c, code = FB_EXIT_FAIL;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:jpP", opts, NULL)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'j')
			json = true;
		else if (c == 'p')
			probe = true;
		else if (c == 'P')
			prom = true;
		else
			break;
	}
	if (c != -1 || optind != argc || (json && prom)) {
		fb_cli_error("usage: fusebox status [--config FILE] "
		             "[--json|--prometheus] [--probe]");
		return FB_EXIT_USAGE;
	}
	cJSON *doc;
	if (probe) {
		fb_config cfg;
		if (fb_cli_load_config(config, &cfg) != 0)
			return FB_EXIT_CONFIG;
		doc = probe_round(&cfg, prom);
		fb_config_free(&cfg);
		if (!doc)
			fb_cli_error("probe round failed: out of memory");
	} else {
		doc = live_status(config, prom ? "metrics" : "status", &code);
	}
	/* a collector reading our output sees the instance down */
	if (!doc && prom && code == FB_EXIT_UNAVAILABLE)
		fputs(fb_metrics_down_text(), stdout);
	if (!doc)
		return code;
	code = FB_EXIT_OK;
	if (prom) {
		code = print_metrics(doc);
	} else if (json) {
		char *text = cJSON_PrintUnformatted(doc);
		if (text)
			printf("%s\n", text);
		free(text);
	} else {
		const char *nc = getenv("NO_COLOR");
		print_table(doc,
		            (paint){isatty(STDOUT_FILENO) && !(nc && nc[0])});
	}
	cJSON_Delete(doc);
	return code;
}
