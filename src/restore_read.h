/* Reading back what the last instance left (restore.h): the checkpoint and
 * the events after it, or every file of the event log, oldest first. */
#ifndef FB_RESTORE_READ_H
#define FB_RESTORE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"
#include "lasting.h"

/* How the reading went, for the one line that says so. */
typedef struct fb_restore_source {
	bool from_checkpoint; /* else the whole log was read */
	uint64_t checkpoint_seq;
	long events;   /* events read from the log */
	int files;     /* log files read */
	long lines;    /* lines in the current log file (LOG), when read */
	char why[300]; /* why the whole log was read: "" when the checkpoint
	                  was simply missing */
	bool missing;  /* there was no checkpoint */
	fb_log_place place; /* from_checkpoint: where it stands */
} fb_restore_source;

/* Fills the initialised, empty *l from the checkpoint `ckpt` and the
 * events after it in the log at `log_path` (whose last seq is
 * log_seq), or, when the checkpoint is missing or cannot be believed,
 * from every file of the log (LOG.N ... LOG.1, LOG). Bad lines are
 * skipped with a warning. ttl_ms: how long an allow override lasts. */
void fb_restore_read(fb_lasting *l, const char *ckpt, const char *log_path,
                     uint64_t log_seq, int64_t ttl_ms, fb_restore_source *src);

#endif
