/* Environment overrides for a dependency with env_prefix = P (SPEC 5):
 * the highest precedence, and every error names the variable. */
#include <stdio.h>
#include <string.h>

#include "config_impl.h"
#include "core/parse.h"

static const char *env_get(fb_env_ctx *e, const dep_raw *r, const char *suffix,
                           char *name, size_t len)
{
	if (!r->c.env_prefix[0])
		return NULL;
	snprintf(name, len, "%s_%s", r->c.env_prefix, suffix);
	const char *v = e->get(name);
	return v && v[0] ? v : NULL;
}

static void env_fail(fb_env_ctx *e, const char *var, const char *why,
                     const char *value)
{
	if (e->failed)
		return;
	e->failed = true;
	snprintf(e->err->text, sizeof e->err->text,
	         "environment variable %s: %s: '%.100s'", var, why, value);
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

/* URL, host, port and protocol from the environment, over the file. */
void fb_env_address_apply(fb_env_ctx *e, dep_raw *r)
{
	char var[128];
	const char *v;
	const char *why;
	int64_t port;
	const char *url_keys[] = {"BASE_URL", "URL"}; /* URL wins */
	for (size_t i = 0; i < 2; i++) {
		if ((v = env_get(e, r, url_keys[i], var, sizeof var))) {
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
	if ((v = env_get(e, r, "HOST", var, sizeof var))) {
		if (strlen(v) >= sizeof r->c.host || strpbrk(v, " /:@?#")) {
			env_fail(e, var, "bad host name", v);
			return;
		}
		snprintf(r->c.host, sizeof r->c.host, "%s", v);
		r->c.url_source = FB_SRC_ENV;
	}
	if ((v = env_get(e, r, "PORT", var, sizeof var))) {
		if (fb_parse_int(v, 1, 65535, &port, &why) != 0) {
			env_fail(e, var, why, v);
			return;
		}
		r->c.port = (int)port;
		r->has_port = true;
		r->c.url_source = FB_SRC_ENV;
	}
	if ((v = env_get(e, r, "PROTOCOL", var, sizeof var))) {
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
