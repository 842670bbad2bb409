/* Shared test helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

void th_tempdir(char *out, size_t len)
{
	const char *base = getenv("TMPDIR");
	snprintf(out, len, "%s/fusebox-test-XXXXXX", base && base[0] ? base : "/tmp");
	if (!mkdtemp(out)) {
		perror("mkdtemp");
		abort();
	}
}

void th_rmtree(const char *path)
{
	char cmd[1200];
	if (strncmp(path, "/tmp/", 5) != 0 && !getenv("TMPDIR"))
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", path);
}

void th_write_file(const char *dir, const char *name, const char *text,
                   char *out, size_t len)
{
	snprintf(out, len, "%s/%s", dir, name);
	FILE *f = fopen(out, "w");
	if (!f) {
		perror(out);
		abort();
	}
	fputs(text, f);
	fclose(f);
}

uint64_t th_rng_next(void *ctx)
{
	th_rng_seq *r = ctx;
	uint64_t v = r->seq[r->i % r->n];
	r->i++;
	return v;
}

uint64_t th_unit(double u)
{
	return (uint64_t)(u * 9007199254740992.0) << 11;
}

/* ---- added for the core suites ----------------------------------------- */

long th_read_file(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
	return (long)n;
}

static const th_env_var *th_env_vars;
static size_t th_env_n;

void th_env_use(const th_env_var *vars, size_t n)
{
	th_env_vars = vars;
	th_env_n = n;
}

const char *th_getenv(const char *name)
{
	for (size_t i = 0; i < th_env_n; i++) {
		if (strcmp(th_env_vars[i].name, name) == 0)
			return th_env_vars[i].value;
	}
	return NULL;
}

void th_dep_init(fb_dep_config *d, const char *name, bool critical)
{
	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", name);
	d->kind = FB_KIND_HTTP;
	snprintf(d->scheme, sizeof d->scheme, "http");
	snprintf(d->host, sizeof d->host, "%s", name);
	d->port = 80;
	snprintf(d->health_path, sizeof d->health_path, "/health");
	snprintf(d->url, sizeof d->url, "http://%s:80/health", name);
	d->expect_lo = 200;
	d->expect_hi = 299;
	d->critical = critical;
#define TH_X_DEFAULT(id, key, type, def, lo, hi, help)                        \
	d->t[FB_T_##id] = def;                                                \
	d->source[FB_T_##id] = FB_SRC_BUILTIN;
	FB_TUNABLE_TABLE(TH_X_DEFAULT)
#undef TH_X_DEFAULT
	d->url_source = FB_SRC_FILE;
	d->line = 1;
}

void th_config_init(fb_config *cfg, size_t ndeps)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->deps = calloc(ndeps ? ndeps : 1, sizeof *cfg->deps);
	if (!cfg->deps)
		abort();
	cfg->ndeps = ndeps;
	cfg->gate_override_ttl_ms = 15 * FB_MS_M;
	cfg->control_mode = 0600;
}

/* ---- added for the end-to-end suites (processes, sockets, logs) ------- */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t th_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void th_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* In the child: fd `to` reads or writes `path` (NULL: /dev/null). */
static void th_redirect(int to, const char *path, int flags)
{
	int fd = open(path ? path : "/dev/null", flags | O_CLOEXEC, 0644);
	if (fd < 0 || dup2(fd, to) < 0)
		_exit(126);
	close(fd);
}

pid_t th_spawn(char *const argv[], const char *out_path, const char *err_path)
{
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* the child: never outlive the test, start with default signals */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(125);
	signal(SIGPIPE, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	th_redirect(STDIN_FILENO, NULL, O_RDONLY);
	th_redirect(STDOUT_FILENO, out_path, O_WRONLY | O_CREAT | O_APPEND);
	th_redirect(STDERR_FILENO, err_path, O_WRONLY | O_CREAT | O_APPEND);
	if (strchr(argv[0], '/'))
		execv(argv[0], argv);
	else
		execvp(argv[0], argv);
	_exit(127);
}

bool th_alive(pid_t pid)
{
	siginfo_t info;
	memset(&info, 0, sizeof info);
	return pid > 0 &&
	       waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       info.si_pid == 0;
}

bool th_wait_exit(pid_t pid, int timeout_ms, int *status)
{
	int64_t end = th_now_ms() + timeout_ms;
	int st = 0;
	if (pid <= 0)
		return false;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			if (status)
				*status = st;
			return true;
		}
		if (r < 0 && errno != EINTR)
			return false;
		if (th_now_ms() >= end)
			return false;
		th_sleep_ms(5);
	}
}

