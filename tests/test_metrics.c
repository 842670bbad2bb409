/* Metrics in the Prometheus text format: the formatter on an engine built
 * in-process, `fusebox status --prometheus` against a real instance (and
 * with --probe, and with no instance), the metrics_file a real instance
 * and the console's embedded engine keep up to date, and the config's
 * refusal of a metrics_file that node_exporter would not read.
 *
 * Every exposition is checked with the real parser, python3's
 * prometheus_client (Debian's python3-prometheus-client), plus the rules
 * that parser is too lax to enforce (typed families, HELP, no duplicate
 * family or series, counters named _total, no timestamps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fusebox/engine.h"
#include "helpers.h"
#include "metrics.h"
#include "metrics_doc.h"
#include "metrics_file.h"

#define WAIT_MS 8000  /* the longest any one condition may take */
#define CLI_MS  15000 /* the longest one CLI command may take */

static char g_fusebox[PATH_MAX];
static char g_fixture[PATH_MAX];
static char g_tmux[64]; /* a tmux server a test started, "" when none */

static const char *const STATES[] = {
    "closed", "open", "half_open", "forced_open", "forced_closed", NULL};
static const char *const HEALTHS[] = {"unknown", "healthy", "degraded",
                                      "unhealthy", NULL};

/* ---- the real parser ---------------------------------------------------- */

/* Parses argv[1] with prometheus_client, enforces what that lax parser
 * lets through, and prints {"families":[...],"samples":[...]}. */
static const char PARSE_PY[] =
    "import json, re, sys\n"
    "from prometheus_client.parser import text_string_to_metric_families as p\n"
    "def die(msg):\n"
    "    sys.stderr.write(msg + '\\n'); sys.exit(1)\n"
    "text = open(sys.argv[1], encoding='utf-8').read()\n"
    "if not text.endswith('\\n'): die('no newline at the end')\n"
    "for n, line in enumerate(text.split('\\n')[:-1], 1):\n"
    "    if not line: die('line %d is empty' % n)\n"
    "    if line.startswith('#'):\n"
    "        m = re.fullmatch(r'# (HELP|TYPE) (fusebox_[a-z0-9_]+) (.+)', "
    "line)\n"
    "        if not m: die('line %d: not HELP or TYPE: %s' % (n, line))\n"
    "        if m.group(1) == 'TYPE' and m.group(3) not in ('gauge', "
    "'counter'):\n"
    "            die('line %d: type %s' % (n, m.group(3)))\n"
    "        if m.group(1) == 'TYPE' and (m.group(3) == 'counter') != "
    "m.group(2).endswith('_total'):\n"
    "            die('line %d: only counters end in _total: %s' % (n, line))\n"
    "families, samples, seen = [], [], set()\n"
    "for f in p(text):\n"
    "    if f.type not in ('gauge', 'counter'): die('%s is %s' % (f.name, "
    "f.type))\n"
    "    if not f.documentation: die('%s has no HELP' % f.name)\n"
    "    if f.name in seen: die('%s appears twice' % f.name)\n"
    "    seen.add(f.name)\n"
    "    series = set()\n"
    "    for s in f.samples:\n"
    "        want = f.name + ('_total' if f.type == 'counter' else '')\n"
    "        if s.name != want: die('%s in family %s' % (s.name, f.name))\n"
    "        if s.timestamp is not None: die('%s has a timestamp' % s.name)\n"
    "        for k in s.labels:\n"
    "            if not re.fullmatch('[a-z_][a-z0-9_]*', k): die('label ' + "
    "k)\n"
    "        key = (s.name, tuple(sorted(s.labels.items())))\n"
    "        if key in series: die('duplicate series %r' % (key,))\n"
    "        series.add(key)\n"
    "        samples.append({'name': s.name, 'labels': s.labels, "
    "'value': s.value})\n"
    "    families.append({'name': f.name, 'type': f.type, "
    "'help': f.documentation})\n"
    "json.dump({'families': families, 'samples': samples}, sys.stdout)\n";

static const char *python(void)
{
	const char *p = getenv("FB_PYTHON");
	return p && p[0] ? p : "/usr/bin/python3"; /* Debian's, with the
	                                                package */
}

/* The parsed exposition in `path`, or the test fails saying why. */
static cJSON *prom_parse(const char *path)
{
	char *argv[] = {(char *)python(), "-c", (char *)PARSE_PY, (char *)path,
	                NULL};
	th_result r;
	int code = th_run(argv, CLI_MS, &r);
	cJSON *doc = code == 0 ? cJSON_Parse(r.out) : NULL;
	if (!doc) {
		th_show_tail("the exposition", path);
		print_message("parser stderr: %s\n", r.err);
		th_result_free(&r);
		fail_msg("prometheus_client refused %s (exit %d; is "
		         "python3-prometheus-client installed?)",
		         path, code);
	}
	th_result_free(&r);
	return doc;
}

/* Parses text by way of a file in dir. */
static cJSON *prom_parse_text(const char *dir, const char *text)
{
	char path[700];
	th_write_file(dir, "parse-me.prom", text, path, sizeof path);
	return prom_parse(path);
}

/* Do the sample's labels equal the NULL-terminated name, value pairs? */
static bool labels_are(const cJSON *s, const char *const *pairs)
{
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(s, "labels");
	int n = 0;
	for (; pairs[n]; n += 2) {
		const char *v = th_json_str(labels, pairs[n]);
		if (!v || strcmp(v, pairs[n + 1]) != 0)
			return false;
	}
	return cJSON_GetArraySize(labels) == n / 2;
}

static double value_at(const cJSON *parsed, const char *name,
                       const char *const *pairs)
{
	const cJSON *s;
	cJSON_ArrayForEach(s,
	                   cJSON_GetObjectItemCaseSensitive(parsed, "samples"))
	{
		if (strcmp(th_json_str(s, "name"), name) == 0 &&
		    labels_are(s, pairs))
			return th_json_num(s, "value", NAN);
	}
	return NAN;
}

