/* The HTTP client's libcurl side: a pool of easy handles over one share
 * handle (connections, DNS, TLS sessions), and one attempt on it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client_http_impl.h"
#include "fusebox/sanitize.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a,
                       void *user)
{
	(void)h;
	(void)a;
	fb_http_pool *p = user;
	pthread_mutex_lock(&p->locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *user)
{
	(void)h;
	fb_http_pool *p = user;
	pthread_mutex_unlock(&p->locks[data]);
}

int fb_http_pool_init(fb_http_pool *p, fb_error *err)
{
	memset(p, 0, sizeof *p);
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK || !(p->share = curl_share_init())) {
		snprintf(err->text, sizeof err->text,
		         "cannot start libcurl: %s",
		         curl_easy_strerror(global_rc));
		return -1;
	}
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&p->locks[i], NULL);
	pthread_mutex_init(&p->idle_lock, NULL);
	curl_share_setopt(p->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(p->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(p->share, CURLSHOPT_USERDATA, p);
	curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(p->share, CURLSHOPT_SHARE,
	                  CURL_LOCK_DATA_SSL_SESSION);
	return 0;
}

void fb_http_pool_free(fb_http_pool *p)
{
	if (!p->share)
		return;
	for (int i = 0; i < p->nidle; i++)
		curl_easy_cleanup(p->idle[i]);
	curl_share_cleanup(p->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&p->locks[i]);
	pthread_mutex_destroy(&p->idle_lock);
	memset(p, 0, sizeof *p);
}

/* An idle handle, or a new one; NULL when out of memory. */
static CURL *take(fb_http_pool *p)
{
	CURL *e = NULL;
	pthread_mutex_lock(&p->idle_lock);
	if (p->nidle > 0)
		e = p->idle[--p->nidle];
	pthread_mutex_unlock(&p->idle_lock);
	if (e)
		curl_easy_reset(e);
	return e ? e : curl_easy_init();
}

static void give_back(fb_http_pool *p, CURL *e)
{
	pthread_mutex_lock(&p->idle_lock);
	if (p->nidle < FB_CLIENT_IDLE_MAX) {
		p->idle[p->nidle++] = e;
		e = NULL;
	}
	pthread_mutex_unlock(&p->idle_lock);
	if (e)
		curl_easy_cleanup(e);
}

struct curl_slist *fb_http_headers(const char *const *headers)
{
	struct curl_slist *l = curl_slist_append(NULL, "Expect:");
	for (size_t i = 0; l && headers && headers[i]; i++) {
		struct curl_slist *n = curl_slist_append(l, headers[i]);
		if (!n) {
			curl_slist_free_all(l);
			return NULL;
		}
		l = n;
	}
	return l;
}

/* The body, as it comes, capped at max_body. */
typedef struct sink {
	fb_http_result *res;
	size_t cap;
	int64_t max_body;
	const atomic_int *cancel;
} sink;

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	sink *s = user;
	fb_http_result *r = s->res;
	size_t len = size * n;
	if ((int64_t)(r->len + len) > s->max_body) {
		r->too_big = true;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	if (r->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < r->len + len + 1)
			cap *= 2;
		char *b = realloc(r->body, cap);
		if (!b)
			return 0;
		r->body = b;
		s->cap = cap;
	}
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

/* Retry-After: seconds, or an HTTP date (then how far ahead it is). */
static size_t on_header(char *data, size_t size, size_t n, void *user)
{
	sink *s = user;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	if (len <= sizeof name - 1 || strncasecmp(data, name, sizeof name - 1))
		return len;
	const char *v = data + sizeof name - 1;
	size_t vlen = len - (sizeof name - 1);
	int64_t ms = fb_retry_after_seconds(v, vlen);
	if (ms < 0 && vlen < 64) {
		char date[64];
		memcpy(date, v, vlen);
		date[vlen] = '\0';
		time_t at = curl_getdate(date, NULL);
		if (at != (time_t)-1) {
			int64_t ahead =
			    ((int64_t)at - (int64_t)time(NULL)) * 1000;
			ms = ahead > 0 ? ahead : 0;
		}
	}
	s->res->retry_after_ms = ms;
	return len;
}

static int on_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut,
                       curl_off_t un)
{
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	const sink *s = user;
	return s->cancel && atomic_load(s->cancel) ? 1 : 0;
}

static void set_options(CURL *e, fb_http_pool *p, const fb_http_attempt *a,
                        sink *s, char *errbuf)
{
	curl_easy_setopt(e, CURLOPT_SHARE, p->share);
	curl_easy_setopt(e, CURLOPT_URL, a->url);
	if (strcmp(a->method, "HEAD") == 0)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(a->method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, a->method);
	if (a->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		                 (curl_off_t)a->len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, a->body);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->headers);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)a->timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "libfusebox/" FB_VERSION);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (a->cancel) {
		curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(e, CURLOPT_XFERINFODATA, s);
	}
}

void fb_http_perform(fb_http_pool *p, const fb_http_attempt *a,
                     fb_http_result *res)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	memset(res, 0, sizeof *res);
	res->retry_after_ms = -1;
	sink s = {res, 0, a->max_body, a->cancel};
	CURL *e = take(p);
	if (!e) {
		res->code = CURLE_OUT_OF_MEMORY;
		snprintf(res->error, sizeof res->error, "out of memory");
		return;
	}
	set_options(e, p, a, &s, errbuf);
	res->code = curl_easy_perform(e);
	curl_off_t us = 0;
	curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &us);
	res->latency_us = (int64_t)us;
	if (res->code == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &res->status);
	give_back(p, e);
	if (res->code == CURLE_OK && res->status > 0) {
		if (!res->body && (res->body = malloc(1)))
			res->body[0] = '\0';
		if (res->body)
			return;
		res->code = CURLE_OUT_OF_MEMORY;
	}
	res->status = 0;
	free(res->body);
	res->body = NULL;
	res->len = 0;
	if (res->too_big)
		snprintf(errbuf, sizeof errbuf,
		         "response body over %lld bytes; refused",
		         (long long)a->max_body);
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(res->code);
	fb_sanitize(res->error, sizeof res->error, why, strlen(why));
}
