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

#endif
