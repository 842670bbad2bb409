/* Shell completion (src/shell/). The bash function is sourced in a real
 * bash, with bash-completion's helpers and once without them, given
 * COMP_WORDS and COMP_CWORD as bash would, and must offer what the tables
 * hold: commands, options, the configuration's dependency names, themes,
 * event kinds, file names. It asks the program under test, which it finds
 * as COMP_WORDS[0]. The zsh function runs in zsh, when zsh is installed,
 * with compsys's compadd and _files standing in. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cli.h"
#include "fusebox/event.h"
#include "helpers.h"

#define BASH_COMPLETION "/usr/share/bash-completion/bash_completion"

static char fusebox_bin[PATH_MAX], fixture_bin[PATH_MAX];
static char bash_script[PATH_MAX], zsh_dir[PATH_MAX];
static char dir[256], config[512], other[512], driver[512], themes[512];

/* Sources the completion (after bash-completion when $1 is 1), calls the
 * function `complete -p fusebox` names with the words, prints COMPREPLY.
 * $2 is the folder to complete in. Exit 77: no bash-completion. */
static const char driver_text[] =
    "helpers=$1 cwd=$2; shift 2\n"
    "if [ \"$helpers\" = 1 ]; then\n"
    "  [ -r " BASH_COMPLETION " ] || exit 77\n"
    "  . " BASH_COMPLETION "\n"
    "fi\n"
    ". \"$FB_SCRIPT\"\n"
    "spec=$(complete -p fusebox) || exit 78\n"
    "fn=${spec#*-F }; fn=${fn%% *}\n"
    "cd \"$cwd\" || exit 79\n"
    "COMP_WORDS=(\"$@\"); COMP_CWORD=$(( $# - 1 ))\n"
    "COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()\n"
    "\"$fn\" fusebox \"${COMP_WORDS[COMP_CWORD]}\" "
    "\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
    "printf '%s\\n' \"${COMPREPLY[@]}\"\n";

/* Runs zsh with compadd and _files stubbed: prints what _fusebox offers
 * for the words given after the folder of _fusebox ($1). */
static const char zsh_text[] =
    "fpath=($1 $fpath); shift\n"
    "compadd() { shift ${@[(i)--]}; print -rl -- \"$@\"; }\n"
    "_files() { print -r -- '<files>'; }\n"
    "autoload -Uz _fusebox\n"
    "words=(\"$@\"); CURRENT=$#\n"
    "_fusebox\n";

