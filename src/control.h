/* The control socket (SPEC section 7): a Unix stream socket served inside
 * the event loop. One JSON request per line, one JSON reply per line;
 * every request bounded in size and time; the peer's uid (SO_PEERCRED)
 * is the actor of every operator action. */
#ifndef FB_CONTROL_H
#define FB_CONTROL_H

#include "runtime.h"

#define FB_CONTROL_MAX_REQUEST 8192 /* bytes in one request line */
#define FB_CONTROL_MAX_CLIENTS 64
#define FB_CONTROL_TIMEOUT_MS  5000  /* to finish a request, or to drain */
#define FB_CONTROL_IDLE_MS     60000 /* an idle connection is kept this long */

typedef struct fb_control fb_control;

/* Serves `rt` on its configured socket, in a folder of our own that only
 * we can write to (the default folder is created). A stale socket of ours
 * left by a crash is replaced; a live one, another user's, or anything
 * that is not a socket is refused and never removed. Returns NULL with
 * *err and an exit code in *code. */
fb_control *fb_control_open(fb_runtime *rt, fb_error *err, int *code);
void fb_control_close(fb_control *c);

/* Drops clients that are too slow. Call about once a second. */
void fb_control_tick(fb_control *c, int64_t now_ms);

/* Sends an event line (as logged, without its newline) to every client
 * that watches. One that has more than a megabyte unread is dropped with
 * a last error line; the engine never waits for anyone. */
void fb_control_publish(fb_control *c, const char *line, size_t len);

/* Answers one request line (len bytes, no newline) as the socket does, for
 * a peer named `actor`, without a socket or a server: for the tests and
 * the fuzzer. Returns the reply line with its newline, terminated (free
 * it), or NULL when none could be made (out of memory, where a client
 * would be dropped). */
char *fb_control_answer(fb_runtime *rt, const char *actor, const char *line,
                        size_t len);

#endif
