/* Reading an event line without building its JSON: the fast path of
 * fb_log_event_scan() (logread.h) for the lines the engine writes, and
 * the members a reader asks for beyond fb_log_event's own.
 *
 * Why it is safe next to cJSON: it takes a line only when the line is
 * of the one flat shape cJSON_PrintUnformatted() gives an event --
 * {"key":value,...} with no whitespace, no backslash anywhere (so no
 * escaped quote can end a string early and no escaped key can hide a
 * name), no nested object or array, numbers as JSON writes them --
 * after the same byte checks as the full parse, and it reads each
 * member through the same functions as the full parse
 * (logread_impl.h). Anything else (an escape, a float where an integer
 * is read, a field given twice, a torn line, a missing field) it
 * declines, and the caller parses the line with cJSON as before, which
 * then accepts it or says why not. So a line is never read two ways,
 * and a bad line is reported exactly as without the scan. */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "fusebox/sanitize.h"
#include "logread.h"
#include "logread_impl.h"

#define KEY_MAX    32 /* longer keys are none a reader asks for */
#define DIGITS     15 /* integers read here: exact in a double */
#define NUMBER_MAX 40 /* longer numbers are declined (cJSON cuts at 63) */

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A JSON number at p (before end): its length, 0 when it is not one.
 * *simple tells whether it is an integer of at most DIGITS digits
 * without a leading zero, whose value is then in *value. */
static size_t number_at(const char *p, const char *end, bool *simple,
                        int64_t *value)
{
	const char *s = p;
	bool neg = s < end && *s == '-';
	s += neg;
	if (s == end || !digit(*s))
		return 0;
	const char *first = s;
	int64_t v = 0;
	if (*s == '0') {
		s++;
	} else {
		while (s < end && digit(*s)) {
			if (s - first < DIGITS)
				v = v * 10 + (*s - '0');
			s++;
		}
	}
	size_t ndigits = (size_t)(s - first);
	*simple = ndigits <= DIGITS && !(neg && v == 0);
	if (s < end && *s == '.') {
		*simple = false;
		if (++s == end || !digit(*s))
			return 0;
		while (s < end && digit(*s))
			s++;
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		*simple = false;
		s++;
		s += s < end && (*s == '+' || *s == '-');
		if (s == end || !digit(*s))
			return 0;
		while (s < end && digit(*s))
			s++;
	}
	if (s - p > NUMBER_MAX)
		return 0;
	*value = neg ? -v : v;
	return (size_t)(s - p);
}

/* true, false or null at p: its length, else 0. */
static size_t literal_at(const char *p, const char *end)
{
	static const char *const words[] = {"true", "false", "null"};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		size_t n = strlen(words[i]);
		if ((size_t)(end - p) >= n && !memcmp(p, words[i], n))
			return n;
	}
	return 0;
}

/* The index of key among the members the reader asked for, or -1. */
static int extra_of(const fb_log_scan *sc, const char *key)
{
	for (int k = 0; k < sc->nkeys; k++) {
		if (sc->keys[k][0] == key[0] && !strcmp(sc->keys[k], key))
			return k;
	}
	return -1;
}

typedef struct scan {
	fb_log_event *ev;
	fb_log_fields f;
	fb_log_scan *sc;
	size_t used;                     /* of sc->buf */
	size_t keylen[FB_LOG_SCAN_KEYS]; /* of sc->keys */
	uint64_t lengths;                /* bit n: one of them is n long */
	unsigned seen;                   /* bit f: string member f was read */
	unsigned skip;                   /* of sc->skip: slots left NULL */
	bool ascii;                      /* the line is printable ASCII alone */
	bool spaces; /* two spaces together somewhere in it */
} scan;

/* extra_of() while scanning, the lengths known. */
static int extra_at(const scan *s, const char *key, size_t len)
{
	if (len >= 64 || !(s->lengths >> len & 1))
		return -1; /* no member asked for is this long */
	for (int k = 0; k < s->sc->nkeys; k++) {
		if (s->keylen[k] == len && !memcmp(s->sc->keys[k], key, len))
			return k;
	}
	return -1;
}

/* The closing quote of the string whose text starts at p, or NULL:
 * eight bytes at a time, as the strings of an event are short and a
 * memchr() call each costs more than they do. */
