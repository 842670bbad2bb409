/* The prober: one slot per dependency, dispatch by kind, socket
 * deadlines, and the single place a probe ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe_impl.h"

/* Every curl completion: an HTTP probe, or the connect of a socket one. */
static void curl_done(void *ctx, CURL *easy, CURLcode result)
{
	fb_probes *p = ctx;
	void *priv = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	uint32_t id = (uint32_t)(uintptr_t)priv;
	if (id >= p->n || p->slots[id].easy != easy)
		return;
	switch (p->slots[id].cfg->kind) {
	case FB_KIND_HTTP: http_done(p, id, result); break;
	case FB_KIND_REDIS: redis_connected(p, id, result); break;
	default: tcp_done(p, id, result); break;
	}
}

fb_probes *fb_probes_new(fb_loop *loop, size_t ndeps, fb_probe_done_fn done,
                         void *ctx)
{
	fb_probes *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->slots = calloc(ndeps ? ndeps : 1, sizeof *p->slots);
	if (!p->slots) {
		free(p);
		return NULL;
	}
	for (size_t i = 0; i < ndeps; i++) {
		p->slots[i].fd = -1;
		p->slots[i].owner = p;
		p->slots[i].id = (uint32_t)i;
	}
	p->n = ndeps;
	p->loop = loop;
	p->done = done;
	p->ctx = ctx;
	fb_loop_on_curl_done(loop, curl_done, p);
	return p;
}

void fb_probes_free(fb_probes *p)
{
	if (!p)
		return;
	for (uint32_t i = 0; i < p->n; i++) {
		fb_probes_cancel(p, i);
		redis_close(p, i);
	}
	http_pool_free(p);
	fb_heap_free(&p->deadlines);
	free(p->slots);
	free(p);
}

bool fb_probes_busy(const fb_probes *p, uint32_t id)
{
	return id < p->n && p->slots[id].busy;
}

int fb_probes_start(fb_probes *p, uint32_t id, const fb_dep_config *cfg)
{
	probe_slot *s = &p->slots[id];
	if (s->busy)
		return 0;
	s->busy = true;
	s->gen++;
	s->cfg = cfg;
	s->start_us = fb_now_us();
	switch (cfg->kind) {
	case FB_KIND_HTTP: return http_start(p, id);
	case FB_KIND_REDIS: return redis_start(p, id);
	default: return tcp_start(p, id);
	}
}

/* Stops the I/O of probe `id` (the slot stays busy). */
static void stop_io(fb_probes *p, uint32_t id)
{
	switch (p->slots[id].cfg->kind) {
	case FB_KIND_HTTP: http_cancel(p, id); break;
	case FB_KIND_REDIS: redis_cancel(p, id); break;
	default: tcp_cancel(p, id); break;
	}
}

void fb_probes_cancel(fb_probes *p, uint32_t id)
{
	if (!p->slots[id].busy)
		return;
	stop_io(p, id);
	p->slots[id].busy = false;
}

void probe_finish(fb_probes *p, uint32_t id, bool ok, const char *error)
{
	probe_slot *s = &p->slots[id];
	fb_probe_result r = {.ok = ok, .latency_us = fb_now_us() - s->start_us};
	if (!ok)
		snprintf(r.error, sizeof r.error, "%s",
		         error ? error : "failed");
	s->busy = false;
	p->done(p->ctx, id, &r);
}

void probe_arm_deadline(fb_probes *p, uint32_t id)
{
	probe_slot *s = &p->slots[id];
	int64_t due = s->start_us / 1000 + s->cfg->t[FB_T_TIMEOUT];
	fb_heap_push(&p->deadlines, (fb_heap_entry){due, id, s->gen});
}

int64_t fb_probes_expire(fb_probes *p, int64_t now_ms)
{
	const fb_heap_entry *e;
	while ((e = fb_heap_peek(&p->deadlines))) {
		probe_slot *s = &p->slots[e->id];
		uint32_t id = e->id;
		bool live = s->busy && s->gen == e->gen;
		if (live && e->due_ms > now_ms)
			return e->due_ms - now_ms;
		fb_heap_pop(&p->deadlines);
		if (!live)
			continue;
		char why[96];
		snprintf(why, sizeof why, "timeout after %lld ms",
		         (long long)s->cfg->t[FB_T_TIMEOUT]);
		stop_io(p, id);
		probe_finish(p, id, false, why);
	}
	return -1;
}
