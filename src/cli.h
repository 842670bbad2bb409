/* The command line: the command table, exit codes, and helpers shared by
 * the commands. Private to the fusebox program. */
#ifndef FB_CLI_H
#define FB_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "fusebox/config.h"

/* Exit codes (SPEC section 4), from sysexits.h. */
enum {
	FB_EXIT_OK = 0,
	FB_EXIT_FAIL = 1,
	FB_EXIT_HTTP = 22, /* `call`: a final 4xx/5xx answer (curl --fail) */
	FB_EXIT_USAGE = 64,
	FB_EXIT_DATAERR = 65,
	FB_EXIT_NOINPUT = 66,
	FB_EXIT_UNAVAILABLE = 69,
	FB_EXIT_TEMPFAIL = 75,
	FB_EXIT_CONFIG = 78,
};

/* argv[0] is the command's name; options follow. */
typedef int (*fb_command_fn)(int argc, char **argv);

/* What a word on the command line is, for shell completion. */
typedef enum {
	FB_COMP_NONE,  /* free text */
	FB_COMP_FILE,  /* a file name */
	FB_COMP_DEP,   /* a dependency of the configuration */
	FB_COMP_THEME, /* a colour theme */
	FB_COMP_KIND,  /* an event kind */
	FB_COMP_WORDS, /* one of the command's `args`, which are split at '|' */
} fb_complete;

/* One option of a command. `key` is its short letter, or one of the
 * FB_OPT_* values below for an option that has no short form. `arg` names
 * its argument ("FILE"), "" for a flag. */
typedef struct fb_option_doc {
	const char *name;
	int key;
	const char *arg;
	fb_complete comp;
	const char *help;
} fb_option_doc;

/* Keys of the long-only options: above every short letter. */
enum {
	FB_OPT_DEPS = 256,
	FB_OPT_DATA_BINARY,
	FB_OPT_MAX_TIME,
	FB_OPT_RETRY_UNSAFE,
};

/* Each command's options, one row each. getopt_long()'s table, `fusebox
 * COMMAND --help`, the usage line, shell completion and the man page's
 * drift test are all built from these rows, so they cannot disagree.
 *  long        key   ARG        completes  help */
#define FB_OPTS_CONFIG(X)                                                      \
	X("config", 'c', "FILE", FILE,                                         \
	  "read FILE, not the configuration lookup order")
#define FB_OPTS_REASON(X)                                                      \
	X("reason", 'r', "TEXT", NONE, "why; logged with who did it")

#define FB_OPTS_FLEET(X)                                                       \
	X("fleet", 'F', "", NONE,                                              \
	  "for the whole fleet: every live instance ([redis])")

#define FB_OPTS_CONSOLE(X)                                                     \
	FB_OPTS_CONFIG(X)                                                      \
	X("theme", 't', "NAME", THEME,                                         \
	  "the colour theme (default: theme in [fusebox])")                    \
	X("readonly", 'r', "", NONE, "watch only: operator actions are off")   \
	X("embedded", 'e', "", NONE,                                           \
	  "run an engine of our own; refused while an instance runs")          \
	X("replay", 'R', "LOG", FILE,                                          \
	  "replay event logs (more LOG files may follow)")                    \
	X("utc", 'u', "", NONE, "times in UTC, not local time (z switches)")
#define FB_OPTS_RUN(X)                                                         \
	FB_OPTS_CONFIG(X)                                                      \
	X("duration", 'd', "SECONDS", NONE,                                    \
	  "stop after this long (or 250ms, 2m, 1h)")
#define FB_OPTS_STATUS(X)                                                      \
	FB_OPTS_CONFIG(X)                                                      \
	X("json", 'j', "", NONE, "print the status document as JSON")          \
	X("prometheus", 'P', "", NONE,                                         \
	  "print metrics in the Prometheus text format")                       \
	X("probe", 'p', "", NONE,                                              \
	  "probe every dependency once instead of asking the instance")        \
	FB_OPTS_FLEET(X)
#define FB_OPTS_GATE(X)                                                        \
	FB_OPTS_CONFIG(X) FB_OPTS_REASON(X) FB_OPTS_FLEET(X)                   \
	X("on-block", 'b', "ACTION", NONE,                                     \
	  "exec: when the gate blocks, term (the default) or wait")
#define FB_OPTS_HEALTH(X)                                                      \
	FB_OPTS_CONFIG(X)                                                      \
	X("wait", 'w', "SECONDS", NONE,                                        \
	  "ask until healthy, at most this long (or 250ms, 2m)")
