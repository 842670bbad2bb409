/* `fusebox call`: one request through libfusebox's HTTP client (the
 * breaker, the retries), against the fault-injection fixture and a
 * running instance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fusebox/client.h"
#include "helpers.h"

#define FB "build/tests/fusebox"

typedef struct ctx {
	char dir[256], config[400], log[400];
	th_fixture fx;
	pid_t instance;
} ctx;

static int setup(void **state)
{
	ctx *c = calloc(1, sizeof *c);
	char text[1024];
	th_tempdir(c->dir, sizeof c->dir);
	if (th_fixture_start(&c->fx, "build/tests/fixture-httpd", c->dir) != 0)
		return -1;
	snprintf(text, sizeof text,
	         "[fusebox]\nlog = events.jsonl\ncontrol_socket = fb.sock\n"
	         "[dep api]\nurl = http://127.0.0.1:%d/api\ninterval = 100ms\n"
	         "failure_threshold = 2\nrecovery_timeout = 1m\nmax_retries = 2\n"
	         "retry_delay = 50ms\ntimeout = 1s\n",
	         c->fx.port);
	th_write_file(c->dir, "c.ini", text, c->config, sizeof c->config);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	ctx *c = *state;
	if (c->instance > 0)
		th_kill(c->instance, SIGTERM, 5000);
	th_fixture_stop(&c->fx);
	th_rmtree(c->dir);
	free(c);
	return 0;
}

static int call(ctx *c, const char *path, th_result *r)
{
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", c->fx.port, path);
	char *argv[] = {FB, "call", "GET", url, "--dep", "api", "--config", c->config, NULL};
	return th_run(argv, 20000, r);
}

static void test_ok_prints_the_body(void **state)
{
	ctx *c = *state;
	th_result r;
	assert_int_equal(call(c, "/api", &r), 0);
	assert_string_equal(r.out, "ok\n");
	assert_int_equal(th_fixture_count(&c->fx, "/api"), 1);
	th_result_free(&r);
}

/* max_retries 2 would make three attempts, but failure_threshold 2 opens
 * the call's breaker after the second: the call ends with the last
 * answer, 22 as curl --fail; its body goes nowhere, a line per attempt
 * to stderr. */
static void test_failures_are_retried_then_given_up(void **state)
{
	ctx *c = *state;
	th_result r;
	assert_int_equal(th_fixture_set(&c->fx, "/down", "fail"), 0);
	assert_int_equal(call(c, "/down", &r), 22);
	assert_int_equal(th_fixture_count(&c->fx, "/down"), 2);
	assert_non_null(strstr(r.err, "attempt 1/3: HTTP 503"));
	assert_non_null(strstr(r.err, "ms; retrying in "));
	assert_null(strstr(r.out, "fail"));
	assert_non_null(strstr(r.err, "attempt 3/3: refused: api is "
	                              "unavailable; retry in "));
	assert_non_null(strstr(r.err, "HTTP 503 after 2 attempts"));
	assert_int_equal(r.out_len, 0);
	th_result_free(&r);
	/* a 4xx is an answer, not an outage: no retry */
	assert_int_equal(th_fixture_set(&c->fx, "/nope", "status:404"), 0);
	assert_int_equal(call(c, "/nope", &r), 22);
	assert_int_equal(th_fixture_count(&c->fx, "/nope"), 1);
	assert_int_equal(r.out_len, 0);
	th_result_free(&r);
	/* no answer at all: 1 */
	assert_int_equal(th_fixture_set(&c->fx, "/rst", "reset"), 0);
	assert_int_equal(call(c, "/rst", &r), 1);
	assert_non_null(strstr(r.err, "failed after 2 attempts"));
	th_result_free(&r);
}

static int run_call(char **argv, th_result *r)
{
	return th_run(argv, 20000, r);
}

/* A PATH is relative to --dep's address; headers and a file body are
 * sent as given. */
