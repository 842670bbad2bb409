/* Allocation failure, curl's torture idea: each scenario is run once to
 * count its allocations, then again for every N up to that count with
 * the N-th allocation failing. Whatever fails, nothing crashes, nothing
 * leaks (LeakSanitizer is asked after every run), the failure is a clear
 * error (or a result as good as without it), and no event already in
 * the log is lost or damaged.
 *
 * Linked with --wrap=malloc,calloc,realloc,aligned_alloc,strdup,strndup
 * (see the Makefile), so every allocation of fusebox's own code comes
 * here; cJSON (a shared library) is routed here through its hooks. What
 * libc, libcurl and inih allocate inside themselves is not counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include <errno.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>

#include "cli.h"
#include "control.h"
#include "eventlog.h"
#include "helpers.h"
#include "logread.h"
#include "runtime.h"
#include "timeline.h"

/* ---- the failing allocator --------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);

static long fail_at;    /* the allocation that fails; 0 = none */
static long counted;    /* allocations since arm() */
static long failed;     /* how many were made to fail */
static int armed;

/* True when this allocation is the one to fail. Atomic: the replay
 * index allocates from two threads. */
static int should_fail(void)
{
	if (!__atomic_load_n(&armed, __ATOMIC_SEQ_CST))
		return 0;
	long n = __atomic_add_fetch(&counted, 1, __ATOMIC_SEQ_CST);
	if (n != fail_at)
		return 0;
	__atomic_add_fetch(&failed, 1, __ATOMIC_SEQ_CST);
	if (getenv("FB_ALLOC_TRACE")) /* where it failed, for a reader */
		__sanitizer_print_stack_trace();
	errno = ENOMEM;
	return 1;
}

void *__wrap_malloc(size_t n)
{
	return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
	return should_fail() ? NULL : __real_aligned_alloc(align, n);
}

char *__wrap_strdup(const char *s)
{
	return should_fail() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return should_fail() ? NULL : __real_strndup(s, n);
}

/* cJSON's allocations, counted the same way. */
static void *json_malloc(size_t n)
{
	return __wrap_malloc(n);
}

static void json_hooks(void)
{
	cJSON_Hooks h = {json_malloc, free};
	cJSON_InitHooks(&h);
}

static void arm(long n)
{
	json_hooks(); /* the replay index puts its own in and takes them out */
	counted = 0;
	failed = 0;
	fail_at = n;
	__atomic_store_n(&armed, 1, __ATOMIC_SEQ_CST);
}

static long disarm(void)
{
	__atomic_store_n(&armed, 0, __ATOMIC_SEQ_CST);
	return counted;
}

/* ---- the driver -------------------------------------------------------- */

typedef struct scenario {
	const char *name;
	void (*setup)(void *ctx);         /* not counted */
	int (*run)(void *ctx);            /* counted: 0 done, -1 refused */
	void (*check)(void *ctx, int rc); /* not counted: the promises */
	void (*cleanup)(void *ctx);       /* not counted */
} scenario;

#define LEAK_BATCH 16 /* runs between two leak checks */

typedef struct tally {
	long points, refused, recovered;
} tally;

static int run_once(const scenario *s, void *ctx, long n, long *count)
{
	if (s->setup)
		s->setup(ctx);
	arm(n);
	int rc = s->run(ctx);
	*count = disarm();
	s->check(ctx, rc);
	if (s->cleanup)
		s->cleanup(ctx);
	return rc;
}

/* Fails each allocation of the scenario in turn. */
static tally torture(const scenario *s, void *ctx)
{
	tally t = {0};
	long count;
	assert_int_equal(run_once(s, ctx, 0, &count), 0);
	if (__lsan_do_recoverable_leak_check())
		fail_msg("%s leaks with no allocation failing", s->name);
	t.points = count;
	/* a leak check stops the world: one per batch, and a batch that
	 * leaked is run again one by one to name the allocation */
	for (long from = 1; from <= t.points; from += LEAK_BATCH) {
		long to = from + LEAK_BATCH - 1 < t.points ? from + LEAK_BATCH - 1
		                                           : t.points;
		for (long n = from; n <= to; n++) {
			if (run_once(s, ctx, n, &count) != 0)
				t.refused++;
			else
				t.recovered++;
		}
		if (!__lsan_do_recoverable_leak_check())
			continue;
		for (long n = from; n <= to; n++) {
			run_once(s, ctx, n, &count);
			if (__lsan_do_recoverable_leak_check())
				fail_msg("%s: leak when allocation %ld of %ld "
				         "fails",
				         s->name, n, t.points);
		}
	}
	print_message("# %s: %ld allocations, each failed in turn: %ld "
	              "refused with an error, %ld carried on\n",
	              s->name, t.points, t.refused, t.recovered);
	return t;
}

