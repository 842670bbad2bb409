/* The front. `fusebox` itself links only libc, inih and cJSON, so the
 * commands that scripts call before every destructive job (gate check,
 * status, trip, reset, disable, replay, check-config) start as fast as
 * the dynamic loader allows. The commands that need libcurl, hiredis or
 * ncurses -- the console, run, call, status --probe and shell completion
 * (which lists the console's themes) -- are handed over
 * whole to fusebox-engine, which holds every command and can also be run
 * by itself. It is looked for beside this program (the build tree), then
 * in ../libexec/fusebox/ (an installed tree, wherever its prefix), then in
 * the LIBEXECDIR the build was configured with. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef FB_LIBEXECDIR
#define FB_LIBEXECDIR "/usr/local/libexec/fusebox"
#endif

#define ENGINE "fusebox-engine"

/* Fills path with the first engine that exists; returns false if none. */
static bool find_engine(char *path, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		const char *dir = dirname(exe);
		snprintf(path, len, "%s/" ENGINE, dir);
		if (access(path, X_OK) == 0)
			return true;
		snprintf(path, len, "%s/../libexec/fusebox/" ENGINE, dir);
		if (access(path, X_OK) == 0)
			return true;
	}
	snprintf(path, len, "%s/" ENGINE, FB_LIBEXECDIR);
	return access(path, X_OK) == 0;
}

/* Replaces this process with fusebox-engine running `COMMAND ARGS...`, where argv
 * holds the command's options from argv[1] on. Returns an exit code only
 * when the engine cannot be started. */
static int hand_over(const char *command, int argc, char **argv)
{
	char path[PATH_MAX + 64];
	if (!find_engine(path, sizeof path)) {
		fb_cli_error("%s needs " ENGINE ", which is not installed "
		             "beside this program or in " FB_LIBEXECDIR,
		             command);
		return FB_EXIT_FAIL;
	}
	char **args = calloc((size_t)argc + 2, sizeof *args);
	if (!args) {
		fb_cli_error("out of memory");
		return FB_EXIT_FAIL;
	}
	args[0] = program_invocation_name; /* ps shows what the user ran */
	args[1] = (char *)command;
	for (int i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	execv(path, args);
	fb_cli_error("%s: %s", path, strerror(errno));
	free(args);
	return FB_EXIT_FAIL;
}

int fb_cmd_console(int argc, char **argv)
{
	return hand_over("console", argc, argv);
}

int fb_cmd_run(int argc, char **argv)
{
	return hand_over("run", argc, argv);
}

int fb_cmd_call(int argc, char **argv)
{
	return hand_over("call", argc, argv);
}

/* Shell completion lists theme names, which only the console knows. */
int fb_cli_complete(int n, char **words)
{
	return hand_over("--complete", n + 1, words - 1);
}

int fb_replay_redis(int argc, char **argv, const char *config)
{
	(void)config;
	return hand_over("replay", argc, argv);
}

int fb_status_probe(int argc, char **argv, const char *config,
                    fb_status_format fmt)
{
	(void)config;
	(void)fmt;
	return hand_over("status", argc, argv);
}
