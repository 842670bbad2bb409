/* End to end: the fleet over Redis (SPEC 8). Three instances of one
 * service on this machine (each its own config, log and socket), one
 * real redis-server on a spare loopback port, and the fault-injection
 * fixture; each instance probes a path of its own, so one host can see
 * the dependency down while the others see it up. Every wait polls a
 * condition with a deadline. */
/* cmocka.h needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
/* clang-format on */

#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fleet.h"
#include "fleet_scripts.h"
#include "fleet_world.h"
#include "fusebox/client.h"
#include "fusebox/registry.h"
#include "helpers.h"

#define WAIT_MS 10000
#define CLI_MS  15000
#define NINST   TH_FLEET_N

static char g_fusebox[PATH_MAX];
static char g_fixture[PATH_MAX];

/* The world of every test: three instances and redis (fleet_world.h). */
typedef th_fleet world;
typedef th_fleet_inst inst;

static int setup(void **state)
{
	world *w = calloc(1, sizeof *w);
	if (!w)
		return -1;
	if (th_fleet_init(w, g_fusebox, g_fixture, WAIT_MS, CLI_MS) != 0) {
		th_fleet_free(w);
		free(w);
		return -1;
	}
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	world *w = *state;
	th_fleet_free(w);
	free(w);
	return 0;
}

static const char *nz(const char *s)
{
	return s ? s : "(null)";
}

/* `gate check --fleet` on instance i: exit code, reason in out. */
static int fleet_gate(const world *w, int i, char *out, size_t len)
{
	th_result r;
	int code = TH_FLEET_CLI(w, i, &r, "gate", "check", "--fleet");
	snprintf(out, len, "%s", r.out);
	out[strcspn(out, "\n")] = '\0';
	th_result_free(&r);
	return code;
}

typedef struct want_gate {
	const world *w;
	int i, code;
	const char *needle;
	char last[512];
} want_gate;

static bool gate_is(void *ctx)
{
	want_gate *g = ctx;
	int code = fleet_gate(g->w, g->i, g->last, sizeof g->last);
	return code == g->code && (!g->needle || strstr(g->last, g->needle));
}

static void wait_gate(const world *w, int i, int code, const char *needle,
                      int ms)
{
	want_gate g = {.w = w, .i = i, .code = code, .needle = needle};
	if (!th_wait_until(gate_is, &g, ms)) {
		th_fleet_show(w);
		fail_msg("%s: fleet gate never exit %d with '%s'; last: %s",
		         w->in[i].host, code, nz(needle), g.last);
	}
}

/* ---- 0. the pure fleet gate (src/core/fleet.c) ------------------------ */

typedef struct core_world {
	fb_config cfg;
	fb_registry reg;
	uint64_t rng;
	fb_fleet_view v;
} core_world;

static void core_init(core_world *c)
{
	memset(c, 0, sizeof *c);
	th_config_init(&c->cfg, 2);
	th_dep_init(&c->cfg.deps[0], "api", true);
	th_dep_init(&c->cfg.deps[1], "cache", false);
	c->rng = 7;
	fb_rng rng = {fb_rng_xorshift, &c->rng};
	assert_int_equal(fb_registry_init(&c->reg, &c->cfg, rng, 0), 0);
	for (int i = 0; i < 2; i++) {
		fb_fleet_inst *in = &c->v.inst[c->v.ninst++];
		snprintf(in->id, sizeof in->id, "%032d", i);
		snprintf(in->host, sizeof in->host, "web-%d", i + 1);
		in->deps[0] =
		    (fb_fleet_seen){"api", FB_STATE_CLOSED, FB_HEALTH_HEALTHY};
		in->deps[1] = (fb_fleet_seen){"cache", FB_STATE_OPEN,
		                              FB_HEALTH_UNHEALTHY};
		in->ndeps = 2;
	}
}

static void core_free(core_world *c)
{
	fb_registry_free(&c->reg);
	fb_config_free(&c->cfg);
}

static void test_core_fleet_gate(void **state)
{
	(void)state;
	core_world c;
	fb_fleet_decision d;
	core_init(&c);
	/* every critical dependency closed everywhere (a non-critical one
	 * open does not count), fresh: allowed */
	fb_fleet_gate_decide(&c.v, 1000, 15000, &c.reg, "", &d);
	assert_false(d.blocked);
	assert_non_null(strstr(d.reason, "2 instances"));
	/* stale: blocked with the age, whatever the view says */
	fb_fleet_gate_decide(&c.v, 47200, 15000, &c.reg, "", &d);
	assert_true(d.blocked);
	assert_string_equal(d.reason, "fleet view 47s old");
	fb_fleet_gate_decide(&c.v, 15001, 15000, &c.reg, "", &d);
	assert_true(d.blocked);
	fb_fleet_gate_decide(&c.v, 15000, 15000, &c.reg, "", &d);
	assert_false(d.blocked);
	/* no view at all: blocked, saying why */
	fb_fleet_gate_decide(NULL, 0, 15000, &c.reg, "redis: connect: refused",
	                     &d);
	assert_true(d.blocked);
	assert_string_equal(d.reason,
	                    "no fleet view yet (redis: connect: refused)");
	/* one host sees the critical one open: blocked, naming host and dep */
	c.v.inst[1].deps[0].state = FB_STATE_HALF_OPEN;
	fb_fleet_gate_decide(&c.v, 0, 15000, &c.reg, "", &d);
	assert_true(d.blocked);
	assert_string_equal(d.reason, "web-2 sees api half_open");
	/* forced closed passes; unknown health (not probed yet) does not */
	c.v.inst[1].deps[0].state = FB_STATE_FORCED_CLOSED;
	fb_fleet_gate_decide(&c.v, 0, 15000, &c.reg, "", &d);
	assert_false(d.blocked);
	c.v.inst[0].deps[0].health = FB_HEALTH_UNKNOWN;
	fb_fleet_gate_decide(&c.v, 0, 15000, &c.reg, "", &d);
	assert_true(d.blocked);
	assert_string_equal(d.reason, "web-1 has not probed api yet");
	c.v.inst[0].deps[0].health = FB_HEALTH_HEALTHY;
	/* an instance that does not watch a critical dependency blocks */
	c.v.inst[0].ndeps = 0;
	fb_fleet_gate_decide(&c.v, 0, 15000, &c.reg, "", &d);
	assert_true(d.blocked);
	assert_string_equal(d.reason, "web-1 does not watch api");
	c.v.inst[0].ndeps = 2;
	/* the fleet mode block wins over health */
	snprintf(c.v.gate.mode, sizeof c.v.gate.mode, "block");
	snprintf(c.v.gate.actor, sizeof c.v.gate.actor, "alice (uid 1000)");
	snprintf(c.v.gate.reason, sizeof c.v.gate.reason, "migration");
	fb_fleet_gate_decide(&c.v, 0, 15000, &c.reg, "", &d);
	assert_true(d.blocked);
	assert_string_equal(d.reason,
	                    "fleet gate locked by alice (uid 1000): migration");
	/* an empty live set is no evidence */
	c.v.gate.mode[0] = '\0';
	c.v.ninst = 0;
	fb_fleet_gate_decide(&c.v, 0, 15000, &c.reg, "", &d);
	assert_true(d.blocked);
	core_free(&c);
}

