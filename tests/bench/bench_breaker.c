/* Breaker hot path: allow + record success on a closed breaker, a reject
 * on an open one, and two threads each on its own breaker; against a bare
 * C11 atomic load + relaxed fetch_add loop measured in the same run.
 * Prints "bench NAME VALUE UNIT" lines. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fusebox/breaker.h"

#define CALLS 50000000L

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t seed = 42;

static fb_breaker *closed_breaker(void)
{
	fb_breaker_config cfg;
	fb_breaker_config_default(&cfg);
	return fb_breaker_new(&cfg, (fb_rng){fb_rng_xorshift, &seed}, 0);
}

static double closed_ns(fb_breaker *b)
{
	fb_transition tr;
	double t0 = now_s();
	for (long i = 0; i < CALLS; i++) {
		if (fb_breaker_allow(b, i, NULL, &tr))
			fb_breaker_success(b, i, 1, &tr);
	}
	return (now_s() - t0) * 1e9 / CALLS;
}

static void *closed_thread(void *arg)
{
	fb_breaker *b = closed_breaker();
	*(double *)arg = closed_ns(b);
	fb_breaker_free(b);
	return NULL;
}

static _Atomic int state_word;
static _Atomic uint64_t counter;

/* The floor: what any lock-free closed path must do at least. */
static double reference_ns(void)
{
	double t0 = now_s();
	for (long i = 0; i < CALLS; i++) {
		if (atomic_load_explicit(&state_word, memory_order_acquire) == 0)
			atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
	}
	return (now_s() - t0) * 1e9 / CALLS;
}

static double open_reject_ns(void)
{
	fb_breaker *b = closed_breaker();
	fb_transition tr;
	int64_t wait;
	for (int i = 0; i < 5; i++)
		fb_breaker_failure(b, 0, &tr);
	long n = CALLS / 5, rejected = 0;
	double t0 = now_s();
	for (long i = 0; i < n; i++)
		rejected += !fb_breaker_allow(b, 1, &wait, &tr);
	double ns = (now_s() - t0) * 1e9 / (double)n;
	fb_breaker_free(b);
	return rejected == n ? ns : -1;
}

int main(void)
{
	fb_breaker *b = closed_breaker();
	double ref = reference_ns();
	double closed = closed_ns(b);
	double reject = open_reject_ns();
	double two[2];
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, closed_thread, &two[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("bench breaker_ref_atomic_ns %.2f ns/call\n", ref);
	printf("bench breaker_closed_ns %.2f ns/call\n", closed);
	printf("bench breaker_open_reject_ns %.2f ns/call\n", reject);
	printf("bench breaker_closed_2t_ns %.2f ns/call\n", (two[0] + two[1]) / 2);
	printf("bench breaker_closed_ratio %.2f x\n", closed / ref);
	fb_breaker_free(b);
	return 0;
}
