/* Loading config.ini (SPEC section 5) with inih, then the environment.
 *
 * inih does the key = value splitting. Our line reader sits in front of it
 * to count lines, refuse lines longer than inih can hold (Debian's inih
 * would silently cut them at 200 bytes) and see section headers as they
 * come, so that even an empty section is checked. Values are resolved in
 * layers, weakest first: built-in, [defaults], preset, [dep], environment.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_impl.h"
#include "core/parse.h"
#include "fusebox/config.h"
#include "inireader.h"

/* ---- the parse context ------------------------------------------------- */

typedef enum {
	SEC_NONE,
	SEC_FUSEBOX,
	SEC_DEFAULTS,
	SEC_PRESET,
	SEC_DEP,
	SEC_REDIS
} section_kind;

typedef struct parse_ctx {
	fb_config *cfg;
	fb_error *err;
	const char *file;
	fb_ini_reader reader;
	int line;
	bool failed;
	int redis_line;                    /* of the [redis] header */
	unsigned seen_sections;            /* 1 << SEC_FUSEBOX ...: each once */
	unsigned seen_fusebox, seen_redis; /* keys given, 1 << FB_FK_... */
	section_kind sec;
	fb_tunables *tun; /* the layer the current section writes */
	dep_raw *raw;     /* growable: one per [dep] */
	size_t nraw, capraw;
} parse_ctx;

static void fail(parse_ctx *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records the first error, prefixed with file:line. */
static void fail(parse_ctx *p, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = true;
	int n = p->file ? snprintf(p->err->text, sizeof p->err->text,
	                           "%s:%d: ", p->file, p->line)
	                : 0; /* no file: fb_dep_standalone() */
	if (n < 0 || (size_t)n >= sizeof p->err->text)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err->text + n, sizeof p->err->text - (size_t)n, fmt, ap);
	va_end(ap);
}

static void *grow(void *ptr, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return ptr;
	size_t n = *cap ? *cap * 2 : 8;
	while (n < need)
		n *= 2;
	void *q = realloc(ptr, n * size);
	if (q) {
		memset((char *)q + *cap * size, 0, (n - *cap) * size);
		*cap = n;
	}
	return q;
}

/* ---- sections ---------------------------------------------------------- */

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= FB_NAME_MAX)
		return false;
	for (; *s; s++) {
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && *s != '-' && *s != '_' &&
		    *s != '.')
			return false;
	}
	return true;
}

static void begin_preset(parse_ctx *p, const char *name)
{
	fb_config *c = p->cfg;
	size_t cap = c->npresets;
	for (size_t i = 0; i < c->npresets; i++) {
		if (strcmp(c->presets[i].name, name) == 0) {
			fail(p, "duplicate preset '%s'", name);
			return;
		}
	}
	fb_preset *ps = realloc(c->presets, (cap + 1) * sizeof *ps);
	if (!ps) {
		fail(p, "out of memory");
		return;
	}
	c->presets = ps;
	memset(&ps[cap], 0, sizeof ps[cap]);
	snprintf(ps[cap].name, sizeof ps[cap].name, "%s", name);
	c->npresets = cap + 1;
	p->tun = &ps[cap].t;
}

static void begin_dep(parse_ctx *p, const char *name)
{
	for (size_t i = 0; i < p->nraw; i++) {
		if (strcmp(p->raw[i].c.name, name) == 0) {
			fail(p,
			     "duplicate dependency '%s' (first defined on line "
			     "%d)",
			     name, p->raw[i].line);
			return;
		}
	}
	dep_raw *r = grow(p->raw, &p->capraw, p->nraw + 1, sizeof *r);
	if (!r) {
		fail(p, "out of memory");
		return;
	}
	p->raw = r;
	r = &p->raw[p->nraw++];
	snprintf(r->c.name, sizeof r->c.name, "%s", name);
	r->line = p->line;
	p->tun = &r->file;
}

