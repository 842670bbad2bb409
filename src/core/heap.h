/* A binary min-heap of (due time, id) pairs: the timer wheel of the probe
 * scheduler. Entries are never removed from the middle; a caller that
 * reschedules pushes a new entry with a new generation and skips stale
 * ones as they come out (lazy deletion). */
#ifndef FB_CORE_HEAP_H
#define FB_CORE_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fb_heap_entry {
	int64_t due_ms;
	uint32_t id;
	uint32_t gen;
} fb_heap_entry;

typedef struct fb_heap {
	fb_heap_entry *e;
	size_t len, cap;
} fb_heap;

/* Returns 0, or -1 when out of memory (the heap is unchanged). */
int fb_heap_push(fb_heap *h, fb_heap_entry entry);
/* The earliest entry, or NULL when empty. */
const fb_heap_entry *fb_heap_peek(const fb_heap *h);
void fb_heap_pop(fb_heap *h);
void fb_heap_free(fb_heap *h);

#endif
