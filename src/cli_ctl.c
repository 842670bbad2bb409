/* The commands that talk to the running instance over its control socket:
 * status, gate, trip, reset, disable. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"

#define CALL_TIMEOUT_MS 5000

typedef struct ctl_opts {
	const char *config;
	const char *reason;
	const char *on_block; /* gate exec */
	bool fleet;           /* --fleet: for every live instance */
	int first_arg;        /* index of the first non-option argument */
} ctl_opts;

/* The first argument that is neither an option nor an option's value
 * ("check" of `gate --config x.ini check`), or NULL. */
static const char *first_word(int argc, char **argv, const struct option *opts)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] != '-' || !a[1])
			return a;
		for (const struct option *o = opts; o->name; o++) {
			bool named = a[1] == '-' ? strcmp(a + 2, o->name) == 0
			                         : a[1] == o->val && !a[2];
			if (named && o->has_arg == required_argument)
				i++; /* its value */
		}
	}
	return NULL;
}

/* Parses the command's options (FB_OPTS_GATE, FB_OPTS_TRIP, ...: --config
 * and maybe --reason) anywhere on the line (GNU getopt moves the other
 * arguments to the end). Returns 0, or -1 after saying what is wrong and
 * printing usage. */
static int parse_opts(int argc, char **argv, const struct option *opts,
                      ctl_opts *o)
{
	char what[64];
	int c;
	memset(o, 0, sizeof *o);
	optind = 0;
	opterr = 0;
	while ((c = fb_cli_getopt(argc, argv, opts)) != -1) {
		if (c == 'c') {
			o->config = optarg;
		} else if (c == 'r') {
			o->reason = optarg;
		} else if (c == 'b') {
			o->on_block = optarg;
		} else if (c == 'F') {
			o->fleet = true;
		} else {
			const char *sub = strcmp(argv[0], "gate") == 0
			                      ? first_word(argc, argv, opts)
			                      : NULL;
			snprintf(what, sizeof what, "%s%s%.16s", argv[0],
			         sub ? " " : "", sub ? sub : "");
			fb_cli_option_error(argv[0], what, c, argc, argv);
			return -1;
		}
	}
	o->first_arg = optind;
	return 0;
}

/* Sends `req` to the instance named by the config. Returns the reply, or
 * NULL after printing why; *code gets the exit code to use then. */
static cJSON *call(const ctl_opts *o, cJSON *req, int *code)
{
	fb_config cfg;
	fb_error err;
	if (fb_cli_load_config(o->config, &cfg) != 0) {
		cJSON_Delete(req);
		*code = FB_EXIT_CONFIG;
		return NULL;
	}
	cJSON *reply =
	    fb_client_call(cfg.control_socket, req, CALL_TIMEOUT_MS, &err);
	cJSON_Delete(req);
	fb_config_free(&cfg);
	if (!reply) {
		fb_cli_error("%s", err.text);
		*code = FB_EXIT_UNAVAILABLE;
	}
	return reply;
}

/* Did the instance refuse because its event log cannot be written
 * (rather than because of the request)? */
static bool refused_for_log(const cJSON *reply)
{
	const cJSON *log = cJSON_GetObjectItemCaseSensitive(reply, "event_log");
	return cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(log, "ok"));
}

/* The reply's error text, or NULL when it says ok. */
static const char *reply_error(const cJSON *reply)
{
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(reply, "ok");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
	if (cJSON_IsTrue(ok))
		return NULL;
	return cJSON_IsString(e) ? e->valuestring : "the instance refused";
}

static cJSON *request(const char *op, const ctl_opts *o)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "op", op);
	if (o->fleet)
		cJSON_AddBoolToObject(r, "fleet", true);
	return r;
}

static const char *gate_field(const cJSON *reply, const char *key)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(reply, "gate");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(g, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *fleet_message(const cJSON *reply)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(reply, "message");
	return cJSON_IsString(m) ? m->valuestring : "";
}

static int gate_check(const ctl_opts *o)
{
	int code;
	cJSON *reply = call(o, request("gate_check", o), &code);
	if (!reply) {
		printf("blocked: the gate cannot be consulted, so destructive "
		       "operations must wait\n");
		return code;
	}
	bool blocked = strcmp(gate_field(reply, "decision"), "allowed") != 0;
	printf("%s\n", gate_field(reply, "reason"));
	cJSON_Delete(reply);
	return blocked ? FB_EXIT_TEMPFAIL : FB_EXIT_OK;
}

