/* `fusebox status --probe`: one probe of every dependency in a loop of our
 * own, no instance needed (for cron and CI), printed as `status` prints
 * the live state. Part of fusebox-engine: it needs libcurl. */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "metrics_doc.h"
#include "probe.h"
#include "status.h"

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

int fb_status_probe(int argc, char **argv, const char *config,
                    fb_status_format fmt)
{
	(void)argc;
	(void)argv;
	fb_config cfg;
	if (fb_cli_load_config(config, &cfg) != 0)
		return FB_EXIT_CONFIG;
	cJSON *doc = probe_round(&cfg, fmt == FB_STATUS_PROMETHEUS);
	fb_config_free(&cfg);
	if (!doc) {
		fb_cli_error("probe round failed: out of memory");
		return FB_EXIT_FAIL;
	}
	int code = fb_status_print(doc, fmt);
	cJSON_Delete(doc);
	return code;
}
