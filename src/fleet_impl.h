/* Private to the fleet's files: its state, and the publisher's part. */
#ifndef FB_FLEET_IMPL_H
#define FB_FLEET_IMPL_H

#include "fleet.h"
#include "fleet_catchup.h"
#include "fleet_conn.h"

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
	/* publishing (fleet_publish.c) */
	bool cursor_known, cursor_asked, pub_inflight;
	uint64_t cursor;        /* the last seq of ours in the stream */
	bool live;              /* caught up: new lines wait in `queue` */
	fb_fleet_batch queue;   /* live lines not yet sent */
	fb_fleet_batch sending; /* the batch in flight */
	fb_catchup_pos pos;     /* where reading the log goes on */
	bool pos_valid;
	uint64_t published, gaps;
	char pub_error[512];
};

/* The connection came up: ask for our cursor, then publish. */
void fleet_publish_start(fb_fleet *f);
/* The connection went: what was in flight is in the log anyway. */
void fleet_publish_reset(fb_fleet *f);
/* Sends the next batch when none is in flight. */
void fleet_publish_pump(fb_fleet *f);
void fleet_publish_free(fb_fleet *f);

#endif
