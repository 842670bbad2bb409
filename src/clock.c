/* CLOCK_MONOTONIC and CLOCK_REALTIME in the units the program uses. */
#include <time.h>

#include "clock.h"

int64_t fb_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t fb_now_ms(void)
{
	return fb_now_us() / 1000;
}

int64_t fb_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
