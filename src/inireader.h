/* A line reader for inih's ini_parse_stream() that counts lines and
 * refuses what Debian's inih would silently mangle: lines longer than its
 * 200-byte buffer, and NUL bytes. Shared by the config and theme loaders,
 * which get each whole line first through `inspect`. */
#ifndef FB_INIREADER_H
#define FB_INIREADER_H

#include <stdbool.h>
#include <stdio.h>

typedef struct fb_ini_reader {
	FILE *fp;
	int line; /* of the line last read */
	char *buf;
	size_t cap;
	char error[160]; /* set (with `failed`) when a line is refused */
	bool failed;
	/* Optional: sees each line (len bytes, newline stripped) before inih
	 * does; returning false stops the parse. */
	bool (*inspect)(void *ctx, const char *line, size_t len);
	void *ctx;
} fb_ini_reader;

/* The ini_reader callback: pass an fb_ini_reader as the stream. */
char *fb_ini_read_line(char *str, int num, void *stream);

void fb_ini_reader_free(fb_ini_reader *r);

#endif
