/* Replay (SPEC section 6): the timeline index and its reconstructed
 * state, `fusebox replay` (filters, merge, summary, corrupt input, exit
 * codes) and the console's replay screen driven in tmux. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "eventlog.h"
#include "helpers.h"
#include "timeline.h"

#define FB "build/tests/fusebox"

#define EVW(seq, ts, rest)                                                     \
	"{\"v\":1,\"seq\":" #seq ",\"ts\":\"2026-11-23T10:" ts "Z\",\"host\":\"h\"," rest "}\n"

/* A small incident, by hand: chroma opens at 10:00:05.000, fails one
 * trial, recovers at 10:03:10.300; alice trips redis from 10:02:00 to
 * 10:04:00; the gate is blocked while chroma is down. */
static const char incident[] =
    "{\"v\":1,\"seq\":1,\"ts\":\"2026-11-23T10:00:00.000Z\",\"host\":\"web-1\",\"kind\":\"start\",\"version\":\"0.1.0\",\"config\":\"c.ini\"}\n"
    "{\"v\":1,\"seq\":2,\"ts\":\"2026-11-23T10:00:05.000Z\",\"host\":\"web-1\",\"kind\":\"transition\",\"dep\":\"chroma\",\"from\":\"closed\",\"to\":\"open\",\"health\":\"unhealthy\",\"reason\":\"5 consecutive failures\",\"failures\":5,\"retry_after_ms\":60000,\"error\":\"connect: refused\"}\n"
    "{\"v\":1,\"seq\":3,\"ts\":\"2026-11-23T10:00:05.000Z\",\"host\":\"web-1\",\"kind\":\"gate\",\"from\":\"allowed\",\"to\":\"blocked\",\"mode\":\"auto\",\"reason\":\"System unhealthy: chroma is open; retry in 60s\",\"retry_after_ms\":60000}\n"
    "{\"v\":1,\"seq\":4,\"ts\":\"2026-11-23T10:01:05.500Z\",\"host\":\"web-1\",\"kind\":\"transition\",\"dep\":\"chroma\",\"from\":\"open\",\"to\":\"half_open\",\"health\":\"degraded\",\"reason\":\"open wait elapsed\",\"failures\":5}\n"
    "{\"v\":1,\"seq\":5,\"ts\":\"2026-11-23T10:01:05.600Z\",\"host\":\"web-1\",\"kind\":\"transition\",\"dep\":\"chroma\",\"from\":\"half_open\",\"to\":\"open\",\"health\":\"unhealthy\",\"reason\":\"half-open trial failed\",\"failures\":6,\"retry_after_ms\":120000}\n"
    "{\"v\":1,\"seq\":6,\"ts\":\"2026-11-23T10:02:00.000Z\",\"host\":\"web-1\",\"kind\":\"operator\",\"action\":\"trip\",\"dep\":\"redis\",\"actor\":\"alice (uid 1000)\",\"reason\":\"drill\"}\n"
    "{\"v\":1,\"seq\":7,\"ts\":\"2026-11-23T10:02:00.000Z\",\"host\":\"web-1\",\"kind\":\"transition\",\"dep\":\"redis\",\"from\":\"closed\",\"to\":\"forced_open\",\"health\":\"unhealthy\",\"reason\":\"tripped by alice (uid 1000): drill\",\"failures\":0}\n"
    "{\"v\":1,\"seq\":8,\"ts\":\"2026-11-23T10:03:10.250Z\",\"host\":\"web-1\",\"kind\":\"transition\",\"dep\":\"chroma\",\"from\":\"open\",\"to\":\"half_open\",\"health\":\"degraded\",\"reason\":\"open wait elapsed\",\"failures\":6}\n"
    "{\"v\":1,\"seq\":9,\"ts\":\"2026-11-23T10:03:10.300Z\",\"host\":\"web-1\",\"kind\":\"transition\",\"dep\":\"chroma\",\"from\":\"half_open\",\"to\":\"closed\",\"health\":\"healthy\",\"reason\":\"1 trial success\",\"failures\":0}\n"
    "{\"v\":1,\"seq\":10,\"ts\":\"2026-11-23T10:03:10.300Z\",\"host\":\"web-1\",\"kind\":\"gate\",\"from\":\"blocked\",\"to\":\"allowed\",\"mode\":\"auto\",\"reason\":\"All critical dependencies healthy\"}\n"
    "{\"v\":1,\"seq\":11,\"ts\":\"2026-11-23T10:04:00.000Z\",\"host\":\"web-1\",\"kind\":\"operator\",\"action\":\"reset\",\"dep\":\"redis\",\"actor\":\"bob (uid 1001)\",\"reason\":\"\"}\n"
    "{\"v\":1,\"seq\":12,\"ts\":\"2026-11-23T10:04:00.000Z\",\"host\":\"web-1\",\"kind\":\"transition\",\"dep\":\"redis\",\"from\":\"forced_open\",\"to\":\"closed\",\"health\":\"healthy\",\"reason\":\"reset by bob (uid 1001)\",\"failures\":0}\n";

/* A second host's log, interleaved in time with the first. */
static const char other_host[] =
    "{\"v\":1,\"seq\":1,\"ts\":\"2026-11-23T10:00:03.000Z\",\"host\":\"web-2\",\"kind\":\"start\"}\n"
    "{\"v\":1,\"seq\":2,\"ts\":\"2026-11-23T10:01:30.000Z\",\"host\":\"web-2\",\"kind\":\"transition\",\"dep\":\"chroma\",\"from\":\"closed\",\"to\":\"open\",\"health\":\"unhealthy\"}\n"
    "{\"v\":1,\"seq\":3,\"ts\":\"2026-11-23T10:03:30.000Z\",\"host\":\"web-2\",\"kind\":\"transition\",\"dep\":\"chroma\",\"from\":\"open\",\"to\":\"closed\",\"health\":\"healthy\"}\n";

typedef struct ctx {
	char dir[256];
	char log[400], log2[400];
} ctx;

static int setup(void **state)
{
	ctx *c = calloc(1, sizeof *c);
	th_tempdir(c->dir, sizeof c->dir);
	th_write_file(c->dir, "a.jsonl", incident, c->log, sizeof c->log);
	th_write_file(c->dir, "b.jsonl", other_host, c->log2, sizeof c->log2);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	ctx *c = *state;
	th_rmtree(c->dir);
	free(c);
	return 0;
}

