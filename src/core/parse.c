/* Strict value parsers: the whole string must be consumed, numbers are
 * range-checked, and every refusal says why. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/parse.h"

static const char *skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static bool only_space(const char *s)
{
	return *skip_space(s) == '\0';
}

int fb_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out,
                 const char **why)
{
	char *end;
	s = skip_space(s);
	if (*s == '\0') {
		*why = "empty value";
		return -1;
	}
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || !only_space(end)) {
		*why = "not a whole number";
		return -1;
	}
	if (errno == ERANGE || v < lo || v > hi) {
		*why = "out of range";
		return -1;
	}
	*out = v;
	return 0;
}

/* A non-negative decimal number ("1.5"), no exponent, no sign. */
static int parse_decimal(const char *s, double *out, char **end)
{
	if (!isdigit((unsigned char)*s) && *s != '.')
		return -1;
	errno = 0;
	double v = strtod(s, end);
	if (*end == s || errno == ERANGE || !isfinite(v) || v < 0)
		return -1;
	/* strtod also accepts exponents and hex; refuse what we did not see */
	for (const char *p = s; p < *end; p++) {
		if (*p != '.' && !isdigit((unsigned char)*p))
			return -1;
	}
	*out = v;
	return 0;
}

static const struct {
	const char *suffix;
	double ms;
} duration_units[] = {
    {"ms", 1.0}, {"s", 1000.0}, {"m", 60000.0}, {"h", 3600000.0}, {"", 1000.0},
};

int fb_parse_duration(const char *s, int64_t *out_ms, const char **why)
{
	double v;
	char *end;
	s = skip_space(s);
	if (parse_decimal(s, &v, &end) != 0) {
		*why = "bad duration (use a number with ms, s, m or h)";
		return -1;
	}
	size_t len = strlen(end);
	while (len > 0 && isspace((unsigned char)end[len - 1]))
		len--;
	for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0];
	     i++) {
		const char *u = duration_units[i].suffix;
		if (strlen(u) == len && strncmp(end, u, len) == 0) {
			double ms = v * duration_units[i].ms;
			if (ms > 9.0e15) {
				*why = "duration out of range";
				return -1;
			}
			*out_ms = (int64_t)llround(ms);
			return 0;
		}
	}
	*why = "bad duration unit (use ms, s, m or h)";
	return -1;
}

int fb_parse_fraction(const char *s, int64_t *out_ppm, const char **why)
{
	double v;
	char *end;
	s = skip_space(s);
	if (parse_decimal(s, &v, &end) != 0) {
		*why = "not a number";
		return -1;
	}
	if (*end == '%') {
		v /= 100.0;
		end++;
	}
	if (!only_space(end)) {
		*why = "not a number";
		return -1;
	}
	if (v > 1.0) {
		*why = "out of range (0 to 1)";
		return -1;
	}
	*out_ppm = (int64_t)llround(v * 1e6);
	return 0;
}

int fb_parse_bool(const char *s, bool *out, const char **why)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	*why = "not a boolean (true or false)";
	return -1;
}

int fb_parse_size(const char *s, int64_t *out, const char **why)
{
	char *end;
	s = skip_space(s);
	errno = 0;
	long long v = isdigit((unsigned char)*s) ? strtoll(s, &end, 10) : -1;
	if (v < 0 || errno == ERANGE) {
		*why = "bad size (use a number with K, M or G)";
		return -1;
	}
	int64_t mult = 1;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		mult = 1LL << 10;
		end++;
		break;
	case 'M':
		mult = 1LL << 20;
		end++;
		break;
	case 'G':
		mult = 1LL << 30;
		end++;
		break;
	default: break;
	}
	if (mult > 1 && toupper((unsigned char)*end) == 'B')
		end++;
	if (!only_space(end) || v > INT64_MAX / mult) {
		*why = "bad size (use a number with K, M or G)";
		return -1;
	}
	*out = v * mult;
	return 0;
}

