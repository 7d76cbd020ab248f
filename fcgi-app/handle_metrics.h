/* handle_metrics: GET /metrics, the pool's counters in the Prometheus text format, and GET /api/pool,
 * the pool at a glance as JSON (the console's pool view), with the replication group when the node
 * is replicated. */
#ifndef NEXTID_HANDLE_METRICS_H
#define NEXTID_HANDLE_METRICS_H

#include "exchange.h"

void handle_metrics(struct exchange *x);
void handle_metrics_pool(struct exchange *x);

#endif
