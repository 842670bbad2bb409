/* The resilient HTTP client (SPEC section 9): making one, and one call
 * through the breaker, the retries and the retry budget. The attempt
 * itself is client_curl.c's; the status document client_status.c's. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_http_impl.h"
#include "clock.h"
#include "config_impl.h"
#include "core/parse.h"
#include "fusebox/sanitize.h"

/* ---- the default clock ------------------------------------------------- */

static int64_t real_now(void *ctx)
{
	(void)ctx;
	return fb_now_ms();
}

/* Sleeps in slices, so a cancel is seen within 20 ms. */
static bool real_sleep(void *ctx, int64_t ms, const atomic_int *cancel)
{
	(void)ctx;
	int64_t end = fb_now_ms() + ms;
	for (int64_t left = ms; left > 0; left = end - fb_now_ms()) {
		if (cancel && atomic_load(cancel))
			return false;
		int64_t step = cancel && left > 20 ? 20 : left;
		struct timespec ts = {(time_t)(step / 1000),
		                      (long)(step % 1000) * 1000000};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	return !(cancel && atomic_load(cancel));
}

static uint64_t real_random(void *ctx)
{
	fb_client *c = ctx;
	pthread_mutex_lock(&c->lock);
	uint64_t v = fb_rng_xorshift(&c->rng);
	pthread_mutex_unlock(&c->lock);
	return v;
}

/* ---- making one -------------------------------------------------------- */

void fb_client_options_init(fb_client_options *o)
{
	memset(o, 0, sizeof *o);
	o->size = sizeof *o;
	o->timeout_ms = o->retry_delay_ms = o->recovery_timeout_ms = -1;
	o->max_retries = o->failure_threshold = -1;
	o->deadline_ms = 0;
	o->max_body = 0;
	o->log_level = FB_LOG_INFO;
}

/* The caller's options, with the fields its older struct lacks unset. */
static void options_copy(const fb_client_options *in, fb_client_options *o)
{
	fb_client_options_init(o);
	if (!in)
		return;
	size_t n = in->size < sizeof *o ? in->size : sizeof *o;
	memcpy(o, in, n);
	o->size = sizeof *o;
}

static int given(fb_tunables *t, fb_tunable k, int64_t v, const char *name,
                 fb_error *err)
{
	const char *why;
	if (v < 0)
		return 0;
	if (fb_tunable_check(k, v, &why) != 0) {
		snprintf(err->text, sizeof err->text, "option %s: %s: %lld",
		         name, why, (long long)v);
		return -1;
	}
	fb_tunables_set(t, k, v);
	return 0;
}

static int options_tunables(const fb_client_options *o, fb_tunables *t,
                            fb_error *err)
{
	memset(t, 0, sizeof *t);
	if (o->deadline_ms < 0 || o->max_body < 0) {
		snprintf(err->text, sizeof err->text, "option %s: out of range",
		         o->deadline_ms < 0 ? "deadline_ms" : "max_body");
		return -1;
	}
	return given(t, FB_T_TIMEOUT, o->timeout_ms, "timeout_ms", err) ||
	               given(t, FB_T_MAX_RETRIES, o->max_retries, "max_retries",
	                     err) ||
	               given(t, FB_T_RETRY_DELAY, o->retry_delay_ms,
	                     "retry_delay_ms", err) ||
	               given(t, FB_T_FAILURE_THRESHOLD, o->failure_threshold,
	                     "failure_threshold", err) ||
	               given(t, FB_T_RECOVERY_TIMEOUT, o->recovery_timeout_ms,
	                     "recovery_timeout_ms", err)
	           ? -1
	           : 0;
}

/* scheme://host:port plus the path given, without a trailing '/'. */
static int set_base(fb_client *c, const fb_dep_config *d, const char *path,
                    fb_error *err)
{
	size_t plen = strlen(path);
	while (plen > 0 && path[plen - 1] == '/')
		plen--;
	int n = snprintf(c->base, sizeof c->base, "%s://%s:%d%.*s", d->scheme,
	                 d->host, d->port, (int)plen, path);
	if (d->kind != FB_KIND_HTTP) {
		snprintf(err->text, sizeof err->text,
		         "%s: not an http(s) address: %s", d->name, c->base);
		return -1;
	}
	if (n < 0 || (size_t)n >= sizeof c->base) {
		snprintf(err->text, sizeof err->text, "%s: address too long",
		         d->name);
		return -1;
	}
	return 0;
}

/* The running instance as peer (SPEC 7 allow/report): the socket the
 * options name, else $FUSEBOX_SOCKET; none when both are empty. */
static int attach_instance(fb_client *c, const char *socket, fb_error *err)
{
	if (!socket)
		socket = getenv("FUSEBOX_SOCKET");
	if (!socket || !socket[0])
		return 0;
	c->instance = fb_instance_peer_new(socket);
	if (!c->instance) {
		snprintf(err->text, sizeof err->text, "out of memory");
		return -1;
	}
	c->peer = fb_instance_peer_ops(c->instance);
	return 0;
}

fb_client *fb_client_new_dep(const fb_dep_config *d, const char *base,
                             const fb_client_options *opts, fb_error *err)
{
	fb_client_options o;
	fb_breaker_config bc;
	options_copy(opts, &o);
	fb_client *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err->text, sizeof err->text, "out of memory");
		return NULL;
	}
	c->dep = *d;
	snprintf(c->service, sizeof c->service, "%s", d->name);
	if (set_base(c, d, base ? base : "", err) != 0) {
		free(c);
		return NULL;
	}
	c->deadline_ms = o.deadline_ms;
	c->max_body = o.max_body ? o.max_body : FB_CLIENT_MAX_BODY;
	c->retry_unsafe = o.retry_unsafe != 0;
	c->log = o.log;
	c->log_ctx = o.log_ctx;
	c->log_level = o.log_level;
	c->clock = (fb_client_clock){real_now, real_sleep, real_random, c};
	c->rng = (uint64_t)fb_now_us() | 1;
	c->breaker_rng = c->rng * 0x9e3779b97f4a7c15ULL | 1;
	pthread_mutex_init(&c->lock, NULL);
	fb_budget_init(&c->budget, FB_BUDGET_PERCENT, FB_BUDGET_FLOOR);
	fb_dep_breaker_config(d, &bc);
	c->breaker = fb_breaker_new(
	    &bc, (fb_rng){fb_rng_xorshift, &c->breaker_rng}, fb_now_ms());
	if (!c->breaker || fb_http_pool_init(&c->pool, err) != 0) {
		if (!c->breaker)
			snprintf(err->text, sizeof err->text, "out of memory");
		fb_client_free(c);
		return NULL;
	}
	if (attach_instance(c, o.socket, err) != 0) {
		fb_client_free(c);
		return NULL;
	}
	return c;
}

