/* A JSON document written as it goes (jsonout.h). The plain cases are
 * written here -- exactly as cJSON writes them: a string of printable
 * ASCII without quote or backslash between quotes, an integer under
 * 10^15 in decimal, as "%1.15g" gives it (but -0: cJSON's "-0") -- and
 * every other value is handed to cJSON to print, so that the document
 * is the one cJSON_PrintUnformatted() would give. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"

#define INT_PLAIN 1e15 /* integers below: their digits, whoever prints */

static void flush(fb_jw *j)
{
	if (j->n && fwrite(j->buf, 1, j->n, j->out) != j->n)
		j->failed = true;
	j->n = 0;
}

static void put(fb_jw *j, const char *s, size_t n)
{
	if (n > sizeof j->buf - j->n)
		flush(j);
	if (n > sizeof j->buf) {
		if (fwrite(s, 1, n, j->out) != n)
			j->failed = true;
		return;
	}
	memcpy(j->buf + j->n, s, n);
	j->n += n;
}

static void put_char(fb_jw *j, char c)
{
	if (j->n == sizeof j->buf)
		flush(j);
	j->buf[j->n++] = c;
}

/* A value handed to cJSON to print; takes item. */
static void put_cjson(fb_jw *j, cJSON *item)
{
	char *text = item ? cJSON_PrintUnformatted(item) : NULL;
	if (text)
		put(j, text, strlen(text));
	else
		j->failed = true;
	free(text);
	cJSON_Delete(item);
}

/* Bytes written as they are between quotes: printable ASCII but the
 * quote and the backslash (one look per byte, not four compares). */
#define PLAIN_16(c)                                                            \
	P(c), P(c + 1), P(c + 2), P(c + 3), P(c + 4), P(c + 5), P(c + 6),      \
	    P(c + 7), P(c + 8), P(c + 9), P(c + 10), P(c + 11), P(c + 12),     \
	    P(c + 13), P(c + 14), P(c + 15)
#define P(c) ((c) >= 0x20 && (c) < 0x7f && (c) != '"' && (c) != '\\')
static const bool plain[256] = {PLAIN_16(0x00), PLAIN_16(0x10), PLAIN_16(0x20),
                                PLAIN_16(0x30), PLAIN_16(0x40), PLAIN_16(0x50),
                                PLAIN_16(0x60), PLAIN_16(0x70)};
#undef P
#undef PLAIN_16

#define SHORT_TEXT 64 /* a string this long at most: copied as checked */

static void put_text(fb_jw *j, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = 0;
	/* the keys and most values: each byte checked as it is copied out
	 * after the opening quote, kept only when all were plain */
	if (sizeof j->buf - j->n < SHORT_TEXT + 2)
		flush(j);
	char *out = j->buf + j->n + 1;
	while (n < SHORT_TEXT && plain[u[n]]) {
		out[n] = (char)u[n];
		n++;
	}
	if (!u[n]) {
		out[-1] = '"';
		out[n] = '"';
		j->n += n + 2;
		return;
	}
	while (plain[u[n]])
		n++;
	if (u[n]) { /* something cJSON escapes (or may): its own way */
		put_cjson(j, cJSON_CreateString(s));
		return;
	}
	put_char(j, '"');
	put(j, s, n);
	put_char(j, '"');
}

/* The comma before a value, and its key. */
static void lead(fb_jw *j, const char *key)
{
	if (j->more[j->depth])
		put_char(j, ',');
	j->more[j->depth] = true;
	if (key) {
		put_text(j, key);
		put_char(j, ':');
	}
}

void fb_jw_start(fb_jw *j, FILE *out)
{
	j->out = out;
	j->n = 0;
	j->depth = 0;
	j->more[0] = false;
	j->failed = false;
}

static void open_container(fb_jw *j, const char *key, char bracket)
{
	lead(j, key);
	put_char(j, bracket);
	if (j->depth + 1 == FB_JW_DEPTH) {
		j->failed = true;
		return;
	}
	j->more[++j->depth] = false;
}

void fb_jw_object(fb_jw *j, const char *key)
{
	open_container(j, key, '{');
}

void fb_jw_array(fb_jw *j, const char *key)
{
	open_container(j, key, '[');
}

void fb_jw_close(fb_jw *j, char bracket)
{
	put_char(j, bracket);
	if (j->depth > 0)
		j->depth--;
}

void fb_jw_string(fb_jw *j, const char *key, const char *value)
{
	lead(j, key);
	put_text(j, value);
}

void fb_jw_number(fb_jw *j, const char *key, double value)
{
	char digits[24];
	lead(j, key);
	if (!(value > -INT_PLAIN && value < INT_PLAIN) ||
	    value != (double)(int64_t)value || (value == 0 && signbit(value))) {
		put_cjson(j, cJSON_CreateNumber(value));
		return;
	}
	int64_t v = (int64_t)value;
	uint64_t u = v < 0 ? (uint64_t)-v : (uint64_t)v;
	size_t at = sizeof digits;
	do {
		digits[--at] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		digits[--at] = '-';
	put(j, digits + at, sizeof digits - at);
}

void fb_jw_bool(fb_jw *j, const char *key, bool value)
{
	lead(j, key);
	if (value)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

int fb_jw_end(fb_jw *j)
{
	put_char(j, '\n');
	flush(j);
	return j->failed ? -1 : 0;
}
