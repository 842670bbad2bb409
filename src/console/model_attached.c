/* The attached source: a running instance (`fusebox run`, say) over its
 * control socket. Two connections: a `watch` for the snapshot and then
 * every event, in seq order, which keeps states, health and the gate
 * current at once; and one for `delta` polls, once a second and soon
 * after an event, for what events do not carry (counters, latency,
 * timers, the rows on screen's recent outcomes, the selected row's
 * detail). Actions go as the ordinary ops on a connection of their own,
 * so the instance records the console user's uid (SO_PEERCRED).
 *
 * Losing the instance shows at once: the watch ends, the data is marked
 * stale with its age, actions are refused, and the watch is tried again
 * with backoff; an instance that does not answer a poll within
 * SLOW_MS is shown the same way (NOT ANSWERING) while the console waits
 * for it, and given up for lost after LOST_MS (a busy instance is not
 * made busier by a new snapshot every few seconds);
 * a new snapshot resumes it, and the events missed meanwhile come from
 * the event log when it is readable here. The log pane takes each seq
 * once. */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "console/model.h"
#include "console/model_fleet.h"
#include "core/hash.h"
#include "core/parse.h"
#include "fusebox/sanitize.h"
#include "logread.h"

#define POLL_EVERY_MS        1000
#define POLL_SOON_MS         30 /* after an event: the counters that came with it */
#define SLOW_MS              2000 /* a poll unanswered this long: data not current */
#define LOST_MS              20000 /* and this long: the instance is lost */
#define SNAPSHOT_DEADLINE_MS 20000 /* with nothing of it come meanwhile */
#define BACKOFF_FIRST_MS     100
#define BACKOFF_MAX_MS       2000
#define WATCH_MAX            (64u << 20) /* the snapshot of a big instance */
#define POLL_MAX             (16u << 20)
#define ACTION_MS            3000
#define READ_PER_STEP        (1u << 20) /* then the keys get their turn */

typedef struct conn {
	int fd;
	char *buf;
	size_t len, cap, max;
} conn;

/* What a row needs besides what it shows: deadlines on our clock. */
typedef struct row_time {
	int64_t retry_at; /* open: when its trial comes; -1 */
	int64_t due_at;   /* its next probe; -1 unknown */
	int64_t interval_ms;
} row_time;

typedef enum { DOWN, SNAPSHOT, LIVE } phase;

typedef struct attached {
	con_model m; /* first: the model is the attached source */
	char sock[512];
	char actor[128]; /* what the instance will record: "alice (uid 1000)" */
	int sigfd;
	phase phase;
	conn watch, poll;
	bool asked; /* a delta is out on `poll` */
	bool slow;  /* and has been for longer than SLOW_MS */
	int64_t asked_at, next_poll_at;
	int64_t watch_at; /* when the watch was asked, or last sent some of
	                     its snapshot (a big one comes slowly) */
	int64_t retry_at, backoff_ms;
	int64_t data_at; /* when the data was last current */
	int64_t gate_retry_at, gate_override_until;
	uint64_t seq; /* the last event the rows reflect */
	bool ever_live;
	bool has_fleet; /* its status document has a "fleet" part */
	row_time *times;
	uint32_t *slots; /* name -> row + 1, open addressing */
	size_t nslots;
	/* what the console looks at (focus) */
	char (*shown)[FB_NAME_MAX];
	size_t nshown;
	char selected[FB_NAME_MAX];
	bool all_latency; /* the console sorts by latency */
	bool have_detail;
	con_detail detail;
	long detail_row;
	int64_t detail_at;    /* our clock when it came */
	fb_log_reader reader; /* for the warnings of event parsing (quiet) */
} attached;

/* ---- small helpers ----------------------------------------------------- */

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* A duration from the peer as ms, bounded; dflt when absent or silly. */
static int64_t ms_of(const cJSON *o, const char *key, double scale,
                     int64_t dflt)
{
	int64_t v;
	double d = num_of(o, key, -1);
	return d >= 0 && fb_json_int(d * scale, 0, FB_JSON_INT_MAX, &v) ? v
	                                                                : dflt;
}

/* Text from the peer, made safe for the screen. */
static void copy_text(char *dst, size_t len, const char *src)
{
	if (!src)
		src = "";
	fb_sanitize(dst, len, src, strlen(src));
}

static void conn_close(conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	k->len = 0;
}

/* Reads what has come (at most READ_PER_STEP). Returns -1 when the peer
 * closed or a line outgrew k->max, else 0. */
