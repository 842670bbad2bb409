/* The replay screen's what-if overlay (replay.h): the what-if of
 * `fusebox replay --what-if` (whatif.h) over the whole loaded log, fed
 * from the timeline a slice at a time between key polls, then each
 * row's transitions of the run, and all of them in time order for the
 * log pane. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "console/replay.h"

con_whatif *con_whatif_start(const char *text, const char *config, char *err,
                             size_t len)
{
	char path[512];
	fb_error e;
	con_whatif *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, len, "what-if: out of memory");
		return NULL;
	}
	if (fb_whatif_parse_set(text, &w->set, err, len) != 0) {
		free(w);
		return NULL;
	}
	bool named = config && config[0];
	if (fb_config_locate(named ? config : NULL, path, sizeof path, &e) ==
	    0) {
		if (fb_config_load(path, &w->cfg, &e, NULL) != 0) {
			snprintf(err, len, "what-if: %s", e.text);
			free(w);
			return NULL;
		}
		w->has_cfg = true;
	} else if (named) {
		snprintf(err, len, "what-if: %s", e.text);
		free(w);
		return NULL;
	} else {
		path[0] = '\0'; /* none: every dependency at the defaults */
	}
	w->w = fb_whatif_new(w->has_cfg ? &w->cfg : NULL, path, &w->set, 1);
	if (!w->w) {
		snprintf(err, len, "what-if: out of memory");
		con_whatif_free(w);
		return NULL;
	}
	return w;
}

static int by_time(const void *a, const void *b)
{
	const con_wi_line *x = a, *y = b;
	if (x->at_ms != y->at_ms)
		return x->at_ms < y->at_ms ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/* Per row, the set's transitions; then all of them for the log pane. */
static int collect(con_whatif *w, const con_past *p)
{
	size_t n = p->m.nrows, total = 0;
	w->moves = calloc(n ? n : 1, sizeof *w->moves);
	w->nmoves = calloc(n ? n : 1, sizeof *w->nmoves);
	if (!w->moves || !w->nmoves)
		return -1;
	w->nrows = n;
	for (size_t i = 0; i < n; i++) {
		/* -1: not in the log (or no memory for it): no overlay */
		w->nmoves[i] =
		    fb_whatif_moves(w->w, p->m.rows[i].name, 1, &w->moves[i]);
		total += w->nmoves[i] > 0 ? (size_t)w->nmoves[i] : 0;
	}
	w->lines = calloc(total ? total : 1, sizeof *w->lines);
	if (!w->lines)
		return -1;
	for (size_t i = 0; i < n; i++) {
		for (long k = 0; k < w->nmoves[i]; k++) {
			const fb_whatif_move *m = &w->moves[i][k];
			w->lines[w->nlines++] = (con_wi_line){
			    m->at_ms, 0, (uint32_t)i, m->from, m->to};
		}
	}
	qsort(w->lines, w->nlines, sizeof *w->lines, by_time);
	for (size_t i = 0; i < w->nlines; i++)
		w->lines[i].after =
		    fb_timeline_count_at(&p->tl, w->lines[i].at_ms);
	return 0;
}

int con_whatif_work(con_whatif *w, const con_past *p, int budget_ms, char *err,
                    size_t len)
{
	int64_t t0 = fb_now_ms(), until = t0 + budget_ms;
	if (w->ready)
		return 1;
	while (w->fed < p->tl.n) { /* feeding */
		fb_log_event ev;
		if (fb_timeline_event(&p->tl, w->fed, &ev) == 0) {
			int rc = fb_whatif_add(w->w, &ev);
			cJSON_Delete(ev.json);
			if (rc != 0) {
				snprintf(err, len,
				         "what-if: out of memory (or more than "
				         "%u points)",
				         FB_WHATIF_POINTS);
				return -1;
			}
		}
		w->fed++;
		if (w->fed % 64 == 0 && fb_now_ms() >= until) {
			w->took_ms += fb_now_ms() - t0;
			return 0;
		}
	}
	while (w->ran < fb_whatif_ndeps(w->w)) { /* running */
		if (fb_whatif_run_deps(w->w, w->ran++, 1) != 0) {
			snprintf(err, len, "what-if: out of memory");
			return -1;
		}
		if (fb_now_ms() >= until) {
			w->took_ms += fb_now_ms() - t0;
			return 0;
		}
	}
	if ((w->ran == 0 && fb_whatif_run_deps(w->w, 0, 0) != 0) ||
	    collect(w, p) != 0) {
		snprintf(err, len, "what-if: out of memory");
		return -1;
	}
	w->took_ms += fb_now_ms() - t0;
	w->ready = true;
	return 1;
}

int con_whatif_percent(const con_whatif *w, const con_past *p)
{
	/* feeding is most of the work: nine tenths of the way */
	size_t nd = fb_whatif_ndeps(w->w);
	size_t fed = p->tl.n ? w->fed * 90 / p->tl.n : 90;
	return (int)(fed + (nd ? w->ran * 10 / nd : 0));
}

bool con_whatif_state(const con_whatif *w, size_t row, int64_t at_ms,
                      fb_state *out)
{
	if (!w->ready || row >= w->nrows || w->nmoves[row] < 0)
		return false;
	/* the last transition at or before at_ms; none: closed, as every
	 * breaker starts */
	const fb_whatif_move *m = w->moves[row];
	size_t lo = 0, hi = (size_t)w->nmoves[row];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m[mid].at_ms <= at_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	*out = lo ? m[lo - 1].to : FB_STATE_CLOSED;
	return true;
}

void con_whatif_free(con_whatif *w)
{
	if (!w)
		return;
	for (size_t i = 0; w->moves && i < w->nrows; i++)
		free(w->moves[i]);
	free(w->moves);
	free(w->nmoves);
	free(w->lines);
	fb_whatif_free(w->w);
	if (w->has_cfg)
		fb_config_free(&w->cfg);
	free(w);
}
