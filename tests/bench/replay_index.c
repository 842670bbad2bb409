/* Replay index: time to open a log for the console's replay mode, time
 * to seek anywhere (state of every dependency at a random instant), and
 * the memory it takes next to the log's size. Usage: bench_timeline LOG */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "timeline.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	fb_timeline tl;
	char err[600];
	struct stat st;
	if (argc != 2 || stat(argv[1], &st) != 0)
		return 2;
	double t0 = now_s();
	if (fb_timeline_load(&tl, argv + 1, 1, true, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	double open_s = now_s() - t0;
	uint8_t *state = malloc(tl.ndeps + 1), *health = malloc(tl.ndeps + 1);
	fb_tl_state s = {state, health, false};
	srand(7);
	double worst = 0;
	for (int i = 0; i < 1000; i++) {
		int64_t span = tl.ev[tl.n - 1].ts_ms - tl.ev[0].ts_ms;
		int64_t at = tl.ev[0].ts_ms + (int64_t)((double)rand() / RAND_MAX * (double)span);
		double a = now_s();
		fb_timeline_state(&tl, fb_timeline_count_at(&tl, at), &s);
		double d = now_s() - a;
		if (d > worst)
			worst = d;
	}
	long anon_kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof line, f)) {
		if (sscanf(line, "RssAnon: %ld kB", &anon_kb) == 1)
			break;
	}
	if (f)
		fclose(f);
	printf("bench replay_open_s %.3f s\n", open_s);
	printf("bench replay_events %zu events\n", tl.n);
	printf("bench replay_seek_worst_ms %.3f ms\n", worst * 1000);
	printf("bench replay_index_mb %.1f MB\n",
	       (double)(tl.n * sizeof *tl.ev) / (1 << 20));
	printf("bench replay_log_size_mb %.1f MB\n", (double)st.st_size / (1 << 20));
	printf("bench replay_rss_anon_mb %.1f MB\n", (double)anon_kb / 1024);
	free(state);
	free(health);
	fb_timeline_free(&tl);
	return 0;
}