/* The value of the sample `name` whose labels are exactly the given
 * pairs; NAN when there is none. */
#define VALUE(parsed, name, ...)                                               \
	value_at((parsed), (name), (const char *const[]){__VA_ARGS__, NULL})
#define VALUE0(parsed, name)                                                   \
	value_at((parsed), (name), (const char *const[]){NULL})

/* How many samples are called name (any labels). */
static int samples_named(const cJSON *parsed, const char *name)
{
	const cJSON *s;
	int n = 0;
	cJSON_ArrayForEach(s,
	                   cJSON_GetObjectItemCaseSensitive(parsed, "samples"))
	{
		n += strcmp(th_json_str(s, "name"), name) == 0;
	}
	return n;
}

/* A state set of one dependency (dep NULL: of the instance): a series for
 * every value in `values` and no other, each 0 or 1, and exactly one 1,
 * the one for `want`. */
static void assert_state_set(const cJSON *parsed, const char *name,
                             const char *dep, const char *key,
                             const char *const *values, const char *want)
{
	const cJSON *s;
	int n = 0, ones = 0, nvalues = 0;
	while (values[nvalues])
		nvalues++;
	cJSON_ArrayForEach(s,
	                   cJSON_GetObjectItemCaseSensitive(parsed, "samples"))
	{
		const cJSON *labels =
		    cJSON_GetObjectItemCaseSensitive(s, "labels");
		const char *d = th_json_str(labels, "dep");
		if (strcmp(th_json_str(s, "name"), name) != 0 ||
		    (dep && (!d || strcmp(d, dep) != 0)))
			continue;
		const char *v = th_json_str(labels, key);
		double x = th_json_num(s, "value", NAN);
		int k = 0;
		while (v && values[k] && strcmp(values[k], v) != 0)
			k++;
		if (!v || !values[k])
			fail_msg("%s{dep=%s}: unexpected %s=\"%s\"", name,
			         dep ? dep : "-", key, v ? v : "(none)");
		if (x != 0 && x != 1)
			fail_msg("%s{%s=\"%s\"} is %g, not 0 or 1", name, key,
			         v, x);
		if (x == 1 && strcmp(v, want) != 0)
			fail_msg("%s{dep=%s}: %s is 1, expected only %s", name,
			         dep ? dep : "-", v, want);
		ones += x == 1;
		n++;
	}
	if (n != nvalues || ones != 1)
		fail_msg(
		    "%s{dep=%s}: %d series (want %d), %d of them 1 (want 1)",
		    name, dep ? dep : "-", n, nvalues, ones);
}

/* ---- an engine built in-process -------------------------------------------- */

#define WEIRD "we\"ird\\dep\nname" /* no config accepts it: still escaped */
#define HOST  "h\"o\\s\nt"

typedef struct world {
	char dir[512];
	fb_config cfg;
	fb_engine e;
	bool engine_up;
} world;

static int unit_setup(void **state)
{
	world *w = calloc(1, sizeof *w);
	if (!w)
		return -1;
	th_tempdir(w->dir, sizeof w->dir);
	*state = w;
	return 0;
}

static int unit_teardown(void **state)
{
	world *w = *state;
	if (w->engine_up)
		fb_engine_free(&w->e);
	fb_config_free(&w->cfg);
	th_rmtree(w->dir);
	free(w);
	return 0;
}

static void outcome(fb_engine *e, const char *name, int64_t now, bool ok)
{
	fb_dep *d = fb_registry_find(&e->reg, name);
	assert_non_null(d);
	assert_true(fb_engine_probe_begin(e, d, now, NULL));
	fb_engine_probe_end(e, d, now, ok, 1500, ok ? NULL : "boom");
}

/* api healthy (not critical), WEIRD tripped, db critical and open after
 * 5 failures, then refused once. */
static void build_engine(world *w)
{
	fb_error err;
	th_config_init(&w->cfg, 3);
	th_dep_init(&w->cfg.deps[0], "api", false);
	th_dep_init(&w->cfg.deps[1], WEIRD, false);
	th_dep_init(&w->cfg.deps[2], "db", true);
	assert_int_equal(fb_engine_init(&w->e, &w->cfg, 42, 1000, NULL, NULL),
	                 0);
	w->engine_up = true;
	for (int i = 0; i < 3; i++)
		outcome(&w->e, "api", 1000 + i, true);
	for (int i = 0; i < 5; i++)
		outcome(&w->e, "db", 1100 + i, false);
	assert_false(fb_engine_probe_begin(
	    &w->e, fb_registry_find(&w->e.reg, "db"), 1200, NULL));
	assert_int_equal(fb_engine_operate(&w->e, FB_ACT_TRIP, WEIRD, 1300,
	                                   "tester", "test", &err),
	                 0);
}

/* A fresh instance: db (critical) not probed yet, api answered once. The
 * unknown series is the one at 1 for db and the system, and the gate is
 * closed. */
static void test_formatter_unknown_at_start(void **state)
{
	world *w = *state;
	th_config_init(&w->cfg, 2);
	th_dep_init(&w->cfg.deps[0], "api", false);
	th_dep_init(&w->cfg.deps[1], "db", true);
	assert_int_equal(fb_engine_init(&w->e, &w->cfg, 42, 1000, NULL, NULL),
	                 0);
	w->engine_up = true;
	outcome(&w->e, "api", 1000, true);
	fb_metrics_instance inst = {.start_wall_ms = 1699999990500LL,
	                            .log_ok = true};
	cJSON *doc = fb_metrics_json(&w->e, HOST, &inst, 1001, 1700000000123LL);
	assert_non_null(doc);
	char *text = fb_metrics_text(doc, NULL);
	cJSON_Delete(doc);
	assert_non_null(text);
	cJSON *p = prom_parse_text(w->dir, text);
	free(text);
	assert_state_set(p, "fusebox_dependency_health", "db", "health",
	                 HEALTHS, "unknown");
	assert_state_set(p, "fusebox_dependency_health", "api", "health",
	                 HEALTHS, "healthy");
	assert_state_set(p, "fusebox_system_health", NULL, "health", HEALTHS,
	                 "unknown");
	assert_state_set(p, "fusebox_dependency_state", "db", "state", STATES,
	                 "closed");
	assert_true(VALUE0(p, "fusebox_gate_allowed") == 0);
	cJSON_Delete(p);
}

