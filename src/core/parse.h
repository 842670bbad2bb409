/* Strict parsers for configuration values. Each returns 0 and stores the
 * value, or -1 leaving *out alone and pointing *why at a short reason. */
#ifndef FB_CORE_PARSE_H
#define FB_CORE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "250ms", "5s", "2m", "1h", "1.5s"; a bare number is seconds ("30",
 * "1.0"), as the services' environment variables have always used. */
int fb_parse_duration(const char *s, int64_t *out_ms, const char **why);

/* A decimal integer within [lo, hi]. */
int fb_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out,
                 const char **why);

/* A fraction "0.2" (or "20%") as parts per million, within [0, 1]. */
int fb_parse_fraction(const char *s, int64_t *out_ppm, const char **why);

/* "true"/"false", "yes"/"no", "on"/"off", "1"/"0". */
int fb_parse_bool(const char *s, bool *out, const char **why);

/* A size with an optional unit: "512", "64K", "10M", "1G". */
int fb_parse_size(const char *s, int64_t *out, const char **why);

/* "200", "200-299" or "2xx": an inclusive range of HTTP status codes. */
/* A JSON number as a whole number in [lo, hi] (both within +-2^53, where
 * doubles are exact). False for NaN, infinities, fractions and anything
 * out of range -- never an undefined float-to-integer conversion. */
#define FB_JSON_INT_MAX 9007199254740992LL /* 2^53 */
bool fb_json_int(double v, int64_t lo, int64_t hi, int64_t *out);

int fb_parse_status_range(const char *s, int *lo, int *hi, const char **why);

/* A dependency address: scheme://[user[:pass]@]host[:port][/path]. */
typedef struct fb_url {
	char scheme[16]; /* lower case: http, https, redis, tcp */
	char host[256];
	int port;       /* 0 when absent */
	char path[256]; /* "" when absent; starts with '/' otherwise */
	bool has_password;
} fb_url;

/* Parses an http(s), redis or tcp URL. Returns 0 or -1 with *why. */
int fb_url_parse(const char *s, fb_url *out, const char **why);

/* A host as a dependency may name it: letters, digits, - . _ (a name or
 * an IPv4 address), or an IPv6 literal in brackets. */
bool fb_host_ok(const char *s);

/* The first control character of s[0, n): C0 but tab, DEL, C1 (in UTF-8)
 * or a bidi control; NULL when there is none. Configuration refuses them
 * rather than echo them into an error or a log. */
const char *fb_control_char(const char *s, size_t n);

/* "2026-11-23T10:00:00.123Z" (or with +hh:mm) to ms since the epoch. A
 * date or time that does not exist (2026-02-31, 25:00:00) is refused.
 * Returns 0 or -1. */
int fb_parse_rfc3339(const char *s, size_t len, int64_t *out_ms);

/* The day of the last "YYYY-MM-DDTHH:MM:SS.mmmZ" read through it, for a
 * reader of many stamps that mostly share it. Zero it before the first. */
typedef struct fb_rfc3339_day {
	char date[11]; /* "YYYY-MM-DDT" */
	int64_t day_ms;
	bool valid;
} fb_rfc3339_day;

/* fb_parse_rfc3339(), the same answer for every input, but a stamp of
 * that shape on the cached day costs its clock alone; the full parse
 * otherwise (which then caches the day of a stamp of that shape). */
int fb_parse_rfc3339_day(const char *s, size_t len, fb_rfc3339_day *day,
                         int64_t *out_ms);

/* A time as an operator types it: RFC 3339; "HH:MM:SS[.mmm]", UTC, on the
 * (UTC) day of day_ms; or "-15m" / "+1h" (any fb_parse_duration) from
 * rel_ms. The caller says what it counts from: now, or a replay's cursor.
 * Returns 0, or -1 leaving *out_ms alone with *why. */
int fb_parse_when(const char *s, int64_t rel_ms, int64_t day_ms,
                  int64_t *out_ms, const char **why);

/* The default port of a scheme, 0 when it has none. */
int fb_url_default_port(const char *scheme);
#endif
