/* HTTP probes through libcurl's multi interface. Easy handles are pooled
 * and reused, so connections and DNS results are reused too. Bodies are
 * capped at PROBE_BODY_CAP, where reading stops; redirects are not
 * followed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_impl.h"

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	probe_slot *s = user;
	size_t len = size * n;
	if (!s->body)
		s->body = malloc(PROBE_BODY_CAP);
	size_t room = s->body ? PROBE_BODY_CAP - s->body_len : 0;
	size_t take = len < room ? len : room;
	if (take) {
		memcpy(s->body + s->body_len, data, take);
		s->body_len += take;
	}
	if (take < len) { /* full: stop reading (curl ends the transfer) */
		s->body_capped = true;
		return 0;
	}
	return len;
}

/* Keeps the first status line ("HTTP/1.1 503 Service Unavailable"). */
static size_t on_header(char *data, size_t size, size_t n, void *user)
{
	probe_slot *s = user;
	size_t len = size * n;
	if (len > 5 && memcmp(data, "HTTP/", 5) == 0) {
		size_t take = len < sizeof s->status_line
		                  ? len
		                  : sizeof s->status_line - 1;
		memcpy(s->status_line, data, take);
		s->status_line[take] = '\0';
		s->status_line[strcspn(s->status_line, "\r\n")] = '\0';
	}
	return len;
}

static CURL *pool_take(fb_probes *p)
{
	if (p->npool)
		return p->pool[--p->npool];
	return curl_easy_init();
}

static void pool_give(fb_probes *p, CURL *easy)
{
	if (p->npool == p->cappool) {
		size_t cap = p->cappool ? p->cappool * 2 : 16;
		CURL **pool = realloc(p->pool, cap * sizeof *pool);
		if (!pool) {
			curl_easy_cleanup(easy);
			return;
		}
		p->pool = pool;
		p->cappool = cap;
	}
	p->pool[p->npool++] = easy;
}

void http_pool_free(fb_probes *p)
{
	while (p->npool)
		curl_easy_cleanup(p->pool[--p->npool]);
	free(p->pool);
	p->pool = NULL;
	p->cappool = 0;
}

int http_start(fb_probes *p, uint32_t id)
{
	probe_slot *s = &p->slots[id];
	const fb_dep_config *c = s->cfg;
	CURL *e = pool_take(p);
	if (!e) {
		probe_finish(p, id, false, "out of memory");
		return -1;
	}
	s->easy = e;
	s->body_len = 0;
	s->body_capped = false;
	s->status_line[0] = '\0';
	s->curl_err[0] = '\0';
	long timeout = (long)c->t[FB_T_TIMEOUT];
	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)(uintptr_t)id);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "fusebox/" FB_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->curl_err);
	if (curl_multi_add_handle(fb_loop_multi(p->loop), e) != CURLM_OK) {
		s->easy = NULL;
		pool_give(p, e);
		probe_finish(p, id, false, "curl refused the transfer");
		return -1;
	}
	return 0;
}

static void release(fb_probes *p, probe_slot *s)
{
	curl_multi_remove_handle(fb_loop_multi(p->loop), s->easy);
	pool_give(p, s->easy);
	s->easy = NULL;
	free(s->body);
	s->body = NULL;
	s->body_len = 0;
}

void http_cancel(fb_probes *p, uint32_t id)
{
	if (p->slots[id].easy)
		release(p, &p->slots[id]);
}

void http_done(fb_probes *p, uint32_t id, CURLcode result)
{
	probe_slot *s = &p->slots[id];
	const fb_dep_config *c = s->cfg;
	char err[FB_ERROR_MAX] = "";
	long status = 0;
	bool ok = false;
	if (result == CURLE_WRITE_ERROR && s->body_capped)
		result = CURLE_OK; /* we stopped reading at the cap */
	if (result != CURLE_OK) {
		probe_transport_error(s->easy, result, s, err, sizeof err);
	} else {
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
		ok = status >= c->expect_lo && status <= c->expect_hi;
		if (!ok) {
			int n = (int)(s->body_len < 120 ? s->body_len : 120);
			const char *reason = strchr(s->status_line, ' ');
			reason = reason ? strchr(reason + 1, ' ') : NULL;
			snprintf(err, sizeof err, "bad status %ld%s%s: %.*s",
			         status, reason ? " " : "",
			         reason ? reason + 1 : "", n,
			         s->body ? s->body : "");
		}
	}
	release(p, s);
	probe_finish(p, id, ok, err);
}
