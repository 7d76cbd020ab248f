/* handle_metrics: GET /metrics, the pool's counters in the Prometheus text format. */
#ifndef NEXTID_HANDLE_METRICS_H
#define NEXTID_HANDLE_METRICS_H

#include "exchange.h"

void handle_metrics(struct exchange *x);

#endif