#define FB_OPTS_TRIP(X)    FB_OPTS_CONFIG(X) FB_OPTS_REASON(X) FB_OPTS_FLEET(X)
#define FB_OPTS_RESET(X)   FB_OPTS_CONFIG(X) FB_OPTS_REASON(X) FB_OPTS_FLEET(X)
#define FB_OPTS_DISABLE(X) FB_OPTS_CONFIG(X) FB_OPTS_REASON(X) FB_OPTS_FLEET(X)
#define FB_OPTS_REPLAY(X)                                                      \
	X("from", 'f', "TIME", NONE,                                           \
	  "only events at or after TIME (RFC 3339, HH:MM:SS, -15m)")           \
	X("to", 't', "TIME", NONE, "only events at or before TIME")            \
	X("dep", 'd', "NAME", DEP,                                             \
	  "only this dependency (a glob like redis-*; repeatable)")            \
	X("kind", 'k', "KIND", KIND, "only events of this kind (repeatable)")  \
	X("json", 'j', "", NONE,                                               \
	  "the events as logged, or the summary as JSON")                      \
	X("summary", 's', "", NONE, "the incident report, not the timeline")   \
	X("markdown", 'm', "", NONE, "with --summary: the report as Markdown")  \
	X("what-if", 'w', "SET", NONE,                                         \
	  "run the breakers again with KEY=VALUE,... (repeatable)")            \
	X("redis", 'R', "", NONE,                                              \
	  "read the fleet's event stream ([redis]), not LOG files")            \
	X("config", 'c', "FILE", FILE,                                         \
	  "with --what-if or --redis: today's settings")
#define FB_OPTS_CALL(X)                                                        \
	FB_OPTS_CONFIG(X)                                                      \
	X("dep", 'd', "NAME", DEP,                                             \
	  "ask its breaker first; use its address and tuning")                 \
	X("header", 'H', "HEADER", NONE,                                       \
	  "send 'Name: value' with the request (repeatable)")                  \
	X("data", 'b', "BODY", NONE, "send BODY as the request body")          \
	X("data-binary", FB_OPT_DATA_BINARY, "DATA", NONE,                     \
	  "send DATA as the body; @FILE sends the file's bytes")               \
	X("max-time", FB_OPT_MAX_TIME, "SECONDS", NONE,                        \
	  "the whole call's deadline, retries and waits included")             \
	X("retry-unsafe", FB_OPT_RETRY_UNSAFE, "", NONE,                       \
	  "retry a POST or PATCH even without an Idempotency-Key")
#define FB_OPTS_EVENTS(X)                                                      \
	FB_OPTS_CONFIG(X)                                                      \
	X("follow", 'f', "", NONE, "go on printing events as they happen")     \
	X("json", 'j', "", NONE, "the events exactly as logged (JSON Lines)")  \
	X("dep", 'd', "NAME", DEP, "only this dependency's events")            \
	X("lines", 'n', "N", NONE, "how many past events to print first (20)")
#define FB_OPTS_CHECK_CONFIG(X)                                                \
	X("deps", FB_OPT_DEPS, "", NONE,                                       \
	  "print only the dependency names, one a line")

/* Every command also takes this one. */
#define FB_OPTS_HELP(X) X("help", 'h', "", NONE, "show this help and exit")

/* A row as getopt_long() wants it; end the array with {0}. */
#define FB_X_GETOPT(name, key, arg, comp, help)                                \
	{name, sizeof(arg) > 1 ? required_argument : no_argument, NULL, key},

typedef struct fb_command {
	const char *name, *args, *help;
	fb_command_fn fn;
	fb_complete comp;                 /* what its arguments are */
	const fb_option_doc *opts;        /* ends with a NULL name */
	const struct option *getopt_opts; /* the same rows, for getopt_long */
} fb_command;

int fb_cmd_check_config(int argc, char **argv);
int fb_cmd_run(int argc, char **argv);
int fb_cmd_console(int argc, char **argv);
/* The console itself (src/console/console.c): attached to the instance
 * serving the configured socket, else with an engine of its own;
 * embedded_only refuses to attach; utc shows times in UTC (z switches).
 * Returns an exit code. */
int fb_console_main(const char *config, const char *theme, bool readonly,
                    bool embedded_only, bool utc);
int fb_cmd_status(int argc, char **argv);
/* How `status` prints its document (cli_status.c). */
typedef enum {
	FB_STATUS_TABLE,
	FB_STATUS_JSON,
	FB_STATUS_PROMETHEUS
} fb_status_format;
struct cJSON;
int fb_status_print(const struct cJSON *doc, fb_status_format fmt);
/* `status --fleet`: the reply's fleet object as a table or JSON
 * (cli_fleet.c); a status document's one line about the fleet when it
 * works alone (nothing when it shares a view or has no [redis]). */
int fb_fleet_print(const struct cJSON *doc, bool json);
/* `replay --redis`: the front hands it to the engine, which reads the
 * fleet's stream into one log per instance and replays those
 * (replay_redis.c). argv is the whole command. */
int fb_replay_redis(int argc, char **argv, const char *config);
void fb_fleet_print_headline(const struct cJSON *doc);
/* `status --probe` (cli_probe.c): one probe round of our own, printed as
 * fb_status_print does; argv is the whole command, for the front to hand
 * over to fusebox-engine. Returns an exit code. */
