/*
 * auth: bearer-token checks for the admin endpoints.
 */
#include "auth.h"
#include "bearer.h"
#include "config.h"
#include "respond.h"

#include <string.h>

int auth_admin_or_reply(struct exchange *x)
{
	const char *token = x->app->cfg->admin_token;
	const char *header = x->req.authorization;

	if (token[0] == '\0') {
		respond_error(x, 403, "Admin disabled",
		              "No admin_token is configured; administer with nextidctl on the host.");
		return -1;
	}
	if (bearer_matches(token, header, strlen(header)))
		return 0;
	respond_unauthorized(x, "Send the admin token as \"Authorization: Bearer <admin_token>\".");
	return -1;
}
