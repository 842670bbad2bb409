/* chroma_status: what a service's own status endpoint serves about one
 * of its dependencies, through libfusebox's resilient client.
 *
 *   CHROMA_URL=http://chroma:6003 chroma_status [CALLS [PATH]]
 *
 * Makes CALLS requests (default 5) of GET PATH (default /health) to the
 * dependency "chroma" -- configured from CHROMA_URL and the other
 * CHROMA_* variables, no config file -- saying on stderr how each went,
 * then prints the client's status document on stdout. Exit 0 when the
 * last call was answered with a 2xx, 69 when the breaker refused it, 1
 * when it failed otherwise, 78 for a bad CHROMA_* variable.
 *
 * Built as any program outside fusebox would build it:
 *   cc chroma_status.c $(pkg-config --cflags --libs fusebox) */
#include <fusebox/client.h>
#include <stdio.h>
#include <stdlib.h>

/* Each attempt's line, as a service would send it to its own log. */
static void log_attempt(void *ctx, fb_log_level level, const char *line)
{
	(void)ctx;
	fprintf(stderr, "chroma_status: %s%s\n",
	        level <= FB_LOG_WARN ? "warning: " : "", line);
}

int main(int argc, char **argv)
{
	long calls = argc > 1 ? strtol(argv[1], NULL, 10) : 5;
	const char *path = argc > 2 ? argv[2] : "/health";
	fb_client_options opts;
	fb_error err;
	fb_client_options_init(&opts);
	opts.log = log_attempt;
	fb_client *c = fb_client_new("chroma", "CHROMA", &opts, &err);
	if (!c) {
		fprintf(stderr, "chroma_status: %s\n", err.text);
		return 78;
	}
	int rc = FB_E_FAILED;
	long status = 0;
	for (long i = 0; i < calls; i++) {
		fb_response r;
		rc = fb_client_get(c, path, &r, &err);
		status = r.status;
		if (rc != FB_OK)
			fprintf(stderr, "chroma_status: %s (%s)\n", err.text,
			        fb_strerror(rc));
		fb_response_free(&r);
	}
	char *doc = fb_client_status_json(c);
	if (doc)
		printf("%s\n", doc);
	free(doc);
	fb_client_free(c);
	if (rc == FB_E_UNAVAILABLE)
		return 69;
	return rc == FB_OK && status >= 200 && status < 300 ? 0 : 1;
}