/* A "[...]" line: sets the section the following keys belong to. */
static void begin_section(parse_ctx *p, const char *text, size_t len)
{
	char name[256];
	if (len >= sizeof name) {
		fail(p, "section name too long");
		return;
	}
	memcpy(name, text, len);
	name[len] = '\0';
	p->tun = NULL;
	const char *arg = strchr(name, ' ');
	if (arg)
		while (*arg == ' ')
			arg++;
	bool once = true; /* [fusebox], [defaults], [redis] */
	if (strcmp(name, "fusebox") == 0) {
		p->sec = SEC_FUSEBOX;
	} else if (strcmp(name, "defaults") == 0) {
		p->sec = SEC_DEFAULTS;
		p->tun = &p->cfg->defaults;
	} else if (strcmp(name, "redis") == 0) {
		p->sec = SEC_REDIS;
		p->cfg->redis.enabled = true;
		p->redis_line = p->line;
	} else {
		once = false;
	}
	if (once) {
		if (p->seen_sections & (1u << p->sec))
			fail(p, "section [%s] given twice", name);
		p->seen_sections |= 1u << p->sec;
	} else if (arg && strncmp(name, "preset ", 7) == 0) {
		p->sec = SEC_PRESET;
		if (!name_ok(arg))
			fail(p, "bad preset name '%s'", arg);
		else
			begin_preset(p, arg);
	} else if (arg && strncmp(name, "dep ", 4) == 0) {
		p->sec = SEC_DEP;
		if (!name_ok(arg))
			fail(p,
			     "bad dependency name '%s' (letters, digits, - _ . "
			     "only, "
			     "at most %d)",
			     arg, FB_NAME_MAX - 1);
		else
			begin_dep(p, arg);
	} else {
		fail(p, "unknown section [%s]", name);
	}
}

/* ---- keys -------------------------------------------------------------- */

#define X_NAME(id, key) key,
const char *const fb_fusebox_keys[] = {FB_FUSEBOX_KEY_TABLE(X_NAME)};
const char *const fb_redis_keys[] = {FB_REDIS_KEY_TABLE(X_NAME)};
const char *const fb_dep_keys[] = {FB_DEP_KEY_TABLE(X_NAME)};
#undef X_NAME

/* The index of key among names[0, n), or n when it is not there. */
static int key_index(const char *const *names, int n, const char *key)
{
	int i = 0;
	while (i < n && strcmp(names[i], key) != 0)
		i++;
	return i;
}

/* Marks key `index` of a section as given; false (after failing) when it
 * was already: a second value must not quietly win over the first. */
static bool first_time(parse_ctx *p, unsigned *seen, int index, const char *key)
{
	if (index >= 32 || !(*seen & (1u << index))) {
		*seen |= index < 32 ? 1u << index : 0;
		return true;
	}
	fail(p, "duplicate key '%s'", key);
	return false;
}

static void copy_value(parse_ctx *p, char *dst, size_t len, const char *value,
                       const char *key)
{
	if (strlen(value) >= len)
		fail(p, "%s is too long (at most %zu bytes)", key, len - 1);
	else
		memcpy(dst, value, strlen(value) + 1);
}

static bool builtin_value(const char *preset, fb_tunable t, int64_t *out,
                          bool *is_builtin);

/* A [preset fast] may restate a built-in preset's values (as SPEC 5's
 * example does) but not change them: "fast" must mean one thing on every
 * host. False, after failing, for a change. */
static bool keeps_builtin(parse_ctx *p, fb_tunable t, int64_t v)
{
	if (p->sec != SEC_PRESET || !p->cfg->npresets)
		return true;
	const char *name = p->cfg->presets[p->cfg->npresets - 1].name;
	int64_t want;
	bool builtin;
	bool has = builtin_value(name, t, &want, &builtin);
	if (!builtin || (has && want == v))
		return true;
	fail(p,
	     "preset '%s' is built in and %s is not one of its values: define "
	     "a preset of another name",
	     name, fb_tunable_key(t));
	return false;
}

static void set_tunable(parse_ctx *p, fb_tunable t, const char *value)
{
	const char *why;
	int64_t v;
	if (p->tun->set & (1u << t)) {
		fail(p, "duplicate key '%s'", fb_tunable_key(t));
		return;
	}
	if (fb_tunable_parse(t, value, &v, &why) != 0)
		fail(p, "%s: %s: '%s'", fb_tunable_key(t), why, value);
	else if (keeps_builtin(p, t, v))
		fb_tunables_set(p->tun, t, v);
}

/* node_exporter's textfile collector reads *.prom and nothing else. */
static void metrics_file(parse_ctx *p, const char *value)
{
	const char *base = strrchr(value, '/');
	size_t n = strlen(base ? base + 1 : value);
	if (n <= 5 || strcmp(value + strlen(value) - 5, ".prom") != 0)
		fail(p, "metrics_file must end in .prom");
	else
		copy_value(p, p->cfg->metrics_file, sizeof p->cfg->metrics_file,
		           value, "metrics_file");
}

