/* What replay --what-if leaves out to go faster, and what it may not:
 * the strings a reader says it never reads (fb_log_scan's skip) are
 * left NULL while every other member reads as the parse reads it, and a
 * member given twice is still declined; ts and kind are never skipped.
 * The timestamp parse that keeps the day of the last stamp
 * (fb_parse_rfc3339_day) answers what fb_parse_rfc3339 answers, stamp
 * for stamp, whatever came before. And a trace's numbers, read by hand,
 * read as strtoll() read them. The JSON writer's strings, checked as
 * they are copied, are still cJSON's, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* after what it needs */
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "core/parse.h"
#include "fusebox/outcomes.h"
#include "jsonout.h"
#include "logread.h"
#include "whatif.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define TRANSITION                                                             \
	"{\"v\":1,\"seq\":402,\"ts\":\"2026-11-23T00:00:11.511Z\",\"host\":"   \
	"\"web-1\",\"kind\":\"transition\",\"dep\":\"d157\",\"from\":"         \
	"\"closed\",\"to\":\"open\",\"health\":\"unhealthy\",\"reason\":"      \
	"\"5 consecutive failures\",\"failures\":5,\"retry_after_ms\":67685,"  \
	"\"error\":\"bad status 503\"}"
#define OPERATOR                                                               \
	"{\"v\":1,\"seq\":9,\"ts\":\"2026-11-23T00:00:01.000Z\",\"host\":"     \
	"\"h\",\"kind\":\"operator\",\"action\":\"trip\",\"dep\":\"redis\","   \
	"\"actor\":\"alice (uid 1000)\",\"mode\":\"auto\",\"reason\":"         \
	"\"drill\"}"

static fb_log_reader reader(void)
{
	fb_log_reader r;
	memset(&r, 0, sizeof r);
	snprintf(r.path, sizeof r.path, "test.jsonl");
	r.quiet = true;
	r.line = 1;
	return r;
}

static fb_log_scan *new_scan(unsigned skip)
{
	fb_log_scan *sc = calloc(1, sizeof *sc);
	assert_non_null(sc);
	fb_whatif_scan_keys(sc);
	sc->skip = skip;
	return sc;
}

