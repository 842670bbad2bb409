/* The event log: JSON Lines through cJSON, fsync'ed per event. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/parse.h"
#include "eventlog.h"
#include "fusebox/sanitize.h"

#define TAIL_SCAN (256 * 1024) /* bytes searched backwards for the last seq */

void fb_format_rfc3339(int64_t wall_ms, char *buf, size_t len)
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;
	char base[32];
	gmtime_r(&secs, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, (int)(wall_ms % 1000));
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = EIO; /* no progress and no reason: never loop */
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The highest "seq" of a line through cJSON (at least `best`): for a
 * line whose keys are written with escapes. */
static int64_t line_seq_json(const char *line, size_t len, int64_t best)
{
	cJSON *j = cJSON_ParseWithLength(line, len);
	int64_t v;
	for (const cJSON *m = cJSON_IsObject(j) ? j->child : NULL; m;
	     m = m->next) {
		if (m->string && strcmp(m->string, "seq") == 0 &&
		    cJSON_IsNumber(m) &&
		    fb_json_int(m->valuedouble, 0, FB_JSON_INT_MAX, &v) &&
		    v > best)
			best = v;
	}
	cJSON_Delete(j);
	return best;
}

/* The value of the member at s (after its key's closing quote) when it
 * is "seq": a JSON number, read as cJSON would (strtod). -1 otherwise. */
static int64_t seq_value(const char *s, const char *end)
{
	char num[40];
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	if (s == end || *s++ != ':')
		return -1;
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	size_t n = strspn(s, "0123456789+-.eE");
	if (n == 0 || n >= sizeof num || s + n > end)
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	char *stop;
	double d = strtod(num, &stop);
	int64_t v;
	return *stop == '\0' && fb_json_int(d, 0, FB_JSON_INT_MAX, &v) ? v : -1;
}

/* The highest top-level "seq" of a line, or -1 when it has none. A torn
 * line counts: its seq was taken. Read without allocating, so that an
 * allocation that fails can never make seq go back; only a key written
 * with escapes (never ours) goes through cJSON. */
static int64_t line_seq(const char *line, size_t len)
{
	const char *s = line, *end = line + len;
	int64_t best = -1;
	int depth = 0;
	while (s < end) {
		char c = *s++;
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (c == '"') {
			const char *key = s;
			bool escaped = false;
			while (s < end && *s != '"') {
				escaped |= *s == '\\';
				s += *s == '\\' ? 2 : 1;
			}
			if (s >= end)
				break;
			if (depth == 1 && escaped)
				return line_seq_json(line, len, best);
			int64_t v = depth == 1 && s - key == 3 &&
			                    memcmp(key, "seq", 3) == 0
			                ? seq_value(s + 1, end)
			                : -1;
			if (v > best)
				best = v;
			s++;
		}
	}
	return best;
}

/* Reads the last TAIL_SCAN bytes of fd into a new buffer; *from says
 * where they start. */
static char *read_tail(int fd, int64_t size, size_t *len, int64_t *from)
{
	*from = size > TAIL_SCAN ? size - TAIL_SCAN : 0;
	size_t n = (size_t)(size - *from);
	char *buf = malloc(n + 1);
	if (!buf)
		return NULL;
	ssize_t got = pread(fd, buf, n, *from);
	*len = got > 0 ? (size_t)got : 0;
	buf[*len] = '\0';
	return buf;
}

/* The highest seq among the whole lines of the file's last TAIL_SCAN
 * bytes; -1 when there is none (or no file), -2 when it cannot be read
 * (out of memory): then nobody knows where seq stands. Not simply the
 * last line's: a log mended or joined by hand may not end with its
 * highest, and seq must never go back. */
static int64_t last_seq_in(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int64_t best = -1, from = 0;
	size_t len = 0;
	if (fd < 0)
		return errno == ENOENT ? -1 : -2;
	char *buf =
	    fstat(fd, &st) == 0 ? read_tail(fd, st.st_size, &len, &from) : NULL;
	close(fd);
	if (!buf)
		return -2;
	const char *p = buf, *end = buf + len;
	if (from > 0) { /* the first line is cut */
		const char *nl = memchr(p, '\n', len);
		p = nl ? nl + 1 : end;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int64_t seq = line_seq(p, n);
		if (seq > best)
			best = seq;
		p += n + 1;
	}
	free(buf);
	return best;
}

