/* Shared test helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

void th_tempdir(char *out, size_t len)
{
	const char *base = getenv("TMPDIR");
	snprintf(out, len, "%s/fusebox-test-XXXXXX", base && base[0] ? base : "/tmp");
	if (!mkdtemp(out)) {
		perror("mkdtemp");
		abort();
	}
}

void th_rmtree(const char *path)
{
	char cmd[1200];
	if (strncmp(path, "/tmp/", 5) != 0 && !getenv("TMPDIR"))
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", path);
}

void th_write_file(const char *dir, const char *name, const char *text,
                   char *out, size_t len)
{
	snprintf(out, len, "%s/%s", dir, name);
	FILE *f = fopen(out, "w");
	if (!f) {
		perror(out);
		abort();
	}
	fputs(text, f);
	fclose(f);
}

uint64_t th_rng_next(void *ctx)
{
	th_rng_seq *r = ctx;
	uint64_t v = r->seq[r->i % r->n];
	r->i++;
	return v;
}

uint64_t th_unit(double u)
{
	return (uint64_t)(u * 9007199254740992.0) << 11;
}
