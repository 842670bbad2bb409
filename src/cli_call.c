/* `fusebox call METHOD URL|PATH [--dep NAME] [-H HEADER]... [--data BODY |
 * --data-binary DATA|@FILE] [--max-time SECONDS] [--retry-unsafe]`: one
 * request through libfusebox's HTTP client (retries, breaker, budget).
 * A PATH is relative to --dep's address. With --dep, the dependency's
 * tuning applies and the running instance is asked before each attempt
 * (`allow`: its breaker open, exit 75 at once) and told how it went
 * (`report`), so the call counts in the console. The answer's body goes to stdout when
 * it is a 2xx or 3xx; failed attempts are one line each on stderr.
 * Exit 0 on 2xx/3xx, 22 on a final 4xx/5xx, 75 when a breaker refuses,
 * 1 when no attempt got an answer, 64 for usage, 78 for configuration. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "client_http_impl.h"
#include "core/parse.h"
#include "core/retry.h"
#include "fusebox/sanitize.h"

#define MAX_HEADERS 64
#define MAX_UPLOAD  (64LL << 20)

typedef struct call_opts {
	const char *config, *dep, *method, *url, *data, *data_binary;
	const char *headers[MAX_HEADERS + 1];
	int nheaders;
	int64_t max_time_ms;
	bool retry_unsafe;
	char *upload; /* --data-binary @FILE's bytes (owned) */
	size_t upload_len;
} call_opts;

/* The body as it came, unless stdout is a terminal: then control
 * characters other than newline and tab are shown as '?', so a body
 * cannot retitle or recolour the operator's terminal. */
static void print_body(char *body, size_t len)
{
	if (isatty(STDOUT_FILENO)) {
		for (size_t i = 0; i < len; i++) {
			unsigned char ch = (unsigned char)body[i];
			if ((ch < 0x20 && ch != '\n' && ch != '\t') ||
			    ch == 0x7f)
				body[i] = '?';
		}
	}
	fwrite(body, 1, len, stdout);
}

/* Failed attempts, and refusals: one line each on stderr. */
static void log_line(void *ctx, fb_log_level level, const char *line)
{
	(void)ctx;
	if (level <= FB_LOG_WARN)
		fb_cli_error("call: %s", line);
}

/* --data-binary @FILE: the file's bytes, at most MAX_UPLOAD. */
static int read_upload(call_opts *o, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fb_cli_error("call: %s: %s", path, strerror(errno));
		return FB_EXIT_NOINPUT;
	}
	size_t cap = 0;
	for (;;) {
		if (o->upload_len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *b = (int64_t)cap < MAX_UPLOAD
			              ? realloc(o->upload, ncap)
			              : NULL;
			if (!b)
				break;
			o->upload = b;
			cap = ncap;
		}
		size_t n =
		    fread(o->upload + o->upload_len, 1, cap - o->upload_len, f);
		o->upload_len += n;
		if (n == 0)
			break;
	}
	bool bad = ferror(f) || !feof(f);
	fclose(f);
	if (bad) {
		fb_cli_error("call: %s: unreadable or over %lld bytes", path,
		             (long long)MAX_UPLOAD);
		return FB_EXIT_NOINPUT;
	}
	return 0;
}

static int check_args(call_opts *o)
{
	if (!o->method || !o->url) /* parse() set both, or said why */
		return FB_EXIT_USAGE;
	if (!fb_http_method_known(o->method)) {
		fb_cli_error("call: unknown HTTP method '%.32s' (GET, HEAD, "
		             "POST, PUT, PATCH, DELETE, OPTIONS, TRACE)",
		             o->method);
		return FB_EXIT_USAGE;
	}
	bool whole = strncmp(o->url, "http://", 7) == 0 ||
	             strncmp(o->url, "https://", 8) == 0;
	if (!whole && (!o->dep || strstr(o->url, "://"))) {
		fb_cli_error("call: '%.200s': give an http(s) URL, or a PATH "
		             "with --dep",
		             o->url);
		return FB_EXIT_USAGE;
	}
	if (o->data && o->data_binary) {
		fb_cli_error("call: --data and --data-binary: give one");
		return FB_EXIT_USAGE;
	}
	for (int i = 0; i < o->nheaders; i++) {
		const char *h = o->headers[i];
		if (!strchr(h, ':') || h[0] == ':' ||
		    fb_control_char(h, strlen(h))) {
			fb_cli_error("call: bad header '%.100s' (Name: value)",
			             h);
			return FB_EXIT_USAGE;
		}
	}
	if (o->data_binary && o->data_binary[0] == '@')
		return read_upload(o, o->data_binary + 1);
	return 0;
}

