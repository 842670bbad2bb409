/* The resilient HTTP client of libfusebox (SPEC section 9), against the
 * real fault-injection fixture. Waits run on an injected clock (a fake
 * that advances when the client sleeps), so the 1s/2s/4s schedule is
 * checked to the millisecond without waiting for it; transfers are real.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include <limits.h>
#include <pthread.h>

#include "client_http_impl.h"
#include "fusebox/client.h"
#include "helpers.h"

static char g_fusebox[PATH_MAX], g_fixture[PATH_MAX];

/* ---- a fake clock --------------------------------------------------- */

#define MAX_SLEEPS 64
typedef struct fake {
	_Atomic int64_t now;
	pthread_mutex_t lock;
	int nsleeps;
	int64_t sleeps[MAX_SLEEPS];
	const uint64_t *seq; /* random values in turn; NULL: 0.5 each */
	size_t nseq, iseq;
} fake;

static int64_t fk_now(void *ctx)
{
	fake *f = ctx;
	return atomic_load(&f->now);
}

static bool fk_sleep(void *ctx, int64_t ms, const atomic_int *cancel)
{
	fake *f = ctx;
	pthread_mutex_lock(&f->lock);
	if (f->nsleeps < MAX_SLEEPS)
		f->sleeps[f->nsleeps] = ms;
	f->nsleeps++;
	pthread_mutex_unlock(&f->lock);
	atomic_fetch_add(&f->now, ms);
	return !(cancel && atomic_load(cancel));
}

static uint64_t fk_random(void *ctx)
{
	fake *f = ctx;
	pthread_mutex_lock(&f->lock);
	uint64_t v = f->seq ? f->seq[f->iseq++ % f->nseq] : th_unit(0.5);
	pthread_mutex_unlock(&f->lock);
	return v;
}

static void fake_use(fake *f, fb_client *c)
{
	memset(f, 0, sizeof *f);
	pthread_mutex_init(&f->lock, NULL);
	atomic_store(&f->now, th_now_ms());
	fb_client_clock clk = {fk_now, fk_sleep, fk_random, f};
	fb_client_set_clock(c, &clk);
}

/* ---- a log that keeps its lines ------------------------------------- */

typedef struct lines {
	pthread_mutex_t lock;
	int n;
	char text[16][512];
	fb_log_level level[16];
} lines;

static void keep_line(void *ctx, fb_log_level level, const char *line)
{
	lines *l = ctx;
	pthread_mutex_lock(&l->lock);
	if (l->n < 16) {
		snprintf(l->text[l->n], sizeof l->text[0], "%s", line);
		l->level[l->n] = level;
	}
	l->n++;
	pthread_mutex_unlock(&l->lock);
}

/* ---- the world -------------------------------------------------------- */

typedef struct world {
	th_env *e;
	char base[64];
	fake clk;
	lines log;
} world;

static int setup(void **state)
{
	world *w = calloc(1, sizeof *w);
	w->e = th_env_new(g_fixture);
	if (!w->e)
		return -1;
	snprintf(w->base, sizeof w->base, "http://127.0.0.1:%d", w->e->fx.port);
	pthread_mutex_init(&w->log.lock, NULL);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	world *w = *state;
	th_env_free(w->e);
	free(w);
	return 0;
}

/* A client of the fixture on the fake clock, logging into w->log. */
static fb_client *client(world *w, fb_client_options *o)
{
	fb_client_options dflt;
	fb_error err;
	if (!o) {
		fb_client_options_init(&dflt);
		o = &dflt;
	}
	o->url = w->base;
	o->log = keep_line;
	o->log_ctx = &w->log;
	o->log_level = FB_LOG_DEBUG;
	fb_client *c = fb_client_new("chroma", NULL, o, &err);
	if (!c)
		fail_msg("fb_client_new: %s", err.text);
	fake_use(&w->clk, c);
	return c;
}

static long count(world *w, const char *path)
{
	return th_fixture_count(&w->e->fx, path);
}

static void set(world *w, const char *path, const char *mode)
{
	assert_int_equal(th_fixture_set(&w->e->fx, path, mode), 0);
}

static long accepts(world *w)
{
	char body[64];
	if (th_http_get(w->e->fx.port, "/_ctl/accepts", body, sizeof body,
	                3000) != 200)
		return -1;
	return strtol(body, NULL, 10);
}

