/* The event log when it cannot be written (SPEC sections 3 and 6), in
 * process: fb_log_write()'s all-or-nothing lines and its error text, and
 * the backlog that holds events while the log fails -- order, seq, the
 * cap, the gap event, retries. Failures are real: a file size limit
 * (RLIMIT_FSIZE, EFBIG, with a line cut short), /dev/full under the
 * log's descriptor (ENOSPC, and an ftruncate that fails), and an
 * append-only file (ftruncate refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backlog.h"
#include "eventlog.h"
#include "helpers.h"
#include "logread.h"

#define FB        "build/tests/fusebox"
#define PREFILL   (1 << 20)       /* the log's size before a test: far above */
#define BASE_WALL 1795000000000LL /* a wall time for the events, ms */

typedef struct ctx {
	char dir[256];
	char path[400];
	fb_log log;
	struct rlimit old;
	bool limited, append_only;
	long prefilled; /* events already in the log */
} ctx;

/* ---- set-up: a log of PREFILL bytes, so that a file size limit at its
 * end leaves the suite's own output files (small) alone -------------- */

static int setup(void **state)
{
	ctx *c = calloc(1, sizeof *c);
	char pad[1001];
	th_tempdir(c->dir, sizeof c->dir);
	snprintf(c->path, sizeof c->path, "%s/events.jsonl", c->dir);
	FILE *f = fopen(c->path, "w");
	if (!f)
		return -1;
	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	for (long size = 0; size < PREFILL;) {
		int n =
		    fprintf(f,
		            "{\"v\":1,\"seq\":%ld,\"ts\":\"2026-11-23T10:00:"
		            "00.000Z\",\"host\":\"h\",\"kind\":\"stop\","
		            "\"reason\":\"%s\"}\n",
		            ++c->prefilled, pad);
		size += n;
	}
	fclose(f);
	char warn[256];
	fb_error err;
	if (fb_log_open(&c->log, c->path, "h", 0, 5, 0600, warn, sizeof warn,
	                &err) != 0) {
		fprintf(stderr, "# %s\n", err.text);
		return -1;
	}
	signal(SIGXFSZ, SIG_IGN); /* past the limit: EFBIG, as fusebox run */
	getrlimit(RLIMIT_FSIZE, &c->old);
	*state = c;
	return 0;
}

static void set_append_only(ctx *c, bool on)
{
	int fd = open(c->path, O_RDONLY | O_CLOEXEC);
	int flags = 0;
	if (fd < 0)
		return;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		flags = on ? flags | FS_APPEND_FL : flags & ~FS_APPEND_FL;
		if (ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0)
			c->append_only = on;
	}
	close(fd);
}

static void unlimit(ctx *c)
{
	if (c->limited)
		setrlimit(RLIMIT_FSIZE, &c->old);
	c->limited = false;
}

static int teardown(void **state)
{
	ctx *c = *state;
	unlimit(c);
	if (c->append_only)
		set_append_only(c, false);
	fb_log_close(&c->log);
	th_rmtree(c->dir);
	free(c);
	return 0;
}

/* The file may not grow past its size now plus `room` bytes. */
static void limit(ctx *c, long room)
{
	struct stat st;
	assert_int_equal(stat(c->path, &st), 0);
	struct rlimit lim = c->old;
	lim.rlim_cur = (rlim_t)(st.st_size + room);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	c->limited = true;
}

static long file_size(const ctx *c)
{
	struct stat st;
	assert_int_equal(stat(c->path, &st), 0);
	return (long)st.st_size;
}

static fb_event event(const char *reason)
{
	return (fb_event){.kind = FB_EV_HEALTH,
	                  .dep = "api",
	                  .from = "healthy",
	                  .to = "unhealthy",
	                  .reason = reason,
	                  .failures = -1,
	                  .retry_after_ms = -1};
}

/* The events after the prefilled ones, checked: every line parses, seq
 * goes up by one from the prefill on. Returns the array (delete it). */
