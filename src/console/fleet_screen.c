/* The fleet view on the screen: F swaps the shown model for the fleet's
 * (console/model_fleet.c) over the live source and back, i swaps its
 * rows between dependencies (the console's own table, with a HOSTS
 * column) and instances, drawn here as `fusebox status --fleet` prints
 * them, with the fleet's records under them. */
#include <curses.h>
#include <limits.h>
#include <stdio.h>

#include "console/console.h"
#include "console/model_fleet.h"

void con_fleet_close(fb_console *c)
{
	if (!c->fleet)
		return;
	if (c->model == c->fleet)
		c->model = c->live;
	con_model_free(c->fleet);
	c->fleet = NULL;
	c->fleet_instances = false;
	c->generation = UINT_MAX; /* other rows: sort them, find the cursor */
	c->log_scroll = 0;
}

int con_fleet_toggle(fb_console *c)
{
	fb_error err;
	if (c->fleet) {
		con_fleet_close(c);
		con_flash(c, "back to this instance");
		return ACT_RESORT;
	}
	if (c->replay) {
		con_flash(c, "fleet view: live only (q leaves the replay)");
		return ACT_REDRAW;
	}
	if (!(c->fleet = con_model_fleet(c->live, &err))) {
		con_flash(c, "%s", err.text);
		return ACT_REDRAW;
	}
	c->model = c->fleet;
	c->fleet_instances = false;
	c->generation = UINT_MAX;
	c->detail = false;
	c->log_scroll = 0;
	return ACT_RESORT;
}

int con_fleet_rows(fb_console *c)
{
	if (!c->fleet) {
		con_flash(c, "i: the instances are in the fleet view (F)");
		return ACT_REDRAW;
	}
	c->fleet_instances = !c->fleet_instances;
	c->detail = false;
	return ACT_REDRAW;
}

/* ---- the instances' table ---------------------------------------------- */

enum { COL_ID, COL_HOST, COL_PID, COL_VERSION, COL_SEEN, COL_DEPS, NCOLS };

static const struct {
	const char *title;
	int x, w; /* the last takes what is left */
} cols[NCOLS] = {
    [COL_ID] = {"INSTANCE", 0, 10}, [COL_HOST] = {"HOST", 11, 20},
    [COL_PID] = {"PID", 32, 7},     [COL_VERSION] = {"VERSION", 40, 8},
    [COL_SEEN] = {"SEEN", 49, 7},   [COL_DEPS] = {"NOT CLOSED", 57, 0},
};

static void bar(fb_console *c, int y, fb_role role)
{
	if (y < 0 || y >= LINES)
		return;
	attrset(c->attr[role]);
	mvhline(y, 0, ' ', COLS);
	attrset(c->attr[FB_ROLE_NORMAL]);
}

static void put_col(fb_console *c, int y, int col, fb_role role,
                    const char *text)
{
	int w = cols[col].w ? cols[col].w : COLS - cols[col].x;
	con_put(c, y, cols[col].x, w, role, text);
}

static void draw_inst(fb_console *c, int y, const con_fleet_inst *in, bool live)
{
	char id[12], pid[16], seen[24], deps[sizeof in->not_closed + 16];
	snprintf(id, sizeof id, "%.8s", in->id);
	snprintf(pid, sizeof pid, "%7ld", in->pid);
	if (in->seen_ms < 0)
		snprintf(seen, sizeof seen, "%6s", "?");
	else
		snprintf(seen, sizeof seen, "%5.1fs",
		         (double)in->seen_ms / 1000.0);
	snprintf(deps, sizeof deps, "%s%s", in->not_closed,
	         in->self ? "  (this one)" : "");
	bool trouble = in->not_closed[0] != '-';
	put_col(c, y, COL_ID, FB_ROLE_DIM, id);
	put_col(c, y, COL_HOST, live ? FB_ROLE_NORMAL : FB_ROLE_DIM, in->host);
	put_col(c, y, COL_PID, FB_ROLE_DIM, pid);
	put_col(c, y, COL_VERSION, FB_ROLE_DIM, in->version);
	put_col(c, y, COL_SEEN, FB_ROLE_DIM, seen);
	put_col(c, y, COL_DEPS,
	        !live     ? FB_ROLE_DIM
	        : trouble ? FB_ROLE_BAD
	                  : FB_ROLE_OK,
	        deps);
}

void con_fleet_draw_instances(fb_console *c, int y0, int h)
{
	const con_model *m = c->model;
	size_t n = con_fleet_ninst(m), nrec = con_fleet_nrecords(m);
	int end = y0 + h, y = y0;
	bool live = m->src.live;
	c->table_rows = 0; /* no dependency row under the mouse here */
	c->table_y = y0 + 1;
	c->pane_y = end;
	bar(c, y, FB_ROLE_TITLE);
	for (int i = 0; i < NCOLS; i++)
		put_col(c, y, i, FB_ROLE_TITLE, cols[i].title);
	y++;
	if (!n)
		con_put(c, y++, 1, COLS - 2, FB_ROLE_DIM,
		        "no live instance in the view (yet)");
	for (size_t i = 0; i < n && y < end; i++)
		draw_inst(c, y++, con_fleet_inst_at(m, i), live);
	if (!nrec || y + 2 >= end)
		return;
	bar(c, ++y, FB_ROLE_TITLE);
	con_put(c, y++, 1, COLS - 2, FB_ROLE_TITLE,
	        "FLEET RECORDS  what was decided for the whole fleet");
	for (size_t i = 0; i < nrec && y < end; i++)
		con_put(c, y++, 1, COLS - 2,
		        live ? FB_ROLE_NORMAL : FB_ROLE_DIM,
		        con_fleet_record_at(m, i));
}
