/* Colour themes: a table of roles -> colours and attributes, read from
 * themes/NAME.ini. The monochrome theme uses only bold, reverse, dim and
 * underline; it is also what NO_COLOR and colourless terminals get. */
#ifndef FB_CONSOLE_THEME_H
#define FB_CONSOLE_THEME_H

#include <stdbool.h>

#include "fusebox/config.h"

#define FB_ROLE_TABLE(X)                                                       \
	X(NORMAL, "normal", "ordinary text")                                   \
	X(HEADER, "header", "the title bar")                                   \
	X(OK, "ok", "healthy, closed, gate allowed")                           \
	X(WARN, "warn", "degraded, half-open")                                 \
	X(BAD, "bad", "unhealthy, open, gate blocked")                         \
	X(FORCED, "forced", "operator-forced states")                          \
	X(SELECTED, "selected", "the row under the cursor")                    \
	X(DIM, "dim", "secondary text; health not known yet")                  \
	X(TITLE, "title", "column and pane titles")                            \
	X(HINT, "hint", "the key-hint bar")                                    \
	X(DIALOG, "dialog", "confirmations and menus")                         \
	X(BANNER, "banner", "the REPLAY and READ-ONLY banners")

#define FB_X_ROLE(id, name, help) FB_ROLE_##id,
typedef enum { FB_ROLE_TABLE(FB_X_ROLE) FB_ROLE_COUNT } fb_role;
#undef FB_X_ROLE

typedef struct fb_style {
	short fg, bg; /* curses colour numbers; -1 = terminal default */
	int attrs;    /* A_BOLD, A_REVERSE, ... */
} fb_style;

typedef struct fb_theme {
	char name[64];
	bool colour; /* false: attributes only */
	fb_style role[FB_ROLE_COUNT];
} fb_theme;

/* Loads <name>.ini from the first theme folder that has it ($FUSEBOX_THEMES,
 * $XDG_DATA_HOME/fusebox/themes, the program's install prefix or build
 * tree, $XDG_DATA_DIRS). Returns 0; 1 when no folder has it and *out is
 * the built-in copy of that theme (or of default), with *err saying so for
 * a warning; -1 with *err naming the file and line of a bad theme. */
int fb_theme_load(const char *name, fb_theme *out, fb_error *err);

/* The bundled themes compiled in (generated from the themes folder), ending
 * with {NULL, NULL}; the first is default. */
typedef struct fb_builtin_theme {
	const char *name, *text;
} fb_builtin_theme;
extern const fb_builtin_theme fb_builtin_themes[];

/* Calls fn once with each theme name found in the theme folders or built
 * in, in alphabetical order (for shell completion). */
void fb_theme_names(void (*fn)(void *ctx, const char *name), void *ctx);

/* Applies the theme to curses (after start_color()). Returns the attribute
 * to use for each role in attrs[]. */
void fb_theme_apply(const fb_theme *t, bool colour_ok,
                    int attrs[FB_ROLE_COUNT]);

#endif