static void test_formatter_state_sets_and_escaping(void **state)
{
	world *w = *state;
	build_engine(w);
	fb_metrics_instance inst = {.start_wall_ms = 1699999990500LL,
	                            .log_ok = false,
	                            .log_write_errors = 3};
	cJSON *doc = fb_metrics_json(&w->e, HOST, &inst, 2000, 1700000000123LL);
	assert_non_null(doc);
	size_t len = 0;
	char *text = fb_metrics_text(doc, &len);
	cJSON_Delete(doc);
	assert_non_null(text);
	assert_int_equal(len, strlen(text));

	/* our escaping, byte for byte, before any parser is lenient */
	assert_non_null(strstr(text, "dep=\"we\\\"ird\\\\dep\\nname\""));
	assert_non_null(strstr(text, "host=\"h\\\"o\\\\s\\nt\""));
	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		if (strncmp(l, "# HELP fusebox_", 15) != 0 &&
		    strncmp(l, "# TYPE fusebox_", 15) != 0 &&
		    strncmp(l, "fusebox_", 8) != 0)
			fail_msg(
			    "a line that is no sample, HELP or TYPE: %.60s", l);
	}

	cJSON *p = prom_parse_text(w->dir, text);
	free(text);
	assert_true(VALUE0(p, "fusebox_up") == 1);
	assert_true(
	    VALUE(p, "fusebox_info", "host", HOST, "version", FB_VERSION) == 1);
	assert_true(VALUE0(p, "fusebox_start_time_seconds") == 1699999990.5);
	assert_true(VALUE0(p, "fusebox_event_log_ok") == 0);
	assert_true(VALUE0(p, "fusebox_event_log_write_errors_total") == 3);

	assert_state_set(p, "fusebox_dependency_state", "api", "state", STATES,
	                 "closed");
	assert_state_set(p, "fusebox_dependency_state", WEIRD, "state", STATES,
	                 "forced_open");
	assert_state_set(p, "fusebox_dependency_state", "db", "state", STATES,
	                 "open");
	assert_state_set(p, "fusebox_dependency_health", "api", "health",
	                 HEALTHS, "healthy");
	assert_state_set(p, "fusebox_dependency_health", WEIRD, "health",
	                 HEALTHS, "unhealthy");
	assert_state_set(p, "fusebox_dependency_health", "db", "health",
	                 HEALTHS, "unhealthy");
	assert_state_set(p, "fusebox_system_health", NULL, "health", HEALTHS,
	                 "unhealthy");
	static const char *const modes[] = {"auto", "block", "allow", NULL};
	assert_state_set(p, "fusebox_gate_mode", NULL, "mode", modes, "auto");
	assert_true(VALUE0(p, "fusebox_gate_allowed") == 0);
	assert_true(VALUE0(p, "fusebox_gate_retry_after_seconds") > 0);

	assert_true(VALUE(p, "fusebox_dependency_info", "dep", "db", "kind",
	                  "http", "critical", "true") == 1);
	assert_true(VALUE(p, "fusebox_dependency_info", "dep", "api", "kind",
	                  "http", "critical", "false") == 1);
	assert_true(VALUE(p, "fusebox_dependency_info", "dep", WEIRD, "kind",
	                  "http", "critical", "false") == 1);
	assert_true(
	    VALUE(p, "fusebox_dependency_successes_total", "dep", "api") == 3);
	assert_true(
	    VALUE(p, "fusebox_dependency_failures_total", "dep", "api") == 0);
	assert_true(
	    VALUE(p, "fusebox_dependency_failures_total", "dep", "db") == 5);
	assert_true(VALUE(p, "fusebox_dependency_consecutive_failures", "dep",
	                  "db") == 5);
	assert_true(
	    VALUE(p, "fusebox_dependency_rejections_total", "dep", "db") == 1);
	assert_true(VALUE(p, "fusebox_dependency_probes_total", "dep", "db") ==
	            5);
	assert_true(
	    VALUE(p, "fusebox_dependency_slow_calls_total", "dep", "api") == 0);
	/* open at 1104 with the default 60s wait (jitter 0.2), seen at 2000 */
	double retry =
	    VALUE(p, "fusebox_dependency_retry_after_seconds", "dep", "db");
	assert_true(retry > 45 && retry <= 72);
	assert_true(VALUE(p, "fusebox_dependency_retry_after_seconds", "dep",
	                  "api") == 0);
	assert_true(VALUE(p, "fusebox_dependency_latency_seconds", "dep", "api",
	                  "quantile", "0.5") == 0.0015);
	assert_true(VALUE(p, "fusebox_dependency_latency_seconds", "dep", "api",
	                  "quantile", "0.99") == 0.0015);
	/* no successful sample, no latency series (not a made-up 0) */
	assert_true(isnan(VALUE(p, "fusebox_dependency_latency_seconds", "dep",
	                        "db", "quantile", "0.5")));
	assert_int_equal(samples_named(p, "fusebox_dependency_latency_seconds"),
	                 3);
	cJSON_Delete(p);
}

