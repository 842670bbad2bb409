/* The program's own command line: help, version, usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_help_and_version),
	    cmocka_unit_test(test_usage_errors_exit_64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
