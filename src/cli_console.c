/* `fusebox [console] [--config FILE] [--theme NAME] [--readonly]`. */
#include <getopt.h>
#include <unistd.h>

#include "cli.h"

int fb_cmd_console(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"theme", required_argument, NULL, 't'},
	    {"readonly", no_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0}};
	const char *config = NULL, *theme = NULL;
	bool readonly = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:t:r", opts, NULL)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 't')
			theme = optarg;
		else if (c == 'r')
			readonly = true;
		else
			break;
	}
	if (c != -1 || optind != argc) {
		fb_cli_error("usage: fusebox [console] [--config FILE] [--theme NAME] "
		             "[--readonly]");
		return FB_EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fb_cli_error("the console needs a terminal (use `fusebox run` for the "
		             "headless engine)");
		return FB_EXIT_USAGE;
	}
	return fb_console_main(config, theme, readonly);
}
