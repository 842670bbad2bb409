/* fb_url_parse() on anything: an accepted URL has a known scheme (lower
 * case), a host of allowed characters, a port in range (tcp: given),
 * a path that is empty or starts with '/' and holds no space or control
 * byte; and the address written back from those parts parses to the same
 * parts. */
#include <ctype.h>
#include <stdbool.h>

#include "core/parse.h"
#include "fuzz.h"

static bool same(const fb_url *a, const fb_url *b)
{
	return strcmp(a->scheme, b->scheme) == 0 &&
	       strcmp(a->host, b->host) == 0 && a->port == b->port &&
	       strcmp(a->path, b->path) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	fb_url u, back;
	const char *why = NULL;
	if (fb_url_parse(s, &u, &why) != 0) {
		FUZZ_CHECK(why && why[0]);
		free(s);
		return 0;
	}
	FUZZ_CHECK(fb_url_default_port(u.scheme) >= 0);
	for (const char *p = u.scheme; *p; p++)
		FUZZ_CHECK(!isupper((unsigned char)*p));
	FUZZ_CHECK(u.host[0] && strlen(u.host) < sizeof u.host);
	for (const char *p = u.host; *p; p++)
		FUZZ_CHECK(isalnum((unsigned char)*p) || strchr("-._:[]", *p));
	FUZZ_CHECK(u.port >= 1 && u.port <= 65535);
	FUZZ_CHECK(u.path[0] == '\0' || u.path[0] == '/');
	for (const char *p = u.path; *p; p++)
		FUZZ_CHECK((unsigned char)*p > ' ' && *p != 0x7f);

	/* "[v6]" keeps its brackets in host, so it is written as it came */
	char again[1024];
	snprintf(again, sizeof again, "%s://%s:%d%s", u.scheme, u.host, u.port,
	         u.path);
	if (fb_url_parse(again, &back, &why) != 0) {
		fprintf(stderr, "'%s' parsed, but '%s' is refused: %s\n", s,
		        again, why);
		abort();
	}
	FUZZ_CHECK(same(&u, &back));
	free(s);
	return 0;
}
