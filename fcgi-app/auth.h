/*
 * auth: the admin bearer token. Admin endpoints call auth_admin_or_reply first: with no
 * admin_token configured they answer 403 (only nextidctl on the host administers), without the
 * right "Authorization: Bearer <token>" 401. The comparison takes the same time whatever the
 * guess, so the token cannot be found a character at a time.
 */
#ifndef NEXTID_AUTH_H
#define NEXTID_AUTH_H

#include "exchange.h"

#include <stddef.h>

/* Returns 0 when the request carries the admin token, else answers 401/403 and returns -1. */
int auth_admin_or_reply(struct exchange *x);

#endif
