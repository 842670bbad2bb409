/* Time to a served control socket: starts CMD, asks SOCKET
 * {"op":"gate_check"} every millisecond until a reply line comes, prints
 * "MS REPLY" and kills CMD with SIGKILL (a crash: nothing written on the
 * way out). Usage: start_ms SOCKET ERRFILE CMD [ARG...]; exit 1 when no
 * reply comes within 60 s. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* One gate_check; the reply line in buf, or -1. */
static int ask(const char *path, char *buf, size_t len)
{
	static const char req[] = "{\"op\":\"gate_check\"}\n";
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof a.sun_path)
		return -1;
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	size_t got = 0;
	int rc = -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    send(fd, req, sizeof req - 1, MSG_NOSIGNAL) ==
	        (ssize_t)(sizeof req - 1)) {
		struct pollfd p = {fd, POLLIN, 0};
		while (got + 1 < len && poll(&p, 1, 10000) == 1) {
			ssize_t n = read(fd, buf + got, len - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			if (memchr(buf, '\n', got)) {
				rc = 0;
				break;
			}
		}
	}
	close(fd);
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return rc;
}

int main(int argc, char **argv)
{
	char reply[4096];
	if (argc < 4) {
		fprintf(stderr,
		        "usage: start_ms SOCKET ERRFILE CMD [ARG...]\n");
		return 2;
	}
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
		int null = open("/dev/null", O_RDWR);
		if (fd < 0 || null < 0)
			_exit(126);
		dup2(null, 0);
		dup2(null, 1);
		dup2(fd, 2);
		execv(argv[3], argv + 3);
		_exit(127);
	}
	if (pid < 0)
		return 1;
	int found = -1;
	while (now_ms() - t0 < 60000) {
		if ((found = ask(argv[1], reply, sizeof reply)) == 0)
			break;
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			pid = -1;
			break;
		}
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
	}
	double took = now_ms() - t0;
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (found != 0) {
		fprintf(stderr, "start_ms: no reply on %s\n", argv[1]);
		return 1;
	}
	printf("%.1f %s\n", took, reply);
	return 0;
}