/* ---- retries ---------------------------------------------------------- */

/* 503 four times: waits of 1s, 2s and 4s, each within +-20% jitter; with
 * the random values at the edges, exactly the ends of each band. */
static void test_retry_schedule_is_1s_2s_4s_with_jitter(void **state)
{
	world *w = *state;
	static const double u[] = {0.0, 0.5, 0.999999};
	uint64_t seq[3];
	fb_response r;
	fb_error err;
	for (int i = 0; i < 3; i++)
		seq[i] = th_unit(u[i]);
	set(w, "/down", "fail");
	fb_client *c = client(w, NULL);
	w->clk.seq = seq;
	w->clk.nseq = 3;
	assert_int_equal(fb_client_get(c, "/down", &r, &err), FB_OK);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.attempts, 4);
	assert_string_equal(r.body, "fail\n");
	assert_int_equal(count(w, "/down"), 4);
	assert_int_equal(w->clk.nsleeps, 3);
	assert_int_equal(w->clk.sleeps[0], 800);
	assert_int_equal(w->clk.sleeps[1], 2000);
	assert_in_range(w->clk.sleeps[2], 4799, 4800);
	fb_response_free(&r);

	/* any random values: inside the bands */
	fb_client_free(c);
	fb_client_options o;
	fb_client_options_init(&o);
	o.failure_threshold = 0; /* the breaker would open at 5 */
	c = client(w, &o);
	for (int k = 0; k < 5; k++) {
		assert_int_equal(fb_client_get(c, "/down", &r, &err), FB_OK);
		fb_response_free(&r);
	}
	for (int i = 0; i < w->clk.nsleeps && i < MAX_SLEEPS; i++) {
		int64_t base = 1000LL << (i % 3);
		assert_in_range(w->clk.sleeps[i], base * 8 / 10,
		                base * 12 / 10);
	}
	fb_client_free(c);
}

/* 429 and a reset connection are retried too; 404 is an answer. */
static void test_what_is_retried(void **state)
{
	world *w = *state;
	fb_response r;
	fb_error err;
	fb_client_options o;
	fb_client_options_init(&o);
	o.max_retries = 1;
	o.failure_threshold = 0;
	fb_client *c = client(w, &o);
	set(w, "/busy", "status:429");
	set(w, "/gone", "status:404");
	set(w, "/rst", "reset");
	/* first, on no kept connection: curl itself sends a request again
	 * when a connection it reused dies before answering */
	assert_int_equal(fb_client_get(c, "/rst", &r, &err), FB_E_FAILED);
	assert_int_equal(count(w, "/rst"), 2);
	assert_non_null(strstr(err.text, "failed after 2 attempts"));
	assert_int_equal(fb_client_get(c, "/busy", &r, &err), FB_OK);
	assert_int_equal(r.status, 429);
	fb_response_free(&r);
	assert_int_equal(count(w, "/busy"), 2);
	w->clk.nsleeps = 0;
	assert_int_equal(fb_client_get(c, "/gone", &r, &err), FB_OK);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(count(w, "/gone"), 1);
	assert_int_equal(w->clk.nsleeps, 0);
	fb_response_free(&r);
	fb_client_free(c);
}

/* Retry-After longer than our 1s: its 7s is the wait; as an HTTP date 5s
 * ahead, 4-5s (the date has whole seconds); longer than the deadline
 * allows: no retry at all, the answer comes back at once. */
