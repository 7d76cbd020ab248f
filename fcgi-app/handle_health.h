/* handle_health: /health (with the go-id "OK" text form), /health/live and /health/ready. */
#ifndef NEXTID_HANDLE_HEALTH_H
#define NEXTID_HANDLE_HEALTH_H

#include "exchange.h"

void handle_health(struct exchange *x);       /* {"status":"healthy","uptime":S} or "OK" */
void handle_health_live(struct exchange *x);  /* the worker answers */
void handle_health_ready(struct exchange *x); /* the store answers too */

#endif