static cJSON *new_events(const ctx *c)
{
	int bad = 0, first_bad = 0;
	cJSON *all = th_jsonl_read(c->path, &bad, &first_bad);
	assert_non_null(all);
	if (bad)
		fail_msg("%d lines of the log are not JSON (first: line %d)",
		         bad, first_bad);
	cJSON *mine = cJSON_CreateArray();
	int n = cJSON_GetArraySize(all);
	for (int i = 0; i < n; i++) {
		const cJSON *e = cJSON_GetArrayItem(all, i);
		double seq = th_json_num(e, "seq", -1);
		if (seq != i + 1)
			fail_msg("line %d has seq %.0f", i + 1, seq);
		if (i >= c->prefilled)
			cJSON_AddItemToArray(mine, cJSON_Duplicate(e, true));
	}
	cJSON_Delete(all);
	return mine;
}

/* ---- fb_log_write ------------------------------------------------------- */

/* A line cut short by the limit is taken back: nothing of it stays, the
 * error is the write's (EFBIG), and seq goes on from the last written. */
static void test_short_write_is_taken_back(void **state)
{
	ctx *c = *state;
	fb_error err;
	long before = file_size(c);
	fb_event ev = event("cut short");
	limit(c, 40); /* room for part of the line */
	errno = 0;
	assert_int_equal(fb_log_append(&c->log, &ev, BASE_WALL, &err), -1);
	assert_int_equal(errno, EFBIG);
	assert_non_null(strstr(err.text, strerror(EFBIG)));
	assert_int_equal(file_size(c), before);
	assert_false(c->log.partial);
	unlimit(c);
	assert_int_equal(fb_log_append(&c->log, &ev, BASE_WALL, &err), 0);
	cJSON *mine = new_events(c);
	assert_int_equal(cJSON_GetArraySize(mine), 1);
	assert_string_equal(th_json_str(cJSON_GetArrayItem(mine, 0), "reason"),
	                    "cut short");
	cJSON_Delete(mine);
}

/* /dev/full under the log: the message is the write's ENOSPC, not the
 * EINVAL of the ftruncate that cannot take a device back. */
static void test_error_is_the_writes_own(void **state)
{
	ctx *c = *state;
	fb_error err;
	fb_event ev = event("to /dev/full");
	int saved = dup(c->log.fd);
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
	assert_true(saved >= 0 && full >= 0);
	assert_true(dup2(full, c->log.fd) >= 0);
	close(full);
	errno = 0;
	assert_int_equal(fb_log_append(&c->log, &ev, BASE_WALL, &err), -1);
	print_message("%s\n", err.text);
	assert_int_equal(errno, ENOSPC);
	assert_non_null(strstr(err.text, "No space left on device"));
	assert_null(strstr(err.text, "Invalid argument"));
	assert_int_equal(c->log.seq, (uint64_t)c->prefilled);
	/* the file is back: its size is what the log thinks, nothing to mend */
	assert_true(dup2(saved, c->log.fd) >= 0);
	close(saved);
	assert_int_equal(fb_log_append(&c->log, &ev, BASE_WALL, &err), 0);
	cJSON *mine = new_events(c);
	assert_int_equal(cJSON_GetArraySize(mine), 1);
	cJSON_Delete(mine);
}

/* When even the ftruncate is refused (an append-only file), the stump is
 * kept but ended: the next event starts a line of its own, a reader
 * skips the stump, and seq has no hole. */
