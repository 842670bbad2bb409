/* Event stamps: one wall offset per instance, and a ring of recent seqs. */
#include "stamp.h"

#include "clock.h"

int64_t fb_stamp_wall(fb_stamp *s, int64_t mono_ms)
{
	int64_t wall = fb_wall_ms(), mono = fb_now_ms();
	int64_t drift = wall - (mono + s->offset_ms);
	if (!s->set || drift > 1000 || drift < -1000) {
		s->offset_ms = wall - mono;
		s->set = true;
	}
	return mono_ms + s->offset_ms;
}

void fb_stamp_note(fb_stamp *s, int64_t at_ms, uint64_t seq)
{
	s->at_ms[s->head] = at_ms;
	s->seq[s->head] = seq;
	s->head = (s->head + 1) % FB_STAMP_RING;
	if (s->len < FB_STAMP_RING)
		s->len++;
}

uint64_t fb_stamp_seq_before(const fb_stamp *s, int64_t at_ms)
{
	uint64_t oldest = 0;
	for (uint32_t i = 0; i < s->len; i++) {
		uint32_t at = (s->head + FB_STAMP_RING - 1 - i) % FB_STAMP_RING;
		if (s->at_ms[at] < at_ms)
			return s->seq[at];
		oldest = s->seq[at];
	}
	return oldest ? oldest - 1 : 0;
}