static void test_retry_after_both_forms_capped_by_deadline(void **state)
{
	world *w = *state;
	fb_response r;
	fb_error err;
	fb_client_options o;
	fb_client_options_init(&o);
	o.max_retries = 1;
	fb_client *c = client(w, &o);
	set(w, "/s", "after:7");
	assert_int_equal(fb_client_get(c, "/s", &r, &err), FB_OK);
	assert_int_equal(w->clk.nsleeps, 1);
	assert_int_equal(w->clk.sleeps[0], 7000);
	assert_int_equal(count(w, "/s"), 2);
	fb_response_free(&r);

	set(w, "/d", "afterdate:5");
	w->clk.nsleeps = 0;
	assert_int_equal(fb_client_get(c, "/d", &r, &err), FB_OK);
	assert_int_equal(w->clk.nsleeps, 1);
	assert_in_range(w->clk.sleeps[0], 3000, 5000);
	fb_response_free(&r);
	fb_client_free(c);

	o.deadline_ms = 5000;
	c = client(w, &o);
	set(w, "/far", "after:120");
	assert_int_equal(fb_client_get(c, "/far", &r, &err), FB_OK);
	assert_int_equal(r.status, 503);
	assert_int_equal(w->clk.nsleeps, 0);
	assert_int_equal(count(w, "/far"), 1);
	assert_non_null(strstr(w->log.text[w->log.n - 1],
	                       "not retried (the deadline comes first)"));
	fb_response_free(&r);
	/* the request's own deadline wins over the client's */
	fb_request rq;
	fb_request_init(&rq, "GET", "/far");
	rq.deadline_ms = 200000;
	assert_int_equal(fb_client_send(c, &rq, &r, &err), FB_OK);
	assert_int_equal(w->clk.nsleeps, 1);
	assert_int_equal(w->clk.sleeps[0], 120000);
	fb_response_free(&r);
	fb_client_free(c);
}

/* POST is not idempotent: one attempt, unless an Idempotency-Key says
 * it may be repeated, or the caller allows it. PUT is retried. */
static void test_post_needs_an_idempotency_key(void **state)
{
	world *w = *state;
	fb_response r;
	fb_error err;
	fb_client_options o;
	fb_client_options_init(&o);
	o.failure_threshold = 0;
	fb_client *c = client(w, &o);
	set(w, "/p", "fail");
	assert_int_equal(fb_client_post(c, "/p", "x", 1, &r, &err), FB_OK);
	assert_int_equal(count(w, "/p"), 1);
	assert_non_null(strstr(w->log.text[0], "no Idempotency-Key"));
	fb_response_free(&r);

	const char *const hdrs[] = {"Idempotency-Key: 42", NULL};
	fb_request rq;
	fb_request_init(&rq, "POST", "/p2");
	rq.headers = hdrs;
	rq.body = "x";
	rq.len = 1;
	set(w, "/p2", "fail");
	assert_int_equal(fb_client_send(c, &rq, &r, &err), FB_OK);
	assert_int_equal(count(w, "/p2"), 4);
	fb_response_free(&r);

	fb_request_init(&rq, "PATCH", "/p3");
	rq.retry_unsafe = 1;
	set(w, "/p3", "fail");
	assert_int_equal(fb_client_send(c, &rq, &r, &err), FB_OK);
	assert_int_equal(count(w, "/p3"), 4);
	fb_response_free(&r);

	set(w, "/p4", "fail");
	assert_int_equal(fb_client_put(c, "/p4", "x", 1, &r, &err), FB_OK);
	assert_int_equal(count(w, "/p4"), 4);
	fb_response_free(&r);
	fb_client_free(c);
}

/* A name that does not resolve will not resolve in a second either. */
static void test_dns_failure_is_not_retried(void **state)
{
	world *w = *state;
	fb_response r;
	fb_error err;
	fb_client *c = client(w, NULL);
	assert_int_equal(
	    fb_client_get(c, "http://no-such-host.invalid/x", &r, &err),
	    FB_E_FAILED);
	assert_int_equal(w->log.n, 1);
	assert_non_null(strstr(w->log.text[0], "attempt 1/4"));
	assert_non_null(strstr(w->log.text[0], "not retried (permanent)"));
	assert_int_equal(w->clk.nsleeps, 0);
	assert_non_null(strstr(err.text, "failed after 1 attempt:"));
	fb_client_free(c);
}

/* The default failure_threshold 5 opens the breaker; the sixth call is
 * refused at once with the open wait (60s +-20%) and nothing is sent. */
static void test_breaker_opens_after_5_and_says_when(void **state)
{
	world *w = *state;
	fb_response r;
	fb_error err;
	fb_client_options o;
	fb_client_options_init(&o);
	o.max_retries = 0;
	fb_client *c = client(w, &o);
	set(w, "/x", "fail");
	for (int i = 0; i < 5; i++) {
		assert_int_equal(fb_client_get(c, "/x", &r, &err), FB_OK);
		fb_response_free(&r);
	}
	assert_int_equal(fb_client_state(c), FB_STATE_OPEN);
	assert_int_equal(fb_client_get(c, "/x", &r, &err), FB_E_UNAVAILABLE);
	assert_int_equal(count(w, "/x"), 5);
	assert_int_equal(err.state, FB_STATE_OPEN);
	assert_in_range(err.retry_after_ms, 48000, 72000);
	char want[64];
	snprintf(want, sizeof want, "chroma is unavailable; retry in %llds",
	         (long long)((err.retry_after_ms + 500) / 1000));
	assert_string_equal(err.text, want);
	assert_null(r.body);
	assert_int_equal(fb_client_health(c), FB_HEALTH_UNHEALTHY);
	assert_string_equal(fb_strerror(FB_E_UNAVAILABLE),
	                    "unavailable (breaker open)");
	fb_client_free(c);
}