static char dir[256];

static int group_setup(void **state)
{
	(void)state;
	th_tempdir(dir, sizeof dir);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	th_rmtree(dir);
	return 0;
}

/* The events of a log, as the reader sees them; fails on a bad line.
 * Returns how many, their seqs in seq[] (up to max). */
static long read_events(const char *path, uint64_t *seq, long max)
{
	fb_log_reader r;
	char err[600];
	const char *line;
	size_t len;
	long n = 0;
	if (fb_log_reader_open(&r, path, err, sizeof err) != 0)
		fail_msg("%s", err);
	r.quiet = true;
	while (fb_log_reader_line(&r, &line, &len)) {
		fb_log_event ev;
		if (fb_log_event_parse(&r, line, len, &ev) != 0)
			fail_msg("%s:%ld is not a whole event: %.*s", path, r.line,
			         (int)len, line);
		if (n < max)
			seq[n] = ev.seq;
		n++;
		cJSON_Delete(ev.json);
	}
	r.skipped = 0;
	fb_log_reader_close(&r);
	return n;
}

/* Every seq one above the one before, from 1. */
static void assert_seq_runs(const uint64_t *seq, long n, const char *what)
{
	for (long i = 0; i < n; i++) {
		if (seq[i] != (uint64_t)i + 1)
			fail_msg("%s: event %ld has seq %llu", what, i + 1,
			         (unsigned long long)seq[i]);
	}
}

/* ---- the config loader ------------------------------------------------- */

static const char config_text[] =
    "[fusebox]\n"
    "log = events.jsonl\n"
    "control_socket = ctl.sock\n"
    "[defaults]\n"
    "timeout = 3s\n"
    "[redis]\n"
    "url = redis://r:6379/0\n"
    "[preset p1]\ntimeout = 1s\n"
    "[preset p2]\ntimeout = 2s\n"
    "[preset p3]\ntimeout = 3s\n"
    "[dep d1]\nurl = http://h1:80/health\npreset = p1\ncritical = true\n"
    "[dep d2]\nurl = redis://h2:6379/1\npreset = fast\n"
    "[dep d3]\nurl = tcp://h3:5432\n"
    "[dep d4]\nhost = h4\nport = 81\nenv_prefix = D4\n"
    "[dep d5]\nurl = http://h5:80/\n"
    "[dep d6]\nurl = http://h6:80/\n"
    "[dep d7]\nurl = http://h7:80/\n"
    "[dep d8]\nurl = http://h8:80/\n"
    "[dep d9]\nurl = http://h9:80/\n"
    "[dep d10]\nurl = https://h10/ready\npreset = p3\n";

static const th_env_var config_env[] = {{"D4_TIMEOUT", "7s"},
                                        {"D4_URL", "http://env:9000/x"}};

typedef struct config_ctx {
	char path[512];
	fb_config want, got;
	fb_error err;
} config_ctx;

static int config_run(void *ctx)
{
	config_ctx *c = ctx;
	memset(&c->err, 0, sizeof c->err);
	return fb_config_load(c->path, &c->got, &c->err, th_getenv);
}

static void config_check(void *ctx, int rc)
{
	config_ctx *c = ctx;
	if (rc != 0) {
		if (!strstr(c->err.text, "out of memory"))
			fail_msg("config refused without saying why: '%s'",
			         c->err.text);
		assert_null(c->got.deps);
		assert_null(c->got.presets);
		return;
	}
	assert_int_equal(c->got.ndeps, c->want.ndeps);
	assert_int_equal(c->got.npresets, c->want.npresets);
	for (size_t i = 0; i < c->want.ndeps; i++) {
		assert_string_equal(c->got.deps[i].name, c->want.deps[i].name);
		assert_string_equal(c->got.deps[i].url, c->want.deps[i].url);
		assert_memory_equal(c->got.deps[i].t, c->want.deps[i].t,
		                    sizeof c->want.deps[i].t);
	}
	fb_config_free(&c->got);
}

