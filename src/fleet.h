/* The fleet (SPEC 8): this instance's part in the view its service shares
 * through Redis. Local-first: nothing here is needed for the instance to
 * protect its service; while Redis is away the instance works from its
 * own probes and log, says so, and catches up when Redis is back.
 *
 * Each heartbeat (every second) writes this instance's record and reads
 * the fleet's view back in the same script; every logged event is
 * published exactly once (the cursor script), from memory while caught
 * up and from the log itself after an outage, in seq order. */
#ifndef FB_FLEET_H
#define FB_FLEET_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/fleet.h"
#include "fusebox/event.h"

struct fb_runtime;
typedef struct fb_fleet fb_fleet;

#define FB_FLEET_BATCH_EVENTS 1000        /* events per publish script */
#define FB_FLEET_BATCH_BYTES  (256 << 10) /* and their bytes */
#define FB_FLEET_LIVE_MAX     20000       /* events held while publishing */
#define FB_FLEET_PUB_DEPTH    4           /* publish scripts in flight */

/* Starts the fleet for rt when [redis] is configured (*out NULL when it
 * is not): the instance id next to the log, the password, and a
 * connection that comes up in the loop. A bad password file or id file
 * stops the start. Returns 0, or -1 with *err. */
int fb_fleet_start(struct fb_runtime *rt, fb_fleet **out, fb_error *err);
void fb_fleet_free(fb_fleet *f);

/* Heartbeats, publishing and reconnecting. Returns ms until it wants to
 * run again. */
int64_t fb_fleet_run(fb_fleet *f, int64_t now_ms);

/* A line the event log just took (seq is in it). */
void fb_fleet_logged(fb_fleet *f, const char *line, size_t len);

/* The fleet gate at now_ms (SPEC 8), failing closed. */
void fb_fleet_gate(const fb_fleet *f, int64_t now_ms, fb_fleet_decision *out);

/* The "fleet" part of the status document: connection, id, view age,
 * the fleet gate and every live instance. NULL when out of memory. */
cJSON *fb_fleet_json(const fb_fleet *f, int64_t now_ms);

/* Adds {"fleet":{"message":...}} (the headline below) to a control
 * delta document, so an attached console says so too. */
void fb_fleet_delta_json(const fb_fleet *f, cJSON *o);

/* One line for humans about the connection: "" when all is well, else
 * "fleet: redis down (...), working alone from own probes". */
void fb_fleet_headline(const fb_fleet *f, char *out, size_t len);

/* An operator action for the whole fleet: recorded in Redis for every
 * live instance to apply at its next heartbeat (this one included), with
 * the actor and this instance as its origin. Returns 0, or -1 with *err
 * (Redis away: nothing was done). */
int fb_fleet_operate(fb_fleet *f, fb_action action, const char *dep,
                     const char *actor, const char *reason, fb_error *err);

/* A control request with "fleet": true (status, gate_check, trip,
 * reset, disable, gate): the reply, a new object (caller frees); NULL
 * when out of memory. Works, and says there is no fleet, without
 * [redis]. actor is the peer, as the socket saw it. */
cJSON *fb_fleet_answer(struct fb_runtime *rt, const char *op, const cJSON *req,
                       const char *actor);

/* How many instances the last view held (0 when none yet). */
size_t fb_fleet_live(const fb_fleet *f);

#endif
