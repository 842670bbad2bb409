/* The control socket server. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "control_calls.h"
#include "control_delta.h"
#include "fleet.h"
#include "fusebox/sanitize.h"
#include "metrics_doc.h"
#include "probe_now.h"
#include "status.h"

#define OUT_CAP (64 << 20) /* a reply larger than this is refused */
/* Events a watcher may have unread before it is dropped: it never slows
 * the engine, and never costs more than this. */
#define WATCH_CAP (1 << 20)

typedef struct client {
	int fd;
	char actor[128];
	char in[FB_CONTROL_MAX_REQUEST];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	int64_t since_ms;    /* when this idle spell or request began */
	int64_t deadline_ms; /* dropped when this passes */
	bool busy;           /* a request is being read or answered */
	bool closing;        /* close once the reply is out */
	bool watching;       /* gets every event until it goes (op watch) */
	size_t watch_cap;    /* bytes it may have unsent: WATCH_CAP, plus
	                        the snapshot while that is still going out */
	fb_delta_memo *memo; /* what op delta last sent it */
} client;

struct fb_control {
	fb_runtime *rt;
	int fd;
	char path[512];
	client *clients[FB_CONTROL_MAX_CLIENTS];
};

static void on_client(void *ctx, int fd, short revents);

/* Deadlines are absolute. A request, from its first byte until its reply
 * is sent, has FB_CONTROL_TIMEOUT_MS: bytes trickled in do not buy time.
 * An idle connection is dropped FB_CONTROL_IDLE_MS after it went idle. */
static void begin(client *cl, bool busy)
{
	cl->busy = busy;
	cl->since_ms = fb_now_ms();
	cl->deadline_ms = cl->watching
	                      ? INT64_MAX
	                      : cl->since_ms + (busy ? FB_CONTROL_TIMEOUT_MS
	                                             : FB_CONTROL_IDLE_MS);
}

/* ---- replies ----------------------------------------------------------- */

static void drop(fb_control *c, int slot)
{
	client *cl = c->clients[slot];
	fb_loop_unwatch(c->rt->loop, cl->fd);
	close(cl->fd);
	free(cl->out);
	fb_delta_memo_free(cl->memo);
	free(cl);
	c->clients[slot] = NULL;
}

/* Queues one reply line. A client has one reply out at a time: until it
 * is sent, the client is watched for POLLOUT only and nothing more of
 * its input is read, so one that sends and never reads holds one reply,
 * not a growing queue. */
static void reply(fb_control *c, client *cl, cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	size_t len = text ? strlen(text) : 0;
	if (!text || cl->out_len + len + 1 > OUT_CAP) {
		free(text);
		cl->closing = true;
		return;
	}
	char *out = realloc(cl->out, cl->out_len + len + 1);
	if (!out) {
		free(text);
		cl->closing = true;
		return;
	}
	memcpy(out + cl->out_len, text, len);
	out[cl->out_len + len] = '\n';
	cl->out = out;
	cl->out_len += len + 1;
	free(text);
	if (cl->fd >= 0) /* fb_control_answer() has no socket */
		fb_loop_watch(c->rt->loop, cl->fd, POLLOUT, on_client, c);
}

/* A reply that could not be built whole (out of memory) is none: the
 * client is dropped rather than told half of it. */
static void reply_error(fb_control *c, client *cl, const char *why)
{
	cJSON *o = cJSON_CreateObject();
	if (!cJSON_AddBoolToObject(o, "ok", false) ||
	    !cJSON_AddStringToObject(o, "error", why)) {
		cJSON_Delete(o);
		o = NULL;
	}
	reply(c, cl, o);
}