static int64_t at(const char *ts)
{
	return th_rfc3339_ms(ts);
}

static int dep_id(const fb_timeline *tl, const char *name)
{
	for (size_t i = 0; i < tl->ndeps; i++) {
		if (strcmp(tl->deps[i], name) == 0)
			return (int)i;
	}
	return -1;
}

/* ---- the index --------------------------------------------------------- */

static void test_state_at_chosen_times(void **state)
{
	ctx *c = *state;
	fb_timeline tl;
	char err[600], *paths[] = {c->log};
	uint8_t st[8], he[8];
	fb_tl_state s = {st, he, false};
	assert_int_equal(fb_timeline_load(&tl, paths, 1, true, err, sizeof err), 0);
	assert_int_equal(tl.n, 12);
	int chroma = dep_id(&tl, "chroma"), redis = dep_id(&tl, "redis");
	assert_true(chroma >= 0 && redis >= 0);

	fb_timeline_state(&tl, fb_timeline_count_at(&tl, at("2026-11-23T10:00:04.999Z")), &s);
	assert_int_equal(st[chroma], FB_TL_UNKNOWN);
	assert_false(s.gate_blocked);

	fb_timeline_state(&tl, fb_timeline_count_at(&tl, at("2026-11-23T10:01:00.000Z")), &s);
	assert_int_equal(st[chroma], FB_STATE_OPEN);
	assert_int_equal(he[chroma], FB_HEALTH_UNHEALTHY);
	assert_int_equal(st[redis], FB_TL_UNKNOWN);
	assert_true(s.gate_blocked);

	fb_timeline_state(&tl, fb_timeline_count_at(&tl, at("2026-11-23T10:01:05.550Z")), &s);
	assert_int_equal(st[chroma], FB_STATE_HALF_OPEN);
	assert_int_equal(he[chroma], FB_HEALTH_DEGRADED);

	fb_timeline_state(&tl, fb_timeline_count_at(&tl, at("2026-11-23T10:02:30.000Z")), &s);
	assert_int_equal(st[chroma], FB_STATE_OPEN);
	assert_int_equal(st[redis], FB_STATE_FORCED_OPEN);

	fb_timeline_state(&tl, fb_timeline_count_at(&tl, at("2026-11-23T10:03:30.000Z")), &s);
	assert_int_equal(st[chroma], FB_STATE_CLOSED);
	assert_int_equal(he[chroma], FB_HEALTH_HEALTHY);
	assert_int_equal(st[redis], FB_STATE_FORCED_OPEN);
	assert_false(s.gate_blocked);

	fb_timeline_state(&tl, tl.n, &s);
	assert_int_equal(st[redis], FB_STATE_CLOSED);
	fb_timeline_free(&tl);
}

