/* Non-blocking TCP connect, shared by the TCP and Redis probes. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe_impl.h"

int net_connect_start(const char *host, int port, char *err, size_t len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res;
	char service[16];
	const char *name = host;
	char bare[256];
	size_t hl = strlen(host);
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof bare) {
		memcpy(bare, host + 1, hl - 2); /* an IPv6 literal in brackets */
		bare[hl - 2] = '\0';
		name = bare;
	}
	snprintf(service, sizeof service, "%d", port);
	int rc = getaddrinfo(name, service, &hints, &res);
	if (rc != 0) {
		snprintf(err, len, "DNS: %s: %s", host, gai_strerror(rc));
		return -1;
	}
	int fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                res->ai_protocol);
	if (fd < 0) {
		snprintf(err, len, "socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	if (connect(fd, res->ai_addr, res->ai_addrlen) != 0 && errno != EINPROGRESS) {
		snprintf(err, len, "connect: %s", strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int net_connect_result(int fd, char *err, size_t len)
{
	int so = 0;
	socklen_t sl = sizeof so;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) != 0)
		so = errno;
	if (so == 0)
		return 0;
	snprintf(err, len, "connect: %s", strerror(so));
	return -1;
}
