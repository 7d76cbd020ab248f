/*
 * auth: bearer-token checks for the admin endpoints.
 */
#include "auth.h"
#include "config.h"
#include "respond.h"

#include <string.h>
#include <strings.h>

/* Compare a secret with a candidate in time that depends only on the secret's length. */
static int auth_equal(const char *secret, size_t secret_len, const char *candidate,
                      size_t candidate_len)
{
	unsigned char diff = (unsigned char)(secret_len != candidate_len);

	/* Walk the whole secret every time; a short candidate reads as zeros past its end. */
	for (size_t i = 0; i < secret_len; i++) {
		unsigned char c = i < candidate_len ? (unsigned char)candidate[i] : 0;

		diff |= (unsigned char)(c ^ (unsigned char)secret[i]);
	}
	return diff == 0;
}

int auth_admin_or_reply(struct exchange *x)
{
	const char *token = x->app->cfg->admin_token;
	const char *header = x->req.authorization;
	static const char scheme[] = "Bearer ";

	if (token[0] == '\0') {
		respond_error(x, 403, "Admin disabled",
		              "No admin_token is configured; administer with nextidctl on the host.");
		return -1;
	}
	if (strncasecmp(header, scheme, sizeof(scheme) - 1) == 0) {
		const char *candidate = header + sizeof(scheme) - 1;

		if (auth_equal(token, strlen(token), candidate, strlen(candidate)))
			return 0;
	}
	respond_unauthorized(x, "Send the admin token as \"Authorization: Bearer <admin_token>\".");
	return -1;
}