static int status_code(const char *s, size_t len, int *out)
{
	if (len != 3)
		return -1;
	int v = 0;
	for (size_t i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 100 || v > 599)
		return -1;
	*out = v;
	return 0;
}

int fb_parse_status_range(const char *s, int *lo, int *hi, const char **why)
{
	*why = "bad status range (use 200, 200-299 or 2xx)";
	s = skip_space(s);
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 3 && isdigit((unsigned char)s[0]) && tolower(s[1]) == 'x' &&
	    tolower(s[2]) == 'x' && s[0] >= '1' && s[0] <= '5') {
		*lo = (s[0] - '0') * 100;
		*hi = *lo + 99;
		return 0;
	}
	const char *dash = memchr(s, '-', len);
	int a, b;
	if (!dash) {
		if (status_code(s, len, &a) != 0)
			return -1;
		*lo = *hi = a;
		return 0;
	}
	if (status_code(s, (size_t)(dash - s), &a) != 0 ||
	    status_code(dash + 1, len - (size_t)(dash - s) - 1, &b) != 0 ||
	    a > b)
		return -1;
	*lo = a;
	*hi = b;
	return 0;
}

bool fb_json_int(double v, int64_t lo, int64_t hi, int64_t *out)
{
	if (!(v >= (double)lo && v <= (double)hi) || v != (double)(int64_t)v)
		return false;
	*out = (int64_t)v;
	return true;
}

const char *fb_control_char(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7F)
			return s + i;
		if (u[i] == 0xC2 && i + 1 < n && u[i + 1] >= 0x80 &&
		    u[i + 1] < 0xA0)
			return s + i;
		if (u[i] == 0xE2 && i + 2 < n &&
		    ((u[i + 1] == 0x80 && u[i + 2] >= 0xAA &&
		      u[i + 2] <= 0xAE) ||
		     (u[i + 1] == 0x81 && u[i + 2] >= 0xA6 &&
		      u[i + 2] <= 0xA9)))
			return s + i;
	}
	return NULL;
}

/* ---- times ------------------------------------------------------------- */

#define DAY_MS 86400000LL

static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
	                           31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* n decimal digits, or -1. */
