/* The durable event log (SPEC section 6): JSON Lines, one event per line,
 * each written and fsync'ed before anyone is shown it. `seq` continues
 * across restarts; a torn last line from a crash is reported and never
 * glued to the next; rotation by size keeps `keep` old files. */
#ifndef FB_EVENTLOG_H
#define FB_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fusebox/config.h"
#include "fusebox/event.h"

typedef struct fb_log {
	int fd;
	char path[512];
	char host[256];
	uint64_t seq;     /* of the last event written */
	int64_t size;     /* bytes in the current file */
	int64_t max_size; /* rotate beyond this; 0 = never */
	int keep;
	mode_t mode;  /* of the files created: 0600, or 0640 for a group */
	bool partial; /* a failed write may have left bytes past `size` */
	bool unended; /* the file ends in such a stump, kept: end it first */
	/* Told of each line as it is written, without its newline (for
	 * watchers); may be NULL. */
	void (*on_line)(void *ctx, const char *line, size_t len);
	void *on_line_ctx;
} fb_log;

/* Takes the lock that makes one instance per event log: PATH.lock, held
 * (flock) until the returned fd is closed or the process ends, holding
 * its pid. Taken before anything else an instance does. Returns the fd;
 * -2 with *err naming the instance that holds it; -1 with *err for any
 * other failure. */
int fb_log_lock(const char *path, fb_error *err);

/* Opens (creating, with `mode`) the log and finds the last seq. A
 * symlink, FIFO, device or another user's file is refused. A torn last
 * line is reported through `warn` (empty when none) and terminated so
 * the next event starts on a line of its own. Returns 0, or -1 with
 * *err. */
int fb_log_open(fb_log *log, const char *path, const char *host,
                int64_t max_size, int keep, mode_t mode, char *warn,
                size_t warnlen, fb_error *err);
void fb_log_close(fb_log *log);

/* Appends one event stamped with the next seq, wall time and host, and
 * fsyncs: fb_log_render() then fb_log_write(). Returns 0, or -1 with
 * *err and errno (the event is then not logged). */
int fb_log_append(fb_log *log, const fb_event *ev, int64_t wall_ms,
                  fb_error *err);

/* The event stamped with its wall time and host, as the JSON object of
 * its line without "v" and "seq" (those are given when it is written),
 * in a new string the caller frees; NULL when out of memory. An event
 * that cannot be written at once can wait in this form. */
char *fb_log_render(const fb_log *log, const fb_event *ev, int64_t wall_ms);

/* Writes a rendered event as the next line, with the next seq, and
 * fdatasyncs it. All or nothing: after a failed write or sync the line
 * is cut off again, so the file never holds half a line for the next
 * one to join (and when even that fails, the next line starts on a line
 * of its own). Rotates first when the line would pass max_size, and
 * opens the file again when a rotation could not. Returns 0, or -1 with
 * *err and errno saying why -- the write's own cause (ENOSPC, EIO,
 * EDQUOT, EFBIG...), never the cleanup's; seq moves only on success. */
int fb_log_write(fb_log *log, const char *body, fb_error *err);

/* "2026-11-23T10:00:00.123Z" */
void fb_format_rfc3339(int64_t wall_ms, char *buf, size_t len);

#endif
