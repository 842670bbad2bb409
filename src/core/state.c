/* Names of states, health levels and probe kinds, generated from the
 * tables in fusebox/state.h. */
#include <string.h>

#include "fusebox/state.h"

#define X_NAME(id, name, help) name,
#define X_HELP(id, name, help) help,

static const char *const state_names[] = {FB_STATE_TABLE(X_NAME)};
static const char *const state_helps[] = {FB_STATE_TABLE(X_HELP)};
static const char *const health_names[] = {FB_HEALTH_TABLE(X_NAME)};
static const char *const kind_names[] = {FB_KIND_TABLE(X_NAME)};

static const char *name_at(const char *const *names, int count, int i)
{
	return (i >= 0 && i < count) ? names[i] : "?";
}

static bool find_name(const char *const *names, int count, const char *name,
                      int *out)
{
	for (int i = 0; i < count; i++) { /* the first letter first */
		if (names[i][0] == name[0] && strcmp(names[i], name) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

const char *fb_state_name(fb_state s)
{
	return name_at(state_names, FB_STATE_COUNT, (int)s);
}

const char *fb_state_help(fb_state s)
{
	return name_at(state_helps, FB_STATE_COUNT, (int)s);
}

const char *fb_health_name(fb_health h)
{
	return name_at(health_names, FB_HEALTH_COUNT, (int)h);
}

const char *fb_kind_name(fb_kind k)
{
	return name_at(kind_names, FB_KIND_COUNT, (int)k);
}

bool fb_state_parse(const char *name, fb_state *out)
{
	int i;
	if (!find_name(state_names, FB_STATE_COUNT, name, &i))
		return false;
	*out = (fb_state)i;
	return true;
}

bool fb_health_parse(const char *name, fb_health *out)
{
	int i;
	if (!find_name(health_names, FB_HEALTH_COUNT, name, &i))
		return false;
	*out = (fb_health)i;
	return true;
}

bool fb_kind_parse(const char *name, fb_kind *out)
{
	int i;
	if (!find_name(kind_names, FB_KIND_COUNT, name, &i))
		return false;
	*out = (fb_kind)i;
	return true;
}
