/* What an operator decided survives the instance (SPEC section 2). At
 * start, the forced states, the gate mode and the open breakers the last
 * instance left are read back -- from the checkpoint and the events after
 * it, or from the whole log when the checkpoint cannot be believed -- and
 * restored through the engine's operator path, each logged again with
 * "restored (seq N)" in its reason. While the instance runs, every event
 * written is folded in, and the checkpoint is rewritten when what would
 * be restored changes (and every FB_RESTORE_REWRITE bytes of log), so
 * the next start reads a few events, not the whole log. */
#ifndef FB_RESTORE_H
#define FB_RESTORE_H

#include <stdint.h>

#include "eventlog.h"
#include "fusebox/config.h"
#include "fusebox/event.h"

#define FB_RESTORE_REWRITE  (1 << 20) /* log bytes between checkpoints */
#define FB_RESTORE_EVERY_MS 1000      /* at most one checkpoint this often */

struct fb_runtime;
typedef struct fb_restore fb_restore;

/* Restores what the last instance left, then starts tracking: sets
 * rt->restore. Called once the log is open, the engine built and the
 * start event written. Returns 0, or -1 with *err when out of memory.
 * Whatever it cannot read (a torn line, an unreadable rotated file, a
 * bad checkpoint) is said on stderr and worked around. */
int fb_restore_start(struct fb_runtime *rt, fb_error *err);

/* After each event written to the log (log->seq is now its seq): folds
 * it in and rewrites the checkpoint when needed -- at once, unless one
 * was written less than FB_RESTORE_EVERY_MS ago (ev->at_ms on the
 * monotonic clock): then fb_restore_tick writes it when that passed. A
 * checkpoint that cannot be written is said once on stderr; the next
 * start then reads the log instead. */
void fb_restore_track(fb_restore *r, const fb_event *ev, const fb_log *log,
                      int64_t wall_ms, int64_t ttl_ms);

/* Writes a checkpoint held back by fb_restore_track once it is due.
 * Returns the ms until it is, or INT64_MAX with none waiting (r NULL
 * too). */
int64_t fb_restore_tick(fb_restore *r, const fb_log *log, int64_t now_ms);

/* Writes a last checkpoint when the log moved on since the last one
 * (log still open), and frees r (NULL is fine). */
void fb_restore_free(fb_restore *r, const fb_log *log);

#endif
