/* Configuration (SPEC section 5): the types every part reads, and the
 * loader that fills them from config.ini (inih) and the environment.
 *
 * Tunables -- the keys allowed in [defaults], [preset NAME] and [dep NAME]
 * -- are one X-macro table: name, type, built-in default, range, help.
 * Values are int64: durations in milliseconds, fractions in parts per
 * million, counts as they are. */
#ifndef FUSEBOX_CONFIG_H
#define FUSEBOX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fusebox/breaker.h"
#include "fusebox/state.h"

#define FB_MS_S 1000LL
#define FB_MS_M (60 * FB_MS_S)
#define FB_MS_H (60 * FB_MS_M)

/*  id                 key                  type      default       min  max */
#define FB_TUNABLE_TABLE(X)                                                    \
	X(INTERVAL, "interval", DURATION, 5 * FB_MS_S, 10, 24 * FB_MS_H,       \
	  "time between probes")                                               \
	X(TIMEOUT, "timeout", DURATION, 2 * FB_MS_S, 1, FB_MS_H,               \
	  "deadline of one probe or call")                                     \
	X(FAILURE_THRESHOLD, "failure_threshold", COUNT, 5, 0, 1000000,        \
	  "consecutive failures that open the breaker (0 = off)")              \
	X(FAILURE_RATE, "failure_rate", PERCENT, 0, 0, 100,                    \
	  "failure percentage over the window that opens it (0 = off)")        \
	X(WINDOW, "window", COUNT, 20, 1, 10000,                               \
	  "calls in the failure-rate window")                                  \
	X(MIN_CALLS, "min_calls", COUNT, 10, 1, 10000,                         \
	  "calls the failure-rate rule needs before it applies")               \
	X(RECOVERY_TIMEOUT, "recovery_timeout", DURATION, 60 * FB_MS_S, 1,     \
	  24 * FB_MS_H, "first open wait")                                     \
	X(BACKOFF_CAP, "backoff_cap", DURATION, 10 * FB_MS_M, 1,               \
	  7 * 24 * FB_MS_H, "longest open wait")                               \
	X(JITTER, "jitter", FRACTION, 200000, 0, 1000000,                      \
	  "+- fraction applied to each open wait")                             \
	X(HALF_OPEN_PROBES, "half_open_probes", COUNT, 1, 1, 100,              \
	  "trial probes in flight while half-open")                            \
	X(SUCCESS_THRESHOLD, "success_threshold", COUNT, 1, 1, 1000,           \
	  "trial successes that close the breaker")                            \
	X(SLOW_CALL, "slow_call", DURATION, 1 * FB_MS_S, 1, FB_MS_H,           \
	  "a call slower than this counts as slow")                            \
	X(STARTUP_GRACE, "startup_grace", DURATION, 0, 0, FB_MS_H,             \
	  "after the start, failures are counted but do not open it")          \
	X(MAX_RETRIES, "max_retries", COUNT, 3, 0, 100,                        \
	  "retries of a call (fusebox call, the C client)")                    \
	X(RETRY_DELAY, "retry_delay", DURATION, 1 * FB_MS_S, 0, FB_MS_H,       \
	  "first retry wait; doubles each retry, with jitter")

#define FB_X_TUNABLE_ID(id, key, type, def, lo, hi, help) FB_T_##id,
typedef enum { FB_TUNABLE_TABLE(FB_X_TUNABLE_ID) FB_TUNABLE_COUNT } fb_tunable;
#undef FB_X_TUNABLE_ID

typedef enum {
	FB_VT_DURATION,
	FB_VT_COUNT,
	FB_VT_PERCENT,
	FB_VT_FRACTION
} fb_value_type;

/* Where an effective value came from, weakest first. */
#define FB_SOURCE_TABLE(X)                                                     \
	X(BUILTIN, "built-in")                                                 \
	X(DEFAULTS, "[defaults]") X(PRESET, "preset") X(FILE, "file")          \
	    X(ENV, "environment")
#define FB_X_SOURCE(id, name) FB_SRC_##id,
typedef enum { FB_SOURCE_TABLE(FB_X_SOURCE) FB_SRC_COUNT } fb_source;
#undef FB_X_SOURCE

/* One layer of tunables: the values it sets, and which ones it sets. */
typedef struct fb_tunables {
	int64_t v[FB_TUNABLE_COUNT];
	uint32_t set; /* bit i: v[i] was given */
} fb_tunables;

typedef struct fb_preset {
	char name[64];
	fb_tunables t;
} fb_preset;

#define FB_NAME_MAX 64
#define FB_URL_MAX  512

