/* Loading config.ini (SPEC section 5): every refusal names its file and
 * line, the layers resolve in the promised order, and the environment
 * comes through a fake getenv (never setenv). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "config_impl.h"
#include "fusebox/config.h"
#include "helpers.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char dir[512];

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

/* Each test gets a config that is freed even when an assertion fails. */
typedef struct cx {
	fb_config cfg;
	fb_error err;
	char path[1024];
} cx;

static int setup(void **state)
{
	cx *x = calloc(1, sizeof *x);
	if (!x)
		return -1;
	th_env_use(NULL, 0);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	cx *x = *state;
	fb_config_free(&x->cfg);
	free(x);
	th_env_use(NULL, 0);
	return 0;
}

/* Writes `text` to DIR/name and loads it with the fake environment. */
static int load(cx *x, const char *name, const char *text,
                const th_env_var *env, size_t nenv)
{
	fb_config_free(&x->cfg);
	memset(&x->err, 0, sizeof x->err);
	th_write_file(dir, name, text, x->path, sizeof x->path);
	th_env_use(env, nenv);
	return fb_config_load(x->path, &x->cfg, &x->err, th_getenv);
}

static const fb_dep_config *dep(cx *x, const char *name)
{
	for (size_t i = 0; i < x->cfg.ndeps; i++) {
		if (strcmp(x->cfg.deps[i].name, name) == 0)
			return &x->cfg.deps[i];
	}
	fail_msg("no dependency '%s'", name);
	return NULL;
}

static void must_load(cx *x, const char *name, const char *text,
                      const th_env_var *env, size_t nenv)
{
	if (load(x, name, text, env, nenv) != 0)
		fail_msg("%s refused: %s", name, x->err.text);
}

/* Asserts a refusal "PATH:LINE: <what>" with `what` containing `msg`. */
static void assert_refused_at(cx *x, const char *what_case, int line,
                              const char *msg)
{
	char prefix[1100];
	snprintf(prefix, sizeof prefix, "%s:%d: ", x->path, line);
	if (strncmp(x->err.text, prefix, strlen(prefix)) != 0)
		fail_msg("%s: '%s' does not start with '%s'", what_case, x->err.text,
		         prefix);
	if (!strstr(x->err.text + strlen(prefix), msg))
		fail_msg("%s: '%s' does not say '%s'", what_case, x->err.text, msg);
	if (strchr(x->err.text, '\n'))
		fail_msg("%s: message has a newline", what_case);
	/* on error the config is left empty */
	assert_int_equal(x->cfg.ndeps, 0);
	assert_null(x->cfg.deps);
	assert_null(x->cfg.presets);
}

/* ---- refusals ---------------------------------------------------------------- */

typedef struct bad_case {
	const char *name;
	const char *text;
	int line;
	const char *msg;
} bad_case;

#define DEP_A "[dep a]\nurl = http://a:80\n"