static void key_fusebox(parse_ctx *p, const char *key, const char *value)
{
	fb_config *c = p->cfg;
	const char *why = NULL;
	int64_t v;
	char *end;
	long m;
	int k = key_index(fb_fusebox_keys, FB_FK_COUNT, key);
	if (k < FB_FK_COUNT && !first_time(p, &p->seen_fusebox, k, key))
		return;
	switch ((fb_fusebox_key)k) {
	case FB_FK_LOG:
		copy_value(p, c->log, sizeof c->log, value, key);
		c->line.log = p->line;
		break;
	case FB_FK_METRICS_FILE: metrics_file(p, value); break;
	case FB_FK_CONTROL_SOCKET:
		copy_value(p, c->control_socket, sizeof c->control_socket,
		           value, key);
		c->line.control_socket = p->line;
		break;
	case FB_FK_CONTROL_GROUP:
		copy_value(p, c->control_group, sizeof c->control_group, value,
		           key);
		c->line.control_group = p->line;
		break;
	case FB_FK_THEME:
		copy_value(p, c->theme, sizeof c->theme, value, key);
		break;
	case FB_FK_HOST:
		copy_value(p, c->host, sizeof c->host, value, key);
		break;
	case FB_FK_CONTROL_MODE:
		m = strtol(value, &end, 8);
		if (end == value || *end || m < 0 || m > 0777 ||
		    (m & 0600) != 0600)
			fail(p,
			     "control_mode: expected octal like 0600 or 0660: "
			     "'%s'",
			     value);
		else if (m & 0007)
			fail(p,
			     "control_mode %s lets every local user drive the "
			     "instance; use 0600, or 0660 with control_group",
			     value);
		else
			c->control_mode = (int)m;
		c->line.control_mode = p->line;
		break;
	case FB_FK_LOG_MAX_SIZE:
		if (fb_parse_size(value, &v, &why) != 0)
			fail(p, "log_max_size: %s: '%s'", why, value);
		else
			c->log_max_size = v;
		break;
	case FB_FK_LOG_KEEP:
		if (fb_parse_int(value, 1, 1000, &v, &why) != 0)
			fail(p, "log_keep: %s: '%s'", why, value);
		else
			c->log_keep = (int)v;
		break;
	case FB_FK_GATE_OVERRIDE_TTL:
		if (fb_parse_duration(value, &v, &why) != 0 || v < 1000)
			fail(p, "gate_override_ttl: %s: '%s'",
			     why ? why : "at least 1s", value);
		else
			c->gate_override_ttl_ms = v;
		break;
	case FB_FK_COUNT: fail(p, "unknown key '%s' in [fusebox]", key); break;
	}
}

/* The [redis] keys that tune the fleet (SPEC 8). */
static void key_fleet(parse_ctx *p, fb_redis_key k, const char *value)
{
	fb_redis_config *r = &p->cfg->redis;
	const char *key = fb_redis_keys[k], *why = NULL;
	int64_t v = 0;
	bool bad = false;
	switch (k) {
	case FB_RK_SERVICE:
		if (!value[0] || strpbrk(value, "{}:"))
			fail(p, "service: a name without '{', '}' or ':': '%s'",
			     value);
		else
			copy_value(p, r->service, sizeof r->service, value,
			           key);
		return;
	case FB_RK_USER:
		copy_value(p, r->user, sizeof r->user, value, key);
		return;
	case FB_RK_STALE_AFTER:
		bad = fb_parse_duration(value, &v, &why) != 0 || v < 1000;
		r->stale_after_ms = v;
		break;
	case FB_RK_QUORUM_WINDOW:
		bad = fb_parse_duration(value, &v, &why) != 0 || v < 1000;
		r->quorum_window_ms = v;
		break;
	case FB_RK_QUORUM:
		bad = fb_parse_int(value, 1, 1000, &v, &why) != 0;
		r->quorum = (int)v;
		break;
	default:
		bad = fb_parse_int(value, 1000, 100000000, &v, &why) != 0;
		r->stream_max_len = v;
		break;
	}
	if (bad)
		fail(p, "%s: %s: '%s'", key, why ? why : "at least 1s", value);
}

static void key_redis(parse_ctx *p, const char *key, const char *value)
{
	fb_redis_config *r = &p->cfg->redis;
	fb_url u;
	const char *why;
	int k = key_index(fb_redis_keys, FB_RK_COUNT, key);
	if (k < FB_RK_COUNT && !first_time(p, &p->seen_redis, k, key))
		return;
	switch ((fb_redis_key)k) {
	case FB_RK_URL:
		if (fb_url_parse(value, &u, &why) != 0)
			fail(p, "url: %s: '%s'", why, value);
		else if (strcmp(u.scheme, "redis") != 0)
			fail(p, "url: expected redis://host:port/db: '%s'",
			     value);
		else
			copy_value(p, r->url, sizeof r->url, value, key);
		break;
	case FB_RK_PREFIX:
		copy_value(p, r->prefix, sizeof r->prefix, value, key);
		break;
	case FB_RK_PASSWORD_FILE:
		copy_value(p, r->password_file, sizeof r->password_file, value,
		           key);
		break;
	case FB_RK_SERVICE:
	case FB_RK_USER:
	case FB_RK_STALE_AFTER:
	case FB_RK_QUORUM:
	case FB_RK_QUORUM_WINDOW:
	case FB_RK_STREAM_MAX_LEN: key_fleet(p, (fb_redis_key)k, value); break;
	case FB_RK_COUNT: fail(p, "unknown key '%s' in [redis]", key); break;
	}
}

