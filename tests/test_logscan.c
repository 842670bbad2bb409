/* The event-line scan (src/logscan.c), the fast path of replay
 * --what-if: on every line it takes, it must read what the cJSON parse
 * (fb_log_event_parse) reads, member for member; every line of another
 * shape -- escaped quotes, a nested object holding the same key, a key
 * given twice, a torn line, whitespace, floats -- it must decline, so
 * that the parse decides and reports it as before. And a what-if fed
 * scanned events says what it says when fed parsed ones. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
/* after what it needs */
#include <cmocka.h>

#include "logread.h"
#include "whatif.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* An outcomes line as the engine writes it. */
#define OUTCOMES                                                               \
	"{\"v\":1,\"seq\":251,\"ts\":\"2026-11-23T00:00:08.511Z\",\"host\":"   \
	"\"web-1\",\"kind\":\"outcomes\",\"dep\":\"d157\",\"ok\":0,"           \
	"\"failed\":1,"                                                        \
	"\"slow\":0,\"p50_ms\":2,\"p95_ms\":2,\"skipped_ok\":7,\"span_ms\":"   \
	"1000,"                                                                \
	"\"trace\":\"-2+2x\"}"
#define HEAD "{\"v\":1,\"seq\":9,\"ts\":\"2026-11-23T00:00:01.000Z\","