int th_kill(pid_t pid, int sig, int timeout_ms)
{
	int st;
	if (pid <= 0)
		return -1;
	kill(pid, sig);
	if (th_wait_exit(pid, timeout_ms, &st))
		return st;
	kill(pid, SIGKILL);
	return th_wait_exit(pid, 5000, &st) ? st : -1;
}

bool th_wait_until(th_cond_fn fn, void *ctx, int timeout_ms)
{
	int64_t end = th_now_ms() + timeout_ms;
	for (;;) {
		if (fn(ctx))
			return true;
		if (th_now_ms() >= end)
			return false;
		th_sleep_ms(20);
	}
}

static bool th_file_exists(void *ctx)
{
	struct stat st;
	return stat(ctx, &st) == 0;
}

bool th_wait_file(const char *path, int timeout_ms)
{
	return th_wait_until(th_file_exists, (void *)path, timeout_ms);
}

int th_unix_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof addr.sun_path)
		return -1;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool th_unix_accepts(void *ctx)
{
	int fd = th_unix_connect(ctx);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

bool th_wait_unix_socket(const char *path, int timeout_ms)
{
	return th_wait_until(th_unix_accepts, (void *)path, timeout_ms);
}

static int th_tcp_connect(int port, int timeout_ms)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		struct pollfd p = {fd, POLLOUT, 0};
		int so = 0;
		socklen_t sl = sizeof so;
		if (errno != EINPROGRESS || poll(&p, 1, timeout_ms) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) != 0 || so != 0) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static bool th_tcp_accepts(void *ctx)
{
	int fd = th_tcp_connect(*(int *)ctx, 200);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

bool th_wait_tcp_port(int port, int timeout_ms)
{
	return th_wait_until(th_tcp_accepts, &port, timeout_ms);
}

char *th_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0, got;
	char *buf = malloc(cap);
	while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			char *b = realloc(buf, cap * 2);
			if (!b) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = b;
			cap *= 2;
		}
	}
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

typedef struct th_text_wait {
	const char *path;
	th_text_fn fn;
	void *ctx;
} th_text_wait;

static bool th_text_holds(void *ctx)
{
	th_text_wait *w = ctx;
	size_t len = 0;
	char *text = th_slurp(w->path, &len);
	bool ok = w->fn(text ? text : "", text ? len : 0, w->ctx);
	free(text);
	return ok;
}

bool th_wait_file_text(const char *path, th_text_fn fn, void *ctx,
                       int timeout_ms)
{
	th_text_wait w = {path, fn, ctx};
	return th_wait_until(th_text_holds, &w, timeout_ms);
}

static bool th_has_needle(const char *text, size_t len, void *ctx)
{
	(void)len;
	return strstr(text, ctx) != NULL;
}

bool th_wait_file_contains(const char *path, const char *needle,
                           int timeout_ms)
{
	return th_wait_file_text(path, th_has_needle, (void *)needle, timeout_ms);
}

int th_free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t sl = sizeof a;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int port = -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &sl) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ---- running a command to completion ---------------------------------- */

typedef struct th_buf {
	char *p;
	size_t len, cap;
} th_buf;

