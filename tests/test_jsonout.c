/* The streaming JSON writer (src/jsonout.c): for any strings and numbers
 * -- quotes, backslashes, controls, UTF-8 and bad bytes, integers at and
 * past its plain range, fractions, infinities -- in nested objects and
 * arrays, it writes byte for byte what cJSON_PrintUnformatted() writes
 * for the same tree. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* after what it needs */
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "jsonout.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const strings[] = {
    "",
    "plain text",
    "quote \" in",
    "back\\slash",
    "tab\there",
    "nl\nand\r",
    "\x01\x1f",
    "del \x7f",
    "caf\xc3\xa9",
    "bad \xff\xfe",
    "/slash/",
    "\xe2\x80\xae",
    "{\"json\":1}",
    "2026-11-23T00:00:08.511Z",
};

static const double numbers[] = {0,
                                 -0.0,
                                 1,
                                 -1,
                                 7,
                                 2147483647.0,
                                 2147483648.0,
                                 -2147483648.0,
                                 -2147483649.0,
                                 999999999999999.0,
                                 -999999999999999.0,
                                 1e15,
                                 -1e15,
                                 9007199254740992.0,
                                 9007199254740993.0,
                                 1e300,
                                 0.5,
                                 1.0 / 3,
                                 -2.5e-7,
                                 164900759,
                                 1795392008511.0};

/* The same document both ways: an object of every string (as key and
 * as value), every number, bools, empty and nested containers. */
static void build(fb_jw *j, cJSON *o)
{
	char key[32];
	fb_jw_object(j, NULL);
	for (size_t i = 0; i < N(strings); i++) {
		fb_jw_string(j, strings[i], strings[(i + 3) % N(strings)]);
		cJSON_AddItemToObject(
		    o, strings[i],
		    cJSON_CreateString(strings[(i + 3) % N(strings)]));
	}
	fb_jw_array(j, "numbers");
	cJSON *a = cJSON_AddArrayToObject(o, "numbers");
	for (size_t i = 0; i < N(numbers); i++) {
		fb_jw_number(j, NULL, numbers[i]);
		cJSON_AddItemToArray(a, cJSON_CreateNumber(numbers[i]));
	}
	fb_jw_number(j, NULL, NAN);
	cJSON_AddItemToArray(a, cJSON_CreateNumber(NAN));
	fb_jw_number(j, NULL, -INFINITY);
	cJSON_AddItemToArray(a, cJSON_CreateNumber(-INFINITY));
	fb_jw_close(j, ']');
	for (size_t i = 0; i < N(numbers); i++) {
		snprintf(key, sizeof key, "n%zu", i);
		fb_jw_number(j, key, numbers[i]);
		cJSON_AddNumberToObject(o, key, numbers[i]);
	}
	fb_jw_bool(j, "yes", true);
	cJSON_AddBoolToObject(o, "yes", true);
	fb_jw_bool(j, "no", false);
	cJSON_AddBoolToObject(o, "no", false);
	fb_jw_array(j, "empty");
	fb_jw_close(j, ']');
	cJSON_AddArrayToObject(o, "empty");
	fb_jw_object(j, "none");
	fb_jw_close(j, '}');
	cJSON_AddObjectToObject(o, "none");
	fb_jw_array(j, "nested");
	cJSON *n = cJSON_AddArrayToObject(o, "nested");
	for (int k = 0; k < 3; k++) {
		fb_jw_object(j, NULL);
		cJSON *e = cJSON_CreateObject();
		fb_jw_string(j, "ts", strings[13]);
		cJSON_AddStringToObject(e, "ts", strings[13]);
		fb_jw_array(j, "list");
		cJSON *l = cJSON_AddArrayToObject(e, "list");
		for (int m = 0; m < k; m++) {
			fb_jw_string(j, NULL, strings[m + 1]);
			cJSON_AddItemToArray(
			    l, cJSON_CreateString(strings[m + 1]));
		}
		fb_jw_close(j, ']');
		fb_jw_close(j, '}');
		cJSON_AddItemToArray(n, e);
	}
	fb_jw_close(j, ']');
	fb_jw_close(j, '}');
}

static void test_writes_what_cjson_writes(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	fb_jw *j = malloc(sizeof *j);
	cJSON *o = cJSON_CreateObject();
	assert_true(out && j && o);
	fb_jw_start(j, out);
	build(j, o);
	assert_int_equal(fb_jw_end(j), 0);
	fclose(out);
	char *want = cJSON_PrintUnformatted(o);
	assert_non_null(want);
	size_t k = 0; /* where they part, to say so */
	while (k < len && text[k] == want[k])
		k++;
	if (k < len - 1 || want[k])
		print_message("at %zu: %.60s\ncJSON: %.60s\n", k, text + k,
		              want + k);
	assert_int_equal(len, strlen(want) + 1);
	assert_memory_equal(text, want, len - 1);
	assert_int_equal(text[len - 1], '\n');
	free(want);
	free(text);
	free(j);
	cJSON_Delete(o);
}

/* More than its buffer holds, with values longer than the buffer. */
static void test_long_documents(void **state)
{
	(void)state;
	char *text = NULL, *big = malloc(200000);
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	fb_jw *j = malloc(sizeof *j);
	cJSON *o = cJSON_CreateArray();
	assert_true(out && j && o && big);
	memset(big, 'x', 199999);
	big[199999] = '\0';
	big[1000] = '"'; /* this one printed by cJSON */
	fb_jw_start(j, out);
	fb_jw_array(j, NULL);
	for (int i = 0; i < 20000; i++) {
		fb_jw_number(j, NULL, i * 1000.0 + 1);
		cJSON_AddItemToArray(o, cJSON_CreateNumber(i * 1000.0 + 1));
		if (i % 5000 == 0) {
			fb_jw_string(j, NULL, big + (i / 5000) % 2 * 2000);
			cJSON_AddItemToArray(
			    o, cJSON_CreateString(big + (i / 5000) % 2 * 2000));
		}
	}
	fb_jw_close(j, ']');
	assert_int_equal(fb_jw_end(j), 0);
	fclose(out);
	char *want = cJSON_PrintUnformatted(o);
	assert_true(want && len == strlen(want) + 1);
	assert_memory_equal(text, want, len - 1);
	free(want);
	free(text);
	free(big);
	free(j);
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_writes_what_cjson_writes),
	    cmocka_unit_test(test_long_documents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
