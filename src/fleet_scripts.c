/* The fleet's Lua scripts. Redis 5+ replicates their effects, so TIME
 * may be read before writing. */
#include "fleet_scripts.h"

#define NOW                                                                    \
	"local t = redis.call('TIME')\n"                                       \
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / "     \
	"1000)\n"

static const char heartbeat[] = NOW
    "local id, ttl, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[7])\n"
    "redis.call('DEL', KEYS[1])\n"
    "local f = {'host', ARGV[3], 'pid', ARGV[4], 'version', ARGV[5],\n"
    "           'seen_ms', now}\n"
    "local votes = {}\n"
    "for i = 8, #ARGV - 2, 3 do\n"
    "  f[#f + 1] = 'dep:' .. ARGV[i]\n"
    "  f[#f + 1] = ARGV[i + 1]\n"
    "  local down = ARGV[6] .. 'dep:' .. ARGV[i] .. ':down'\n"
    "  if ARGV[i + 2] == '1' then\n"
    "    redis.call('ZADD', down, now, id)\n"
    "  else\n"
    "    redis.call('ZREM', down, id)\n"
    "  end\n"
    "  redis.call('ZREMRANGEBYSCORE', down, '-inf', now - window)\n"
    "  votes[#votes + 1] = redis.call('ZRANGEBYSCORE', down, now - window,\n"
    "                                 '+inf')\n"
    "end\n"
    "redis.call('HSET', KEYS[1], unpack(f))\n"
    "redis.call('PEXPIRE', KEYS[1], ttl)\n"
    "redis.call('ZADD', KEYS[2], now, id)\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)\n"
    "local live = redis.call('ZRANGEBYSCORE', KEYS[2], now - ttl, '+inf')\n"
    "local inst = {}\n"
    "for i = 1, #live do\n"
    "  local h = redis.call('HGETALL', ARGV[6] .. 'inst:' .. live[i])\n"
    "  if #h > 0 then inst[#inst + 1] = {live[i], h} end\n"
    "end\n"
    "local deps = {}\n"
    "for i = 4, #KEYS do deps[#deps + 1] = redis.call('HGETALL', KEYS[i]) "
    "end\n"
    "return {now, inst, redis.call('HGETALL', KEYS[3]), deps, votes}\n";

/* Seqs ascend within a batch; the last event of it trims the stream
 * (MAXLEN ~ once a batch, not once an event: the same stream after it,
 * for less of Redis's time per event). */
static const char publish[] =
    "local call = redis.call\n"
    "local cur = call('HGET', KEYS[1], ARGV[1]) or '0'\n"
    "local last, n = tonumber(cur), 0\n"
    "local events, id, host, maxlen = KEYS[2], ARGV[1], ARGV[3], ARGV[2]\n"
    "local top = #ARGV - 1\n"
    "for i = 4, top, 2 do\n"
    "  local seq = tonumber(ARGV[i])\n"
    "  if seq > last then\n"
    "    if i < top then\n"
    "      call('XADD', events, '*', 'instance', id, 'host', host,\n"
    "           'seq', ARGV[i], 'event', ARGV[i + 1])\n"
    "    else\n"
    "      call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'instance', id,\n"
    "           'host', host, 'seq', ARGV[i], 'event', ARGV[i + 1])\n"
    "    end\n"
    "    last, cur, n = seq, ARGV[i], n + 1\n"
    "  end\n"
    "end\n"
    "if n > 0 then call('HSET', KEYS[1], id, cur) end\n"
    "return {cur, n}\n";

static const char decide[] =
    NOW "local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')\n"
        "if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= gen then return 0 end\n"
        "gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)\n"
        "local f = {'since_ms', now}\n"
        "if ARGV[2] ~= '' then\n"
        "  f[#f + 1] = 'open_until_ms'\n"
        "  f[#f + 1] = now + tonumber(ARGV[2])\n"
        "end\n"
        "if ARGV[3] ~= '' then\n"
        "  f[#f + 1] = 'trial_exp_ms'\n"
        "  f[#f + 1] = now + tonumber(ARGV[3])\n"
        "end\n"
        "for i = 4, #ARGV do f[#f + 1] = ARGV[i] end\n"
        "redis.call('HSET', KEYS[1], unpack(f))\n"
        "return gen\n";

const char *const fb_fleet_scripts[FB_SCRIPT_COUNT] = {
    [FB_SCRIPT_HEARTBEAT] = heartbeat,
    [FB_SCRIPT_PUBLISH] = publish,
    [FB_SCRIPT_DECIDE] = decide,
};
