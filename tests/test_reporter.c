/* The library side of passive health (include/fusebox/report.h) against
 * a real, sanitized `fusebox run`: fb_allow() answers as the instance
 * does; a reporter delivers every outcome, batched; it never blocks a
 * caller when the instance is away or frozen (it drops and counts); and
 * it is safe from many threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "fusebox/report.h"
#include "helpers.h"

#define WAIT_MS 10000

static char g_fusebox[PATH_MAX];
static char g_fixture[PATH_MAX];

typedef th_env env;

static int setup(void **state)
{
	env *e = th_env_new(g_fixture);
	if (!e)
		return -1;
	FILE *f = fopen(e->cfg, "w");
	if (!f)
		return -1;
	fprintf(f,
	        "[fusebox]\nlog = events.jsonl\ncontrol_socket = ctl.sock\n"
	        "host = rep\n\n[defaults]\ninterval = 1h\n"
	        "failure_threshold = 0\n\n[dep api]\n"
	        "url = http://127.0.0.1:%d/api\ncritical = true\n",
	        e->fx.port);
	fclose(f);
	char *argv[] = {g_fusebox, "run", "--config", e->cfg, NULL};
	e->fb = th_spawn(argv, e->out, e->err);
	*state = e;
	return e->fb > 0 && th_wait_unix_socket(e->sock, WAIT_MS) ? 0 : -1;
}

static int teardown(void **state)
{
	env *e = *state;
	if (e->fb > 0)
		kill(e->fb, SIGCONT);
	th_env_free(e);
	return 0;
}

static double calls_total(const env *e)
{
	char *line = NULL;
	static const char req[] = "{\"op\":\"status\"}\n";
	assert_int_equal(
	    th_unix_exchange(e->sock, req, sizeof req - 1, WAIT_MS, &line),
	    TH_LINE);
	cJSON *doc = cJSON_Parse(line);
	free(line);
	const cJSON *d = cJSON_GetArrayItem(
	    cJSON_GetObjectItemCaseSensitive(doc, "dependencies"), 0);
	double v = th_json_num(cJSON_GetObjectItemCaseSensitive(d, "calls"),
	                       "total", -1);
	cJSON_Delete(doc);
	return v;
}

/* Flushes until everything added is sent or dropped. */
static void settle(fb_reporter *r, fb_reporter_stats *st)
{
	int64_t until = th_now_ms() + WAIT_MS;
	do {
		fb_reporter_flush(r);
		fb_reporter_stats_get(r, st);
		if (st->sent + st->dropped_full + st->dropped_away >= st->added)
			return;
		th_sleep_ms(5);
	} while (th_now_ms() < until);
	fail_msg("added %llu, sent %llu, dropped %llu + %llu",
	         (unsigned long long)st->added, (unsigned long long)st->sent,
	         (unsigned long long)st->dropped_full,
	         (unsigned long long)st->dropped_away);
}

static void test_allow(void **state)
{
	env *e = *state;
	fb_allow_answer a;
	assert_int_equal(fb_allow(e->sock, "api", 5000, &a), 0);
	assert_true(a.allowed);
	assert_string_equal(a.state, "closed");
	assert_int_equal(a.permit, 0);
	assert_int_equal(fb_allow(e->sock, "nope", 5000, &a), -1);
	assert_false(a.allowed);
	assert_non_null(strstr(a.error, "unknown dependency 'nope'"));
	char gone[600];
	snprintf(gone, sizeof gone, "%s/none.sock", e->dir);
	assert_int_equal(fb_allow(gone, "api", 500, &a), -1);
	assert_non_null(strstr(a.error, "no running instance"));
}

