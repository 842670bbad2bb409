/* The console's fleet source (src/console/model_fleet.c) against a fake
 * instance: this process listens on a Unix socket, takes the source's
 * {"op":"status","fleet":true} request and answers with a fleet
 * document written here -- a trial under way, a fleet trip, a host that
 * has not probed yet, hostile text -- so what the rows, cells and
 * records say is checked exactly, with no Redis and no terminal. */
/* cmocka.h needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
/* clang-format on */

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "console/model_fleet.h"
#include "helpers.h"

/* ---- a live source that does nothing but hold rows --------------------- */

static short base_step(con_model *m, int in_fd, int max_ms)
{
	(void)m;
	(void)in_fd;
	poll(NULL, 0, max_ms > 0 ? max_ms : 0);
	return 0;
}

static void base_refresh(con_model *m)
{
	(void)m;
}

static bool base_detail(con_model *m, size_t row, con_detail *out)
{
	(void)m;
	(void)row;
	(void)out;
	return false;
}

static int base_act(con_model *m, fb_action a, const char *dep,
                    const char *reason, char *msg, size_t len)
{
	(void)m;
	(void)a;
	(void)dep;
	(void)reason;
	snprintf(msg, len, "base");
	return -1;
}

static void base_free(con_model *m)
{
	(void)m;
}

static const con_model_ops base_ops = {.step = base_step,
                                       .refresh = base_refresh,
                                       .detail = base_detail,
                                       .act = base_act,
                                       .free = base_free};

/* ---- the fake instance ------------------------------------------------- */

typedef struct fake {
	char dir[256], path[300];
	int lfd, cfd;
	con_model base;
	con_row rows[2];
	con_model *fleet;
} fake;

static int setup(void **state)
{
	fake *f = calloc(1, sizeof *f);
	th_tempdir(f->dir, sizeof f->dir);
	snprintf(f->path, sizeof f->path, "%s/s.sock", f->dir);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%.100s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	f->cfd = -1;
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&a, sizeof a) ||
	    listen(f->lfd, 4))
		return -1;
	f->base.ops = &base_ops;
	f->base.rows = f->rows;
	f->base.nrows = 2;
	snprintf(f->rows[0].name, sizeof f->rows[0].name, "api");
	f->rows[0].critical = true;
	snprintf(f->rows[1].name, sizeof f->rows[1].name, "cache");
	f->base.src.live = true;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fake *f = *state;
	con_model_free(f->fleet);
	if (f->cfd >= 0)
		close(f->cfd);
	close(f->lfd);
	th_rmtree(f->dir);
	free(f);
	return 0;
}

/* Takes the source's request and answers it with `doc` (a fleet object). */
static void answer(fake *f, const char *doc)
{
	char *line = NULL;
	if (f->cfd < 0)
		f->cfd = accept(f->lfd, NULL, NULL);
	assert_true(f->cfd >= 0);
	/* it asks again when its second is up, as it is stepped */
	struct pollfd p = {f->cfd, POLLIN, 0};
	for (int i = 0; i < 100 && poll(&p, 1, 0) == 0; i++)
		con_model_step(f->fleet, -1, 50);
	assert_int_equal(th_read_line(f->cfd, 5000, &line), TH_LINE);
	assert_string_equal(line, "{\"op\":\"status\",\"fleet\":true}");
	free(line);
	size_t cap = strlen(doc) + 64;
	char *reply = malloc(cap);
	assert_non_null(reply);
	int n = snprintf(
	    reply, cap, "{\"ok\":true,\"host\":\"web-1\",\"fleet\":%s}\n", doc);
	assert_true(n > 0 && (size_t)n < cap);
	assert_int_equal(th_send_all(f->cfd, reply, (size_t)n, 5000), 0);
	free(reply);
	/* the source takes it within a few steps, never waiting long */
	for (int i = 0; i < 100 && !f->fleet->changed; i++) {
		int64_t t0 = th_now_ms();
		con_model_step(f->fleet, -1, 1000);
		assert_true(th_now_ms() - t0 < 200);
	}
	assert_true(f->fleet->changed);
	con_model_refresh(f->fleet);
}

static const con_row *row(const con_model *m, const char *name)
{
	long i = con_model_find(m, name);
	return i >= 0 ? &m->rows[i] : NULL;
}

