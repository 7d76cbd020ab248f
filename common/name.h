/*
 * name: what a sequence name may be, for every way one arrives (URL, CLI, import): 1 to
 * NAME_MAX_BYTES bytes of valid UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF),
 * no '/', no control characters (U+0000 to U+001F, U+007F). Pure; any process.
 */
#ifndef NEXTID_NAME_H
#define NEXTID_NAME_H

#include <stddef.h>

#define NAME_MAX_BYTES 200

/* Returns 0 when s[0..len) is a valid name, else -1 with *why set to a sentence for the user. */
int name_check(const char *s, size_t len, const char **why);

/* Length of the valid UTF-8 sequence starting at s (at most len bytes), or 0 if invalid. */
size_t name_utf8_char_len(const unsigned char *s, size_t len);

#endif
