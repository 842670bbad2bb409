/* Loading a timeline: two threads parse the halves of the input with
 * cJSON (each with its own bump allocator, as cJSON's malloc per node is
 * most of the cost), then the halves are joined, sorted by time and
 * checkpointed. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/hash.h"
#include "timeline.h"

#define THREADS   2
#define ARENA     (1u << 20) /* per thread: enough for one 64 KB line */
#define WARN_KEEP 50

/* ---- a bump allocator for cJSON, one per thread ------------------------ */

static _Thread_local char *arena;
static _Thread_local size_t arena_used;

static void *arena_malloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (!arena || arena_used + n > ARENA)
		return NULL;
	void *p = arena + arena_used;
	arena_used += n;
	return p;
}

static void arena_free(void *p)
{
	(void)p; /* everything goes at once, line by line */
}

/* ---- dependency names -------------------------------------------------- */

typedef struct names {
	char (*name)[FB_NAME_MAX];
	size_t n, cap;
	uint32_t *slot; /* open addressing: index + 1 */
	size_t nslot;
	bool oom; /* a name could not be added */
} names;

static int names_grow(names *t)
{
	size_t ns = t->nslot ? t->nslot * 2 : 256;
	uint32_t *slot = calloc(ns, sizeof *slot);
	char(*name)[FB_NAME_MAX] = realloc(t->name, ns / 2 * sizeof *name);
	if (!slot || !name) {
		free(slot);
		if (name)
			t->name = name;
		return -1;
	}
	t->name = name;
	for (size_t i = 0; i < t->n; i++) {
		size_t at = fb_hash_name(t->name[i]) & (ns - 1);
		while (slot[at])
			at = (at + 1) & (ns - 1);
		slot[at] = (uint32_t)i + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->nslot = ns;
	t->cap = ns / 2;
	return 0;
}

/* The id of a name, added when new; FB_TL_NONE when full. */
static uint16_t names_id(names *t, const char *s)
{
	if (t->n >= t->cap && t->n >= FB_TL_NONE - 1)
		return FB_TL_NONE;
	if (t->n >= t->cap && names_grow(t) != 0) {
		t->oom = true;
		return FB_TL_NONE;
	}
	size_t at = fb_hash_name(s) & (t->nslot - 1);
	for (; t->slot[at]; at = (at + 1) & (t->nslot - 1)) {
		if (strcmp(t->name[t->slot[at] - 1], s) == 0)
			return (uint16_t)(t->slot[at] - 1);
	}
	snprintf(t->name[t->n], FB_NAME_MAX, "%s", s);
	t->slot[at] = (uint32_t)++t->n;
	return (uint16_t)(t->n - 1);
}

static void names_free(names *t)
{
	free(t->name);
	free(t->slot);
}

/* ---- one thread's share ------------------------------------------------ */

typedef struct warning {
	long line;
	char why[80];
} warning;

typedef struct chunk {
	fb_log_reader r; /* a view on part of one file */
	uint16_t file;
	fb_tl_event *ev;
	size_t n, cap;
	names deps;
	warning warn[WARN_KEEP];
	int nwarn;
	bool oom;
} chunk;

static void on_skip(void *ctx, long line, const char *why)
{
	chunk *c = ctx;
	if (c->nwarn < WARN_KEEP) {
		c->warn[c->nwarn].line = line;
		snprintf(c->warn[c->nwarn++].why, sizeof c->warn[0].why, "%s",
		         why);
	}
}

static uint8_t code_of(const fb_log_event *e)
{
	fb_state s;
	fb_health h;
	if (!e->to)
		return FB_TL_UNKNOWN;
	if ((e->kind == FB_EV_TRANSITION || e->kind == FB_EV_SHADOW) &&
	    fb_state_parse(e->to, &s))
		return (uint8_t)s;
	if (e->kind == FB_EV_HEALTH && fb_health_parse(e->to, &h))
		return (uint8_t)h;
	if (e->kind == FB_EV_GATE)
		return strcmp(e->to, "blocked") == 0;
	return FB_TL_UNKNOWN;
}

static void take(chunk *c, const fb_log_event *e, const char *line, size_t len)
{
	fb_health h;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4096;
		fb_tl_event *ev = realloc(c->ev, cap * sizeof *ev);
		if (!ev) {
			c->oom = true;
			return;
		}
		c->ev = ev;
		c->cap = cap;
	}
	c->ev[c->n++] = (fb_tl_event){
	    .ts_ms = e->ts_ms,
	    .off = (uint64_t)(line - c->r.buf),
	    .len = (uint32_t)len,
	    .file = c->file,
	    .dep = e->dep ? names_id(&c->deps, e->dep) : FB_TL_NONE,
	    .kind = (uint8_t)e->kind,
	    .to = code_of(e),
	    .health = e->health && fb_health_parse(e->health, &h)
	                  ? (uint8_t)h
	                  : FB_TL_UNKNOWN,
	};
}