/* Half-open hands out one trial: of eight threads that call at once,
 * one is let through (a slow answer keeps it out long enough), seven
 * are refused, and the trial's success closes the breaker. */
typedef struct racer {
	fb_client *c;
	pthread_barrier_t *go;
	int rc;
	fb_state state;
} racer;

static void *race(void *arg)
{
	racer *r = arg;
	fb_response resp;
	fb_error err;
	pthread_barrier_wait(r->go);
	r->rc = fb_client_get(r->c, "/t", &resp, &err);
	r->state = err.state;
	fb_response_free(&resp);
	return NULL;
}

static void test_half_open_lets_one_trial_through_across_threads(void **state)
{
	world *w = *state;
	fb_response r;
	fb_error err;
	fb_client_options o;
	fb_client_options_init(&o);
	o.max_retries = 0;
	o.failure_threshold = 1;
	o.recovery_timeout_ms = 1000;
	fb_client *c = client(w, &o);
	set(w, "/t", "fail");
	assert_int_equal(fb_client_get(c, "/t", &r, &err), FB_OK);
	fb_response_free(&r);
	assert_int_equal(fb_client_state(c), FB_STATE_OPEN);
	set(w, "/t", "slow:1500");
	atomic_fetch_add(&w->clk.now, 5000); /* past the open wait */
	enum { N = 8 };
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, N);
	racer rs[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		rs[i] = (racer){c, &go, 0, FB_STATE_CLOSED};
		pthread_create(&th[i], NULL, race, &rs[i]);
	}
	int ok = 0, refused = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		ok += rs[i].rc == FB_OK;
		if (rs[i].rc == FB_E_UNAVAILABLE) {
			refused++;
			assert_int_equal(rs[i].state, FB_STATE_HALF_OPEN);
		}
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(ok, 1);
	assert_int_equal(refused, N - 1);
	assert_int_equal(count(w, "/t"), 2);
	assert_int_equal(fb_client_state(c), FB_STATE_CLOSED);
	fb_client_free(c);
}

/* ---- pooling ---------------------------------------------------------- */

typedef struct caller {
	fb_client *c;
	int ok;
} caller;

static void *calls_25(void *arg)
{
	caller *k = arg;
	for (int i = 0; i < 25; i++) {
		fb_response r;
		fb_error err;
		k->ok += fb_client_get(k->c, "/pool", &r, &err) == FB_OK &&
		         r.status == 200;
		fb_response_free(&r);
	}
	return NULL;
}

