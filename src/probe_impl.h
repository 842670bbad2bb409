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
	struct fb_probes *owner;  /* for fd callbacks */
	uint32_t id;
	bool busy;
	uint32_t gen;             /* bumps at every start: stale deadlines */
	int64_t start_us;
	const fb_dep_config *cfg;
	/* http */
	CURL *easy;
	char *body;               /* first PROBE_BODY_CAP bytes of the reply */
	size_t body_len;
	char status_line[128];
	char curl_err[CURL_ERROR_SIZE];
	/* tcp and redis */
	int fd;                   /* -1 when none */
	redisContext *redis;      /* kept between probes */
	redis_step step;
	bool reused;              /* this probe runs on a kept connection */
	int replies_wanted;       /* AUTH + PING, or PING */
} probe_slot;

struct fb_probes {
	fb_loop *loop;
	probe_slot *slots;
	size_t n;
	fb_heap deadlines;
	fb_probe_done_fn done;
	void *ctx;
	CURL **pool;              /* idle easy handles for reuse */
	size_t npool, cappool;
};

/* Ends probe `id`: computes latency, clears the slot, calls back. */
void probe_finish(fb_probes *p, uint32_t id, bool ok, const char *error);
/* Arms the socket deadline for probe `id` at start + timeout. */
void probe_arm_deadline(fb_probes *p, uint32_t id);

int http_start(fb_probes *p, uint32_t id);
void http_cancel(fb_probes *p, uint32_t id);
void http_done(fb_probes *p, CURL *easy, CURLcode result);
void http_pool_free(fb_probes *p);

int tcp_start(fb_probes *p, uint32_t id);
void tcp_cancel(fb_probes *p, uint32_t id);

int redis_start(fb_probes *p, uint32_t id);
void redis_cancel(fb_probes *p, uint32_t id);
/* Drops a kept connection. */
void redis_close(fb_probes *p, uint32_t id);

/* Starts a non-blocking TCP connect to host:port. Returns the socket, or
 * -1 with the reason in err. Name lookup is getaddrinfo(). */
int net_connect_start(const char *host, int port, char *err, size_t len);
/* After the socket polled writable: 0 when connected, else -1 with err. */
int net_connect_result(int fd, char *err, size_t len);

#endif