static void test_core_quorum_and_lease(void **state)
{
	(void)state;
	core_world c;
	char why[256];
	int n;
	core_init(&c);
	fb_fleet_votes *v = &c.v.votes[c.v.nvotes++];
	snprintf(v->name, sizeof v->name, "api");
	/* a vote of an instance that is not live does not count */
	snprintf(v->ids[v->n++], sizeof v->ids[0], "%032d", 7);
	assert_false(fb_fleet_quorum(&c.v, "api", 1, why, sizeof why, &n));
	assert_int_equal(n, 0);
	snprintf(v->ids[v->n++], sizeof v->ids[0], "%032d", 1);
	assert_true(fb_fleet_quorum(&c.v, "api", 1, why, sizeof why, &n));
	assert_string_equal(why, "quorum 1 of 2: web-2 sees api down");
	assert_false(fb_fleet_quorum(&c.v, "api", 2, why, sizeof why, &n));
	snprintf(v->ids[v->n++], sizeof v->ids[0], "%032d", 0);
	assert_true(fb_fleet_quorum(&c.v, "api", 2, why, sizeof why, &n));
	assert_int_equal(n, 2);
	assert_string_equal(why, "quorum 2 of 2: web-2, web-1 see api down");
	assert_false(fb_fleet_quorum(&c.v, "cache", 1, why, sizeof why, &n));

	/* the lease: free once the wait is over and no unexpired lease is
	 * held; mine only with the gen it was granted at */
	fb_fleet_dep r = {.gen = 5, .open_until_ms = 1000};
	snprintf(r.state, sizeof r.state, "open");
	assert_false(fb_fleet_trial_free(&r, 999));
	assert_true(fb_fleet_trial_free(&r, 1000));
	snprintf(r.trial_owner, sizeof r.trial_owner, "me");
	r.trial_exp_ms = 4000;
	assert_false(fb_fleet_trial_free(&r, 3999));
	assert_true(fb_fleet_trial_free(&r, 4000));
	assert_true(fb_fleet_trial_mine(&r, "me", 5, 3999));
	assert_false(fb_fleet_trial_mine(&r, "me", 4, 3999)); /* old lease */
	assert_false(fb_fleet_trial_mine(&r, "you", 5, 3999));
	assert_false(fb_fleet_trial_mine(&r, "me", 5, 4000)); /* expired */
	/* the others wait for the lease and a margin for its result */
	assert_int_equal(fb_fleet_follow_wait(&r, 1500, 2000), 4500);
	r.trial_owner[0] = '\0';
	assert_int_equal(fb_fleet_follow_wait(&r, 500, 2000), 2500);
	assert_int_equal(fb_fleet_follow_wait(&r, 1500, 2000), 2000);
	snprintf(r.state, sizeof r.state, "closed");
	assert_false(fb_fleet_trial_free(&r, 9000));
	core_free(&c);
}

/* ---- 1. three instances share one view; one host's open blocks all ---- */

static void test_view_and_fleet_gate(void **state)
{
	world *w = *state;
	char reason[512];
	for (int i = 0; i < NINST; i++)
		th_fleet_start(w, i);
	for (int i = 0; i < NINST; i++)
		th_fleet_wait_live(w, i, NINST, WAIT_MS);
	for (int i = 0; i < NINST; i++)
		wait_gate(w, i, 0, "3 instances", WAIT_MS);
	/* instance ids: stable, in a file next to each log */
	char path[512], id[64] = "";
	snprintf(path, sizeof path, "%s.instance", w->in[0].log);
	assert_true(th_read_file(path, id, sizeof id) > 0);
	id[strcspn(id, "\n")] = '\0';
	assert_int_equal(strlen(id), 32);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);

	/* web-2 alone sees api down: every instance's fleet gate blocks,
	 * naming it; web-1's own gate stays allowed */
	assert_int_equal(th_fixture_set(&w->e->fx, "/api-b", "fail"), 0);
	for (int i = 0; i < NINST; i++)
		wait_gate(w, i, 75, "web-2 sees api open", WAIT_MS);
	th_result r;
	assert_int_equal(TH_FLEET_CLI(w, 0, &r, "gate", "check"), 0);
	th_result_free(&r);
	assert_int_equal(fleet_gate(w, 0, reason, sizeof reason), 75);
	print_message("fleet gate: %s\n", reason);
	/* libfusebox asks the same question */
	char why[256];
	assert_false(
	    fb_gate_allows_fleet(w->in[0].sock, 5000, why, sizeof why));
	assert_string_equal(why, "web-2 sees api open");
	assert_true(fb_gate_allows(w->in[0].sock, 5000, why, sizeof why));

	/* the table names the host and what it sees */
	assert_int_equal(TH_FLEET_CLI(w, 0, &r, "status", "--fleet"), 0);
	print_message("%s", r.out);
	assert_non_null(strstr(r.out, "web-2"));
	assert_non_null(strstr(r.out, "api open"));
	th_result_free(&r);

	assert_int_equal(th_fixture_set(&w->e->fx, "/api-b", "ok"), 0);
	assert_int_equal(TH_FLEET_CLI(w, 1, &r, "reset", "api"), 0);
	th_result_free(&r);
	for (int i = 0; i < NINST; i++)
		wait_gate(w, i, 0, "3 instances", WAIT_MS);
	assert_true(fb_gate_allows_fleet(w->in[0].sock, 5000, why, sizeof why));

	/* the id survives a restart */
	th_kill(w->in[0].pid, SIGTERM, 5000);
	w->in[0].pid = 0;
	th_fleet_start(w, 0);
	cJSON *doc = NULL;
	for (int tries = 0; tries < 50; tries++) {
		cJSON_Delete(doc);
		doc = th_fleet_status(w, 0);
		if (doc)
			break;
		th_sleep_ms(100);
	}
	assert_non_null(doc);
	assert_string_equal(nz(th_json_str(doc, "instance")), id);
	cJSON_Delete(doc);
}

/* ---- 2. an instance killed -9 drops out after three heartbeats ------- */

static void test_killed_instance_drops_out(void **state)
{
	world *w = *state;
	for (int i = 0; i < NINST; i++)
		th_fleet_start(w, i);
	th_fleet_wait_live(w, 0, NINST, WAIT_MS);
	/* web-3 sees api open: the fleet is blocked because of it */
	assert_int_equal(th_fixture_set(&w->e->fx, "/api-c", "fail"), 0);
	wait_gate(w, 0, 75, "web-3 sees api open", WAIT_MS);
	int64_t t0 = th_now_ms();
	th_kill(w->in[2].pid, SIGKILL, 5000);
	w->in[2].pid = 0;
	/* gone from the live set within 3 heartbeats (and a little), and
	 * the fleet gate says who is left */
	th_fleet_wait_live(w, 0, 2, 5000);
	int64_t gone = th_now_ms() - t0;
	print_message("web-3 left the live set after %lld ms\n",
	              (long long)gone);
	assert_true(gone >= 1500);
	wait_gate(w, 0, 0, "2 instances", 3000);
	wait_gate(w, 1, 0, "2 instances", 3000);
}

/* ---- 3. Redis away: local-first, fail closed, catch up exactly once -- */

/* A snapshot (dump.rdb in its dir), so that a Redis killed afterwards
 * comes back with the stream and the cursors as they were then. */
static void redis_save(const world *w)
{
	char port[16];
	snprintf(port, sizeof port, "%d", w->e->redis.port);
	char *argv[] = {"redis-cli", "-p", port, "SAVE", NULL};
	th_result r;
	assert_int_equal(th_run(argv, 10000, &r), 0);
	assert_int_equal(strncmp(r.out, "OK", 2), 0);
	th_result_free(&r);
}

/* The stream as (instance, seq) pairs, in stream order, through
 * redis-cli --raw. */
typedef struct entry {
	char inst[40];
	unsigned long long seq;
	char kind[24];
	long lost; /* of a gap */
} entry;

