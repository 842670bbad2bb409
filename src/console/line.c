/* The prompts' line editor (see line.h). getch() hands UTF-8 over a byte
 * at a time; bytes of one character come together, so the cursor is
 * always between whole characters when a key moves it. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "console/line.h"

#define CTRL(k) ((k)&0x1f)

static bool continuation(char b)
{
	return ((unsigned char)b & 0xC0) == 0x80;
}

static size_t back_one(const con_line *l, size_t at)
{
	while (at > 0 && continuation(l->text[--at]))
		;
	return at;
}

static size_t forward_one(const con_line *l, size_t at)
{
	if (at < l->len)
		at++;
	while (at < l->len && continuation(l->text[at]))
		at++;
	return at;
}

/* Removes bytes [from, to). */
static void cut(con_line *l, size_t from, size_t to)
{
	memmove(l->text + from, l->text + to, l->len - to + 1);
	l->len -= to - from;
	if (l->pos > to)
		l->pos -= to - from;
	else if (l->pos > from)
		l->pos = from;
}

static bool insert(con_line *l, unsigned char b)
{
	if (l->len + 1 >= sizeof l->text)
		return true; /* full: the key is ours, the byte is dropped */
	memmove(l->text + l->pos + 1, l->text + l->pos, l->len - l->pos + 1);
	l->text[l->pos++] = (char)b;
	l->len++;
	return true;
}

void con_line_set(con_line *l, const char *text)
{
	snprintf(l->text, sizeof l->text, "%s", text ? text : "");
	l->len = strlen(l->text);
	l->pos = l->len;
}

/* Ctrl-W: back over spaces, then over the word before them. */
static void cut_word(con_line *l)
{
	size_t at = l->pos;
	while (at > 0 && l->text[at - 1] == ' ')
		at--;
	while (at > 0 && l->text[at - 1] != ' ')
		at--;
	cut(l, at, l->pos);
}

bool con_line_key(con_line *l, int key)
{
	switch (key) {
	case KEY_BACKSPACE:
	case 127:
	case CTRL('H'): cut(l, back_one(l, l->pos), l->pos); return true;
	case KEY_DC:
	case CTRL('D'): cut(l, l->pos, forward_one(l, l->pos)); return true;
	case KEY_LEFT:
	case CTRL('B'): l->pos = back_one(l, l->pos); return true;
	case KEY_RIGHT:
	case CTRL('F'): l->pos = forward_one(l, l->pos); return true;
	case KEY_HOME:
	case CTRL('A'): l->pos = 0; return true;
	case KEY_END:
	case CTRL('E'): l->pos = l->len; return true;
	case CTRL('U'): cut(l, 0, l->pos); return true;
	case CTRL('K'): cut(l, l->pos, l->len); return true;
	case CTRL('W'): cut_word(l); return true;
	default: break;
	}
	if ((key >= 32 && key < 127) || (key >= 128 && key < 256))
		return insert(l, (unsigned char)key);
	return false;
}