static const bad_case bad_cases[] = {
    {"unknown section", "[fusebox]\nlog = x.jsonl\n[bogus]\n", 3,
     "unknown section [bogus]"},
    {"unknown section with arg", "\n[deps chroma]\n", 2,
     "unknown section [deps chroma]"},
    {"unknown key [fusebox]", "[fusebox]\nlog = x.jsonl\ncolour = red\n", 3,
     "unknown key 'colour' in [fusebox]"},
    {"unknown key [defaults]", "[defaults]\ntimeout = 2s\ncolour = red\n", 3,
     "unknown key 'colour'"},
    {"unknown key [preset]", "[preset mine]\ncolour = red\n", 2,
     "unknown key 'colour'"},
    {"unknown key [dep]", DEP_A "colour = red\n", 3,
     "unknown key 'colour' in [dep a]"},
    {"unknown key [redis]", "[redis]\nurl = redis://r:6379/0\ncolour = red\n",
     3, "unknown key 'colour' in [redis]"},
    {"key outside any section", "; a comment\n\ntimeout = 5s\n[defaults]\n", 3,
     "key 'timeout' outside any section"},
    {"bad duration unit", "[defaults]\ntimeout = 5x\n", 2,
     "timeout: bad duration unit (use ms, s, m or h): '5x'"},
    {"bad duration word", DEP_A "interval = soon\n", 3,
     "interval: bad duration (use a number with ms, s, m or h): 'soon'"},
    {"negative duration", "[preset p]\nrecovery_timeout = -5s\n", 2,
     "recovery_timeout: bad duration"},
    {"count out of range", "[defaults]\nfailure_threshold = 1000001\n", 2,
     "failure_threshold: out of range: '1000001'"},
    {"count below range", DEP_A "half_open_probes = 0\n", 3,
     "half_open_probes: out of range: '0'"},
    {"fraction out of range", "[defaults]\njitter = 1.5\n", 2,
     "jitter: out of range (0 to 1): '1.5'"},
    {"duration below range", "[defaults]\n\ninterval = 5ms\n", 3,
     "interval: out of range: '5ms'"},
    {"duration above range", "[defaults]\ntimeout = 2h\n", 2,
     "timeout: out of range: '2h'"},
    {"percent out of range", "[defaults]\nfailure_rate = 101\n", 2,
     "failure_rate: out of range: '101'"},
    {"count not a number", "[defaults]\nwindow = many\n", 2,
     "window: not a whole number: 'many'"},
    {"port out of range", "[dep a]\nhost = a\nport = 70000\n", 3,
     "port: out of range: '70000'"},
    {"log_keep out of range", "[fusebox]\nlog_keep = 0\n", 2,
     "log_keep: out of range: '0'"},
    {"duplicate dependency",
     "[dep a]\nurl = http://a\n\n[dep b]\nurl = http://b\n[dep a]\n"
     "url = http://c\n",
     6, "duplicate dependency 'a' (first defined on line 1)"},
    {"duplicate dependency later",
     "[fusebox]\nlog = x\n[dep b]\nurl = http://b\n[dep b]\n", 5,
     "duplicate dependency 'b' (first defined on line 3)"},
    {"duplicate key", "[defaults]\ntimeout = 1s\ntimeout = 2s\n", 3,
     "duplicate key 'timeout'"},
    {"duplicate preset", "[preset x]\ntimeout = 1s\n[preset x]\n", 3,
     "duplicate preset 'x'"},
    {"unknown preset", DEP_A "preset = turbo\n", 3, "unknown preset 'turbo'"},
    {"unknown preset second dep",
     DEP_A "[dep b]\nurl = http://b\npreset = turbo\ncritical = true\n", 5,
     "unknown preset 'turbo'"},
    {"bad URL", "[dep a]\ncritical = true\nurl = http//a\n", 3,
     "dependency 'a': bad URL (expected scheme://host[:port][/path])"},
    {"bad URL scheme", "[dep a]\nurl = ftp://a\n", 2,
     "dependency 'a': bad URL scheme (use http, https, redis or tcp)"},
    {"bad URL port", "[dep a]\nurl = http://a:99999\n", 2,
     "dependency 'a': bad URL host or port"},
    {"kind not matching URL", "[dep a]\nkind = redis\nurl = http://a:80\n", 3,
     "dependency 'a': kind does not match the URL scheme"},
    {"kind tcp with redis URL", "[dep a]\nurl = redis://a\nkind = tcp\n", 2,
     "dependency 'a': kind does not match the URL scheme"},
    {"bad kind", "[dep a]\nkind = grpc\nurl = http://a\n", 2,
     "kind: expected http, redis or tcp: 'grpc'"},
    {"missing address", "[dep a]\ncritical = true\nkind = http\n", 1,
     "dependency 'a': no address"},
    {"missing address later", DEP_A "\n[dep b]\ncritical = true\n", 4,
     "dependency 'b': no address"},
    {"tcp without port", "[dep db]\nkind = tcp\nhost = db\n", 1,
     "dependency 'db': no port"},
    {"bad redis db", "[dep r]\ncritical = false\nurl = redis://r/abc\n", 3,
     "dependency 'r': bad redis database number in URL"},
    {"indented continuation", DEP_A "  critical = true\n", 3,
     "unexpected indented line (continuation lines are not supported)"},
    {"indented with tab", "[defaults]\n\ttimeout = 1s\n", 2,
     "unexpected indented line"},
    {"not key = value", "[defaults]\njust words\n", 2,
     "expected 'key = value' or '[section]'"},
    {"unclosed section", "[fusebox]\n[dep a\n", 2,
     "expected ']' to close the section name"},
    {"bad dependency name", "[dep a b]\n", 1, "bad dependency name 'a b'"},
    {"bad preset name", "[preset a/b]\n", 1, "bad preset name 'a/b'"},
    {"bad bool", DEP_A "critical = maybe\n", 3,
     "critical: not a boolean (true or false): 'maybe'"},
    {"bad expect_status", DEP_A "expect_status = 2xxx\n", 3,
     "expect_status: bad status range (use 200, 200-299 or 2xx): '2xxx'"},
    {"health_path without slash", DEP_A "health_path = health\n", 3,
     "health_path must start with '/': 'health'"},
    {"bad env_prefix", DEP_A "env_prefix = A=B\n", 3,
     "env_prefix: letters, digits and _ only: 'A=B'"},
    {"redis url not redis", "[redis]\nurl = http://r:80\n", 2, "url: "},
    {"control_mode", "[fusebox]\ncontrol_mode = 0400\n", 2,
     "control_mode: expected octal like 0600 or 0660: '0400'"},
    {"gate_override_ttl too short", "[fusebox]\ngate_override_ttl = 500ms\n", 2,
     "gate_override_ttl: at least 1s: '500ms'"},
    {"log_max_size", "[fusebox]\nlog_max_size = 5T\n", 2,
     "log_max_size: bad size (use a number with K, M or G): '5T'"},
    {"first error wins", "[defaults]\ntimeout = 5x\ninterval = 5y\n", 2,
     "timeout: "},
    /* the joined address must be one (found by fuzz_config: a host key
     * with a space, DEL or '?' in it made an address no probe can use) */
    {"host with a space", "[dep h]\nhost = a b\n", 2,
     "host: a name or an address"},
    {"host with DEL", "[dep h]\nhost = a\x7f\n", 2,
     "control character (byte 0x7f"},
    {"host with a query", "[dep h]\nhost = a?b\n", 2,
     "host: a name or an address"},
    {"health_path with a space", DEP_A "health_path = /a b\n", 3,
     "health_path holds a space"},
};

/* Checks one refusal; returns false (after printing why) when it is not
 * "PATH:LINE: ..." with the expected text, so a table reports every bad
 * case, not just the first. */
static bool refused_at(cx *x, const char *what_case, int line, const char *msg)
{
	char prefix[1100];
	snprintf(prefix, sizeof prefix, "%s:%d: ", x->path, line);
	if (strncmp(x->err.text, prefix, strlen(prefix)) != 0) {
		print_error("%s: '%s' does not start with '%s'\n", what_case,
		            x->err.text, prefix);
		return false;
	}
	if (!strstr(x->err.text + strlen(prefix), msg)) {
		print_error("%s: '%s' does not say '%s'\n", what_case, x->err.text,
		            msg);
		return false;
	}
	if (strchr(x->err.text, '\n') || x->cfg.ndeps || x->cfg.deps ||
	    x->cfg.presets) {
		print_error("%s: newline in message or config not emptied\n",
		            what_case);
		return false;
	}
	return true;
}

static void run_bad_cases(cx *x, const bad_case *cases, size_t n)
{
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof name, "bad-%02zu.ini", i);
		if (load(x, name, cases[i].text, NULL, 0) != -1) {
			print_error("%s: accepted\n", cases[i].name);
			failed++;
		} else if (!refused_at(x, cases[i].name, cases[i].line,
		                       cases[i].msg)) {
			failed++;
		}
	}
	if (failed)
		fail_msg("%d of %zu cases wrong", failed, n);
}

static void test_bad_configs_name_the_line(void **state)
{
	run_bad_cases(*state, bad_cases, N(bad_cases));
}

/* name_ok() lets '-' and '.' through, but the refusal promises "letters,
 * digits and _ only", and a shell cannot set A-B_URL. */
static void test_env_prefix_letters_digits_underscore(void **state)
{
	static const bad_case cases[] = {
	    {"env_prefix with a dash", DEP_A "env_prefix = A-B\n", 3,
	     "env_prefix: letters, digits and _ only: 'A-B'"},
	    {"env_prefix with a dot", DEP_A "env_prefix = A.B\n", 3,
	     "env_prefix: letters, digits and _ only: 'A.B'"},
	};
	run_bad_cases(*state, cases, N(cases));
}

/* A line inih itself cannot parse is the first error, even when a later
 * line is wrong too. */
static void test_first_bad_line_is_named(void **state)
{
	static const bad_case cases[] = {
	    {"garbage then unknown key", "[defaults]\njust words\ncolour = red\n",
	     2, "expected 'key = value' or '[section]'"},
	    {"garbage then bad section", "[fusebox]\nwhat\n[bogus]\n", 2,
	     "expected 'key = value' or '[section]'"},
	};
	run_bad_cases(*state, cases, N(cases));
}

