/* The fleet source: the fleet view of the instance behind a live source,
 * as a model the console draws like any other. Rows are the dependencies
 * of every live instance (their union), each with its fleet-wide state
 * (the fleet record's, while it is open or forced for the whole fleet;
 * else the worst an instance sees) and which hosts see it how, and who
 * holds the fleet's trial.
 *
 * Its data is the "fleet" object of the status document, and one reader
 * takes it whichever way it came: over the control socket, attached (the
 * {"op":"status","fleet":true} request `status --fleet` sends, at most
 * once a second and never waited on), or from the runtime, embedded
 * (fb_fleet_answer: the same reply, built in this process). Actions are
 * the fleet's ops, as `fusebox trip DEP --fleet` sends them.
 *
 * The live source runs underneath: step() steps it, and the log pane and
 * the detail pane are its own. Text in the document came through Redis
 * from other instances: every string is sanitised again here before it
 * is kept. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "console/model_fleet.h"
#include "core/parse.h"
#include "fleet.h"
#include "fusebox/sanitize.h"
#include "runtime.h"

#define POLL_EVERY_MS 1000
#define GIVE_UP_MS    5000 /* a request unanswered: ask again */
#define STALE_MS      5000 /* no view for this long: not live */
#define WAIT_STEP_MS  20   /* the live source's wait while one is out */
#define REPLY_MAX     (4u << 20)
#define ROWS_MAX      256
#define INST_MAX      256
#define ACTION_MS     3000

typedef struct fleet_model {
	con_model m; /* first: the fleet view is a model */
	con_model *base;
	fb_runtime *rt; /* embedded; NULL when attached */
	char sock[512];
	char actor[128];
	/* the request out on the socket */
	int fd;
	char *buf;
	size_t len, cap;
	bool asked;
	int64_t asked_at, next_at;
	/* the last view */
	bool have, connected;
	bool cut; /* more dependencies than ROWS_MAX: the first are shown */
	int64_t got_at;      /* our clock when it came */
	int64_t view_age_ms; /* as the instance said, at got_at */
	char service[64], error[200], message[200];
	con_fleet_inst *inst;
	int64_t *inst_age; /* ms since its heartbeat, at got_at */
	size_t ninst;
	char (*records)[240];
	size_t nrecords;
	char (*hosts)[160];  /* per row: the HOSTS cell */
	int64_t *open_until; /* per row: our clock, -1 when not open */
} fleet_model;

/* ---- reading the document ---------------------------------------------- */

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* A duration in seconds as ms, bounded; -1 when absent or silly. */
static int64_t ms_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	int64_t ms;
	return cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	               fb_json_int(v->valuedouble * 1000, 0, FB_JSON_INT_MAX,
	                           &ms)
	           ? ms
	           : -1;
}

static void copy_text(char *dst, size_t len, const char *src)
{
	fb_sanitize(dst, len, src, strlen(src));
}

/* An instance's name on screen: its host, else its id's start. */
static void label_of(const cJSON *in, char *out, size_t len)
{
	char id[12];
	copy_text(out, len, str_of(in, "host"));
	if (!out[0]) {
		copy_text(id, sizeof id, str_of(in, "instance"));
		copy_text(out, len, id);
	}
}

/* What instance `in` sees of dependency `name`; false when it lists it
 * not. */
static bool seen_by(const cJSON *in, const char *name, fb_state *state,
                    fb_health *health)
{
	const cJSON *d;
	char key[FB_NAME_MAX];
	cJSON_ArrayForEach(d,
	                   cJSON_GetObjectItemCaseSensitive(in, "dependencies"))
	{
		copy_text(key, sizeof key, d->string ? d->string : "");
		if (strcmp(key, name) != 0)
			continue;
		if (!fb_state_parse(str_of(d, "state"), state))
			return false;
		if (!fb_health_parse(str_of(d, "health"), health))
			*health = FB_HEALTH_UNKNOWN;
		return true;
	}
	return false;
}

