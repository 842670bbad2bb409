/* The destructive-operation gate (SPEC section 3). Pure. */
#ifndef FUSEBOX_GATE_H
#define FUSEBOX_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "fusebox/registry.h"

#define FB_GATE_MODE_TABLE(X)                                                  \
	X(AUTO, "auto",                                                        \
	  "blocked while a critical dependency is down or unknown")            \
	X(BLOCK, "block", "locked by an operator")                             \
	X(ALLOW, "allow", "overridden by an operator until it expires")

#define FB_X_GATE_MODE(id, name, help) FB_GATE_##id,
typedef enum {
	FB_GATE_MODE_TABLE(FB_X_GATE_MODE) FB_GATE_MODE_COUNT
} fb_gate_mode;
#undef FB_X_GATE_MODE

typedef struct fb_gate {
	fb_gate_mode mode;
	int64_t ttl_ms;            /* how long an allow override lasts */
	int64_t override_until_ms; /* allow: when it falls back to auto */
	char reason[160];          /* the operator's reason for block/allow */
	char actor[96];
} fb_gate;

typedef struct fb_gate_decision {
	bool blocked;
	fb_gate_mode mode;
	int64_t retry_after_ms;   /* when the blocking may end: the longest
	                           remaining open wait, startup_grace hold,
	                           or time left to a first probe in flight;
	                           0 when none is known or only an operator
	                           can lift it */
	int64_t override_left_ms; /* allow: time until it expires */
	char reason[400]; /* "System unhealthy: chroma is open; retry in 12s" */
} fb_gate_decision;

const char *fb_gate_mode_name(fb_gate_mode m);
bool fb_gate_mode_parse(const char *name, fb_gate_mode *out);

void fb_gate_init(fb_gate *g, int64_t ttl_ms);

/* Sets the mode; an allow override expires ttl_ms after now. */
void fb_gate_set(fb_gate *g, fb_gate_mode mode, int64_t now_ms,
                 const char *actor, const char *reason);

/* Falls back to auto when an allow override has expired. Returns true
 * when it did. */
bool fb_gate_expire(fb_gate *g, int64_t now_ms);

/* The decision now. In auto mode a critical dependency blocks while it is
 * open or forced open ("System unhealthy: chroma is open; retry in 12s");
 * while half-open: a trial in flight has not proven recovery, and lifting
 * the gate for the few milliseconds of a trial that then fails would let a
 * destructive job through; while startup_grace alone keeps it closed
 * ("api held closed by startup_grace (5 consecutive failures)"); while its
 * health is unknown ("Starting: waiting for the first probe of api"); and
 * while it has only failed since the start ("Starting: no success yet
 * from api"): a fresh instance has no evidence that it is up. Lists name
 * three dependencies, then "and N more". The allowed reason says what
 * holds: "All critical dependencies healthy", or "Allowed: api degraded
 * (recent failures); no critical dependency is down", or "Allowed: no
 * dependency is critical". Does not expire the override: call
 * fb_gate_expire() first. */
void fb_gate_decide(const fb_gate *g, const fb_registry *reg, int64_t now_ms,
                    fb_gate_decision *out);

/* "12s", "3m 05s", "1h 02m": a countdown for people. */
void fb_format_wait(int64_t ms, char *buf, size_t len);

#endif
