/* Names of event kinds and operator actions. */
#include <stdio.h>
#include <string.h>

#include "fusebox/event.h"
#include "fusebox/gate.h"

#define X_NAME(id, name) name,
static const char *const kind_names[] = {FB_EVENT_KIND_TABLE(X_NAME)};
static const char *const action_names[] = {FB_ACTION_TABLE(X_NAME)};
#undef X_NAME

const char *fb_event_kind_name(fb_event_kind k)
{
	return (unsigned)k < FB_EV_COUNT ? kind_names[k] : "?";
}

const char *fb_action_name(fb_action a)
{
	return (unsigned)a < FB_ACT_COUNT ? action_names[a] : "?";
}

int fb_event_kind_parse(const char *name, fb_event_kind *out)
{
	for (int i = 0; i < FB_EV_COUNT; i++) { /* the first letter first */
		if (kind_names[i][0] == name[0] &&
		    strcmp(kind_names[i], name) == 0) {
			*out = (fb_event_kind)i;
			return 0;
		}
	}
	return -1;
}

int fb_action_parse(const char *name, fb_action *out)
{
	for (int i = 1; i < FB_ACT_COUNT; i++) {
		if (strcmp(action_names[i], name) == 0) {
			*out = (fb_action)i;
			return 0;
		}
	}
	return -1;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

void fb_event_describe(const fb_event *ev, char *buf, size_t len)
{
	const char *reason = ev->reason && ev->reason[0] ? ev->reason : NULL;
	char wait[64] = "";
	if ((ev->kind == FB_EV_TRANSITION || ev->kind == FB_EV_SHADOW) &&
	    ev->retry_after_ms > 0) {
		char w[32];
		fb_format_wait(ev->retry_after_ms, w, sizeof w);
		snprintf(wait, sizeof wait, "%sretry in %s", reason ? "; " : "",
		         w);
	}
	switch (ev->kind) {
	case FB_EV_OPERATOR:
		snprintf(
		    buf, len, "%s: %s%s%s%s%s", ev->actor ? ev->actor : "?",
		    fb_action_name(ev->action), ev->dep ? " " : "",
		    or_empty(ev->dep), reason ? " -- " : "", or_empty(reason));
		break;
	case FB_EV_GATE:
		if (ev->from && ev->to && strcmp(ev->from, ev->to) == 0)
			/* only the mode moved (an operator's): not a no-op */
			snprintf(buf, len, "gate stays %s, mode %s: %s", ev->to,
			         or_empty(ev->mode), or_empty(reason));
		else
			snprintf(buf, len, "gate %s -> %s: %s",
			         or_empty(ev->from), or_empty(ev->to),
			         or_empty(reason));
		break;
	case FB_EV_HEALTH:
		snprintf(buf, len, "%s health %s -> %s (%s)", or_empty(ev->dep),
		         or_empty(ev->from), or_empty(ev->to),
		         or_empty(reason));
		break;
	case FB_EV_GAP:
		snprintf(buf, len, "%lld event%s lost%s%s", (long long)ev->lost,
		         ev->lost == 1 ? "" : "s", reason ? ": " : "",
		         or_empty(reason));
		break;
	case FB_EV_OUTCOMES:
		if (ev->outcomes)
			snprintf(buf, len,
			         "%s outcomes: %u ok, %u failed, %u slow",
			         or_empty(ev->dep), ev->outcomes->ok,
			         ev->outcomes->failed, ev->outcomes->slow);
		else
			snprintf(buf, len, "%s outcomes summarised",
			         or_empty(ev->dep));
		break;
	case FB_EV_SHADOW:
		snprintf(buf, len, "%s shadow would go %s -> %s (%s%s)",
		         or_empty(ev->dep), or_empty(ev->from),
		         or_empty(ev->to), or_empty(reason), wait);
		break;
	case FB_EV_TRANSITION: {
		/* a recovery is not an error: the last one is not repeated */
		bool err = ev->error && ev->error[0] &&
		           strcmp(or_empty(ev->to), "closed") != 0;
		snprintf(buf, len, "%s %s -> %s (%s%s)%s%s", or_empty(ev->dep),
		         or_empty(ev->from), or_empty(ev->to), or_empty(reason),
		         wait, err ? ": " : "", err ? ev->error : "");
		break;
	}
	default:
		snprintf(buf, len, "fusebox %s%s%s%s%s",
		         fb_event_kind_name(ev->kind), ev->version ? " " : "",
		         or_empty(ev->version), reason ? ": " : "",
		         or_empty(reason));
		break;
	}
}

fb_tone fb_event_tone(const fb_event *ev)
{
	const char *to = or_empty(ev->to);
	if (ev->kind == FB_EV_SHADOW) /* would-be: moves nothing */
		return FB_TONE_PLAIN;
	if (ev->kind == FB_EV_OPERATOR || strncmp(to, "forced", 6) == 0)
		return FB_TONE_FORCED;
	if (ev->kind == FB_EV_GAP || !strcmp(to, "open") ||
	    !strcmp(to, "unhealthy") || !strcmp(to, "blocked"))
		return FB_TONE_BAD;
	if (!strcmp(to, "half_open") || !strcmp(to, "degraded") ||
	    ev->kind == FB_EV_OUTCOMES)
		return FB_TONE_WARN;
	if (ev->kind == FB_EV_START || ev->kind == FB_EV_STOP ||
	    !strcmp(to, "unknown"))
		return FB_TONE_PLAIN;
	return FB_TONE_GOOD;
}
