/* The client's retry rules: see retry.h. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/retry.h"
#include "fusebox/breaker.h"

bool fb_retry_status(long status)
{
	return status == 429 || (status >= 500 && status <= 599);
}

static const char *const methods[] = {"GET",     "HEAD",  "PUT",  "DELETE",
                                      "OPTIONS", "TRACE", "POST", "PATCH"};
enum { FIRST_UNSAFE = 6 }; /* POST and PATCH */

static int method_index(const char *method)
{
	for (int i = 0; i < (int)(sizeof methods / sizeof methods[0]); i++) {
		if (strcmp(methods[i], method) == 0)
			return i;
	}
	return -1;
}

bool fb_http_method_known(const char *method)
{
	return method && method_index(method) >= 0;
}

bool fb_retry_method_ok(const char *method, bool has_key, bool unsafe_ok)
{
	int i = method_index(method);
	if (i < 0)
		return false;
	return i < FIRST_UNSAFE || has_key || unsafe_ok;
}

bool fb_header_present(const char *const *headers, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; headers && headers[i]; i++) {
		const char *h = headers[i];
		if (strncasecmp(h, name, n) != 0 || h[n] != ':')
			continue;
		for (h += n + 1; *h == ' ' || *h == '\t'; h++)
			;
		if (*h)
			return true;
	}
	return false;
}

int64_t fb_retry_wait(int64_t delay_ms, int retry, double jitter, double u)
{
	const int64_t cap = INT64_MAX / 4;
	if (delay_ms <= 0)
		return 0;
	int64_t base = delay_ms;
	for (int i = 0; i < retry && base < cap / 2; i++)
		base *= 2;
	return fb_backoff_jitter(base, jitter, u, cap);
}

int64_t fb_retry_after_seconds(const char *value, size_t len)
{
	while (len > 0 && (*value == ' ' || *value == '\t')) {
		value++;
		len--;
	}
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t' ||
	                   value[len - 1] == '\r' || value[len - 1] == '\n'))
		len--;
	if (len == 0 || len > 9) /* over 30 years: not seconds we honour */
		return -1;
	int64_t s = 0;
	for (size_t i = 0; i < len; i++) {
		if (value[i] < '0' || value[i] > '9')
			return -1;
		s = s * 10 + (value[i] - '0');
	}
	return s * 1000;
}

void fb_budget_init(fb_retry_budget *b, int percent, int floor_per_s)
{
	memset(b, 0, sizeof *b);
	b->percent = percent;
	b->floor_per_s = floor_per_s;
	for (int i = 0; i < FB_BUDGET_WINDOW_S; i++)
		b->slot[i].second = -1;
}

/* The slot of this second, emptied when it last counted an older one. */
static fb_budget_slot *slot_of(fb_retry_budget *b, int64_t now_ms)
{
	int64_t sec = now_ms / 1000;
	fb_budget_slot *s = &b->slot[sec % FB_BUDGET_WINDOW_S];
	if (s->second != sec)
		*s = (fb_budget_slot){sec, 0, 0};
	return s;
}

void fb_budget_call(fb_retry_budget *b, int64_t now_ms)
{
	slot_of(b, now_ms)->calls++;
}

bool fb_budget_take(fb_retry_budget *b, int64_t now_ms, bool degraded)
{
	int64_t sec = now_ms / 1000;
	uint64_t calls = 0, retries = 0;
	fb_budget_slot *now = slot_of(b, now_ms);
	for (int i = 0; i < FB_BUDGET_WINDOW_S; i++) {
		if (b->slot[i].second > sec - FB_BUDGET_WINDOW_S) {
			calls += b->slot[i].calls;
			retries += b->slot[i].retries;
		}
	}
	/* in hundredths of a retry, so 20% of 3 calls is not 0 */
	uint64_t allowed = (uint64_t)b->floor_per_s * FB_BUDGET_WINDOW_S * 100 +
	                   calls * (uint64_t)b->percent;
	if (degraded)
		allowed /= 2;
	if ((retries + 1) * 100 > allowed)
		return false;
	now->retries++;
	return true;
}
