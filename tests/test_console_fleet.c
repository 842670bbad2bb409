/* End to end: the console's fleet view (F). Three instances of one
 * service and one real redis-server, as in test_fleet.c, each instance
 * probing a path of its own on the fault-injection fixture so that one
 * host alone can see the dependency down; a console inside tmux,
 * attached to one instance (or embedding the third), is driven with
 * send-keys and read with capture-pane. Every wait polls a condition
 * with a deadline. */
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
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include "fleet_world.h"
#include "helpers.h"

#define WAIT_MS 15000
#define CLI_MS  15000
#define NINST   TH_FLEET_N

static char g_fusebox[PATH_MAX];
static char g_fixture[PATH_MAX];

/* Three instances and redis (fleet_world.h), and the console in tmux. */
typedef struct world {
	th_fleet f;
	char tmux[64];
	bool tmux_on;
	char *screen; /* the last capture */
} world;

static int setup(void **state)
{
	world *w = calloc(1, sizeof *w);
	if (!w)
		return -1;
	if (th_fleet_init(&w->f, g_fusebox, g_fixture, WAIT_MS, CLI_MS) != 0) {
		th_fleet_free(&w->f);
		free(w);
		return -1;
	}
	w->f.show_all = true; /* an embedded console's instance has no pid */
	snprintf(w->tmux, sizeof w->tmux, "fbfcon%ld", (long)getpid());
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	world *w = *state;
	if (w->tmux_on)
		th_tmux_kill(w->tmux);
	th_fleet_free(&w->f);
	free(w->screen);
	free(w);
	return 0;
}

/* Starts instance i: a fleet member when `fleet`, else with no [redis]. */
static void start(world *w, int i, bool fleet)
{
	w->f.no_redis = !fleet;
	th_fleet_start(&w->f, i);
}

/* ---- the console --------------------------------------------------------- */

static void console(world *w, int i, const char *extra)
{
	char cmd[PATH_MAX + 600];
	snprintf(cmd, sizeof cmd, "exec %s --config %s %s", g_fusebox,
	         w->f.in[i].cfg, extra);
	assert_int_equal(th_tmux_start(w->tmux, w->f.e->dir, 160, 40, cmd), 0);
	w->tmux_on = true;
}

static void keys(world *w, const char *key, bool literal)
{
	assert_int_equal(literal ? th_tmux_type(w->tmux, key)
	                         : th_tmux_keys(w->tmux, key),
	                 0);
}

typedef struct want_line {
	const char *const *needles;
} want_line;

static bool has_line(const char *screen, void *ctx)
{
	char line[1024];
	return th_screen_line_with(screen, ((want_line *)ctx)->needles, line,
	                           sizeof line) != NULL;
}

/* Waits for a line of the screen that holds every needle. */
static void wait_line(world *w, const char *what, const char *const *needles)
{
	want_line l = {needles};
	free(w->screen);
	w->screen = NULL;
	if (!th_tmux_wait(w->tmux, false, has_line, &l, WAIT_MS, &w->screen)) {
		print_message("# the screen:\n%s\n",
		              w->screen ? w->screen : "");
		th_fleet_show(&w->f);
		fail_msg("not seen on the screen: %s", what);
	}
}

#define WAIT_LINE(w, what, ...)                                                \
	wait_line((w), (what), (const char *const[]){__VA_ARGS__, NULL})

/* ---- checks of the instances -------------------------------------------- */

typedef struct want_state {
	const world *w;
	const char *state;
} want_state;

/* Every instance's own status says api is in `state`. */
static bool all_in_state(void *ctx)
{
	want_state *s = ctx;
	for (int i = 0; i < NINST; i++) {
		th_result r;
		bool yes = false;
		if (TH_FLEET_CLI(&s->w->f, i, &r, "status", "--json") == 0) {
			cJSON *doc = cJSON_Parse(r.out);
			const cJSON *d =
			    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
			                           doc, "dependencies"),
			                       0);
			const char *st = th_json_str(d, "state");
			yes = st && strcmp(st, s->state) == 0;
			cJSON_Delete(doc);
		}
		th_result_free(&r);
		if (!yes)
			return false;
	}
	return true;
}

typedef struct want_action {
	const world *w;
	const char *action, *from, *user, *reason;
} want_action;