/* 100 calls in a row: one connection. 4 threads x 25: at most 4. */
static void test_one_connection_serves_100_calls(void **state)
{
	world *w = *state;
	fb_response r;
	fb_error err;
	fb_client *c = client(w, NULL);
	assert_int_equal(th_fixture_clear(&w->e->fx), 0);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(fb_client_get(c, "/pool", &r, &err), FB_OK);
		assert_int_equal(r.status, 200);
		fb_response_free(&r);
	}
	assert_int_equal(count(w, "/pool"), 100);
	assert_int_equal(accepts(w), 1);

	assert_int_equal(th_fixture_clear(&w->e->fx), 0);
	caller k[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		k[i] = (caller){c, 0};
		pthread_create(&th[i], NULL, calls_25, &k[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(k[i].ok, 25);
	}
	assert_int_equal(count(w, "/pool"), 100);
	assert_in_range(accepts(w), 1, 4);
	fb_client_free(c);
}

/* ---- configuration ---------------------------------------------------- */

/* Built-in defaults < preset < options < environment. */
static void test_env_beats_options_beats_preset(void **state)
{
	world *w = *state;
	fb_error err;
	fb_client_options o;
	fb_client_options_init(&o);
	o.url = "http://127.0.0.1:1";
	fb_client *c = fb_client_new("svc", "TCH", &o, &err);
	assert_non_null(c);
	assert_int_equal(c->dep.t[FB_T_TIMEOUT], 2000);
	assert_int_equal(c->dep.t[FB_T_MAX_RETRIES], 3);
	assert_int_equal(c->dep.t[FB_T_RETRY_DELAY], 1000);
	assert_int_equal(c->dep.t[FB_T_FAILURE_THRESHOLD], 5);
	assert_int_equal(c->dep.t[FB_T_RECOVERY_TIMEOUT], 60000);
	fb_client_free(c);

	o.preset = "complex"; /* timeout 30s, retries 3, recovery 90s */
	o.timeout_ms = 700;
	setenv("TCH_URL", w->base, 1);
	setenv("TCH_MAX_RETRIES", "1", 1);
	setenv("TCH_RETRY_DELAY", "250ms", 1);
	c = fb_client_new("svc", "TCH", &o, &err);
	assert_non_null(c);
	assert_int_equal(c->dep.t[FB_T_TIMEOUT], 700);
	assert_int_equal(c->dep.t[FB_T_RECOVERY_TIMEOUT], 90000);
	assert_int_equal(c->dep.t[FB_T_MAX_RETRIES], 1);
	assert_int_equal(c->dep.t[FB_T_RETRY_DELAY], 250);
	fake_use(&w->clk, c);
	fb_response r;
	set(w, "/e", "fail");
	assert_int_equal(fb_client_get(c, "/e", &r, &err), FB_OK);
	assert_int_equal(count(w, "/e"), 2); /* the env's URL and retries */
	fb_response_free(&r);
	fb_client_free(c);
	unsetenv("TCH_URL");
	unsetenv("TCH_MAX_RETRIES");
	unsetenv("TCH_RETRY_DELAY");

	/* host + port + protocol, with a base path */
	char port[16];
	snprintf(port, sizeof port, "%d", w->e->fx.port);
	setenv("TCH_HOST", "127.0.0.1", 1);
	setenv("TCH_PORT", port, 1);
	setenv("TCH_PROTOCOL", "http", 1);
	o.url = "http://127.0.0.1:1/v2/";
	c = fb_client_new("svc", "TCH", &o, &err);
	assert_non_null(c);
	char want[64];
	snprintf(want, sizeof want, "http://127.0.0.1:%d/v2", w->e->fx.port);
	assert_string_equal(c->base, want);
	assert_int_equal(fb_client_get(c, "q", &r, &err), FB_OK);
	assert_int_equal(count(w, "/v2/q"), 1);
	fb_response_free(&r);
	fb_client_free(c);
	unsetenv("TCH_HOST");
	unsetenv("TCH_PORT");
	unsetenv("TCH_PROTOCOL");
}

static void test_bad_settings_are_named(void **state)
{
	(void)state;
	fb_error err;
	fb_client_options o;
	fb_client_options_init(&o);
	o.url = "http://127.0.0.1:1";
	setenv("TBAD_TIMEOUT", "soon", 1);
	assert_null(fb_client_new("svc", "TBAD", &o, &err));
	assert_non_null(strstr(err.text, "environment variable TBAD_TIMEOUT"));
	unsetenv("TBAD_TIMEOUT");
	setenv("TBAD_URL", "ftp://x", 1);
	assert_null(fb_client_new("svc", "TBAD", &o, &err));
	assert_non_null(strstr(err.text, "TBAD_URL"));
	unsetenv("TBAD_URL");
	o.max_retries = 1000;
	assert_null(fb_client_new("svc", "TBAD", &o, &err));
	assert_string_equal(err.text, "option max_retries: out of range: 1000");
	fb_client_options_init(&o);
	assert_null(fb_client_new("svc", "TBAD", &o, &err));
	assert_string_equal(err.text,
	                    "svc: no address: give a url, or set TBAD_URL");
	o.url = "redis://127.0.0.1:6379";
	assert_null(fb_client_new("svc", NULL, &o, &err));
	assert_non_null(strstr(err.text, "not an http(s) address"));
	o.url = "http://127.0.0.1:1";
	o.preset = "nosuch";
	assert_null(fb_client_new("svc", NULL, &o, &err));
	assert_string_equal(err.text, "unknown preset 'nosuch'");
	/* an options struct from an older caller: only its own fields */
	fb_client_options_init(&o);
	o.url = "http://127.0.0.1:1";
	o.max_retries = 7;
	o.size = offsetof(fb_client_options, max_retries);
	fb_client *c = fb_client_new("svc", NULL, &o, &err);
	assert_non_null(c);
	assert_int_equal(c->dep.t[FB_T_MAX_RETRIES], 3);
	fb_client_free(c);
}

/* Bad arguments send nothing. */
static void test_usage_errors(void **state)
{
	world *w = *state;
	fb_response r;
	fb_error err;
	fb_client *c = client(w, NULL);
	assert_int_equal(fb_client_request(c, "FETCH", "/u", NULL, 0, &r, &err),
	                 FB_E_USAGE);
	assert_int_equal(fb_client_request(c, "get", "/u", NULL, 0, &r, &err),
	                 FB_E_USAGE);
	assert_int_equal(fb_client_get(c, "ftp://x/u", &r, &err), FB_E_USAGE);
	assert_int_equal(fb_client_get(c, "/u\r\nX: y", &r, &err), FB_E_USAGE);
	assert_int_equal(fb_client_get(NULL, "/u", &r, &err), FB_E_USAGE);
	assert_int_equal(count(w, "/u"), 0);
	fb_client_free(c);
}

/* ---- what it says ----------------------------------------------------- */

static void test_status_json_fields(void **state)
{
	world *w = *state;
	fb_response r;
	fb_error err;
	fb_client_options o;
	fb_client_options_init(&o);
	o.max_retries = 0;
	fb_client *c = client(w, &o);
	char *text = fb_client_status_json(c);
	cJSON *doc = cJSON_Parse(text);
	assert_string_equal(th_json_str(doc, "state"), "closed");
	assert_string_equal(th_json_str(doc, "health"), "unknown");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(doc, "last_failure")));
	cJSON_Delete(doc);
	free(text);

	set(w, "/bad", "fail");
	assert_int_equal(fb_client_get(c, "/ok", &r, &err), FB_OK);
	fb_response_free(&r);
	assert_int_equal(fb_client_get(c, "/bad", &r, &err), FB_OK);
	fb_response_free(&r);
	text = fb_client_status_json(c);
	doc = cJSON_Parse(text);
	assert_non_null(doc);
	assert_string_equal(th_json_str(doc, "service"), "chroma");
	assert_string_equal(th_json_str(doc, "state"), "closed");
	assert_string_equal(th_json_str(doc, "health"), "degraded");
	assert_int_equal(th_json_num(doc, "failure_count", -1), 1);
	assert_true(th_rfc3339_ms(th_json_str(doc, "last_failure")) > 0);
	assert_true(th_rfc3339_ms(th_json_str(doc, "last_state_change")) > 0);
	assert_string_equal(th_json_str(doc, "last_error"), "HTTP 503");
	assert_true(th_json_num(doc, "retry_after_s", -1) == 0);
	const cJSON *lat = cJSON_GetObjectItem(doc, "latency_ms");
	assert_true(th_json_num(lat, "p50", -1) >= 0);
	assert_true(th_json_num(lat, "p99", -1) >= th_json_num(lat, "p50", 0));
	cJSON_Delete(doc);
	free(text);
	assert_int_equal(fb_client_health(c), FB_HEALTH_DEGRADED);
	fb_client_free(c);
}