static int conn_read(conn *k)
{
	size_t got = 0;
	while (got < READ_PER_STEP) {
		if (k->len == k->cap) {
			size_t cap = k->cap ? k->cap * 2 : 65536;
			char *b = cap <= k->max ? realloc(k->buf, cap) : NULL;
			if (!b)
				return -1;
			k->buf = b;
			k->cap = cap;
		}
		ssize_t n = read(k->fd, k->buf + k->len, k->cap - k->len);
		if (n > 0) {
			k->len += (size_t)n;
			got += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return -1;
	}
	return 0;
}

static int conn_send(conn *k, const char *text)
{
	size_t len = strlen(text);
	return send(k->fd, text, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* ---- rows -------------------------------------------------------------- */

static long find_row(const attached *a, const char *name)
{
	if (!a->nslots || !name)
		return -1;
	for (size_t i = fb_hash_name(name) & (a->nslots - 1);;
	     i = (i + 1) & (a->nslots - 1)) {
		uint32_t s = a->slots[i];
		if (!s)
			return -1;
		if (strcmp(a->m.rows[s - 1].name, name) == 0)
			return (long)s - 1;
	}
}

/* Makes n rows (names from `names`, a status or delta array with
 * "service"), unless the rows already are those, in that order. Returns
 * 0, or -1 when out of memory. */
static int shape_rows(attached *a, const cJSON *deps)
{
	size_t n = (size_t)cJSON_GetArraySize(deps);
	bool same = n == a->m.nrows;
	const cJSON *d;
	size_t i = 0;
	cJSON_ArrayForEach(d, deps)
	{
		const char *name = str_of(d, "service");
		if (same && (!name || strcmp(name, a->m.rows[i].name) != 0))
			same = false;
		i++;
	}
	if (same)
		return 0;
	size_t nslots = 16;
	while (nslots < 2 * n)
		nslots *= 2;
	con_row *rows = calloc(n ? n : 1, sizeof *rows);
	row_time *times = calloc(n ? n : 1, sizeof *times);
	uint32_t *slots = calloc(nslots, sizeof *slots);
	if (!rows || !times || !slots) {
		free(rows);
		free(times);
		free(slots);
		return -1;
	}
	free(a->m.rows);
	free(a->times);
	free(a->slots);
	a->m.rows = rows;
	a->times = times;
	a->slots = slots;
	a->nslots = nslots;
	a->m.nrows = n;
	i = 0;
	cJSON_ArrayForEach(d, deps)
	{
		con_row *r = &rows[i];
		copy_text(r->name, sizeof r->name, str_of(d, "service"));
		const char *kind = str_of(d, "kind");
		if (!kind || !fb_kind_parse(kind, &r->kind))
			r->kind = FB_KIND_HTTP;
		r->critical = cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(d, "critical"));
		r->fails = -1;
		r->p50_ms = r->p95_ms = -1;
		r->calls_min = r->calls_failed_min = r->calls_total = -1;
		times[i] = (row_time){-1, -1, 0};
		if (find_row(a, r->name) < 0) { /* a name twice: first one */
			size_t s = fb_hash_name(r->name) & (nslots - 1);
			while (slots[s])
				s = (s + 1) & (nslots - 1);
			slots[s] = (uint32_t)i + 1;
		}
		i++;
	}
	a->m.generation++;
	a->have_detail = false;
	return 0;
}

static void set_state(con_row *r, const char *state, const char *health)
{
	fb_state s;
	fb_health h;
	if (state && fb_state_parse(state, &s)) {
		r->state = s;
		r->known = true;
	}
	if (health && fb_health_parse(health, &h)) {
		r->health = h;
		r->health_known = true;
	}
}

/* "shadow": the shadow breaker's state (a status document's object, or
 * a delta's name of it); nothing when absent. */
static void shadow_from(con_row *r, const cJSON *sh)
{
	fb_state s;
	const char *name =
	    cJSON_IsString(sh) ? sh->valuestring : str_of(sh, "state");
	if (name && fb_state_parse(name, &s)) {
		r->has_shadow = true;
		r->shadow = s;
	}
}

/* A row from the status document (the watch's first line). */
static void row_from_status(attached *a, size_t i, const cJSON *d, int64_t now)
{
	con_row *r = &a->m.rows[i];
	set_state(r, str_of(d, "state"), str_of(d, "health"));
	r->fails = ms_of(d, "failure_count", 1, -1);
	copy_text(r->error, sizeof r->error, str_of(d, "last_error"));
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(d, "latency_ms");
	r->p50_ms = num_of(lat, "p50", -1);
	r->p95_ms = num_of(lat, "p95", -1);
	int64_t retry = ms_of(d, "retry_after_s", 1000, 0);
	a->times[i].retry_at = r->state == FB_STATE_OPEN ? now + retry : -1;
	const cJSON *calls = cJSON_GetObjectItemCaseSensitive(d, "calls");
	r->calls_min = ms_of(calls, "last_min", 1, -1);
	r->calls_failed_min = ms_of(calls, "last_min_failed", 1, -1);
	r->calls_total = ms_of(calls, "total", 1, -1);
	shadow_from(r, cJSON_GetObjectItemCaseSensitive(d, "shadow"));
}

static void gate_from(attached *a, const cJSON *g, int64_t now)
{
	fb_gate_decision *d = &a->m.gate;
	const char *dec = str_of(g, "decision"), *mode = str_of(g, "mode");
	if (!dec)
		return;
	d->blocked = strcmp(dec, "allowed") != 0;
	if (!mode || !fb_gate_mode_parse(mode, &d->mode))
		d->mode = FB_GATE_AUTO;
	copy_text(d->reason, sizeof d->reason, str_of(g, "reason"));
	a->gate_retry_at = now + ms_of(g, "retry_after_s", 1000, 0);
	a->gate_override_until =
	    now + ms_of(g, "override_expires_in_s", 1000, 0);
}

static void system_from(attached *a, const cJSON *doc)
{
	fb_health h;
	const char *sys = str_of(doc, "system_health");
	if (sys && fb_health_parse(sys, &h))
		a->m.system = h;
}

/* ---- losing and finding the instance ----------------------------------- */

static void lose(attached *a, const char *why)
{
	int64_t now = fb_now_ms();
	bool was_live = a->phase == LIVE;
	conn_close(&a->watch);
	conn_close(&a->poll);
	a->asked = a->slow = false;
	a->phase = DOWN;
	a->retry_at = now + a->backoff_ms;
	a->backoff_ms = a->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
	                                                   : a->backoff_ms * 2;
	if (was_live) {
		char note[200];
		snprintf(note, sizeof note,
		         "lost the instance (%s); shown as it was, retrying",
		         why);
		con_log_note(&a->m, fb_wall_ms(), FB_TONE_BAD, note);
	}
	a->m.changed = true;
}

/* The event_log member of a status or delta document, into log_trouble
 * (its text from a peer: sanitised). */
static void log_trouble_from(attached *a, const cJSON *doc)
{
	const cJSON *el = cJSON_GetObjectItemCaseSensitive(doc, "event_log");
	if (!cJSON_IsObject(el))
		return;
	char error[120];
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(el, "ok");
	const char *said = str_of(el, "error");
	said = said ? said : "";
	fb_sanitize(error, sizeof error, said, strlen(said));
	int64_t queued = 0, lost = 0;
	fb_json_int(num_of(el, "queued", 0), 0, FB_JSON_INT_MAX, &queued);
	fb_json_int(num_of(el, "lost", 0), 0, FB_JSON_INT_MAX, &lost);
	con_log_trouble(a->m.log_trouble, sizeof a->m.log_trouble,
	                cJSON_IsFalse(ok) ? (error[0] ? error : "failing")
	                                  : NULL,
	                (uint64_t)queued, (uint64_t)lost);
	/* the fleet's word on itself ("" while it shares a view) */
	const char *fleet =
	    str_of(cJSON_GetObjectItemCaseSensitive(doc, "fleet"), "message");
	fb_sanitize(a->m.fleet_note, sizeof a->m.fleet_note, fleet ? fleet : "",
	            fleet ? strlen(fleet) : 0);
}

/* The watch's first line: the state as of seq; then events follow. */
static void take_snapshot(attached *a, const char *line, size_t len)
{
	int64_t now = fb_now_ms();
	cJSON *doc = cJSON_ParseWithLength(line, len);
	const cJSON *deps =
	    cJSON_GetObjectItemCaseSensitive(doc, "dependencies");
	int64_t seq, pid;
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "ok")) ||
	    !cJSON_IsArray(deps) ||
	    !fb_json_int(num_of(doc, "seq", -1), 0, FB_JSON_INT_MAX, &seq) ||
	    shape_rows(a, deps) != 0) {
		cJSON_Delete(doc);
		lose(a, "the instance did not start a watch");
		return;
	}
	const cJSON *d;
	size_t i = 0;
	cJSON_ArrayForEach(d, deps)
	{
		row_from_status(a, i++, d, now);
	}
	gate_from(a, cJSON_GetObjectItemCaseSensitive(doc, "gate"), now);
	log_trouble_from(a, doc);
	system_from(a, doc);
	a->has_fleet =
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "fleet"));
	copy_text(a->m.src.host, sizeof a->m.src.host, str_of(doc, "host"));
	if (!fb_json_int(num_of(doc, "pid", -1), 0, INT32_MAX, &pid))
		pid = 0;
	snprintf(a->m.src.where, sizeof a->m.src.where,
	         "attached to %.100s pid %lld", a->m.src.host, (long long)pid);
	snprintf(a->m.src.brief, sizeof a->m.src.brief, "attached");
	cJSON_Delete(doc);
	/* what happened while we were away (or before we came), once */
	uint64_t missed_from = a->m.log.last_seq;
	if (con_log_backfill(&a->m, a->m.log_path, (uint64_t)seq) < 0 &&
	    a->ever_live && (uint64_t)seq > missed_from) {
		char note[200];
		snprintf(note, sizeof note,
		         "events %llu to %lld happened while disconnected; the "
		         "event log is not readable here (fusebox events)",
		         (unsigned long long)missed_from + 1, (long long)seq);
		con_log_note(&a->m, fb_wall_ms(), FB_TONE_WARN, note);
	}
	if ((uint64_t)seq > a->m.log.last_seq)
		a->m.log.last_seq = (uint64_t)seq;
	a->seq = (uint64_t)seq;
	a->phase = LIVE;
	a->ever_live = true;
	a->backoff_ms = BACKOFF_FIRST_MS;
	a->data_at = now;
	a->next_poll_at = now; /* the counters, at once */
	a->m.changed = true;
}

