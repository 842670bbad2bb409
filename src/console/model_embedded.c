/* The embedded source: this process's own engine (fb_runtime), which
 * serves the control socket and writes the event log while the console
 * shows it. Rows are copied from the registry at each refresh; events
 * come from the runtime's listener, after the log has them. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/model.h"
#include "console/model_fleet.h"
#include "fleet.h"
#include "probe_now.h"
#include "runtime.h"

typedef struct embedded {
	con_model m; /* first: the model is the embedded source */
	fb_runtime *rt;
	unsigned reloads; /* of the runtime, when rows were last built */
	short in_revents; /* of the console's input, from the loop */
	int in_fd;
	char actor[128];
} embedded;

static fb_dep *dep_at(embedded *e, size_t row)
{
	return row < e->rt->engine.reg.count ? &e->rt->engine.reg.deps[row]
	                                     : NULL;
}

static void on_event(void *ctx, const fb_event *ev)
{
	embedded *e = ctx;
	/* an event the log could not take has no seq of its own */
	con_log_add(&e->m, e->rt->log_failing ? 0 : e->rt->log.seq,
	            fb_wall_ms(), ev);
}

static void on_input(void *ctx, int fd, short revents)
{
	embedded *e = ctx;
	(void)fd;
	e->in_revents |= revents;
}

static short step(con_model *m, int in_fd, int max_ms)
{
	embedded *e = (embedded *)m;
	if (in_fd != e->in_fd) {
		if (e->in_fd >= 0)
			fb_loop_unwatch(e->rt->loop, e->in_fd);
		e->in_fd = in_fd;
		if (in_fd >= 0)
			fb_loop_watch(e->rt->loop, in_fd, POLLIN, on_input, e);
	}
	e->in_revents = 0;
	fb_runtime_step(e->rt, max_ms);
	if (e->rt->stopping)
		m->ended = true;
	return e->in_revents;
}

/* Rows, one per dependency, in the registry's order. */
static void build_rows(embedded *e)
{
	size_t n = e->rt->engine.reg.count;
	con_row *rows = realloc(e->m.rows, (n ? n : 1) * sizeof *rows);
	if (!rows)
		return; /* the old rows stay, as they were */
	e->m.rows = rows;
	e->m.nrows = n;
	memset(rows, 0, n * sizeof *rows);
	for (size_t i = 0; i < n; i++) {
		const fb_dep *d = &e->rt->engine.reg.deps[i];
		snprintf(rows[i].name, sizeof rows[i].name, "%s", d->cfg.name);
		rows[i].kind = d->cfg.kind;
		rows[i].critical = d->cfg.critical;
	}
	e->reloads = e->rt->reloads;
	e->m.generation++;
}

static void fill_row(embedded *e, size_t i, int64_t now)
{
	fb_dep *d = &e->rt->engine.reg.deps[i];
	con_row *r = &e->m.rows[i];
	fb_breaker_snapshot s;
	fb_breaker_snapshot_get(d->breaker, &s);
	fb_latency lat = fb_history_latency(&d->history, FB_HISTORY);
	r->known = r->health_known = true;
	r->state = s.state;
	r->health = d->health;
	r->fails = s.consecutive_failures;
	r->p50_ms = lat.p50;
	r->p95_ms = lat.p95;
	r->retry_in_ms =
	    s.state == FB_STATE_OPEN
	        ? (s.open_until_ms > now ? s.open_until_ms - now : 0)
	        : -1;
	int64_t due = fb_sched_due(&e->rt->sched, (uint32_t)i);
	r->next_in_ms = due < 0 ? -1 : due > now ? due - now : 0;
	snprintf(r->error, sizeof r->error, "%s", d->last_error);
	fb_call_rate calls = fb_call_stats_minute(&d->calls, now);
	r->calls_min = calls.calls;
	r->calls_failed_min = calls.failed;
	r->calls_total = (int64_t)d->calls.total;
	r->nrecent = (uint8_t)(d->history.len < CON_RECENT ? d->history.len
	                                                   : CON_RECENT);
	for (uint32_t k = 0; k < r->nrecent; k++)
		r->recent[k] = *fb_history_at(&d->history, k);
	r->has_shadow = d->shadow != NULL;
	if (d->shadow)
		r->shadow = fb_breaker_state(d->shadow);
}

/* The shadow breaker of the detail pane: its state and the shadow.KEY
 * settings. */
static void detail_shadow(const fb_dep *d, con_detail *out)
{
	fb_breaker_snapshot s;
	if (!d->shadow)
		return;
	fb_breaker_snapshot_get(d->shadow, &s);
	out->has_shadow = true;
	out->shadow = s.state;
	out->shadow_fails = s.consecutive_failures;
	for (int i = 0; i < FB_TUNABLE_COUNT; i++) {
		if (!(d->cfg.shadow.set & (1u << i)))
			continue;
		con_setting *st = &out->shadow_settings[out->nshadow++];
		snprintf(st->key, sizeof st->key, "%s",
		         fb_tunable_key((fb_tunable)i));
		fb_tunable_format((fb_tunable)i, d->cfg.shadow.v[i], st->value,
		                  sizeof st->value);
		snprintf(st->source, sizeof st->source, "shadow");
	}
}

