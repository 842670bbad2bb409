/* Shared test helpers: temp dirs, files, and clocks for the pure core. */
#ifndef FB_TEST_HELPERS_H
#define FB_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>

/* Creates a fresh temporary directory; returns its path (static buffer
 * per call site is the caller's business: copy it). Aborts on failure. */
void th_tempdir(char *out, size_t len);

/* Removes a directory tree made by th_tempdir(). */
void th_rmtree(const char *path);

/* mkdir -p with `mode` for each folder made. Returns 0 or -1. */
int th_mkdirs(const char *path, int mode);

/* Writes `text` to dir/name and returns the full path in out. */
void th_write_file(const char *dir, const char *name, const char *text,
                   char *out, size_t len);

/* A fake random source returning the values of `seq` in turn (cycling). */
typedef struct th_rng_seq {
	const uint64_t *seq;
	size_t n, i;
} th_rng_seq;
uint64_t th_rng_next(void *ctx);

/* The raw 64-bit value that fb's rng_unit() maps to `u` in [0, 1). */
uint64_t th_unit(double u);

/* ---- added for the core suites ----------------------------------------- */

#include <stdbool.h>

#include "fusebox/config.h"

/* Reads at most len - 1 bytes of `path` into out (terminated). Returns the
 * number of bytes read, or -1 when the file cannot be opened. */
long th_read_file(const char *path, char *out, size_t len);

/* A fake environment for fb_config_load()'s getenv_fn: th_getenv() answers
 * from the table last given to th_env_use() (NULL for any other name).
 * The table must outlive the calls; th_env_use(NULL, 0) empties it. */
typedef struct th_env_var {
	const char *name, *value;
} th_env_var;
void th_env_use(const th_env_var *vars, size_t n);
const char *th_getenv(const char *name);

/* Fills *d as the loader would for an http dependency at
 * http://NAME:80/health with every tunable at its built-in default. */
void th_dep_init(fb_dep_config *d, const char *name, bool critical);

/* An in-memory config with `ndeps` zeroed dependencies (fill them with
 * th_dep_init) and a 15m gate override ttl. Free with fb_config_free(). */
void th_config_init(fb_config *cfg, size_t ndeps);

/* ---- added for the end-to-end suites (processes, sockets, logs) ------- */

#include <sys/types.h>

#include <cjson/cJSON.h>

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t th_now_ms(void);

/* Sleeps for ms milliseconds (only the polling helpers should need it). */
void th_sleep_ms(int ms);

/* Starts argv[0] (looked up in PATH when it has no '/') with stdin from
 * /dev/null and stdout/stderr appended to out_path/err_path (NULL:
 * /dev/null). The child is killed if the test process dies. Returns the
 * pid, or -1 when fork fails (an exec failure exits the child with 127). */
pid_t th_spawn(char *const argv[], const char *out_path, const char *err_path);

/* True while pid has not exited (and has not been reaped). */
bool th_alive(pid_t pid);

/* Waits up to timeout_ms for pid to exit. Returns true and its wait status
 * in *status (may be NULL) when it did. */
bool th_wait_exit(pid_t pid, int timeout_ms, int *status);

/* Sends sig and waits up to timeout_ms; if still running, SIGKILL and wait.
 * Returns the wait status, or -1 when pid <= 0 or it cannot be reaped. */
int th_kill(pid_t pid, int sig, int timeout_ms);

/* Polls fn(ctx) every 20 ms until it returns true (true) or timeout_ms
 * passes (false). fn is called at least once. */
typedef bool (*th_cond_fn)(void *ctx);
bool th_wait_until(th_cond_fn fn, void *ctx, int timeout_ms);

/* Waits until the file exists. */
bool th_wait_file(const char *path, int timeout_ms);

/* Waits until a Unix stream socket at path accepts a connection. */
bool th_wait_unix_socket(const char *path, int timeout_ms);

/* Waits until 127.0.0.1:port accepts a TCP connection. */
bool th_wait_tcp_port(int port, int timeout_ms);

/* Waits until fn(text, len, ctx) holds for the whole content of path (a
 * missing file reads as empty). */
typedef bool (*th_text_fn)(const char *text, size_t len, void *ctx);
bool th_wait_file_text(const char *path, th_text_fn fn, void *ctx,
                       int timeout_ms);

/* Waits until the file contains needle. */
bool th_wait_file_contains(const char *path, const char *needle,
                           int timeout_ms);

/* The whole file in a new NUL-terminated buffer (caller frees); *len gets
 * its length when len is not NULL. NULL when it cannot be read. */
char *th_slurp(const char *path, size_t *len);

/* A TCP port on 127.0.0.1 that was free a moment ago; -1 on error. */
int th_free_port(void);

/* ---- running a command to completion ---------------------------------- */

typedef struct th_result {
	int code;     /* exit status; 128 + signal when killed; -1 on timeout */
	char *out;    /* stdout, NUL-terminated (never NULL after th_run) */
	char *err;    /* stderr, likewise */
	size_t out_len, err_len;
	int64_t ms;   /* wall time the command took */
} th_result;

