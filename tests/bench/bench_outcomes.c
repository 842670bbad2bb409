/* Log growth from outcome summaries (SPEC 6 `outcomes`): the real engine
 * on a simulated clock, probing every dependency at its interval (as the
 * scheduler does: at the end of the open wait while open), each event
 * rendered by the event log's own writer and its bytes counted. Prints
 *   bench outcomes_log_bytes_per_h_demo N bytes   (the `make run` fleet)
 *   bench outcomes_log_bytes_per_h_2000 N bytes   (2,000 deps, 5% flapping)
 * and the whole log's growth beside each, for comparison.
 *
 * `bench_outcomes LOG N` instead writes a log of N events the same way
 * (200 dependencies probed every second, half of them flapping with
 * outages of 4 to 32 s) and its configuration as LOG.ini: what
 * bench_whatif.sh replays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/heap.h"
#include "eventlog.h"
#include "fusebox/config.h"
#include "fusebox/engine.h"

#define HOUR_MS (3600LL * 1000)

typedef enum { B_OK, B_FAIL, B_SLOW, B_FLAP, B_RANDOM } behaviour;

typedef struct sink {
	fb_log log;
	long long bytes, outcome_bytes, events, outcomes;
	FILE *out;       /* writing a log: its file */
	long long limit; /* events to write */
} sink;

