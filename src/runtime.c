/* The running instance: wiring, the event sink, signals, reload. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "fleet.h"
#include "notify.h"
#include "restore.h"
#include "runtime.h"
#include "stderr_log.h"

/* The event log's health after a write or a retry: said on stderr once
 * when it starts failing and once when it works again. */
static void log_health(fb_runtime *rt, fb_backlog_change change)
{
	const fb_backlog *b = &rt->backlog;
	if (change == FB_BACKLOG_FAILING)
		fb_stderr_say(LOG_ERR,
		              "event log failing: %s (%s); events wait in "
		              "memory (at most %zu) until it can be written, "
		              "and operator actions are refused",
		              strerror(b->err), rt->log.path, b->cap);
	else if (change == FB_BACKLOG_RECOVERED)
		fb_stderr_say(b->dropped ? LOG_WARNING : LOG_NOTICE,
		              "event log works again: %llu events written "
		              "late, %llu lost%s",
		              (unsigned long long)b->late,
		              (unsigned long long)b->dropped,
		              b->dropped ? " (a gap event says so)" : "");
	rt->log_failing = fb_backlog_failing(b);
	rt->metrics_info.log_ok = !rt->log_failing;
	rt->metrics_info.log_write_errors = b->held_total;
	rt->metrics_info.log_queued = b->len;
	rt->metrics_info.log_lost = b->lost_total;
	if (change != FB_BACKLOG_SAME && rt->notify)
		fb_notify_changed(rt->notify);
}

/* Every event: logged durably first (or held while the log fails), then
 * shown. */
static void on_event(void *ctx, const fb_event *ev)
{
	fb_runtime *rt = ctx;
	int64_t wall = fb_stamp_wall(&rt->stamp, ev->at_ms);
	uint64_t before = rt->log.seq;
	fb_event with_seq;
	if (ev->kind == FB_EV_OUTCOMES && ev->outcomes) {
		with_seq = *ev;
		with_seq.from_seq = (int64_t)fb_stamp_seq_before(
		    &rt->stamp, ev->outcomes->start_ms);
		ev = &with_seq;
	}
	log_health(
	    rt, fb_backlog_log(&rt->backlog, &rt->log, ev, wall, fb_now_ms()));
	if (rt->log.seq != before)
		fb_stamp_note(&rt->stamp, ev->at_ms, rt->log.seq);
	/* folded into the checkpoint with the seq just written; an event
	 * that waited is written out of its turn, and the checkpoint then
	 * gives way to a full read at the next start */
	if (rt->restore && rt->log.seq == before + 1 &&
	    !fb_backlog_failing(&rt->backlog))
		fb_restore_track(rt->restore, ev, &rt->log, wall,
		                 rt->engine.gate.ttl_ms);
	fb_metrics_file_soon(&rt->metrics_file, ev->at_ms);
	if (rt->info_to_stderr)
		fb_stderr_event(ev, wall);
	if (rt->notify)
		fb_notify_changed(rt->notify);
	if (rt->listener)
		rt->listener(rt->listener_ctx, ev);
}

static void lifecycle_event(fb_runtime *rt, fb_event_kind kind,
                            const char *reason)
{
	fb_event ev = {.kind = kind,
	               .at_ms = fb_now_ms(),
	               .version = FB_VERSION,
	               .config = rt->cfg.path,
	               .reason = reason,
	               .failures = -1,
	               .retry_after_ms = -1};
	on_event(rt, &ev);
}

static void on_signal(void *ctx, int fd, short revents)
{
	fb_runtime *rt = ctx;
	struct signalfd_siginfo si;
	(void)revents;
	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP && !rt->hup_stops)
			fb_runtime_reload(rt);
		else
			rt->stopping = true;
	}
}

static int watch_signals(fb_runtime *rt)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN); /* a file size limit is EFBIG, not death */
	rt->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (rt->sigfd < 0)
		return -1;
	return fb_loop_watch(rt->loop, rt->sigfd, POLLIN, on_signal, rt);
}

/* Every line the log takes goes to the control socket's watchers too,
 * the moment it is written (late ones from the backlog included). */
static void publish_line(void *ctx, const char *line, size_t len)
{
	fb_runtime *rt = ctx;
	if (rt->control)
		fb_control_publish(rt->control, line, len);
	if (rt->fleet)
		fb_fleet_logged(rt->fleet, line, len);
}

