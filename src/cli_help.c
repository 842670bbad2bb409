/* The command table as data: each command's option rows become its
 * getopt_long() table, its --help text and its usage line. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define X_DOC(name, key, arg, comp, help)                                      \
	{name, key, arg, FB_COMP_##comp, help},
#define X_ARRAYS(name, args, opts, comp, help, fn)                             \
	static const fb_option_doc opts##_doc[] = {opts(X_DOC) FB_OPTS_HELP(   \
	    X_DOC){NULL, 0, NULL, FB_COMP_NONE, NULL}};                        \
	static const struct option opts##_getopt[] = {                         \
	    opts(FB_X_GETOPT) FB_OPTS_HELP(FB_X_GETOPT){0}};
FB_COMMAND_TABLE(X_ARRAYS)
#undef X_ARRAYS
#undef X_DOC

#define X_ROW(name, args, opts, comp, help, fn)                                \
	{name, args, help, fn, FB_COMP_##comp, opts##_doc, opts##_getopt},
const fb_command fb_commands[] = {FB_COMMAND_TABLE(X_ROW)};
#undef X_ROW
const size_t fb_ncommands = sizeof fb_commands / sizeof fb_commands[0];

const fb_command *fb_cli_command(const char *name)
{
	for (size_t i = 0; i < fb_ncommands; i++) {
		if (strcmp(fb_commands[i].name, name) == 0)
			return &fb_commands[i];
	}
	return NULL;
}

int fb_cli_getopt(int argc, char **argv, const struct option *opts)
{
	char shorts[128];
	size_t n = 0;
	for (const struct option *o = opts; o->name && n + 3 < sizeof shorts;
	     o++) {
		if (o->val <= 0 || o->val > 127 || !isalnum(o->val))
			continue;
		shorts[n++] = (char)o->val;
		if (o->has_arg == required_argument)
			shorts[n++] = ':';
	}
	shorts[n] = '\0';
	return getopt_long(argc, argv, shorts, opts, NULL);
}

bool fb_cli_wants_help(const fb_command *cmd, int argc, char **argv)
{
	char **copy = malloc(((size_t)argc + 1) * sizeof *copy);
	bool help = false;
	int c;
	if (!copy)
		return false;
	memcpy(copy, argv, ((size_t)argc + 1) * sizeof *copy);
	optind = 0;
	opterr = 0;
	while ((c = fb_cli_getopt(argc, copy, cmd->getopt_opts)) != -1)
		help = help || c == 'h';
	free(copy);
	optind = 0;
	opterr = 1;
	return help;
}

/* The name as the usage line shows it: the default command is optional. */
static const char *shown_name(const fb_command *cmd)
{
	return cmd == &fb_commands[0] ? "[console]" : cmd->name;
}

int fb_cli_usage_error(const char *name)
{
	const fb_command *cmd = fb_cli_command(name);
	char line[1024];
	size_t n = 0;
	if (!cmd)
		return FB_EXIT_USAGE;
	n += (size_t)snprintf(line, sizeof line, "usage: fusebox %s",
	                      shown_name(cmd));
	for (const fb_option_doc *o = cmd->opts; o->name && n < sizeof line;
	     o++) {
		if (strcmp(o->name, "help") != 0)
			n += (size_t)snprintf(line + n, sizeof line - n,
			                      " [--%s%s%s]", o->name,
			                      o->arg[0] ? " " : "", o->arg);
	}
	if (cmd->args[0] && n < sizeof line)
		snprintf(line + n, sizeof line - n, " %s", cmd->args);
	fb_cli_error("%s", line);
	return FB_EXIT_USAGE;
}

/* The row of `cmd` whose key is `key`, or NULL. */
static const struct option *option_of(const fb_command *cmd, int key)
{
	for (const struct option *o = cmd->getopt_opts; key && o->name; o++) {
		if (o->val == key)
			return o;
	}
	return NULL;
}

int fb_cli_option_error(const char *name, const char *what, int c, int argc,
                        char **argv)
{
	const fb_command *cmd = fb_cli_command(name);
	const struct option *o = cmd ? option_of(cmd, optopt) : NULL;
	const char *word = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	what = what ? what : name;
	if (c != '?' || !cmd)
		return fb_cli_usage_error(name);
	if (o && o->has_arg == required_argument)
		fb_cli_error("%s: option --%s needs a value", what, o->name);
	else if (o)
		fb_cli_error("%s: option --%s takes no value", what, o->name);
	else if (optopt)
		fb_cli_error("%s: unknown option -%c", what, optopt);
	else
		fb_cli_error("%s: unknown option %.*s", what,
		             (int)strcspn(word, "="), word);
	return fb_cli_usage_error(name);
}

/* "-c, --config FILE" or "    --deps". */
static void option_label(const fb_option_doc *o, char *buf, size_t len)
{
	if (o->key < 128)
		snprintf(buf, len, "-%c, --%s%s%s", o->key, o->name,
		         o->arg[0] ? " " : "", o->arg);
	else
		snprintf(buf, len, "    --%s%s%s", o->name,
		         o->arg[0] ? " " : "", o->arg);
}

void fb_cli_command_help(const fb_command *cmd, FILE *to)
{
	char label[64];
	int width = 0;
	for (const fb_option_doc *o = cmd->opts; o->name; o++) {
		option_label(o, label, sizeof label);
		if ((int)strlen(label) > width)
			width = (int)strlen(label);
	}
	fprintf(to, "usage: fusebox %s [OPTIONS]%s%s\n\n%c%s.\n\noptions:\n",
	        shown_name(cmd), cmd->args[0] ? " " : "", cmd->args,
	        toupper((unsigned char)cmd->help[0]), cmd->help + 1);
	for (const fb_option_doc *o = cmd->opts; o->name; o++) {
		option_label(o, label, sizeof label);
		fprintf(to, "  %-*s  %s\n", width, label, o->help);
	}
	fprintf(to, "\nSee fusebox(1) for the details.\n");
}

void fb_cli_usage(FILE *to)
{
	fprintf(to, "usage: fusebox [COMMAND] [OPTIONS]\n\n"
	            "A console and engine for dependency health: circuit "
	            "breakers,\nhealth probes and a gate for destructive "
	            "operations.\n\ncommands:\n");
	for (size_t i = 0; i < fb_ncommands; i++)
		fprintf(to, "  %-14s %s\n", fb_commands[i].name,
		        fb_commands[i].help);
	fprintf(to,
	        "\n  fusebox COMMAND --help   the command's arguments and "
	        "options\n"
	        "  fusebox --help           this text\n"
	        "  fusebox --version        the version\n"
	        "\nexit codes: 0 ok, 1 failed, 64 usage, 65 bad data, 66 no "
	        "input,\n69 no running instance, 75 gate blocked, 78 bad "
	        "config; see fusebox(1)\n");
}