/* Every instance logged the action, with the console's user as the
 * actor, from the instance it was taken on, and the reason typed. */
static bool all_logged(void *ctx)
{
	want_action *a = ctx;
	for (int i = 0; i < NINST; i++) {
		cJSON *ev = th_jsonl_read(a->w->f.in[i].log, NULL, NULL);
		bool found = false;
		const cJSON *e;
		cJSON_ArrayForEach(e, ev)
		{
			const char *act = th_json_str(e, "action");
			const char *actor = th_json_str(e, "actor");
			const char *why = th_json_str(e, "reason");
			if (act && strcmp(act, a->action) == 0 && actor &&
			    strstr(actor, a->from) && strstr(actor, a->user) &&
			    why && strstr(why, a->reason))
				found = true;
		}
		cJSON_Delete(ev);
		if (!found)
			return false;
	}
	return true;
}

static const char *user_name(void)
{
	struct passwd *pw = getpwuid(getuid());
	return pw ? pw->pw_name : "?";
}

/* ---- 1. attached: hosts, instances, and a trip for the fleet ----------- */

/* The fleet view of console `at` (attached to or embedding instance
 * at): the host that sees api open, the instances, then t for the
 * fleet with the confirmation naming three instances. */
static void fleet_view_and_trip(world *w, int at)
{
	char from[64];
	const char *host = w->f.in[at].host;
	assert_int_equal(th_fixture_set(&w->f.e->fx, "/api-b", "fail"), 0);
	keys(w, "F", false);
	WAIT_LINE(w, "the fleet header", "FLEET svc: connected", "view");
	WAIT_LINE(w, "the HOSTS title", "DEPENDENCY", "HOSTS");
	/* web-2 alone sees it open, named, of three */
	WAIT_LINE(w, "api open on web-2", "api", "open on web-2 (1/3)");
	print_message("# %s\n", w->screen);
	assert_null(strstr(w->screen, "open on web-1"));
	assert_null(strstr(w->screen, "open on web-3"));

	/* the instances as rows: host, pid, version, how long since seen */
	keys(w, "i", false);
	WAIT_LINE(w, "the instances' titles", "INSTANCE", "HOST", "PID",
	          "VERSION", "SEEN", "NOT CLOSED");
	for (int i = 0; i < NINST; i++) {
		char pid[16], line[1024];
		snprintf(pid, sizeof pid, " %ld ", (long)w->f.in[i].pid);
		WAIT_LINE(w, w->f.in[i].host, w->f.in[i].host, FB_VERSION,
		          i == at ? "(this one)" : "s  ",
		          i == 1 ? "api open" : "",
		          w->f.in[i].pid > 0 ? pid : "");
		const char *row = th_screen_line_with(
		    w->screen,
		    (const char *const[]){w->f.in[i].host, FB_VERSION, NULL},
		    line, sizeof line);
		assert_non_null(row);
		print_message("# %s\n", row);
		assert_non_null(strstr(row, "s  ")); /* SEEN: "  0.4s" */
		if (i != 1)
			assert_null(strstr(row, "api open"));
	}

	/* the dependency t would trip is not on screen here: it says so */
	keys(w, "t", false);
	WAIT_LINE(w, "the refusal", "pick the dependency first");

	/* back to the dependencies; t asks, naming whom it reaches */
	keys(w, "i", false);
	WAIT_LINE(w, "the HOSTS title again", "DEPENDENCY", "HOSTS");
	keys(w, "t", false);
	WAIT_LINE(w, "the confirmation",
	          "trip api for the fleet: 3 live instances of svc? (y/n)");
	keys(w, "y", false);
	WAIT_LINE(w, "the reason prompt", "Reason for trip for the fleet");
	keys(w, "drill 42", true);
	keys(w, "Enter", false);
	WAIT_LINE(w, "the outcome", "done for the fleet: trip api sent to 3");

	/* within a few heartbeats every instance is forced open, and each
	 * logged it with the console's user, from this instance */
	want_state s = {w, "forced_open"};
	if (!th_wait_until(all_in_state, &s, 5000)) {
		th_fleet_show(&w->f);
		fail_msg("the fleet trip did not force api open everywhere");
	}
	snprintf(from, sizeof from, "via the fleet from %s", host);
	want_action a = {w, "trip", from, user_name(), "drill 42"};
	if (!th_wait_until(all_logged, &a, 5000)) {
		th_fleet_show(&w->f);
		fail_msg("not every log has the trip by %s %s", a.user, from);
	}
	WAIT_LINE(w, "api forced open on all three", "api",
	          "forced_open on web-1 web-2 web-3 (3/3)");
	/* the gate key locks the fleet gate, the prompt naming whom */
	keys(w, "g", false);
	WAIT_LINE(w, "the gate menu", "Gate: b block");
	keys(w, "b", false);
	WAIT_LINE(w, "the gate reason prompt",
	          "Reason for gate_block for the fleet: 3 live instances");
	keys(w, "migration", true);
	keys(w, "Enter", false);
	WAIT_LINE(w, "the gate outcome", "done for the fleet: gate_block sent");
	want_action g = {w, "gate_block", from, user_name(), "migration"};
	if (!th_wait_until(all_logged, &g, 5000)) {
		th_fleet_show(&w->f);
		fail_msg("not every log has the fleet gate lock");
	}
	WAIT_LINE(w, "the fleet gate locked", "GATE BLOCKED (block)");
	/* F: back to this instance's own view */
	keys(w, "F", false);
	WAIT_LINE(w, "this instance again", "back to this instance");
	assert_null(strstr(w->screen, "HOSTS"));
}

