/* fb_sanitize() on anything: the output is valid UTF-8 holding no C0 or
 * C1 control, DEL, line/paragraph separator, bidi control or other
 * Unicode format (Cf) character, no run of spaces, is no longer than the
 * input, fits the buffer, and is the same text whatever the buffer size
 * (a smaller buffer gives a prefix, never half a character). Sanitising
 * it again changes nothing.
 *
 * The first input byte picks the buffer size; the rest is the text. */
#include <stdbool.h>

#include "fusebox/sanitize.h"
#include "fuzz.h"

/* Unicode 15.0, General_Category=Cf, written out here rather than taken
 * from the code under test. */
static const uint32_t cf[][2] = {
    {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},
    {0x06DD, 0x06DD},   {0x070F, 0x070F},   {0x0890, 0x0891},
    {0x08E2, 0x08E2},   {0x180E, 0x180E},   {0x200B, 0x200F},
    {0x202A, 0x202E},   {0x2060, 0x2064},   {0x2066, 0x206F},
    {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD},
    {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},
    {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}};

static bool forbidden(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp == 0x2028 ||
	    cp == 0x2029)
		return true;
	for (size_t i = 0; i < sizeof cf / sizeof cf[0]; i++) {
		if (cp >= cf[i][0] && cp <= cf[i][1])
			return true;
	}
	return false;
}

/* Decodes strict UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF); false when s is not that, or holds a forbidden character. */
static bool clean_utf8(const unsigned char *s, size_t n)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	for (size_t i = 0; i < n;) {
		size_t len = s[i] < 0x80             ? 1
		             : (s[i] & 0xE0) == 0xC0 ? 2
		             : (s[i] & 0xF0) == 0xE0 ? 3
		             : (s[i] & 0xF8) == 0xF0 ? 4
		                                     : 0;
		if (len == 0 || i + len > n)
			return false;
		uint32_t cp = len == 1 ? s[i] : s[i] & (0x7Fu >> len);
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3Fu);
		}
		if (cp < min[len] || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || forbidden(cp))
			return false;
		i += len;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t small = (size_t)data[0] + 1; /* 1 .. 256 */
	const char *src = (const char *)data + 1;
	size_t n = size - 1;
	size_t cap = n + 1;
	char *full = malloc(cap), *part = malloc(small), *again = malloc(cap);
	FUZZ_CHECK(full && part && again);

	size_t len = fb_sanitize(full, cap, src, n);
	FUZZ_CHECK(len == strlen(full));
	FUZZ_CHECK(len <= n);
	FUZZ_CHECK(clean_utf8((const unsigned char *)full, len));
	FUZZ_CHECK(!strstr(full, "  "));

	size_t plen = fb_sanitize(part, small, src, n);
	FUZZ_CHECK(plen == strlen(part) && plen < small);
	FUZZ_CHECK(plen <= len && memcmp(part, full, plen) == 0);
	/* stopped early only when the next character did not fit */
	if (plen < len) {
		const unsigned char *next = (const unsigned char *)full + plen;
		size_t clen = *next < 0x80   ? 1
		              : *next < 0xE0 ? 2
		              : *next < 0xF0 ? 3
		                             : 4;
		FUZZ_CHECK(plen + clen >= small);
	}

	size_t alen = fb_sanitize(again, cap, full, len);
	FUZZ_CHECK(alen == len && memcmp(again, full, len) == 0);

	FUZZ_CHECK(fb_sanitize(part, 0, src, n) == 0);
	free(full);
	free(part);
	free(again);
	return 0;
}