static cJSON *ok_reply(void)
{
	cJSON *o = cJSON_CreateObject();
	if (!cJSON_AddBoolToObject(o, "ok", true)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- requests ---------------------------------------------------------- */

static const char *str_field(const cJSON *req, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Replies with doc plus "ok":true; false (after an error reply) when the
 * document could not be built. */
static bool reply_doc(fb_control *c, client *cl, cJSON *doc)
{
	if (!doc) {
		reply_error(c, cl, "out of memory");
		return false;
	}
	if (!cJSON_AddBoolToObject(doc, "ok", true)) {
		cJSON_Delete(doc);
		reply_error(c, cl, "out of memory");
		return false;
	}
	reply(c, cl, doc);
	return true;
}

/* The status document of SPEC 7, with the event log's health. */
static cJSON *status_doc(const fb_runtime *rt)
{
	cJSON *o = fb_status_json(&rt->engine, rt->cfg.host, fb_now_ms(),
	                          fb_wall_ms());
	cJSON *el = o ? fb_backlog_json(&rt->backlog) : NULL;
	if (o && !cJSON_AddItemToObject(o, "event_log", el)) {
		cJSON_Delete(el);
		cJSON_Delete(o);
		return NULL; /* never a document with a part missing */
	}
	if (o && rt->fleet &&
	    !fb_json_put(o, "fleet", fb_fleet_json(rt->fleet, fb_now_ms()))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static void do_status(fb_control *c, client *cl)
{
	reply_doc(c, cl, status_doc(c->rt));
}

/* The status document with the totals `status --prometheus` prints. */
static void do_metrics(fb_control *c, client *cl)
{
	fb_runtime *rt = c->rt;
	reply_doc(c, cl,
	          fb_metrics_json(&rt->engine, rt->cfg.host, &rt->metrics_info,
	                          fb_now_ms(), fb_wall_ms()));
}

static void do_gate_check(fb_control *c, client *cl)
{
	fb_gate_decision d;
	fb_engine_gate(&c->rt->engine, fb_now_ms(), &d);
	cJSON *o = ok_reply();
	if (!fb_json_put(o, "gate", fb_gate_json(&d))) {
		cJSON_Delete(o);
		o = NULL;
	}
	reply(c, cl, o);
}

/* {"op":"watch"}: the status document (with the seq of the last event in
 * it), then every event as logged, in seq order, as long as the client
 * stays and keeps up. */
static void do_watch(fb_control *c, client *cl)
{
	cJSON *o = status_doc(c->rt);
	if (o) {
		cJSON_AddNumberToObject(o, "seq", (double)c->rt->log.seq);
		cJSON_AddNumberToObject(o, "pid", (double)getpid());
	}
	cl->watching = reply_doc(c, cl, o);
	/* a big instance's snapshot is megabytes: the events that come
	 * while it goes out get WATCH_CAP of their own */
	cl->watch_cap = cl->out_len + WATCH_CAP;
}

/* {"op":"delta",...}: see control_delta.c. */
static void do_delta(fb_control *c, client *cl, const cJSON *req)
{
	cJSON *o = fb_delta_json(c->rt, &cl->memo, req);
	if (!o)
		reply_error(c, cl, "out of memory");
	else
		reply(c, cl, o);
}

/* {"op":"probe","dep":..}: probe it now, or say why not. */
static void do_probe(fb_control *c, client *cl, const char *dep)
{
	char msg[200];
	if (fb_probe_now(c->rt, dep, msg, sizeof msg) != 0) {
		reply_error(c, cl, msg);
		return;
	}
	cJSON *o = ok_reply();
	cJSON_AddStringToObject(o, "dep", dep);
	cJSON_AddStringToObject(o, "message", msg);
	reply(c, cl, o);
}

static const struct {
	const char *op;
	fb_action action;
} dep_ops[] = {{"trip", FB_ACT_TRIP},
               {"reset", FB_ACT_RESET},
               {"disable", FB_ACT_DISABLE}};

static void do_action(fb_control *c, client *cl, fb_action action,
                      const char *dep, const char *reason)
{
	fb_error err;
	char clean[256] = "", name[FB_NAME_MAX * 2] = "";
	/* a peer's text reaches the log and the console: no control bytes */
	if (reason)
		fb_sanitize(clean, sizeof clean, reason, strlen(reason));
	if (dep) {
		fb_sanitize(name, sizeof name, dep, strlen(dep));
		dep = name;
	}
	if (fb_runtime_operate(c->rt, action, dep, cl->actor, clean, &err) !=
	    0) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", false);
		cJSON_AddStringToObject(o, "error", err.text);
		/* refused for the log, not the request: the CLI says so */
		if (fb_backlog_failing(&c->rt->backlog))
			cJSON_AddItemToObject(o, "event_log",
			                      fb_backlog_json(&c->rt->backlog));
		reply(c, cl, o);
		return;
	}
	if (action == FB_ACT_GATE_BLOCK || action == FB_ACT_GATE_ALLOW ||
	    action == FB_ACT_GATE_AUTO) {
		do_gate_check(c, cl);
		return;
	}
	fb_dep *d = fb_registry_find(&c->rt->engine.reg, dep);
	cJSON *o = ok_reply();
	if (!cJSON_AddStringToObject(o, "dep", dep) ||
	    !cJSON_AddStringToObject(
	        o, "state", fb_state_name(fb_breaker_state(d->breaker)))) {
		cJSON_Delete(o);
		o = NULL;
	}
	reply(c, cl, o);
}

static void do_gate_mode(fb_control *c, client *cl, const cJSON *req)
{
	static const fb_action actions[] = {[FB_GATE_AUTO] = FB_ACT_GATE_AUTO,
	                                    [FB_GATE_BLOCK] = FB_ACT_GATE_BLOCK,
	                                    [FB_GATE_ALLOW] =
	                                        FB_ACT_GATE_ALLOW};
	const char *mode = str_field(req, "mode");
	fb_gate_mode m;
	if (!mode || !fb_gate_mode_parse(mode, &m)) {
		reply_error(c, cl, "gate: mode must be block, allow or auto");
		return;
	}
	do_action(c, cl, actions[m], NULL, str_field(req, "reason"));
}

static void handle(fb_control *c, client *cl, const char *line, size_t len)
{
	cJSON *req = cJSON_ParseWithLength(line, len);
	const char *op = cJSON_IsObject(req) ? str_field(req, "op") : NULL;
	if (!op)
		reply_error(c, cl,
		            req ? "request needs an \"op\""
		                : "request is not JSON");
	else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "fleet")))
		reply(c, cl, fb_fleet_answer(c->rt, op, req, cl->actor));
	else if (strcmp(op, "status") == 0)
		do_status(c, cl);
	else if (strcmp(op, "metrics") == 0)
		do_metrics(c, cl);
	else if (strcmp(op, "gate_check") == 0)
		do_gate_check(c, cl);
	else if (strcmp(op, "watch") == 0)
		do_watch(c, cl);
	else if (strcmp(op, "delta") == 0)
		do_delta(c, cl, req);
	else if (strcmp(op, "probe") == 0 && str_field(req, "dep"))
		do_probe(c, cl, str_field(req, "dep"));
	else if (strcmp(op, "gate") == 0)
		do_gate_mode(c, cl, req);
	else if (fb_control_calls_op(op)) /* allow, report, job */
		reply(c, cl,
		      fb_control_calls_answer(c->rt, cl->actor, op, req));
	else {
		size_t i, n = sizeof dep_ops / sizeof dep_ops[0];
		for (i = 0; i < n && strcmp(dep_ops[i].op, op) != 0; i++)
			;
		const char *dep = str_field(req, "dep");
		if (i == n)
			reply_error(c, cl, "unknown op");
		else if (!dep)
			reply_error(c, cl, "this op needs a \"dep\"");
		else
			do_action(c, cl, dep_ops[i].action, dep,
			          str_field(req, "reason"));
	}
	cJSON_Delete(req);
}

char *fb_control_answer(fb_runtime *rt, const char *actor, const char *line,
                        size_t len)
{
	fb_control c = {.rt = rt, .fd = -1};
	client *cl = calloc(1, sizeof *cl);
	char *out = NULL;
	if (!cl)
		return NULL;
	cl->fd = -1;
	snprintf(cl->actor, sizeof cl->actor, "%s", actor);
	handle(&c, cl, line, len);
	if (cl->out_len && (out = realloc(cl->out, cl->out_len + 1)))
		out[cl->out_len] = '\0';
	else
		free(cl->out);
	free(cl);
	return out;
}

/* ---- client I/O -------------------------------------------------------- */

static int find_slot(fb_control *c, int fd)
{
	for (int i = 0; i < FB_CONTROL_MAX_CLIENTS; i++) {
		if (c->clients[i] && c->clients[i]->fd == fd)
			return i;
	}
	return -1;
}

/* Handles the next complete line in the input buffer, if no reply is
 * still going out: a client that pipelines requests gets them answered
 * one after the other. */
static void take_line(fb_control *c, client *cl)
{
	char *nl = cl->out_len || cl->closing
	               ? NULL
	               : memchr(cl->in, '\n', cl->in_len);
	if (nl) {
		size_t len = (size_t)(nl - cl->in);
		handle(c, cl, cl->in, len);
		memmove(cl->in, nl + 1, cl->in_len - len - 1);
		cl->in_len -= len + 1;
	} else if (cl->in_len == sizeof cl->in) {
		reply_error(c, cl, "request too long");
		cl->closing = true;
		cl->in_len = 0;
	}
	if (!cl->in_len && !cl->out_len)
		begin(cl, false);
}

static bool read_in(fb_control *c, client *cl)
{
	if (cl->watching) { /* it only listens now: anything it says is noise */
		char junk[512];
		ssize_t n = read(cl->fd, junk, sizeof junk);
		return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
	}
	ssize_t n =
	    read(cl->fd, cl->in + cl->in_len, sizeof cl->in - cl->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false; /* EOF or error: replies still queued are dropped */
	if (!cl->busy)
		begin(cl, true);
	cl->in_len += (size_t)n;
	take_line(c, cl);
	return true;
}

static bool write_out(fb_control *c, client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off,
		                 cl->out_len - cl->out_off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n <= 0)
			return false;
		cl->out_off += (size_t)n;
	}
	free(cl->out);
	cl->out = NULL;
	cl->out_len = cl->out_off = 0;
	cl->watch_cap = WATCH_CAP;
	if (cl->closing)
		return false;
	fb_loop_watch(c->rt->loop, cl->fd, POLLIN, on_client, c);
	if (cl->in_len) { /* the next pipelined request: a new deadline */
		begin(cl, true);
		take_line(c, cl);
	} else {
		begin(cl, false);
	}
	return true;
}