static int64_t count_lines(int fd)
{
	char buf[65536];
	int64_t lines = 0;
	ssize_t n;
	off_t off = 0;
	while ((n = pread(fd, buf, sizeof buf, off)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
		off += n;
	}
	return lines;
}

/* A last line without its newline was cut short by a crash: say so, and
 * end it so the next event starts clean. */
static int mend_torn_tail(fb_log *log, char *warn, size_t warnlen)
{
	char last;
	if (log->size == 0 || pread(log->fd, &last, 1, log->size - 1) != 1 ||
	    last == '\n')
		return 0;
	snprintf(warn, warnlen,
	         "%s:%lld: torn last line from an earlier crash; kept, and new "
	         "events start on the next line",
	         log->path, (long long)count_lines(log->fd) + 1);
	if (write_all(log->fd, "\n", 1) != 0)
		return -1;
	log->size++;
	return 0;
}

/* Opens path for appending without following a symlink, creating it with
 * `mode`; refuses anything but a regular file of our own (a FIFO, a
 * device, another user's file). Returns the fd, or -1 with *err. */
static int open_own_file(const char *path, int flags, mode_t mode,
                         struct stat *st, fb_error *err)
{
	int fd = open(
	    path, flags | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
	if (fd < 0 || fstat(fd, st) != 0) {
		snprintf(err->text, sizeof err->text, "%s: %s", path,
		         errno == ELOOP ? "is a symbolic link; refused"
		                        : strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	const char *why = !S_ISREG(st->st_mode)     ? "not a regular file"
	                  : st->st_uid != geteuid() ? "belongs to another user"
	                                            : NULL;
	if (why) {
		snprintf(err->text, sizeof err->text, "%s: %s; refused", path,
		         why);
		close(fd);
		return -1;
	}
	if ((st->st_mode & 07777) & ~mode) /* tighten what an older run left */
		fchmod(fd, mode);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

static int open_file(fb_log *log, fb_error *err)
{
	struct stat st;
	/* read-write: a torn tail is looked at before anything is appended */
	log->fd =
	    open_own_file(log->path, O_RDWR | O_APPEND, log->mode, &st, err);
	if (log->fd < 0)
		return -1;
	log->size = st.st_size;
	log->partial = log->unended = false;
	return 0;
}

int fb_log_lock(const char *path, fb_error *err)
{
	char lock[600], pid[32] = "";
	struct stat st;
	snprintf(lock, sizeof lock, "%s.lock", path);
	int fd = open_own_file(lock, O_RDWR, 0600, &st, err);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(
		    err->text, sizeof err->text,
		    "%s: another fusebox instance%s%s%s is using this event "
		    "log",
		    path, pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
		close(fd);
		return -2;
	}
	int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		snprintf(err->text, sizeof err->text, "%s: %s", lock,
		         strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int fb_log_open(fb_log *log, const char *path, const char *host,
                int64_t max_size, int keep, mode_t mode, char *warn,
                size_t warnlen, fb_error *err)
{
	memset(log, 0, sizeof *log);
	log->mode = mode;
	warn[0] = '\0';
	snprintf(log->path, sizeof log->path, "%s", path);
	snprintf(log->host, sizeof log->host, "%s", host);
	log->max_size = max_size;
	log->keep = keep;
	if (open_file(log, err) != 0)
		return -1;
	if (mend_torn_tail(log, warn, warnlen) != 0) {
		snprintf(err->text, sizeof err->text, "%s: %s", path,
		         strerror(errno));
		close(log->fd);
		return -1;
	}
	int64_t seq = last_seq_in(path);
	if (seq == -1) { /* empty or all corrupt: the newest rotated file */
		char old[600];
		snprintf(old, sizeof old, "%s.1", path);
		seq = last_seq_in(old);
	}
	if (seq == -2) {
		snprintf(err->text, sizeof err->text,
		         "%s: cannot read the last seq: %s", path,
		         errno ? strerror(errno) : "out of memory");
		close(log->fd);
		return -1;
	}
	if (seq >= FB_JSON_INT_MAX) { /* readers hold seq in a double */
		snprintf(
		    err->text, sizeof err->text,
		    "%s: seq %lld is the last an event can have; move this "
		    "log away to start a new one",
		    path, (long long)seq);
		close(log->fd);
		return -1;
	}
	log->seq = seq > 0 ? (uint64_t)seq : 0;
	return 0;
}

void fb_log_close(fb_log *log)
{
	if (log->fd >= 0)
		close(log->fd);
	log->fd = -1;
}

static void sync_dir(const char *path)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s", path);
	int fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* path -> path.1 -> path.2 ... path.keep (dropped). Whole files move, so
 * no event is lost or written twice. */
static int rotate(fb_log *log, fb_error *err)
{
	char from[600], to[600];
	fsync(log->fd);
	close(log->fd);
	for (int i = log->keep; i >= 1; i--) {
		snprintf(to, sizeof to, "%s.%d", log->path, i);
		if (i > 1)
			snprintf(from, sizeof from, "%s.%d", log->path, i - 1);
		else
			snprintf(from, sizeof from, "%s", log->path);
		if (rename(from, to) != 0 && errno != ENOENT) {
			snprintf(err->text, sizeof err->text, "rotate %s: %s",
			         from, strerror(errno));
			break;
		}
	}
	int rc = open_file(log, err);
	sync_dir(log->path);
	return rc;
}

/* Is s valid UTF-8? (cJSON writes strings as they are.) */
static bool utf8_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = *p < 0x80             ? 1
		           : (*p & 0xE0) == 0xC0 ? 2
		           : (*p & 0xF0) == 0xE0 ? 3
		           : (*p & 0xF8) == 0xF0 ? 4
		                                 : 0;
		if (n == 0 || *p == 0xC0 || *p == 0xC1 || *p > 0xF4)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((p[k] & 0xC0) != 0x80)
				return false;
		}
		p += n;
	}
	return true;
}

/* A string member, made valid UTF-8 when it is not (text cut to fit a
 * buffer somewhere, half a character left): a line that is not UTF-8 is
 * skipped by every reader, so the event would be lost. */
static bool add_str(cJSON *o, const char *key, const char *v)
{
	char clean[2048];
	if (v && !utf8_ok(v)) {
		fb_sanitize(clean, sizeof clean, v, strlen(v));
		v = clean;
	}
	return !v || cJSON_AddStringToObject(o, key, v);
}

static bool add_num(cJSON *o, const char *key, int64_t v)
{
	return v < 0 || cJSON_AddNumberToObject(o, key, (double)v);
}

/* An outcomes event's fields (SPEC 6) after "dep"; the trace and
 * skipped_ok are what replay --what-if needs beyond the counts. */
static bool add_outcomes(cJSON *o, const fb_event *ev)
{
	const fb_outsum *w = ev->outcomes;
	char trace[FB_OUTSUM_TRACE * 48];
	if (!w)
		return true;
	fb_outsum_trace_format(w, trace, sizeof trace);
	return add_num(o, "ok", w->ok) && add_num(o, "failed", w->failed) &&
	       add_num(o, "slow", w->slow) &&
	       add_num(o, "p50_ms", fb_outsum_quantile(w, 50)) &&
	       add_num(o, "p95_ms", fb_outsum_quantile(w, 95)) &&
	       add_num(o, "from_seq", ev->from_seq) &&
	       add_num(o, "skipped_ok", w->skipped_ok) &&
	       add_num(o, "span_ms",
	               ev->at_ms > w->start_ms ? ev->at_ms - w->start_ms : 0) &&
	       (!w->lost || add_num(o, "untraced", w->lost)) &&
	       add_str(o, "trace", trace);
}

/* The event as one JSON object, fields in SPEC order after "v" and
 * "seq", which are given when it is written; NULL when out of memory
 * (never an event with fields missing). */
static cJSON *event_json(const fb_log *log, const fb_event *ev, int64_t wall_ms)
{
	char ts[40];
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	fb_format_rfc3339(wall_ms, ts, sizeof ts);
	bool ok = add_str(o, "ts", ts) && add_str(o, "host", log->host) &&
	          add_str(o, "kind", fb_event_kind_name(ev->kind)) &&
	          add_str(o, "version", ev->version) &&
	          add_str(o, "config", ev->config) &&
	          (ev->action == FB_ACT_NONE ||
	           add_str(o, "action", fb_action_name(ev->action))) &&
	          add_str(o, "dep", ev->dep) && add_outcomes(o, ev) &&
	          add_str(o, "from", ev->from) && add_str(o, "to", ev->to) &&
	          add_str(o, "health", ev->health) &&
	          add_str(o, "mode", ev->mode) &&
	          add_str(o, "actor", ev->actor) &&
	          add_str(o, "command", ev->command) &&
	          (ev->action != FB_ACT_JOB_END ||
	           add_num(o, "exit_status", ev->exit_status)) &&
	          (ev->lost <= 0 || add_num(o, "lost", ev->lost)) &&
	          add_str(o, "reason", ev->reason) &&
	          add_num(o, "failures", ev->failures) &&
	          add_num(o, "retry_after_ms", ev->retry_after_ms) &&
	          add_str(o, "error", ev->error);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

char *fb_log_render(const fb_log *log, const fb_event *ev, int64_t wall_ms)
{
	cJSON *o = event_json(log, ev, wall_ms);
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return text;
}

/* After a write that failed and could not be taken back, the file may
 * end in part of a line: cut it off now, or keep it and end it, so the
 * next event starts a line of its own (a reader skips the stump with a
 * warning). */
static void mend_partial(fb_log *log)
{
	struct stat st;
	char last;
	if (!log->partial || fstat(log->fd, &st) != 0)
		return;
	if (st.st_size > log->size && ftruncate(log->fd, log->size) != 0) {
		log->size = st.st_size;
		log->unended = pread(log->fd, &last, 1, st.st_size - 1) != 1 ||
		               last != '\n';
	}
	log->partial = false;
}

/* One line, all or nothing: a write or fdatasync that fails is taken
 * back (ftruncate) so that no half line stays for the next to join.
 * Returns 0, or -1 with errno saying why (the failure's own cause, not
 * that of the cleanup). */
static int write_line(fb_log *log, const char *line, size_t len)
{
	if (write_all(log->fd, line, len) == 0 && fdatasync(log->fd) == 0)
		return 0;
	int cause = errno;
	log->partial = ftruncate(log->fd, log->size) != 0;
	errno = cause;
	return -1;
}

int fb_log_write(fb_log *log, const char *body, fb_error *err)
{
	size_t blen = strlen(body);
	char *buf = malloc(blen + 64);
	if (!buf || blen < 2 || body[0] != '{') {
		free(buf);
		snprintf(err->text, sizeof err->text, "%s: %s", log->path,
		         buf ? "not an event" : "out of memory");
		errno = buf ? EINVAL : ENOMEM;
		return -1;
	}
	/* buf[0] is kept for the newline that may have to end a stump */
	size_t len =
	    (size_t)snprintf(buf + 1, blen + 63, "{\"v\":1,\"seq\":%llu,%s\n",
	                     (unsigned long long)(log->seq + 1), body + 1);
	int rc = 0;
	/* a rotation that could not open the new file left none open */
	if (log->fd < 0)
		rc = open_file(log, err);
	else if (log->max_size > 0 && log->size > 0 &&
	         log->size + (int64_t)len > log->max_size)
		rc = rotate(log, err);
	if (rc != 0) {
		free(buf);
		return -1;
	}
	mend_partial(log);
	char *line = buf + 1;
	if (log->unended) {
		*--line = '\n';
		len++;
	}
	rc = write_line(log, line, len);
	int cause = errno;
	if (rc != 0) {
		free(buf);
		snprintf(err->text, sizeof err->text, "%s: %s%s", log->path,
		         strerror(cause),
		         log->partial ? " (and a partial line could not be "
		                        "cut off; the next line starts clean)"
		                      : "");
		errno = cause;
		return -1;
	}
	log->seq++;
	log->size += (int64_t)len;
	log->unended = false;
	if (log->on_line) /* what was written, from after a mending newline */
		log->on_line(log->on_line_ctx, buf + 1,
		             len - (line == buf ? 2 : 1));
	free(buf);
	return 0;
}

int fb_log_append(fb_log *log, const fb_event *ev, int64_t wall_ms,
                  fb_error *err)
{
	char *body = fb_log_render(log, ev, wall_ms);
	if (!body) {
		snprintf(err->text, sizeof err->text, "%s: out of memory",
		         log->path);
		errno = ENOMEM;
		return -1;
	}
	int rc = fb_log_write(log, body, err);
	int cause = errno;
	free(body);
	errno = cause;
	return rc;
}