static void th_buf_add(th_buf *b, const char *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (b->len + n + 1 > cap)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			abort();
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Reads what is there from *fd into b; closes it (sets -1) at EOF. */
static void th_drain(int *fd, th_buf *b)
{
	char chunk[4096];
	ssize_t n = read(*fd, chunk, sizeof chunk);
	if (n > 0) {
		th_buf_add(b, chunk, (size_t)n);
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		close(*fd);
		*fd = -1;
	}
}

int th_run(char *const argv[], int timeout_ms, th_result *r)
{
	int po[2], pe[2];
	th_buf out = {0}, err = {0};
	int64_t start = th_now_ms(), end = start + timeout_ms;
	memset(r, 0, sizeof *r);
	th_buf_add(&out, "", 0);
	th_buf_add(&err, "", 0);
	r->code = -1;
	if (pipe2(po, O_CLOEXEC) != 0)
		abort();
	if (pipe2(pe, O_CLOEXEC) != 0)
		abort();
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_DFL);
		th_redirect(STDIN_FILENO, NULL, O_RDONLY);
		if (dup2(po[1], STDOUT_FILENO) < 0 || dup2(pe[1], STDERR_FILENO) < 0)
			_exit(126);
		if (strchr(argv[0], '/'))
			execv(argv[0], argv);
		else
			execvp(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	int fds[2] = {po[0], pe[0]};
	bool timed_out = false;
	while (pid > 0 && (fds[0] >= 0 || fds[1] >= 0)) {
		struct pollfd p[2];
		nfds_t n = 0;
		for (int i = 0; i < 2; i++) {
			if (fds[i] >= 0)
				p[n++] = (struct pollfd){fds[i], POLLIN, 0};
		}
		int64_t left = end - th_now_ms();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(p, n, (int)left) < 0 && errno != EINTR)
			break;
		for (nfds_t k = 0; k < n; k++) {
			if (!p[k].revents)
				continue;
			int i = p[k].fd == fds[0] ? 0 : 1;
			th_drain(&fds[i], i == 0 ? &out : &err);
		}
	}
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
	}
	int st = 0;
	if (pid > 0) {
		int64_t left = end - th_now_ms();
		if (timed_out || !th_wait_exit(pid, left > 0 ? (int)left : 1, &st)) {
			timed_out = true;
			kill(pid, SIGKILL);
			th_wait_exit(pid, 5000, &st);
		}
		if (!timed_out)
			r->code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	r->out = out.p;
	r->out_len = out.len;
	r->err = err.p;
	r->err_len = err.len;
	r->ms = th_now_ms() - start;
	return r->code;
}

