/*
 * handle_prefix: formatted numbers with reset rules and an audit trail, the Sequential ID Counter
 * API (API.md section 5): /api/v1/config, next, batch, status, reset and audit.
 */
#ifndef NEXTID_HANDLE_PREFIX_H
#define NEXTID_HANDLE_PREFIX_H

#include "exchange.h"

void handle_prefix_config_get(struct exchange *x); /* GET /api/v1/config/<P> */
void handle_prefix_config_set(struct exchange *x); /* POST /api/v1/config/<P> (admin) */
void handle_prefix_next(struct exchange *x);       /* GET|POST /api/v1/next/<P> */
void handle_prefix_batch(struct exchange *x);      /* POST /api/v1/batch/<P> */
void handle_prefix_status(struct exchange *x);     /* GET /api/v1/status/<P> */
void handle_prefix_reset(struct exchange *x);      /* POST /api/v1/reset/<P> (admin) */
void handle_prefix_audit(struct exchange *x);      /* GET /api/v1/audit/<P> (admin) */
/* GET /api/admin/prefixes?after=&limit= (admin): the prefixes in name order after `after`, at most
 * limit (1 to 10000; 1000 when absent or larger), each with its config, counters and the preview
 * of its next number (what the console shows) */
void handle_prefix_list(struct exchange *x);

#endif
