/* Reading a heartbeat's reply (fleet_scripts.h) into the core's view.
 * The reply comes from the network and from other instances: every
 * shape is checked, every count capped, every text sanitised. */
#ifndef FB_FLEET_VIEW_H
#define FB_FLEET_VIEW_H

#include <hiredis/hiredis.h>

#include "core/fleet.h"

/* Fills *v from r; names (nnames) are the dependencies the heartbeat
 * sent, in order, whose votes come back in that order. Returns 0, or -1
 * with a reason in err when the reply is not a heartbeat's (*v is then
 * partly filled: do not use it). */
int fb_fleet_view_parse(const redisReply *r, const char *const *names,
                        size_t nnames, fb_fleet_view *v, char *err, size_t len);

/* The publish script's reply {cursor, appended}: 0, or -1 when it is
 * not one (an error reply, an odd shape, a cursor that is no number). */
int fb_fleet_published_parse(const redisReply *r, uint64_t *cursor,
                             int64_t *added);

#endif
