/* replay --what-if: parsing the sets, and collecting from the log what
 * each dependency's breaker was told (see whatif.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"
#include "core/hash.h"
#include "fusebox/breaker.h"
#include "fusebox/outcomes.h"
#include "fusebox/sanitize.h"
#include "whatif_impl.h"

int fb_wi_grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t next = *cap ? *cap * 2 : 16;
	void *p = realloc(*v, next * size);
	if (!p)
		return -1;
	*v = p;
	*cap = next;
	return 0;
}

/* ---- the sets ---------------------------------------------------------- */

static int parse_change(const char *item, size_t len, fb_whatif_change *c,
                        char *err, size_t errlen)
{
	char buf[256], shown[256];
	fb_sanitize(shown, sizeof shown, item, len);
	if (len >= sizeof buf) {
		snprintf(err, errlen, "--what-if: '%.40s...' is too long",
		         shown);
		return -1;
	}
	memcpy(buf, item, len);
	buf[len] = '\0';
	char *eq = strchr(buf, '=');
	if (!eq || eq == buf || !eq[1]) {
		snprintf(err, errlen, "--what-if: '%s' is not KEY=VALUE",
		         shown);
		return -1;
	}
	*eq = '\0';
	char *key = buf, *dot = strrchr(buf, '.');
	memset(c, 0, sizeof *c);
	if (dot) {
		*dot = '\0';
		key = dot + 1;
		if (!buf[0] || strlen(buf) >= sizeof c->dep) {
			snprintf(err, errlen,
			         "--what-if: '%s': bad dependency name", shown);
			return -1;
		}
		memcpy(c->dep, buf, strlen(buf) + 1);
	}
	const char *why = NULL;
	if (!fb_tunable_find(key, &c->key) || !fb_tunable_is_breaker(c->key)) {
		snprintf(err, errlen,
		         "--what-if: '%s': unknown breaker tunable '%s'", shown,
		         key);
		return -1;
	}
	if (fb_tunable_parse(c->key, eq + 1, &c->value, &why) != 0) {
		snprintf(err, errlen, "--what-if: '%s': %s", shown,
		         why ? why : "bad value");
		return -1;
	}
	return 0;
}

