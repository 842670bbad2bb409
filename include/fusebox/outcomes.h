/* Outcome summaries (SPEC section 6, `outcomes` events): per dependency
 * and per `interval`, what its probes and reported calls answered, kept
 * so that `replay --what-if` can run the breaker again over them.
 *
 * Pure: no I/O and no clock; times come in as arguments. One fb_outsum
 * per dependency, owned by whoever owns the dependency (the registry).
 *
 * A window opens with the first outcome and lasts `interval`. When it
 * closes it is written if anything in it failed or was slow, or if a
 * half-open trial ran in it; otherwise its successes are only counted
 * (`skipped_ok` of the next written window), so a healthy day writes
 * nothing. Besides the counts of the SPEC, a written window holds its
 * outcomes in order with their times (the trace): the order of failures
 * and successes decides consecutive and rate rules, and their times the
 * open-to-half-open timing, so counts alone could not be replayed
 * exactly. */
#ifndef FUSEBOX_OUTCOMES_H
#define FUSEBOX_OUTCOMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FB_OUTSUM_TRACE 32 /* outcomes kept in order per window */

typedef enum { FB_OUT_OK, FB_OUT_SLOW, FB_OUT_FAIL } fb_out_result;

/* One outcome: when its probe (or call) began and when it answered. */
typedef struct fb_outcome {
	int64_t begin_ms, end_ms;
	fb_out_result result;
} fb_outcome;

typedef struct fb_outsum {
	bool open;        /* a window is collecting */
	int64_t start_ms; /* the window's first outcome answered then */
	uint32_t ok, failed, slow; /* slow counts among ok */
	uint32_t trials;           /* outcomes that came while not closed */
	uint32_t skipped_ok;       /* successes of windows not written since the
	                        last written one */
	uint32_t lost;             /* outcomes past the trace's capacity */
	uint32_t n;                /* entries in trace */
	fb_outcome trace[FB_OUTSUM_TRACE];
} fb_outsum;

/* An empty summary, no window open. */
void fb_outsum_init(fb_outsum *s);

/* Has the open window lasted its interval at now_ms? */
bool fb_outsum_due(const fb_outsum *s, int64_t now_ms, int64_t interval_ms);

/* Adds one outcome to the window (opening one at end_ms when none is).
 * `trial`: the breaker was not closed when it came (half-open). */
void fb_outsum_add(fb_outsum *s, int64_t begin_ms, int64_t end_ms,
                   fb_out_result result, bool trial);

/* Closes the window. Returns true when it is to be written: *out then
 * holds it (counts, trace, skipped_ok) and the skipped count starts
 * again; false when it held nothing worth writing (its successes go to
 * skipped_ok) or no window was open. */
bool fb_outsum_close(fb_outsum *s, fb_outsum *out);

/* The pct-th percentile (nearest rank) of the traced latencies (end -
 * begin) in ms; -1 when the trace is empty. */
int64_t fb_outsum_quantile(const fb_outsum *s, int pct);

/* The trace as text: one entry per outcome, separated by spaces,
 * "B+Dr": B the begin in ms after start_ms (may be negative), D the
 * latency in ms, r `k` ok, `s` slow, `x` failed. E.g. "0+3x 5001+2k".
 * Truncated at a whole entry when len is short. Returns the length. */
size_t fb_outsum_trace_format(const fb_outsum *s, char *buf, size_t len);

/* Parses such a trace, with start_ms as its base, into out[max]. Returns
 * the number of entries, or -1 when the text is malformed or holds more
 * than max. */
int fb_outsum_trace_parse(const char *text, int64_t start_ms, fb_outcome *out,
                          int max);

#endif
