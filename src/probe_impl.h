/* Private to the probe modules: the per-dependency slot and the hooks
 * each kind of probe provides. */
#ifndef FB_PROBE_IMPL_H
#define FB_PROBE_IMPL_H

#include <hiredis/hiredis.h>

#include "core/heap.h"
#include "probe.h"

#define PROBE_BODY_CAP 4096 /* bytes of an HTTP body kept for the error */

typedef enum { RS_IDLE, RS_CONNECTING, RS_SENDING, RS_READING } redis_step;

typedef struct probe_slot {
	struct fb_probes *owner; /* for fd callbacks */
	uint32_t id;
	bool busy;
	uint32_t gen; /* bumps at every start: stale deadlines */
	int64_t start_us;
	const fb_dep_config *cfg;
	/* http */
	CURL *easy;
	char *body; /* first PROBE_BODY_CAP bytes of the reply */
	size_t body_len;
	bool body_capped; /* the reply went on past the cap: reading stopped */
	char status_line[128];
	char curl_err[CURL_ERROR_SIZE];
	/* tcp and redis */
	int fd;              /* -1 when none */
	redisContext *redis; /* kept between probes */
	redis_step step;
	bool reused;        /* this probe runs on a kept connection */
	int replies_wanted; /* AUTH + PING, or PING */
} probe_slot;

struct fb_probes {
	fb_loop *loop;
	probe_slot *slots;
	size_t n;
	fb_heap deadlines;
	fb_probe_done_fn done;
	void *ctx;
	CURL **pool; /* idle easy handles for reuse */
	size_t npool, cappool;
};

/* Ends probe `id`: computes latency, clears the slot, calls back. */
void probe_finish(fb_probes *p, uint32_t id, bool ok, const char *error);
/* Arms the socket deadline for probe `id` at start + timeout. */
void probe_arm_deadline(fb_probes *p, uint32_t id);

int http_start(fb_probes *p, uint32_t id);
void http_cancel(fb_probes *p, uint32_t id);
void http_done(fb_probes *p, uint32_t id, CURLcode result);
void http_pool_free(fb_probes *p);

int tcp_start(fb_probes *p, uint32_t id);
void tcp_cancel(fb_probes *p, uint32_t id);

int redis_start(fb_probes *p, uint32_t id);
void redis_cancel(fb_probes *p, uint32_t id);
/* Drops a kept connection. */
void redis_close(fb_probes *p, uint32_t id);

/* Puts a transport failure of a curl transfer into words ("connect:
 * Connection refused (host:port)", "DNS: ...", "timeout after N ms"). */
void probe_transport_error(CURL *easy, CURLcode rc, const probe_slot *s,
                           char *out, size_t len);

/* Starts connecting probe `id` to its host:port through curl (resolver
 * off the loop, the probe's timeout). Its end arrives as a curl
 * completion. Returns 0, or -1 when curl refused. */
int net_connect_start(fb_probes *p, uint32_t id);
/* After a successful connect: a non-blocking socket of our own (the curl
 * handle is gone afterwards), or -1. */
int net_connect_take_fd(fb_probes *p, uint32_t id);
/* Abandons a connect under way (or frees a finished one). */
void net_connect_drop(fb_probes *p, uint32_t id);

/* Finished curl transfers of each kind. */
void tcp_done(fb_probes *p, uint32_t id, CURLcode result);
void redis_connected(fb_probes *p, uint32_t id, CURLcode result);

#endif
