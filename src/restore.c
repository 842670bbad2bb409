/* Restoring at start, and the checkpoint that keeps the next start fast. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "checkpoint.h"
#include "restore.h"
#include "restore_read.h"
#include "runtime.h"
#include "stderr_log.h"

struct fb_restore {
	fb_lasting lasting;   /* as of the last event tracked: lasting.seq */
	char path[600];       /* the checkpoint */
	fb_log_place at;      /* just after the last event tracked */
	fb_log_place written; /* where the last checkpoint stands */
	bool failing;         /* the last checkpoint could not be written */
	bool pending;         /* due, held back until FB_RESTORE_EVERY_MS */
	int64_t saved_ms;     /* when the last checkpoint was written */
	bool dirty;           /* changed at start: write it at once */
	bool lost;            /* an event was written that it never saw */
};

static const char *actor_or_us(const char *actor)
{
	return actor[0] ? actor : "fusebox";
}

/* Writes the checkpoint for the last event tracked. */
static void save(fb_restore *r, const fb_log *log)
{
	fb_error err;
	r->pending = false;
	int rc = fb_checkpoint_write(r->path, log->path, &r->lasting, &r->at,
	                             0600, &err);
	r->written = r->at; /* failing or not: retried at the next change */
	if (rc != 0 && !r->failing)
		fb_stderr_say(LOG_WARNING,
		              "checkpoint %s; a restart reads the whole event "
		              "log until it can be written",
		              err.text);
	else if (rc == 0 && r->failing)
		fb_stderr_say(LOG_NOTICE, "checkpoint %s: written again",
		              r->path);
	r->failing = rc != 0;
}

/* The log now holds an event the fold never saw: no checkpoint can say
 * what it holds any more. The next start reads the whole log. */
static void lose(fb_restore *r, const fb_log *log)
{
	r->lost = true;
	unlink(r->path);
	fb_stderr_say(LOG_WARNING,
	              "checkpoint %s: seq %llu was written without it, so it "
	              "is removed and no longer kept; the next start reads "
	              "the whole event log",
	              r->path, (unsigned long long)log->seq);
}

void fb_restore_track(fb_restore *r, const fb_event *ev, const fb_log *log,
                      int64_t wall_ms, int64_t ttl_ms)
{
	struct stat st;
	if (r->lost)
		return;
	if (log->seq != r->lasting.seq + 1 || fstat(log->fd, &st) != 0) {
		lose(r, log);
		return;
	}
	fb_lasting_event le = {.seq = log->seq,
	                       .wall_ms = wall_ms,
	                       .kind = ev->kind,
	                       .action = ev->action,
	                       .dep = ev->dep,
	                       .from = ev->from,
	                       .to = ev->to,
	                       .actor = ev->actor,
	                       .reason = ev->reason,
	                       .retry_after_ms = ev->retry_after_ms};
	/* another file: the log rotated before this event */
	bool same = (uint64_t)st.st_dev == r->at.dev &&
	            (uint64_t)st.st_ino == r->at.ino;
	r->at = (fb_log_place){.dev = (uint64_t)st.st_dev,
	                       .ino = (uint64_t)st.st_ino,
	                       .offset = log->size,
	                       .line = same ? r->at.line + 1 : 1};
	bool changed = fb_lasting_fold(&r->lasting, &le, ttl_ms);
	if (changed || r->at.ino != r->written.ino ||
	    r->at.dev != r->written.dev ||
	    r->at.offset - r->written.offset >= FB_RESTORE_REWRITE)
		r->pending = true;
	/* the whole fold each time: a storm of transitions (thousands of
	 * breakers opening) is one checkpoint a period, not one each;
	 * what a crash meanwhile loses is read from the log after it */
	fb_restore_tick(r, log, ev->at_ms);
}

int64_t fb_restore_tick(fb_restore *r, const fb_log *log, int64_t now_ms)
{
	if (!r || !r->pending || r->lost)
		return INT64_MAX;
	if (now_ms - r->saved_ms < FB_RESTORE_EVERY_MS)
		return r->saved_ms + FB_RESTORE_EVERY_MS - now_ms;
	save(r, log);
	r->saved_ms = now_ms;
	return INT64_MAX;
}

