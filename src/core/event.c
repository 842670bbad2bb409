/* Names of event kinds and operator actions. */
#include <string.h>

#include "fusebox/event.h"

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
	for (int i = 0; i < FB_EV_COUNT; i++) {
		if (strcmp(kind_names[i], name) == 0) {
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