static void refresh(con_model *m)
{
	embedded *e = (embedded *)m;
	int64_t now = fb_now_ms();
	if (e->reloads != e->rt->reloads || m->nrows != e->rt->engine.reg.count)
		build_rows(e);
	for (size_t i = 0; i < m->nrows; i++)
		fill_row(e, i, now);
	fb_engine_gate(&e->rt->engine, now, &m->gate);
	m->gate_ttl_ms = e->rt->engine.gate.ttl_ms;
	m->system = fb_system_health(&e->rt->engine.reg);
	const fb_backlog *b = &e->rt->backlog;
	con_log_trouble(m->log_trouble, sizeof m->log_trouble,
	                fb_backlog_failing(b) ? strerror(b->err) : NULL, b->len,
	                b->dropped);
	if (e->rt->fleet)
		fb_fleet_headline(e->rt->fleet, m->fleet_note,
		                  sizeof m->fleet_note);
	snprintf(m->src.host, sizeof m->src.host, "%s", e->rt->cfg.host);
	snprintf(m->src.brief, sizeof m->src.brief, "embedded");
	snprintf(m->src.where, sizeof m->src.where, "%.100s (embedded)",
	         e->rt->cfg.host);
	snprintf(m->log_path, sizeof m->log_path, "%s", e->rt->cfg.log);
	snprintf(m->config_path, sizeof m->config_path, "%s", e->rt->cfg.path);
}

static bool detail(con_model *m, size_t row, con_detail *out)
{
	embedded *e = (embedded *)m;
	fb_dep *d = dep_at(e, row);
	if (!d)
		return false;
	memset(out, 0, sizeof *out);
	snprintf(out->url, sizeof out->url, "%s", d->cfg.url);
	fb_breaker_snapshot_get(d->breaker, &out->snap);
	out->for_ms = out->snap.last_change_ms < 0
	                  ? -1
	                  : fb_now_ms() - out->snap.last_change_ms;
	out->history = d->history;
	for (int i = 0; i < FB_TUNABLE_COUNT; i++) {
		con_setting *s = &out->settings[out->nsettings++];
		snprintf(s->key, sizeof s->key, "%s",
		         fb_tunable_key((fb_tunable)i));
		fb_tunable_format((fb_tunable)i, d->cfg.t[i], s->value,
		                  sizeof s->value);
		snprintf(s->source, sizeof s->source, "%s",
		         fb_source_name(d->cfg.source[i]));
	}
	detail_shadow(d, out);
	return true;
}

static int act(con_model *m, fb_action action, const char *dep,
               const char *reason, char *msg, size_t len)
{
	embedded *e = (embedded *)m;
	fb_error err;
	if (fb_runtime_operate(e->rt, action, dep, e->actor, reason, &err)) {
		snprintf(msg, len, "%s refused: %s", fb_action_name(action),
		         err.text);
		return -1;
	}
	snprintf(msg, len, "done: %s%s%s, logged as %s", fb_action_name(action),
	         dep ? " " : "", dep ? dep : "", e->actor);
	return 0;
}

static int probe(con_model *m, const char *dep, char *msg, size_t len)
{
	return fb_probe_now(((embedded *)m)->rt, dep, msg, len);
}

static con_model *fleet(con_model *m, fb_error *err)
{
	embedded *e = (embedded *)m;
	if (!e->rt->fleet) {
		snprintf(err->text, sizeof err->text,
		         "no fleet: this instance has no [redis] section");
		return NULL;
	}
	return con_fleet_open(m, e->rt, NULL, e->actor, err);
}

static void free_embedded(con_model *m)
{
	embedded *e = (embedded *)m;
	if (e->in_fd >= 0)
		fb_loop_unwatch(e->rt->loop, e->in_fd);
	e->rt->listener = NULL;
	fb_runtime_stop(e->rt, m->ended ? "signal" : "console quit");
	free(e->rt);
	free(m->rows);
	free(e);
}

static const con_model_ops ops = {
    .step = step,
    .refresh = refresh,
    .detail = detail,
    .act = act,
    .probe = probe,
    .free = free_embedded,
    .fleet = fleet,
};

con_model *con_model_embedded(fb_runtime *rt, const char *actor, fb_error *err)
{
	embedded *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(err->text, sizeof err->text, "out of memory");
		return NULL;
	}
	e->m.ops = &ops;
	e->rt = rt;
	e->in_fd = -1;
	snprintf(e->actor, sizeof e->actor, "%s", actor);
	e->m.src.live = true;
	e->m.src.actions = true;
	e->m.src.age_ms = -1;
	/* what the log already holds, then what happens from now on */
	con_log_backfill(&e->m, rt->cfg.log, 0);
	rt->listener = on_event;
	rt->listener_ctx = e;
	build_rows(e);
	refresh(&e->m);
	return &e->m;
}