static const cJSON *record_of(const cJSON *recs, const char *name)
{
	const cJSON *r;
	char key[FB_NAME_MAX];
	cJSON_ArrayForEach(r, recs)
	{
		copy_text(key, sizeof key, str_of(r, "name"));
		if (strcmp(key, name) == 0)
			return r;
	}
	return NULL;
}

/* Appends to a cell, as far as it goes. */
static void add(char *buf, size_t len, size_t *used, const char *text)
{
	int n = snprintf(buf + *used, len - *used, "%s", text);
	*used = n < 0 || (size_t)n >= len - *used ? len - 1 : *used + (size_t)n;
}

static int rank(fb_state s)
{
	static const int r[FB_STATE_COUNT] = {[FB_STATE_CLOSED] = 0,
	                                      [FB_STATE_FORCED_CLOSED] = 1,
	                                      [FB_STATE_HALF_OPEN] = 2,
	                                      [FB_STATE_FORCED_OPEN] = 3,
	                                      [FB_STATE_OPEN] = 4};
	return (unsigned)s < FB_STATE_COUNT ? r[s] : 0;
}

/* ---- rows -------------------------------------------------------------- */

/* The names of the rows: every dependency an instance lists, then any
 * record of one none lists, each once, in the order first met. */
static size_t row_names(const cJSON *insts, const cJSON *recs,
                        char (*names)[FB_NAME_MAX], bool *cut)
{
	size_t n = 0;
	const cJSON *in, *d;
	char key[FB_NAME_MAX];
	cJSON_ArrayForEach(in, insts)
	{
		cJSON_ArrayForEach(
		    d, cJSON_GetObjectItemCaseSensitive(in, "dependencies"))
		{
			copy_text(key, sizeof key, d->string ? d->string : "");
			size_t k = 0;
			while (k < n && strcmp(names[k], key) != 0)
				k++;
			if (k == n && n < ROWS_MAX && key[0])
				memcpy(names[n++], key, sizeof key);
			else if (k == n && key[0])
				*cut = true;
		}
	}
	cJSON_ArrayForEach(d, recs)
	{
		copy_text(key, sizeof key, str_of(d, "name"));
		size_t k = 0;
		while (k < n && strcmp(names[k], key) != 0)
			k++;
		if (k == n && n < ROWS_MAX && key[0])
			memcpy(names[n++], key, sizeof key);
		else if (k == n && key[0])
			*cut = true;
	}
	return n;
}

/* The HOSTS cell of dependency `name`: who holds the fleet's trial,
 * first (the column is narrower than a list of hosts, and the tail is
 * what gets cut); then the hosts that do not see it closed, by state,
 * "(n/N)"; "closed on all N" when every one does. Sets the worst state
 * and health seen. */
static void hosts_cell(const cJSON *insts, const char *name,
                       const char *trial_by, con_row *r, char *out, size_t len)
{
	static const fb_state groups[] = {FB_STATE_OPEN, FB_STATE_HALF_OPEN,
	                                  FB_STATE_FORCED_OPEN,
	                                  FB_STATE_FORCED_CLOSED};
	size_t used = 0;
	int listed = 0, not_closed = 0;
	char host[64];
	const cJSON *in;
	out[0] = '\0';
	if (trial_by[0]) {
		add(out, len, &used, "trial: ");
		add(out, len, &used, trial_by);
		add(out, len, &used, "; ");
	}
	/* a closed state with no outcome yet counts as unknown */
	for (size_t g = 0; g <= sizeof groups / sizeof groups[0]; g++) {
		bool unknown = g == sizeof groups / sizeof groups[0];
		bool first = true;
		cJSON_ArrayForEach(in, insts)
		{
			fb_state s;
			fb_health h;
			if (!seen_by(in, name, &s, &h))
				continue;
			bool match = unknown ? s == FB_STATE_CLOSED &&
			                           h == FB_HEALTH_UNKNOWN
			                     : s == groups[g];
			if (g == 0) { /* once per instance: the worst */
				listed++;
				if (!r->known || rank(s) > rank(r->state))
					r->state = s;
				if (!r->health_known || h > r->health)
					r->health = h;
				r->known = r->health_known = true;
			}
			if (!match)
				continue;
			not_closed++;
			label_of(in, host, sizeof host);
			if (first) {
				add(out, len, &used,
				    not_closed > 1 ? "; " : "");
				add(out, len, &used,
				    unknown ? "unknown"
				            : fb_state_name(groups[g]));
				add(out, len, &used, " on");
			}
			add(out, len, &used, " ");
			add(out, len, &used, host);
			first = false;
		}
	}
	char tail[48];
	if (not_closed)
		snprintf(tail, sizeof tail, " (%d/%d)", not_closed, listed);
	else if (listed)
		snprintf(tail, sizeof tail, "closed on all %d", listed);
	else
		snprintf(tail, sizeof tail, "no instance lists it");
	add(out, len, &used, tail);
}

