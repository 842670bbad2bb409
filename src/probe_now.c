/* An operator's "probe it now". */
#include <stdio.h>

#include "probe_now.h"

int fb_probe_now(fb_runtime *rt, const char *dep, char *msg, size_t len)
{
	fb_dep *d = dep ? fb_registry_find(&rt->engine.reg, dep) : NULL;
	fb_breaker_snapshot s;
	char wait[32];
	int64_t now = fb_now_ms();
	if (!d) {
		snprintf(msg, len, "no dependency called %s", dep ? dep : "?");
		return -1;
	}
	fb_breaker_snapshot_get(d->breaker, &s);
	switch (s.state) {
	case FB_STATE_OPEN:
		fb_format_wait(s.open_until_ms - now, wait, sizeof wait);
		snprintf(msg, len,
		         "no probe: %s is open; its trial comes in %s (a reset "
		         "closes it now)",
		         dep, wait);
		return -1;
	case FB_STATE_FORCED_OPEN:
		snprintf(msg, len,
		         "no probe: %s is tripped; probes start again after a "
		         "reset",
		         dep);
		return -1;
	case FB_STATE_HALF_OPEN:
		snprintf(msg, len, "no probe: a trial of %s is deciding now",
		         dep);
		return -1;
	default: break;
	}
	uint32_t id = (uint32_t)(d - rt->engine.reg.deps);
	if (fb_probes_busy(rt->sched.probes, id)) {
		snprintf(msg, len, "no probe: one of %s is running now", dep);
		return -1;
	}
	fb_sched_kick(&rt->sched, id, now);
	snprintf(msg, len, "probing %s now", dep);
	return 0;
}