/* Runs argv (fork/exec, no shell) with stdin from /dev/null, captures
 * stdout and stderr, and kills it after timeout_ms. Returns r->code.
 * Free the buffers with th_result_free(). */
int th_run(char *const argv[], int timeout_ms, th_result *r);
void th_result_free(th_result *r);

/* ---- the fault-injection HTTP fixture --------------------------------- */

typedef struct th_fixture {
	pid_t pid;
	int port;
} th_fixture;

/* Starts bin (build/tests/fixture-httpd) on a kernel-chosen port, with its
 * port file and stderr in dir, and waits for it. Returns 0 or -1. */
int th_fixture_start(th_fixture *f, const char *bin, const char *dir);
void th_fixture_stop(th_fixture *f);

/* GET http://127.0.0.1:port<target>; the body (truncated to len - 1) goes
 * to body when not NULL. Returns the HTTP status, or -1. */
int th_http_get(int port, const char *target, char *body, size_t len,
                int timeout_ms);

/* /_ctl/set, /_ctl/count, /_ctl/inflight and /_ctl/clear. set and clear
 * return 0 or -1; count and inflight return the number or -1. */
int th_fixture_set(const th_fixture *f, const char *path, const char *mode);
long th_fixture_count(const th_fixture *f, const char *path);
long th_fixture_inflight(const th_fixture *f, const char *path);
int th_fixture_clear(const th_fixture *f);

/* ---- a real redis-server ---------------------------------------------- */

typedef struct th_redis {
	pid_t pid;
	int port;
	char dir[512];
} th_redis;

/* Starts `redis-server --port P --save '' --appendonly no --dir dir`
 * (port 0: a spare one) as a child and waits for `redis-cli -p P ping`.
 * Returns 0 or -1. */
int th_redis_start(th_redis *r, const char *dir, int port);
/* True when `redis-cli -p port ping` answers PONG within timeout_ms. */
bool th_redis_ping(int port, int timeout_ms);
/* SIGTERM (clean shutdown), SIGKILL after 5 s. Keeps r->port. */
void th_redis_stop(th_redis *r);
/* SIGKILL at once. Keeps r->port. */
void th_redis_kill(th_redis *r);
/* Stops it if running and starts it again on the same port. */
int th_redis_restart(th_redis *r);

/* ---- Unix socket clients ---------------------------------------------- */

/* A blocking connection to a Unix stream socket; -1 on error. */
int th_unix_connect(const char *path);

/* Sends all of data (MSG_NOSIGNAL) within timeout_ms. Returns 0, or -1
 * when the peer refused it (closed, reset) or time ran out. */
int th_send_all(int fd, const void *data, size_t len, int timeout_ms);

/* Reads up to the first newline within timeout_ms.
 * Returns TH_LINE with *line (caller frees, newline stripped), TH_CLOSED
 * when the peer closed or reset first, TH_TIMEOUT when nothing came. */
enum { TH_LINE = 1, TH_CLOSED = 0, TH_TIMEOUT = -1, TH_NOCONNECT = -2 };
int th_read_line(int fd, int timeout_ms, char **line);

/* Connects, sends data (not framed: include the newline), and reads one
 * reply line: returns as th_read_line(), or TH_NOCONNECT. A peer that
 * closes while we are still sending counts as TH_CLOSED unless it left a
 * reply line. */
int th_unix_exchange(const char *path, const void *data, size_t len,
                     int timeout_ms, char **line);

/* ---- JSON Lines event logs -------------------------------------------- */

/* Parses a JSON Lines file into a new cJSON array of its objects (caller
 * cJSON_Delete()s it). Lines that are not JSON objects are left out:
 * *bad (may be NULL) counts them and *first_bad gets the 1-based number of
 * the first (0 when none). An empty file gives an empty array; NULL when
 * the file cannot be read. */
cJSON *th_jsonl_read(const char *path, int *bad, int *first_bad);

/* A string member, or NULL when absent or not a string. */
const char *th_json_str(const cJSON *o, const char *key);
/* A number member, or dflt when absent or not a number. */
double th_json_num(const cJSON *o, const char *key, double dflt);

/* Does the event match? Each of kind, dep, from, to that is not NULL must
 * equal the event's string member of that name. */
bool th_event_matches(const cJSON *ev, const char *kind, const char *dep,
                      const char *from, const char *to);
/* How many events of the array match. */
int th_events_count(const cJSON *events, const char *kind, const char *dep,
                    const char *from, const char *to);
/* The nth (0-based) matching event, or NULL. */
const cJSON *th_events_nth(const cJSON *events, int nth, const char *kind,
                           const char *dep, const char *from, const char *to);
/* Index in the array of the nth matching event, or -1. */
int th_events_index(const cJSON *events, int nth, const char *kind,
                    const char *dep, const char *from, const char *to);