static fb_log_reader reader(void)
{
	fb_log_reader r;
	memset(&r, 0, sizeof r);
	snprintf(r.path, sizeof r.path, "test.jsonl");
	r.quiet = true;
	r.line = 1;
	return r;
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Scans and parses the line; when the scan takes it, both must read it
 * alike. Returns whether the scan took it. */
static bool agree(const char *line, size_t len, fb_log_scan *sc)
{
	fb_log_reader r = reader();
	fb_log_event p, s;
	bool scanned = fb_log_event_scan(&r, line, len, &s, sc);
	int parsed = fb_log_event_parse(&r, line, len, &p);
	if (!scanned) {
		assert_null(s.scan);
		if (parsed == 0)
			cJSON_Delete(p.json);
		return false;
	}
	if (parsed != 0)
		fail_msg("scanned, but the parse refuses: %.*s", (int)len,
		         line);
	assert_null(s.json);
	assert_ptr_equal(s.scan, sc);
	assert_true(s.ts_ms == p.ts_ms && s.seq == p.seq && s.kind == p.kind);
	assert_true(s.retry_after_ms == p.retry_after_ms && s.lost == p.lost);
	assert_true(s.raw == p.raw && s.raw_len == p.raw_len &&
	            s.line == p.line);
	const char *const sf[] = {s.host,  s.dep,    s.from,  s.to,   s.reason,
	                          s.actor, s.action, s.error, s.mode, s.health};
	const char *const pf[] = {p.host,  p.dep,    p.from,  p.to,   p.reason,
	                          p.actor, p.action, p.error, p.mode, p.health};
	for (size_t i = 0; i < N(sf); i++) {
		if (!same_text(sf[i], pf[i]))
			fail_msg("field %zu: scan '%s', parse '%s' in %.*s", i,
			         sf[i] ? sf[i] : "(none)",
			         pf[i] ? pf[i] : "(none)", (int)len, line);
	}
	for (int k = 0; k < sc->nkeys; k++) {
		const char *ss = NULL, *ps = NULL;
		int64_t sn = 0, pn = 0;
		fb_log_type st = fb_log_event_member(&s, sc->keys[k], &ss, &sn);
		fb_log_type pt = fb_log_event_member(&p, sc->keys[k], &ps, &pn);
		if (st != pt || (st == FB_LOG_STRING && strcmp(ss, ps)) ||
		    (st == FB_LOG_NUMBER && sn != pn))
			fail_msg("member %s differs in %.*s", sc->keys[k],
			         (int)len, line);
	}
	cJSON_Delete(p.json);
	return true;
}

static fb_log_scan *new_scan(void)
{
	fb_log_scan *sc = calloc(1, sizeof *sc);
	assert_non_null(sc);
	fb_whatif_scan_keys(sc);
	return sc;
}

static void test_engine_lines_are_scanned(void **state)
{
	(void)state;
	static const char *const lines[] = {
	    OUTCOMES,
	    HEAD "\"host\":\"web-1\",\"kind\":\"transition\",\"dep\":\"d157\","
	         "\"from\":\"closed\",\"to\":\"open\",\"health\":\"unhealthy\","
	         "\"reason\":\"5 consecutive failures\",\"failures\":5,"
	         "\"retry_after_ms\":67685,\"error\":\"bad status 503\"}",
	    HEAD "\"host\":\"h\",\"kind\":\"operator\",\"action\":\"trip\","
	         "\"dep\":\"redis\",\"actor\":\"alice (uid 1000)\","
	         "\"reason\":\"drill\"}",
	    HEAD "\"host\":\"h\",\"kind\":\"start\",\"version\":\"0.1.0\","
	         "\"restored\":true,\"x\":null,\"y\":false,\"rate\":0.25,"
	         "\"big\":12345678901234567890,\"e\":-1.5e+5}",
	    HEAD "\"kind\":\"gap\",\"lost\":12,\"reason\":\"disk full\"}",
	    HEAD "\"kind\":\"transition\",\"dep\":\"caf\xc3\xa9\","
	         "\"reason\":\"UTF-8 \xe2\x9c\x93 and  two   spaces\"}",
	    HEAD "\"kind\":\"outcomes\",\"dep\":5,\"trace\":5,"
	         "\"span_ms\":\"1000\",\"skipped_ok\":null}",
	    HEAD "\"kind\":\"health\",\"retry_after_ms\":-1,\"\":\"empty key\","
	         "\"a_key_much_longer_than_any_member_read\":\"x\"}",
	    HEAD "\"kind\":\"stop\",\"reason\":\" lead, two  and   three, "
	         "end \",\"error\":\"  \",\"host\":\" \"}",
	    /* seq -1 then 5: no duplicate to the parse either */
	    "{\"v\":1,\"seq\":-1,\"seq\":5,\"ts\":\"2026-11-23T00:00:01.000Z\","
	    "\"kind\":\"stop\"}",
	};
	fb_log_scan *sc = new_scan();
	for (size_t i = 0; i < N(lines); i++) {
		if (!agree(lines[i], strlen(lines[i]), sc))
			fail_msg("declined: %s", lines[i]);
	}
	/* and the members the what-if reads are there */
	fb_log_reader r = reader();
	fb_log_event ev;
	const char *trace = NULL;
	int64_t span = 0, skipped = 0;
	assert_true(fb_log_event_scan(&r, OUTCOMES, strlen(OUTCOMES), &ev, sc));
	assert_int_equal(fb_log_event_member(&ev, "trace", &trace, &span),
	                 FB_LOG_STRING);
	assert_string_equal(trace, "-2+2x");
	assert_int_equal(fb_log_event_member(&ev, "span_ms", &trace, &span),
	                 FB_LOG_NUMBER);
	assert_int_equal(
	    fb_log_event_member(&ev, "skipped_ok", &trace, &skipped),
	    FB_LOG_NUMBER);
	assert_true(span == 1000 && skipped == 7);
	assert_int_equal(fb_log_event_member(&ev, "p50_ms", &trace, &span),
	                 FB_LOG_NONE); /* not asked for */
	free(sc);
}

static void test_hostile_lines_are_declined(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		bool parses; /* what fb_log_event_parse says of it */
	} cases[] = {
	    /* escaped quotes: a scanner that took \" for the end of the
	     * string would read dep "evil" */
	    {HEAD "\"kind\":\"transition\",\"reason\":\"x\\\",\\\"dep\\\":"
	          "\\\"evil\",\"dep\":\"api\"}",
	     true},
	    {HEAD "\"kind\":\"transition\",\"dep\":\"a\\\\\",\"to\":\"open\"}",
	     true},
	    /* a key written with an escape is still "dep" */
	    {HEAD "\"kind\":\"transition\",\"d\\u0065p\":\"api\"}", true},
	    /* the same keys inside a nested object are not the event's */
	    {HEAD "\"kind\":\"transition\",\"dep\":\"api\",\"meta\":{\"dep\":"
	          "\"other\",\"kind\":\"gate\",\"trace\":\"0+1x\"}}",
	     true},
	    {HEAD "\"kind\":\"outcomes\",\"dep\":\"api\",\"trace\":[\"0+1x\"]}",
	     true},
	    /* given twice: the parse refuses event fields, takes the first
	     * of others (cJSON's lookup) */
	    {HEAD "\"kind\":\"transition\",\"dep\":\"a\",\"dep\":\"b\"}",
	     false},
	    {HEAD "\"kind\":\"outcomes\",\"dep\":\"a\",\"trace\":\"0+1x\","
	          "\"trace\":\"0+2k\"}",
	     true},
	    {HEAD "\"kind\":\"outcomes\",\"span_ms\":5,\"span_ms\":9}", true},
	    {HEAD "\"kind\":\"outcomes\",\"span_ms\":true,\"span_ms\":9}",
	     true},
	    /* not as cJSON_PrintUnformatted writes it */
	    {"{\"v\": 1,\"seq\":9,\"ts\":\"2026-11-23T00:00:01.000Z\","
	     "\"kind\":\"stop\"}",
	     true},
	    {" " HEAD "\"kind\":\"stop\"}", true},
	    {HEAD "\"kind\":\"stop\"}}", true}, /* cJSON ignores the rest */
	    {HEAD "\"kind\":\"stop\"}x", true},
	    {HEAD "\"kind\":\"stop\",}", false},
	    {HEAD "\"kind\":\"stop\",,\"a\":1}", false},
	    {HEAD "\"kind\":\"stop\",\"a\":tru}", false},
	    {HEAD "\"kind\":\"stop\",\"a\":}", false},
	    {HEAD "\"kind\":\"stop\",\"a\"}", false},
	    {HEAD "\"kind\":\"stop\",\"a\":1.}", true}, /* strtod reads "1." */
	    {HEAD "\"kind\":\"stop\",\"a\":-}", false},
	    {HEAD "\"kind\":\"stop\",\"a\":1e}", false},
	    {"{}", false},
	    /* numbers read as integers, written otherwise */
	    {"{\"v\":1,\"seq\":09,\"ts\":\"2026-11-23T00:00:01.000Z\","
	     "\"kind\":\"stop\"}",
	     true},
	    {"{\"v\":1.0,\"seq\":9,\"ts\":\"2026-11-23T00:00:01.000Z\","
	     "\"kind\":\"stop\"}",
	     true},
	    {"{\"v\":1,\"seq\":9e0,\"ts\":\"2026-11-23T00:00:01.000Z\","
	     "\"kind\":\"stop\"}",
	     true},
	    {"{\"v\":1,\"seq\":1234567890123456,\"ts\":\"2026-11-23T00:00:01."
	     "000Z\",\"kind\":\"stop\"}",
	     true},
	    {HEAD "\"kind\":\"transition\",\"retry_after_ms\":-0}", true},
	    {HEAD "\"kind\":\"outcomes\",\"span_ms\":1.5}", true},
	    /* bad lines: the parse says why */
	    {HEAD "\"kind\":\"stop\",\"reason\":\"a\x01b\"}", false},
	    {HEAD "\"kind\":\"stop\",\"reason\":\"\xff\"}", false},
	    {HEAD "\"kind\":\"bogus\"}", false},
	    {"{\"v\":1,\"seq\":9,\"ts\":\"yesterday\",\"kind\":\"stop\"}",
	     false},
	    {"{\"seq\":9,\"ts\":\"2026-11-23T00:00:01.000Z\",\"kind\":"
	     "\"stop\"}",
	     false},
	    {"{\"v\":2,\"seq\":9,\"ts\":\"2026-11-23T00:00:01.000Z\","
	     "\"kind\":\"stop\"}",
	     false},
	};
	fb_log_scan *sc = new_scan();
	for (size_t i = 0; i < N(cases); i++) {
		const char *l = cases[i].line;
		fb_log_reader r = reader();
		fb_log_event ev;
		if (agree(l, strlen(l), sc))
			fail_msg("case %zu scanned: %s", i, l);
		int rc = fb_log_event_parse(&r, l, strlen(l), &ev);
		if ((rc == 0) != cases[i].parses)
			fail_msg("case %zu: parse %s: %s", i,
			         rc ? "refuses" : "takes", l);
		if (rc == 0)
			cJSON_Delete(ev.json);
	}
	free(sc);
}

