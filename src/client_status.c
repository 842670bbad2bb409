/* What the HTTP client says about itself: its status document, its
 * health, the names of its return codes, and the forms its log lines
 * use. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client_http_impl.h"
#include "clock.h"
#include "fusebox/sanitize.h"

#define RECENT 20 /* attempts whose median latency health looks at */

const char *fb_strerror(int rc)
{
	switch (rc) {
	case FB_OK: return "answered";
	case FB_E_USAGE: return "bad arguments";
	case FB_E_UNAVAILABLE: return "unavailable (breaker open)";
	case FB_E_FAILED: return "every attempt failed";
	case FB_E_CANCELLED: return "cancelled";
	default: return "unknown error code";
	}
}

fb_state fb_client_state(fb_client *c)
{
	return fb_breaker_state(c->breaker);
}

fb_health fb_client_health(fb_client *c)
{
	fb_breaker_snapshot snap;
	fb_breaker_snapshot_get(c->breaker, &snap);
	pthread_mutex_lock(&c->lock);
	fb_latency lat = fb_history_latency(&c->history, RECENT);
	pthread_mutex_unlock(&c->lock);
	fb_health mine =
	    fb_health_derive(&snap, lat.p50, c->dep.t[FB_T_SLOW_CALL]);
	fb_health theirs;
	if (!c->instance ||
	    !fb_instance_peer_health(c->instance, fb_now_ms(), &theirs) ||
	    theirs == FB_HEALTH_UNKNOWN)
		return mine;
	if (mine == FB_HEALTH_UNKNOWN)
		return theirs;
	/* the worse: healthy < degraded < unhealthy */
	return theirs == FB_HEALTH_UNHEALTHY || mine == FB_HEALTH_UNHEALTHY
	           ? FB_HEALTH_UNHEALTHY
	       : theirs == FB_HEALTH_DEGRADED ? theirs
	                                      : mine;
}

void fb_client_format_wait(int64_t ms, char *buf, size_t len)
{
	long long tenths = (ms + 50) / 100;
	if (ms < 1000)
		snprintf(buf, len, "%lldms", (long long)(ms < 0 ? 0 : ms));
	else if (ms >= 10000)
		snprintf(buf, len, "%llds", (long long)((ms + 500) / 1000));
	else if (tenths % 10 == 0)
		snprintf(buf, len, "%llds", tenths / 10);
	else
		snprintf(buf, len, "%lld.%llds", tenths / 10, tenths % 10);
}

void fb_client_url_for_log(const char *url, char *buf, size_t len)
{
	char plain[FB_CLIENT_URL_MAX];
	const char *auth = strstr(url, "://");
	const char *at = auth ? strchr(auth + 3, '@') : NULL;
	const char *end = auth ? strpbrk(auth + 3, "/?#") : NULL;
	if (at && (!end || at < end))
		snprintf(plain, sizeof plain, "%.*s%s", (int)(auth + 3 - url),
		         url, at + 1);
	else
		snprintf(plain, sizeof plain, "%s", url);
	fb_sanitize(buf, len, plain, strlen(plain));
}

/* A monotonic instant of the client's clock as RFC 3339 UTC, or null. */
static cJSON *when(const fb_client *c, int64_t at_ms, int64_t now_ms)
{
	if (at_ms < 0)
		return cJSON_CreateNull();
	int64_t wall = fb_wall_ms() - (now_ms - at_ms);
	time_t s = (time_t)(wall / 1000);
	struct tm tm;
	char day[32], text[48];
	(void)c;
	gmtime_r(&s, &tm);
	strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(text, sizeof text, "%s.%03dZ", day, (int)(wall % 1000));
	return cJSON_CreateString(text);
}

static cJSON *latency(fb_client *c)
{
	pthread_mutex_lock(&c->lock);
	fb_latency l = fb_history_latency(&c->history, FB_HISTORY);
	pthread_mutex_unlock(&c->lock);
	cJSON *o = cJSON_CreateObject();
	const double v[] = {l.p50, l.p95, l.p99};
	const char *const k[] = {"p50", "p95", "p99"};
	for (int i = 0; i < 3; i++) {
		if (v[i] < 0)
			cJSON_AddNullToObject(o, k[i]);
		else
			cJSON_AddNumberToObject(o, k[i], v[i]);
	}
	return o;
}

char *fb_client_status_json(fb_client *c)
{
	fb_breaker_snapshot snap;
	char last_error[FB_ERROR_MAX];
	int64_t now = c->clock.now_ms(c->clock.ctx);
	fb_breaker_snapshot_get(c->breaker, &snap);
	pthread_mutex_lock(&c->lock);
	memcpy(last_error, c->last_error, sizeof last_error);
	pthread_mutex_unlock(&c->lock);
	double retry_after = 0;
	if (snap.state == FB_STATE_OPEN && snap.open_until_ms > now)
		retry_after = (double)(snap.open_until_ms - now) / 1000.0;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "service", c->service);
	cJSON_AddStringToObject(o, "state", fb_state_name(snap.state));
	cJSON_AddStringToObject(o, "health",
	                        fb_health_name(fb_client_health(c)));
	cJSON_AddNumberToObject(o, "failure_count", snap.consecutive_failures);
	cJSON_AddItemToObject(o, "last_failure",
	                      when(c, snap.last_failure_ms, now));
	if (last_error[0])
		cJSON_AddStringToObject(o, "last_error", last_error);
	else
		cJSON_AddNullToObject(o, "last_error");
	cJSON_AddItemToObject(o, "last_state_change",
	                      when(c, snap.last_change_ms, now));
	cJSON_AddNumberToObject(o, "retry_after_s", retry_after);
	cJSON_AddItemToObject(o, "latency_ms", latency(c));
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}
