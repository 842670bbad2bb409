/* What the event log says happened: the incident summary (down windows
 * per dependency, gate blocked intervals, operator actions). */
#ifndef FB_REPLAY_H
#define FB_REPLAY_H

#include "logread.h"

typedef struct fb_summary fb_summary;

typedef enum {
	FB_SUMMARY_TEXT,
	FB_SUMMARY_JSON,
	FB_SUMMARY_MARKDOWN
} fb_summary_format;

/* NULL when out of memory. */
fb_summary *fb_summary_new(void);
/* From now on gate events are context for the dependencies fed (replay
 * --summary --dep): they are not counted as events, and only the blocked
 * windows that overlap one of those dependencies' down windows are
 * reported. */
void fb_summary_gate_context(fb_summary *s);
/* Feeds one event; events must come in time order. */
void fb_summary_add(fb_summary *s, const fb_log_event *ev);
void fb_summary_print(const fb_summary *s, fb_summary_format format);
void fb_summary_free(fb_summary *s);

/* A down window: from a move into open or forced_open to the next close
 * (end_ms -1 while still down at the end of the log). */
typedef struct fb_window {
	int64_t start_ms, end_ms;
	char reason[160];
} fb_window;

#endif
