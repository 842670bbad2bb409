/* `fusebox replay --redis`: the fleet's event stream ({P:S}:events) as
 * one timeline. The stream holds every instance's events in the order
 * they were published (an outage's backlog comes late), so it is split
 * into one log per instance, in seq order with duplicates on (instance,
 * seq) dropped, and those logs are replayed as several hosts' logs are:
 * merged by time, with a host column. A blocking connection is fine
 * here: this is a command, not the engine's loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "cli.h"
#include "core/fleet.h"
#include "core/parse.h"
#include "fleet_catchup.h"
#include "fleet_conn.h"
#include "logread.h"

#define PAGE     1000 /* stream entries per XRANGE */
#define MAX_LOGS 256  /* instances a replay keeps apart */

typedef struct inst_log {
	char id[FB_FLEET_ID_LEN + 1];
	char path[600];
	FILE *f;
	uint64_t last; /* seq: a repeat is dropped */
} inst_log;

typedef struct fetch {
	char dir[512];
	inst_log logs[MAX_LOGS];
	size_t n;
	long entries, dropped;
} fetch;

static redisContext *connect_redis(const fb_redis_config *rc, fb_error *err)
{
	fb_url u;
	const char *why;
	char pw[256];
	if (fb_fleet_password(rc, pw, sizeof pw, err) != 0)
		return NULL;
	if (fb_url_parse(rc->url, &u, &why) != 0) {
		snprintf(err->text, sizeof err->text, "[redis] url: %s", why);
		return NULL;
	}
	struct timeval tv = {FB_FLEET_CONNECT_TIMEOUT_MS / 1000, 0};
	redisContext *c =
	    redisConnectWithTimeout(u.host, u.port > 0 ? u.port : 6379, tv);
	if (!c || c->err) {
		snprintf(err->text, sizeof err->text, "redis %s:%d: %s", u.host,
		         u.port, c ? c->errstr : "out of memory");
		redisFree(c);
		return NULL;
	}
	struct timeval rw = {5, 0};
	redisSetTimeout(c, rw);
	long db = strtol(u.path[0] == '/' ? u.path + 1 : u.path, NULL, 10);
	redisReply *r = NULL;
	if (pw[0] && rc->user[0])
		r = redisCommand(c, "AUTH %s %s", rc->user, pw);
	else if (pw[0])
		r = redisCommand(c, "AUTH %s", pw);
	explicit_bzero(pw, sizeof pw);
	bool bad = r && r->type == REDIS_REPLY_ERROR;
	if (bad || (!r && c->err))
		snprintf(err->text, sizeof err->text, "redis AUTH refused: %s",
		         r ? r->str : c->errstr);
	freeReplyObject(r);
	if (!bad && !c->err && db > 0) {
		r = redisCommand(c, "SELECT %ld", db);
		bad = !r || r->type == REDIS_REPLY_ERROR;
		if (bad)
			snprintf(err->text, sizeof err->text,
			         "redis SELECT %ld: %s", db,
			         r ? r->str : c->errstr);
		freeReplyObject(r);
	}
	if (bad || c->err) {
		redisFree(c);
		return NULL;
	}
	return c;
}

static const redisReply *field(const redisReply *kv, const char *name)
{
	for (size_t i = 0; i + 1 < kv->elements; i += 2) {
		const redisReply *k = kv->element[i];
		if (k->type == REDIS_REPLY_STRING && k->len == strlen(name) &&
		    memcmp(k->str, name, k->len) == 0 &&
		    kv->element[i + 1]->type == REDIS_REPLY_STRING)
			return kv->element[i + 1];
	}
	return NULL;
}

static inst_log *log_of(fetch *fx, const redisReply *id)
{
	char clean[FB_FLEET_ID_LEN + 1];
	size_t n = id->len < FB_FLEET_ID_LEN ? id->len : FB_FLEET_ID_LEN;
	for (size_t i = 0; i < n; i++) {
		char ch = id->str[i];
		bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
		clean[i] = hex ? ch : '_';
	}
	clean[n] = '\0';
	for (size_t i = 0; i < fx->n; i++)
		if (strcmp(fx->logs[i].id, clean) == 0)
			return &fx->logs[i];
	if (fx->n == MAX_LOGS || !n)
		return NULL;
	inst_log *l = &fx->logs[fx->n];
	snprintf(l->id, sizeof l->id, "%s", clean);
	char dir[sizeof fx->dir];
	memcpy(dir, fx->dir, sizeof dir);
	snprintf(l->path, sizeof l->path, "%s/%s.jsonl", dir, clean);
	if (!(l->f = fopen(l->path, "w")))
		return NULL;
	fx->n++;
	return l;
}

