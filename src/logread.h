/* Reading event logs back (SPEC section 6): line by line over a
 * file read in, every line checked -- size, UTF-8, JSON (cJSON), the event's
 * required fields -- and a bad line skipped with a warning that names
 * the file and line. Never crashes or hangs on any input. */
#ifndef FB_LOGREAD_H
#define FB_LOGREAD_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/parse.h" /* fb_parse_rfc3339 */
#include "fusebox/event.h"

#define FB_LOG_LINE_MAX (64 * 1024) /* longer lines are skipped */

typedef struct fb_log_reader {
	char path[512];
	const char *buf; /* the file's bytes (read in, never mapped) */
	size_t size, off;
	long line; /* number of the line last returned */
	long warnings, skipped;
	bool quiet; /* count bad lines but do not print them */
	/* Optional: told of each bad line instead of printing it. */
	void (*on_skip)(void *ctx, long line, const char *why);
	void *skip_ctx;
	/* fb_log_reader_open_stream(): buf holds one span of the file */
	bool stream;
	int fd;
	int64_t next, end; /* the next span's start; the size at the open */
	size_t cap;        /* of buf */
} fb_log_reader;

/* A parsed event. Strings point into `json` (cJSON owns them). */
typedef struct fb_log_event {
	cJSON *json;
	const char *raw; /* the line as logged, not terminated */
	size_t raw_len;
	long line;
	int64_t ts_ms; /* wall time, ms since the epoch */
	uint64_t seq;
	fb_event_kind kind;
	const char *host, *dep, *from, *to, *reason, *actor, *action, *error,
	    *mode, *health;
	int64_t retry_after_ms; /* -1 when absent */
	int64_t lost;           /* gap: events lost; 0 when absent */
	/* set instead of json when read by fb_log_event_scan() */
	const struct fb_log_scan *scan;
} fb_log_event;

/* Opens a log and reads it in; a FIFO, device or directory is refused
 * without blocking. Returns 0, or -1 with a message in err. */
int fb_log_reader_open(fb_log_reader *r, const char *path, char *err,
                       size_t len);
/* The same for the log's last max_bytes at most, from the first whole
 * line (line numbers then count from there). */
int fb_log_reader_open_tail(fb_log_reader *r, const char *path,
                            size_t max_bytes, char *err, size_t len);
/* A span of a big log, so that it can be read piece by piece: from byte
 * `from` (where a line starts) at most max_bytes, ending after the last
 * whole line in them unless the file ends first. *next gets where the
 * next span starts (the file's size when all is read). Line numbers count
 * from the r->line the caller sets after the open. Returns 0, or -1 with
 * a message in err. */
int fb_log_reader_open_span(fb_log_reader *r, const char *path, int64_t from,
                            size_t max_bytes, int64_t *next, char *err,
                            size_t len);
/* The whole log as fb_log_reader_open() reads it (what it held then),
 * but span bytes at a time into one buffer, more for a longer line:
 * less memory, no new pages for every megabyte. A line, and all that
 * points into it, lasts only until the next is asked for. Returns 0, or
 * -1 with a message in err. */
int fb_log_reader_open_stream(fb_log_reader *r, const char *path, size_t span,
                              char *err, size_t len);
void fb_log_reader_close(fb_log_reader *r);

/* The next line, raw (pointer and length), or false at the end. */
bool fb_log_reader_line(fb_log_reader *r, const char **line, size_t *len);

/* Parses and checks one raw line. Returns 0, or -1 after warning about it
 * (unless quiet). On success free ev->json with cJSON_Delete. */
int fb_log_event_parse(fb_log_reader *r, const char *line, size_t len,
                       fb_log_event *ev);

/* ---- the fast path ---------------------------------------------------- */

#define FB_LOG_SCAN_KEYS 4 /* members asked for beyond fb_log_event's */

typedef enum {
	FB_LOG_NONE, /* no such member */
	FB_LOG_STRING,
	FB_LOG_NUMBER,
	FB_LOG_OTHER /* true, false, null */
} fb_log_type;

/* The members fb_log_event is read from; FB_LOG_F_OTHER for the rest. */
typedef enum {
	FB_LOG_F_OTHER,
	FB_LOG_F_V,
	FB_LOG_F_SEQ,
	FB_LOG_F_TS,
	FB_LOG_F_KIND,
	FB_LOG_F_HOST,
	FB_LOG_F_DEP,
	FB_LOG_F_FROM,
	FB_LOG_F_TO,
	FB_LOG_F_REASON,
	FB_LOG_F_ACTOR,
	FB_LOG_F_ACTION,
	FB_LOG_F_ERROR,
	FB_LOG_F_MODE,
	FB_LOG_F_HEALTH,
	FB_LOG_F_RETRY_AFTER_MS,
	FB_LOG_F_LOST
} fb_log_field;

/* What fb_log_event_scan() keeps of a line: the caller names up to
 * FB_LOG_SCAN_KEYS more top-level members (names under 32 bytes, the
 * strings static); each scan says what they were. Big (a line's worth
 * of text): allocate it, zeroed. */
typedef struct fb_log_scan {
	const char *keys[FB_LOG_SCAN_KEYS];
	int nkeys;
	/* bits (1u << FB_LOG_F_...) of fb_log_event's strings the caller
	 * never reads: left NULL, neither copied nor sanitised (a member
	 * given twice is still declined); 0 to have them all */
	unsigned skip;
	fb_rfc3339_day day; /* of the last line's ts */
	fb_log_type type[FB_LOG_SCAN_KEYS];
	const char *str[FB_LOG_SCAN_KEYS]; /* FB_LOG_STRING: in buf */
	int64_t num[FB_LOG_SCAN_KEYS];     /* FB_LOG_NUMBER */
	char buf[FB_LOG_LINE_MAX + 1];     /* the strings, sanitised */
} fb_log_scan;

/* Reads a line the way the engine writes them without cJSON: true with
 * the event in *ev (json NULL, its strings in sc until the next scan
 * with it), exactly what fb_log_event_parse() would give. False, with
 * nothing said, for any line of another shape, good or bad: then parse
 * it with fb_log_event_parse(). */
bool fb_log_event_scan(fb_log_reader *r, const char *line, size_t len,
                       fb_log_event *ev, fb_log_scan *sc);

/* The top-level member `key` of a parsed event, or of a scanned one
 * when its scan asked for it: FB_LOG_STRING with *str, FB_LOG_NUMBER
 * with *num (a fraction cut; one beyond int64_t is FB_LOG_OTHER). */
fb_log_type fb_log_event_member(const fb_log_event *ev, const char *key,
                                const char **str, int64_t *num);

/* A line that is obviously not an event ({...} with no control bytes) is
 * reported as skipped; used for lines a filter rules out unparsed. */
void fb_log_check_shape(fb_log_reader *r, const char *line, size_t len);

/* The parsed event as the core's fb_event (strings borrowed from ev), so
 * one describe and one tone serve live and replayed events alike. */
void fb_log_event_as_event(const fb_log_event *ev, fb_event *out);

#endif
