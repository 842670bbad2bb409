/* The fleet's Redis connection: curl's connect, hiredis's protocol, our
 * loop, deadline, backoff, AUTH and scripts. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "core/parse.h"
#include "fleet_conn.h"

#define REPLY_DEADLINE_MS 5000 /* a server that stops answering is lost */
#define SHA_LEN           40

typedef enum { C_DOWN, C_CONNECTING, C_HANDSHAKE, C_READY } conn_step;

typedef enum { E_USER, E_AUTH, E_SELECT, E_LOAD } entry_kind;

typedef struct entry {
	entry_kind kind;
	size_t script; /* E_LOAD, and E_USER of an EVALSHA */
	bool is_eval, retried;
	char *cmd; /* an EVALSHA's formatted text, kept for NOSCRIPT */
	size_t cmdlen;
	int64_t sent_ms;
	fb_redis_reply_fn fn;
	void *ctx;
} entry;

struct fb_fleet_conn {
	fb_loop *loop;
	char host[256];
	int port, db;
	char user[64];
	char password[256];
	const char *const *scripts;
	char (*sha)[SHA_LEN + 1];
	size_t nscripts;
	fb_redis_state_fn on_state;
	void *ctx;
	conn_step step;
	CURL *easy;
	char curl_err[CURL_ERROR_SIZE];
	redisContext *redis;
	int64_t deadline_ms; /* of the connect and handshake */
	int64_t retry_at_ms;
	int64_t backoff_ms;
	uint64_t rng;
	entry q[FB_FLEET_PENDING_MAX]; /* ring of commands awaiting replies */
	size_t head, len;
	char error[512];
};