/* The fleet-wide state, from the record while it decides for the whole
 * fleet (open, its trial under way, or forced), and the record in the
 * LAST ERROR column's words. */
static void from_record(const cJSON *rec, con_row *r, int64_t *open_until,
                        int64_t now)
{
	char state[16], reason[160], by[64];
	fb_state s;
	*open_until = -1;
	if (!rec)
		return;
	copy_text(state, sizeof state, str_of(rec, "state"));
	copy_text(reason, sizeof reason, str_of(rec, "reason"));
	copy_text(by, sizeof by, str_of(rec, "by"));
	if (!fb_state_parse(state, &s) || s == FB_STATE_CLOSED)
		return;
	bool trial = s == FB_STATE_OPEN && str_of(rec, "trial_by")[0];
	r->state = trial ? FB_STATE_HALF_OPEN : s;
	r->known = true;
	int64_t left = ms_of(rec, "open_for_s");
	if (s == FB_STATE_OPEN && left >= 0)
		*open_until = now + left;
	snprintf(r->error, sizeof r->error, "fleet: %s%s%s%s%s%s", state,
	         reason[0] ? " (" : "", reason, reason[0] ? ")" : "",
	         by[0] ? ", from " : "", by);
}

/* Rebuilds the rows from a fleet document. Returns -1 when out of
 * memory (the old rows stay). */
static int build_rows(fleet_model *f, const cJSON *fl, int64_t now)
{
	const cJSON *insts = cJSON_GetObjectItemCaseSensitive(fl, "instances");
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(fl, "records");
	char(*names)[FB_NAME_MAX] = calloc(ROWS_MAX, FB_NAME_MAX);
	bool cut = false;
	size_t n = names ? row_names(insts, recs, names, &cut) : 0;
	con_row *rows = calloc(n ? n : 1, sizeof *rows);
	char(*hosts)[160] = calloc(n ? n : 1, sizeof *hosts);
	int64_t *until = calloc(n ? n : 1, sizeof *until);
	if (!names || !rows || !hosts || !until) {
		free(names);
		free(rows);
		free(hosts);
		free(until);
		return -1;
	}
	bool same = n == f->m.nrows;
	for (size_t i = 0; i < n; i++) {
		con_row *r = &rows[i];
		memcpy(r->name, names[i], FB_NAME_MAX);
		same = same && strcmp(r->name, f->m.rows[i].name) == 0;
		long at = con_model_find(f->base, r->name);
		if (at >= 0) {
			r->kind = f->base->rows[at].kind;
			r->critical = f->base->rows[at].critical;
		}
		r->fails = -1;
		r->p50_ms = r->p95_ms = -1;
		r->next_in_ms = r->retry_in_ms = -1;
		r->calls_min = r->calls_failed_min = r->calls_total = -1;
		const cJSON *rec = record_of(recs, r->name);
		char trial[64];
		copy_text(trial, sizeof trial,
		          rec ? str_of(rec, "trial_by") : "");
		hosts_cell(insts, r->name, trial, r, hosts[i], sizeof hosts[i]);
		from_record(rec, r, &until[i], now);
		r->fleet_hosts = hosts[i];
	}
	free(names);
	free(f->m.rows);
	free(f->hosts);
	free(f->open_until);
	f->m.rows = rows;
	f->hosts = hosts;
	f->open_until = until;
	f->m.nrows = n;
	f->cut = cut;
	if (!same)
		f->m.generation++;
	return 0;
}

