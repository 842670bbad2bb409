/* The registry: dependencies, their lookup table, latency history and
 * health derivation. */
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "fusebox/registry.h"

static int index_build(fb_registry *reg)
{
	size_t n = 8;
	while (n < reg->count * 2)
		n *= 2;
	reg->slots = calloc(n, sizeof *reg->slots);
	if (!reg->slots)
		return -1;
	reg->nslots = n;
	for (size_t i = 0; i < reg->count; i++) {
		size_t at = fb_hash_name(reg->deps[i].cfg.name) & (n - 1);
		while (reg->slots[at])
			at = (at + 1) & (n - 1);
		reg->slots[at] = (uint32_t)i + 1;
	}
	return 0;
}

int fb_registry_init(fb_registry *reg, const fb_config *cfg, fb_rng rng,
                     int64_t now_ms)
{
	memset(reg, 0, sizeof *reg);
	reg->deps = calloc(cfg->ndeps ? cfg->ndeps : 1, sizeof *reg->deps);
	if (!reg->deps)
		return -1;
	for (size_t i = 0; i < cfg->ndeps; i++) {
		fb_dep *d = &reg->deps[i];
		fb_breaker_config bc;
		d->cfg = cfg->deps[i];
		fb_dep_breaker_config(&d->cfg, &bc);
		d->breaker = fb_breaker_new(&bc, rng, now_ms);
		d->last_error_ms = -1;
		d->probe_began_ms = -1;
		d->health = FB_HEALTH_UNKNOWN;
		if (!d->breaker) {
			fb_registry_free(reg); /* the first i */
			return -1;
		}
		reg->count = i + 1;
	}
	if (index_build(reg) != 0) {
		fb_registry_free(reg);
		return -1;
	}
	return 0;
}

void fb_registry_free(fb_registry *reg)
{
	for (size_t i = 0; i < reg->count; i++) {
		fb_breaker_free(reg->deps[i].breaker);
		fb_breaker_free(reg->deps[i].shadow);
	}
	free(reg->deps);
	free(reg->slots);
	memset(reg, 0, sizeof *reg);
}

fb_dep *fb_registry_find(const fb_registry *reg, const char *name)
{
	if (!reg->nslots)
		return NULL;
	size_t at = fb_hash_name(name) & (reg->nslots - 1);
	for (; reg->slots[at]; at = (at + 1) & (reg->nslots - 1)) {
		fb_dep *d = &reg->deps[reg->slots[at] - 1];
		if (strcmp(d->cfg.name, name) == 0)
			return d;
	}
	return NULL;
}

/* ---- latency history --------------------------------------------------- */

void fb_history_add(fb_history *h, int64_t at_ms, int64_t latency_us, bool ok)
{
	if (latency_us > INT32_MAX)
		latency_us = INT32_MAX;
	h->s[h->head] = (fb_sample){at_ms, (int32_t)latency_us, ok};
	h->head = (h->head + 1) % FB_HISTORY;
	if (h->len < FB_HISTORY)
		h->len++;
}

const fb_sample *fb_history_at(const fb_history *h, uint32_t i)
{
	return &h->s[(h->head + FB_HISTORY - 1 - i) % FB_HISTORY];
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted values. */
static double rank(const int32_t *v, uint32_t n, uint32_t pct)
{
	uint32_t r = (pct * n + 99) / 100;
	return (double)v[r ? r - 1 : 0] / 1000.0;
}

fb_latency fb_history_latency(const fb_history *h, uint32_t n)
{
	int32_t v[FB_HISTORY];
	uint32_t m = 0;
	for (uint32_t i = 0; i < h->len && i < n; i++) {
		const fb_sample *s = fb_history_at(h, i);
		if (s->ok)
			v[m++] = s->latency_us;
	}
	if (m == 0)
		return (fb_latency){-1, -1, -1};
	qsort(v, m, sizeof v[0], cmp_i32);
	return (fb_latency){rank(v, m, 50), rank(v, m, 95), rank(v, m, 99)};
}

/* ---- health ------------------------------------------------------------ */

fb_health fb_health_derive(const fb_breaker_snapshot *snap,
                           double recent_p50_ms, int64_t slow_call_ms)
{
	switch (snap->state) {
	case FB_STATE_OPEN:
	case FB_STATE_FORCED_OPEN: return FB_HEALTH_UNHEALTHY;
	case FB_STATE_HALF_OPEN: return FB_HEALTH_DEGRADED;
	default: break;
	}
	if (snap->last_success_ms < 0 && snap->last_failure_ms < 0)
		return FB_HEALTH_UNKNOWN;
	if (snap->window_failures > 0 || snap->consecutive_failures > 0)
		return FB_HEALTH_DEGRADED;
	if (recent_p50_ms > (double)slow_call_ms)
		return FB_HEALTH_DEGRADED;
	return FB_HEALTH_HEALTHY;
}

fb_health fb_system_health(const fb_registry *reg)
{
	fb_health worst = FB_HEALTH_HEALTHY;
	bool unknown = false; /* a non-critical dependency not known yet */
	for (size_t i = 0; i < reg->count; i++) {
		fb_health h = reg->deps[i].health;
		if (!reg->deps[i].cfg.critical && h == FB_HEALTH_UNKNOWN) {
			unknown = true;
			continue;
		}
		if (!reg->deps[i].cfg.critical && h > FB_HEALTH_DEGRADED)
			h = FB_HEALTH_DEGRADED;
		if (h > worst)
			worst = h;
	}
	return unknown && worst == FB_HEALTH_HEALTHY ? FB_HEALTH_UNKNOWN
	                                             : worst;
}
