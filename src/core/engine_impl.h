/* Between the engine's own files (src/core/engine.c, calls.c). */
#ifndef FB_CORE_ENGINE_IMPL_H
#define FB_CORE_ENGINE_IMPL_H

#include "fusebox/engine.h"

/* Reports what d's breaker transition *tr (changed or not) means: the
 * transition event, then health and gate changes, as after a probe. */
void fb_engine_settle(fb_engine *e, fb_dep *d, const fb_transition *tr,
                      int64_t now_ms);

/* A reported call's outcome, for the outcome summaries and the shadow
 * breaker, as a probe's goes (SPEC 6 outcomes). */
void fb_engine_note_call(fb_engine *e, fb_dep *d, int64_t now_ms, bool ok,
                         int64_t latency_us);

#endif
