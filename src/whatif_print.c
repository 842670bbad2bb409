/* replay --what-if: the comparison, as a table (text or Markdown) or as
 * one JSON document. Column 0 is what really happened (the recorded
 * transitions), 1 today's settings run again, then each set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eventlog.h"
#include "fusebox/gate.h"
#include "jsonout.h"
#include "whatif_impl.h"

#define TRANSITIONS_SHOWN 12 /* per run in the text form */

typedef struct column {
	const wi_trans *tr;
	size_t n;
	wi_metrics m;
} column;

static int columns(const fb_whatif *w)
{
	return w->nsets + 2;
}

static column column_of(const wi_dep *d, int c)
{
	column col;
	if (c == 0) {
		col.tr = d->real.v;
		col.n = d->real.n;
		col.m = d->real_m;
	} else {
		col.tr = d->runs[c - 1].tr;
		col.n = d->runs[c - 1].n;
		col.m = d->runs[c - 1].m;
	}
	return col;
}

static const char *column_name(const fb_whatif *w, int c, char *buf, size_t len)
{
	(void)w;
	if (c < 2)
		snprintf(buf, len, "%s", c ? "today" : "recorded");
	else
		snprintf(buf, len, "%c", 'A' + (c - 2));
	return buf;
}

/* ---- the gate ---------------------------------------------------------- */

typedef struct gate_change {
	int64_t at;
	int delta; /* +1 a critical dependency turns bad, -1 back; 0 mode */
	int mode;
} gate_change;

static bool bad(fb_state s)
{
	return s == FB_STATE_OPEN || s == FB_STATE_FORCED_OPEN ||
	       s == FB_STATE_HALF_OPEN;
}

static int cmp_change(const void *a, const void *b)
{
	const gate_change *x = a, *y = b;
	return (x->at > y->at) - (x->at < y->at);
}

/* The gate's blocked windows in column c: blocked while a critical
 * dependency is open or half-open, or the mode says block, unless the
 * mode says allow. */
static void gate_windows(const fb_whatif *w, int c, int64_t *count,
                         int64_t *total_ms)
{
	size_t n = w->modes.n;
	*count = *total_ms = 0;
	for (size_t i = 0; i < w->ndeps; i++)
		n += column_of(&w->deps[i], c).n;
	gate_change *ch = calloc(n ? n : 1, sizeof *ch);
	if (!ch)
		return;
	size_t k = 0;
	for (size_t i = 0; i < w->modes.n; i++)
		ch[k++] =
		    (gate_change){w->modes.v[i].at, 0, w->modes.v[i].mode};
	for (size_t i = 0; i < w->ndeps; i++) {
		if (!w->deps[i].cfg.critical)
			continue;
		column col = column_of(&w->deps[i], c);
		for (size_t j = 0; j < col.n; j++) {
			int delta = bad(col.tr[j].to) - bad(col.tr[j].from);
			if (delta)
				ch[k++] =
				    (gate_change){col.tr[j].at, delta, -1};
		}
	}
	qsort(ch, k, sizeof *ch, cmp_change);
	int bad_deps = 0, mode = 0;
	int64_t since = -1;
	for (size_t i = 0; i <= k; i++) {
		if (i < k) {
			bad_deps += ch[i].delta;
			if (ch[i].mode >= 0)
				mode = ch[i].mode;
		}
		bool blocked =
		    i < k && (mode == 1 || (mode == 0 && bad_deps > 0));
		int64_t at = i < k ? ch[i].at : w->last_ms;
		if (blocked && since < 0) {
			since = at;
			(*count)++;
		} else if (!blocked && since >= 0) {
			*total_ms += at - since;
			since = -1;
		}
	}
	free(ch);
}

/* ---- text and Markdown -------------------------------------------------- */

static void ms_text(int64_t ms, char *buf, size_t len)
{
	if (ms < 0)
		snprintf(buf, len, "-");
	else if (ms < 10000)
		snprintf(buf, len, "%lld.%03llds", (long long)(ms / 1000),
		         (long long)(ms % 1000));
	else
		fb_format_wait(ms, buf, len);
}

