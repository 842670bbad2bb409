/* The program's own command line: help, version, usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helpers.h"

static int run(const char *args)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "build/tests/fusebox %s >/dev/null 2>&1", args);
	int rc = system(cmd);
	return WEXITSTATUS(rc);
}

static void test_help_and_version(void **state)
{
	(void)state;
	assert_int_equal(run("--help"), 0);
	assert_int_equal(run("--version"), 0);
}

static void test_usage_errors_exit_64(void **state)
{
	(void)state;
	assert_int_equal(run("no-such-command"), 64);
	assert_int_equal(run("check-config a b"), 64);
}

/* A usage error says what is wrong in one line, then the usage. */
static void test_usage_errors_say_what_is_wrong(void **state)
{
	(void)state;
	static const struct {
		const char *args[6], *first, *usage;
	} cases[] = {
	    {{"gate", "check", "--json"},
	     "fusebox: gate check: unknown option --json",
	     "fusebox: usage: fusebox gate "},
	    {{"gate", "--json", "block"},
	     "fusebox: gate block: unknown option --json",
	     "fusebox: usage: fusebox gate "},
	    {{"trip", "--bogus", "api"},
	     "fusebox: trip: unknown option --bogus",
	     "fusebox: usage: fusebox trip "},
	    {{"replay", "--kind", "bogus", "x.jsonl"},
	     "fusebox: replay: unknown event kind 'bogus' (known: start, stop, "
	     "transition, health, gate, operator, gap, outcomes, shadow)",
	     "fusebox: usage: fusebox replay "},
	    {{"replay", "x.jsonl", "--from"},
	     "fusebox: replay: option --from needs a value",
	     "fusebox: usage: fusebox replay "},
	    {{"replay", "--markdown", "x.jsonl"},
	     "fusebox: replay: --markdown is for --summary or --what-if",
	     "fusebox: usage: fusebox replay "},
	    {{"events", "--kind", "bogus"},
	     "fusebox: events: unknown option --kind",
	     "fusebox: usage: fusebox events "},
	    {{"events", "--lines", "many"},
	     "fusebox: events: bad --lines 'many': not a whole number (0 to "
	     "100000)",
	     "fusebox: usage: fusebox events "},
	    {{"status", "--json=yes"},
	     "fusebox: status: option --json takes no value",
	     "fusebox: usage: fusebox status "},
	    {{"check-config", "-q"}, "fusebox: check-config: unknown option -q",
	     "fusebox: usage: fusebox check-config "},
	    {{"run", "--frob"}, "fusebox: run: unknown option --frob",
	     "fusebox: usage: fusebox run "},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *argv[8] = {"build/tests/fusebox"};
		for (size_t k = 0; cases[i].args[k]; k++)
			argv[k + 1] = (char *)cases[i].args[k];
		th_result r;
		int code = th_run(argv, 20000, &r);
		char *nl = strchr(r.err, '\n');
		if (code != 64 || !nl ||
		    strncmp(r.err, cases[i].first, (size_t)(nl - r.err)) != 0 ||
		    strlen(cases[i].first) != (size_t)(nl - r.err) ||
		    strncmp(nl + 1, cases[i].usage, strlen(cases[i].usage)) != 0)
			fail_msg("fusebox %s %s: exit %d, said:\n%s\nexpected:\n%s\n%s...",
			         cases[i].args[0], cases[i].args[1], code, r.err,
			         cases[i].first, cases[i].usage);
		th_result_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_help_and_version),
	    cmocka_unit_test(test_usage_errors_exit_64),
	    cmocka_unit_test(test_usage_errors_say_what_is_wrong),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
