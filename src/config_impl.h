/* Private to the configuration loader: the tunables table's helpers,
 * what a [dep] section said before it is resolved, and the environment
 * overrides. */
#ifndef FB_CONFIG_IMPL_H
#define FB_CONFIG_IMPL_H

#include "fusebox/config.h"

/* The keys of [fusebox], [redis] and [dep NAME] other than the tunables.
 * The parser switches on these ids, so a key is accepted exactly when it
 * has a row here; the man page's drift test reads the same names.
 *  id                  key */
#define FB_FUSEBOX_KEY_TABLE(X)                                                \
	X(LOG, "log")                                                          \
	X(METRICS_FILE, "metrics_file")                                        \
	X(CONTROL_SOCKET, "control_socket")                                    \
	X(CONTROL_GROUP, "control_group")                                      \
	X(CONTROL_MODE, "control_mode")                                        \
	X(THEME, "theme")                                                      \
	X(HOST, "host")                                                        \
	X(LOG_MAX_SIZE, "log_max_size")                                        \
	X(LOG_KEEP, "log_keep")                                                \
	X(GATE_OVERRIDE_TTL, "gate_override_ttl")
#define FB_REDIS_KEY_TABLE(X)                                                  \
	X(URL, "url")                                                          \
	X(PREFIX, "prefix")                                                    \
	X(PASSWORD_FILE, "password_file")                                      \
	X(SERVICE, "service")                                                  \
	X(USER, "user")                                                        \
	X(STALE_AFTER, "stale_after")                                          \
	X(QUORUM, "quorum")                                                    \
	X(QUORUM_WINDOW, "quorum_window")                                      \
	X(STREAM_MAX_LEN, "stream_max_len")
#define FB_DEP_KEY_TABLE(X)                                                    \
	X(KIND, "kind")                                                        \
	X(URL, "url")                                                          \
	X(HOST, "host")                                                        \
	X(PORT, "port")                                                        \
	X(PROTOCOL, "protocol")                                                \
	X(HEALTH_PATH, "health_path")                                          \
	X(EXPECT_STATUS, "expect_status")                                      \
	X(CRITICAL, "critical")                                                \
	X(PRESET, "preset")                                                    \
	X(ENV_PREFIX, "env_prefix")                                            \
	X(PASSWORD_FILE, "password_file")

#define FB_X_FK(id, key) FB_FK_##id,
#define FB_X_RK(id, key) FB_RK_##id,
#define FB_X_DK(id, key) FB_DK_##id,
/* ..._COUNT also means "no such key". */
typedef enum { FB_FUSEBOX_KEY_TABLE(FB_X_FK) FB_FK_COUNT } fb_fusebox_key;
typedef enum { FB_REDIS_KEY_TABLE(FB_X_RK) FB_RK_COUNT } fb_redis_key;
typedef enum { FB_DEP_KEY_TABLE(FB_X_DK) FB_DK_COUNT } fb_dep_key;
#undef FB_X_FK
#undef FB_X_RK
#undef FB_X_DK

extern const char *const fb_fusebox_keys[FB_FK_COUNT];
extern const char *const fb_redis_keys[FB_RK_COUNT];
extern const char *const fb_dep_keys[FB_DK_COUNT];

/* What [dep NAME] said, before layers and environment are applied. */
typedef struct dep_raw {
	fb_dep_config c;
	fb_tunables file;
	bool has_kind, has_port, has_critical, has_expect;
	char protocol[16];
	int line, url_line, preset_line, kind_line, key_line;
	unsigned seen; /* keys given, 1 << FB_DK_... */
} dep_raw;

/* The tunable named `key`; false when there is none. */
bool fb_tunable_find(const char *key, fb_tunable *out);
/* Parses a value for t, range-checked. Returns 0 or -1 with *why. */
int fb_tunable_parse(fb_tunable t, const char *value, int64_t *out,
                     const char **why);
/* The built-in default of t. */
int64_t fb_tunable_default(fb_tunable t);
void fb_tunables_set(fb_tunables *t, fb_tunable k, int64_t v);

typedef const char *(*fb_getenv_fn)(const char *name);

/* Environment overrides (SPEC 5): the first error, naming the variable,
 * goes to *err and sets `failed`. */
typedef struct fb_env_ctx {
	fb_getenv_fn get;
	fb_error *err;
	bool failed;
} fb_env_ctx;

/* P_TIMEOUT, P_MAX_RETRIES, P_RETRY_DELAY, P_FAILURE_THRESHOLD and
 * P_RECOVERY_TIMEOUT over the dependency's resolved tunables. */
void fb_env_tunables_apply(fb_env_ctx *e, dep_raw *r);
/* P_URL / P_BASE_URL, then P_HOST, P_PORT, P_PROTOCOL over the file. */
void fb_env_address_apply(fb_env_ctx *e, dep_raw *r);
/* A dependency that no file names, for the C client: built-in defaults,
 * then `preset`, then `given`, then the environment under env_prefix
 * (NULL: none) read through getenv_fn (NULL: getenv). */
typedef struct fb_standalone {
	const char *name, *env_prefix, *preset, *url; /* may be NULL but name */
	fb_tunables given;
	fb_getenv_fn getenv_fn;
} fb_standalone;
/* Returns 0 with *out resolved (url as the loader normalises it) and the
 * path of the URL given (or "") in path; -1 with *err naming what is wrong
 * (a bad environment variable by its name). */
int fb_dep_standalone(const fb_standalone *s, fb_dep_config *out, char *path,
                      size_t len, fb_error *err);
/* Is v a value t may take? Returns 0, or -1 with *why. */
int fb_tunable_check(fb_tunable t, int64_t v, const char **why);

/* The suffixes (TIMEOUT, URL, ...) of every override the two functions
 * above read, i = 0, 1, ... in turn; NULL past the last. */
const char *fb_env_override_suffix(size_t i);

#endif
