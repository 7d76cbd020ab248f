/*
 * bearer: "Authorization: Bearer <token>", checked in constant time (bearer.h).
 */
#include "bearer.h"

#include <string.h>
#include <strings.h>

/* Walk the whole secret every time; a short candidate reads as zeros past its end. */
static int equal_secret(const char *secret, size_t secret_len, const char *candidate,
                        size_t candidate_len)
{
	unsigned char diff = (unsigned char)(secret_len != candidate_len);

	for (size_t i = 0; i < secret_len; i++) {
		unsigned char c = i < candidate_len ? (unsigned char)candidate[i] : 0;

		diff |= (unsigned char)(c ^ (unsigned char)secret[i]);
	}
	return diff == 0;
}

int bearer_matches(const char *token, const char *header, size_t header_len)
{
	static const char scheme[] = "Bearer ";
	const size_t scheme_len = sizeof(scheme) - 1;

	if (!header || header_len < scheme_len || strncasecmp(header, scheme, scheme_len) != 0)
		return 0;
	return equal_secret(token, strlen(token), header + scheme_len, header_len - scheme_len);
}
