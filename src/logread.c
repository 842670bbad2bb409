/* Reading event logs: files read whole, checked lines, warnings with
 * place. Never mapped: a log truncated under us must not be a SIGBUS. */
#include <errno.h>
#include <fcntl.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/parse.h"
#include "fusebox/sanitize.h"
#include "logread.h"
#include "logread_impl.h"

#define MAX_WARNINGS 50 /* printed per file; the rest are counted */

/* Reads bytes [from, to) of fd into a new buffer at r->buf. A file that
 * shrinks meanwhile (logrotate's copytruncate) just ends sooner. */
static int read_span(fb_log_reader *r, int fd, off_t from, size_t want,
                     char *err, size_t len)
{
	char *buf = malloc(want ? want : 1);
	size_t got = 0;
	if (!buf) {
		snprintf(err, len, "%s: out of memory (%zu bytes)", r->path,
		         want);
		return -1;
	}
	while (got < want) {
		ssize_t n = pread(fd, buf + got, want - got, from + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, len, "%s: %s", r->path, strerror(errno));
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	r->buf = buf;
	r->size = got;
	return 0;
}

/* Opens path without blocking (a FIFO would) and without following it to
 * anything that is not a regular file. */
static int open_regular(const char *path, struct stat *st, char *err,
                        size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, st) != 0) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, len, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	return fd;
}

int fb_log_reader_open(fb_log_reader *r, const char *path, char *err,
                       size_t len)
{
	return fb_log_reader_open_tail(r, path, SIZE_MAX, err, len);
}

int fb_log_reader_open_tail(fb_log_reader *r, const char *path,
                            size_t max_bytes, char *err, size_t len)
{
	struct stat st;
	memset(r, 0, sizeof *r);
	snprintf(r->path, sizeof r->path, "%s", path);
	int fd = open_regular(path, &st, err, len);
	if (fd < 0)
		return -1;
	size_t size = (size_t)st.st_size;
	off_t from = size > max_bytes ? (off_t)(size - max_bytes) : 0;
	int rc = read_span(r, fd, from, size - (size_t)from, err, len);
	close(fd);
	if (rc == 0 && from > 0) { /* drop the partial first line */
		const char *nl = memchr(r->buf, '\n', r->size);
		r->off = nl ? (size_t)(nl - r->buf) + 1 : r->size;
	}
	return rc;
}

int fb_log_reader_open_span(fb_log_reader *r, const char *path, int64_t from,
                            size_t max_bytes, int64_t *next, char *err,
                            size_t len)
{
	struct stat st;
	memset(r, 0, sizeof *r);
	snprintf(r->path, sizeof r->path, "%s", path);
	*next = from;
	int fd = open_regular(path, &st, err, len);
	if (fd < 0)
		return -1;
	int64_t left = st.st_size > from ? st.st_size - from : 0;
	size_t want = (uint64_t)left < max_bytes ? (size_t)left : max_bytes;
	int rc = read_span(r, fd, (off_t)from, want, err, len);
	close(fd);
	if (rc != 0)
		return -1;
	if (from + (int64_t)r->size < st.st_size) { /* end on a whole line */
		const char *nl = memrchr(r->buf, '\n', r->size);
		if (nl)
			r->size = (size_t)(nl - r->buf) + 1;
	}
	*next = from + (int64_t)r->size;
	return 0;
}

int fb_log_reader_open_stream(fb_log_reader *r, const char *path, size_t span,
                              char *err, size_t len)
{
	struct stat st;
	memset(r, 0, sizeof *r);
	snprintf(r->path, sizeof r->path, "%s", path);
	int fd = open_regular(path, &st, err, len);
	if (fd < 0)
		return -1;
	r->cap = span ? span : 1;
	char *buf = malloc(r->cap);
	if (!buf) {
		snprintf(err, len, "%s: out of memory (%zu bytes)", path,
		         r->cap);
		close(fd);
		return -1;
	}
	r->buf = buf;
	r->stream = true;
	r->fd = fd;
	r->end = st.st_size;
	return 0;
}

