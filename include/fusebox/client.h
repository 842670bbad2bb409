/* For programs that embed libfusebox: ask a running fusebox instance
 * over its control socket. */
#ifndef FUSEBOX_CLIENT_H
#define FUSEBOX_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* May a destructive operation go ahead now? Asks the instance serving
 * socket_path, waiting at most timeout_ms. Returns true only when the
 * instance answered "allowed"; no instance, no answer or a bad answer is
 * false -- a destructive operation never proceeds on doubt. The reason
 * (the gate's, or why it could not be asked) goes to reason (may be
 * NULL). */
bool fb_gate_allows(const char *socket_path, int timeout_ms, char *reason,
                    size_t len);

/* The same for the fleet gate (SPEC 8): true only when the instance
 * answered that every critical dependency is closed on every live
 * instance of its service, the fleet gate is not locked and its fleet
 * view is fresh. An instance without [redis] answers blocked. */
bool fb_gate_allows_fleet(const char *socket_path, int timeout_ms,
                          char *reason, size_t len);

#endif