static void *parse_chunks(void *arg)
{
	chunk **mine = arg;
	arena = malloc(ARENA);
	for (; *mine && !arena; mine++)
		(*mine)->oom = true; /* else every line would read as bad */
	for (; *mine; mine++) {
		chunk *c = *mine;
		const char *line;
		size_t len;
		fb_log_event e;
		while (!c->oom && fb_log_reader_line(&c->r, &line, &len)) {
			arena_used = 0;
			/* no cJSON_Delete: the arena is reset for the next line */
			if (fb_log_event_parse(&c->r, line, len, &e) == 0)
				take(c, &e, line, len);
		}
	}
	free(arena);
	arena = NULL;
	return NULL;
}

/* ---- splitting, joining, indexing -------------------------------------- */

/* Splits every file in two at a line boundary near its middle. */
static chunk *make_chunks(fb_timeline *tl, size_t *nchunks)
{
	chunk *ch = calloc(tl->nfiles * 2, sizeof *ch);
	size_t n = 0;
	if (!ch)
		return NULL;
	for (size_t f = 0; f < tl->nfiles; f++) {
		const fb_log_reader *r = &tl->files[f];
		size_t mid = r->size / 2;
		const char *nl =
		    mid ? memchr(r->buf + mid, '\n', r->size - mid) : NULL;
		size_t cut = nl ? (size_t)(nl - r->buf) + 1 : r->size;
		for (int half = 0; half < 2; half++) {
			chunk *c = &ch[n++];
			c->r = *r;
			c->r.off = half ? cut : 0;
			c->r.size = half ? r->size : cut;
			c->r.line = 0;
			c->r.on_skip = on_skip;
			c->r.skip_ctx = c;
			c->file = (uint16_t)f;
		}
	}
	*nchunks = n;
	return ch;
}

static void run_threads(chunk *ch, size_t n)
{
	chunk *lists[THREADS][64 + 1];
	size_t counts[THREADS] = {0};
	pthread_t t[THREADS];
	for (size_t i = 0; i < n; i++) {
		size_t k = i % THREADS;
		if (counts[k] < 64)
			lists[k][counts[k]++] = &ch[i];
	}
	cJSON_Hooks hooks = {arena_malloc, arena_free};
	cJSON_InitHooks(&hooks);
	bool started[THREADS];
	for (int k = 0; k < THREADS; k++) {
		lists[k][counts[k]] = NULL;
		started[k] =
		    pthread_create(&t[k], NULL, parse_chunks, lists[k]) == 0;
		if (!started[k])
			parse_chunks(
			    lists[k]); /* no thread to be had: do it here */
	}
	for (int k = 0; k < THREADS; k++) {
		if (started[k])
			pthread_join(t[k], NULL);
	}
	cJSON_InitHooks(NULL);
}

/* Prints the kept warnings with line numbers made absolute. */
static void report(fb_timeline *tl, chunk *ch, size_t n, bool quiet)
{
	long base = 0;
	for (size_t i = 0; i < n; i++) {
		if (i % 2 == 0)
			base = 0;
		for (int w = 0; w < ch[i].nwarn && !quiet; w++)
			fb_cli_error(
			    "%s:%ld: skipped: %s", tl->files[ch[i].file].path,
			    base + ch[i].warn[w].line, ch[i].warn[w].why);
		if (!quiet && ch[i].r.skipped > ch[i].nwarn)
			fb_cli_error("%s: %ld more bad lines skipped",
			             tl->files[ch[i].file].path,
			             ch[i].r.skipped - ch[i].nwarn);
		tl->skipped += ch[i].r.skipped;
		base += ch[i].r.line;
	}
}

/* Puts the chunks' events in tl->ev (tl->n of them, every one written)
 * with their dependencies renumbered into one table. Returns 0, or -1
 * with tl untouched. */
static int join(fb_timeline *tl, chunk *ch, size_t n)
{
	names global = {0};
	size_t total = 0, count = 0;
	for (size_t i = 0; i < n; i++)
		total += ch[i].n;
	/* built here and handed over whole, so that tl->n never counts an
	 * entry not written (what scan-build could not see before) */
	fb_tl_event *all = malloc((total ? total : 1) * sizeof *all);
	if (!all)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint16_t *map = calloc(ch[i].deps.n + 1, sizeof *map);
		for (size_t d = 0; map && d < ch[i].deps.n; d++)
			map[d] = names_id(&global, ch[i].deps.name[d]);
		if (!map || global.oom) {
			free(map);
			names_free(&global);
			free(all);
			return -1;
		}
		for (size_t e = 0; e < ch[i].n; e++) {
			fb_tl_event ev = ch[i].ev[e];
			ev.dep =
			    ev.dep == FB_TL_NONE ? FB_TL_NONE : map[ev.dep];
			all[count++] = ev;
		}
		free(map);
	}
	tl->ev = all;
	tl->n = count;
	tl->deps = global.name;
	tl->ndeps = global.n;
	free(global.slot);
	return 0;
}

static int by_time(const void *a, const void *b)
{
	const fb_tl_event *x = a, *y = b;
	if (x->ts_ms != y->ts_ms)
		return x->ts_ms < y->ts_ms ? -1 : 1;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return (x->off > y->off) - (x->off < y->off);
}

