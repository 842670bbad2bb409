/* Replay mode of the console: a timeline of a log with a cursor; the
 * table shows every dependency's state at the cursor, the log pane the
 * events up to it. Read-only by construction: it has no engine. */
#ifndef FB_CONSOLE_REPLAY_H
#define FB_CONSOLE_REPLAY_H

#include "console/console.h"
#include "timeline.h"

typedef struct con_replay {
	fb_timeline tl;
	size_t pos; /* events at or before the cursor */
	int64_t cursor_ms;
	bool playing;
	int speed;            /* index into the speed table */
	int64_t last_tick_ms; /* monotonic, while playing */
	fb_tl_state st;
	uint16_t *order; /* dependencies, worst first */
	size_t sel, top;
	bool asking_time; /* the `g` prompt is open */
	char input[40];
	size_t input_len;
	char note[120]; /* a one-line message in the hint bar */
	bool done;      /* asked to leave */
	int bar_width;  /* the marker cache is for this width */
	uint8_t *marks; /* per column of the bar: worst event there */
} con_replay;

/* Loads the logs. Returns NULL with *err. */
con_replay *con_replay_open(char *const *paths, size_t n, fb_error *err);
void con_replay_free(con_replay *r);

void con_replay_draw(fb_console *c, con_replay *r);
/* Handles a key; sets r->done to leave. */
void con_replay_key(con_replay *r, int key);
/* Moves the cursor while playing. Returns true when it moved; *next_ms
 * gets the ms until the next tick (-1: not playing). */
bool con_replay_tick(con_replay *r, int64_t now_ms, int64_t *next_ms);

/* `fusebox --replay LOG...`: the replay screen on its own. */
int fb_replay_console_main(char *const *paths, size_t n, const char *theme);

#endif
