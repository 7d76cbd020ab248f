/*
 * handle_admin: sequences administered over HTTP (API.md section 7), behind the admin token:
 * list, show, create or change options (PUT), set the next value, delete. The same operations as
 * nextidctl, through the same store functions.
 */
#ifndef NEXTID_HANDLE_ADMIN_H
#define NEXTID_HANDLE_ADMIN_H

#include "exchange.h"

void handle_admin_list(struct exchange *x);     /* GET /api/admin/sequences?after=&limit= */
void handle_admin_show(struct exchange *x);     /* GET /api/admin/sequences/<name> */
void handle_admin_put(struct exchange *x);      /* PUT /api/admin/sequences/<name> */
void handle_admin_set_next(struct exchange *x); /* POST /api/admin/sequences/<name>/next */
void handle_admin_delete(struct exchange *x);   /* DELETE /api/admin/sequences/<name> */

#endif
