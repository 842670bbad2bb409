/* What the console draws: a model of dependencies, the gate, the event
 * stream and the operator actions, filled by a source the drawing code
 * never names. Sources: embedded (this process's own engine, model
 * _embedded.c), attached (a running instance over its control socket,
 * model_attached.c) and replay (a log's reconstructed past,
 * model_replay.c) and the fleet (every instance of the service, over
 * a live source, model_fleet.c). As in htop, where a platform backend
 * fills the tables the panels draw.
 *
 * Times in a model are durations worked out at the last refresh, so the
 * drawing code never mixes clocks; wall times (log lines) are ms since
 * the epoch. */
#ifndef FB_CONSOLE_MODEL_H
#define FB_CONSOLE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fusebox/breaker.h"
#include "fusebox/config.h"
#include "fusebox/event.h"
#include "fusebox/gate.h"
#include "fusebox/registry.h"

#define CON_RECENT    16  /* outcomes a row keeps for the RECENT column */
#define CON_LOG_LINES 500 /* events kept for the log pane */

/* One dependency, as the table shows it. */
typedef struct con_row {
	char name[FB_NAME_MAX];
	fb_kind kind;
	bool critical;
	bool known;        /* the state is known (a replay may not have
	                      seen the dependency yet) */
	bool health_known; /* and the health */
	fb_state state;
	fb_health health;
	int64_t fails;         /* consecutive failures; -1 unknown */
	double p50_ms, p95_ms; /* -1 when no successful sample */
	int64_t retry_in_ms;   /* open: until the next trial; -1 n/a */
	int64_t next_in_ms;    /* until the next probe; 0 due now; -1 unknown */
	char error[FB_ERROR_MAX]; /* the last error, sanitised; "" none */
	/* calls services reported (passive health): in the last minute, of
	 * them failed, and since the start; -1 unknown */
	int64_t calls_min, calls_failed_min, calls_total;
	uint8_t nrecent;
	fb_sample recent[CON_RECENT]; /* newest first */
	const char *fleet_hosts; /* the fleet view's HOSTS cell, owned by it
	                            ("open on web-1 web-2 (2/3)"); NULL in
	                            the other sources */
	/* beside the real state: its shadow breaker's (shadow.KEY
	 * settings), and a replay's what-if run's (the overlay), when the
	 * row has one */
	bool has_shadow, has_whatif;
	fb_state shadow, whatif;
} con_row;

/* Everything about one dependency, for the detail pane. */
typedef struct con_setting {
	char key[32], value[40], source[16];
} con_setting;

typedef struct con_detail {
	char url[FB_URL_MAX];
	fb_breaker_snapshot snap; /* counters; its times are not used */
	int64_t for_ms;           /* time in the current state; -1 unknown */
	fb_history history;       /* probe outcomes, as fb_history_at reads */
	con_setting settings[FB_TUNABLE_COUNT];
	int nsettings;
	/* the shadow breaker, when there is one: its state, failures and
	 * the shadow.KEY settings it runs with (source "shadow") */
	bool has_shadow;
	fb_state shadow;
	int64_t shadow_fails; /* -1 unknown */
	con_setting shadow_settings[FB_TUNABLE_COUNT];
	int nshadow;
} con_detail;

/* Where the data comes from, in words, and how current it is. */
typedef struct con_source {
	char where[160]; /* "embedded", "attached to web-1 pid 4242" */
	char brief[24];  /* the same in a word, for a narrow header:
	                    "attached", "embedded", "replay" */
	char host[256];
	bool live;          /* what is shown is current (a replay's: as of
	                       its cursor) */
	char trouble[160];  /* "DISCONNECTED, retrying"; "" when none */
	int64_t age_ms;     /* of the data, when not live; -1 unknown */
	bool actions;       /* operator actions can be taken at all */
	char no_action[96]; /* why not, when they cannot */
} con_source;

/* A line of the log pane. */
typedef struct con_log_line {
	uint64_t seq; /* 0: not from the log (a note of the console's) */
	int64_t wall_ms;
	fb_tone tone;
	char text[240];
} con_log_line;

/* The newest CON_LOG_LINES lines, oldest overwritten first. */
typedef struct con_log {
	con_log_line line[CON_LOG_LINES];
	size_t head, len;
	uint64_t last_seq; /* the highest seq taken: older ones are repeats */
} con_log;

typedef struct con_model con_model;