static void test_stump_that_stays_is_ended(void **state)
{
	ctx *c = *state;
	fb_error err;
	set_append_only(c, true);
	if (!c->append_only) {
		print_message("# not tested: cannot make %s append-only "
		              "(chattr +a) here\n",
		              c->path);
		return;
	}
	long before = file_size(c);
	fb_event ev = event("cut short");
	limit(c, 40);
	assert_int_equal(fb_log_append(&c->log, &ev, BASE_WALL, &err), -1);
	print_message("%s\n", err.text);
	assert_int_equal(errno, EFBIG);
	assert_true(c->log.partial);
	assert_int_equal(file_size(c), before + 40);
	unlimit(c);
	ev = event("after the stump");
	assert_int_equal(fb_log_append(&c->log, &ev, BASE_WALL, &err), 0);
	fb_log_reader r;
	char why[256];
	assert_int_equal(fb_log_reader_open(&r, c->path, why, sizeof why), 0);
	r.quiet = true;
	const char *line;
	size_t len;
	fb_log_event e;
	long events = 0;
	uint64_t last_seq = 0;
	const char *last_reason = NULL;
	while (fb_log_reader_line(&r, &line, &len)) {
		if (fb_log_event_parse(&r, line, len, &e) != 0)
			continue;
		events++;
		last_seq = e.seq;
		free((void *)last_reason);
		last_reason = strdup(e.reason ? e.reason : "");
		cJSON_Delete(e.json);
	}
	assert_int_equal(r.skipped, 1); /* the stump, alone on its line */
	fb_log_reader_close(&r);
	assert_int_equal(events, c->prefilled + 1);
	assert_int_equal(last_seq, (uint64_t)c->prefilled + 1);
	assert_string_equal(last_reason, "after the stump");
	free((void *)last_reason);
}

/* ---- the backlog --------------------------------------------------------- */

/* While the log fails, events wait in order; when it works, they are
 * written in that order, with the times they happened, seq going on. */
static void test_backlog_holds_then_writes_in_order(void **state)
{
	ctx *c = *state;
	fb_backlog b;
	char reason[5][16];
	fb_backlog_init(&b, 100, FB_BACKLOG_BYTES);
	long before = file_size(c);
	limit(c, 0);
	for (int i = 0; i < 5; i++) {
		snprintf(reason[i], sizeof reason[i], "e%d", i + 1);
		fb_event ev = event(reason[i]);
		fb_backlog_change ch =
		    fb_backlog_log(&b, &c->log, &ev, BASE_WALL + i * 1000, 10);
		assert_int_equal(ch,
		                 i == 0 ? FB_BACKLOG_FAILING : FB_BACKLOG_SAME);
	}
	assert_true(fb_backlog_failing(&b));
	assert_int_equal(b.err, EFBIG);
	assert_int_equal(b.len, 5);
	assert_int_equal(b.held_total, 5);
	assert_int_equal(file_size(c), before);
	/* not due yet, then due a second after the last failure */
	assert_int_equal(fb_backlog_due(&b, 10), FB_BACKLOG_RETRY_MS);
	unlimit(c);
	assert_int_equal(fb_backlog_retry(&b, &c->log, 500, false),
	                 FB_BACKLOG_SAME);
	assert_int_equal(b.len, 5);
	assert_int_equal(
	    fb_backlog_retry(&b, &c->log, 10 + FB_BACKLOG_RETRY_MS, false),
	    FB_BACKLOG_RECOVERED);
	assert_false(fb_backlog_failing(&b));
	assert_int_equal(b.len, 0);
	assert_int_equal(b.late, 5);
	assert_int_equal(b.dropped, 0);
	assert_int_equal(fb_backlog_due(&b, 0), -1);
	cJSON *mine = new_events(c);
	assert_int_equal(cJSON_GetArraySize(mine), 5);
	for (int i = 0; i < 5; i++) {
		const cJSON *e = cJSON_GetArrayItem(mine, i);
		assert_string_equal(th_json_str(e, "reason"), reason[i]);
		assert_true(th_rfc3339_ms(th_json_str(e, "ts")) ==
		            BASE_WALL + i * 1000);
	}
	cJSON_Delete(mine);
	fb_backlog_free(&b);
}

/* Past the cap the oldest go; a gap event with their number, the time
 * the first of them happened and the errno's words comes first, then
 * those that waited, then the new one -- seq with no hole. */
