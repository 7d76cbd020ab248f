/*
 * name: what a sequence name may be, for every way one arrives (URL, CLI, import): 1 to
 * NAME_MAX_BYTES bytes of valid UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF),
 * no '/', no control characters (U+0000 to U+001F, U+007F). Beneath it, the one check of text
 * (UTF-8 without control characters) that templates and free-text fields share. Pure; any process.
 */
#ifndef NEXTID_NAME_H
#define NEXTID_NAME_H

#include <stddef.h>

/* The one limit on a name's length, for every layer (the store's keys, audit keys, buffers) and
 * the sentence that states it. */
#define NAME_MAX_BYTES 200
#define NAME_STRINGIFY_(x) #x
#define NAME_STRINGIFY(x) NAME_STRINGIFY_(x)
#define NAME_LENGTH_WHY "Name must be 1 to " NAME_STRINGIFY(NAME_MAX_BYTES) " bytes."

/* Returns 0 when s[0..len) is a valid name, else -1 with *why set to a sentence for the user. */
int name_check(const char *s, size_t len, const char **why);

/* What name_text_check finds wrong with a text. */
enum name_text {
	NAME_TEXT_OK,
	NAME_TEXT_CONTROL,   /* a control character */
	NAME_TEXT_FORBIDDEN, /* the byte the caller forbids */
	NAME_TEXT_UTF8,      /* invalid UTF-8, and neither of the above anywhere */
};

/*
 * Is s[0..len) valid UTF-8 without control characters, and without the ASCII byte forbid ('/' for
 * a name; 0 for none)? Returns NAME_TEXT_OK, or the first control character or forbidden byte
 * found, or else NAME_TEXT_UTF8: wherever each stands, a control character or forbidden byte is
 * the more specific complaint. The length is the caller's to bound (0 is OK), and the words: each
 * field names its own fault ("format_template must be valid UTF-8."), or one sentence for all
 * ("must be UTF-8 without control characters").
 */
enum name_text name_text_check(const char *s, size_t len, char forbid);

#endif
