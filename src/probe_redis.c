/* Redis probes: PING must answer PONG. hiredis parses; the connect and
 * every read and write are ours and non-blocking, with the probe's own
 * deadline (hiredis 0.14 has no connect timeout for async use). The
 * connection is kept between probes; a kept connection that turns out to
 * be dead is replaced once within the same probe. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe_impl.h"

static void on_io(void *ctx, int fd, short revents);

void redis_close(fb_probes *p, uint32_t id)
{
	probe_slot *s = &p->slots[id];
	net_connect_drop(p, id);
	if (s->redis) {
		fb_loop_unwatch(p->loop, s->redis->fd);
		redisFree(s->redis); /* closes the fd */
		s->redis = NULL;
		s->fd = -1;
	} else if (s->fd >= 0) {
		fb_loop_unwatch(p->loop, s->fd);
		close(s->fd);
		s->fd = -1;
	}
	s->step = RS_IDLE;
}

void redis_cancel(fb_probes *p, uint32_t id)
{
	/* A half-finished exchange leaves unread replies: start afresh. */
	redis_close(p, id);
}

/* The AUTH password: $FUSEBOX_REDIS_PASSWORD, or the first line of the
 * dependency's password_file. Returns false when there is none. */
static bool password(const fb_dep_config *c, char *out, size_t len)
{
	const char *env = getenv("FUSEBOX_REDIS_PASSWORD");
	if (!c->password_file[0]) {
		if (!env || !env[0])
			return false;
		snprintf(out, len, "%s", env);
		return true;
	}
	FILE *f = fopen(c->password_file, "r");
	if (!f)
		return false;
	bool ok = fgets(out, (int)len, f) != NULL;
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	return ok && out[0];
}

static void fail(fb_probes *p, uint32_t id, const char *why)
{
	redis_close(p, id);
	probe_finish(p, id, false, why);
}

static void queue_commands(fb_probes *p, uint32_t id)
{
	probe_slot *s = &p->slots[id];
	char pw[256];
	s->replies_wanted = 1;
	if (!s->reused && password(s->cfg, pw, sizeof pw)) {
		redisAppendCommand(s->redis, "AUTH %s", pw);
		s->replies_wanted = 2;
	}
	if (!s->reused && s->cfg->redis_db) {
		redisAppendCommand(s->redis, "SELECT %d", s->cfg->redis_db);
		s->replies_wanted++;
	}
	redisAppendCommand(s->redis, "PING");
	s->step = RS_SENDING;
	fb_loop_watch(p->loop, s->redis->fd, POLLOUT, on_io, s);
}

/* Wraps our connected, non-blocking socket in a hiredis context; on
 * failure the socket is closed. */
static int adopt(fb_probes *p, uint32_t id, char *err, size_t len)
{
	probe_slot *s = &p->slots[id];
	s->redis = redisConnectFd(s->fd);
	if (!s->redis || s->redis->err) {
		snprintf(err, len, "redis: %s",
		         s->redis ? s->redis->errstr : "no memory");
		if (s->redis)
			redisFree(s->redis); /* closes the socket */
		else
			close(s->fd);
		s->redis = NULL;
		s->fd = -1;
		return -1;
	}
	s->redis->flags &= ~REDIS_BLOCK; /* EAGAIN is not an error for us */
	return 0;
}

static int connect_start(fb_probes *p, uint32_t id, char *err, size_t len)
{
	probe_slot *s = &p->slots[id];
	s->reused = false;
	s->step = RS_CONNECTING;
	if (net_connect_start(p, id) == 0)
		return 0;
	snprintf(err, len, "redis: curl refused the connect");
	return -1;
}

void redis_connected(fb_probes *p, uint32_t id, CURLcode result)
{
	probe_slot *s = &p->slots[id];
	char err[FB_ERROR_MAX];
	if (result != CURLE_OK) {
		probe_transport_error(s->easy, result, s, err, sizeof err);
		fail(p, id, err);
		return;
	}
	s->fd = net_connect_take_fd(p, id);
	if (s->fd < 0) {
		fail(p, id, "redis: lost the connected socket");
		return;
	}
	if (adopt(p, id, err, sizeof err) != 0) {
		fail(p, id, err);
		return;
	}
	queue_commands(p, id);
}

/* Checks each reply as it arrives; returns 1 when PONG came, 0 for more
 * to read, -1 with err on a bad reply. */
static int take_replies(probe_slot *s, char *err, size_t len)
{
	void *r;
	while (s->replies_wanted > 0) {
		if (redisGetReplyFromReader(s->redis, &r) != REDIS_OK) {
			snprintf(err, len, "redis protocol: %s",
			         s->redis->errstr);
			return -1;
		}
		if (!r)
			return 0;
		redisReply *reply = r;
		bool last = --s->replies_wanted == 0;
		int bad = reply->type == REDIS_REPLY_ERROR ||
		          (last && (reply->type != REDIS_REPLY_STATUS ||
		                    strcmp(reply->str, "PONG") != 0));
		if (bad)
			snprintf(err, len, "redis: %s%.*s",
			         last && reply->type != REDIS_REPLY_ERROR
			             ? "PING answered "
			             : "",
			         reply->str ? (int)reply->len : 0,
			         reply->str ? reply->str : "");
		freeReplyObject(reply);
		if (bad)
			return -1;
	}
	return 1;
}

static void step_io(fb_probes *p, uint32_t id, short revents)
{
	probe_slot *s = &p->slots[id];
	char err[FB_ERROR_MAX];
	int done = 0;
	if (s->step == RS_SENDING && (revents & POLLOUT)) {
		if (redisBufferWrite(s->redis, &done) != REDIS_OK)
			goto io_error;
		if (done) {
			s->step = RS_READING;
			fb_loop_watch(p->loop, s->redis->fd, POLLIN, on_io, s);
		}
		return;
	}
	if (s->step == RS_READING && (revents & (POLLIN | POLLHUP | POLLERR))) {
		if (redisBufferRead(s->redis) != REDIS_OK)
			goto io_error;
		int r = take_replies(s, err, sizeof err);
		if (r == 0)
			return;
		if (r < 0)
			goto failed;
		s->step = RS_IDLE;
		fb_loop_unwatch(p->loop, s->redis->fd); /* kept, idle */
		probe_finish(p, id, true, NULL);
		return;
	}
	if (revents & (POLLHUP | POLLERR))
		goto io_error;
	return;
io_error:
	snprintf(err, sizeof err, "redis: %s",
	         s->redis->errstr[0] ? s->redis->errstr : "connection lost");
	if (s->reused) { /* the kept connection died: one fresh try */
		redis_close(p, id);
		char why[FB_ERROR_MAX];
		if (connect_start(p, id, why, sizeof why) == 0)
			return;
		snprintf(err, sizeof err, "%s", why);
	}
failed:
	fail(p, id, err);
}

static void on_io(void *ctx, int fd, short revents)
{
	probe_slot *s = ctx;
	(void)fd;
	if (s->busy)
		step_io(s->owner, s->id, revents);
}

int redis_start(fb_probes *p, uint32_t id)
{
	probe_slot *s = &p->slots[id];
	char err[FB_ERROR_MAX];
	probe_arm_deadline(p, id);
	if (s->redis && s->step == RS_IDLE && !s->redis->err) {
		s->reused = true;
		queue_commands(p, id);
		return 0;
	}
	redis_close(p, id);
	if (connect_start(p, id, err, sizeof err) != 0) {
		fail(p, id, err);
		return -1;
	}
	return 0;
}
