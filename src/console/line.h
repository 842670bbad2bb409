/* The one-line editor of the console's prompts (reason, filter): UTF-8
 * as typed, and the readline keys operators' hands know -- Left/Right,
 * Ctrl-B/F, Home/End, Ctrl-A/E, Backspace, Delete/Ctrl-D, Ctrl-U, Ctrl-K,
 * Ctrl-W. Text is edited whole characters at a time. */
#ifndef FB_CONSOLE_LINE_H
#define FB_CONSOLE_LINE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct con_line {
	char text[160];  /* NUL-terminated, UTF-8 */
	size_t len, pos; /* bytes; pos is where typing goes */
} con_line;

/* Empties the line (or starts it with `text`, the cursor at its end). */
void con_line_set(con_line *l, const char *text);

/* Applies one key from getch(): a byte of text, or an editing key.
 * Returns true when it was one (the line may be unchanged). */
bool con_line_key(con_line *l, int key);

#endif
