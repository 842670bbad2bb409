/* The client side of the control socket, for the CLI (and embedders). */
#ifndef FB_CLIENT_H
#define FB_CLIENT_H

#include <cjson/cJSON.h>

#include "fusebox/config.h"

/* Sends one request object and waits up to timeout_ms for the reply line.
 * Returns the parsed reply (caller frees with cJSON_Delete), or NULL with
 * *err when no instance answered (not running, refused, timed out, bad
 * reply). */
cJSON *fb_client_call(const char *socket_path, const cJSON *request,
                      int timeout_ms, fb_error *err);

/* Connects to the instance on socket_path within timeout_ms, and only if
 * the peer is one we trust (ourselves, root, or the owner of the private
 * folder the socket is in). Returns a non-blocking fd (caller closes), or
 * -1 with *err. */
int fb_client_connect(const char *socket_path, int timeout_ms, fb_error *err);

#endif