void th_result_free(th_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* ---- the fault-injection HTTP fixture --------------------------------- */

static int th_read_port(const char *path)
{
	char text[32];
	char *end;
	if (th_read_file(path, text, sizeof text) <= 0)
		return -1;
	long v = strtol(text, &end, 10);
	return end != text && v > 0 && v < 65536 ? (int)v : -1;
}

int th_fixture_start(th_fixture *f, const char *bin, const char *dir)
{
	char port_file[600], err_file[600];
	snprintf(port_file, sizeof port_file, "%s/fixture.port", dir);
	snprintf(err_file, sizeof err_file, "%s/fixture.err", dir);
	unlink(port_file);
	char *argv[] = {(char *)bin, "--port", "0", "--port-file", port_file, NULL};
	f->port = -1;
	f->pid = th_spawn(argv, NULL, err_file);
	if (f->pid <= 0)
		return -1;
	if (!th_wait_file(port_file, 10000) ||
	    (f->port = th_read_port(port_file)) < 0 ||
	    !th_wait_tcp_port(f->port, 5000)) {
		th_fixture_stop(f);
		return -1;
	}
	return 0;
}

void th_fixture_stop(th_fixture *f)
{
	if (f->pid > 0)
		th_kill(f->pid, SIGTERM, 3000);
	f->pid = 0;
}

int th_http_get(int port, const char *target, char *body, size_t len,
                int timeout_ms)
{
	int64_t end = th_now_ms() + timeout_ms;
	char req[2300];
	int n = snprintf(req, sizeof req,
	                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	                 "Connection: close\r\n\r\n",
	                 target);
	if (n < 0 || (size_t)n >= sizeof req)
		return -1;
	int fd = th_tcp_connect(port, timeout_ms);
	if (fd < 0)
		return -1;
	th_buf in = {0};
	int status = -1;
	if (th_send_all(fd, req, (size_t)n, timeout_ms) == 0) {
		for (;;) {
			struct pollfd p = {fd, POLLIN, 0};
			int64_t left = end - th_now_ms();
			if (left <= 0 || poll(&p, 1, (int)left) != 1)
				break;
			char chunk[4096];
			ssize_t got = read(fd, chunk, sizeof chunk);
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got <= 0) {
				status = 0; /* complete */
				break;
			}
			th_buf_add(&in, chunk, (size_t)got);
		}
	}
	close(fd);
	if (status == 0 && in.p && sscanf(in.p, "HTTP/1.%*d %d", &status) != 1)
		status = -1;
	if (status > 0 && body && len) {
		const char *b = strstr(in.p, "\r\n\r\n");
		snprintf(body, len, "%s", b ? b + 4 : "");
	}
	free(in.p);
	return status;
}

static long th_fixture_number(const th_fixture *f, const char *what,
                              const char *path)
{
	char target[600], body[64], *end;
	snprintf(target, sizeof target, "/_ctl/%s?path=%s", what, path);
	if (th_http_get(f->port, target, body, sizeof body, 3000) != 200)
		return -1;
	long v = strtol(body, &end, 10);
	return end != body ? v : -1;
}

int th_fixture_set(const th_fixture *f, const char *path, const char *mode)
{
	char target[600];
	snprintf(target, sizeof target, "/_ctl/set?path=%s&mode=%s", path, mode);
	return th_http_get(f->port, target, NULL, 0, 3000) == 200 ? 0 : -1;
}

long th_fixture_count(const th_fixture *f, const char *path)
{
	return th_fixture_number(f, "count", path);
}

long th_fixture_inflight(const th_fixture *f, const char *path)
{
	return th_fixture_number(f, "inflight", path);
}

int th_fixture_clear(const th_fixture *f)
{
	return th_http_get(f->port, "/_ctl/clear", NULL, 0, 3000) == 200 ? 0 : -1;
}

/* ---- a real redis-server ---------------------------------------------- */

bool th_redis_ping(int port, int timeout_ms)
{
	char p[16];
	th_result r;
	snprintf(p, sizeof p, "%d", port);
	char *argv[] = {"redis-cli", "-h", "127.0.0.1", "-p", p, "ping", NULL};
	bool ok = th_run(argv, timeout_ms, &r) == 0 && strncmp(r.out, "PONG", 4) == 0;
	th_result_free(&r);
	return ok;
}

static bool th_redis_up(void *ctx)
{
	th_redis *r = ctx;
	return th_alive(r->pid) && th_redis_ping(r->port, 1000);
}

int th_redis_start(th_redis *r, const char *dir, int port)
{
	char p[16], log[600];
	if (dir != r->dir)
		snprintf(r->dir, sizeof r->dir, "%s", dir);
	r->port = port > 0 ? port : th_free_port();
	snprintf(p, sizeof p, "%d", r->port);
	snprintf(log, sizeof log, "%s/redis-%d.log", r->dir, r->port);
	char *argv[] = {"redis-server", "--port", p, "--bind", "127.0.0.1",
	                "--save", "", "--appendonly", "no", "--dir", r->dir,
	                "--daemonize", "no", NULL};
	r->pid = th_spawn(argv, log, log);
	if (r->pid <= 0 || !th_wait_until(th_redis_up, r, 10000)) {
		th_redis_kill(r);
		return -1;
	}
	return 0;
}