/* [redis] without a url: the complaint belongs to the [redis] header. */
static void test_redis_without_url_names_its_line(void **state)
{
	cx *x = *state;
	static const char text[] = "[fusebox]\n"       /* 1 */
	                           "log = x.jsonl\n"   /* 2 */
	                           "[redis]\n"         /* 3 */
	                           "prefix = fleet\n"  /* 4 */
	                           "[dep a]\n"         /* 5 */
	                           "url = http://a\n"  /* 6 */
	                           "preset = fast\n"   /* 7 */
	                           "critical = true\n" /* 8 */
	                           "\n";               /* 9 */
	assert_int_equal(load(x, "redis.ini", text, NULL, 0), -1);
	assert_refused_at(x, "[redis] needs a url", 3, "[redis] needs a url");
}

static void make_line(char *buf, size_t len, const char *key, size_t total)
{
	size_t k = strlen(key);
	assert_true(total + 2 <= len && total > k);
	memcpy(buf, key, k);
	memset(buf + k, 'x', total - k);
	buf[total] = '\n';
	buf[total + 1] = '\0';
}

static void test_long_line_refused_not_cut(void **state)
{
	cx *x = *state;
	char line[600], text[700];
	/* 198 bytes and its newline fill inih's 200-byte buffer: accepted,
	 * whole */
	make_line(line, sizeof line, "host = ", 198);
	snprintf(text, sizeof text, "[fusebox]\n%s", line);
	must_load(x, "long-ok.ini", text, NULL, 0);
	assert_int_equal(strlen(x->cfg.host), 198 - 7);
	/* one more byte: refused, naming the line */
	static const size_t too_long[] = {199, 200, 250, 450};
	for (size_t i = 0; i < N(too_long); i++) {
		make_line(line, sizeof line, "host = ", too_long[i]);
		snprintf(text, sizeof text, "[fusebox]\n%s", line);
		assert_int_equal(load(x, "long.ini", text, NULL, 0), -1);
		assert_refused_at(x, "long line", 2, "line too long");
	}
	/* the tail of a cut line would read as a line of its own: a long
	 * comment must be refused too */
	make_line(line, sizeof line, "; ", 300);
	snprintf(text, sizeof text, "[fusebox]\n\n%s[dep a]\n", line);
	assert_int_equal(load(x, "long-comment.ini", text, NULL, 0), -1);
	assert_refused_at(x, "long comment", 3, "line too long");
	/* and a long value in a [dep] */
	make_line(line, sizeof line, "url = http://a/", 260);
	snprintf(text, sizeof text, "[dep a]\n%s", line);
	assert_int_equal(load(x, "long-url.ini", text, NULL, 0), -1);
	assert_refused_at(x, "long url", 2, "line too long");
}

static void test_password_file_permissions(void **state)
{
	cx *x = *state;
	char secret[1024], text[2048];
	th_write_file(dir, "secret", "hunter2\n", secret, sizeof secret);
	snprintf(text, sizeof text,
	         "[fusebox]\n"
	         "log = x.jsonl\n"
	         "[dep cache]\n"
	         "url = redis://cache:6379/0\n"
	         "password_file = %s\n",
	         secret);
	assert_int_equal(chmod(secret, 0644), 0);
	assert_int_equal(load(x, "pw.ini", text, NULL, 0), -1);
	assert_refused_at(x, "world-readable", 3,
	                  "password_file is readable by others");
	assert_non_null(strstr(x->err.text, secret));
	assert_int_equal(chmod(secret, 0640), 0);
	assert_int_equal(load(x, "pw.ini", text, NULL, 0), -1);
	assert_refused_at(x, "group-readable", 3,
	                  "password_file is readable by others");
	assert_int_equal(chmod(secret, 0600), 0);
	must_load(x, "pw.ini", text, NULL, 0);
	assert_string_equal(dep(x, "cache")->password_file, secret);
	/* a file that is not there */
	snprintf(text, sizeof text,
	         "[dep cache]\nurl = redis://cache\npassword_file = %s/none\n", dir);
	assert_int_equal(load(x, "pw2.ini", text, NULL, 0), -1);
	assert_refused_at(x, "missing", 1, "password_file cannot be read");
}

static void test_missing_file(void **state)
{
	cx *x = *state;
	char path[1024];
	snprintf(path, sizeof path, "%s/does-not-exist.ini", dir);
	assert_int_equal(fb_config_load(path, &x->cfg, &x->err, th_getenv), -1);
	char want[1100];
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	assert_string_equal(x->err.text, want);
}

/* ---- environment refusals ------------------------------------------------------ */

static const char env_dep[] = "[dep chroma]\n"
                              "url = http://chroma:6003\n"
                              "env_prefix = CHROMA\n";

static void test_env_errors_name_the_variable(void **state)
{
	cx *x = *state;
	static const struct {
		const char *var, *value, *why;
	} cases[] = {
	    {"CHROMA_TIMEOUT", "soon", "bad duration"},
	    {"CHROMA_TIMEOUT", "0", "out of range"},
	    {"CHROMA_TIMEOUT", "2h", "out of range"},
	    {"CHROMA_MAX_RETRIES", "lots", "not a whole number"},
	    {"CHROMA_MAX_RETRIES", "101", "out of range"},
	    {"CHROMA_RETRY_DELAY", "1x", "bad duration unit"},
	    {"CHROMA_FAILURE_THRESHOLD", "-1", "out of range"},
	    {"CHROMA_RECOVERY_TIMEOUT", "2d", "bad duration unit"},
	    {"CHROMA_URL", "chroma:6003", "bad URL"},
	    {"CHROMA_URL", "http://chroma:0", "bad URL"},
	    {"CHROMA_BASE_URL", "ftp://chroma", "bad URL"},
	    {"CHROMA_HOST", "a b", "bad host name"},
	    {"CHROMA_HOST", "h:80", "bad host name"},
	    {"CHROMA_PORT", "99999", "out of range"},
	    {"CHROMA_PORT", "http", "not a whole number"},
	    {"CHROMA_PROTOCOL", "gopher", "unknown protocol"},
	};
	for (size_t i = 0; i < N(cases); i++) {
		th_env_var env[] = {{cases[i].var, cases[i].value}};
		if (load(x, "env-bad.ini", env_dep, env, 1) != -1)
			fail_msg("%s=%s accepted", cases[i].var, cases[i].value);
		char want[256];
		snprintf(want, sizeof want, "environment variable %s: %s", cases[i].var,
		         cases[i].why);
		if (!strstr(x->err.text, want))
			fail_msg("%s=%s: '%s' does not say '%s'", cases[i].var,
			         cases[i].value, x->err.text, want);
		snprintf(want, sizeof want, "'%s'", cases[i].value);
		assert_non_null(strstr(x->err.text, want));
		assert_int_equal(x->cfg.ndeps, 0);
	}
}

