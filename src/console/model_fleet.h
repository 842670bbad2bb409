/* The fleet view (SPEC 8): every live instance of the service and every
 * dependency across them, as the instance the console shows sees them
 * through Redis. The source (model_fleet.c) is a con_model over a live
 * one; the screen's part (fleet_screen.c) is the F and i keys and the table of
 * instances. */
#ifndef FB_CONSOLE_MODEL_FLEET_H
#define FB_CONSOLE_MODEL_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console/model.h"

struct fb_runtime;

/* One live instance, as `status --fleet` prints it. */
typedef struct con_fleet_inst {
	char id[40], host[64], version[32];
	long pid;
	int64_t seen_ms; /* since its last heartbeat, at the last refresh */
	bool self;       /* the instance the console shows */
	char not_closed[240]; /* "api open, db unknown"; "-" when none */
} con_fleet_inst;

/* The fleet view over `base` (not owned: it must outlive the view), the
 * instance's fleet asked either of its runtime (rt, embedded) or over
 * its control socket (sock, attached; rt NULL); actor is who the
 * console's user is, for the embedded runtime to record. Returns a new
 * model (the caller frees it with con_model_free, before base), or NULL
 * with *err. */
con_model *con_fleet_open(con_model *base, struct fb_runtime *rt,
                          const char *sock, const char *actor, fb_error *err);

/* What `m` (a fleet view) holds besides its rows: the instances, and
 * the fleet records in words ("api: open for 12s more, trial held by
 * web-3, from web-1"). */
size_t con_fleet_ninst(const con_model *m);
const con_fleet_inst *con_fleet_inst_at(const con_model *m, size_t i);
size_t con_fleet_nrecords(const con_model *m);
const char *con_fleet_record_at(const con_model *m, size_t i);

#endif