/* Connects the watch. Returns 0, or -1 with *err. */
static int try_watch(attached *a, fb_error *err)
{
	a->watch.fd = fb_client_connect(a->sock, 500, err);
	if (a->watch.fd < 0)
		return -1;
	if (conn_send(&a->watch, "{\"op\":\"watch\"}\n") != 0) {
		snprintf(err->text, sizeof err->text,
		         "%s: cannot ask the instance", a->sock);
		conn_close(&a->watch);
		return -1;
	}
	a->phase = SNAPSHOT;
	a->watch_at = fb_now_ms();
	return 0;
}

/* ---- events ------------------------------------------------------------ */

static void apply_event(attached *a, const fb_log_event *ev, int64_t now)
{
	long i = find_row(a, ev->dep);
	con_row *r = i >= 0 ? &a->m.rows[i] : NULL;
	switch (ev->kind) {
	case FB_EV_TRANSITION:
		if (!r)
			break;
		set_state(r, ev->to, ev->health);
		r->fails = ms_of(ev->json, "failures", 1, r->fails);
		a->times[i].retry_at =
		    r->state == FB_STATE_OPEN && ev->retry_after_ms >= 0
		        ? now + ev->retry_after_ms
		        : -1;
		if (ev->error)
			copy_text(r->error, sizeof r->error, ev->error);
		break;
	case FB_EV_HEALTH:
		if (r)
			set_state(r, NULL, ev->to);
		break;
	case FB_EV_SHADOW:
		if (r && ev->to)
			shadow_from(r, cJSON_GetObjectItemCaseSensitive(
			                   ev->json, "to"));
		break;
	case FB_EV_GATE: {
		fb_gate_mode mode;
		a->m.gate.blocked = ev->to && strcmp(ev->to, "blocked") == 0;
		if (ev->mode && fb_gate_mode_parse(ev->mode, &mode))
			a->m.gate.mode = mode;
		copy_text(a->m.gate.reason, sizeof a->m.gate.reason,
		          ev->reason);
		a->gate_retry_at =
		    now + (ev->retry_after_ms > 0 ? ev->retry_after_ms : 0);
		break;
	}
	default: break;
	}
}