static void key_dep(parse_ctx *p, dep_raw *r, const char *key,
                    const char *value)
{
	const char *why;
	int64_t v;
	int k = key_index(fb_dep_keys, FB_DK_COUNT, key);
	if (k < FB_DK_COUNT && !first_time(p, &r->seen, k, key))
		return;
	switch ((fb_dep_key)k) {
	case FB_DK_KIND:
		if (!fb_kind_parse(value, &r->c.kind))
			fail(p, "kind: expected http, redis or tcp: '%s'",
			     value);
		r->has_kind = true;
		r->kind_line = p->line;
		break;
	case FB_DK_URL:
		copy_value(p, r->c.url, sizeof r->c.url, value, key);
		r->url_line = p->line;
		r->c.url_source = FB_SRC_FILE;
		break;
	case FB_DK_HOST:
		if (!fb_host_ok(value))
			fail(p,
			     "host: a name or an address (letters, digits, - . "
			     "_, or [v6]): '%s'",
			     value);
		copy_value(p, r->c.host, sizeof r->c.host, value, key);
		break;
	case FB_DK_PORT:
		if (fb_parse_int(value, 1, 65535, &v, &why) != 0) {
			fail(p, "port: %s: '%s'", why, value);
			return;
		}
		r->c.port = (int)v;
		r->has_port = true;
		break;
	case FB_DK_PROTOCOL:
		copy_value(p, r->protocol, sizeof r->protocol, value, key);
		break;
	case FB_DK_HEALTH_PATH:
		if (value[0] != '/')
			fail(p, "health_path must start with '/': '%s'", value);
		else if (strpbrk(value, " \t"))
			fail(p,
			     "health_path holds a space (write it as %%20): "
			     "'%s'",
			     value);
		copy_value(p, r->c.health_path, sizeof r->c.health_path, value,
		           key);
		break;
	case FB_DK_EXPECT_STATUS:
		if (fb_parse_status_range(value, &r->c.expect_lo,
		                          &r->c.expect_hi, &why) != 0)
			fail(p, "expect_status: %s: '%s'", why, value);
		r->has_expect = true;
		break;
	case FB_DK_CRITICAL:
		if (fb_parse_bool(value, &r->c.critical, &why) != 0)
			fail(p, "critical: %s: '%s'", why, value);
		break;
	case FB_DK_PRESET:
		copy_value(p, r->c.preset, sizeof r->c.preset, value, key);
		r->preset_line = p->line;
		break;
	case FB_DK_ENV_PREFIX:
		if (!value[0] ||
		    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
		                  "stuvwxyz0123456789_") != strlen(value))
			fail(p, "env_prefix: letters, digits and _ only: '%s'",
			     value);
		copy_value(p, r->c.env_prefix, sizeof r->c.env_prefix, value,
		           key);
		break;
	case FB_DK_PASSWORD_FILE:
		copy_value(p, r->c.password_file, sizeof r->c.password_file,
		           value, key);
		break;
	case FB_DK_COUNT:
		fail(p, "unknown key '%s' in [dep %s]", key, r->c.name);
		break;
	}
}

/* shadow.KEY = VALUE in [dep NAME]: a breaker tunable of its shadow. */
static void key_shadow(parse_ctx *p, dep_raw *r, const char *key,
                       const char *value)
{
	fb_tunable t;
	const char *why = NULL;
	int64_t v;
	if (!fb_tunable_find(key, &t) || !fb_tunable_is_breaker(t)) {
		fail(p, "shadow.%s: not a breaker tunable", key);
		return;
	}
	if (r->c.shadow.set & (1u << t)) {
		fail(p, "duplicate key 'shadow.%s'", key);
		return;
	}
	if (fb_tunable_parse(t, value, &v, &why) != 0) {
		fail(p, "shadow.%s: %s", key, why ? why : "bad value");
		return;
	}
	fb_tunables_set(&r->c.shadow, t, v);
}

static int on_key(void *user, const char *section, const char *key,
                  const char *value)
{
	parse_ctx *p = user;
	fb_tunable t;
	(void)section; /* the reader already told us which one */
	if (p->failed)
		return 0;
	if (p->sec == SEC_NONE)
		fail(p, "key '%s' outside any section", key);
	else if (p->tun && fb_tunable_find(key, &t))
		set_tunable(p, t, value);
	else if (p->sec == SEC_DEP && !strncmp(key, "shadow.", 7))
		key_shadow(p, &p->raw[p->nraw - 1], key + 7, value);
	else if (p->sec == SEC_FUSEBOX)
		key_fusebox(p, key, value);
	else if (p->sec == SEC_REDIS)
		key_redis(p, key, value);
	else if (p->sec == SEC_DEP)
		key_dep(p, &p->raw[p->nraw - 1], key, value);
	else
		fail(p, "unknown key '%s' (not a tunable)", key);
	return p->failed ? 0 : 1;
}