static void test_config_loader(void **state)
{
	(void)state;
	config_ctx c = {0};
	th_write_file(dir, "alloc.ini", config_text, c.path, sizeof c.path);
	th_env_use(config_env, 2);
	assert_int_equal(fb_config_load(c.path, &c.want, &c.err, th_getenv), 0);
	assert_int_equal(c.want.ndeps, 10);
	const scenario s = {"config loader", NULL, config_run, config_check,
	                    NULL};
	tally t = torture(&s, &c);
	assert_true(t.points >= 4);
	assert_int_equal(t.recovered, 0); /* every failure is a refusal */
	fb_config_free(&c.want);
	th_env_use(NULL, 0);
}

/* ---- the log reader and the replay index ------------------------------- */

typedef struct reader_ctx {
	char path[512];
	long want, got, skipped, lines;
	size_t tl_n;
	long tl_skipped;
	char err[600];
} reader_ctx;

static void count_skip(void *ctx, long line, const char *why)
{
	(void)line;
	(void)why;
	((reader_ctx *)ctx)->skipped++;
}

static int reader_run(void *ctx)
{
	reader_ctx *c = ctx;
	fb_log_reader r;
	const char *line;
	size_t len;
	c->got = c->skipped = c->lines = 0;
	if (fb_log_reader_open(&r, c->path, c->err, sizeof c->err) != 0)
		return -1;
	r.on_skip = count_skip;
	r.skip_ctx = c;
	while (fb_log_reader_line(&r, &line, &len)) {
		fb_log_event ev;
		c->lines++;
		if (fb_log_event_parse(&r, line, len, &ev) == 0) {
			c->got++;
			cJSON_Delete(ev.json);
		}
	}
	r.skipped = 0; /* counted here, not printed */
	fb_log_reader_close(&r);
	return 0;
}

static void reader_check(void *ctx, int rc)
{
	reader_ctx *c = ctx;
	if (rc != 0) {
		if (!strstr(c->err, "out of memory"))
			fail_msg("reader refused without saying why: '%s'",
			         c->err);
		return;
	}
	/* a line it could not parse is told as skipped, never dropped */
	assert_int_equal(c->got + c->skipped, c->lines);
	assert_true(c->got >= c->want - 1);
}

static int timeline_run(void *ctx)
{
	reader_ctx *c = ctx;
	fb_timeline tl;
	char *paths[] = {c->path, c->path};
	if (fb_timeline_load(&tl, paths, 2, true, c->err, sizeof c->err) != 0)
		return -1;
	c->tl_n = tl.n;
	c->tl_skipped = tl.skipped;
	fb_timeline_free(&tl);
	return 0;
}

static void timeline_check(void *ctx, int rc)
{
	reader_ctx *c = ctx;
	if (rc != 0) {
		if (!strstr(c->err, "out of memory"))
			fail_msg("replay index refused without saying why: "
			         "'%s'",
			         c->err);
		return;
	}
	/* loaded means loaded whole: both copies, every event */
	if (c->tl_n != (size_t)(2 * c->want))
		fail_msg("replay index holds %zu events of %ld (%ld lines "
		         "skipped)",
		         c->tl_n, 2 * c->want, c->tl_skipped);
	assert_int_equal(c->tl_skipped, 2); /* the one bad line, twice */
}

static void write_log(const char *name, int events, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 1; i <= events; i++) {
		fprintf(f,
		        "{\"v\":1,\"seq\":%d,\"ts\":\"2026-11-23T10:00:%02d.000Z\","
		        "\"host\":\"h\",\"kind\":\"transition\",\"dep\":\"d%d\","
		        "\"from\":\"closed\",\"to\":\"open\",\"health\":"
		        "\"unhealthy\",\"reason\":\"r\",\"failures\":5}\n",
		        i, i % 60, i % 7);
		if (i == events / 2)
			fputs("{\"v\":1,\"seq\":\n", f); /* one bad line */
	}
	fclose(f);
}

static void test_log_reader_and_replay_index(void **state)
{
	(void)state;
	reader_ctx c = {0};
	write_log("read.jsonl", 12, c.path, sizeof c.path);
	c.want = 12;
	const scenario s = {"log reader", NULL, reader_run, reader_check,
	                    NULL};
	tally t = torture(&s, &c);
	assert_true(t.points >= 12);
	const scenario s2 = {"replay index (two threads)", NULL, timeline_run,
	                     timeline_check, NULL};
	t = torture(&s2, &c);
	assert_true(t.points >= 4);
	json_hooks();
}

