/* `replay --what-if`: the incident again with other tunables. The pure
 * breaker of the engine (src/core/breaker.c) is run once more over the
 * outcomes the log recorded (`outcomes` events, SPEC 6), with today's
 * settings and with each changed set, and compared with what really
 * happened: transitions, down windows, time to detect and to recover,
 * calls rejected while healthy, calls let through while down, and the
 * gate's blocked windows.
 *
 * What the log did not see is assumed, the same way for every run:
 * while the real breaker was open no probe ran, so the dependency is
 * taken to be down until the outcome that ended it; between written
 * summaries it was healthy (their `skipped_ok` successes are spread
 * over the gap); after the last summary it stayed as the real breaker
 * says. The k-th opening of a run draws the jitter the k-th real opening
 * of that dependency drew, so today's settings reproduce the recorded
 * transitions to the millisecond (the determinism check). */
#ifndef FB_WHATIF_H
#define FB_WHATIF_H

#include <stdbool.h>
#include <stddef.h>

#include "fusebox/config.h"
#include "logread.h"
#include "replay.h"

#define FB_WHATIF_SETS    8  /* --what-if sets compared at once */
#define FB_WHATIF_CHANGES 16 /* KEY=VALUE pairs in one set */

typedef struct fb_whatif_change {
	char dep[FB_NAME_MAX]; /* "" = every dependency */
	fb_tunable key;
	int64_t value;
} fb_whatif_change;

typedef struct fb_whatif_set {
	char text[256]; /* as given (sanitised), the column's heading */
	fb_whatif_change c[FB_WHATIF_CHANGES];
	int n;
} fb_whatif_set;

/* Parses "KEY=VALUE[,KEY=VALUE...]" where KEY is a breaker tunable
 * (failure_threshold, failure_rate, window, min_calls, recovery_timeout,
 * backoff_cap, jitter, half_open_probes, success_threshold, slow_call,
 * startup_grace), alone (every dependency) or as DEP.KEY (one), and
 * VALUE as the config file writes it. Returns 0, or -1 with a one-line
 * message in err. */
int fb_whatif_parse_set(const char *text, fb_whatif_set *out, char *err,
                        size_t len);

typedef struct fb_whatif fb_whatif;

/* A what-if over today's configuration `cfg` (NULL: every dependency at
 * the built-in defaults; a dependency of the log that cfg lacks gets
 * them too), comparing `nsets` sets. The sets are copied. NULL when out
 * of memory. Free with fb_whatif_free(). */
fb_whatif *fb_whatif_new(const fb_config *cfg, const char *cfg_path,
                         const fb_whatif_set *sets, int nsets);

/* Feeds one event; events come in time order. Returns 0, or -1 when out
 * of memory or past what one run holds (FB_WHATIF_POINTS). */
#define FB_WHATIF_POINTS (64u << 20)
int fb_whatif_add(fb_whatif *w, const fb_log_event *ev);

/* Names in sc the members an outcomes event is read for, so that events
 * read by fb_log_event_scan() with it can be fed too (json NULL). */
void fb_whatif_scan_keys(fb_log_scan *sc);
/* The strings of fb_log_event that fb_whatif_add() never reads: what a
 * scan only feeding it may skip (fb_log_scan's skip). */
unsigned fb_whatif_unread_fields(void);

/* Runs every set (and today's settings) over what was fed. Returns 0, or
 * -1 when out of memory. */
int fb_whatif_run(fb_whatif *w);

/* The comparison, as a table (text or Markdown) or one JSON document. */
void fb_whatif_print(const fb_whatif *w, fb_summary_format format);

/* True when today's settings reproduced every recorded transition. */
bool fb_whatif_reproduced(const fb_whatif *w);

void fb_whatif_free(fb_whatif *w);

/* ---- for the replay command (cli_whatif.c) ---------------------------- */

typedef struct fb_cli_whatif fb_cli_whatif;

/* One --what-if argument into sets[*n]. Returns 0, or -1 after saying
 * what is wrong in one line on stderr. */
int fb_cli_whatif_arg(const char *text, fb_whatif_set *sets, int *n);

/* Loads today's settings (--config, else the lookup order; none found:
 * built-in defaults) and starts a what-if in *out. Returns 0, or -1
 * after saying why (a bad config, out of memory). */
int fb_cli_whatif_new(fb_cli_whatif **out, const char *config,
                      const fb_whatif_set *sets, int n);
void fb_cli_whatif_add(fb_cli_whatif *c, const fb_log_event *ev);
/* Runs, prints and frees. Returns 0, or -1 after saying why. */
int fb_cli_whatif_end(fb_cli_whatif *c, fb_summary_format format);

/* ---- for the console's what-if overlay (whatif_moves.c) ---------------- */

/* A transition of one run, at a wall time of the log (ms since the
 * epoch). */
typedef struct fb_whatif_move {
	int64_t at_ms;
	fb_state from, to;
} fb_whatif_move;

/* After fb_whatif_run(): the transitions run `run` (0 today's settings,
 * 1..nsets the sets) made for dependency `dep` (of the first host the
 * log names it for), in time order, in a new array in *out (caller
 * frees; NULL when there are none). Returns how many, or -1 when `dep`
 * is not in the log, the run did not happen or memory ran out (*out
 * NULL). */
long fb_whatif_moves(const fb_whatif *w, const char *dep, int run,
                     fb_whatif_move **out);

/* fb_whatif_run() a part at a time, so that a screen stays responsive:
 * runs dependencies from .. from + n - 1 of the fb_whatif_ndeps() fed,
 * each once, in order; the run is done with the last. Returns 0, or -1
 * when out of memory. */
size_t fb_whatif_ndeps(const fb_whatif *w);
int fb_whatif_run_deps(fb_whatif *w, size_t from, size_t n);

#endif
