/* The event-log reader (src/logread.c) on any file: split into lines by
 * fb_log_reader_line(), each checked by fb_log_event_parse() and
 * fb_log_check_shape(). A line is either refused with a reason or gives
 * an event whose strings are safe to draw (no control or escape bytes
 * left), which then reads as one line of text (fb_event_describe). */
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
			continue;
		}
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
