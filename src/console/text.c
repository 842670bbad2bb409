/* Putting text on the screen by column width, not bytes: wide characters
 * take two columns, combining ones none, and a string is never cut in the
 * middle of a character. */
#include <curses.h>
#include <string.h>
#include <time.h>
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
	/* clipped to the window: a write past the edge would wrap onto the
	 * next line (or, from a failed move, land where the last one ended)
	 * and stay there until that cell is written again */
	if (y < 0 || y >= LINES || x < 0 || x >= COLS)
		return 0;
	if (width > COLS - x)
		width = COLS - x;
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

void con_prompt(fb_console *c, int y, int x, int width, fb_role role,
                const con_line *l)
{
	char before[sizeof l->text];
	const char *from = l->text;
	if (width <= 1)
		return;
	/* drop characters from the left until the cursor fits */
	for (;;) {
		size_t n = (size_t)(l->text + l->pos - from);
		memcpy(before, from, n);
		before[n] = '\0';
		if (con_width(before) < width || !*from)
			break;
		from += con_fit(from, 1) ? con_fit(from, 1) : 1;
	}
	con_put(c, y, x, width, role, from);
	c->cursor_y = y;
	c->cursor_x = x + con_width(before);
}

void con_show_cursor(fb_console *c)
{
	if (c->cursor_y >= 0 && c->cursor_y < LINES && c->cursor_x < COLS) {
		curs_set(1);
		move(c->cursor_y, c->cursor_x);
	} else {
		curs_set(0);
	}
}

void con_time(const fb_console *c, int64_t wall_ms, const char *fmt, char *buf,
              size_t len)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	char f[64];
	size_t n = 0;
	/* gmtime's zone reads "GMT": say UTC, as the log and the CLI do */
	for (const char *p = fmt; *p && n + 4 < sizeof f; p++) {
		if (c->utc && p[0] == '%' && p[1] == 'Z') {
			memcpy(f + n, "UTC", 3);
			n += 3;
			p++;
		} else {
			f[n++] = *p;
		}
	}
	f[n] = '\0';
	if (c->utc)
		gmtime_r(&t, &tm);
	else
		localtime_r(&t, &tm);
	if (strftime(buf, len, f, &tm) == 0 && len)
		buf[0] = '\0';
}