static int digits(const char *s, size_t len, size_t n)
{
	int v = 0;
	if (len < n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "HH:MM:SS" with an optional fraction (".123"), as ms into the day;
 * *used is how much of s it took. Second 60 is a leap second. */
static int parse_clock(const char *s, size_t len, int64_t *ms_of_day,
                       size_t *used, const char **why)
{
	*why = "not a time";
	if (len < 8 || s[2] != ':' || s[5] != ':')
		return -1;
	int h = digits(s, len, 2), mi = digits(s + 3, len - 3, 2),
	    se = digits(s + 6, len - 6, 2);
	if (h < 0 || mi < 0 || se < 0)
		return -1;
	if (h > 23 || mi > 59 || se > 60) {
		*why = "no such time of day";
		return -1;
	}
	size_t i = 8;
	int ms = 0, scale = 100;
	if (i < len && s[i] == '.') {
		if (i + 1 >= len || s[i + 1] < '0' || s[i + 1] > '9')
			return -1;
		for (i++; i < len && s[i] >= '0' && s[i] <= '9';
		     i++, scale /= 10)
			ms += (s[i] - '0') * scale;
	}
	*ms_of_day = ((int64_t)h * 3600 + mi * 60 + se) * 1000 + ms;
	*used = i;
	return 0;
}

/* "Z", "z" or "+hh:mm" / "-hh:mm", all of s; the offset in minutes. */
static int parse_offset(const char *s, size_t len, int *minutes)
{
	if (len == 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*minutes = 0;
		return 0;
	}
	if (len != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
		return -1;
	int oh = digits(s + 1, 2, 2), om = digits(s + 4, 2, 2);
	if (oh < 0 || om < 0 || oh > 23 || om > 59)
		return -1;
	*minutes = (s[0] == '-' ? -1 : 1) * (oh * 60 + om);
	return 0;
}

static int parse_date_time(const char *s, size_t len, int64_t *out_ms,
                           const char **why)
{
	*why = "not a time";
	if (len < 10 || s[4] != '-' || s[7] != '-')
		return -1;
	int y = digits(s, len, 4), mo = digits(s + 5, len - 5, 2),
	    d = digits(s + 8, len - 8, 2);
	if (y < 0 || mo < 0 || d < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) {
		*why = "no such date";
		return -1;
	}
	if (len == 10) {
		*why = "a date without a time of day";
		return -1;
	}
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return -1;
	int64_t ms_of_day;
	size_t used;
	int offset_min;
	if (parse_clock(s + 11, len - 11, &ms_of_day, &used, why) != 0)
		return -1;
	if (parse_offset(s + 11 + used, len - 11 - used, &offset_min) != 0) {
		*why = "no time zone (end with Z or +hh:mm)";
		return -1;
	}
	*out_ms = days_from_civil(y, mo, d) * DAY_MS + ms_of_day -
	          (int64_t)offset_min * 60000;
	return 0;
}

int fb_parse_rfc3339(const char *s, size_t len, int64_t *out_ms)
{
	const char *why;
	return parse_date_time(s, len, out_ms, &why);
}

static int digit_at(const char *s, size_t i)
{
	return s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1;
}

/* "HH:MM:SS.mmmZ" exactly, as ms into the day; false for anything else
 * (the full parse then decides). parse_clock()'s ranges and value. */
static bool short_clock(const char *s, int64_t *ms_of_day)
{
	if (s[2] != ':' || s[5] != ':' || s[8] != '.' || s[12] != 'Z')
		return false;
	int d[9];
	static const unsigned char at[9] = {0, 1, 3, 4, 6, 7, 9, 10, 11};
	int bad = 0;
	for (int i = 0; i < 9; i++)
		bad |= d[i] = digit_at(s, at[i]);
	if (bad < 0)
		return false;
	int h = d[0] * 10 + d[1], mi = d[2] * 10 + d[3], se = d[4] * 10 + d[5];
	if (h > 23 || mi > 59 || se > 60)
		return false;
	*ms_of_day = ((int64_t)h * 3600 + mi * 60 + se) * 1000 + d[6] * 100 +
	             d[7] * 10 + d[8];
	return true;
}

#define SHORT_STAMP 24 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */

int fb_parse_rfc3339_day(const char *s, size_t len, fb_rfc3339_day *day,
                         int64_t *out_ms)
{
	int64_t clock;
	bool shaped = len == SHORT_STAMP && short_clock(s + 11, &clock);
	if (shaped && day->valid && !memcmp(s, day->date, sizeof day->date)) {
		*out_ms = day->day_ms + clock;
		return 0;
	}
	if (fb_parse_rfc3339(s, len, out_ms) != 0)
		return -1;
	if (shaped) {
		memcpy(day->date, s, sizeof day->date);
		day->day_ms = *out_ms - clock;
		day->valid = true;
	}
	return 0;
}

int fb_parse_when(const char *s, int64_t rel_ms, int64_t day_ms,
                  int64_t *out_ms, const char **why)
{
	size_t len = strlen(s), used;
	int64_t v;
	if (s[0] == '-' || s[0] == '+') {
		if (fb_parse_duration(s + 1, &v, why) != 0)
			return -1;
		*out_ms = s[0] == '-' ? rel_ms - v : rel_ms + v;
		return 0;
	}
	if (len >= 10 && s[4] == '-')
		return parse_date_time(s, len, out_ms, why);
	if (parse_clock(s, len, &v, &used, why) != 0)
		return -1;
	if (used != len) {
		*why = "not a time";
		return -1;
	}
	int64_t day = day_ms - (day_ms % DAY_MS + DAY_MS) % DAY_MS;
	*out_ms = day + v;
	return 0;
}
