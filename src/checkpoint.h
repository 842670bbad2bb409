/* The checkpoint, LOG.state: what must outlast the instance (lasting.h)
 * as of one seq of the event log, and the place in the log where the
 * events after that seq begin. A start reads it and those few events
 * instead of the whole log. A cache, never the record: when it is
 * missing, corrupt or another log's, the log itself is read. */
#ifndef FB_CHECKPOINT_H
#define FB_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fusebox/config.h"
#include "lasting.h"

#define FB_CHECKPOINT_MAX (4 << 20) /* bytes read back at most */

/* Where in the log a checkpoint stands. */
typedef struct fb_log_place {
	uint64_t dev, ino; /* the log file holding the event of its seq */
	int64_t offset;    /* where the next event starts in that file */
	int64_t line;      /* lines in that file before offset */
} fb_log_place;

/* LOG.state */
void fb_checkpoint_path(char *buf, size_t len, const char *log_path);

/* Replaces the checkpoint atomically (temp file, fsync, rename, fsync of
 * the folder), created with `mode`. Returns 0, or -1 with *err (the old
 * one then stays). */
int fb_checkpoint_write(const char *path, const char *log_path,
                        const fb_lasting *l, const fb_log_place *at,
                        mode_t mode, fb_error *err);

/* Reads the checkpoint into an initialised, empty *l and *at. Returns 0;
 * 1 when there is none; -1 with why when it cannot be believed (not a
 * regular file of ours, unreadable, too big, corrupt, written for another
 * log). On -1, *l may hold part of it: free it. */
int fb_checkpoint_read(const char *path, const char *log_path, fb_lasting *l,
                       fb_log_place *at, char *why, size_t len);

#endif