static void on_client(void *ctx, int fd, short revents)
{
	fb_control *c = ctx;
	int slot = find_slot(c, fd);
	if (slot < 0)
		return;
	client *cl = c->clients[slot];
	bool alive = true;
	if (revents & POLLIN)
		alive = read_in(c, cl);
	if (alive && cl->out_len)
		alive = write_out(c, cl);
	if (alive && (revents & (POLLERR | POLLNVAL)))
		alive = false;
	if (!alive || (cl->closing && !cl->out_len))
		drop(c, slot);
}

/* "alice (uid 1000)" from the peer's credentials. */
static void peer_actor(int fd, char *out, size_t len)
{
	struct ucred cred;
	socklen_t sl = sizeof cred;
	char buf[1024];
	struct passwd pw, *res = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) != 0) {
		snprintf(out, len, "unknown");
		return;
	}
	getpwuid_r(cred.uid, &pw, buf, sizeof buf, &res);
	snprintf(out, len, "%s (uid %u)", res ? res->pw_name : "?",
	         (unsigned)cred.uid);
}

/* A slot for a new client. When all are taken, the client that has been
 * idle or stuck in one request the longest gives its slot up, so peers
 * that hold connections open (or trickle bytes) can never lock out a
 * `gate check`. */
static int free_slot(fb_control *c)
{
	int oldest = 0;
	for (int i = 0; i < FB_CONTROL_MAX_CLIENTS; i++) {
		if (!c->clients[i])
			return i;
		const client *a = c->clients[i], *b = c->clients[oldest];
		/* a watcher (a console) gives way only to another watcher */
		if (a->watching != b->watching ? b->watching
		                               : a->since_ms < b->since_ms)
			oldest = i;
	}
	drop(c, oldest);
	return oldest;
}

