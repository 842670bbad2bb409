/* The fleet's decisions (SPEC 8), pure: what the last view read from
 * Redis says, at a time given by the caller. The adapter (src/fleet.c)
 * only moves data between Redis and these structures. */
#ifndef FB_CORE_FLEET_H
#define FB_CORE_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fusebox/registry.h"
#include "fusebox/state.h"

#define FB_FLEET_INST_MAX     64 /* instances kept from one view */
#define FB_FLEET_DEPS_MAX     64 /* dependencies per instance */
#define FB_FLEET_ID_LEN       32 /* hex digits of an instance id */
#define FB_FLEET_TEXT_MAX     160
#define FB_FLEET_HEARTBEAT_MS 1000
#define FB_FLEET_TTL_MS       (3 * FB_FLEET_HEARTBEAT_MS)

/* One dependency as one instance sees it. */
typedef struct fb_fleet_seen {
	char name[64];
	fb_state state;
	fb_health health;
} fb_fleet_seen;

typedef struct fb_fleet_inst {
	char id[FB_FLEET_ID_LEN + 1];
	char host[64];
	char version[32];
	long pid;
	int64_t seen_ms; /* Redis time of its last heartbeat */
	fb_fleet_seen deps[FB_FLEET_DEPS_MAX];
	size_t ndeps;
} fb_fleet_inst;

/* The fleet-wide record of a dependency ({P:S}:dep:NAME). */
typedef struct fb_fleet_dep {
	char name[64];
	char state[16];  /* "" when nothing was decided for the fleet */
	char action[16]; /* what set it: "quorum", "trial", "trial_ok",
	                    "trial_failed", or an operator action */
	int64_t gen;     /* bumped on every change: the fencing token */
	char by[FB_FLEET_ID_LEN + 1];
	char actor[FB_FLEET_TEXT_MAX];
	char reason[FB_FLEET_TEXT_MAX];
	int64_t open_until_ms; /* Redis time */
	char trial_owner[FB_FLEET_ID_LEN + 1];
	int64_t trial_exp_ms; /* Redis time */
	uint32_t trials;      /* failed fleet trials since it opened */
} fb_fleet_dep;

/* The instances that saw a dependency down within the quorum window
 * ({P:S}:dep:NAME:down), as read with the heartbeat. */
typedef struct fb_fleet_votes {
	char name[64];
	char ids[FB_FLEET_INST_MAX][FB_FLEET_ID_LEN + 1];
	size_t n;
} fb_fleet_votes;

/* The fleet gate record ({P:S}:gate). */
typedef struct fb_fleet_gate_rec {
	char mode[8]; /* "" = auto */
	char reason[FB_FLEET_TEXT_MAX];
	char actor[FB_FLEET_TEXT_MAX];
	char by[FB_FLEET_ID_LEN + 1];
	int64_t gen;
} fb_fleet_gate_rec;

/* What one heartbeat read back: every live instance, the fleet gate and
 * the fleet record of each of our dependencies. */
typedef struct fb_fleet_view {
	int64_t redis_ms; /* Redis TIME when it was read */
	fb_fleet_inst inst[FB_FLEET_INST_MAX];
	size_t ninst;
	size_t more; /* live instances beyond the cap, not kept */
	fb_fleet_gate_rec gate;
	fb_fleet_dep deps[FB_FLEET_DEPS_MAX];
	size_t ndeps;
	fb_fleet_votes votes[FB_FLEET_DEPS_MAX];
	size_t nvotes;
} fb_fleet_view;

/* The fleet gate's answer. */
typedef struct fb_fleet_decision {
	bool blocked;
	char reason[512];
} fb_fleet_decision;

/* The fleet gate (SPEC 8), failing closed: allowed only when a view
 * exists (`view` not NULL), is at most stale_after_ms old (age_ms, by
 * the local clock since it was read), the fleet mode is not block, and
 * every critical dependency of `reg` is closed (or forced closed) and has
 * been probed on every live instance of the view. Otherwise blocked,
 * with the reason naming the age or the first instance and dependency
 * that block. `why_none` says why there is no view (may be NULL). */
void fb_fleet_gate_decide(const fb_fleet_view *view, int64_t age_ms,
                          int64_t stale_after_ms, const fb_registry *reg,
                          const char *why_none, fb_fleet_decision *out);

/* The instance `id` in the view, or NULL. */
const fb_fleet_inst *fb_fleet_find_inst(const fb_fleet_view *v, const char *id);
/* The fleet record of dependency `name` in the view, or NULL. */
const fb_fleet_dep *fb_fleet_find_dep(const fb_fleet_view *v, const char *name);

/* Quorum (SPEC 8): how many live instances of the view voted `dep`
 * down; a vote of an instance that is not live does not count. With
 * `quorum` or more, true and the reason ("quorum 2 of 3: web-1, web-2
 * see api down"). */
bool fb_fleet_quorum(const fb_fleet_view *v, const char *dep, int quorum,
                     char *reason, size_t len, int *votes);

/* The fleet's single half-open trial for record r at Redis time now_ms.
 * May `me` take the lease: the record is open, its wait is over, and no
 * unexpired lease is held? */
bool fb_fleet_trial_free(const fb_fleet_dep *r, int64_t now_ms);
/* Does `me` hold the lease with fencing token `token` (the gen its
 * lease was granted at)? A result from an older lease is ignored. */
bool fb_fleet_trial_mine(const fb_fleet_dep *r, const char *me, int64_t token,
                         int64_t now_ms);
/* How long an instance that does not run the trial keeps its breaker
 * open for record r: until the lease ends (or, before anyone holds it,
 * the fleet's wait ends), and `margin_ms` more for the result to come
 * back. */
int64_t fb_fleet_follow_wait(const fb_fleet_dep *r, int64_t now_ms,
                             int64_t margin_ms);

#endif
