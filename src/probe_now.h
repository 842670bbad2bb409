/* "Probe it now", as an operator asks (the console's p, the control
 * socket's probe op): a probe starts at once when the breaker lets one
 * start; otherwise the answer says why not, and what would help. */
#ifndef FB_PROBE_NOW_H
#define FB_PROBE_NOW_H

#include <stddef.h>

#include "runtime.h"

/* Returns 0 when a probe of `dep` started, -1 when not; msg says which,
 * in words. */
int fb_probe_now(fb_runtime *rt, const char *dep, char *msg, size_t len);

#endif