static const char *string_end(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');
	for (; end - p >= 16; p += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		int hit = _mm_movemask_epi8(_mm_cmpeq_epi8(v, quote));
		if (hit)
			return p + __builtin_ctz((unsigned)hit);
	}
#endif
#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                            \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ULL, low7 = ones * 0x7f;
	for (; end - p >= 8; p += 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		w ^= ones * '"'; /* a quote is now a zero byte */
		/* exact per byte, and nothing wraps */
		uint64_t zero = ~(((w & low7) + low7) | w) & ~low7;
		if (zero) /* the lowest flag: the first quote */
			return p + (__builtin_ctzll(zero) >> 3);
	}
#endif
	return memchr(p, '"', (size_t)(end - p));
}

/* Two spaces together in v? Eight bytes at a time. */
static bool two_spaces(const char *v, size_t len)
{
	const uint64_t ones = 0x0101010101010101ULL, low7 = ones * 0x7f;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, v + i, 8);
		w ^= ones * ' '; /* a space is now a zero byte */
		uint64_t zero = ~(((w & low7) + low7) | w) & ~low7; /* exact */
		if ((zero & zero >> 8) || (i && v[i - 1] == ' ' && v[i] == ' '))
			return true;
	}
	for (i = i ? i : 1; i < len; i++) {
		if (v[i] == ' ' && v[i - 1] == ' ')
			return true;
	}
	return false;
}

/* A string member (x: which member asked for it is, or -1); false to
 * decline the line. */
static bool take_string(scan *s, fb_log_field field, int x, const char *v,
                        size_t len)
{
	const char **slot = fb_log_fields_slot(s->ev, &s->f, field);
	if ((slot && s->seen >> field & 1) ||
	    (x >= 0 && s->sc->type[x] != FB_LOG_NONE))
		return false; /* given twice: the full parse says so */
	if (slot) {
		s->seen |= 1u << field;
		if (s->skip >> field & 1)
			slot =
			    NULL; /* never read: neither copied nor made safe */
	}
	if (!slot && x < 0)
		return true;
	if (s->used + len + 1 > sizeof s->sc->buf)
		return false;
	/* sanitised as the full parse does it in place; on a line of
	 * printable ASCII alone that only makes a run of spaces one, so a
	 * string without two together is copied as it is */
	char *out = s->sc->buf + s->used;
	if (s->ascii && (!s->spaces || !two_spaces(v, len))) {
		memcpy(out, v, len);
		out[len] = '\0';
		s->used += len + 1;
	} else {
		s->used += fb_sanitize(out, len + 1, v, len) + 1;
	}
	if (slot)
		*slot = out;
	if (x >= 0) {
		s->sc->type[x] = FB_LOG_STRING;
		s->sc->str[x] = out;
	}
	return true;
}

/* A number member; false to decline the line. */
static bool take_number(scan *s, fb_log_field field, int x, bool simple,
                        int64_t v)
{
	if (x >= 0 && (s->sc->type[x] != FB_LOG_NONE || !simple))
		return false;
	if (x >= 0) {
		s->sc->type[x] = FB_LOG_NUMBER;
		s->sc->num[x] = v;
	}
	if (simple) /* no field of the event's own: nothing to read */
		return field == FB_LOG_F_OTHER ||
		       fb_log_fields_number(s->ev, &s->f, field, (double)v);
	/* a float or exponent: ignored unless it is a member read as an
	 * integer (v 1.0 is v 1 to cJSON) -- then cJSON decides */
	return field != FB_LOG_F_SEQ && field != FB_LOG_F_V &&
	       field != FB_LOG_F_RETRY_AFTER_MS && field != FB_LOG_F_LOST;
}

/* true, false or null; false to decline the line. */
static bool take_other(scan *s, int x)
{
	if (x >= 0 && s->sc->type[x] != FB_LOG_NONE)
		return false;
	if (x >= 0)
		s->sc->type[x] = FB_LOG_OTHER;
	return true;
}