static int open_log(fb_runtime *rt, fb_error *err)
{
	char warn[1024];
	mode_t mode = rt->cfg.control_group[0] ? 0640 : 0600;
	if (fb_log_open(&rt->log, rt->cfg.log, rt->cfg.host,
	                rt->cfg.log_max_size, rt->cfg.log_keep, mode, warn,
	                sizeof warn, err) != 0)
		return -1;
	if (warn[0])
		fb_stderr_say(LOG_WARNING, "%s", warn);
	rt->log.on_line = publish_line;
	rt->log.on_line_ctx = rt;
	fb_backlog_init(&rt->backlog,
	                fb_backlog_cap_from_env(warn, sizeof warn),
	                FB_BACKLOG_BYTES);
	if (warn[0])
		fb_stderr_say(LOG_WARNING, "%s", warn);
	return 0;
}

int fb_runtime_start(fb_runtime *rt, const char *config_path, unsigned flags,
                     fb_error *err, int *exit_code)
{
	char path[1024];
	bool serve = flags & FB_RUNTIME_SERVE;
	memset(rt, 0, sizeof *rt);
	rt->sigfd = -1;
	rt->lock_fd = -1;
	rt->log.fd = -1;
	rt->info_to_stderr = flags & FB_RUNTIME_STDERR;
	*exit_code = FB_EXIT_CONFIG;
	snprintf(rt->config_arg, sizeof rt->config_arg, "%s",
	         config_path ? config_path : "");
	if (fb_config_locate(config_path, path, sizeof path, err) != 0 ||
	    fb_config_load(path, &rt->cfg, err, NULL) != 0)
		return -1;
	if (fb_config_check_paths(&rt->cfg, err) != 0)
		goto fail_cfg;
	*exit_code = FB_EXIT_FAIL;
	/* one instance per log, decided before anything else is touched */
	if ((rt->lock_fd = fb_log_lock(rt->cfg.log, err)) < 0) {
		if (rt->lock_fd == -2)
			*exit_code = FB_EXIT_TEMPFAIL; /* already running */
		goto fail_cfg;
	}
	if (!(rt->loop = fb_loop_new())) {
		snprintf(err->text, sizeof err->text, "cannot start curl");
		goto fail_cfg;
	}
	/* then the socket: a second instance (on another log) is refused
	 * before it touches this one */
	if (serve && !(rt->control = fb_control_open(rt, err, exit_code)))
		goto fail_loop;
	*exit_code = FB_EXIT_CONFIG;
	if (open_log(rt, err) != 0)
		goto fail_control;
	*exit_code = FB_EXIT_FAIL;
	uint64_t seed = (uint64_t)fb_now_us() ^ ((uint64_t)getpid() << 32);
	if (fb_engine_init(&rt->engine, &rt->cfg, seed, fb_now_ms(), on_event,
	                   rt) != 0 ||
	    watch_signals(rt) != 0 ||
	    fb_sched_init(&rt->sched, &rt->engine, rt->loop, fb_now_ms()) !=
	        0) {
		snprintf(err->text, sizeof err->text, "cannot start: %s",
		         errno ? strerror(errno) : "out of memory");
		goto fail_engine;
	}
	rt->metrics_info.start_wall_ms = fb_wall_ms();
	lifecycle_event(rt, FB_EV_START, NULL);
	/* what the last instance was told survives it, logged after our
	 * start and before anyone is served */
	if (fb_restore_start(rt, err) != 0)
		goto fail_sched;
	if (fb_fleet_start(rt, &rt->fleet, err) != 0) {
		*exit_code = FB_EXIT_CONFIG;
		goto fail_sched;
	}
	return 0;
fail_sched:
	fb_restore_free(rt->restore, &rt->log);
	rt->restore = NULL;
	fb_sched_free(&rt->sched);
fail_engine:
	if (rt->sigfd >= 0)
		close(rt->sigfd);
	fb_engine_free(&rt->engine);
	fb_backlog_free(&rt->backlog);
	fb_log_close(&rt->log);
fail_control:
	fb_control_close(rt->control);
fail_loop:
	fb_loop_free(rt->loop);
fail_cfg:
	if (rt->lock_fd >= 0)
		close(rt->lock_fd);
	fb_config_free(&rt->cfg);
	return -1;
}

/* Tries the waiting events again when due; ms until the next try. */
static int64_t retry_log(fb_runtime *rt, int64_t now, int64_t next)
{
	if (fb_backlog_due(&rt->backlog, now) == 0)
		log_health(
		    rt, fb_backlog_retry(&rt->backlog, &rt->log, now, false));
	int64_t due = fb_backlog_due(&rt->backlog, now);
	return due >= 0 && due < next ? due : next;
}

