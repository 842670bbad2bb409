/* `fusebox gate exec [--on-block term|wait] -- CMD [ARG...]` (SPEC
 * section 3): runs a destructive job only while the gate allows.
 *
 * Before: the gate is asked through a `watch` (its first line is the
 * status document), then the instance records job_start -- which it
 * refuses while the gate blocks, so the check and the record are one
 * step. Not allowed, or not asked at all: exit 75 and CMD never runs.
 * While CMD runs (in a process group of its own) the watch stream says
 * when the gate blocks. A stream that drops is opened again within
 * RECONNECT_MS; an instance that stays away counts as a block: fail
 * closed. On a block, `term` (the default) sends the job's group SIGTERM,
 * SIGKILL KILL_AFTER_MS later, and exits 75; `wait` lets the job finish
 * and says so (on stderr and in job_end), for jobs that are worse
 * stopped half-way than finished. job_end records the exit status and
 * why the job ended. Otherwise the job's own exit status is ours. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "clock.h"

#define ASK_TIMEOUT_MS 5000
#define RECONNECT_MS   2000      /* a dropped watch may come back this soon */
#define KILL_AFTER_MS  10000     /* SIGTERM, then SIGKILL this much later */
#define LINE_CAP       (4 << 20) /* a status document may be large */
#define COMMAND_CAP    1024

typedef struct job {
	const fb_config *cfg;
	bool wait_mode;
	char command[COMMAND_CAP];
	pid_t pid;
	int sigfd;
	int watch; /* the watch stream; -1 while there is none */
	char *buf; /* its unread bytes */
	size_t have;
	int64_t lost_at; /* when the stream dropped; 0 while it is up */
	bool blocked;    /* the gate blocked while the job ran */
	char why[320];   /* why (the gate's reason, or the lost instance) */
	int64_t kill_at; /* SIGKILL then; 0 none due */
	int interrupted; /* a signal we were sent and passed on; 0 none */
	bool has_tty;    /* the job has the terminal's foreground */
} job;

/* The command line, each argument quoted when it needs it, cut at the
 * cap: what job_start and job_end record. */
static void join(char *const *argv, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (int i = 0; argv[i] && used + 1 < len; i++) {
		bool plain = argv[i][0] && !strpbrk(argv[i], " \t\n'\"\\$`");
		int n =
		    snprintf(out + used, len - used, "%s%s%s%s", i ? " " : "",
		             plain ? "" : "'", argv[i], plain ? "" : "'");
		used += n > 0 ? (size_t)n : 0;
	}
	if (used >= len)
		out[len - 1] = '\0';
}

static const char *text(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- the watch stream -------------------------------------------------- */

/* The next whole line of the stream, taken out of j->buf into out
 * (caller frees); 0 none yet, -1 the stream is bad (a line too long). */
static int take_line(job *j, char **out)
{
	char *nl = memchr(j->buf, '\n', j->have);
	if (!nl)
		return j->have == LINE_CAP ? -1 : 0;
	size_t len = (size_t)(nl - j->buf);
	*out = strndup(j->buf, len);
	memmove(j->buf, nl + 1, j->have - len - 1);
	j->have -= len + 1;
	return *out ? 1 : -1;
}

/* Reads what the stream has. False when it ended or failed. */
static bool fill(job *j)
{
	ssize_t n = read(j->watch, j->buf + j->have, LINE_CAP - j->have);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	j->have += (size_t)n;
	return true;
}

static void close_watch(job *j)
{
	if (j->watch >= 0)
		close(j->watch);
	j->watch = -1;
	j->have = 0;
}

/* Opens a watch and reads its status document. Returns 1 when the gate
 * allows, 0 when it blocks (why says why), -1 when the instance cannot be
 * asked (why says why). */
static int open_watch(job *j, char *why, size_t len)
{
	static const char req[] = "{\"op\":\"watch\"}\n";
	fb_error err;
	close_watch(j);
	j->watch =
	    fb_client_connect(j->cfg->control_socket, ASK_TIMEOUT_MS, &err);
	if (j->watch < 0) {
		snprintf(why, len, "%.300s", err.text);
		return -1;
	}
	char *line = NULL;
	int got = 0;
	int64_t deadline = fb_now_ms() + ASK_TIMEOUT_MS;
	if (send(j->watch, req, sizeof req - 1, MSG_NOSIGNAL) ==
	    (ssize_t)sizeof req - 1) {
		while ((got = take_line(j, &line)) == 0) {
			struct pollfd p = {j->watch, POLLIN, 0};
			int64_t left = deadline - fb_now_ms();
			if (left <= 0 || poll(&p, 1, (int)left) != 1 ||
			    !fill(j))
				break;
		}
	}
	cJSON *doc = got == 1 ? cJSON_Parse(line) : NULL;
	free(line);
	const cJSON *gate = cJSON_GetObjectItemCaseSensitive(doc, "gate");
	const char *decision = text(gate, "decision");
	const char *reason = text(gate, "reason");
	int rc = !decision ? -1 : strcmp(decision, "allowed") == 0 ? 1 : 0;
	if (rc < 0)
		snprintf(why, len, "%.200s: the instance did not start a watch",
		         j->cfg->control_socket);
	else
		snprintf(why, len, "%s", reason ? reason : "");
	cJSON_Delete(doc);
	if (rc != 1)
		close_watch(j);
	return rc;
}

/* ---- stopping the job -------------------------------------------------- */

static void on_block(job *j, const char *why)
{
	if (j->blocked)
		return;
	j->blocked = true;
	snprintf(j->why, sizeof j->why, "%s", why);
	close_watch(j);
	if (j->wait_mode) {
		fb_cli_error("gate exec: the gate blocks (%s); the job may "
		             "finish (--on-block wait)",
		             why);
		return;
	}
	fb_cli_error("gate exec: the gate blocks (%s); stopping the job "
	             "(SIGTERM, SIGKILL in %ds)",
	             why, KILL_AFTER_MS / 1000);
	kill(-j->pid, SIGTERM);
	j->kill_at = fb_now_ms() + KILL_AFTER_MS;
}

/* One line of the stream: a gate event that blocks stops the job; the
 * instance stopping, or dropping us, closes the stream. */
static void on_line(job *j, const char *line)
{
	cJSON *ev = cJSON_Parse(line);
	const char *kind = text(ev, "kind"), *to = text(ev, "to");
	char why[320];
	if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ev, "ok"))) {
		close_watch(j); /* too far behind: watch again */
	} else if (kind && strcmp(kind, "gate") == 0 && to &&
	           strcmp(to, "blocked") == 0) {
		const char *r = text(ev, "reason");
		snprintf(why, sizeof why, "%s", r ? r : "blocked");
		on_block(j, why);
	} else if (kind && strcmp(kind, "stop") == 0) {
		close_watch(j); /* it is going; a new one must answer */
	}
	cJSON_Delete(ev);
}

