/* `fusebox --complete WORD...`: what a shell may offer for the last word,
 * from the same tables that write --help, so completion cannot drift from
 * the options the commands parse.
 *
 * The words are the command line after "fusebox"; the last one is the word
 * being completed (empty for a fresh one). The first line printed is
 * "files" (the shell completes file names itself) or "words", followed by
 * the candidates that start with the last word, one a line. Never fails
 * loudly: a configuration that cannot be read just offers no names. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "console/theme.h"
#include "fusebox/event.h"

static void offer(void *prefix, const char *word)
{
	if (strncmp(word, prefix, strlen(prefix)) == 0)
		printf("%s\n", word);
}

/* The option of cmd that `word` is ("--config" or "-c"), or NULL. */
static const fb_option_doc *option_named(const fb_command *cmd,
                                         const char *word)
{
	if (word[0] != '-')
		return NULL;
	for (const fb_option_doc *o = cmd->opts; o->name; o++) {
		if (word[1] == '-' && strcmp(word + 2, o->name) == 0)
			return o;
		if (o->key < 128 && word[1] == o->key && word[2] == '\0')
			return o;
	}
	return NULL;
}

/* The names in the configuration the line names with --config FILE or
 * --config=FILE (before the last word), else in the one the lookup order
 * finds. */
static void offer_deps(const fb_command *cmd, int n, char **words, char *prefix)
{
	const char *explicit_path = NULL;
	char path[1024];
	fb_error err;
	fb_config cfg;
	for (int i = 0; i + 1 < n; i++) {
		const fb_option_doc *o = option_named(cmd, words[i]);
		if (o && strcmp(o->name, "config") == 0 && i + 2 < n)
			explicit_path = words[i + 1];
		else if (strncmp(words[i], "--config=", 9) == 0)
			explicit_path = words[i] + 9;
	}
	if (fb_config_locate(explicit_path, path, sizeof path, &err) != 0 ||
	    fb_config_load(path, &cfg, &err, NULL) != 0)
		return;
	for (size_t i = 0; i < cfg.ndeps; i++)
		offer(prefix, cfg.deps[i].name);
	fb_config_free(&cfg);
}

/* The words of an `args` like "check|block|allow|auto". */
static void offer_args(const char *args, char *prefix)
{
	char word[64];
	for (const char *p = args; *p;) {
		size_t len = strcspn(p, "|");
		if (len < sizeof word) {
			memcpy(word, p, len);
			word[len] = '\0';
			offer(prefix, word);
		}
		p += len + (p[len] == '|');
	}
}

static int offer_for(fb_complete what, const fb_command *cmd, int n,
                     char **words)
{
	char *cur = words[n - 1];
	puts(what == FB_COMP_FILE ? "files" : "words");
	switch (what) {
	case FB_COMP_NONE:
	case FB_COMP_FILE: break;
	case FB_COMP_DEP: offer_deps(cmd, n, words, cur); break;
	case FB_COMP_THEME: fb_theme_names(offer, cur); break;
	case FB_COMP_KIND:
		for (int k = 0; k < FB_EV_COUNT; k++)
			offer(cur, fb_event_kind_name((fb_event_kind)k));
		break;
	case FB_COMP_WORDS: offer_args(cmd->args, cur); break;
	}
	return FB_EXIT_OK;
}

/* How many arguments a command takes after its options: "DEP" one,
 * "METHOD URL" two, "LOG..." any number. */
static int max_args(const char *args)
{
	int n = args[0] ? 1 : 0;
	if (strstr(args, "..."))
		return INT_MAX;
	for (const char *p = args; *p; p++)
		n += *p == ' ';
	return n;
}

/* Arguments among words[from, to), skipping options and their values. */
static int count_args(const fb_command *cmd, char **words, int from, int to)
{
	int n = 0;
	for (int i = from; i < to; i++) {
		const fb_option_doc *o = option_named(cmd, words[i]);
		if (o && o->arg[0])
			i++;
		else if (words[i][0] != '-')
			n++;
	}
	return n;
}

int fb_cli_complete(int n, char **words)
{
	if (n < 1)
		return offer_for(FB_COMP_NONE, &fb_commands[0], 1,
		                 (char *[]){""});
	char *cur = words[n - 1];
	if (n == 1 && cur[0] != '-') {
		puts("words");
		for (size_t i = 0; i < fb_ncommands; i++)
			offer(cur, fb_commands[i].name);
		return FB_EXIT_OK;
	}
	bool named = words[0][0] != '-';
	const fb_command *cmd =
	    named ? fb_cli_command(words[0]) : &fb_commands[0];
	int first = named ? 1 : 0; /* the command's first word */
	if (!cmd)
		return offer_for(FB_COMP_NONE, &fb_commands[0], n, words);
	const fb_option_doc *prev =
	    n - 2 >= first ? option_named(cmd, words[n - 2]) : NULL;
	if (prev && prev->arg[0])
		return offer_for(prev->comp, cmd, n, words);
	if (cur[0] == '-') {
		char name[64];
		puts("words");
		for (const fb_option_doc *o = cmd->opts; o->name; o++) {
			snprintf(name, sizeof name, "--%s", o->name);
			offer(cur, name);
		}
		if (!named)
			offer(cur, "--version");
		return FB_EXIT_OK;
	}
	if (count_args(cmd, words, first, n - 1) >= max_args(cmd->args))
		return offer_for(FB_COMP_NONE, cmd, n, words);
	return offer_for(cmd->comp, cmd, n, words);
}
