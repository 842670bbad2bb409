/* The console: an ncursesw screen over a model (console/model.h) of an
 * instance -- its own engine, a running one it attached to, or a log's
 * past. It reads the model and asks it for operator actions; it never
 * owns engine state. Private to the console modules. */
#ifndef FB_CONSOLE_H
#define FB_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "console/columns.h"
#include "console/line.h"
#include "console/model.h"
#include "console/theme.h"

#define CON_MIN_COLS     60
#define CON_MIN_ROWS     12
#define CON_HANDS_OFF_MS 5000 /* no automatic re-sort this soon after a key */

typedef enum {
	MODE_NORMAL,
	MODE_HELP,
	MODE_CONFIRM,
	MODE_GATE_MENU,
	MODE_REASON,
	MODE_FILTER
} con_mode;

#define CON_SORT_TABLE(X)                                                      \
	X(WORST, "worst first")                                                \
	X(NAME, "name")                                                        \
	X(KIND, "kind") X(FAILURES, "failures") X(LATENCY, "latency")
#define CON_X_SORT(id, name) SORT_##id,
typedef enum { CON_SORT_TABLE(CON_X_SORT) SORT_COUNT } con_sort;
#undef CON_X_SORT

typedef struct fb_console {
	con_model *model; /* what is shown */
	con_model *live;  /* the source that runs (model, or under a replay) */
	fb_theme theme;
	int attr[FB_ROLE_COUNT];
	bool readonly, utf8, quit;
	bool dirty; /* something changed: redraw soon */
	/* the table */
	uint32_t *order; /* rows of the model in display order */
	size_t norder;
	size_t cursor, top; /* index into order; first row shown */
	uint32_t selected;  /* row under the cursor (kept across re-sorts) */
	char selected_name[FB_NAME_MAX]; /* found again when rows change */
	unsigned generation; /* of the model's rows, as last sorted */
	int table_y, pane_y; /* screen rows of the table's first row and of
	                        the pane's title, at the last draw */
	size_t table_rows;   /* rows the table showed at the last draw */
	size_t log_rows;     /* lines the log pane showed at the last draw */
	int name_w;          /* the longest dependency name, in columns */
	con_sort sort;
	char filter[64];
	bool detail; /* detail pane instead of the log */
	bool log_focus;
	size_t log_scroll; /* lines of the log pane scrolled back */
	/* dialogs */
	con_mode mode;
	fb_action pending;      /* what a confirmation or reason is for */
	con_line line;          /* the prompt being typed */
	int cursor_y, cursor_x; /* where the terminal's cursor goes while a
	                           prompt is open; -1: hidden */
	bool utc;               /* times in UTC, not local time */
	char flash[160];        /* a one-line message under the table */
	int64_t flash_until;
	int64_t last_draw_ms;
	int empty_reads;           /* wake-ups on stdin that read nothing */
	int64_t last_key_ms;       /* rows stay put for a while after a key */
	struct con_replay *replay; /* replay mode over the live console */
	con_model *fleet;          /* the fleet view (F) over the live
	                              source, shown while not NULL */
	bool fleet_instances;      /* its rows are the instances (i) */
} fb_console;

/* Drawing (view.c): the whole screen from the console's state; or only
 * the table and the pane under it, in rows y0 .. y0 + h - 1 (the replay
 * screen draws its own header and hints around them). */
void con_draw(fb_console *c);
void con_draw_body(fb_console *c, int y0, int h);
/* The table's columns at this width, as drawn (the mouse asks too). */
void con_table_columns(const fb_console *c, int cols, con_columns *out);

/* Keys (keys.c): dispatches one key; returns what must happen next. */
enum { ACT_NONE = 0, ACT_REDRAW = 1, ACT_RESORT = 2 };
int con_key(fb_console *c, int key);
/* Moves the cursor by delta rows (clamped); scrolls the log pane back by
 * `back` lines (negative: forward), as far as fills it (keys.c). */
void con_move_cursor(fb_console *c, long delta);
void con_scroll_log(fb_console *c, long back);
/* Mouse (mouse.c): reads the waiting mouse event and acts on it as htop
 * does -- a click selects the row under it (on the titles: sorts by that
 * column; in the log pane: focuses it), the wheel scrolls the table or
 * the log pane under the pointer. Returns con_key's flags. */
int con_mouse(fb_console *c);
/* Turns mouse reporting on: clicks and the wheel, no motion, so that
 * Shift still makes the terminal select text. */
void con_mouse_start(void);
/* The help text, generated from the key table: calls fn for each row. */
void con_key_help(void (*fn)(void *ctx, const char *keys, const char *help),
                  void *ctx);

/* The loop (console.c): draws and takes keys until quit, or until the
 * running source (c->live) ends. */
void con_run(fb_console *c);

/* The rows (console.c). */
void con_resort(fb_console *c);
const con_row *con_selected(fb_console *c);
void con_flash(fb_console *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Asks the model for an operator action; flashes the outcome. */
void con_operate(fb_console *c, fb_action action, const char *reason);

/* The terminal (console.c): curses on with the theme, and off again. */
int con_screen_start(fb_console *c, const char *theme, fb_error *err);
void con_screen_end(void);

/* The fleet view (fleet_screen.c): F opens it over the live source and closes
 * it again, i switches its rows between dependencies and instances
 * (both return con_key's flags); closing is also what leaving the
 * console or opening a replay does first. The instances' table goes in
 * rows y0 .. y0 + h - 1, where the dependencies' would. */
int con_fleet_toggle(fb_console *c);
int con_fleet_rows(fb_console *c);
void con_fleet_close(fb_console *c);
void con_fleet_draw_instances(fb_console *c, int y0, int h);

/* The colour role for an event's tone (view.c). */
fb_role con_tone_role(fb_tone tone);

/* Text helpers (text.c): clip to a column width, measured with wcwidth. */
int con_put(fb_console *c, int y, int x, int width, fb_role role,
            const char *text);
int con_width(const char *text);
/* Bytes of text that fit in `width` columns (never half a character). */
size_t con_fit(const char *text, int width);
/* A prompt's line in `width` columns from (y, x), scrolled so that its
 * cursor shows; the terminal's cursor goes there (con_show_cursor). */
void con_prompt(fb_console *c, int y, int x, int width, fb_role role,
                const con_line *l);
/* Shows the terminal's cursor where the last con_prompt put it, or hides
 * it when no prompt was drawn since c->cursor_y was set to -1. */
void con_show_cursor(fb_console *c);
/* A wall time (ms since the epoch) in the console's zone (c->utc or
 * local), by strftime's fmt. */
void con_time(const fb_console *c, int64_t wall_ms, const char *fmt, char *buf,
              size_t len);
/* Puts text over up to max_lines lines; returns the lines used. */
int con_put_wrapped(fb_console *c, int y, int x, int width, int max_lines,
                    fb_role role, const char *text);

#endif