/* "api open, db unknown": what an instance does not see closed. */
static void not_closed(const cJSON *in, char *out, size_t len)
{
	const cJSON *d;
	size_t used = 0;
	char name[FB_NAME_MAX];
	out[0] = '\0';
	cJSON_ArrayForEach(d,
	                   cJSON_GetObjectItemCaseSensitive(in, "dependencies"))
	{
		const char *st = str_of(d, "state");
		bool closed = strcmp(st, "closed") == 0;
		fb_state s;
		if (closed && strcmp(str_of(d, "health"), "unknown") != 0)
			continue;
		copy_text(name, sizeof name, d->string ? d->string : "?");
		add(out, len, &used, used ? ", " : "");
		add(out, len, &used, name);
		add(out, len, &used, " ");
		add(out, len, &used,
		    closed                   ? "unknown"
		    : fb_state_parse(st, &s) ? fb_state_name(s)
		                             : "?");
	}
	if (!out[0])
		snprintf(out, len, "-");
}

static int build_instances(fleet_model *f, const cJSON *fl)
{
	const cJSON *insts = cJSON_GetObjectItemCaseSensitive(fl, "instances");
	size_t n = (size_t)cJSON_GetArraySize(insts);
	n = n < INST_MAX ? n : INST_MAX;
	con_fleet_inst *inst = calloc(n ? n : 1, sizeof *inst);
	int64_t *age = calloc(n ? n : 1, sizeof *age);
	if (!inst || !age) {
		free(inst);
		free(age);
		return -1;
	}
	const cJSON *in;
	size_t i = 0;
	cJSON_ArrayForEach(in, insts)
	{
		if (i == n)
			break;
		con_fleet_inst *o = &inst[i];
		int64_t pid;
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(in, "pid");
		copy_text(o->id, sizeof o->id, str_of(in, "instance"));
		copy_text(o->host, sizeof o->host, str_of(in, "host"));
		copy_text(o->version, sizeof o->version, str_of(in, "version"));
		o->pid = cJSON_IsNumber(p) &&
		                 fb_json_int(p->valuedouble, 0, INT32_MAX, &pid)
		             ? (long)pid
		             : 0;
		o->self =
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "self"));
		not_closed(in, o->not_closed, sizeof o->not_closed);
		age[i] = ms_of(in, "age_s");
		i++;
	}
	free(f->inst);
	free(f->inst_age);
	f->inst = inst;
	f->inst_age = age;
	f->ninst = i;
	return 0;
}

/* The records in words, as `status --fleet` prints them. */
static int build_records(fleet_model *f, const cJSON *fl)
{
	const cJSON *recs = cJSON_GetObjectItemCaseSensitive(fl, "records");
	size_t n = (size_t)cJSON_GetArraySize(recs);
	n = n < ROWS_MAX ? n : ROWS_MAX;
	char(*lines)[240] = calloc(n ? n : 1, sizeof *lines);
	if (!lines)
		return -1;
	const cJSON *r;
	size_t i = 0;
	cJSON_ArrayForEach(r, recs)
	{
		if (i == n)
			break;
		char raw[600];
		size_t used = 0;
		int64_t left = ms_of(r, "open_for_s");
		add(raw, sizeof raw, &used, str_of(r, "name"));
		add(raw, sizeof raw, &used, ": ");
		add(raw, sizeof raw, &used, str_of(r, "state"));
		if (left > 0) {
			char more[40];
			snprintf(more, sizeof more, " for %llds more",
			         (long long)((left + 999) / 1000));
			add(raw, sizeof raw, &used, more);
		}
		if (str_of(r, "trial_by")[0]) {
			add(raw, sizeof raw, &used, ", trial held by ");
			add(raw, sizeof raw, &used, str_of(r, "trial_by"));
		}
		if (str_of(r, "reason")[0]) {
			add(raw, sizeof raw, &used, " (");
			add(raw, sizeof raw, &used, str_of(r, "reason"));
			add(raw, sizeof raw, &used, ")");
		}
		if (str_of(r, "by")[0]) {
			add(raw, sizeof raw, &used, ", from ");
			add(raw, sizeof raw, &used, str_of(r, "by"));
		}
		copy_text(lines[i++], sizeof lines[0], raw);
	}
	free(f->records);
	f->records = lines;
	f->nrecords = i;
	return 0;
}