/* Past a checkpoint the state must equal replaying from the start. */
static void test_checkpoints_agree_with_full_replay(void **state)
{
	ctx *c = *state;
	char path[400], err[600];
	FILE *f;
	snprintf(path, sizeof path, "%s/long.jsonl", c->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	const char *states[] = {"closed", "open", "half_open"};
	for (int i = 0; i < 3 * FB_TL_CKPT + 17; i++)
		fprintf(f, "{\"v\":1,\"seq\":%d,\"ts\":\"2026-11-23T%02d:%02d:%02d.000Z\","
		           "\"host\":\"h\",\"kind\":\"transition\",\"dep\":\"d%d\",\"from\":\"x\","
		           "\"to\":\"%s\"}\n", i + 1, i / 3600, i / 60 % 60, i % 60, i % 7,
		        states[(i / 7) % 3]);
	fclose(f);
	fb_timeline tl;
	char *paths[] = {path};
	assert_int_equal(fb_timeline_load(&tl, paths, 1, true, err, sizeof err), 0);
	uint8_t a[16], ah[16], b[16];
	fb_tl_state sa = {a, ah, false};
	for (size_t count = 0; count <= tl.n; count += 997) {
		fb_timeline_state(&tl, count, &sa);
		memset(b, FB_TL_UNKNOWN, sizeof b);
		for (size_t i = 0; i < count; i++)
			b[tl.ev[i].dep] = tl.ev[i].to;
		for (size_t d = 0; d < tl.ndeps; d++)
			assert_int_equal(a[d], b[d]);
	}
	fb_timeline_free(&tl);
}

/* A fresh instance's first outcomes, and a reset before any probe: the
 * index knows "unknown", and the text says where health came from. */
static const char first_outcomes[] =
    "{\"v\":1,\"seq\":1,\"ts\":\"2026-11-23T11:00:00.000Z\",\"host\":\"web-1\",\"kind\":\"start\",\"version\":\"0.1.0\"}\n"
    "{\"v\":1,\"seq\":2,\"ts\":\"2026-11-23T11:00:00.050Z\",\"host\":\"web-1\",\"kind\":\"health\",\"dep\":\"db\",\"from\":\"unknown\",\"to\":\"degraded\",\"reason\":\"first failure since start\"}\n"
    "{\"v\":1,\"seq\":3,\"ts\":\"2026-11-23T11:00:00.080Z\",\"host\":\"web-1\",\"kind\":\"health\",\"dep\":\"api\",\"from\":\"unknown\",\"to\":\"healthy\",\"reason\":\"first success since start\"}\n"
    "{\"v\":1,\"seq\":4,\"ts\":\"2026-11-23T11:00:01.000Z\",\"host\":\"web-1\",\"kind\":\"transition\",\"dep\":\"kafka\",\"from\":\"forced_open\",\"to\":\"closed\",\"health\":\"unknown\",\"reason\":\"reset by bob (uid 1001)\",\"failures\":0}\n";

static void test_unknown_health_in_replay(void **state)
{
	ctx *c = *state;
	char path[400], err[600];
	FILE *f;
	snprintf(path, sizeof path, "%s/fresh.jsonl", c->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(first_outcomes, f);
	fclose(f);
	fb_timeline tl;
	char *paths[] = {path};
	assert_int_equal(fb_timeline_load(&tl, paths, 1, true, err, sizeof err), 0);
	uint8_t st[8], he[8];
	fb_tl_state s = {st, he, false};
	fb_timeline_state(&tl, tl.n, &s);
	assert_int_equal(he[dep_id(&tl, "db")], FB_HEALTH_DEGRADED);
	assert_int_equal(he[dep_id(&tl, "api")], FB_HEALTH_HEALTHY);
	assert_int_equal(he[dep_id(&tl, "kafka")], FB_HEALTH_UNKNOWN);
	fb_timeline_free(&tl);

	th_result r;
	char *argv[] = {FB, "replay", path, NULL};
	assert_int_equal(th_run(argv, 20000, &r), 0);
	assert_non_null(strstr(r.out, "db health unknown -> degraded (first "
	                              "failure since start)"));
	assert_non_null(strstr(r.out, "api health unknown -> healthy (first "
	                              "success since start)"));
	th_result_free(&r);
}

/* ---- the command line -------------------------------------------------- */

static int replay(th_result *r, ...)
{
	char *argv[16] = {FB, "replay"};
	int n = 2;
	va_list ap;
	va_start(ap, r);
	for (char *a; n < 15 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return th_run(argv, 20000, r);
}

static void test_json_is_the_log_line_for_line(void **state)
{
	ctx *c = *state;
	th_result r;
	assert_int_equal(replay(&r, c->log, "--json", NULL), 0);
	assert_string_equal(r.out, incident);
	th_result_free(&r);
}

static void test_filters(void **state)
{
	ctx *c = *state;
	th_result r;
	assert_int_equal(replay(&r, c->log, "--json", "--dep", "red*", NULL), 0);
	assert_non_null(strstr(r.out, "\"seq\":6,"));
	assert_non_null(strstr(r.out, "\"seq\":12,"));
	assert_null(strstr(r.out, "chroma"));
	th_result_free(&r);

	assert_int_equal(replay(&r, c->log, "--json", "--kind", "gate", NULL), 0);
	assert_non_null(strstr(r.out, "\"seq\":3,"));
	assert_non_null(strstr(r.out, "\"seq\":10,"));
	assert_null(strstr(r.out, "\"kind\":\"transition\""));
	th_result_free(&r);

	assert_int_equal(replay(&r, c->log, "--json", "--from", "2026-11-23T10:02:00Z",
	                        "--to", "2026-11-23T10:03:10.250Z", NULL), 0);
	assert_string_equal(strstr(r.out, "\"seq\""), strstr(r.out, "\"seq\":6,"));
	assert_non_null(strstr(r.out, "\"seq\":8,"));
	assert_null(strstr(r.out, "\"seq\":9,"));
	th_result_free(&r);

	assert_int_equal(replay(&r, c->log, "--from", "yesterday", NULL), 64);
	th_result_free(&r);
}

static void test_two_hosts_merge_by_time(void **state)
{
	ctx *c = *state;
	th_result r;
	assert_int_equal(replay(&r, c->log, c->log2, "--json", NULL), 0);
	/* web-2's start (10:00:03) sits between web-1's start and first
	 * transition; its chroma open (10:01:30) after web-1's seq 5 */
	const char *w1start = strstr(r.out, "\"seq\":1,\"ts\":\"2026-11-23T10:00:00");
	const char *w2start = strstr(r.out, "\"host\":\"web-2\",\"kind\":\"start\"");
	const char *w1open = strstr(r.out, "\"seq\":2,\"ts\":\"2026-11-23T10:00:05");
	const char *w1retry = strstr(r.out, "\"seq\":5,");
	const char *w2open = strstr(r.out, "\"ts\":\"2026-11-23T10:01:30");
	const char *w1trip = strstr(r.out, "\"seq\":6,");
	assert_true(w1start && w2start && w1open && w1retry && w2open && w1trip);
	assert_true(w1start < w2start && w2start < w1open);
	assert_true(w1retry < w2open && w2open < w1trip);
	th_result_free(&r);
}

static void test_summary_durations_are_exact(void **state)
{
	ctx *c = *state;
	th_result r;
	assert_int_equal(replay(&r, c->log, "--summary", "--json", NULL), 0);
	cJSON *s = cJSON_Parse(r.out);
	assert_non_null(s);
	cJSON *deps = cJSON_GetObjectItem(s, "dependencies");
	const cJSON *chroma = NULL, *redis = NULL, *d;
	cJSON_ArrayForEach(d, deps) {
		if (!strcmp(th_json_str(d, "dep"), "chroma"))
			chroma = d;
		if (!strcmp(th_json_str(d, "dep"), "redis"))
			redis = d;
	}
	assert_non_null(chroma);
	assert_non_null(redis);
	assert_int_equal((int)th_json_num(chroma, "opens", -1), 2);
	assert_int_equal((long)th_json_num(chroma, "down_ms", -1), 185300);
	assert_int_equal((long)th_json_num(chroma, "longest_outage_ms", -1), 185300);
	const cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(chroma, "down_windows"), 0);
	assert_string_equal(th_json_str(w, "start"), "2026-11-23T10:00:05.000Z");
	assert_string_equal(th_json_str(w, "end"), "2026-11-23T10:03:10.300Z");
	assert_int_equal((long)th_json_num(redis, "down_ms", -1), 120000);
	const cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "gate_blocked"), 0);
	assert_int_equal((long)th_json_num(g, "duration_ms", -1), 185300);
	assert_string_equal(th_json_str(g, "reason"),
	                    "System unhealthy: chroma is open; retry in 60s");
	const cJSON *acts = cJSON_GetObjectItem(s, "operator_actions");
	assert_int_equal(cJSON_GetArraySize(acts), 2);
	assert_string_equal(th_json_str(cJSON_GetArrayItem(acts, 0), "actor"),
	                    "alice (uid 1000)");
	assert_string_equal(th_json_str(cJSON_GetArrayItem(acts, 0), "reason"), "drill");
	cJSON_Delete(s);
	th_result_free(&r);

	assert_int_equal(replay(&r, c->log, "--summary", NULL), 0);
	assert_non_null(strstr(r.out, "3m 05.300s"));
	assert_non_null(strstr(r.out, "2m 00.000s"));
	th_result_free(&r);
	assert_int_equal(replay(&r, c->log, "--summary", "--markdown", NULL), 0);
	assert_non_null(strstr(r.out, "| 2026-11-23T10:00:05.000Z | 2026-11-23T10:03:10.300Z | 3m 05.300s |"));
	th_result_free(&r);
}

/* api is down once and recovers, cache is only disabled (never down), db
 * goes down and stays down; an action with no reason; one event lost;
 * the gate blocks for api, then again for db. */