/* `status --probe` has no instance: no start time and no event log. */
static void test_formatter_without_instance(void **state)
{
	world *w = *state;
	build_engine(w);
	cJSON *doc = fb_metrics_json(&w->e, "h", NULL, 2000, 1700000000123LL);
	assert_non_null(doc);
	char *text = fb_metrics_text(doc, NULL);
	cJSON_Delete(doc);
	assert_non_null(text);
	cJSON *p = prom_parse_text(w->dir, text);
	free(text);
	assert_true(VALUE0(p, "fusebox_up") == 1);
	assert_int_equal(samples_named(p, "fusebox_start_time_seconds"), 0);
	assert_int_equal(samples_named(p, "fusebox_event_log_ok"), 0);
	assert_int_equal(
	    samples_named(p, "fusebox_event_log_write_errors_total"), 0);
	assert_state_set(p, "fusebox_dependency_state", "db", "state", STATES,
	                 "open");
	cJSON_Delete(p);
}

/* What a collector gets when no instance answers. */
static void test_down_text(void **state)
{
	world *w = *state;
	cJSON *p = prom_parse_text(w->dir, fb_metrics_down_text());
	const cJSON *samples = cJSON_GetObjectItemCaseSensitive(p, "samples");
	assert_int_equal(cJSON_GetArraySize(samples), 1);
	assert_true(VALUE0(p, "fusebox_up") == 0);
	cJSON_Delete(p);
}

/* An odd document (a newer instance, a broken reply) never yields a
 * state set without exactly one 1, nor a family without data. */
static void test_formatter_odd_document(void **state)
{
	world *w = *state;
	cJSON *doc = cJSON_Parse(
	    "{\"host\":\"x\",\"system_health\":\"confused\",\"gate\":{},"
	    "\"dependencies\":[{\"service\":\"a\",\"state\":\"sideways\","
	    "\"health\":7},{\"state\":\"open\"}]}");
	assert_non_null(doc);
	char *text = fb_metrics_text(doc, NULL);
	cJSON_Delete(doc);
	assert_non_null(text);
	static const char *const with_new[] = {
	    "unknown", "healthy", "degraded", "unhealthy", "confused", NULL};
	static const char *const states_new[] = {
	    "closed",        "open",     "half_open", "forced_open",
	    "forced_closed", "sideways", NULL};
	cJSON *p = prom_parse_text(w->dir, text);
	free(text);
	assert_state_set(p, "fusebox_system_health", NULL, "health", with_new,
	                 "confused");
	assert_state_set(p, "fusebox_dependency_state", "a", "state",
	                 states_new, "sideways");
	assert_int_equal(samples_named(p, "fusebox_dependency_health"), 0);
	assert_int_equal(samples_named(p, "fusebox_gate_allowed"), 0);
	assert_int_equal(samples_named(p, "fusebox_info"), 0);
	cJSON_Delete(p);
}

/* ---- the atomic write ------------------------------------------------------ */