/* One stream entry [id, [field, value...]] into its instance's log. */
static void take(fetch *fx, const redisReply *e)
{
	const redisReply *kv = e->element[1];
	const redisReply *id = field(kv, "instance"), *seq = field(kv, "seq"),
	                 *ev = field(kv, "event");
	uint64_t s;
	inst_log *l;
	fx->entries++;
	if (!id || !seq || !ev || ev->len > FB_LOG_LINE_MAX ||
	    !(s = fb_fleet_line_seq(ev->str, ev->len)) ||
	    !(l = log_of(fx, id)) || s <= l->last) {
		fx->dropped++;
		return;
	}
	l->last = s;
	fwrite(ev->str, 1, ev->len, l->f);
	fputc('\n', l->f);
}

/* Reads the whole stream, a page at a time. Returns 0, or -1 with err. */
static int read_stream(redisContext *c, const char *key, fetch *fx,
                       fb_error *err)
{
	char from[64] = "-";
	for (;;) {
		redisReply *r =
		    redisCommand(c, "XRANGE %s %s + COUNT %d", key, from, PAGE);
		if (!r || r->type != REDIS_REPLY_ARRAY) {
			snprintf(err->text, sizeof err->text,
			         "redis XRANGE %s: %s", key,
			         r && r->type == REDIS_REPLY_ERROR ? r->str
			                                           : c->errstr);
			freeReplyObject(r);
			return -1;
		}
		size_t n = r->elements;
		for (size_t i = 0; i < n; i++) {
			const redisReply *e = r->element[i];
			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
			    e->element[0]->type != REDIS_REPLY_STRING ||
			    e->element[1]->type != REDIS_REPLY_ARRAY)
				continue;
			take(fx, e);
			if (i + 1 == n)
				snprintf(from, sizeof from, "(%.*s",
				         (int)(e->element[0]->len < 60
				                   ? e->element[0]->len
				                   : 60),
				         e->element[0]->str);
		}
		freeReplyObject(r);
		if (n < PAGE)
			return 0;
	}
}

/* The command line without --redis and --config, then the logs. */
static char **replay_args(int argc, char **argv, const fetch *fx, int *n)
{
	char **out = calloc((size_t)argc + fx->n + 1, sizeof *out);
	if (!out)
		return NULL;
	*n = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--redis") == 0 || strcmp(a, "-R") == 0 ||
		    strncmp(a, "--config=", 9) == 0)
			continue;
		if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) {
			i++;
			continue;
		}
		out[(*n)++] = argv[i];
	}
	for (size_t i = 0; i < fx->n; i++)
		out[(*n)++] = (char *)fx->logs[i].path;
	return out;
}

static void clean_up(fetch *fx)
{
	for (size_t i = 0; i < fx->n; i++) {
		if (fx->logs[i].f)
			fclose(fx->logs[i].f);
		unlink(fx->logs[i].path);
	}
	rmdir(fx->dir);
}

int fb_replay_redis(int argc, char **argv, const char *config)
{
	fb_config cfg;
	fb_error err;
	char key[200];
	static fetch fx;
	if (fb_cli_load_config(config, &cfg) != 0)
		return FB_EXIT_CONFIG;
	if (!cfg.redis.enabled) {
		fb_cli_error("replay --redis: %s has no [redis] section",
		             cfg.path);
		fb_config_free(&cfg);
		return FB_EXIT_CONFIG;
	}
	snprintf(key, sizeof key, "{%s:%s}:events", cfg.redis.prefix,
	         cfg.redis.service);
	redisContext *c = connect_redis(&cfg.redis, &err);
	fb_config_free(&cfg);
	if (!c) {
		fb_cli_error("replay --redis: %s", err.text);
		return FB_EXIT_UNAVAILABLE;
	}
	const char *tmp = getenv("TMPDIR");
	memset(&fx, 0, sizeof fx);
	snprintf(fx.dir, sizeof fx.dir, "%s/fusebox-replay-XXXXXX",
	         tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(fx.dir)) {
		fb_cli_error("replay --redis: %s: %s", fx.dir, strerror(errno));
		redisFree(c);
		return FB_EXIT_FAIL;
	}
	int rc = read_stream(c, key, &fx, &err);
	redisFree(c);
	for (size_t i = 0; i < fx.n; i++) {
		fclose(fx.logs[i].f);
		fx.logs[i].f = NULL;
	}
	if (rc != 0 || fx.n == 0) {
		if (rc != 0)
			fb_cli_error("replay --redis: %s", err.text);
		else
			fb_cli_error("replay --redis: the stream %s holds no "
			             "event",
			             key);
		clean_up(&fx);
		return rc != 0 ? FB_EXIT_UNAVAILABLE : FB_EXIT_DATAERR;
	}
	if (fx.dropped)
		fb_cli_error("replay --redis: %ld of %ld stream entries left "
		             "out (repeats or not events)",
		             fx.dropped, fx.entries);
	int n;
	char **args = replay_args(argc, argv, &fx, &n);
	rc = args ? fb_cmd_replay(n, args) : FB_EXIT_FAIL;
	free(args);
	clean_up(&fx);
	return rc;
}