static const char wording[] =
    EVW(1, "00:00.000", "\"kind\":\"start\"")
    EVW(2, "00:10.000", "\"kind\":\"transition\",\"dep\":\"api\",\"from\":\"closed\",\"to\":\"open\",\"reason\":\"5 consecutive failures\"")
    EVW(3, "00:10.000", "\"kind\":\"gate\",\"from\":\"allowed\",\"to\":\"blocked\",\"mode\":\"auto\",\"reason\":\"api is open\"")
    EVW(4, "01:10.000", "\"kind\":\"transition\",\"dep\":\"api\",\"from\":\"open\",\"to\":\"closed\",\"reason\":\"\"")
    EVW(5, "01:10.000", "\"kind\":\"gate\",\"from\":\"blocked\",\"to\":\"allowed\",\"mode\":\"auto\",\"reason\":\"\"")
    EVW(6, "02:00.000", "\"kind\":\"operator\",\"action\":\"disable\",\"dep\":\"cache\",\"actor\":\"bob (uid 1001)\",\"reason\":\"\"")
    EVW(7, "02:00.000", "\"kind\":\"transition\",\"dep\":\"cache\",\"from\":\"closed\",\"to\":\"forced_closed\",\"reason\":\"\"")
    EVW(8, "03:00.000", "\"kind\":\"gap\",\"lost\":1,\"reason\":\"\"")
    EVW(9, "05:00.000", "\"kind\":\"transition\",\"dep\":\"db\",\"from\":\"closed\",\"to\":\"open\",\"reason\":\"\"")
    EVW(10, "05:00.000", "\"kind\":\"gate\",\"from\":\"allowed\",\"to\":\"blocked\",\"mode\":\"auto\",\"reason\":\"db is open\"")
    EVW(11, "06:00.000", "\"kind\":\"start\"");

/* No markdown table is a header alone: a row follows every |---| line. */
static void assert_no_empty_table(const char *md)
{
	for (const char *p = strstr(md, "|---"); p; p = strstr(p + 1, "|---")) {
		const char *next = strchr(p, '\n');
		if (!next || strncmp(next + 1, "| ", 2) != 0)
			fail_msg("a table with no rows:\n%s", md);
	}
}

static void test_summary_reads_right(void **state)
{
	ctx *c = *state;
	char path[400];
	th_result r;
	th_write_file(c->dir, "wording.jsonl", wording, path, sizeof path);
	assert_int_equal(replay(&r, path, "--summary", NULL), 0);
	const char *out = r.out;
	if (!strstr(out, "INCIDENT SUMMARY: 11 events from ") ||
	    !strstr(out, "\n  cache: never down\n") ||
	    !strstr(out, "\n  api: opened once, 1 down window, down 1m 00.000s in all, longest 1m 00.000s, mean time to recover 1m 00.000s\n") ||
	    !strstr(out, "\n  db: opened once, 1 down window, down 1m 00.000s in all, longest 1m 00.000s, mean time to recover none: still down at the end\n") ||
	    !strstr(out, "1 event was lost (see EVENTS LOST)") ||
	    !strstr(out, "  1 event lost\n") ||
	    !strstr(out, "  bob (uid 1001): disable cache\n") ||
	    strstr(out, "windows,") || strstr(out, "()") || strstr(out, "n/a") ||
	    strstr(out, "not recovered") || strstr(out, "  \n") || strstr(out, " \n"))
		fail_msg("the summary reads:\n%s", out);
	th_result_free(&r);

	assert_int_equal(replay(&r, path, "--summary", "--markdown", NULL), 0);
	assert_no_empty_table(r.out);
	if (!strstr(r.out, "### cache\n\nNever down.\n") ||
	    !strstr(r.out, "**1 event was lost**"))
		fail_msg("the markdown reads:\n%s", r.out);
	th_result_free(&r);

	/* nothing in a section: said, not an empty table */
	assert_int_equal(replay(&r, c->log, "--summary", "--markdown", "--dep", "chroma", NULL), 0);
	assert_no_empty_table(r.out);
	assert_non_null(strstr(r.out, "## Operator actions\n\nNone.\n"));
	th_result_free(&r);
	assert_int_equal(replay(&r, path, "--summary", "--markdown", "--kind", "start", NULL), 0);
	assert_no_empty_table(r.out);
	assert_non_null(strstr(r.out, "## Gate blocked\n\nNever blocked.\n"));
	th_result_free(&r);
}

/* --dep keeps the gate's blocked windows that overlap the chosen
 * dependencies' down windows, and only those. */
static void test_summary_dep_keeps_its_gate_windows(void **state)
{
	ctx *c = *state;
	char path[400];
	th_result r;
	th_write_file(c->dir, "wording.jsonl", wording, path, sizeof path);
	static const struct {
		const char *dep, *start;
		int windows;
	} cases[] = {
	    {"api", "2026-11-23T10:00:10.000Z", 1},
	    {"db", "2026-11-23T10:05:00.000Z", 1},
	    {"cache", NULL, 0},
	    {"*", "2026-11-23T10:00:10.000Z", 2},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(replay(&r, path, "--summary", "--json", "--dep", cases[i].dep, NULL), 0);
		cJSON *s = cJSON_Parse(r.out);
		assert_non_null(s);
		const cJSON *g = cJSON_GetObjectItem(s, "gate_blocked");
		if (cJSON_GetArraySize(g) != cases[i].windows)
			fail_msg("--dep %s: %d gate windows, expected %d:\n%s", cases[i].dep,
			         cJSON_GetArraySize(g), cases[i].windows, r.out);
		if (cases[i].start)
			assert_string_equal(th_json_str(cJSON_GetArrayItem(g, 0), "start"),
			                    cases[i].start);
		/* the gate's events are context, not counted as the dep's */
		if (!strcmp(cases[i].dep, "api"))
			assert_int_equal((int)th_json_num(s, "events", -1), 3);
		cJSON_Delete(s);
		th_result_free(&r);
	}
	/* the incident: chroma's window is the gate's */
	assert_int_equal(replay(&r, c->log, "--summary", "--dep", "chroma", NULL), 0);
	assert_non_null(strstr(r.out, "GATE BLOCKED\n    2026-11-23T10:00:05.000Z  ->  2026-11-23T10:03:10.300Z"));
	th_result_free(&r);
}

