/* Untrusted text (error bodies, status lines, anything from a peer) is
 * made safe before it is stored, logged or drawn. */
#ifndef FUSEBOX_SANITIZE_H
#define FUSEBOX_SANITIZE_H

#include <stddef.h>

/* Copies at most `srclen` bytes of src into dst (always terminated, at
 * most dstlen - 1 bytes): C0 and C1 control characters, DEL and bidi
 * controls become a space, any run of spaces collapses to one, invalid
 * UTF-8 becomes '?', and a multi-byte character is never cut in half.
 * Returns strlen(dst). */
size_t fb_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