/* The names in dir, sorted, separated by spaces. */
static void list_dir(const char *dir, char *out, size_t len)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t used = strlen(out);
		if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
			snprintf(out + used, len - used, "%s%s",
			         used ? " " : "", name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

static void test_write_atomic(void **state)
{
	world *w = *state;
	char path[700], listing[1024], bad[800];
	fb_error err;
	snprintf(path, sizeof path, "%s/x.prom", w->dir);
	assert_int_equal(fb_write_atomic(path, "one\n", 4, &err), 0);
	assert_int_equal(fb_write_atomic(path, "two\n", 4, &err), 0);
	char *text = th_slurp(path, NULL);
	assert_string_equal(text, "two\n");
	free(text);
	list_dir(w->dir, listing, sizeof listing);
	assert_string_equal(listing, "x.prom");

	/* a folder that is not there: an error naming the file, nothing left */
	snprintf(bad, sizeof bad, "%s/gone/x.prom", w->dir);
	assert_int_equal(fb_write_atomic(bad, "a\n", 2, &err), -1);
	assert_non_null(strstr(err.text, bad));
	assert_non_null(strstr(err.text, "No such file or directory"));

	/* the rename fails (a directory is in the way): the temp file goes */
	snprintf(bad, sizeof bad, "%s/dir.prom", w->dir);
	assert_int_equal(mkdir(bad, 0755), 0);
	assert_int_equal(fb_write_atomic(bad, "a\n", 2, &err), -1);
	assert_non_null(strstr(err.text, "rename"));
	list_dir(w->dir, listing, sizeof listing);
	assert_string_equal(listing, "dir.prom x.prom");
}

/* ---- configuration ----------------------------------------------------------- */

static void test_config_metrics_file(void **state)
{
	world *w = *state;
	char path[700], want[800];
	fb_error err;
	th_write_file(w->dir, "rel.ini",
	              "[fusebox]\nmetrics_file = sub/fb.prom\n", path,
	              sizeof path);
	assert_int_equal(fb_config_load(path, &w->cfg, &err, th_getenv), 0);
	snprintf(want, sizeof want, "%s/sub/fb.prom", w->dir);
	assert_string_equal(w->cfg.metrics_file, want);
	fb_config_free(&w->cfg);
	th_write_file(w->dir, "abs.ini",
	              "[fusebox]\nmetrics_file = /var/x.prom\n", path,
	              sizeof path);
	assert_int_equal(fb_config_load(path, &w->cfg, &err, th_getenv), 0);
	assert_string_equal(w->cfg.metrics_file, "/var/x.prom");
	fb_config_free(&w->cfg);
	th_write_file(w->dir, "none.ini", "[fusebox]\nhost = a\n", path,
	              sizeof path);
	assert_int_equal(fb_config_load(path, &w->cfg, &err, th_getenv), 0);
	assert_string_equal(w->cfg.metrics_file, "");
	fb_config_free(&w->cfg);

	static const char *const refused[] = {
	    "metrics.txt", ".prom", "sub/.prom", "fb.prom.tmp",
	    "fb.PROM",     "",      NULL};
	for (size_t i = 0; refused[i]; i++) {
		char text[256];
		snprintf(text, sizeof text, "[fusebox]\nmetrics_file = %s\n",
		         refused[i]);
		th_write_file(w->dir, "bad.ini", text, path, sizeof path);
		memset(&err, 0, sizeof err);
		if (fb_config_load(path, &w->cfg, &err, th_getenv) == 0)
			fail_msg("metrics_file = '%s' was accepted",
			         refused[i]);
		snprintf(want, sizeof want,
		         "%s:2: metrics_file must end in .prom", path);
		assert_string_equal(err.text, want);
	}
}

/* ---- end to end: the world of one test ---------------------------------------- */

static const char DEFAULTS[] = "interval = 100ms\ntimeout = 300ms\n"
                               "failure_threshold = 2\nrecovery_timeout = 30s\n"
                               "jitter = 0\n";

static int e2e_setup(void **state)
{
	*state = th_env_new(g_fixture);
	g_tmux[0] = '\0';
	return *state ? 0 : -1;
}

static int e2e_teardown(void **state)
{
	if (g_tmux[0])
		th_tmux_kill(g_tmux);
	g_tmux[0] = '\0';
	th_env_free(*state);
	return 0;
}

static void show(const th_env *e)
{
	th_show_tail("event log", e->log);
	th_show_tail("fusebox stderr", e->err);
}

/* api (healthy, not critical) and db (critical, failing: it opens);
 * `fusebox_line` goes into [fusebox] as is. */
static void write_config(th_env *e, const char *fusebox_line)
{
	FILE *f = fopen(e->cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "[fusebox]\nlog = events.jsonl\ncontrol_socket = ctl.sock\n"
	        "host = testhost\n%s\n\n[defaults]\n%s\n"
	        "[dep api]\nurl = http://127.0.0.1:%d/api\ncritical = false\n\n"
	        "[dep db]\nurl = http://127.0.0.1:%d/db\ncritical = true\n",
	        fusebox_line, DEFAULTS, e->fx.port, e->fx.port);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(th_fixture_set(&e->fx, "/db", "fail"), 0);
}

static void start_fusebox(th_env *e)
{
	char *argv[] = {g_fusebox, "run", "--config", e->cfg, NULL};
	e->fb = th_spawn(argv, e->out, e->err);
	assert_true(e->fb > 0);
	if (!th_wait_unix_socket(e->sock, WAIT_MS)) {
		show(e);
		fail_msg("fusebox run does not serve its control socket");
	}
}

/* Waits until db has opened. */
static void wait_db_open(th_env *e)
{
	if (!th_wait_events(e->log, 1, "transition", "db", "closed", "open",
	                    WAIT_MS)) {
		show(e);
		fail_msg("db never opened");
	}
}

static int cli(const th_env *e, th_result *r, const char *const *args)
{
	char *argv[16];
	size_t n = 0;
	argv[n++] = g_fusebox;
	while (*args && n < 12)
		argv[n++] = (char *)*args++;
	argv[n++] = "--config";
	argv[n++] = (char *)e->cfg;
	argv[n] = NULL;
	return th_run(argv, CLI_MS, r);
}

#define CLI(e, r, ...) cli((e), (r), (const char *const[]){__VA_ARGS__, NULL})

/* Runs the command, which must exit `want`, and parses its stdout. */
static cJSON *cli_metrics(th_env *e, int want, const char *const *args)
{
	th_result r;
	int code = cli(e, &r, args);
	if (code != want) {
		print_message("stdout: %s\nstderr: %s\n", r.out, r.err);
		th_result_free(&r);
		fail_msg("`fusebox %s %s` exited %d, not %d", args[0], args[1],
		         code, want);
	}
	cJSON *p = prom_parse_text(e->dir, r.out);
	th_result_free(&r);
	return p;
}

#define CLI_METRICS(e, want, ...)                                              \
	cli_metrics((e), (want), (const char *const[]){__VA_ARGS__, NULL})

/* ---- end to end: fusebox status --prometheus ------------------------------------ */

/* Has api had a successful probe yet? */
static bool api_answered(void *ctx)
{
	th_env *e = ctx;
	th_result r;
	cJSON *doc =
	    CLI(e, &r, "status", "--json") == 0 ? cJSON_Parse(r.out) : NULL;
	th_result_free(&r);
	const cJSON *d;
	bool ok = false;
	cJSON_ArrayForEach(
	    d, cJSON_GetObjectItemCaseSensitive(doc, "dependencies"))
	{
		const char *name = th_json_str(d, "service");
		if (name && strcmp(name, "api") == 0)
			ok = th_json_str(d, "last_success") != NULL;
	}
	cJSON_Delete(doc);
	return ok;
}

static void test_status_prometheus_live(void **state)
{
	th_env *e = *state;
	write_config(e, "");
	start_fusebox(e);
	wait_db_open(e);
	assert_true(th_wait_until(api_answered, e, WAIT_MS));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	double wall_now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;

	cJSON *p = CLI_METRICS(e, 0, "status", "--prometheus");
	assert_true(VALUE0(p, "fusebox_up") == 1);
	assert_true(VALUE(p, "fusebox_info", "host", "testhost", "version",
	                  FB_VERSION) == 1);
	double started = VALUE0(p, "fusebox_start_time_seconds");
	if (!(started > wall_now - 30 && started <= wall_now + 1))
		fail_msg("start time %f, now %f", started, wall_now);
	assert_true(VALUE0(p, "fusebox_event_log_ok") == 1);
	assert_true(VALUE0(p, "fusebox_event_log_write_errors_total") == 0);

	assert_state_set(p, "fusebox_dependency_state", "db", "state", STATES,
	                 "open");
	assert_state_set(p, "fusebox_dependency_state", "api", "state", STATES,
	                 "closed");
	assert_state_set(p, "fusebox_dependency_health", "db", "health",
	                 HEALTHS, "unhealthy");
	assert_state_set(p, "fusebox_dependency_health", "api", "health",
	                 HEALTHS, "healthy");
	assert_state_set(p, "fusebox_system_health", NULL, "health", HEALTHS,
	                 "unhealthy");
	assert_true(VALUE(p, "fusebox_dependency_info", "dep", "db", "kind",
	                  "http", "critical", "true") == 1);
	assert_true(
	    VALUE(p, "fusebox_dependency_failures_total", "dep", "db") >= 2);
	assert_true(VALUE(p, "fusebox_dependency_consecutive_failures", "dep",
	                  "db") == 2);
	assert_true(
	    VALUE(p, "fusebox_dependency_successes_total", "dep", "db") == 0);
	assert_true(
	    VALUE(p, "fusebox_dependency_successes_total", "dep", "api") >= 1);
	assert_true(VALUE(p, "fusebox_dependency_probes_total", "dep", "api") >=
	            1);
	double retry =
	    VALUE(p, "fusebox_dependency_retry_after_seconds", "dep", "db");
	assert_true(retry > 0 && retry <= 30);
	double p50 = VALUE(p, "fusebox_dependency_latency_seconds", "dep",
	                   "api", "quantile", "0.5"),
	       p99 = VALUE(p, "fusebox_dependency_latency_seconds", "dep",
	                   "api", "quantile", "0.99");
	assert_true(p50 > 0 && p50 <= p99 && p99 < 0.3); /* seconds, not ms */

	/* a critical dependency is open: the gate blocks, in auto mode */
	assert_true(VALUE0(p, "fusebox_gate_allowed") == 0);
	static const char *const modes[] = {"auto", "block", "allow", NULL};
	assert_state_set(p, "fusebox_gate_mode", NULL, "mode", modes, "auto");
	double gate_retry = VALUE0(p, "fusebox_gate_retry_after_seconds");
	assert_true(gate_retry > 0 && gate_retry <= 30);
	cJSON_Delete(p);

	/* `status --json` stays SPEC 7's document, without the totals */
	th_result r;
	assert_int_equal(CLI(e, &r, "status", "--json"), 0);
	assert_null(strstr(r.out, "successes"));
	assert_null(strstr(r.out, "latency_s\""));
	assert_null(strstr(r.out, "\"instance\""));
	th_result_free(&r);
	assert_int_equal(CLI(e, &r, "status", "--json", "--prometheus"), 64);
	assert_int_equal(r.out_len, 0);
	th_result_free(&r);

	/* an operator's gate lock shows at once */
	assert_int_equal(CLI(e, &r, "gate", "block", "--reason", "test"), 0);
	th_result_free(&r);
	p = CLI_METRICS(e, 0, "status", "--prometheus");
	assert_state_set(p, "fusebox_gate_mode", NULL, "mode", modes, "block");
	cJSON_Delete(p);
}

/* One probe round, no instance: the same metrics, from our own probes. */
static void test_status_prometheus_probe(void **state)
{
	th_env *e = *state;
	write_config(e, "");
	cJSON *p = CLI_METRICS(e, 0, "status", "--prometheus", "--probe");
	assert_true(VALUE0(p, "fusebox_up") == 1);
	assert_int_equal(samples_named(p, "fusebox_start_time_seconds"), 0);
	assert_int_equal(samples_named(p, "fusebox_event_log_ok"), 0);
	/* one failure of two needed: still closed, but counted */
	assert_state_set(p, "fusebox_dependency_state", "db", "state", STATES,
	                 "closed");
	assert_true(
	    VALUE(p, "fusebox_dependency_failures_total", "dep", "db") == 1);
	assert_true(VALUE(p, "fusebox_dependency_consecutive_failures", "dep",
	                  "db") == 1);
	assert_true(
	    VALUE(p, "fusebox_dependency_successes_total", "dep", "api") == 1);
	assert_true(VALUE(p, "fusebox_dependency_probes_total", "dep", "api") ==
	            1);
	assert_true(VALUE(p, "fusebox_dependency_latency_seconds", "dep", "api",
	                  "quantile", "0.5") > 0);
	cJSON_Delete(p);
}

/* No instance: exit 69, and what a collector reads says so. */
static void test_status_prometheus_no_instance(void **state)
{
	th_env *e = *state;
	write_config(e, "");
	th_result r;
	assert_int_equal(CLI(e, &r, "status", "--prometheus"), 69);
	assert_non_null(strstr(r.err, "no running instance"));
	th_result_free(&r);
	cJSON *p = CLI_METRICS(e, 69, "status", "--prometheus");
	assert_int_equal(
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "samples")),
	    1);
	assert_true(VALUE0(p, "fusebox_up") == 0);
	cJSON_Delete(p);
}

