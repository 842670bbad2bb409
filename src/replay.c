/* The incident summary: down windows per dependency, gate blocked
 * intervals, operator actions -- as text, JSON or Markdown. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "eventlog.h"
#include "replay.h"

typedef struct windows {
	fb_window *w;
	size_t n, cap;
} windows;

typedef struct dep_story {
	char name[FB_NAME_MAX];
	windows down;
	int opens;
	bool is_down;
} dep_story;

typedef struct action {
	int64_t at_ms;
	char actor[96], action[24], dep[FB_NAME_MAX], reason[160];
} action;

typedef struct gap {
	int64_t at_ms, lost;
	char reason[160];
} gap;

struct fb_summary {
	dep_story *deps;
	size_t ndeps, capdeps;
	uint32_t *slot; /* open addressing by name: index + 1, 0 = free */
	size_t nslots;  /* a power of two, at least twice ndeps */
	windows gate;
	bool gate_blocked;
	bool gate_context; /* gate windows only where a dependency was down */
	action *acts;
	size_t nacts, capacts;
	gap *gaps; /* where the log says events were lost */
	size_t ngaps, capgaps;
	int64_t lost;
	int64_t first_ms, last_ms;
	long events;
};

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap * 2 : 16;
	void *q = realloc(p, n * size);
	if (q)
		*cap = n;
	return q;
}

fb_summary *fb_summary_new(void)
{
	fb_summary *s = calloc(1, sizeof *s);
	if (s)
		s->first_ms = -1;
	return s;
}

void fb_summary_free(fb_summary *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ndeps; i++)
		free(s->deps[i].down.w);
	free(s->deps);
	free(s->slot);
	free(s->gate.w);
	free(s->acts);
	free(s->gaps);
	free(s);
}

/* The slot where name is, or the free one where it would go. */
static uint32_t *find_slot(const fb_summary *s, const char *name)
{
	size_t mask = s->nslots - 1;
	for (size_t i = fb_hash_name(name) & mask;; i = (i + 1) & mask) {
		uint32_t *slot = &s->slot[i];
		if (!*slot || strcmp(s->deps[*slot - 1].name, name) == 0)
			return slot;
	}
}

/* Doubles the slot table and puts every name back. */
static bool rehash(fb_summary *s)
{
	size_t n = s->nslots ? s->nslots * 2 : 64;
	uint32_t *slot = calloc(n, sizeof *slot);
	if (!slot)
		return false;
	free(s->slot);
	s->slot = slot;
	s->nslots = n;
	for (size_t i = 0; i < s->ndeps; i++)
		*find_slot(s, s->deps[i].name) = (uint32_t)(i + 1);
	return true;
}

/* The story of dependency `name`, new when it is the first event of it. */
static dep_story *story(fb_summary *s, const char *name)
{
	if ((s->ndeps + 1) * 2 > s->nslots && !rehash(s))
		return NULL;
	uint32_t *slot = find_slot(s, name);
	if (*slot)
		return &s->deps[*slot - 1];
	if (s->ndeps >= UINT32_MAX - 1)
		return NULL; /* before grow(): its block must not be dropped */
	dep_story *d = grow(s->deps, &s->capdeps, s->ndeps + 1, sizeof *d);
	if (!d)
		return NULL;
	s->deps = d;
	d = &s->deps[s->ndeps];
	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", name);
	*slot = (uint32_t)++s->ndeps;
	return d;
}

static void open_window(windows *w, int64_t at, const char *reason)
{
	fb_window *n = grow(w->w, &w->cap, w->n + 1, sizeof *n);
	if (!n)
		return;
	w->w = n;
	n[w->n] = (fb_window){at, -1, ""};
	snprintf(n[w->n].reason, sizeof n[w->n].reason, "%s",
	         reason ? reason : "");
	w->n++;
}

static void close_window(windows *w, int64_t at)
{
	if (w->n && w->w[w->n - 1].end_ms < 0)
		w->w[w->n - 1].end_ms = at;
}