/* The client: the dependency's, or built-in defaults for a URL. */
static fb_client *make_client(call_opts *o, fb_config *cfg, int *rc)
{
	fb_client_options opts;
	fb_error err;
	fb_client *c = NULL;
	fb_client_options_init(&opts);
	opts.log = log_line;
	opts.log_level = FB_LOG_WARN;
	opts.retry_unsafe = o->retry_unsafe;
	opts.socket = o->dep ? cfg->control_socket : ""; /* never the env's */
	*rc = FB_EXIT_USAGE;
	if (!o->dep) {
		fb_url u;
		const char *why;
		if (fb_url_parse(o->url, &u, &why) != 0) {
			fb_cli_error("call: '%.200s': %s", o->url, why);
			return NULL;
		}
		char name[FB_NAME_MAX];
		snprintf(name, sizeof name, "%.63s", u.host);
		opts.url = o->url;
		c = fb_client_new(name, NULL, &opts, &err);
	} else {
		for (size_t i = 0; i < cfg->ndeps; i++) {
			if (strcmp(cfg->deps[i].name, o->dep) == 0)
				c = fb_client_new_dep(&cfg->deps[i], NULL,
				                      &opts, &err);
		}
	}
	if (!c)
		fb_cli_error("call: %s", err.text);
	*rc = c ? 0 : FB_EXIT_USAGE;
	return c;
}

static int exit_code(int rc, const fb_response *r, const fb_error *err,
                     const call_opts *o)
{
	switch (rc) {
	case FB_OK: break;
	case FB_E_UNAVAILABLE:
		fb_cli_error("call: %s", err->text);
		return FB_EXIT_TEMPFAIL;
	case FB_E_USAGE:
		fb_cli_error("call: %s", err->text);
		return FB_EXIT_USAGE;
	default: fb_cli_error("call: %s", err->text); return FB_EXIT_FAIL;
	}
	if (r->status >= 400) {
		fb_cli_error("call: %s %.200s: HTTP %ld after %d attempt%s",
		             o->method, o->url, r->status, r->attempts,
		             r->attempts == 1 ? "" : "s");
		return FB_EXIT_HTTP;
	}
	return FB_EXIT_OK;
}

static int run_call(call_opts *o, fb_config *cfg)
{
	int rc;
	fb_client *c = make_client(o, cfg, &rc);
	if (!c)
		return rc;
	fb_request rq;
	fb_response r;
	fb_error err;
	fb_request_init(&rq, o->method, o->url);
	rq.headers = o->headers;
	rq.deadline_ms = o->max_time_ms;
	if (o->upload || (o->data_binary && o->data_binary[0] == '@')) {
		rq.body = o->upload ? o->upload : "";
		rq.len = o->upload_len;
	} else if (o->data || o->data_binary) {
		rq.body = o->data ? o->data : o->data_binary;
		rq.len = strlen(rq.body);
	}
	rc = fb_client_send(c, &rq, &r, &err);
	if (rc == FB_OK && r.status < 400)
		print_body(r.body, r.len);
	rc = exit_code(rc, &r, &err, o);
	fb_response_free(&r);
	fb_client_free(c);
	return rc;
}

static int parse(int argc, char **argv, call_opts *o)
{
	static const struct option opts[] = {FB_OPTS_CALL(FB_X_GETOPT){0}};
	const char *why;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = fb_cli_getopt(argc, argv, opts)) != -1) {
		if (c == 'c')
			o->config = optarg;
		else if (c == 'd')
			o->dep = optarg;
		else if (c == 'b')
			o->data = optarg;
		else if (c == FB_OPT_DATA_BINARY)
			o->data_binary = optarg;
		else if (c == FB_OPT_RETRY_UNSAFE)
			o->retry_unsafe = true;
		else if (c == 'H' && o->nheaders < MAX_HEADERS)
			o->headers[o->nheaders++] = optarg;
		else if (c == FB_OPT_MAX_TIME &&
		         fb_parse_duration(optarg, &o->max_time_ms, &why) ==
		             0 &&
		         o->max_time_ms > 0)
			continue;
		else
			break;
	}
	if (c != -1 || optind + 2 != argc)
		return fb_cli_option_error("call", NULL, c, argc, argv);
	o->method = argv[optind];
	o->url = argv[optind + 1];
	return 0;
}

int fb_cmd_call(int argc, char **argv)
{
	call_opts o = {0};
	fb_config cfg = {0};
	int rc = parse(argc, argv, &o);
	if (rc == 0)
		rc = check_args(&o);
	if (rc == 0 && o.dep && fb_cli_load_config(o.config, &cfg) != 0)
		rc = FB_EXIT_CONFIG;
	if (rc == 0 && o.dep) {
		bool known = false;
		for (size_t i = 0; i < cfg.ndeps; i++)
			known |= strcmp(cfg.deps[i].name, o.dep) == 0;
		if (!known) {
			fb_cli_error("call: unknown dependency '%s'", o.dep);
			rc = FB_EXIT_USAGE;
		}
	}
	if (rc == 0)
		rc = run_call(&o, &cfg);
	if (o.dep)
		fb_config_free(&cfg);
	free(o.upload);
	return rc;
}