typedef struct fb_dep_config {
	char name[FB_NAME_MAX];
	fb_kind kind;
	char url
	    [FB_URL_MAX]; /* effective, normalised: scheme://host:port/path */
	char scheme[16];
	char host[256];
	int port;
	char health_path[256]; /* http: path probed */
	int redis_db;
	int expect_lo, expect_hi; /* http: accepted status range */
	bool critical;
	char preset[64];
	char env_prefix[64];
	char password_file[256];     /* redis: AUTH password, read at connect */
	int64_t t[FB_TUNABLE_COUNT]; /* effective tunables */
	fb_source source[FB_TUNABLE_COUNT]; /* where each came from */
	/* shadow.KEY = VALUE: the breaker tunables a shadow breaker runs
	 * with (the others as above); none set = no shadow */
	fb_tunables shadow;
	fb_source url_source;
	int line; /* line of its [dep] header */
} fb_dep_config;

typedef struct fb_redis_config {
	bool enabled;
	char url[FB_URL_MAX];
	char prefix[64];
	char password_file[256]; /* AUTH password; else the environment */
	char service[64];        /* the fleet: instances sharing one view */
	char user[64];           /* ACL user; "" = the default user */
	int64_t stale_after_ms;  /* an older fleet view blocks the fleet gate */
	int quorum;              /* instances that must see a dep down */
	int64_t quorum_window_ms; /* how long a "down" vote counts */
	int64_t stream_max_len;   /* XADD MAXLEN ~ N of the event stream */
} fb_redis_config;

typedef struct fb_config {
	char path[512]; /* the file it came from */
	char log[512];
	char metrics_file[512]; /* Prometheus textfile (*.prom); "" = none */
	char control_socket[512];
	bool control_socket_default; /* not configured: the server may create
	                                its private folder */
	int control_mode;       /* socket permission bits, default 0600 */
	char control_group[64]; /* optional group owner of the socket */
	char theme[64];
	char host[256];
	int64_t log_max_size; /* bytes; 0 = never rotate */
	int log_keep;         /* rotated files kept */
	int64_t gate_override_ttl_ms;
	fb_tunables defaults;
	fb_preset *presets; /* user presets, then the built-ins */
	size_t npresets;
	fb_dep_config *deps;
	size_t ndeps;
	fb_redis_config redis;
	struct {
		int log, control_socket, control_group, control_mode;
	} line; /* where the [fusebox] keys were set; 0 = not set */
} fb_config;

/* A message for the user, already carrying "file:line: " where one
 * applies; print it as "fusebox: <text>". */
typedef struct fb_error {
	char text[1024];
	/* Set by the HTTP client's FB_E_UNAVAILABLE (fusebox/client.h): the
	 * time until its breaker lets a call go (0: a trial call is out and
	 * decides; -1: only an operator can help), and the breaker's state. */
	int64_t retry_after_ms;
	fb_state state;
} fb_error;

/* Loads a config file and applies environment overrides (through
 * `getenv_fn`, normally getenv). Returns 0, or -1 with *err set; on error
 * *cfg is left empty. Free with fb_config_free(). */
int fb_config_load(const char *path, fb_config *cfg, fb_error *err,
                   const char *(*getenv_fn)(const char *name));

/* The file to read: `explicit` if given, else $FUSEBOX_CONFIG,
 * $XDG_CONFIG_HOME/fusebox/config.ini, /etc/fusebox/config.ini.
 * Returns 0, or -1 with *err set when none exists. */
int fb_config_locate(const char *explicit_path, char *out, size_t len,
                     fb_error *err);

void fb_config_free(fb_config *cfg);

/* What only the instance's own machine can tell, checked by `run` (and
 * the console's engine) and `check-config` alike, but not by the commands
 * that only ask an instance: the event log is a file (or can be created)
 * in an existing folder, and is not the control socket; the socket's
 * folder exists (the default one is created by the instance) and its path
 * fits a sockaddr_un; control_group exists. Returns 0, or -1 with *err
 * naming the file and line. */
int fb_config_check_paths(const fb_config *cfg, fb_error *err);

/* Table lookups. */
const char *fb_tunable_key(fb_tunable t);
const char *fb_tunable_help(fb_tunable t);
fb_value_type fb_tunable_type(fb_tunable t);
const char *fb_source_name(fb_source s);

/* Formats a tunable value the way the config file writes it
 * ("250ms", "2m", "0.2", "5"). */
void fb_tunable_format(fb_tunable t, int64_t v, char *buf, size_t len);

/* Builds the breaker tuning from a dependency's tunables. */
void fb_dep_breaker_config(const fb_dep_config *d, fb_breaker_config *out);

/* The same with its shadow.KEY settings over them; false (and *out
 * untouched) when it has none. */
bool fb_dep_shadow_config(const fb_dep_config *d, fb_breaker_config *out);

/* Is t a breaker tunable (what shadow.KEY and replay --what-if accept)? */
bool fb_tunable_is_breaker(fb_tunable t);

#endif
