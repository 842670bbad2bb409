/* Private to the configuration loader: the tunables table's helpers,
 * what a [dep] section said before it is resolved, and the environment
 * overrides. */
#ifndef FB_CONFIG_IMPL_H
#define FB_CONFIG_IMPL_H

#include "fusebox/config.h"

/* What [dep NAME] said, before layers and environment are applied. */
typedef struct dep_raw {
	fb_dep_config c;
	fb_tunables file;
	bool has_kind, has_port, has_critical, has_expect;
	char protocol[16];
	int line, url_line, preset_line, kind_line, key_line;
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

#endif