/* ---- the log writer ---------------------------------------------------- */

#define PRE_EVENTS 3
#define NEW_EVENTS 4

typedef struct writer_ctx {
	char path[512];
	int appended; /* by this run */
	bool opened;
	fb_error err;
} writer_ctx;

static fb_event op_event(int i)
{
	static char reason[64];
	snprintf(reason, sizeof reason, "drill %d", i);
	return (fb_event){.kind = FB_EV_OPERATOR,
	                  .action = FB_ACT_TRIP,
	                  .dep = "d1",
	                  .actor = "alice (uid 1000)",
	                  .reason = reason,
	                  .failures = -1,
	                  .retry_after_ms = -1};
}

static void writer_setup(void *ctx)
{
	writer_ctx *c = ctx;
	char warn[1024];
	fb_log log;
	unlink(c->path);
	assert_int_equal(fb_log_open(&log, c->path, "h", 0, 5, 0600, warn,
	                             sizeof warn, &c->err),
	                 0);
	for (int i = 0; i < PRE_EVENTS; i++) {
		fb_event ev = op_event(i);
		assert_int_equal(fb_log_append(&log, &ev, 1763892000000LL, &c->err),
		                 0);
	}
	fb_log_close(&log);
}

static int writer_run(void *ctx)
{
	writer_ctx *c = ctx;
	char warn[1024];
	fb_log log;
	c->appended = 0;
	c->opened = false;
	if (fb_log_open(&log, c->path, "h", 0, 5, 0600, warn, sizeof warn,
	                &c->err) != 0)
		return -1;
	c->opened = true;
	int rc = 0;
	for (int i = 0; i < NEW_EVENTS; i++) {
		fb_event ev = op_event(PRE_EVENTS + i);
		memset(&c->err, 0, sizeof c->err);
		if (fb_log_append(&log, &ev, 1763892000000LL, &c->err) == 0) {
			c->appended++;
			continue;
		}
		rc = -1;
		if (!strstr(c->err.text, "out of memory"))
			fail_msg("append failed without saying why: '%s'",
			         c->err.text);
	}
	fb_log_close(&log);
	return rc;
}

static void writer_check(void *ctx, int rc)
{
	writer_ctx *c = ctx;
	uint64_t seq[PRE_EVENTS + NEW_EVENTS];
	if (rc != 0 && !c->opened && !strstr(c->err.text, "out of memory") &&
	    !strstr(c->err.text, strerror(ENOMEM)))
		fail_msg("log refused without saying why: '%s'", c->err.text);
	long n = read_events(c->path, seq, PRE_EVENTS + NEW_EVENTS);
	/* what was there stays; what was appended is whole, in order */
	assert_int_equal(n, PRE_EVENTS + c->appended);
	assert_seq_runs(seq, n, c->path);
	fb_log_reader r;
	char err[600];
	const char *line;
	size_t len;
	assert_int_equal(fb_log_reader_open(&r, c->path, err, sizeof err), 0);
	for (int i = 0; fb_log_reader_line(&r, &line, &len); i++) {
		fb_log_event ev;
		assert_int_equal(fb_log_event_parse(&r, line, len, &ev), 0);
		/* every field of the event, not just enough to parse */
		assert_non_null(ev.actor);
		assert_non_null(ev.action);
		assert_string_equal(ev.dep, "d1");
		assert_non_null(ev.reason);
		assert_non_null(ev.host);
		cJSON_Delete(ev.json);
	}
	fb_log_reader_close(&r);
}

static void test_log_writer(void **state)
{
	(void)state;
	writer_ctx c = {0};
	snprintf(c.path, sizeof c.path, "%s/write.jsonl", dir);
	const scenario s = {"log writer", writer_setup, writer_run,
	                    writer_check, NULL};
	tally t = torture(&s, &c);
	assert_true(t.points >= NEW_EVENTS);
}

/* ---- the control ops --------------------------------------------------- */

