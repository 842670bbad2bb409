/* The fold of events into what must outlast the instance, and its JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "fusebox/sanitize.h"
#include "lasting.h"

#define RESTORED "restored (seq "

void fb_lasting_init(fb_lasting *l)
{
	memset(l, 0, sizeof *l);
	l->gate.mode = FB_GATE_AUTO;
}

void fb_lasting_free(fb_lasting *l)
{
	free(l->deps);
	fb_lasting_init(l);
}

uint64_t fb_lasting_origin(const char *reason, uint64_t seq, const char **rest)
{
	const size_t plen = sizeof RESTORED - 1;
	*rest = reason ? reason : "";
	if (!reason || strncmp(reason, RESTORED, plen) != 0)
		return 0;
	const char *p = reason + plen;
	uint64_t n = 0;
	int digits = 0;
	for (; *p >= '0' && *p <= '9' && digits < 19; p++, digits++)
		n = n * 10 + (uint64_t)(*p - '0');
	if (!digits || *p != ')' || n == 0 || n >= seq)
		return 0;
	p++;
	if (*p == '\0') {
		*rest = p;
	} else if (p[0] == ':' && p[1] == ' ') {
		*rest = p + 2;
	} else {
		return 0;
	}
	return n;
}

void fb_lasting_restored_reason(char *buf, size_t len, uint64_t seq,
                                const char *reason)
{
	snprintf(buf, len, RESTORED "%llu)%s%s", (unsigned long long)seq,
	         reason && reason[0] ? ": " : "", reason ? reason : "");
}

static void copy(char *to, size_t len, const char *from)
{
	snprintf(to, len, "%s", from ? from : "");
}

static fb_lasting_dep *find(const fb_lasting *l, const char *name)
{
	for (size_t i = 0; name && i < l->count; i++) {
		if (strcmp(l->deps[i].name, name) == 0)
			return &l->deps[i];
	}
	return NULL;
}

const fb_lasting_dep *fb_lasting_find(const fb_lasting *l, const char *name)
{
	return find(l, name);
}

/* The entry for name, added when new; NULL when the name cannot be a
 * dependency's or no room is left (counted in l->dropped). */
static fb_lasting_dep *find_or_add(fb_lasting *l, const char *name)
{
	fb_lasting_dep *d = find(l, name);
	if (d || !name || !name[0] || strlen(name) >= FB_NAME_MAX)
		return d;
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		fb_lasting_dep *deps =
		    l->cap < FB_LASTING_DEPS_MAX
		        ? realloc(l->deps, cap * sizeof *deps)
		        : NULL;
		if (!deps) {
			l->dropped++;
			return NULL;
		}
		l->deps = deps;
		l->cap = cap;
	}
	d = &l->deps[l->count++];
	memset(d, 0, sizeof *d);
	copy(d->name, sizeof d->name, name);
	d->forced = FB_STATE_CLOSED;
	return d;
}

static void drop(fb_lasting *l, fb_lasting_dep *d)
{
	*d = l->deps[--l->count];
}

/* An entry with nothing left to restore goes. */
static void prune(fb_lasting *l, fb_lasting_dep *d)
{
	if (d->forced == FB_STATE_CLOSED && !d->open && d->step == 0)
		drop(l, d);
}

void fb_lasting_forget(fb_lasting *l, const char *name)
{
	fb_lasting_dep *d = find(l, name);
	if (d)
		drop(l, d);
}

static bool fold_force(fb_lasting *l, const fb_lasting_event *ev, fb_state to,
                       uint64_t origin, const char *rest)
{
	fb_lasting_dep *d = find_or_add(l, ev->dep);
	if (!d || (origin && d->forced == to && d->forced_seq == origin))
		return false;
	d->forced = to;
	d->forced_seq = origin ? origin : ev->seq;
	copy(d->actor, sizeof d->actor, ev->actor);
	copy(d->reason, sizeof d->reason, rest);
	return true;
}

static bool fold_gate(fb_lasting *l, const fb_lasting_event *ev,
                      fb_gate_mode mode, uint64_t origin, const char *rest,
                      int64_t ttl_ms)
{
	fb_lasting_gate *g = &l->gate;
	if (mode == FB_GATE_AUTO) {
		if (g->mode == FB_GATE_AUTO)
			return false;
		memset(g, 0, sizeof *g);
		g->mode = FB_GATE_AUTO;
		return true;
	}
	if (origin && g->mode == mode && g->seq == origin)
		return false; /* restored: the original expiry stands */
	g->mode = mode;
	g->seq = origin ? origin : ev->seq;
	g->until_ms = mode == FB_GATE_ALLOW ? ev->wall_ms + ttl_ms : 0;
	copy(g->actor, sizeof g->actor, ev->actor);
	copy(g->reason, sizeof g->reason, rest);
	return true;
}

