/*
 * router: one request, from its FastCGI parameters to the last byte of its answer. The worker
 * (worker.c) and the fuzz harness (tests/fuzz/harness.c) both serve through router_serve, so the
 * path a fuzzer tries is the one a client reaches.
 */
#ifndef NEXTID_ROUTER_H
#define NEXTID_ROUTER_H

#include "exchange.h"

#include <stddef.h>

/*
 * Serve the request whose parameters are envp (a NULL-terminated "NAME=value" array): parse it,
 * route it through nextid's table and run the handler, or answer 400/413/414, 404, 405 (with its
 * Allow list) or, for an endpoint that needs the store while it is not open, 503. A handler that
 * leaves without answering gets a logged 500. The answer is counted in x->app->slot's metrics
 * before this returns (the caller flushes it afterwards: a client that scrapes /metrics right
 * after its answer finds it counted).
 *
 * x comes with app, out and in set and the rest zero; afterwards x->status is the status
 * answered, x->endpoint the row counted and x->issued what the answer handed out.
 */
void router_serve(struct exchange *x, char *const *envp);

/* The endpoints' labels for metrics, copied into names[0..cap): every row's pattern, then
 * "other" (no route, or a request that could not be parsed). x->endpoint indexes them. Returns
 * how many there are (at most METRICS_ENDPOINTS). */
size_t router_endpoint_names(const char **names, size_t cap);

#endif
