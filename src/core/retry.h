/* The client's retry rules (SPEC section 9), pure: what may be retried,
 * how long to wait, and the retry budget that keeps a fleet of clients
 * from multiplying an outage. No clock and no randomness of its own:
 * time and uniform values come in as arguments. */
#ifndef FB_CORE_RETRY_H
#define FB_CORE_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A status that is worth another attempt: 429 and every 5xx. */
bool fb_retry_status(long status);

/* May a request with this method be sent twice? GET, HEAD, PUT, DELETE,
 * OPTIONS and TRACE are idempotent (RFC 9110 9.2.2); POST and PATCH only
 * when the request carries an Idempotency-Key (has_key) or the caller
 * allows it (unsafe_ok). */
bool fb_retry_method_ok(const char *method, bool has_key, bool unsafe_ok);

/* Is `method` one of the HTTP methods we send (upper case, RFC 9110 and
 * PATCH)? */
bool fb_http_method_known(const char *method);

/* Does the header list (NULL-terminated "Name: value" lines) hold a
 * header called `name` (case-insensitive) with a non-empty value? */
bool fb_header_present(const char *const *headers, const char *name);

/* The wait before retry number `retry` (0 for the first): delay_ms
 * doubled `retry` times, with +-jitter applied from the uniform value u
 * in [0, 1). A delay of 0 means no wait. Never overflows. */
int64_t fb_retry_wait(int64_t delay_ms, int retry, double jitter, double u);

/* A Retry-After value in seconds ("120") as milliseconds; -1 when the
 * value is not a whole number of seconds (it may be an HTTP date, which
 * the adapter reads). */
int64_t fb_retry_after_seconds(const char *value, size_t len);

/* The retry budget, after Finagle's RetryBudget: over the last
 * FB_BUDGET_WINDOW_S seconds, retries may be at most `percent` % of
 * calls plus `floor_per_s` a second. While the dependency is degraded
 * both halve, so a struggling dependency receives fewer retries, not
 * more. Not thread-safe: the caller holds a lock. */
#define FB_BUDGET_WINDOW_S 10
typedef struct fb_budget_slot {
	int64_t second; /* which second this slot counts; -1 = none */
	uint32_t calls, retries;
} fb_budget_slot;
typedef struct fb_retry_budget {
	int percent, floor_per_s;
	fb_budget_slot slot[FB_BUDGET_WINDOW_S];
} fb_retry_budget;

void fb_budget_init(fb_retry_budget *b, int percent, int floor_per_s);
/* A call was made (each call once, whatever its retries). */
void fb_budget_call(fb_retry_budget *b, int64_t now_ms);
/* May one more retry go now? Yes takes it from the budget. */
bool fb_budget_take(fb_retry_budget *b, int64_t now_ms, bool degraded);

#endif
