/* Binary min-heap ordered by due time. */
#include <stdlib.h>

#include "core/heap.h"

static bool before(const fb_heap_entry *a, const fb_heap_entry *b)
{
	return a->due_ms < b->due_ms;
}

static void swap(fb_heap_entry *a, fb_heap_entry *b)
{
	fb_heap_entry t = *a;
	*a = *b;
	*b = t;
}

int fb_heap_push(fb_heap *h, fb_heap_entry entry)
{
	if (h->len == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		fb_heap_entry *e = realloc(h->e, cap * sizeof *e);
		if (!e)
			return -1;
		h->e = e;
		h->cap = cap;
	}
	size_t i = h->len++;
	h->e[i] = entry;
	while (i > 0 && before(&h->e[i], &h->e[(i - 1) / 2])) {
		swap(&h->e[i], &h->e[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	return 0;
}

const fb_heap_entry *fb_heap_peek(const fb_heap *h)
{
	return h->len ? &h->e[0] : NULL;
}

void fb_heap_pop(fb_heap *h)
{
	if (!h->len)
		return;
	h->e[0] = h->e[--h->len];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->len && before(&h->e[l], &h->e[m]))
			m = l;
		if (r < h->len && before(&h->e[r], &h->e[m]))
			m = r;
		if (m == i)
			break;
		swap(&h->e[i], &h->e[m]);
		i = m;
	}
}

void fb_heap_free(fb_heap *h)
{
	free(h->e);
	h->e = NULL;
	h->len = h->cap = 0;
}