/* Every outcome reaches the instance, in batches. */
static void test_reporter_delivers(void **state)
{
	env *e = *state;
	fb_reporter *r = fb_reporter_new(e->sock, 0);
	assert_non_null(r);
	for (int i = 0; i < 5000; i++) {
		fb_reporter_add(r, "api", i % 5 != 0, 1500,
		                i % 5 ? NULL : "reset \"by\" peer\x1b[2J", 0);
		if (i % 500 == 0)
			th_sleep_ms(2); /* as traffic comes */
	}
	fb_reporter_stats st;
	settle(r, &st);
	assert_int_equal(st.sent, 5000);
	assert_int_equal(st.rejected, 0);
	int64_t until = th_now_ms() + WAIT_MS;
	while (calls_total(e) < 5000 && th_now_ms() < until)
		th_sleep_ms(20);
	assert_int_equal(calls_total(e), 5000);
	fb_reporter_free(r);
}

/* No instance: every add returns at once and is counted as dropped. */
static void test_reporter_never_blocks_when_away(void **state)
{
	env *e = *state;
	char gone[600];
	snprintf(gone, sizeof gone, "%s/none.sock", e->dir);
	fb_reporter *r = fb_reporter_new(gone, 0);
	int64_t t0 = th_now_ms();
	for (int i = 0; i < 20000; i++)
		fb_reporter_add(r, "api", true, 1000, NULL, 0);
	int64_t took = th_now_ms() - t0;
	fb_reporter_stats st;
	settle(r, &st);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.dropped_away + st.dropped_full, 20000);
	print_message("# 20000 adds with no instance: %lld ms\n",
	              (long long)took);
	assert_true(took < 2000);
	fb_reporter_free(r);
}

/* A frozen instance (SIGSTOP: connections are taken by the kernel, but
 * nothing is read): the socket fills, the queue fills, adds go on at
 * once and the rest is dropped and counted. */
static void test_reporter_never_blocks_when_frozen(void **state)
{
	env *e = *state;
	fb_reporter *r = fb_reporter_new(e->sock, 256);
	fb_reporter_add(r, "api", true, 1000, NULL, 0);
	fb_reporter_flush(r); /* connected */
	assert_int_equal(kill(e->fb, SIGSTOP), 0);
	int64_t worst = 0;
	for (int i = 0; i < 100000; i++) {
		int64_t t0 = th_now_ms();
		fb_reporter_add(r, "api", true, 1000, NULL, 0);
		int64_t took = th_now_ms() - t0;
		worst = took > worst ? took : worst;
	}
	fb_reporter_stats st;
	fb_reporter_stats_get(r, &st);
	print_message("# frozen instance: worst add %lld ms, sent %llu, "
	              "dropped %llu\n",
	              (long long)worst, (unsigned long long)st.sent,
	              (unsigned long long)st.dropped_full);
	/* a blocking add would wait for the frozen instance (seconds, for
	 * ever); a scheduling hiccup on a loaded machine is not that */
	assert_true(worst < 1000);
	assert_true(st.dropped_full > 0);
	assert_int_equal(kill(e->fb, SIGCONT), 0);
	fb_reporter_free(r);
}

typedef struct worker {
	fb_reporter *r;
	int n;
} worker;

static void *add_many(void *arg)
{
	worker *w = arg;
	for (int i = 0; i < w->n; i++)
		fb_reporter_add(w->r, "api", i % 3 != 0, 800, "e", 0);
	return NULL;
}

static void test_reporter_threads(void **state)
{
	env *e = *state;
	fb_reporter *r = fb_reporter_new(e->sock, 100000);
	pthread_t t[4];
	worker w = {r, 5000};
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, add_many, &w), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	fb_reporter_stats st;
	settle(r, &st);
	assert_int_equal(st.added, 20000);
	assert_int_equal(st.sent + st.dropped_full + st.dropped_away, 20000);
	assert_int_equal(st.dropped_full, 0);
	int64_t until = th_now_ms() + WAIT_MS;
	while (calls_total(e) < (double)st.sent && th_now_ms() < until)
		th_sleep_ms(20);
	assert_int_equal(calls_total(e), (double)st.sent);
	fb_reporter_free(r);
}

int main(void)
{
	if (getenv("FB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_allow),
	    T(test_reporter_delivers),
	    T(test_reporter_never_blocks_when_away),
	    T(test_reporter_never_blocks_when_frozen),
	    T(test_reporter_threads),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
