/* Publishing every logged event exactly once (SPEC 8): the cursor
 * script appends an event only above the instance's cursor, so a batch
 * sent again after a lost reply or a NOSCRIPT is never appended twice
 * and never overtaken: at most FB_FLEET_PUB_DEPTH batches are in
 * flight, in seq order (more than one, so Redis has the next whole
 * command to run while this one is answered), and replies
 * (and NOSCRIPT retries) keep that order; a lost connection starts again
 * from the cursor Redis holds. While caught up,
 * new lines go from memory; otherwise, and after every outage, they are
 * read back from the log, in order, before anything newer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "eventlog.h"
#include "fleet_impl.h"
#include "fleet_scripts.h"
#include "fleet_view.h"
#include "runtime.h"

#define ARGV_MAX (5 + 2 * FB_FLEET_BATCH_EVENTS)

static void pump(fb_fleet *f);

void fleet_publish_reset(fb_fleet *f)
{
	f->cursor_known = false;
	f->cursor_asked = false;
	f->pub_inflight = 0;
	f->sent_upto = 0;
	f->live = false;
	fb_fleet_batch_clear(&f->queue);
	fb_fleet_batch_clear(&f->sending);
	f->pos = (fb_catchup_pos){0};
}

void fleet_publish_free(fb_fleet *f)
{
	fb_fleet_batch_free(&f->queue);
	fb_fleet_batch_free(&f->sending);
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (!len || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static void on_cursor(void *ctx, const redisReply *r)
{
	fb_fleet *f = ctx;
	uint64_t c = 0;
	if (!r)
		return;
	if (r->type == REDIS_REPLY_ERROR ||
	    (r->type == REDIS_REPLY_STRING && !parse_u64(r->str, r->len, &c))) {
		char why[300];
		snprintf(why, sizeof why, "redis: reading the cursor: %.*s",
		         (int)(r->len > 200 ? 200 : r->len), r->str);
		fb_fleet_conn_drop(f->conn, why);
		return;
	}
	f->cursor = c; /* nil: nothing of ours was ever published */
	f->sent_upto = c;
	f->cursor_known = true;
	pump(f);
}

void fleet_publish_start(fb_fleet *f)
{
	char key[200];
	snprintf(key, sizeof key, "%scursor", f->prefix);
	const char *argv[] = {"HGET", key, f->id};
	size_t lens[] = {4, strlen(key), strlen(f->id)};
	f->cursor_asked =
	    fb_fleet_conn_command(f->conn, 3, argv, lens, on_cursor, f) == 0;
}

int fb_fleet_published_parse(const redisReply *r, uint64_t *cursor,
                             int64_t *added)
{
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    !parse_u64(r->element[0]->str, r->element[0]->len, cursor) ||
	    r->element[1]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->integer < 0)
		return -1;
	*added = r->element[1]->integer;
	return 0;
}

static void on_published(void *ctx, const redisReply *r)
{
	fb_fleet *f = ctx;
	uint64_t c;
	int64_t added;
	if (!r)
		return; /* lost: the log still has them; a reset follows */
	f->pub_inflight--;
	if (fb_fleet_published_parse(r, &c, &added) != 0) {
		char why[300];
		bool e = r->type == REDIS_REPLY_ERROR && r->str;
		snprintf(why, sizeof why, "redis: publishing: %.*s",
		         e ? (int)(r->len > 200 ? 200 : r->len) : 10,
		         e ? r->str : "odd reply");
		snprintf(f->pub_error, sizeof f->pub_error, "%s", why);
		fb_fleet_conn_drop(f->conn, why);
		return;
	}
	f->cursor = c;
	f->published += (uint64_t)added;
	f->pub_error[0] = '\0';
	pump(f);
}

static void send_batch(fb_fleet *f)
{
	static const char *argv[ARGV_MAX];
	static size_t lens[ARGV_MAX];
	static char seqs[FB_FLEET_BATCH_EVENTS][24];
	char k_cursor[200], k_events[200], maxlen[24];
	const fb_fleet_batch *b = &f->sending;
	int n = 0;
	snprintf(k_cursor, sizeof k_cursor, "%scursor", f->prefix);
	snprintf(k_events, sizeof k_events, "%sevents", f->prefix);
	snprintf(maxlen, sizeof maxlen, "%lld",
	         (long long)f->rt->cfg.redis.stream_max_len);
	argv[n++] = k_cursor;
	argv[n++] = k_events;
	argv[n++] = f->id;
	argv[n++] = maxlen;
	argv[n++] = f->rt->cfg.host;
	for (int i = 0; i < n; i++)
		lens[i] = strlen(argv[i]);
	for (size_t i = 0; i < b->n && i < FB_FLEET_BATCH_EVENTS; i++) {
		snprintf(seqs[i], sizeof seqs[i], "%llu",
		         (unsigned long long)b->seq[i]);
		argv[n] = seqs[i];
		lens[n++] = strlen(seqs[i]);
		argv[n] = b->text + b->off[i];
		lens[n++] = b->len[i];
	}
	if (fb_fleet_conn_eval(f->conn, FB_SCRIPT_PUBLISH, 2, n, argv, lens,
	                       on_published, f) == 0) {
		f->pub_inflight++;
		f->sent_upto = b->seq[b->n - 1];
	}
	/* the command holds its own copy now */
	fb_fleet_batch_clear(&f->sending);
}

