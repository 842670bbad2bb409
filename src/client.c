/* One request, one reply over the control socket, with a deadline. */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "fusebox/client.h"

#define REPLY_CAP (64 << 20)

/* Could only `uid` (or root) have put something in folder `dir`? It is a
 * real folder of uid's that no one else may write to, in a parent no one
 * else may write to either (so no one else made it: /tmp fails). */
static bool folder_only_of(const char *dir, uid_t uid)
{
	char parent[512];
	struct stat st, pst;
	snprintf(parent, sizeof parent, "%s", dir);
	return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	       st.st_uid == uid && !(st.st_mode & 022) &&
	       lstat(dirname(parent), &pst) == 0 &&
	       (pst.st_uid == 0 || pst.st_uid == uid) && !(pst.st_mode & 022);
}

/* Is the peer someone whose answer we may take: ourselves, root, or the
 * user whose private folder the socket is in (a fusebox user under
 * systemd, say)? Anyone else could have bound the path first to fake the
 * gate's answer. */
static int connect_to(const char *path, int64_t deadline, fb_error *err);

static bool peer_trusted(int fd, const char *path, fb_error *err)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		snprintf(err->text, sizeof err->text,
		         "%s: cannot tell who serves it (%s); not trusted",
		         path, strerror(errno));
		return false;
	}
	if (cred.uid == getuid() || cred.uid == geteuid() || cred.uid == 0)
		return true;
	char dir[512];
	snprintf(dir, sizeof dir, "%s", path);
	if (folder_only_of(dirname(dir), cred.uid))
		return true;
	snprintf(err->text, sizeof err->text,
	         "%s is served by uid %u, which is not you, root or the owner "
	         "of a private folder it is in: not trusted",
	         path, (unsigned)cred.uid);
	return false;
}

int fb_client_connect(const char *path, int timeout_ms, fb_error *err)
{
	return connect_to(path, fb_now_ms() + timeout_ms, err);
}

/* Connects by the deadline (a full backlog is waited out, not hung on)
 * to a peer we trust. Returns the fd, or -1 with *err. */
static int connect_to(const char *path, int64_t deadline, fb_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof addr.sun_path) {
		snprintf(err->text, sizeof err->text,
		         "%s: socket path too long", path);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int rc = -1;
	while (fd >= 0 &&
	       (rc = connect(fd, (struct sockaddr *)&addr, sizeof addr)) != 0 &&
	       (errno == EAGAIN || errno == EINTR) && fb_now_ms() < deadline)
		poll(NULL, 0, 5); /* the backlog is full: try again shortly */
	if (rc != 0) {
		snprintf(err->text, sizeof err->text,
		         "no running instance on %s (%s)", path,
		         errno == EAGAIN ? "it accepts no connection in time"
		                         : strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!peer_trusted(fd, path, err)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits for fd to be ready for `events` until the deadline. */
static bool wait_for(int fd, short events, int64_t deadline)
{
	struct pollfd p = {fd, events, 0};
	int64_t left = deadline - fb_now_ms();
	return left > 0 && poll(&p, 1, (int)left) == 1;
}

static int send_line(int fd, const char *text, int64_t deadline)
{
	size_t len = strlen(text), off = 0;
	while (off < len) {
		if (!wait_for(fd, POLLOUT, deadline))
			return -1;
		ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Reads up to the first newline. Returns a new string or NULL. */
static char *read_line(int fd, int64_t deadline)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	while (buf) {
		if (!wait_for(fd, POLLIN, deadline))
			break;
		if (len + 1 >= cap) {
			char *b =
			    cap < REPLY_CAP ? realloc(buf, cap * 2) : NULL;
			if (!b)
				break;
			buf = b;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		char *nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			*nl = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

cJSON *fb_client_call(const char *socket_path, const cJSON *request,
                      int timeout_ms, fb_error *err)
{
	int64_t deadline = fb_now_ms() + timeout_ms;
	int fd = connect_to(socket_path, deadline, err);
	if (fd < 0)
		return NULL;
	char *req = cJSON_PrintUnformatted(request);
	char *line = NULL;
	size_t rlen = req ? strlen(req) : 0;
	char *framed = req ? malloc(rlen + 2) : NULL;
	if (framed) {
		memcpy(framed, req, rlen);
		memcpy(framed + rlen, "\n", 2);
		if (send_line(fd, framed, deadline) == 0)
			line = read_line(fd, deadline);
	}
	free(req);
	free(framed);
	close(fd);
	cJSON *reply = line ? cJSON_Parse(line) : NULL;
	free(line);
	if (!reply)
		snprintf(err->text, sizeof err->text,
		         "no answer from the instance on %s within %d ms",
		         socket_path, timeout_ms);
	return reply;
}

/* Asks the local gate, or the fleet gate with `fleet`. */
static bool gate_allows(const char *socket_path, bool fleet, int timeout_ms,
                        char *reason, size_t len)
{
	fb_error err;
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "gate_check");
	if (fleet)
		cJSON_AddBoolToObject(req, "fleet", true);
	cJSON *reply =
	    req ? fb_client_call(socket_path, req, timeout_ms, &err) : NULL;
	cJSON_Delete(req);
	const cJSON *gate = cJSON_GetObjectItemCaseSensitive(reply, "gate");
	const cJSON *decision =
	    cJSON_GetObjectItemCaseSensitive(gate, "decision");
	const cJSON *why = cJSON_GetObjectItemCaseSensitive(gate, "reason");
	bool allowed = cJSON_IsString(decision) &&
	               strcmp(decision->valuestring, "allowed") == 0;
	if (reason && len)
		snprintf(reason, len, "%s",
		         cJSON_IsString(why) ? why->valuestring
		         : reply             ? "the instance gave no decision"
		                             : err.text);
	cJSON_Delete(reply);
	return allowed;
}

bool fb_gate_allows(const char *socket_path, int timeout_ms, char *reason,
                    size_t len)
{
	return gate_allows(socket_path, false, timeout_ms, reason, len);
}

bool fb_gate_allows_fleet(const char *socket_path, int timeout_ms, char *reason,
                          size_t len)
{
	return gate_allows(socket_path, true, timeout_ms, reason, len);
}
