/* fusebox: the command line. Each command is one row of the table below,
 * which also writes --help. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define X_ROW(name, args, help, fn) {name, args, help, fn},
static const fb_command commands[] = {FB_COMMAND_TABLE(X_ROW)};
#undef X_ROW
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *to)
{
	fprintf(to, "usage: fusebox [COMMAND] [OPTIONS]\n\n"
	            "A console and engine for dependency health: circuit "
	            "breakers,\nhealth probes and a gate for destructive "
	            "operations.\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(to, "  %-12s %-36s %s\n", commands[i].name,
		        commands[i].args, commands[i].help);
	fprintf(to, "\n  --help       this text\n  --version    the version\n"
	            "\nexit codes: 0 ok, 64 usage, 65 bad data, 69 no running "
	            "instance,\n75 gate blocked, 78 bad config\n");
}

int main(int argc, char **argv)
{
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	     strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return FB_EXIT_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("fusebox %s\n", FB_VERSION);
		return FB_EXIT_OK;
	}
	const char *name = argc >= 2 && argv[1][0] != '-' ? argv[1] : "console";
	int skip = argc >= 2 && argv[1][0] != '-' ? 2 : 1;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].fn(argc - skip + 1, argv + skip - 1);
	}
	if (skip == 1) {
		usage(stderr);
		return FB_EXIT_USAGE;
	}
	fprintf(stderr, "fusebox: unknown command '%s' (try fusebox --help)\n",
	        name);
	return FB_EXIT_USAGE;
}
