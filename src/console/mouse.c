/* The mouse, as in htop: a click selects the row under the pointer, a
 * click on the column titles sorts by that column, a click in the log
 * pane gives it the focus, and the wheel scrolls whatever is under the
 * pointer. Only presses and the wheel are asked for (no motion), so the
 * terminal still selects text with Shift held. */
#include <curses.h>

#include "console/columns.h"
#include "console/console.h"

#define WHEEL_STEP 3 /* rows or lines per notch of the wheel */

void con_mouse_start(void)
{
	mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED |
	              BUTTON5_PRESSED,
	          NULL);
	mouseinterval(0); /* a press acts at once, as a key does */
}

/* The sort a click on the title of the column at x asks for. */
static con_sort sort_at(const fb_console *c, int x)
{
	con_columns col;
	con_table_columns(c, COLS, &col);
	static const con_sort by[CON_COL_COUNT] = {
	    [CON_COL_NAME] = SORT_NAME,      [CON_COL_KIND] = SORT_KIND,
	    [CON_COL_FAIL] = SORT_FAILURES,  [CON_COL_LATENCY] = SORT_LATENCY,
	    [CON_COL_STATE] = SORT_WORST,    [CON_COL_HEALTH] = SORT_WORST,
	    [CON_COL_CRIT] = SORT_WORST,     [CON_COL_TIMER] = SORT_WORST,
	    [CON_COL_RECENT] = SORT_LATENCY, [CON_COL_ERROR] = SORT_WORST,
	    [CON_COL_CALLS] = SORT_WORST};
	for (int i = CON_COL_COUNT - 1; i >= 0; i--) {
		if (col.on[i] && x >= col.x[i])
			return by[i];
	}
	return c->sort;
}

static int wheel(fb_console *c, int y, long notches)
{
	if (y >= c->pane_y && !c->detail)
		con_scroll_log(c, notches * WHEEL_STEP);
	else
		con_move_cursor(c, -notches * WHEEL_STEP);
	return ACT_REDRAW;
}

static int press(fb_console *c, int y, int x)
{
	if (y == c->table_y - 1) { /* the titles */
		c->sort = sort_at(c, x);
		return ACT_RESORT;
	}
	if (y >= c->table_y && y < c->table_y + (int)c->table_rows) {
		size_t row = c->top + (size_t)(y - c->table_y);
		if (row < c->norder) {
			c->log_focus = false;
			con_move_cursor(c, (long)row - (long)c->cursor);
		}
		return ACT_REDRAW;
	}
	if (y >= c->pane_y && y < LINES - 1 && !c->detail)
		c->log_focus = true;
	return ACT_REDRAW;
}

int con_mouse(fb_console *c)
{
	MEVENT ev;
	if (getmouse(&ev) != OK)
		return ACT_NONE;
	if (c->mode == MODE_HELP) { /* a click closes it, as a key does */
		c->mode = MODE_NORMAL;
		return ACT_REDRAW;
	}
	/* a dialog wants its own answer; a click is not one */
	if ((c->mode != MODE_NORMAL && c->mode != MODE_FILTER) ||
	    COLS < CON_MIN_COLS || LINES < CON_MIN_ROWS)
		return ACT_NONE;
	if (ev.bstate & BUTTON4_PRESSED)
		return wheel(c, ev.y, 1);
	if (ev.bstate & BUTTON5_PRESSED)
		return wheel(c, ev.y, -1);
	if (ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED))
		return press(c, ev.y, ev.x);
	return ACT_NONE;
}
