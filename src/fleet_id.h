/* The instance's stable id (SPEC 6, 8): 32 hex digits kept in a file next
 * to the event log (LOG.instance), so that a restart is the same
 * instance and its events keep one (instance, seq) identity. */
#ifndef FB_FLEET_ID_H
#define FB_FLEET_ID_H

#include <stddef.h>

#include "fusebox/config.h"

/* The id of the instance whose event log is log_path: read from
 * LOG.instance, or made (random) and written there atomically when the
 * file does not exist: a temporary file, fsync, then link() so that two
 * starting at once agree on one. A symlink or a file that does not hold
 * an id is refused. out must hold FB_FLEET_ID_LEN + 1 bytes. Returns 0,
 * or -1 with *err. */
int fb_fleet_id_load(const char *log_path, char *out, size_t len,
                     fb_error *err);

#endif