int fb_whatif_parse_set(const char *text, fb_whatif_set *out, char *err,
                        size_t len)
{
	memset(out, 0, sizeof *out);
	fb_sanitize(out->text, sizeof out->text, text, strlen(text));
	const char *p = text;
	for (;;) {
		size_t n = strcspn(p, ",");
		if (out->n == FB_WHATIF_CHANGES) {
			snprintf(err, len,
			         "--what-if: more than %d changes in one set",
			         FB_WHATIF_CHANGES);
			return -1;
		}
		if (parse_change(p, n, &out->c[out->n], err, len) != 0)
			return -1;
		out->n++;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

/* ---- collecting -------------------------------------------------------- */

fb_whatif *fb_whatif_new(const fb_config *cfg, const char *cfg_path,
                         const fb_whatif_set *sets, int nsets)
{
	fb_whatif *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->cfg = cfg;
	snprintf(w->cfg_path, sizeof w->cfg_path, "%s",
	         cfg_path ? cfg_path : "");
	w->nsets = nsets < FB_WHATIF_SETS ? nsets : FB_WHATIF_SETS;
	memcpy(w->sets, sets, (size_t)w->nsets * sizeof *sets);
	w->first_ms = -1;
	return w;
}

static void default_dep(fb_dep_config *d, const char *name)
{
	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", name);
	d->critical = true;
	for (int t = 0; t < FB_TUNABLE_COUNT; t++)
		d->t[t] = fb_tunable_default((fb_tunable)t);
}

/* A dependency's key: its host and name hashed together. */
static uint32_t dep_hash(const char *host, const char *name)
{
	return fb_hash_name(host) * 31u ^ fb_hash_name(name);
}

/* The slot where (host, name) is, or the free one where it would go. */
static uint32_t *find_slot(const fb_whatif *w, const char *host,
                           const char *name)
{
	size_t mask = w->nslots - 1;
	uint32_t h = dep_hash(host, name);
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		uint32_t *slot = &w->slot[i];
		const wi_dep *d = *slot ? &w->deps[*slot - 1] : NULL;
		if (!d || (d->hash == h && !strcmp(d->name, name) &&
		           !strcmp(d->host, host)))
			return slot;
	}
}

/* Doubles the slot table and puts every dependency back. */
static int rehash(fb_whatif *w)
{
	size_t n = w->nslots ? w->nslots * 2 : 256;
	uint32_t *slot = calloc(n, sizeof *slot);
	if (!slot)
		return -1;
	free(w->slot);
	w->slot = slot;
	w->nslots = n;
	for (size_t i = 0; i < w->ndeps; i++)
		*find_slot(w, w->deps[i].host, w->deps[i].name) =
		    (uint32_t)(i + 1);
	return 0;
}

/* The host as a dependency keeps it: cut to its field, so a longer
 * host name finds the dependency it made (buf holds the cut copy). */
#define KEY_HOST_MAX sizeof(((wi_dep *)0)->host)
static const char *key_host(const char *host, char buf[KEY_HOST_MAX])
{
	if (strnlen(host, KEY_HOST_MAX) < KEY_HOST_MAX)
		return host;
	memcpy(buf, host, KEY_HOST_MAX - 1);
	buf[KEY_HOST_MAX - 1] = '\0';
	return buf;
}

static wi_dep *find_dep(fb_whatif *w, const char *host_in, const char *name)
{
	char cut[KEY_HOST_MAX];
	const char *host = key_host(host_in, cut);
	if ((w->ndeps + 1) * 2 > w->nslots && rehash(w))
		return NULL;
	uint32_t *slot = find_slot(w, host, name);
	if (*slot)
		return &w->deps[*slot - 1];
	if (strlen(name) >= FB_NAME_MAX || w->ndeps >= UINT32_MAX - 1 ||
	    fb_wi_grow((void **)&w->deps, &w->cap, w->ndeps, sizeof *w->deps))
		return NULL;
	wi_dep *d = &w->deps[w->ndeps++];
	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", name);
	snprintf(d->host, sizeof d->host, "%s", host);
	d->hash = dep_hash(d->host, d->name);
	d->last_seen = -1;
	default_dep(&d->cfg, name);
	for (size_t i = 0; w->cfg && i < w->cfg->ndeps; i++) {
		if (!strcmp(w->cfg->deps[i].name, name)) {
			d->cfg = w->cfg->deps[i];
			d->in_config = true;
		}
	}
	*slot = (uint32_t)w->ndeps;
	return d;
}

static int add_point(fb_whatif *w, wi_dep *d, int64_t at, wi_what what,
                     fb_out_result result, uint32_t call)
{
	if (w->points >= FB_WHATIF_POINTS)
		return -1;
	w->points++;
	wi_point p = {at, w->order++, (uint8_t)what, (uint8_t)result, call};
	return WI_PUSH(d->pts, p);
}

/* One call: asked at begin, answered at end. One answered in the ms it
 * was asked (most: the summaries' skipped successes) is one WP_CALL
 * point, which runs as its WP_BEGIN and WP_END would, next to each other
 * (nothing can come between: they would be in a row, at the same time),
 * and counts as both towards FB_WHATIF_POINTS. */
static int add_call(fb_whatif *w, wi_dep *d, int64_t begin, int64_t end,
                    fb_out_result r)
{
	uint32_t call = d->calls++;
	wi_truth t = {end, r != FB_OUT_FAIL};
	if (begin == end) {
		if (w->points + 2 > FB_WHATIF_POINTS)
			return -1;
		w->points += 2;
		wi_point p = {begin, w->order, WP_CALL, (uint8_t)r, call};
		w->order += 2;
		if (WI_PUSH(d->pts, p) || WI_PUSH(d->truth, t))
			return -1;
	} else if (add_point(w, d, begin, WP_BEGIN, r, call) ||
	           add_point(w, d, end, WP_END, r, call) ||
	           WI_PUSH(d->truth, t)) {
		return -1;
	}
	if (end > d->last_seen)
		d->last_seen = end;
	return 0;
}

static int64_t num(const fb_log_event *ev, const char *key, int64_t def)
{
	const char *str;
	int64_t v;
	return fb_log_event_member(ev, key, &str, &v) == FB_LOG_NUMBER ? v
	                                                               : def;
}

static const char *const scan_keys[] = {"trace", "span_ms", "skipped_ok"};

void fb_whatif_scan_keys(fb_log_scan *sc)
{
	sc->nkeys = (int)(sizeof scan_keys / sizeof scan_keys[0]);
	memcpy(sc->keys, scan_keys, sizeof scan_keys);
}

unsigned fb_whatif_unread_fields(void)
{
	return 1u << FB_LOG_F_ACTOR | 1u << FB_LOG_F_ERROR |
	       1u << FB_LOG_F_MODE | 1u << FB_LOG_F_HEALTH;
}

static int add_outcomes(fb_whatif *w, wi_dep *d, const fb_log_event *ev)
{
	fb_outcome *entries = w->trace_scratch;
	const char *trace = NULL;
	int64_t unused;
	bool has_trace =
	    fb_log_event_member(ev, "trace", &trace, &unused) == FB_LOG_STRING;
	int64_t start = ev->ts_ms - num(ev, "span_ms", 0);
	int64_t skipped = num(ev, "skipped_ok", 0);
	int n = has_trace ? fb_outsum_trace_parse(trace, start, entries,
	                                          FB_OUTSUM_TRACE)
	                  : -1;
	if (n < 0)
		return 0; /* not one this version wrote: nothing to replay */
	w->summaries++;
	/* the successes of the healthy intervals since the last summary,
	 * spread over the gap */
	int64_t from = d->last_seen >= 0 ? d->last_seen : w->first_ms;
	int64_t to = n ? entries[0].begin_ms : start;
	if (skipped > 0 && skipped < (int64_t)FB_WHATIF_POINTS && to > from) {
		for (int64_t i = 1; i <= skipped; i++) {
			int64_t at = from + (to - from) * i / (skipped + 1);
			if (add_call(w, d, at, at, FB_OUT_OK))
				return -1;
		}
	}
	for (int i = 0; i < n; i++) {
		if (add_call(w, d, entries[i].begin_ms, entries[i].end_ms,
		             entries[i].result))
			return -1;
	}
	return 0;
}

static int add_transition(wi_dep *d, const fb_log_event *ev)
{
	wi_trans t = {.at = ev->ts_ms,
	              .retry_after_ms = ev->retry_after_ms,
	              .restored =
	                  ev->reason && !strncmp(ev->reason, "restored", 8)};
	if (!ev->from || !ev->to || !fb_state_parse(ev->from, &t.from) ||
	    !fb_state_parse(ev->to, &t.to))
		return 0;
	if (t.to == FB_STATE_OPEN) { /* no probe ran while open: down */
		wi_truth down = {t.at, false};
		if (WI_PUSH(d->truth, down))
			return -1;
	}
	return WI_PUSH(d->real, t);
}

static int add_operator(fb_whatif *w, const fb_log_event *ev)
{
	static const struct {
		const char *name;
		int what; /* a wi_what, or -(mode + 1) for the gate */
	} acts[] = {{"trip", WP_TRIP},       {"reset", WP_RESET},
	            {"disable", WP_DISABLE}, {"gate_auto", -1},
	            {"gate_block", -2},      {"gate_allow", -3}};
	for (size_t i = 0; ev->action && i < sizeof acts / sizeof acts[0];
	     i++) {
		if (strcmp(ev->action, acts[i].name))
			continue;
		if (acts[i].what < 0) {
			wi_mode m = {ev->ts_ms, -acts[i].what - 1};
			return WI_PUSH(w->modes, m);
		}
		wi_dep *d = ev->dep
		                ? find_dep(w, ev->host ? ev->host : "", ev->dep)
		                : NULL;
		return !ev->dep ? 0
		       : d ? add_point(w, d, ev->ts_ms, (wi_what)acts[i].what,
		                       FB_OUT_OK, 0)
		           : -1;
	}
	return 0;
}

int fb_whatif_add(fb_whatif *w, const fb_log_event *ev)
{
	char cut[KEY_HOST_MAX];
	const char *host = key_host(ev->host ? ev->host : "", cut);
	if (w->first_ms < 0) {
		w->first_ms = ev->ts_ms;
		snprintf(w->first_host, sizeof w->first_host, "%s", host);
		w->hosts = 1;
	} else if (w->hosts == 1 && strcmp(w->first_host, host)) {
		w->hosts = 2;
	}
	if (ev->ts_ms > w->last_ms)
		w->last_ms = ev->ts_ms;
	w->events++;
	switch (ev->kind) {
	case FB_EV_START:
		for (size_t i = 0; i < w->ndeps; i++) {
			if (!strcmp(w->deps[i].host, host) &&
			    add_point(w, &w->deps[i], ev->ts_ms, WP_START,
			              FB_OUT_OK, 0))
				return -1;
		}
		return 0;
	case FB_EV_OPERATOR: return add_operator(w, ev);
	case FB_EV_TRANSITION:
	case FB_EV_OUTCOMES: {
		wi_dep *d = ev->dep ? find_dep(w, host, ev->dep) : NULL;
		if (!ev->dep)
			return 0;
		if (!d)
			return -1;
		return ev->kind == FB_EV_OUTCOMES ? add_outcomes(w, d, ev)
		                                  : add_transition(d, ev);
	}
	default: return 0;
	}
}

/* ---- running ----------------------------------------------------------- */

static int cmp_point(const void *a, const void *b)
{
	const wi_point *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

static int cmp_truth(const void *a, const void *b)
{
	const wi_truth *x = a, *y = b;
	return (x->at > y->at) - (x->at < y->at);
}

/* qsort() unless already in order, as the log mostly gives them (one
 * look instead of n log n). */
static void sort(void *v, size_t n, size_t size,
                 int (*cmp)(const void *, const void *))
{
	const char *p = v;
	for (size_t i = 1; i < n; i++) {
		if (cmp(p + (i - 1) * size, p + i * size) > 0) {
			qsort(v, n, size, cmp);
			return;
		}
	}
}

/* The raw rng value whose jitter turns `base` into exactly `wait` (the
 * closest when none does): a binary search over the 53 bits the breaker
 * uses, as fb_backoff_jitter() is monotonic in them. */
static uint64_t draw_for(const fb_breaker_config *bc, int64_t base,
                         int64_t wait)
{
	uint64_t lo = 0, hi = (1ULL << 53) - 1;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		double u = (double)mid * (1.0 / 9007199254740992.0);
		if (fb_backoff_jitter(base, bc->jitter, u, bc->backoff_cap_ms) <
		    wait)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo << 11;
}

/* The jitter of each real opening, with today's settings. */
static int find_draws(wi_dep *d)
{
	fb_breaker_config bc;
	fb_dep_breaker_config(&d->cfg, &bc);
	uint32_t failed_trials = 0;
	for (size_t i = 0; i < d->real.n; i++) {
		const wi_trans *t = &d->real.v[i];
		if (t->to == FB_STATE_CLOSED)
			failed_trials = 0;
		if (t->to != FB_STATE_OPEN || t->restored)
			continue;
		if (t->from == FB_STATE_HALF_OPEN)
			failed_trials++;
		uint64_t v = draw_for(&bc, fb_backoff_base(&bc, failed_trials),
		                      t->retry_after_ms);
		if (WI_PUSH(d->draws, v))
			return -1;
	}
	return 0;
}

static void apply_set(const fb_whatif_set *s, const char *dep,
                      fb_dep_config *cfg)
{
	for (int i = 0; i < s->n; i++) {
		if (!s->c[i].dep[0] || !strcmp(s->c[i].dep, dep))
			cfg->t[s->c[i].key] = s->c[i].value;
	}
}

/* Today's run against the recorded transitions: the determinism check. */
static void compare(const fb_whatif *w, wi_dep *d)
{
	const wi_run *r = &d->runs[0];
	size_t i = 0, k = 0;
	d->reproduced = true;
	for (;;) {
		while (i < d->real.n && d->real.v[i].restored)
			i++;
		while (k < r->n && r->tr[k].restored)
			k++;
		if (i == d->real.n && k == r->n)
			return;
		/* a trial still out when the log ends: its outcome is not in it */
		if (i + 1 == d->real.n && k == r->n &&
		    d->real.v[i].to == FB_STATE_HALF_OPEN &&
		    d->real.v[i].at >= d->last_seen)
			return;
		const wi_trans *a = i < d->real.n ? &d->real.v[i] : NULL;
		const wi_trans *b = k < r->n ? &r->tr[k] : NULL;
		if (!a || !b || a->at != b->at || a->from != b->from ||
		    a->to != b->to ||
		    (a->to == FB_STATE_OPEN &&
		     a->retry_after_ms != b->retry_after_ms)) {
			d->reproduced = false;
			snprintf(
			    d->mismatch, sizeof d->mismatch,
			    "transition %zu: recorded %s -> %s at +%lldms "
			    "(retry %lldms), simulated %s -> %s at +%lldms "
			    "(retry %lldms)",
			    i + 1, a ? fb_state_name(a->from) : "-",
			    a ? fb_state_name(a->to) : "-",
			    a ? (long long)(a->at - w->first_ms) : -1LL,
			    a ? (long long)a->retry_after_ms : -1LL,
			    b ? fb_state_name(b->from) : "-",
			    b ? fb_state_name(b->to) : "-",
			    b ? (long long)(b->at - w->first_ms) : -1LL,
			    b ? (long long)b->retry_after_ms : -1LL);
			return;
		}
		i++;
		k++;
	}
}

/* Runs dependencies from .. from + n - 1 (each alone: their own points,
 * transitions and runs; w itself only read). */
static int run_range(fb_whatif *w, size_t from, size_t n);

typedef struct half {
	fb_whatif *w;
	size_t n; /* dependencies 0 .. n - 1 */
	int rc;
} half;

static void *run_half(void *arg)
{
	half *h = arg;
	h->rc = run_range(h->w, 0, h->n);
	return NULL;
}

/* Below this many points one thread does it sooner than two start. */
#define SPLIT_POINTS (1u << 18)

/* The dependencies are independent, and running them is a seventh of a
 * big what-if (bench_whatif.sh): with many points, the first half of
 * them (by points) runs on a second thread. Same runs, same order. */
int fb_whatif_run(fb_whatif *w)
{
	size_t total = 0, k = 0, half_points = 0;
	for (size_t i = 0; i < w->ndeps; i++)
		total += w->deps[i].pts.n;
	while (k + 1 < w->ndeps && half_points < total / 2)
		half_points += w->deps[k++].pts.n;
	half h = {w, k, 0};
	pthread_t t;
	bool two = total >= SPLIT_POINTS && k > 0 &&
	           pthread_create(&t, NULL, run_half, &h) == 0;
	int rc =
	    two ? run_range(w, k, w->ndeps - k) : run_range(w, 0, w->ndeps);
	if (two && (pthread_join(t, NULL) != 0 || h.rc != 0))
		rc = -1;
	w->ran = rc == 0;
	return rc;
}

size_t fb_whatif_ndeps(const fb_whatif *w)
{
	return w->ndeps;
}

int fb_whatif_run_deps(fb_whatif *w, size_t from, size_t n)
{
	if (run_range(w, from, n) != 0)
		return -1;
	w->ran = from + n >= w->ndeps;
	return 0;
}

static int run_range(fb_whatif *w, size_t from, size_t n)
{
	for (size_t i = from; i < w->ndeps && i - from < n; i++) {
		wi_dep *d = &w->deps[i];
		sort(d->pts.v, d->pts.n, sizeof *d->pts.v, cmp_point);
		sort(d->truth.v, d->truth.n, sizeof *d->truth.v, cmp_truth);
		d->runs = calloc((size_t)w->nsets + 1, sizeof *d->runs);
		if (!d->runs || find_draws(d))
			return -1;
		for (int s = 0; s <= w->nsets; s++) {
			fb_dep_config cfg = d->cfg;
			if (s)
				apply_set(&w->sets[s - 1], d->name, &cfg);
			if (fb_wi_simulate(w, d, &cfg, &d->runs[s]))
				return -1;
			fb_wi_measure(w, d, d->runs[s].tr, d->runs[s].n,
			              &d->runs[s].m);
		}
		fb_wi_measure(w, d, d->real.v, d->real.n, &d->real_m);
		compare(w, d);
	}
	return 0;
}

bool fb_whatif_reproduced(const fb_whatif *w)
{
	for (size_t i = 0; i < w->ndeps; i++) {
		if (!w->deps[i].reproduced)
			return false;
	}
	return true;
}

void fb_whatif_free(fb_whatif *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->ndeps; i++) {
		wi_dep *d = &w->deps[i];
		for (int s = 0; d->runs && s <= w->nsets; s++)
			free(d->runs[s].tr);
		free(d->runs);
		free(d->pts.v);
		free(d->real.v);
		free(d->truth.v);
		free(d->draws.v);
	}
	free(w->deps);
	free(w->slot);
	free(w->modes.v);
	free(w);
}
