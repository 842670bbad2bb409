/* Telling the service manager how `fusebox run` is (sd_notify(3), for
 * systemd's Type=notify): ready, reloading, stopping, a one-line status
 * and the watchdog keep-alive. Every call does nothing when
 * NOTIFY_SOCKET is unset, and a service manager that has gone away never
 * stops the engine: what it could not be told is dropped. */
#ifndef FB_NOTIFY_H
#define FB_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime.h"

typedef struct fb_notify {
	bool on;             /* NOTIFY_SOCKET was set */
	bool changed;        /* an event since the last STATUS= */
	bool reload_refused; /* the last reload kept the old config */
	int64_t watchdog_ms; /* WATCHDOG=1 this often; 0 = no watchdog */
	int64_t watchdog_due_ms;
	char status[512]; /* the last STATUS= sent */
} fb_notify;

/* Reads NOTIFY_SOCKET and WATCHDOG_USEC (and WATCHDOG_PID) once. */
void fb_notify_init(fb_notify *n, int64_t now_ms);

/* READY=1 with STATUS= and MAINPID=: the socket is served and the start
 * event is in the log. Also what ends a reload. */
void fb_notify_ready(fb_notify *n, const fb_runtime *rt);

/* RELOADING=1 with MONOTONIC_USEC= (what Type=notify-reload wants). */
void fb_notify_reloading(fb_notify *n);

/* After a reload: READY=1 again; `refused` when the new config was bad
 * (the status then says so until a reload succeeds). */
void fb_notify_reloaded(fb_notify *n, const fb_runtime *rt, bool refused);

/* STOPPING=1, with why in STATUS=. */
void fb_notify_stopping(fb_notify *n, const char *why);

/* The gate or a dependency may have changed: the status is rebuilt at
 * the next fb_notify_tick(). Cheap; call from the event sink. */
void fb_notify_changed(fb_notify *n);

/* Sends WATCHDOG=1 when it is due and STATUS= when it changed. Returns
 * the milliseconds until the next keep-alive is due (INT32_MAX without a
 * watchdog): the loop must not sleep longer. */
int64_t fb_notify_tick(fb_notify *n, const fb_runtime *rt, int64_t now_ms);

/* "gate blocked, 3 dependencies, 1 unhealthy (api), 1 degraded": the
 * status line as systemctl status shows it, after what is wrong with
 * fusebox itself ("event log failing; ", "reload refused, ..."). */
void fb_notify_status_line(const fb_notify *n, const fb_runtime *rt, char *buf,
                           size_t len);

#endif