static const char *const requests[] = {
    "{\"op\":\"status\"}",
    "{\"op\":\"metrics\"}",
    "{\"op\":\"gate_check\"}",
    "{\"op\":\"trip\",\"dep\":\"d1\",\"reason\":\"drill\"}",
    "{\"op\":\"gate\",\"mode\":\"block\",\"reason\":\"x\\u001b]0;y\"}",
    "{\"op\":\"gate\",\"mode\":\"auto\"}",
    "{\"op\":\"reset\",\"dep\":\"d1\"}",
    "{\"op\":\"disable\",\"dep\":\"d2\"}",
    "{\"op\":\"trip\",\"dep\":\"nope\"}",
    "not json",
};
#define NREQ (sizeof requests / sizeof requests[0])

typedef struct control_ctx {
	fb_runtime rt;
	long emitted, log_failed;
	int answered;
} control_ctx;

static void control_event(void *ctx, const fb_event *ev)
{
	control_ctx *c = ctx;
	fb_error err;
	c->emitted++;
	if (fb_log_append(&c->rt.log, ev, 1763892000000LL, &err) != 0)
		c->log_failed++;
}

static void control_setup(void *ctx)
{
	control_ctx *c = ctx;
	fb_error err;
	char path[512], warn[1024];
	th_write_file(dir, "control.ini",
	              "[fusebox]\nlog = control.jsonl\n"
	              "[dep d1]\nurl = http://h1:80/health\ncritical = true\n"
	              "[dep d2]\nurl = redis://h2:6379/1\n",
	              path, sizeof path);
	memset(&c->rt, 0, sizeof c->rt);
	assert_int_equal(fb_config_load(path, &c->rt.cfg, &err, th_getenv), 0);
	snprintf(path, sizeof path, "%s/control.jsonl", dir);
	unlink(path);
	assert_int_equal(fb_log_open(&c->rt.log, path, "h", 0, 5, 0600, warn,
	                             sizeof warn, &err),
	                 0);
	assert_int_equal(fb_engine_init(&c->rt.engine, &c->rt.cfg, 1, 1000,
	                                control_event, c),
	                 0);
	c->emitted = c->log_failed = 0;
	c->answered = 0;
}

static int control_run(void *ctx)
{
	control_ctx *c = ctx;
	for (size_t i = 0; i < NREQ; i++) {
		char *reply = fb_control_answer(&c->rt, "alice (uid 1000)",
		                                requests[i], strlen(requests[i]));
		if (!reply)
			continue; /* a client would be dropped */
		cJSON *o = cJSON_ParseWithLength(reply, strlen(reply));
		free(reply);
		if (!o)
			continue; /* checked below, unarmed */
		cJSON_Delete(o);
		c->answered++;
	}
	return c->answered == (int)NREQ ? 0 : -1;
}

static void control_check(void *ctx, int rc)
{
	control_ctx *c = ctx;
	uint64_t seq[64];
	(void)rc;
	/* every event the engine made is in the log, or its write failed
	 * and was counted (the runtime reports each one) */
	long n = read_events(c->rt.log.path, seq, 64);
	assert_int_equal(n, c->emitted - c->log_failed);
	assert_seq_runs(seq, n, c->rt.log.path);
	/* a reply that came is JSON with "ok" (asked again, unarmed) */
	char *reply = fb_control_answer(&c->rt, "x", "{\"op\":\"status\"}", 15);
	assert_non_null(reply);
	cJSON *o = cJSON_Parse(reply);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "ok")));
	cJSON_Delete(o);
	free(reply);
}

static void control_cleanup(void *ctx)
{
	control_ctx *c = ctx;
	fb_engine_free(&c->rt.engine);
	fb_log_close(&c->rt.log);
	fb_config_free(&c->rt.cfg);
}

static void test_control_ops(void **state)
{
	(void)state;
	control_ctx *c = calloc(1, sizeof *c);
	assert_non_null(c);
	const scenario s = {"control ops", control_setup, control_run,
	                    control_check, control_cleanup};
	tally t = torture(&s, c);
	assert_true(t.points >= (long)NREQ);
	free(c);
}

/* ---- engine start-up --------------------------------------------------- */

typedef struct start_ctx {
	char config[512], log[512];
	fb_runtime rt;
	fb_error err;
	int code;
	bool answered;
} start_ctx;

