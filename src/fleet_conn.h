/* The fleet's one connection to Redis, inside the one event loop.
 *
 * hiredis 0.14 has no connect timeout and its async API cannot adopt a
 * socket it did not connect, so the connect is curl's (CONNECT_ONLY: the
 * name lookup runs in curl's resolver, off the loop, with our deadline)
 * and hiredis only formats commands and parses replies on that socket;
 * the reply callbacks are ours, in order. A lost connection comes back
 * with a jittered backoff (250 ms doubling to 5 s); every connect
 * authenticates (ACL user + password), selects the database and loads the
 * Lua scripts once; an EVALSHA answered NOSCRIPT is sent again after the
 * script is loaded again. */
#ifndef FB_FLEET_CONN_H
#define FB_FLEET_CONN_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fusebox/config.h"
#include "loop.h"

typedef struct fb_fleet_conn fb_fleet_conn;

/* A reply in the order commands were sent; r is NULL when the connection
 * was lost before the reply came (or the command was never sent). r is
 * freed after the call returns. */
typedef void (*fb_redis_reply_fn)(void *ctx, const redisReply *r);
/* Told when the connection becomes ready (up) or is lost (!up, with the
 * reason in words). */
typedef void (*fb_redis_state_fn)(void *ctx, bool up, const char *why);

#define FB_FLEET_CONNECT_TIMEOUT_MS 2000
#define FB_FLEET_BACKOFF_MIN_MS     250
#define FB_FLEET_BACKOFF_MAX_MS     5000
#define FB_FLEET_PENDING_MAX        1024 /* commands in flight */

/* The password for cfg: the first line of cfg->password_file, which must
 * be a regular file of ours that group and others cannot read, else
 * $FUSEBOX_REDIS_PASSWORD, else "" (no AUTH). Returns 0, or -1 with *err
 * naming the file and what is wrong with it. */
int fb_fleet_password(const fb_redis_config *cfg, char *out, size_t len,
                      fb_error *err);

/* A connection to cfg->url (not yet connecting: fb_fleet_conn_run() does
 * that). `scripts` (n of them, static texts) are loaded on every connect
 * and run by index with fb_fleet_conn_eval(). Returns NULL when out of
 * memory; the caller frees it with fb_fleet_conn_free(), which calls
 * every pending callback with NULL. */
fb_fleet_conn *fb_fleet_conn_new(fb_loop *loop, const fb_redis_config *cfg,
                                 const char *password,
                                 const char *const *scripts, size_t n,
                                 fb_redis_state_fn on_state, void *ctx,
                                 uint64_t seed);
void fb_fleet_conn_free(fb_fleet_conn *c);

/* Connect deadline and reconnect timer. Returns ms until it wants to run
 * again (-1: nothing due). */
int64_t fb_fleet_conn_run(fb_fleet_conn *c, int64_t now_ms);

/* The connection did real work: the next loss starts the backoff from
 * its shortest wait again. */
void fb_fleet_conn_confirm(fb_fleet_conn *c);

/* Connected, authenticated and the scripts loaded. */
bool fb_fleet_conn_ready(const fb_fleet_conn *c);
/* The last connection error, in words ("" when none yet). */
const char *fb_fleet_conn_error(const fb_fleet_conn *c);

/* Sends a command (argv with lengths). fn may be NULL. Returns 0, or -1
 * when not ready or too much is pending (fn is then not called). */
int fb_fleet_conn_command(fb_fleet_conn *c, int argc, const char **argv,
                          const size_t *lens, fb_redis_reply_fn fn, void *ctx);
/* EVALSHA of script `script`: argv holds the nkeys keys, then the
 * arguments, argc in all. As above. */
int fb_fleet_conn_eval(fb_fleet_conn *c, size_t script, int nkeys, int argc,
                       const char **argv, const size_t *lens,
                       fb_redis_reply_fn fn, void *ctx);

/* Drops the connection now (as if it were lost) and reconnects later. */
void fb_fleet_conn_drop(fb_fleet_conn *c, const char *why);

#endif