/* The stream dropped at some point: open it again, or give up after
 * RECONNECT_MS -- the gate cannot be asked, so it blocks. */
static void reconnect(job *j, int64_t now)
{
	char why[300];
	if (!j->lost_at)
		j->lost_at = now;
	int rc = open_watch(j, why, sizeof why);
	if (rc == 1) {
		j->lost_at = 0;
		return;
	}
	if (rc == 0) {
		on_block(j, why);
	} else if (now - j->lost_at >= RECONNECT_MS) {
		char lost[420];
		snprintf(lost, sizeof lost,
		         "the gate cannot be asked (%s): fail closed", why);
		on_block(j, lost);
	}
}

/* ---- running it -------------------------------------------------------- */

/* Starts CMD in a process group of its own, held until `go` gets a byte
 * (EOF instead: it exits 127 without running). Returns its pid or -1. */
static pid_t spawn(char *const *argv, const sigset_t *old, int *go)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		setpgid(0, 0);
		sigprocmask(SIG_SETMASK, old, NULL);
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		fb_cli_error("gate exec: %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return -1;
	}
	setpgid(pid, pid);
	*go = p[1];
	return pid;
}

/* Hands the terminal's foreground to the job's group (and back after),
 * so that it reads the terminal and gets ^C as it would unwrapped. */
static void foreground(job *j, pid_t pgrp)
{
	sigset_t ttou, old;
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	if (tcsetpgrp(STDIN_FILENO, pgrp) == 0)
		j->has_tty = pgrp != getpgrp();
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* {"op":"job",...}: the instance's reply, or NULL with *err. */
static cJSON *tell(const job *j, bool end, int status, const char *reason,
                   fb_error *err)
{
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "job");
	cJSON_AddStringToObject(req, "action", end ? "end" : "start");
	cJSON_AddStringToObject(req, "command", j->command);
	if (end)
		cJSON_AddNumberToObject(req, "exit_status", status);
	cJSON_AddStringToObject(req, "reason", reason);
	cJSON *reply =
	    fb_client_call(j->cfg->control_socket, req, ASK_TIMEOUT_MS, err);
	cJSON_Delete(req);
	return reply;
}

/* Waits for the job, watching the gate and our signals. Returns its
 * wait status. */