static void on_accept(void *ctx, int fd, short revents)
{
	fb_control *c = ctx;
	(void)revents;
	int cfd;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >=
	       0) {
		int slot = free_slot(c);
		client *cl = calloc(1, sizeof *cl);
		if (!cl) {
			static const char busy[] =
			    "{\"ok\":false,\"error\":\"out of memory\"}\n";
			if (send(cfd, busy, sizeof busy - 1, MSG_NOSIGNAL) < 0)
				errno = 0;
			close(cfd);
			continue;
		}
		cl->fd = cfd;
		begin(cl, false);
		peer_actor(cfd, cl->actor, sizeof cl->actor);
		c->clients[slot] = cl;
		if (fb_loop_watch(c->rt->loop, cfd, POLLIN, on_client, c) != 0)
			drop(c, slot); /* never read: gone now, not at idle */
	}
}

/* Adds data to what goes out to cl. False when that would pass the
 * watcher's cap or memory runs out. */
static bool queue_out(client *cl, const char *data, size_t len)
{
	if (cl->out_len - cl->out_off + len > cl->watch_cap)
		return false;
	if (cl->out_off > 65536 && cl->out_off > cl->out_len / 2) {
		memmove(cl->out, cl->out + cl->out_off,
		        cl->out_len - cl->out_off);
		cl->out_len -= cl->out_off;
		cl->out_off = 0;
	}
	char *out = realloc(cl->out, cl->out_len + len);
	if (!out)
		return false;
	memcpy(out + cl->out_len, data, len);
	cl->out = out;
	cl->out_len += len;
	return true;
}