static void clock_text(int64_t wall_ms, char *buf, size_t len)
{
	char ts[40];
	if (wall_ms < 0) {
		snprintf(buf, len, "-");
		return;
	}
	fb_format_rfc3339(wall_ms, ts, sizeof ts);
	snprintf(buf, len, "%.12s", ts + 11); /* HH:MM:SS.mmm */
}

typedef enum {
	ROW_TRANSITIONS,
	ROW_OPENS,
	ROW_TRIALS,
	ROW_DOWN,
	ROW_FIRST_OPEN,
	ROW_DETECT,
	ROW_RECOVER,
	ROW_FALSE,
	ROW_LET,
	ROW_COUNT
} row;

static const char *const row_names[ROW_COUNT] = {
    "transitions",     "opens",       "half-open trials",
    "down windows",    "first open",  "time to detect",
    "time to recover", "false trips", "let through down"};

static void cell(const wi_metrics *m, row r, char *buf, size_t len)
{
	char a[32];
	switch (r) {
	case ROW_TRANSITIONS: snprintf(buf, len, "%u", m->transitions); break;
	case ROW_OPENS: snprintf(buf, len, "%u", m->opens); break;
	case ROW_TRIALS: snprintf(buf, len, "%u", m->trials); break;
	case ROW_DOWN:
		ms_text(m->down_ms, a, sizeof a);
		snprintf(buf, len, "%u (%s)", m->down_windows, a);
		break;
	case ROW_FIRST_OPEN: clock_text(m->first_open_ms, buf, len); break;
	case ROW_DETECT: ms_text(m->detect_ms, buf, len); break;
	case ROW_RECOVER: ms_text(m->recover_ms, buf, len); break;
	case ROW_FALSE:
		snprintf(buf, len, "%lld calls",
		         (long long)m->false_trip_calls);
		break;
	case ROW_LET:
		snprintf(buf, len, "%lld calls",
		         (long long)m->let_through_calls);
		break;
	default: buf[0] = '\0'; break;
	}
}

static const char *dep_label(const fb_whatif *w, const wi_dep *d, char *buf,
                             size_t len)
{
	if (w->hosts > 1) {
		snprintf(buf, len, "%s:%s", d->host, d->name);
		return buf;
	}
	return d->name;
}

static void print_row(const char *a, const char *b, char cells[][48], int n,
                      bool md)
{
	if (md) {
		printf("| %s | %s |", a, b);
		for (int c = 0; c < n; c++)
			printf(" %s |", cells[c]);
	} else {
		printf("%-16.16s %-17s", a, b);
		for (int c = 0; c < n; c++)
			printf(" %-14s", cells[c]);
	}
	putchar('\n');
}

static void print_transitions(const fb_whatif *w, const wi_dep *d, bool md)
{
	char name[16], at[24], label[160];
	printf(md ? "\n**%s** transitions\n\n" : "\n%s transitions\n",
	       dep_label(w, d, label, sizeof label));
	for (int c = 0; c < columns(w); c++) {
		column col = column_of(d, c);
		printf(md ? "- %s:" : "  %-9s",
		       column_name(w, c, name, sizeof name));
		for (size_t i = 0; i < col.n && i < TRANSITIONS_SHOWN; i++) {
			clock_text(col.tr[i].at, at, sizeof at);
			printf(" %s %s>%s", at, fb_state_name(col.tr[i].from),
			       fb_state_name(col.tr[i].to));
		}
		if (col.n > TRANSITIONS_SHOWN)
			printf(" ... (%zu more)", col.n - TRANSITIONS_SHOWN);
		if (!col.n)
			printf(" none");
		putchar('\n');
	}
}