static void test_env_ignored_without_prefix(void **state)
{
	cx *x = *state;
	static const th_env_var env[] = {{"CHROMA_TIMEOUT", "soon"},
	                                 {"CHROMA_URL", "http://elsewhere:1"}};
	must_load(x, "env-none.ini", "[dep chroma]\nurl = http://chroma:6003\n",
	          env, N(env));
	assert_int_equal(dep(x, "chroma")->t[FB_T_TIMEOUT], 2000);
	assert_string_equal(dep(x, "chroma")->host, "chroma");
	/* an empty variable is no override */
	static const th_env_var empty[] = {{"CHROMA_TIMEOUT", ""}};
	must_load(x, "env-empty.ini", env_dep, empty, N(empty));
	assert_int_equal(dep(x, "chroma")->t[FB_T_TIMEOUT], 2000);
	assert_int_equal(dep(x, "chroma")->source[FB_T_TIMEOUT], FB_SRC_BUILTIN);
}

/* ---- precedence ----------------------------------------------------------------- */

static void assert_tunable(const fb_dep_config *d, fb_tunable t, int64_t v,
                           fb_source src)
{
	if (d->t[t] != v || d->source[t] != src)
		fail_msg("%s %s: %lld from %s, expected %lld from %s", d->name,
		         fb_tunable_key(t), (long long)d->t[t],
		         fb_source_name(d->source[t]), (long long)v,
		         fb_source_name(src));
}

static void test_precedence_env_dep_preset_defaults_builtin(void **state)
{
	cx *x = *state;
	static const char text[] = "[defaults]\n"
	                           "timeout = 3s\n"
	                           "[preset mine]\n"
	                           "timeout = 4s\n"
	                           "max_retries = 7\n"
	                           "[dep d1]\n"
	                           "url = http://d1\n"
	                           "[dep d2]\n"
	                           "url = http://d2\n"
	                           "preset = mine\n"
	                           "[dep d3]\n"
	                           "url = http://d3\n"
	                           "preset = mine\n"
	                           "timeout = 6s\n"
	                           "[dep d4]\n"
	                           "url = http://d4\n"
	                           "preset = mine\n"
	                           "timeout = 6s\n"
	                           "env_prefix = D4\n";
	static const th_env_var env[] = {{"D4_TIMEOUT", "7s"},
	                                 {"D1_TIMEOUT", "9s"}};
	must_load(x, "layers.ini", text, env, N(env));
	assert_int_equal(x->cfg.ndeps, 4);
	assert_tunable(dep(x, "d1"), FB_T_TIMEOUT, 3000, FB_SRC_DEFAULTS);
	assert_tunable(dep(x, "d2"), FB_T_TIMEOUT, 4000, FB_SRC_PRESET);
	assert_tunable(dep(x, "d3"), FB_T_TIMEOUT, 6000, FB_SRC_FILE);
	assert_tunable(dep(x, "d4"), FB_T_TIMEOUT, 7000, FB_SRC_ENV);
	/* the other layers still show through where nothing stronger is set */
	assert_tunable(dep(x, "d1"), FB_T_MAX_RETRIES, 3, FB_SRC_BUILTIN);
	assert_tunable(dep(x, "d2"), FB_T_MAX_RETRIES, 7, FB_SRC_PRESET);
	assert_tunable(dep(x, "d4"), FB_T_MAX_RETRIES, 7, FB_SRC_PRESET);
	assert_tunable(dep(x, "d4"), FB_T_INTERVAL, 5000, FB_SRC_BUILTIN);

	/* with no layer at all: the built-in value */
	must_load(x, "builtin.ini", "[dep d0]\nurl = http://d0\n", NULL, 0);
	assert_tunable(dep(x, "d0"), FB_T_TIMEOUT, 2000, FB_SRC_BUILTIN);
}

static void test_builtin_defaults(void **state)
{
	cx *x = *state;
	must_load(x, "defaults.ini", "[dep d]\nurl = http://d\n", NULL, 0);
	const fb_dep_config *d = dep(x, "d");
	static const struct {
		fb_tunable t;
		int64_t v;
	} want[] = {
	    {FB_T_INTERVAL, 5000},          {FB_T_TIMEOUT, 2000},
	    {FB_T_FAILURE_THRESHOLD, 5},    {FB_T_RECOVERY_TIMEOUT, 60000},
	    {FB_T_BACKOFF_CAP, 600000},     {FB_T_JITTER, 200000},
	    {FB_T_HALF_OPEN_PROBES, 1},     {FB_T_SUCCESS_THRESHOLD, 1},
	    {FB_T_SLOW_CALL, 1000},         {FB_T_MAX_RETRIES, 3},
	    {FB_T_RETRY_DELAY, 1000},
	};
	for (size_t i = 0; i < N(want); i++)
		assert_tunable(d, want[i].t, want[i].v, FB_SRC_BUILTIN);
	assert_false(d->critical);
	assert_int_equal(x->cfg.gate_override_ttl_ms, 15 * FB_MS_M);
	assert_int_equal(x->cfg.control_mode, 0600);
	assert_string_equal(x->cfg.theme, "default");
	assert_false(x->cfg.redis.enabled);
}

static void test_env_tunables(void **state)
{
	cx *x = *state;
	static const th_env_var env[] = {
	    {"CHROMA_TIMEOUT", "30"},           /* bare number: seconds */
	    {"CHROMA_MAX_RETRIES", "9"},
	    {"CHROMA_RETRY_DELAY", "1.5"},
	    {"CHROMA_FAILURE_THRESHOLD", "11"},
	    {"CHROMA_RECOVERY_TIMEOUT", "2m"},
	};
	must_load(x, "env-tun.ini", env_dep, env, N(env));
	const fb_dep_config *d = dep(x, "chroma");
	assert_tunable(d, FB_T_TIMEOUT, 30000, FB_SRC_ENV);
	assert_tunable(d, FB_T_MAX_RETRIES, 9, FB_SRC_ENV);
	assert_tunable(d, FB_T_RETRY_DELAY, 1500, FB_SRC_ENV);
	assert_tunable(d, FB_T_FAILURE_THRESHOLD, 11, FB_SRC_ENV);
	assert_tunable(d, FB_T_RECOVERY_TIMEOUT, 120000, FB_SRC_ENV);
	assert_tunable(d, FB_T_BACKOFF_CAP, 600000, FB_SRC_BUILTIN);
	fb_breaker_config bc;
	fb_dep_breaker_config(d, &bc);
	assert_int_equal(bc.failure_threshold, 11);
	assert_int_equal(bc.recovery_timeout_ms, 120000);
}