static void test_backlog_overflow_writes_a_gap_first(void **state)
{
	ctx *c = *state;
	fb_backlog b;
	char reason[8][16];
	fb_backlog_init(&b, 3, FB_BACKLOG_BYTES);
	limit(c, 0);
	for (int i = 0; i < 7; i++) {
		snprintf(reason[i], sizeof reason[i], "e%d", i + 1);
		fb_event ev = event(reason[i]);
		fb_backlog_log(&b, &c->log, &ev, BASE_WALL + i * 1000, i);
	}
	assert_int_equal(b.len, 3);
	assert_int_equal(b.lost, 4);
	assert_int_equal(b.lost_total, 4);
	cJSON *st = fb_backlog_json(&b);
	char *text = cJSON_PrintUnformatted(st);
	assert_string_equal(text, "{\"ok\":false,\"error\":\"File too large\","
	                          "\"queued\":3,\"lost\":4}");
	free(text);
	cJSON_Delete(st);
	unlimit(c);
	snprintf(reason[7], sizeof reason[7], "e8");
	fb_event ev = event(reason[7]);
	assert_int_equal(fb_backlog_log(&b, &c->log, &ev, BASE_WALL + 7000, 7),
	                 FB_BACKLOG_RECOVERED);
	assert_int_equal(b.late, 3);
	assert_int_equal(b.dropped, 4);
	assert_int_equal(b.lost, 0);
	cJSON *mine = new_events(c);
	assert_int_equal(cJSON_GetArraySize(mine), 5);
	const cJSON *gap = cJSON_GetArrayItem(mine, 0);
	assert_string_equal(th_json_str(gap, "kind"), "gap");
	assert_true(th_json_num(gap, "lost", -1) == 4);
	assert_string_equal(th_json_str(gap, "reason"),
	                    "event log failing: File too large");
	assert_true(th_rfc3339_ms(th_json_str(gap, "ts")) == BASE_WALL);
	for (int i = 1; i < 5; i++)
		assert_string_equal(
		    th_json_str(cJSON_GetArrayItem(mine, i), "reason"),
		    reason[i + 3]);
	cJSON_Delete(mine);
	st = fb_backlog_json(&b);
	text = cJSON_PrintUnformatted(st);
	assert_string_equal(text, "{\"ok\":true,\"queued\":0,\"lost\":4}");
	free(text);
	cJSON_Delete(st);
	fb_backlog_free(&b);

	/* replay tells it, in the timeline and in the summary */
	char *tl[] = {FB, "replay", "--kind", "gap", c->path, NULL};
	th_result r;
	assert_int_equal(th_run(tl, 20000, &r), 0);
	print_message("%s", r.out);
	assert_non_null(
	    strstr(r.out, "4 events lost: event log failing: File too large"));
	th_result_free(&r);
	char *sum[] = {FB, "replay", "--summary", c->path, NULL};
	assert_int_equal(th_run(sum, 20000, &r), 0);
	assert_non_null(strstr(r.out, "4 events were lost"));
	assert_non_null(strstr(r.out, "EVENTS LOST\n"));
	assert_non_null(strstr(r.out, "4 events lost: event log failing: File "
	                              "too large\n"));
	th_result_free(&r);
	char *js[] = {FB, "replay", "--summary", "--json", c->path, NULL};
	assert_int_equal(th_run(js, 20000, &r), 0);
	cJSON *doc = cJSON_Parse(r.out);
	th_result_free(&r);
	assert_non_null(doc);
	assert_true(th_json_num(doc, "events_lost", -1) == 4);
	const cJSON *gaps = cJSON_GetObjectItemCaseSensitive(doc, "gaps");
	assert_int_equal(cJSON_GetArraySize(gaps), 1);
	assert_true(th_json_num(cJSON_GetArrayItem(gaps, 0), "lost", -1) == 4);
	cJSON_Delete(doc);
	/* --dep keeps the gap: the lost events may have been of it */
	char *dep[] = {FB, "replay", "--dep", "nosuchdep", c->path, NULL};
	assert_int_equal(th_run(dep, 20000, &r), 0);
	assert_non_null(strstr(r.out, "4 events lost"));
	th_result_free(&r);
}