static void print_table(const fb_whatif *w, bool md)
{
	char from[40], to[40], cells[FB_WHATIF_SETS + 2][48], label[160];
	int n = columns(w);
	fb_format_rfc3339(w->first_ms, from, sizeof from);
	fb_format_rfc3339(w->last_ms, to, sizeof to);
	printf(md ? "## What if\n\n%ld events, %ld outcome summaries, %s to "
	            "%s\n\n"
	          : "what-if over %ld events (%ld outcome summaries), %s to "
	            "%s\n",
	       w->events, w->summaries, from, to);
	printf("today's settings: %s\n",
	       w->cfg_path[0] ? w->cfg_path : "built-in defaults");
	size_t total = 0;
	for (size_t i = 0; i < w->ndeps; i++)
		total += w->deps[i].real.n;
	if (fb_whatif_reproduced(w))
		printf(
		    "determinism: today's settings reproduce all %zu recorded "
		    "transitions\n",
		    total);
	for (size_t i = 0; i < w->ndeps; i++) {
		if (!w->deps[i].reproduced)
			printf("determinism: %s differs: %s\n",
			       dep_label(w, &w->deps[i], label, sizeof label),
			       w->deps[i].mismatch);
	}
	for (int s = 0; s < w->nsets; s++)
		printf(md ? "- **%c**: `%s`\n" : "  %c = %s\n", 'A' + s,
		       w->sets[s].text);
	putchar('\n');
	for (int c = 0; c < n; c++)
		column_name(w, c, cells[c], sizeof cells[c]);
	print_row("dependency", "", cells, n, md);
	if (md) {
		printf("|---|---|");
		for (int c = 0; c < n; c++)
			printf("---|");
		putchar('\n');
	}
	for (size_t i = 0; i < w->ndeps; i++) {
		const wi_dep *d = &w->deps[i];
		column cols[FB_WHATIF_SETS + 2];
		for (int c = 0; c < n; c++)
			cols[c] = column_of(d, c);
		for (int r = 0; r < ROW_COUNT; r++) {
			for (int c = 0; c < n; c++)
				cell(&cols[c].m, (row)r, cells[c],
				     sizeof cells[c]);
			print_row(r ? "" : dep_label(w, d, label, sizeof label),
			          row_names[r], cells, n, md);
		}
	}
	for (int c = 0; c < n; c++) {
		int64_t count, ms;
		char a[32];
		gate_windows(w, c, &count, &ms);
		ms_text(ms, a, sizeof a);
		snprintf(cells[c], sizeof cells[c], "%lld (%s)",
		         (long long)count, a);
	}
	print_row("gate", "blocked windows", cells, n, md);
	for (size_t i = 0; i < w->ndeps; i++)
		print_transitions(w, &w->deps[i], md);
}

/* ---- JSON --------------------------------------------------------------- */

/* Written as it goes, not built: with every transition listed the
 * document holds millions of values. The same bytes as the cJSON tree
 * it replaces (jsonout.h). */

static void metrics_json(fb_jw *j, const fb_whatif *w, const wi_metrics *m)
{
	fb_jw_number(j, "transitions", m->transitions);
	fb_jw_number(j, "opens", m->opens);
	fb_jw_number(j, "trials", m->trials);
	fb_jw_number(j, "down_windows", m->down_windows);
	fb_jw_number(j, "down_ms", (double)m->down_ms);
	fb_jw_number(j, "first_open_ms_after_start",
	             (double)(m->first_open_ms >= 0
	                          ? m->first_open_ms - w->first_ms
	                          : m->first_open_ms));
	fb_jw_number(j, "detect_ms", (double)m->detect_ms);
	fb_jw_number(j, "recover_ms", (double)m->recover_ms);
	fb_jw_number(j, "false_trip_calls", (double)m->false_trip_calls);
	fb_jw_number(j, "let_through_calls", (double)m->let_through_calls);
}

/* fb_format_rfc3339() with its date kept: the day's "YYYY-MM-DDT" comes
 * from it once, the time of day ("HH:MM:SS.mmmZ") is counted here, as
 * UTC days have 86,400 seconds each. Before 1970 (or another shape):
 * fb_format_rfc3339() itself. */
typedef struct ts_cache {
	int64_t day; /* -1: none */
	char text[40];
} ts_cache;

