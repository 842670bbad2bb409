/* The past as a console source (model_replay.c: con_past, a con_model
 * over a loaded log with a cursor) and the replay screen over it
 * (replay.c: a timeline bar with markers, the console's own table and
 * log pane showing the model at the cursor, keys to play, step and
 * jump). Read-only by construction: the past has no engine. */
#ifndef FB_CONSOLE_REPLAY_H
#define FB_CONSOLE_REPLAY_H

#include "console/console.h"
#include "timeline.h"

/* ---- the model (model_replay.c) ---------------------------------------- */

typedef struct con_past {
	con_model m; /* first: the past is a model */
	fb_timeline tl;
	size_t pos; /* events at or before the cursor */
	int64_t cursor_ms;
	fb_tl_state st;
	long *dep_of;   /* per row: its dependency in tl, or -1 */
	size_t *starts; /* indexes of the start events, in order */
	size_t nstarts;
	char where[160];
} con_past;

/* Loads the logs; rows are their dependencies and, when `also` is not
 * NULL, those of that model too (the configured ones that may have no
 * event). Returns NULL with *err. */
con_past *con_past_open(char *const *paths, size_t n, const con_model *also,
                        fb_error *err);
/* Puts the cursor at `ms` (clamped to the log) and rebuilds the state. */
void con_past_seek(con_past *p, int64_t ms);
/* To the instant of the next (dir > 0) or previous event. */
void con_past_step(con_past *p, int dir);
int64_t con_past_first_ms(const con_past *p);
int64_t con_past_last_ms(const con_past *p);

/* ---- the screen (replay.c) --------------------------------------------- */

typedef struct con_replay {
	con_past *past;
	bool playing;
	int speed;            /* index into the speed table */
	int64_t last_tick_ms; /* monotonic, while playing */
	bool asking_time;     /* the `g` prompt is open */
	char input[40];
	size_t input_len;
	bool help;      /* the replay's keys are shown */
	char note[120]; /* a one-line message in the hint bar */
	bool done;      /* asked to leave */
	int bar_width;  /* the marker cache is for this width */
	uint8_t *marks; /* per column of the bar: worst event there */
} con_replay;

/* Loads the logs (see con_past_open). Returns NULL with *err. */
con_replay *con_replay_open(char *const *paths, size_t n, const con_model *also,
                            fb_error *err);
void con_replay_free(con_replay *r);

void con_replay_draw(fb_console *c, con_replay *r);
/* Handles a key of the replay screen; false when it is none of its keys
 * (the console's table takes it then). Sets r->done to leave. */
bool con_replay_key(fb_console *c, con_replay *r, int key);
/* Moves the cursor while playing. Returns true when it moved; *next_ms
 * gets the ms until the next tick (-1: not playing). */
bool con_replay_tick(con_replay *r, int64_t now_ms, int64_t *next_ms);

/* `fusebox --replay LOG...`: the replay screen on its own; utc: the log
 * pane's times in UTC (z switches). */
int fb_replay_console_main(char *const *paths, size_t n, const char *theme,
                           bool utc);

#endif
