/* Outcome summaries: one window per dependency and interval, written
 * only when something in it failed, was slow or was a trial. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusebox/outcomes.h"

void fb_outsum_init(fb_outsum *s)
{
	memset(s, 0, sizeof *s);
}

bool fb_outsum_due(const fb_outsum *s, int64_t now_ms, int64_t interval_ms)
{
	return s->open && now_ms - s->start_ms >= interval_ms;
}

void fb_outsum_add(fb_outsum *s, int64_t begin_ms, int64_t end_ms,
                   fb_out_result result, bool trial)
{
	if (!s->open) {
		s->open = true;
		s->start_ms = end_ms;
	}
	if (result == FB_OUT_FAIL)
		s->failed++;
	else
		s->ok++;
	if (result == FB_OUT_SLOW)
		s->slow++;
	if (trial)
		s->trials++;
	if (s->n == FB_OUTSUM_TRACE) {
		s->lost++;
		return;
	}
	s->trace[s->n++] =
	    (fb_outcome){begin_ms < end_ms ? begin_ms : end_ms, end_ms, result};
}

bool fb_outsum_close(fb_outsum *s, fb_outsum *out)
{
	if (!s->open)
		return false;
	uint32_t skipped = s->skipped_ok;
	bool write = s->failed || s->slow || s->trials;
	if (write)
		*out = *s;
	else
		skipped += s->ok;
	fb_outsum_init(s);
	s->skipped_ok = write ? 0 : skipped;
	return write;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int64_t fb_outsum_quantile(const fb_outsum *s, int pct)
{
	int64_t lat[FB_OUTSUM_TRACE];
	if (!s->n)
		return -1;
	for (uint32_t i = 0; i < s->n; i++)
		lat[i] = s->trace[i].end_ms - s->trace[i].begin_ms;
	qsort(lat, s->n, sizeof lat[0], cmp_i64);
	uint32_t rank = (uint32_t)(((uint64_t)s->n * (uint64_t)pct + 99) / 100);
	return lat[rank ? rank - 1 : 0];
}

size_t fb_outsum_trace_format(const fb_outsum *s, char *buf, size_t len)
{
	static const char code[] = {
	    [FB_OUT_OK] = 'k', [FB_OUT_SLOW] = 's', [FB_OUT_FAIL] = 'x'};
	size_t used = 0;
	if (len)
		buf[0] = '\0';
	for (uint32_t i = 0; i < s->n; i++) {
		const fb_outcome *o = &s->trace[i];
		char one[48];
		int k = snprintf(one, sizeof one, "%s%lld+%lld%c", i ? " " : "",
		                 (long long)(o->begin_ms - s->start_ms),
		                 (long long)(o->end_ms - o->begin_ms),
		                 code[o->result]);
		if (k < 0 || used + (size_t)k >= len)
			break;
		memcpy(buf + used, one, (size_t)k + 1);
		used += (size_t)k;
	}
	return used;
}

#define FB_TRACE_MAX (1000LL * 86400 * 366) /* a year, in ms */

/* One signed decimal ("-" then digits, or digits); *end past it. -1 when
 * there is none. One beyond FB_TRACE_MAX reads as some value beyond it
 * (not its own, which may not fit): refused all the same. */
static int read_num(const char *p, const char **end, long long *out)
{
	const char *s = p + (*p == '-');
	long long v = 0;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v <= FB_TRACE_MAX)
			v = v * 10 + (*s - '0');
	}
	*out = *p == '-' ? -v : v;
	*end = s;
	return 0;
}

int fb_outsum_trace_parse(const char *text, int64_t start_ms, fb_outcome *out,
                          int max)
{
	const char *p = text;
	int n = 0;
	while (*p) {
		long long b, d;
		const char *end;
		if (n == max || read_num(p, &end, &b) || *end != '+' ||
		    read_num(end + 1, &end, &d) || d < 0 || d > FB_TRACE_MAX ||
		    b > FB_TRACE_MAX || b < -FB_TRACE_MAX)
			return -1;
		fb_out_result r;
		switch (*end) {
		case 'k': r = FB_OUT_OK; break;
		case 's': r = FB_OUT_SLOW; break;
		case 'x': r = FB_OUT_FAIL; break;
		default: return -1;
		}
		out[n++] = (fb_outcome){start_ms + b, start_ms + b + d, r};
		p = end + 1;
		if (*p == ' ' && p[1])
			p++;
		else if (*p)
			return -1;
	}
	return n;
}
