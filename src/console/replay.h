/* The past as a console source (model_replay.c: con_past, a con_model
 * over a loaded log with a cursor) and the replay screen over it
 * (replay.c: a timeline bar with markers, the console's own table and
 * log pane showing the model at the cursor, keys to play, step and
 * jump). Read-only by construction: the past has no engine. */
#ifndef FB_CONSOLE_REPLAY_H
#define FB_CONSOLE_REPLAY_H

#include "console/console.h"
#include "timeline.h"
#include "whatif.h"

/* ---- the what-if overlay (replay_whatif.c) ----------------------------- */

/* A transition of the what-if run, for the log pane: after = the
 * timeline's events at or before it (it is shown after those). */
typedef struct con_wi_line {
	int64_t at_ms;
	size_t after;
	uint32_t row;
	fb_state from, to;
} con_wi_line;

/* A what-if run over the whole of a replay's log (`fusebox replay
 * --what-if SET` with the same outcomes), fed in slices so that the
 * screen stays responsive, then per row the run's transitions. */
typedef struct con_whatif {
	fb_whatif_set set;
	fb_config cfg; /* today's settings, when a configuration was found */
	bool has_cfg;
	fb_whatif *w;
	size_t fed;      /* events of the timeline fed so far */
	size_t ran;      /* then dependencies run so far */
	bool ready;      /* the run is done: the overlay can be shown */
	int64_t took_ms; /* from the start to ready, in work (not waiting) */
	fb_whatif_move **moves; /* per row of the model; NULL: not in the log */
	long *nmoves;
	size_t nrows;
	con_wi_line *lines; /* every row's, in time order */
	size_t nlines;
} con_whatif;

struct con_past;
/* Parses `text` (fb_whatif_parse_set) and loads today's settings from
 * `config` (""/NULL: the lookup order; none found: built-in defaults).
 * Returns the overlay to feed with con_whatif_work(), or NULL with a
 * one-line message in err. Free with con_whatif_free(). */
con_whatif *con_whatif_start(const char *text, const char *config, char *err,
                             size_t len);
/* Feeds the timeline's events for about budget_ms, then runs. Returns 1
 * when ready, 0 when there is more to do, -1 (err) when it failed. */
int con_whatif_work(con_whatif *w, const struct con_past *p, int budget_ms,
                    char *err, size_t len);
/* How far con_whatif_work got, in percent. */
int con_whatif_percent(const con_whatif *w, const struct con_past *p);
/* The run's state of `row` at `at_ms`; false when it has none there. */
bool con_whatif_state(const con_whatif *w, size_t row, int64_t at_ms,
                      fb_state *out);
void con_whatif_free(con_whatif *w);

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
	/* the log's `shadow` events of each dependency of tl, as indexes
	 * into tl.ev: those of dependency d are shadow_ev[shadow_at[d] ..
	 * shadow_at[d + 1]) */
	size_t *shadow_at, *shadow_ev;
	con_whatif *whatif; /* the overlay, once ready; NULL when off */
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
	/* the what-if overlay: its prompt (w) and its text, the overlay on
	 * or being computed (then not yet in past), and its progress
	 * ("computing what-if... 40%") */
	bool asking_whatif;
	con_line line;
	con_whatif *whatif;
	char whatif_note[40];
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

/* `fusebox --replay LOG...`: the replay screen on its own; config: the
 * configuration whose settings a what-if (w) starts from (NULL: the
 * lookup order); utc: the log pane's times in UTC (z switches). */
int fb_replay_console_main(char *const *paths, size_t n, const char *config,
                           const char *theme, bool utc);

#endif
