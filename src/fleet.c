/* The fleet adapter: heartbeats, the view, fleet actions. Publishing the
 * log is in fleet_publish.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "clock.h"
#include "fleet_conn.h"
#include "fleet_id.h"
#include "fleet_impl.h"
#include "fleet_scripts.h"
#include "fleet_view.h"
#include "runtime.h"
#include "stderr_log.h"

#define ARGS_MAX (8 + 2 * FB_FLEET_DEPS_MAX)

static void on_state(void *ctx, bool up, const char *why)
{
	fb_fleet *f = ctx;
	f->hb_inflight = false;
	fleet_publish_reset(f);
	if (up) {
		f->next_hb_ms = 0; /* at once */
		fleet_publish_start(f);
		return;
	}
	if (!f->said_down || strcmp(f->said, why) != 0)
		fb_stderr_say(LOG_WARNING,
		              "fleet: %s; working alone from own probes until "
		              "redis is back",
		              why);
	f->said_down = true;
	snprintf(f->said, sizeof f->said, "%s", why);
}

int fb_fleet_start(fb_runtime *rt, fb_fleet **out, fb_error *err)
{
	const fb_redis_config *rc = &rt->cfg.redis;
	char pw[256];
	*out = NULL;
	if (!rc->enabled)
		return 0;
	fb_fleet *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err->text, sizeof err->text, "out of memory");
		return -1;
	}
	f->rt = rt;
	if (fb_fleet_id_load(rt->cfg.log, f->id, sizeof f->id, err) != 0 ||
	    fb_fleet_password(rc, pw, sizeof pw, err) != 0) {
		free(f);
		return -1;
	}
	snprintf(f->prefix, sizeof f->prefix, "{%s:%s}:", rc->prefix,
	         rc->service);
	uint64_t seed = (uint64_t)fb_now_us() ^ ((uint64_t)getpid() << 20);
	f->conn = fb_fleet_conn_new(rt->loop, rc, pw, fb_fleet_scripts,
	                            FB_SCRIPT_COUNT, on_state, f, seed);
	explicit_bzero(pw, sizeof pw);
	f->view = calloc(1, sizeof *f->view);
	f->spare = calloc(1, sizeof *f->spare);
	if (!f->conn || !f->view || !f->spare) {
		fb_fleet_free(f);
		snprintf(err->text, sizeof err->text, "out of memory");
		return -1;
	}
	*out = f;
	return 0;
}

void fb_fleet_free(fb_fleet *f)
{
	if (!f)
		return;
	fb_fleet_conn_free(f->conn); /* pending callbacks still see f */
	fleet_publish_free(f);
	free(f->view);
	free(f->spare);
	free(f);
}

size_t fb_fleet_live(const fb_fleet *f)
{
	return f->has_view ? f->view->ninst : 0;
}

/* ---- heartbeats ---------------------------------------------------------- */

static void on_heartbeat(void *ctx, const redisReply *r)
{
	fb_fleet *f = ctx;
	char err[200];
	f->hb_inflight = false;
	if (!r)
		return; /* the connection went; on_state says so */
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(err, sizeof err, "redis: heartbeat refused: %.*s",
		         (int)(r->len > 150 ? 150 : r->len), r->str);
		fb_fleet_conn_drop(f->conn, err);
		return;
	}
	const fb_registry *reg = &f->rt->engine.reg;
	const char *names[FB_FLEET_DEPS_MAX];
	size_t nd =
	    reg->count < FB_FLEET_DEPS_MAX ? reg->count : FB_FLEET_DEPS_MAX;
	for (size_t i = 0; i < nd; i++)
		names[i] = reg->deps[i].cfg.name;
	if (fb_fleet_view_parse(r, names, nd, f->spare, err, sizeof err) != 0) {
		fb_fleet_conn_drop(f->conn, err);
		return;
	}
	fb_fleet_view *t = f->view;
	f->view = f->spare;
	f->spare = t;
	f->has_view = true;
	f->got_ms = fb_now_ms();
	fb_fleet_conn_confirm(f->conn);
	if (!f->said_up || f->said_down)
		fb_stderr_say(LOG_NOTICE,
		              "fleet: sharing the view of service %s (%zu live "
		              "instance%s) through %s as instance %s",
		              f->rt->cfg.redis.service, f->view->ninst,
		              f->view->ninst == 1 ? "" : "s",
		              f->rt->cfg.redis.url, f->id);
	f->said_up = true;
	f->said_down = false;
	fleet_deps_after_view(f);
}

/* "closed healthy" */
static void local_state(const fb_dep *d, char *out, size_t len)
{
	snprintf(out, len, "%s %s", fb_state_name(fb_breaker_state(d->breaker)),
	         fb_health_name(d->health));
}

