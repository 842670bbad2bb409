/* What an instance leaves to the next one (SPEC section 2): the operator's
 * decisions -- forced states with actor and reason, the gate mode with an
 * allow's expiry -- and each open breaker's open wait and backoff step,
 * folded from events in log order. The checkpoint file holds it as JSON.
 *
 * Pure: no I/O and no clock; times are wall milliseconds taken from the
 * events themselves. */
#ifndef FB_LASTING_H
#define FB_LASTING_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fusebox/config.h"
#include "fusebox/event.h"
#include "fusebox/gate.h"
#include "fusebox/state.h"

#define FB_LASTING_DEPS_MAX 4096 /* dependencies remembered at most */
#define FB_LASTING_ACTOR    128
#define FB_LASTING_TEXT     256

/* One event as the fold needs it. Strings are borrowed, NULL when
 * absent. */
typedef struct fb_lasting_event {
	uint64_t seq;
	int64_t wall_ms;
	fb_event_kind kind;
	fb_action action;
	const char *dep, *from, *to, *actor, *reason;
	int64_t retry_after_ms; /* -1 when absent */
} fb_lasting_event;

typedef struct fb_lasting_dep {
	char name[FB_NAME_MAX];
	fb_state forced;     /* FORCED_OPEN or FORCED_CLOSED; CLOSED: none */
	uint64_t forced_seq; /* the operator event that decided it */
	char actor[FB_LASTING_ACTOR], reason[FB_LASTING_TEXT];
	bool open;             /* open (or half-open) when last seen */
	uint64_t open_seq;     /* the transition that opened it */
	int64_t open_until_ms; /* wall time its open wait ends */
	uint32_t step;         /* failed half-open trials since it closed */
	char open_reason[FB_LASTING_TEXT];
} fb_lasting_dep;

typedef struct fb_lasting_gate {
	fb_gate_mode mode; /* AUTO: nothing to restore */
	uint64_t seq;      /* the operator event that set it */
	int64_t until_ms;  /* allow: wall time it falls back to auto */
	char actor[FB_LASTING_ACTOR], reason[FB_LASTING_TEXT];
} fb_lasting_gate;

typedef struct fb_lasting {
	uint64_t seq; /* of the last event folded in */
	fb_lasting_gate gate;
	fb_lasting_dep *deps; /* only those with something to restore */
	size_t count, cap;
	size_t dropped; /* decisions lost: the table was full or no memory */
} fb_lasting;

void fb_lasting_init(fb_lasting *l);
void fb_lasting_free(fb_lasting *l);

/* Folds one event in; an allow override lasts ttl_ms from its event.
 * An event that restored an earlier one (its reason says "restored (seq
 * N)") changes nothing that event did not already say, so restoring
 * twice is restoring once, and the seq kept is the original decision's.
 * Returns true when what would be restored changed. */
bool fb_lasting_fold(fb_lasting *l, const fb_lasting_event *ev, int64_t ttl_ms);

/* The dependency's entry, or NULL. */
const fb_lasting_dep *fb_lasting_find(const fb_lasting *l, const char *name);

/* Forgets a dependency (one no longer configured). */
void fb_lasting_forget(fb_lasting *l, const char *name);

/* "restored (seq 41): vendor outage" in an event of seq 60 gives 41 and
 * *rest "vendor outage"; any other reason gives 0 and *rest = reason ("" for
 * NULL). */
uint64_t fb_lasting_origin(const char *reason, uint64_t seq, const char **rest);

/* Writes "restored (seq N)" and ": reason" when there is one. */
void fb_lasting_restored_reason(char *buf, size_t len, uint64_t seq,
                                const char *reason);

/* Adds the fold's members (seq, gate, deps) to the object `o`. Returns 0,
 * or -1 when out of memory. */
int fb_lasting_to_json(const fb_lasting *l, cJSON *o);

/* Reads back what fb_lasting_to_json() wrote into an initialised, empty
 * *l. Returns 0, or -1 with why (l then holds part of it: free it). */
int fb_lasting_from_json(fb_lasting *l, const cJSON *o, char *why, size_t len);

#endif
