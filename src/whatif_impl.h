/* Private to replay --what-if: what is collected from the log, and what
 * each run found. */
#ifndef FB_WHATIF_IMPL_H
#define FB_WHATIF_IMPL_H

#include <stdint.h>

#include "fusebox/state.h"
#include "whatif.h"

/* What a dependency's breaker is told, in time order. */
typedef enum {
	WP_BEGIN, /* a call asks allow() */
	WP_END,   /* its outcome */
	WP_CALL,  /* both in the same ms, as one point (half the memory) */
	WP_TRIP,  /* operator actions */
	WP_RESET,
	WP_DISABLE,
	WP_START,   /* an instance started: fresh breakers, restored opens */
	WP_RECHECK, /* its startup_grace ends */
} wi_what;

typedef struct wi_point {
	int64_t at;
	uint32_t order; /* arrival: ties keep it */
	uint8_t what;
	uint8_t result; /* WP_END, WP_CALL: fb_out_result */
	uint32_t call;  /* WP_BEGIN/WP_END: which call */
} wi_point;

/* A transition, recorded or simulated. */
typedef struct wi_trans {
	int64_t at;
	fb_state from, to;
	int64_t retry_after_ms;
	bool restored;
} wi_trans;

/* A change of what the dependency really was (the truth assumed). */
typedef struct wi_truth {
	int64_t at;
	bool up;
} wi_truth;

/* What one run says about one dependency. */
typedef struct wi_metrics {
	uint32_t transitions, opens, trials, down_windows;
	int64_t down_ms;
	int64_t detect_ms, recover_ms; /* means; -1 when none */
	int64_t false_trip_calls, let_through_calls;
	int64_t first_open_ms; /* -1: never opened */
} wi_metrics;

typedef struct wi_run {
	wi_trans *tr;
	size_t n, cap;
	wi_metrics m;
} wi_run;

#define WI_LIST(type)                                                          \
	struct {                                                               \
		type *v;                                                       \
		size_t n, cap;                                                 \
	}

typedef struct wi_dep {
	char name[FB_NAME_MAX];
	char host[64];
	uint32_t hash;     /* of host and name: looked at before them */
	fb_dep_config cfg; /* today's */
	bool in_config;
	WI_LIST(wi_point) pts;
	WI_LIST(wi_trans) real;
	WI_LIST(wi_truth) truth;
	WI_LIST(uint64_t) draws; /* the jitter each real opening drew */
	uint32_t calls;
	int64_t last_seen; /* end of the last outcome fed; -1 */
	wi_run *runs;      /* [0] today's settings, [1..] the sets */
	wi_metrics real_m; /* of the recorded transitions, once run */
	bool reproduced;
	char mismatch[200];
} wi_dep;

typedef struct wi_mode {
	int64_t at;
	int mode; /* 0 auto, 1 block, 2 allow */
} wi_mode;

struct fb_whatif {
	const fb_config *cfg;
	char cfg_path[512];
	fb_whatif_set sets[FB_WHATIF_SETS];
	int nsets;
	wi_dep *deps;
	size_t ndeps, cap;
	uint32_t *slot; /* deps by host and name: index + 1, 0 = free */
	size_t nslots;  /* a power of two, at least twice ndeps */
	WI_LIST(wi_mode) modes;
	size_t points; /* over every dependency */
	uint32_t order;
	int64_t first_ms, last_ms;
	long events, summaries, hosts;
	char first_host[64];
	/* one summary's trace, read apart (its own, not a static: two
	 * what-ifs may be fed at once) */
	fb_outcome trace_scratch[FB_OUTSUM_TRACE];
	bool ran;
};

/* Grows a WI_LIST by one; 0, or -1 when out of memory. */
int fb_wi_grow(void **v, size_t *cap, size_t n, size_t size);
#define WI_PUSH(list, item)                                                    \
	(fb_wi_grow((void **)&(list).v, &(list).cap, (list).n,                 \
	            sizeof *(list).v) == 0                                     \
	     ? ((list).v[(list).n++] = (item), 0)                              \
	     : -1)

/* Runs one dependency with breaker tunables `cfg` into *run. */
int fb_wi_simulate(const fb_whatif *w, wi_dep *d, const fb_dep_config *cfg,
                   wi_run *run);
/* The metrics of a transition list against the dependency's truth. */
void fb_wi_measure(const fb_whatif *w, const wi_dep *d, const wi_trans *tr,
                   size_t n, wi_metrics *m);

#endif