static void heartbeat(fb_fleet *f)
{
	static char keys[3 + FB_FLEET_DEPS_MAX][240];
	static char states[FB_FLEET_DEPS_MAX][40];
	const char *argv[ARGS_MAX + 3 + FB_FLEET_DEPS_MAX * 3];
	size_t lens[ARGS_MAX + 3 + FB_FLEET_DEPS_MAX * 3];
	char ttl[16], pid[16], window[24];
	const fb_registry *reg = &f->rt->engine.reg;
	size_t nd =
	    reg->count < FB_FLEET_DEPS_MAX ? reg->count : FB_FLEET_DEPS_MAX;
	int n = 0;
	snprintf(keys[0], sizeof keys[0], "%sinst:%s", f->prefix, f->id);
	snprintf(keys[1], sizeof keys[1], "%sinstances", f->prefix);
	snprintf(keys[2], sizeof keys[2], "%sgate", f->prefix);
	for (size_t i = 0; i < nd; i++)
		snprintf(keys[3 + i], sizeof keys[3 + i], "%sdep:%s", f->prefix,
		         reg->deps[i].cfg.name);
	for (size_t i = 0; i < 3 + nd; i++)
		argv[n++] = keys[i];
	snprintf(ttl, sizeof ttl, "%d", FB_FLEET_TTL_MS);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	argv[n++] = f->id;
	argv[n++] = ttl;
	argv[n++] = f->rt->cfg.host;
	argv[n++] = pid;
	argv[n++] = FB_VERSION;
	argv[n++] = f->prefix;
	snprintf(window, sizeof window, "%lld",
	         (long long)f->rt->cfg.redis.quorum_window_ms);
	argv[n++] = window;
	for (size_t i = 0; i < nd; i++) {
		local_state(&reg->deps[i], states[i], sizeof states[i]);
		argv[n++] = reg->deps[i].cfg.name;
		argv[n++] = states[i];
		argv[n++] = fleet_deps_votes(f, i) ? "1" : "0";
	}
	for (int i = 0; i < n; i++)
		lens[i] = strlen(argv[i]);
	if (fb_fleet_conn_eval(f->conn, FB_SCRIPT_HEARTBEAT, (int)(3 + nd), n,
	                       argv, lens, on_heartbeat, f) == 0)
		f->hb_inflight = true;
}

int64_t fb_fleet_run(fb_fleet *f, int64_t now_ms)
{
	int64_t next = fb_fleet_conn_run(f->conn, now_ms);
	if (next < 0 || next > FB_FLEET_HEARTBEAT_MS)
		next = FB_FLEET_HEARTBEAT_MS;
	if (!fb_fleet_conn_ready(f->conn))
		return next;
	if (!f->hb_inflight && now_ms >= f->next_hb_ms) {
		f->next_hb_ms = now_ms + FB_FLEET_HEARTBEAT_MS;
		heartbeat(f);
	}
	fleet_publish_pump(f);
	int64_t hb = f->next_hb_ms - now_ms;
	return hb < next ? (hb > 0 ? hb : 0) : next;
}

/* ---- what others ask ----------------------------------------------------- */

void fb_fleet_gate(const fb_fleet *f, int64_t now_ms, fb_fleet_decision *out)
{
	const char *why =
	    fb_fleet_conn_ready(f->conn) ? "" : fb_fleet_conn_error(f->conn);
	fb_fleet_gate_decide(f->has_view ? f->view : NULL, now_ms - f->got_ms,
	                     f->rt->cfg.redis.stale_after_ms,
	                     &f->rt->engine.reg, why, out);
}

void fb_fleet_headline(const fb_fleet *f, char *out, size_t len)
{
	if (fb_fleet_conn_ready(f->conn)) {
		out[0] = '\0';
		return;
	}
	const char *why = fb_fleet_conn_error(f->conn);
	snprintf(out, len,
	         "fleet: redis away (%s); working alone from own probes",
	         why[0] ? why : "connecting");
}

static const char *const fields_of[FB_ACT_COUNT] = {
    [FB_ACT_TRIP] = "forced_open",      [FB_ACT_RESET] = "closed",
    [FB_ACT_DISABLE] = "forced_closed", [FB_ACT_GATE_BLOCK] = "block",
    [FB_ACT_GATE_ALLOW] = "allow",      [FB_ACT_GATE_AUTO] = "auto"};

int fb_fleet_operate(fb_fleet *f, fb_action action, const char *dep,
                     const char *actor, const char *reason, fb_error *err)
{
	char key[240];
	bool gate = !dep;
	if (!fb_fleet_conn_ready(f->conn)) {
		snprintf(err->text, sizeof err->text,
		         "not done for the fleet: %s; act on each instance, or "
		         "retry when redis is back",
		         fb_fleet_conn_error(f->conn)[0]
		             ? fb_fleet_conn_error(f->conn)
		             : "redis is not connected yet");
		return -1;
	}
	if (action <= FB_ACT_NONE || action >= FB_ACT_COUNT ||
	    !fields_of[action] ||
	    (dep && !fb_registry_find(&f->rt->engine.reg, dep))) {
		snprintf(err->text, sizeof err->text, "unknown dependency '%s'",
		         dep ? dep : "");
		return -1;
	}
	if (gate)
		snprintf(key, sizeof key, "%sgate", f->prefix);
	else
		snprintf(key, sizeof key, "%sdep:%s", f->prefix, dep);
	/* any gen: an operator's word goes; a trial lease ends with it */
	const char *argv[] = {key,
	                      "",
	                      "",
	                      "",
	                      gate ? "mode" : "state",
	                      fields_of[action],
	                      "action",
	                      fb_action_name(action),
	                      "actor",
	                      actor,
	                      "reason",
	                      reason ? reason : "",
	                      "by",
	                      f->id,
	                      "name",
	                      gate ? "gate" : dep,
	                      "trial_owner",
	                      ""};
	size_t n = sizeof argv / sizeof argv[0];
	size_t lens[sizeof argv / sizeof argv[0]];
	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(argv[i]);
	if (fb_fleet_conn_eval(f->conn, FB_SCRIPT_DECIDE, 1, (int)n, argv, lens,
	                       NULL, NULL) != 0) {
		snprintf(
		    err->text, sizeof err->text,
		    "not done for the fleet: too much is waiting for redis");
		return -1;
	}
	f->next_hb_ms = 0; /* read it back (and apply it here) at once */
	return 0;
}