/* The log an earlier run left: three events. */
static void start_setup(void *ctx)
{
	start_ctx *c = ctx;
	char warn[1024];
	fb_log log;
	fb_error err;
	unlink(c->log);
	assert_int_equal(fb_log_open(&log, c->log, "h", 0, 5, 0600, warn,
	                             sizeof warn, &err),
	                 0);
	for (int i = 0; i < PRE_EVENTS; i++) {
		fb_event ev = op_event(i);
		assert_int_equal(fb_log_append(&log, &ev, 1763892000000LL, &err),
		                 0);
	}
	fb_log_close(&log);
}

/* Asks the started instance through its socket, as `fusebox gate check`
 * would, running its loop meanwhile; true when it answered. */
static bool socket_answers(start_ctx *c)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char buf[4096];
	size_t got = 0;
	if ((size_t)snprintf(a.sun_path, sizeof a.sun_path, "%.*s/start.sock",
	                     (int)(sizeof a.sun_path - 12), dir) >=
	    sizeof a.sun_path)
		return false;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    send(fd, "{\"op\":\"gate_check\"}\n", 21, MSG_NOSIGNAL) != 21) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	for (int i = 0; i < 100 && !memchr(buf, '\n', got); i++) {
		fb_runtime_step(&c->rt, 10);
		ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
		if (n > 0)
			got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return strstr(buf, "\"ok\":true") != NULL;
}

static int start_run(void *ctx)
{
	start_ctx *c = ctx;
	memset(&c->err, 0, sizeof c->err);
	c->answered = false;
	if (fb_runtime_start(&c->rt, c->config, FB_RUNTIME_SERVE, &c->err,
	                     &c->code) != 0)
		return -1;
	/* the question is asked with nothing failing: an instance that
	 * started must be one that answers */
	__atomic_store_n(&armed, 0, __ATOMIC_SEQ_CST);
	c->answered = socket_answers(c);
	__atomic_store_n(&armed, 1, __ATOMIC_SEQ_CST);
	fb_runtime_stop(&c->rt, "alloc test");
	return 0;
}

static void start_check(void *ctx, int rc)
{
	start_ctx *c = ctx;
	uint64_t seq[64];
	if (rc != 0) {
		if (!c->err.text[0] || strstr(c->err.text, "another fusebox"))
			fail_msg("start refused with '%s' (exit %d)", c->err.text,
			         c->code);
		assert_true(c->code == FB_EXIT_FAIL || c->code == FB_EXIT_CONFIG);
	}
	/* what was logged stays; seq goes on from it, with no gap and no
	 * repeat (an event that could not be written is said on stderr, the
	 * runtime's "event log:" line) */
	if (rc == 0 && !c->answered)
		fail_msg("started, but the control socket does not answer");
	long n = read_events(c->log, seq, 64);
	assert_true(n >= PRE_EVENTS && n <= 64);
	/* a start refused before its start event logs nothing; one refused
	 * after it (restoring what operators decided ran out of memory: it
	 * must not run without it) leaves just that event */
	if (rc != 0)
		assert_true(n == PRE_EVENTS || n == PRE_EVENTS + 1);
	assert_seq_runs(seq, n, c->log);
	char sock[600];
	snprintf(sock, sizeof sock, "%s/start.sock", dir);
	assert_int_not_equal(access(sock, F_OK), 0); /* never left behind */
}

static void test_engine_start_up(void **state)
{
	(void)state;
	start_ctx *c = calloc(1, sizeof *c);
	char text[2048];
	assert_non_null(c);
	snprintf(text, sizeof text,
	         "[fusebox]\nlog = start.jsonl\ncontrol_socket = %s/start.sock\n"
	         "[dep d1]\nurl = http://127.0.0.1:1/health\ncritical = yes\n"
	         "[dep d2]\nurl = redis://127.0.0.1:1/0\n"
	         "[dep d3]\nurl = tcp://127.0.0.1:1\n",
	         dir);
	th_write_file(dir, "start.ini", text, c->config, sizeof c->config);
	snprintf(c->log, sizeof c->log, "%s/start.jsonl", dir);
	const scenario s = {"engine start-up", start_setup, start_run,
	                    start_check, NULL};
	tally t = torture(&s, c);
	assert_true(t.points >= 8);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_loader),
	    cmocka_unit_test(test_log_reader_and_replay_index),
	    cmocka_unit_test(test_log_writer),
	    cmocka_unit_test(test_control_ops),
	    cmocka_unit_test(test_engine_start_up),
	};
	json_hooks();
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
