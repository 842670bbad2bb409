/* A fleet for the end-to-end suites (test_fleet.c, test_console_fleet.c):
 * three fusebox instances of one service "svc" on this machine, each with
 * a config, log, control socket and stderr of its own in one temp dir,
 * one real redis-server on a spare loopback port, and the
 * fault-injection fixture; instance i (name a, b, c; host web-1..3)
 * probes the fixture's /api-NAME as its critical dependency "api", so one
 * host can see it down while the others see it up. */
#ifndef FB_TESTS_FLEET_WORLD_H
#define FB_TESTS_FLEET_WORLD_H

#include <stdbool.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "helpers.h"

#define TH_FLEET_N 3

typedef struct th_fleet_inst {
	char name[8], host[16];
	char cfg[400], log[400], sock[400], err[400];
	pid_t pid; /* 0 when not started by th_fleet_start */
} th_fleet_inst;

typedef struct th_fleet {
	th_env *e;
	const char *fusebox; /* the program under test (not owned) */
	th_fleet_inst in[TH_FLEET_N];
	char defaults[512]; /* the [defaults] section's lines */
	int quorum; /* 9 (never, with three) unless a test is about it */
	char fusebox_extra[256]; /* more [fusebox] lines */
	char redis_extra[1024];  /* more [redis] lines */
	bool no_redis;           /* the configs have no [redis] section */
	int wait_ms;   /* how long th_fleet_start waits for a socket */
	int cli_ms;    /* the limit of one th_fleet_cli */
	bool show_all; /* th_fleet_show: the instances not started too */
} th_fleet;

/* The [defaults] a fleet starts with: 200ms probes, open after 2
 * failures, 30s before a trial, no jitter. */
extern const char th_fleet_defaults[];

/* Fills f (zeroed by the caller) for the program fusebox: a fresh env
 * with the fixture (fixture_bin) and redis started, the instances'
 * names and paths, th_fleet_defaults, quorum 9. Returns 0, or -1 (then
 * th_fleet_free(f) cleans up). */
int th_fleet_init(th_fleet *f, const char *fusebox, const char *fixture_bin,
                  int wait_ms, int cli_ms);
/* Kills the instances started (SIGKILL), redis and the fixture, and
 * removes the dir; does not free f. */
void th_fleet_free(th_fleet *f);

/* The tails of the instances' logs and stderr, to explain a failure:
 * those started, or every one with show_all. */
void th_fleet_show(const th_fleet *f);

/* Writes in's config: api on its own path, critical, f's defaults and
 * extra [fusebox] lines; the [redis] section with f's quorum and extra
 * lines unless no_redis. Fails the test when it cannot. */
void th_fleet_write_config(const th_fleet *f, const th_fleet_inst *in);

/* Writes instance i's config and runs `fusebox run` on it; fails the
 * test (after th_fleet_show) unless its socket serves within wait_ms. */
void th_fleet_start(th_fleet *f, int i);

/* `fusebox ARGS... --config CFG` of instance i (at most 12 ARGS): its
 * exit code; r gets the result (caller frees it). */
int th_fleet_cli(const th_fleet *f, int i, th_result *r,
                 const char *const *args);
#define TH_FLEET_CLI(f, i, r, ...)                                             \
	th_fleet_cli((f), (i), (r), (const char *const[]){__VA_ARGS__, NULL})

/* `status --fleet --json` of instance i; NULL when it did not answer.
 * Caller frees (cJSON_Delete). */
cJSON *th_fleet_status(const th_fleet *f, int i);

/* How many live instances instance i's fleet view holds; -1: no answer. */
int th_fleet_live_count(const th_fleet *f, int i);

/* Fails the test (after th_fleet_show) unless instance i sees n live
 * instances within ms. */
void th_fleet_wait_live(const th_fleet *f, int i, int n, int ms);

#endif