/* Every kind of damage, each between valid lines. */
static void test_corrupt_lines_are_skipped_and_named(void **state)
{
	ctx *c = *state;
	char path[400];
	size_t big = 70 * 1024;
	char *text = malloc(big + 16384);
	size_t n = 0;
	n += (size_t)sprintf(text + n, "{\"v\":1,\"seq\":1,\"ts\":\"2026-11-23T10:00:00.000Z\",\"host\":\"h\",\"kind\":\"start\"}\n");
	n += (size_t)sprintf(text + n, "{\"v\":1,\"seq\":2,\"ts\":\"2026-11-23T10:00:01.0\n"); /* torn */
	n += (size_t)sprintf(text + n, "this is not json\n");
	n += (size_t)sprintf(text + n, "{\"v\":1,\"seq\":3,\"ts\":\"2026-11-23T10:00:02.000Z\",\"kind\":\"start\",\"host\":\"\xff\xfe\"}\n");
	n += (size_t)sprintf(text + n, "{\"v\":1,\"seq\":4,\"ts\":\"2026-11-23T10:00:03.000Z\",\"kind\":\"start\",\"x\":");
	for (int i = 0; i < 5000; i++)
		text[n++] = '[';
	text[n++] = '\n';
	n += (size_t)sprintf(text + n, "{\"v\":1,\"seq\":5,\"ts\":\"2026-11-23T10:00:04.000Z\",\"kind\":\"start\",\"pad\":\"");
	memset(text + n, 'a', big);
	n += big;
	n += (size_t)sprintf(text + n, "\"}\n");
	n += (size_t)sprintf(text + n, "{\"v\":1,\"seq\":6,\"ts\":\"2026-11-23T10:00:05.000Z\",\"host\":\"h\",\"kind\":\"stop\"}\n");
	n += (size_t)sprintf(text + n, "{\"v\":1,\"seq\":7,\"ts\":\"2026-1"); /* truncated end */
	text[n] = '\0';
	th_write_file(c->dir, "bad.jsonl", text, path, sizeof path);
	free(text);

	th_result r;
	assert_int_equal(replay(&r, path, "--json", NULL), 0);
	assert_non_null(strstr(r.out, "\"seq\":1,"));
	assert_non_null(strstr(r.out, "\"seq\":6,"));
	for (int line = 2; line <= 7; line++) {
		char where[450];
		snprintf(where, sizeof where, "%s:%d: skipped", path, line + (line == 7 ? 1 : 0));
		if (line == 7)
			continue; /* line 7 is the valid stop event */
		assert_non_null(strstr(r.err, where));
	}
	char last[450];
	snprintf(last, sizeof last, "%s:8: skipped", path);
	assert_non_null(strstr(r.err, last));
	th_result_free(&r);

	/* the index for the console skips the same lines */
	fb_timeline tl;
	char err[600], *paths[] = {path};
	assert_int_equal(fb_timeline_load(&tl, paths, 1, true, err, sizeof err), 0);
	assert_int_equal(tl.n, 2);
	assert_int_equal(tl.skipped, 6);
	fb_timeline_free(&tl);
}

static void test_exit_codes(void **state)
{
	ctx *c = *state;
	char path[400];
	th_result r;
	th_write_file(c->dir, "junk.jsonl", "junk\n{\"no\":1}\n", path, sizeof path);
	assert_int_equal(replay(&r, path, NULL), 65);
	th_result_free(&r);
	th_write_file(c->dir, "empty.jsonl", "", path, sizeof path);
	assert_int_equal(replay(&r, path, NULL), 65);
	th_result_free(&r);
	snprintf(path, sizeof path, "%s/missing.jsonl", c->dir);
	assert_int_equal(replay(&r, path, NULL), 66);
	assert_non_null(strstr(r.err, "missing.jsonl"));
	th_result_free(&r);
	assert_int_equal(replay(&r, NULL), 64);
	th_result_free(&r);
}

/* A log with one start event at each of the times, seq from 1. */
static void write_log_at(ctx *c, const char *name, const int64_t *ts, int n,
                         char *path, size_t len)
{
	char text[2048], when[40];
	size_t used = 0;
	for (int i = 0; i < n; i++) {
		fb_format_rfc3339(ts[i], when, sizeof when);
		used += (size_t)snprintf(text + used, sizeof text - used,
		                         "{\"v\":1,\"seq\":%d,\"ts\":\"%s\",\"host\":\"h\",\"kind\":\"start\"}\n",
		                         i + 1, when);
	}
	th_write_file(c->dir, name, text, path, len);
}

static int64_t wall_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The first line of stderr names the value and says what is wrong. */
static void assert_refused(th_result *r, const char *value, const char *why)
{
	char want[160];
	snprintf(want, sizeof want, "fusebox: replay: bad time '%s' for --", value);
	if (strncmp(r->err, want, strlen(want)) != 0 || !strstr(r->err, why) ||
	    strstr(r->err, why) > strchr(r->err, '\n'))
		fail_msg("'%s': said %s", value, r->err);
}

/* --from and --to take what the console's go-to prompt takes: HH:MM:SS is
 * today (UTC), -15m is from now; impossible dates are refused by name. */
