/* A fleet of three instances and one redis-server: see fleet_world.h. */
/* cmocka.h needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
/* clang-format on */

#include <signal.h>

#include "fleet_world.h"

const char th_fleet_defaults[] = "interval = 200ms\ntimeout = 300ms\n"
                                 "failure_threshold = 2\nrecovery_timeout = "
                                 "30s\njitter = 0\n";

int th_fleet_init(th_fleet *f, const char *fusebox, const char *fixture_bin,
                  int wait_ms, int cli_ms)
{
	f->fusebox = fusebox;
	f->wait_ms = wait_ms;
	f->cli_ms = cli_ms;
	snprintf(f->defaults, sizeof f->defaults, "%s", th_fleet_defaults);
	f->quorum = 9;
	if (!(f->e = th_env_new(fixture_bin)))
		return -1;
	if (th_redis_start(&f->e->redis, f->e->dir, 0) != 0)
		return -1;
	for (int i = 0; i < TH_FLEET_N; i++) {
		th_fleet_inst *in = &f->in[i];
		int c = 'a' + i;
		snprintf(in->name, sizeof in->name, "%c", c);
		snprintf(in->host, sizeof in->host, "web-%d", i + 1);
		snprintf(in->cfg, sizeof in->cfg, "%s/%c.ini", f->e->dir, c);
		snprintf(in->log, sizeof in->log, "%s/%c.jsonl", f->e->dir, c);
		snprintf(in->sock, sizeof in->sock, "%s/%c.sock", f->e->dir, c);
		snprintf(in->err, sizeof in->err, "%s/%c.err", f->e->dir, c);
	}
	return 0;
}

void th_fleet_free(th_fleet *f)
{
	for (int i = 0; i < TH_FLEET_N; i++)
		if (f->in[i].pid > 0)
			th_kill(f->in[i].pid, SIGKILL, 5000);
	if (f->e)
		th_env_free(f->e);
	f->e = NULL;
}

void th_fleet_show(const th_fleet *f)
{
	for (int i = 0; i < TH_FLEET_N; i++) {
		if (!f->in[i].pid && !f->show_all)
			continue;
		th_show_tail(f->in[i].host, f->in[i].log);
		th_show_tail("stderr", f->in[i].err);
	}
}

void th_fleet_write_config(const th_fleet *f, const th_fleet_inst *in)
{
	FILE *cfg = fopen(in->cfg, "w");
	assert_non_null(cfg);
	fprintf(
	    cfg,
	    "[fusebox]\nlog = %s.jsonl\ncontrol_socket = %s.sock\nhost = "
	    "%s\n%s\n"
	    "[defaults]\n%s\n"
	    "[dep api]\nurl = http://127.0.0.1:%d/api-%s\ncritical = true\n",
	    in->name, in->name, in->host, f->fusebox_extra, f->defaults,
	    f->e->fx.port, in->name);
	if (!f->no_redis)
		fprintf(
		    cfg,
		    "\n[redis]\nurl = redis://127.0.0.1:%d/0\nservice = svc\n"
		    "stale_after = 3s\nquorum = %d\n%s",
		    f->e->redis.port, f->quorum, f->redis_extra);
	assert_int_equal(fclose(cfg), 0);
}

void th_fleet_start(th_fleet *f, int i)
{
	th_fleet_inst *in = &f->in[i];
	th_fleet_write_config(f, in);
	char *argv[] = {(char *)f->fusebox, "run", "--config", in->cfg, NULL};
	in->pid = th_spawn(argv, NULL, in->err);
	assert_true(in->pid > 0);
	if (!th_wait_unix_socket(in->sock, f->wait_ms)) {
		th_fleet_show(f);
		fail_msg("%s does not serve its socket", in->host);
	}
}

int th_fleet_cli(const th_fleet *f, int i, th_result *r,
                 const char *const *args)
{
	char *argv[16];
	size_t n = 0;
	argv[n++] = (char *)f->fusebox;
	while (*args && n < 12)
		argv[n++] = (char *)*args++;
	argv[n++] = "--config";
	argv[n++] = (char *)f->in[i].cfg;
	argv[n] = NULL;
	th_run(argv, f->cli_ms, r);
	return r->code;
}

cJSON *th_fleet_status(const th_fleet *f, int i)
{
	th_result r;
	cJSON *doc = NULL;
	if (TH_FLEET_CLI(f, i, &r, "status", "--fleet", "--json") == 0)
		doc = cJSON_Parse(r.out);
	th_result_free(&r);
	return doc;
}

int th_fleet_live_count(const th_fleet *f, int i)
{
	cJSON *doc = th_fleet_status(f, i);
	int n = doc ? cJSON_GetArraySize(
	                  cJSON_GetObjectItemCaseSensitive(doc, "instances"))
	            : -1;
	cJSON_Delete(doc);
	return n;
}

typedef struct want_live {
	const th_fleet *f;
	int i, n;
} want_live;

static bool has_live(void *ctx)
{
	want_live *l = ctx;
	return th_fleet_live_count(l->f, l->i) == l->n;
}

void th_fleet_wait_live(const th_fleet *f, int i, int n, int ms)
{
	want_live l = {f, i, n};
	if (!th_wait_until(has_live, &l, ms)) {
		th_fleet_show(f);
		fail_msg("%s does not see %d live instances (sees %d)",
		         f->in[i].host, n, th_fleet_live_count(f, i));
	}
}
