/* The running fusebox instance as an fb_client's peer: before an attempt
 * the local breaker allowed, ask the instance (`allow`); after it, report
 * the outcome through a reporter (batched, never blocking). Passive
 * health, SPEC section 7.
 *
 * The client never waits on a missing or hung instance for long: an
 * `allow` that gets no answer (ALLOW_TIMEOUT_MS) makes the peer leave the
 * instance alone for AWAY_MS, and the client decides by its own breaker
 * meanwhile. An instance that answers but does not know the dependency
 * is not asked again: its refusal would never change. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_http_impl.h"
#include "clock.h"
#include "fusebox/report.h"

#define ALLOW_TIMEOUT_MS 100
#define AWAY_MS          1000
#define HEALTH_FRESH_MS  5000 /* older words of the instance are not used */

struct fb_instance_peer {
	char socket[108];
	fb_reporter *reporter;
	pthread_mutex_t lock; /* guards what follows */
	int64_t away_until_ms;
	bool unknown; /* the instance has no such dependency */
	fb_health health;
	int64_t health_ms; /* when it said so; -1 never */
};

fb_instance_peer *fb_instance_peer_new(const char *socket_path)
{
	fb_instance_peer *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	snprintf(p->socket, sizeof p->socket, "%s", socket_path);
	p->reporter = fb_reporter_new(socket_path, 0);
	if (!p->reporter) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->health_ms = -1;
	return p;
}

void fb_instance_peer_free(fb_instance_peer *p)
{
	if (!p)
		return;
	fb_reporter_free(p->reporter);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Should the instance be asked now? */
static bool worth_asking(fb_instance_peer *p, int64_t now)
{
	pthread_mutex_lock(&p->lock);
	bool ask = !p->unknown && now >= p->away_until_ms;
	pthread_mutex_unlock(&p->lock);
	return ask;
}

static void heard(fb_instance_peer *p, int64_t now, int rc,
                  const fb_allow_answer *a)
{
	pthread_mutex_lock(&p->lock);
	if (rc != 0 && a->answered)
		p->unknown = true;
	else if (rc != 0)
		p->away_until_ms = now + AWAY_MS;
	else if (fb_health_parse(a->health, &p->health))
		p->health_ms = now;
	pthread_mutex_unlock(&p->lock);
}

static bool peer_allow(void *ctx, const char *service, int64_t *retry_after_ms,
                       uint64_t *permit)
{
	fb_instance_peer *p = ctx;
	int64_t now = fb_now_ms();
	*permit = 0;
	if (!worth_asking(p, now))
		return true; /* alone: the local breaker decided */
	fb_allow_answer a;
	int rc = fb_allow(p->socket, service, ALLOW_TIMEOUT_MS, &a);
	heard(p, now, rc, &a);
	if (rc != 0)
		return true;
	*permit = a.permit;
	if (!a.allowed)
		*retry_after_ms = a.retry_after_ms;
	return a.allowed;
}

static void peer_report(void *ctx, const char *service, bool ok,
                        int64_t latency_us, const char *error, uint64_t permit)
{
	fb_instance_peer *p = ctx;
	pthread_mutex_lock(&p->lock);
	bool unknown = p->unknown;
	pthread_mutex_unlock(&p->lock);
	if (!unknown)
		fb_reporter_add(p->reporter, service, ok, latency_us, error,
		                permit);
}

static void peer_flush(void *ctx)
{
	fb_instance_peer *p = ctx;
	fb_reporter_flush(p->reporter);
}

fb_client_peer fb_instance_peer_ops(fb_instance_peer *p)
{
	return (fb_client_peer){peer_allow, peer_report, peer_flush, p};
}

bool fb_instance_peer_health(fb_instance_peer *p, int64_t now_ms,
                             fb_health *out)
{
	pthread_mutex_lock(&p->lock);
	bool fresh =
	    p->health_ms >= 0 && now_ms - p->health_ms <= HEALTH_FRESH_MS;
	if (fresh)
		*out = p->health;
	pthread_mutex_unlock(&p->lock);
	return fresh;
}