/* One "key":value at *p; false to decline the line. */
static bool member(scan *s, const char **p, const char *end)
{
	const char *q = *p;
	if (q == end || *q++ != '"')
		return false;
	const char *close = string_end(q, end);
	if (!close || close + 1 == end || close[1] != ':')
		return false;
	size_t klen = (size_t)(close - q);
	bool known = klen < KEY_MAX; /* else no member anyone reads */
	const char *key = q;
	fb_log_field field =
	    known ? fb_log_field_of(key, klen) : FB_LOG_F_OTHER;
	int x = known ? extra_at(s, key, klen) : -1;
	q = close + 2;
	if (q == end)
		return false;
	bool ok = true;
	if (*q == '"') {
		close = string_end(q + 1, end);
		if (!close)
			return false;
		if (known)
			ok = take_string(s, field, x, q + 1,
			                 (size_t)(close - q - 1));
		q = close + 1;
	} else if (*q == '-' || digit(*q)) {
		bool simple;
		int64_t v;
		size_t n = number_at(q, end, &simple, &v);
		if (!n)
			return false;
		if (known)
			ok = take_number(s, field, x, simple, v);
		q += n;
	} else {
		size_t n = literal_at(q, end);
		if (!n)
			return false; /* an object, an array, or no JSON */
		if (known)
			ok = take_other(s, x);
		q += n;
	}
	*p = q;
	return ok;
}

bool fb_log_event_scan(fb_log_reader *r, const char *line, size_t len,
                       fb_log_event *ev, fb_log_scan *sc)
{
	static const fb_log_event none; /* copied: no rep stos per line */
	const char *why;
	*ev = none;
	const unsigned char *u = (const unsigned char *)line;
	if (len < 2 || len > FB_LOG_LINE_MAX || line[0] != '{' ||
	    line[len - 1] != '}')
		return false;
	/* Printable ASCII alone leaves fb_log_check_bytes() nothing to say
	 * of a line that member() then reads as flat: no byte to check as
	 * UTF-8 or as a control, no bracket outside a string but the outer
	 * two. Other bytes get its verdict; a backslash is declined. */
	bool spaces = false;
	bool ascii = fb_log_plain(u, len, &spaces);
	if (!ascii && (memchr(line, '\\', len) || fb_log_check_bytes(u, len)))
		return false;
	/* ts and kind make the event: never skipped */
	unsigned skip = sc->skip & ~(1u << FB_LOG_F_TS | 1u << FB_LOG_F_KIND);
	/* set field by field (keylen up to nkeys): a whole-struct zeroing
	 * per line showed in the profile */
	scan s;
	s.ev = ev;
	s.sc = sc;
	s.used = 0;
	s.lengths = 0;
	s.seen = 0;
	s.skip = skip;
	s.ascii = ascii;
	/* one look for two spaces in the line spares one per string */
	s.spaces = spaces;
	fb_log_fields_start(ev, &s.f);
	for (int k = 0; k < sc->nkeys; k++) {
		sc->type[k] = FB_LOG_NONE;
		s.keylen[k] = strlen(sc->keys[k]);
		s.lengths |= s.keylen[k] < 64 ? 1ULL << s.keylen[k] : 0;
	}
	const char *p = line + 1, *end = line + len - 1; /* the last '}' */
	for (;;) {
		if (!member(&s, &p, end))
			goto declined;
		if (p == end)
			break;
		if (*p++ != ',')
			goto declined;
	}
	if (!fb_log_fields_end(ev, &s.f, &sc->day, &why))
		goto declined;
	ev->raw = line;
	ev->raw_len = len;
	ev->line = r->line;
	ev->scan = sc;
	return true;
declined:
	memset(ev, 0, sizeof *ev);
	return false;
}

fb_log_type fb_log_event_member(const fb_log_event *ev, const char *key,
                                const char **str, int64_t *num)
{
	if (ev->json) {
		const cJSON *v =
		    cJSON_GetObjectItemCaseSensitive(ev->json, key);
		if (cJSON_IsString(v)) {
			*str = v->valuestring;
			return FB_LOG_STRING;
		}
		/* in range: a cast beyond int64_t is undefined */
		if (cJSON_IsNumber(v) && v->valuedouble > -9.2e18 &&
		    v->valuedouble < 9.2e18) {
			*num = (int64_t)v->valuedouble;
			return FB_LOG_NUMBER;
		}
		return v ? FB_LOG_OTHER : FB_LOG_NONE;
	}
	int x = ev->scan ? extra_of(ev->scan, key) : -1;
	if (x < 0)
		return FB_LOG_NONE;
	if (ev->scan->type[x] == FB_LOG_STRING)
		*str = ev->scan->str[x];
	else if (ev->scan->type[x] == FB_LOG_NUMBER)
		*num = ev->scan->num[x];
	return ev->scan->type[x];
}