void fb_restore_free(fb_restore *r, const fb_log *log)
{
	if (!r)
		return;
	if (!r->lost && memcmp(&r->at, &r->written, sizeof r->at) != 0)
		save(r, log);
	fb_lasting_free(&r->lasting);
	free(r);
}

/* ---- restoring ---------------------------------------------------------- */

/* One dependency: its forced state, else its open wait. Returns true
 * when something was restored. */
static bool restore_dep(fb_runtime *rt, const fb_lasting_dep *d, int64_t now_ms,
                        int64_t wall_ms)
{
	char why[FB_LASTING_TEXT + 40];
	fb_error err;
	int rc;
	if (d->forced != FB_STATE_CLOSED) {
		fb_lasting_restored_reason(why, sizeof why, d->forced_seq,
		                           d->reason);
		rc = fb_engine_operate(
		    &rt->engine,
		    d->forced == FB_STATE_FORCED_OPEN ? FB_ACT_TRIP
		                                      : FB_ACT_DISABLE,
		    d->name, now_ms, actor_or_us(d->actor), why, &err);
	} else if (d->open) {
		int64_t left = d->open_until_ms - wall_ms;
		fb_lasting_restored_reason(why, sizeof why, d->open_seq,
		                           d->open_reason);
		rc = fb_engine_restore_open(&rt->engine, d->name, now_ms,
		                            left > 0 ? left : 0, d->step, why,
		                            &err);
	} else {
		return false;
	}
	if (rc != 0)
		fb_stderr_say(LOG_WARNING, "restore: %s", err.text);
	return rc == 0;
}

/* The gate mode; an allow that ended while no instance ran is not
 * restored. Returns true when something was. */
static bool restore_gate(fb_restore *r, fb_runtime *rt, int64_t now_ms,
                         int64_t wall_ms)
{
	const fb_lasting_gate g = r->lasting.gate;
	char why[FB_LASTING_TEXT + 40], ts[40];
	fb_error err;
	fb_lasting_restored_reason(why, sizeof why, g.seq, g.reason);
	if (g.mode == FB_GATE_BLOCK)
		return fb_engine_operate(&rt->engine, FB_ACT_GATE_BLOCK, NULL,
		                         now_ms, actor_or_us(g.actor), why,
		                         &err) == 0;
	if (g.mode != FB_GATE_ALLOW)
		return false;
	if (g.until_ms > wall_ms) {
		fb_engine_restore_allow(&rt->engine, now_ms,
		                        g.until_ms - wall_ms,
		                        actor_or_us(g.actor), why);
		return true;
	}
	fb_format_rfc3339(g.until_ms, ts, sizeof ts);
	fb_stderr_say(LOG_NOTICE,
	              "restore: the gate's allow override (seq %llu) ended at "
	              "%s, while no instance ran; the gate is auto",
	              (unsigned long long)g.seq, ts);
	memset(&r->lasting.gate, 0, sizeof r->lasting.gate);
	r->lasting.gate.mode = FB_GATE_AUTO;
	r->dirty = true;
	return false;
}

/* Decisions about dependencies that are no longer configured are said
 * once, then forgotten. */
static void forget_unconfigured(fb_restore *r, const fb_registry *reg)
{
	char names[512] = "";
	size_t n = 0;
	for (size_t i = 0; i < r->lasting.count;) {
		const char *name = r->lasting.deps[i].name;
		if (fb_registry_find(reg, name)) {
			i++;
			continue;
		}
		size_t used = strlen(names);
		if (used + 1 < sizeof names)
			snprintf(names + used, sizeof names - used, "%s%s",
			         n ? ", " : "", name);
		n++;
		fb_lasting_forget(&r->lasting, name); /* the last moves to i */
		r->dirty = true;
	}
	if (n)
		fb_stderr_say(LOG_NOTICE,
		              "restore: %zu dependenc%s in the event log %s no "
		              "longer configured, so not restored: %s",
		              n, n == 1 ? "y" : "ies", n == 1 ? "is" : "are",
		              names);
}