static bool down_state(const char *state)
{
	return !strcmp(state, "open") || !strcmp(state, "forced_open") ||
	       !strcmp(state, "half_open");
}

static void add_transition(fb_summary *s, const fb_log_event *ev)
{
	dep_story *d = ev->dep ? story(s, ev->dep) : NULL;
	if (!d || !ev->to)
		return;
	bool down = down_state(ev->to);
	if (!strcmp(ev->to, "open") || !strcmp(ev->to, "forced_open"))
		d->opens++;
	if (down && !d->is_down)
		open_window(&d->down, ev->ts_ms, ev->reason);
	else if (!down && d->is_down)
		close_window(&d->down, ev->ts_ms);
	d->is_down = down;
}

static void add_action(fb_summary *s, const fb_log_event *ev)
{
	action *a = grow(s->acts, &s->capacts, s->nacts + 1, sizeof *a);
	if (!a)
		return;
	s->acts = a;
	a = &s->acts[s->nacts++];
	a->at_ms = ev->ts_ms;
	snprintf(a->actor, sizeof a->actor, "%s", ev->actor ? ev->actor : "?");
	snprintf(a->action, sizeof a->action, "%s",
	         ev->action ? ev->action : "?");
	snprintf(a->dep, sizeof a->dep, "%s", ev->dep ? ev->dep : "");
	snprintf(a->reason, sizeof a->reason, "%s",
	         ev->reason ? ev->reason : "");
}

static void add_gap(fb_summary *s, const fb_log_event *ev)
{
	gap *g = grow(s->gaps, &s->capgaps, s->ngaps + 1, sizeof *g);
	if (!g)
		return;
	s->gaps = g;
	g = &s->gaps[s->ngaps++];
	g->at_ms = ev->ts_ms;
	g->lost = ev->lost;
	snprintf(g->reason, sizeof g->reason, "%s",
	         ev->reason ? ev->reason : "");
	if (ev->lost <= INT64_MAX - s->lost)
		s->lost += ev->lost;
}

void fb_summary_gate_context(fb_summary *s)
{
	s->gate_context = true;
}

static void add_gate(fb_summary *s, const fb_log_event *ev)
{
	bool blocked = ev->to && !strcmp(ev->to, "blocked");
	if (blocked && !s->gate_blocked)
		open_window(&s->gate, ev->ts_ms, ev->reason);
	else if (!blocked && s->gate_blocked)
		close_window(&s->gate, ev->ts_ms);
	s->gate_blocked = blocked;
}

void fb_summary_add(fb_summary *s, const fb_log_event *ev)
{
	if (ev->kind == FB_EV_GATE && s->gate_context) {
		add_gate(s, ev);
		return;
	}
	if (s->first_ms < 0)
		s->first_ms = ev->ts_ms;
	s->last_ms = ev->ts_ms;
	s->events++;
	switch (ev->kind) {
	case FB_EV_TRANSITION: add_transition(s, ev); break;
	case FB_EV_GATE: add_gate(s, ev); break;
	case FB_EV_OPERATOR: add_action(s, ev); break;
	case FB_EV_GAP: add_gap(s, ev); break;
	default: break;
	}
}

/* ---- printing ---------------------------------------------------------- */

/* "1h 02m 03.250s", exact to the millisecond. */
static void duration(int64_t ms, char *buf, size_t len)
{
	int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60;
	int64_t frac = ms % 1000;
	if (h)
		snprintf(buf, len, "%lldh %02lldm %02lld.%03llds", (long long)h,
		         (long long)m, (long long)s, (long long)frac);
	else if (m)
		snprintf(buf, len, "%lldm %02lld.%03llds", (long long)m,
		         (long long)s, (long long)frac);
	else
		snprintf(buf, len, "%lld.%03llds", (long long)s,
		         (long long)frac);
}