static bool fold_operator(fb_lasting *l, const fb_lasting_event *ev,
                          int64_t ttl_ms)
{
	const char *rest;
	uint64_t origin = fb_lasting_origin(ev->reason, ev->seq, &rest);
	fb_lasting_dep *d;
	switch (ev->action) {
	case FB_ACT_TRIP:
		return fold_force(l, ev, FB_STATE_FORCED_OPEN, origin, rest);
	case FB_ACT_DISABLE:
		return fold_force(l, ev, FB_STATE_FORCED_CLOSED, origin, rest);
	case FB_ACT_RESET: /* closed, counters and backoff cleared */
		if (!(d = find(l, ev->dep)))
			return false;
		drop(l, d);
		return true;
	case FB_ACT_GATE_BLOCK:
		return fold_gate(l, ev, FB_GATE_BLOCK, origin, rest, ttl_ms);
	case FB_ACT_GATE_ALLOW:
		return fold_gate(l, ev, FB_GATE_ALLOW, origin, rest, ttl_ms);
	case FB_ACT_GATE_AUTO:
		return fold_gate(l, ev, FB_GATE_AUTO, origin, rest, ttl_ms);
	default: return false;
	}
}

/* Opens and closes; half-open changes nothing here: its wait is over
 * either way, and the step moves only when the trial fails. */
static bool fold_transition(fb_lasting *l, const fb_lasting_event *ev)
{
	fb_state to;
	fb_lasting_dep *d;
	if (!ev->to || !fb_state_parse(ev->to, &to))
		return false;
	if (to == FB_STATE_CLOSED) {
		if (!(d = find(l, ev->dep)) || (!d->open && d->step == 0))
			return false;
		d->open = false;
		d->step = 0;
		prune(l, d);
		return true;
	}
	if (to != FB_STATE_OPEN)
		return false;
	const char *rest;
	uint64_t origin = fb_lasting_origin(ev->reason, ev->seq, &rest);
	if (!(d = find_or_add(l, ev->dep)) ||
	    (origin && d->open && d->open_seq == origin))
		return false;
	if (!origin) /* a restored open keeps the step it had */
		d->step = ev->from && strcmp(ev->from, "half_open") == 0
		              ? d->step + 1
		              : 0;
	d->open = true;
	d->open_seq = origin ? origin : ev->seq;
	d->open_until_ms =
	    ev->wall_ms + (ev->retry_after_ms > 0 ? ev->retry_after_ms : 0);
	copy(d->open_reason, sizeof d->open_reason, rest);
	return true;
}

bool fb_lasting_fold(fb_lasting *l, const fb_lasting_event *ev, int64_t ttl_ms)
{
	l->seq = ev->seq;
	if (ev->kind == FB_EV_OPERATOR)
		return fold_operator(l, ev, ttl_ms);
	if (ev->kind == FB_EV_TRANSITION)
		return fold_transition(l, ev);
	return false;
}

/* ---- JSON ---------------------------------------------------------------- */

static void add_text(cJSON *o, const char *key, const char *v)
{
	cJSON_AddStringToObject(o, key, v);
}

static void add_int(cJSON *o, const char *key, int64_t v)
{
	cJSON_AddNumberToObject(o, key, (double)v);
}

static cJSON *dep_json(const fb_lasting_dep *d)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	add_text(o, "dep", d->name);
	add_text(o, "forced",
	         d->forced == FB_STATE_CLOSED ? "" : fb_state_name(d->forced));
	add_int(o, "forced_seq", (int64_t)d->forced_seq);
	add_text(o, "actor", d->actor);
	add_text(o, "reason", d->reason);
	cJSON_AddBoolToObject(o, "open", d->open);
	add_int(o, "open_seq", (int64_t)d->open_seq);
	add_int(o, "open_until_ms", d->open_until_ms);
	add_int(o, "step", d->step);
	add_text(o, "open_reason", d->open_reason);
	return o;
}

int fb_lasting_to_json(const fb_lasting *l, cJSON *o)
{
	const fb_lasting_gate *g = &l->gate;
	add_int(o, "seq", (int64_t)l->seq);
	cJSON *gate = cJSON_AddObjectToObject(o, "gate");
	cJSON *deps = cJSON_AddArrayToObject(o, "deps");
	if (!gate || !deps)
		return -1;
	add_text(gate, "mode", fb_gate_mode_name(g->mode));
	add_int(gate, "seq", (int64_t)g->seq);
	add_int(gate, "until_ms", g->until_ms);
	add_text(gate, "actor", g->actor);
	add_text(gate, "reason", g->reason);
	for (size_t i = 0; i < l->count; i++) {
		cJSON *d = dep_json(&l->deps[i]);
		if (!d)
			return -1;
		cJSON_AddItemToArray(deps, d);
	}
	return cJSON_GetArraySize(deps) == (int)l->count ? 0 : -1;
}

