/* Which columns the table shows at a given width, and the key hints that
 * fit the bottom line: both chosen by priority, so a narrow terminal
 * loses the least useful first and never shows half a value. */
#ifndef FB_CONSOLE_COLUMNS_H
#define FB_CONSOLE_COLUMNS_H

#include <stdbool.h>
#include <stddef.h>

/* In the order they are drawn. */
typedef enum {
	CON_COL_NAME,
	CON_COL_KIND,
	CON_COL_CRIT,
	CON_COL_STATE,
	CON_COL_WHATIF, /* a replay's what-if overlay, while it is on */
	CON_COL_SHADOW, /* only when some row has a shadow breaker */
	CON_COL_HEALTH,
	CON_COL_FAIL,
	CON_COL_CALLS,
	CON_COL_LATENCY,
	CON_COL_TIMER,
	CON_COL_HOSTS,
	CON_COL_RECENT,
	CON_COL_ERROR,
	CON_COL_COUNT
} con_col;

typedef struct con_columns {
	bool on[CON_COL_COUNT];
	int x[CON_COL_COUNT], w[CON_COL_COUNT];
	int used; /* columns taken, from 0 */
} con_columns;

const char *con_col_title(con_col col);

/* The columns for a terminal `cols` wide whose longest dependency name
 * is name_w columns: name, state, health and timer always; the optional
 * ones in `extra` (bits 1 << CON_COL_X) only when asked for: the
 * what-if's whatever the width (a replay's overlay was asked for), the
 * fleet view's hosts likewise (24 to 60 wide, as room allows), the
 * shadow's before failures, the calls services reported (some row has
 * any) after criticality. Then, while they fit, failures, the last
 * error (at least 12 wide; it takes what is left), criticality,
 * latency, the recent outcomes and kind. */
void con_columns_fit(int cols, int name_w, unsigned extra, con_columns *out);

/* The CALLS/MIN cell: calls reported in the last minute and the share
 * that failed, "1.2k 3%"; "-" when none is known. */
void con_calls_cell(long long calls, long long failed, char *out, size_t len);

/* The hint line: items[0] first and items[n - 1] last, always (help and
 * quit); the others, in their order, while they fit in `cols`. */
void con_hints_fit(const char *const *items, int n, int cols, char *out,
                   size_t len);

#endif
