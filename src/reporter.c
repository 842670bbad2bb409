/* Passive health from the library side: fb_allow() and the reporter (see
 * include/fusebox/report.h). The queue is a ring under a mutex held only
 * to copy in or out; sending is done by whoever wins a trylock, with
 * non-blocking writes, so no caller ever waits for the instance. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "fusebox/report.h"
#include "fusebox/sanitize.h"

#define LINE_MAX_BYTES 8000 /* under the socket's 8192-byte request cap */
#define RETRY_MS       1000 /* between attempts to reach an absent one */

typedef struct item {
	char dep[64];
	char error[121];
	bool ok;
	int64_t latency_us;
	uint64_t permit;
} item;

struct fb_reporter {
	char path[512];
	pthread_mutex_t lock; /* the ring and the counters */
	item *ring;
	size_t cap, head, len;
	fb_reporter_stats st;
	int64_t last_send_ms;
	pthread_mutex_t send; /* the connection; taken with trylock only */
	int fd;               /* -1 while not connected */
	int64_t retry_ms;     /* no attempt to connect before this */
	char out[LINE_MAX_BYTES + 2]; /* a batch line not yet written whole */
	size_t out_len, out_off;
	size_t out_n; /* outcomes in it */
};

/* ---- fb_allow ----------------------------------------------------------- */

static void copy_str(const cJSON *o, const char *key, char *dst, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	const char *s = cJSON_IsString(v) ? v->valuestring : "";
	fb_sanitize(dst, len, s, strlen(s));
}

int fb_allow(const char *socket_path, const char *dep, int timeout_ms,
             fb_allow_answer *out)
{
	fb_error err;
	memset(out, 0, sizeof *out);
	cJSON *req = cJSON_CreateObject();
	if (!cJSON_AddStringToObject(req, "op", "allow") ||
	    !cJSON_AddStringToObject(req, "dep", dep)) {
		cJSON_Delete(req);
		snprintf(out->error, sizeof out->error, "out of memory");
		return -1;
	}
	cJSON *reply = fb_client_call(socket_path, req, timeout_ms, &err);
	cJSON_Delete(req);
	if (!reply) {
		snprintf(out->error, sizeof out->error, "%.150s", err.text);
		return -1;
	}
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(reply, "ok");
	const cJSON *ra =
	    cJSON_GetObjectItemCaseSensitive(reply, "retry_after_ms");
	const cJSON *permit = cJSON_GetObjectItemCaseSensitive(reply, "permit");
	int rc = 0;
	if (!cJSON_IsTrue(ok)) {
		out->answered = true;
		copy_str(reply, "error", out->error, sizeof out->error);
		rc = -1;
	} else {
		out->allowed = cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(reply, "allowed"));
		copy_str(reply, "state", out->state, sizeof out->state);
		copy_str(reply, "health", out->health, sizeof out->health);
		double r = cJSON_IsNumber(ra) ? ra->valuedouble : 0;
		out->retry_after_ms = r >= -1 && r < 9e15 ? (int64_t)r : 0;
		double p = cJSON_IsNumber(permit) ? permit->valuedouble : 0;
		out->permit = p > 0 && p < 9e15 ? (uint64_t)p : 0;
	}
	cJSON_Delete(reply);
	return rc;
}

/* ---- the reporter -------------------------------------------------------- */

fb_reporter *fb_reporter_new(const char *socket_path, size_t capacity)
{
	fb_reporter *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->cap = capacity ? capacity : FB_REPORT_QUEUE;
	r->ring = calloc(r->cap, sizeof *r->ring);
	if (!r->ring) {
		free(r);
		return NULL;
	}
	snprintf(r->path, sizeof r->path, "%s", socket_path);
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->send, NULL);
	r->fd = -1;
	r->last_send_ms = fb_now_ms();
	return r;
}

/* Is a send due: a batch is waiting, or the oldest has waited long? */
static bool due(fb_reporter *r, int64_t now)
{
	return r->len >= FB_REPORT_BATCH ||
	       (r->len && now - r->last_send_ms >= FB_REPORT_FLUSH_MS);
}

void fb_reporter_add(fb_reporter *r, const char *dep, bool ok,
                     int64_t latency_us, const char *error, uint64_t permit)
{
	item it = {.ok = ok, .latency_us = latency_us, .permit = permit};
	snprintf(it.dep, sizeof it.dep, "%s", dep ? dep : "");
	if (error)
		fb_sanitize(it.error, sizeof it.error, error, strlen(error));
	int64_t now = fb_now_ms();
	pthread_mutex_lock(&r->lock);
	r->st.added++;
	if (r->len == r->cap) {
		r->st.dropped_full++;
	} else {
		r->ring[(r->head + r->len) % r->cap] = it;
		r->len++;
	}
	bool send = due(r, now);
	pthread_mutex_unlock(&r->lock);
	if (send)
		fb_reporter_flush(r);
}

/* s as the inside of a JSON string: quotes and backslashes escaped;
 * control characters are gone already (fb_sanitize; names from a
 * config have none). Returns bytes written, or 0 when it does not fit. */