/* The byte cap counts too: big events push the oldest out sooner. */
static void test_backlog_byte_cap(void **state)
{
	ctx *c = *state;
	fb_backlog b;
	char big[600];
	memset(big, 'y', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	fb_backlog_init(&b, 100, 2000); /* about three such events */
	limit(c, 0);
	fb_event ev = event(big);
	for (int i = 0; i < 10; i++)
		fb_backlog_log(&b, &c->log, &ev, BASE_WALL, i);
	assert_true(b.len >= 1 && b.len <= 3);
	assert_true(b.bytes <= 2000);
	assert_int_equal(b.len + b.lost, 10);
	unlimit(c);
	assert_int_equal(fb_backlog_retry(&b, &c->log, 0, true),
	                 FB_BACKLOG_RECOVERED);
	cJSON *mine = new_events(c);
	assert_int_equal(cJSON_GetArraySize(mine), (int)(1 + b.late));
	assert_true(th_json_num(cJSON_GetArrayItem(mine, 0), "lost", -1) ==
	            10 - (double)b.late);
	cJSON_Delete(mine);
	fb_backlog_free(&b);
}

/* A log that works: each event is written at once, nothing waits. */
static void test_backlog_passes_through(void **state)
{
	ctx *c = *state;
	fb_backlog b;
	fb_backlog_init(&b, 4, FB_BACKLOG_BYTES);
	for (int i = 0; i < 10; i++) {
		fb_event ev = event("fine");
		assert_int_equal(fb_backlog_log(&b, &c->log, &ev, BASE_WALL, i),
		                 FB_BACKLOG_SAME);
	}
	assert_null(b.ring); /* nothing was ever kept */
	assert_int_equal(b.held_total, 0);
	cJSON *mine = new_events(c);
	assert_int_equal(cJSON_GetArraySize(mine), 10);
	cJSON_Delete(mine);
	fb_backlog_free(&b);
}

static void test_backlog_cap_from_env(void **state)
{
	(void)state;
	char warn[256];
	unsetenv("FUSEBOX_EVENT_BACKLOG");
	assert_int_equal(fb_backlog_cap_from_env(warn, sizeof warn),
	                 FB_BACKLOG_EVENTS);
	assert_string_equal(warn, "");
	setenv("FUSEBOX_EVENT_BACKLOG", "7", 1);
	assert_int_equal(fb_backlog_cap_from_env(warn, sizeof warn), 7);
	static const char *const bad[] = {"0", "-3", "12x", "99999999999",
	                                  "1000001"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		setenv("FUSEBOX_EVENT_BACKLOG", bad[i], 1);
		assert_int_equal(fb_backlog_cap_from_env(warn, sizeof warn),
		                 FB_BACKLOG_EVENTS);
		assert_non_null(strstr(warn, "FUSEBOX_EVENT_BACKLOG"));
	}
	unsetenv("FUSEBOX_EVENT_BACKLOG");
}

/* A gap line read back: the kind, the count, the words. */
static void test_gap_reads_back(void **state)
{
	(void)state;
	static const char line[] =
	    "{\"v\":1,\"seq\":9,\"ts\":\"2026-11-23T10:00:00.000Z\",\"host\":"
	    "\"h\",\"kind\":\"gap\",\"lost\":12,\"reason\":\"event log "
	    "failing: No space left on device\"}";
	fb_log_reader r = {.quiet = true};
	fb_log_event e;
	fb_event ev;
	char text[200];
	assert_int_equal(fb_log_event_parse(&r, line, strlen(line), &e), 0);
	assert_int_equal(e.kind, FB_EV_GAP);
	assert_int_equal(e.lost, 12);
	fb_log_event_as_event(&e, &ev);
	fb_event_describe(&ev, text, sizeof text);
	assert_string_equal(
	    text, "12 events lost: event log failing: No space left on device");
	assert_int_equal(fb_event_tone(&ev), FB_TONE_BAD);
	cJSON_Delete(e.json);
}

int main(void)
{
	if (getenv("FB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_short_write_is_taken_back),
	    T(test_error_is_the_writes_own),
	    T(test_stump_that_stays_is_ended),
	    T(test_backlog_holds_then_writes_in_order),
	    T(test_backlog_overflow_writes_a_gap_first),
	    T(test_backlog_byte_cap),
	    T(test_backlog_passes_through),
	    cmocka_unit_test(test_backlog_cap_from_env),
	    cmocka_unit_test(test_gap_reads_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