static const char DOC[] =
    "{\"instance\":\"aaaa\",\"service\":\"checkout\",\"connected\":true,"
    "\"error\":\"\",\"mode\":\"shared\",\"message\":\"\",\"view_age_s\":0.5,"
    "\"stale_after_s\":15,"
    "\"gate\":{\"decision\":\"blocked\",\"mode\":\"auto\","
    "\"reason\":\"web-2 sees api open\"},"
    "\"instances\":["
    " {\"instance\":\"cccc\",\"host\":\"web-3\",\"pid\":30,"
    "  \"version\":\"0.1.0\",\"self\":false,\"age_s\":0.9,"
    "  \"dependencies\":{\"api\":{\"state\":\"half_open\","
    "   \"health\":\"degraded\"},\"cache\":{\"state\":\"closed\","
    "   \"health\":\"unknown\"}}},"
    " {\"instance\":\"aaaa\",\"host\":\"web-1\",\"pid\":10,"
    "  \"version\":\"0.1.0\",\"self\":true,\"age_s\":0.2,"
    "  \"dependencies\":{\"api\":{\"state\":\"open\","
    "   \"health\":\"unhealthy\"},\"cache\":{\"state\":\"closed\","
    "   \"health\":\"healthy\"}}},"
    " {\"instance\":\"bbbb\",\"host\":\"web-2\\u001b]0;pwned\\u0007\","
    "  \"pid\":20,\"version\":\"0.1.0\\u001b[2J\",\"self\":false,"
    "  \"age_s\":1.5,"
    "  \"dependencies\":{\"api\":{\"state\":\"open\","
    "   \"health\":\"unhealthy\"},\"cache\":{\"state\":\"closed\","
    "   \"health\":\"healthy\"}}}],"
    "\"records\":[{\"name\":\"api\",\"state\":\"open\",\"action\":"
    "\"quorum\",\"by\":\"web-1\",\"actor\":\"\",\"reason\":\"quorum 2 of "
    "3\\u001b[31m\",\"gen\":4,\"open_for_s\":12,\"trial_by\":\"web-3\","
    "\"trials\":0}]}";

static void test_rows_cells_and_records(void **state)
{
	fake *f = *state;
	fb_error err;
	f->fleet = con_fleet_open(&f->base, NULL, f->path, "me", &err);
	assert_non_null(f->fleet);
	answer(f, DOC);
	con_model *m = f->fleet;
	assert_int_equal(m->nrows, 2);
	/* the record decides while the fleet has it open: its trial is
	 * under way, held by web-3, and the fleet's wait counts down */
	const con_row *api = row(m, "api");
	assert_non_null(api);
	assert_true(api->known && api->critical);
	assert_int_equal(api->state, FB_STATE_HALF_OPEN);
	assert_int_equal(api->health, FB_HEALTH_UNHEALTHY);
	assert_string_equal(api->fleet_hosts,
	                    "trial: web-3; open on web-1 web-2; half_open on "
	                    "web-3 (3/3)");
	assert_string_equal(api->error,
	                    "fleet: open (quorum 2 of 3), from web-1");
	/* no record: the worst an instance sees; no probe yet is unknown */
	const con_row *cache = row(m, "cache");
	assert_non_null(cache);
	assert_int_equal(cache->state, FB_STATE_CLOSED);
	assert_int_equal(cache->health, FB_HEALTH_UNKNOWN);
	assert_string_equal(cache->fleet_hosts, "unknown on web-3 (1/3)");
	assert_int_equal(cache->retry_in_ms, -1);
	/* the instances, by host, their text made safe */
	assert_int_equal(con_fleet_ninst(m), 3);
	const con_fleet_inst *in = con_fleet_inst_at(m, 0);
	assert_string_equal(in->host, "web-1");
	assert_true(in->self);
	assert_int_equal(in->pid, 10);
	assert_string_equal(in->not_closed, "api open");
	in = con_fleet_inst_at(m, 1);
	assert_string_equal(in->host, "web-2");
	assert_string_equal(in->version, "0.1.0");
	assert_true(in->seen_ms >= 1500 && in->seen_ms < 3000);
	assert_string_equal(con_fleet_inst_at(m, 2)->not_closed,
	                    "api half_open, cache unknown");
	/* the records in words, as status --fleet prints them */
	assert_int_equal(con_fleet_nrecords(m), 1);
	assert_string_equal(con_fleet_record_at(m, 0),
	                    "api: open for 12s more, trial held by web-3 "
	                    "(quorum 2 of 3), from web-1");
	/* the header: the fleet, its gate, whom actions reach */
	assert_true(m->src.live && m->src.actions);
	assert_non_null(strstr(m->src.where, "FLEET checkout: connected"));
	assert_true(m->gate.blocked);
	assert_string_equal(m->gate.reason, "web-2 sees api open");
	assert_string_equal(m->act_scope,
	                    "for the fleet: 3 live instances of checkout");
	assert_int_equal(m->system, FB_HEALTH_UNHEALTHY);

	/* a fleet trip: every host forced open; the next view, a second on */
	static const char TRIPPED[] =
	    "{\"service\":\"checkout\",\"connected\":true,\"view_age_s\":0.1,"
	    "\"gate\":{\"decision\":\"blocked\",\"mode\":\"block\","
	    "\"reason\":\"fleet gate locked by alice\"},\"instances\":["
	    "{\"instance\":\"aaaa\",\"host\":\"web-1\",\"dependencies\":{"
	    "\"api\":{\"state\":\"forced_open\",\"health\":\"unhealthy\"}}},"
	    "{\"instance\":\"bbbb\",\"host\":\"web-2\",\"dependencies\":{"
	    "\"api\":{\"state\":\"forced_open\",\"health\":\"unhealthy\"}}}],"
	    "\"records\":[{\"name\":\"api\",\"state\":\"forced_open\","
	    "\"reason\":\"drill\",\"by\":\"web-2\",\"trial_by\":\"\"}]}";
	m->changed = false;
	answer(f, TRIPPED);
	api = row(m, "api");
	assert_int_equal(m->nrows, 1);
	assert_int_equal(api->state, FB_STATE_FORCED_OPEN);
	assert_string_equal(api->fleet_hosts,
	                    "forced_open on web-1 web-2 (2/2)");
	assert_int_equal(api->retry_in_ms, -1);
	assert_int_equal(m->gate.mode, FB_GATE_BLOCK);
	assert_string_equal(m->act_scope,
	                    "for the fleet: 2 live instances of checkout");
}