static void gate_from(fleet_model *f, const cJSON *g)
{
	fb_gate_decision *d = &f->m.gate;
	fb_gate_mode mode;
	char text[16];
	copy_text(text, sizeof text, str_of(g, "mode"));
	d->blocked = strcmp(str_of(g, "decision"), "allowed") != 0;
	d->mode = fb_gate_mode_parse(text, &mode) ? mode : FB_GATE_AUTO;
	d->retry_after_ms = d->override_left_ms = 0;
	copy_text(d->reason, sizeof d->reason, str_of(g, "reason"));
}

static int by_host(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a;
	const cJSON *y = *(const cJSON *const *)b;
	int d = strcmp(str_of(x, "host"), str_of(y, "host"));
	return d ? d : strcmp(str_of(x, "instance"), str_of(y, "instance"));
}

/* The instances by host: they come in heartbeat order, which changes
 * every second; rows and cells should not. */
static void sort_instances(cJSON *fl)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(fl, "instances");
	int n = cJSON_GetArraySize(list);
	cJSON **items = cJSON_IsArray(list) && n > 1 && n <= INST_MAX
	                    ? malloc((size_t)n * sizeof *items)
	                    : NULL;
	if (!items)
		return; /* as they came */
	for (int i = 0; i < n; i++)
		items[i] = cJSON_DetachItemFromArray(list, 0);
	qsort(items, (size_t)n, sizeof *items, by_host);
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(list, items[i]);
	free(items);
}

/* The one reader: a reply to {"op":"status","fleet":true}, whichever way
 * it came. Takes the reply (frees it). */
static void take_reply(fleet_model *f, cJSON *reply, int64_t now)
{
	cJSON *fl = cJSON_GetObjectItemCaseSensitive(reply, "fleet");
	f->m.changed = true;
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")) ||
	    !cJSON_IsObject(fl)) {
		const char *e = str_of(reply, "error");
		copy_text(f->error, sizeof f->error,
		          e[0] ? e : "the instance sent no fleet view");
		cJSON_Delete(reply);
		return;
	}
	sort_instances(fl);
	if (build_rows(f, fl, now) != 0 || build_instances(f, fl) != 0 ||
	    build_records(f, fl) != 0) {
		snprintf(f->error, sizeof f->error, "out of memory");
		cJSON_Delete(reply);
		return;
	}
	copy_text(f->service, sizeof f->service, str_of(fl, "service"));
	copy_text(f->message, sizeof f->message, str_of(fl, "message"));
	copy_text(f->error, sizeof f->error, str_of(fl, "error"));
	f->connected =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(fl, "connected"));
	f->view_age_ms = ms_of(fl, "view_age_s");
	gate_from(f, cJSON_GetObjectItemCaseSensitive(fl, "gate"));
	f->have = true;
	f->got_at = now;
	cJSON_Delete(reply);
}

/* ---- asking ------------------------------------------------------------ */

static void hang_up(fleet_model *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->len = 0;
	f->asked = false;
}

static cJSON *status_request(void)
{
	cJSON *req = cJSON_CreateObject();
	if (!cJSON_AddStringToObject(req, "op", "status") ||
	    !cJSON_AddTrueToObject(req, "fleet")) {
		cJSON_Delete(req);
		return NULL;
	}
	return req;
}

/* Asks for the view: of the runtime at once (embedded), or on the
 * socket, whose answer step() reads as it comes. */
static void ask(fleet_model *f, int64_t now)
{
	static const char line[] = "{\"op\":\"status\",\"fleet\":true}\n";
	fb_error err;
	f->next_at = now + POLL_EVERY_MS;
	if (f->rt) {
		cJSON *req = status_request();
		cJSON *reply =
		    req ? fb_fleet_answer(f->rt, "status", req, f->actor)
		        : NULL;
		cJSON_Delete(req);
		if (reply)
			take_reply(f, reply, now);
		return;
	}
	if (f->fd < 0 && (f->fd = fb_client_connect(f->sock, 200, &err)) < 0)
		return; /* the live source says whether the instance is there */
	if (send(f->fd, line, sizeof line - 1, MSG_NOSIGNAL) !=
	    (ssize_t)(sizeof line - 1)) {
		hang_up(f);
		return;
	}
	f->asked = true;
	f->asked_at = now;
}

