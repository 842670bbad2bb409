/* Reading the backlog to publish from the instance's own log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fleet_catchup.h"
#include "logread.h"

#define SPAN_BYTES (256 << 10) /* read a file a quarter MiB at a time */

int fb_fleet_batch_add(fb_fleet_batch *b, uint64_t seq, const char *text,
                       size_t len)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		uint64_t *s = realloc(b->seq, cap * sizeof *s);
		if (!s)
			return -1;
		b->seq = s;
		size_t *o = realloc(b->off, cap * sizeof *o);
		if (!o)
			return -1;
		b->off = o;
		size_t *l = realloc(b->len, cap * sizeof *l);
		if (!l)
			return -1;
		b->len = l;
		b->cap = cap;
	}
	if (b->bytes + len > b->cap_bytes) {
		size_t cap = b->cap_bytes ? b->cap_bytes : 64 * 1024;
		while (cap < b->bytes + len)
			cap *= 2;
		char *t = realloc(b->text, cap);
		if (!t)
			return -1;
		b->text = t;
		b->cap_bytes = cap;
	}
	memcpy(b->text + b->bytes, text, len);
	b->seq[b->n] = seq;
	b->off[b->n] = b->bytes;
	b->len[b->n] = len;
	b->bytes += len;
	b->n++;
	return 0;
}

void fb_fleet_batch_clear(fb_fleet_batch *b)
{
	b->n = 0;
	b->bytes = 0;
}

void fb_fleet_batch_free(fb_fleet_batch *b)
{
	free(b->text);
	free(b->seq);
	free(b->off);
	free(b->len);
	memset(b, 0, sizeof *b);
}

uint64_t fb_fleet_line_seq(const char *line, size_t len)
{
	/* the writer puts v then seq first; anything else is no event */
	static const char head[] = "{\"v\":1,\"seq\":";
	size_t n = sizeof head - 1;
	if (len <= n || memcmp(line, head, n) != 0)
		return 0;
	uint64_t v = 0;
	size_t i = n;
	for (; i < len && i < n + 20 && line[i] >= '0' && line[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(line[i] - '0');
	return i < len && (line[i] == ',' || line[i] == '}') ? v : 0;
}

/* path (i == 0) or path.i */
static void file_name(char *out, size_t len, const char *path, int i)
{
	if (i == 0)
		snprintf(out, len, "%s", path);
	else
		snprintf(out, len, "%s.%d", path, i);
}

/* Which file (keep .. 0) holds inode ino; -1 when none does. */
static int find_ino(const char *path, int keep, ino_t ino)
{
	char name[600];
	struct stat st;
	for (int i = keep; i >= 0; i--) {
		file_name(name, sizeof name, path, i);
		if (stat(name, &st) == 0 && st.st_ino == ino)
			return i;
	}
	return -1;
}

typedef struct scan {
	uint64_t after, first;
	size_t max_events, max_bytes;
	fb_fleet_batch *b;
	bool full;
} scan;

/* Reads file `name` from *off on, adding what is due; *off moves past
 * what was taken. Returns 0, or -1 with err. */
static int scan_file(const char *name, int64_t *off, scan *s, char *err,
                     size_t errlen)
{
	for (;;) {
		fb_log_reader r;
		int64_t next;
		if (fb_log_reader_open_span(&r, name, *off, SPAN_BYTES, &next,
		                            err, errlen) != 0)
			return errno == ENOENT ? 0 : -1;
		r.quiet = true;
		const char *line;
		size_t len, used = 0;
		int rc = 0;
		while (fb_log_reader_line(&r, &line, &len)) {
			uint64_t seq = fb_fleet_line_seq(line, len);
			if (seq && !s->first)
				s->first = seq;
			if (seq > s->after) {
				if (s->b->n >= s->max_events ||
				    s->b->bytes + len > s->max_bytes) {
					s->full = true;
					break;
				}
				if (fb_fleet_batch_add(s->b, seq, line, len)) {
					snprintf(err, errlen, "out of memory");
					rc = -1;
					break;
				}
				s->after = seq;
			}
			used = r.off;
		}
		size_t size = r.size;
		fb_log_reader_close(&r);
		if (rc != 0)
			return rc;
		if (s->full) {
			*off += (int64_t)used;
			return 0;
		}
		*off = next;
		if (size == 0)
			return 0; /* the end of the file */
	}
}

int fb_fleet_catchup_read(const char *path, int keep, uint64_t after,
                          fb_catchup_pos *pos, size_t max_events,
                          size_t max_bytes, fb_fleet_batch *b, uint64_t *lost,
                          char *err, size_t errlen)
{
	char name[600];
	struct stat st;
	scan s = {.after = after,
	          .max_events = max_events,
	          .max_bytes = max_bytes,
	          .b = b};
	int from = pos->ino ? find_ino(path, keep, pos->ino) : -1;
	int64_t off = from >= 0 ? pos->off : 0;
	bool oldest = from < 0;
	fb_fleet_batch_clear(b);
	*lost = 0;
	if (from < 0)
		from = keep;
	for (int i = from; i >= 0 && !s.full; i--) {
		file_name(name, sizeof name, path, i);
		if (stat(name, &st) != 0) {
			off = 0;
			continue;
		}
		if (scan_file(name, &off, &s, err, errlen) != 0)
			return -1;
		pos->ino = st.st_ino;
		pos->off = off;
		if (!s.full)
			off = 0;
	}
	if (oldest && s.first > after + 1)
		*lost = s.first - after - 1;
	return 0;
}
