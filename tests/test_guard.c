/* The guardian never proceeds on doubt (SPEC sections 2, 3, 6 and 7):
 * one instance per event log however many start at once, an event log
 * that is not followed through symlinks nor opened on FIFOs, created
 * private; a control socket that deletes nothing, lives in a folder of
 * its own, is not believed when another user serves it, and answers
 * `gate check` whatever one local peer does. Each test runs the real, sanitized `fusebox run` in a temp dir
 * of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka needs the headers above first */
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define WAIT_MS 8000

static char g_fusebox[PATH_MAX];
static char g_fixture[PATH_MAX];

typedef th_env env;

static int setup(void **state)
{
	*state = th_env_new(g_fixture);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	th_env_free(*state);
	return 0;
}

/* A critical dependency on the fixture, and whatever [fusebox] lines the
 * test adds (log and socket by default). */
static void write_config(const env *e, const char *fusebox)
{
	FILE *f = fopen(e->cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "[fusebox]\n%s\nhost = guard\n\n[defaults]\ninterval = 200ms\n"
	        "timeout = 300ms\n\n[dep api]\nurl = http://127.0.0.1:%d/api\n"
	        "critical = true\n",
	        fusebox ? fusebox
	                : "log = events.jsonl\ncontrol_socket = ctl.sock",
	        e->fx.port);
	assert_int_equal(fclose(f), 0);
}

static pid_t spawn_run(const env *e, const char *out, const char *err)
{
	char *argv[] = {g_fusebox, "run", "--config", (char *)e->cfg, NULL};
	pid_t pid = th_spawn(argv, out, err);
	assert_true(pid > 0);
	return pid;
}

/* ---- one instance per log ------------------------------------------------ */

#define RACERS 30

/* Starts `fusebox run` stopped (SIGSTOP before exec), so that a test can
 * let many go at the same instant with SIGCONT. */
static pid_t spawn_stopped(const env *e, const char *err)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen(err, "w", stderr);
		raise(SIGSTOP);
		execl(g_fusebox, g_fusebox, "run", "--config", e->cfg,
		      (char *)NULL);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	assert_true(WIFSTOPPED(status));
	return pid;
}