void th_redis_stop(th_redis *r)
{
	if (r->pid > 0)
		th_kill(r->pid, SIGTERM, 5000);
	r->pid = 0;
}

void th_redis_kill(th_redis *r)
{
	if (r->pid > 0)
		th_kill(r->pid, SIGKILL, 5000);
	r->pid = 0;
}

int th_redis_restart(th_redis *r)
{
	th_redis_stop(r);
	return th_redis_start(r, r->dir, r->port);
}

/* ---- Unix socket clients ---------------------------------------------- */

int th_send_all(int fd, const void *data, size_t len, int timeout_ms)
{
	int64_t end = th_now_ms() + timeout_ms;
	const char *p = data;
	while (len > 0) {
		struct pollfd pf = {fd, POLLOUT, 0};
		int64_t left = end - th_now_ms();
		if (left <= 0 || poll(&pf, 1, (int)left) != 1)
			return -1;
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int th_read_line(int fd, int timeout_ms, char **line)
{
	int64_t end = th_now_ms() + timeout_ms;
	th_buf in = {0};
	*line = NULL;
	for (;;) {
		char *nl = in.p ? memchr(in.p, '\n', in.len) : NULL;
		if (nl) {
			*nl = '\0';
			*line = in.p;
			return TH_LINE;
		}
		struct pollfd p = {fd, POLLIN, 0};
		int64_t left = end - th_now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) != 1) {
			free(in.p);
			return TH_TIMEOUT;
		}
		char chunk[4096];
		ssize_t n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			free(in.p);
			return TH_CLOSED;
		}
		th_buf_add(&in, chunk, (size_t)n);
	}
}

int th_unix_exchange(const char *path, const void *data, size_t len,
                     int timeout_ms, char **line)
{
	*line = NULL;
	int fd = th_unix_connect(path);
	if (fd < 0)
		return TH_NOCONNECT;
	/* a refused send may still have left a reply to read */
	th_send_all(fd, data, len, timeout_ms);
	int rc = th_read_line(fd, timeout_ms, line);
	close(fd);
	return rc;
}

/* ---- JSON Lines event logs -------------------------------------------- */

cJSON *th_jsonl_read(const char *path, int *bad, int *first_bad)
{
	size_t len;
	char *text = th_slurp(path, &len);
	int nbad = 0, first = 0, lineno = 0;
	if (!text)
		return NULL;
	cJSON *arr = cJSON_CreateArray();
	size_t pos = 0;
	while (arr && pos < len) {
		char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		lineno++;
		cJSON *o = cJSON_ParseWithLength(text + pos, end - pos);
		if (cJSON_IsObject(o)) {
			cJSON_AddItemToArray(arr, o);
		} else {
			cJSON_Delete(o);
			if (!nbad++)
				first = lineno;
		}
		pos = end + 1;
	}
	free(text);
	if (bad)
		*bad = nbad;
	if (first_bad)
		*first_bad = first;
	return arr;
}

