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

#define MAX_DIRS 16
#define DIR_LEN  512

typedef struct theme_dirs {
	char dir[MAX_DIRS][DIR_LEN];
	int n;
} theme_dirs;

static void add_dir(theme_dirs *d, const char *fmt, const char *base)
{
	if (d->n < MAX_DIRS && base && base[0] &&
	    (size_t)snprintf(d->dir[d->n], DIR_LEN, fmt, base) < DIR_LEN)
		d->n++;
}

/* The folders themes are looked for in, most local first: FUSEBOX_THEMES;
 * the user's $XDG_DATA_HOME; the install prefix of this program (bin/ or
 * libexec/fusebox/) or its build tree; then $XDG_DATA_DIRS. */
static void find_dirs(theme_dirs *d)
{
	d->n = 0;
	add_dir(d, "%s", getenv("FUSEBOX_THEMES"));
	const char *data_home = getenv("XDG_DATA_HOME");
	if (data_home && data_home[0] == '/')
		add_dir(d, "%s/fusebox/themes", data_home);
	else
		add_dir(d, "%s/.local/share/fusebox/themes", getenv("HOME"));
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len > 0) {
		exe[len] = '\0';
		const char *dir = dirname(exe);
		add_dir(d, "%s/../share/fusebox/themes", dir);
		add_dir(d, "%s/../../share/fusebox/themes", dir);
		add_dir(d, "%s/themes", dir);
		add_dir(d, "%s/../../themes", dir);
	}
	const char *dirs = getenv("XDG_DATA_DIRS");
	if (!dirs || !dirs[0])
		dirs = "/usr/local/share:/usr/share";
	for (const char *p = dirs; *p;) {
		size_t n = strcspn(p, ":");
		char one[DIR_LEN];
		if (p[0] == '/' && n < sizeof one) {
			memcpy(one, p, n);
			one[n] = '\0';
			add_dir(d, "%s/fusebox/themes", one);
		}
		p += n + (p[n] == ':');
	}
}

static bool name_ok(const char *name)
{
	return name[0] && strlen(name) < 64 && !strchr(name, '/') &&
	       name[0] != '.';
}

/* Parses one theme from fp (named path in errors). */
static int parse_theme(FILE *fp, const char *path, const char *name,
                       fb_theme *out, fb_error *err)
{
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", name);
	out->colour = true;
	for (int i = 0; i < FB_ROLE_COUNT; i++)
		out->role[i] = (fb_style){-1, -1, 0};
	load_ctx c = {out, err, path, 0, false, {.fp = fp}};
	int rc = ini_parse_stream(fb_ini_read_line, &c.reader, on_key, &c);
	fb_ini_reader_free(&c.reader);
	if (c.reader.failed && !c.failed)
		snprintf(err->text, sizeof err->text, "%s:%d: %s", path,
		         c.reader.line, c.reader.error);
	else if (!c.failed && rc > 0)
		snprintf(err->text, sizeof err->text,
		         "%s:%d: expected 'role = colours'", path, rc);
	return (c.reader.failed || c.failed || rc != 0) ? -1 : 0;
}

/* The compiled-in copy of a bundled theme: `name` when it is one of them,
 * else default. */
static int load_builtin(const char *name, fb_theme *out, fb_error *err)
{
	const fb_builtin_theme *b = &fb_builtin_themes[0];
	for (const fb_builtin_theme *t = fb_builtin_themes; t->name; t++) {
		if (strcmp(t->name, name) == 0)
			b = t;
	}
	FILE *fp = fmemopen((void *)b->text, strlen(b->text), "r");
	if (!fp) {
		snprintf(err->text, sizeof err->text, "built-in theme: %s",
		         strerror(errno));
		return -1;
	}
	char path[80];
	snprintf(path, sizeof path, "(built-in %s)", b->name);
	int rc = parse_theme(fp, path, b->name, out, err);
	fclose(fp);
	return rc;
}

int fb_theme_load(const char *name, fb_theme *out, fb_error *err)
{
	char path[DIR_LEN + 80];
	FILE *fp = NULL;
	if (!name_ok(name)) {
		snprintf(err->text, sizeof err->text, "bad theme name '%.60s'",
		         name);
		return -1;
	}
	theme_dirs d;
	find_dirs(&d);
	for (int i = 0; i < d.n && !fp; i++) {
		snprintf(path, sizeof path, "%s/%s.ini", d.dir[i], name);
		fp = fopen(path, "r");
	}
	if (fp) {
		int rc = parse_theme(fp, path, name, out, err);
		fclose(fp);
		return rc;
	}
	if (load_builtin(name, out, err) != 0)
		return -1;
	snprintf(err->text, sizeof err->text,
	         "theme '%.60s' not found in %.300s or %d other folders; using "
	         "the built-in %s theme",
	         name, d.n ? d.dir[0] : "(none)", d.n ? d.n - 1 : 0, out->name);
	return 1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void fb_theme_names(void (*fn)(void *ctx, const char *name), void *ctx)
{
	char *names[256];
	size_t n = 0;
	theme_dirs dirs;
	find_dirs(&dirs);
	for (const fb_builtin_theme *t = fb_builtin_themes; t->name && n < 256;
	     t++) {
		if ((names[n] = strdup(t->name)))
			n++;
	}
	for (int i = 0; i < dirs.n; i++) {
		DIR *d = opendir(dirs.dir[i]);
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
