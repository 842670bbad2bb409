/* `fusebox [console] [--config FILE] [--theme NAME] [--readonly]
 * [--embedded] [--utc] [--replay LOG...]`. */
#include <getopt.h>
#include <unistd.h>

#include "cli.h"
#include "console/replay.h"

int fb_cmd_console(int argc, char **argv)
{
	static const struct option opts[] = {FB_OPTS_CONSOLE(FB_X_GETOPT){0}};
	const char *config = NULL, *theme = NULL;
	char *replay[32];
	size_t nreplay = 0;
	bool readonly = false, embedded = false, utc = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = fb_cli_getopt(argc, argv, opts)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 't')
			theme = optarg;
		else if (c == 'r')
			readonly = true;
		else if (c == 'e')
			embedded = true;
		else if (c == 'u')
			utc = true;
		else if (c == 'R' && nreplay < 32)
			replay[nreplay++] = optarg;
		else
			break;
	}
	/* more logs may follow --replay LOG as plain arguments */
	while (nreplay && optind < argc && nreplay < 32)
		replay[nreplay++] = argv[optind++];
	if (c != -1 || optind != argc)
		return fb_cli_option_error("console", NULL, c, argc, argv);
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fb_cli_error(
		    "the console needs a terminal (use `fusebox run` for the "
		    "headless engine)");
		return FB_EXIT_USAGE;
	}
	if (nreplay)
		return fb_replay_console_main(replay, nreplay, config, theme,
		                              utc);
	return fb_console_main(config, theme, readonly, embedded, utc);
}
