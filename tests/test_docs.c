/* The docs cannot drift from the code. Every command and option of the
 * command table (src/cli.h), every config key and tunable (with its
 * default and range), environment override, variable the code reads,
 * console key, theme role, state, gate mode, exit code and public
 * function must be in the right man page, as the code's own tables name
 * them; every option the pages list must still exist; the pages must pass
 * groff and mandoc without a word; and `fusebox COMMAND --help` must show
 * every option of its table. Runs from the top folder, like every suite. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "config_impl.h"
#include "console/console.h"
#include "console/theme.h"
#include "fusebox/config.h"
#include "fusebox/event.h"
#include "fusebox/gate.h"
#include "fusebox/state.h"
#include "helpers.h"

#define MAN1 "src/man/fusebox.1"
#define MAN5 "src/man/fusebox.conf.5"
#define MAN3 "src/man/libfusebox.3"

static char fusebox_bin[PATH_MAX], fixture_bin[PATH_MAX];

/* ---- reading roff ------------------------------------------------------ */

static char *load(const char *path)
{
	char *text = th_slurp(path, NULL);
	if (!text)
		fail_msg(
		    "%s cannot be read (run the suite from the top folder)",
		    path);
	return text;
}

/* s as roff source writes it: every '-' as "\-". */
static const char *roff(const char *s)
{
	static char buf[4][256];
	static int turn;
	char *out = buf[turn++ % 4];
	size_t n = 0;
	for (; *s && n + 3 < sizeof buf[0]; s++) {
		if (*s == '-')
			out[n++] = '\\';
		out[n++] = *s;
	}
	out[n] = '\0';
	return out;
}

/* The text under `.SH TITLE` or `.SS TITLE` (the title may be quoted) up to
 * the next heading of the same or a higher level. NULL when the page has
 * no such heading; the caller frees. */
static char *section(const char *text, const char *macro, const char *title)
{
	bool sub = strcmp(macro, ".SS") == 0;
	size_t tlen = strlen(title);
	const char *start = NULL;
	for (const char *p = text; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (start && (strncmp(p, ".SH", 3) == 0 ||
		              (sub && strncmp(p, ".SS", 3) == 0)))
			return strndup(start, (size_t)(p - start));
		if (!start && len > 4 && strncmp(p, macro, 3) == 0 &&
		    p[3] == ' ') {
			const char *t = p + 4;
			size_t n = len - 4;
			if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
				t++;
				n -= 2;
			}
			if (n == tlen && strncmp(t, title, n) == 0)
				start = eol ? eol + 1 : p + len;
		}
		p = eol ? eol + 1 : NULL;
	}
	return start ? strdup(start) : NULL;
}

static char *must_section(const char *text, const char *page, const char *macro,
                          const char *title)
{
	char *s = section(text, macro, title);
	if (!s)
		fail_msg("%s has no heading '%s %s'", page, macro, title);
	return s;
}

/* Each item tag of a section (the line after .TP or .TQ) in turn: returns
 * false after the last. *cursor starts at the section's text. */
static bool next_tag(const char **cursor, char *tag, size_t len)
{
	const char *p = *cursor;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		bool item = eol && (strncmp(p, ".TP\n", 4) == 0 ||
		                    strncmp(p, ".TQ\n", 4) == 0);
		p = eol ? eol + 1 : NULL;
		if (item && p && *p) {
			const char *end = strchr(p, '\n');
			size_t n = end ? (size_t)(end - p) : strlen(p);
			snprintf(tag, len, "%.*s", (int)n, p);
			*cursor = end ? end + 1 : p + n;
			return true;
		}
	}
	*cursor = p;
	return false;
}

static bool has_tag(const char *sec, const char *want)
{
	char tag[512];
	for (const char *c = sec; next_tag(&c, tag, sizeof tag);) {
		if (strcmp(tag, want) == 0)
			return true;
	}
	return false;
}

/* The body of the item whose tag is `want`: up to the next item,
 * paragraph or heading. NULL when there is none; the caller frees. */