void fb_control_publish(fb_control *c, const char *line, size_t len)
{
	static const char behind[] =
	    "{\"ok\":false,\"error\":\"too far behind: dropped; watch "
	    "again to resume from a new status\"}\n";
	for (int i = 0; c && i < FB_CONTROL_MAX_CLIENTS; i++) {
		client *cl = c->clients[i];
		if (!cl || !cl->watching || cl->closing)
			continue;
		if (queue_out(cl, line, len) && queue_out(cl, "\n", 1)) {
			fb_loop_watch(c->rt->loop, cl->fd, POLLIN | POLLOUT,
			              on_client, c);
			continue;
		}
		/* what it has not been sent yet goes; the last word takes its
		 * place, after the line it is in the middle of; then it is
		 * closed */
		if (cl->out_off == 0) {
			cl->out_len = 0;
		} else {
			char *nl = memchr(cl->out + cl->out_off - 1, '\n',
			                  cl->out_len - cl->out_off + 1);
			if (nl)
				cl->out_len = (size_t)(nl - cl->out) + 1;
		}
		char *out = realloc(cl->out, cl->out_len + sizeof behind - 1);
		if (out) {
			memcpy(out + cl->out_len, behind, sizeof behind - 1);
			cl->out = out;
			cl->out_len += sizeof behind - 1;
		}
		cl->closing =
		    true; /* holding a line or two: it may take its time */
		cl->deadline_ms = fb_now_ms() + FB_CONTROL_IDLE_MS;
		fb_loop_watch(c->rt->loop, cl->fd, POLLOUT, on_client, c);
	}
}

void fb_control_tick(fb_control *c, int64_t now_ms)
{
	for (int i = 0; i < FB_CONTROL_MAX_CLIENTS; i++) {
		client *cl = c->clients[i];
		if (cl && now_ms > cl->deadline_ms)
			drop(c, i);
	}
}

/* ---- the listening socket ---------------------------------------------- */

/* Is something answering on this path? Then it is not ours to take. */
static bool socket_alive(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive = fd >= 0 && connect(fd, (const struct sockaddr *)addr,
	                                sizeof *addr) == 0;
	if (fd >= 0)
		close(fd);
	return alive;
}

static int set_owner(const fb_config *cfg, fb_error *err)
{
	if (chmod(cfg->control_socket, (mode_t)cfg->control_mode) != 0) {
		snprintf(err->text, sizeof err->text, "%s: chmod: %s",
		         cfg->control_socket, strerror(errno));
		return -1;
	}
	if (!cfg->control_group[0])
		return 0;
	struct group *g = getgrnam(cfg->control_group);
	if (!g || chown(cfg->control_socket, (uid_t)-1, g->gr_gid) != 0) {
		snprintf(err->text, sizeof err->text, "%s: group '%s': %s",
		         cfg->control_socket, cfg->control_group,
		         g ? strerror(errno) : "no such group");
		return -1;
	}
	return 0;
}

/* The socket's folder must be a real folder of ours that nobody else can
 * write to: then nobody else can have put a socket there, or can take
 * ours away. The default one is created (0700; 0750 with control_group)
 * when missing. Returns 0, or -1 with *err. */
