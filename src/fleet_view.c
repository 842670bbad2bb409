/* The heartbeat reply, checked and capped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_view.h"
#include "fusebox/sanitize.h"

static bool is_text(const redisReply *r)
{
	return r &&
	       (r->type == REDIS_REPLY_STRING ||
	        r->type == REDIS_REPLY_STATUS) &&
	       r->str;
}

static void copy_text(char *dst, size_t len, const redisReply *r)
{
	fb_sanitize(dst, len, r->str, r->len);
}

static int64_t to_int(const redisReply *r)
{
	char buf[32];
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (!is_text(r) || r->len >= sizeof buf)
		return 0;
	memcpy(buf, r->str, r->len);
	buf[r->len] = '\0';
	char *end;
	long long v = strtoll(buf, &end, 10);
	return *end ? 0 : v;
}

static bool is_pairs(const redisReply *r)
{
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements % 2)
		return false;
	for (size_t i = 0; i < r->elements; i++)
		if (!is_text(r->element[i]))
			return false;
	return true;
}

static bool key_is(const redisReply *k, const char *name)
{
	return k->len == strlen(name) && memcmp(k->str, name, k->len) == 0;
}

/* "STATE HEALTH" as one instance reported it. */
static bool parse_seen(const redisReply *name, const redisReply *val,
                       fb_fleet_seen *s)
{
	char text[64], *sp;
	fb_sanitize(s->name, sizeof s->name, name->str + 4, name->len - 4);
	fb_sanitize(text, sizeof text, val->str, val->len);
	sp = strchr(text, ' ');
	if (!sp)
		return false;
	*sp = '\0';
	return fb_state_parse(text, &s->state) &&
	       fb_health_parse(sp + 1, &s->health);
}

static int parse_inst(const redisReply *r, fb_fleet_inst *in)
{
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    !is_text(r->element[0]) || !is_pairs(r->element[1]))
		return -1;
	memset(in, 0, sizeof *in);
	copy_text(in->id, sizeof in->id, r->element[0]);
	const redisReply *h = r->element[1];
	for (size_t i = 0; i < h->elements; i += 2) {
		const redisReply *k = h->element[i], *v = h->element[i + 1];
		if (key_is(k, "host"))
			copy_text(in->host, sizeof in->host, v);
		else if (key_is(k, "version"))
			copy_text(in->version, sizeof in->version, v);
		else if (key_is(k, "pid"))
			in->pid = (long)to_int(v);
		else if (key_is(k, "seen_ms"))
			in->seen_ms = to_int(v);
		else if (k->len > 4 && memcmp(k->str, "dep:", 4) == 0 &&
		         in->ndeps < FB_FLEET_DEPS_MAX &&
		         parse_seen(k, v, &in->deps[in->ndeps]))
			in->ndeps++;
	}
	return 0;
}

static void parse_gate(const redisReply *h, fb_fleet_gate_rec *g)
{
	memset(g, 0, sizeof *g);
	for (size_t i = 0; i < h->elements; i += 2) {
		const redisReply *k = h->element[i], *v = h->element[i + 1];
		if (key_is(k, "mode"))
			copy_text(g->mode, sizeof g->mode, v);
		else if (key_is(k, "reason"))
			copy_text(g->reason, sizeof g->reason, v);
		else if (key_is(k, "actor"))
			copy_text(g->actor, sizeof g->actor, v);
		else if (key_is(k, "by"))
			copy_text(g->by, sizeof g->by, v);
		else if (key_is(k, "gen"))
			g->gen = to_int(v);
	}
}

static void parse_dep(const redisReply *h, fb_fleet_dep *d)
{
	memset(d, 0, sizeof *d);
	for (size_t i = 0; i < h->elements; i += 2) {
		const redisReply *k = h->element[i], *v = h->element[i + 1];
		if (key_is(k, "name"))
			copy_text(d->name, sizeof d->name, v);
		else if (key_is(k, "state"))
			copy_text(d->state, sizeof d->state, v);
		else if (key_is(k, "reason"))
			copy_text(d->reason, sizeof d->reason, v);
		else if (key_is(k, "actor"))
			copy_text(d->actor, sizeof d->actor, v);
		else if (key_is(k, "by"))
			copy_text(d->by, sizeof d->by, v);
		else if (key_is(k, "gen"))
			d->gen = to_int(v);
		else if (key_is(k, "action"))
			copy_text(d->action, sizeof d->action, v);
		else if (key_is(k, "open_until_ms"))
			d->open_until_ms = to_int(v);
		else if (key_is(k, "trial_owner"))
			copy_text(d->trial_owner, sizeof d->trial_owner, v);
		else if (key_is(k, "trial_exp_ms"))
			d->trial_exp_ms = to_int(v);
		else if (key_is(k, "trials")) {
			int64_t n = to_int(v);
			d->trials = n > 0 && n < 64 ? (uint32_t)n : 0;
		}
	}
}

/* The voters of each dependency, in the order the heartbeat named them
 * (names[i] is the i-th dependency sent). */
static int parse_votes(const redisReply *r, fb_fleet_view *v,
                       const char *const *names, size_t nnames)
{
	for (size_t i = 0;
	     i < r->elements && i < nnames && v->nvotes < FB_FLEET_DEPS_MAX;
	     i++) {
		const redisReply *ids = r->element[i];
		if (ids->type != REDIS_REPLY_ARRAY)
			return -1;
		fb_fleet_votes *vt = &v->votes[v->nvotes++];
		snprintf(vt->name, sizeof vt->name, "%s", names[i]);
		for (size_t k = 0; k < ids->elements; k++) {
			if (!is_text(ids->element[k]))
				return -1;
			if (vt->n < FB_FLEET_INST_MAX)
				copy_text(vt->ids[vt->n++], sizeof vt->ids[0],
				          ids->element[k]);
		}
	}
	return 0;
}

int fb_fleet_view_parse(const redisReply *r, const char *const *names,
                        size_t nnames, fb_fleet_view *v, char *err, size_t len)
{
	memset(v, 0, sizeof *v);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 5 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_ARRAY ||
	    !is_pairs(r->element[2]) ||
	    r->element[3]->type != REDIS_REPLY_ARRAY ||
	    r->element[4]->type != REDIS_REPLY_ARRAY) {
		snprintf(err, len,
		         "redis: the heartbeat's reply has an odd "
		         "shape");
		return -1;
	}
	v->redis_ms = r->element[0]->integer;
	const redisReply *inst = r->element[1];
	for (size_t i = 0; i < inst->elements; i++) {
		if (v->ninst == FB_FLEET_INST_MAX) {
			v->more++;
			continue;
		}
		if (parse_inst(inst->element[i], &v->inst[v->ninst]) != 0) {
			snprintf(err, len, "redis: an odd instance record");
			return -1;
		}
		v->ninst++;
	}
	parse_gate(r->element[2], &v->gate);
	const redisReply *deps = r->element[3];
	for (size_t i = 0; i < deps->elements && v->ndeps < FB_FLEET_DEPS_MAX;
	     i++) {
		if (!is_pairs(deps->element[i])) {
			snprintf(err, len, "redis: an odd dependency record");
			return -1;
		}
		if (deps->element[i]->elements == 0)
			continue; /* nothing decided for the fleet */
		parse_dep(deps->element[i], &v->deps[v->ndeps]);
		if (v->deps[v->ndeps].name[0])
			v->ndeps++;
	}
	if (parse_votes(r->element[4], v, names, nnames) != 0) {
		snprintf(err, len, "redis: an odd vote record");
		return -1;
	}
	return 0;
}
