/* The metrics file (`[fusebox] metrics_file`): the instance's metrics,
 * rewritten every few seconds for node_exporter's textfile collector.
 * Each write is atomic, so a reader sees the old text or the new, never
 * part of one. A failing write is said once on stderr, not every time,
 * and never stops the engine. */
#ifndef FB_METRICS_FILE_H
#define FB_METRICS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fusebox/config.h"

#define FB_METRICS_PERIOD_MS 5000 /* between two writes */
#define FB_METRICS_SOON_MS   1000 /* the least between two writes */

typedef struct fb_metrics_file {
	int64_t due_ms;    /* the next write (CLOCK_MONOTONIC ms) */
	int64_t last_ms;   /* the last one */
	bool failing;      /* a failure was reported: quiet until one works */
	char written[512]; /* the file last written, "" = none */
} fb_metrics_file;

struct fb_runtime;

/* Writes the runtime's metrics to its metrics_file when a write is due.
 * A file a reload moved away from (or dropped) is removed, so that a
 * collector never reads two instances' worth of series. Returns ms until
 * the next write (FB_METRICS_PERIOD_MS when there is no metrics_file). */
int64_t fb_metrics_file_run(struct fb_runtime *rt, int64_t now_ms);

/* Something changed: brings the next write forward, but never closer
 * than FB_METRICS_SOON_MS to the last one. */
void fb_metrics_file_soon(fb_metrics_file *m, int64_t now_ms);

/* The last write, when the instance stops: `fusebox_up 0`, so the
 * collector shows the instance down rather than its last state. */
void fb_metrics_file_down(struct fb_runtime *rt);

/* Replaces path with len bytes of data: a temp file `.NAME.PID.tmp` in
 * the same folder (never named *.prom, which a collector would read),
 * fsync, rename, then fsync of the folder. Returns 0, or -1 with *err
 * (the temp file is then removed and path is untouched). */
int fb_write_atomic(const char *path, const char *data, size_t len,
                    fb_error *err);
/* The same, creating the file with `mode` instead of 0644. */
int fb_write_atomic_mode(const char *path, const char *data, size_t len,
                         mode_t mode, fb_error *err);

#endif