const char *th_json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double th_json_num(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static bool th_member_is(const cJSON *ev, const char *key, const char *want)
{
	const char *v;
	return !want || ((v = th_json_str(ev, key)) && strcmp(v, want) == 0);
}

bool th_event_matches(const cJSON *ev, const char *kind, const char *dep,
                      const char *from, const char *to)
{
	return th_member_is(ev, "kind", kind) && th_member_is(ev, "dep", dep) &&
	       th_member_is(ev, "from", from) && th_member_is(ev, "to", to);
}

int th_events_index(const cJSON *events, int nth, const char *kind,
                    const char *dep, const char *from, const char *to)
{
	int i = 0, seen = 0;
	const cJSON *ev;
	cJSON_ArrayForEach(ev, events)
	{
		if (th_event_matches(ev, kind, dep, from, to) && seen++ == nth)
			return i;
		i++;
	}
	return -1;
}

int th_events_count(const cJSON *events, const char *kind, const char *dep,
                    const char *from, const char *to)
{
	int n = 0;
	const cJSON *ev;
	cJSON_ArrayForEach(ev, events)
	{
		n += th_event_matches(ev, kind, dep, from, to);
	}
	return n;
}

const cJSON *th_events_nth(const cJSON *events, int nth, const char *kind,
                           const char *dep, const char *from, const char *to)
{
	int i = th_events_index(events, nth, kind, dep, from, to);
	return i < 0 ? NULL : cJSON_GetArrayItem(events, i);
}

typedef struct th_event_wait {
	const char *path, *kind, *dep, *from, *to;
	int n;
} th_event_wait;

static bool th_events_there(void *ctx)
{
	th_event_wait *w = ctx;
	cJSON *events = th_jsonl_read(w->path, NULL, NULL);
	bool ok = events &&
	          th_events_count(events, w->kind, w->dep, w->from, w->to) >= w->n;
	cJSON_Delete(events);
	return ok;
}

bool th_wait_events(const char *path, int n, const char *kind,
                    const char *dep, const char *from, const char *to,
                    int timeout_ms)
{
	th_event_wait w = {path, kind, dep, from, to, n};
	return th_wait_until(th_events_there, &w, timeout_ms);
}

int64_t th_rfc3339_ms(const char *ts)
{
	struct tm tm;
	int ms = -1, used = 0;
	memset(&tm, 0, sizeof tm);
	if (!ts || sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year,
	                  &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
	                  &tm.tm_sec, &ms, &used) != 7 ||
	    used != 24 || ts[used] != '\0')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t secs = timegm(&tm);
	return secs < 0 ? -1 : (int64_t)secs * 1000 + ms;
}

/* ---- a terminal program inside tmux (the console suite) --------------- */

#include <dirent.h>
#include <stdarg.h>