/* The next span of a stream into its buffer, ending after its last
 * whole line unless the file ends first; the buffer grows for a line
 * longer than it. False at the end (or on a read error, said). */
static bool next_span(fb_log_reader *r)
{
	char *buf = (char *)r->buf;
	size_t got = 0, size = 0;
	while (r->stream && r->next + (int64_t)got < r->end) {
		size_t left = (size_t)(r->end - r->next);
		size_t want = left < r->cap ? left : r->cap;
		ssize_t n = pread(r->fd, buf + got, want - got,
		                  (off_t)(r->next + (int64_t)got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fb_cli_error("%s: %s", r->path, strerror(errno));
		if (n <= 0) { /* an error, or the file shrank: it ends here */
			r->end = r->next + (int64_t)got;
			break;
		}
		got += (size_t)n;
		if (got < want)
			continue;
		if (r->next + (int64_t)got == r->end)
			break;
		const char *nl = memrchr(buf, '\n', got);
		if (nl) {
			size = (size_t)(nl - buf) + 1;
			break;
		}
		char *more = realloc(buf, r->cap * 2); /* a long line */
		if (!more) {
			fb_cli_error("%s: out of memory (%zu bytes)", r->path,
			             r->cap * 2);
			break;
		}
		r->buf = buf = more;
		r->cap *= 2;
	}
	r->size = size ? size : got;
	r->off = 0;
	r->next += (int64_t)r->size;
	return r->size > 0;
}

void fb_log_reader_close(fb_log_reader *r)
{
	if (r->stream)
		close(r->fd);
	r->stream = false;
	free((void *)r->buf);
	if (r->skipped > r->warnings)
		fb_cli_error("%s: %ld more bad lines skipped", r->path,
		             r->skipped - r->warnings);
	r->buf = NULL;
}

bool fb_log_reader_line(fb_log_reader *r, const char **line, size_t *len)
{
	if (r->off >= r->size && !(r->stream && next_span(r)))
		return false;
	const char *p = r->buf + r->off;
	const char *nl = memchr(p, '\n', r->size - r->off);
	size_t n = nl ? (size_t)(nl - p) : r->size - r->off;
	r->off += n + (nl ? 1 : 0);
	r->line++;
	*line = p;
	*len = n;
	return true;
}

static void warn(fb_log_reader *r, const char *why)
{
	r->skipped++;
	if (r->on_skip) {
		r->on_skip(r->skip_ctx, r->line, why);
		return;
	}
	if (r->quiet || r->warnings >= MAX_WARNINGS)
		return;
	r->warnings++;
	fb_cli_error("%s:%ld: skipped: %s", r->path, r->line, why);
}

enum { B_PLAIN, B_OPEN, B_CLOSE, B_QUOTE, B_ESCAPE, B_CTRL, B_HIGH };

static unsigned char classes[256];
static pthread_once_t classes_once = PTHREAD_ONCE_INIT;

static void build_classes(void)
{
	for (int c = 0; c < 256; c++)
		classes[c] = c < 0x20 || c == 0x7f ? B_CTRL
		             : c >= 0x80           ? B_HIGH
		                                   : B_PLAIN;
	classes['{'] = classes['['] = B_OPEN;
	classes['}'] = classes[']'] = B_CLOSE;
	classes['"'] = B_QUOTE;
	classes['\\'] = B_ESCAPE;
}

/* The class of every byte, built once (the replay loader has threads). */
static const unsigned char *byte_classes(void)
{
	pthread_once(&classes_once, build_classes);
	return classes;
}

static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len = (c & 0xE0) == 0xC0   ? 2
	             : (c & 0xF0) == 0xE0 ? 3
	             : (c & 0xF8) == 0xF0 ? 4
	                                  : 0;
	if (len == 0 || len > n || c == 0xC0 || c == 0xC1 || c > 0xF4)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
	}
	return len;
}

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Does any byte of w equal b? (the classic has-zero-byte test) */
static uint64_t has_byte(uint64_t w, unsigned char b)
{
	uint64_t x = w ^ (ONES * b);
	return (x - ONES) & ~x & HIGHS;
}