static char *item_body(const char *sec, const char *want)
{
	char tag[512];
	for (const char *c = sec; next_tag(&c, tag, sizeof tag);) {
		if (strcmp(tag, want) != 0)
			continue;
		const char *end = c;
		while (*end && strncmp(end, ".TP\n", 4) != 0 &&
		       strncmp(end, ".TQ\n", 4) != 0 &&
		       strncmp(end, ".PP\n", 4) != 0 &&
		       strncmp(end, ".SH", 3) != 0 &&
		       strncmp(end, ".SS", 3) != 0) {
			const char *eol = strchr(end, '\n');
			end = eol ? eol + 1 : end + strlen(end);
		}
		return strndup(c, (size_t)(end - c));
	}
	return NULL;
}

/* The man page's tag of an option: "\fB\-k\fR, \fB\-\-kind\fR \fIKIND\fR",
 * or "\fB\-\-deps\fR" for a long-only flag. */
static void option_tag(const fb_option_doc *o, char *buf, size_t len)
{
	char arg[128] = "";
	if (o->arg[0])
		snprintf(arg, sizeof arg, " \\fI%s\\fR", roff(o->arg));
	if (o->key < 128)
		snprintf(buf, len, "\\fB\\-%c\\fR, \\fB\\-\\-%s\\fR%s", o->key,
		         roff(o->name), arg);
	else
		snprintf(buf, len, "\\fB\\-\\-%s\\fR%s", roff(o->name), arg);
}

static bool is_help(const fb_option_doc *o)
{
	return strcmp(o->name, "help") == 0;
}

/* ---- fusebox(1): commands and their options ----------------------------- */

static char *command_section(const char *man1, const fb_command *cmd)
{
	char title[128];
	snprintf(title, sizeof title, "fusebox %s", roff(cmd->name));
	return must_section(man1, MAN1, ".SS", title);
}

static void test_every_option_is_documented_under_its_command(void **state)
{
	(void)state;
	char *man1 = load(MAN1);
	char tag[512];
	for (size_t i = 0; i < fb_ncommands; i++) {
		const fb_command *cmd = &fb_commands[i];
		char *sec = command_section(man1, cmd);
		for (const fb_option_doc *o = cmd->opts; o->name; o++) {
			if (is_help(o))
				continue; /* documented once, under OPTIONS */
			option_tag(o, tag, sizeof tag);
			if (!has_tag(sec, tag))
				fail_msg(
				    "%s: section 'fusebox %s' does not "
				    "document "
				    "--%s: expected a .TP item tagged\n  %s",
				    MAN1, cmd->name, o->name, tag);
		}
		free(sec);
	}
	free(man1);
}

/* An option the page lists that the command no longer takes. */
static void test_every_documented_option_exists(void **state)
{
	(void)state;
	char *man1 = load(MAN1);
	char tag[512], want[512];
	for (size_t i = 0; i < fb_ncommands; i++) {
		const fb_command *cmd = &fb_commands[i];
		char *sec = command_section(man1, cmd);
		for (const char *c = sec; next_tag(&c, tag, sizeof tag);) {
			bool known = strncmp(tag, "\\fB\\-", 5) != 0;
			for (const fb_option_doc *o = cmd->opts;
			     o->name && !known; o++) {
				option_tag(o, want, sizeof want);
				known = strcmp(tag, want) == 0;
			}
			if (!known)
				fail_msg(
				    "%s: section 'fusebox %s' documents %s, "
				    "which is not in its option table",
				    MAN1, cmd->name, tag);
		}
		free(sec);
	}
	free(man1);
}

static void test_top_level_options_are_documented(void **state)
{
	(void)state;
	char *man1 = load(MAN1);
	char *sec = must_section(man1, MAN1, ".SH", "OPTIONS");
	char help[512];
	option_tag(&fb_commands[0].opts[0], help, sizeof help);
	for (const fb_option_doc *o = fb_commands[0].opts; o->name; o++) {
		if (is_help(o))
			option_tag(o, help, sizeof help);
	}
	assert_true(has_tag(sec, help));
	assert_true(has_tag(sec, "\\fB\\-\\-version\\fR"));
	assert_true(has_tag(sec, "\\fB\\-\\-complete\\fR \\fIWORD\\fR..."));
	free(sec);
	free(man1);
}

