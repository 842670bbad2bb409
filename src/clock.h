/* The clocks adapters read; the core never does (time comes in as an
 * argument). */
#ifndef FB_CLOCK_H
#define FB_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC, and microseconds. */
int64_t fb_now_ms(void);
int64_t fb_now_us(void);
/* Wall clock, milliseconds since the epoch. */
int64_t fb_wall_ms(void);

#endif