/* ---- what inih does not check ------------------------------------------ */

/* Sees every whole line before inih: sections and indentation. Length and
 * NUL bytes are the shared reader's business. */
static bool inspect_line(void *ctx, const char *line, size_t len)
{
	parse_ctx *p = ctx;
	p->line = p->reader.line;
	const char *s = line;
	if (p->line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	const char *t = s;
	while (*t == ' ' || *t == '\t')
		t++;
	if (t >= line + len || *t == ';' || *t == '#')
		return true;
	const char *bad = fb_control_char(t, len - (size_t)(t - line));
	if (bad) {
		p->line = p->reader.line;
		fail(p, "control character (byte 0x%02x at column %d); refused",
		     (unsigned char)*bad, (int)(bad - line) + 1);
		return false;
	}
	if (t != s) {
		fail(p, "unexpected indented line (continuation lines are not "
		        "supported)");
		return false;
	}
	if (*t == '[') {
		const char *close = memchr(t, ']', len - (size_t)(t - line));
		if (!close)
			fail(p, "expected ']' to close the section name");
		else
			begin_section(p, t + 1, (size_t)(close - t - 1));
	} else if (!memchr(t, '=', len - (size_t)(t - line)) &&
	           !memchr(t, ':', len - (size_t)(t - line))) {
		/* caught here, so a later error cannot hide it */
		fail(p, "expected 'key = value' or '[section]'");
	}
	return !p->failed;
}

/* ---- resolving a dependency -------------------------------------------- */

static const struct {
	const char *name;
	int64_t timeout_ms, max_retries, recovery_ms; /* -1: not set */
} builtin_presets[] = {
    {"fast", 5 * FB_MS_S, 2, -1},
    {"slow", 15 * FB_MS_S, 3, -1},
    {"complex", 30 * FB_MS_S, 3, 90 * FB_MS_S},
};

/* The preset a dependency names: the file's own, else a built-in.
 * Returns false when there is none. */
/* The value a built-in preset gives t: false when it gives none (or is no
 * built-in preset: *is_builtin says which). */
static bool builtin_value(const char *preset, fb_tunable t, int64_t *out,
                          bool *is_builtin)
{
	*is_builtin = false;
	for (size_t i = 0;
	     i < sizeof builtin_presets / sizeof builtin_presets[0]; i++) {
		if (strcmp(builtin_presets[i].name, preset) != 0)
			continue;
		*is_builtin = true;
		*out = t == FB_T_TIMEOUT       ? builtin_presets[i].timeout_ms
		       : t == FB_T_MAX_RETRIES ? builtin_presets[i].max_retries
		       : t == FB_T_RECOVERY_TIMEOUT
		           ? builtin_presets[i].recovery_ms
		           : -1;
		return *out >= 0;
	}
	return false;
}

static bool find_preset(const fb_config *c, const char *name, fb_tunables *out)
{
	for (size_t i = 0; i < c->npresets; i++) {
		if (strcmp(c->presets[i].name, name) == 0) {
			*out = c->presets[i].t;
			return true;
		}
	}
	for (size_t i = 0;
	     i < sizeof builtin_presets / sizeof builtin_presets[0]; i++) {
		if (strcmp(builtin_presets[i].name, name) != 0)
			continue;
		memset(out, 0, sizeof *out);
		fb_tunables_set(out, FB_T_TIMEOUT,
		                builtin_presets[i].timeout_ms);
		fb_tunables_set(out, FB_T_MAX_RETRIES,
		                builtin_presets[i].max_retries);
		if (builtin_presets[i].recovery_ms >= 0)
			fb_tunables_set(out, FB_T_RECOVERY_TIMEOUT,
			                builtin_presets[i].recovery_ms);
		return true;
	}
	return false;
}

static void apply_layer(fb_dep_config *d, const fb_tunables *t, fb_source src)
{
	for (int i = 0; i < FB_TUNABLE_COUNT; i++) {
		if (t->set & (1u << i)) {
			d->t[i] = t->v[i];
			d->source[i] = src;
		}
	}
}

static fb_kind kind_of_scheme(const char *scheme)
{
	if (strcmp(scheme, "redis") == 0)
		return FB_KIND_REDIS;
	if (strcmp(scheme, "tcp") == 0)
		return FB_KIND_TCP;
	return FB_KIND_HTTP;
}

/* Joins url / host / port / protocol into the final address. Returns 0, or
 * -1 with the reason in why (and the line it concerns in *line). */
static int resolve_address(dep_raw *r, const char **why, int *line)
{
	fb_dep_config *d = &r->c;
	fb_url u = {0};
	*line = r->url_line ? r->url_line : r->line;
	if (d->url[0]) {
		if (fb_url_parse(d->url, &u, why) != 0)
			return -1;
	} else if (!d->host[0]) {
		*why = "no address: give url, or host and port";
		*line = r->line;
		return -1;
	}
	if (r->protocol[0])
		snprintf(u.scheme, sizeof u.scheme, "%s", r->protocol);
	if (!u.scheme[0])
		snprintf(u.scheme, sizeof u.scheme, "%s",
		         r->has_kind ? fb_kind_name(d->kind) : "http");
	if (fb_url_default_port(u.scheme) < 0) {
		*why = "unknown protocol (http, https, redis, tcp)";
		return -1;
	}
	for (char *c = u.scheme; *c; c++) /* protocol = HTTPS is https */
		*c = (char)tolower((unsigned char)*c);
	if (d->host[0])
		snprintf(u.host, sizeof u.host, "%s", d->host);
	if (r->has_port)
		u.port = d->port;
	if (u.port == 0)
		u.port = fb_url_default_port(u.scheme);
	if (u.port <= 0) {
		*why = "no port";
		return -1;
	}
	fb_kind k = kind_of_scheme(u.scheme);
	if (r->has_kind && k != d->kind) {
		*why = "kind does not match the URL scheme";
		return -1;
	}
	d->kind = k;
	snprintf(d->scheme, sizeof d->scheme, "%s", u.scheme);
	snprintf(d->host, sizeof d->host, "%s", u.host);
	d->port = u.port;
	if (k == FB_KIND_REDIS) {
		char *end;
		long db = u.path[0] ? strtol(u.path + 1, &end, 10) : 0;
		if (u.path[0] &&
		    (end == u.path + 1 || *end || db < 0 || db > 1000)) {
			*why = "bad redis database number in URL";
			return -1;
		}
		d->redis_db = (int)db;
	} else if (k == FB_KIND_HTTP && !d->health_path[0]) {
		snprintf(d->health_path, sizeof d->health_path, "%s",
		         u.path[0] && strcmp(u.path, "/") != 0 ? u.path
		                                               : "/health");
	}
	char tail[sizeof d->health_path];
	if (k == FB_KIND_REDIS)
		snprintf(tail, sizeof tail, "/%d", d->redis_db);
	else
		snprintf(tail, sizeof tail, "%s",
		         k == FB_KIND_HTTP ? d->health_path : "");
	int n = snprintf(d->url, sizeof d->url, "%s://%s:%d%s", d->scheme,
	                 d->host, d->port, tail);
	if (n < 0 || (size_t)n >= sizeof d->url) {
		*why = "address too long";
		return -1;
	}
	/* host, protocol and health_path may come apart from url (and from
	 * the environment): the joined address must still be one, and the
	 * same one */
	fb_url check;
	if (fb_url_parse(d->url, &check, why) != 0)
		return -1;
	if (strcmp(check.host, d->host) != 0 || check.port != d->port) {
		*why = "bad host name";
		return -1;
	}
	return 0;
}

/* A password file must be readable by its owner alone. */
static int check_secret_file(const char *path, const char **why)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		*why = "password_file cannot be read";
		return -1;
	}
	if (st.st_mode & 077) {
		*why = "password_file is readable by others (chmod 600 it)";
		return -1;
	}
	return 0;
}

