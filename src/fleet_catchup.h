/* What an instance logged while it could not publish (SPEC 8): read back
 * from its own event log -- the rotated files oldest first, then the
 * live one -- in seq order, a batch at a time. */
#ifndef FB_FLEET_CATCHUP_H
#define FB_FLEET_CATCHUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One batch: n events, event i is text + off[i], len[i] bytes, seq[i]. */
typedef struct fb_fleet_batch {
	char *text;
	size_t bytes, cap_bytes;
	uint64_t *seq;
	size_t *off, *len;
	size_t n, cap;
} fb_fleet_batch;

/* Where the last batch ended, so the next read goes on from there; a
 * rotation since is noticed (the inode is not where it was) and the read
 * starts again from the oldest file. */
typedef struct fb_catchup_pos {
	ino_t ino; /* 0: no position, start from the oldest file */
	int64_t off;
} fb_catchup_pos;

/* Appends one event to b (copied). Returns 0, or -1 when out of
 * memory. */
int fb_fleet_batch_add(fb_fleet_batch *b, uint64_t seq, const char *text,
                       size_t len);
void fb_fleet_batch_clear(fb_fleet_batch *b);
void fb_fleet_batch_free(fb_fleet_batch *b);

/* The seq of a logged line ({"v":1,"seq":N,...}); 0 when it has none. */
uint64_t fb_fleet_line_seq(const char *line, size_t len);

/* Fills b (cleared first) with up to max_events events (max_bytes of
 * text) whose seq is above `after`, in order, from the log at path and
 * its `keep` rotated files. *lost gets how many events after `after`
 * are no longer in any file (rotated out before they were published);
 * counted only on a read from the oldest file. Returns 0, or -1 with
 * err. */
int fb_fleet_catchup_read(const char *path, int keep, uint64_t after,
                          fb_catchup_pos *pos, size_t max_events,
                          size_t max_bytes, fb_fleet_batch *b, uint64_t *lost,
                          char *err, size_t errlen);

#endif
