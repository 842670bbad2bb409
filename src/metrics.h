/* Metrics in the Prometheus text exposition format (version 0.0.4, with
 * OpenMetrics-compatible names): what `fusebox status --prometheus`
 * prints and what the instance writes to `metrics_file` for
 * node_exporter's textfile collector. One formatter serves both.
 *
 * The input is the metrics document (metrics_doc.h), built in-process or
 * received from the instance over the control socket. Needs only cJSON
 * and the state names, not the engine. */
#ifndef FB_METRICS_H
#define FB_METRICS_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* The exposition text of a metrics document: `fusebox_up 1` and every
 * family the document has data for, each with HELP and TYPE. Missing or
 * mistyped members leave their series out; nothing is invented. Returns a
 * new NUL-terminated buffer (free() it) with its length in *len (may be
 * NULL), or NULL when out of memory. */
char *fb_metrics_text(const cJSON *doc, size_t *len);

/* The exposition when no instance answered: `fusebox_up 0` alone. */
const char *fb_metrics_down_text(void);

#endif
