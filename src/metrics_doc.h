/* The metrics document: the status document of SPEC 7 plus the totals
 * a scraper needs. The instance sends it as the reply to the control
 * socket's {"op":"metrics"}; `status --probe` and the metrics file build
 * it in-process; fb_metrics_text() (metrics.h) prints it. */
#ifndef FB_METRICS_DOC_H
#define FB_METRICS_DOC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "fusebox/engine.h"

/* What a running instance knows beyond its engine. */
typedef struct fb_metrics_instance {
	int64_t start_wall_ms;     /* when it started, ms since the epoch */
	bool log_ok;               /* the event log is being written */
	uint64_t log_write_errors; /* events not written when they happened */
	uint64_t log_queued;       /* events waiting for the log to work */
	uint64_t log_lost;         /* events lost: the wait was too long */
} fb_metrics_instance;

/* The status document (SPEC 7) with, in each dependency, "successes",
 * "failures", "rejected", "slow_calls", "probes" and, once a probe has
 * succeeded, "latency_s" {"p50","p95","p99"} (seconds), and a top-level
 * "instance" {"version", "start_time_s", "event_log_ok",
 * "event_log_write_errors", "event_log_queued", "event_log_lost"}. `inst` is NULL when there is no instance
 * (one probe round of `status --probe`): "instance" then holds only the
 * version. Returns a new object (cJSON_Delete it), or NULL when out of
 * memory. */
cJSON *fb_metrics_json(const fb_engine *e, const char *host,
                       const fb_metrics_instance *inst, int64_t now_ms,
                       int64_t wall_ms);

#endif