static void test_times_as_operators_type_them(void **state)
{
	ctx *c = *state;
	char path[400];
	th_result r;
	static const struct {
		const char *value, *why;
	} bad[] = {
	    {"2026-02-31", "no such date"},
	    {"2026-02-31T10:00:00Z", "no such date"},
	    {"2026-04-31T10:00:00Z", "no such date"},
	    {"25:00:00", "no such time of day"},
	    {"2026-11-23T24:00:00Z", "no such time of day"},
	    {"yesterday", "not a time"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(replay(&r, c->log, "--from", bad[i].value, NULL), 64);
		assert_refused(&r, bad[i].value, bad[i].why);
		th_result_free(&r);
		assert_int_equal(replay(&r, c->log, "--to", bad[i].value, NULL), 64);
		assert_refused(&r, bad[i].value, bad[i].why);
		th_result_free(&r);
	}

	/* relative to now */
	int64_t now = wall_ms();
	int64_t recent[] = {now - 20 * 60000, now - 10 * 60000};
	write_log_at(c, "recent.jsonl", recent, 2, path, sizeof path);
	assert_int_equal(replay(&r, path, "--json", "--from", "-15m", NULL), 0);
	assert_null(strstr(r.out, "\"seq\":1,"));
	assert_non_null(strstr(r.out, "\"seq\":2,"));
	th_result_free(&r);

	/* HH:MM:SS: today, UTC; not yesterday at that time */
	int64_t day = now - now % 86400000;
	int64_t times[] = {day - 86400000 + 3600000, day + 3600000 - 1,
	                   day + 3600000, day + 2 * 3600000};
	write_log_at(c, "today.jsonl", times, 4, path, sizeof path);
	assert_int_equal(replay(&r, path, "--json", "--from", "01:00:00",
	                        "--to", "01:59:59.999", NULL), 0);
	if (wall_ms() - wall_ms() % 86400000 != day) {
		th_result_free(&r);
		skip(); /* midnight passed meanwhile */
	}
	assert_null(strstr(r.out, "\"seq\":1,"));
	assert_null(strstr(r.out, "\"seq\":2,"));
	assert_non_null(strstr(r.out, "\"seq\":3,"));
	assert_null(strstr(r.out, "\"seq\":4,"));
	th_result_free(&r);
}

/* Nothing to show is said, never silent: an empty log (65), a filter
 * that matches nothing (0, with a line on stderr). */
static void test_nothing_to_show_is_said(void **state)
{
	ctx *c = *state;
	char path[400], want[460];
	th_result r;
	th_write_file(c->dir, "empty.jsonl", "", path, sizeof path);
	assert_int_equal(replay(&r, path, NULL), 65);
	snprintf(want, sizeof want, "fusebox: %s: empty: no events to replay\n", path);
	assert_string_equal(r.err, want);
	assert_string_equal(r.out, "");
	th_result_free(&r);
	assert_int_equal(replay(&r, path, "--summary", NULL), 65);
	assert_string_equal(r.err, want);
	th_result_free(&r);

	assert_int_equal(replay(&r, c->log, "--dep", "nosuch", NULL), 0);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "fusebox: replay: no events match\n");
	th_result_free(&r);
	assert_int_equal(replay(&r, c->log, "--from", "2030-01-01T00:00:00Z",
	                        "--json", NULL), 0);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "fusebox: replay: no events match\n");
	th_result_free(&r);
	/* something matched: nothing more to say */
	assert_int_equal(replay(&r, c->log, "--dep", "redis", NULL), 0);
	assert_string_equal(r.err, "");
	th_result_free(&r);
}

/* ---- hostile logs (logs from other hosts are untrusted) ------------------ */

#define EV(seq, ts, rest)                                                      \
	"{\"v\":1,\"seq\":" #seq ",\"ts\":\"2026-11-23T10:" ts "Z\",\"host\":\"h\"," rest "}\n"

/* An error that quotes a JSON body nests brackets only inside a string:
 * the event is still an event, and the outage is in the summary. */
static void test_json_error_bodies_are_not_too_deep(void **state)
{
	ctx *c = *state;
	char path[400];
	th_write_file(c->dir, "nested.jsonl",
	    EV(1, "00:00.000", "\"kind\":\"start\"")
	    EV(2, "00:01.000", "\"kind\":\"transition\",\"dep\":\"db\",\"from\":\"closed\",\"to\":\"open\","
	       "\"error\":\"bad status 500: {\\\"error\\\":{\\\"details\\\":[{\\\"reason\\\":[\\\"db down [\\\\\\\"x\\\\\\\"]\\\"]}]}}\"")
	    EV(3, "00:31.000", "\"kind\":\"transition\",\"dep\":\"db\",\"from\":\"half_open\",\"to\":\"closed\""),
	    path, sizeof path);
	th_result r;
	assert_int_equal(replay(&r, path, "--summary", "--json", NULL), 0);
	bool warned = strstr(r.err, "nested") != NULL;
	cJSON *s = cJSON_Parse(r.out);
	th_result_free(&r);
	assert_false(warned);
	const cJSON *db = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "dependencies"), 0);
	assert_string_equal(th_json_str(db, "dep"), "db");
	assert_int_equal((long)th_json_num(db, "down_ms", -1), 30000);
	cJSON_Delete(s);
}

static void assert_no_escape(const char *what, const th_result *r)
{
	for (const char *p = r->out; *p; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\n')
			fail_msg("%s printed control byte 0x%02x", what, *p);
	}
	if (strstr(r->out, "]0;") || strstr(r->out, "[2J"))
		fail_msg("%s left an escape's residue: %s", what, r->out);
}

/* Escapes escaped in the JSON ("\u001b]0;...") decode to real ones: every
 * human output (timeline, summary as text and markdown) drops them. */
static void test_escaped_escapes_never_reach_the_terminal(void **state)
{
	ctx *c = *state;
	char path[400];
	th_write_file(c->dir, "esc.jsonl",
	    EV(1, "00:00.000", "\"kind\":\"start\"")
	    EV(2, "00:01.000", "\"kind\":\"transition\",\"dep\":\"x\\u001b[2J\",\"from\":\"closed\",\"to\":\"open\","
	       "\"reason\":\"\\u001b]0;PWNED\\u0007boom\",\"error\":\"\\u001b[31mred\\u009b2J\"")
	    EV(3, "00:02.000", "\"kind\":\"operator\",\"action\":\"trip\",\"dep\":\"y\",\"actor\":\"\\u001b]0;evil\\u0007 (uid 0)\",\"reason\":\"\\u200e\\u001b[2J\""),
	    path, sizeof path);
	const char *modes[][2] = {{NULL, NULL}, {"--summary", NULL}, {"--summary", "--markdown"}};
	for (size_t i = 0; i < 3; i++) {
		th_result r;
		assert_int_equal(replay(&r, path, modes[i][0], modes[i][1], NULL), 0);
		assert_no_escape(modes[i][0] ? modes[i][0] : "the timeline", &r);
		assert_non_null(strstr(r.out, "boom"));
		th_result_free(&r);
	}
}

