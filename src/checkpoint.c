/* The checkpoint file: one JSON object, written whole and atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "core/parse.h"
#include "metrics_file.h"

#define VERSION 1

void fb_checkpoint_path(char *buf, size_t len, const char *log_path)
{
	snprintf(buf, len, "%s.state", log_path);
}

int fb_checkpoint_write(const char *path, const char *log_path,
                        const fb_lasting *l, const fb_log_place *at,
                        mode_t mode, fb_error *err)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	if (o) {
		cJSON_AddNumberToObject(o, "v", VERSION);
		cJSON_AddStringToObject(o, "log", log_path);
		cJSON_AddNumberToObject(o, "dev", (double)at->dev);
		cJSON_AddNumberToObject(o, "ino", (double)at->ino);
		cJSON_AddNumberToObject(o, "offset", (double)at->offset);
		cJSON_AddNumberToObject(o, "line", (double)at->line);
		if (fb_lasting_to_json(l, o) == 0)
			text = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(o);
	if (!text) {
		snprintf(err->text, sizeof err->text, "%s: out of memory",
		         path);
		return -1;
	}
	size_t len = strlen(text);
	text[len] = '\n'; /* replaces the terminator; length is explicit */
	int rc = fb_write_atomic_mode(path, text, len + 1, mode, err);
	free(text);
	return rc;
}

/* The file's bytes in a new terminated buffer (caller frees), or NULL
 * with why; *missing says when there is no file at all. */
static char *slurp(const char *path, bool *missing, char *why, size_t len)
{
	struct stat st;
	*missing = false;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		*missing = errno == ENOENT;
		snprintf(why, len, "%s", strerror(errno));
		return NULL;
	}
	const char *bad = fstat(fd, &st) != 0      ? strerror(errno)
	                  : !S_ISREG(st.st_mode)   ? "not a regular file"
	                  : st.st_uid != geteuid() ? "belongs to another user"
	                  : st.st_size > FB_CHECKPOINT_MAX ? "too big"
	                                                   : NULL;
	char *buf = bad ? NULL : malloc((size_t)st.st_size + 1);
	ssize_t got = buf ? pread(fd, buf, (size_t)st.st_size, 0) : -1;
	int read_errno = errno;
	close(fd);
	if (!buf || got != (ssize_t)st.st_size) {
		snprintf(why, len, "%s",
		         bad       ? bad
		         : !buf    ? "out of memory"
		         : got < 0 ? strerror(read_errno)
		                   : "short read");
		free(buf);
		return NULL;
	}
	buf[(size_t)st.st_size] = '\0';
	return buf;
}

static bool get_u64(const cJSON *o, const char *key, uint64_t *out)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);
	int64_t v;
	if (!cJSON_IsNumber(m) ||
	    !fb_json_int(m->valuedouble, 0, FB_JSON_INT_MAX, &v))
		return false;
	*out = (uint64_t)v;
	return true;
}

static int read_place(const cJSON *o, const char *log_path, fb_log_place *at,
                      char *why, size_t len)
{
	uint64_t v = 0, offset = 0, line = 0;
	const cJSON *log = cJSON_GetObjectItemCaseSensitive(o, "log");
	if (!get_u64(o, "v", &v) || v != VERSION) {
		snprintf(why, len, "not a version %d checkpoint", VERSION);
		return -1;
	}
	if (!cJSON_IsString(log) || strcmp(log->valuestring, log_path) != 0) {
		snprintf(why, len, "written for another event log");
		return -1;
	}
	if (!get_u64(o, "dev", &at->dev) || !get_u64(o, "ino", &at->ino) ||
	    !get_u64(o, "offset", &offset) || !get_u64(o, "line", &line)) {
		snprintf(why, len, "bad or missing place in the log");
		return -1;
	}
	at->offset = (int64_t)offset;
	at->line = (int64_t)line;
	return 0;
}

int fb_checkpoint_read(const char *path, const char *log_path, fb_lasting *l,
                       fb_log_place *at, char *why, size_t len)
{
	bool missing;
	char *text = slurp(path, &missing, why, len);
	if (!text)
		return missing ? 1 : -1;
	cJSON *o = cJSON_Parse(text);
	free(text);
	int rc = -1;
	if (!cJSON_IsObject(o))
		snprintf(why, len, "not JSON (torn or corrupt)");
	else if (read_place(o, log_path, at, why, len) == 0)
		rc = fb_lasting_from_json(l, o, why, len);
	cJSON_Delete(o);
	return rc;
}
