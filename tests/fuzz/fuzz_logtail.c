/* Reopening an event log (src/eventlog.c): whatever an earlier run, a
 * crash or a person left in the file, fb_log_open() keeps every byte,
 * ends a torn last line, and the next event appended is a whole line of
 * its own whose seq is above every event's seq in the file -- seq is
 * strictly increasing across restarts (SPEC 6). */
#include <sys/stat.h>

#include "eventlog.h"
#include "fuzz.h"
#include "logread.h"

static void quiet(void *ctx, long line, const char *why)
{
	(void)ctx;
	(void)line;
	(void)why;
}

/* The highest seq of the events (lines the reader accepts) in buf;
 * -1 when none. */
static int64_t highest_seq(const char *buf, size_t size)
{
	fb_log_reader r = {.buf = buf, .size = size, .on_skip = quiet};
	const char *line;
	size_t len;
	int64_t best = -1;
	while (fb_log_reader_line(&r, &line, &len)) {
		fb_log_event ev;
		if (fb_log_event_parse(&r, line, len, &ev) != 0)
			continue;
		if ((int64_t)ev.seq > best)
			best = (int64_t)ev.seq;
		cJSON_Delete(ev.json);
	}
	return best;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	FUZZ_CHECK(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	FUZZ_CHECK(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = fuzz_write("events.jsonl", data, size);
	char path[512], warn[1024];
	fb_log log;
	fb_error err;
	snprintf(path, sizeof path, "%s", p);
	if (fb_log_open(&log, path, "fuzz", 0, 5, 0600, warn, sizeof warn,
	                &err) != 0) {
		/* only a log whose seq cannot go on is refused */
		if (!strstr(err.text, "is the last an event can have")) {
			fprintf(stderr, "cannot open %s: %s\n", path, err.text);
			abort();
		}
		return 0;
	}
	bool torn = size > 0 && data[size - 1] != '\n';
	FUZZ_CHECK(torn == (warn[0] != '\0'));
	int64_t before = highest_seq((const char *)data, size);
	uint64_t seq = log.seq;
	fb_event ev = {.kind = FB_EV_OPERATOR,
	               .action = FB_ACT_TRIP,
	               .dep = "redis",
	               .actor = "fuzz (uid 0)",
	               .failures = -1,
	               .retry_after_ms = -1};
	FUZZ_CHECK(fb_log_append(&log, &ev, 1763892000123LL, &err) == 0);
	fb_log_close(&log);
	FUZZ_CHECK(log.seq == seq + 1);
	if (before >= 0 && log.seq <= (uint64_t)before) {
		fprintf(stderr,
		        "seq went back: an event had %lld, the next "
		        "one got %llu\n",
		        (long long)before, (unsigned long long)log.seq);
		abort();
	}

	size_t len;
	char *after = slurp(path, &len);
	size_t kept = size + torn;
	FUZZ_CHECK(len > kept && memcmp(after, data, size) == 0);
	FUZZ_CHECK(!torn || after[size] == '\n');
	FUZZ_CHECK(after[len - 1] == '\n');
	FUZZ_CHECK(!memchr(after + kept, '\n', len - kept - 1));
	fb_log_reader r = {.buf = after + kept, .size = len - kept - 1};
	fb_log_event back;
	r.line = 1;
	FUZZ_CHECK(
	    fb_log_event_parse(&r, after + kept, len - kept - 1, &back) == 0);
	FUZZ_CHECK(back.seq == log.seq);
	cJSON_Delete(back.json);
	free(after);
	return 0;
}