/* Eight bytes that are all printable ASCII, no bracket, quote or
 * backslash. */
static bool plain8(const unsigned char *s)
{
	uint64_t w;
	memcpy(&w, s, 8);
	uint64_t low = (w - ONES * 0x20) & ~w & HIGHS; /* a byte < 0x20 */
	return !((w & HIGHS) | low | has_byte(w, 0x7f) | has_byte(w, '{') |
	         has_byte(w, '}') | has_byte(w, '[') | has_byte(w, ']') |
	         has_byte(w, '"') | has_byte(w, '\\'));
}

bool fb_log_plain(const unsigned char *s, size_t n, bool *spaces)
{
	size_t i = 0, from;
	bool two = false;
#ifdef __SSE2__
	/* sixteen at a time: a signed byte below 0x20 is a control or
	 * >= 0x80; the spaces' bits, shifted by one, meet where two are
	 * together (`last`: the block before ended with one) */
	const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f),
	              slash = _mm_set1_epi8('\\');
	unsigned last = 0;
	for (; i + 16 <= n; i += 16) {
		__m128i v =
		    _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i bad =
		    _mm_or_si128(_mm_cmplt_epi8(v, space),
		                 _mm_or_si128(_mm_cmpeq_epi8(v, del),
		                              _mm_cmpeq_epi8(v, slash)));
		if (_mm_movemask_epi8(bad))
			return false;
		unsigned m =
		    (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, space));
		two |= (m & (m >> 1 | last)) != 0;
		last = m >> 15;
	}
#endif
	from = i ? i : 1; /* the pairs not looked at yet end here or later */
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		uint64_t low =
		    (w - ONES * 0x20) & ~w & HIGHS; /* a byte < 0x20 */
		if ((w & HIGHS) | low | has_byte(w, 0x7f) | has_byte(w, '\\'))
			return false;
	}
	for (; i < n; i++) {
		if (s[i] < 0x20 || s[i] >= 0x7f || s[i] == '\\')
			return false;
	}
	for (i = from; i < n && !two; i++)
		two = s[i] == ' ' && s[i - 1] == ' ';
	*spaces = two;
	return true;
}

/* One pass over the raw line: valid UTF-8, no raw control bytes (JSON
 * escapes them), and containers nested no deeper than an event ever is
 * -- counting only brackets outside strings, so an error that quotes a
 * JSON body is still an event. Returns NULL when clean, else why not. */
const char *fb_log_check_bytes(const unsigned char *s, size_t n)
{
	const unsigned char *cls = byte_classes();
	int depth = 0;
	bool in_string = false;
	for (size_t i = 0; i < n;) {
		if (i + 8 <= n && plain8(s + i)) {
			i += 8;
			continue;
		}
		switch (cls[s[i]]) {
		case B_PLAIN: i++; break;
		case B_OPEN:
			if (!in_string && ++depth > 4)
				return "nested too deeply to be an event";
			i++;
			break;
		case B_CLOSE:
			depth -= !in_string;
			i++;
			break;
		case B_QUOTE:
			in_string = !in_string;
			i++;
			break;
		case B_ESCAPE: /* \" and \\ inside a string are not quotes */
			i += in_string && i + 1 < n &&
			             cls[s[i + 1]] != B_CTRL &&
			             cls[s[i + 1]] != B_HIGH
			         ? 2
			         : 1;
			break;
		case B_CTRL: return "raw control character";
		default: {
			size_t len = utf8_seq(s + i, n - i);
			if (!len)
				return "not UTF-8";
			i += len;
		}
		}
	}
	return NULL;
}

/* key is the literal (of that length: memcmp() of a constant size is a
 * compare or two, not a call) */