static void take_event(attached *a, const char *line, size_t len)
{
	int64_t now = fb_now_ms();
	fb_log_event ev;
	fb_event e;
	if (len > 6 && memcmp(line, "{\"ok\":", 6) == 0) {
		lose(a, "dropped for falling behind");
		a->retry_at = now; /* a new snapshot at once */
		return;
	}
	if (fb_log_event_parse(&a->reader, line, len, &ev) != 0)
		return;
	if (ev.seq > a->seq) {
		apply_event(a, &ev, now);
		a->seq = ev.seq;
	}
	fb_log_event_as_event(&ev, &e);
	con_log_add(&a->m, ev.seq, ev.ts_ms, &e);
	cJSON_Delete(ev.json);
	a->data_at = now;
	if (a->next_poll_at > now + POLL_SOON_MS)
		a->next_poll_at = now + POLL_SOON_MS;
	a->m.changed = true;
}

/* ---- delta polls ------------------------------------------------------- */

static void ask_delta(attached *a, int64_t now)
{
	fb_error err;
	if (a->poll.fd < 0 &&
	    (a->poll.fd = fb_client_connect(a->sock, 200, &err)) < 0) {
		a->next_poll_at = now + POLL_EVERY_MS;
		return; /* the watch says whether the instance is there */
	}
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "delta");
	cJSON *rows = cJSON_AddArrayToObject(req, "rows");
	for (size_t i = 0; i < a->nshown; i++)
		cJSON_AddItemToArray(rows, cJSON_CreateString(a->shown[i]));
	if (a->selected[0])
		cJSON_AddStringToObject(req, "detail", a->selected);
	if (a->all_latency)
		cJSON_AddTrueToObject(req, "all_latency");
	char *text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	bool sent = false;
	if (text && strlen(text) + 2 < 8192) { /* the instance's request cap */
		size_t n = strlen(text);
		char *line = malloc(n + 2);
		if (line) {
			memcpy(line, text, n);
			memcpy(line + n, "\n", 2);
			sent = conn_send(&a->poll, line) == 0;
			free(line);
		}
	}
	free(text);
	if (!sent) {
		conn_close(&a->poll);
		a->next_poll_at = now + POLL_EVERY_MS;
		return;
	}
	a->asked = true;
	a->asked_at = now;
	a->next_poll_at = now + POLL_EVERY_MS;
}

static void samples_into(const cJSON *arr, fb_sample *out, uint32_t max,
                         uint32_t *n)
{
	const cJSON *v;
	*n = 0;
	cJSON_ArrayForEach(v, arr)
	{
		if (*n >= max || !cJSON_IsNumber(v))
			break;
		int64_t us;
		bool ok = fb_json_int(v->valuedouble, 0, INT32_MAX, &us);
		out[(*n)++] =
		    (fb_sample){.latency_us = ok ? (int32_t)us : 0, .ok = ok};
	}
}

