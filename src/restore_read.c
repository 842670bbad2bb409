/* Reading back what the last instance left: the checkpoint and the events
 * after it, or every file of the log, through the checked reader. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "checkpoint.h"
#include "logread.h"
#include "restore_read.h"
#include "stderr_log.h"

#define SPAN        (8u << 20) /* bytes of log read at once */
#define MAX_ROTATED 1000       /* log_keep's upper bound */

/* LOG for i = 0, LOG.i else. */
static void file_name(char *buf, size_t len, const char *log, int i)
{
	if (i == 0)
		snprintf(buf, len, "%s", log);
	else
		snprintf(buf, len, "%s.%d", log, i);
}

/* The highest i for which LOG.i is there; 0 when none is. */
static int oldest_rotated(const char *log)
{
	char path[600];
	struct stat st;
	int i = 0;
	for (; i < MAX_ROTATED; i++) {
		file_name(path, sizeof path, log, i + 1);
		if (stat(path, &st) != 0)
			break;
	}
	return i;
}

typedef struct scan {
	fb_lasting *l;
	int64_t ttl_ms;
	bool filter; /* rule out unparsed the lines that cannot matter */
	uint64_t first_seq, last_seq;
	long events; /* parsed */
	long lines;  /* of the last file read, counted from its start */
} scan;

/* Only operator actions and transitions to open or closed change what is
 * restored, and the log writes them in one way (compact JSON): a line
 * without those words is not one of them. */
static bool may_matter(const char *line, size_t len)
{
	return memmem(line, len, "\"operator\"", 10) ||
	       memmem(line, len, "\"to\":\"open\"", 11) ||
	       memmem(line, len, "\"to\":\"closed\"", 13);
}

static void fold_line(scan *s, fb_log_reader *r, const char *line, size_t len)
{
	fb_log_event ev;
	if (s->filter && !may_matter(line, len)) {
		fb_log_check_shape(r, line, len);
		return;
	}
	if (fb_log_event_parse(r, line, len, &ev) != 0)
		return;
	fb_lasting_event le = {.seq = ev.seq,
	                       .wall_ms = ev.ts_ms,
	                       .kind = ev.kind,
	                       .dep = ev.dep,
	                       .from = ev.from,
	                       .to = ev.to,
	                       .actor = ev.actor,
	                       .reason = ev.reason,
	                       .retry_after_ms = ev.retry_after_ms};
	if (!ev.action || fb_action_parse(ev.action, &le.action) != 0)
		le.action = FB_ACT_NONE;
	if (!s->events++)
		s->first_seq = ev.seq;
	s->last_seq = ev.seq;
	fb_lasting_fold(s->l, &le, s->ttl_ms);
	cJSON_Delete(ev.json);
}

/* Folds in one file from byte `from`, whose line number is `line`, a
 * span at a time. Returns 0, or -1 after saying why it cannot be read. */
static int read_file(scan *s, const char *path, int64_t from, long line)
{
	fb_log_reader r;
	char err[700];
	long warned = 0, skipped = 0;
	for (int64_t next = from;;) {
		if (fb_log_reader_open_span(&r, path, next, SPAN, &next, err,
		                            sizeof err) != 0) {
			fb_stderr_say(LOG_WARNING, "restore: %s", err);
			return -1;
		}
		bool end = r.size == 0;
		r.line = line;
		r.warnings = warned;
		r.skipped = skipped;
		const char *text;
		size_t len;
		while (fb_log_reader_line(&r, &text, &len))
			fold_line(s, &r, text, len);
		line = r.line;
		warned = r.warnings;
		skipped = r.skipped;
		if (!end) /* what is left unsaid is counted once, at the end */
			r.skipped = r.warnings;
		fb_log_reader_close(&r);
		if (end)
			break;
	}
	s->lines = line;
	return 0;
}

/* The index of the log file the place is in, and its size; -1 if none. */
static int find_file(const char *log, const fb_log_place *at, int last,
                     int64_t *size)
{
	char path[600];
	struct stat st;
	for (int i = 0; i <= last; i++) {
		file_name(path, sizeof path, log, i);
		if (stat(path, &st) == 0 && (uint64_t)st.st_dev == at->dev &&
		    (uint64_t)st.st_ino == at->ino) {
			*size = st.st_size;
			return i;
		}
	}
	return -1;
}

/* Does a line start at `offset` of the file? */
static bool line_starts(const char *path, int64_t offset)
{
	char c = '\n';
	if (offset == 0)
		return true;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	bool ok = fd >= 0 && pread(fd, &c, 1, (off_t)offset - 1) == 1;
	if (fd >= 0)
		close(fd);
	return ok && c == '\n';
}

/* The checkpoint, then the events after it. False with src->why when
 * it cannot be believed (l then needs freeing). */
static bool from_checkpoint(fb_lasting *l, const char *ckpt, const char *log,
                            uint64_t log_seq, int64_t ttl_ms,
                            fb_restore_source *src)
{
	fb_log_place at = {0};
	char path[600];
	int64_t size = 0;
	int rc =
	    fb_checkpoint_read(ckpt, log, l, &at, src->why, sizeof src->why);
	if (rc != 0) {
		src->missing = rc == 1;
		return false;
	}
	uint64_t seq = src->checkpoint_seq = l->seq;
	int i = seq <= log_seq ? find_file(log, &at, oldest_rotated(log), &size)
	                       : -1;
	file_name(path, sizeof path, log, i > 0 ? i : 0);
	if (i < 0 || at.offset > size || !line_starts(path, at.offset)) {
		snprintf(src->why, sizeof src->why,
		         "its place in the log (seq %llu) is not there",
		         (unsigned long long)seq);
		return false;
	}
	scan s = {.l = l, .ttl_ms = ttl_ms};
	for (int k = i; k >= 0; k--) {
		file_name(path, sizeof path, log, k);
		if (read_file(&s, path, k == i ? at.offset : 0,
		              k == i ? (long)at.line : 0) != 0)
			break;
		src->files++;
	}
	src->events = s.events;
	src->lines = s.lines;
	if (src->files != i + 1 ||
	    (s.events ? s.first_seq != seq + 1 || s.last_seq != log_seq
	              : seq != log_seq)) {
		snprintf(
		    src->why, sizeof src->why,
		    "it stands at seq %llu, but the log goes on with seq "
		    "%llu",
		    (unsigned long long)seq,
		    (unsigned long long)(s.events ? s.first_seq : log_seq));
		return false;
	}
	src->from_checkpoint = true;
	src->place = at;
	return true;
}

static void from_log(fb_lasting *l, const char *log, int64_t ttl_ms,
                     fb_restore_source *src)
{
	char path[600];
	scan s = {.l = l, .ttl_ms = ttl_ms, .filter = true};
	for (int i = oldest_rotated(log); i >= 0; i--) {
		file_name(path, sizeof path, log, i);
		s.lines = 0;
		if (read_file(&s, path, 0, 0) == 0)
			src->files++;
	}
	src->events = s.events;
	src->lines = s.lines;
}

void fb_restore_read(fb_lasting *l, const char *ckpt, const char *log_path,
                     uint64_t log_seq, int64_t ttl_ms, fb_restore_source *src)
{
	memset(src, 0, sizeof *src);
	if (from_checkpoint(l, ckpt, log_path, log_seq, ttl_ms, src))
		return;
	fb_lasting_free(l);
	src->files = 0;
	from_log(l, log_path, ttl_ms, src);
}