/* ---- end to end: metrics_file ---------------------------------------------------- */

typedef struct watch_log {
	int fd;
	int moved_in;     /* renames onto the target */
	char bad[512];    /* the first sign of a non-atomic write */
	char names[1024]; /* every name created, for messages */
} watch_log;

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && strcmp(s + n - m, tail) == 0;
}

/* Reads the inotify events that are there and checks each one. */
static void drain(watch_log *w, const char *target)
{
	_Alignas(struct inotify_event) char buf[16384];
	ssize_t n;
	while ((n = read(w->fd, buf, sizeof buf)) > 0) {
		for (char *at = buf; at < buf + n;) {
			const struct inotify_event *ev = (const void *)at;
			const char *name = ev->len ? ev->name : "";
			if ((ev->mask & IN_CREATE) && strlen(w->names) < 900) {
				size_t used = strlen(w->names);
				snprintf(w->names + used,
				         sizeof w->names - used, " %s", name);
			}
			if (!w->bad[0] && (ev->mask & IN_CREATE) &&
			    ends_with(name, ".prom"))
				snprintf(w->bad, sizeof w->bad,
				         "%s was created in place", name);
			if (!w->bad[0] &&
			    (ev->mask & (IN_MODIFY | IN_CLOSE_WRITE)) &&
			    ends_with(name, ".prom"))
				snprintf(w->bad, sizeof w->bad,
				         "%s was written in place", name);
			if ((ev->mask & IN_MOVED_TO) &&
			    strcmp(name, target) == 0)
				w->moved_in++;
			at += sizeof *ev + ev->len;
		}
	}
}