/* Leaves a socket file that nobody serves, as a killed instance does. */
static void leave_stale_socket(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	assert_true(strlen(path) < sizeof a.sun_path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	close(fd);
}

/* 30 instances started at the same moment on one config, after a crash
 * left its socket behind (each sees it stale and would take it over):
 * exactly one runs; the others say who holds the log and leave it alone,
 * so its seq stays strictly increasing. */
static void test_simultaneous_starts_run_one(void **state)
{
	env *e = *state;
	write_config(e, NULL);
	leave_stale_socket(e->sock);
	pid_t pid[RACERS];
	char err[RACERS][450];
	for (int i = 0; i < RACERS; i++) {
		snprintf(err[i], sizeof err[i], "%s/racer%d.err", e->dir, i);
		pid[i] = spawn_stopped(e, err[i]);
	}
	for (int i = 0; i < RACERS; i++)
		kill(pid[i], SIGCONT);
	/* All but one exit; on a loaded machine that takes a while, so wait
	 * for them together, up to a generous deadline, not one by one. */
	int running = RACERS, refused = 0;
	bool gone[RACERS] = {false};
	int64_t end = th_now_ms() + 20000;
	while (running > 1 && th_now_ms() < end) {
		for (int i = 0; i < RACERS; i++) {
			int status;
			if (gone[i] || !th_wait_exit(pid[i], 0, &status))
				continue;
			gone[i] = true;
			running--;
			/* 75: already running (fusebox(1) EXIT STATUS) */
			refused +=
			    WIFEXITED(status) && WEXITSTATUS(status) == 75;
		}
		th_sleep_ms(10);
	}
	for (int i = 0; i < RACERS; i++) {
		if (!gone[i] && e->fb > 0)
			th_kill(pid[i], SIGKILL,
			        2000); /* a second one: failed */
		else if (!gone[i])
			e->fb = pid[i]; /* teardown stops it */
	}
	assert_int_equal(running, 1);
	assert_int_equal(refused, RACERS - 1);
	int said = 0;
	for (int i = 0; i < RACERS; i++) {
		char text[1024];
		if (pid[i] != e->fb &&
		    th_read_file(err[i], text, sizeof text) > 0 &&
		    (strstr(text, "another fusebox instance") ||
		     strstr(text, "already serving")))
			said++;
	}
	assert_int_equal(said, RACERS - 1);
	assert_int_equal(th_kill(e->fb, SIGTERM, WAIT_MS), 0);
	e->fb = 0;
	int bad = 0;
	cJSON *events = th_jsonl_read(e->log, &bad, NULL);
	assert_int_equal(bad, 0);
	assert_int_equal(th_events_count(events, "start", NULL, NULL, NULL), 1);
	double last = 0;
	const cJSON *ev;
	cJSON_ArrayForEach(ev, events)
	{
		double seq = th_json_num(ev, "seq", -1);
		assert_true(seq == last + 1);
		last = seq;
	}
	cJSON_Delete(events);
}

/* Two configs with one log but each its own socket: the socket check
 * cannot see the other instance; the log's lock does. */
static void test_second_instance_on_the_same_log(void **state)
{
	env *e = *state;
	char other[450], text[2048];
	write_config(e, NULL);
	e->fb = spawn_run(e, "/dev/null", e->err);
	assert_true(th_wait_file_contains(e->log, "\"start\"", WAIT_MS));
	snprintf(other, sizeof other, "%s/other.ini", e->dir);
	char cfg[1024];
	snprintf(cfg, sizeof cfg,
	         "[fusebox]\nlog = events.jsonl\ncontrol_socket = other.sock\n"
	         "[dep api]\nurl = http://127.0.0.1:%d/api\n",
	         e->fx.port);
	th_write_file(e->dir, "other.ini", cfg, other, sizeof other);
	char errp[450];
	snprintf(errp, sizeof errp, "%s/other.err", e->dir);
	char *argv[] = {g_fusebox, "run", "--config", other, NULL};
	pid_t pid = th_spawn(argv, "/dev/null", errp);
	int status;
	if (!th_wait_exit(pid, WAIT_MS, &status)) {
		th_kill(pid, SIGKILL, WAIT_MS);
		fail_msg("a second instance ran on the same event log");
	}
	th_read_file(errp, text, sizeof text);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 75)
		fail_msg("refused with status 0x%x, not exit 75: %s", status,
		         text);
	char want[64];
	snprintf(want, sizeof want, "another fusebox instance (pid %d)", e->fb);
	if (!strstr(text, want))
		fail_msg("the refusal does not name the holder: %s", text);
}

/* Two configs with one socket but each its own log: the log's lock
 * cannot see the other instance; the socket check does, and says so
 * with the documented exit code. */
static void test_second_instance_on_the_same_socket(void **state)
{
	env *e = *state;
	char other[450], text[2048], cfg[1024], errp[450];
	write_config(e, NULL);
	e->fb = spawn_run(e, "/dev/null", e->err);
	assert_true(th_wait_file_contains(e->log, "\"start\"", WAIT_MS));
	snprintf(cfg, sizeof cfg,
	         "[fusebox]\nlog = other.jsonl\ncontrol_socket = ctl.sock\n"
	         "[dep api]\nurl = http://127.0.0.1:%d/api\n",
	         e->fx.port);
	th_write_file(e->dir, "other.ini", cfg, other, sizeof other);
	snprintf(errp, sizeof errp, "%s/other.err", e->dir);
	char *argv[] = {g_fusebox, "run", "--config", other, NULL};
	pid_t pid = th_spawn(argv, "/dev/null", errp);
	int status;
	if (!th_wait_exit(pid, WAIT_MS, &status)) {
		th_kill(pid, SIGKILL, WAIT_MS);
		fail_msg("a second instance ran on the same socket");
	}
	th_read_file(errp, text, sizeof text);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 75)
		fail_msg("refused with status 0x%x, not exit 75: %s", status,
		         text);
	assert_non_null(strstr(text, "already serving this socket"));
	assert_true(th_alive(e->fb));
}

/* ---- the event log's file -------------------------------------------------- */