static void on_event(void *ctx, const fb_event *ev)
{
	sink *s = ctx;
	char *body = fb_log_render(&s->log, ev, 1795392000000LL + ev->at_ms);
	if (!body)
		abort();
	/* "{"v":1,"seq":N," and the newline around the rendered body */
	long long n = (long long)strlen(body) + 20;
	if (s->out && s->events < s->limit)
		fprintf(s->out, "{\"v\":1,\"seq\":%lld,%s\n", s->events + 1,
		        body + 1);
	free(body);
	s->bytes += n;
	s->events++;
	if (ev->kind == FB_EV_OUTCOMES) {
		s->outcome_bytes += n;
		s->outcomes++;
	}
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* How long a flapping dependency stays up, then down: 8 s in the
 * measured fleets; 4 to 32 s in a written log. */
static int64_t period_ms = 0;
static int64_t flap_ms(uint32_t id)
{
	return period_ms ? period_ms : 4000 << (id % 4);
}

/* One hour of probing (or until s->limit events are written); the answer of dependency i at t by how[i]. */
static void simulate(const fb_config *cfg, const behaviour *how,
                     const int64_t *phase, sink *s)
{
	fb_engine e;
	fb_heap h = {0};
	uint64_t x = 88172645463325252ULL;
	if (fb_engine_init(&e, cfg, 7, 0, on_event, s) != 0)
		abort();
	for (uint32_t i = 0; i < e.reg.count; i++)
		fb_heap_push(&h, (fb_heap_entry){phase[i], i, 0});
	int64_t next_tick = 0;
	const fb_heap_entry *top;
	int64_t end = s->out ? INT64_MAX : HOUR_MS;
	while ((top = fb_heap_peek(&h)) && top->due_ms < end &&
	       (!s->out || s->events < s->limit)) {
		fb_heap_entry at = *top;
		fb_heap_pop(&h);
		while (next_tick <= at.due_ms) {
			fb_engine_tick(&e, next_tick);
			next_tick += 1000;
		}
		fb_dep *d = &e.reg.deps[at.id];
		int64_t interval = d->cfg.t[FB_T_INTERVAL], wait = -1;
		if (!fb_engine_probe_begin(&e, d, at.due_ms, &wait)) {
			fb_heap_push(
			    &h, (fb_heap_entry){
			            at.due_ms + (wait > 0 ? wait : interval),
			            at.id, 0});
			continue;
		}
		bool ok = true;
		int64_t lat = 2;
		switch (how[at.id]) {
		case B_OK: break;
		case B_FAIL: ok = false; break;
		case B_SLOW: lat = 1500; break;
		case B_FLAP:
			ok = (at.due_ms + phase[at.id]) / flap_ms(at.id) % 2 ==
			     0;
			break;
		case B_RANDOM: ok = rnd(&x) % 100 >= 15; break;
		}
		fb_engine_probe_end(&e, d, at.due_ms + lat, ok, lat * 1000,
		                    ok ? NULL : "bad status 503");
		fb_heap_push(&h,
		             (fb_heap_entry){at.due_ms + interval, at.id, 0});
	}
	fb_engine_flush_outcomes(&e, HOUR_MS, true);
	fb_engine_free(&e);
	fb_heap_free(&h);
}

static int load(const char *text, fb_config *cfg)
{
	char path[] = "/tmp/fb-bench-outcomes-XXXXXX";
	int fd = mkstemp(path);
	fb_error err;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		return -1;
	int rc = fb_config_load(path, cfg, &err, NULL);
	unlink(path);
	if (rc != 0)
		fprintf(stderr, "bench_outcomes: %s\n", err.text);
	return rc;
}

static void report(const char *name, const sink *s)
{
	printf("bench outcomes_log_bytes_per_h_%s %lld bytes\n", name,
	       s->outcome_bytes);
	printf("bench outcomes_events_per_h_%s %lld events\n", name,
	       s->outcomes);
	printf("bench log_bytes_per_h_%s %lld bytes\n", name, s->bytes);
}

static int write_log(const char *path, long long n)
{
	char ini[600];
	size_t deps = 200, len = 128 + deps * 48;
	char *text = malloc(len);
	behaviour *how = malloc(deps * sizeof *how);
	int64_t *phase = malloc(deps * sizeof *phase);
	snprintf(ini, sizeof ini, "%s.ini", path);
	FILE *f = fopen(ini, "w");
	sink s = {.limit = n};
	fb_config cfg;
	if (!text || !how || !phase || !f)
		return 1;
	size_t used = (size_t)snprintf(
	    text, len, "[fusebox]\nlog = %s\n[defaults]\ninterval = 1s\n",
	    path);
	for (size_t i = 0; i < deps; i++) {
		used += (size_t)snprintf(text + used, len - used,
		                         "[dep d%03zu]\nurl = http://h/d%zu\n",
		                         i, i);
		how[i] = i % 2 ? B_FLAP : B_OK;
		phase[i] = (int64_t)(i * 137 % 1000);
	}
	if (fputs(text, f) < 0 || fclose(f) != 0 || load(text, &cfg) != 0)
		return 1;
	s.out = fopen(path, "w");
	snprintf(s.log.host, sizeof s.log.host, "web-1");
	if (!s.out)
		return 1;
	period_ms = 0;
	simulate(&cfg, how, phase, &s);
	fb_config_free(&cfg);
	free(text);
	free(how);
	free(phase);
	return fclose(s.out) == 0 && s.events >= n ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3)
		return write_log(argv[1], strtoll(argv[2], NULL, 10));
	period_ms = 8000;
	/* the demo fleet of tests/demo/run, minus Redis */
	static const char demo[] =
	    "[fusebox]\nlog = /dev/null\n[defaults]\ninterval = 2s\n"
	    "timeout = 2s\nfailure_threshold = 3\nrecovery_timeout = 10s\n"
	    "backoff_cap = 2m\nslow_call = 1s\n"
	    "[dep api]\nurl = http://h/api\ncritical = true\n"
	    "[dep auth]\nurl = http://h/auth\ncritical = true\n"
	    "[dep sessions]\nurl = http://h/sessions\ncritical = true\n"
	    "failure_threshold = 2\n"
	    "[dep search]\nurl = http://h/search\n"
	    "[dep vectors]\nurl = http://h/vectors\npreset = slow\n"
	    "[dep billing]\nurl = http://h/billing\n"
	    "[dep partner-feed]\nurl = http://h/hostile\n"
	    "[dep postgres]\nurl = tcp://127.0.0.1:1\n";
	static const behaviour demo_how[] = {B_OK,   B_OK,   B_RANDOM, B_FLAP,
	                                     B_SLOW, B_FAIL, B_FAIL,   B_FAIL};
	static const int64_t demo_phase[8] = {0, 20, 40, 60, 80, 100, 120, 140};
	fb_config cfg;
	sink s = {0};
	snprintf(s.log.host, sizeof s.log.host, "demo");
	if (load(demo, &cfg) != 0)
		return 1;
	simulate(&cfg, demo_how, demo_phase, &s);
	fb_config_free(&cfg);
	report("demo", &s);

	/* 2,000 dependencies at the defaults, one in twenty flapping */
	size_t n = 2000, len = 64 + n * 48;
	char *big = malloc(len);
	behaviour *how = malloc(n * sizeof *how);
	int64_t *phase = malloc(n * sizeof *phase);
	if (!big || !how || !phase)
		return 1;
	size_t used =
	    (size_t)snprintf(big, len, "[fusebox]\nlog = /dev/null\n");
	for (size_t i = 0; i < n; i++) {
		used += (size_t)snprintf(big + used, len - used,
		                         "[dep d%04zu]\nurl = http://h/d%zu\n",
		                         i, i);
		how[i] = i % 20 == 7 ? B_FLAP : B_OK;
		phase[i] = (int64_t)(i * 2503 % 5000);
	}
	sink s2 = {0};
	snprintf(s2.log.host, sizeof s2.log.host, "web-1");
	if (load(big, &cfg) != 0)
		return 1;
	simulate(&cfg, how, phase, &s2);
	fb_config_free(&cfg);
	report("2000", &s2);
	free(big);
	free(how);
	free(phase);
	return 0;
}