/* Every cut of a line (a torn write), with a '}' inside a string so that
 * some cuts still end in one. */
static void test_torn_lines_are_declined(void **state)
{
	(void)state;
	static const char line[] =
	    HEAD "\"kind\":\"transition\",\"dep\":\"api\",\"reason\":\"a}b\","
	         "\"retry_after_ms\":1500}";
	fb_log_scan *sc = new_scan();
	for (size_t n = 0; n < sizeof line - 1; n++) {
		if (agree(line, n, sc))
			fail_msg("a cut at %zu scanned: %.*s", n, (int)n, line);
	}
	assert_true(agree(line, sizeof line - 1, sc));
	free(sc);
}

/* Lines of the engine, changed at random a byte or a piece at a time:
 * whatever the scan takes, the parse reads the same. */
static void test_mangled_lines_agree(void **state)
{
	(void)state;
	static const char *const seeds[] = {
	    OUTCOMES,
	    HEAD
	    "\"host\":\"web-1\",\"kind\":\"transition\",\"dep\":\"d157\","
	    "\"from\":\"closed\",\"to\":\"open\",\"reason\":\"5 failures\","
	    "\"failures\":5,\"retry_after_ms\":67685}",
	    HEAD "\"kind\":\"operator\",\"action\":\"reset\",\"dep\":\"api\","
	         "\"actor\":\"bob\",\"restored\":true,\"lost\":3}",
	};
	static const char alphabet[] = "\"\\{}[],:0-1.eE tnf\x01\xc3\xa9\xff";
	fb_log_scan *sc = new_scan();
	char buf[1024];
	long taken = 0, declined = 0, fell_back = 0;
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	for (int it = 0; it < 40000; it++) {
		const char *seed = seeds[it % N(seeds)];
		size_t n = strlen(seed);
		memcpy(buf, seed, n);
		for (int m = 0; m < 1 + it % 3; m++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			size_t at = (size_t)(x >> 8) % n;
			char c = alphabet[(x >> 40) % (sizeof alphabet - 1)];
			switch ((x >> 56) % 4) {
			case 0: buf[at] = c; break;
			case 1: /* delete */
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			case 2: /* insert */
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = c;
				n++;
				break;
			default: { /* a piece again: keys given twice */
				size_t from = (size_t)(x >> 20) % n;
				size_t len = 1 + (size_t)(x >> 30) % 24;
				if (from + len > n)
					len = n - from;
				if (n + len < sizeof buf - 8) {
					memmove(buf + at + len, buf + at,
					        n - at);
					memmove(buf + at,
					        buf + (from < at ? from
					                         : from + len),
					        len);
					n += len;
				}
			}
			}
			if (n < 2 || n > sizeof buf - 40)
				break;
		}
		fb_log_reader r = reader();
		fb_log_event ev;
		bool parses = fb_log_event_parse(&r, buf, n, &ev) == 0;
		if (parses)
			cJSON_Delete(ev.json);
		if (agree(buf, n, sc))
			taken++;
		else if (parses)
			fell_back++;
		else
			declined++;
	}
	/* all three kinds of verdict came up, so the agreement means
	 * something */
	print_message("taken %ld, left to cJSON %ld, bad %ld\n", taken,
	              fell_back, declined);
	assert_true(taken > 1000 && fell_back > 100 && declined > 1000);
	free(sc);
}

