/* `fusebox status [--json|--prometheus] [--probe]`: the live state from
 * the running instance, printed with the gate first and the worst
 * dependencies next, as JSON, or as metrics. One probe round of our own
 * (--probe) is in cli_probe.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "metrics.h"
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
	if (strcmp(health, "unknown") == 0)
		return "\033[2m"; /* no outcome yet: dim, not green */
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
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(d, "shadow");
	if (cJSON_IsObject(sh))
		printf(
		    "  shadow: %s%s\n", get_str(sh, "state"),
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sh, "agrees"))
		        ? ""
		        : " (disagrees with the real breaker)");
}

/* Under the gate, only while the instance cannot write its event log:
 * "EVENT LOG FAILING: No space left on device (12 queued, 0 lost);
 * operator actions are refused". */
static void print_event_log(const cJSON *doc, paint p)
{
	const cJSON *log = cJSON_GetObjectItemCaseSensitive(doc, "event_log");
	if (!cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(log, "ok")))
		return;
	printf("%sEVENT LOG FAILING: %s (%.0f queued, %.0f lost)%s; operator "
	       "actions are refused\n",
	       colour(p, "unhealthy"), get_str(log, "error"),
	       get_num(log, "queued"), get_num(log, "lost"), plain(p));
}

static void print_table(const cJSON *doc, paint p)
{
	const cJSON *gate = cJSON_GetObjectItemCaseSensitive(doc, "gate");
	const cJSON *deps =
	    cJSON_GetObjectItemCaseSensitive(doc, "dependencies");
	const char *decision = get_str(gate, "decision");
	printf("GATE %s%s%s (mode %s): %s\n", colour(p, decision), decision,
	       plain(p), get_str(gate, "mode"), get_str(gate, "reason"));
	print_event_log(doc, p);
	fb_fleet_print_headline(doc);
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

/* op is "status", or "metrics" for the document with the totals. */
static cJSON *live_status(const char *config, const char *op, bool fleet,
                          int *code)
{
	fb_config cfg;
	fb_error err;
	if (fb_cli_load_config(config, &cfg) != 0) {
		*code = FB_EXIT_CONFIG;
		return NULL;
	}
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", op);
	if (fleet)
		cJSON_AddBoolToObject(req, "fleet", true);
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
	static const struct option opts[] = {FB_OPTS_STATUS(FB_X_GETOPT){0}};
	const char *config = NULL;
	bool json = false, probe = false, prom = false, fleet = false;
	int c, code = FB_EXIT_FAIL;
	optind = 0;
	opterr = 0;
	while ((c = fb_cli_getopt(argc, argv, opts)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'j')
			json = true;
		else if (c == 'p')
			probe = true;
		else if (c == 'P')
			prom = true;
		else if (c == 'F')
			fleet = true;
		else
			break;
	}
	if (c != -1 || optind != argc || (json && prom) ||
	    (fleet && (prom || probe)))
		return fb_cli_option_error("status", NULL, c, argc, argv);
	fb_status_format fmt = prom   ? FB_STATUS_PROMETHEUS
	                       : json ? FB_STATUS_JSON
	                              : FB_STATUS_TABLE;
	if (probe)
		return fb_status_probe(argc, argv, config, fmt);
	cJSON *doc =
	    live_status(config, prom ? "metrics" : "status", fleet, &code);
	/* a collector reading our output sees the instance down */
	if (!doc && prom && code == FB_EXIT_UNAVAILABLE)
		fputs(fb_metrics_down_text(), stdout);
	if (!doc)
		return code;
	code = fleet ? fb_fleet_print(doc, json) : fb_status_print(doc, fmt);
	cJSON_Delete(doc);
	return code;
}

int fb_status_print(const cJSON *doc, fb_status_format fmt)
{
	if (fmt == FB_STATUS_PROMETHEUS) {
		char *text = fb_metrics_text(doc, NULL);
		if (!text) {
			fb_cli_error("metrics: out of memory");
			return FB_EXIT_FAIL;
		}
		fputs(text, stdout);
		free(text);
	} else if (fmt == FB_STATUS_JSON) {
		char *text = cJSON_PrintUnformatted(doc);
		if (text)
			printf("%s\n", text);
		free(text);
	} else {
		const char *nc = getenv("NO_COLOR");
		print_table(doc,
		            (paint){isatty(STDOUT_FILENO) && !(nc && nc[0])});
	}
	return FB_EXIT_OK;
}