static void test_builtin_presets(void **state)
{
	cx *x = *state;
	static const char text[] = "[dep f]\nurl = http://f\npreset = fast\n"
	                           "[dep s]\nurl = http://s\npreset = slow\n"
	                           "[dep c]\nurl = http://c\npreset = complex\n";
	must_load(x, "presets.ini", text, NULL, 0);
	assert_tunable(dep(x, "f"), FB_T_TIMEOUT, 5000, FB_SRC_PRESET);
	assert_tunable(dep(x, "f"), FB_T_MAX_RETRIES, 2, FB_SRC_PRESET);
	assert_tunable(dep(x, "f"), FB_T_RECOVERY_TIMEOUT, 60000, FB_SRC_BUILTIN);
	assert_tunable(dep(x, "s"), FB_T_TIMEOUT, 15000, FB_SRC_PRESET);
	assert_tunable(dep(x, "s"), FB_T_MAX_RETRIES, 3, FB_SRC_PRESET);
	assert_tunable(dep(x, "s"), FB_T_RECOVERY_TIMEOUT, 60000, FB_SRC_BUILTIN);
	assert_tunable(dep(x, "c"), FB_T_TIMEOUT, 30000, FB_SRC_PRESET);
	assert_tunable(dep(x, "c"), FB_T_MAX_RETRIES, 3, FB_SRC_PRESET);
	assert_tunable(dep(x, "c"), FB_T_RECOVERY_TIMEOUT, 90000, FB_SRC_PRESET);
	assert_string_equal(dep(x, "c")->preset, "complex");
}

/* A built-in preset may be restated but not changed: "fast" means one
 * thing on every host. User presets work like the built-ins. */
static void test_user_presets_and_builtins(void **state)
{
	cx *x = *state;
	assert_int_equal(load(x, "change-fast.ini",
	                      "[preset fast]\ntimeout = 7s\n", NULL, 0),
	                 -1);
	assert_refused_at(x, "change fast", 2, "preset 'fast' is built in");
	assert_int_equal(load(x, "add-to-fast.ini",
	                      "[preset fast]\nslow_call = 1s\n", NULL, 0),
	                 -1);
	assert_refused_at(x, "add to fast", 2, "preset 'fast' is built in");
	static const char text[] = "[defaults]\n"
	                           "timeout = 3s\n"
	                           "[preset fast]\n"
	                           "timeout = 5s\n"
	                           "[preset edge]\n"
	                           "slow_call = 250ms\n"
	                           "[dep f]\n"
	                           "url = http://f\n"
	                           "preset = fast\n"
	                           "[dep e]\n"
	                           "url = http://e\n"
	                           "preset = edge\n";
	must_load(x, "user-presets.ini", text, NULL, 0);
	assert_tunable(dep(x, "f"), FB_T_TIMEOUT, 5000, FB_SRC_PRESET);
	assert_tunable(dep(x, "e"), FB_T_SLOW_CALL, 250, FB_SRC_PRESET);
	assert_tunable(dep(x, "e"), FB_T_TIMEOUT, 3000, FB_SRC_DEFAULTS);
	/* a preset declared after the dependency that uses it still counts */
	must_load(x, "late-preset.ini",
	          "[dep f]\nurl = http://f\npreset = late\n[preset late]\n"
	          "timeout = 9s\n",
	          NULL, 0);
	assert_tunable(dep(x, "f"), FB_T_TIMEOUT, 9000, FB_SRC_PRESET);
}

/* ---- addresses ---------------------------------------------------------------- */

static void test_env_address_overrides(void **state)
{
	cx *x = *state;
	static const char text[] = "[dep svc]\n"
	                           "url = http://file-host:8000\n"
	                           "env_prefix = SVC\n";
	must_load(x, "addr0.ini", text, NULL, 0);
	const fb_dep_config *d = dep(x, "svc");
	assert_string_equal(d->url, "http://file-host:8000/health");
	assert_int_equal(d->url_source, FB_SRC_FILE);

	static const th_env_var url[] = {{"SVC_URL", "http://env-host:9000/ready"}};
	must_load(x, "addr1.ini", text, url, N(url));
	d = dep(x, "svc");
	assert_string_equal(d->host, "env-host");
	assert_int_equal(d->port, 9000);
	assert_string_equal(d->health_path, "/ready");
	assert_string_equal(d->url, "http://env-host:9000/ready");
	assert_int_equal(d->url_source, FB_SRC_ENV);

	static const th_env_var base[] = {{"SVC_BASE_URL", "https://base-host"}};
	must_load(x, "addr2.ini", text, base, N(base));
	d = dep(x, "svc");
	assert_string_equal(d->url, "https://base-host:443/health");
	assert_int_equal(d->url_source, FB_SRC_ENV);

	static const th_env_var both[] = {{"SVC_BASE_URL", "http://base-host:1"},
	                                  {"SVC_URL", "http://url-host:2"}};
	must_load(x, "addr3.ini", text, both, N(both));
	assert_string_equal(dep(x, "svc")->url, "http://url-host:2/health");

	static const th_env_var parts[] = {{"SVC_HOST", "h2"},
	                                   {"SVC_PORT", "8443"},
	                                   {"SVC_PROTOCOL", "https"}};
	must_load(x, "addr4.ini", text, parts, N(parts));
	d = dep(x, "svc");
	assert_string_equal(d->scheme, "https");
	assert_string_equal(d->host, "h2");
	assert_int_equal(d->port, 8443);
	assert_string_equal(d->url, "https://h2:8443/health");
	assert_int_equal(d->url_source, FB_SRC_ENV);

	static const th_env_var host[] = {{"SVC_HOST", "h3"}};
	must_load(x, "addr5.ini", text, host, N(host));
	assert_string_equal(dep(x, "svc")->url, "http://h3:8000/health");
	static const th_env_var port[] = {{"SVC_PORT", "81"}};
	must_load(x, "addr6.ini", text, port, N(port));
	assert_string_equal(dep(x, "svc")->url, "http://file-host:81/health");
}

/* The environment beats the [dep] section as a whole: an address given in
 * $P_URL is not patched with the host or port the file wrote. */
