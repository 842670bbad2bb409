/* Theme files: [roles] name = FG BG [ATTR...]. */
#include <curses.h>
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "console/theme.h"
#include "inireader.h"

#ifndef FB_DATADIR
#define FB_DATADIR "/usr/local/share/fusebox"
#endif

#define X_NAME(id, name, help) name,
static const char *const role_names[] = {FB_ROLE_TABLE(X_NAME)};
#undef X_NAME

static const char *const colour_names[] = {
    "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"};

static const struct {
	const char *name;
	int attr;
} attr_names[] = {{"bold", A_BOLD},
                  {"reverse", A_REVERSE},
                  {"dim", A_DIM},
                  {"underline", A_UNDERLINE},
                  {"standout", A_STANDOUT}};

typedef struct load_ctx {
	fb_theme *t;
	fb_error *err;
	const char *path;
	int line;
	bool failed;
	fb_ini_reader reader;
} load_ctx;

static int parse_colour(const char *s, short *out)
{
	if (strcasecmp(s, "default") == 0) {
		*out = -1;
		return 0;
	}
	for (short i = 0; i < 8; i++) {
		if (strcasecmp(s, colour_names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < 0 || v > 255)
		return -1;
	*out = (short)v;
	return 0;
}

static int parse_attr(const char *s, int *attrs)
{
	for (size_t i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++) {
		if (strcasecmp(s, attr_names[i].name) == 0) {
			*attrs |= attr_names[i].attr;
			return 0;
		}
	}
	return -1;
}

static int fail(load_ctx *c, const char *what, const char *value)
{
	if (!c->failed)
		snprintf(c->err->text, sizeof c->err->text, "%s:%d: %s '%s'",
		         c->path, c->line, what, value);
	c->failed = true;
	return 0;
}

/* "fg bg attr..." into a style: words separated by spaces or commas. */
static int parse_style(load_ctx *c, const char *value, fb_style *st)
{
	static const char sep[] = " ,\t";
	char tok[32];
	int n = 0;
	*st = (fb_style){-1, -1, 0};
	for (const char *s = value + strspn(value, sep); *s;
	     s += strspn(s, sep), n++) {
		size_t len = strcspn(s, sep);
		snprintf(tok, sizeof tok, "%.*s", (int)len, s);
		s += len;
		if (n == 0 && parse_colour(tok, &st->fg) == 0)
			continue;
		if (n == 1 && parse_colour(tok, &st->bg) == 0)
			continue;
		if (parse_attr(tok, &st->attrs) != 0)
			return fail(
			    c, n < 2 ? "unknown colour" : "unknown attribute",
			    tok);
	}
	return 1;
}

static int on_key(void *user, const char *section, const char *name,
                  const char *value)
{
	load_ctx *c = user;
	c->line = c->reader.line;
	if (strcmp(section, "theme") == 0) {
		bool colour = strcasecmp(value, "mono") != 0;
		if (strcmp(name, "colour") != 0 && strcmp(name, "color") != 0)
			return fail(c, "unknown key", name);
		c->t->colour = colour;
		return 1;
	}
	if (strcmp(section, "roles") != 0)
		return fail(c, "unknown section", section);
	for (int i = 0; i < FB_ROLE_COUNT; i++) {
		if (strcmp(role_names[i], name) == 0)
			return parse_style(c, value, &c->t->role[i]);
	}
	return fail(c, "unknown role", name);
}

/* The folders themes are looked for in, most local first. */
static int theme_dirs(char dirs[][512], int max)
{
	char exe[PATH_MAX];
	int n = 0;
	const char *env = getenv("FUSEBOX_THEMES");
	if (env && env[0] && n < max)
		snprintf(dirs[n++], 512, "%s", env);
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len > 0 && n + 1 < max) {
		exe[len] = '\0';
		char *dir = dirname(exe);
		snprintf(dirs[n++], 512, "%.*s/themes", 400, dir);
		snprintf(dirs[n++], 512, "%.*s/../../themes", 400, dir);
	}
	if (n < max)
		snprintf(dirs[n++], 512, "%s/themes", FB_DATADIR);
	return n;
}

static bool name_ok(const char *name)
{
	return name[0] && strlen(name) < 64 && !strchr(name, '/') &&
	       name[0] != '.';
}

int fb_theme_load(const char *name, fb_theme *out, fb_error *err)
{
	char dirs[4][512], path[600];
	FILE *fp = NULL;
	if (!name_ok(name)) {
		snprintf(err->text, sizeof err->text, "bad theme name '%s'",
		         name);
		return -1;
	}
	int n = theme_dirs(dirs, 4);
	for (int i = 0; i < n && !fp; i++) {
		snprintf(path, sizeof path, "%.511s/%.63s.ini", dirs[i], name);
		fp = fopen(path, "r");
	}
	if (!fp) {
		snprintf(
		    err->text, sizeof err->text,
		    "theme '%.60s' not found (looked in %.400s and %.400s)",
		    name, dirs[0], dirs[n - 1]);
		return -1;
	}
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", name);
	out->colour = true;
	for (int i = 0; i < FB_ROLE_COUNT; i++)
		out->role[i] = (fb_style){-1, -1, 0};
	load_ctx c = {out, err, path, 0, false, {.fp = fp}};
	int rc = ini_parse_stream(fb_ini_read_line, &c.reader, on_key, &c);
	fclose(fp);
	fb_ini_reader_free(&c.reader);
	if (c.reader.failed && !c.failed)
		snprintf(err->text, sizeof err->text, "%s:%d: %s", path,
		         c.reader.line, c.reader.error);
	else if (!c.failed && rc > 0)
		snprintf(err->text, sizeof err->text,
		         "%s:%d: expected 'role = colours'", path, rc);
	return (c.reader.failed || c.failed || rc != 0) ? -1 : 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void fb_theme_names(void (*fn)(void *ctx, const char *name), void *ctx)
{
	char dirs[4][512], *names[256];
	size_t n = 0;
	int ndirs = theme_dirs(dirs, 4);
	for (int i = 0; i < ndirs; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL && n < 256) {
			size_t len = strlen(e->d_name);
			if (len <= 4 ||
			    strcmp(e->d_name + len - 4, ".ini") != 0 ||
			    !(names[n] = strndup(e->d_name, len - 4)))
				continue;
			if (name_ok(names[n]))
				n++;
			else
				free(names[n]);
		}
		if (d)
			closedir(d);
	}
	qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
			fn(ctx, names[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
}

void fb_theme_apply(const fb_theme *t, bool colour_ok, int attrs[FB_ROLE_COUNT])
{
	bool colour = colour_ok && t->colour;
	for (int i = 0; i < FB_ROLE_COUNT; i++) {
		const fb_style *st = &t->role[i];
		attrs[i] = st->attrs;
		if (!colour || (st->fg < 0 && st->bg < 0))
			continue;
		short fg = st->fg < COLORS ? st->fg : (short)(st->fg % 8);
		short bg = st->bg < COLORS ? st->bg : (short)(st->bg % 8);
		init_pair((short)(i + 1), fg, bg);
		attrs[i] |= COLOR_PAIR(i + 1);
	}
}
