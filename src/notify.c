/* sd_notify(3) for `fusebox run`. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "notify.h"

/* The service manager reads one assignment per line: a status must not
 * carry a newline of its own. */
static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

/* Sends `msg`; a manager that cannot be told is not our problem to fix
 * (systemd notices a missing READY=1 or WATCHDOG=1 by itself). */
static void send_state(const fb_notify *n, const char *msg)
{
	if (n->on)
		(void)sd_notify(0, msg);
}

void fb_notify_init(fb_notify *n, int64_t now_ms)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	uint64_t usec = 0;
	memset(n, 0, sizeof *n);
	n->on = sock && sock[0];
	if (n->on && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		n->watchdog_ms = (int64_t)(usec / 2000);
		if (n->watchdog_ms < 1)
			n->watchdog_ms = 1;
		n->watchdog_due_ms = now_ms + n->watchdog_ms;
	}
}

/* Appends to buf (NUL-terminated, len bytes); what does not fit is cut. */
__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t len,
                                                         const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;
	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

void fb_notify_status_line(const fb_notify *n, const fb_runtime *rt, char *buf,
                           size_t len)
{
	const fb_registry *reg = &rt->engine.reg;
	fb_gate_decision d;
	size_t bad = 0, meh = 0, unknown = 0;
	fb_engine_gate(&rt->engine, fb_now_ms(), &d);
	for (size_t i = 0; i < reg->count; i++) {
		bad += reg->deps[i].health == FB_HEALTH_UNHEALTHY;
		meh += reg->deps[i].health == FB_HEALTH_DEGRADED;
		unknown += reg->deps[i].health == FB_HEALTH_UNKNOWN;
	}
	buf[0] = '\0';
	if (rt->log_failing)
		append(buf, len, "event log failing: %s (%zu queued); ",
		       strerror(rt->backlog.err), rt->backlog.len);
	if (n->reload_refused)
		append(buf, len, "reload refused, old config running; ");
	append(buf, len, "gate %s", d.blocked ? "blocked" : "allowed");
	if (d.mode != FB_GATE_AUTO)
		append(buf, len, " (%s)", fb_gate_mode_name(d.mode));
	append(buf, len, ", %zu %s", reg->count,
	       reg->count == 1 ? "dependency" : "dependencies");
	if (bad) {
		const char *sep = " (";
		append(buf, len, ", %zu unhealthy", bad);
		for (size_t i = 0; i < reg->count; i++) {
			if (reg->deps[i].health != FB_HEALTH_UNHEALTHY)
				continue;
			append(buf, len, "%s%s", sep, reg->deps[i].cfg.name);
			sep = ", ";
		}
		append(buf, len, ")");
	}
	if (meh)
		append(buf, len, ", %zu degraded", meh);
	if (unknown)
		append(buf, len, ", %zu unknown", unknown);
	if (!bad && !meh && !unknown && reg->count)
		append(buf, len, ", all healthy");
	one_line(buf);
}

/* `head` (may be NULL) and STATUS= with the status line in n->status. */
static void send_status(fb_notify *n, const char *head)
{
	char msg[sizeof n->status + 128];
	snprintf(msg, sizeof msg, "%sSTATUS=%s", head ? head : "", n->status);
	send_state(n, msg);
}

/* Rebuilds the status line; true when it differs from the last one. */
static bool refresh(fb_notify *n, const fb_runtime *rt)
{
	char line[sizeof n->status];
	fb_notify_status_line(n, rt, line, sizeof line);
	n->changed = false;
	if (strcmp(line, n->status) == 0)
		return false;
	memcpy(n->status, line, sizeof line);
	return true;
}

void fb_notify_ready(fb_notify *n, const fb_runtime *rt)
{
	char head[64];
	snprintf(head, sizeof head, "READY=1\nMAINPID=%ld\n", (long)getpid());
	refresh(n, rt);
	send_status(n, head);
}

void fb_notify_reloading(fb_notify *n)
{
	char msg[128];
	snprintf(msg, sizeof msg,
	         "RELOADING=1\nMONOTONIC_USEC=%lld\n"
	         "STATUS=reloading the configuration",
	         (long long)fb_now_us());
	send_state(n, msg);
}

void fb_notify_reloaded(fb_notify *n, const fb_runtime *rt, bool refused)
{
	n->reload_refused = refused;
	fb_notify_ready(n, rt);
}

void fb_notify_stopping(fb_notify *n, const char *why)
{
	char msg[sizeof n->status];
	snprintf(msg, sizeof msg, "STOPPING=1\nSTATUS=stopping: %s", why);
	one_line(msg + strlen("STOPPING=1\n"));
	send_state(n, msg);
}

void fb_notify_changed(fb_notify *n)
{
	n->changed = true;
}

int64_t fb_notify_tick(fb_notify *n, const fb_runtime *rt, int64_t now_ms)
{
	if (!n->on)
		return INT32_MAX;
	if (n->changed && refresh(n, rt))
		send_status(n, NULL);
	if (!n->watchdog_ms)
		return INT32_MAX;
	if (now_ms >= n->watchdog_due_ms) {
		send_state(n, "WATCHDOG=1");
		n->watchdog_due_ms = now_ms + n->watchdog_ms;
	}
	return n->watchdog_due_ms - now_ms;
}
