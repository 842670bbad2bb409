/* The tunables table (keys allowed in [defaults], [preset] and [dep]):
 * names, types, defaults, ranges, help, and parsing and formatting of
 * their values. The table itself is FB_TUNABLE_TABLE in fusebox/config.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "config_impl.h"
#include "core/parse.h"

#define X_ROW(id, key, type, def, lo, hi, help)                                \
	{key, FB_VT_##type, def, lo, hi, help},
static const struct tunable_row {
	const char *key;
	fb_value_type type;
	int64_t def, lo, hi;
	const char *help;
} tunables[FB_TUNABLE_COUNT] = {FB_TUNABLE_TABLE(X_ROW)};
#undef X_ROW

#define X_NAME(id, name) name,
static const char *const source_names[] = {FB_SOURCE_TABLE(X_NAME)};
#undef X_NAME

const char *fb_tunable_key(fb_tunable t)
{
	return tunables[t].key;
}
const char *fb_tunable_help(fb_tunable t)
{
	return tunables[t].help;
}
fb_value_type fb_tunable_type(fb_tunable t)
{
	return tunables[t].type;
}

const char *fb_source_name(fb_source s)
{
	return (unsigned)s < FB_SRC_COUNT ? source_names[s] : "?";
}

bool fb_tunable_find(const char *key, fb_tunable *out)
{
	for (int i = 0; i < FB_TUNABLE_COUNT; i++) {
		if (strcmp(tunables[i].key, key) == 0) {
			*out = (fb_tunable)i;
			return true;
		}
	}
	return false;
}

/* A whole percentage: "50", or "50%" as fb_tunable_format() writes it. */
static int parse_percent(const char *s, int64_t lo, int64_t hi, int64_t *out,
                         const char **why)
{
	char buf[32];
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len > 0 && s[len - 1] == '%')
		len--;
	if (len >= sizeof buf) {
		*why = "not a whole number";
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return fb_parse_int(buf, lo, hi, out, why);
}

/* Parses one tunable value; returns 0 or -1 with *why. */
int fb_tunable_parse(fb_tunable t, const char *value, int64_t *out,
                     const char **why)
{
	const struct tunable_row *r = &tunables[t];
	int64_t v;
	int rc;
	switch (r->type) {
	case FB_VT_DURATION: rc = fb_parse_duration(value, &v, why); break;
	case FB_VT_FRACTION: rc = fb_parse_fraction(value, &v, why); break;
	case FB_VT_PERCENT:
		rc = parse_percent(value, r->lo, r->hi, &v, why);
		break;
	default: rc = fb_parse_int(value, r->lo, r->hi, &v, why); break;
	}
	if (rc != 0)
		return -1;
	if (v < r->lo || v > r->hi) {
		*why = "out of range";
		return -1;
	}
	*out = v;
	return 0;
}

/* Parts per million as a decimal fraction, "0.2" or "0.000001": never
 * the exponent ("1e-06") that %g writes and the parser refuses. */
static void format_fraction(int64_t ppm, char *buf, size_t len)
{
	char frac[8];
	int n =
	    snprintf(frac, sizeof frac, "%06lld", (long long)(ppm % 1000000));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	snprintf(buf, len, "%lld%s%s", (long long)(ppm / 1000000),
	         n > 0 ? "." : "", frac);
}

void fb_tunable_format(fb_tunable t, int64_t v, char *buf, size_t len)
{
	switch (tunables[t].type) {
	case FB_VT_DURATION:
		if (v != 0 && v % FB_MS_H == 0)
			snprintf(buf, len, "%lldh", (long long)(v / FB_MS_H));
		else if (v != 0 && v % FB_MS_M == 0)
			snprintf(buf, len, "%lldm", (long long)(v / FB_MS_M));
		else if (v != 0 && v % FB_MS_S == 0)
			snprintf(buf, len, "%llds", (long long)(v / FB_MS_S));
		else
			snprintf(buf, len, "%lldms", (long long)v);
		break;
	case FB_VT_FRACTION: format_fraction(v, buf, len); break;
	case FB_VT_PERCENT: snprintf(buf, len, "%lld%%", (long long)v); break;
	default: snprintf(buf, len, "%lld", (long long)v); break;
	}
}

int fb_tunable_check(fb_tunable t, int64_t v, const char **why)
{
	if (v < tunables[t].lo || v > tunables[t].hi) {
		*why = "out of range";
		return -1;
	}
	return 0;
}

int64_t fb_tunable_default(fb_tunable t)
{
	return tunables[t].def;
}

void fb_tunables_set(fb_tunables *t, fb_tunable k, int64_t v)
{
	t->v[k] = v;
	t->set |= 1u << k;
}

void fb_dep_breaker_config(const fb_dep_config *d, fb_breaker_config *out)
{
	*out = (fb_breaker_config){
	    .failure_threshold = (int)d->t[FB_T_FAILURE_THRESHOLD],
	    .failure_rate = (int)d->t[FB_T_FAILURE_RATE],
	    .window = (int)d->t[FB_T_WINDOW],
	    .min_calls = (int)d->t[FB_T_MIN_CALLS],
	    .recovery_timeout_ms = d->t[FB_T_RECOVERY_TIMEOUT],
	    .backoff_cap_ms = d->t[FB_T_BACKOFF_CAP],
	    .jitter = (double)d->t[FB_T_JITTER] / 1e6,
	    .half_open_probes = (int)d->t[FB_T_HALF_OPEN_PROBES],
	    .success_threshold = (int)d->t[FB_T_SUCCESS_THRESHOLD],
	    .slow_call_ms = d->t[FB_T_SLOW_CALL],
	};
}

bool fb_tunable_is_breaker(fb_tunable t)
{
	switch (t) {
	case FB_T_FAILURE_THRESHOLD:
	case FB_T_FAILURE_RATE:
	case FB_T_WINDOW:
	case FB_T_MIN_CALLS:
	case FB_T_RECOVERY_TIMEOUT:
	case FB_T_BACKOFF_CAP:
	case FB_T_JITTER:
	case FB_T_HALF_OPEN_PROBES:
	case FB_T_SUCCESS_THRESHOLD:
	case FB_T_SLOW_CALL:
	case FB_T_STARTUP_GRACE: return true;
	default: return false;
	}
}

bool fb_dep_shadow_config(const fb_dep_config *d, fb_breaker_config *out)
{
	if (!d->shadow.set)
		return false;
	fb_dep_config s = *d;
	for (int i = 0; i < FB_TUNABLE_COUNT; i++) {
		if (d->shadow.set & (1u << i))
			s.t[i] = d->shadow.v[i];
	}
	fb_dep_breaker_config(&s, out);
	return true;
}