static void delta_row(attached *a, const cJSON *d, bool stale, int64_t now)
{
	int64_t i;
	if (!fb_json_int(num_of(d, "i", -1), 0, (int64_t)a->m.nrows - 1, &i))
		return;
	con_row *r = &a->m.rows[i];
	row_time *t = &a->times[i];
	if (!stale) { /* events since it was made know better */
		set_state(r, str_of(d, "state"), str_of(d, "health"));
		if (str_of(d, "service")) /* a full row: shadow or none */
			r->has_shadow = false;
		shadow_from(r, cJSON_GetObjectItemCaseSensitive(d, "shadow"));
	}
	r->fails = ms_of(d, "fail", 1, r->fails);
	r->p50_ms = num_of(d, "p50", -1);
	r->p95_ms = num_of(d, "p95", -1);
	if (!stale)
		copy_text(r->error, sizeof r->error, str_of(d, "error"));
	if (r->state == FB_STATE_OPEN)
		t->retry_at = now + ms_of(d, "retry_ms", 1, 0);
	r->calls_min = ms_of(d, "calls_min", 1, r->calls_min);
	r->calls_failed_min =
	    ms_of(d, "calls_failed_min", 1, r->calls_failed_min);
	r->calls_total = ms_of(d, "calls_total", 1, r->calls_total);
	int64_t due = ms_of(d, "due_ms", 1, -1);
	t->due_at = due < 0 ? -1 : now + due;
	t->interval_ms = ms_of(d, "interval_ms", 1, t->interval_ms);
}

/* The detail's "shadow": {"state","failure_count","settings":[[K,V]]}. */
static void detail_shadow_from(con_detail *d, const cJSON *sh)
{
	fb_state s;
	const char *state = str_of(sh, "state");
	if (!state || !fb_state_parse(state, &s))
		return;
	d->has_shadow = true;
	d->shadow = s;
	d->shadow_fails = ms_of(sh, "failure_count", 1, -1);
	const cJSON *row;
	cJSON_ArrayForEach(row,
	                   cJSON_GetObjectItemCaseSensitive(sh, "settings"))
	{
		if (d->nshadow >= FB_TUNABLE_COUNT)
			break;
		con_setting *st = &d->shadow_settings[d->nshadow++];
		const cJSON *k = cJSON_GetArrayItem(row, 0);
		const cJSON *v = cJSON_GetArrayItem(row, 1);
		copy_text(st->key, sizeof st->key,
		          cJSON_IsString(k) ? k->valuestring : "?");
		copy_text(st->value, sizeof st->value,
		          cJSON_IsString(v) ? v->valuestring : "?");
		snprintf(st->source, sizeof st->source, "shadow");
	}
}

static void detail_from(attached *a, const cJSON *o, int64_t now)
{
	int64_t i;
	con_detail *d = &a->detail;
	if (!o ||
	    !fb_json_int(num_of(o, "i", -1), 0, (int64_t)a->m.nrows - 1, &i))
		return;
	memset(d, 0, sizeof *d);
	copy_text(d->url, sizeof d->url, str_of(o, "url"));
	d->for_ms = ms_of(o, "for_ms", 1, -1);
	fb_breaker_snapshot *s = &d->snap;
	s->state = a->m.rows[i].state;
	s->consecutive_failures =
	    (uint32_t)(a->m.rows[i].fails < 0 ? 0 : a->m.rows[i].fails);
	copy_text(s->last_reason, sizeof s->last_reason, str_of(o, "reason"));
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "counters");
	s->window_calls = (uint32_t)ms_of(c, "window_calls", 1, 0);
	s->window_failures = (uint32_t)ms_of(c, "window_failures", 1, 0);
	s->successes = (uint64_t)ms_of(c, "successes", 1, 0);
	s->failures = (uint64_t)ms_of(c, "failures", 1, 0);
	s->slow_calls = (uint64_t)ms_of(c, "slow", 1, 0);
	s->rejected = (uint64_t)ms_of(c, "rejected", 1, 0);
	s->failed_trials = (uint32_t)ms_of(c, "failed_trials", 1, 0);
	s->frozen_failures = (uint32_t)ms_of(c, "frozen_failures", 1, 0);
	s->frozen_window_calls =
	    (uint32_t)ms_of(c, "frozen_window_calls", 1, 0);
	s->frozen_window_failures =
	    (uint32_t)ms_of(c, "frozen_window_failures", 1, 0);
	s->frozen_slow_calls = (uint64_t)ms_of(c, "frozen_slow", 1, 0);
	/* the history as fb_history_at reads it: newest at head - 1 */
	fb_sample tmp[FB_HISTORY];
	uint32_t n;
	samples_into(cJSON_GetObjectItemCaseSensitive(o, "history"), tmp,
	             FB_HISTORY, &n);
	for (uint32_t k = 0; k < n; k++)
		d->history.s[n - 1 - k] = tmp[k];
	d->history.len = n;
	d->history.head = n % FB_HISTORY;
	const cJSON *row;
	cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(o, "settings"))
	{
		if (d->nsettings >= FB_TUNABLE_COUNT)
			break;
		con_setting *st = &d->settings[d->nsettings++];
		const cJSON *k = cJSON_GetArrayItem(row, 0);
		const cJSON *v = cJSON_GetArrayItem(row, 1);
		const cJSON *src = cJSON_GetArrayItem(row, 2);
		copy_text(st->key, sizeof st->key,
		          cJSON_IsString(k) ? k->valuestring : "?");
		copy_text(st->value, sizeof st->value,
		          cJSON_IsString(v) ? v->valuestring : "?");
		copy_text(st->source, sizeof st->source,
		          cJSON_IsString(src) ? src->valuestring : "?");
	}
	detail_shadow_from(d, cJSON_GetObjectItemCaseSensitive(o, "shadow"));
	a->detail_row = (long)i;
	a->detail_at = now;
	a->have_detail = true;
}

