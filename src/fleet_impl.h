/* Private to the fleet's files: its state, and the publisher's part. */
#ifndef FB_FLEET_IMPL_H
#define FB_FLEET_IMPL_H

#include "fleet.h"
#include "fleet_catchup.h"
#include "fleet_conn.h"

/* What a decide script's reply goes back to. */
typedef struct fb_fleet_decide_ctx {
	struct fb_fleet *f;
	size_t k; /* the dependency's index */
} fb_fleet_decide_ctx;

struct fb_fleet {
	struct fb_runtime *rt;
	fb_fleet_conn *conn;
	char id[FB_FLEET_ID_LEN + 1];
	char prefix[160]; /* "{PREFIX:SERVICE}:" */
	/* the view */
	fb_fleet_view *view, *spare; /* the last one read; the next one */
	bool has_view;
	int64_t got_ms; /* when the last view was read (CLOCK_MONOTONIC) */
	bool hb_inflight;
	int64_t next_hb_ms;
	bool said_down, said_up;
	char said[512];
	/* fleet records applied: by dependency index, and the gate */
	int64_t dep_gen[FB_FLEET_DEPS_MAX];
	int64_t gate_gen;
	bool applied_once;
	/* by dependency index (fleet_deps.c) */
	bool driven[FB_FLEET_DEPS_MAX];   /* open because the fleet said so */
	bool deciding[FB_FLEET_DEPS_MAX]; /* a decide script in flight */
	int64_t token[FB_FLEET_DEPS_MAX]; /* our trial lease's gen, or 0 */
	uint64_t probes_at[FB_FLEET_DEPS_MAX]; /* d->probes when it began */
	fb_fleet_decide_ctx decide_ctx[FB_FLEET_DEPS_MAX];
	/* publishing (fleet_publish.c) */
	bool cursor_known, cursor_asked;
	int pub_inflight;       /* publish scripts sent, not answered yet */
	uint64_t cursor;        /* the last seq of ours in the stream */
	uint64_t sent_upto;     /* the last seq sent (cursor <= sent_upto) */
	bool live;              /* caught up: new lines wait in `queue` */
	fb_fleet_batch queue;   /* live lines not yet sent */
	fb_fleet_batch sending; /* the next batch, until it is sent */
	fb_catchup_pos pos;     /* where reading the log goes on */
	bool pos_valid;
	uint64_t published, gaps;
	char pub_error[512];
};

/* The fleet's decisions for each dependency after a new view: fleet
 * records (operators, quorum, the trial lease) applied once each, our
 * trial's result reported with its fencing token, a lease taken when
 * the fleet's wait is over, and a quorum turned into a fleet open. */
void fleet_deps_after_view(fb_fleet *f);
/* Does this instance see dependency i down on its own (a vote)? */
bool fleet_deps_votes(const fb_fleet *f, size_t i);

/* The connection came up: ask for our cursor, then publish. */
void fleet_publish_start(fb_fleet *f);
/* The connection went: what was in flight is in the log anyway. */
void fleet_publish_reset(fb_fleet *f);
/* Sends the next batch when none is in flight. */
void fleet_publish_pump(fb_fleet *f);
void fleet_publish_free(fb_fleet *f);

#endif
