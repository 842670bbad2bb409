/* The status document of SPEC section 7, built from the engine: what
 * `fusebox status --json` prints and the socket's status reply. */
#ifndef FB_STATUS_H
#define FB_STATUS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "fusebox/engine.h"

/* Returns a new cJSON object (caller frees with cJSON_Delete), or NULL
 * when out of memory. Monotonic times are shown as wall times. */
cJSON *fb_status_json(const fb_engine *e, const char *host, int64_t now_ms,
                      int64_t wall_ms);

/* The gate decision as {"decision","mode","reason","retry_after_s"};
 * NULL when out of memory. */
cJSON *fb_gate_json(const fb_gate_decision *d);

/* Adds item to the object o under key (to the array o when key is NULL).
 * Returns false, with item freed, when item is NULL or the add failed:
 * documents are built whole or not at all. */
bool fb_json_put(cJSON *o, const char *key, cJSON *item);

#endif