static void test_fleet_view_attached(void **state)
{
	world *w = *state;
	for (int i = 0; i < NINST; i++)
		start(w, i, true);
	th_fleet_wait_live(&w->f, 0, NINST, WAIT_MS);
	console(w, 0, "");
	WAIT_LINE(w, "the attached console", "attached to web-1");
	fleet_view_and_trip(w, 0);
}

/* ---- 2. embedded: the same view from the runtime itself -------------- */

static void test_fleet_view_embedded(void **state)
{
	world *w = *state;
	start(w, 0, true);
	start(w, 1, true);
	th_fleet_write_config(&w->f, &w->f.in[2]);
	console(w, 2, "--embedded");
	WAIT_LINE(w, "the embedded console", "(embedded)");
	/* its pid goes unchecked: tmux runs it */
	th_fleet_wait_live(&w->f, 0, NINST, WAIT_MS);
	fleet_view_and_trip(w, 2);
}

/* ---- 3. no [redis]: F says so -------------------------------------------- */

static void test_no_fleet_says_so(void **state)
{
	world *w = *state;
	start(w, 0, false);
	console(w, 0, "");
	WAIT_LINE(w, "the attached console", "attached to web-1");
	keys(w, "F", false);
	WAIT_LINE(w, "the flash",
	          "no fleet: this instance has no [redis] section");
	assert_null(strstr(w->screen, "HOSTS"));
	/* i outside the fleet view says where the instances are */
	keys(w, "i", false);
	WAIT_LINE(w, "the flash for i", "the instances are in the fleet view");
}

/* ---- 4. redis away: the view says so and acts for nobody -------------- */

static void test_redis_away_is_shown(void **state)
{
	world *w = *state;
	start(w, 0, true);
	th_fleet_wait_live(&w->f, 0, 1, WAIT_MS);
	console(w, 0, "");
	WAIT_LINE(w, "the attached console", "attached to web-1");
	keys(w, "F", false);
	WAIT_LINE(w, "the fleet header", "FLEET svc: connected");
	WAIT_LINE(w, "one instance", "api", "closed on all 1");
	th_redis_kill(&w->f.e->redis);
	WAIT_LINE(w, "the header", "REDIS AWAY, working alone");
	WAIT_LINE(w, "the where", "FLEET svc: redis away, working alone");
	print_message("# %s\n", w->screen);
	/* greyed and aged; a fleet action would reach nobody: refused */
	keys(w, "t", false);
	WAIT_LINE(w, "the refusal", "refused: redis is away");
	assert_null(strstr(w->screen, "for the fleet: 1 live"));
	assert_int_equal(
	    th_redis_start(&w->f.e->redis, w->f.e->dir, w->f.e->redis.port), 0);
	WAIT_LINE(w, "the fleet back", "FLEET svc: connected");
	assert_null(strstr(w->screen, "REDIS AWAY"));
}

/* ---- 5. hostile text from another instance stays inert ---------------- */

/* An "instance" of the fleet that is no fusebox: its record written
 * straight into Redis, now, with escapes in its host and version. */
