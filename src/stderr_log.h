/* The lines `fusebox run` writes on stderr, one per event or diagnostic,
 * each at a syslog level. For a person: "<ts> WARNING <what happened>".
 * When stderr is the journal (the stream JOURNAL_STREAM names, as
 * systemd sets it up): "<4><what happened>", the priority prefix of
 * sd-daemon(3), without the timestamp the journal adds anyway. */
#ifndef FB_STDERR_LOG_H
#define FB_STDERR_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "fusebox/event.h"

/* The syslog priority of an event (LOG_WARNING..., the numbers of
 * sd-daemon.h's SD_WARNING...):
 *   LOG_WARNING  something is now refused or down: a breaker open or
 *                forced open, a dependency unhealthy, the gate blocked;
 *   LOG_NOTICE   worth a look, nothing refused: operator actions, a
 *                breaker forced closed, a dependency degraded;
 *   LOG_INFO     the rest: start, stop, closes, half-open trials,
 *                recoveries, the gate allowed.
 * LOG_ERR is for fusebox's own failures (the event log cannot be
 * written), never for an event. */
int fb_event_priority(const fb_event *ev);

/* "ERR", "WARNING", "NOTICE", "INFO"... ("?" out of range). */
const char *fb_priority_name(int priority);

/* True when fd 2 is the journal stream: JOURNAL_STREAM ("DEV:INODE")
 * matches fstat() of fd 2, as sd-daemon(3) documents. Checked on every
 * call, so a stderr redirected since start is seen as such. */
bool fb_stderr_is_journal(void);

/* One line for one event, at fb_event_priority(). */
void fb_stderr_event(const fb_event *ev, int64_t wall_ms);

/* "fusebox: <message>" at `priority`; the journal form drops the
 * "fusebox: " that the journal shows anyway. */
void fb_stderr_say(int priority, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