static void test_path_headers_and_file_body(void **state)
{
	ctx *c = *state;
	th_result r;
	char body[450];
	th_write_file(c->dir, "body.bin", "a=1&b=2", body, sizeof body);
	char at[460];
	snprintf(at, sizeof at, "@%s", body);
	assert_int_equal(th_fixture_set(&c->fx, "/echo", "echo"), 0);
	char *argv[] = {FB, "call", "PUT", "/echo", "--dep", "api", "--config",
	                c->config, "-H", "X-Trace: t-1", "-H",
	                "Content-Type: text/plain", "--data-binary", at, NULL};
	assert_int_equal(run_call(argv, &r), 0);
	assert_non_null(strstr(r.out, "PUT /echo HTTP/1.1\r\n"));
	assert_non_null(strstr(r.out, "\r\nX-Trace: t-1\r\n"));
	assert_non_null(strstr(r.out, "\r\nContent-Type: text/plain\r\n"));
	assert_non_null(strstr(r.out, "\r\n\r\na=1&b=2"));
	th_result_free(&r);
	/* a PATH without --dep, an unknown method, a bad header: 64 and
	 * nothing sent */
	char *nodep[] = {FB, "call", "GET", "/echo", NULL};
	assert_int_equal(run_call(nodep, &r), 64);
	th_result_free(&r);
	char *method[] = {FB,      "call",  "FETCH",   "/echo",
	                  "--dep", "api",   "--config", c->config, NULL};
	assert_int_equal(run_call(method, &r), 64);
	assert_non_null(strstr(r.err, "unknown HTTP method 'FETCH'"));
	th_result_free(&r);
	char *header[] = {FB,        "call", "GET", "/echo", "--dep", "api",
	                  "--config", c->config, "-H", "no colon", NULL};
	assert_int_equal(run_call(header, &r), 64);
	th_result_free(&r);
	assert_int_equal(th_fixture_count(&c->fx, "/echo"), 1);
}

/* POST is sent once unless --retry-unsafe; --max-time bounds the whole
 * call; a name that does not resolve is tried once. */
static void test_post_deadline_and_dns(void **state)
{
	ctx *c = *state;
	th_result r;
	assert_int_equal(th_fixture_set(&c->fx, "/p", "fail"), 0);
	char *post[] = {FB,      "call", "POST",    "/p",      "--dep",
	                "api",   "--config", c->config, "--data", "x",
	                NULL,    NULL};
	assert_int_equal(run_call(post, &r), 22);
	assert_int_equal(th_fixture_count(&c->fx, "/p"), 1);
	assert_non_null(strstr(r.err, "not retried (no Idempotency-Key)"));
	th_result_free(&r);
	post[10] = "--retry-unsafe";
	assert_int_equal(run_call(post, &r), 22);
	assert_int_equal(th_fixture_count(&c->fx, "/p"), 3);
	th_result_free(&r);

	assert_int_equal(th_fixture_set(&c->fx, "/h", "hang"), 0);
	char *slow[] = {FB,    "call",     "GET",     "/h",         "--dep",
	                "api", "--config", c->config, "--max-time", "300ms",
	                NULL};
	assert_int_equal(run_call(slow, &r), 1);
	assert_true(r.ms < 3000);
	assert_non_null(strstr(r.err, "failed after 1 attempt"));
	th_result_free(&r);

	char *dns[] = {FB, "call", "GET", "http://no-such-host.invalid/", NULL};
	assert_int_equal(run_call(dns, &r), 1);
	assert_non_null(strstr(r.err, "attempt 1/4: Could not resolve host"));
	assert_non_null(strstr(r.err, "not retried (permanent)"));
	assert_null(strstr(r.err, "attempt 2/4"));
	th_result_free(&r);
}

/* The running instance's breaker for the dependency is open: refused at
 * once, nothing sent. */
static void test_open_breaker_refuses(void **state)
{
	ctx *c = *state;
	char sock[450], out[450], err[450];
	th_result r;
	snprintf(sock, sizeof sock, "%s/fb.sock", c->dir);
	snprintf(out, sizeof out, "%s/run.out", c->dir);
	snprintf(err, sizeof err, "%s/run.err", c->dir);
	assert_int_equal(th_fixture_set(&c->fx, "/api", "fail"), 0);
	char *argv[] = {FB, "run", "--config", c->config, NULL};
	c->instance = th_spawn(argv, out, err);
	assert_true(th_wait_unix_socket(sock, 10000));
	assert_true(th_wait_file_contains(err, "closed -> open", 10000));
	long before = th_fixture_count(&c->fx, "/api");
	assert_int_equal(call(c, "/api", &r), 75);
	assert_non_null(strstr(r.err, "api is unavailable; retry in"));
	assert_int_equal(th_fixture_count(&c->fx, "/api"), before);
	th_result_free(&r);

	/* the embedders' gate question: api is not critical, so allowed */
	char why[256];
	assert_true(fb_gate_allows(sock, 2000, why, sizeof why));
	assert_string_equal(why, "Allowed: no dependency is critical");
}

/* No instance: the embedded client says no, and why. */
static void test_gate_client_fails_closed(void **state)
{
	ctx *c = *state;
	char sock[450], why[256];
	snprintf(sock, sizeof sock, "%s/none.sock", c->dir);
	assert_false(fb_gate_allows(sock, 500, why, sizeof why));
	assert_non_null(strstr(why, "no running instance"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ok_prints_the_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failures_are_retried_then_given_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_path_headers_and_file_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_post_deadline_and_dns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_breaker_refuses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gate_client_fails_closed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