/* One line per attempt, at its level, credentials left out. */
static void test_log_lines(void **state)
{
	world *w = *state;
	fb_response r;
	fb_error err;
	fb_client_options o;
	fb_client_options_init(&o);
	o.max_retries = 2;
	fb_client *c = client(w, &o);
	set(w, "/l", "fail");
	char url[128];
	snprintf(url, sizeof url, "http://user:secret@127.0.0.1:%d/l",
	         w->e->fx.port);
	assert_int_equal(fb_client_get(c, url, &r, &err), FB_OK);
	fb_response_free(&r);
	assert_int_equal(w->log.n, 3);
	char head[128];
	snprintf(head, sizeof head,
	         "GET http://127.0.0.1:%d/l attempt 1/3: "
	         "HTTP 503 in ",
	         w->e->fx.port);
	assert_memory_equal(w->log.text[0], head, strlen(head));
	assert_non_null(strstr(w->log.text[0], "ms; retrying in 1s"));
	assert_non_null(strstr(w->log.text[1], "attempt 2/3: HTTP 503"));
	assert_non_null(strstr(w->log.text[1], "; retrying in 2s"));
	assert_non_null(strstr(w->log.text[2], "ms; no retries left"));
	assert_int_equal(w->log.level[0], FB_LOG_WARN);
	assert_int_equal(w->log.level[2], FB_LOG_ERROR);
	for (int i = 0; i < 3; i++)
		assert_null(strstr(w->log.text[i], "secret"));
	assert_int_equal(fb_client_get(c, "/fine", &r, &err), FB_OK);
	fb_response_free(&r);
	assert_int_equal(w->log.level[3], FB_LOG_INFO);
	assert_non_null(strstr(w->log.text[3], "attempt 1/3: HTTP 200 in "));
	fb_client_free(c);

	/* below the level asked for: nothing */
	o.log_level = FB_LOG_ERROR;
	w->log.n = 0;
	c = client(w, &o);
	c->log_level = FB_LOG_ERROR;
	assert_int_equal(fb_client_get(c, "/fine", &r, &err), FB_OK);
	fb_response_free(&r);
	assert_int_equal(w->log.n, 0);
	fb_client_free(c);
}

