/* Putting text on the screen by column width, not bytes: wide characters
 * take two columns, combining ones none, and a string is never cut in the
 * middle of a character. */
#include <curses.h>
#include <string.h>
#include <wchar.h>

#include "console/console.h"

/* Columns of the next character and its byte length; 0 bytes at the end
 * or on bad input (which the sanitiser should have removed). */
static size_t next_char(const char *s, size_t n, mbstate_t *st, int *cols)
{
	wchar_t wc;
	size_t len = mbrtowc(&wc, s, n, st);
	if (len == 0 || len == (size_t)-1 || len == (size_t)-2) {
		memset(st, 0, sizeof *st);
		return 0;
	}
	int w = wcwidth(wc);
	*cols = w < 0 ? 1 : w;
	return len;
}

int con_width(const char *text)
{
	mbstate_t st = {0};
	size_t n = strlen(text), off = 0, len;
	int cols = 0, w;
	while (off < n && (len = next_char(text + off, n - off, &st, &w))) {
		cols += w;
		off += len;
	}
	return cols;
}

size_t con_fit(const char *text, int width)
{
	mbstate_t st = {0};
	size_t n = strlen(text), off = 0, len;
	int used = 0, w;
	while (off < n && (len = next_char(text + off, n - off, &st, &w))) {
		if (used + w > width)
			break;
		used += w;
		off += len;
	}
	return off;
}

int con_put_wrapped(fb_console *c, int y, int x, int width, int max_lines,
                    fb_role role, const char *text)
{
	char line[1024];
	int lines = 0;
	while (*text && lines < max_lines) {
		size_t take = con_fit(text, width);
		if (take == 0 || take >= sizeof line)
			break;
		memcpy(line, text, take);
		line[take] = '\0';
		con_put(c, y + lines++, x, width, role, line);
		text += take;
	}
	return lines;
}

int con_put(fb_console *c, int y, int x, int width, fb_role role,
            const char *text)
{
	mbstate_t st = {0};
	size_t n = strlen(text), off = 0, len;
	int used = 0, w;
	if (width <= 0)
		return 0;
	attrset(c->attr[role]);
	move(y, x);
	while (off < n && (len = next_char(text + off, n - off, &st, &w))) {
		if (used + w > width)
			break;
		addnstr(text + off, (int)len);
		used += w;
		off += len;
	}
	attrset(c->attr[FB_ROLE_NORMAL]);
	return used;
}
