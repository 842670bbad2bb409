/* Log growth from outcome summaries (SPEC 6 `outcomes`): the real engine
 * on a simulated clock, probing every dependency at its interval (as the
 * scheduler does: at the end of the open wait while open), each event
 * rendered by the event log's own writer and its bytes counted. Prints
 *   bench outcomes_log_bytes_per_h_demo N bytes   (the `make run` fleet)
 *   bench outcomes_log_bytes_per_h_2000 N bytes   (2,000 deps, 5% flapping)
 * and the whole log's growth beside each, for comparison. */
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
} sink;

static void on_event(void *ctx, const fb_event *ev)
{
	sink *s = ctx;
	char *body = fb_log_render(&s->log, ev, 1795392000000LL + ev->at_ms);
	if (!body)
		abort();
	/* "{"v":1,"seq":N," and the newline around the rendered body */
	long long n = (long long)strlen(body) + 20;
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

/* One hour of probing; the answer of dependency i at t by how[i]. */
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
	while ((top = fb_heap_peek(&h)) && top->due_ms < HOUR_MS) {
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
			ok = (at.due_ms + phase[at.id]) / 8000 % 2 == 0;
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

int main(void)
{
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
