/* Writing one big JSON document as it goes, byte for byte what
 * cJSON_PrintUnformatted() gives for the same tree, without building
 * the tree: for reports of millions of values (replay --what-if --json).
 * What is not plain (a string with a quote, a backslash, a control or a
 * non-ASCII byte; a number that is no integer under 10^15) is printed
 * by cJSON itself, so the two never differ. */
#ifndef FB_JSONOUT_H
#define FB_JSONOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FB_JW_DEPTH 16 /* containers open at once */

typedef struct fb_jw {
	FILE *out;
	char buf[64 * 1024]; /* written out when full and at the end */
	size_t n;
	bool more[FB_JW_DEPTH]; /* a value already in this container */
	int depth;
	bool failed; /* nesting too deep, or cJSON out of memory */
} fb_jw;

/* Starts a document on out. */
void fb_jw_start(fb_jw *j, FILE *out);
/* Each value goes in the open object under key, or in the open array
 * (or as the document) with key NULL. */
void fb_jw_object(fb_jw *j, const char *key);
void fb_jw_array(fb_jw *j, const char *key);
void fb_jw_close(fb_jw *j, char bracket); /* '}' or ']' */
void fb_jw_string(fb_jw *j, const char *key, const char *value);
void fb_jw_number(fb_jw *j, const char *key, double value);
void fb_jw_bool(fb_jw *j, const char *key, bool value);
/* Ends the document with a newline, as puts() after cJSON_Print*();
 * returns 0, or -1 when something could not be written. */
int fb_jw_end(fb_jw *j);

#endif