/* Reads what has come of the answer; takes it once whole. */
static void read_reply(fleet_model *f, int64_t now)
{
	while (f->asked) {
		if (f->len == f->cap) {
			size_t cap = f->cap ? f->cap * 2 : 65536;
			char *b =
			    cap <= REPLY_MAX ? realloc(f->buf, cap) : NULL;
			if (!b) {
				hang_up(f); /* too big to be a fleet view */
				return;
			}
			f->buf = b;
			f->cap = cap;
		}
		ssize_t n = read(f->fd, f->buf + f->len, f->cap - f->len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			hang_up(f);
			return;
		}
		f->len += (size_t)n;
		char *nl = memchr(f->buf, '\n', f->len);
		if (nl) {
			cJSON *reply = cJSON_ParseWithLength(
			    f->buf, (size_t)(nl - f->buf));
			f->asked = false;
			f->len = 0; /* one request, one line */
			if (reply)
				take_reply(f, reply, now);
		}
	}
}

/* ---- the model's ops --------------------------------------------------- */

static short step(con_model *m, int in_fd, int max_ms)
{
	fleet_model *f = (fleet_model *)m;
	int64_t now = fb_now_ms();
	if (f->asked && now - f->asked_at > GIVE_UP_MS)
		hang_up(f); /* asked again below */
	if (!f->asked && now >= f->next_at)
		ask(f, now);
	int wait = max_ms;
	if (f->asked && wait > WAIT_STEP_MS)
		wait = WAIT_STEP_MS; /* the answer is coming: look soon */
	else if (!f->asked && f->next_at - now < wait)
		wait = (int)(f->next_at - now > 0 ? f->next_at - now : 0);
	short rev = con_model_step(f->base, in_fd, wait);
	m->ended = f->base->ended;
	if (f->asked)
		read_reply(f, fb_now_ms());
	return rev;
}

static void where_from(fleet_model *f, int64_t now)
{
	con_source *s = &f->m.src;
	char age[32] = "?";
	int64_t view_age =
	    f->view_age_ms >= 0 ? f->view_age_ms + now - f->got_at : -1;
	if (view_age >= 0)
		snprintf(age, sizeof age, "%.1fs", (double)view_age / 1000.0);
	snprintf(s->where, sizeof s->where, "FLEET %.60s: %s, view %s old",
	         f->service,
	         f->connected ? "connected" : "redis away, working alone", age);
	s->age_ms = view_age;
}