#define IS(lit) (!memcmp(key, lit, sizeof lit - 1))

fb_log_field fb_log_field_of(const char *key, size_t len)
{
	switch (len) { /* the length, then the name */
	case 1: return key[0] == 'v' ? FB_LOG_F_V : FB_LOG_F_OTHER;
	case 2:
		return IS("ts")   ? FB_LOG_F_TS
		       : IS("to") ? FB_LOG_F_TO
		                  : FB_LOG_F_OTHER;
	case 3:
		return IS("seq")   ? FB_LOG_F_SEQ
		       : IS("dep") ? FB_LOG_F_DEP
		                   : FB_LOG_F_OTHER;
	case 4:
		return IS("kind")   ? FB_LOG_F_KIND
		       : IS("host") ? FB_LOG_F_HOST
		       : IS("from") ? FB_LOG_F_FROM
		       : IS("mode") ? FB_LOG_F_MODE
		       : IS("lost") ? FB_LOG_F_LOST
		                    : FB_LOG_F_OTHER;
	case 5:
		return IS("actor")   ? FB_LOG_F_ACTOR
		       : IS("error") ? FB_LOG_F_ERROR
		                     : FB_LOG_F_OTHER;
	case 6:
		return IS("reason")   ? FB_LOG_F_REASON
		       : IS("action") ? FB_LOG_F_ACTION
		       : IS("health") ? FB_LOG_F_HEALTH
		                      : FB_LOG_F_OTHER;
	case 14:
		return IS("retry_after_ms") ? FB_LOG_F_RETRY_AFTER_MS
		                            : FB_LOG_F_OTHER;
	default: return FB_LOG_F_OTHER;
	}
}

#undef IS

/* Where each string member goes; one pass over the object's members
 * instead of a lookup per field. */
const char **fb_log_fields_slot(fb_log_event *ev, fb_log_fields *f,
                                fb_log_field field)
{
	switch (field) {
	case FB_LOG_F_TS: return &f->ts;
	case FB_LOG_F_KIND: return &f->kind;
	case FB_LOG_F_HOST: return &ev->host;
	case FB_LOG_F_DEP: return &ev->dep;
	case FB_LOG_F_FROM: return &ev->from;
	case FB_LOG_F_TO: return &ev->to;
	case FB_LOG_F_REASON: return &ev->reason;
	case FB_LOG_F_ACTOR: return &ev->actor;
	case FB_LOG_F_ACTION: return &ev->action;
	case FB_LOG_F_ERROR: return &ev->error;
	case FB_LOG_F_MODE: return &ev->mode;
	case FB_LOG_F_HEALTH: return &ev->health;
	default: return NULL;
	}
}

void fb_log_fields_start(fb_log_event *ev, fb_log_fields *f)
{
	*f = (fb_log_fields){NULL, NULL, -1, -1};
	ev->retry_after_ms = -1;
}

bool fb_log_fields_number(fb_log_event *ev, fb_log_fields *f,
                          fb_log_field field, double value)
{
	int64_t n, *num = NULL;
	bool lost = field == FB_LOG_F_LOST;
	switch (field) {
	case FB_LOG_F_SEQ: num = &f->seq; break;
	case FB_LOG_F_V: num = &f->v; break;
	case FB_LOG_F_RETRY_AFTER_MS: num = &ev->retry_after_ms; break;
	default: break;
	}
	if ((!num && !lost) || !fb_json_int(value, -1, FB_JSON_INT_MAX, &n))
		return true;
	if (num && *num != -1)
		return false;
	if (num)
		*num = n;
	else if (n > 0)
		ev->lost = n;
	return true;
}

