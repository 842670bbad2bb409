/* `fusebox call METHOD URL [--dep NAME] [--data BODY] [--config FILE]`:
 * one request through the breaker and retries. With --dep, the running
 * instance's breaker for that dependency is asked first (an open breaker
 * refuses at once, exit 75) and the dependency's timeout, max_retries and
 * retry_delay apply; retries wait retry_delay, doubling, with +-20%
 * jitter. The body goes to stdout, one status line per attempt to stderr.
 * Exit 0 on a 2xx/3xx answer, 69 when every attempt failed. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "fusebox/sanitize.h"
#include "loop.h"

typedef struct call_opts {
	const char *config, *dep, *data, *method, *url;
	int64_t timeout_ms, retry_delay_ms;
	int max_retries;
} call_opts;

/* Is the instance's breaker for dep open? Prints why and returns true. */
static bool breaker_refuses(const fb_config *cfg, const char *dep)
{
	fb_error err;
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "status");
	cJSON *doc = fb_client_call(cfg->control_socket, req, 2000, &err);
	cJSON_Delete(req);
	bool refuse = false;
	const cJSON *d;
	cJSON_ArrayForEach(
	    d, cJSON_GetObjectItemCaseSensitive(doc, "dependencies"))
	{
		const cJSON *name =
		    cJSON_GetObjectItemCaseSensitive(d, "service");
		const cJSON *state =
		    cJSON_GetObjectItemCaseSensitive(d, "state");
		const cJSON *retry =
		    cJSON_GetObjectItemCaseSensitive(d, "retry_after_s");
		if (!cJSON_IsString(name) ||
		    strcmp(name->valuestring, dep) != 0 ||
		    !cJSON_IsString(state))
			continue;
		refuse = !strcmp(state->valuestring, "open") ||
		         !strcmp(state->valuestring, "forced_open");
		if (refuse)
			fb_cli_error(
			    "%s is %s; retry in %.0fs", dep, state->valuestring,
			    cJSON_IsNumber(retry) ? retry->valuedouble : 0);
	}
	if (!doc)
		fb_cli_error("warning: %s (going ahead without the breaker)",
		             err.text);
	cJSON_Delete(doc);
	return refuse;
}

/* The body as it came, unless stdout is a terminal: then control
 * characters other than newline and tab are shown as '?', so a body
 * cannot retitle or recolour the operator's terminal. */
static size_t to_stdout(char *data, size_t size, size_t n, void *user)
{
	const bool *tty = user;
	size_t len = size * n;
	for (size_t i = 0; *tty && i < len; i++) {
		unsigned char ch = (unsigned char)data[i];
		if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
			data[i] = '?';
	}
	return fwrite(data, 1, len, stdout);
}

/* One attempt. Returns the HTTP status, or 0 with err on a transport
 * failure. */
static long attempt(const call_opts *o, char *err, size_t len)
{
	char buf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURL *e = curl_easy_init();
	if (!e) {
		snprintf(err, len, "out of memory");
		return 0;
	}
	curl_easy_setopt(e, CURLOPT_URL, o->url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, buf);
	bool tty = isatty(STDOUT_FILENO); /* lives through the perform below */
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, to_stdout);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &tty);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "fusebox/" FB_VERSION);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (o->data)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, o->data);
	CURLcode rc = curl_easy_perform(e);
	const char *why = buf[0] ? buf : curl_easy_strerror(rc);
	if (rc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	else
		fb_sanitize(err, len, why, strlen(why));
	curl_easy_cleanup(e);
	return status;
}

static int run_call(const call_opts *o)
{
	char err[256];
	int64_t delay = o->retry_delay_ms;
	unsigned seed = (unsigned)fb_now_us();
	for (int i = 0; i <= o->max_retries; i++) {
		long status = attempt(o, err, sizeof err);
		bool retry = status == 0 || status == 429 || status >= 500;
		if (status)
			fb_cli_error("attempt %d/%d: HTTP %ld", i + 1,
			             o->max_retries + 1, status);
		else
			fb_cli_error("attempt %d/%d: %s", i + 1,
			             o->max_retries + 1, err);
		if (!retry)
			return status < 400 ? FB_EXIT_OK : FB_EXIT_FAIL;
		if (i == o->max_retries)
			break;
		double jitter = 0.8 + 0.4 * ((double)rand_r(&seed) / RAND_MAX);
		int64_t wait = (int64_t)((double)delay * jitter);
		struct timespec ts = {(time_t)(wait / 1000),
		                      (long)(wait % 1000) * 1000000};
		nanosleep(&ts, NULL);
		delay *= 2;
	}
	return FB_EXIT_UNAVAILABLE;
}

/* Tuning from the dependency when named, else the built-in defaults. */
static int tune(call_opts *o)
{
	fb_config cfg;
	o->timeout_ms = 2000;
	o->max_retries = 3;
	o->retry_delay_ms = 1000;
	if (!o->dep)
		return 0;
	if (fb_cli_load_config(o->config, &cfg) != 0)
		return FB_EXIT_CONFIG;
	int rc = FB_EXIT_USAGE;
	for (size_t i = 0; i < cfg.ndeps; i++) {
		const fb_dep_config *d = &cfg.deps[i];
		if (strcmp(d->name, o->dep) != 0)
			continue;
		o->timeout_ms = d->t[FB_T_TIMEOUT];
		o->max_retries = (int)d->t[FB_T_MAX_RETRIES];
		o->retry_delay_ms = d->t[FB_T_RETRY_DELAY];
		rc = breaker_refuses(&cfg, o->dep) ? FB_EXIT_TEMPFAIL : 0;
	}
	if (rc == FB_EXIT_USAGE)
		fb_cli_error("call: unknown dependency '%s'", o->dep);
	fb_config_free(&cfg);
	return rc;
}

int fb_cmd_call(int argc, char **argv)
{
	static const struct option opts[] = {FB_OPTS_CALL(FB_X_GETOPT){0}};
	call_opts o = {0};
	int c;
	optind = 0;
	opterr = 0;
	while ((c = fb_cli_getopt(argc, argv, opts)) != -1) {
		if (c == 'c')
			o.config = optarg;
		else if (c == 'd')
			o.dep = optarg;
		else if (c == 'b')
			o.data = optarg;
		else
			break;
	}
	if (c != -1 || optind + 2 != argc)
		return fb_cli_option_error("call", NULL, c, argc, argv);
	o.method = argv[optind];
	o.url = argv[optind + 1];
	int rc = tune(&o);
	return rc ? rc : run_call(&o);
}