typedef struct dep_totals {
	int64_t down_ms, longest_ms, recover_sum_ms;
	int recovered;
} dep_totals;

static dep_totals totals(const dep_story *d, int64_t end_ms)
{
	dep_totals t = {0, 0, 0, 0};
	for (size_t i = 0; i < d->down.n; i++) {
		const fb_window *w = &d->down.w[i];
		int64_t len =
		    (w->end_ms < 0 ? end_ms : w->end_ms) - w->start_ms;
		t.down_ms += len;
		if (len > t.longest_ms)
			t.longest_ms = len;
		if (w->end_ms >= 0) {
			t.recover_sum_ms += len;
			t.recovered++;
		}
	}
	return t;
}

/* "s" unless there is exactly one. */
static const char *plural(int64_t n)
{
	return n == 1 ? "" : "s";
}

static void print_window(const fb_window *w, int64_t end_ms, bool md)
{
	char a[40], b[40] = "still down", dur[48];
	fb_format_rfc3339(w->start_ms, a, sizeof a);
	if (w->end_ms >= 0)
		fb_format_rfc3339(w->end_ms, b, sizeof b);
	duration((w->end_ms < 0 ? end_ms : w->end_ms) - w->start_ms, dur,
	         sizeof dur);
	if (md)
		printf("| %s | %s | %s | %s |\n", a, b, dur, w->reason);
	else
		printf("    %s  ->  %-24s %14s%s%s\n", a, b, dur,
		       w->reason[0] ? "  " : "", w->reason);
}

/* Do windows a and b share a moment? (Starting together counts: the
 * gate blocks in the same millisecond as the dependency opens.) */
static bool overlap(const fb_window *a, const fb_window *b, int64_t end_ms)
{
	int64_t a_end = a->end_ms < 0 ? end_ms : a->end_ms;
	int64_t b_end = b->end_ms < 0 ? end_ms : b->end_ms;
	return a->start_ms == b->start_ms ||
	       (a->start_ms < b_end && b->start_ms < a_end);
}

/* Is gate window w reported? With gate_context, only when one of the
 * dependencies was down meanwhile. */
static bool gate_shown(const fb_summary *s, const fb_window *w)
{
	if (!s->gate_context)
		return true;
	for (size_t i = 0; i < s->ndeps; i++) {
		for (size_t k = 0; k < s->deps[i].down.n; k++) {
			if (overlap(w, &s->deps[i].down.w[k], s->last_ms))
				return true;
		}
	}
	return false;
}

/* "12 events lost: event log failing: No space left on device". */
static void print_gaps(const fb_summary *s, bool md)
{
	char at[40];
	if (!s->ngaps)
		return;
	printf(md ? "\n## Events lost\n\n| at | lost | why |\n|---|---|---|\n"
	          : "\nEVENTS LOST\n");
	for (size_t k = 0; k < s->ngaps; k++) {
		const gap *g = &s->gaps[k];
		fb_format_rfc3339(g->at_ms, at, sizeof at);
		if (md)
			printf("| %s | %lld | %s |\n", at, (long long)g->lost,
			       g->reason);
		else
			printf("    %s  %lld event%s lost%s%s\n", at,
			       (long long)g->lost, plural(g->lost),
			       g->reason[0] ? ": " : "", g->reason);
	}
}