static void test_metrics_file_atomic_and_current(void **state)
{
	th_env *e = *state;
	char mdir[600], path[700], listing[1024];
	snprintf(mdir, sizeof mdir, "%s/metrics", e->dir);
	snprintf(path, sizeof path, "%s/fusebox.prom", mdir);
	assert_int_equal(mkdir(mdir, 0755), 0);
	write_config(e, "metrics_file = metrics/fusebox.prom"); /* relative */
	watch_log w = {.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)};
	assert_true(w.fd >= 0);
	assert_true(inotify_add_watch(w.fd, mdir,
	                              IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE |
	                                  IN_MOVED_TO) >= 0);
	start_fusebox(e);
	if (!th_wait_file(path, 3000)) {
		show(e);
		fail_msg("no %s within 3 s of the start", path);
	}
	wait_db_open(e);
	/* the open breaker reaches the file soon after it opens */
	if (!th_wait_file_contains(
	        path, "fusebox_dependency_state{dep=\"db\",state=\"open\"} 1",
	        3000)) {
		show(e);
		th_show_tail("metrics file", path);
		fail_msg("the metrics file does not show db open");
	}
	/* and it is rewritten every few seconds: read it as a collector would */
	int64_t end = th_now_ms() + 12000;
	double first = -1, last = -1;
	while (th_now_ms() < end && (w.moved_in < 3 || last <= first)) {
		drain(&w, "fusebox.prom");
		cJSON *p = prom_parse(path);
		last = VALUE(p, "fusebox_dependency_successes_total", "dep",
		             "api");
		if (first < 0)
			first = last;
		assert_state_set(p, "fusebox_dependency_state", "db", "state",
		                 STATES, "open");
		assert_true(VALUE0(p, "fusebox_gate_allowed") == 0);
		assert_true(VALUE0(p, "fusebox_event_log_ok") == 1);
		cJSON_Delete(p);
		th_sleep_ms(300);
	}
	drain(&w, "fusebox.prom");
	if (w.bad[0])
		fail_msg("not atomic: %s (created:%s)", w.bad, w.names);
	if (w.moved_in < 3 || last <= first)
		fail_msg(
		    "%d renames onto the file in 12 s; api successes %g -> %g",
		    w.moved_in, first, last);
	print_message("# %d atomic replacements seen; temp names:%s\n",
	              w.moved_in, w.names);
	list_dir(mdir, listing, sizeof listing);
	assert_string_equal(listing, "fusebox.prom");

	/* a clean stop leaves `fusebox_up 0`, not a stale last state */
	assert_int_equal(th_kill(e->fb, SIGTERM, 5000) & 0x7f, 0);
	e->fb = 0;
	cJSON *p = prom_parse(path);
	assert_int_equal(
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "samples")),
	    1);
	assert_true(VALUE0(p, "fusebox_up") == 0);
	cJSON_Delete(p);
	drain(&w, "fusebox.prom");
	assert_true(w.bad[0] == '\0');
	close(w.fd);
}

static int count_in_file(const char *path, const char *needle)
{
	char *text = th_slurp(path, NULL);
	int n = 0;
	for (const char *p = text; p && (p = strstr(p, needle)); p++)
		n++;
	free(text);
	return n;
}

typedef struct count_ctx {
	const char *path, *needle;
	int want;
} count_ctx;

static bool count_reached(void *ctx)
{
	count_ctx *c = ctx;
	return count_in_file(c->path, c->needle) >= c->want;
}

/* A folder that goes away: said once, the engine goes on; said again
 * after it had worked again. */
static void test_metrics_file_failure_said_once(void **state)
{
	th_env *e = *state;
	char mdir[600], path[700];
	th_result r;
	snprintf(mdir, sizeof mdir, "%s/gone", e->dir);
	snprintf(path, sizeof path, "%s/fusebox.prom", mdir);
	write_config(e, "metrics_file = gone/fusebox.prom");
	int64_t start = th_now_ms();
	start_fusebox(e);
	count_ctx failed = {e->err, "No such file or directory", 1};
	if (!th_wait_until(count_reached, &failed, 3000)) {
		show(e);
		fail_msg("a failing metrics file is not reported");
	}
	wait_db_open(e);
	/* the periodic write and the writes after events all fail meanwhile */
	assert_int_equal(CLI(e, &r, "trip", "api"), 0);
	th_result_free(&r);
	th_sleep_ms(1200);
	assert_int_equal(CLI(e, &r, "reset", "api"), 0);
	th_result_free(&r);
	while (th_now_ms() < start + FB_METRICS_PERIOD_MS + 1500)
		th_sleep_ms(100);
	if (count_in_file(e->err, "metrics file") != 1) {
		show(e);
		fail_msg("one failing episode, %d reports",
		         count_in_file(e->err, "metrics file"));
	}
	char want[800];
	snprintf(want, sizeof want,
	         "fusebox: metrics file %s: open: No such file", path);
	assert_int_equal(count_in_file(e->err, want), 1);
	assert_true(th_alive(e->fb));
	cJSON *p = CLI_METRICS(e, 0, "status", "--prometheus");
	assert_state_set(p, "fusebox_dependency_state", "db", "state", STATES,
	                 "open");
	cJSON_Delete(p);

	/* the folder is back: the file appears, and that is said once */
	assert_int_equal(mkdir(mdir, 0755), 0);
	if (!th_wait_file(path, FB_METRICS_PERIOD_MS + 2000)) {
		show(e);
		fail_msg("no metrics file after its folder came back");
	}
	count_ctx again = {e->err, "written again", 1};
	assert_true(th_wait_until(count_reached, &again, 2000));
	p = prom_parse(path);
	assert_true(VALUE0(p, "fusebox_up") == 1);
	cJSON_Delete(p);

	/* gone again: a new episode, a new report */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(mdir), 0);
	failed.want = 2;
	if (!th_wait_until(count_reached, &failed,
	                   FB_METRICS_PERIOD_MS + 2000)) {
		show(e);
		fail_msg("the second failing episode is not reported");
	}
	assert_true(th_alive(e->fb));
}