int fb_status_probe(int argc, char **argv, const char *config,
                    fb_status_format fmt);
int fb_cmd_gate(int argc, char **argv);
/* `gate exec` (cli_gate_exec.c): runs argv (NULL-terminated) only while
 * the gate allows; on_block is "term", "wait" or NULL (term). Returns an
 * exit code: 75 when it did not run or was stopped, else the job's. */
int fb_gate_exec(const char *config, const char *on_block, char *const *argv);
int fb_cmd_health(int argc, char **argv);
int fb_cmd_dep_action(int argc, char **argv);
int fb_cmd_replay(int argc, char **argv);
int fb_cmd_call(int argc, char **argv);
int fb_cmd_events(int argc, char **argv);

/* "ts  host  what happened" on stdout, coloured by tone when `colour`:
 * the one readable form of an event, for replay and events. */
struct fb_log_event;
void fb_cli_print_event(const struct fb_log_event *ev, bool colour);

/* The commands. `arguments` are what follows the options; the first row
 * is what runs when no command is named.
 *  name            arguments     options               completes  help
 *  function */
#define FB_COMMAND_TABLE(X)                                                    \
	X("console", "", FB_OPTS_CONSOLE, NONE,                                \
	  "the live console (the default)", fb_cmd_console)                    \
	X("run", "", FB_OPTS_RUN, NONE, "the headless engine", fb_cmd_run)     \
	X("status", "", FB_OPTS_STATUS, NONE,                                  \
	  "live state (or one probe round with --probe)", fb_cmd_status)       \
	X("gate", "check|block|allow|auto|exec", FB_OPTS_GATE, WORDS,          \
	  "ask the gate (exit 0 allowed, 75 blocked), set it, run a job",      \
	  fb_cmd_gate)                                                         \
	X("health", "DEP...", FB_OPTS_HEALTH, DEP,                             \
	  "exit 0 healthy, 1 degraded, 75 unhealthy or unknown", fb_cmd_health) \
	X("trip", "DEP", FB_OPTS_TRIP, DEP, "force a breaker open",            \
	  fb_cmd_dep_action)                                                   \
	X("reset", "DEP", FB_OPTS_RESET, DEP,                                  \
	  "back to closed, counters cleared", fb_cmd_dep_action)               \
	X("disable", "DEP", FB_OPTS_DISABLE, DEP, "force a breaker closed",    \
	  fb_cmd_dep_action)                                                   \
	X("replay", "LOG...", FB_OPTS_REPLAY, FILE,                            \
	  "the timeline of an incident, or its summary", fb_cmd_replay)        \
	X("call", "METHOD URL|PATH", FB_OPTS_CALL, NONE,                       \
	  "one request through the breaker and retries", fb_cmd_call)          \
	X("events", "", FB_OPTS_EVENTS, NONE,                                  \
	  "the instance's latest events; --follow: as they come",              \
	  fb_cmd_events)                                                       \
	X("check-config", "[FILE]", FB_OPTS_CHECK_CONFIG, FILE,                \
	  "validate a configuration and say what it holds",                    \
	  fb_cmd_check_config)

/* The command table (src/cli_help.c), in the order above. */
extern const fb_command fb_commands[];
extern const size_t fb_ncommands;

/* The command called `name`, or NULL. */
const fb_command *fb_cli_command(const char *name);

/* getopt_long() over a table built with FB_X_GETOPT: the short options
 * are the table's own letters. */
int fb_cli_getopt(int argc, char **argv, const struct option *opts);

/* Does the command line ask for --help (or -h) as an option of `cmd`, and
 * not, say, as the argument of --reason? Leaves argv as it was. */
bool fb_cli_wants_help(const fb_command *cmd, int argc, char **argv);

/* `fusebox --help` and `fusebox COMMAND --help`, on `to`. */
void fb_cli_usage(FILE *to);
void fb_cli_command_help(const fb_command *cmd, FILE *to);

/* Prints "fusebox: usage: fusebox NAME [--option ARG]... ARGUMENTS" and
 * returns FB_EXIT_USAGE. */
int fb_cli_usage_error(const char *name);

/* After fb_cli_getopt() returned c (opterr 0) and the command gives up:
 * when c is '?', one line on what is wrong ("fusebox: WHAT: unknown option
 * --json", "option --from needs a value"; WHAT is `what`, or `name`
 * when NULL), then the usage line of command `name`. Returns
 * FB_EXIT_USAGE. */
int fb_cli_option_error(const char *name, const char *what, int c, int argc,
                        char **argv);

/* `fusebox --complete WORD...`: the candidates for the last word, for
 * the shell completion scripts (src/shell/). Returns an exit code. */
int fb_cli_complete(int nwords, char **words);

/* Finds and loads the configuration (explicit path, or the lookup order of
 * SPEC 5). Prints "fusebox: <what>" and returns -1 on error. */
int fb_cli_load_config(const char *explicit_path, fb_config *cfg);

/* Prints "fusebox: <fmt>" to stderr. */
void fb_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
