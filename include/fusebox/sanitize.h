/* Untrusted text (error bodies, status lines, anything from a peer) is
 * made safe before it is stored, logged or drawn. */
#ifndef FUSEBOX_SANITIZE_H
#define FUSEBOX_SANITIZE_H

#include <stddef.h>

/* Copies at most `srclen` bytes of src into dst (always terminated, at
 * most dstlen - 1 bytes): a terminal escape sequence (CSI, OSC and the
 * other control strings, with ESC or C1 introducers) goes whole; other C0
 * and C1 control characters, DEL and bidi controls become a space; the
 * other invisible format characters (Unicode Cf: zero-width spaces,
 * LRM/RLM/ALM, the BOM, ...) go; any run of spaces collapses to one;
 * invalid UTF-8 becomes '?'; a multi-byte character is never cut in half.
 * Returns strlen(dst). */
size_t fb_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen);

#endif