/* ---- budget, deadline, cancel, caps, headers ------------------------- */

/* With the breaker off and everything failing, 200 calls in the same
 * second may retry 20% of the calls plus 10 a second over the 10 s
 * window -- and half that once the dependency is degraded, which it is
 * from the second call on: (100 + 0.2 * calls) / 2, about 70, where
 * max_retries alone would allow 600. */
static void test_retry_budget_caps_retries(void **state)
{
	world *w = *state;
	fb_response r;
	fb_error err;
	fb_client_options o;
	fb_client_options_init(&o);
	o.failure_threshold = 0;
	o.retry_delay_ms = 0;
	fb_client *c = client(w, &o);
	set(w, "/b", "fail");
	for (int i = 0; i < 200; i++) {
		assert_int_equal(fb_client_get(c, "/b", &r, &err), FB_OK);
		fb_response_free(&r);
	}
	long retries = count(w, "/b") - 200;
	assert_in_range(retries, 65, 75);
	fb_client_free(c);
}

typedef struct canceller {
	atomic_int *flag;
	int after_ms;
} canceller;

static void *cancel_later(void *arg)
{
	canceller *k = arg;
	th_sleep_ms(k->after_ms);
	atomic_store(k->flag, 1);
	return NULL;
}

/* A hung answer: the deadline ends the call, on the real clock; so does
 * the cancel flag, set from another thread. */
static void test_deadline_and_cancel(void **state)
{
	world *w = *state;
	fb_response r;
	fb_error err;
	fb_client_options o;
	fb_client_options_init(&o);
	o.url = w->base;
	o.deadline_ms = 400;
	o.timeout_ms = 10000;
	fb_client *c = fb_client_new("chroma", NULL, &o, &err); /* real clock */
	set(w, "/h", "hang");
	int64_t t0 = th_now_ms();
	assert_int_equal(fb_client_get(c, "/h", &r, &err), FB_E_FAILED);
	int64_t took = th_now_ms() - t0;
	assert_in_range(took, 350, 2000);
	assert_non_null(strstr(err.text, "failed after 1 attempt"));
	fb_client_free(c);

	o.deadline_ms = 0;
	c = fb_client_new("chroma", NULL, &o, &err);
	atomic_int flag = 0;
	canceller k = {&flag, 200};
	pthread_t th;
	pthread_create(&th, NULL, cancel_later, &k);
	fb_request rq;
	fb_request_init(&rq, "GET", "/h");
	rq.cancel = &flag;
	t0 = th_now_ms();
	assert_int_equal(fb_client_send(c, &rq, &r, &err), FB_E_CANCELLED);
	took = th_now_ms() - t0;
	pthread_join(th, NULL);
	assert_in_range(took, 150, 2500);
	assert_non_null(strstr(err.text, "cancelled"));
	/* a cancelled call is no failure of the dependency */
	assert_int_equal(fb_client_health(c), FB_HEALTH_UNKNOWN);

	/* cancelled during the wait between attempts */
	set(w, "/f", "fail");
	atomic_store(&flag, 0);
	k.after_ms = 300;
	pthread_create(&th, NULL, cancel_later, &k);
	rq.url = "/f";
	t0 = th_now_ms();
	assert_int_equal(fb_client_send(c, &rq, &r, &err), FB_E_CANCELLED);
	took = th_now_ms() - t0;
	pthread_join(th, NULL);
	assert_in_range(took, 250, 900);
	assert_int_equal(count(w, "/f"), 1);
	fb_client_free(c);
}