static void test_env_url_beats_file_host_and_port(void **state)
{
	cx *x = *state;
	static const char text[] = "[dep svc]\n"
	                           "host = file-host\n"
	                           "port = 8000\n"
	                           "env_prefix = SVC\n";
	must_load(x, "addr-parts.ini", text, NULL, 0);
	assert_string_equal(dep(x, "svc")->url, "http://file-host:8000/health");
	static const th_env_var url[] = {{"SVC_URL", "http://env-host:9000"}};
	must_load(x, "addr-parts.ini", text, url, N(url));
	const fb_dep_config *d = dep(x, "svc");
	assert_string_equal(d->host, "env-host");
	assert_int_equal(d->port, 9000);
	assert_string_equal(d->url, "http://env-host:9000/health");
}

static void test_host_port_protocol_keys(void **state)
{
	cx *x = *state;
	must_load(x, "hp.ini",
	          "[dep a]\nhost = a.internal\nport = 8080\n"
	          "[dep b]\nhost = b.internal\nprotocol = https\n"
	          "[dep c]\nhost = c.internal\nkind = redis\n"
	          "[dep d]\nhost = d.internal\nport = 5432\nkind = tcp\n",
	          NULL, 0);
	assert_string_equal(dep(x, "a")->url, "http://a.internal:8080/health");
	assert_int_equal(dep(x, "a")->kind, FB_KIND_HTTP);
	assert_string_equal(dep(x, "b")->url, "https://b.internal:443/health");
	assert_string_equal(dep(x, "c")->url, "redis://c.internal:6379/0");
	assert_int_equal(dep(x, "c")->kind, FB_KIND_REDIS);
	assert_string_equal(dep(x, "d")->url, "tcp://d.internal:5432");
	assert_int_equal(dep(x, "d")->kind, FB_KIND_TCP);
}

/* protocol is read in any case, and stored as the URL parser would
 * (found by fuzz_config: protocol = REDIS made an http dependency with
 * the scheme "REDIS"). */
static void test_protocol_in_capitals(void **state)
{
	cx *x = *state;
	must_load(x, "caps.ini",
	          "[dep r]\nhost = cache\nprotocol = REDIS\n"
	          "[dep h]\nhost = web\nprotocol = HTTPs\n",
	          NULL, 0);
	assert_int_equal(dep(x, "r")->kind, FB_KIND_REDIS);
	assert_string_equal(dep(x, "r")->scheme, "redis");
	assert_string_equal(dep(x, "r")->url, "redis://cache:6379/0");
	assert_int_equal(dep(x, "h")->kind, FB_KIND_HTTP);
	assert_string_equal(dep(x, "h")->url, "https://web:443/health");
}

static void test_kind_from_url_and_redis_db(void **state)
{
	cx *x = *state;
	static const struct {
		const char *url;
		fb_kind kind;
		const char *host;
		int port, db;
		const char *health, *norm;
	} cases[] = {
	    {"http://chroma:6003", FB_KIND_HTTP, "chroma", 6003, 0, "/health",
	     "http://chroma:6003/health"},
	    {"http://chroma", FB_KIND_HTTP, "chroma", 80, 0, "/health",
	     "http://chroma:80/health"},
	    {"http://chroma/", FB_KIND_HTTP, "chroma", 80, 0, "/health",
	     "http://chroma:80/health"},
	    {"http://chroma:81/status", FB_KIND_HTTP, "chroma", 81, 0, "/status",
	     "http://chroma:81/status"},
	    {"https://api", FB_KIND_HTTP, "api", 443, 0, "/health",
	     "https://api:443/health"},
	    {"redis://cache", FB_KIND_REDIS, "cache", 6379, 0, "",
	     "redis://cache:6379/0"},
	    {"redis://cache:6380/3", FB_KIND_REDIS, "cache", 6380, 3, "",
	     "redis://cache:6380/3"},
	    {"redis://:pw@cache/12", FB_KIND_REDIS, "cache", 6379, 12, "",
	     "redis://cache:6379/12"},
	    {"tcp://db:5432", FB_KIND_TCP, "db", 5432, 0, "", "tcp://db:5432"},
	};
	for (size_t i = 0; i < N(cases); i++) {
		char text[512];
		snprintf(text, sizeof text, "[dep x]\nurl = %s\n", cases[i].url);
		must_load(x, "kind.ini", text, NULL, 0);
		const fb_dep_config *d = dep(x, "x");
		if (d->kind != cases[i].kind)
			fail_msg("%s: kind %s", cases[i].url, fb_kind_name(d->kind));
		assert_string_equal(d->host, cases[i].host);
		assert_int_equal(d->port, cases[i].port);
		assert_int_equal(d->redis_db, cases[i].db);
		if (cases[i].kind == FB_KIND_HTTP)
			assert_string_equal(d->health_path, cases[i].health);
		assert_string_equal(d->url, cases[i].norm);
	}
	/* an explicit health_path wins over the URL path */
	must_load(x, "hp2.ini",
	          "[dep x]\nurl = http://h:80/api\nhealth_path = /ping\n", NULL, 0);
	assert_string_equal(dep(x, "x")->health_path, "/ping");
	assert_string_equal(dep(x, "x")->url, "http://h:80/ping");
	/* a matching kind is fine */
	must_load(x, "kind-ok.ini", "[dep x]\nkind = redis\nurl = redis://r\n",
	          NULL, 0);
	assert_int_equal(dep(x, "x")->kind, FB_KIND_REDIS);
}

