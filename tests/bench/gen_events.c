/* Writes a synthetic event log: N events over a fleet of dependencies
 * flapping between closed, open and half-open, with health, gate and
 * operator events mixed in, one event a second of simulated time from
 * 2026-11-23T00:00:00Z, seq from FIRST (1 by default).
 * Usage: gen_events N [HOST [FIRST]] > LOG */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const states[] = {"closed", "open", "half_open"};

static void stamp(long long ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	char base[32];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03lldZ", base, ms % 1000);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	const char *host = argc > 2 ? argv[2] : "web-1";
	long first = argc > 3 ? strtol(argv[3], NULL, 10) : 1;
	int state[64] = {0};
	unsigned long long x = 88172645463325252ULL;
	long long t0 = 1795392000000LL; /* 2026-11-23T00:00:00Z */
	char ts[40];
	for (long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int d = (int)(x % 64);
		stamp(t0 + i * 1000, ts, sizeof ts);
		printf("{\"v\":1,\"seq\":%ld,\"ts\":\"%s\",\"host\":\"%s\",", i + first, ts, host);
		if (x % 97 == 0) {
			printf("\"kind\":\"operator\",\"action\":\"trip\",\"dep\":\"dep-%02d\","
			       "\"actor\":\"alice (uid 1000)\",\"reason\":\"drill\"}\n", d);
			continue;
		}
		if (x % 89 == 0) {
			printf("\"kind\":\"gate\",\"from\":\"allowed\",\"to\":\"blocked\","
			       "\"mode\":\"auto\",\"reason\":\"System unhealthy: dep-%02d is open\","
			       "\"retry_after_ms\":30000}\n", d);
			continue;
		}
		int from = state[d], to = (from + 1) % 3;
		state[d] = to;
		printf("\"kind\":\"transition\",\"dep\":\"dep-%02d\",\"from\":\"%s\",\"to\":\"%s\","
		       "\"health\":\"%s\",\"failures\":5%s}\n",
		       d, states[from], states[to],
		       to == 0 ? "healthy" : to == 1 ? "unhealthy" : "degraded",
		       to == 1 ? ",\"retry_after_ms\":60000,\"error\":\"connect: refused\"" : "");
	}
	return 0;
}
