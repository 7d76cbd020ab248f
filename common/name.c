/*
 * name: validation of sequence names and of text. The UTF-8 check follows the well-formed byte
 * sequences table of the Unicode standard (D92), which rules out overlong forms such as C0 AF for
 * '/'.
 */
#include "name.h"

/* Length of the valid UTF-8 sequence starting at s (at most len bytes), or 0 if invalid. */
static size_t utf8_char_len(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t need;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		need = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		need = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		need = 4;
	else
		return 0;
	if (len < need)
		return 0;
	/* The second byte's range is narrower after E0, ED, F0 and F4. */
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return need;
}

enum name_text name_text_check(const char *s, size_t len, char forbid)
{
	const unsigned char *p = (const unsigned char *)s;
	int bad_utf8 = 0;

	for (size_t i = 0; i < len;) {
		size_t n;

		if (p[i] < 0x20 || p[i] == 0x7F)
			return NAME_TEXT_CONTROL;
		if (forbid != 0 && p[i] == (unsigned char)forbid)
			return NAME_TEXT_FORBIDDEN;
		n = utf8_char_len(p + i, len - i);
		if (n == 0) {
			/* Keep looking: a control character or forbidden byte is the more specific
			 * complaint. */
			bad_utf8 = 1;
			n = 1;
		}
		i += n;
	}
	return bad_utf8 ? NAME_TEXT_UTF8 : NAME_TEXT_OK;
}

int name_check(const char *s, size_t len, const char **why)
{
	if (len < 1 || len > NAME_MAX_BYTES) {
		*why = NAME_LENGTH_WHY;
		return -1;
	}
	switch (name_text_check(s, len, '/')) {
	case NAME_TEXT_OK:
		return 0;
	case NAME_TEXT_CONTROL:
		*why = "Name must not contain control characters.";
		return -1;
	case NAME_TEXT_FORBIDDEN:
		*why = "Name must not contain '/'.";
		return -1;
	default:
		*why = "Name must be valid UTF-8.";
		return -1;
	}
}