static void same(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void test_skipped_strings_are_left_out(void **state)
{
	(void)state;
	static const char *const lines[] = {TRANSITION, OPERATOR};
	fb_log_scan *sc = new_scan(fb_whatif_unread_fields());
	for (size_t i = 0; i < N(lines); i++) {
		fb_log_reader r = reader();
		fb_log_event s, p;
		size_t len = strlen(lines[i]);
		assert_true(fb_log_event_scan(&r, lines[i], len, &s, sc));
		assert_int_equal(fb_log_event_parse(&r, lines[i], len, &p), 0);
		/* what the what-if reads, as the parse reads it */
		assert_true(s.ts_ms == p.ts_ms && s.seq == p.seq &&
		            s.kind == p.kind &&
		            s.retry_after_ms == p.retry_after_ms);
		same(s.host, p.host);
		same(s.dep, p.dep);
		same(s.from, p.from);
		same(s.to, p.to);
		same(s.reason, p.reason);
		same(s.action, p.action);
		/* and what it never reads, not there at all */
		assert_null(s.error);
		assert_null(s.health);
		assert_null(s.actor);
		assert_null(s.mode);
		cJSON_Delete(p.json);
	}
	free(sc);
}

static void test_skipped_strings_given_twice_are_declined(void **state)
{
	(void)state;
	static const char *const lines[] = {
	    "{\"v\":1,\"seq\":1,\"ts\":\"2026-11-23T00:00:01.000Z\","
	    "\"kind\":\"transition\",\"error\":\"a\",\"error\":\"b\"}",
	    "{\"v\":1,\"seq\":1,\"ts\":\"2026-11-23T00:00:01.000Z\","
	    "\"kind\":\"transition\",\"health\":\"up\",\"dep\":\"x\","
	    "\"health\":\"down\"}",
	};
	fb_log_scan *sc = new_scan(fb_whatif_unread_fields());
	for (size_t i = 0; i < N(lines); i++) {
		fb_log_reader r = reader();
		fb_log_event s;
		assert_false(
		    fb_log_event_scan(&r, lines[i], strlen(lines[i]), &s, sc));
		assert_int_equal(
		    fb_log_event_parse(&r, lines[i], strlen(lines[i]), &s), -1);
	}
	free(sc);
}

static void test_ts_and_kind_are_never_skipped(void **state)
{
	(void)state;
	fb_log_scan *sc = new_scan(~0u);
	fb_log_reader r = reader();
	fb_log_event s;
	assert_true(
	    fb_log_event_scan(&r, TRANSITION, strlen(TRANSITION), &s, sc));
	assert_int_equal(s.kind, FB_EV_TRANSITION);
	assert_true(s.ts_ms > 0);
	assert_null(s.dep);
	assert_null(s.host);
	free(sc);
}

/* Two spaces at every place in a line of printable ASCII (in the
 * sixteen-byte blocks, across them, in the tail: a member follows):
 * the scan makes them one as the parse does, and leaves a single one
 * alone. */
static void test_two_spaces_anywhere_read_as_parsed(void **state)
{
	(void)state;
	fb_log_scan *sc = new_scan(0);
	for (int k = 0; k < 48; k++) {
		for (int gap = 1; gap <= 3; gap++) {
			char line[256], reason[64];
			memset(reason, 'a', (size_t)k);
			memset(reason + k, ' ', (size_t)gap);
			snprintf(reason + k + gap,
			         sizeof reason - (size_t)(k + gap), "b");
			int n = snprintf(
			    line, sizeof line,
			    "{\"v\":1,\"seq\":1,\"ts\":\"2026-11-23T00:00:01."
			    "000Z\",\"kind\":\"stop\",\"reason\":\"%s\","
			    "\"pad\":\"%s\"}",
			    reason, "................................");
			fb_log_reader r = reader();
			fb_log_event s, p;
			assert_true(
			    fb_log_event_scan(&r, line, (size_t)n, &s, sc));
			assert_int_equal(
			    fb_log_event_parse(&r, line, (size_t)n, &p), 0);
			same(s.reason, p.reason);
			assert_int_equal(strlen(s.reason), (size_t)k + 2);
			cJSON_Delete(p.json);
		}
	}
	free(sc);
}

/* Every stamp in order through one cache agrees with the full parse. */
static void agree_in_order(const char *const *stamps, size_t n)
{
	fb_rfc3339_day day;
	memset(&day, 0, sizeof day);
	for (size_t i = 0; i < n; i++) {
		int64_t a = -7, b = -7;
		size_t len = strlen(stamps[i]);
		int ra = fb_parse_rfc3339(stamps[i], len, &a);
		int rb = fb_parse_rfc3339_day(stamps[i], len, &day, &b);
		if (ra != rb || (ra == 0 && a != b))
			fail_msg(
			    "'%s': parse %d (%lld), with the day %d (%lld)",
			    stamps[i], ra, (long long)a, rb, (long long)b);
	}
}

static void test_day_cache_agrees_with_the_parse(void **state)
{
	(void)state;
	static const char *const stamps[] = {
	    "2026-11-23T00:00:00.002Z",
	    "2026-11-23T23:59:59.999Z",
	    "2026-11-23T23:59:60.000Z", /* a leap second */
	    "2026-11-23T24:00:00.000Z", /* no such time, same day */
	    "2026-11-23T12:60:00.000Z",
	    "2026-11-23T12:00:61.000Z",
	    "2026-11-23T12:00:00.000z", /* lower case: the full parse */
	    "2026-11-23T12:00:00.000+01:00",
	    "2026-11-23T12:00:00.0001Z",
	    "2026-11-23T12:00:00.00Z",
	    "2026-11-23T12:00:00Z",
	    "2026-11-23T1a:00:00.000Z",
	    "2026-11-23T12:00:00.0a0Z",
	    "2026-11-23T12:00:00,000Z",
	    "2026-11-23t12:00:00.000Z", /* another day key: 't' */
	    "2026-11-23 12:00:00.000Z",
	    "2026-11-23T12:00:00.000Z",
	    "2026-11-24T00:00:00.000Z", /* the next day */
	    "2026-11-23T00:00:00.000Z", /* and back */
	    "2026-02-30T00:00:00.000Z", /* no such day */
	    "2026-02-30T00:00:01.000Z",
	    "2024-02-29T10:00:00.000Z",
	    "2024-02-29T10:00:00.500Z",
	    "1969-12-31T23:59:59.999Z",
	    "2026-11-2xT00:00:00.000Z",
	    "2026-11-23T00:00:00.000",
	    "",
	};
	agree_in_order(stamps, N(stamps));
	/* each after every other, so each meets every day in the cache */
	for (size_t i = 0; i < N(stamps); i++) {
		for (size_t k = 0; k < N(stamps); k++) {
			const char *pair[] = {stamps[i], stamps[k]};
			agree_in_order(pair, 2);
		}
	}
}

static void test_trace_numbers_read_as_strtoll_read_them(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int n;        /* entries, or -1 */
		int64_t b, e; /* the first one's begin and end */
	} cases[] = {
	    {"-2+2x", 1, 998, 1000},
	    {"0+0k 5+1s", 2, 1000, 1000},
	    {"-0+7k", 1, 1000, 1007},
	    {"0000000000000000000000003+4k", 1, 1003, 1007},
	    {"3+0000000000000000000000004k", 1, 1003, 1007},
	    {"-31622400000+1k", 1, 1000 - 31622400000LL, 1001 - 31622400000LL},
	    {"31622400000+31622400000k", 1, 31622401000LL, 63244801000LL},
	    {"-31622400001+1k", -1, 0, 0},
	    {"31622400001+1k", -1, 0, 0},
	    {"1+31622400001k", -1, 0, 0},
	    {"9223372036854775807+1k", -1, 0, 0},
	    {"9223372036854775808+1k", -1, 0, 0},
	    {"-9223372036854775808+1k", -1, 0, 0},
	    {"99999999999999999999999999+1k", -1, 0, 0},
	    {"1+-1k", -1, 0, 0},
	    {"-+1k", -1, 0, 0},
	    {"--1+1k", -1, 0, 0},
	    {"+1+1k", -1, 0, 0},
	    {" 1+1k", -1, 0, 0},
	    {"1+ 1k", -1, 0, 0},
	    {"1+1", -1, 0, 0},
	    {"1+1q", -1, 0, 0},
	    {"1k", -1, 0, 0},
	    {"-", -1, 0, 0},
	};
	for (size_t i = 0; i < N(cases); i++) {
		fb_outcome out[FB_OUTSUM_TRACE];
		int n = fb_outsum_trace_parse(cases[i].text, 1000, out,
		                              FB_OUTSUM_TRACE);
		if (n != cases[i].n)
			fail_msg("'%s': %d entries, not %d", cases[i].text, n,
			         cases[i].n);
		if (n > 0 && (out[0].begin_ms != cases[i].b ||
		              out[0].end_ms != cases[i].e))
			fail_msg("'%s': %lld..%lld", cases[i].text,
			         (long long)out[0].begin_ms,
			         (long long)out[0].end_ms);
	}
}