static int run_to_exit(const env *e, char *err, size_t len)
{
	char path[450];
	snprintf(path, sizeof path, "%s/once.err", e->dir);
	pid_t pid = spawn_run(e, "/dev/null", path);
	int status = -1;
	if (!th_wait_exit(pid, WAIT_MS, &status)) {
		th_kill(pid, SIGKILL, WAIT_MS);
		fail_msg("fusebox run kept running on a log it should refuse");
	}
	th_read_file(path, err, len);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* A log that is a symlink is refused, and the file it points at is never
 * written (an attacker's link to a file of the operator's). */
static void test_symlinked_log_is_refused(void **state)
{
	env *e = *state;
	char target[450], text[2048];
	th_write_file(e->dir, "precious", "keep me\n", target, sizeof target);
	assert_int_equal(symlink(target, e->log), 0);
	write_config(e, NULL);
	assert_int_not_equal(run_to_exit(e, text, sizeof text), 0);
	assert_non_null(strstr(text, "symbolic link"));
	assert_int_equal(th_read_file(target, text, sizeof text), 8);
	assert_string_equal(text, "keep me\n");
}

/* A FIFO (or any non-regular file) as the log is refused at once. */
static void test_fifo_log_is_refused(void **state)
{
	env *e = *state;
	char text[2048];
	assert_int_equal(mkfifo(e->log, 0600), 0);
	write_config(e, NULL);
	assert_int_not_equal(run_to_exit(e, text, sizeof text), 0);
	assert_non_null(strstr(text, "not a regular file"));
}

/* The log and its lock are created private to the user (0600), and an
 * older, wider log is tightened. */
static void test_log_is_created_private(void **state)
{
	env *e = *state;
	char lock[450], text[64];
	struct stat st;
	write_config(e, NULL);
	e->fb = spawn_run(e, "/dev/null", e->err);
	assert_true(th_wait_file_contains(e->log, "\"start\"", WAIT_MS));
	assert_int_equal(stat(e->log, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(lock, sizeof lock, "%s.lock", e->log);
	assert_int_equal(stat(lock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(th_read_file(lock, text, sizeof text) > 0);
	assert_int_equal(atoi(text), e->fb);
	assert_int_equal(th_kill(e->fb, SIGTERM, WAIT_MS), 0);
	e->fb = 0;
	assert_int_equal(chmod(e->log, 0666), 0);
	e->fb = spawn_run(e, "/dev/null", e->err);
	assert_true(
	    th_wait_events(e->log, 2, "start", NULL, NULL, NULL, WAIT_MS));
	assert_int_equal(stat(e->log, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

/* ---- the control socket's path --------------------------------------------- */

/* control_socket naming a regular file, or the event log itself: refused
 * as a config error, and the file is left as it was. */
static void test_socket_path_never_deletes_files(void **state)
{
	env *e = *state;
	char precious[450], text[2048], cfg[600];
	th_write_file(e->dir, "precious", "keep me\n", precious,
	              sizeof precious);
	snprintf(cfg, sizeof cfg,
	         "log = events.jsonl\ncontrol_socket = precious");
	write_config(e, cfg);
	assert_int_equal(run_to_exit(e, text, sizeof text), 78);
	assert_non_null(strstr(text, "not a socket"));
	assert_int_equal(th_read_file(precious, text, sizeof text), 8);

	th_write_file(e->dir, "events.jsonl", "{\"v\":1,\"seq\":1}\n", precious,
	              sizeof precious);
	write_config(e, "log = events.jsonl\ncontrol_socket = events.jsonl");
	assert_int_equal(run_to_exit(e, text, sizeof text), 78);
	assert_int_equal(th_read_file(precious, text, sizeof text), 16);
}

/* A socket in a folder others can write to (as /tmp is) is refused: anyone
 * could have put one there first, or replace ours. */
static void test_socket_in_shared_folder_is_refused(void **state)
{
	env *e = *state;
	char shared[450], cfg[600], text[2048];
	snprintf(shared, sizeof shared, "%s/shared", e->dir);
	assert_int_equal(mkdir(shared, 0700), 0);
	assert_int_equal(chmod(shared, 01777), 0);
	snprintf(cfg, sizeof cfg,
	         "log = events.jsonl\ncontrol_socket = %s/fb.sock", shared);
	write_config(e, cfg);
	assert_int_equal(run_to_exit(e, text, sizeof text), 78);
	assert_non_null(strstr(text, "others can write"));
}

/* ---- another local user ---------------------------------------------------- */

#define VICTIM   46001
#define ATTACKER 46002

/* Runs argv as uid:gid `uid` (setpriv), stdin /dev/null. */
static int run_as(unsigned uid, char *const *argv, int timeout_ms, th_result *r)
{
	char id[32];
	snprintf(id, sizeof id, "%u", uid);
	char *full[24] = {"setpriv", "--reuid", id,
	                  "--regid", id,        "--clear-groups",
	                  "env",     "-u",      "XDG_RUNTIME_DIR"};
	int n = 9;
	for (int i = 0; argv[i] && n < 23; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	return th_run(full, timeout_ms, r);
}

/* The attacker binds where the victim's default socket would be (both the
 * old bare /tmp file and the new private folder) and answers "allowed" to
 * anything. The victim's gate check must not believe it, trip must not
 * claim success, and the victim's instance refuses the folder. */
static void test_another_user_cannot_answer_the_gate(void **state)
{
	env *e = *state;
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0) {
		print_message(
		    "# SKIPPED in effect: needs root and setpriv to act "
		    "as two other users\n");
		return;
	}
	char *probe[] = {"/bin/true", NULL};
	th_result t;
	int can = run_as(ATTACKER, probe, WAIT_MS, &t);
	th_result_free(&t);
	if (can != 0) { /* a chroot whose / only root may enter, say */
		print_message("# SKIPPED in effect: another uid cannot run "
		              "programs here (/bin/true: exit %d)\n",
		              can);
		return;
	}
	char home[450], cfg[450], text[2048];
	snprintf(home, sizeof home, "%s/victim", e->dir);
	assert_int_equal(mkdir(home, 0700), 0);
	assert_int_equal(chown(home, VICTIM, VICTIM), 0);
	assert_int_equal(chmod(e->dir, 0711), 0);
	char body[600];
	snprintf(body, sizeof body,
	         "[fusebox]\nlog = events.jsonl\n[dep api]\nurl = "
	         "http://127.0.0.1:%d/api\n"
	         "critical = true\n",
	         e->fx.port);
	th_write_file(home, "config.ini", body, cfg, sizeof cfg);
	assert_int_equal(chown(cfg, VICTIM, VICTIM), 0);
	char old_sock[64], new_dir[64], new_sock[96];
	snprintf(old_sock, sizeof old_sock, "/tmp/fusebox-%d.sock", VICTIM);
	snprintf(new_dir, sizeof new_dir, "/tmp/fusebox-%d", VICTIM);
	snprintf(new_sock, sizeof new_sock, "%s/fusebox.sock", new_dir);
	unlink(old_sock);
	unlink(new_sock);
	rmdir(new_dir);
	/* the attacker's fake instance */
	static const char fake[] =
	    "import os, socket, sys, threading\n"
	    "os.makedirs(sys.argv[2], exist_ok=True)\n"
	    "def serve(path):\n"
	    "    s = socket.socket(socket.AF_UNIX); s.bind(path); "
	    "os.chmod(path, 0o777); s.listen(8)\n"
	    "    while True:\n"
	    "        c, _ = s.accept(); c.recv(8192)\n"
	    "        "
	    "c.sendall(b'{\"ok\":true,\"dep\":\"api\",\"state\":\"forced_"
	    "open\",'\n"
	    "                  "
	    "b'\"gate\":{\"decision\":\"allowed\",\"reason\":\"All critical "
	    "dependencies healthy\"}}\\n')\n"
	    "        c.close()\n"
	    "for p in sys.argv[1], sys.argv[3]:\n"
	    "    threading.Thread(target=serve, args=(p,), "
	    "daemon=True).start()\n"
	    "open(sys.argv[4], 'w').close()\n"
	    "threading.Event().wait()\n";
	char script[450], ready[450], id[16];
	th_write_file(e->dir, "fake.py", fake, script, sizeof script);
	snprintf(ready, sizeof ready, "%s/fake.ready", e->dir);
	chmod(e->dir, 0777);
	snprintf(id, sizeof id, "%d", ATTACKER);
	char *fargv[] = {"setpriv",
	                 "--reuid",
	                 id,
	                 "--regid",
	                 id,
	                 "--clear-groups",
	                 "/usr/bin/python3",
	                 script,
	                 old_sock,
	                 new_dir,
	                 new_sock,
	                 ready,
	                 NULL};
	char aerr[450];
	snprintf(aerr, sizeof aerr, "%s/fake.err", e->dir);
	pid_t attacker = th_spawn(fargv, "/dev/null", aerr);
	bool up = th_wait_file(ready, WAIT_MS);
	chmod(e->dir, 0711);
	th_result r;
	char *gate[] = {g_fusebox, "gate", "check", "--config", cfg, NULL};
	char *trip[] = {g_fusebox, "trip", "api", "--config", cfg, NULL};
	char *run[] = {g_fusebox,    "run", "--config", cfg,
	               "--duration", "1",   NULL};
	int gate_rc = -2, trip_rc = -2, run_rc = -2;
	char gate_err[1024] = "", run_err[1024] = "";
	if (up) {
		gate_rc = run_as(VICTIM, gate, WAIT_MS, &r);
		snprintf(gate_err, sizeof gate_err, "%s%s", r.out, r.err);
		th_result_free(&r);
		trip_rc = run_as(VICTIM, trip, WAIT_MS, &r);
		th_result_free(&r);
		run_rc = run_as(VICTIM, run, WAIT_MS, &r);
		snprintf(run_err, sizeof run_err, "%s", r.err);
		th_result_free(&r);
	}
	th_kill(attacker, SIGKILL, WAIT_MS);
	unlink(old_sock);
	unlink(new_sock);
	rmdir(new_dir);
	if (!up && th_read_file(aerr, text, sizeof text) >= 0)
		fail_msg("the fake instance did not start: %s", text);
	if (gate_rc != 69)
		fail_msg("gate check believed another user: exit %d: %s",
		         gate_rc, gate_err);
	assert_non_null(strstr(gate_err, "not trusted"));
	assert_int_not_equal(trip_rc, 0);
	if (run_rc != 78 || !strstr(run_err, "belongs to another user"))
		fail_msg("the victim's instance: exit %d: %s", run_rc, run_err);
}

/* ---- a hostile peer on the socket ------------------------------------------ */

static int connect_sock(const char *path)
{
	int fd = th_unix_connect(path);
	assert_true(fd >= 0);
	return fd;
}

/* 64 peers hold every slot, trickling a byte now and then or saying
 * nothing: `gate check` still gets its answer, at once. */
static void test_slot_hogs_cannot_lock_out_gate_check(void **state)
{
	env *e = *state;
	write_config(e, NULL);
	e->fb = spawn_run(e, "/dev/null", e->err);
	assert_true(th_wait_unix_socket(e->sock, WAIT_MS));
	char *argv[] = {g_fusebox, "gate", "check", "--config", e->cfg, NULL};
	int rc = -1;
	for (int64_t end = th_now_ms() + WAIT_MS;
	     rc != 0 && th_now_ms() < end;) {
		th_result r; /* allowed once the first probe of api is in */
		rc = th_run(argv, WAIT_MS, &r);
		th_result_free(&r);
		th_sleep_ms(50);
	}
	assert_int_equal(rc, 0);
	int hog[80];
	for (int i = 0; i < 80; i++) {
		hog[i] = connect_sock(e->sock);
		if (i % 2 && write(hog[i], "{", 1) != 1)
			fail_msg("hog %d could not write", i);
	}
	int64_t worst = 0;
	for (int round = 0; round < 6; round++) {
		for (int i = 1; i < 80;
		     i += 2) /* a byte per round keeps them busy */
			if (write(hog[i], " ", 1) < 0)
				hog[i] = hog[i];
		th_result r;
		rc = th_run(argv, 20000, &r);
		if (rc != 0) /* the same answer as without the attack */
			fail_msg("gate check under attack: exit %d: %s %s", rc,
			         r.out, r.err);
		if (r.ms > worst)
			worst = r.ms;
		th_result_free(&r);
		th_sleep_ms(300);
	}
	print_message("# gate check under 80 hogs: worst %lld ms\n",
	              (long long)worst);
	for (int i = 0; i < 80; i++)
		close(hog[i]);
	/* after 5 s a trickled request has used up its time however many bytes
	 * came: its connection is gone */
}

/* A peer that pipelines requests and never reads holds one reply, not a
 * growing queue: the instance's memory stays flat. */
static long rss_kb(pid_t pid)
{
	char path[64], text[4096];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (th_read_file(path, text, sizeof text) <= 0)
		return -1;
	const char *p = strstr(text, "VmRSS:");
	return p ? strtol(p + 6, NULL, 10) : -1;
}

static void test_greedy_peers_do_not_grow_memory(void **state)
{
	env *e = *state;
	write_config(e, NULL);
	e->fb = spawn_run(e, "/dev/null", e->err);
	assert_true(th_wait_unix_socket(e->sock, WAIT_MS));
	th_sleep_ms(500);
	long before = rss_kb(e->fb);
	static const char req[] = "{\"op\":\"status\"}\n";
	char burst[16 * 1024];
	for (size_t i = 0; i + sizeof req - 1 <= sizeof burst;
	     i += sizeof req - 1)
		memcpy(burst + i, req, sizeof req - 1);
	int fd[10];
	for (int i = 0; i < 10; i++) {
		fd[i] = connect_sock(e->sock);
		fcntl(fd[i], F_SETFL, O_NONBLOCK);
	}
	int64_t end = th_now_ms() + 2500;
	long long sent = 0;
	while (th_now_ms() < end) {
		for (int i = 0; i < 10; i++) {
			ssize_t n = write(fd[i], burst,
			                  sizeof burst -
			                      sizeof burst % (sizeof req - 1));
			if (n > 0)
				sent += n;
		}
		th_sleep_ms(2);
	}
	long after = rss_kb(e->fb);
	print_message(
	    "# greedy peers sent %lld bytes of requests; rss %ld -> %ld KB\n",
	    sent, before, after);
	for (int i = 0; i < 10; i++)
		close(fd[i]);
	assert_true(before > 0 && after > 0);
	if (after - before > 30 * 1024)
		fail_msg(
		    "the instance grew by %ld KB for peers that never read",
		    after - before);
}

/* A socket that accepts nothing (its backlog full): gate check fails
 * closed in bounded time instead of hanging in connect(). */
static void test_full_backlog_fails_closed_in_time(void **state)
{
	env *e = *state;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	memcpy(a.sun_path, e->sock, strlen(e->sock) + 1);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(l, 0), 0);
	int filler[4];
	for (int i = 0; i < 4; i++) { /* fill the backlog: never accepted */
		filler[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(filler[i], (struct sockaddr *)&a, sizeof a);
	}
	write_config(e, NULL);
	char *argv[] = {g_fusebox, "gate", "check", "--config", e->cfg, NULL};
	th_result r;
	int rc = th_run(argv, 30000, &r);
	int64_t ms = r.ms;
	th_result_free(&r);
	for (int i = 0; i < 4; i++)
		close(filler[i]);
	close(l);
	if (rc != 69)
		fail_msg(
		    "gate check against a full backlog: exit %d after %lld ms",
		    rc, (long long)ms);
	assert_true(ms < 15000);
}

/* ---- check-config refuses what run would -------------------------------- */

static const struct {
	const char *what, *text, *says;
} refused[] = {
    {"log and socket are one file",
     "[fusebox]\nlog = x.jsonl\ncontrol_socket = x.jsonl\n",
     "is the event log"},
    {"the log is a folder", "[fusebox]\nlog = adir\ncontrol_socket = s.sock\n",
     "a folder"},
    {"the socket's folder is missing",
     "[fusebox]\nlog = e.jsonl\ncontrol_socket = nowhere/s.sock\n",
     "folder does not exist"},
    {"the socket path is too long",
     "[fusebox]\nlog = e.jsonl\ncontrol_socket = "
     "sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss"
     "s"
     "ssssssssssssssssssssssssssssssssssssssssssssssss.sock\n",
     "too long"},
    {"an unknown control_group",
     "[fusebox]\nlog = e.jsonl\ncontrol_socket = s.sock\ncontrol_group = "
     "no-such-group-xyz\n",
     "no such group"},
    {"control_mode open to others",
     "[fusebox]\nlog = e.jsonl\ncontrol_socket = s.sock\ncontrol_mode = 0666\n",
     "every local user"},
    {"a section twice",
     "[fusebox]\nlog = e.jsonl\n[fusebox]\ncontrol_socket = s.sock\n",
     "given twice"},
    {"a key twice", "[fusebox]\nlog = e.jsonl\nlog = f.jsonl\n",
     "duplicate key"},
    {"a dep key twice",
     "[fusebox]\nlog = e.jsonl\n[dep b]\nurl = http://h:1/\nurl = "
     "http://h:2/\n",
     "duplicate key"},
    {"a built-in preset redefined",
     "[fusebox]\nlog = e.jsonl\n[preset fast]\ntimeout = 1s\n", "built in"},
    {"a host with spaces",
     "[fusebox]\nlog = e.jsonl\n[dep b]\nhost = a b\nport = 80\n", "host:"},
    {"an empty IPv6 literal",
     "[fusebox]\nlog = e.jsonl\n[dep b]\nurl = http://[]:1/\n", "bad URL"},
    {"a health_path with a space",
     "[fusebox]\nlog = e.jsonl\n[dep b]\nurl = http://h:1/\nhealth_path = /a "
     "b\n",
     "space"},
    {"a control character in a value",
     "[fusebox]\nlog = e.jsonl\nhost = web\x1b]0;PWNED\x07\n",
     "control character"},
    {"a bidi control in a value",
     "[fusebox]\nlog = e.jsonl\nhost = web\xe2\x80\xae"
     "1\n",
     "control character"},
};

/* One line on stderr, with no control byte in it. */
static void assert_one_clean_line(const char *what, const char *err)
{
	size_t n = strlen(err);
	if (n == 0 || err[n - 1] != '\n' || strchr(err, '\n') != err + n - 1)
		fail_msg("%s: not one line: %s", what, err);
	for (const char *c = err; *c; c++) {
		if (((unsigned char)*c < 0x20 && *c != '\n') || *c == 0x7f)
			fail_msg("%s: the error echoes byte 0x%02x", what, *c);
	}
}

static void test_check_config_refuses_what_run_refuses(void **state)
{
	env *e = *state;
	char adir[450];
	snprintf(adir, sizeof adir, "%s/adir", e->dir);
	assert_int_equal(mkdir(adir, 0700), 0);
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		FILE *f = fopen(e->cfg, "w");
		assert_non_null(f);
		fprintf(f, "%s", refused[i].text);
		fclose(f);
		char *check[] = {g_fusebox, "check-config", e->cfg, NULL};
		char *run[] = {g_fusebox,    "run", "--config", e->cfg,
		               "--duration", "1",   NULL};
		char *const *argv[] = {check, run};
		for (int k = 0; k < 2; k++) {
			th_result r;
			int rc = th_run(argv[k], WAIT_MS, &r);
			if (rc != 78 || !strstr(r.err, refused[i].says))
				fail_msg("%s: %s: exit %d: %s", refused[i].what,
				         k ? "run" : "check-config", rc, r.err);
			assert_one_clean_line(refused[i].what, r.err);
			th_result_free(&r);
		}
	}
}

/* An environment override with a control character is refused, naming
 * the variable, without echoing the bytes. */
static void test_env_override_with_escape_is_refused(void **state)
{
	env *e = *state;
	FILE *f = fopen(e->cfg, "w");
	assert_non_null(f);
	fprintf(f, "[fusebox]\nlog = e.jsonl\ncontrol_socket = s.sock\n"
	           "[dep b]\nurl = http://h:1/\nenv_prefix = BEE\n");
	fclose(f);
	setenv("BEE_URL", "http://h:1/\x1b]0;PWNED\x07", 1);
	char *check[] = {g_fusebox, "check-config", e->cfg, NULL};
	th_result r;
	int rc = th_run(check, WAIT_MS, &r);
	unsetenv("BEE_URL");
	if (rc != 78 || !strstr(r.err, "BEE_URL"))
		fail_msg("exit %d: %s", rc, r.err);
	assert_one_clean_line("BEE_URL", r.err);
	th_result_free(&r);
}

/* ---- a fresh instance knows nothing yet ------------------------------------ */

static bool api_held(void *ctx)
{
	const env *e = ctx;
	return th_fixture_inflight(&e->fx, "/api") >= 1;
}

/* api's first probe hangs (the fixture holds it), db is a port that
 * refuses: in the first moments of an instance nothing has shown either
 * one up, so the gate blocks and says why, and status says "unknown". */
static void test_fresh_instance_blocks_until_known(void **state)
{
	env *e = *state;
	assert_int_equal(th_fixture_set(&e->fx, "/api", "hang"), 0);
	FILE *f = fopen(e->cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "[fusebox]\nlog = events.jsonl\ncontrol_socket = ctl.sock\n"
	        "host = guard\n\n[defaults]\ninterval = 1s\ntimeout = 10s\n\n"
	        "[dep api]\nurl = http://127.0.0.1:%d/api\ncritical = true\n\n"
	        "[dep db]\nurl = tcp://127.0.0.1:1\ncritical = true\n"
	        "timeout = 300ms\n",
	        e->fx.port);
	assert_int_equal(fclose(f), 0);
	e->fb = spawn_run(e, "/dev/null", e->err);
	/* the first moment the socket answers, ask at once */
	assert_true(th_wait_unix_socket(e->sock, WAIT_MS));
	char *gate[] = {g_fusebox, "gate", "check", "--config", e->cfg, NULL};
	th_result r;
	int rc = th_run(gate, WAIT_MS, &r);
	print_message("gate check: exit %d: %s", rc, r.out);
	assert_int_equal(rc, 75);
	assert_non_null(
	    strstr(r.out, "Starting: waiting for the first probe of api"));
	th_result_free(&r);

	char *status[] = {g_fusebox,  "status", "--json",
	                  "--config", e->cfg,   NULL};
	assert_int_equal(th_run(status, WAIT_MS, &r), 0);
	cJSON *doc = cJSON_Parse(r.out);
	th_result_free(&r);
	assert_non_null(doc);
	const cJSON *deps =
	    cJSON_GetObjectItemCaseSensitive(doc, "dependencies");
	const cJSON *api = NULL, *d;
	cJSON_ArrayForEach(d, deps)
	{
		if (strcmp(th_json_str(d, "service"), "api") == 0)
			api = d;
	}
	assert_non_null(api);
	assert_string_equal(th_json_str(api, "health"), "unknown");
	assert_string_equal(th_json_str(api, "state"), "closed");
	assert_string_equal(th_json_str(doc, "system_health"), "unknown");
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(doc, "gate");
	assert_string_equal(th_json_str(g, "decision"), "blocked");
	assert_non_null(strstr(th_json_str(g, "reason"),
	                       "Starting: waiting for the first probe of api"));
	cJSON_Delete(doc);

	/* api's probe is out and held; db has failed, and failures alone
	 * prove nothing either */
	assert_true(th_wait_until(api_held, e, WAIT_MS));
	assert_true(th_wait_events(e->log, 1, "health", "db", "unknown",
	                           "degraded", WAIT_MS));
	rc = th_run(gate, WAIT_MS, &r);
	print_message("gate check: exit %d: %s", rc, r.out);
	assert_int_equal(rc, 75);
	assert_non_null(strstr(r.out, "Starting: waiting for the first probe "
	                              "of api; no success yet from db; retry "
	                              "in "));
	th_result_free(&r);
	/* no gate event: the gate never allowed */
	cJSON *ev = th_jsonl_read(e->log, NULL, NULL);
	assert_non_null(ev);
	assert_int_equal(th_events_count(ev, "gate", NULL, NULL, NULL), 0);
	cJSON_Delete(ev);
}

int main(void)
{
	if (getenv("FB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_simultaneous_starts_run_one),
	    T(test_second_instance_on_the_same_log),
	    T(test_second_instance_on_the_same_socket),
	    T(test_symlinked_log_is_refused),
	    T(test_fifo_log_is_refused),
	    T(test_log_is_created_private),
	    T(test_socket_path_never_deletes_files),
	    T(test_socket_in_shared_folder_is_refused),
	    T(test_another_user_cannot_answer_the_gate),
	    T(test_slot_hogs_cannot_lock_out_gate_check),
	    T(test_greedy_peers_do_not_grow_memory),
	    T(test_full_backlog_fails_closed_in_time),
	    T(test_check_config_refuses_what_run_refuses),
	    T(test_env_override_with_escape_is_refused),
	    T(test_fresh_instance_blocks_until_known),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
