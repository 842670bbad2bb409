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

/* Unicode's format characters (category Cf, Unicode 15) that is_control
 * leaves: invisible, so they go without a trace -- zero-width spaces and
 * joiners, LRM/RLM/ALM, the BOM, soft hyphens, tag characters. */
static bool is_invisible(uint32_t cp)
{
	static const uint32_t cf[][2] = {
	    {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},
	    {0x06DD, 0x06DD},   {0x070F, 0x070F},   {0x0890, 0x0891},
	    {0x08E2, 0x08E2},   {0x180E, 0x180E},   {0x200B, 0x200F},
	    {0x2060, 0x2064},   {0x206A, 0x206F},   {0xFEFF, 0xFEFF},
	    {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
	    {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
	    {0xE0001, 0xE0001}, {0xE0020, 0xE007F}};
	for (size_t i = 0; i < sizeof cf / sizeof cf[0] && cp >= cf[i][0];
	     i++) {
		if (cp <= cf[i][1])
			return true;
	}
	return false;
}

/* Bytes of a control string (OSC, DCS, SOS, PM, APC) from `from` up to
 * and including its terminator, BEL or ST; an unterminated one runs to
 * the end, and another ESC ends it. */
static size_t string_len(const unsigned char *s, size_t n, size_t from)
{
	for (size_t i = from; i < n; i++) {
		if (s[i] == 0x07 || s[i] == '\0')
			return i + (s[i] == 0x07);
		if (s[i] == 0x1B)
			return i + 2 <= n && s[i + 1] == '\\' ? i + 2 : i;
		if (s[i] == 0xC2 && i + 1 < n && s[i + 1] == 0x9C)
			return i + 2; /* ST as C1 */
	}
	return n;
}

/* Bytes of a CSI sequence from `from` (just after its introducer):
 * parameter and intermediate bytes, then the final byte. */
static size_t csi_len(const unsigned char *s, size_t n, size_t from)
{
	size_t i = from;
	while (i < n && s[i] >= 0x20 && s[i] <= 0x3F)
		i++;
	return i < n && s[i] >= 0x40 && s[i] <= 0x7E ? i + 1 : i;
}

/* Length of the terminal escape sequence at s (ESC, or a C1 CSI or
 * string introducer in UTF-8), 0 when there is none: the whole sequence
 * goes, so nothing of it ("]0;title", "[31m") is left on a screen. */
static size_t escape_len(const unsigned char *s, size_t n)
{
	if (s[0] == 0xC2 && n >= 2) {
		if (s[1] == 0x9B)
			return csi_len(s, n, 2);
		if (s[1] == 0x90 || s[1] == 0x98 || s[1] == 0x9D ||
		    s[1] == 0x9E || s[1] == 0x9F)
			return string_len(s, n, 2);
		return 0;
	}
	if (s[0] != 0x1B)
		return 0;
	if (n < 2)
		return 1;
	if (s[1] == '[')
		return csi_len(s, n, 2);
	if (s[1] == ']' || s[1] == 'P' || s[1] == 'X' || s[1] == '^' ||
	    s[1] == '_')
		return string_len(s, n, 2);
	size_t i = 1;
	while (i < n && s[i] >= 0x20 && s[i] <= 0x2F)
		i++; /* intermediates, as in ESC ( B */
	return i < n && s[i] >= 0x30 && s[i] <= 0x7E ? i + 1 : i;
}

size_t fb_sanitize(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t out = 0, i = 0;
	bool space = false;
	if (dstlen == 0)
		return 0;
	while (i < srclen && s[i] != '\0') {
		/* the common case first: printable ASCII but the space starts
		 * no escape and is no control, so it is kept as it is */
		if (s[i] > ' ' && s[i] < 0x7F) {
			if (out + 1 >= dstlen)
				break;
			dst[out++] = (char)s[i++];
			space = false;
			continue;
		}
		size_t esc = escape_len(s + i, srclen - i);
		if (esc) {
			i += esc;
			continue;
		}
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
		} else if (is_invisible(cp)) {
			putlen = 0;
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