/* A FIFO is refused at once (it would block open() forever). */
static void test_fifo_is_refused(void **state)
{
	ctx *c = *state;
	char path[400];
	snprintf(path, sizeof path, "%s/fifo.jsonl", c->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	th_result r;
	assert_int_equal(replay(&r, path, NULL), 66);
	assert_non_null(strstr(r.err, "not a regular file"));
	th_result_free(&r);
}

/* A seq or retry that no integer can hold is a bad line, not undefined
 * behaviour (the sanitized build checks float-to-integer casts). */
static void test_huge_numbers_are_bad_lines(void **state)
{
	ctx *c = *state;
	char path[400];
	th_write_file(c->dir, "huge.jsonl",
	    EV(1, "00:00.000", "\"kind\":\"start\"")
	    "{\"v\":1,\"seq\":1e300,\"ts\":\"2026-11-23T10:00:01.000Z\",\"host\":\"h\",\"kind\":\"start\"}\n"
	    "{\"v\":1,\"seq\":-1e300,\"ts\":\"2026-11-23T10:00:01.000Z\",\"host\":\"h\",\"kind\":\"start\"}\n"
	    EV(4, "00:02.000", "\"kind\":\"transition\",\"dep\":\"a\",\"from\":\"closed\",\"to\":\"open\",\"retry_after_ms\":1e300")
	    EV(5, "00:03.000", "\"kind\":\"stop\""),
	    path, sizeof path);
	th_result r;
	assert_int_equal(replay(&r, path, NULL), 0);
	assert_non_null(strstr(r.err, ":2: skipped"));
	assert_non_null(strstr(r.err, ":3: skipped"));
	assert_non_null(strstr(r.out, "stop"));
	th_result_free(&r);
}

/* A field given twice would read one way here and another elsewhere: the
 * line is skipped, and says why (found by fuzz_logtail). */
static void test_field_given_twice_is_a_bad_line(void **state)
{
	ctx *c = *state;
	char path[400];
	th_write_file(c->dir, "twice.jsonl",
	    EV(1, "00:00.000", "\"kind\":\"start\"")
	    EV(2, "00:01.000", "\"kind\":\"start\",\"seq\":12")
	    EV(3, "00:02.000", "\"kind\":\"operator\",\"dep\":\"a\",\"dep\":\"b\"")
	    EV(4, "00:03.000", "\"kind\":\"stop\""),
	    path, sizeof path);
	th_result r;
	assert_int_equal(replay(&r, path, NULL), 0);
	assert_non_null(strstr(r.err, ":2: skipped: a field appears twice"));
	assert_non_null(strstr(r.err, ":3: skipped: a field appears twice"));
	assert_non_null(strstr(r.out, "stop"));
	th_result_free(&r);
}

/* Opens dir/name holding `text` as the instance would and appends one
 * event; returns fb_log_open's result, with the seq it gave in *seq. */
static int reopen_and_append(ctx *c, const char *name, const char *text,
                             uint64_t *seq, fb_error *err)
{
	char path[400], warn[1024];
	fb_log log;
	th_write_file(c->dir, name, text, path, sizeof path);
	if (fb_log_open(&log, path, "h", 0, 5, 0600, warn, sizeof warn, err) != 0)
		return -1;
	fb_event ev = {.kind = FB_EV_START, .failures = -1, .retry_after_ms = -1};
	assert_int_equal(fb_log_append(&log, &ev, 1763892000000LL, err), 0);
	*seq = log.seq;
	fb_log_close(&log);
	return 0;
}

/* seq is strictly increasing across restarts: above every event of the
 * tail, not only the last line's (found by fuzz_logtail: a log joined by
 * hand went back from 6 to 5), and written exactly however large. */
static void test_seq_goes_on_above_every_event(void **state)
{
	ctx *c = *state;
	uint64_t seq;
	fb_error err;
	assert_int_equal(reopen_and_append(c, "joined.jsonl",
	    EV(10, "00:00.000", "\"kind\":\"start\"")
	    EV(4, "00:01.000", "\"kind\":\"stop\""), &seq, &err), 0);
	assert_int_equal(seq, 11);
	assert_int_equal(reopen_and_append(c, "big.jsonl",
	    EV(1234567890123456, "00:00.000", "\"kind\":\"start\""), &seq,
	    &err), 0);
	assert_int_equal(seq, 1234567890123457ULL);
	char path[400], text[4096];
	snprintf(path, sizeof path, "%s/big.jsonl", c->dir);
	assert_true(th_read_file(path, text, sizeof text) > 0);
	assert_non_null(strstr(text, "\"seq\":1234567890123457,"));
}

/* Text cut to fit a buffer before it reached the log (half a character
 * at its end) is written as valid UTF-8: the event is not lost to every
 * reader (found by fuzz_control). */
static void test_cut_text_is_logged_readable(void **state)
{
	ctx *c = *state;
	char path[400], warn[1024], text[4096];
	fb_log log;
	fb_error err;
	snprintf(path, sizeof path, "%s/cut.jsonl", c->dir);
	assert_int_equal(fb_log_open(&log, path, "h", 0, 5, 0600, warn,
	                             sizeof warn, &err), 0);
	fb_event ev = {.kind = FB_EV_OPERATOR, .action = FB_ACT_GATE_BLOCK,
	               .actor = "alice", .reason = "caf\xc3", .failures = -1,
	               .retry_after_ms = -1};
	assert_int_equal(fb_log_append(&log, &ev, 1763892000000LL, &err), 0);
	fb_log_close(&log);
	fb_log_reader r;
	const char *line;
	size_t len;
	fb_log_event got;
	assert_int_equal(fb_log_reader_open(&r, path, text, sizeof text), 0);
	assert_true(fb_log_reader_line(&r, &line, &len));
	assert_int_equal(fb_log_event_parse(&r, line, len, &got), 0);
	assert_string_equal(got.reason, "caf?");
	cJSON_Delete(got.json);
	fb_log_reader_close(&r);
}

/* Past 2^53 no reader can hold a seq exactly: such a log is refused with
 * a message, never continued with a seq that reads back the same. */
static void test_seq_at_its_limit_is_refused(void **state)
{
	ctx *c = *state;
	uint64_t seq;
	fb_error err;
	assert_int_equal(reopen_and_append(c, "last.jsonl",
	    EV(9007199254740991, "00:00.000", "\"kind\":\"start\""), &seq,
	    &err), 0);
	assert_int_equal(seq, 9007199254740992ULL);
	assert_int_equal(reopen_and_append(c, "last.jsonl",
	    EV(9007199254740992, "00:00.000", "\"kind\":\"start\""), &seq,
	    &err), -1);
	assert_non_null(strstr(err.text, "is the last an event can have"));
}

/* 70,000 distinct dependencies: the summary is linear, not quadratic. */
static void test_summary_of_many_dependencies(void **state)
{
	ctx *c = *state;
	char path[400];
	snprintf(path, sizeof path, "%s/many.jsonl", c->dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 70000; i++)
		fprintf(f, "{\"v\":1,\"seq\":%d,\"ts\":\"2026-11-23T10:00:00.000Z\",\"host\":\"h\","
		        "\"kind\":\"transition\",\"dep\":\"dep-%d\",\"from\":\"closed\",\"to\":\"open\"}\n",
		        i + 1, i);
	fclose(f);
	char *argv[] = {FB, "replay", path, "--summary", "--json", NULL};
	th_result r;
	/* a quadratic summary takes hours; 60 s covers a loaded machine */
	assert_int_equal(th_run(argv, 60000, &r), 0);
	cJSON *s = cJSON_Parse(r.out);
	th_result_free(&r);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "dependencies")), 70000);
	cJSON_Delete(s);
}

