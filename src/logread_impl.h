/* Private to the log reader: what the full parse (logread.c) and the
 * scan (logscan.c) share, so that both read a line's members the same
 * way. */
#ifndef FB_LOGREAD_IMPL_H
#define FB_LOGREAD_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "logread.h"

/* NULL when the raw line is clean (UTF-8, no control bytes, nested no
 * deeper than an event), else why not. */
const char *fb_log_check_bytes(const unsigned char *s, size_t n);

/* True when s is printable ASCII alone, with no backslash; then
 * *spaces says whether two spaces stand together in it. */
bool fb_log_plain(const unsigned char *s, size_t n, bool *spaces);

/* The members of an event that are not fb_log_event's own, collected
 * while its members are read one by one. */
typedef struct fb_log_fields {
	const char *ts, *kind;
	int64_t v, seq; /* -1 while not seen */
} fb_log_fields;

void fb_log_fields_start(fb_log_event *ev, fb_log_fields *f);
/* Which member the key of len bytes (no NUL among them) names. */
fb_log_field fb_log_field_of(const char *key, size_t len);
/* Where the string member `field` goes (in ev or f), NULL when nowhere;
 * a slot already set means the member is given twice. */
const char **fb_log_fields_slot(fb_log_event *ev, fb_log_fields *f,
                                fb_log_field field);
/* A number member; false when it is given twice. */
bool fb_log_fields_number(fb_log_event *ev, fb_log_fields *f,
                          fb_log_field field, double value);
/* True when the members make an event (ts and kind parsed into ev),
 * else false with why. day: a cache for the timestamp, or NULL. */
bool fb_log_fields_end(fb_log_event *ev, const fb_log_fields *f,
                       fb_rfc3339_day *day, const char **why);

#endif
