/* fusebox: the command line. Each command is one row of FB_COMMAND_TABLE
 * (cli.h), whose option rows also write --help (cli_help.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	     strcmp(argv[1], "help") == 0)) {
		fb_cli_usage(stdout);
		return FB_EXIT_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("fusebox %s\n", FB_VERSION);
		return FB_EXIT_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "--complete") == 0)
		return fb_cli_complete(argc - 2, argv + 2);
	bool named = argc >= 2 && argv[1][0] != '-';
	const fb_command *cmd =
	    named ? fb_cli_command(argv[1]) : &fb_commands[0];
	int skip = named ? 2 : 1;
	if (!cmd) {
		fprintf(stderr,
		        "fusebox: unknown command '%s' (try fusebox --help)\n",
		        argv[1]);
		return FB_EXIT_USAGE;
	}
	if (fb_cli_wants_help(cmd, argc - skip + 1, argv + skip - 1)) {
		fb_cli_command_help(cmd, stdout);
		return FB_EXIT_OK;
	}
	return cmd->fn(argc - skip + 1, argv + skip - 1);
}