static int read_stream(const world *w, entry *out, int cap)
{
	char port[16];
	snprintf(port, sizeof port, "%d", w->e->redis.port);
	char *argv[] = {"redis-cli", "-p",     port,
	                "--raw",     "XRANGE", "{fusebox:svc}:events",
	                "-",         "+",      NULL};
	th_result r;
	assert_int_equal(th_run(argv, 10000, &r), 0);
	int n = -1;
	char *save = NULL;
	const char *field = NULL;
	for (char *line = strtok_r(r.out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (field) {
			if (n >= 0 && n < cap && strcmp(field, "instance") == 0)
				snprintf(out[n].inst, sizeof out[n].inst, "%s",
				         line);
			else if (n >= 0 && n < cap && strcmp(field, "seq") == 0)
				out[n].seq = strtoull(line, NULL, 10);
			else if (n >= 0 && n < cap &&
			         strcmp(field, "event") == 0) {
				cJSON *ev = cJSON_Parse(line);
				snprintf(out[n].kind, sizeof out[n].kind, "%s",
				         nz(th_json_str(ev, "kind")));
				out[n].lost = (long)th_json_num(ev, "lost", -1);
				cJSON_Delete(ev);
			}
			field = NULL;
		} else if (strchr(line, '-') && line[0] >= '0' &&
		           line[0] <= '9' && !strchr(line, '{')) {
			n++; /* an entry id */
			if (n < cap)
				memset(&out[n], 0, sizeof out[n]);
		} else {
			static char name[32];
			snprintf(name, sizeof name, "%s", line);
			field = name;
		}
	}
	th_result_free(&r);
	return n + 1;
}

static void instance_id(const inst *in, char *id, size_t len)
{
	char path[512];
	snprintf(path, sizeof path, "%s.instance", in->log);
	assert_true(th_read_file(path, id, len) > 0);
	id[strcspn(id, "\n")] = '\0';
}

/* Every event instance i logged is in the stream exactly once, in seq
 * order; false (with why) when not yet. */
static bool stream_matches_log(const world *w, int i, const entry *s, int n,
                               char *why, size_t len)
{
	char id[64], path[512];
	snprintf(path, sizeof path, "%s.instance", w->in[i].log);
	if (access(path, F_OK) != 0)
		return true; /* never started */
	instance_id(&w->in[i], id, sizeof id);
	cJSON *log = th_jsonl_read(w->in[i].log, NULL, NULL);
	int nlog = cJSON_GetArraySize(log);
	int k = 0;
	unsigned long long last = 0;
	bool ok = true;
	for (int j = 0; j < n && ok; j++) {
		if (strcmp(s[j].inst, id) != 0)
			continue;
		if (s[j].seq <= last) {
			snprintf(why, len, "%s: seq %llu after %llu",
			         w->in[i].host, s[j].seq, last);
			ok = false;
		}
		last = s[j].seq;
		k++;
	}
	/* the stop event of a running instance is not logged yet: compare
	 * with what the log holds now */
	if (ok && k != nlog) {
		snprintf(why, len, "%s: %d in the stream, %d in the log",
		         w->in[i].host, k, nlog);
		ok = false;
	}
	for (int j = 0, m = 0; ok && j < n; j++) {
		if (strcmp(s[j].inst, id) != 0)
			continue;
		double seq =
		    th_json_num(cJSON_GetArrayItem(log, m++), "seq", -1);
		if ((unsigned long long)seq != s[j].seq) {
			snprintf(why, len, "%s: stream seq %llu, log seq %.0f",
			         w->in[i].host, s[j].seq, seq);
			ok = false;
		}
	}
	cJSON_Delete(log);
	return ok;
}

typedef struct want_stream {
	const world *w;
	char why[256];
} want_stream;

static bool all_published(void *ctx)
{
	want_stream *c = ctx;
	static entry s[4000];
	int n = read_stream(c->w, s, 4000);
	for (int i = 0; i < NINST; i++)
		if (!stream_matches_log(c->w, i, s, n, c->why, sizeof c->why))
			return false;
	return true;
}

static void test_redis_outage_exactly_once(void **state)
{
	world *w = *state;
	char reason[512];
	for (int i = 0; i < NINST; i++)
		th_fleet_start(w, i);
	th_fleet_wait_live(w, 0, NINST, WAIT_MS);
	wait_gate(w, 0, 0, "3 instances", WAIT_MS);
	want_stream c = {.w = w};
	if (!th_wait_until(all_published, &c, WAIT_MS))
		fail_msg("before the outage: %s", c.why);
	static entry s[4000];
	redis_save(w);
	int before = read_stream(w, s, 4000);

	th_redis_kill(&w->e->redis);
	int64_t t0 = th_now_ms();
	/* events while Redis is away: web-1 and web-2 see api fail and
	 * recover */
	assert_int_equal(th_fixture_set(&w->e->fx, "/api-a", "fail"), 0);
	assert_int_equal(th_fixture_set(&w->e->fx, "/api-b", "fail"), 0);
	assert_true(th_wait_events(w->in[0].log, 1, "transition", "api",
	                           "closed", "open", WAIT_MS));
	assert_true(th_wait_events(w->in[1].log, 1, "transition", "api",
	                           "closed", "open", WAIT_MS));
	th_result r;
	/* back up, then reset: no failure in between reopens it */
	assert_int_equal(th_fixture_set(&w->e->fx, "/api-a", "ok"), 0);
	assert_int_equal(th_fixture_set(&w->e->fx, "/api-b", "ok"), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(TH_FLEET_CLI(w, i, &r, "reset", "api",
		                              "--reason", "outage"),
		                 0);
		th_result_free(&r);
	}

	/* local-first: each works alone and says so; the fleet gate fails
	 * closed once the view is older than stale_after (3s) */
	for (int i = 0; i < NINST; i++)
		wait_gate(w, i, 75, "fleet view", 6000);
	assert_int_equal(fleet_gate(w, 2, reason, sizeof reason), 75);
	print_message("while redis is away: %s\n", reason);
	assert_non_null(strstr(reason, "old"));
	assert_int_equal(TH_FLEET_CLI(w, 2, &r, "status"), 0);
	assert_non_null(strstr(r.out, "working alone from own probes"));
	th_result_free(&r);
	cJSON *doc = th_fleet_status(w, 2);
	assert_non_null(doc);
	assert_string_equal(nz(th_json_str(doc, "mode")), "local");
	cJSON_Delete(doc);
	/* the instances' own gates still answer from their own probes */
	assert_int_equal(TH_FLEET_CLI(w, 2, &r, "gate", "check"), 0);
	th_result_free(&r);

	int64_t left = 10000 - (th_now_ms() - t0);
	if (left > 0)
		th_sleep_ms((int)left);
	assert_int_equal(
	    th_redis_start(&w->e->redis, w->e->dir, w->e->redis.port), 0);
	/* back: every instance catches up, every event exactly once, in
	 * per-instance order */
	if (!th_wait_until(all_published, &c, 15000)) {
		th_fleet_show(w);
		fail_msg("after the outage: %s", c.why);
	}
	/* the stream came back as it was, and grew */
	int after = read_stream(w, s, 4000);
	print_message("stream: %d entries before the outage, %d after\n",
	              before, after);
	assert_true(before > 0 && after > before);
	wait_gate(w, 0, 0, "3 instances", WAIT_MS);
}

/* ---- 4. ACL users: the README's rights work, fewer are refused -------- */

static void redis_cli(const world *w, const char *const *args)
{
	char port[16];
	char *argv[48];
	size_t n = 0;
	snprintf(port, sizeof port, "%d", w->e->redis.port);
	argv[n++] = "redis-cli";
	argv[n++] = "-p";
	argv[n++] = port;
	while (*args && n < 47)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	th_result r;
	assert_int_equal(th_run(argv, 10000, &r), 0);
	if (strncmp(r.out, "OK", 2) != 0)
		fail_msg("redis-cli: %s", r.out);
	th_result_free(&r);
}

#define REDIS(w, ...) redis_cli((w), (const char *const[]){__VA_ARGS__, NULL})

/* The rights of the README's line (README.md, "The fleet: Redis, TLS and
 * ACL"), read from it: what the README tells users to run is what is
 * tested. Fills args (NULL-terminated) from text; the count. */
#define ACL_LINE "ACL SETUSER fusebox on >CHANGE-ME ~{fusebox:checkout}* "

static int readme_rights(char *text, const char **args, int cap)
{
	char *line = strstr(text, ACL_LINE);
	int n = 0;
	assert_non_null(line);
	line += strlen(ACL_LINE);
	line[strcspn(line, "\n")] = '\0';
	char *save = NULL;
	for (char *t = strtok_r(line, " ", &save); t && n < cap - 1;
	     t = strtok_r(NULL, " ", &save))
		args[n++] = t;
	args[n] = NULL;
	return n;
}

static void test_acl_user(void **state)
{
	world *w = *state;
	size_t len = 0;
	char *readme = th_slurp("README.md", &len);
	assert_non_null(readme);
	const char *acl[48] = {"ACL", "SETUSER", "fusebox",
	                       "on",  ">s3cret", "~{fusebox:svc}*"};
	int nr = readme_rights(readme, acl + 6, 48 - 6);
	print_message("the README's rights: %d\n", nr);
	assert_true(nr > 10);
	redis_cli(w, acl);
	free(readme);
	REDIS(w, "ACL", "SETUSER", "weak", "on", ">s3cret", "~{fusebox:svc}*",
	      "resetchannels", "-@all", "+ping", "+script|load", "+evalsha");
	/* the password from a file only its owner can read */
	char pw[512];
	th_write_file(w->e->dir, "pw", "s3cret\n", pw, sizeof pw);
	chmod(pw, 0600);
	snprintf(w->redis_extra, sizeof w->redis_extra,
	         "user = fusebox\npassword_file = %s\n", pw);
	th_fleet_start(w, 0);
	th_fleet_wait_live(w, 0, 1, WAIT_MS);
	wait_gate(w, 0, 0, "1 instance", WAIT_MS);
	/* and it publishes its events with them */
	want_stream c = {.w = w};
	if (!th_wait_until(all_published, &c, WAIT_MS)) {
		th_fleet_show(w);
		fail_msg("the README's user does not publish: %s", c.why);
	}

	/* the password from the environment; a user without the rights */
	setenv("FUSEBOX_REDIS_PASSWORD", "s3cret", 1);
	snprintf(w->redis_extra, sizeof w->redis_extra, "user = weak\n");
	th_fleet_start(w, 1);
	unsetenv("FUSEBOX_REDIS_PASSWORD");
	cJSON *doc = NULL;
	const char *err = "";
	for (int tries = 0; tries < 100; tries++) {
		cJSON_Delete(doc);
		doc = th_fleet_status(w, 1);
		err = doc ? nz(th_json_str(doc, "error")) : "";
		if (strstr(err, "NOPERM"))
			break;
		th_sleep_ms(100);
	}
	print_message("weak user: %s\n", err);
	assert_non_null(strstr(err, "NOPERM"));
	assert_non_null(strstr(err, "no permissions"));
	cJSON_Delete(doc);
	/* and it still protects its service alone */
	th_result r;
	assert_true(th_wait_events(w->in[1].log, 1, "gate", NULL, "blocked",
	                           "allowed", WAIT_MS));
	assert_int_equal(TH_FLEET_CLI(w, 1, &r, "gate", "check"), 0);
	th_result_free(&r);
	/* the good one never saw the weak one */
	assert_int_equal(th_fleet_live_count(w, 0), 1);

	/* a wrong password: refused with a clear message */
	setenv("FUSEBOX_REDIS_PASSWORD", "wrong", 1);
	snprintf(w->redis_extra, sizeof w->redis_extra, "user = fusebox\n");
	th_fleet_start(w, 2);
	unsetenv("FUSEBOX_REDIS_PASSWORD");
	assert_true(th_wait_file_contains(w->in[2].err,
	                                  "AUTH refused for user "
	                                  "'fusebox'",
	                                  WAIT_MS));
}

/* ---- 5. a password file others can read stops the start --------------- */

static void test_password_file_must_be_private(void **state)
{
	world *w = *state;
	char pw[512];
	th_write_file(w->e->dir, "pw", "s3cret\n", pw, sizeof pw);
	chmod(pw, 0644);
	snprintf(w->redis_extra, sizeof w->redis_extra, "password_file = %s\n",
	         pw);
	th_fleet_write_config(w, &w->in[0]);
	char *argv[] = {g_fusebox, "run", "--config", w->in[0].cfg, NULL};
	th_result r;
	assert_int_equal(th_run(argv, CLI_MS, &r), 78);
	print_message("%s", r.err);
	assert_non_null(strstr(r.err, "readable by others"));
	assert_non_null(strstr(r.err, "[redis]"));
	th_result_free(&r);
}

/* ---- 6. fleet actions reach every instance within a heartbeat --------- */

typedef struct want_action {
	const world *w;
	const char *action;
	const char *from; /* "via the fleet from web-1" */
} want_action;

static bool all_logged(void *ctx)
{
	want_action *a = ctx;
	for (int i = 0; i < NINST; i++) {
		cJSON *ev = th_jsonl_read(a->w->in[i].log, NULL, NULL);
		bool found = false;
		const cJSON *e;
		cJSON_ArrayForEach(e, ev)
		{
			const char *act = th_json_str(e, "action");
			const char *actor = th_json_str(e, "actor");
			if (act && strcmp(act, a->action) == 0 && actor &&
			    strstr(actor, a->from))
				found = true;
		}
		cJSON_Delete(ev);
		if (!found)
			return false;
	}
	return true;
}

/* From the origin's own applying of an action (it reads the record back
 * at once) to the last instance's, by the events' ts: the spread of the
 * action over the fleet, without the CLI's own time. */
static int64_t spread_ms(const world *w, const want_action *a, int origin)
{
	int64_t at[NINST], last = 0;
	for (int i = 0; i < NINST; i++) {
		cJSON *ev = th_jsonl_read(w->in[i].log, NULL, NULL);
		const cJSON *e;
		at[i] = -1;
		cJSON_ArrayForEach(e, ev)
		{
			const char *act = th_json_str(e, "action");
			const char *actor = th_json_str(e, "actor");
			if (at[i] < 0 && act && strcmp(act, a->action) == 0 &&
			    actor && strstr(actor, a->from))
				at[i] = th_rfc3339_ms(nz(th_json_str(e, "ts")));
		}
		cJSON_Delete(ev);
		assert_true(at[i] > 0);
		last = at[i] > last ? at[i] : last;
	}
	return last - at[origin];
}

static void test_fleet_trip_and_gate_lock(void **state)
{
	world *w = *state;
	th_result r;
	for (int i = 0; i < NINST; i++)
		th_fleet_start(w, i);
	th_fleet_wait_live(w, 0, NINST, WAIT_MS);
	wait_gate(w, 0, 0, "3 instances", WAIT_MS);

	int64_t t0 = th_now_ms();
	assert_int_equal(TH_FLEET_CLI(w, 0, &r, "trip", "api", "--fleet",
	                              "--reason", "drill"),
	                 0);
	print_message("%s", r.out);
	assert_non_null(strstr(r.out, "3 live instances"));
	th_result_free(&r);
	want_action a = {w, "trip", "via the fleet from web-1"};
	if (!th_wait_until(all_logged, &a, 3000)) {
		th_fleet_show(w);
		fail_msg("the fleet trip did not reach every instance");
	}
	int64_t took = th_now_ms() - t0, spread = spread_ms(w, &a, 0);
	print_message("fleet trip reached all in %lld ms (%lld ms after "
	              "web-1 applied it)\n",
	              (long long)took, (long long)spread);
	assert_true(spread < 1500); /* a heartbeat, and scheduling */
	for (int i = 0; i < NINST; i++) {
		assert_int_equal(TH_FLEET_CLI(w, i, &r, "gate", "check"), 75);
		th_result_free(&r);
		cJSON *ev = th_jsonl_read(w->in[i].log, NULL, NULL);
		assert_true(th_events_count(ev, "transition", "api", NULL,
		                            "forced_open") == 1);
		cJSON_Delete(ev);
	}

	t0 = th_now_ms();
	assert_int_equal(TH_FLEET_CLI(w, 1, &r, "gate", "block", "--fleet",
	                              "--reason", "migration"),
	                 0);
	th_result_free(&r);
	/* every instance logs the lock within a heartbeat */
	want_action lock = {w, "gate_block", "via the fleet from web-2"};
	if (!th_wait_until(all_logged, &lock, 3000)) {
		th_fleet_show(w);
		fail_msg("the fleet gate lock did not reach every instance");
	}
	took = th_now_ms() - t0;
	spread = spread_ms(w, &lock, 1);
	print_message("fleet gate lock reached all in %lld ms (%lld ms after "
	              "web-2 applied it)\n",
	              (long long)took, (long long)spread);
	assert_true(spread < 1500); /* a heartbeat, and scheduling */
	for (int i = 0; i < NINST; i++)
		wait_gate(w, i, 75, "fleet gate locked by", 1500);

	/* and back: every instance follows */
	assert_int_equal(TH_FLEET_CLI(w, 2, &r, "reset", "api", "--fleet"), 0);
	th_result_free(&r);
	assert_int_equal(TH_FLEET_CLI(w, 2, &r, "gate", "auto", "--fleet"), 0);
	th_result_free(&r);
	for (int i = 0; i < NINST; i++)
		wait_gate(w, i, 0, "3 instances", 5000);
}

/* ---- 8. quorum open: 1 and 2 ------------------------------------------ */

/* The first transition of api to `to` in instance i's log, or NULL. */
static const cJSON *first_to(const cJSON *ev, const char *to)
{
	return th_events_nth(ev, 0, "transition", "api", NULL, to);
}

static void wait_open(const world *w, int i, int ms)
{
	if (!th_wait_events(w->in[i].log, 1, "transition", "api", NULL, "open",
	                    ms)) {
		th_fleet_show(w);
		fail_msg("%s never opened api", w->in[i].host);
	}
}

/* Would instance i let a call to api through now? Its breaker state, as
 * `status --json` says (the `allow` op hands out the same answer). */
static bool allowed_now(const world *w, int i)
{
	th_result r;
	bool yes = false;
	if (TH_FLEET_CLI(w, i, &r, "status", "--json") == 0) {
		cJSON *doc = cJSON_Parse(r.out);
		const cJSON *d = cJSON_GetArrayItem(
		    cJSON_GetObjectItemCaseSensitive(doc, "dependencies"), 0);
		yes = strcmp(nz(th_json_str(d, "state")), "closed") == 0;
		cJSON_Delete(doc);
	}
	th_result_free(&r);
	return yes;
}

static void test_quorum_one(void **state)
{
	world *w = *state;
	w->quorum = 1;
	for (int i = 0; i < NINST; i++)
		th_fleet_start(w, i);
	th_fleet_wait_live(w, 0, NINST, WAIT_MS);
	wait_gate(w, 0, 0, "3 instances", WAIT_MS);
	assert_true(allowed_now(w, 2));
	/* one instance sees api down: with quorum 1 its open is everyone's */
	assert_int_equal(th_fixture_set(&w->e->fx, "/api-a", "fail"), 0);
	for (int i = 0; i < NINST; i++)
		wait_open(w, i, WAIT_MS);
	cJSON *a = th_jsonl_read(w->in[0].log, NULL, NULL);
	int64_t t0 = th_rfc3339_ms(nz(th_json_str(first_to(a, "open"), "ts")));
	int64_t last = t0;
	for (int i = 1; i < NINST; i++) {
		cJSON *ev = th_jsonl_read(w->in[i].log, NULL, NULL);
		const cJSON *o = first_to(ev, "open");
		const char *why = nz(th_json_str(o, "reason"));
		print_message("%s: %s\n", w->in[i].host, why);
		assert_non_null(
		    strstr(why, "quorum 1 of 3: web-1 sees api down"));
		int64_t t = th_rfc3339_ms(nz(th_json_str(o, "ts")));
		last = t > last ? t : last;
		cJSON_Delete(ev);
		/* every instance rejects at once */
		assert_false(allowed_now(w, i));
	}
	cJSON_Delete(a);
	print_message("open on web-1 to open everywhere: %lld ms\n",
	              (long long)(last - t0));
	assert_true(last - t0 <= 1500);
}

static void test_quorum_two(void **state)
{
	world *w = *state;
	w->quorum = 2;
	for (int i = 0; i < NINST; i++)
		th_fleet_start(w, i);
	th_fleet_wait_live(w, 0, NINST, WAIT_MS);
	wait_gate(w, 0, 0, "3 instances", WAIT_MS);
	/* one bad instance cannot open a healthy fleet */
	assert_int_equal(th_fixture_set(&w->e->fx, "/api-a", "fail"), 0);
	wait_open(w, 0, WAIT_MS);
	th_sleep_ms(3000);
	for (int i = 1; i < NINST; i++) {
		cJSON *ev = th_jsonl_read(w->in[i].log, NULL, NULL);
		assert_null(first_to(ev, "open"));
		cJSON_Delete(ev);
		assert_true(allowed_now(w, i));
	}
	/* a second one: quorum, and the third follows */
	assert_int_equal(th_fixture_set(&w->e->fx, "/api-b", "fail"), 0);
	wait_open(w, 2, WAIT_MS);
	cJSON *ev = th_jsonl_read(w->in[2].log, NULL, NULL);
	const char *why = nz(th_json_str(first_to(ev, "open"), "reason"));
	print_message("web-3: %s\n", why);
	assert_non_null(strstr(why, "quorum 2 of 3: "));
	assert_non_null(strstr(why, "web-1"));
	assert_non_null(strstr(why, "web-2"));
	cJSON_Delete(ev);
	assert_false(allowed_now(w, 2));
	/* status --fleet says what the fleet decided, and who decided it */
	th_result r;
	assert_int_equal(TH_FLEET_CLI(w, 2, &r, "status", "--fleet"), 0);
	print_message("%s", r.out);
	assert_non_null(strstr(r.out, "FLEET RECORDS"));
	assert_non_null(strstr(r.out, "api: open for "));
	assert_non_null(strstr(r.out, "(quorum 2 of 3: "));
	th_result_free(&r);
}

/* ---- 9. one half-open trial for the whole fleet ------------------------ */

static long fleet_requests(const world *w)
{
	long n = 0;
	for (int i = 0; i < NINST; i++) {
		char path[16];
		snprintf(path, sizeof path, "/api-%c", 'a' + i);
		n += th_fixture_count(&w->e->fx, path);
	}
	return n;
}

static void set_all(const world *w, const char *mode)
{
	for (int i = 0; i < NINST; i++) {
		char path[16];
		snprintf(path, sizeof path, "/api-%c", 'a' + i);
		assert_int_equal(th_fixture_set(&w->e->fx, path, mode), 0);
	}
}

/* Has any instance logged its api closing after a trial? Its index. */
static int closed_after_trial(const world *w)
{
	for (int i = 0; i < NINST; i++)
		if (th_wait_events(w->in[i].log, 1, "transition", "api",
		                   "half_open", "closed", 0))
			return i;
	return -1;
}

typedef struct want_more {
	const world *w;
	long than;
} want_more;

static bool more_requests(void *ctx)
{
	want_more *m = ctx;
	return fleet_requests(m->w) > m->than;
}

static void test_one_fleet_trial(void **state)
{
	world *w = *state;
	w->quorum = 1;
	/* the timeout outlasts the slow answer of the second round */
	snprintf(w->defaults, sizeof w->defaults,
	         "interval = 200ms\ntimeout = 3s\nfailure_threshold = 2\n"
	         "recovery_timeout = 2s\njitter = 0\n");
	for (int i = 0; i < NINST; i++)
		th_fleet_start(w, i);
	th_fleet_wait_live(w, 0, NINST, WAIT_MS);
	wait_gate(w, 0, 0, "3 instances", WAIT_MS);
	assert_int_equal(th_fixture_set(&w->e->fx, "/api-a", "fail"), 0);
	for (int i = 0; i < NINST; i++)
		wait_open(w, i, WAIT_MS);
	/* every path fails from now on (never a moment of ok, as a clear
	 * would give); all three are open, so none probes until the
	 * trial: requests count from here */
	set_all(w, "fail");
	long base = fleet_requests(w);
	/* the first trial round: one request across the three, then the
	 * fleet opens again for longer (4s) */
	want_more m = {w, base};
	if (!th_wait_until(more_requests, &m, 20000)) {
		th_fleet_show(w);
		fail_msg("no trial within 20s");
	}
	th_sleep_ms(1500);
	long round1 = fleet_requests(w) - base;
	print_message("first trial round: %ld request(s)\n", round1);
	assert_int_equal(round1, 1);
	assert_int_equal(closed_after_trial(w), -1);
	/* the second round succeeds, answered after a second: until anyone
	 * has logged the close, the fixture has had one request of it, and
	 * never two. A count read before a look at the logs that finds no
	 * close is a count from before the close (the winner probes again
	 * after it, the others once they follow). */
	base = fleet_requests(w);
	set_all(w, "slow:1000");
	long most = 0;
	int winner = -1, looks = 0;
	int64_t t0 = th_now_ms();
	while (winner < 0 && th_now_ms() - t0 < 20000) {
		long n = fleet_requests(w) - base;
		winner = closed_after_trial(w);
		if (winner < 0) {
			most = n > most ? n : most;
			looks += n == 1;
			if (n > 1) {
				th_fleet_show(w);
				fail_msg("%ld requests in the second round "
				         "before anyone closed",
				         n);
			}
		}
		th_sleep_ms(10);
	}
	if (winner < 0) {
		th_fleet_show(w);
		fail_msg("no instance closed api within 20s");
	}
	print_message("%s ran the trial; the second round's request seen %d "
	              "time(s) before the close, never more than %ld\n",
	              w->in[winner].host, looks, most);
	assert_int_equal(most, 1);
	for (int i = 0; i < NINST; i++) {
		if (i == winner)
			continue;
		assert_true(th_wait_events(w->in[i].log, 1, "transition", "api",
		                           "open", "closed", WAIT_MS));
		cJSON *ev = th_jsonl_read(w->in[i].log, NULL, NULL);
		const char *why = nz(th_json_str(
		    th_events_nth(ev, 0, "transition", "api", "open", "closed"),
		    "reason"));
		print_message("%s: %s\n", w->in[i].host, why);
		assert_non_null(strstr(why, "fleet: the trial on"));
		assert_non_null(strstr(why, w->in[winner].host));
		/* a follower never ran a trial of its own */
		assert_int_equal(th_events_count(ev, "transition", "api",
		                                 "open", "half_open"),
		                 0);
		cJSON_Delete(ev);
	}
}

/* ---- 10. a skewed clock changes nothing -------------------------------- */

/* Starts instance i with libfaketime preloaded (Debian's faketime; the
 * faketime wrapper forks, so the preload is set here and the pid is the
 * instance's own). ASan must be told not to insist on coming first. */
#define LIBFAKETIME "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

static void start_skewed(world *w, int i, const char *offset)
{
	inst *in = &w->in[i];
	char asan[512];
	const char *was = getenv("ASAN_OPTIONS");
	snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0",
	         was ? was : "", was && was[0] ? ":" : "");
	char *saved = was ? strdup(was) : NULL;
	setenv("ASAN_OPTIONS", asan, 1);
	setenv("LD_PRELOAD", LIBFAKETIME, 1);
	setenv("FAKETIME", offset, 1);
	th_fleet_write_config(w, in);
	char *argv[] = {g_fusebox, "run", "--config", in->cfg, NULL};
	in->pid = th_spawn(argv, NULL, in->err);
	unsetenv("LD_PRELOAD");
	unsetenv("FAKETIME");
	if (saved)
		setenv("ASAN_OPTIONS", saved, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(saved);
	assert_true(in->pid > 0);
	if (!th_wait_unix_socket(in->sock, WAIT_MS)) {
		th_fleet_show(w);
		fail_msg("%s (faketime %s) does not serve its socket", in->host,
		         offset);
	}
}

static void test_skewed_clock_changes_nothing(void **state)
{
	world *w = *state;
	th_result r;
	th_fleet_start(w, 0);
	th_fleet_start(w, 1);
	start_skewed(w, 2, "-2h");
	/* its log says it lives two hours behind: had it stamped its own
	 * heartbeats, the others would drop it at once */
	assert_true(th_wait_events(w->in[2].log, 1, "start", NULL, NULL, NULL,
	                           WAIT_MS));
	cJSON *ev = th_jsonl_read(w->in[2].log, NULL, NULL);
	int64_t ts = th_rfc3339_ms(nz(th_json_str(
	    th_events_nth(ev, 0, "start", NULL, NULL, NULL), "ts")));
	cJSON_Delete(ev);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t skew = ts - (int64_t)now.tv_sec * 1000;
	print_message("web-3 clock skew: %+lld s\n", (long long)(skew / 1000));
	assert_true(skew < -7000 * 1000);
	/* it is one of the fleet, seen fresh, and stays so past three
	 * heartbeats */
	for (int i = 0; i < NINST; i++)
		th_fleet_wait_live(w, i, NINST, WAIT_MS);
	th_sleep_ms(4000);
	for (int i = 0; i < NINST; i++) {
		assert_int_equal(th_fleet_live_count(w, i), NINST);
		cJSON *doc = th_fleet_status(w, i);
		assert_non_null(doc);
		assert_true(th_json_num(doc, "view_age_s", 99) < 2);
		const cJSON *in;
		cJSON_ArrayForEach(
		    in, cJSON_GetObjectItemCaseSensitive(doc, "instances"))
		{
			double age = th_json_num(in, "age_s", 99);
			assert_true(age > -0.5 && age < 3);
		}
		cJSON_Delete(doc);
		wait_gate(w, i, 0, "3 instances", WAIT_MS);
	}
	/* and its fleet actions reach the others within a heartbeat */
	assert_int_equal(TH_FLEET_CLI(w, 2, &r, "trip", "api", "--fleet"), 0);
	th_result_free(&r);
	want_action a = {w, "trip", "via the fleet from web-3"};
	if (!th_wait_until(all_logged, &a, 1500)) {
		th_fleet_show(w);
		fail_msg("a trip from the skewed instance did not reach all");
	}
}

/* ---- 11. rotation took unpublished events: a gap says how many -------- */

static unsigned long long first_seq(const char *path)
{
	cJSON *ev = th_jsonl_read(path, NULL, NULL);
	double seq = th_json_num(cJSON_GetArrayItem(ev, 0), "seq", 0);
	cJSON_Delete(ev);
	return (unsigned long long)seq;
}

static void test_gap_when_rotation_took_events(void **state)
{
	world *w = *state;
	th_result r;
	static entry s[4000];
	char id[64], rotated[512];
	snprintf(w->fusebox_extra, sizeof w->fusebox_extra,
	         "log_max_size = 2K\nlog_keep = 1\n");
	th_fleet_start(w, 0);
	th_fleet_wait_live(w, 0, 1, WAIT_MS);
	wait_gate(w, 0, 0, "1 instance", WAIT_MS); /* nothing more to log */
	want_stream c = {.w = w};
	if (!th_wait_until(all_published, &c, WAIT_MS))
		fail_msg("before the outage: %s", c.why);
	instance_id(&w->in[0], id, sizeof id);
	int n = read_stream(w, s, 4000);
	unsigned long long before = s[n - 1].seq;

	/* Redis away while far more is logged than two 2K files hold */
	redis_save(w);
	th_redis_kill(&w->e->redis);
	for (int i = 0; i < 15; i++) {
		assert_int_equal(TH_FLEET_CLI(w, 0, &r, "trip", "api"), 0);
		th_result_free(&r);
		assert_int_equal(TH_FLEET_CLI(w, 0, &r, "reset", "api"), 0);
		th_result_free(&r);
	}
	snprintf(rotated, sizeof rotated, "%s.1", w->in[0].log);
	unsigned long long oldest = first_seq(rotated);
	print_message("published up to seq %llu; the oldest kept is %llu\n",
	              before, oldest);
	assert_true(oldest > before + 1);
	assert_int_equal(
	    th_redis_start(&w->e->redis, w->e->dir, w->e->redis.port), 0);

	/* back: one gap for exactly what was lost, then every kept event in
	 * order */
	int64_t t0 = th_now_ms();
	int gap = -1;
	while (gap < 0 && th_now_ms() - t0 < WAIT_MS) {
		n = read_stream(w, s, 4000);
		for (int i = 0; i < n; i++)
			if (strcmp(s[i].kind, "gap") == 0)
				gap = i;
		th_sleep_ms(50);
	}
	assert_true(gap >= 1);
	print_message("gap: seq %llu, lost %ld\n", s[gap].seq, s[gap].lost);
	assert_int_equal(s[gap].seq, oldest - 1);
	assert_int_equal(s[gap].lost, (long)(oldest - 1 - before));
	assert_int_equal(s[gap].seq,
	                 s[gap - 1].seq + (unsigned long long)s[gap].lost);
	/* the kept files follow the gap, whole and in order */
	cJSON *kept = th_jsonl_read(rotated, NULL, NULL);
	cJSON *live = th_jsonl_read(w->in[0].log, NULL, NULL);
	const cJSON *e;
	int k = gap + 1;
	t0 = th_now_ms();
	while (read_stream(w, s, 4000) < gap + 1 + cJSON_GetArraySize(kept) +
	                                     cJSON_GetArraySize(live) &&
	       th_now_ms() - t0 < WAIT_MS)
		th_sleep_ms(50);
	cJSON_ArrayForEach(e, kept)
	{
		assert_int_equal(s[k].seq,
		                 (unsigned long long)th_json_num(e, "seq", -1));
		k++;
	}
	cJSON_ArrayForEach(e, live)
	{
		assert_int_equal(s[k].seq,
		                 (unsigned long long)th_json_num(e, "seq", -1));
		k++;
	}
	cJSON_Delete(kept);
	cJSON_Delete(live);
}

/* ---- 11b. connections dropped while batches are in flight ------------ */

/* Walks the stream in Redis: how many entries instance `id` has, its
 * last seq, and how many of its entries do not follow the one before
 * by exactly one (a repeat, a hole, a batch overtaken). */
static const char CHECK_STREAM[] =
    "local e = redis.call('XRANGE', KEYS[1], '-', '+')\n"
    "local n, last, bad = 0, 0, 0\n"
    "for i = 1, #e do\n"
    "  local f, inst, seq = e[i][2], nil, nil\n"
    "  for j = 1, #f, 2 do\n"
    "    if f[j] == 'instance' then inst = f[j + 1] end\n"
    "    if f[j] == 'seq' then seq = tonumber(f[j + 1]) end\n"
    "  end\n"
    "  if inst == ARGV[1] then\n"
    "    if seq ~= last + 1 then bad = bad + 1 end\n"
    "    n, last = n + 1, seq\n"
    "  end\n"
    "end\n"
    "return {n, last, bad}\n";

static long long redis_cursor(const world *w, const char *id)
{
	char port[16];
	snprintf(port, sizeof port, "%d", w->e->redis.port);
	char *argv[] = {"redis-cli", "-p", port, "HGET", "{fusebox:svc}:cursor",
	                (char *)id,  NULL};
	th_result r;
	long long c = -1;
	if (th_run(argv, 10000, &r) == 0)
		c = strtoll(r.out, NULL, 10);
	th_result_free(&r);
	return c;
}

static void test_publish_survives_dropped_connections(void **state)
{
	world *w = *state;
	enum { N = 60000 };
	char port[16], id[64];
	snprintf(port, sizeof port, "%d", w->e->redis.port);
	/* a backlog it never published: many batches, several in flight */
	FILE *f = fopen(w->in[0].log, "w");
	assert_non_null(f);
	for (int i = 1; i <= N; i++)
		fprintf(
		    f,
		    "{\"v\":1,\"seq\":%d,\"ts\":\"2026-11-23T00:00:00.000Z\","
		    "\"host\":\"web-1\",\"kind\":\"operator\",\"action\":"
		    "\"trip\",\"dep\":\"old\",\"actor\":\"backlog\","
		    "\"reason\":\"event %d of the backlog\"}\n",
		    i, i);
	assert_int_equal(fclose(f), 0);
	snprintf(w->fusebox_extra, sizeof w->fusebox_extra,
	         "log_max_size = 0\nlog_keep = 1\n");
	/* an id of our own, so the cursor can be watched from the start */
	snprintf(id, sizeof id, "%s", "00112233445566778899aabbccddeeff");
	char path[512];
	snprintf(path, sizeof path, "%s.instance", w->in[0].log);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", id);
	assert_int_equal(fclose(f), 0);
	chmod(path, 0600);
	th_fleet_start(w, 0);
	/* drop every client connection of Redis while it publishes: the
	 * replies of what was in flight are lost, some of it ran, some not */
	char *kill_all[] = {"redis-cli", "-p",   port,     "CLIENT",
	                    "KILL",      "TYPE", "normal", NULL};
	int kills = 0;
	long long c = 0, first_kill = -1;
	int64_t t0 = th_now_ms();
	while (th_now_ms() - t0 < 60000 && (c = redis_cursor(w, id)) < N) {
		if (c > 0 && kills < 5) {
			th_result r;
			assert_int_equal(th_run(kill_all, 10000, &r), 0);
			th_result_free(&r);
			if (first_kill < 0)
				first_kill = c;
			kills++;
			th_sleep_ms(300); /* the backoff, and a few batches */
		}
		th_sleep_ms(5);
	}
	print_message("%d drops, the first at cursor %lld of %d; cursor %lld\n",
	              kills, first_kill, N, c);
	assert_true(c >= N);
	/* the drops came while there was much left to send */
	assert_true(kills >= 2);
	assert_true(first_kill > 0 && first_kill < N - 4 * 1000);
	/* every event of the backlog, and those logged since, once and in
	 * order */
	char *check[] = {"redis-cli", "-p",
	                 port,        "--raw",
	                 "EVAL",      (char *)CHECK_STREAM,
	                 "1",         "{fusebox:svc}:events",
	                 id,          NULL};
	cJSON *log = th_jsonl_read(w->in[0].log, NULL, NULL);
	int nlog = cJSON_GetArraySize(log);
	cJSON_Delete(log);
	th_result r;
	long n = 0, last = 0, bad = -1;
	for (int tries = 0; tries < 100; tries++) {
		assert_int_equal(th_run(check, 10000, &r), 0);
		assert_int_equal(sscanf(r.out, "%ld %ld %ld", &n, &last, &bad),
		                 3);
		th_result_free(&r);
		if (n >= nlog)
			break;
		th_sleep_ms(100);
	}
	print_message("stream: %ld of ours, last seq %ld, %ld out of step; "
	              "the log holds %d\n",
	              n, last, bad, nlog);
	assert_int_equal(bad, 0);
	assert_true(n >= nlog);
	assert_int_equal(n, last);
	size_t len = 0;
	char *err = th_slurp(w->in[0].err, &len);
	assert_non_null(err);
	/* and the drops were drops */
	assert_non_null(strstr(err, "redis: connection lost"));
	free(err);
}

/* ---- 12. the console says when the instance works alone -------------- */

static void test_console_says_it_works_alone(void **state)
{
	world *w = *state;
	char sock[64], cmd[PATH_MAX + 512];
	th_fleet_start(w, 0);
	th_fleet_wait_live(w, 0, 1, WAIT_MS);
	snprintf(sock, sizeof sock, "fbfleet%ld", (long)getpid());
	snprintf(cmd, sizeof cmd, "exec %s --config %s", g_fusebox,
	         w->in[0].cfg);
	assert_int_equal(th_tmux_start(sock, w->e->dir, 160, 40, cmd), 0);
	bool ok = th_tmux_wait_text(sock, "attached to web-1", WAIT_MS);
	/* sharing: no word of it */
	ok = ok && !th_tmux_wait_text(sock, "working alone", 1500);
	th_redis_kill(&w->e->redis);
	ok = ok &&
	     th_tmux_wait_text(sock, "working alone from own probes", WAIT_MS);
	char *screen = th_tmux_capture(sock, false);
	print_message("%.*s\n", 320, screen ? screen : "");
	free(screen);
	ok = ok &&
	     th_redis_start(&w->e->redis, w->e->dir, w->e->redis.port) == 0;
	ok = ok && th_tmux_wait_gone(sock, "working alone", WAIT_MS);
	th_tmux_kill(sock);
	assert_true(ok);
}

/* ---- 13. scripts the server forgot are loaded again, in stride ------- */

static void test_noscript_reloads_without_reconnecting(void **state)
{
	world *w = *state;
	th_result r;
	th_fleet_start(w, 0);
	th_fleet_wait_live(w, 0, 1, WAIT_MS);
	wait_gate(w, 0, 0, "1 instance", WAIT_MS);
	want_stream c = {.w = w};
	if (!th_wait_until(all_published, &c, WAIT_MS))
		fail_msg("%s", c.why);
	REDIS(w, "SCRIPT", "FLUSH");
	/* events to publish and heartbeats: every EVALSHA meets NOSCRIPT */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(TH_FLEET_CLI(w, 0, &r, "trip", "api"), 0);
		th_result_free(&r);
		assert_int_equal(TH_FLEET_CLI(w, 0, &r, "reset", "api"), 0);
		th_result_free(&r);
	}
	if (!th_wait_until(all_published, &c, WAIT_MS))
		fail_msg("after SCRIPT FLUSH: %s", c.why);
	wait_gate(w, 0, 0, "1 instance", WAIT_MS);
	/* nothing was dropped to get there */
	size_t len = 0;
	char *err = th_slurp(w->in[0].err, &len);
	assert_non_null(err);
	assert_null(strstr(err, "NOSCRIPT"));
	assert_null(strstr(err, "working alone"));
	free(err);
}