static int group_setup(void **state)
{
	(void)state;
	char path[512];
	if (th_suite_bins(fusebox_bin, fixture_bin) != 0 ||
	    !realpath("src/shell/fusebox.bash", bash_script) ||
	    !realpath("src/shell", zsh_dir))
		return -1;
	th_tempdir(dir, sizeof dir);
	th_write_file(dir, "fusebox.ini",
	              "[dep alpha]\nurl = http://127.0.0.1:1/\n"
	              "[dep beta-db]\nurl = tcp://127.0.0.1:5432\n"
	              "[dep gamma]\nurl = redis://127.0.0.1:6379/0\n",
	              config, sizeof config);
	th_write_file(dir, "other.ini", "[dep omega]\nurl = tcp://10.0.0.1:1\n",
	              other, sizeof other);
	th_write_file(dir, "events.jsonl", "", path, sizeof path);
	th_write_file(dir, "driver.sh", driver_text, driver, sizeof driver);
	snprintf(themes, sizeof themes, "%s/themes", dir);
	if (mkdir(themes, 0700) != 0)
		return -1;
	th_write_file(themes, "zz-custom.ini", "", path, sizeof path);
	/* nothing from the machine's own configuration */
	setenv("XDG_CONFIG_HOME", dir, 1);
	setenv("FUSEBOX_CONFIG", config, 1);
	setenv("FB_SCRIPT", bash_script, 1);
	unsetenv("FUSEBOX_THEMES");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	th_rmtree(dir);
	return 0;
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of text, sorted and joined by single spaces, into out. */
static void sorted_words(char *text, char *out, size_t len)
{
	char *lines[256];
	size_t k = 0, n = 0;
	for (char *p = strtok(text, "\n"); p && k < 256; p = strtok(NULL, "\n"))
		lines[k++] = p;
	qsort(lines, k, sizeof *lines, by_text);
	out[0] = '\0';
	for (size_t i = 0; i < k && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%s", i ? " " : "",
		                      lines[i]);
}

/* What bash offers for the last of `words` (the words after fusebox),
 * sorted and joined by spaces. Skips the test when bash, or with helpers
 * bash-completion, is not installed. */
static void bash_offers(bool helpers, const char *cwd, const char *const *words,
                        char *out, size_t len)
{
	char *argv[32] = {
	    "bash",      "--norc",   "--noprofile", driver, helpers ? "1" : "0",
	    (char *)cwd, fusebox_bin};
	size_t n = 7;
	for (size_t i = 0; words[i] && n + 1 < 32; i++)
		argv[n++] = (char *)words[i];
	argv[n] = NULL;
	th_result r;
	int code = th_run(argv, 20000, &r);
	if (code == 77 || code == 127) {
		th_result_free(&r);
		print_message("# %s is not installed: skipped\n",
		              code == 77 ? BASH_COMPLETION : "bash");
		skip();
	}
	if (code != 0 || r.err_len)
		fail_msg("bash completion of '%s ...': exit %d: %s", words[0],
		         code, r.err);
	sorted_words(r.out, out, len);
	th_result_free(&r);
}

#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void expect(bool helpers, const char *const *words, const char *want)
{
	char got[4096];
	bash_offers(helpers, dir, words, got, sizeof got);
	if (strcmp(got, want) != 0)
		fail_msg("fusebox %s %s<TAB> (%s bash-completion): got '%s', "
		         "want '%s'",
		         words[0], words[1] ? words[1] : "",
		         helpers ? "with" : "without", got, want);
}

/* The words the tables give, sorted and joined like bash_offers(). */
static void command_names(char *out, size_t len)
{
	char text[1024];
	size_t n = 0;
	for (size_t i = 0; i < fb_ncommands; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "%s\n",
		                      fb_commands[i].name);
	sorted_words(text, out, len);
}

static void option_names(const char *command, char *out, size_t len)
{
	char text[1024];
	size_t n = 0;
	for (const fb_option_doc *o = fb_cli_command(command)->opts; o->name;
	     o++)
		n += (size_t)snprintf(text + n, sizeof text - n, "--%s\n",
		                      o->name);
	sorted_words(text, out, len);
}

static void kind_names(char *out, size_t len)
{
	char text[512];
	size_t n = 0;
	for (int k = 0; k < FB_EV_COUNT; k++)
		n += (size_t)snprintf(text + n, sizeof text - n, "%s\n",
		                      fb_event_kind_name((fb_event_kind)k));
	sorted_words(text, out, len);
}

static void check_commands(bool helpers)
{
	char want[1024];
	expect(helpers, WORDS("tr"), "trip");
	expect(helpers, WORDS("re"), "replay reset");
	command_names(want, sizeof want);
	expect(helpers, WORDS(""), want);
}

static void test_commands(void **state)
{
	(void)state;
	check_commands(true);
}

static void test_commands_without_bash_completion(void **state)
{
	(void)state;
	check_commands(false);
}

static void test_options_of_each_command(void **state)
{
	(void)state;
	char want[1024];
	expect(true, WORDS("replay", "--k"), "--kind");
	expect(true, WORDS("replay", "--m"), "--markdown");
	for (size_t i = 1; i < fb_ncommands; i++) {
		option_names(fb_commands[i].name, want, sizeof want);
		expect(true, WORDS(fb_commands[i].name, "--"), want);
	}
	/* no command yet: the console's options, and --version */
	expect(true, WORDS("--th"), "--theme");
	expect(true, WORDS("--vers"), "--version");
}

static void check_dependency_names(bool helpers)
{
	expect(helpers, WORDS("trip", ""), "alpha beta-db gamma");
	expect(helpers, WORDS("reset", "b"), "beta-db");
	expect(helpers, WORDS("disable", "--reason", "drill", "g"), "gamma");
	expect(helpers, WORDS("replay", "--dep", ""), "alpha beta-db gamma");
	expect(helpers, WORDS("call", "GET", "--dep", "al"), "alpha");
	/* the configuration the line names wins over $FUSEBOX_CONFIG */
	expect(helpers, WORDS("trip", "--config", other, ""), "omega");
	expect(helpers, WORDS("trip", "-c", other, ""), "omega");
	/* trip takes one dependency */
	expect(helpers, WORDS("trip", "alpha", ""), "");
}

static void test_dependency_names_from_the_configuration(void **state)
{
	(void)state;
	char word[600];
	check_dependency_names(true);
	snprintf(word, sizeof word, "--config=%s", other);
	expect(true, WORDS("trip", word, ""), "omega");
}

static void test_dependency_names_without_bash_completion(void **state)
{
	(void)state;
	check_dependency_names(false);
}

static void test_themes_kinds_and_gate_words(void **state)
{
	(void)state;
	char got[4096], want[512];
	/* the themes next to the program (build/tests/../../themes) */
	bash_offers(true, dir, WORDS("--theme", ""), got, sizeof got);
	if (!strstr(got, "colorblind default high-contrast mono"))
		fail_msg("fusebox --theme <TAB>: got '%s'", got);
	expect(true, WORDS("console", "--theme", "hi"), "high-contrast");
	/* and those of $FUSEBOX_THEMES */
	setenv("FUSEBOX_THEMES", themes, 1);
	expect(true, WORDS("-t", "zz"), "zz-custom");
	unsetenv("FUSEBOX_THEMES");
	kind_names(want, sizeof want);
	expect(true, WORDS("replay", "--kind", ""), want);
	expect(true, WORDS("replay", "-k", "tr"), "transition");
	expect(true, WORDS("gate", ""), "allow auto block check exec");
	expect(true, WORDS("gate", "--reason", "x", "b"), "block");
	/* free text: nothing to offer */
	expect(true, WORDS("trip", "--reason", ""), "");
}

static void test_file_names(void **state)
{
	(void)state;
	expect(true, WORDS("replay", "ev"), "events.jsonl");
	expect(true, WORDS("replay", "--json", "ev"), "events.jsonl");
	expect(true, WORDS("check-config", "oth"), "other.ini");
	expect(true, WORDS("run", "--config", "fuse"), "fusebox.ini");
	expect(false, WORDS("status", "-c", "oth"), "other.ini");
}

/* What zsh's _fusebox offers, sorted and joined by spaces. */
static void zsh_offers(const char *const *words, char *out, size_t len)
{
	char *argv[32] = {"zsh", "-f",    "-c",       (char *)zsh_text,
	                  "zsh", zsh_dir, fusebox_bin};
	size_t n = 7;
	for (size_t i = 0; words[i] && n + 1 < 32; i++)
		argv[n++] = (char *)words[i];
	argv[n] = NULL;
	th_result r;
	int code = th_run(argv, 20000, &r);
	if (code == 127) {
		th_result_free(&r);
		print_message("# zsh is not installed: the zsh completion is "
		              "not tried\n");
		skip();
	}
	if (code != 0 || r.err_len)
		fail_msg("zsh completion: exit %d: %s", code, r.err);
	sorted_words(r.out, out, len);
	th_result_free(&r);
}

static void test_zsh(void **state)
{
	(void)state;
	char got[4096];
	const struct {
		const char *const *words;
		const char *want;
	} cases[] = {
	    {WORDS("tr"), "trip"},
	    {WORDS("replay", "--k"), "--kind"},
	    {WORDS("trip", ""), "alpha beta-db gamma"},
	    {WORDS("gate", "b"), "block"},
	    {WORDS("replay", ""), "<files>"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		zsh_offers(cases[i].words, got, sizeof got);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg(
			    "zsh: fusebox %s ...<TAB>: got '%s', want '%s'",
			    cases[i].words[0], got, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_commands_without_bash_completion),
	    cmocka_unit_test(test_options_of_each_command),
	    cmocka_unit_test(test_dependency_names_from_the_configuration),
	    cmocka_unit_test(test_dependency_names_without_bash_completion),
	    cmocka_unit_test(test_themes_kinds_and_gate_words),
	    cmocka_unit_test(test_file_names),
	    cmocka_unit_test(test_zsh),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
