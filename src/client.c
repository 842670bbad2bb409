/* One request, one reply over the control socket, with a deadline. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "fusebox/client.h"

#define REPLY_CAP (64 << 20)

static int connect_to(const char *path, fb_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof addr.sun_path) {
		snprintf(err->text, sizeof err->text,
		         "%s: socket path too long", path);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		snprintf(err->text, sizeof err->text,
		         "no running instance on %s (%s)", path,
		         strerror(errno));
		if (fd >= 0)
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
	int fd = connect_to(socket_path, err);
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

bool fb_gate_allows(const char *socket_path, int timeout_ms, char *reason,
                    size_t len)
{
	fb_error err;
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "gate_check");
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
