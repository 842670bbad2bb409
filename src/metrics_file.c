/* The metrics file: written atomically, on a timer of the runtime. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "metrics.h"
#include "metrics_doc.h"
#include "metrics_file.h"
#include "runtime.h"

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The folder a rename in it must survive a crash for. */
static void sync_folder(const char *path, size_t dir_len)
{
	char dir[1024] = ".";
	if (dir_len >= sizeof dir)
		return;
	if (dir_len) {
		memcpy(dir, path, dir_len);
		dir[dir_len] = '\0';
	} else if (path[0] == '/') {
		snprintf(dir, sizeof dir, "/");
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int fb_write_atomic(const char *path, const char *data, size_t len,
                    fb_error *err)
{
	return fb_write_atomic_mode(path, data, len, 0644, err);
}

int fb_write_atomic_mode(const char *path, const char *data, size_t len,
                         mode_t mode, fb_error *err)
{
	const char *slash = strrchr(path, '/');
	size_t dir_len = slash ? (size_t)(slash - path) : 0;
	char tmp[1200];
	int n = snprintf(tmp, sizeof tmp, "%.*s%s.%s.%ld.tmp", (int)dir_len,
	                 path, slash ? "/" : "", slash ? slash + 1 : path,
	                 (long)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp) {
		snprintf(err->text, sizeof err->text, "%s: path too long",
		         path);
		return -1;
	}
	int fd = open(
	    tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	const char *step = fd < 0                          ? "open"
	                   : write_all(fd, data, len) != 0 ? "write"
	                   : fsync(fd) != 0                ? "fsync"
	                                                   : NULL;
	int why = errno;
	if (fd >= 0 && close(fd) != 0 && !step) {
		step = "close";
		why = errno;
	}
	if (!step && rename(tmp, path) != 0) {
		step = "rename";
		why = errno;
	}
	if (step) {
		snprintf(err->text, sizeof err->text, "%s: %s: %s", path, step,
		         strerror(why));
		if (fd >= 0)
			unlink(tmp);
		return -1;
	}
	sync_folder(path, dir_len);
	return 0;
}

/* Once per episode: the first failure, and the first success after. */
static void report(fb_metrics_file *m, const char *path, int rc,
                   const fb_error *err)
{
	if (rc != 0 && !m->failing)
		fb_cli_error("metrics file %s; retrying every %ds, quiet until "
		             "it works",
		             err->text, FB_METRICS_PERIOD_MS / 1000);
	else if (rc == 0 && m->failing)
		fb_cli_error("metrics file %s: written again", path);
	m->failing = rc != 0;
}

int64_t fb_metrics_file_run(fb_runtime *rt, int64_t now_ms)
{
	fb_metrics_file *m = &rt->metrics_file;
	fb_error err;
	size_t len = 0;
	if (m->written[0] && strcmp(m->written, rt->cfg.metrics_file) != 0) {
		unlink(m->written);
		m->written[0] = '\0';
	}
	if (!rt->cfg.metrics_file[0])
		return FB_METRICS_PERIOD_MS;
	if (now_ms < m->due_ms)
		return m->due_ms - now_ms;
	m->last_ms = now_ms;
	m->due_ms = now_ms + FB_METRICS_PERIOD_MS;
	cJSON *doc = fb_metrics_json(&rt->engine, rt->cfg.host,
	                             &rt->metrics_info, now_ms, fb_wall_ms());
	char *text = doc ? fb_metrics_text(doc, &len) : NULL;
	cJSON_Delete(doc);
	int rc = -1;
	if (text)
		rc = fb_write_atomic(rt->cfg.metrics_file, text, len, &err);
	else
		snprintf(err.text, sizeof err.text, "%s: out of memory",
		         rt->cfg.metrics_file);
	free(text);
	if (rc == 0)
		snprintf(m->written, sizeof m->written, "%s",
		         rt->cfg.metrics_file);
	report(m, rt->cfg.metrics_file, rc, &err);
	return FB_METRICS_PERIOD_MS;
}

void fb_metrics_file_soon(fb_metrics_file *m, int64_t now_ms)
{
	int64_t soon = m->last_ms + FB_METRICS_SOON_MS;
	if (soon < now_ms)
		soon = now_ms;
	if (soon < m->due_ms)
		m->due_ms = soon;
}

void fb_metrics_file_down(fb_runtime *rt)
{
	const char *text = fb_metrics_down_text();
	fb_error err;
	if (!rt->cfg.metrics_file[0] ||
	    fb_write_atomic(rt->cfg.metrics_file, text, strlen(text), &err) ==
	        0)
		return;
	if (!rt->metrics_file.failing) /* else it was said already */
		fb_cli_error("metrics file %s", err.text);
}
