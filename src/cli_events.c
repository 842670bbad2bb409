/* `fusebox events [--follow] [--json] [--dep NAME] [--lines N]`: the
 * running instance's latest events, then (--follow) every new one as it
 * happens, for scripts and `tail -f` habits. The past comes from the
 * event log, the present from the control socket's `watch` stream; the
 * watch is asked first, so the seq it starts after tells where the log's
 * part ends: nothing is missed or shown twice. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "core/parse.h"
#include "logread.h"

#define HISTORY_BYTES (1 << 20)   /* of the log's end searched for the past */
#define LINE_CAP      (64 * 1024) /* an event line longer than this is bad */

typedef struct events_opts {
	const char *config, *dep;
	bool follow, json, colour;
	int64_t lines;
} events_opts;

/* Prints one event line unless the filter rules it out. */
static void show(fb_log_reader *r, const char *line, size_t len,
                 const events_opts *o)
{
	fb_log_event ev;
	if (fb_log_event_parse(r, line, len, &ev) != 0)
		return;
	if (!o->dep || (ev.dep && strcmp(ev.dep, o->dep) == 0)) {
		if (o->json)
			printf("%.*s\n", (int)len, line);
		else
			fb_cli_print_event(&ev, o->colour);
	}
	cJSON_Delete(ev.json);
}

/* The last o->lines matching events of the log with seq <= upto (all
 * when upto < 0). */
static void print_past(const char *log, int64_t upto, const events_opts *o)
{
	fb_log_reader r;
	char err[600];
	const char *line;
	size_t len;
	if (o->lines <= 0 || fb_log_reader_open_tail(&r, log, HISTORY_BYTES,
	                                             err, sizeof err) != 0)
		return;
	r.quiet = true;
	size_t cap = (size_t)o->lines, n = 0, head = 0;
	struct span {
		const char *at;
		size_t len;
	} *keep = calloc(cap, sizeof *keep);
	while (keep && fb_log_reader_line(&r, &line, &len)) {
		fb_log_event ev;
		if (fb_log_event_parse(&r, line, len, &ev) != 0)
			continue;
		bool want =
		    (upto < 0 || (int64_t)ev.seq <= upto) &&
		    (!o->dep || (ev.dep && strcmp(ev.dep, o->dep) == 0));
		cJSON_Delete(ev.json);
		if (!want)
			continue;
		keep[(head + n) % cap] = (struct span){line, len};
		if (n < cap)
			n++;
		else
			head = (head + 1) % cap;
	}
	for (size_t i = 0; keep && i < n; i++)
		show(&r, keep[(head + i) % cap].at, keep[(head + i) % cap].len,
		     o);
	free(keep);
	r.skipped = 0;
	fb_log_reader_close(&r);
}

/* Reads the next line from fd into buf (growing up to LINE_CAP), waiting
 * at most wait_ms (-1: for ever). Returns its length, or -1 at the end. */
static ssize_t next_line(int fd, char *buf, size_t *have, size_t cap,
                         int wait_ms, size_t *taken)
{
	for (;;) {
		char *nl = memchr(buf, '\n', *have);
		if (nl) {
			*taken = (size_t)(nl - buf) + 1;
			return nl - buf;
		}
		if (*have == cap)
			return -1; /* a line too long: not an instance talking */
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, wait_ms) != 1)
			return -1;
		ssize_t n = read(fd, buf + *have, cap - *have);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		*have += (size_t)n;
	}
}

/* Subscribes, prints the past up to the stream's start, then the stream.
 * Returns an exit code: 69 when the instance is not there or goes. */
static int follow(const fb_config *cfg, const events_opts *o)
{
	fb_error err;
	int fd = fb_client_connect(cfg->control_socket, 5000, &err);
	char *buf = malloc(LINE_CAP);
	size_t have = 0, taken = 0;
	static const char req[] = "{\"op\":\"watch\"}\n";
	if (fd < 0 || !buf ||
	    send(fd, req, sizeof req - 1, MSG_NOSIGNAL) != sizeof req - 1) {
		fb_cli_error("%s",
		             fd < 0 ? err.text : "cannot ask the instance");
		free(buf);
		if (fd >= 0)
			close(fd);
		return FB_EXIT_UNAVAILABLE;
	}
	ssize_t len = next_line(fd, buf, &have, LINE_CAP, 5000, &taken);
	cJSON *first = len > 0 ? cJSON_ParseWithLength(buf, (size_t)len) : NULL;
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(first, "seq");
	int64_t upto = -1;
	if (!cJSON_IsNumber(seq) ||
	    !fb_json_int(seq->valuedouble, 0, FB_JSON_INT_MAX, &upto)) {
		fb_cli_error("%s: the instance did not start a watch",
		             cfg->control_socket);
		cJSON_Delete(first);
		free(buf);
		close(fd);
		return FB_EXIT_UNAVAILABLE;
	}
	cJSON_Delete(first);
	print_past(cfg->log, upto, o);
	fflush(stdout);
	fb_log_reader r = {.quiet = false};
	snprintf(r.path, sizeof r.path, "%s", cfg->control_socket);
	for (;;) {
		memmove(buf, buf + taken, have - taken);
		have -= taken;
		len = next_line(fd, buf, &have, LINE_CAP, -1, &taken);
		if (len < 0)
			break;
		r.line++;
		if (len > 6 && memcmp(buf, "{\"ok\":", 6) == 0) {
			fb_cli_error("%s: %.*s", cfg->control_socket, (int)len,
			             buf);
			break; /* dropped for being slow: the last word */
		}
		show(&r, buf, (size_t)len, o);
		fflush(stdout);
	}
	free(buf);
	close(fd);
	fb_cli_error("%s: the instance went away", cfg->control_socket);
	return FB_EXIT_UNAVAILABLE;
}

int fb_cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {FB_OPTS_EVENTS(FB_X_GETOPT){0}};
	events_opts o = {.lines = 20};
	const char *why;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = fb_cli_getopt(argc, argv, opts)) != -1) {
		if (c == 'c')
			o.config = optarg;
		else if (c == 'f')
			o.follow = true;
		else if (c == 'j')
			o.json = true;
		else if (c == 'd')
			o.dep = optarg;
		else if (c == 'n' &&
		         fb_parse_int(optarg, 0, 100000, &o.lines, &why) == 0)
			continue;
		else
			break;
	}
	if (c == 'n')
		fb_cli_error("events: bad --lines '%s': %s (0 to 100000)",
		             optarg, why);
	if (c != -1 || optind != argc)
		return fb_cli_option_error("events", NULL, c, argc, argv);
	const char *nc = getenv("NO_COLOR");
	o.colour = !o.json && isatty(STDOUT_FILENO) && !(nc && nc[0]);
	fb_config cfg;
	if (fb_cli_load_config(o.config, &cfg) != 0)
		return FB_EXIT_CONFIG;
	int code = FB_EXIT_OK;
	if (o.follow)
		code = follow(&cfg, &o);
	else
		print_past(cfg.log, -1, &o);
	fb_config_free(&cfg);
	return code;
}
