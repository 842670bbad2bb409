/* FNV-1a over a NUL-terminated string: short names, few collisions, no
 * allocation. Used for the registry's lookup table, the replay index's
 * name table and the scheduler's per-dependency phase. */
#ifndef FB_CORE_HASH_H
#define FB_CORE_HASH_H

#include <stdint.h>

static inline uint32_t fb_hash_name(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

#endif