/* logrotate's copytruncate empties the log while replay reads it: replay
 * ends with what it read, never dies of SIGBUS. */
static void test_log_truncated_while_read(void **state)
{
	ctx *c = *state;
	char path[400];
	snprintf(path, sizeof path, "%s/big.jsonl", c->dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 300000; i++)
		fprintf(f, "{\"v\":1,\"seq\":%d,\"ts\":\"2026-11-23T10:00:00.000Z\",\"host\":\"h\","
		        "\"kind\":\"health\",\"dep\":\"d%d\",\"from\":\"healthy\",\"to\":\"degraded\",\"reason\":\"r\"}\n",
		        i + 1, i % 50);
	fclose(f);
	for (int round = 0; round < 5; round++) {
		char *argv[] = {FB, "replay", path, "--summary", NULL};
		pid_t pid = th_spawn(argv, "/dev/null", "/dev/null");
		th_sleep_ms(150 + round * 150);
		assert_int_equal(truncate(path, 0), 0);
		int status;
		assert_true(th_wait_exit(pid, 60000, &status));
		/* (under ASan a SIGBUS is an exit 1 with a report) */
		if (!WIFEXITED(status) ||
		    (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 65))
			fail_msg("replay ended with status %#x", status);
		f = fopen(path, "w");
		for (int i = 0; i < 300000; i++)
			fprintf(f, "{\"v\":1,\"seq\":%d,\"ts\":\"2026-11-23T10:00:00.000Z\",\"host\":\"h\","
			        "\"kind\":\"health\",\"dep\":\"d\",\"from\":\"healthy\",\"to\":\"degraded\"}\n", i + 1);
		fclose(f);
	}
}

/* ---- the console's replay screen --------------------------------------- */

/* The table row of redis says closed. */
static bool redis_row_closed(const char *screen, void *unused)
{
	(void)unused;
	for (const char *l = screen; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, "redis ", 6) == 0) {
			const char *end = strchr(l, '\n');
			size_t len = end ? (size_t)(end - l) : strlen(l);
			return memmem(l, len, " closed ", 8) != NULL;
		}
	}
	return false;
}

static void test_console_replay_seek_step_play(void **state)
{
	ctx *c = *state;
	char sock[64], cmd[600];
	snprintf(sock, sizeof sock, "fbreplay%d", (int)getpid());
	snprintf(cmd, sizeof cmd, "%s --replay %s", FB, c->log);
	assert_int_equal(th_tmux_start(sock, c->dir, 100, 30, cmd), 0);
	assert_true(th_tmux_wait_text(sock, "REPLAY", 10000));
	assert_true(th_tmux_wait_text(sock, "event 1/12", 5000));

	/* seek: alice's trip is in force at 10:02:30, chroma still open */
	th_tmux(sock, NULL, "send-keys", "g", NULL);
	th_tmux(sock, NULL, "send-keys", "10:02:30", "Enter", NULL);
	assert_true(th_tmux_wait_text(sock, "2026-11-23T10:02:30.000Z", 5000));
	assert_true(th_tmux_wait_text(sock, "forced_open", 5000));
	assert_true(th_tmux_wait_text(sock, "gate BLOCKED", 5000));
	assert_true(th_tmux_wait_text(sock, "event 7/12", 5000));

	/* step: the next event is chroma's second trial at 10:03:10.250 */
	th_tmux(sock, NULL, "send-keys", "Right", NULL);
	assert_true(th_tmux_wait_text(sock, "event 8/12", 5000));
	assert_true(th_tmux_wait_text(sock, "10:03:10.250Z", 5000));
	th_tmux(sock, NULL, "send-keys", "Left", NULL);
	assert_true(th_tmux_wait_text(sock, "event 7/12", 5000));

	/* play at 600x runs to the end: gate allowed, everything closed */
	for (int i = 0; i < 4; i++)
		th_tmux(sock, NULL, "send-keys", "+", NULL);
	th_tmux(sock, NULL, "send-keys", "Space", NULL);
	assert_true(th_tmux_wait_text(sock, "playing", 3000) ||
	            th_tmux_wait_text(sock, "event 12/12", 100));
	assert_true(th_tmux_wait_text(sock, "event 12/12", 10000));
	assert_true(th_tmux_wait_text(sock, "gate allowed", 5000));
	assert_true(th_tmux_wait(sock, false, redis_row_closed, NULL, 5000, NULL));

	/* actions are off in the past */
	th_tmux(sock, NULL, "send-keys", "t", NULL);
	assert_true(th_tmux_wait_text(sock, "actions are off", 5000));
	th_tmux(sock, NULL, "send-keys", "q", NULL);
	th_tmux_kill(sock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_state_at_chosen_times, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoints_agree_with_full_replay, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_health_in_replay, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json_is_the_log_line_for_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_hosts_merge_by_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_summary_durations_are_exact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_summary_reads_right, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_summary_dep_keeps_its_gate_windows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_lines_are_skipped_and_named, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_times_as_operators_type_them, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nothing_to_show_is_said, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json_error_bodies_are_not_too_deep, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escaped_escapes_never_reach_the_terminal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fifo_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_huge_numbers_are_bad_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_field_given_twice_is_a_bad_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seq_goes_on_above_every_event, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seq_at_its_limit_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cut_text_is_logged_readable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_summary_of_many_dependencies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_truncated_while_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_console_replay_seek_step_play, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