/* "opened twice, 1 down window, down 3m 05.300s in all, ...". */
static void print_dep(const dep_story *d, int64_t end_ms, bool md)
{
	char dur[48], longest[48], mean[64];
	dep_totals t = totals(d, end_ms);
	printf(md ? "### %s\n\n" : "  %s: ", d->name);
	if (!d->down.n) {
		printf(md ? "Never down.\n\n" : "never down\n");
		return;
	}
	duration(t.down_ms, dur, sizeof dur);
	duration(t.longest_ms, longest, sizeof longest);
	if (t.recovered)
		duration(t.recover_sum_ms / t.recovered, mean, sizeof mean);
	else
		snprintf(mean, sizeof mean, "none: still down at the end");
	if (d->opens == 1)
		printf("%s once, ", md ? "Opened" : "opened");
	else
		printf("%s %d times, ", md ? "Opened" : "opened", d->opens);
	printf("%zu down window%s, down %s in all, longest %s, mean time to "
	       "recover %s\n",
	       d->down.n, plural((int64_t)d->down.n), dur, longest, mean);
	if (md)
		printf(
		    "\n| down from | until | for | why |\n|---|---|---|---|\n");
	for (size_t k = 0; k < d->down.n; k++)
		print_window(&d->down.w[k], end_ms, md);
	if (md)
		putchar('\n');
}

static void print_gate(const fb_summary *s, bool md)
{
	size_t shown = 0;
	printf(md ? "## Gate blocked\n\n" : "\nGATE BLOCKED\n");
	for (size_t k = 0; k < s->gate.n; k++) {
		if (!gate_shown(s, &s->gate.w[k]))
			continue;
		if (md && !shown)
			printf("| blocked from | until | for | why |\n"
			       "|---|---|---|---|\n");
		print_window(&s->gate.w[k], s->last_ms, md);
		shown++;
	}
	if (!shown)
		printf(md ? "Never blocked.\n" : "    never blocked\n");
}

static void print_actions(const fb_summary *s, bool md)
{
	char a[40];
	printf(md ? "\n## Operator actions\n\n" : "\nOPERATOR ACTIONS\n");
	if (!s->nacts)
		printf(md ? "None.\n" : "    none\n");
	else if (md)
		printf(
		    "| at | who | did | to | why |\n|---|---|---|---|---|\n");
	for (size_t k = 0; k < s->nacts; k++) {
		const action *x = &s->acts[k];
		fb_format_rfc3339(x->at_ms, a, sizeof a);
		if (md)
			printf("| %s | %s | %s | %s | %s |\n", a, x->actor,
			       x->action, x->dep, x->reason);
		else
			printf("    %s  %s: %s%s%s%s%s%s\n", a, x->actor,
			       x->action, x->dep[0] ? " " : "", x->dep,
			       x->reason[0] ? "  (" : "", x->reason,
			       x->reason[0] ? ")" : "");
	}
}

static void print_text(const fb_summary *s, bool md)
{
	char a[40], b[40];
	if (!s->events) {
		printf(md ? "# Incident summary\n\nNo events.\n"
		          : "INCIDENT SUMMARY: no events\n");
		return;
	}
	fb_format_rfc3339(s->first_ms, a, sizeof a);
	fb_format_rfc3339(s->last_ms, b, sizeof b);
	printf(md ? "# Incident summary\n\n%ld event%s from %s to %s\n\n"
	          : "INCIDENT SUMMARY: %ld event%s from %s to %s\n",
	       s->events, plural(s->events), a, b);
	if (s->lost)
		printf(md ? "**%lld event%s lost** (see Events lost): "
		            "what follows may miss %s.\n\n"
		          : "%lld event%s lost (see EVENTS LOST): what "
		            "follows may miss %s\n",
		       (long long)s->lost, s->lost == 1 ? " was" : "s were",
		       s->lost == 1 ? "it" : "them");
	printf(md ? "## Dependencies\n\n" : "\nDEPENDENCIES\n");
	if (!s->ndeps)
		printf(md ? "No breaker moved.\n\n" : "    no breaker moved\n");
	for (size_t i = 0; i < s->ndeps; i++)
		print_dep(&s->deps[i], s->last_ms, md);
	print_gate(s, md);
	print_actions(s, md);
	print_gaps(s, md);
}

