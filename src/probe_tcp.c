/* TCP probes: healthy when a non-blocking connect completes before the
 * deadline. */
#include <poll.h>
#include <unistd.h>

#include "probe_impl.h"

static void on_ready(void *ctx, int fd, short revents)
{
	probe_slot *s = ctx;
	char err[FB_ERROR_MAX];
	(void)revents;
	int rc = net_connect_result(fd, err, sizeof err);
	tcp_cancel(s->owner, s->id);
	probe_finish(s->owner, s->id, rc == 0, err);
}

int tcp_start(fb_probes *p, uint32_t id)
{
	probe_slot *s = &p->slots[id];
	char err[FB_ERROR_MAX];
	s->fd = net_connect_start(s->cfg->host, s->cfg->port, err, sizeof err);
	if (s->fd < 0 || fb_loop_watch(p->loop, s->fd, POLLOUT, on_ready, s) != 0) {
		tcp_cancel(p, id);
		probe_finish(p, id, false, s->fd < 0 ? err : "out of memory");
		return -1;
	}
	probe_arm_deadline(p, id);
	return 0;
}

void tcp_cancel(fb_probes *p, uint32_t id)
{
	probe_slot *s = &p->slots[id];
	if (s->fd < 0)
		return;
	fb_loop_unwatch(p->loop, s->fd);
	close(s->fd);
	s->fd = -1;
}
