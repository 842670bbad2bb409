/* `fusebox health DEP... [--wait SECONDS]`: may a heavy job go on? For
 * shell and cron: exit 0 when every DEP is healthy, 1 when the worst is
 * degraded, 75 when one is unhealthy or unknown -- and 75 when no
 * instance answers (fail closed), with the reason. --wait asks again
 * until every DEP is healthy or the time is up. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "client.h"
#include "clock.h"
#include "core/parse.h"
#include "fusebox/registry.h"
#include "fusebox/sanitize.h"
#include "fusebox/state.h"

#define ASK_TIMEOUT_MS 2000
#define POLL_MS        250

typedef struct health_opts {
	const char *config;
	int64_t wait_ms; /* -1: ask once */
	char **deps;
	int ndeps;
} health_opts;

static const char *text(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *find(const cJSON *doc, const char *name)
{
	const cJSON *d;
	cJSON_ArrayForEach(
	    d, cJSON_GetObjectItemCaseSensitive(doc, "dependencies"))
	{
		const char *s = text(d, "service");
		if (s && strcmp(s, name) == 0)
			return d;
	}
	return NULL;
}

static int code_of(fb_health h)
{
	return h == FB_HEALTH_HEALTHY    ? FB_EXIT_OK
	       : h == FB_HEALTH_DEGRADED ? FB_EXIT_FAIL
	                                 : FB_EXIT_TEMPFAIL;
}

/* The exit code the document gives for the wanted dependencies (the
 * worst of theirs), with a line each on stdout when `say`. A dependency
 * the instance does not have is a usage error. */
static int judge(const cJSON *doc, const health_opts *o, bool say)
{
	int worst = FB_EXIT_OK;
	for (int i = 0; i < o->ndeps; i++) {
		const cJSON *d = find(doc, o->deps[i]);
		fb_health h = FB_HEALTH_UNKNOWN;
		const char *hs = d ? text(d, "health") : NULL;
		if (!d && !say)
			return FB_EXIT_USAGE;
		if (!d) {
			char name[FB_NAME_MAX * 2];
			fb_sanitize(name, sizeof name, o->deps[i],
			            strlen(o->deps[i]));
			fb_cli_error("health: the instance has no dependency "
			             "'%s'",
			             name);
			return FB_EXIT_USAGE;
		}
		if (!hs || !fb_health_parse(hs, &h))
			h = FB_HEALTH_UNKNOWN;
		int code = code_of(h); /* 0 < 1 < 75: the worst is the most */
		worst = code > worst ? code : worst;
		if (say) {
			char err[FB_ERROR_MAX];
			const char *e = text(d, "last_error");
			fb_sanitize(err, sizeof err, e ? e : "",
			            e ? strlen(e) : 0);
			printf("%s: %s (%s)%s%s\n", o->deps[i],
			       fb_health_name(h),
			       text(d, "state") ? text(d, "state") : "?",
			       h != FB_HEALTH_HEALTHY && err[0] ? ": " : "",
			       h != FB_HEALTH_HEALTHY ? err : "");
		}
	}
	return worst;
}

/* Asks until the answer is 0, a usage error, or the deadline passes;
 * prints the last answer. */
static int ask(const fb_config *cfg, const health_opts *o)
{
	int64_t deadline = fb_now_ms() + (o->wait_ms > 0 ? o->wait_ms : 0);
	cJSON *req = cJSON_CreateObject();
	if (!req || !cJSON_AddStringToObject(req, "op", "status")) {
		cJSON_Delete(req);
		fb_cli_error("out of memory");
		return FB_EXIT_TEMPFAIL;
	}
	for (;;) {
		fb_error err;
		cJSON *doc = fb_client_call(cfg->control_socket, req,
		                            ASK_TIMEOUT_MS, &err);
		int64_t left = deadline - fb_now_ms();
		bool last = left <= 0;
		int code = doc ? judge(doc, o, false) : FB_EXIT_TEMPFAIL;
		if (doc &&
		    (code == FB_EXIT_OK || code == FB_EXIT_USAGE || last))
			code = judge(doc, o, true);
		cJSON_Delete(doc);
		if (!doc && last) {
			printf("unhealthy: %s; fail closed\n", err.text);
			fb_cli_error("health: %s", err.text);
		}
		if (code == FB_EXIT_OK || code == FB_EXIT_USAGE || last) {
			cJSON_Delete(req);
			return code;
		}
		struct timespec ts = {0, (left < POLL_MS ? left : POLL_MS) *
		                             1000000L};
		nanosleep(&ts, NULL);
	}
}

int fb_cmd_health(int argc, char **argv)
{
	static const struct option opts[] = {FB_OPTS_HEALTH(FB_X_GETOPT){0}};
	health_opts o = {.wait_ms = -1};
	const char *why;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = fb_cli_getopt(argc, argv, opts)) != -1) {
		if (c == 'c')
			o.config = optarg;
		else if (c == 'w' &&
		         fb_parse_duration(optarg, &o.wait_ms, &why) == 0)
			continue;
		else
			return fb_cli_usage_error("health");
	}
	if (optind == argc)
		return fb_cli_usage_error("health");
	o.deps = argv + optind;
	o.ndeps = argc - optind;
	fb_config cfg;
	if (fb_cli_load_config(o.config, &cfg) != 0)
		return FB_EXIT_CONFIG;
	int code = ask(&cfg, &o);
	fb_config_free(&cfg);
	return code;
}
