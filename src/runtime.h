/* The running instance: config, engine, event loop, scheduler, probes and
 * event log put together. `fusebox run` drives it headless; the console
 * drives the same thing with a screen on top. Owns every adapter; the
 * core never sees any of them. */
#ifndef FB_RUNTIME_H
#define FB_RUNTIME_H

#include <stdbool.h>

#include "backlog.h"
#include "eventlog.h"
#include "fusebox/engine.h"
#include "loop.h"
#include "metrics_doc.h"
#include "metrics_file.h"
#include "scheduler.h"
#include "stamp.h"

typedef struct fb_runtime {
	char config_arg[512]; /* what --config said ("" = lookup order) */
	fb_config cfg;
	fb_engine engine;
	fb_loop *loop;
	fb_sched sched;
	fb_log log;
	fb_backlog backlog; /* events the log could not take yet */
	int sigfd;
	int lock_fd; /* held for life: one instance per event log */
	bool stopping;
	bool log_failing;    /* events wait: the log cannot be written */
	bool info_to_stderr; /* one readable line per event on stderr */
	bool hup_stops;      /* SIGHUP stops (a console) instead of reloading */
	unsigned reloads;    /* bumped by every successful reload */
	fb_event_fn listener; /* also told of every event, after the log */
	void *listener_ctx;
	struct fb_control *control; /* the control socket, when serving */
	struct fb_notify *notify;   /* the service manager (fusebox run) */
	struct fb_restore *restore; /* what outlasts the instance (restore.h) */
	struct fb_fleet *fleet;     /* the fleet over Redis, with [redis] */
	fb_metrics_instance metrics_info; /* start time, event log health */
	fb_metrics_file metrics_file;     /* its writer, when configured */
	fb_stamp stamp; /* wall times and seqs of the events logged */
} fb_runtime;

/* What fb_runtime_start() sets up besides the engine. */
enum {
	FB_RUNTIME_SERVE = 1u << 0,  /* serve the control socket */
	FB_RUNTIME_STDERR = 1u << 1, /* a line per event on stderr, from the
	                                start event on (info_to_stderr) */
};

/* Loads the configuration, opens the log, builds the engine, serves the
 * control socket with FB_RUNTIME_SERVE (refused if another instance
 * serves it) and writes the start event. Returns 0, or -1 with *err and
 * an exit code in *exit_code. The runtime must not move in memory
 * afterwards. */
int fb_runtime_start(fb_runtime *rt, const char *config_path, unsigned flags,
                     fb_error *err, int *exit_code);

/* Runs due probes and timers, then waits for work up to max_wait_ms. */
void fb_runtime_step(fb_runtime *rt, int max_wait_ms);

/* Re-reads the configuration, keeping the state of dependencies that
 * still exist; a bad new config is reported and the old one stays. The
 * service manager, when there is one, hears RELOADING=1 then READY=1. */
void fb_runtime_reload(fb_runtime *rt);

/* Abandons probes in flight, writes the stop event, frees everything. */
void fb_runtime_stop(fb_runtime *rt, const char *reason);

/* Acts as an operator (from the socket or the console), logging who and
 * why, and re-probes a reset dependency at once. Refused while the event
 * log cannot be written (after one more try): an action must be on
 * record. Returns 0, or -1 with *err. */
int fb_runtime_operate(fb_runtime *rt, fb_action action, const char *dep,
                       const char *actor, const char *reason, fb_error *err);

#endif
