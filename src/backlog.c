/* Events waiting for the event log: a ring of rendered lines, written in
 * order when the log works again, with a gap event for those dropped. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backlog.h"

void fb_backlog_init(fb_backlog *b, size_t max_events, size_t max_bytes)
{
	memset(b, 0, sizeof *b);
	b->cap = max_events ? max_events : 1;
	b->max_bytes = max_bytes ? max_bytes : 1;
}

void fb_backlog_free(fb_backlog *b)
{
	for (size_t i = 0; b->ring && i < b->len; i++)
		free(b->ring[(b->head + i) % b->cap].text);
	free(b->ring);
	b->ring = NULL;
	b->len = b->bytes = 0;
}

bool fb_backlog_failing(const fb_backlog *b)
{
	return b->err != 0;
}

static bool empty(const fb_backlog *b)
{
	return b->len == 0 && b->lost == 0;
}

int64_t fb_backlog_due(const fb_backlog *b, int64_t now_ms)
{
	if (empty(b))
		return -1;
	return b->retry_ms > now_ms ? b->retry_ms - now_ms : 0;
}

/* One event that will never be written, at wall_ms. */
static void count_lost(fb_backlog *b, int64_t wall_ms)
{
	if (b->lost == 0) {
		b->lost_wall = wall_ms;
		b->lost_err = b->err ? b->err : ENOMEM;
	}
	b->lost++;
	b->dropped++;
	b->lost_total++;
}

/* Only called with something held; fb_backlog_init makes cap at least 1. */
static void drop_oldest(fb_backlog *b)
{
	assert(b->len > 0 && b->cap > 0);
	fb_waiting *w = &b->ring[b->head];
	count_lost(b, w->wall_ms);
	b->bytes -= w->len;
	free(w->text);
	w->text = NULL;
	b->head = (b->head + 1) % b->cap;
	b->len--;
}

/* Keeps text (taking it) behind the others; the oldest go to make room. */
static void hold(fb_backlog *b, char *text, int64_t wall_ms)
{
	size_t len = strlen(text);
	if (!b->ring)
		b->ring = calloc(b->cap, sizeof *b->ring);
	if (!b->ring) {
		free(text);
		count_lost(b, wall_ms);
		return;
	}
	while (b->len == b->cap || (b->len && b->bytes + len > b->max_bytes))
		drop_oldest(b);
	b->ring[(b->head + b->len) % b->cap] = (fb_waiting){text, len, wall_ms};
	b->len++;
	b->bytes += len;
}

/* The gap event for what was dropped, written where the lost were. */
static int write_gap(fb_backlog *b, fb_log *log)
{
	char reason[160];
	fb_error err;
	snprintf(reason, sizeof reason, "event log failing: %s",
	         strerror(b->lost_err));
	fb_event ev = {.kind = FB_EV_GAP,
	               .lost = (int64_t)b->lost,
	               .reason = reason,
	               .failures = -1,
	               .retry_after_ms = -1};
	char *text = fb_log_render(log, &ev, b->lost_wall);
	if (!text) {
		errno = ENOMEM;
		return -1;
	}
	int rc = fb_log_write(log, text, &err);
	int cause = errno;
	free(text);
	errno = cause;
	if (rc == 0)
		b->lost = 0;
	return rc;
}

/* Writes the gap, if any, then what waits, in order. Returns 0 when all
 * is written, or -1 with errno at the first write that fails. */
static int flush(fb_backlog *b, fb_log *log)
{
	fb_error err;
	if (b->lost && write_gap(b, log) != 0)
		return -1;
	while (b->len) {
		fb_waiting *w = &b->ring[b->head];
		if (fb_log_write(log, w->text, &err) != 0)
			return -1;
		b->bytes -= w->len;
		free(w->text);
		w->text = NULL;
		b->head = (b->head + 1) % b->cap;
		b->len--;
		b->late++;
	}
	return 0;
}

/* After the writes: rc and errno `cause` of the last one; `more` when
 * something is still to be written. Returns what changed. */
static fb_backlog_change settle(fb_backlog *b, bool was_failing, int rc,
                                int cause, bool more, int64_t now_ms)
{
	if (rc != 0) {
		b->err = cause ? cause : EIO;
		b->retry_ms = now_ms + FB_BACKLOG_RETRY_MS;
		if (was_failing)
			return FB_BACKLOG_SAME;
		b->late = b->dropped = 0; /* a new episode */
		return FB_BACKLOG_FAILING;
	}
	if (!was_failing || more)
		return FB_BACKLOG_SAME;
	b->err = 0;
	return FB_BACKLOG_RECOVERED;
}

fb_backlog_change fb_backlog_log(fb_backlog *b, fb_log *log, const fb_event *ev,
                                 int64_t wall_ms, int64_t now_ms)
{
	fb_error err;
	bool was_failing = fb_backlog_failing(b);
	char *text = fb_log_render(log, ev, wall_ms);
	int rc = empty(b) ? 0 : flush(b, log);
	if (rc == 0 && text && fb_log_write(log, text, &err) == 0) {
		free(text);
		return settle(b, was_failing, 0, 0, false, now_ms);
	}
	fb_backlog_change change =
	    settle(b, was_failing, text ? -1 : rc, errno, true, now_ms);
	b->held_total++;
	if (text)
		hold(b, text, wall_ms); /* behind the others */
	else
		count_lost(b, wall_ms); /* out of memory */
	return change;
}

fb_backlog_change fb_backlog_retry(fb_backlog *b, fb_log *log, int64_t now_ms,
                                   bool now)
{
	if (empty(b) || (!now && now_ms < b->retry_ms))
		return FB_BACKLOG_SAME;
	bool was_failing = fb_backlog_failing(b);
	int rc = flush(b, log);
	return settle(b, was_failing, rc, errno, false, now_ms);
}

cJSON *fb_backlog_json(const fb_backlog *b)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddBoolToObject(o, "ok", !fb_backlog_failing(b));
	if (fb_backlog_failing(b))
		cJSON_AddStringToObject(o, "error", strerror(b->err));
	cJSON_AddNumberToObject(o, "queued", (double)b->len);
	cJSON_AddNumberToObject(o, "lost", (double)b->lost_total);
	return o;
}

size_t fb_backlog_cap_from_env(char *warn, size_t len)
{
	const char *s = getenv("FUSEBOX_EVENT_BACKLOG");
	char *end;
	warn[0] = '\0';
	if (!s || !s[0])
		return FB_BACKLOG_EVENTS;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > FB_BACKLOG_MAX_LIMIT) {
		snprintf(
		    warn, len,
		    "FUSEBOX_EVENT_BACKLOG: '%.40s' is not a number from 1 "
		    "to %d; at most %d events wait for a failing event log",
		    s, FB_BACKLOG_MAX_LIMIT, FB_BACKLOG_EVENTS);
		return FB_BACKLOG_EVENTS;
	}
	return (size_t)v;
}
