/* The checks of a configuration that need the instance's own machine:
 * the event log's and the control socket's places, and the group. `run`
 * and `check-config` make them; commands that only ask an instance do
 * not (they may run as another user who cannot see the log). */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "fusebox/config.h"

static int refuse(fb_error *err, const fb_config *c, int line, const char *key,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "FILE:LINE: KEY: what", or "FILE: KEY (the default): what". */
static int refuse(fb_error *err, const fb_config *c, int line, const char *key,
                  const char *fmt, ...)
{
	int n = line > 0 ? snprintf(err->text, sizeof err->text,
	                            "%s:%d: %s: ", c->path, line, key)
	                 : snprintf(err->text, sizeof err->text,
	                            "%s: %s (the default): ", c->path, key);
	if (n > 0 && (size_t)n < sizeof err->text) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->text + n, sizeof err->text - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Is the folder of path an existing folder? */
static bool folder_exists(const char *path)
{
	char dir[512];
	struct stat st;
	snprintf(dir, sizeof dir, "%s", path);
	return stat(dirname(dir), &st) == 0 && S_ISDIR(st.st_mode);
}

static int check_log(const fb_config *c, fb_error *err)
{
	struct stat st;
	if (lstat(c->log, &st) == 0) {
		if (S_ISLNK(st.st_mode))
			return refuse(err, c, c->line.log, "log",
			              "%s is a symbolic link; refused", c->log);
		if (!S_ISREG(st.st_mode))
			return refuse(err, c, c->line.log, "log",
			              "%s is %s, not a regular file", c->log,
			              S_ISDIR(st.st_mode) ? "a folder"
			                                  : "a FIFO or device");
	} else if (errno != ENOENT || !folder_exists(c->log)) {
		return refuse(err, c, c->line.log, "log", "%s: %s", c->log,
		              errno == ENOENT ? "its folder does not exist"
		                              : strerror(errno));
	}
	return 0;
}

static int check_socket(const fb_config *c, fb_error *err)
{
	struct sockaddr_un addr;
	size_t len = strlen(c->control_socket);
	int line = c->line.control_socket;
	if (strcmp(c->control_socket, c->log) == 0)
		return refuse(err, c, line, "control_socket",
		              "%s is the event log; they must differ",
		              c->control_socket);
	if (len >= sizeof addr.sun_path)
		return refuse(err, c, line, "control_socket",
		              "%s is too long for a Unix socket (%zu bytes, at "
		              "most %zu)",
		              c->control_socket, len, sizeof addr.sun_path - 1);
	if (!c->control_socket_default && !folder_exists(c->control_socket))
		return refuse(err, c, line, "control_socket",
		              "%s: its folder does not exist",
		              c->control_socket);
	return 0;
}

int fb_config_check_paths(const fb_config *c, fb_error *err)
{
	if (check_log(c, err) != 0 || check_socket(c, err) != 0)
		return -1;
	if (c->control_group[0] && !getgrnam(c->control_group))
		return refuse(err, c, c->line.control_group, "control_group",
		              "no such group '%s'", c->control_group);
	return 0;
}
