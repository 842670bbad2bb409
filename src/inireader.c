/* The line reader in front of inih. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inireader.h"

static char *refuse(fb_ini_reader *r, const char *why)
{
	snprintf(r->error, sizeof r->error, "%s", why);
	r->failed = true;
	return NULL;
}

char *fb_ini_read_line(char *str, int num, void *stream)
{
	fb_ini_reader *r = stream;
	if (r->failed)
		return NULL;
	errno = 0;
	ssize_t n = getline(&r->buf, &r->cap, r->fp);
	if (n < 0)
		return errno ? refuse(r, strerror(errno)) : NULL;
	r->line++;
	size_t len = (size_t)n;
	while (len > 0 && (r->buf[len - 1] == '\n' || r->buf[len - 1] == '\r'))
		len--;
	if (memchr(r->buf, '\0', (size_t)n))
		return refuse(r, "NUL byte in line");
	if ((size_t)n + 1 > (size_t)num) {
		char why[96];
		snprintf(
		    why, sizeof why,
		    "line too long (%zu bytes; the parser holds at most %d)",
		    len, num - 2);
		return refuse(r, why);
	}
	if (r->inspect && !r->inspect(r->ctx, r->buf, len)) {
		r->failed = true;
		return NULL;
	}
	memcpy(str, r->buf, (size_t)n + 1);
	return str;
}

void fb_ini_reader_free(fb_ini_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}
