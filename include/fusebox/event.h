/* Events: every transition and operator action, as the core reports them
 * (SPEC section 6). The event log stamps them with seq, wall time and
 * host; the console and the fleet publisher read the same records. A
 * `gap` is the event log's own: how many events it could not write. */
#ifndef FUSEBOX_EVENT_H
#define FUSEBOX_EVENT_H

#include <stdint.h>

#include "fusebox/outcomes.h"

#define FB_EVENT_KIND_TABLE(X)                                                 \
	X(START, "start")                                                      \
	X(STOP, "stop")                                                        \
	X(TRANSITION, "transition") X(HEALTH, "health") X(GATE, "gate")        \
	    X(OPERATOR, "operator") X(GAP, "gap") X(OUTCOMES, "outcomes")      \
	    X(SHADOW, "shadow")

#define FB_ACTION_TABLE(X)                                                     \
	X(NONE, "")                                                            \
	X(TRIP, "trip")                                                        \
	X(RESET, "reset")                                                      \
	X(DISABLE, "disable")                                                  \
	X(GATE_BLOCK, "gate_block") X(GATE_ALLOW, "gate_allow")                \
	    X(GATE_AUTO, "gate_auto") X(JOB_START, "job_start")                \
	        X(JOB_END, "job_end")

#define FB_X_EVENT_KIND(id, name) FB_EV_##id,
#define FB_X_ACTION(id, name)     FB_ACT_##id,
typedef enum { FB_EVENT_KIND_TABLE(FB_X_EVENT_KIND) FB_EV_COUNT } fb_event_kind;
typedef enum { FB_ACTION_TABLE(FB_X_ACTION) FB_ACT_COUNT } fb_action;
#undef FB_X_EVENT_KIND
#undef FB_X_ACTION

/* One event. Strings are borrowed: valid only during the callback that
 * receives it. NULL means the field does not apply. */
typedef struct fb_event {
	fb_event_kind kind;
	int64_t at_ms; /* CLOCK_MONOTONIC */
	const char *dep;
	const char *from, *to; /* breaker states, health levels, or gate
	                           decisions ("allowed"/"blocked") */
	const char *health;    /* transition: health after it */
	const char *reason;
	const char *error;   /* transition: last error, sanitised */
	const char *mode;    /* gate: auto, block or allow */
	const char *actor;   /* operator: "name (uid N)" */
	const char *version; /* start, stop */
	const char *config;  /* start, stop: the config file */
	fb_action action;
	int64_t failures;       /* transition; -1 when n/a */
	int64_t retry_after_ms; /* transition, gate; -1 when n/a */
	int64_t lost;        /* gap: events that could not be written; 0 n/a */
	const char *command; /* job_start, job_end: the command line */
	int64_t exit_status; /* job_end: as a shell says it (128 + signal) */
	const fb_outsum *outcomes; /* outcomes: the window written */
	int64_t from_seq; /* outcomes: the last seq before the window (the
	                     event log's, set by whoever logs it); -1 n/a */
} fb_event;

/* Receives events in the order they happen. */
typedef void (*fb_event_fn)(void *ctx, const fb_event *ev);

/* How an event reads to a person, in one line: "chroma closed -> open
 * (5 consecutive failures; retry in 1m 00s): connect: refused",
 * "alice (uid 1000): trip redis -- drill", "gate allowed -> blocked: ...",
 * "12 events lost: event log failing: No space left on device".
 * The one wording used by the console, `fusebox run` and replay. */
void fb_event_describe(const fb_event *ev, char *buf, size_t len);

/* How bad an event is, for colour: bad (open, unhealthy, blocked, a gap),
 * warn (half-open, degraded), forced (operator actions and forced states),
 * good (closed, healthy, allowed) or plain (start, stop). */
typedef enum {
	FB_TONE_PLAIN,
	FB_TONE_GOOD,
	FB_TONE_WARN,
	FB_TONE_BAD,
	FB_TONE_FORCED
} fb_tone;
fb_tone fb_event_tone(const fb_event *ev);

const char *fb_event_kind_name(fb_event_kind k);
const char *fb_action_name(fb_action a);
int fb_event_kind_parse(const char *name, fb_event_kind *out);
int fb_action_parse(const char *name, fb_action *out);

#endif
