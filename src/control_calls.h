/* The control socket's ops for services and jobs (SPEC sections 3, 7):
 * `allow` and `report` (passive health: the calls services make to their
 * dependencies themselves) and `job` (the start and end of a destructive
 * job run by `fusebox gate exec`). control.c routes them here; the same
 * request caps, deadlines and sanitising apply as to every op.
 *
 * Who may use them: anyone who can reach the socket, which is 0600 in a
 * folder of its own (or 0660 for control_group), so only the instance's
 * own user, root and that group can. No uid check beyond that: a peer
 * that can report can also trip and reset; reports are recorded as
 * counts, not as operator actions, and `job` events carry the peer's uid
 * as their actor like every operator action. */
#ifndef FB_CONTROL_CALLS_H
#define FB_CONTROL_CALLS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "runtime.h"

#define FB_REPORT_MAX_BATCH 1000 /* outcomes in one report request */
#define FB_JOB_COMMAND_MAX  1024 /* bytes of a job's command line kept */

/* Is `op` one of these? */
bool fb_control_calls_op(const char *op);

/* The reply to request `req` (op `op`) from peer `actor`: {"ok":true,..}
 * or {"ok":false,"error":..}. NULL when out of memory (the client is then
 * dropped). The caller owns the reply. */
cJSON *fb_control_calls_answer(fb_runtime *rt, const char *actor,
                               const char *op, const cJSON *req);

#endif