static int check_folder(const fb_config *cfg, fb_error *err)
{
	char dir[512];
	struct stat st;
	snprintf(dir, sizeof dir, "%s", cfg->control_socket);
	char *d = dirname(dir);
	if (cfg->control_socket_default &&
	    mkdir(d, cfg->control_group[0] ? 0750 : 0700) == 0 &&
	    cfg->control_group[0]) {
		struct group *g = getgrnam(cfg->control_group);
		if (g && chown(d, (uid_t)-1, g->gr_gid) != 0)
			g = NULL;
	}
	const char *why = NULL;
	if (lstat(d, &st) != 0)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a folder (a symbolic link is refused too)";
	else if (st.st_uid != geteuid())
		why = "the folder belongs to another user";
	else if (st.st_mode & 022)
		why = "others can write to the folder; the socket must be in a "
		      "folder of its own";
	if (why) {
		snprintf(err->text, sizeof err->text,
		         "%s: cannot serve the control socket in %s: %s",
		         cfg->control_socket, d, why);
		return -1;
	}
	return 0;
}

/* Makes path free for our socket: nothing there, or a socket of ours
 * that nobody answers on (left by a crash), which is removed. Anything
 * else -- a file, another user's socket, a live instance -- is refused,
 * never deleted. Returns 0, or -1 with *err and *code. */
static int clear_stale(const char *path, const struct sockaddr_un *addr,
                       fb_error *err, int *code)
{
	struct stat st;
	*code = FB_EXIT_CONFIG;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err->text, sizeof err->text, "%s: %s", path,
		         strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
		snprintf(err->text, sizeof err->text,
		         "%s: %s is there; refused (control_socket must name a "
		         "socket of ours or nothing)",
		         path,
		         S_ISSOCK(st.st_mode) ? "another user's socket"
		                              : "a file that is not a socket");
		return -1;
	}
	if (socket_alive(addr)) {
		*code = FB_EXIT_TEMPFAIL; /* already running */
		snprintf(err->text, sizeof err->text,
		         "%s: another fusebox instance is already serving this "
		         "socket",
		         path);
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err->text, sizeof err->text, "%s: %s", path,
		         strerror(errno));
		return -1;
	}
	return 0;
}

static int listen_on(const fb_config *cfg, fb_error *err, int *code)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	const char *path = cfg->control_socket;
	*code = FB_EXIT_CONFIG;
	if (strlen(path) >= sizeof addr.sun_path) {
		snprintf(err->text, sizeof err->text,
		         "%s: socket path too long (at most %zu bytes)", path,
		         sizeof addr.sun_path - 1);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (check_folder(cfg, err) != 0 ||
	    clear_stale(path, &addr, err, code) != 0)
		return -1;
	*code = FB_EXIT_FAIL;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	mode_t old = umask(0177); /* never world-accessible, even briefly */
	int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&addr, sizeof addr);
	umask(old);
	if (rc != 0 || listen(fd, 64) != 0) {
		snprintf(err->text, sizeof err->text, "%s: %s", path,
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (set_owner(cfg, err) != 0) {
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

fb_control *fb_control_open(fb_runtime *rt, fb_error *err, int *code)
{
	fb_control *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err->text, sizeof err->text, "out of memory");
		return NULL;
	}
	c->rt = rt;
	c->fd = listen_on(&rt->cfg, err, code);
	if (c->fd < 0) {
		free(c);
		return NULL;
	}
	snprintf(c->path, sizeof c->path, "%s", rt->cfg.control_socket);
	/* unwatched, it would listen and never answer */
	if (fb_loop_watch(rt->loop, c->fd, POLLIN, on_accept, c) != 0) {
		snprintf(err->text, sizeof err->text, "%s: out of memory",
		         c->path);
		*code = FB_EXIT_FAIL;
		close(c->fd);
		unlink(c->path);
		free(c);
		return NULL;
	}
	return c;
}

void fb_control_close(fb_control *c)
{
	if (!c)
		return;
	for (int i = 0; i < FB_CONTROL_MAX_CLIENTS; i++) {
		client *cl = c->clients[i];
		if (cl &&
		    cl->out_len > cl->out_off && /* a watcher's last events */
		    send(cl->fd, cl->out + cl->out_off,
		         cl->out_len - cl->out_off,
		         MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			errno = 0;
		if (cl)
			drop(c, i);
	}
	fb_loop_unwatch(c->rt->loop, c->fd);
	close(c->fd);
	unlink(c->path);
	free(c);
}
