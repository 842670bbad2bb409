/* The configuration loader (src/config.c, src/config_env.c, inih through
 * src/inireader.c) on any file and environment, then an engine built
 * from what it accepted.
 *
 * Input: the file's text, then optionally a NUL byte and the environment
 * as NAME=VALUE lines (what getenv answers; only these names exist).
 *
 * A refusal has a message naming the file (or the variable) and leaves
 * the config empty; an accepted config has only well-formed names and
 * addresses and every tunable in its range. */
#include <stdbool.h>

#include "config_impl.h"
#include "core/parse.h"
#include "fusebox/engine.h"
#include "fuzz.h"

#define MAX_VARS 32

static char *env_text;
static const char *names[MAX_VARS], *values[MAX_VARS];
static size_t nvars;

static const char *fuzz_getenv(const char *name)
{
	for (size_t i = 0; i < nvars; i++) {
		if (strcmp(names[i], name) == 0)
			return values[i];
	}
	return NULL;
}

static void parse_env(const uint8_t *data, size_t size)
{
	free(env_text);
	env_text = fuzz_str(data, size);
	nvars = 0;
	for (char *line = env_text; *line && nvars < MAX_VARS;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *eq = strchr(line, '=');
		if (eq) {
			*eq = '\0';
			names[nvars] = line;
			values[nvars++] = eq + 1;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
}

static void no_events(void *ctx, const fb_event *ev)
{
	(void)ctx;
	(void)ev;
}

static void check_dep(const fb_dep_config *d)
{
	fb_url u;
	const char *why;
	FUZZ_CHECK(d->name[0] && strlen(d->name) < FB_NAME_MAX);
	FUZZ_CHECK(strspn(d->name, "abcdefghijklmnopqrstuvwxyz"
	                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
	           strlen(d->name));
	FUZZ_CHECK((unsigned)d->kind < FB_KIND_COUNT);
	FUZZ_CHECK(d->port >= 1 && d->port <= 65535);
	FUZZ_CHECK(d->expect_lo >= 100 && d->expect_lo <= d->expect_hi &&
	           d->expect_hi <= 599);
	if (fb_url_parse(d->url, &u, &why) != 0) {
		fprintf(stderr, "dep %s: effective url '%s' is refused: %s\n",
		        d->name, d->url, why);
		abort();
	}
	FUZZ_CHECK(u.port == d->port && strcmp(u.scheme, d->scheme) == 0 &&
	           strcmp(u.host, d->host) == 0);
	FUZZ_CHECK(d->kind == (strcmp(d->scheme, "redis") == 0 ? FB_KIND_REDIS
	                       : strcmp(d->scheme, "tcp") == 0 ? FB_KIND_TCP
	                                                       : FB_KIND_HTTP));
	for (int t = 0; t < FB_TUNABLE_COUNT; t++) {
		char buf[64];
		int64_t v;
		fb_tunable_format((fb_tunable)t, d->t[t], buf, sizeof buf);
		if (fb_tunable_parse((fb_tunable)t, buf, &v, &why) != 0 ||
		    v != d->t[t]) {
			fprintf(stderr,
			        "dep %s: %s = %lld ('%s') is out of "
			        "its range\n",
			        d->name, fb_tunable_key((fb_tunable)t),
			        (long long)d->t[t], buf);
			abort();
		}
		FUZZ_CHECK((unsigned)d->source[t] < FB_SRC_COUNT);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t text = nul ? (size_t)(nul - data) : size;
	parse_env(nul ? nul + 1 : data + size, nul ? size - text - 1 : 0);
	const char *path = fuzz_write("config.ini", data, text);
	fb_config cfg;
	fb_error err = {0};
	if (fb_config_load(path, &cfg, &err, fuzz_getenv) != 0) {
		FUZZ_CHECK(err.text[0]);
		FUZZ_CHECK(strncmp(err.text, path, strlen(path)) == 0 ||
		           strncmp(err.text, "environment variable ", 21) == 0);
		FUZZ_CHECK(!cfg.deps && !cfg.presets && cfg.ndeps == 0);
		return 0;
	}
	FUZZ_CHECK(cfg.log[0] && cfg.control_socket[0] && cfg.host[0]);
	FUZZ_CHECK(cfg.log_keep >= 1 && cfg.log_max_size >= 0);
	FUZZ_CHECK(cfg.gate_override_ttl_ms >= 1000);
	FUZZ_CHECK((cfg.control_mode & 0600) == 0600 &&
	           cfg.control_mode <= 0777);
	for (size_t i = 0; i < cfg.ndeps; i++) {
		check_dep(&cfg.deps[i]);
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(cfg.deps[i].name, cfg.deps[k].name));
	}
	if (cfg.redis.enabled) {
		fb_url u;
		const char *why;
		FUZZ_CHECK(fb_url_parse(cfg.redis.url, &u, &why) == 0 &&
		           strcmp(u.scheme, "redis") == 0);
	}
	fb_engine e;
	FUZZ_CHECK(fb_engine_init(&e, &cfg, 1, 0, no_events, NULL) == 0);
	FUZZ_CHECK(e.reg.count == cfg.ndeps);
	for (size_t i = 0; i < cfg.ndeps; i++)
		FUZZ_CHECK(fb_registry_find(&e.reg, cfg.deps[i].name) ==
		           &e.reg.deps[i]);
	fb_engine_free(&e);
	fb_config_free(&cfg);
	return 0;
}