static bool sorted(const fb_timeline *tl)
{
	for (size_t i = 1; i < tl->n; i++) {
		if (by_time(&tl->ev[i - 1], &tl->ev[i]) > 0)
			return false;
	}
	return true;
}

static void apply(const fb_tl_event *e, fb_tl_state *st)
{
	if (e->kind == FB_EV_GATE && e->to != FB_TL_UNKNOWN)
		st->gate_blocked = e->to == 1;
	if (e->dep == FB_TL_NONE || e->to == FB_TL_UNKNOWN)
		return;
	if (e->kind == FB_EV_TRANSITION) {
		st->state[e->dep] = e->to;
		if (e->health != FB_TL_UNKNOWN)
			st->health[e->dep] = e->health;
	} else if (e->kind == FB_EV_HEALTH) {
		st->health[e->dep] = e->to;
	}
}

/* Checkpoint k holds the state before event k * FB_TL_CKPT. */
static int checkpoint(fb_timeline *tl)
{
	size_t per = tl->ndeps * 2 + 1, nck = tl->n / FB_TL_CKPT + 1;
	uint8_t *run = malloc(per);
	tl->ckpt = malloc(nck * per);
	if (!tl->ckpt || !run) {
		free(run);
		return -1;
	}
	memset(run, FB_TL_UNKNOWN, per - 1); /* nothing known yet */
	fb_tl_state st = {run, run + tl->ndeps, false};
	for (size_t i = 0; i <= tl->n; i++) {
		if (i % FB_TL_CKPT == 0) {
			uint8_t *slot = tl->ckpt + (i / FB_TL_CKPT) * per;
			memcpy(slot, run, per - 1);
			slot[per - 1] = st.gate_blocked;
		}
		if (i < tl->n)
			apply(&tl->ev[i], &st);
	}
	free(run);
	return 0;
}

int fb_timeline_load(fb_timeline *tl, char *const *paths, size_t n, bool quiet,
                     char *err, size_t len)
{
	memset(tl, 0, sizeof *tl);
	tl->files = calloc(n ? n : 1, sizeof *tl->files);
	if (!tl->files || n > 32) {
		snprintf(err, len,
		         n > 32 ? "at most 32 logs at once" : "out of memory");
		free(tl->files);
		tl->files = NULL;
		return -1;
	}
	for (; tl->nfiles < n; tl->nfiles++) {
		if (fb_log_reader_open(&tl->files[tl->nfiles],
		                       paths[tl->nfiles], err, len) != 0) {
			fb_timeline_free(tl);
			return -1;
		}
	}
	size_t nch;
	chunk *ch = make_chunks(tl, &nch);
	int rc = ch ? 0 : -1;
	if (ch) {
		run_threads(ch, nch);
		report(tl, ch, nch, quiet);
		for (size_t i = 0; i < nch; i++)
			rc |= ch[i].oom || ch[i].deps.oom ? -1 : 0;
		if (rc == 0)
			rc = join(tl, ch, nch);
		for (size_t i = 0; i < nch; i++) {
			free(ch[i].ev);
			names_free(&ch[i].deps);
		}
		free(ch);
	}
	if (rc == 0 && !sorted(tl))
		qsort(tl->ev, tl->n, sizeof *tl->ev, by_time);
	if (rc != 0 || checkpoint(tl) != 0) {
		snprintf(err, len, "out of memory loading the log");
		fb_timeline_free(tl);
		return -1;
	}
	return 0;
}

void fb_timeline_free(fb_timeline *tl)
{
	for (size_t i = 0; i < tl->nfiles; i++) {
		tl->files[i].skipped = 0; /* already reported */
		fb_log_reader_close(&tl->files[i]);
	}
	free(tl->files);
	free(tl->ev);
	free(tl->deps);
	free(tl->ckpt);
	memset(tl, 0, sizeof *tl);
}

size_t fb_timeline_count_at(const fb_timeline *tl, int64_t ts_ms)
{
	size_t lo = 0, hi = tl->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tl->ev[mid].ts_ms <= ts_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void fb_timeline_state(const fb_timeline *tl, size_t count, fb_tl_state *st)
{
	size_t per = tl->ndeps * 2 + 1;
	if (count > tl->n)
		count = tl->n;
	size_t k = count / FB_TL_CKPT;
	const uint8_t *ck = tl->ckpt + k * per;
	memcpy(st->state, ck, tl->ndeps);
	memcpy(st->health, ck + tl->ndeps, tl->ndeps);
	st->gate_blocked = ck[per - 1];
	for (size_t i = k * FB_TL_CKPT; i < count; i++)
		apply(&tl->ev[i], st);
}

int fb_timeline_event(const fb_timeline *tl, size_t i, fb_log_event *ev)
{
	if (i >= tl->n)
		return -1;
	const fb_tl_event *e = &tl->ev[i];
	fb_log_reader r = tl->files[e->file];
	r.quiet = true;
	r.on_skip = NULL;
	return fb_log_event_parse(&r, r.buf + e->off, e->len, ev);
}
