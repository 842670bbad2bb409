/* The HTTP client's cost: a GET through fb_client (breaker, retry
 * bookkeeping, pooled handle, status history) against a bare libcurl easy
 * handle reused for every call, both against the same keep-alive nginx
 * on 127.0.0.1, in the same run, in alternating rounds. Target: at most
 * 1.1x. Prints "bench NAME VALUE UNIT" lines. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "fusebox/client.h"

enum { ROUNDS = 7, CALLS = 3000 };

static char dir[] = "/tmp/fusebox-bench-client-XXXXXX";

static void stop_nginx(void)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd,
	         "kill $(cat %s/nginx.pid 2>/dev/null) 2>/dev/null; rm -rf %s",
	         dir, dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_client: cleaning up %s failed\n", dir);
}

/* nginx on a spare port, keep-alive without limit; returns the port. */
static int start_nginx(void)
{
	char conf[512], cmd[1024];
	FILE *f;
	int port = 0;
	if (!mkdtemp(dir))
		return -1;
	snprintf(cmd, sizeof cmd,
	         "python3 -c 'import socket; s=socket.socket(); "
	         "s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'");
	if (!(f = popen(cmd, "r")) || fscanf(f, "%d", &port) != 1)
		return -1;
	pclose(f);
	snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
	if (!(f = fopen(conf, "w")))
		return -1;
	fprintf(f,
	        "daemon on; worker_processes 1; pid %s/nginx.pid;\n"
	        "error_log %s/error.log;\nevents { worker_connections 1024; }\n"
	        "http { access_log off; keepalive_requests 10000000;\n"
	        "  keepalive_timeout 600s;\n"
	        "  server { listen 127.0.0.1:%d; location / { return 200 "
	        "\"ok\\n\"; } } }\n",
	        dir, dir, port);
	fclose(f);
	snprintf(cmd, sizeof cmd, "nginx -c %s -p %s -e %s/error.log", conf,
	         dir, dir);
	if (system(cmd) != 0)
		return -1;
	atexit(stop_nginx);
	usleep(200000);
	return port;
}

static size_t discard(char *d, size_t size, size_t n, void *user)
{
	(void)d;
	(void)user;
	return size * n;
}

/* Microseconds per call of the bare handle. */
static double bare_round(CURL *e)
{
	int64_t t0 = fb_now_us();
	for (int i = 0; i < CALLS; i++) {
		long status = 0;
		if (curl_easy_perform(e) != CURLE_OK ||
		    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status) !=
		        CURLE_OK ||
		    status != 200) {
			fprintf(stderr, "bench_client: bare call failed\n");
			exit(1);
		}
	}
	return (double)(fb_now_us() - t0) / CALLS;
}

static double client_round(fb_client *c)
{
	int64_t t0 = fb_now_us();
	for (int i = 0; i < CALLS; i++) {
		fb_response r;
		fb_error err;
		if (fb_client_get(c, "/ok", &r, &err) != FB_OK ||
		    r.status != 200) {
			fprintf(stderr, "bench_client: %s\n", err.text);
			exit(1);
		}
		fb_response_free(&r);
	}
	return (double)(fb_now_us() - t0) / CALLS;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	char url[128];
	fb_error err;
	int port = start_nginx();
	if (port <= 0) {
		fprintf(stderr, "bench_client: cannot start nginx\n");
		return 1;
	}
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	fb_client_options o;
	fb_client_options_init(&o);
	o.url = url;
	fb_client *c = fb_client_new("nginx", NULL, &o, &err);
	if (!c) {
		fprintf(stderr, "bench_client: %s\n", err.text);
		return 1;
	}
	strncat(url, "/ok", sizeof url - strlen(url) - 1);
	CURL *e = curl_easy_init();
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	double bare[ROUNDS], mine[ROUNDS];
	bare_round(e); /* warm both: connections up, caches filled */
	client_round(c);
	for (int i = 0; i < ROUNDS; i++) {
		bare[i] = bare_round(e);
		mine[i] = client_round(c);
	}
	qsort(bare, ROUNDS, sizeof bare[0], cmp);
	qsort(mine, ROUNDS, sizeof mine[0], cmp);
	double b = bare[ROUNDS / 2], m = mine[ROUNDS / 2];
	printf("bench client_call_us %.2f us/call\n", m);
	printf("bench client_bare_curl_us %.2f us/call\n", b);
	printf("bench client_overhead_us %.2f us/call\n", m - b);
	printf("bench client_overhead_ratio %.3f x\n", m / b);
	curl_easy_cleanup(e);
	fb_client_free(c);
	return 0;
}