typedef struct con_model_ops {
	/* Does the source's own work (engine, socket) waiting at most
	 * max_ms for it or for in_fd. Returns in_fd's revents (0 when it was
	 * not ready). */
	short (*step)(con_model *m, int in_fd, int max_ms);
	/* Brings rows, gate, source and countdowns up to now. */
	void (*refresh)(con_model *m);
	/* The rows on screen (indexes into rows), the one whose detail is
	 * shown (-1: none), and whether every row's latency matters (the
	 * table sorts by it): a source may fetch only what is needed. */
	void (*focus)(con_model *m, const uint32_t *rows, size_t n,
	              long selected, bool all_latency);
	/* The detail of rows[row]; false when it is not at hand (yet). */
	bool (*detail)(con_model *m, size_t row, con_detail *out);
	/* An operator action: trip, reset or disable dependency `dep`, or a
	 * gate mode (dep NULL). Returns 0 when done, -1 when refused; msg
	 * says which, in words. */
	int (*act)(con_model *m, fb_action action, const char *dep,
	           const char *reason, char *msg, size_t len);
	/* Probe `dep` now. Returns 0, or -1 with msg saying why not. */
	int (*probe)(con_model *m, const char *dep, char *msg, size_t len);
	/* The log pane's lines, newest first (back = 0). NULL when a source
	 * keeps its lines in m->log. */
	size_t (*nevents)(con_model *m);
	bool (*event)(con_model *m, size_t back, con_log_line *out);
	void (*free)(con_model *m);
	/* The fleet view of this source's instance (console/model_fleet.h): a new
	 * model over this one, which it does not own (free it first). NULL
	 * with *err when the instance has no fleet; a NULL op: a source
	 * with none at all. */
	con_model *(*fleet)(con_model *m, fb_error *err);
} con_model_ops;

struct con_model {
	const con_model_ops *ops;
	con_row *rows; /* owned by the source */
	size_t nrows;
	unsigned generation; /* bumped when rows are rebuilt: sort again, find
	                        the selection by name */
	bool changed;        /* something to redraw */
	bool ended;          /* the source is done for good: quit */
	fb_health system;
	fb_gate_decision gate;
	int64_t gate_ttl_ms; /* how long an allow override lasts */
	con_source src;
	char log_trouble[160]; /* "EVENT LOG FAILING: No space left on device
	                          (12 queued)"; "" while the log works */
	con_log log;
	char log_path[512];   /* the event log (R replays it); "" none */
	char fleet_note[200]; /* "fleet: redis away (...); working alone
	                         from own probes"; "" when shared or none */
	char act_scope[120];  /* whom actions reach, when not this instance:
	                        "for the fleet: 3 live instances of checkout" */
	/* its configuration (a replay's what-if runs today's settings from
	 * it); "" unknown */
	char config_path[512];
};

/* ---- calls, through the source's table -------------------------------- */

short con_model_step(con_model *m, int in_fd, int max_ms);
void con_model_refresh(con_model *m);
void con_model_focus(con_model *m, const uint32_t *rows, size_t n,
                     long selected, bool all_latency);
bool con_model_detail(con_model *m, size_t row, con_detail *out);
int con_model_act(con_model *m, fb_action action, const char *dep,
                  const char *reason, char *msg, size_t len);
int con_model_probe(con_model *m, const char *dep, char *msg, size_t len);
size_t con_model_nevents(con_model *m);
bool con_model_event(con_model *m, size_t back, con_log_line *out);
void con_model_free(con_model *m);
/* The source's fleet view (see ops.fleet). */
con_model *con_model_fleet(con_model *m, fb_error *err);

/* log_trouble's words for an event log that fails with `error`, with
 * `queued` events waiting and `lost` lost; "" when error is NULL. */
void con_log_trouble(char *out, size_t len, const char *error, uint64_t queued,
                     uint64_t lost);

/* The row called `name`, or -1. Linear: for a selection, not a loop. */
long con_model_find(const con_model *m, const char *name);

/* ---- helpers for sources ----------------------------------------------- */

/* Adds an event to m->log, unless its seq (0: none) is one already
 * taken. */
void con_log_add(con_model *m, uint64_t seq, int64_t wall_ms,
                 const fb_event *ev);
/* Adds a line of the console's own (no seq). */
void con_log_note(con_model *m, int64_t wall_ms, fb_tone tone,
                  const char *text);

/* Reads the event log's last events (its final 256 KB at most) with
 * m->log.last_seq < seq <= upto (upto 0: any) into m->log. Bad lines are
 * passed over quietly: `fusebox replay` is the place to hear of them.
 * Returns the number of lines taken, or -1 when the log cannot be read. */
long con_log_backfill(con_model *m, const char *path, uint64_t upto);

/* The sources. Each returns NULL with *err. */
struct fb_runtime;
/* Takes the runtime (started, serving) and frees it with the model. */
con_model *con_model_embedded(struct fb_runtime *rt, const char *actor,
                              fb_error *err);
/* Attaches to the instance serving cfg's control socket. Returns NULL
 * with *err when none answers. */
con_model *con_model_attached(const fb_config *cfg, fb_error *err);

#endif