static const char *ts_text(ts_cache *c, int64_t ms)
{
	int64_t day = ms >= 0 ? ms / 86400000 : -1;
	if (day < 0 || day != c->day) {
		fb_format_rfc3339(ms, c->text, sizeof c->text);
		c->day = day >= 0 && strlen(c->text) == 24 && c->text[10] == 'T'
		             ? day
		             : -1;
		return c->text;
	}
	int64_t in_day = ms % 86400000;
	int v[4] = {(int)(in_day / 3600000), (int)(in_day / 60000 % 60),
	            (int)(in_day / 1000 % 60), (int)(in_day % 1000)};
	char *p = c->text + 11;
	for (int k = 0; k < 3; k++, p += 3) {
		p[0] = (char)('0' + v[k] / 10);
		p[1] = (char)('0' + v[k] % 10);
	}
	p[0] = (char)('0' + v[3] / 100);
	p[1] = (char)('0' + v[3] / 10 % 10);
	p[2] = (char)('0' + v[3] % 10);
	return c->text;
}

static void transitions_json(fb_jw *j, const column *col)
{
	ts_cache ts = {-1, ""};
	fb_jw_array(j, "transitions_list");
	for (size_t i = 0; i < col->n; i++) {
		const wi_trans *t = &col->tr[i];
		fb_jw_object(j, NULL);
		fb_jw_string(j, "ts", ts_text(&ts, t->at));
		fb_jw_string(j, "from", fb_state_name(t->from));
		fb_jw_string(j, "to", fb_state_name(t->to));
		if (t->to == FB_STATE_OPEN)
			fb_jw_number(j, "retry_after_ms",
			             (double)t->retry_after_ms);
		if (t->restored)
			fb_jw_bool(j, "restored", true);
		fb_jw_close(j, '}');
	}
	fb_jw_close(j, ']');
}

static void print_json(const fb_whatif *w)
{
	char name[16], label[160];
	fb_jw *j = malloc(sizeof *j); /* big: a buffer of output */
	if (!j)
		return;
	fb_jw_start(j, stdout);
	fb_jw_object(j, NULL);
	fb_jw_number(j, "events", (double)w->events);
	fb_jw_number(j, "summaries", (double)w->summaries);
	fb_jw_string(j, "config", w->cfg_path);
	fb_jw_bool(j, "reproduced", fb_whatif_reproduced(w));
	fb_jw_array(j, "sets");
	for (int s = 0; s < w->nsets; s++)
		fb_jw_string(j, NULL, w->sets[s].text);
	fb_jw_close(j, ']');
	fb_jw_array(j, "dependencies");
	for (size_t i = 0; i < w->ndeps; i++) {
		const wi_dep *d = &w->deps[i];
		fb_jw_object(j, NULL);
		fb_jw_string(j, "dep", dep_label(w, d, label, sizeof label));
		fb_jw_bool(j, "reproduced", d->reproduced);
		if (!d->reproduced)
			fb_jw_string(j, "mismatch", d->mismatch);
		fb_jw_array(j, "runs");
		for (int c = 0; c < columns(w); c++) {
			column col = column_of(d, c);
			fb_jw_object(j, NULL);
			metrics_json(j, w, &col.m);
			fb_jw_string(j, "run",
			             column_name(w, c, name, sizeof name));
			transitions_json(j, &col);
			fb_jw_close(j, '}');
		}
		fb_jw_close(j, ']');
		fb_jw_close(j, '}');
	}
	fb_jw_close(j, ']');
	fb_jw_array(j, "gate");
	for (int c = 0; c < columns(w); c++) {
		int64_t count, ms;
		gate_windows(w, c, &count, &ms);
		fb_jw_object(j, NULL);
		fb_jw_string(j, "run", column_name(w, c, name, sizeof name));
		fb_jw_number(j, "blocked_windows", (double)count);
		fb_jw_number(j, "blocked_ms", (double)ms);
		fb_jw_close(j, '}');
	}
	fb_jw_close(j, ']');
	fb_jw_close(j, '}');
	fb_jw_end(j);
	free(j);
}

void fb_whatif_print(const fb_whatif *w, fb_summary_format format)
{
	if (format == FB_SUMMARY_JSON)
		print_json(w);
	else
		print_table(w, format == FB_SUMMARY_MARKDOWN);
}
