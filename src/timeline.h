/* A loaded event log, for replay: every event as a small fixed record
 * (the text stays in the mapped file), merged across files by time, with
 * periodic checkpoints of every dependency's state so that the state at
 * any instant is found without replaying from the start. */
#ifndef FB_TIMELINE_H
#define FB_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fusebox/config.h"
#include "logread.h"

#define FB_TL_NONE    0xFFFF /* no dependency */
#define FB_TL_UNKNOWN 0xFF   /* state not seen yet */
#define FB_TL_CKPT    4096   /* events between checkpoints */

typedef struct fb_tl_event {
	int64_t ts_ms;
	uint64_t off; /* of the line in its file */
	uint32_t len;
	uint16_t file;
	uint16_t dep;   /* index into deps, or FB_TL_NONE */
	uint8_t kind;   /* fb_event_kind */
	uint8_t to;     /* transition, shadow: fb_state; health: fb_health;
	               gate: 1 blocked */
	uint8_t health; /* transition: health after it, or FB_TL_UNKNOWN */
} fb_tl_event;

/* The state of everything after some number of events. */
typedef struct fb_tl_state {
	uint8_t *state;  /* per dependency: fb_state or FB_TL_UNKNOWN */
	uint8_t *health; /* per dependency: fb_health or FB_TL_UNKNOWN */
	bool gate_blocked;
} fb_tl_state;

typedef struct fb_timeline {
	fb_log_reader *files;
	size_t nfiles;
	fb_tl_event *ev;
	size_t n;
	char (*deps)[FB_NAME_MAX];
	size_t ndeps;
	uint8_t *ckpt; /* per checkpoint: state[ndeps], health[ndeps], gate */
	long skipped;  /* bad lines */
} fb_timeline;

/* Loads and indexes the logs (two threads parse halves of the input).
 * Returns 0, or -1 with err (a file that cannot be opened). Bad lines are
 * skipped with warnings on stderr unless `quiet`. */
int fb_timeline_load(fb_timeline *tl, char *const *paths, size_t n, bool quiet,
                     char *err, size_t len);
void fb_timeline_free(fb_timeline *tl);

/* How many events happened at or before ts (binary search). */
size_t fb_timeline_count_at(const fb_timeline *tl, int64_t ts_ms);

/* The state after the first `count` events; st's arrays must hold ndeps
 * bytes each. */
void fb_timeline_state(const fb_timeline *tl, size_t count, fb_tl_state *st);

/* Event i, parsed (free ev->json with cJSON_Delete). Returns 0 or -1. */
int fb_timeline_event(const fb_timeline *tl, size_t i, fb_log_event *ev);

#endif