/* ---- 14. replay --redis: the fleet's stream as one timeline ----------- */

static void test_replay_redis(void **state)
{
	world *w = *state;
	th_result r;
	th_fleet_start(w, 0);
	th_fleet_start(w, 1);
	th_fleet_wait_live(w, 0, 2, WAIT_MS);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(TH_FLEET_CLI(w, i, &r, "trip", "api"), 0);
		th_result_free(&r);
	}
	want_stream c = {.w = w};
	if (!th_wait_until(all_published, &c, WAIT_MS))
		fail_msg("%s", c.why);
	/* a repeat in the stream (as a reader may meet one) is left out */
	char id[64], port[16];
	instance_id(&w->in[0], id, sizeof id);
	snprintf(port, sizeof port, "%d", w->e->redis.port);
	char *xadd[] = {"redis-cli",
	                "-p",
	                port,
	                "XADD",
	                "{fusebox:svc}:events",
	                "*",
	                "instance",
	                id,
	                "seq",
	                "1",
	                "event",
	                "{\"v\":1,\"seq\":1,\"ts\":\"2026-01-01T00:00:00."
	                "000Z\",\"host\":\"web-1\",\"kind\":\"start\"}",
	                NULL};
	assert_int_equal(th_run(xadd, 10000, &r), 0);
	th_result_free(&r);
	assert_int_equal(TH_FLEET_CLI(w, 1, &r, "replay", "--redis", "--json"),
	                 0);
	int n[2] = {0, 0}, lines = 0;
	double last_seq[2] = {0, 0};
	int64_t last_ts = 0;
	char *save = NULL;
	for (char *line = strtok_r(r.out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		cJSON *ev = cJSON_Parse(line);
		assert_non_null(ev);
		int h =
		    strcmp(nz(th_json_str(ev, "host")), "web-1") == 0 ? 0 : 1;
		double seq = th_json_num(ev, "seq", -1);
		int64_t ts = th_rfc3339_ms(nz(th_json_str(ev, "ts")));
		assert_true(seq >
		            last_seq[h]);   /* per instance: in order, once */
		assert_true(ts >= last_ts); /* the whole: by time */
		last_seq[h] = seq;
		last_ts = ts;
		n[h]++;
		lines++;
		cJSON_Delete(ev);
	}
	print_message("replay --redis: %d events (web-1 %d, web-2 %d); %s",
	              lines, n[0], n[1], r.err);
	assert_non_null(strstr(r.err, "1 of "));
	th_result_free(&r);
	for (int i = 0; i < 2; i++) {
		cJSON *log = th_jsonl_read(w->in[i].log, NULL, NULL);
		assert_int_equal(n[i], cJSON_GetArraySize(log));
		cJSON_Delete(log);
	}
	/* the timeline has a host column: every event line is "TS  HOST
	 * ...", the same events as the logs, by time, web-1's and web-2's
	 * merged (web-1 tripped after web-2 started) */
	assert_int_equal(TH_FLEET_CLI(w, 0, &r, "replay", "--redis"), 0);
	int per[2] = {0, 0}, switches = 0, prev = -1;
	last_ts = 0;
	save = NULL;
	for (char *line = strtok_r(r.out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char ts[48], host[16];
		if (line[0] < '0' || line[0] > '9')
			continue; /* not an event line */
		assert_int_equal(sscanf(line, "%47s %15s", ts, host), 2);
		int h = strcmp(host, "web-1") == 0   ? 0
		        : strcmp(host, "web-2") == 0 ? 1
		                                     : -1;
		if (h < 0)
			fail_msg("no host column: %s", line);
		int64_t t = th_rfc3339_ms(ts);
		assert_true(t > 0 && t >= last_ts);
		last_ts = t;
		switches += prev >= 0 && h != prev;
		prev = h;
		per[h]++;
	}
	th_result_free(&r);
	print_message("timeline: web-1 %d, web-2 %d lines, the host changes "
	              "%d times\n",
	              per[0], per[1], switches);
	assert_int_equal(per[0], n[0]);
	assert_int_equal(per[1], n[1]);
	assert_true(switches >= 2);
}

/* ---- 7. the publish script appends only above the cursor -------------- */

static char *redis_eval(const world *w, const char *const *args)
{
	char port[16];
	char *argv[32];
	size_t n = 0;
	snprintf(port, sizeof port, "%d", w->e->redis.port);
	argv[n++] = "redis-cli";
	argv[n++] = "-p";
	argv[n++] = port;
	argv[n++] = "--raw";
	argv[n++] = "EVAL";
	argv[n++] = (char *)fb_fleet_scripts[FB_SCRIPT_PUBLISH];
	while (*args && n < 31)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	th_result r;
	assert_int_equal(th_run(argv, 10000, &r), 0);
	char *out = strdup(r.out);
	th_result_free(&r);
	return out;
}

#define EVAL(w, ...) redis_eval((w), (const char *const[]){__VA_ARGS__, NULL})

static void test_publish_script_exactly_once(void **state)
{
	world *w = *state;
	/* a batch, then the same batch again (a lost reply, a retry after
	 * NOSCRIPT), then an older seq and a mixed batch */
	char *a = EVAL(w, "2", "{t}:cursor", "{t}:events", "i1", "1000", "h",
	               "1", "{\"seq\":1}", "2", "{\"seq\":2}");
	assert_string_equal(a, "2\n2\n");
	char *b = EVAL(w, "2", "{t}:cursor", "{t}:events", "i1", "1000", "h",
	               "1", "{\"seq\":1}", "2", "{\"seq\":2}");
	assert_string_equal(b, "2\n0\n");
	char *c = EVAL(w, "2", "{t}:cursor", "{t}:events", "i1", "1000", "h",
	               "2", "{\"seq\":2}", "3", "{\"seq\":3}");
	assert_string_equal(c, "3\n1\n");
	/* another instance has a cursor of its own */
	char *d = EVAL(w, "2", "{t}:cursor", "{t}:events", "i2", "1000", "h",
	               "1", "{\"seq\":1}");
	assert_string_equal(d, "1\n1\n");
	free(a);
	free(b);
	free(c);
	free(d);
	char port[16];
	snprintf(port, sizeof port, "%d", w->e->redis.port);
	char *argv[] = {"redis-cli", "-p", port, "XLEN", "{t}:events", NULL};
	th_result r;
	assert_int_equal(th_run(argv, 10000, &r), 0);
	assert_string_equal(r.out, "4\n");
	th_result_free(&r);
}

/* The stream is trimmed (MAXLEN ~) once a batch, by its last event: a
 * batch of 300 with a cap of 10 leaves whole nodes of 100 (Redis's
 * stream-node-max-entries) at most, not 300. */
static void test_publish_script_trims(void **state)
{
	world *w = *state;
	enum { N = 300 };
	static char seqs[N][16], evs[N][48];
	char port[16];
	char *argv[16 + 2 * N];
	size_t n = 0;
	snprintf(port, sizeof port, "%d", w->e->redis.port);
	argv[n++] = "redis-cli";
	argv[n++] = "-p";
	argv[n++] = port;
	argv[n++] = "--raw";
	argv[n++] = "EVAL";
	argv[n++] = (char *)fb_fleet_scripts[FB_SCRIPT_PUBLISH];
	argv[n++] = "2";
	argv[n++] = "{t}:cursor";
	argv[n++] = "{t}:events";
	argv[n++] = "i1";
	argv[n++] = "10";
	argv[n++] = "h";
	for (int i = 0; i < N; i++) {
		snprintf(seqs[i], sizeof seqs[i], "%d", i + 1);
		snprintf(evs[i], sizeof evs[i], "{\"seq\":%d}", i + 1);
		argv[n++] = seqs[i];
		argv[n++] = evs[i];
	}
	argv[n] = NULL;
	th_result r;
	assert_int_equal(th_run(argv, 10000, &r), 0);
	assert_string_equal(r.out, "300\n300\n");
	th_result_free(&r);
	char *xlen[] = {"redis-cli", "-p", port, "XLEN", "{t}:events", NULL};
	assert_int_equal(th_run(xlen, 10000, &r), 0);
	long len = strtol(r.out, NULL, 10);
	print_message("stream after 300 with MAXLEN ~ 10: %ld\n", len);
	assert_true(len >= 10 && len <= 200);
	th_result_free(&r);
}

int main(void)
{
	if (getenv("FB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_core_fleet_gate),
	    cmocka_unit_test(test_core_quorum_and_lease),
	    T(test_publish_script_exactly_once),
	    T(test_publish_script_trims),
	    T(test_view_and_fleet_gate),
	    T(test_killed_instance_drops_out),
	    T(test_redis_outage_exactly_once),
	    T(test_acl_user),
	    T(test_password_file_must_be_private),
	    T(test_fleet_trip_and_gate_lock),
	    T(test_quorum_one),
	    T(test_quorum_two),
	    T(test_one_fleet_trial),
	    T(test_skewed_clock_changes_nothing),
	    T(test_gap_when_rotation_took_events),
	    T(test_publish_survives_dropped_connections),
	    T(test_console_says_it_works_alone),
	    T(test_noscript_reloads_without_reconnecting),
	    T(test_replay_redis),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