/* ---- reading a span at a time ------------------------------------------ */

/* A log read whole and read a span at a time (spans shorter than its
 * lines, and longer) gives the same lines with the same numbers. */
static void test_stream_reads_what_open_reads(void **state)
{
	(void)state;
	char path[] = "/tmp/fusebox-logscan-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static char text[100000];
	size_t n = 0;
	for (int i = 0; i < 120; i++) {
		size_t len = (size_t)(i * 37 % 300) * (i % 17 == 0 ? 20 : 1);
		for (size_t k = 0; k < len && n < sizeof text - 2; k++)
			text[n++] = (char)('a' + (i + k) % 26);
		text[n++] = '\n';
	}
	memcpy(text + n, "last, no newline", 16);
	n += 16;
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
	static const size_t spans[] = {1, 7, 64, 333, 4096, 1 << 20};
	for (size_t s = 0; s < N(spans); s++) {
		fb_log_reader whole, part;
		char err[256];
		assert_int_equal(
		    fb_log_reader_open(&whole, path, err, sizeof err), 0);
		assert_int_equal(fb_log_reader_open_stream(
		                     &part, path, spans[s], err, sizeof err),
		                 0);
		const char *a, *b;
		size_t alen, blen;
		long lines = 0;
		while (fb_log_reader_line(&whole, &a, &alen)) {
			assert_true(fb_log_reader_line(&part, &b, &blen));
			assert_int_equal(alen, blen);
			assert_memory_equal(a, b, alen);
			assert_int_equal(whole.line, part.line);
			lines++;
		}
		assert_false(fb_log_reader_line(&part, &b, &blen));
		assert_int_equal(lines, 121);
		fb_log_reader_close(&whole);
		fb_log_reader_close(&part);
	}
	unlink(path);
}

