/* The Lua scripts every fleet change goes through (SPEC 8). Each reads
 * the time from Redis TIME, never from an instance, and touches only
 * keys under {PREFIX:SERVICE}; they are loaded once per connection and
 * run with EVALSHA. */
#ifndef FB_FLEET_SCRIPTS_H
#define FB_FLEET_SCRIPTS_H

#include <stddef.h>

enum {
	/* KEYS: inst:ID, instances, gate, dep:NAME...
	 * ARGV: id, ttl_ms, host, pid, version, key prefix "{P:S}:",
	 *       quorum window ms, then NAME, "STATE HEALTH", VOTE ("1": this
	 *       instance sees NAME down) triples.
	 * Writes the heartbeat and the votes (dep:NAME:down), drops
	 * instances older than ttl and votes older than the window, and
	 * returns {now_ms, {{id, {field, value...}}...}, gate hash,
	 * {dep hash...}, {{voter id...} per dep}}. */
	FB_SCRIPT_HEARTBEAT,
	/* KEYS: cursor, events. ARGV: id, maxlen, host, then SEQ, JSON pairs
	 * in seq order. Appends each event whose seq is above the instance's
	 * cursor, moves the cursor, returns {cursor, appended}. */
	FB_SCRIPT_PUBLISH,
	/* KEYS: the hash (dep:NAME or gate). ARGV: the gen it must have
	 * ("" = any: an operator), open for ms ("" = leave open_until_ms),
	 * lease ms ("" = leave trial_exp_ms), then field, value pairs. Sets
	 * them with gen bumped and since_ms = now and returns the new gen
	 * (the fencing token), or 0 when gen had moved on. */
	FB_SCRIPT_DECIDE,
	FB_SCRIPT_COUNT
};

extern const char *const fb_fleet_scripts[FB_SCRIPT_COUNT];

#endif