int fb_fleet_password(const fb_redis_config *cfg, char *out, size_t len,
                      fb_error *err)
{
	out[0] = '\0';
	if (!cfg->password_file[0]) {
		const char *env = getenv("FUSEBOX_REDIS_PASSWORD");
		snprintf(out, len, "%s", env ? env : "");
		return 0;
	}
	int fd = open(cfg->password_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	const char *why = NULL;
	if (fd < 0 || fstat(fd, &st) != 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_uid != geteuid())
		why = "owned by another user";
	else if (st.st_mode & 077)
		why = "readable by group or others (chmod 600 it)";
	ssize_t n = why ? -1 : read(fd, out, len - 1);
	if (!why && n < 0)
		why = strerror(errno);
	if (fd >= 0)
		close(fd);
	if (why) {
		snprintf(err->text, sizeof err->text,
		         "[redis] password_file %s: %s", cfg->password_file,
		         why);
		out[0] = '\0';
		return -1;
	}
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

static uint64_t next_random(fb_fleet_conn *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

fb_fleet_conn *fb_fleet_conn_new(fb_loop *loop, const fb_redis_config *cfg,
                                 const char *password,
                                 const char *const *scripts, size_t n,
                                 fb_redis_state_fn on_state, void *ctx,
                                 uint64_t seed)
{
	fb_url u;
	const char *why;
	fb_fleet_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->sha = calloc(n ? n : 1, sizeof *c->sha);
	if (!c->sha) {
		free(c);
		return NULL;
	}
	c->loop = loop;
	if (fb_url_parse(cfg->url, &u, &why) == 0) {
		snprintf(c->host, sizeof c->host, "%s", u.host);
		c->port = u.port > 0 ? u.port : 6379;
		c->db = (int)strtol(u.path[0] == '/' ? u.path + 1 : u.path,
		                    NULL, 10);
	}
	snprintf(c->user, sizeof c->user, "%s", cfg->user);
	snprintf(c->password, sizeof c->password, "%s", password);
	c->scripts = scripts;
	c->nscripts = n;
	c->on_state = on_state;
	c->ctx = ctx;
	c->rng = seed ? seed : 0x2545F4914F6CDD1DULL;
	c->backoff_ms = FB_FLEET_BACKOFF_MIN_MS;
	return c;
}

static void on_io(void *ctx, int fd, short revents);

/* Calls back every pending command with NULL, oldest first. */
static void fail_pending(fb_fleet_conn *c)
{
	while (c->len) {
		entry e = c->q[c->head];
		c->head = (c->head + 1) % FB_FLEET_PENDING_MAX;
		c->len--;
		free(e.cmd);
		if (e.kind == E_USER && e.fn)
			e.fn(e.ctx, NULL);
	}
}

static void close_socket(fb_fleet_conn *c)
{
	if (c->easy) {
		curl_multi_remove_handle(fb_loop_multi(c->loop), c->easy);
		curl_easy_cleanup(c->easy);
		c->easy = NULL;
	}
	if (c->redis) {
		fb_loop_unwatch(c->loop, c->redis->fd);
		redisFree(c->redis); /* closes the socket */
		c->redis = NULL;
	}
}

void fb_fleet_conn_drop(fb_fleet_conn *c, const char *why)
{
	bool was_up = c->step == C_READY;
	if (c->step == C_DOWN)
		return;
	close_socket(c);
	c->step = C_DOWN;
	snprintf(c->error, sizeof c->error, "%s", why);
	/* jittered: a fleet that lost Redis together does not come back
	 * together */
	int64_t wait = c->backoff_ms / 2 +
	               (int64_t)(next_random(c) % (uint64_t)c->backoff_ms);
	c->retry_at_ms = fb_now_ms() + wait;
	c->backoff_ms = c->backoff_ms * 2 > FB_FLEET_BACKOFF_MAX_MS
	                    ? FB_FLEET_BACKOFF_MAX_MS
	                    : c->backoff_ms * 2;
	fail_pending(c);
	if (c->on_state && (was_up || why[0]))
		c->on_state(c->ctx, false, c->error);
}

void fb_fleet_conn_free(fb_fleet_conn *c)
{
	if (!c)
		return;
	c->on_state = NULL;
	close_socket(c);
	fail_pending(c);
	explicit_bzero(c->password, sizeof c->password);
	free(c->sha);
	free(c);
}

void fb_fleet_conn_confirm(fb_fleet_conn *c)
{
	c->backoff_ms = FB_FLEET_BACKOFF_MIN_MS;
}

bool fb_fleet_conn_ready(const fb_fleet_conn *c)
{
	return c->step == C_READY;
}

const char *fb_fleet_conn_error(const fb_fleet_conn *c)
{
	return c->error;
}

/* Watches for writing while hiredis holds unsent bytes. */
static void rewatch(fb_fleet_conn *c)
{
	short ev = POLLIN;
	if (c->redis->obuf && sdslen(c->redis->obuf) > 0)
		ev |= POLLOUT;
	fb_loop_watch(c->loop, c->redis->fd, ev, on_io, c);
}

/* Queues an already formatted command. cmd is taken when keep. */
static int push(fb_fleet_conn *c, entry e, const char *cmd, size_t len)
{
	if (c->len == FB_FLEET_PENDING_MAX ||
	    redisAppendFormattedCommand(c->redis, cmd, len) != REDIS_OK)
		return -1;
	e.sent_ms = fb_now_ms();
	c->q[(c->head + c->len) % FB_FLEET_PENDING_MAX] = e;
	c->len++;
	rewatch(c);
	return 0;
}

static int push_argv(fb_fleet_conn *c, entry e, int argc, const char **argv,
                     const size_t *lens)
{
	char *cmd = NULL;
	int n = redisFormatCommandArgv(&cmd, argc, argv, lens);
	if (n < 0)
		return -1;
	int rc = push(c, e, cmd, (size_t)n);
	if (rc == 0 && e.is_eval) {
		c->q[(c->head + c->len - 1) % FB_FLEET_PENDING_MAX].cmd = cmd;
		c->q[(c->head + c->len - 1) % FB_FLEET_PENDING_MAX].cmdlen =
		    (size_t)n;
		return 0;
	}
	redisFreeCommand(cmd);
	return rc;
}

static int push_load(fb_fleet_conn *c, size_t script)
{
	const char *argv[] = {"SCRIPT", "LOAD", c->scripts[script]};
	size_t lens[] = {6, 4, strlen(c->scripts[script])};
	return push_argv(c, (entry){.kind = E_LOAD, .script = script}, 3, argv,
	                 lens);
}

static void handshake_done(fb_fleet_conn *c)
{
	c->step = C_READY;
	c->error[0] = '\0';
	if (c->on_state)
		c->on_state(c->ctx, true, "");
}

static void handshake(fb_fleet_conn *c)
{
	char db[16];
	int rc = 0;
	c->step = C_HANDSHAKE;
	if (c->password[0] && c->user[0]) {
		const char *argv[] = {"AUTH", c->user, c->password};
		size_t lens[] = {4, strlen(c->user), strlen(c->password)};
		rc |= push_argv(c, (entry){.kind = E_AUTH}, 3, argv, lens);
	} else if (c->password[0]) {
		const char *argv[] = {"AUTH", c->password};
		size_t lens[] = {4, strlen(c->password)};
		rc |= push_argv(c, (entry){.kind = E_AUTH}, 2, argv, lens);
	}
	if (c->db) {
		snprintf(db, sizeof db, "%d", c->db);
		const char *argv[] = {"SELECT", db};
		size_t lens[] = {6, strlen(db)};
		rc |= push_argv(c, (entry){.kind = E_SELECT}, 2, argv, lens);
	}
	for (size_t i = 0; i < c->nscripts; i++)
		rc |= push_load(c, i);
	if (rc != 0)
		fb_fleet_conn_drop(c, "redis: out of memory");
	else if (c->len == 0)
		handshake_done(c);
}

static void adopt_socket(fb_fleet_conn *c)
{
	curl_socket_t fd = CURL_SOCKET_BAD;
	int mine = -1;
	if (curl_easy_getinfo(c->easy, CURLINFO_ACTIVESOCKET, &fd) ==
	        CURLE_OK &&
	    fd != CURL_SOCKET_BAD)
		mine = fcntl(fd, F_DUPFD_CLOEXEC, 0); /* curl closes its own */
	curl_multi_remove_handle(fb_loop_multi(c->loop), c->easy);
	curl_easy_cleanup(c->easy);
	c->easy = NULL;
	if (mine < 0) {
		fb_fleet_conn_drop(c, "redis: lost the connected socket");
		return;
	}
	fcntl(mine, F_SETFL, fcntl(mine, F_GETFL) | O_NONBLOCK);
	c->redis = redisConnectFd(mine);
	if (!c->redis || c->redis->err) {
		if (c->redis)
			redisFree(c->redis);
		else
			close(mine);
		c->redis = NULL;
		fb_fleet_conn_drop(c, "redis: out of memory");
		return;
	}
	c->redis->flags &= ~REDIS_BLOCK; /* EAGAIN is not an error for us */
	handshake(c);
}

static void curl_done(void *ctx, CURL *easy, CURLcode result)
{
	fb_fleet_conn *c = ctx;
	char why[600];
	if (c->step != C_CONNECTING || easy != c->easy)
		return;
	if (result == CURLE_OK) {
		adopt_socket(c);
		return;
	}
	long os_errno = 0;
	curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
	if (result == CURLE_COULDNT_CONNECT && os_errno)
		snprintf(why, sizeof why, "redis: connect: %s (%s:%d)",
		         strerror((int)os_errno), c->host, c->port);
	else
		snprintf(why, sizeof why, "redis: %s (%s:%d)",
		         c->curl_err[0] ? c->curl_err
		                        : curl_easy_strerror(result),
		         c->host, c->port);
	fb_fleet_conn_drop(c, why);
}

static void start_connect(fb_fleet_conn *c, int64_t now_ms)
{
	char url[400];
	CURL *e = curl_easy_init();
	if (!e) {
		c->step = C_CONNECTING; /* so that drop schedules a retry */
		fb_fleet_conn_drop(c, "redis: cannot start curl");
		return;
	}
	snprintf(url, sizeof url, "http://%s:%d/", c->host, c->port);
	c->curl_err[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* the probes' listener looks at PRIVATE: an id none of them has */
	curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)(uintptr_t)UINT32_MAX);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)FB_FLEET_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
	                 (long)FB_FLEET_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	fb_loop_also_on_curl_done(c->loop, curl_done, c);
	c->step = C_CONNECTING;
	c->deadline_ms = now_ms + 2 * FB_FLEET_CONNECT_TIMEOUT_MS;
	if (curl_multi_add_handle(fb_loop_multi(c->loop), e) != CURLM_OK) {
		curl_easy_cleanup(e);
		fb_fleet_conn_drop(c, "redis: curl refused the connect");
		return;
	}
	c->easy = e;
}

int64_t fb_fleet_conn_run(fb_fleet_conn *c, int64_t now_ms)
{
	switch (c->step) {
	case C_DOWN:
		if (now_ms < c->retry_at_ms)
			return c->retry_at_ms - now_ms;
		start_connect(c, now_ms);
		return 100;
	case C_CONNECTING:
	case C_HANDSHAKE:
		if (now_ms >= c->deadline_ms) {
			char why[400];
			snprintf(why, sizeof why,
			         "redis: no answer within %d ms (%s:%d)",
			         2 * FB_FLEET_CONNECT_TIMEOUT_MS, c->host,
			         c->port);
			fb_fleet_conn_drop(c, why);
			return c->retry_at_ms - now_ms;
		}
		return c->deadline_ms - now_ms;
	case C_READY:
		if (c->len &&
		    now_ms - c->q[c->head].sent_ms >= REPLY_DEADLINE_MS) {
			fb_fleet_conn_drop(c, "redis: stopped answering");
			return c->retry_at_ms - now_ms;
		}
		return c->len ? REPLY_DEADLINE_MS : -1;
	}
	return -1;
}

int fb_fleet_conn_command(fb_fleet_conn *c, int argc, const char **argv,
                          const size_t *lens, fb_redis_reply_fn fn, void *ctx)
{
	if (c->step != C_READY)
		return -1;
	return push_argv(c, (entry){.kind = E_USER, .fn = fn, .ctx = ctx}, argc,
	                 argv, lens);
}

int fb_fleet_conn_eval(fb_fleet_conn *c, size_t script, int nkeys, int argc,
                       const char **argv, const size_t *lens,
                       fb_redis_reply_fn fn, void *ctx)
{
	enum { MAX_ARGS = 4096 };
	const char *all[MAX_ARGS];
	size_t all_lens[MAX_ARGS];
	char keys[16];
	if (c->step != C_READY || script >= c->nscripts || argc > MAX_ARGS - 3)
		return -1;
	snprintf(keys, sizeof keys, "%d", nkeys);
	all[0] = "EVALSHA";
	all_lens[0] = 7;
	all[1] = c->sha[script];
	all_lens[1] = strlen(c->sha[script]);
	all[2] = keys;
	all_lens[2] = strlen(keys);
	for (int i = 0; i < argc; i++) {
		all[3 + i] = argv[i];
		all_lens[3 + i] = lens[i];
	}
	entry e = {.kind = E_USER,
	           .script = script,
	           .is_eval = true,
	           .fn = fn,
	           .ctx = ctx};
	return push_argv(c, e, argc + 3, all, all_lens);
}

/* The handshake's own replies: an error ends the connection with it. */
static void handshake_reply(fb_fleet_conn *c, const entry *e,
                            const redisReply *r)
{
	static const char *const what[] = {
	    [E_AUTH] = "AUTH", [E_SELECT] = "SELECT", [E_LOAD] = "SCRIPT LOAD"};
	char why[512];
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof why, "redis %s refused%s%s%s: %.*s",
		         what[e->kind],
		         e->kind == E_AUTH && c->user[0] ? " for user '" : "",
		         e->kind == E_AUTH && c->user[0] ? c->user : "",
		         e->kind == E_AUTH && c->user[0] ? "'" : "",
		         (int)(r->len > 300 ? 300 : r->len), r->str);
		fb_fleet_conn_drop(c, why);
		return;
	}
	if (e->kind == E_LOAD) {
		if (r->type != REDIS_REPLY_STRING || r->len != SHA_LEN) {
			fb_fleet_conn_drop(c, "redis SCRIPT LOAD: odd reply");
			return;
		}
		memcpy(c->sha[e->script], r->str, SHA_LEN);
		c->sha[e->script][SHA_LEN] = '\0';
	}
	/* the last handshake reply: nothing of ours is pending any more */
	if (c->step == C_HANDSHAKE && c->len == 0)
		handshake_done(c);
}