/* Strings of every length around the writer's short-string limit, with
 * one byte cJSON escapes (or may) at every place, or none, as keys and
 * values: the document is cJSON's. */
static void test_writer_strings_are_cjson_strings(void **state)
{
	(void)state;
	static const char odd[] = {'"', '\\', '\n', '\x7f', '\xc3'};
	fb_jw *j = malloc(sizeof *j);
	assert_non_null(j);
	for (size_t len = 0; len <= 140; len++) {
		for (size_t at = 0; at <= len; at++) {
			for (size_t o = 0; o < N(odd); o++) {
				char text[160];
				memset(text, 'x', len);
				text[len] = '\0';
				if (at < len)
					text[at] = odd[o];
				else if (o > 0)
					break; /* the plain one once */
				char *got = NULL;
				size_t size = 0;
				FILE *f = open_memstream(&got, &size);
				assert_non_null(f);
				fb_jw_start(j, f);
				fb_jw_object(j, NULL);
				fb_jw_string(j, text, text);
				fb_jw_close(j, '}');
				assert_int_equal(fb_jw_end(j), 0);
				fclose(f);
				cJSON *doc = cJSON_CreateObject();
				cJSON_AddStringToObject(doc, text, text);
				char *want = cJSON_PrintUnformatted(doc);
				assert_true(size == strlen(want) + 1 &&
				            !memcmp(got, want, size - 1) &&
				            got[size - 1] == '\n');
				free(want);
				cJSON_Delete(doc);
				free(got);
			}
		}
	}
	free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_skipped_strings_are_left_out),
	    cmocka_unit_test(test_skipped_strings_given_twice_are_declined),
	    cmocka_unit_test(test_ts_and_kind_are_never_skipped),
	    cmocka_unit_test(test_two_spaces_anywhere_read_as_parsed),
	    cmocka_unit_test(test_day_cache_agrees_with_the_parse),
	    cmocka_unit_test(test_trace_numbers_read_as_strtoll_read_them),
	    cmocka_unit_test(test_writer_strings_are_cjson_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