int th_tmux(const char *sock, char **out, ...)
{
	char *argv[40] = {"tmux", "-L", (char *)sock};
	size_t n = 3;
	va_list ap;
	va_start(ap, out);
	for (char *a; (a = va_arg(ap, char *)) != NULL && n + 1 < 40;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	th_result r;
	int code = th_run(argv, 5000, &r);
	if (out) {
		*out = code == 0 ? r.out : NULL;
		if (code == 0)
			r.out = NULL;
	}
	th_result_free(&r);
	return code;
}

int th_tmux_start(const char *sock, const char *dir, int cols, int rows,
                  const char *cmd)
{
	char conf[600], x[16], y[16];
	th_write_file(dir, "tmux.conf",
	              "set -g status off\n"
	              "set -g remain-on-exit on\n"
	              "set -g history-limit 100\n",
	              conf, sizeof conf);
	snprintf(x, sizeof x, "%d", cols);
	snprintf(y, sizeof y, "%d", rows);
	return th_tmux(sock, NULL, "-f", conf, "new-session", "-d", "-x", x, "-y",
	               y, "-e", "LANG=C.UTF-8", "-e", "LC_ALL=C.UTF-8", "-e",
	               "TZ=UTC", "-e", "NO_COLOR=", (char *)cmd, (char *)NULL) == 0
	           ? 0
	           : -1;
}

char *th_tmux_capture(const char *sock, bool escapes)
{
	char *out = NULL;
	if (escapes)
		th_tmux(sock, &out, "capture-pane", "-p", "-e", (char *)NULL);
	else
		th_tmux(sock, &out, "capture-pane", "-p", (char *)NULL);
	return out;
}

char *th_tmux_display(const char *sock, const char *format)
{
	char *out = NULL;
	if (th_tmux(sock, &out, "display-message", "-p", (char *)format,
	            (char *)NULL) != 0)
		return NULL;
	size_t len = strlen(out);
	while (len && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		out[--len] = '\0';
	return out;
}

bool th_tmux_wait(const char *sock, bool escapes, th_screen_fn fn, void *ctx,
                  int timeout_ms, char **last)
{
	int64_t end = th_now_ms() + timeout_ms;
	char *screen = NULL;
	bool ok = false;
	for (;;) {
		free(screen);
		screen = th_tmux_capture(sock, escapes);
		if (screen && fn(screen, ctx)) {
			ok = true;
			break;
		}
		if (th_now_ms() >= end)
			break;
		th_sleep_ms(25);
	}
	if (last)
		*last = screen;
	else
		free(screen);
	return ok;
}

bool th_screen_has(const char *screen, void *needle)
{
	return strstr(screen, needle) != NULL;
}

bool th_screen_lacks(const char *screen, void *needle)
{
	return strstr(screen, needle) == NULL;
}

const char *th_screen_line(const char *screen, int line, char *out, size_t len)
{
	const char *p = screen;
	for (int i = 0; p && i < line; i++) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	size_t n = p ? strcspn(p, "\n") : 0;
	snprintf(out, len, "%.*s", (int)n, p ? p : "");
	return out;
}

int th_screen_row_of(const char *screen, const char *name)
{
	size_t n = strlen(name);
	int line = 0;
	for (const char *p = screen; p && *p; line++) {
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return line;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return -1;
}

const char *th_screen_row(const char *screen, const char *name, char *out,
                          size_t len)
{
	int r = th_screen_row_of(screen, name);
	if (r < 0) {
		out[0] = '\0';
		return out;
	}
	return th_screen_line(screen, r, out, len);
}

const char *th_screen_line_with(const char *screen, const char *const *needles,
                                char *out, size_t len)
{
	for (const char *p = screen; p && *p;) {
		size_t n = strcspn(p, "\n");
		snprintf(out, len, "%.*s", (int)n, p);
		bool all = true;
		for (const char *const *k = needles; *k && all; k++)
			all = strstr(out, *k) != NULL;
		if (all)
			return out;
		p += n + (p[n] == '\n');
	}
	return NULL;
}

int th_tmux_keys(const char *sock, const char *key)
{
	return th_tmux(sock, NULL, "send-keys", "-t", "=0:", key, (char *)NULL);
}

int th_tmux_type(const char *sock, const char *text)
{
	return th_tmux(sock, NULL, "send-keys", "-t", "=0:", "-l", text,
	               (char *)NULL);
}

bool th_tmux_wait_text(const char *sock, const char *needle, int timeout_ms)
{
	return th_tmux_wait(sock, false, th_screen_has, (void *)needle, timeout_ms,
	                    NULL);
}

bool th_tmux_wait_gone(const char *sock, const char *needle, int timeout_ms)
{
	return th_tmux_wait(sock, false, th_screen_lacks, (void *)needle,
	                    timeout_ms, NULL);
}

/* The console is asked to quit before the server goes: a sanitized
 * console whose terminal hangs up spins for ever in LeakSanitizer's
 * exit-time scan (its tracer waits on a process that never stops), and
 * each such orphan eats half a core for the rest of the run. Esc leaves
 * any dialog, q leaves a replay and then the console; a pane whose
 * command went on to `exec sleep` or a session that ended is done. */
void th_tmux_kill(const char *sock)
{
	for (int i = 0; i < 10; i++) {
		char *cmd = th_tmux_display(sock, "#{pane_current_command}");
		bool done = !cmd || strcmp(cmd, "sleep") == 0;
		free(cmd);
		if (done)
			break;
		th_tmux(sock, NULL, "send-keys", "Escape", (char *)NULL);
		th_sleep_ms(60);
		th_tmux(sock, NULL, "send-keys", "q", (char *)NULL);
		th_sleep_ms(300);
	}
	th_tmux(sock, NULL, "kill-server", (char *)NULL);
}

pid_t th_proc_find(const char *argv0, const char *arg)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = -1;
	if (!d)
		return -1;
	while (found < 0 && (e = readdir(d)) != NULL) {
		char *end, path[300], cmd[4096];
		long pid = strtol(e->d_name, &end, 10);
		if (end == e->d_name || *end || pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, cmd, sizeof cmd - 1);
		close(fd);
		if (n <= 0)
			continue;
		cmd[n] = '\0';
		if (strcmp(cmd, argv0) != 0 || !th_proc_alive((pid_t)pid))
			continue;
		bool match = arg == NULL;
		for (size_t off = strlen(cmd) + 1; !match && off < (size_t)n;
		     off += strlen(cmd + off) + 1)
			match = strcmp(cmd + off, arg) == 0;
		if (match)
			found = (pid_t)pid;
	}
	closedir(d);
	return found;
}

bool th_proc_alive(pid_t pid)
{
	char path[64], text[512];
	if (pid <= 0)
		return false;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (th_read_file(path, text, sizeof text) <= 0)
		return false;
	const char *p = strrchr(text, ')'); /* the name may hold spaces */
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static bool th_proc_gone(void *ctx)
{
	return !th_proc_alive(*(pid_t *)ctx);
}

bool th_proc_wait_gone(pid_t pid, int timeout_ms)
{
	return th_wait_until(th_proc_gone, &pid, timeout_ms);
}

/* ---- one test's world ---------------------------------------------------- */

th_env *th_env_new(const char *fixture_bin)
{
	th_env *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	th_tempdir(e->dir, sizeof e->dir);
	snprintf(e->cfg, sizeof e->cfg, "%s/fusebox.ini", e->dir);
	snprintf(e->log, sizeof e->log, "%s/events.jsonl", e->dir);
	snprintf(e->sock, sizeof e->sock, "%s/ctl.sock", e->dir);
	snprintf(e->out, sizeof e->out, "%s/run.out", e->dir);
	snprintf(e->err, sizeof e->err, "%s/run.err", e->dir);
	if (th_fixture_start(&e->fx, fixture_bin, e->dir) != 0) {
		fprintf(stderr, "# cannot start %s\n", fixture_bin);
		th_rmtree(e->dir);
		free(e);
		return NULL;
	}
	return e;
}

void th_env_free(th_env *e)
{
	if (!e)
		return;
	if (e->fb > 0)
		th_kill(e->fb, SIGKILL, 3000);
	th_fixture_stop(&e->fx);
	th_redis_kill(&e->redis);
	if (!getenv("FB_KEEP_TMP"))
		th_rmtree(e->dir);
	else
		fprintf(stderr, "# kept %s\n", e->dir);
	free(e);
}

void th_show_tail(const char *label, const char *path)
{
	size_t len = 0;
	char *text = th_slurp(path, &len);
	if (!text)
		return;
	size_t from = len > 3000 ? len - 3000 : 0;
	fprintf(stderr, "---- %s (last %zu bytes) ----\n%s\n", label, len - from,
	              text + from);
	free(text);
}

static int locate(char *out, const char *env_name, const char *rel)
{
	const char *p = getenv(env_name);
	if (!realpath(p && p[0] ? p : rel, out) || access(out, X_OK) != 0) {
		fprintf(stderr, "# %s not found: run `make %s` from the top folder "
		                "or set %s\n", rel, rel, env_name);
		return -1;
	}
	return 0;
}

int th_suite_bins(char *fusebox, char *fixture)
{
	signal(SIGPIPE, SIG_IGN);
	/* a suite run from a service must not talk to its service manager */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("JOURNAL_STREAM");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (locate(fusebox, "FUSEBOX_BIN", "build/tests/fusebox") != 0 ||
	    locate(fixture, "FIXTURE_BIN", "build/tests/fixture-httpd") != 0)
		return -1;
	return 0;
}

int th_mkdirs(const char *path, int mode)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, (mode_t)mode) == 0 || errno == EEXIST ? 0 : -1;
}