/* An EVALSHA the server forgot (a restart, SCRIPT FLUSH): load the
 * script again and send the same command once more, with the same
 * callback. Returns true when it was sent again. */
static bool retry_noscript(fb_fleet_conn *c, entry *e, const redisReply *r)
{
	if (!e->is_eval || e->retried || r->type != REDIS_REPLY_ERROR ||
	    strncmp(r->str, "NOSCRIPT", 8) != 0)
		return false;
	entry again = *e;
	again.retried = true;
	if (push_load(c, e->script) != 0 ||
	    push(c, again, e->cmd, e->cmdlen) != 0)
		return false;
	e->cmd = NULL; /* now the new entry's */
	return true;
}

static void dispatch(fb_fleet_conn *c, redisReply *r)
{
	if (!c->len) {
		fb_fleet_conn_drop(c, "redis: a reply nobody asked for");
		return;
	}
	entry e = c->q[c->head];
	c->head = (c->head + 1) % FB_FLEET_PENDING_MAX;
	c->len--;
	if (e.kind != E_USER)
		handshake_reply(c, &e, r);
	else if (!retry_noscript(c, &e, r) && e.fn)
		e.fn(e.ctx, r);
	free(e.cmd);
}

static void read_replies(fb_fleet_conn *c)
{
	if (redisBufferRead(c->redis) != REDIS_OK) {
		/* one wording whatever hiredis saw first (the server closing
		 * it, a reset): an operator greps for one line */
		char why[300];
		snprintf(why, sizeof why, "redis: connection lost%s%s",
		         c->redis->errstr[0] ? ": " : "", c->redis->errstr);
		fb_fleet_conn_drop(c, why);
		return;
	}
	for (;;) {
		void *r = NULL;
		if (!c->redis)
			return;
		if (redisGetReplyFromReader(c->redis, &r) != REDIS_OK) {
			char why[300];
			snprintf(why, sizeof why, "redis protocol: %s",
			         c->redis->errstr);
			fb_fleet_conn_drop(c, why);
			return;
		}
		if (!r)
			return;
		dispatch(c, r);
		freeReplyObject(r);
	}
}

static void on_io(void *ctx, int fd, short revents)
{
	fb_fleet_conn *c = ctx;
	(void)fd;
	if (!c->redis)
		return;
	if (revents & POLLOUT) {
		int done = 0;
		if (redisBufferWrite(c->redis, &done) != REDIS_OK) {
			fb_fleet_conn_drop(c, "redis: connection lost");
			return;
		}
		rewatch(c);
	}
	if (revents & (POLLIN | POLLHUP | POLLERR))
		read_replies(c);
}