/* Redis away: the view says so, and acts for nobody. */
static void test_redis_away_refuses(void **state)
{
	fake *f = *state;
	fb_error err;
	char msg[200];
	f->fleet = con_fleet_open(&f->base, NULL, f->path, "me", &err);
	assert_non_null(f->fleet);
	answer(f,
	       "{\"service\":\"checkout\",\"connected\":false,\"message\":"
	       "\"fleet: redis down (refused); working alone\",\"view_age_s\":"
	       "40,\"gate\":{\"decision\":\"blocked\",\"reason\":\"fleet view "
	       "40s old\"},\"instances\":[],\"records\":[]}");
	con_model *m = f->fleet;
	assert_false(m->src.live);
	assert_string_equal(m->src.trouble, "REDIS AWAY, working alone");
	assert_true(m->src.age_ms >= 40000);
	assert_non_null(strstr(m->fleet_note, "redis down (refused)"));
	assert_int_equal(
	    con_model_act(m, FB_ACT_TRIP, "api", "", msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "redis is away"));
}

/* More dependencies than the view holds: the first are shown, and the
 * header says so rather than leaving the rest out in silence. */
static void test_too_many_dependencies_said(void **state)
{
	fake *f = *state;
	fb_error err;
	size_t cap = 400 * 64 + 512, used = 0;
	char *doc = malloc(cap);
	assert_non_null(doc);
	used += (size_t)snprintf(
	    doc, cap,
	    "{\"service\":\"checkout\",\"connected\":true,\"view_age_s\":0.1,"
	    "\"gate\":{\"decision\":\"allowed\",\"reason\":\"\"},"
	    "\"instances\":[{\"instance\":\"aaaa\",\"host\":\"web-1\","
	    "\"pid\":1,\"version\":\"0.1.0\",\"age_s\":0.1,"
	    "\"dependencies\":{");
	for (int i = 0; i < 300; i++)
		used += (size_t)snprintf(doc + used, cap - used,
		                         "%s\"d%03d\":{\"state\":\"closed\","
		                         "\"health\":\"healthy\"}",
		                         i ? "," : "", i);
	snprintf(doc + used, cap - used, "}}],\"records\":[]}");
	f->fleet = con_fleet_open(&f->base, NULL, f->path, "me", &err);
	assert_non_null(f->fleet);
	answer(f, doc);
	free(doc);
	con_model *m = f->fleet;
	assert_int_equal(m->nrows, 256);
	assert_non_null(row(m, "d000"));
	assert_null(row(m, "d299"));
	assert_non_null(strstr(m->fleet_note, "the first 256 are shown"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rows_cells_and_records, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_redis_away_refuses, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_dependencies_said,
	                                    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