static size_t json_text(char *dst, size_t len, const char *s)
{
	size_t n = 0;
	for (; *s; s++) {
		bool esc = *s == '"' || *s == '\\';
		if (n + 1 + esc >= len)
			return 0;
		if (esc)
			dst[n++] = '\\';
		dst[n++] = (unsigned char)*s < 0x20 ? ' ' : *s;
	}
	dst[n] = '\0';
	return n;
}

/* One outcome as JSON into dst; 0 when it does not fit in len. */
static size_t render(const item *it, char *dst, size_t len)
{
	char dep[140], err[260], extra[300] = "";
	if ((!json_text(dep, sizeof dep, it->dep) && it->dep[0]) ||
	    (!json_text(err, sizeof err, it->error) && it->error[0]))
		return 0;
	if (!it->ok)
		snprintf(extra, sizeof extra, ",\"error\":\"%s\"", err);
	if (it->permit) {
		size_t u = strlen(extra);
		snprintf(extra + u, sizeof extra - u, ",\"permit\":%llu",
		         (unsigned long long)it->permit);
	}
	int n = snprintf(
	    dst, len, "{\"dep\":\"%s\",\"ok\":%s,\"latency_ms\":%.3f%s}", dep,
	    it->ok ? "true" : "false", (double)it->latency_us / 1000.0, extra);
	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

/* Takes up to a batch off the ring into r->out as one request line.
 * Lock held. */
static void build_batch(fb_reporter *r)
{
	static const char head[] = "{\"op\":\"report\",\"outcomes\":[";
	size_t n = sizeof head - 1, taken = 0;
	memcpy(r->out, head, n);
	while (r->len && taken < FB_REPORT_BATCH) {
		char one[512];
		size_t k = render(&r->ring[r->head], one, sizeof one);
		if (k && n + k + 4 > LINE_MAX_BYTES)
			break; /* the next line takes it */
		if (k) {
			if (taken)
				r->out[n++] = ',';
			memcpy(r->out + n, one, k);
			n += k;
			taken++;
		}
		r->head = (r->head + 1) % r->cap;
		r->len--;
	}
	memcpy(r->out + n, "]}\n", 3);
	r->out_len = taken ? n + 3 : 0;
	r->out_off = 0;
	r->out_n = taken;
}

/* Reads and counts the replies waiting; false when the instance went. */
static bool drain_replies(fb_reporter *r)
{
	char buf[4096];
	for (;;) {
		ssize_t n = recv(r->fd, buf, sizeof buf - 1, MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0)
			return false;
		buf[n] = '\0';
		uint64_t bad = 0;
		for (const char *p = buf; (p = strstr(p, "\"ok\":false")); p++)
			bad++;
		pthread_mutex_lock(&r->lock);
		r->st.rejected += bad;
		pthread_mutex_unlock(&r->lock);
	}
}

/* Everything queued is dropped as "away" (send lock held). */
static void away(fb_reporter *r, int64_t now)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->retry_ms = now + RETRY_MS;
	pthread_mutex_lock(&r->lock);
	r->st.dropped_away += r->len + r->out_n;
	r->out_len = r->out_off = r->out_n = 0;
	r->head = r->len = 0;
	r->last_send_ms = now;
	pthread_mutex_unlock(&r->lock);
}

/* Writes what the socket takes of the pending line. True when it is all
 * out; false when the socket is full (try later) or gone (r->fd -1). */
static bool write_pending(fb_reporter *r, int64_t now)
{
	while (r->out_off < r->out_len) {
		ssize_t n =
		    send(r->fd, r->out + r->out_off, r->out_len - r->out_off,
		         MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return false;
		if (n <= 0) {
			away(r, now);
			return false;
		}
		r->out_off += (size_t)n;
	}
	pthread_mutex_lock(&r->lock);
	r->st.sent += r->out_n;
	pthread_mutex_unlock(&r->lock);
	r->out_len = r->out_off = r->out_n = 0;
	return true;
}

void fb_reporter_flush(fb_reporter *r)
{
	if (pthread_mutex_trylock(&r->send) != 0)
		return; /* another thread is sending: it takes ours too */
	int64_t now = fb_now_ms();
	if (r->fd < 0 && now >= r->retry_ms) {
		fb_error err;
		r->fd = fb_client_connect(r->path, 0, &err);
		if (r->fd < 0)
			away(r, now);
	}
	if (r->fd < 0) {
		pthread_mutex_lock(&r->lock); /* not there: nothing waits */
		r->st.dropped_away += r->len;
		r->head = r->len = 0;
		pthread_mutex_unlock(&r->lock);
	}
	while (r->fd >= 0 && drain_replies(r) && write_pending(r, now)) {
		pthread_mutex_lock(&r->lock);
		build_batch(r);
		r->last_send_ms = now;
		pthread_mutex_unlock(&r->lock);
		if (!r->out_len)
			break;
	}
	if (r->fd >= 0 && !drain_replies(r))
		away(r, now);
	pthread_mutex_unlock(&r->send);
}

void fb_reporter_stats_get(fb_reporter *r, fb_reporter_stats *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->st;
	pthread_mutex_unlock(&r->lock);
}

void fb_reporter_free(fb_reporter *r)
{
	if (!r)
		return;
	fb_reporter_flush(r);
	if (r->fd >= 0)
		close(r->fd);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->send);
	free(r->ring);
	free(r);
}