static void refresh(con_model *m)
{
	fleet_model *f = (fleet_model *)m;
	con_source *s = &m->src;
	int64_t now = fb_now_ms();
	con_model_refresh(f->base);
	const con_source *b = &f->base->src;
	snprintf(s->host, sizeof s->host, "%s", b->host);
	snprintf(s->brief, sizeof s->brief, "fleet");
	m->gate_ttl_ms = f->base->gate_ttl_ms;
	snprintf(m->log_path, sizeof m->log_path, "%s", f->base->log_path);
	snprintf(m->log_trouble, sizeof m->log_trouble, "%s",
	         f->base->log_trouble);
	where_from(f, now);
	bool fresh = f->have && now - f->got_at < STALE_MS;
	s->live = b->live && fresh && f->connected;
	s->actions = s->live;
	s->trouble[0] = m->fleet_note[0] = '\0';
	if (!b->live) {
		snprintf(s->trouble, sizeof s->trouble, "%s", b->trouble);
		snprintf(s->no_action, sizeof s->no_action, "%s", b->no_action);
	} else if (!fresh) {
		snprintf(s->trouble, sizeof s->trouble, "FLEET VIEW %s",
		         f->have ? "NOT ANSWERING" : "NOT HERE YET");
		snprintf(s->no_action, sizeof s->no_action,
		         "no current fleet view%s%.60s",
		         f->error[0] ? ": " : "", f->error);
	} else if (!f->connected) {
		snprintf(s->trouble, sizeof s->trouble,
		         "REDIS AWAY, working alone");
		snprintf(s->no_action, sizeof s->no_action,
		         "redis is away: a fleet action would reach no other "
		         "instance (F: act on this one)");
		snprintf(m->fleet_note, sizeof m->fleet_note, " %.180s ",
		         f->message[0] ? f->message : f->error);
	}
	if (f->cut && !m->fleet_note[0]) /* never silently fewer rows */
		snprintf(
		    m->fleet_note, sizeof m->fleet_note,
		    " the fleet lists more than %d dependencies: the first "
		    "%d are shown (fusebox status --fleet lists all) ",
		    ROWS_MAX, ROWS_MAX);
	for (size_t i = 0; i < m->nrows; i++) {
		int64_t u = f->open_until[i];
		m->rows[i].retry_in_ms = u < 0 ? -1 : u > now ? u - now : 0;
	}
	for (size_t i = 0; i < f->ninst; i++)
		f->inst[i].seen_ms =
		    f->inst_age[i] < 0 ? -1 : f->inst_age[i] + now - f->got_at;
	/* the system: the worst of the critical dependencies; another's
	 * trouble makes it degraded at most */
	m->system = FB_HEALTH_HEALTHY;
	for (size_t i = 0; i < m->nrows; i++) {
		const con_row *r = &m->rows[i];
		fb_health h = !r->health_known ? FB_HEALTH_UNKNOWN : r->health;
		if (!r->critical && h > FB_HEALTH_DEGRADED)
			h = FB_HEALTH_DEGRADED;
		m->system = h > m->system ? h : m->system;
	}
	snprintf(m->act_scope, sizeof m->act_scope,
	         "for the fleet: %zu live instance%s of %.60s", f->ninst,
	         f->ninst == 1 ? "" : "s", f->service);
}

/* The detail, the log pane and the focus are the live source's. */
static void focus(con_model *m, const uint32_t *rows, size_t n, long sel,
                  bool all_latency)
{
	fleet_model *f = (fleet_model *)m;
	(void)rows;
	(void)n;
	long at = sel >= 0 && (size_t)sel < m->nrows
	              ? con_model_find(f->base, m->rows[sel].name)
	              : -1;
	con_model_focus(f->base, NULL, 0, at, all_latency);
}

static bool detail(con_model *m, size_t row, con_detail *out)
{
	fleet_model *f = (fleet_model *)m;
	long at = con_model_find(f->base, m->rows[row].name);
	return at >= 0 && con_model_detail(f->base, (size_t)at, out);
}

static size_t nevents(con_model *m)
{
	return con_model_nevents(((fleet_model *)m)->base);
}

static bool event(con_model *m, size_t back, con_log_line *out)
{
	return con_model_event(((fleet_model *)m)->base, back, out);
}

/* The request `fusebox trip DEP --fleet` (and the others) sends. */
static cJSON *action_request(fb_action action, const char *dep,
                             const char *reason)
{
	static const char *const modes[FB_ACT_COUNT] = {
	    [FB_ACT_GATE_BLOCK] = "block",
	    [FB_ACT_GATE_ALLOW] = "allow",
	    [FB_ACT_GATE_AUTO] = "auto"};
	cJSON *req = cJSON_CreateObject();
	bool ok =
	    modes[action]
	        ? cJSON_AddStringToObject(req, "op", "gate") &&
	              cJSON_AddStringToObject(req, "mode", modes[action])
	        : cJSON_AddStringToObject(req, "op", fb_action_name(action)) &&
	              cJSON_AddStringToObject(req, "dep", dep ? dep : "");
	ok = ok && cJSON_AddStringToObject(req, "reason", reason) &&
	     cJSON_AddTrueToObject(req, "fleet");
	if (!ok) {
		cJSON_Delete(req);
		return NULL;
	}
	return req;
}

