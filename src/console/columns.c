/* Columns and hints by priority (see columns.h). */
#include <stdio.h>
#include <string.h>

#include "console/columns.h"

#define ERROR_MIN 12

static const struct {
	const char *title;
	int width; /* the name's is given; the error's is what is left */
} cols_def[CON_COL_COUNT] = {
    [CON_COL_NAME] = {"DEPENDENCY", 0},
    [CON_COL_KIND] = {"KIND", 5},
    [CON_COL_CRIT] = {"C", 1},
    [CON_COL_STATE] = {"STATE", 15},    /* "x forced_closed" */
    [CON_COL_WHATIF] = {"WHAT-IF", 11}, /* "≠ half_open" */
    [CON_COL_SHADOW] = {"SHADOW", 11},
    [CON_COL_HEALTH] = {"HEALTH", 9}, /* "unhealthy" */
    [CON_COL_FAIL] = {"FAIL", 4},
    [CON_COL_CALLS] = {"CALLS/MIN", 11}, /* "999k 100%!" */
    [CON_COL_LATENCY] = {"P50/P95 ms", 10},
    [CON_COL_TIMER] = {"TIMER", 13}, /* "retry 59m 59s" */
    [CON_COL_HOSTS] = {"HOSTS", 24}, /* "open on web-1 web-2 (2/3)" */
    [CON_COL_RECENT] = {"RECENT", 16},
    [CON_COL_ERROR] = {"LAST ERROR", ERROR_MIN},
};

static const con_col priority[] = {
    CON_COL_NAME,   CON_COL_STATE, CON_COL_HEALTH, CON_COL_TIMER,
    CON_COL_WHATIF, CON_COL_HOSTS, CON_COL_SHADOW, CON_COL_FAIL,
    CON_COL_ERROR,  CON_COL_CRIT,  CON_COL_CALLS,  CON_COL_LATENCY,
    CON_COL_RECENT, CON_COL_KIND,
};
/* name, state, health, timer: even when they do not fit (and the
 * what-if's and the hosts, when asked for) */
#define MUST 4
/* the hosts column at its widest: a trial and three hosts */
#define HOSTS_MAX 60

/* Columns shown only when asked for, and of them those shown whatever
 * the width. */
#define OPTIONAL                                                               \
	(1u << CON_COL_CALLS | 1u << CON_COL_SHADOW | 1u << CON_COL_WHATIF |   \
	 1u << CON_COL_HOSTS)
#define ASKED (1u << CON_COL_WHATIF | 1u << CON_COL_HOSTS)

const char *con_col_title(con_col col)
{
	return (unsigned)col < CON_COL_COUNT ? cols_def[col].title : "";
}

void con_columns_fit(int cols, int name_w, unsigned extra, con_columns *out)
{
	int used = 0;
	memset(out, 0, sizeof *out);
	if (name_w < 10)
		name_w = 10; /* "DEPENDENCY" */
	if (name_w > 32)
		name_w = 32;
	for (size_t i = 0; i < sizeof priority / sizeof priority[0]; i++) {
		con_col c = priority[i];
		int w = c == CON_COL_NAME ? name_w : cols_def[c].width;
		if ((OPTIONAL & 1u << c) && !(extra & 1u << c))
			continue;
		if (c == CON_COL_HOSTS) {
			int room = cols - used - 1;
			w = room > HOSTS_MAX ? HOSTS_MAX : room > w ? room : w;
		}
		int need = w + (used ? 1 : 0);
		bool must = i < MUST || (ASKED & 1u << c);
		if (!must && used + need > cols)
			continue;
		out->on[c] = true;
		out->w[c] = w;
		used += need;
	}
	/* positions in the order drawn; the error takes what is left */
	int x = 0;
	for (int c = 0; c < CON_COL_COUNT; c++) {
		if (!out->on[c])
			continue;
		out->x[c] = x;
		x += out->w[c] + 1;
	}
	if (out->on[CON_COL_ERROR]) {
		int rest = cols - out->x[CON_COL_ERROR];
		out->w[CON_COL_ERROR] = rest > ERROR_MIN ? rest : ERROR_MIN;
		x = out->x[CON_COL_ERROR] + out->w[CON_COL_ERROR] + 1;
	}
	out->used = x > 0 ? x - 1 : 0;
}

void con_calls_cell(long long calls, long long failed, char *out, size_t len)
{
	char n[16];
	if (calls < 0) {
		snprintf(out, len, "-");
		return;
	}
	if (calls < 1000)
		snprintf(n, sizeof n, "%lld", calls);
	else if (calls < 10000)
		snprintf(n, sizeof n, "%.1fk", (double)calls / 1000.0);
	else if (calls < 1000000)
		snprintf(n, sizeof n, "%lldk", calls / 1000);
	else
		snprintf(n, sizeof n, "%.1fM", (double)calls / 1e6);
	long long pct = calls > 0 && failed > 0 ? failed * 100 / calls : 0;
	if (failed > 0 && pct == 0)
		pct = 1; /* some failed: never "0%" */
	snprintf(out, len, "%s %lld%%", n, pct);
}

void con_hints_fit(const char *const *items, int n, int cols, char *out,
                   size_t len)
{
	int room = cols - 1 - (int)strlen(items[0]) - 1 -
	           (n > 1 ? (int)strlen(items[n - 1]) : 0);
	size_t used = (size_t)snprintf(out, len, " %s", items[0]);
	for (int i = 1; i + 1 < n; i++) {
		int w = (int)strlen(items[i]) + 1;
		if (w > room)
			continue; /* a shorter one further on may fit */
		room -= w;
		used += (size_t)snprintf(
		    out + used, used < len ? len - used : 0, " %s", items[i]);
	}
	if (n > 1 && used < len)
		snprintf(out + used, len - used, " %s", items[n - 1]);
}
