/* Names shared by every part of fusebox: breaker states, health, probe kinds.
 *
 * Each list is one X-macro table, so the enum, its names and its help text
 * cannot drift apart. */
#ifndef FUSEBOX_STATE_H
#define FUSEBOX_STATE_H

#include <stdbool.h>

#define FB_STATE_TABLE(X)                                                      \
	X(CLOSED, "closed", "calls and probes pass; failures are counted")     \
	X(OPEN, "open", "calls rejected with a retry-after; no probes yet")    \
	X(HALF_OPEN, "half_open", "trial probes decide: close or re-open")     \
	X(FORCED_OPEN, "forced_open", "tripped by an operator until reset")    \
	X(FORCED_CLOSED, "forced_closed", "disabled by an operator; calls pass")

#define FB_HEALTH_TABLE(X)                                                     \
	X(HEALTHY, "healthy", "answering within limits")                       \
	X(DEGRADED, "degraded", "recent failures, half-open, or slow")         \
	X(UNKNOWN, "unknown", "no outcome yet since the instance started")     \
	X(UNHEALTHY, "unhealthy", "open or forced open")

#define FB_KIND_TABLE(X)                                                       \
	X(HTTP, "http", "HTTP GET of health_path, status in expect_status")    \
	X(REDIS, "redis", "Redis PING answered with PONG")                     \
	X(TCP, "tcp", "TCP connect")

#define FB_X_STATE(id, name, help)  FB_STATE_##id,
#define FB_X_HEALTH(id, name, help) FB_HEALTH_##id,
#define FB_X_KIND(id, name, help)   FB_KIND_##id,

typedef enum { FB_STATE_TABLE(FB_X_STATE) FB_STATE_COUNT } fb_state;
/* Ordered from best to worst, so max() gives the worse of two. Unknown (no
 * evidence yet: the gate blocks on it) ranks above degraded (answering,
 * with trouble) and below unhealthy (known to be down). */
typedef enum { FB_HEALTH_TABLE(FB_X_HEALTH) FB_HEALTH_COUNT } fb_health;
typedef enum { FB_KIND_TABLE(FB_X_KIND) FB_KIND_COUNT } fb_kind;

#undef FB_X_STATE
#undef FB_X_HEALTH
#undef FB_X_KIND

/* Names as they appear in the log, the socket and the config.
 * Out-of-range values give "?". */
const char *fb_state_name(fb_state s);
const char *fb_health_name(fb_health h);
const char *fb_kind_name(fb_kind k);
const char *fb_state_help(fb_state s);

/* Parse a name; returns false (and leaves *out alone) when unknown. */
bool fb_state_parse(const char *name, fb_state *out);
bool fb_health_parse(const char *name, fb_health *out);
bool fb_kind_parse(const char *name, fb_kind *out);

#endif