/* Restores everything, dependencies in config order, then the gate.
 * Returns how many things were restored. */
static int apply(fb_restore *r, fb_runtime *rt)
{
	int64_t now = fb_now_ms(), wall = fb_wall_ms();
	const fb_registry *reg = &rt->engine.reg;
	int n = 0;
	forget_unconfigured(r, reg);
	for (size_t i = 0; i < reg->count; i++) {
		const fb_lasting_dep *found =
		    fb_lasting_find(&r->lasting, reg->deps[i].cfg.name);
		fb_lasting_dep d;
		if (!found)
			continue;
		d = *found; /* the events it causes are folded in meanwhile */
		n += restore_dep(rt, &d, now, wall);
	}
	n += restore_gate(r, rt, now, wall);
	if (r->lasting.dropped)
		fb_stderr_say(
		    LOG_WARNING,
		    "restore: %zu decisions in the event log were not "
		    "kept (more than %d dependencies, or out of "
		    "memory)",
		    r->lasting.dropped, FB_LASTING_DEPS_MAX);
	return n;
}

/* Says why the whole log was read, when it was. */
static void say_why(const fb_restore_source *src, const char *ckpt,
                    uint64_t log_seq)
{
	if (!src->from_checkpoint && src->missing && log_seq > 1)
		fb_stderr_say(
		    LOG_NOTICE,
		    "restore: no checkpoint %s, so the whole event log "
		    "was read",
		    ckpt);
	else if (!src->from_checkpoint && !src->missing)
		fb_stderr_say(LOG_WARNING,
		              "restore: checkpoint %s not used: %s; the whole "
		              "event log was read instead",
		              ckpt, src->why);
}

/* Says what was restored, from where, when anything was or the whole log
 * had to be read. */
static void say_done(const fb_restore_source *src, uint64_t log_seq,
                     int restored, int64_t read_us, int64_t apply_us)
{
	if (restored > 0 || (!src->from_checkpoint && log_seq > 1))
		fb_stderr_say(LOG_INFO,
		              "restore: %d restored from %s (%d file%s, %ld "
		              "events parsed in %.1f ms; restoring and logging "
		              "took %.1f ms)",
		              restored,
		              src->from_checkpoint
		                  ? "the checkpoint and the events after it"
		                  : "the event log",
		              src->files, src->files == 1 ? "" : "s",
		              src->events, (double)read_us / 1000.0,
		              (double)apply_us / 1000.0);
}

int fb_restore_start(fb_runtime *rt, fb_error *err)
{
	fb_restore *r = calloc(1, sizeof *r);
	fb_restore_source src;
	if (!r) {
		snprintf(err->text, sizeof err->text, "restore: out of memory");
		return -1;
	}
	int64_t t0 = fb_now_us();
	fb_lasting_init(&r->lasting);
	fb_checkpoint_path(r->path, sizeof r->path, rt->log.path);
	fb_restore_read(&r->lasting, r->path, rt->log.path, rt->log.seq,
	                rt->engine.gate.ttl_ms, &src);
	uint64_t seq_before = rt->log.seq; /* the start event's */
	say_why(&src, r->path, seq_before);
	int64_t t1 = fb_now_us();
	struct stat st;
	if (fstat(rt->log.fd, &st) == 0)
		r->at = (fb_log_place){.dev = (uint64_t)st.st_dev,
		                       .ino = (uint64_t)st.st_ino,
		                       .offset = rt->log.size,
		                       .line = src.lines};
	r->lasting.seq = rt->log.seq; /* all of the log was read */
	r->written = src.place;
	rt->restore = r; /* from here on, every event is tracked */
	int restored = apply(r, rt);
	/* a checkpoint just read and matched stands while the log has not
	 * moved far from it; anything else is written again at once */
	if (r->dirty || !src.from_checkpoint || r->at.ino != src.place.ino ||
	    r->at.dev != src.place.dev ||
	    r->at.offset - src.place.offset >= FB_RESTORE_REWRITE) {
		save(r, &rt->log);
		r->saved_ms = fb_now_ms();
	}
	say_done(&src, seq_before, restored, t1 - t0, fb_now_us() - t1);
	return 0;
}