/* Reading back: every member must be there with its type. */
typedef struct reader {
	const char *bad; /* the first member found wrong */
} reader;

static const cJSON *member(reader *r, const cJSON *o, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!m && !r->bad)
		r->bad = key;
	return m;
}

static int64_t get_int(reader *r, const cJSON *o, const char *key, int64_t lo)
{
	const cJSON *m = member(r, o, key);
	int64_t v = 0;
	if (m &&
	    (!cJSON_IsNumber(m) ||
	     !fb_json_int(m->valuedouble, lo, FB_JSON_INT_MAX, &v)) &&
	    !r->bad)
		r->bad = key;
	return v;
}

static void get_text(reader *r, const cJSON *o, const char *key, char *out,
                     size_t len)
{
	const cJSON *m = member(r, o, key);
	out[0] = '\0';
	if (m && !cJSON_IsString(m)) {
		if (!r->bad)
			r->bad = key;
		return;
	}
	if (m) /* our own file, but a file: never trusted to be clean */
		fb_sanitize(out, len, m->valuestring, strlen(m->valuestring));
}

static bool get_bool(reader *r, const cJSON *o, const char *key)
{
	const cJSON *m = member(r, o, key);
	if (m && !cJSON_IsBool(m) && !r->bad)
		r->bad = key;
	return cJSON_IsTrue(m);
}

static void read_gate(reader *r, const cJSON *o, fb_lasting_gate *g)
{
	char mode[16];
	get_text(r, o, "mode", mode, sizeof mode);
	if (!r->bad && !fb_gate_mode_parse(mode, &g->mode))
		r->bad = "mode";
	g->seq = (uint64_t)get_int(r, o, "seq", 0);
	g->until_ms = get_int(r, o, "until_ms", 0);
	get_text(r, o, "actor", g->actor, sizeof g->actor);
	get_text(r, o, "reason", g->reason, sizeof g->reason);
}

static void read_dep(reader *r, const cJSON *o, fb_lasting *l)
{
	char name[FB_NAME_MAX + 1], forced[32];
	get_text(r, o, "dep", name, sizeof name);
	if (r->bad)
		return;
	fb_lasting_dep *d = find(l, name) ? NULL : find_or_add(l, name);
	if (!d) {
		r->bad = "dep";
		return;
	}
	get_text(r, o, "forced", forced, sizeof forced);
	if (forced[0] && (!fb_state_parse(forced, &d->forced) ||
	                  (d->forced != FB_STATE_FORCED_OPEN &&
	                   d->forced != FB_STATE_FORCED_CLOSED)))
		r->bad = r->bad ? r->bad : "forced";
	d->forced_seq = (uint64_t)get_int(r, o, "forced_seq", 0);
	get_text(r, o, "actor", d->actor, sizeof d->actor);
	get_text(r, o, "reason", d->reason, sizeof d->reason);
	d->open = get_bool(r, o, "open");
	d->open_seq = (uint64_t)get_int(r, o, "open_seq", 0);
	d->open_until_ms = get_int(r, o, "open_until_ms", 0);
	d->step = (uint32_t)get_int(r, o, "step", 0);
	if (d->step > 64)
		r->bad = r->bad ? r->bad : "step";
	get_text(r, o, "open_reason", d->open_reason, sizeof d->open_reason);
}

int fb_lasting_from_json(fb_lasting *l, const cJSON *o, char *why, size_t len)
{
	reader r = {NULL};
	const cJSON *gate = member(&r, o, "gate");
	const cJSON *deps = member(&r, o, "deps");
	l->seq = (uint64_t)get_int(&r, o, "seq", 0);
	if (!r.bad && !cJSON_IsObject(gate))
		r.bad = "gate";
	if (!r.bad && !cJSON_IsArray(deps))
		r.bad = "deps";
	if (!r.bad)
		read_gate(&r, gate, &l->gate);
	const cJSON *d;
	cJSON_ArrayForEach(d, deps)
	{
		if (r.bad)
			break;
		if (!cJSON_IsObject(d))
			r.bad = "deps";
		else
			read_dep(&r, d, l);
	}
	if (!r.bad)
		return 0;
	snprintf(why, len, "bad or missing \"%s\"", r.bad);
	return -1;
}