bool fb_log_fields_end(fb_log_event *ev, const fb_log_fields *f,
                       fb_rfc3339_day *day, const char **why)
{
	*why = "not a fusebox event (needs v 1, seq, ts, kind)";
	if (f->v != 1 || f->seq < 0 || !f->ts || !f->kind)
		return false;
	size_t n = strlen(f->ts);
	if ((day ? fb_parse_rfc3339_day(f->ts, n, day, &ev->ts_ms)
	         : fb_parse_rfc3339(f->ts, n, &ev->ts_ms)) != 0) {
		*why = "bad timestamp";
		return false;
	}
	if (fb_event_kind_parse(f->kind, &ev->kind) != 0) {
		*why = "unknown event kind";
		return false;
	}
	ev->seq = (uint64_t)f->seq;
	return true;
}

/* Fills the event's fields from its JSON; false when it is not one. */
static bool fill(fb_log_event *ev, const char **why)
{
	fb_log_fields f;
	fb_log_fields_start(ev, &f);
	*why = "not a fusebox event (needs v 1, seq, ts, kind)";
	if (!cJSON_IsObject(ev->json))
		return false;
	const cJSON *m;
	for (m = ev->json->child; m; m = m->next) {
		if (!m->string)
			return false;
		if (cJSON_IsString(m)) {
			/* logs from other hosts are untrusted: "\u001b]0;..."
			 * decodes to a real escape; made safe in place (the
			 * result is never longer) */
			size_t len = strlen(m->valuestring);
			fb_sanitize(m->valuestring, len + 1, m->valuestring,
			            len);
			const char **slot = fb_log_fields_slot(
			    ev, &f,
			    fb_log_field_of(m->string, strlen(m->string)));
			if (slot && *slot)
				break; /* duplicate */
			if (slot)
				*slot = m->valuestring;
		} else if (cJSON_IsNumber(m) &&
		           !fb_log_fields_number(
		               ev, &f,
		               fb_log_field_of(m->string, strlen(m->string)),
		               m->valuedouble)) {
			break;
		}
	}
	/* a field given twice reads one way here and another elsewhere (the
	 * writer's seq recovery, jq): such a line is no event */
	if (m) {
		*why = "a field appears twice";
		return false;
	}
	return fb_log_fields_end(ev, &f, NULL, why);
}

int fb_log_event_parse(fb_log_reader *r, const char *line, size_t len,
                       fb_log_event *ev)
{
	const char *why = NULL;
	memset(ev, 0, sizeof *ev);
	if (len == 0)
		why = "empty line";
	else if (len > FB_LOG_LINE_MAX)
		why = "line too long";
	else if ((why = fb_log_check_bytes((const unsigned char *)line, len)))
		;
	else if (!(ev->json = cJSON_ParseWithLength(line, len)))
		why = "not JSON (torn or truncated?)";
	else if (!fill(ev, &why)) {
		cJSON_Delete(ev->json);
		ev->json = NULL;
	}
	if (!ev->json) {
		warn(r, why);
		return -1;
	}
	ev->raw = line;
	ev->raw_len = len;
	ev->line = r->line;
	return 0;
}

void fb_log_check_shape(fb_log_reader *r, const char *line, size_t len)
{
	if (len == 0 || len > FB_LOG_LINE_MAX || line[0] != '{' ||
	    line[len - 1] != '}' || memchr(line, '\0', len))
		warn(r, len == 0 ? "empty line"
		        : len > FB_LOG_LINE_MAX
		            ? "line too long"
		            : "not JSON (torn or truncated?)");
}

void fb_log_event_as_event(const fb_log_event *ev, fb_event *out)
{
	*out = (fb_event){.kind = ev->kind,
	                  .dep = ev->dep,
	                  .from = ev->from,
	                  .to = ev->to,
	                  .health = ev->health,
	                  .reason = ev->reason,
	                  .error = ev->error,
	                  .mode = ev->mode,
	                  .actor = ev->actor,
	                  .failures = -1,
	                  .retry_after_ms = ev->retry_after_ms,
	                  .lost = ev->lost};
	if (!ev->action || fb_action_parse(ev->action, &out->action) != 0)
		out->action = FB_ACT_NONE;
}