static void inject_hostile(const world *w)
{
	static const char script[] =
	    "local t = redis.call('TIME')\n"
	    "local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
	    "redis.call('ZADD', KEYS[1], now, 'evil')\n"
	    "redis.call('HSET', KEYS[2], 'host', ARGV[1], 'pid', '1', "
	    "'version', ARGV[2], 'seen_ms', now, 'dep:api', 'open unhealthy')\n"
	    "return now\n";
	char port[16];
	snprintf(port, sizeof port, "%d", w->f.e->redis.port);
	char *argv[] = {"redis-cli",
	                "-p",
	                port,
	                "EVAL",
	                (char *)script,
	                "2",
	                "{fusebox:svc}:instances",
	                "{fusebox:svc}:inst:evil",
	                "\033]0;pwned\007ev\033[2Jil\r\nhost\033[5m",
	                "9.9\033[31m\302\233",
	                NULL};
	th_result r;
	assert_int_equal(th_run(argv, 5000, &r), 0);
	th_result_free(&r);
}

typedef struct hostile {
	world *w;
	const char *const *needles;
} hostile;

/* Keeps the record alive (it expires with no heartbeat) while waiting
 * for a line with every needle. */
static bool hostile_shown(void *ctx)
{
	hostile *h = ctx;
	char line[1024];
	inject_hostile(h->w);
	free(h->w->screen);
	h->w->screen = th_tmux_capture(h->w->tmux, false);
	return h->w->screen &&
	       th_screen_line_with(h->w->screen, h->needles, line, sizeof line);
}

static void wait_hostile(world *w, const char *what, const char *const *needles)
{
	hostile h = {w, needles};
	if (!th_wait_until(hostile_shown, &h, WAIT_MS)) {
		print_message("# the screen:\n%s\n",
		              w->screen ? w->screen : "");
		fail_msg("not seen on the screen: %s", what);
	}
}

static void test_hostile_fleet_text_is_inert(void **state)
{
	world *w = *state;
	start(w, 0, true);
	th_fleet_wait_live(&w->f, 0, 1, WAIT_MS);
	console(w, 0, "");
	WAIT_LINE(w, "the attached console", "attached to web-1");
	keys(w, "F", false);
	WAIT_LINE(w, "the fleet header", "FLEET svc: connected");
	/* the escapes go whole; the line break is a space */
	wait_hostile(
	    w, "the hostile host, inert",
	    (const char *const[]){"api", "open on evil host (1/2)", NULL});
	keys(w, "i", false);
	wait_hostile(
	    w, "the hostile instance's row",
	    (const char *const[]){"evil host", "9.9 ", "api open", NULL});
	print_message("# %s\n", w->screen);
	assert_non_null(strstr(w->screen, "web-1"));
	char *title = th_tmux_display(w->tmux, "#{pane_title}");
	assert_non_null(title);
	assert_null(strstr(title, "pwned"));
	free(title);
	char *colours = th_tmux_capture(w->tmux, true);
	assert_non_null(colours);
	assert_null(strstr(colours, "\033[5m")); /* no blink came through */
	free(colours);
}

/* ---- 6. the fleet's one trial, named on screen ------------------------ */

#define DEP_KEY "{fusebox:svc}:dep:api"

/* `HGET key field` through redis-cli: the value's first line in out, ""
 * when absent or on error. */
static void hget(const world *w, const char *key, const char *field, char *out,
                 size_t len)
{
	char port[16];
	snprintf(port, sizeof port, "%d", w->f.e->redis.port);
	char *argv[] = {"redis-cli", "-p",        port,          "--raw",
	                "HGET",      (char *)key, (char *)field, NULL};
	th_result r;
	out[0] = '\0';
	if (th_run(argv, 5000, &r) == 0)
		snprintf(out, len, "%.*s", (int)strcspn(r.out, "\r\n"), r.out);
	th_result_free(&r);
}

/* The host of the instance Redis says holds api's trial lease: "" for
 * none; its id in brackets when its instance record has no host. */
static void lease_host(const world *w, char *out, size_t len)
{
	char id[128], key[200];
	hget(w, DEP_KEY, "trial_owner", id, sizeof id);
	out[0] = '\0';
	if (!id[0])
		return;
	snprintf(key, sizeof key, "{fusebox:svc}:inst:%s", id);
	hget(w, key, "host", out, len);
	if (!out[0])
		snprintf(out, len, "[%.100s]", id);
}