static int gate_set(const ctl_opts *o, const char *mode)
{
	int code;
	cJSON *req = request("gate", o);
	cJSON_AddStringToObject(req, "mode", mode);
	if (o->reason)
		cJSON_AddStringToObject(req, "reason", o->reason);
	cJSON *reply = call(o, req, &code);
	if (!reply)
		return code;
	const char *bad = reply_error(reply);
	if (bad)
		fb_cli_error("gate %s%s: %s", mode, o->fleet ? " --fleet" : "",
		             bad);
	else if (o->fleet)
		printf("gate %s for the fleet: %s\n", mode,
		       fleet_message(reply));
	else
		printf("gate %s: %s (mode %s)\n  %s\n",
		       gate_field(reply, "decision"),
		       strcmp(gate_field(reply, "decision"), "blocked") == 0
		           ? "destructive operations wait"
		           : "destructive operations may proceed",
		       gate_field(reply, "mode"), gate_field(reply, "reason"));
	cJSON_Delete(reply);
	return bad ? FB_EXIT_FAIL : FB_EXIT_OK;
}

int fb_cmd_gate(int argc, char **argv)
{
	static const struct option opts[] = {FB_OPTS_GATE(FB_X_GETOPT){0}};
	ctl_opts o;
	if (parse_opts(argc, argv, opts, &o) != 0)
		return FB_EXIT_USAGE;
	const char *what = o.first_arg < argc ? argv[o.first_arg] : NULL;
	if (what && strcmp(what, "exec") == 0) /* the rest is the job */
		return fb_gate_exec(o.config, o.on_block,
		                    argv + o.first_arg + 1);
	if (!what || o.first_arg + 1 != argc || o.on_block)
		return fb_cli_usage_error("gate");
	if (strcmp(what, "check") == 0)
		return gate_check(&o);
	if (strcmp(what, "block") == 0 || strcmp(what, "allow") == 0 ||
	    strcmp(what, "auto") == 0)
		return gate_set(&o, what);
	return fb_cli_usage_error("gate");
}

static const struct option trip_opts[] = {FB_OPTS_TRIP(FB_X_GETOPT){0}};
static const struct option reset_opts[] = {FB_OPTS_RESET(FB_X_GETOPT){0}};
static const struct option disable_opts[] = {FB_OPTS_DISABLE(FB_X_GETOPT){0}};

static const struct {
	const char *name;
	const char *done;
	const struct option *opts;
} dep_commands[] = {
    {"trip", "tripped (forced open) until reset", trip_opts},
    {"reset", "reset: closed, counters cleared", reset_opts},
    {"disable", "disabled (forced closed): calls pass, probes still run",
     disable_opts},
};

int fb_cmd_dep_action(int argc, char **argv)
{
	ctl_opts o;
	size_t i = 0;
	while (strcmp(dep_commands[i].name, argv[0]) != 0)
		i++; /* the command table only routes these names here */
	if (parse_opts(argc, argv, dep_commands[i].opts, &o) != 0)
		return FB_EXIT_USAGE;
	if (o.first_arg + 1 != argc)
		return fb_cli_usage_error(argv[0]);
	const char *dep = argv[o.first_arg];
	cJSON *req = request(argv[0], &o);
	cJSON_AddStringToObject(req, "dep", dep);
	if (o.reason)
		cJSON_AddStringToObject(req, "reason", o.reason);
	int code;
	cJSON *reply = call(&o, req, &code);
	if (!reply)
		return code;
	const char *bad = reply_error(reply);
	code = !bad                                ? FB_EXIT_OK
	       : refused_for_log(reply) || o.fleet ? FB_EXIT_FAIL
	                                           : FB_EXIT_USAGE;
	if (bad)
		fb_cli_error("%s %s%s: %s", argv[0], dep,
		             o.fleet ? " --fleet" : "", bad);
	else if (o.fleet)
		printf("%s: %s, for the fleet: %s\n", dep, argv[0],
		       fleet_message(reply));
	else
		printf("%s: %s\n", dep, dep_commands[i].done);
	cJSON_Delete(reply);
	return code;
}
