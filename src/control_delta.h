/* {"op":"delta"} on the control socket: what an attached console needs
 * that events do not carry (counters, latency, timers, recent outcomes,
 * one dependency's detail), sent as what changed since the same
 * connection's previous delta. See control_delta.c for the reply. */
#ifndef FB_CONTROL_DELTA_H
#define FB_CONTROL_DELTA_H

#include <cjson/cJSON.h>

#include "runtime.h"

/* What one connection was last sent. Owned by its client; free with
 * fb_delta_memo_free (NULL is fine). */
typedef struct fb_delta_memo fb_delta_memo;

/* The reply to `req` (caller frees with cJSON_Delete), or NULL when out
 * of memory. *memo is created on the first call and kept up to date. */
cJSON *fb_delta_json(fb_runtime *rt, fb_delta_memo **memo, const cJSON *req);
void fb_delta_memo_free(fb_delta_memo *memo);

#endif
