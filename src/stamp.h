/* How the runtime stamps events: the wall time of an event from its
 * monotonic time through one offset, so that two events of an instance
 * lie exactly as far apart in the log as they did on the engine's clock
 * (replay --what-if recomputes transitions to the millisecond from
 * them); and which seq was the last logged before a given time, for the
 * `from_seq` of an outcomes event. */
#ifndef FB_STAMP_H
#define FB_STAMP_H

#include <stdbool.h>
#include <stdint.h>

#define FB_STAMP_RING 256 /* recent (time, seq) pairs kept */

typedef struct fb_stamp {
	bool set;
	int64_t offset_ms; /* wall - monotonic */
	int64_t at_ms[FB_STAMP_RING];
	uint64_t seq[FB_STAMP_RING];
	uint32_t head, len;
} fb_stamp;

/* The wall time of monotonic `mono_ms`. The offset is taken once and
 * taken again only when the wall clock has moved more than a second
 * from it (a clock step). */
int64_t fb_stamp_wall(fb_stamp *s, int64_t mono_ms);

/* Remembers that the event of monotonic time at_ms got `seq`. */
void fb_stamp_note(fb_stamp *s, int64_t at_ms, uint64_t seq);

/* The seq of the last event noted before at_ms; when none noted is that
 * old, the one before the oldest noted (exact until the ring of
 * FB_STAMP_RING has wrapped), 0 when nothing was noted. */
uint64_t fb_stamp_seq_before(const fb_stamp *s, int64_t at_ms);

#endif
