/* The event-log reader (src/logread.c) on any file: split into lines by
 * fb_log_reader_line(), each checked by fb_log_event_parse() and
 * fb_log_check_shape(). A line is either refused with a reason or gives
 * an event whose strings are safe to draw (no control or escape bytes
 * left), which then reads as one line of text (fb_event_describe). The
 * fast path, fb_log_event_scan(), takes only lines the parse takes and
 * reads them the same, member for member. */
#include <stdbool.h>

#include "fusebox/sanitize.h"
#include "fuzz.h"
#include "logread.h"

static long skips;

static void on_skip(void *ctx, long line, const char *why)
{
	(void)ctx;
	FUZZ_CHECK(line > 0 && why && why[0]);
	skips++;
}

/* No control byte; and a field is already what fb_sanitize() makes of
 * it (a description joins fields, so it may hold two spaces). */
static void check_text(const char *s, bool field)
{
	if (!s)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		FUZZ_CHECK(*p >= 0x20 && *p != 0x7f);
	static char again[FB_LOG_LINE_MAX];
	size_t len = strlen(s);
	if (field && len < sizeof again)
		FUZZ_CHECK(fb_sanitize(again, sizeof again, s, len) == len &&
		           memcmp(again, s, len) == 0);
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The scan of a line agrees with its parse (p, or NULL when refused). */
static void check_scan(fb_log_reader *r, const char *line, size_t len,
                       const fb_log_event *p)
{
	static fb_log_scan sc = {.keys = {"trace", "span_ms", "skipped_ok",
	                                  "host"},
	                         .nkeys = 4};
	fb_log_event s;
	if (!fb_log_event_scan(r, line, len, &s, &sc))
		return;
	FUZZ_CHECK(p != NULL);
	FUZZ_CHECK(s.ts_ms == p->ts_ms && s.seq == p->seq &&
	           s.kind == p->kind && s.retry_after_ms == p->retry_after_ms &&
	           s.lost == p->lost && s.raw == p->raw && s.line == p->line);
	const char *a[] = {s.host,  s.dep,    s.from,  s.to,   s.reason,
	                   s.actor, s.action, s.error, s.mode, s.health};
	const char *b[] = {p->host,  p->dep,    p->from,  p->to,   p->reason,
	                   p->actor, p->action, p->error, p->mode, p->health};
	for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
		FUZZ_CHECK(same_text(a[i], b[i]));
	for (int k = 0; k < sc.nkeys; k++) {
		const char *x = NULL, *y = NULL;
		int64_t m = 0, n = 0;
		fb_log_type tx = fb_log_event_member(&s, sc.keys[k], &x, &m);
		fb_log_type ty = fb_log_event_member(p, sc.keys[k], &y, &n);
		FUZZ_CHECK(tx == ty);
		FUZZ_CHECK(tx != FB_LOG_STRING || !strcmp(x, y));
		FUZZ_CHECK(tx != FB_LOG_NUMBER || m == n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fb_log_reader r = {
	    .buf = (const char *)data, .size = size, .on_skip = on_skip};
	const char *line;
	size_t len;
	long lines = 0, good = 0;
	snprintf(r.path, sizeof r.path, "fuzz.jsonl");
	skips = 0;
	while (fb_log_reader_line(&r, &line, &len)) {
		FUZZ_CHECK(line >= r.buf && line + len <= r.buf + r.size);
		FUZZ_CHECK(!memchr(line, '\n', len));
		lines++;
		fb_log_check_shape(&r, line, len);
		fb_log_event ev;
		if (fb_log_event_parse(&r, line, len, &ev) != 0) {
			FUZZ_CHECK(ev.json == NULL);
			check_scan(&r, line, len, NULL);
			continue;
		}
		check_scan(&r, line, len, &ev);
		good++;
		FUZZ_CHECK(ev.raw == line && ev.raw_len == len);
		FUZZ_CHECK(ev.line == r.line);
		FUZZ_CHECK((unsigned)ev.kind < FB_EV_COUNT);
		const char *fields[] = {
		    ev.host,  ev.dep,    ev.from,  ev.to,   ev.reason,
		    ev.actor, ev.action, ev.error, ev.mode, ev.health};
		for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
			check_text(fields[i], true);
		fb_event e;
		char text[2048];
		fb_log_event_as_event(&ev, &e);
		fb_event_describe(&e, text, sizeof text);
		check_text(text, false);
		(void)fb_event_tone(&e);
		cJSON_Delete(ev.json);
	}
	FUZZ_CHECK(r.line == lines);
	FUZZ_CHECK(good + skips >= lines);
	return 0;
}
