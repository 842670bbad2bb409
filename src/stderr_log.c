/* Event and diagnostic lines on stderr, for a person or for the journal. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "eventlog.h"
#include "stderr_log.h"

static bool to_is(const fb_event *ev, const char *state)
{
	return ev->to && strcmp(ev->to, state) == 0;
}

int fb_event_priority(const fb_event *ev)
{
	switch (ev->kind) {
	case FB_EV_TRANSITION:
		if (to_is(ev, "open") || to_is(ev, "forced_open"))
			return LOG_WARNING;
		return to_is(ev, "forced_closed") ? LOG_NOTICE : LOG_INFO;
	case FB_EV_HEALTH:
		if (to_is(ev, "unhealthy"))
			return LOG_WARNING;
		return to_is(ev, "degraded") ? LOG_NOTICE : LOG_INFO;
	case FB_EV_GATE: return to_is(ev, "blocked") ? LOG_WARNING : LOG_INFO;
	case FB_EV_OPERATOR: return LOG_NOTICE;
	default: return LOG_INFO;
	}
}

const char *fb_priority_name(int priority)
{
	static const char *const names[] = {"EMERG", "ALERT",   "CRIT",
	                                    "ERR",   "WARNING", "NOTICE",
	                                    "INFO",  "DEBUG"};
	return priority >= 0 && priority < 8 ? names[priority] : "?";
}

/* "DEV:INODE", both decimal, nothing else. */
static bool parse_stream(const char *s, unsigned long long *dev,
                         unsigned long long *ino)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*dev = strtoull(s, &end, 10);
	if (errno || *end != ':' || end[1] < '0' || end[1] > '9')
		return false;
	*ino = strtoull(end + 1, &end, 10);
	return errno == 0 && *end == '\0';
}

bool fb_stderr_is_journal(void)
{
	unsigned long long dev, ino;
	struct stat st;
	if (!parse_stream(getenv("JOURNAL_STREAM"), &dev, &ino) ||
	    fstat(2, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void fb_stderr_event(const fb_event *ev, int64_t wall_ms)
{
	char ts[40], text[768];
	int prio = fb_event_priority(ev);
	fb_event_describe(ev, text, sizeof text);
	if (fb_stderr_is_journal()) {
		fprintf(stderr, "<%d>%s\n", prio, text);
		return;
	}
	fb_format_rfc3339(wall_ms, ts, sizeof ts);
	fprintf(stderr, "%s %s %s\n", ts, fb_priority_name(prio), text);
}

void fb_stderr_say(int priority, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (fb_stderr_is_journal())
		fprintf(stderr, "<%d>%s\n", priority, text);
	else
		fprintf(stderr, "fusebox: %s\n", text);
}