static void test_synopsis_names_every_command(void **state)
{
	(void)state;
	char *man1 = load(MAN1);
	char *sec = must_section(man1, MAN1, ".SH", "SYNOPSIS");
	char line[128];
	for (size_t i = 1; i < fb_ncommands; i++) {
		snprintf(line, sizeof line, "\n.B fusebox %s\n",
		         roff(fb_commands[i].name));
		if (!strstr(sec, line))
			fail_msg("%s: the SYNOPSIS has no line '.B fusebox %s'",
			         MAN1, roff(fb_commands[i].name));
	}
	assert_non_null(strstr(sec, ".RB [ console ]"));
	free(sec);
	free(man1);
}

/* ---- fusebox COMMAND --help ---------------------------------------------- */

/* "-k, --kind KIND" or "    --deps", as --help starts an option's line. */
static void help_label(const fb_option_doc *o, char *buf, size_t len)
{
	if (o->key < 128)
		snprintf(buf, len, "  -%c, --%s%s%s", o->key, o->name,
		         o->arg[0] ? " " : "", o->arg);
	else
		snprintf(buf, len, "      --%s%s%s", o->name,
		         o->arg[0] ? " " : "", o->arg);
}

static void check_lines_fit(const char *what, const char *text)
{
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		if (n > 80)
			fail_msg("%s: a line of %zu columns: %.*s", what, n,
			         (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static void check_command_help(const fb_command *cmd, const char *flag)
{
	char *argv[] = {fusebox_bin, (char *)cmd->name, (char *)flag, NULL};
	char label[256], what[128];
	th_result r;
	snprintf(what, sizeof what, "fusebox %s %s", cmd->name, flag);
	th_run(argv, 10000, &r);
	if (r.code != 0 || r.out_len == 0 || r.err_len != 0)
		fail_msg("%s: exit %d, %zu bytes out, stderr: %s", what, r.code,
		         r.out_len, r.err);
	for (const fb_option_doc *o = cmd->opts; o->name; o++) {
		help_label(o, label, sizeof label);
		const char *at = strstr(r.out, label);
		const char *eol = at ? strchr(at, '\n') : NULL;
		const char *help = at ? strstr(at, o->help) : NULL;
		if (!at || !help || (eol && help > eol))
			fail_msg("%s does not show the line\n%s  %s\nit "
			         "printed:\n%s",
			         what, label, o->help, r.out);
	}
	check_lines_fit(what, r.out);
	th_result_free(&r);
}

static void test_command_help_shows_every_option(void **state)
{
	(void)state;
	for (size_t i = 0; i < fb_ncommands; i++) {
		check_command_help(&fb_commands[i], "--help");
		check_command_help(&fb_commands[i], "-h");
	}
}

static void test_top_level_help_lists_every_command(void **state)
{
	(void)state;
	char *argv[] = {fusebox_bin, "--help", NULL};
	char line[256];
	th_result r;
	assert_int_equal(th_run(argv, 10000, &r), 0);
	for (size_t i = 0; i < fb_ncommands; i++) {
		snprintf(line, sizeof line, "\n  %-14s %s\n",
		         fb_commands[i].name, fb_commands[i].help);
		if (!strstr(r.out, line))
			fail_msg("fusebox --help does not list %s:\n%s",
			         fb_commands[i].name, r.out);
	}
	assert_non_null(strstr(r.out, "fusebox COMMAND --help"));
	check_lines_fit("fusebox --help", r.out);
	th_result_free(&r);
}

/* --help as the argument of an option is that argument, not a request. */
static void test_help_as_an_option_argument_is_not_help(void **state)
{
	(void)state;
	char *argv[] = {fusebox_bin, "trip", "--reason", "--help", NULL};
	th_result r;
	assert_int_equal(th_run(argv, 10000, &r), FB_EXIT_USAGE);
	assert_int_equal(r.out_len, 0);
	assert_non_null(strstr(r.err, "usage: fusebox trip"));
	th_result_free(&r);
}

/* ---- fusebox.conf(5): keys, tunables, presets, overrides ---------------- */

static const char *type_word(fb_value_type t)
{
	switch (t) {
	case FB_VT_DURATION: return "duration";
	case FB_VT_COUNT: return "count";
	case FB_VT_PERCENT: return "percent";
	case FB_VT_FRACTION: return "fraction";
	}
	return "?";
}

/* The tunables' table, as rows the test can walk. */
#define X_ROW(id, key, type, def, lo, hi, help) {FB_T_##id, def, lo, hi},
static const struct {
	fb_tunable t;
	int64_t def, lo, hi;
} tunables[] = {FB_TUNABLE_TABLE(X_ROW)};
#undef X_ROW

static void
test_every_tunable_is_documented_with_default_and_range(void **state)
{
	(void)state;
	char *man5 = load(MAN5);
	char *sec = must_section(man5, MAN5, ".SS", "Tunables");
	char def[32], lo[32], hi[32], tag[512];
	for (size_t i = 0; i < sizeof tunables / sizeof tunables[0]; i++) {
		fb_tunable t = tunables[i].t;
		fb_tunable_format(t, tunables[i].def, def, sizeof def);
		fb_tunable_format(t, tunables[i].lo, lo, sizeof lo);
		fb_tunable_format(t, tunables[i].hi, hi, sizeof hi);
		snprintf(
		    tag, sizeof tag,
		    "\\fB%s\\fR = \\fI%s\\fR (default \\fB%s\\fR, %s to %s)",
		    fb_tunable_key(t), type_word(fb_tunable_type(t)), def, lo,
		    hi);
		if (!has_tag(sec, tag))
			fail_msg(
			    "%s: 'Tunables' does not document %s as the table "
			    "has it: expected a .TP item tagged\n  %s",
			    MAN5, fb_tunable_key(t), tag);
	}
	/* and nothing else */
	int n = 0;
	for (const char *c = sec; next_tag(&c, tag, sizeof tag);)
		n++;
	assert_int_equal(n, (int)(sizeof tunables / sizeof tunables[0]));
	free(sec);
	free(man5);
}

/* A default, written as the docs show it, reads back as the same value. */
static void test_documented_values_read_back(void **state)
{
	(void)state;
	char text[32];
	const char *why;
	int64_t v;
	for (size_t i = 0; i < sizeof tunables / sizeof tunables[0]; i++) {
		int64_t values[] = {tunables[i].def, tunables[i].lo,
		                    tunables[i].hi};
		for (size_t k = 0; k < 3; k++) {
			fb_tunable_format(tunables[i].t, values[k], text,
			                  sizeof text);
			if (fb_tunable_parse(tunables[i].t, text, &v, &why) !=
			        0 ||
			    v != values[k])
				fail_msg("%s = %s does not read back: %s",
				         fb_tunable_key(tunables[i].t), text,
				         why ? why : "another value");
		}
	}
}

/* Each key of the table has an item in `title` whose tag starts with the
 * key in bold, and each such item names a key of the table. */
static void check_keys(const char *man5, const char *title,
                       const char *const *keys, int nkeys)
{
	char *sec = must_section(man5, MAN5, ".SS", title);
	char tag[512], want[160];
	for (int i = 0; i < nkeys; i++) {
		snprintf(want, sizeof want, "\\fB%s\\fR", roff(keys[i]));
		bool found = false;
		for (const char *c = sec;
		     !found && next_tag(&c, tag, sizeof tag);)
			found = strncmp(tag, want, strlen(want)) == 0 &&
			        (tag[strlen(want)] == '\0' ||
			         tag[strlen(want)] == ' ');
		if (!found)
			fail_msg(
			    "%s: section '%s' does not document the key %s: "
			    "expected a .TP item tagged\n  %s = ...",
			    MAN5, title, keys[i], want);
	}
	for (const char *c = sec; next_tag(&c, tag, sizeof tag);) {
		char key[128];
		if (sscanf(tag, "\\fB%127[a-z_]\\fR", key) != 1)
			fail_msg("%s: section '%s': an item that is no key: %s",
			         MAN5, title, tag);
		bool known = false;
		for (int i = 0; i < nkeys && !known; i++)
			known = strcmp(keys[i], key) == 0;
		if (!known)
			fail_msg(
			    "%s: section '%s' documents '%s', which the parser "
			    "does not accept",
			    MAN5, title, key);
	}
	free(sec);
}

static void test_every_section_key_is_documented(void **state)
{
	(void)state;
	char *man5 = load(MAN5);
	check_keys(man5, "[fusebox]", fb_fusebox_keys, FB_FK_COUNT);
	check_keys(man5, "[dep NAME]", fb_dep_keys, FB_DK_COUNT);
	check_keys(man5, "[redis]", fb_redis_keys, FB_RK_COUNT);
	free(man5);
}

/* The parser knows every key of the tables (whatever it thinks of the
 * value "?") in its own section, and refuses others as unknown. */
static void check_accepted(const char *dir, const char *head, const char *key,
                           bool known)
{
	char path[512], text[512];
	fb_config cfg;
	fb_error err;
	snprintf(text, sizeof text,
	         "[dep x]\nurl = http://127.0.0.1:1/\n%s\n%s = ?\n", head, key);
	th_write_file(dir, "k.ini", text, path, sizeof path);
	if (fb_config_load(path, &cfg, &err, th_getenv) == 0) {
		fb_config_free(&cfg);
		err.text[0] = '\0';
	}
	if (known != !strstr(err.text, "unknown key"))
		fail_msg("%s %s: %s", head, key,
		         known ? err.text : "accepted, but it is in no table");
}

static void test_documented_keys_are_what_the_parser_accepts(void **state)
{
	(void)state;
	char dir[256];
	th_tempdir(dir, sizeof dir);
	th_env_use(NULL, 0);
	for (int i = 0; i < FB_FK_COUNT; i++)
		check_accepted(dir, "[fusebox]", fb_fusebox_keys[i], true);
	for (int i = 0; i < FB_DK_COUNT; i++)
		check_accepted(dir, "[dep y]", fb_dep_keys[i], true);
	for (int i = 0; i < FB_RK_COUNT; i++)
		check_accepted(dir, "[redis]", fb_redis_keys[i], true);
	check_accepted(dir, "[fusebox]", "no_such_key", false);
	check_accepted(dir, "[dep y]", "log", false);
	check_accepted(dir, "[redis]", "kind", false);
	th_rmtree(dir);
}

static void test_every_environment_override_is_documented(void **state)
{
	(void)state;
	char *man5 = load(MAN5);
	char *sec = must_section(man5, MAN5, ".SH", "ENVIRONMENT");
	char tag[256];
	const char *s;
	int n = 0;
	for (size_t i = 0; (s = fb_env_override_suffix(i)) != NULL; i++, n++) {
		snprintf(tag, sizeof tag, ".IB P _%s", s);
		if (!has_tag(sec, tag))
			fail_msg(
			    "%s: ENVIRONMENT does not document P_%s: expected "
			    "a .TP item tagged\n  %s",
			    MAN5, s, tag);
	}
	int items = 0;
	for (const char *c = sec; next_tag(&c, tag, sizeof tag);)
		items++;
	assert_int_equal(items, n);
	free(sec);
	free(man5);
}

/* What a built-in preset sets, as its item says: "\fBtimeout\fR 5s". */
static void check_preset(const char *sec, const char *dir, const char *name)
{
	char path[512], text[256], tag[64], want[128], value[32];
	fb_config cfg;
	fb_error err;
	snprintf(text, sizeof text,
	         "[dep x]\nurl = http://127.0.0.1:1/\npreset = %.60s\n", name);
	th_write_file(dir, "p.ini", text, path, sizeof path);
	assert_int_equal(fb_config_load(path, &cfg, &err, th_getenv), 0);
	snprintf(tag, sizeof tag, ".B %.60s", name);
	char *body = item_body(sec, tag);
	if (!body)
		fail_msg("%s: BUILT-IN PRESETS has no item '%s'", MAN5, tag);
	int set = 0;
	for (int t = 0; t < FB_TUNABLE_COUNT; t++) {
		if (cfg.deps[0].source[t] != FB_SRC_PRESET)
			continue;
		set++;
		fb_tunable_format((fb_tunable)t, cfg.deps[0].t[t], value,
		                  sizeof value);
		snprintf(want, sizeof want, "\\fB%s\\fR %s",
		         fb_tunable_key((fb_tunable)t), value);
		if (!strstr(body, want))
			fail_msg("%s: preset %s sets %s %s, its item says: %s",
			         MAN5, name, fb_tunable_key((fb_tunable)t),
			         value, body);
	}
	int named = 0;
	for (const char *p = body; (p = strstr(p, "\\fB")); p += 3)
		named++;
	if (set == 0 || named != set)
		fail_msg("%s: preset %s sets %d tunables, its item names %d",
		         MAN5, name, set, named);
	free(body);
	fb_config_free(&cfg);
}

static void test_builtin_presets_are_documented(void **state)
{
	(void)state;
	char *man5 = load(MAN5);
	char *sec = must_section(man5, MAN5, ".SH", "BUILT-IN PRESETS");
	char dir[256], tag[256];
	th_tempdir(dir, sizeof dir);
	th_env_use(NULL, 0);
	/* every preset the page lists loads and sets what the page says */
	int n = 0;
	for (const char *c = sec; next_tag(&c, tag, sizeof tag); n++) {
		if (strncmp(tag, ".B ", 3) != 0)
			fail_msg("%s: BUILT-IN PRESETS: odd item %s", MAN5,
			         tag);
		check_preset(sec, dir, tag + 3);
	}
	assert_int_equal(n, 3);
	th_rmtree(dir);
	free(sec);
	free(man5);
}

/* The page's example configuration, as a file, loads. */
static void test_the_example_configuration_loads(void **state)
{
	(void)state;
	char *man5 = load(MAN5);
	char *sec = must_section(man5, MAN5, ".SH", "EXAMPLE");
	char *ex = strstr(sec, ".EX\n"), *ee = ex ? strstr(ex, ".EE\n") : NULL;
	assert_non_null(ee);
	char *text = calloc(1, (size_t)(ee - ex) + 1), *o = text;
	for (const char *p = ex + 4; p < ee; p++) {
		if (strncmp(p, "\\-", 2) == 0) {
			*o++ = '-';
			p++;
		} else if (strncmp(p, "\\e", 2) == 0) {
			*o++ = '\\';
			p++;
		} else if (*p == '\\') {
			fail_msg(
			    "%s: EXAMPLE: an escape the test cannot read: %.8s",
			    MAN5, p);
		} else {
			*o++ = *p;
		}
	}
	char dir[256], path[512];
	fb_config cfg;
	fb_error err;
	th_tempdir(dir, sizeof dir);
	th_write_file(dir, "example.ini", text, path, sizeof path);
	th_env_use(NULL, 0);
	if (fb_config_load(path, &cfg, &err, th_getenv) != 0)
		fail_msg("%s: the EXAMPLE does not load: %s", MAN5, err.text);
	assert_int_equal(cfg.ndeps, 3);
	fb_config_free(&cfg);
	th_rmtree(dir);
	free(text);
	free(sec);
	free(man5);
}

/* ---- fusebox(1): what the program reads and shows ------------------------ */

/* Every getenv("NAME") in src/ is an item of fusebox(1)'s ENVIRONMENT. */
static void test_every_variable_the_code_reads_is_documented(void **state)
{
	(void)state;
	char *argv[] = {"grep", "-rhoE", "getenv\\(\"[A-Z_]+\"\\)", "src",
	                NULL};
	char *man1 = load(MAN1);
	char *sec = must_section(man1, MAN1, ".SH", "ENVIRONMENT");
	char tag[128];
	th_result r;
	assert_int_equal(th_run(argv, 10000, &r), 0);
	int n = 0;
	for (char *p = r.out; (p = strstr(p, "getenv(\"")); n++) {
		p += 8;
		size_t len = strcspn(p, "\"");
		snprintf(tag, sizeof tag, ".B %.*s", (int)len, p);
		if (!has_tag(sec, tag))
			fail_msg(
			    "%s: ENVIRONMENT does not document %.*s, which "
			    "src/ reads: expected a .TP item tagged\n  %s",
			    MAN1, (int)len, p, tag);
	}
	assert_true(n >= 8);
	th_result_free(&r);
	free(sec);
	free(man1);
}

typedef struct key_check {
	const char *sec;
	int n;
} key_check;

static void check_key_row(void *ctx, const char *keys, const char *help)
{
	key_check *k = ctx;
	char tag[128];
	(void)help;
	snprintf(tag, sizeof tag, ".B %s", roff(keys));
	if (!has_tag(k->sec, tag))
		fail_msg(
		    "%s: CONSOLE KEYS does not document the key '%s' (%s): "
		    "expected a .TP item tagged\n  %s",
		    MAN1, keys, help, tag);
	k->n++;
}

static void test_every_console_key_is_documented(void **state)
{
	(void)state;
	char *man1 = load(MAN1);
	key_check k = {must_section(man1, MAN1, ".SH", "CONSOLE KEYS"), 0};
	con_key_help(check_key_row, &k);
	assert_true(k.n > 10);
	free((char *)k.sec);
	free(man1);
}

static void check_names(const char *page, const char *text, const char *macro,
                        const char *title, const char *const *names, int n)
{
	char *sec = must_section(text, page, macro, title);
	char tag[128];
	for (int i = 0; i < n; i++) {
		snprintf(tag, sizeof tag, ".B %s", roff(names[i]));
		if (!has_tag(sec, tag))
			fail_msg(
			    "%s: '%s' does not document %s: expected a .TP "
			    "item tagged\n  %s",
			    page, title, names[i], tag);
	}
	free(sec);
}

#define X_NAME(id, name, help) name,
static const char *const state_names[] = {FB_STATE_TABLE(X_NAME)};
static const char *const health_names[] = {FB_HEALTH_TABLE(X_NAME)};
static const char *const mode_names[] = {FB_GATE_MODE_TABLE(X_NAME)};
static const char *const role_names[] = {FB_ROLE_TABLE(X_NAME)};
#undef X_NAME
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void test_states_modes_and_roles_are_documented(void **state)
{
	(void)state;
	char *man1 = load(MAN1);
	check_names(MAN1, man1, ".SS", "States", state_names, N(state_names));
	check_names(MAN1, man1, ".SS", "States", health_names, N(health_names));
	check_names(MAN1, man1, ".SS", "The gate", mode_names, N(mode_names));
	check_names(MAN1, man1, ".SH", "THEMES", role_names, N(role_names));
	free(man1);
}

static void test_every_event_kind_is_documented(void **state)
{
	(void)state;
	char *man1 = load(MAN1);
	char *sec = command_section(man1, fb_cli_command("replay"));
	char *body = item_body(sec, "\\fB\\-k\\fR, \\fB\\-\\-kind\\fR "
	                            "\\fIKIND\\fR");
	char a[64], b[64];
	assert_non_null(body);
	for (int k = 0; k < FB_EV_COUNT; k++) {
		const char *name = fb_event_kind_name((fb_event_kind)k);
		snprintf(a, sizeof a, "\n.B %s\n", name);
		snprintf(b, sizeof b, "\n.BR %s ", name);
		if (!strstr(body, a) && !strstr(body, b))
			fail_msg("%s: replay --kind does not list the kind %s",
			         MAN1, name);
	}
	free(body);
	free(sec);
	free(man1);
}

static void test_every_exit_code_is_documented(void **state)
{
	(void)state;
	static const int codes[] = {
	    FB_EXIT_OK,          FB_EXIT_FAIL,     FB_EXIT_HTTP,
	    FB_EXIT_USAGE,       FB_EXIT_DATAERR,  FB_EXIT_NOINPUT,
	    FB_EXIT_UNAVAILABLE, FB_EXIT_TEMPFAIL, FB_EXIT_CONFIG};
	char *man1 = load(MAN1);
	char *sec = must_section(man1, MAN1, ".SH", "EXIT STATUS");
	char tag[32];
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		snprintf(tag, sizeof tag, ".B %d", codes[i]);
		if (!has_tag(sec, tag))
			fail_msg("%s: EXIT STATUS does not document %d", MAN1,
			         codes[i]);
	}
	free(sec);
	free(man1);
}

/* ---- libfusebox(3) ----------------------------------------------------- */

/* Every function declared in include/fusebox/ is in the SYNOPSIS (as a
 * prototype) and has an item in the DESCRIPTION. */
static void test_every_public_function_is_documented(void **state)
{
	(void)state;
	char *argv[] = {"grep",
	                "-hoE",
	                "^[a-z][^(]*\\bfb_[a-z0-9_]+\\(",
	                "include/fusebox/breaker.h",
	                "include/fusebox/calls.h",
	                "include/fusebox/client.h",
	                "include/fusebox/config.h",
	                "include/fusebox/engine.h",
	                "include/fusebox/event.h",
	                "include/fusebox/gate.h",
	                "include/fusebox/outcomes.h",
	                "include/fusebox/registry.h",
	                "include/fusebox/report.h",
	                "include/fusebox/sanitize.h",
	                "include/fusebox/state.h",
	                NULL};
	char *man3 = load(MAN3);
	char *syn = must_section(man3, MAN3, ".SH", "SYNOPSIS");
	char *desc = must_section(man3, MAN3, ".SH", "DESCRIPTION");
	char want[128], tag[128];
	th_result r;
	assert_int_equal(th_run(argv, 10000, &r), 0);
	int n = 0;
	for (char *line = strtok(r.out, "\n"); line;
	     line = strtok(NULL, "\n")) {
		if (strncmp(line, "typedef", 7) == 0)
			continue;
		char *name = strstr(line, "fb_");
		while (name && strstr(name + 3, "fb_"))
			name = strstr(name + 3, "fb_");
		name[strcspn(name, "(")] = '\0';
		snprintf(want, sizeof want, "%s(", name);
		snprintf(tag, sizeof tag, ".BR %s ()", name);
		if (!strstr(syn, want))
			fail_msg("%s: the SYNOPSIS has no prototype of %s",
			         MAN3, name);
		if (!has_tag(desc, tag))
			fail_msg(
			    "%s: DESCRIPTION has no item for %s: expected a "
			    ".TP item tagged\n  %s",
			    MAN3, name, tag);
		n++;
	}
	assert_true(n >= 60);
	th_result_free(&r);
	free(desc);
	free(syn);
	free(man3);
}

/* ---- the formatters ---------------------------------------------------- */

/* Runs a checker on every page; any output at all fails. A checker that
 * is not installed skips, saying so. */
static void lint_pages(const char *tool, char *const args[])
{
	static const char *const pages[] = {MAN1, MAN5, MAN3};
	for (size_t i = 0; i < 3; i++) {
		char *argv[12];
		size_t n = 0;
		for (; args[n]; n++)
			argv[n] = args[n];
		argv[n++] = (char *)pages[i];
		argv[n] = NULL;
		th_result r;
		int code = th_run(argv, 20000, &r);
		if (code == 127 && r.out_len == 0) {
			th_result_free(&r);
			print_message(
			    "# %s is not installed: the %s check of the "
			    "man pages is skipped\n",
			    tool, tool);
			skip();
		}
		if (code != 0 || r.out_len || r.err_len)
			fail_msg("%s on %s: exit %d\n%s%s", tool, pages[i],
			         code, r.out, r.err);
		th_result_free(&r);
	}
}

static void test_groff_has_nothing_to_say(void **state)
{
	(void)state;
	char *const args[] = {"groff", "-man", "-ww", "-z", "-t", NULL};
	lint_pages("groff", args);
}

static void test_mandoc_has_nothing_to_say(void **state)
{
	(void)state;
	/* -T lint reports every level, style included */
	char *const args[] = {"mandoc", "-T", "lint", NULL};
	lint_pages("mandoc", args);
}

static int group_setup(void **state)
{
	(void)state;
	return th_suite_bins(fusebox_bin, fixture_bin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_option_is_documented_under_its_command),
	    cmocka_unit_test(test_every_documented_option_exists),
	    cmocka_unit_test(test_top_level_options_are_documented),
	    cmocka_unit_test(test_synopsis_names_every_command),
	    cmocka_unit_test(test_command_help_shows_every_option),
	    cmocka_unit_test(test_top_level_help_lists_every_command),
	    cmocka_unit_test(test_help_as_an_option_argument_is_not_help),
	    cmocka_unit_test(
	        test_every_tunable_is_documented_with_default_and_range),
	    cmocka_unit_test(test_documented_values_read_back),
	    cmocka_unit_test(test_every_section_key_is_documented),
	    cmocka_unit_test(test_documented_keys_are_what_the_parser_accepts),
	    cmocka_unit_test(test_every_environment_override_is_documented),
	    cmocka_unit_test(test_builtin_presets_are_documented),
	    cmocka_unit_test(test_the_example_configuration_loads),
	    cmocka_unit_test(test_every_variable_the_code_reads_is_documented),
	    cmocka_unit_test(test_every_console_key_is_documented),
	    cmocka_unit_test(test_states_modes_and_roles_are_documented),
	    cmocka_unit_test(test_every_event_kind_is_documented),
	    cmocka_unit_test(test_every_exit_code_is_documented),
	    cmocka_unit_test(test_every_public_function_is_documented),
	    cmocka_unit_test(test_groff_has_nothing_to_say),
	    cmocka_unit_test(test_mandoc_has_nothing_to_say),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
