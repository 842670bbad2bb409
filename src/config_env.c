/* Environment overrides for a dependency with env_prefix = P (SPEC 5):
 * the highest precedence, and every error names the variable. */
#include <stdio.h>
#include <string.h>

#include "config_impl.h"
#include "core/parse.h"

static void env_fail(fb_env_ctx *e, const char *var, const char *why,
                     const char *value)
{
	if (e->failed)
		return;
	e->failed = true;
	if (value[0])
		snprintf(e->err->text, sizeof e->err->text,
		         "environment variable %s: %s: '%.100s'", var, why,
		         value);
	else
		snprintf(e->err->text, sizeof e->err->text,
		         "environment variable %s: %s", var, why);
}

static const char *env_get(fb_env_ctx *e, const dep_raw *r, const char *suffix,
                           char *name, size_t len)
{
	if (!r->c.env_prefix[0])
		return NULL;
	snprintf(name, len, "%s_%s", r->c.env_prefix, suffix);
	const char *v = e->get(name);
	if (v && fb_control_char(v, strlen(v))) {
		env_fail(e, name, "control character in the value; refused",
		         "");
		return NULL;
	}
	return v && v[0] ? v : NULL;
}

static const struct {
	const char *suffix;
	fb_tunable t;
} env_tunables[] = {
    {"TIMEOUT", FB_T_TIMEOUT},
    {"MAX_RETRIES", FB_T_MAX_RETRIES},
    {"RETRY_DELAY", FB_T_RETRY_DELAY},
    {"FAILURE_THRESHOLD", FB_T_FAILURE_THRESHOLD},
    {"RECOVERY_TIMEOUT", FB_T_RECOVERY_TIMEOUT},
};

void fb_env_tunables_apply(fb_env_ctx *e, dep_raw *r)
{
	char var[128];
	const char *why;
	for (size_t i = 0; i < sizeof env_tunables / sizeof env_tunables[0];
	     i++) {
		const char *v =
		    env_get(e, r, env_tunables[i].suffix, var, sizeof var);
		int64_t x;
		if (!v)
			continue;
		if (fb_tunable_parse(env_tunables[i].t, v, &x, &why) != 0) {
			env_fail(e, var, why, v);
			return;
		}
		r->c.t[env_tunables[i].t] = x;
		r->c.source[env_tunables[i].t] = FB_SRC_ENV;
	}
}

/* The address overrides: P_BASE_URL, P_URL (which wins over it), P_HOST,
 * P_PORT, P_PROTOCOL. */
#define ENV_ADDRESS_TABLE(X)                                                   \
	X(BASE_URL, "BASE_URL")                                                \
	X(URL, "URL") X(HOST, "HOST") X(PORT, "PORT") X(PROTOCOL, "PROTOCOL")
#define X_ID(id, suffix) ENV_##id,
enum { ENV_ADDRESS_TABLE(X_ID) ENV_ADDRESS_COUNT };
#undef X_ID
#define X_NAME(id, suffix) suffix,
static const char *const env_address[] = {ENV_ADDRESS_TABLE(X_NAME)};
#undef X_NAME

const char *fb_env_override_suffix(size_t i)
{
	size_t ntunables = sizeof env_tunables / sizeof env_tunables[0];
	if (i < ntunables)
		return env_tunables[i].suffix;
	i -= ntunables;
	return i < ENV_ADDRESS_COUNT ? env_address[i] : NULL;
}

/* URL, host, port and protocol from the environment, over the file. */
void fb_env_address_apply(fb_env_ctx *e, dep_raw *r)
{
	char var[128];
	const char *v;
	const char *why;
	int64_t port;
	for (size_t i = ENV_BASE_URL; i <= ENV_URL; i++) { /* URL wins */
		if ((v = env_get(e, r, env_address[i], var, sizeof var))) {
			fb_url u;
			if (strlen(v) >= sizeof r->c.url ||
			    fb_url_parse(v, &u, &why) != 0) {
				env_fail(e, var, "bad URL", v);
				return;
			}
			snprintf(r->c.url, sizeof r->c.url, "%s", v);
			r->c.url_source = FB_SRC_ENV;
			/* the whole address now comes from here, not from the file */
			r->c.host[0] = '\0';
			r->protocol[0] = '\0';
			r->has_port = false;
		}
	}
	if ((v = env_get(e, r, env_address[ENV_HOST], var, sizeof var))) {
		if (strlen(v) >= sizeof r->c.host || strpbrk(v, " /:@?#")) {
			env_fail(e, var, "bad host name", v);
			return;
		}
		snprintf(r->c.host, sizeof r->c.host, "%s", v);
		r->c.url_source = FB_SRC_ENV;
	}
	if ((v = env_get(e, r, env_address[ENV_PORT], var, sizeof var))) {
		if (fb_parse_int(v, 1, 65535, &port, &why) != 0) {
			env_fail(e, var, why, v);
			return;
		}
		r->c.port = (int)port;
		r->has_port = true;
		r->c.url_source = FB_SRC_ENV;
	}
	if ((v = env_get(e, r, env_address[ENV_PROTOCOL], var, sizeof var))) {
		if (strlen(v) >= sizeof r->protocol ||
		    fb_url_default_port(v) < 0) {
			env_fail(e, var,
			         "unknown protocol (http, https, redis, tcp)",
			         v);
			return;
		}
		snprintf(r->protocol, sizeof r->protocol, "%s", v);
		r->c.url_source = FB_SRC_ENV;
	}
}
