/* The command line: the command table, exit codes, and helpers shared by
 * the commands. Private to the fusebox program. */
#ifndef FB_CLI_H
#define FB_CLI_H

#include "fusebox/config.h"

/* Exit codes (SPEC section 4), from sysexits.h. */
enum {
	FB_EXIT_OK = 0,
	FB_EXIT_FAIL = 1,
	FB_EXIT_USAGE = 64,
	FB_EXIT_DATAERR = 65,
	FB_EXIT_NOINPUT = 66,
	FB_EXIT_UNAVAILABLE = 69,
	FB_EXIT_TEMPFAIL = 75,
	FB_EXIT_CONFIG = 78,
};

/* argv[0] is the command's name; options follow. */
typedef int (*fb_command_fn)(int argc, char **argv);

typedef struct fb_command {
	const char *name, *args, *help;
	fb_command_fn fn;
} fb_command;

int fb_cmd_check_config(int argc, char **argv);
int fb_cmd_run(int argc, char **argv);
int fb_cmd_console(int argc, char **argv);
/* The console itself (src/console/console.c). Returns an exit code. */
int fb_console_main(const char *config, const char *theme, bool readonly);
int fb_cmd_status(int argc, char **argv);
int fb_cmd_gate(int argc, char **argv);
int fb_cmd_dep_action(int argc, char **argv);
int fb_cmd_replay(int argc, char **argv);
int fb_cmd_call(int argc, char **argv);

/*  name            arguments                help                function */
#define FB_COMMAND_TABLE(X)                                                    \
	X("console",                                                           \
	  "[--config FILE] [--theme NAME] [--readonly] [--replay LOG]",        \
	  "the live console (the default)", fb_cmd_console)                    \
	X("run", "[--config FILE] [--duration SECONDS]",                       \
	  "the headless engine", fb_cmd_run)                                   \
	X("status", "[--config FILE] [--json|--prometheus] [--probe]",         \
	  "live state (or one probe round with --probe)", fb_cmd_status)       \
	X("gate", "check|block|allow|auto [--reason TEXT]",                    \
	  "ask the gate (exit 0 allowed, 75 blocked) or set its mode",         \
	  fb_cmd_gate)                                                         \
	X("trip", "DEP [--reason TEXT]", "force a breaker open",               \
	  fb_cmd_dep_action)                                                   \
	X("reset", "DEP", "back to closed, counters cleared",                  \
	  fb_cmd_dep_action)                                                   \
	X("disable", "DEP [--reason TEXT]", "force a breaker closed",          \
	  fb_cmd_dep_action)                                                   \
	X("replay",                                                            \
	  "LOG... [--from T] [--to T] [--dep NAME] [--json] [--summary]",      \
	  "the timeline of an incident, or its summary", fb_cmd_replay)        \
	X("call", "METHOD URL [--dep NAME] [--data BODY]",                     \
	  "one request through the breaker and retries", fb_cmd_call)          \
	X("check-config", "[FILE]",                                            \
	  "validate a configuration and say what it holds",                    \
	  fb_cmd_check_config)

/* Finds and loads the configuration (explicit path, or the lookup order of
 * SPEC 5). Prints "fusebox: <what>" and returns -1 on error. */
int fb_cli_load_config(const char *explicit_path, fb_config *cfg);

/* Prints "fusebox: <fmt>" to stderr. */
void fb_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
