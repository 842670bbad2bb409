/* The value parsers of src/core/parse.c, the tunables' parse and format
 * (src/tunables.c) and the RFC 3339 reader and writer (src/logread.c,
 * src/eventlog.c). Whatever a parser accepts must be in its range, and
 * where a value has a written form, writing it and reading it back gives
 * the same value.
 *
 * The first input byte picks the parser; the rest is the text (or, for
 * the writers, the value's bytes). */
#include <math.h>
#include <stdbool.h>

#include "config_impl.h"
#include "core/parse.h"
#include "eventlog.h"
#include "fusebox/config.h"
#include "fuzz.h"
#include "logread.h"

#define RFC3339_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z */

static void tunable(fb_tunable t, const char *s)
{
	int64_t v, back;
	const char *why = NULL;
	char buf[64];
	if (fb_tunable_parse(t, s, &v, &why) != 0) {
		FUZZ_CHECK(why && why[0]);
		return;
	}
	fb_tunable_format(t, v, buf, sizeof buf);
	why = NULL;
	if (fb_tunable_parse(t, buf, &back, &why) != 0) {
		fprintf(stderr, "%s: '%s' -> %lld -> '%s' is refused: %s\n",
		        fb_tunable_key(t), s, (long long)v, buf, why);
		abort();
	}
	FUZZ_CHECK(back == v);
}

static void duration(const char *s)
{
	int64_t v, back;
	const char *why;
	char buf[64];
	if (fb_parse_duration(s, &v, &why) != 0)
		return;
	FUZZ_CHECK(v >= 0 && v <= 9000000000000000LL);
	/* any duration, not only a tunable's: the writer is the same */
	fb_tunable_format(FB_T_INTERVAL, v, buf, sizeof buf);
	FUZZ_CHECK(fb_parse_duration(buf, &back, &why) == 0 && back == v);
}

static void integer(const char *s, const uint8_t *raw, size_t n)
{
	int64_t lo = -1000, hi = 1000000, v, back;
	const char *why;
	char buf[32];
	if (n >= 16) { /* the range from the input's first bytes */
		memcpy(&lo, raw, 8);
		memcpy(&hi, raw + 8, 8);
	}
	if (fb_parse_int(s, lo, hi, &v, &why) != 0)
		return;
	FUZZ_CHECK(v >= lo && v <= hi);
	snprintf(buf, sizeof buf, "%lld", (long long)v);
	FUZZ_CHECK(fb_parse_int(buf, lo, hi, &back, &why) == 0 && back == v);
}

static void fraction(const char *s)
{
	int64_t v;
	const char *why;
	if (fb_parse_fraction(s, &v, &why) == 0)
		FUZZ_CHECK(v >= 0 && v <= 1000000);
}

static void size_value(const char *s)
{
	int64_t v, back;
	const char *why;
	char buf[32];
	if (fb_parse_size(s, &v, &why) != 0)
		return;
	FUZZ_CHECK(v >= 0);
	snprintf(buf, sizeof buf, "%lld", (long long)v);
	FUZZ_CHECK(fb_parse_size(buf, &back, &why) == 0 && back == v);
	if (v % 1024 == 0) {
		snprintf(buf, sizeof buf, "%lldK", (long long)(v / 1024));
		FUZZ_CHECK(fb_parse_size(buf, &back, &why) == 0 && back == v);
	}
}

static void status_range(const char *s)
{
	int lo, hi, lo2, hi2;
	const char *why;
	char buf[32];
	if (fb_parse_status_range(s, &lo, &hi, &why) != 0)
		return;
	FUZZ_CHECK(lo >= 100 && lo <= hi && hi <= 599);
	snprintf(buf, sizeof buf, "%d-%d", lo, hi);
	FUZZ_CHECK(fb_parse_status_range(buf, &lo2, &hi2, &why) == 0);
	FUZZ_CHECK(lo2 == lo && hi2 == hi);
}

static void boolean(const char *s)
{
	bool b, back;
	const char *why;
	if (fb_parse_bool(s, &b, &why) != 0)
		return;
	FUZZ_CHECK(fb_parse_bool(b ? "true" : "false", &back, &why) == 0);
	FUZZ_CHECK(back == b);
}

/* Text to time: what is accepted is written back in UTC and read again
 * to the same instant. */
static void rfc3339_text(const char *s, size_t n)
{
	int64_t ms, back;
	char buf[64];
	if (fb_parse_rfc3339(s, n, &ms) != 0 || ms < 0 || ms > RFC3339_MAX)
		return;
	fb_format_rfc3339(ms, buf, sizeof buf);
	FUZZ_CHECK(fb_parse_rfc3339(buf, strlen(buf), &back) == 0);
	FUZZ_CHECK(back == ms);
}

/* Time to text: every instant from 1970 to 9999 is written so that it
 * reads back exactly. */
static void rfc3339_value(const uint8_t *raw, size_t n)
{
	uint64_t u = 0;
	int64_t back;
	char buf[64];
	memcpy(&u, raw, n < 8 ? n : 8);
	int64_t ms = (int64_t)(u % (uint64_t)(RFC3339_MAX + 1));
	fb_format_rfc3339(ms, buf, sizeof buf);
	FUZZ_CHECK(fb_parse_rfc3339(buf, strlen(buf), &back) == 0);
	FUZZ_CHECK(back == ms);
}

static void json_int(const uint8_t *raw, size_t n)
{
	double d = 0;
	int64_t lo = -FB_JSON_INT_MAX, hi = FB_JSON_INT_MAX, v;
	memcpy(&d, raw, n < 8 ? n : 8);
	if (n >= 24) {
		memcpy(&lo, raw + 8, 8);
		memcpy(&hi, raw + 16, 8);
		lo %= FB_JSON_INT_MAX + 1;
		hi %= FB_JSON_INT_MAX + 1;
	}
	if (!fb_json_int(d, lo, hi, &v))
		return;
	FUZZ_CHECK(v >= lo && v <= hi && (double)v == d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	unsigned pick = data[0];
	const uint8_t *raw = data + 1;
	size_t n = size - 1;
	char *s = fuzz_str(raw, n);
	switch (pick % (FB_TUNABLE_COUNT + 9)) {
	case 0: duration(s); break;
	case 1: integer(s, raw, n); break;
	case 2: fraction(s); break;
	case 3: size_value(s); break;
	case 4: status_range(s); break;
	case 5: boolean(s); break;
	case 6: rfc3339_text((const char *)raw, n); break;
	case 7: rfc3339_value(raw, n); break;
	case 8: json_int(raw, n); break;
	default: tunable((fb_tunable)(pick % (FB_TUNABLE_COUNT + 9) - 9), s);
	}
	free(s);
	return 0;
}
