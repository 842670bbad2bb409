/* `fusebox [console] [--config FILE] [--theme NAME] [--readonly]
 * [--replay LOG...]`. */
#include <getopt.h>
#include <unistd.h>

#include "cli.h"
#include "console/replay.h"

int fb_cmd_console(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"theme", required_argument, NULL, 't'},
	    {"readonly", no_argument, NULL, 'r'},
	    {"replay", required_argument, NULL, 'R'},
	    {NULL, 0, NULL, 0}};
	const char *config = NULL, *theme = NULL;
	char *replay[32];
	size_t nreplay = 0;
	bool readonly = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:t:rR:", opts, NULL)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 't')
			theme = optarg;
		else if (c == 'r')
			readonly = true;
		else if (c == 'R' && nreplay < 32)
			replay[nreplay++] = optarg;
		else
			break;
	}
	/* more logs may follow --replay LOG as plain arguments */
	while (nreplay && optind < argc && nreplay < 32)
		replay[nreplay++] = argv[optind++];
	if (c != -1 || optind != argc) {
		fb_cli_error(
		    "usage: fusebox [console] [--config FILE] [--theme NAME] "
		    "[--readonly] [--replay LOG...]");
		return FB_EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fb_cli_error(
		    "the console needs a terminal (use `fusebox run` for the "
		    "headless engine)");
		return FB_EXIT_USAGE;
	}
	if (nreplay)
		return fb_replay_console_main(replay, nreplay, theme);
	return fb_console_main(config, theme, readonly);
}