/* ---- a what-if fed both ways ------------------------------------------- */

/* A small incident of three dependencies on two hosts, with operator
 * actions, restarts, lines the what-if does not read and bad ones. */
static char *incident(size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	int64_t t0 = 1795392000000; /* 2026-11-23T00:00:00Z */
	long seq = 1;
	static const char *const deps[] = {"api", "db", "cache"};
#define LINE(...) (n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__))
	for (int i = 0; i < 600; i++) {
		int64_t at = t0 + i * 1000;
		const char *dep = deps[i % 3];
		const char *host = i % 7 ? "web-1" : "web-2";
		char ts[40];
		time_t secs = (time_t)(at / 1000);
		struct tm tm;
		gmtime_r(&secs, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
		LINE("{\"v\":1,\"seq\":%ld,\"ts\":\"%s.%03dZ\",\"host\":\"%s\","
		     "\"kind\":\"outcomes\",\"dep\":\"%s\",\"ok\":1,\"failed\":"
		     "1,"
		     "\"skipped_ok\":%d,\"span_ms\":1000,\"trace\":\"%s\"}\n",
		     seq++, ts, i % 1000, host, dep, i % 5,
		     i % 4 ? "-900+2x -400+3k" : "-2+2x");
		if (i % 20 == 10)
			LINE("{\"v\":1,\"seq\":%ld,\"ts\":\"%s.500Z\",\"host\":"
			     "\"%s\",\"kind\":\"transition\",\"dep\":\"%s\","
			     "\"from\":\"closed\",\"to\":\"open\",\"reason\":"
			     "\"3 consecutive "
			     "failures\",\"retry_after_ms\":%d}\n",
			     seq++, ts, host, dep, 4000 + i);
		if (i % 20 == 15)
			LINE("{\"v\":1,\"seq\":%ld,\"ts\":\"%s.700Z\",\"host\":"
			     "\"%s\",\"kind\":\"transition\",\"dep\":\"%s\","
			     "\"from\":\"open\",\"to\":\"half_open\"}\n",
			     seq++, ts, host, dep);
		if (i % 50 == 25)
			LINE(
			    "{\"v\":1,\"seq\":%ld,\"ts\":\"%s.800Z\",\"host\":"
			    "\"web-1\",\"kind\":\"operator\",\"action\":\"%s\","
			    "\"dep\":\"db\",\"actor\":\"alice\"}\n",
			    seq++, ts, i % 100 == 25 ? "trip" : "reset");
		if (i % 90 == 45)
			LINE("{\"v\":1,\"seq\":%ld,\"ts\":\"%s.900Z\",\"host\":"
			     "\"web-1\",\"kind\":\"start\",\"version\":\"0.1."
			     "0\"}\n",
			     seq++, ts);
		if (i % 60 == 30)
			LINE("{\"v\":1,\"seq\":%ld,\"ts\":\"%s.950Z\",\"kind\":"
			     "\"operator\",\"action\":\"gate_block\",\"actor\":"
			     "\"bob\",\"reason\":\"say \\\"no\\\"\"}\n",
			     seq++, ts);
		if (i % 33 == 3)
			LINE("{\"v\":1,\"seq\":%ld,\"ts\":\"%s\",\"kind\":"
			     "\"outcomes\""
			     ",\"dep\":\"api\",\"trace\":\"0+1x\"}\n",
			     seq++, ts); /* a bad timestamp */
		if (i % 41 == 7)
			LINE("{\"v\":1,\"seq\":%ld,\"ts\":\"%s.960Z\",\"kind\":"
			     "\"outcomes\",\"dep\":\"api\",\"trace\":\"-5+1x\","
			     "\"span_ms\":2.0,\"skipped_ok\":1}\n",
			     seq++, ts); /* left to cJSON */
		assert_true(n < cap - 1024);
	}
#undef LINE
	*len = n;
	return buf;
}

/* The what-if's report in `format`, from the log's lines read by the
 * parse alone or by the scan first. */
static char *report(const char *log, size_t len, bool scan,
                    fb_summary_format format)
{
	fb_log_reader r = reader();
	r.buf = log;
	r.size = len;
	r.line = 0;
	fb_log_scan *sc = scan ? new_scan() : NULL;
	fb_whatif_set set;
	char err[256];
	assert_int_equal(fb_whatif_parse_set("failure_threshold=2,jitter=0",
	                                     &set, err, sizeof err),
	                 0);
	fb_whatif *w = fb_whatif_new(NULL, NULL, &set, 1);
	const char *line;
	size_t n;
	while (fb_log_reader_line(&r, &line, &n)) {
		fb_log_event ev;
		if (!(sc && fb_log_event_scan(&r, line, n, &ev, sc)) &&
		    fb_log_event_parse(&r, line, n, &ev) != 0)
			continue;
		assert_int_equal(fb_whatif_add(w, &ev), 0);
		cJSON_Delete(ev.json);
	}
	assert_int_equal(fb_whatif_run(w), 0);
	char path[] = "/tmp/fusebox-logscan-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	fb_whatif_print(w, format);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	off_t size = lseek(fd, 0, SEEK_END);
	char *text = calloc(1, (size_t)size + 1);
	assert_true(text && pread(fd, text, (size_t)size, 0) == size);
	close(fd);
	unlink(path);
	fb_whatif_free(w);
	free(sc);
	return text;
}

static void test_whatif_reads_scanned_events_alike(void **state)
{
	(void)state;
	size_t len;
	char *log = incident(&len);
	fb_summary_format formats[] = {FB_SUMMARY_JSON, FB_SUMMARY_TEXT};
	for (size_t f = 0; f < N(formats); f++) {
		char *parsed = report(log, len, false, formats[f]);
		char *scanned = report(log, len, true, formats[f]);
		assert_true(strlen(parsed) > 1000);
		assert_string_equal(scanned, parsed);
		free(parsed);
		free(scanned);
	}
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_engine_lines_are_scanned),
	    cmocka_unit_test(test_hostile_lines_are_declined),
	    cmocka_unit_test(test_torn_lines_are_declined),
	    cmocka_unit_test(test_mangled_lines_agree),
	    cmocka_unit_test(test_stream_reads_what_open_reads),
	    cmocka_unit_test(test_whatif_reads_scanned_events_alike),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