fb_client *fb_client_new(const char *service, const char *env_prefix,
                         const fb_client_options *opts, fb_error *err)
{
	fb_error scratch = {0};
	fb_client_options o;
	fb_dep_config d;
	char path[256];
	err = err ? err : &scratch;
	memset(err, 0, sizeof *err);
	if (!service || !service[0]) {
		snprintf(err->text, sizeof err->text, "no service name");
		return NULL;
	}
	options_copy(opts, &o);
	fb_standalone s = {.name = service,
	                   .env_prefix = env_prefix,
	                   .preset = o.preset,
	                   .url = o.url};
	if (options_tunables(&o, &s.given, err) != 0 ||
	    fb_dep_standalone(&s, &d, path, sizeof path, err) != 0)
		return NULL;
	return fb_client_new_dep(&d, path, &o, err);
}

void fb_client_free(fb_client *c)
{
	if (!c)
		return;
	fb_http_pool_free(&c->pool);
	fb_instance_peer_free(c->instance);
	fb_breaker_free(c->breaker);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void fb_client_set_clock(fb_client *c, const fb_client_clock *clock)
{
	c->clock = *clock;
}

void fb_client_set_peer(fb_client *c, const fb_client_peer *peer)
{
	c->peer = *peer;
}

void fb_request_init(fb_request *req, const char *method, const char *url)
{
	memset(req, 0, sizeof *req);
	req->size = sizeof *req;
	req->method = method;
	req->url = url;
}

void fb_response_free(fb_response *r)
{
	if (!r)
		return;
	free(r->body);
	memset(r, 0, sizeof *r);
}

/* ---- one call ---------------------------------------------------------- */

/* Everything one call carries from attempt to attempt. */
typedef struct call {
	fb_client *c;
	fb_request rq;
	char url[FB_CLIENT_URL_MAX], shown[FB_CLIENT_URL_MAX];
	struct curl_slist *headers;
	int64_t start, deadline; /* deadline 0: none */
	int attempts, made;
	bool may_retry;  /* the method allows it */
	bool degraded;   /* as the call began: the retry budget halves */
	uint64_t permit; /* the instance's trial permit for this attempt */
	fb_http_result last;
	fb_error *err;
} call;

static void say(call *k, fb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(call *k, fb_log_level level, const char *fmt, ...)
{
	char line[1024];
	if (!k->c->log || (int)level > k->c->log_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	k->c->log(k->c->log_ctx, level, line);
}

/* The URL to call: a whole http(s) URL as it is, else base + path. */
static int build_url(call *k)
{
	const char *u = k->rq.url;
	int n;
	if (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0)
		n = snprintf(k->url, sizeof k->url, "%s", u);
	else if (strstr(u, "://"))
		return -1;
	else
		n = snprintf(k->url, sizeof k->url, "%s%s%s", k->c->base,
		             u[0] == '/' ? "" : "/", u);
	if (n < 0 || (size_t)n >= sizeof k->url ||
	    fb_control_char(u, strlen(u)))
		return -1;
	fb_client_url_for_log(k->url, k->shown, sizeof k->shown);
	return 0;
}

static int usage(fb_error *err, const char *what)
{
	snprintf(err->text, sizeof err->text, "%s", what);
	return FB_E_USAGE;
}

static int call_begin(call *k, fb_client *c, const fb_request *rq,
                      fb_error *err)
{
	memset(k, 0, sizeof *k);
	k->c = c;
	k->err = err;
	size_t n = rq->size < sizeof k->rq ? rq->size : sizeof k->rq;
	memcpy(&k->rq, rq, n);
	if (!fb_http_method_known(k->rq.method))
		return usage(err, "unknown HTTP method (GET, HEAD, POST, PUT, "
		                  "PATCH, DELETE, OPTIONS, TRACE)");
	if (!k->rq.url || build_url(k) != 0)
		return usage(err, "bad URL or path (an http(s) URL, or a path "
		                  "of printable characters)");
	if (!k->rq.body && k->rq.len)
		return usage(err, "a body length without a body");
	if (!(k->headers = fb_http_headers(k->rq.headers)))
		return usage(err, "out of memory");
	k->start = c->clock.now_ms(c->clock.ctx);
	int64_t limit =
	    k->rq.deadline_ms > 0 ? k->rq.deadline_ms : c->deadline_ms;
	k->deadline = limit > 0 ? k->start + limit : 0;
	k->attempts = (int)c->dep.t[FB_T_MAX_RETRIES] + 1;
	k->degraded = fb_client_health(c) == FB_HEALTH_DEGRADED;
	k->may_retry = fb_retry_method_ok(
	    k->rq.method, fb_header_present(k->rq.headers, "Idempotency-Key"),
	    k->rq.retry_unsafe || c->retry_unsafe);
	return FB_OK;
}

static bool cancelled(const call *k)
{
	return k->rq.cancel && atomic_load(k->rq.cancel);
}

static int refused(call *k, fb_state state, int64_t retry_after_ms)
{
	fb_error *err = k->err;
	char wait[32];
	err->retry_after_ms = retry_after_ms;
	err->state = state;
	fb_client_format_wait(retry_after_ms, wait, sizeof wait);
	if (state == FB_STATE_FORCED_OPEN || retry_after_ms < 0)
		snprintf(err->text, sizeof err->text,
		         "%s is unavailable; tripped by an operator",
		         k->c->service);
	else if (state == FB_STATE_HALF_OPEN)
		snprintf(err->text, sizeof err->text,
		         "%s is unavailable; a trial call is deciding",
		         k->c->service);
	else
		snprintf(err->text, sizeof err->text,
		         "%s is unavailable; retry in %s", k->c->service, wait);
	say(k, FB_LOG_WARN, "%s %s attempt %d/%d: refused: %s", k->rq.method,
	    k->shown, k->made + 1, k->attempts, err->text);
	return FB_E_UNAVAILABLE;
}

/* Asks the breaker (and the instance, when there is one) for a permit. */
static int permit(call *k, int64_t now)
{
	int64_t wait = 0;
	fb_client *c = k->c;
	if (!fb_breaker_allow(c->breaker, now, &wait, NULL))
		return refused(k, fb_breaker_state(c->breaker), wait);
	k->permit = 0;
	if (c->peer.allow &&
	    !c->peer.allow(c->peer.ctx, c->service, &wait, &k->permit)) {
		fb_breaker_release(c->breaker);
		return refused(k, FB_STATE_OPEN, wait);
	}
	return FB_OK;
}

/* Counts an attempt's outcome in the breaker, the history and the
 * instance. An answer that is not 429 or 5xx is a success for the
 * breaker: the dependency is up, whatever it thought of the request. */
static bool record(call *k, const fb_http_result *r, int64_t now)
{
	fb_client *c = k->c;
	bool ok = r->status > 0 && !fb_retry_status(r->status);
	int64_t ms = r->latency_us / 1000;
	char why[FB_ERROR_MAX];
	if (r->status > 0)
		snprintf(why, sizeof why, "HTTP %ld", r->status);
	else
		snprintf(why, sizeof why, "%s", r->error);
	if (r->code == CURLE_ABORTED_BY_CALLBACK && cancelled(k)) {
		fb_breaker_release(c->breaker); /* no outcome: abandoned */
		return false;
	}
	if (ok)
		fb_breaker_success(c->breaker, now, ms, NULL);
	else
		fb_breaker_failure(c->breaker, now, NULL);
	pthread_mutex_lock(&c->lock);
	fb_history_add(&c->history, now, r->latency_us, ok);
	if (!ok)
		snprintf(c->last_error, sizeof c->last_error, "%s", why);
	pthread_mutex_unlock(&c->lock);
	if (c->peer.report)
		c->peer.report(c->peer.ctx, c->service, ok, r->latency_us,
		               ok ? NULL : why, k->permit);
	return ok;
}

/* Why this outcome is final, or NULL when another attempt may follow. */
static const char *final_reason(const call *k, const fb_http_result *r)
{
	if (r->status > 0 && !fb_retry_status(r->status))
		return "";
	if (r->status == 0 && (r->code == CURLE_COULDNT_RESOLVE_HOST ||
	                       r->too_big || r->code == CURLE_OUT_OF_MEMORY ||
	                       r->code == CURLE_UNSUPPORTED_PROTOCOL ||
	                       r->code == CURLE_URL_MALFORMAT))
		return "; not retried (permanent)";
	if (k->made >= k->attempts)
		return k->attempts > 1 ? "; no retries left" : "";
	if (!k->may_retry)
		return "; not retried (no Idempotency-Key)";
	return NULL;
}

/* The wait before the next attempt, or -1 with *why when there is none:
 * our backoff, or the server's Retry-After when longer; never past the
 * deadline; only while the retry budget lasts. */
static int64_t next_wait(call *k, const fb_http_result *r, int64_t now,
                         const char **why)
{
	fb_client *c = k->c;
	double u = (double)(c->clock.random(c->clock.ctx) >> 11) *
	           (1.0 / 9007199254740992.0);
	int64_t wait = fb_retry_wait(c->dep.t[FB_T_RETRY_DELAY], k->made - 1,
	                             (double)c->dep.t[FB_T_JITTER] / 1e6, u);
	if (r->retry_after_ms > wait)
		wait = r->retry_after_ms;
	if (k->deadline && now + wait >= k->deadline) {
		*why = "; not retried (the deadline comes first)";
		return -1;
	}
	if (!k->deadline && wait > FB_RETRY_AFTER_MAX_MS) {
		*why = "; not retried (Retry-After too far ahead)";
		return -1;
	}
	pthread_mutex_lock(&c->lock);
	bool ok = fb_budget_take(&c->budget, now, k->degraded);
	pthread_mutex_unlock(&c->lock);
	if (!ok) {
		*why = "; not retried (retry budget spent)";
		return -1;
	}
	return wait;
}

/* One attempt, logged. Returns FB_OK to go on, else the final code. */
static int attempt(call *k, bool *done)
{
	fb_client *c = k->c;
	int64_t now = c->clock.now_ms(c->clock.ctx);
	int64_t timeout = c->dep.t[FB_T_TIMEOUT];
	if (k->deadline && k->deadline - now < timeout)
		timeout = k->deadline - now > 0 ? k->deadline - now : 1;
	int rc = permit(k, now);
	if (rc != FB_OK && k->made > 0) {
		/* the breaker opened on our own failures: the call ends with
		 * the last outcome it had, not as if nothing had been sent */
		memset(k->err, 0, sizeof *k->err);
		*done = true;
		return FB_OK;
	}
	if (rc != FB_OK)
		return rc;
	fb_http_attempt a = {k->rq.method, k->url,  k->headers,  k->rq.body,
	                     k->rq.len,    timeout, c->max_body, k->rq.cancel};
	free(k->last.body);
	fb_http_perform(&c->pool, &a, &k->last);
	k->made++;
	now = c->clock.now_ms(c->clock.ctx);
	bool ok = record(k, &k->last, now);
	char what[300];
	if (k->last.status > 0)
		snprintf(what, sizeof what, "HTTP %ld", k->last.status);
	else
		snprintf(what, sizeof what, "%s", k->last.error);
	const char *why = final_reason(k, &k->last);
	int64_t wait = -1;
	if (!why && cancelled(k))
		why = "; cancelled";
	if (!why)
		wait = next_wait(k, &k->last, now, &why);
	char next[64] = "";
	if (wait >= 0) {
		char w[32];
		fb_client_format_wait(wait, w, sizeof w);
		snprintf(next, sizeof next, "; retrying in %s", w);
	}
	say(k,
	    ok    ? FB_LOG_INFO
	    : why ? FB_LOG_ERROR
	          : FB_LOG_WARN,
	    "%s %s attempt %d/%d: %s in %lldms%s", k->rq.method, k->shown,
	    k->made, k->attempts, what, (long long)(k->last.latency_us / 1000),
	    why ? why : next);
	*done = wait < 0;
	if (wait > 0 && !c->clock.sleep_ms(c->clock.ctx, wait, k->rq.cancel))
		*done = true;
	return FB_OK;
}

static int call_end(call *k, int rc, fb_response *resp)
{
	fb_error *err = k->err;
	fb_client *c = k->c;
	resp->attempts = k->made;
	resp->elapsed_ms = c->clock.now_ms(c->clock.ctx) - k->start;
	if (rc == FB_OK && cancelled(k))
		rc = FB_E_CANCELLED;
	if (rc == FB_OK && k->last.status > 0) {
		resp->status = k->last.status;
		resp->body = k->last.body;
		resp->len = k->last.len;
		k->last.body = NULL;
	} else if (rc == FB_OK || rc == FB_E_CANCELLED) {
		if (rc == FB_E_CANCELLED)
			snprintf(err->text, sizeof err->text,
			         "%s: %s %.300s: cancelled after %d attempt%s",
			         c->service, k->rq.method, k->shown, k->made,
			         k->made == 1 ? "" : "s");
		else
			snprintf(err->text, sizeof err->text,
			         "%s: %s %.300s failed after %d attempt%s: %s",
			         c->service, k->rq.method, k->shown, k->made,
			         k->made == 1 ? "" : "s", k->last.error);
		rc = rc == FB_OK ? FB_E_FAILED : rc;
	}
	free(k->last.body);
	curl_slist_free_all(k->headers);
	if (c->peer.flush) /* the call's outcomes out now, not at the next */
		c->peer.flush(c->peer.ctx);
	return rc;
}

int fb_client_send(fb_client *c, const fb_request *rq, fb_response *resp,
                   fb_error *err)
{
	fb_error scratch = {0};
	fb_response none = {0};
	call k;
	err = err ? err : &scratch;
	resp = resp ? resp : &none;
	memset(err, 0, sizeof *err);
	memset(resp, 0, sizeof *resp);
	if (!c || !rq || rq->size < offsetof(fb_request, deadline_ms))
		return usage(err, "no client or no request");
	int rc = call_begin(&k, c, rq, err);
	if (rc != FB_OK) {
		curl_slist_free_all(k.headers);
		return rc;
	}
	pthread_mutex_lock(&c->lock);
	fb_budget_call(&c->budget, k.start);
	pthread_mutex_unlock(&c->lock);
	bool done = false;
	while (rc == FB_OK && !done) {
		if (cancelled(&k))
			break;
		rc = attempt(&k, &done);
	}
	rc = call_end(&k, rc, resp);
	if (resp == &none)
		fb_response_free(&none);
	return rc;
}

int fb_client_request(fb_client *c, const char *method, const char *path_or_url,
                      const void *body, size_t len, fb_response *resp,
                      fb_error *err)
{
	fb_request rq;
	fb_request_init(&rq, method, path_or_url);
	rq.body = body;
	rq.len = len;
	return fb_client_send(c, &rq, resp, err);
}

int fb_client_get(fb_client *c, const char *path_or_url, fb_response *resp,
                  fb_error *err)
{
	return fb_client_request(c, "GET", path_or_url, NULL, 0, resp, err);
}

int fb_client_post(fb_client *c, const char *path_or_url, const void *body,
                   size_t len, fb_response *resp, fb_error *err)
{
	return fb_client_request(c, "POST", path_or_url, body, len, resp, err);
}

int fb_client_put(fb_client *c, const char *path_or_url, const void *body,
                  size_t len, fb_response *resp, fb_error *err)
{
	return fb_client_request(c, "PUT", path_or_url, body, len, resp, err);
}

int fb_client_delete(fb_client *c, const char *path_or_url, fb_response *resp,
                     fb_error *err)
{
	return fb_client_request(c, "DELETE", path_or_url, NULL, 0, resp, err);
}