static int resolve_dep(parse_ctx *p, dep_raw *r, fb_env_ctx *env)
{
	fb_dep_config *d = &r->c;
	fb_tunables builtin = {0}, preset;
	const char *why;
	int line;
	for (int i = 0; i < FB_TUNABLE_COUNT; i++)
		fb_tunables_set(&builtin, (fb_tunable)i,
		                fb_tunable_default((fb_tunable)i));
	apply_layer(d, &builtin, FB_SRC_BUILTIN);
	apply_layer(d, &p->cfg->defaults, FB_SRC_DEFAULTS);
	if (d->preset[0]) {
		if (!find_preset(p->cfg, d->preset, &preset)) {
			p->line = r->preset_line;
			fail(p, "unknown preset '%s'", d->preset);
			return -1;
		}
		apply_layer(d, &preset, FB_SRC_PRESET);
	}
	apply_layer(d, &r->file, FB_SRC_FILE);
	fb_env_tunables_apply(env, r);
	fb_env_address_apply(env, r);
	if (env->failed)
		return -1;
	if (resolve_address(r, &why, &line) != 0) {
		p->line = line;
		fail(p, "dependency '%s': %s", d->name, why);
		return -1;
	}
	if (!r->has_expect) {
		d->expect_lo = 200;
		d->expect_hi = 299;
	}
	if (d->password_file[0] &&
	    check_secret_file(d->password_file, &why) != 0) {
		p->line = r->line;
		fail(p, "dependency '%s': %s: %s", d->name, why,
		     d->password_file);
		return -1;
	}
	d->line = r->line;
	return 0;
}

