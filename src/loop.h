/* The one event loop: curl_multi_poll() over libcurl's sockets plus our
 * own file descriptors (signals, control socket, console input, Redis and
 * TCP probes). Single-threaded; idle means asleep. */
#ifndef FB_LOOP_H
#define FB_LOOP_H

#include <curl/curl.h>
#include <stdint.h>

#include "clock.h"

typedef struct fb_loop fb_loop;

#define FB_LOOP_MAX_CONNECTIONS 256L /* open HTTP connections, all probes */
#define FB_LOOP_DRAIN_MS        20 /* finished transfers handled per turn, at most */

/* Called when a watched fd is ready; revents as poll() reports them. */
typedef void (*fb_fd_fn)(void *ctx, int fd, short revents);
/* Called for each finished curl transfer. */
typedef void (*fb_curl_done_fn)(void *ctx, CURL *easy, CURLcode result);

/* Returns NULL when curl or memory fails. */
fb_loop *fb_loop_new(void);
/* Who hears about finished curl transfers (one listener). */
void fb_loop_on_curl_done(fb_loop *l, fb_curl_done_fn done, void *ctx);
/* A second listener (the fleet's Redis connection). Each listener ignores
 * the handles it did not add; neither may free another's. */
void fb_loop_also_on_curl_done(fb_loop *l, fb_curl_done_fn done, void *ctx);
void fb_loop_free(fb_loop *l);
CURLM *fb_loop_multi(fb_loop *l);

/* Watches fd for `events` (POLLIN, POLLOUT); replaces an earlier watch of
 * the same fd. Returns 0 or -1 when out of memory. */
int fb_loop_watch(fb_loop *l, int fd, short events, fb_fd_fn fn, void *ctx);
void fb_loop_unwatch(fb_loop *l, int fd);

/* Waits up to timeout_ms for curl or a watched fd (not at all while
 * finished transfers wait from the last turn), then runs curl, hands
 * finished transfers to the listener for up to FB_LOOP_DRAIN_MS, and
 * runs the callbacks of ready fds. Returns 0, or -1 on a curl error. */
int fb_loop_run_once(fb_loop *l, int timeout_ms);

#endif
