/* The instance id file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fleet.h"
#include "fleet_id.h"

static bool is_id(const char *s, size_t n)
{
	if (n != FB_FLEET_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* 0: read; 1: there is none; -1: a bad file (*err). */
static int read_id(const char *path, char *out, size_t len, fb_error *err)
{
	char buf[FB_FLEET_ID_LEN + 2];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0) {
		snprintf(err->text, sizeof err->text, "%s: %s", path,
		         strerror(errno));
		return -1;
	}
	ssize_t n = read(fd, buf, sizeof buf);
	close(fd);
	size_t got = n > 0 ? (size_t)n : 0;
	if (got && buf[got - 1] == '\n')
		got--;
	if (!is_id(buf, got) || len <= FB_FLEET_ID_LEN) {
		snprintf(err->text, sizeof err->text,
		         "%s: not an instance id (%d hex digits); remove it to "
		         "make a new one",
		         path, FB_FLEET_ID_LEN);
		return -1;
	}
	memcpy(out, buf, FB_FLEET_ID_LEN);
	out[FB_FLEET_ID_LEN] = '\0';
	return 0;
}

static int make_id(const char *path, fb_error *err)
{
	unsigned char raw[FB_FLEET_ID_LEN / 2];
	char text[FB_FLEET_ID_LEN + 1], tmp[640];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		snprintf(err->text, sizeof err->text, "instance id: %s",
		         strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(text + 2 * i, 3, "%02x", raw[i]);
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	              0600);
	if (fd < 0) {
		snprintf(err->text, sizeof err->text, "%s: %s", tmp,
		         strerror(errno));
		return -1;
	}
	text[FB_FLEET_ID_LEN] = '\n';
	bool ok = write(fd, text, sizeof text) == (ssize_t)sizeof text &&
	          fsync(fd) == 0;
	int saved = errno;
	close(fd);
	/* link() never replaces: when another start won, its id stands */
	if (ok && link(tmp, path) != 0 && errno != EEXIST) {
		saved = errno;
		ok = false;
	}
	unlink(tmp);
	if (!ok) {
		snprintf(err->text, sizeof err->text, "%s: %s", path,
		         strerror(saved));
		return -1;
	}
	return 0;
}

int fb_fleet_id_load(const char *log_path, char *out, size_t len, fb_error *err)
{
	char path[600];
	if ((size_t)snprintf(path, sizeof path, "%s.instance", log_path) >=
	    sizeof path) {
		snprintf(err->text, sizeof err->text, "log path too long");
		return -1;
	}
	int rc = read_id(path, out, len, err);
	if (rc == 1 && make_id(path, err) == 0)
		rc = read_id(path, out, len, err);
	return rc == 0 ? 0 : -1;
}