void fb_runtime_step(fb_runtime *rt, int max_wait_ms)
{
	int64_t now = fb_now_ms();
	int64_t next = fb_sched_run(&rt->sched, now);
	int64_t metrics = fb_metrics_file_run(rt, now);
	if (metrics < next)
		next = metrics;
	next = retry_log(rt, now, next);
	int64_t ckpt = fb_restore_tick(rt->restore, &rt->log, now);
	if (ckpt < next)
		next = ckpt;
	if (rt->fleet) {
		int64_t fleet = fb_fleet_run(rt->fleet, now);
		next = fleet < next ? fleet : next;
	}
	fb_engine_tick(&rt->engine, now);
	if (rt->control)
		fb_control_tick(rt->control, now);
	if (next > max_wait_ms)
		next = max_wait_ms;
	if (next < 0)
		next = 0;
	if (fb_loop_run_once(rt->loop, (int)next) != 0)
		fb_cli_error("event loop: curl failed; continuing");
}

static void reload(fb_runtime *rt)
{
	char path[1024], summary[1200];
	fb_config next;
	fb_error err;
	if (fb_config_locate(rt->config_arg[0] ? rt->config_arg : NULL, path,
	                     sizeof path, &err) != 0 ||
	    fb_config_load(path, &next, &err, NULL) != 0) {
		fb_stderr_say(LOG_WARNING,
		              "reload refused, keeping the running config: %s",
		              err.text);
		return;
	}
	int64_t now = fb_now_ms();
	fb_sched_free(&rt->sched);
	if (fb_engine_reload(&rt->engine, &next, now, summary,
	                     sizeof summary) != 0) {
		fb_stderr_say(
		    LOG_ERR,
		    "reload failed: out of memory; keeping the running config");
		fb_config_free(&next);
	} else {
		fb_config_free(&rt->cfg);
		rt->cfg = next;
		rt->reloads++;
		fb_stderr_say(LOG_NOTICE, "reloaded %s: %s", rt->cfg.path,
		              summary);
	}
	if (fb_sched_init(&rt->sched, &rt->engine, rt->loop, now) != 0) {
		fb_stderr_say(LOG_ERR, "reload: out of memory; stopping");
		rt->stopping = true;
	}
}

void fb_runtime_reload(fb_runtime *rt)
{
	unsigned before = rt->reloads;
	if (rt->notify)
		fb_notify_reloading(rt->notify);
	reload(rt);
	if (rt->notify)
		fb_notify_reloaded(rt->notify, rt, rt->reloads == before);
}

void fb_runtime_stop(fb_runtime *rt, const char *reason)
{
	fb_sched_free(&rt->sched);
	fb_engine_flush_outcomes(&rt->engine, fb_now_ms(), true);
	lifecycle_event(rt, FB_EV_STOP, reason); /* watchers hear it too */
	if (fb_backlog_failing(&rt->backlog))
		fb_stderr_say(
		    LOG_ERR,
		    "event log still failing at stop (%s): %llu "
		    "events were never written",
		    strerror(rt->backlog.err),
		    (unsigned long long)(rt->backlog.len + rt->backlog.lost));
	fb_backlog_free(&rt->backlog);
	fb_restore_free(rt->restore, &rt->log);
	rt->restore = NULL;
	fb_control_close(rt->control);
	rt->control = NULL;
	fb_fleet_free(rt->fleet); /* the stop event waits in the log */
	rt->fleet = NULL;
	fb_metrics_file_down(rt);
	if (rt->sigfd >= 0) {
		fb_loop_unwatch(rt->loop, rt->sigfd);
		close(rt->sigfd);
	}
	fb_loop_free(rt->loop);
	fb_engine_free(&rt->engine);
	fb_log_close(&rt->log);
	if (rt->lock_fd >= 0)
		close(
		    rt->lock_fd); /* the last thing: the next instance may go */
	fb_config_free(&rt->cfg);
}

int fb_runtime_operate(fb_runtime *rt, fb_action action, const char *dep,
                       const char *actor, const char *reason, fb_error *err)
{
	int64_t now = fb_now_ms();
	if (fb_backlog_failing(&rt->backlog))
		log_health(rt,
		           fb_backlog_retry(&rt->backlog, &rt->log, now, true));
	if (fb_backlog_failing(&rt->backlog)) {
		snprintf(err->text, sizeof err->text,
		         "not done: the event log cannot be written (%s); an "
		         "operator action must be on record",
		         strerror(rt->backlog.err));
		return -1;
	}
	if (fb_engine_operate(&rt->engine, action, dep, now, actor, reason,
	                      err) != 0)
		return -1;
	fb_dep *d = dep ? fb_registry_find(&rt->engine.reg, dep) : NULL;
	if (d && action != FB_ACT_TRIP)
		fb_sched_kick(&rt->sched, (uint32_t)(d - rt->engine.reg.deps),
		              now);
	return 0;
}