static int supervise(job *j)
{
	for (;;) {
		int64_t now = fb_now_ms();
		if (j->kill_at && now >= j->kill_at) {
			kill(-j->pid, SIGKILL);
			j->kill_at = 0;
		}
		if (!j->blocked && j->watch < 0)
			reconnect(j, now);
		struct pollfd p[2] = {{j->sigfd, POLLIN, 0},
		                      {j->watch, POLLIN, 0}};
		int nap = j->watch < 0 && !j->blocked ? 200 : 1000;
		if (j->kill_at && j->kill_at - now < nap)
			nap = (int)(j->kill_at - now) + 1;
		if (poll(p, j->watch >= 0 ? 2 : 1, nap) < 0 && errno != EINTR)
			fb_cli_error("gate exec: poll: %s", strerror(errno));
		struct signalfd_siginfo si;
		while (read(j->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
			if (si.ssi_signo != SIGCHLD) { /* ours: the job's too */
				j->interrupted = (int)si.ssi_signo;
				kill(-j->pid, (int)si.ssi_signo);
			}
		}
		int status;
		if (waitpid(j->pid, &status, WNOHANG) == j->pid)
			return status;
		if (j->watch >= 0 && (p[1].revents & (POLLIN | POLLHUP)) &&
		    !fill(j))
			close_watch(j);
		char *line;
		int got;
		while (j->watch >= 0 && (got = take_line(j, &line)) != 0) {
			if (got < 0) {
				close_watch(j);
				break;
			}
			on_line(j, line);
			free(line);
		}
	}
}

/* Why the job ended, for job_end and for us. */
static void ending(const job *j, int status, char *out, size_t len)
{
	char how[64];
	if (WIFSIGNALED(status))
		snprintf(how, sizeof how, "killed by signal %d",
		         WTERMSIG(status));
	else
		snprintf(how, sizeof how, "exit %d", WEXITSTATUS(status));
	if (j->blocked && !j->wait_mode)
		snprintf(out, len, "stopped: the gate blocked (%s); %s", j->why,
		         how);
	else if (j->blocked)
		snprintf(out, len,
		         "finished (%s) though the gate blocked while it ran "
		         "(%s); --on-block wait",
		         how, j->why);
	else if (j->interrupted)
		snprintf(out, len, "interrupted by signal %d; %s",
		         j->interrupted, how);
	else
		snprintf(out, len, "finished: %s", how);
}

/* Asks, records the start, runs, records the end. */
static int run_job(job *j, char *const *argv, const sigset_t *old)
{
	char why[420], reason[600];
	fb_error err;
	int rc = open_watch(j, why, sizeof why);
	if (rc != 1) {
		printf("blocked: %s\n", rc == 0
		                            ? why
		                            : "the gate cannot be consulted, "
		                              "so the job does not run");
		if (rc < 0)
			fb_cli_error("gate exec: %s", why);
		return FB_EXIT_TEMPFAIL;
	}
	int go = -1;
	j->pid = spawn(argv, old, &go);
	if (j->pid < 0) {
		fb_cli_error("gate exec: fork: %s", strerror(errno));
		return FB_EXIT_FAIL;
	}
	snprintf(reason, sizeof reason, "pid %d", (int)j->pid);
	cJSON *reply = tell(j, false, 0, reason, &err);
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(reply, "ok");
	if (!cJSON_IsTrue(ok)) {
		const char *e = text(reply, "error");
		printf("blocked: %s\n", e ? e : err.text);
		close(go); /* the job never runs */
		waitpid(j->pid, NULL, 0);
		cJSON_Delete(reply);
		return FB_EXIT_TEMPFAIL;
	}
	cJSON_Delete(reply);
	if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp())
		foreground(j, j->pid);
	if (write(go, "g", 1) != 1)
		kill(-j->pid, SIGKILL);
	close(go);
	int status = supervise(j);
	if (j->has_tty)
		foreground(j, getpgrp());
	ending(j, status, reason, sizeof reason);
	int code =
	    WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	reply = tell(j, true, code, reason, &err);
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
		const char *e = text(reply, "error");
		fb_cli_error("gate exec: job_end not recorded: %s",
		             e ? e : err.text);
	}
	cJSON_Delete(reply);
	if (j->blocked && !j->wait_mode) {
		fb_cli_error("gate exec: %s", reason);
		return FB_EXIT_TEMPFAIL;
	}
	return code;
}

int fb_gate_exec(const char *config, const char *on_block, char *const *argv)
{
	if (on_block && strcmp(on_block, "term") != 0 &&
	    strcmp(on_block, "wait") != 0) {
		fb_cli_error("gate exec: --on-block must be term or wait");
		return FB_EXIT_USAGE;
	}
	if (!argv[0])
		return fb_cli_usage_error("gate");
	fb_config cfg;
	if (fb_cli_load_config(config, &cfg) != 0) {
		printf("blocked: the gate cannot be consulted, so the job does "
		       "not run\n");
		return FB_EXIT_CONFIG;
	}
	job j = {.cfg = &cfg, .watch = -1, .sigfd = -1};
	j.wait_mode = on_block && strcmp(on_block, "wait") == 0;
	join(argv, j.command, sizeof j.command);
	j.buf = malloc(LINE_CAP);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	j.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	int code = FB_EXIT_FAIL;
	if (!j.buf || j.sigfd < 0)
		fb_cli_error("gate exec: %s", strerror(errno));
	else
		code = run_job(&j, argv, &old);
	close_watch(&j);
	if (j.sigfd >= 0)
		close(j.sigfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(j.buf);
	fb_config_free(&cfg);
	return code;
}