static void take_delta(attached *a, const char *line, size_t len)
{
	int64_t now = fb_now_ms(), seq;
	cJSON *o = cJSON_ParseWithLength(line, len);
	const cJSON *deps = cJSON_GetObjectItemCaseSensitive(o, "deps");
	a->asked = a->slow = false;
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok")) ||
	    !cJSON_IsArray(deps) ||
	    !fb_json_int(num_of(o, "seq", -1), 0, FB_JSON_INT_MAX, &seq)) {
		cJSON_Delete(o);
		return; /* not an answer we can use: the next one may be */
	}
	bool full = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "full"));
	if (full && shape_rows(a, deps) != 0) {
		cJSON_Delete(o);
		return;
	}
	bool stale = (uint64_t)seq < a->seq;
	const cJSON *d;
	cJSON_ArrayForEach(d, deps)
	{
		delta_row(a, d, stale, now);
	}
	if (!stale) {
		gate_from(a, cJSON_GetObjectItemCaseSensitive(o, "gate"), now);
		system_from(a, o);
		log_trouble_from(a, o);
	}
	a->m.gate_ttl_ms = ms_of(o, "override_ttl_s", 1000, a->m.gate_ttl_ms);
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(o, "recent"))
	{
		int64_t i;
		uint32_t n;
		if (!fb_json_int(num_of(d, "i", -1), 0, (int64_t)a->m.nrows - 1,
		                 &i))
			continue;
		con_row *r = &a->m.rows[i];
		const cJSON *add = cJSON_GetObjectItemCaseSensitive(d, "add");
		fb_sample got[CON_RECENT];
		samples_into(add ? add
		                 : cJSON_GetObjectItemCaseSensitive(d, "set"),
		             got, CON_RECENT, &n);
		uint32_t keep =
		    add ? r->nrecent : 0; /* add: newer ones first */
		if (keep + n > CON_RECENT)
			keep = CON_RECENT - n;
		memmove(r->recent + n, r->recent, keep * sizeof *r->recent);
		memcpy(r->recent, got, n * sizeof *got);
		r->nrecent = (uint8_t)(keep + n);
	}
	detail_from(a, cJSON_GetObjectItemCaseSensitive(o, "detail"), now);
	cJSON_Delete(o);
	a->data_at = now;
	a->m.changed = true;
}

/* ---- the loop ---------------------------------------------------------- */

/* Hands each complete line of k to fn, while k stays connected. */
static void take_lines(attached *a, conn *k, bool watch)
{
	size_t off = 0;
	while (k->fd >= 0 && off < k->len) {
		char *nl = memchr(k->buf + off, '\n', k->len - off);
		if (!nl)
			break;
		size_t len = (size_t)(nl - (k->buf + off));
		if (!watch)
			take_delta(a, k->buf + off, len);
		else if (a->phase == SNAPSHOT)
			take_snapshot(a, k->buf + off, len);
		else
			take_event(a, k->buf + off, len);
		off += len + 1;
	}
	if (k->fd < 0)
		return; /* lost meanwhile: the buffer was emptied */
	memmove(k->buf, k->buf + off, k->len - off);
	k->len -= off;
}