static void test_durations_and_bare_numbers(void **state)
{
	cx *x = *state;
	static const char text[] = "[dep d]\n"
	                           "url = http://d\n"
	                           "timeout = 30\n"
	                           "recovery_timeout = 1.0\n"
	                           "interval = 250ms\n"
	                           "backoff_cap = 1h\n"
	                           "slow_call = 2m\n"
	                           "retry_delay = 1.5s\n"
	                           "jitter = 10%\n"
	                           "failure_rate = 50\n"
	                           "window = 40\n"
	                           "min_calls = 20\n"
	                           "half_open_probes = 3\n"
	                           "success_threshold = 2\n"
	                           "failure_threshold = 0\n";
	must_load(x, "dur.ini", text, NULL, 0);
	const fb_dep_config *d = dep(x, "d");
	assert_tunable(d, FB_T_TIMEOUT, 30000, FB_SRC_FILE);
	assert_tunable(d, FB_T_RECOVERY_TIMEOUT, 1000, FB_SRC_FILE);
	assert_tunable(d, FB_T_INTERVAL, 250, FB_SRC_FILE);
	assert_tunable(d, FB_T_BACKOFF_CAP, 3600000, FB_SRC_FILE);
	assert_tunable(d, FB_T_SLOW_CALL, 120000, FB_SRC_FILE);
	assert_tunable(d, FB_T_RETRY_DELAY, 1500, FB_SRC_FILE);
	assert_tunable(d, FB_T_JITTER, 100000, FB_SRC_FILE);
	assert_tunable(d, FB_T_FAILURE_RATE, 50, FB_SRC_FILE);
	assert_tunable(d, FB_T_FAILURE_THRESHOLD, 0, FB_SRC_FILE);
	fb_breaker_config bc;
	fb_dep_breaker_config(d, &bc);
	assert_int_equal(bc.failure_threshold, 0);
	assert_int_equal(bc.failure_rate, 50);
	assert_int_equal(bc.window, 40);
	assert_int_equal(bc.min_calls, 20);
	assert_int_equal(bc.recovery_timeout_ms, 1000);
	assert_int_equal(bc.backoff_cap_ms, 3600000);
	assert_true(bc.jitter > 0.0999999 && bc.jitter < 0.1000001);
	assert_int_equal(bc.half_open_probes, 3);
	assert_int_equal(bc.success_threshold, 2);
	assert_int_equal(bc.slow_call_ms, 120000);
}

/* startup_grace: off (0) unless set, taken from every layer, at most 1h. */
static void test_startup_grace_layers(void **state)
{
	cx *x = *state;
	static const char text[] = "[defaults]\n"
	                           "startup_grace = 20s\n"
	                           "[preset boot]\n"
	                           "startup_grace = 2m\n"
	                           "[dep a]\n"
	                           "url = http://a\n"
	                           "[dep b]\n"
	                           "url = http://b\n"
	                           "preset = boot\n"
	                           "[dep c]\n"
	                           "url = http://c\n"
	                           "preset = boot\n"
	                           "startup_grace = 0s\n";
	must_load(x, "grace.ini", text, NULL, 0);
	assert_tunable(dep(x, "a"), FB_T_STARTUP_GRACE, 20000, FB_SRC_DEFAULTS);
	assert_tunable(dep(x, "b"), FB_T_STARTUP_GRACE, 120000, FB_SRC_PRESET);
	assert_tunable(dep(x, "c"), FB_T_STARTUP_GRACE, 0, FB_SRC_FILE);
	must_load(x, "nograce.ini", "[dep d]\nurl = http://d\n", NULL, 0);
	assert_tunable(dep(x, "d"), FB_T_STARTUP_GRACE, 0, FB_SRC_BUILTIN);
	assert_int_equal(load(x, "long.ini",
	                      "[dep d]\nurl = http://d\nstartup_grace = 2h\n",
	                      NULL, 0),
	                 -1);
	assert_refused_at(x, "grace too long", 3, "startup_grace");
}

static void test_expect_status(void **state)
{
	cx *x = *state;
	must_load(x, "st.ini",
	          "[dep a]\nurl = http://a\n"
	          "[dep b]\nurl = http://b\nexpect_status = 2xx\n"
	          "[dep c]\nurl = http://c\nexpect_status = 204\n"
	          "[dep d]\nurl = http://d\nexpect_status = 200-399\n",
	          NULL, 0);
	assert_int_equal(dep(x, "a")->expect_lo, 200);
	assert_int_equal(dep(x, "a")->expect_hi, 299);
	assert_int_equal(dep(x, "b")->expect_lo, 200);
	assert_int_equal(dep(x, "b")->expect_hi, 299);
	assert_int_equal(dep(x, "c")->expect_lo, 204);
	assert_int_equal(dep(x, "c")->expect_hi, 204);
	assert_int_equal(dep(x, "d")->expect_lo, 200);
	assert_int_equal(dep(x, "d")->expect_hi, 399);
}

static void test_spec_example_loads(void **state)
{
	cx *x = *state;
	static const char text[] =
	    "\xEF\xBB\xBF[fusebox]\r\n"
	    "log = fusebox-events.jsonl        ; the event log\r\n"
	    "theme = default                   ; a file in themes/\r\n"
	    "host = web-1\r\n"
	    "gate_override_ttl = 5m\r\n"
	    "\r\n"
	    "[defaults]                        ; applies to every dependency\r\n"
	    "interval = 5s\r\n"
	    "failure_threshold = 5             ; consecutive failures\r\n"
	    "# a hash comment\r\n"
	    "[preset fast]\r\n"
	    "timeout = 5s\r\n"
	    "max_retries = 2\r\n"
	    "\r\n"
	    "[dep chroma]\r\n"
	    "kind = http                       ; http | redis | tcp\r\n"
	    "url = http://chroma:6003\r\n"
	    "health_path = /health\r\n"
	    "expect_status = 200-299\r\n"
	    "critical = true\r\n"
	    "preset = slow\r\n"
	    "env_prefix = CHROMA\r\n"
	    "\r\n"
	    "[dep redis-main]\r\n"
	    "url = redis://127.0.0.1:6379/0\r\n"
	    "critical = yes\r\n"
	    "\r\n"
	    "[redis]\r\n"
	    "url = redis://127.0.0.1:6379/0\r\n"
	    "prefix = fusebox\r\n";
	must_load(x, "example.ini", text, NULL, 0);
	assert_int_equal(x->cfg.ndeps, 2);
	const fb_dep_config *c = dep(x, "chroma");
	assert_int_equal(c->line, 15);
	assert_true(c->critical);
	assert_string_equal(c->url, "http://chroma:6003/health");
	assert_string_equal(c->env_prefix, "CHROMA");
	assert_tunable(c, FB_T_TIMEOUT, 15000, FB_SRC_PRESET);
	assert_tunable(c, FB_T_FAILURE_THRESHOLD, 5, FB_SRC_DEFAULTS);
	const fb_dep_config *r = dep(x, "redis-main");
	assert_int_equal(r->line, 24);
	assert_int_equal(r->kind, FB_KIND_REDIS);
	assert_true(r->critical);
	assert_string_equal(x->cfg.host, "web-1");
	assert_string_equal(x->cfg.theme, "default");
	assert_int_equal(x->cfg.gate_override_ttl_ms, 5 * FB_MS_M);
	assert_true(x->cfg.redis.enabled);
	assert_string_equal(x->cfg.redis.url, "redis://127.0.0.1:6379/0");
	assert_string_equal(x->cfg.redis.prefix, "fusebox");
	/* a relative log path is relative to the config file's folder */
	char want[1100];
	snprintf(want, sizeof want, "%s/fusebox-events.jsonl", dir);
	assert_string_equal(x->cfg.log, want);
	assert_string_equal(x->cfg.path, x->path);
}