static void test_body_cap_and_headers(void **state)
{
	world *w = *state;
	fb_response r;
	fb_error err;
	fb_client_options o;
	fb_client_options_init(&o);
	o.max_body = 1000;
	fb_client *c = client(w, &o);
	set(w, "/big", "big");
	assert_int_equal(fb_client_get(c, "/big", &r, &err), FB_E_FAILED);
	assert_non_null(strstr(err.text, "response body over 1000 bytes"));
	assert_int_equal(count(w, "/big"), 1);

	set(w, "/echo", "echo");
	const char *const hdrs[] = {"X-Trace: abc-123", "Idempotency-Key: k1",
	                            NULL};
	fb_request rq;
	fb_request_init(&rq, "POST", "/echo");
	rq.headers = hdrs;
	rq.body = "hello=1";
	rq.len = 7;
	assert_int_equal(fb_client_send(c, &rq, &r, &err), FB_OK);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "POST /echo HTTP/1.1\r\n"));
	assert_non_null(strstr(r.body, "\r\nX-Trace: abc-123\r\n"));
	assert_non_null(strstr(r.body, "\r\n\r\nhello=1"));
	assert_int_equal(r.len, strlen(r.body));
	fb_response_free(&r);
	fb_client_free(c);
}

/* The seam for a running instance: asked before each attempt the local
 * breaker allowed, told every outcome; its no refuses the call. */
typedef struct peer_log {
	int asks, reports, failed;
	bool allow;
} peer_log;

static bool peer_allow(void *ctx, const char *service, int64_t *retry_ms,
                       uint64_t *permit)
{
	peer_log *p = ctx;
	*permit = 0;
	assert_string_equal(service, "chroma");
	p->asks++;
	*retry_ms = 9000;
	return p->allow;
}

static void peer_report(void *ctx, const char *service, bool ok,
                        int64_t latency_us, const char *error, uint64_t permit)
{
	peer_log *p = ctx;
	(void)service;
	assert_true(latency_us >= 0);
	assert_true(permit == 0);
	p->reports++;
	p->failed += !ok;
	assert_true(ok ? error == NULL : error != NULL);
}

static void test_instance_seam(void **state)
{
	world *w = *state;
	fb_response r;
	fb_error err;
	peer_log p = {0, 0, 0, true};
	fb_client *c = client(w, NULL);
	fb_client_peer peer = {peer_allow, peer_report, NULL, &p};
	fb_client_set_peer(c, &peer);
	set(w, "/s", "flap:1"); /* ok, 503, ok, ... */
	assert_int_equal(fb_client_get(c, "/s", &r, &err), FB_OK);
	fb_response_free(&r);
	assert_int_equal(fb_client_get(c, "/s", &r, &err), FB_OK);
	fb_response_free(&r);
	assert_int_equal(p.asks, 3);
	assert_int_equal(p.reports, 3);
	assert_int_equal(p.failed, 1);
	p.allow = false;
	assert_int_equal(fb_client_get(c, "/s", &r, &err), FB_E_UNAVAILABLE);
	assert_int_equal(err.retry_after_ms, 9000);
	assert_int_equal(count(w, "/s"), 3);
	fb_client_free(c);
}

int main(void)
{
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_retry_schedule_is_1s_2s_4s_with_jitter),
	    T(test_what_is_retried),
	    T(test_retry_after_both_forms_capped_by_deadline),
	    T(test_post_needs_an_idempotency_key),
	    T(test_dns_failure_is_not_retried),
	    T(test_breaker_opens_after_5_and_says_when),
	    T(test_half_open_lets_one_trial_through_across_threads),
	    T(test_one_connection_serves_100_calls),
	    T(test_env_beats_options_beats_preset),
	    T(test_bad_settings_are_named),
	    T(test_usage_errors),
	    T(test_status_json_fields),
	    T(test_log_lines),
	    T(test_retry_budget_caps_retries),
	    T(test_deadline_and_cancel),
	    T(test_body_cap_and_headers),
	    T(test_instance_seam),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