/* ---- a dependency that no file names (the C client) ------------------- */

static void copy_field(parse_ctx *p, char *dst, size_t len, const char *src,
                       const char *what)
{
	if (src && strlen(src) >= len)
		fail(p, "%s too long", what);
	else if (src)
		memcpy(dst, src, strlen(src) + 1);
}

int fb_dep_standalone(const fb_standalone *s, fb_dep_config *out, char *path,
                      size_t len, fb_error *err)
{
	fb_config none = {0};
	parse_ctx p = {.cfg = &none, .err = err};
	dep_raw r = {0};
	fb_tunables builtin = {0}, preset;
	fb_env_ctx env = {s->getenv_fn ? s->getenv_fn : (fb_getenv_fn)getenv,
	                  err, false};
	const char *why;
	fb_url u = {0};
	int line;
	copy_field(&p, r.c.name, sizeof r.c.name, s->name, "service name");
	copy_field(&p, r.c.env_prefix, sizeof r.c.env_prefix, s->env_prefix,
	           "environment prefix");
	copy_field(&p, r.c.preset, sizeof r.c.preset, s->preset, "preset");
	copy_field(&p, r.c.url, sizeof r.c.url, s->url, "url");
	for (int i = 0; i < FB_TUNABLE_COUNT; i++)
		fb_tunables_set(&builtin, (fb_tunable)i,
		                fb_tunable_default((fb_tunable)i));
	apply_layer(&r.c, &builtin, FB_SRC_BUILTIN);
	if (!p.failed && r.c.preset[0]) {
		if (find_preset(&none, r.c.preset, &preset))
			apply_layer(&r.c, &preset, FB_SRC_PRESET);
		else
			fail(&p, "unknown preset '%s'", r.c.preset);
	}
	apply_layer(&r.c, &s->given, FB_SRC_FILE);
	if (!p.failed)
		fb_env_tunables_apply(&env, &r);
	if (!p.failed && !env.failed)
		fb_env_address_apply(&env, &r);
	if (p.failed || env.failed)
		return -1;
	if (!r.c.url[0] && !r.c.host[0]) {
		fail(&p, "%s: no address: give a url%s%s%s", r.c.name,
		     r.c.env_prefix[0] ? ", or set " : "", r.c.env_prefix,
		     r.c.env_prefix[0] ? "_URL" : "");
		return -1;
	}
	if ((r.c.url[0] && fb_url_parse(r.c.url, &u, &why) != 0) ||
	    resolve_address(&r, &why, &line) != 0) {
		fail(&p, "%s: %s", r.c.name, why);
		return -1;
	}
	snprintf(path, len, "%s", strcmp(u.path, "/") ? u.path : "");
	*out = r.c;
	return 0;
}

/* ---- the [fusebox] section's defaults ---------------------------------- */

/* A relative path in the config is relative to the config file's folder. */
static void anchor_path(char *path, size_t len, const char *config_path)
{
	char dir[512], joined[1024];
	if (!path[0] || path[0] == '/')
		return;
	snprintf(dir, sizeof dir, "%s", config_path);
	snprintf(joined, sizeof joined, "%s/%s", dirname(dir), path);
	if (strlen(joined) < len)
		memcpy(path, joined, strlen(joined) + 1);
}

static void global_defaults(fb_config *c)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	if (!c->log[0])
		snprintf(c->log, sizeof c->log, "fusebox-events.jsonl");
	anchor_path(c->log, sizeof c->log, c->path);
	anchor_path(c->metrics_file, sizeof c->metrics_file, c->path);
	/* never a bare file in a shared folder: a folder of our own, which
	 * the server creates 0700 and nobody else can put a socket in */
	if (!c->control_socket[0]) {
		c->control_socket_default = true;
		if (rt && rt[0] == '/')
			snprintf(c->control_socket, sizeof c->control_socket,
			         "%s/fusebox/fusebox.sock", rt);
		else if (geteuid() == 0)
			snprintf(c->control_socket, sizeof c->control_socket,
			         "/run/fusebox/fusebox.sock");
		else
			snprintf(c->control_socket, sizeof c->control_socket,
			         "/tmp/fusebox-%u/fusebox.sock",
			         (unsigned)geteuid());
	}
	anchor_path(c->control_socket, sizeof c->control_socket, c->path);
	if (!c->control_mode)
		c->control_mode = 0600;
	if (!c->theme[0])
		snprintf(c->theme, sizeof c->theme, "default");
	if (!c->host[0] && gethostname(c->host, sizeof c->host - 1) != 0)
		snprintf(c->host, sizeof c->host, "localhost");
	if (!c->log_max_size && c->log_keep == 0)
		c->log_max_size = 64LL << 20;
	if (!c->log_keep)
		c->log_keep = 5;
	if (!c->gate_override_ttl_ms)
		c->gate_override_ttl_ms = 15 * FB_MS_M;
	if (c->redis.enabled && !c->redis.prefix[0])
		snprintf(c->redis.prefix, sizeof c->redis.prefix, "fusebox");
	if (c->redis.enabled && !c->redis.service[0])
		snprintf(c->redis.service, sizeof c->redis.service, "default");
	if (!c->redis.stale_after_ms)
		c->redis.stale_after_ms = 15 * FB_MS_S;
	if (!c->redis.quorum)
		c->redis.quorum = 1;
	if (!c->redis.quorum_window_ms)
		c->redis.quorum_window_ms = 30 * FB_MS_S;
	if (!c->redis.stream_max_len)
		c->redis.stream_max_len = 100000;
}