static cJSON *window_json(const fb_window *w, int64_t end_ms)
{
	char ts[40];
	cJSON *o = cJSON_CreateObject();
	fb_format_rfc3339(w->start_ms, ts, sizeof ts);
	cJSON_AddStringToObject(o, "start", ts);
	if (w->end_ms >= 0) {
		fb_format_rfc3339(w->end_ms, ts, sizeof ts);
		cJSON_AddStringToObject(o, "end", ts);
	} else {
		cJSON_AddNullToObject(o, "end");
	}
	cJSON_AddNumberToObject(
	    o, "duration_ms",
	    (double)((w->end_ms < 0 ? end_ms : w->end_ms) - w->start_ms));
	cJSON_AddStringToObject(o, "reason", w->reason);
	return o;
}

static void print_json(const fb_summary *s)
{
	cJSON *o = cJSON_CreateObject(),
	      *deps = cJSON_AddArrayToObject(o, "dependencies");
	cJSON_AddNumberToObject(o, "events", (double)s->events);
	for (size_t i = 0; i < s->ndeps; i++) {
		const dep_story *d = &s->deps[i];
		dep_totals t = totals(d, s->last_ms);
		cJSON *j = cJSON_CreateObject(), *w = cJSON_CreateArray();
		cJSON_AddStringToObject(j, "dep", d->name);
		cJSON_AddNumberToObject(j, "opens", d->opens);
		cJSON_AddNumberToObject(j, "down_ms", (double)t.down_ms);
		cJSON_AddNumberToObject(j, "longest_outage_ms",
		                        (double)t.longest_ms);
		if (t.recovered)
			cJSON_AddNumberToObject(
			    j, "mean_time_to_recover_ms",
			    (double)(t.recover_sum_ms / t.recovered));
		else
			cJSON_AddNullToObject(j, "mean_time_to_recover_ms");
		for (size_t k = 0; k < d->down.n; k++)
			cJSON_AddItemToArray(
			    w, window_json(&d->down.w[k], s->last_ms));
		cJSON_AddItemToObject(j, "down_windows", w);
		cJSON_AddItemToArray(deps, j);
	}
	cJSON *g = cJSON_AddArrayToObject(o, "gate_blocked");
	for (size_t k = 0; k < s->gate.n; k++) {
		if (gate_shown(s, &s->gate.w[k]))
			cJSON_AddItemToArray(
			    g, window_json(&s->gate.w[k], s->last_ms));
	}
	cJSON *acts = cJSON_AddArrayToObject(o, "operator_actions");
	for (size_t k = 0; k < s->nacts; k++) {
		char ts[40];
		cJSON *a = cJSON_CreateObject();
		fb_format_rfc3339(s->acts[k].at_ms, ts, sizeof ts);
		cJSON_AddStringToObject(a, "ts", ts);
		cJSON_AddStringToObject(a, "actor", s->acts[k].actor);
		cJSON_AddStringToObject(a, "action", s->acts[k].action);
		cJSON_AddStringToObject(a, "dep", s->acts[k].dep);
		cJSON_AddStringToObject(a, "reason", s->acts[k].reason);
		cJSON_AddItemToArray(acts, a);
	}
	cJSON_AddNumberToObject(o, "events_lost", (double)s->lost);
	cJSON *gaps = cJSON_AddArrayToObject(o, "gaps");
	for (size_t k = 0; k < s->ngaps; k++) {
		char ts[40];
		cJSON *j = cJSON_CreateObject();
		fb_format_rfc3339(s->gaps[k].at_ms, ts, sizeof ts);
		cJSON_AddStringToObject(j, "ts", ts);
		cJSON_AddNumberToObject(j, "lost", (double)s->gaps[k].lost);
		cJSON_AddStringToObject(j, "reason", s->gaps[k].reason);
		cJSON_AddItemToArray(gaps, j);
	}
	char *text = cJSON_Print(o);
	if (text)
		puts(text);
	free(text);
	cJSON_Delete(o);
}

void fb_summary_print(const fb_summary *s, fb_summary_format format)
{
	if (format == FB_SUMMARY_JSON)
		print_json(s);
	else
		print_text(s, format == FB_SUMMARY_MARKDOWN);
}
