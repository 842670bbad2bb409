/* The fleet's Redis reply handling (issue 14) on any bytes: hiredis's
 * reader turns them into replies, as the fleet connection does, and each
 * reply goes through fb_fleet_view_parse() (the heartbeat's reply) and
 * fb_fleet_published_parse() (the publish script's). A reply is refused
 * with a reason or gives a view within its caps whose every text is
 * sanitised; nothing crashes, leaks or reads past what it was given. */
#include <hiredis/hiredis.h>
#include <stdbool.h>

#include "fleet_view.h"
#include "fuzz.h"

/* hiredis 0.14 allocates what a multi-bulk header announces before the
 * elements arrive (1.0 has maxelements): a peer saying "*2000000000" is
 * an allocation failure there, not a bug of ours, so such inputs are
 * left out. Our peer is the configured Redis. */
static bool announces_huge(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (d[i] != '*' && d[i] != '$')
			continue;
		size_t k = i + 1, digits = 0;
		while (k < n && d[k] >= '0' && d[k] <= '9') {
			k++;
			digits++;
		}
		if (digits > 6)
			return true;
	}
	return false;
}

static void check_text(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	FUZZ_CHECK(n < cap);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

static void check_view(const fb_fleet_view *v)
{
	FUZZ_CHECK(v->ninst <= FB_FLEET_INST_MAX);
	FUZZ_CHECK(v->ndeps <= FB_FLEET_DEPS_MAX);
	FUZZ_CHECK(v->nvotes <= FB_FLEET_DEPS_MAX);
	for (size_t i = 0; i < v->ninst; i++) {
		const fb_fleet_inst *in = &v->inst[i];
		check_text(in->id, sizeof in->id);
		check_text(in->host, sizeof in->host);
		check_text(in->version, sizeof in->version);
		FUZZ_CHECK(in->ndeps <= FB_FLEET_DEPS_MAX);
		for (size_t k = 0; k < in->ndeps; k++) {
			check_text(in->deps[k].name, sizeof in->deps[k].name);
			FUZZ_CHECK(in->deps[k].state < FB_STATE_COUNT);
			FUZZ_CHECK(in->deps[k].health < FB_HEALTH_COUNT);
		}
	}
	for (size_t i = 0; i < v->ndeps; i++) {
		const fb_fleet_dep *d = &v->deps[i];
		FUZZ_CHECK(d->name[0]);
		check_text(d->name, sizeof d->name);
		check_text(d->reason, sizeof d->reason);
		check_text(d->actor, sizeof d->actor);
		check_text(d->trial_owner, sizeof d->trial_owner);
		FUZZ_CHECK(d->trials < 64);
	}
	for (size_t i = 0; i < v->nvotes; i++)
		FUZZ_CHECK(v->votes[i].n <= FB_FLEET_INST_MAX);
	check_text(v->gate.mode, sizeof v->gate.mode);
	check_text(v->gate.reason, sizeof v->gate.reason);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fb_fleet_view view;
	static const char *const names[] = {"api", "cache", "db"};
	char err[256];
	if (announces_huge(data, size))
		return 0;
	redisReader *rd = redisReaderCreate();
	if (!rd)
		abort();
	if (redisReaderFeed(rd, (const char *)data, size) != REDIS_OK)
		abort();
	for (int i = 0; i < 64; i++) {
		void *r = NULL;
		if (redisReaderGetReply(rd, &r) != REDIS_OK || !r)
			break;
		err[0] = '\0';
		if (fb_fleet_view_parse(r, names, 3, &view, err, sizeof err) ==
		    0)
			check_view(&view);
		else
			FUZZ_CHECK(err[0]);
		uint64_t cursor;
		int64_t added;
		if (fb_fleet_published_parse(r, &cursor, &added) == 0)
			FUZZ_CHECK(added >= 0);
		freeReplyObject(r);
	}
	redisReaderFree(rd);
	return 0;
}
