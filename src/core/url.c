/* Dependency addresses. Only what a probe needs: scheme, host, port, path.
 * IPv6 literals are written in brackets, as in a browser. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/parse.h"

static const struct {
	const char *scheme;
	int port;
} schemes[] = {{"http", 80}, {"https", 443}, {"redis", 6379}, {"tcp", 0}};

int fb_url_default_port(const char *scheme)
{
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		if (strcasecmp(schemes[i].scheme, scheme) == 0)
			return schemes[i].port;
	}
	return -1;
}

static int parse_port(const char *s, size_t len, int *out)
{
	int v = 0;
	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = v;
	return 0;
}

static bool host_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' ||
	       c == ':';
}

bool fb_host_ok(const char *s)
{
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		if (n == 2)
			return false;
		for (size_t i = 1; i + 1 < n; i++) {
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':' &&
			    s[i] != '.')
				return false;
		}
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		if (!host_char_ok(s[i]) || s[i] == ':')
			return false;
	}
	return n > 0;
}

/* Splits "host[:port]" (or "[v6]:port") of `len` bytes. */
static int parse_authority(const char *s, size_t len, fb_url *u)
{
	const char *port = NULL;
	size_t hlen = len;
	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close)
			return -1;
		hlen = (size_t)(close - s) + 1;
		if (hlen < len && s[hlen] != ':')
			return -1;
		port = hlen < len ? s + hlen + 1 : NULL;
	} else {
		const char *colon = memchr(s, ':', len);
		if (colon) {
			hlen = (size_t)(colon - s);
			port = colon + 1;
		}
	}
	if (hlen == 0 || hlen >= sizeof u->host ||
	    (s[0] == '[' && hlen <= 2)) /* "[]" names no host */
		return -1;
	for (size_t i = 0; i < hlen; i++) {
		if (!host_char_ok(s[i]) && s[i] != '[' && s[i] != ']')
			return -1;
	}
	memcpy(u->host, s, hlen);
	u->host[hlen] = '\0';
	if (port && parse_port(port, len - (size_t)(port - s), &u->port) != 0)
		return -1;
	return 0;
}

int fb_url_parse(const char *s, fb_url *out, const char **why)
{
	fb_url u = {0};
	const char *sep = strstr(s, "://");
	*why = "bad URL (expected scheme://host[:port][/path])";
	if (!sep || sep == s || (size_t)(sep - s) >= sizeof u.scheme)
		return -1;
	for (const char *p = s; p < sep; p++)
		u.scheme[p - s] = (char)tolower((unsigned char)*p);
	if (fb_url_default_port(u.scheme) < 0) {
		*why = "bad URL scheme (use http, https, redis or tcp)";
		return -1;
	}
	const char *auth = sep + 3;
	size_t alen = strcspn(auth, "/?#");
	const char *at = memchr(auth, '@', alen);
	if (at) {
		u.has_password = memchr(auth, ':', (size_t)(at - auth)) != NULL;
		alen -= (size_t)(at + 1 - auth);
		auth = at + 1;
	}
	if (parse_authority(auth, alen, &u) != 0) {
		*why = "bad URL host or port";
		return -1;
	}
	const char *rest = auth + alen;
	for (const char *p = rest; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*why = "bad URL (space or control character)";
			return -1;
		}
	}
	/* as stored: a path that does not start with '/' gets one */
	if (strlen(rest) + (*rest && *rest != '/') >= sizeof u.path) {
		*why = "URL path too long";
		return -1;
	}
	if (*rest && *rest != '/')
		u.path[0] = '/';
	memcpy(u.path + (u.path[0] == '/'), rest, strlen(rest) + 1);
	if (u.port == 0)
		u.port = fb_url_default_port(u.scheme);
	if (strcmp(u.scheme, "tcp") == 0 && u.port == 0) {
		*why = "bad URL (tcp needs a port)";
		return -1;
	}
	*out = u;
	return 0;
}