/* The gap event of SPEC 6 for events rotated out before they were
 * published: it takes the seq of the last one lost. */
static int add_gap(fb_fleet *f, uint64_t lost)
{
	char line[600], ts[40];
	fb_format_rfc3339(fb_wall_ms(), ts, sizeof ts);
	int n = snprintf(line, sizeof line,
	                 "{\"v\":1,\"seq\":%llu,\"ts\":\"%s\",\"kind\":\"gap\","
	                 "\"lost\":%llu,\"reason\":\"rotated out of the event "
	                 "log before they were published\"}",
	                 (unsigned long long)(f->sent_upto + lost), ts,
	                 (unsigned long long)lost);
	f->gaps++;
	return fb_fleet_batch_add(&f->sending, f->sent_upto + lost, line,
	                          (size_t)n);
}

/* Reads the next batch from the log; false when caught up. */
static bool read_log(fb_fleet *f)
{
	char err[300];
	uint64_t lost = 0;
	const fb_runtime *rt = f->rt;
	f->pub_error[0] = '\0';
	if (fb_fleet_catchup_read(rt->cfg.log, rt->cfg.log_keep, f->sent_upto,
	                          &f->pos, FB_FLEET_BATCH_EVENTS,
	                          FB_FLEET_BATCH_BYTES, &f->sending, &lost, err,
	                          sizeof err) != 0) {
		snprintf(f->pub_error, sizeof f->pub_error,
		         "reading the log to publish: %s", err);
		return false;
	}
	if (lost) {
		fb_fleet_batch_clear(&f->sending);
		f->pos = (fb_catchup_pos){0}; /* read again after the gap */
		return add_gap(f, lost) == 0;
	}
	return f->sending.n > 0;
}

/* The next batch into f->sending; false when there is none. */
static bool next_batch(fb_fleet *f)
{
	if (f->live && (f->queue.n > FB_FLEET_BATCH_EVENTS ||
	                f->queue.bytes > FB_FLEET_BATCH_BYTES)) {
		f->live = false; /* more than a batch: read it from the log */
		fb_fleet_batch_clear(&f->queue);
	}
	if (f->live) {
		if (!f->queue.n)
			return false;
		fb_fleet_batch t = f->sending;
		f->sending = f->queue;
		f->queue = t;
		fb_fleet_batch_clear(&f->queue);
		return true;
	}
	if (read_log(f))
		return true;
	fb_fleet_batch_clear(&f->sending);
	f->live = !f->pub_error[0]; /* everything logged is sent */
	return false;
}

static void pump(fb_fleet *f)
{
	while (fb_fleet_conn_ready(f->conn) && f->cursor_known &&
	       f->pub_inflight < FB_FLEET_PUB_DEPTH && next_batch(f)) {
		int before = f->pub_inflight;
		send_batch(f);
		if (f->pub_inflight == before) {
			f->live = false; /* not sent: read it from the log */
			break;
		}
	}
}

void fleet_publish_pump(fb_fleet *f)
{
	pump(f);
}

void fb_fleet_logged(fb_fleet *f, const char *line, size_t len)
{
	uint64_t seq = fb_fleet_line_seq(line, len);
	/* a breaker moved: the fleet hears of it (a vote) at once, not at
	 * the next heartbeat */
	static const char moved[] = "\"kind\":\"transition\"";
	if (memmem(line, len, moved, sizeof moved - 1))
		f->next_hb_ms = 0;
	if (!seq || !f->live)
		return; /* not caught up: it is read from the log in turn */
	if (f->queue.n >= FB_FLEET_LIVE_MAX ||
	    fb_fleet_batch_add(&f->queue, seq, line, len) != 0) {
		f->live = false; /* too much waits: the log has it all */
		fb_fleet_batch_clear(&f->queue);
		return;
	}
	pump(f);
}