/* Waits until the log file holds at least n matching events. */
bool th_wait_events(const char *path, int n, const char *kind,
                    const char *dep, const char *from, const char *to,
                    int timeout_ms);

/* "2026-11-23T10:00:00.123Z" as milliseconds since the epoch; -1 when the
 * text is not in that form. */
int64_t th_rfc3339_ms(const char *ts);

/* ---- a terminal program inside tmux (the console suite) --------------- */

/* Runs `tmux -L sock ARGS...` (the list ends with NULL) with a 5 s limit.
 * Returns its exit status (-1 on timeout or error); *out (may be NULL)
 * gets its stdout (caller frees; NULL on error). */
int th_tmux(const char *sock, char **out, ...) __attribute__((sentinel));

/* Starts a tmux server of its own (-L sock, a tmux.conf written in dir:
 * no status line, remain-on-exit on) with one detached cols x rows window
 * that runs the shell command cmd, with LANG/LC_ALL=C.UTF-8, TZ=UTC and
 * NO_COLOR empty. Returns 0 or -1. */
int th_tmux_start(const char *sock, const char *dir, int cols, int rows,
                  const char *cmd);

/* The visible pane as text (escapes: with colours and attributes, as
 * `capture-pane -e`). Caller frees; NULL on error. */
char *th_tmux_capture(const char *sock, bool escapes);

/* `display -p FORMAT` without the trailing newline. Caller frees. */
char *th_tmux_display(const char *sock, const char *format);

/* Polls the pane every 25 ms until fn(screen, ctx) holds (true) or
 * timeout_ms passes (false). *last (may be NULL) gets the last capture
 * (caller frees), for messages. */
typedef bool (*th_screen_fn)(const char *screen, void *ctx);
bool th_tmux_wait(const char *sock, bool escapes, th_screen_fn fn, void *ctx,
                  int timeout_ms, char **last);

/* Waits until the pane shows (or no longer shows) needle. */
bool th_tmux_wait_text(const char *sock, const char *needle, int timeout_ms);
bool th_tmux_wait_gone(const char *sock, const char *needle, int timeout_ms);

/* `kill-server`: ends the panes' processes (SIGHUP) and the server. */
void th_tmux_kill(const char *sock);

/* `send-keys -t =0: KEY`: one key by its name ("Enter", "F", "C-c").
 * Returns th_tmux's status (0 when sent). */
int th_tmux_keys(const char *sock, const char *key);
/* `send-keys -t =0: -l TEXT`: the text typed as it stands. */
int th_tmux_type(const char *sock, const char *text);

/* ---- reading a captured screen (th_tmux_capture's text) -------------- */

/* th_screen_fns: the screen holds (lacks) the text needle. */
bool th_screen_has(const char *screen, void *needle);
bool th_screen_lacks(const char *screen, void *needle);

/* Line number `line` (from 0) of the screen into out (len bytes, cut to
 * fit); "" past the end. Returns out. */
const char *th_screen_line(const char *screen, int line, char *out, size_t len);

/* The number (from 0) of the first line that starts with "name " (a
 * table row), or -1. */
int th_screen_row_of(const char *screen, const char *name);
/* That line into out (as th_screen_line); "" when none. Returns out. */
const char *th_screen_row(const char *screen, const char *name, char *out,
                          size_t len);

/* The first line holding every needle (the list ends with NULL) into
 * out (cut to len); NULL when no line does. */
const char *th_screen_line_with(const char *screen, const char *const *needles,
                                char *out, size_t len);

/* The pid of a running process whose argv[0] is argv0 and which has arg
 * among its arguments (NULL: any), found in /proc; -1 when none. */
pid_t th_proc_find(const char *argv0, const char *arg);

/* True while pid exists and is not a zombie (works for processes that
 * are not our children). */
bool th_proc_alive(pid_t pid);

/* Waits until th_proc_alive(pid) is false. */
bool th_proc_wait_gone(pid_t pid, int timeout_ms);


/* ---- one test's world: temp dir, config paths, fixture, instance ----- */

typedef struct th_env {
	char dir[256];
	char cfg[400], log[400], sock[400], out[400], err[400];
	th_fixture fx;
	th_redis redis;   /* started by the tests that need it */
	pid_t fb;         /* the fusebox under test, 0 when none */
} th_env;

/* A fresh temp dir with the usual file names in it and the fixture
 * (fixture_bin) started. NULL on failure. */
th_env *th_env_new(const char *fixture_bin);
/* Kills what the test started and removes the dir (FB_KEEP_TMP keeps it). */
void th_env_free(th_env *e);

/* For end-to-end suites: ignores SIGPIPE and finds the programs under test
 * as absolute paths (PATH_MAX each): build/tests/fusebox and
 * build/tests/fixture-httpd, or $FUSEBOX_BIN and $FIXTURE_BIN. Returns 0,
 * or -1 after saying what to build. */
int th_suite_bins(char *fusebox, char *fixture);

/* Prints the last 3000 bytes of a file, to explain a failure. */
void th_show_tail(const char *label, const char *path);

#endif