/* ---- load, free, locate ------------------------------------------------ */

static int parse_file(parse_ctx *p)
{
	p->reader.inspect = inspect_line;
	p->reader.ctx = p;
	int rc = ini_parse_stream(fb_ini_read_line, &p->reader, on_key, p);
	if (p->reader.failed && !p->failed) {
		p->line = p->reader.line;
		fail(p, "%s", p->reader.error);
	}
	if (!p->failed && rc > 0) {
		p->line = rc;
		fail(p, "expected 'key = value' or '[section]'");
	}
	return p->failed ? -1 : 0;
}

static int resolve_all(parse_ctx *p, fb_getenv_fn get)
{
	fb_config *c = p->cfg;
	fb_env_ctx env = {get, p->err, false};
	c->deps = calloc(p->nraw ? p->nraw : 1, sizeof *c->deps);
	if (!c->deps) {
		fail(p, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < p->nraw; i++) {
		if (resolve_dep(p, &p->raw[i], &env) != 0) {
			if (env.failed)
				p->failed = true;
			return -1;
		}
		c->deps[c->ndeps++] = p->raw[i].c;
	}
	if (c->redis.enabled && !c->redis.url[0]) {
		p->line = p->redis_line;
		fail(p, "[redis] needs a url");
		return -1;
	}
	const char *why;
	if (c->redis.enabled && c->redis.password_file[0] &&
	    check_secret_file(c->redis.password_file, &why) != 0) {
		p->line = p->redis_line;
		fail(p, "[redis]: %s: %s", why, c->redis.password_file);
		return -1;
	}
	return 0;
}

int fb_config_load(const char *path, fb_config *cfg, fb_error *err,
                   const char *(*get)(const char *name))
{
	memset(cfg, 0, sizeof *cfg);
	parse_ctx p = {.cfg = cfg, .err = err, .file = path};
	p.reader.fp = fopen(path, "r");
	if (!p.reader.fp) {
		snprintf(err->text, sizeof err->text, "%s: %s", path,
		         strerror(errno));
		return -1;
	}
	snprintf(cfg->path, sizeof cfg->path, "%s", path);
	int rc = parse_file(&p);
	fclose(p.reader.fp);
	fb_ini_reader_free(&p.reader);
	if (rc == 0)
		rc = resolve_all(&p, get ? get : (fb_getenv_fn)getenv);
	free(p.raw);
	if (rc != 0) {
		fb_config_free(cfg);
		return -1;
	}
	global_defaults(cfg);
	return 0;
}

void fb_config_free(fb_config *cfg)
{
	free(cfg->presets);
	free(cfg->deps);
	memset(cfg, 0, sizeof *cfg);
}

static bool readable(const char *path)
{
	return access(path, R_OK) == 0;
}

int fb_config_locate(const char *explicit_path, char *out, size_t len,
                     fb_error *err)
{
	const char *env = getenv("FUSEBOX_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char cand[400];
	if (explicit_path || (env && env[0])) {
		snprintf(out, len, "%s", explicit_path ? explicit_path : env);
		return 0;
	}
	if (xdg && xdg[0])
		snprintf(cand, sizeof cand, "%s/fusebox/config.ini", xdg);
	else
		snprintf(cand, sizeof cand, "%s/.config/fusebox/config.ini",
		         home ? home : "");
	if (readable(cand) || readable("/etc/fusebox/config.ini")) {
		snprintf(out, len, "%s",
		         readable(cand) ? cand : "/etc/fusebox/config.ini");
		return 0;
	}
	snprintf(err->text, sizeof err->text,
	         "no configuration: use --config FILE or set FUSEBOX_CONFIG "
	         "(looked in %s and /etc/fusebox/config.ini)",
	         cand);
	return -1;
}