static void on_signals(attached *a)
{
	struct signalfd_siginfo si;
	while (read(a->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
		a->m.ended =
		    true; /* TERM, INT, HUP: the terminal or the user */
}

static int64_t min64(int64_t x, int64_t y)
{
	return x < y ? x : y;
}

static short step(con_model *m, int in_fd, int max_ms)
{
	attached *a = (attached *)m;
	int64_t now = fb_now_ms();
	fb_error err;
	if (a->phase == DOWN && now >= a->retry_at && try_watch(a, &err) != 0)
		lose(a, "not running");
	if (a->phase == LIVE && !a->asked && now >= a->next_poll_at)
		ask_delta(a, now);
	if ((a->asked && now - a->asked_at > LOST_MS) ||
	    (a->phase == SNAPSHOT && now - a->watch_at > SNAPSHOT_DEADLINE_MS))
		lose(a, "it does not answer");
	bool slow = a->asked && now - a->asked_at > SLOW_MS;
	if (slow != a->slow) {
		a->slow = slow;
		m->changed = true;
	}
	int64_t wait = max_ms;
	if (a->phase == DOWN)
		wait = min64(wait, a->retry_at - now);
	if (a->phase == LIVE && !a->asked)
		wait = min64(wait, a->next_poll_at - now);
	if (a->asked)
		wait = min64(wait, a->asked_at + (a->slow ? LOST_MS : SLOW_MS) +
		                       1 - now);
	if (a->phase == SNAPSHOT)
		wait =
		    min64(wait, a->watch_at + SNAPSHOT_DEADLINE_MS + 1 - now);
	struct pollfd p[4] = {{in_fd, POLLIN, 0},
	                      {a->sigfd, POLLIN, 0},
	                      {a->watch.fd, POLLIN, 0},
	                      {a->poll.fd, POLLIN, 0}};
	if (poll(p, 4, (int)(wait < 0 ? 0 : wait)) > 0) {
		if (p[1].revents)
			on_signals(a);
		if (p[2].revents && a->watch.fd >= 0) {
			size_t had = a->watch.len;
			int closed = conn_read(&a->watch);
			if (a->phase == SNAPSHOT && a->watch.len != had)
				a->watch_at = fb_now_ms(); /* it is coming */
			if (closed) {
				take_lines(a, &a->watch,
				           true); /* its last words */
				if (a->watch.fd >= 0)
					lose(a, "it went away");
			} else {
				take_lines(a, &a->watch, true);
			}
		}
		if (p[3].revents && a->poll.fd >= 0) {
			if (conn_read(&a->poll) != 0) {
				conn_close(
				    &a->poll); /* again at the next poll */
				a->asked = a->slow = false;
			} else {
				take_lines(a, &a->poll, false);
			}
		}
	}
	return in_fd >= 0 ? p[0].revents : 0;
}

static void refresh(con_model *m)
{
	attached *a = (attached *)m;
	int64_t now = fb_now_ms();
	for (size_t i = 0; i < m->nrows; i++) {
		con_row *r = &m->rows[i];
		const row_time *t = &a->times[i];
		r->retry_in_ms =
		    r->state != FB_STATE_OPEN || t->retry_at < 0
		        ? -1
		        : (t->retry_at > now ? t->retry_at - now : 0);
		if (t->due_at < 0)
			r->next_in_ms = -1;
		else if (t->due_at >= now)
			r->next_in_ms = t->due_at - now;
		else if (t->interval_ms > 0) /* it kept its rhythm since */
			r->next_in_ms =
			    t->interval_ms - (now - t->due_at) % t->interval_ms;
		else
			r->next_in_ms = 0;
	}
	m->gate.retry_after_ms =
	    a->gate_retry_at > now ? a->gate_retry_at - now : 0;
	m->gate.override_left_ms =
	    a->gate_override_until > now ? a->gate_override_until - now : 0;
	bool live = a->phase == LIVE && !a->slow;
	m->src.live = live;
	m->src.actions = live;
	m->src.age_ms = live ? -1 : now - a->data_at;
	snprintf(m->src.trouble, sizeof m->src.trouble, "%s",
	         live      ? ""
	         : a->slow ? "NOT ANSWERING, waiting"
	                   : "DISCONNECTED, retrying");
	snprintf(m->src.no_action, sizeof m->src.no_action, "%s",
	         a->slow ? "the instance does not answer (NOT ANSWERING)"
	                 : "not connected to the instance (DISCONNECTED, "
	                   "retrying)");
}

static void focus(con_model *m, const uint32_t *rows, size_t n, long sel,
                  bool all_latency)
{
	attached *a = (attached *)m;
	if (all_latency != a->all_latency) {
		a->all_latency = all_latency;
		a->next_poll_at = fb_now_ms();
	}
	char(*shown)[FB_NAME_MAX] =
	    realloc(a->shown, (n ? n : 1) * FB_NAME_MAX);
	if (!shown)
		return;
	a->shown = shown;
	a->nshown = 0;
	for (size_t i = 0; i < n; i++) {
		if (rows[i] < m->nrows)
			memcpy(a->shown[a->nshown++], m->rows[rows[i]].name,
			       FB_NAME_MAX);
	}
	const char *want =
	    sel >= 0 && (size_t)sel < m->nrows ? m->rows[sel].name : "";
	if (strcmp(want, a->selected) != 0) {
		snprintf(a->selected, sizeof a->selected, "%s", want);
		a->next_poll_at = fb_now_ms(); /* its detail, soon */
	}
}

static bool detail(con_model *m, size_t row, con_detail *out)
{
	attached *a = (attached *)m;
	if (!a->have_detail || a->detail_row != (long)row)
		return false;
	*out = a->detail;
	if (out->for_ms >= 0)
		out->for_ms += fb_now_ms() - a->detail_at;
	out->snap.state = m->rows[row].state;
	return true;
}

/* Sends one op on a connection of its own; the instance records who by
 * SO_PEERCRED. Returns 0 when it said ok (msg: its "message", or ""), or
 * -1 (msg: why not). */
static int call(attached *a, cJSON *req, const char *what, char *msg,
                size_t len)
{
	fb_error err;
	cJSON *reply = fb_client_call(a->sock, req, ACTION_MS, &err);
	cJSON_Delete(req);
	if (!reply) {
		snprintf(msg, len, "%s refused: %s", what, err.text);
		return -1;
	}
	int rc = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))
	             ? 0
	             : -1;
	const char *e = str_of(reply, rc ? "error" : "message");
	char clean[200] = "";
	copy_text(clean, sizeof clean, e);
	if (rc)
		snprintf(msg, len, "%s refused: %s", what,
		         clean[0] ? clean : "the instance said no");
	else if (clean[0])
		snprintf(msg, len, "%s", clean);
	else
		msg[0] = '\0';
	cJSON_Delete(reply);
	return rc;
}

