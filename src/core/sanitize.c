/* Stripping control characters and bad UTF-8 from untrusted text. */
#include <stdbool.h>
#include <stdint.h>

#include "fusebox/sanitize.h"

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if
 * invalid. Rejects overlongs, surrogates and code points over U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xE0) == 0xC0) {
		len = 2;
		c = s[0] & 0x1Fu;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3;
		c = s[0] & 0x0Fu;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4;
		c = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3Fu);
	}
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (c < min[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) ||
	       cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

size_t fb_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t out = 0, i = 0;
	bool space = false;
	if (dstlen == 0)
		return 0;
	while (i < srclen && s[i] != '\0') {
		uint32_t cp;
		size_t len = utf8_len(s + i, srclen - i, &cp);
		const char *put = (const char *)s + i;
		size_t putlen = len;
		if (len == 0) {
			put = "?";
			putlen = 1;
			len = 1;
		} else if (is_control(cp) || cp == ' ') {
			put =
			    " "; /* one space for any run: HTML bodies indent a lot */
			putlen = space ? 0 : 1;
		}
		if (out + putlen >= dstlen)
			break;
		for (size_t k = 0; k < putlen; k++)
			dst[out++] = put[k];
		if (putlen)
			space = put[0] == ' ';
		i += len;
	}
	dst[out] = '\0';
	return out;
}