static int act(con_model *m, fb_action action, const char *dep,
               const char *reason, char *msg, size_t len)
{
	fleet_model *f = (fleet_model *)m;
	char why[300], said[200];
	fb_error err = {0};
	bool given = reason && reason[0];
	/* who: the instance knows (SO_PEERCRED; embedded, our actor says
	 * "via console"); how: we say, as the attached source does */
	if (f->rt)
		snprintf(why, sizeof why, "%s", given ? reason : "");
	else
		snprintf(why, sizeof why, "%s%svia console%s",
		         given ? reason : "", given ? " (" : "",
		         given ? ")" : "");
	cJSON *req = action_request(action, dep, why);
	cJSON *reply =
	    !req    ? NULL
	    : f->rt ? fb_fleet_answer(f->rt, str_of(req, "op"), req, f->actor)
	            : fb_client_call(f->sock, req, ACTION_MS, &err);
	cJSON_Delete(req);
	if (!reply ||
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
		copy_text(said, sizeof said,
		          reply         ? str_of(reply, "error")
		          : err.text[0] ? err.text
		                        : "out of memory");
		snprintf(msg, len, "%s for the fleet refused: %s",
		         fb_action_name(action),
		         said[0] ? said : "the instance said no");
		cJSON_Delete(reply);
		return -1;
	}
	int64_t n;
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(reply, "instances");
	if (!cJSON_IsNumber(k) ||
	    !fb_json_int(k->valuedouble, 0, INT32_MAX, &n))
		n = (int64_t)f->ninst;
	snprintf(msg, len,
	         "done for the fleet: %s%s%s sent to %lld live instance%s of "
	         "%.60s, applied within a heartbeat",
	         fb_action_name(action), dep ? " " : "", dep ? dep : "",
	         (long long)n, n == 1 ? "" : "s", f->service);
	cJSON_Delete(reply);
	f->next_at = fb_now_ms(); /* see it land */
	return 0;
}

static int probe(con_model *m, const char *dep, char *msg, size_t len)
{
	(void)m;
	snprintf(msg, len,
	         "probe %s: the fleet view probes nothing; F goes back to this "
	         "instance, which can",
	         dep);
	return -1;
}

static void free_fleet(con_model *m)
{
	fleet_model *f = (fleet_model *)m;
	hang_up(f);
	free(f->buf);
	free(m->rows);
	free(f->hosts);
	free(f->open_until);
	free(f->inst);
	free(f->inst_age);
	free(f->records);
	free(f);
}

static const con_model_ops ops = {
    .step = step,
    .refresh = refresh,
    .focus = focus,
    .detail = detail,
    .act = act,
    .probe = probe,
    .nevents = nevents,
    .event = event,
    .free = free_fleet,
};

con_model *con_fleet_open(con_model *base, fb_runtime *rt, const char *sock,
                          const char *actor, fb_error *err)
{
	fleet_model *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err->text, sizeof err->text, "out of memory");
		return NULL;
	}
	f->m.ops = &ops;
	f->base = base;
	f->rt = rt;
	f->fd = -1;
	f->view_age_ms = -1;
	snprintf(f->sock, sizeof f->sock, "%s", sock ? sock : "");
	snprintf(f->actor, sizeof f->actor, "%s", actor);
	ask(f, fb_now_ms()); /* embedded: the view at once */
	refresh(&f->m);
	return &f->m;
}

/* ---- what the screen asks --------------------------------------------- */

size_t con_fleet_ninst(const con_model *m)
{
	return m->ops == &ops ? ((const fleet_model *)m)->ninst : 0;
}

const con_fleet_inst *con_fleet_inst_at(const con_model *m, size_t i)
{
	const fleet_model *f = (const fleet_model *)m;
	return m->ops == &ops && i < f->ninst ? &f->inst[i] : NULL;
}

size_t con_fleet_nrecords(const con_model *m)
{
	return m->ops == &ops ? ((const fleet_model *)m)->nrecords : 0;
}

const char *con_fleet_record_at(const con_model *m, size_t i)
{
	const fleet_model *f = (const fleet_model *)m;
	return m->ops == &ops && i < f->nrecords ? f->records[i] : NULL;
}