static void test_empty_file_loads(void **state)
{
	cx *x = *state;
	must_load(x, "empty.ini", "", NULL, 0);
	assert_int_equal(x->cfg.ndeps, 0);
	must_load(x, "comments.ini", "; nothing\n# here\n\n", NULL, 0);
	assert_int_equal(x->cfg.ndeps, 0);
}

/* ---- tables and helpers ---------------------------------------------------------- */

static void test_tunable_format(void **state)
{
	(void)state;
	static const struct {
		fb_tunable t;
		int64_t v;
		const char *want;
	} cases[] = {
	    {FB_T_TIMEOUT, 250, "250ms"},      {FB_T_TIMEOUT, 5000, "5s"},
	    {FB_T_TIMEOUT, 120000, "2m"},      {FB_T_TIMEOUT, 3600000, "1h"},
	    {FB_T_TIMEOUT, 1500, "1500ms"},    {FB_T_TIMEOUT, 0, "0ms"},
	    {FB_T_RETRY_DELAY, 90000, "90s"},  {FB_T_JITTER, 200000, "0.2"},
	    {FB_T_JITTER, 0, "0"},             {FB_T_FAILURE_RATE, 50, "50%"},
	    {FB_T_MAX_RETRIES, 3, "3"},
	    /* never an exponent, which the parser refuses (found by
	     * fuzz_parse: jitter = 0.000001 was written back as 1e-06) */
	    {FB_T_JITTER, 1, "0.000001"},      {FB_T_JITTER, 12, "0.000012"},
	    {FB_T_JITTER, 123457, "0.123457"}, {FB_T_JITTER, 1000000, "1"},
	};
	for (size_t i = 0; i < N(cases); i++) {
		char buf[32];
		int64_t back;
		const char *why;
		fb_tunable_format(cases[i].t, cases[i].v, buf, sizeof buf);
		assert_string_equal(buf, cases[i].want);
		if (cases[i].t != FB_T_JITTER)
			continue; /* the others include values out of range */
		assert_int_equal(fb_tunable_parse(cases[i].t, buf, &back, &why), 0);
		assert_int_equal(back, cases[i].v);
	}
	assert_string_equal(fb_tunable_key(FB_T_FAILURE_THRESHOLD),
	                    "failure_threshold");
	assert_int_equal(fb_tunable_type(FB_T_JITTER), FB_VT_FRACTION);
	assert_string_equal(fb_source_name(FB_SRC_ENV), "environment");
	assert_string_equal(fb_source_name(FB_SRC_BUILTIN), "built-in");
	assert_string_equal(fb_source_name(FB_SRC_COUNT), "?");
}

static void test_locate_explicit(void **state)
{
	cx *x = *state;
	char path[1024], out[1024];
	th_write_file(dir, "explicit.ini", "[fusebox]\n", path, sizeof path);
	memset(out, 0, sizeof out);
	assert_int_equal(fb_config_locate(path, out, sizeof out, &x->err), 0);
	assert_string_equal(out, path);
}

/* ---- check-config through the real program ----------------------------------- */

static int run_check_config(const char *file, char *err, size_t len)
{
	char errpath[1024], cmd[4096];
	snprintf(errpath, sizeof errpath, "%s/check-config.stderr", dir);
	snprintf(cmd, sizeof cmd,
	         "build/tests/fusebox check-config '%s' >/dev/null 2>'%s'", file,
	         errpath);
	int rc = system(cmd);
	assert_true(WIFEXITED(rc));
	assert_true(th_read_file(errpath, err, len) >= 0);
	return WEXITSTATUS(rc);
}

static void test_check_config_binary(void **state)
{
	cx *x = *state;
	char path[1024], err[4096], prefix[1100];
	static const struct {
		const char *text;
		int line;
	} bad[] = {
	    {"[fusebox]\nlog = x.jsonl\n[bogus]\n", 3},
	    {"[dep a]\nurl = http://a\npreset = turbo\n", 3},
	    {"[dep a]\nurl = http://a\n[dep a]\n", 3},
	    {"[defaults]\ntimeout = 5x\n", 2},
	};
	for (size_t i = 0; i < N(bad); i++) {
		th_write_file(dir, "cli-bad.ini", bad[i].text, path, sizeof path);
		int rc = run_check_config(path, err, sizeof err);
		if (rc != 78)
			fail_msg("case %zu: exit %d, stderr '%s'", i, rc, err);
		snprintf(prefix, sizeof prefix, "fusebox: %s:%d: ", path, bad[i].line);
		if (strncmp(err, prefix, strlen(prefix)) != 0)
			fail_msg("case %zu: stderr '%s' does not start with '%s'", i, err,
			         prefix);
		/* exactly one line */
		char *nl = strchr(err, '\n');
		assert_non_null(nl);
		assert_int_equal(nl[1], '\0');
	}
	th_write_file(dir, "cli-good.ini",
	              "[fusebox]\nlog = x.jsonl\n[dep chroma]\n"
	              "url = http://chroma:6003\ncritical = true\n",
	              path, sizeof path);
	int rc = run_check_config(path, err, sizeof err);
	if (rc != 0)
		fail_msg("good file: exit %d, stderr '%s'", rc, err);
	assert_string_equal(err, "");
	(void)x;
}

int main(void)
{
#define C(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    C(test_bad_configs_name_the_line),
	    C(test_env_prefix_letters_digits_underscore),
	    C(test_first_bad_line_is_named),
	    C(test_redis_without_url_names_its_line),
	    C(test_long_line_refused_not_cut),
	    C(test_password_file_permissions),
	    C(test_missing_file),
	    C(test_env_errors_name_the_variable),
	    C(test_env_ignored_without_prefix),
	    C(test_precedence_env_dep_preset_defaults_builtin),
	    C(test_builtin_defaults),
	    C(test_env_tunables),
	    C(test_builtin_presets),
	    C(test_user_presets_and_builtins),
	    C(test_env_address_overrides),
	    C(test_env_url_beats_file_host_and_port),
	    C(test_host_port_protocol_keys),
	    C(test_protocol_in_capitals),
	    C(test_kind_from_url_and_redis_db),
	    C(test_durations_and_bare_numbers),
	    C(test_startup_grace_layers),
	    C(test_expect_status),
	    C(test_spec_example_loads),
	    C(test_empty_file_loads),
	    C(test_tunable_format),
	    C(test_locate_explicit),
	    C(test_check_config_binary),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
