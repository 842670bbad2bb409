/* `fusebox run [--config FILE] [--duration SECONDS]`: the headless engine.
 * SIGTERM and SIGINT stop it cleanly; SIGHUP reloads the config. Under
 * systemd (Type=notify) it says when it is ready, reloading or stopping,
 * keeps a status line and feeds the watchdog. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <syslog.h>

#include "cli.h"
#include "core/parse.h"
#include "notify.h"
#include "runtime.h"
#include "stderr_log.h"

/* One line on how the run went: probes, punctuality, memory. */
static void report(const fb_runtime *rt, int64_t start_ms)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	fb_stderr_say(LOG_INFO,
	              "ran %.1fs: %llu probes started, start lateness p50 %lld "
	              "ms p99 %lld ms, cpu %.2fs, max rss %ld KB",
	              (double)(fb_now_ms() - start_ms) / 1000.0,
	              (unsigned long long)rt->sched.started,
	              (long long)fb_sched_lateness(&rt->sched, 50),
	              (long long)fb_sched_lateness(&rt->sched, 99),
	              (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	                  (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) /
	                      1e6,
	              ru.ru_maxrss);
}

int fb_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {FB_OPTS_RUN(FB_X_GETOPT){0}};
	const char *config = NULL, *why;
	int64_t duration_ms = -1;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = fb_cli_getopt(argc, argv, opts)) != -1) {
		if (c == 'c') {
			config = optarg;
		} else if (c == 'd' &&
		           fb_parse_duration(optarg, &duration_ms, &why) == 0) {
			continue;
		} else {
			if (c == 'd')
				fb_cli_error("run: bad --duration '%s': %s",
				             optarg, why);
			return fb_cli_option_error("run", NULL, c, argc, argv);
		}
	}
	if (optind != argc) {
		fb_cli_error("run: unexpected argument '%s'", argv[optind]);
		return FB_EXIT_USAGE;
	}
	fb_runtime *rt = malloc(sizeof *rt);
	fb_error err;
	fb_notify notify;
	int code;
	if (!rt ||
	    fb_runtime_start(rt, config, FB_RUNTIME_SERVE | FB_RUNTIME_STDERR,
	                     &err, &code) != 0) {
		fb_cli_error("%s", rt ? err.text : "out of memory");
		free(rt);
		return rt ? code : FB_EXIT_FAIL;
	}
	/* the socket is served and the start event is in the log */
	fb_notify_init(&notify, fb_now_ms());
	rt->notify = &notify;
	fb_notify_ready(&notify, rt);
	int64_t start = fb_now_ms();
	int64_t end = duration_ms >= 0 ? fb_now_ms() + duration_ms : -1;
	while (!rt->stopping && (end < 0 || fb_now_ms() < end)) {
		int64_t now = fb_now_ms();
		int64_t wait = end < 0 ? 1000 : end - now;
		int64_t keepalive = fb_notify_tick(&notify, rt, now);
		if (wait > 1000)
			wait = 1000;
		if (wait > keepalive)
			wait = keepalive;
		fb_runtime_step(rt, (int)wait);
	}
	const char *ended = rt->stopping ? "signal" : "duration elapsed";
	fb_notify_stopping(&notify, ended);
	rt->notify = NULL;
	report(rt, start);
	fb_runtime_stop(rt, ended);
	free(rt);
	return FB_EXIT_OK;
}