/* A reload that moves the file removes the old one: a collector must
 * never read the instance's series twice. */
static void test_metrics_file_moved_by_reload(void **state)
{
	th_env *e = *state;
	char old_path[700], new_path[700];
	snprintf(old_path, sizeof old_path, "%s/a.prom", e->dir);
	snprintf(new_path, sizeof new_path, "%s/b.prom", e->dir);
	write_config(e, "metrics_file = a.prom");
	start_fusebox(e);
	assert_true(th_wait_file(old_path, 3000));
	write_config(e, "metrics_file = b.prom");
	assert_int_equal(kill(e->fb, SIGHUP), 0);
	if (!th_wait_file(new_path, FB_METRICS_PERIOD_MS + 2000)) {
		show(e);
		fail_msg("no %s after the reload", new_path);
	}
	assert_true(access(old_path, F_OK) != 0);
	cJSON *p = prom_parse(new_path);
	assert_true(VALUE0(p, "fusebox_up") == 1);
	cJSON_Delete(p);
}

/* The console's embedded engine writes the same file. */
static void test_console_writes_metrics_file(void **state)
{
	th_env *e = *state;
	char path[700], cmd[3 * PATH_MAX];
	snprintf(path, sizeof path, "%s/console.prom", e->dir);
	write_config(e, "metrics_file = console.prom");
	snprintf(g_tmux, sizeof g_tmux, "fbmetrics%d", (int)getpid());
	snprintf(
	    cmd, sizeof cmd,
	    "timeout --foreground -k 2 60 %s --config %s 2>>%s; exec sleep 60",
	    g_fusebox, e->cfg, e->err);
	assert_int_equal(th_tmux_start(g_tmux, e->dir, 120, 40, cmd), 0);
	if (!th_wait_file_contains(
	        path, "fusebox_dependency_state{dep=\"db\",state=\"open\"} 1",
	        WAIT_MS)) {
		char *screen = th_tmux_capture(g_tmux, false);
		print_message("# the screen:\n%s\n", screen ? screen : "");
		free(screen);
		show(e);
		fail_msg("the console's engine does not keep %s", path);
	}
	cJSON *p = prom_parse(path);
	assert_true(VALUE0(p, "fusebox_up") == 1);
	assert_true(VALUE0(p, "fusebox_gate_allowed") == 0);
	cJSON_Delete(p);
	th_tmux_kill(g_tmux); /* SIGHUP: the console stops */
	g_tmux[0] = '\0';
	if (!th_wait_file_contains(path, "fusebox_up 0", WAIT_MS)) {
		th_show_tail("metrics file", path);
		fail_msg("the console's stop does not mark the file down");
	}
}

/* node_exporter reads *.prom only: anything else is a config error. */
static void test_metrics_file_must_end_in_prom(void **state)
{
	th_env *e = *state;
	char want[800];
	th_result r;
	write_config(e, "metrics_file = metrics.txt");
	/* [fusebox], log, control_socket, host, then metrics_file: line 5 */
	snprintf(want, sizeof want,
	         "fusebox: %s:5: metrics_file must end in .prom\n", e->cfg);
	char *check[] = {g_fusebox, "check-config", e->cfg, NULL};
	assert_int_equal(th_run(check, CLI_MS, &r), 78);
	assert_string_equal(r.err, want);
	th_result_free(&r);
	assert_int_equal(CLI(e, &r, "run", "--duration", "5s"), 78);
	assert_string_equal(r.err, want);
	assert_true(access(e->sock, F_OK) != 0); /* nothing started */
	th_result_free(&r);

	write_config(e, "metrics_file = metrics.prom");
	assert_int_equal(th_run(check, CLI_MS, &r), 0);
	th_result_free(&r);
}

int main(void)
{
	if (getenv("FB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("FB_TEST_FILTER"));
	if (th_suite_bins(g_fusebox, g_fixture) != 0)
		return 1;
#define U(fn) cmocka_unit_test_setup_teardown(fn, unit_setup, unit_teardown)
#define T(fn) cmocka_unit_test_setup_teardown(fn, e2e_setup, e2e_teardown)
	const struct CMUnitTest tests[] = {
	    U(test_formatter_state_sets_and_escaping),
	    U(test_formatter_unknown_at_start),
	    U(test_formatter_without_instance),
	    U(test_down_text),
	    U(test_formatter_odd_document),
	    U(test_write_atomic),
	    U(test_config_metrics_file),
	    T(test_status_prometheus_live),
	    T(test_status_prometheus_probe),
	    T(test_status_prometheus_no_instance),
	    T(test_metrics_file_atomic_and_current),
	    T(test_metrics_file_failure_said_once),
	    T(test_metrics_file_moved_by_reload),
	    T(test_console_writes_metrics_file),
	    T(test_metrics_file_must_end_in_prom),
	};
#undef U
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