static int host_index(const world *w, const char *host)
{
	for (int i = 0; i < NINST; i++)
		if (strcmp(w->f.in[i].host, host) == 0)
			return i;
	return -1;
}

static int count_of(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

typedef struct want_record {
	const world *w;
	const char *state;
} want_record;

static bool record_in(void *ctx)
{
	want_record *r = ctx;
	char st[32];
	hget(r->w, DEP_KEY, "state", st, sizeof st);
	return strcmp(st, r->state) == 0;
}

typedef struct want_trial {
	world *w;
	char row[1024];  /* the api row that named it */
	char named[64];  /* the host after "trial: " */
	char redis[128]; /* the lease holder's host, as Redis has it */
	long inflight[NINST];
} want_trial;

/* The screen's api row names the trial's holder, Redis names the same
 * instance as the lease's, and its path alone has a request out: the
 * single trial, in flight. */
static bool trial_shown(void *ctx)
{
	want_trial *t = ctx;
	world *w = t->w;
	free(w->screen);
	w->screen = th_tmux_capture(w->tmux, false);
	if (!w->screen ||
	    !th_screen_line_with(w->screen,
	                         (const char *const[]){"api", "trial: ", NULL},
	                         t->row, sizeof t->row))
		return false;
	const char *at = strstr(t->row, "trial: ") + strlen("trial: ");
	snprintf(t->named, sizeof t->named, "%.*s", (int)strcspn(at, " ,;)"),
	         at);
	lease_host(w, t->redis, sizeof t->redis);
	int k = host_index(w, t->named);
	bool alone = k >= 0;
	for (int i = 0; i < NINST; i++) {
		char path[16];
		snprintf(path, sizeof path, "/api-%s", w->f.in[i].name);
		t->inflight[i] = th_fixture_inflight(&w->f.e->fx, path);
		alone = alone && t->inflight[i] == (i == k ? 1 : 0);
	}
	return alone && strcmp(t->named, t->redis) == 0;
}

/* Quorum 1: web-2's failures open api for the fleet. Every path then
 * fails before any trial, and recovers slowly (5s an answer, under the
 * 8s timeout), so the one trial that succeeds is in flight for seconds:
 * the console attached to web-1 names its holder, the host Redis has as
 * the lease's, and once it succeeded no trial and closed on all. */
static void test_fleet_trial_holder_shown(void **state)
{
	world *w = *state;
	char st[32], owner[128], action[32];
	w->f.quorum = 1;
	snprintf(w->f.defaults, sizeof w->f.defaults,
	         "interval = 200ms\ntimeout = 8s\nfailure_threshold = 2\n"
	         "recovery_timeout = 3s\njitter = 0\n");
	for (int i = 0; i < NINST; i++)
		start(w, i, true);
	th_fleet_wait_live(&w->f, 0, NINST, WAIT_MS);
	console(w, 0, "");
	WAIT_LINE(w, "the attached console", "attached to web-1");
	keys(w, "F", false);
	WAIT_LINE(w, "the fleet header", "FLEET svc: connected");
	WAIT_LINE(w, "api closed", "api", "closed on all 3");

	assert_int_equal(th_fixture_set(&w->f.e->fx, "/api-b", "fail"), 0);
	want_record open = {w, "open"};
	if (!th_wait_until(record_in, &open, WAIT_MS)) {
		th_fleet_show(&w->f);
		fail_msg("web-2 alone did not open api for the fleet");
	}
	assert_int_equal(th_fixture_set(&w->f.e->fx, "/api-a", "fail"), 0);
	assert_int_equal(th_fixture_set(&w->f.e->fx, "/api-c", "fail"), 0);
	/* no lease was taken before every path failed: no trial could
	 * have passed on a path that was still ok */
	hget(w, DEP_KEY, "action", action, sizeof action);
	if (strcmp(action, "quorum") != 0)
		fail_msg("the record's action is '%s', not 'quorum': a trial "
		         "began before the test failed every path (it was "
		         "slower than the 3s recovery_timeout)",
		         action);
	want_state s = {w, "open"};
	if (!th_wait_until(all_in_state, &s, WAIT_MS)) {
		th_fleet_show(&w->f);
		fail_msg("the fleet's open did not reach every instance");
	}
	WAIT_LINE(w, "api open on all three", "api", "(3/3)");

	for (int i = 0; i < NINST; i++) {
		char path[16];
		snprintf(path, sizeof path, "/api-%s", w->f.in[i].name);
		assert_int_equal(th_fixture_set(&w->f.e->fx, path, "slow:5000"),
		                 0);
	}
	want_trial t = {.w = w};
	if (!th_wait_until(trial_shown, &t, 40000)) {
		print_message("# the screen:\n%s\n",
		              w->screen ? w->screen : "");
		th_fleet_show(&w->f);
		fail_msg(
		    "no api row naming the trial's holder with its request "
		    "in flight: the screen named '%s', Redis '%s'; in "
		    "flight a=%ld b=%ld c=%ld",
		    t.named, t.redis, t.inflight[0], t.inflight[1],
		    t.inflight[2]);
	}
	print_message("# %s\n", t.row);
	int holder = host_index(w, t.named);
	/* one instance named, for the one trial, and first: ahead of who
	 * sees what, since the cell's tail is what the column cuts */
	assert_int_equal(count_of(w->screen, "trial: "), 1);
	const char *at = strstr(t.row, "trial: ");
	const char *after = at + strlen("trial: ") + strlen(t.named);
	assert_int_equal(strncmp(after, "; open on ", 10), 0);
	assert_true(strstr(t.row, "open on") > at);

	/* it succeeds. The first view with api closed on all three has no
	 * trial: the record dropped its lease before any follower closed */
	want_line l = {(const char *const[]){"api", "closed on all 3", NULL}};
	free(w->screen);
	w->screen = NULL;
	if (!th_tmux_wait(w->tmux, false, has_line, &l, 30000, &w->screen)) {
		print_message("# the screen:\n%s\n",
		              w->screen ? w->screen : "");
		th_fleet_show(&w->f);
		fail_msg("api not seen closed on all three after the trial");
	}
	assert_non_null(
	    th_screen_line_with(w->screen, l.needles, t.row, sizeof t.row));
	print_message("# %s\n", t.row);
	assert_int_equal(count_of(w->screen, "trial: "), 0);
	assert_non_null(strstr(t.row, " closed "));
	want_state c = {w, "closed"};
	if (!th_wait_until(all_in_state, &c, WAIT_MS)) {
		th_fleet_show(&w->f);
		fail_msg("the trial's success did not close api everywhere");
	}
	hget(w, DEP_KEY, "state", st, sizeof st);
	hget(w, DEP_KEY, "trial_owner", owner, sizeof owner);
	assert_string_equal(st, "closed");
	assert_string_equal(owner, "");
	/* the instance named ran the trial that closed it; the others
	 * followed its result */
	char why[200];
	snprintf(why, sizeof why, "fleet: the trial on %s succeeded", t.named);
	for (int i = 0; i < NINST; i++) {
		cJSON *ev = th_jsonl_read(w->f.in[i].log, NULL, NULL);
		const cJSON *e;
		bool ran = false, followed = false;
		cJSON_ArrayForEach(e, ev)
		{
			const char *kind = th_json_str(e, "kind");
			const char *from = th_json_str(e, "from");
			const char *to = th_json_str(e, "to");
			const char *r = th_json_str(e, "reason");
			if (!kind || strcmp(kind, "transition") != 0 || !from ||
			    !to || strcmp(to, "closed") != 0)
				continue;
			ran = ran || strcmp(from, "half_open") == 0;
			followed = followed || (strcmp(from, "open") == 0 &&
			                        r && strstr(r, why));
		}
		cJSON_Delete(ev);
		if (ran != (i == holder) || followed == (i == holder)) {
			th_fleet_show(&w->f);
			fail_msg(
			    "%s: ran a trial that closed api: %d, followed "
			    "'%s': %d",
			    w->f.in[i].host, ran, why, followed);
		}
	}
}

int main(void)
{
	if (getenv("FB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_fleet_view_attached),
	    T(test_fleet_view_embedded),
	    T(test_no_fleet_says_so),
	    T(test_redis_away_is_shown),
	    T(test_hostile_fleet_text_is_inert),
	    T(test_fleet_trial_holder_shown),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