static int act(con_model *m, fb_action action, const char *dep,
               const char *reason, char *msg, size_t len)
{
	attached *a = (attached *)m;
	static const char *const modes[FB_ACT_COUNT] = {
	    [FB_ACT_GATE_BLOCK] = "block",
	    [FB_ACT_GATE_ALLOW] = "allow",
	    [FB_ACT_GATE_AUTO] = "auto"};
	char why[300];
	cJSON *req = cJSON_CreateObject();
	if (modes[action]) {
		cJSON_AddStringToObject(req, "op", "gate");
		cJSON_AddStringToObject(req, "mode", modes[action]);
	} else {
		cJSON_AddStringToObject(req, "op", fb_action_name(action));
		cJSON_AddStringToObject(req, "dep", dep ? dep : "");
	}
	/* who: the instance knows (SO_PEERCRED); how: we say */
	snprintf(why, sizeof why, "%s%svia console", reason ? reason : "",
	         reason && reason[0] ? " (" : "");
	if (reason && reason[0])
		snprintf(why + strlen(why), sizeof why - strlen(why), ")");
	cJSON_AddStringToObject(req, "reason", why);
	if (call(a, req, fb_action_name(action), msg, len) != 0)
		return -1;
	snprintf(msg, len, "done: %s%s%s, logged as %s via console",
	         fb_action_name(action), dep ? " " : "", dep ? dep : "",
	         a->actor);
	a->next_poll_at = fb_now_ms();
	return 0;
}

static int probe(con_model *m, const char *dep, char *msg, size_t len)
{
	attached *a = (attached *)m;
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "probe");
	cJSON_AddStringToObject(req, "dep", dep);
	int rc = call(a, req, "probe", msg, len);
	if (rc == 0 && !msg[0])
		snprintf(msg, len, "probing %s now", dep);
	return rc;
}

static con_model *fleet(con_model *m, fb_error *err)
{
	attached *a = (attached *)m;
	if (!a->has_fleet) {
		snprintf(err->text, sizeof err->text,
		         "no fleet: this instance has no [redis] section");
		return NULL;
	}
	return con_fleet_open(m, NULL, a->sock, a->actor, err);
}

static void free_attached(con_model *m)
{
	attached *a = (attached *)m;
	conn_close(&a->watch);
	conn_close(&a->poll);
	free(a->watch.buf);
	free(a->poll.buf);
	if (a->sigfd >= 0)
		close(a->sigfd);
	free(m->rows);
	free(a->times);
	free(a->slots);
	free(a->shown);
	free(a);
}

static const con_model_ops ops = {
    .step = step,
    .refresh = refresh,
    .focus = focus,
    .detail = detail,
    .act = act,
    .probe = probe,
    .free = free_attached,
    .fleet = fleet,
};

static int watch_signals(attached *a)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return a->sigfd < 0 ? -1 : 0;
}

con_model *con_model_attached(const fb_config *cfg, fb_error *err)
{
	attached *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err->text, sizeof err->text, "out of memory");
		return NULL;
	}
	a->m.ops = &ops;
	a->watch = (conn){.fd = -1, .max = WATCH_MAX};
	a->poll = (conn){.fd = -1, .max = POLL_MAX};
	a->sigfd = -1;
	a->backoff_ms = BACKOFF_FIRST_MS;
	a->detail_row = -1;
	a->m.gate_ttl_ms = cfg->gate_override_ttl_ms;
	a->reader.quiet = true;
	snprintf(a->reader.path, sizeof a->reader.path, "%s",
	         cfg->control_socket);
	snprintf(a->sock, sizeof a->sock, "%s", cfg->control_socket);
	snprintf(a->m.log_path, sizeof a->m.log_path, "%s", cfg->log);
	snprintf(a->m.config_path, sizeof a->m.config_path, "%s", cfg->path);
	struct passwd *pw = getpwuid(getuid());
	snprintf(a->actor, sizeof a->actor, "%s (uid %u)",
	         pw ? pw->pw_name : "?", (unsigned)getuid());
	if (watch_signals(a) != 0 || try_watch(a, err) != 0) {
		if (a->sigfd < 0)
			snprintf(err->text, sizeof err->text, "signalfd: %s",
			         strerror(errno));
		free_attached(&a->m);
		return NULL;
	}
	/* the first snapshot before the first screen: step() gives up on
	 * it after SNAPSHOT_DEADLINE_MS with nothing of it coming */
	while (a->phase == SNAPSHOT && !a->m.ended)
		step(&a->m, -1, 100);
	if (a->phase != LIVE) {
		snprintf(err->text, sizeof err->text,
		         "%s: the instance did not send its state", a->sock);
		free_attached(&a->m);
		return NULL;
	}
	refresh(&a->m);
	return &a->m;
}
