/*
 * router: the table of endpoints. Each row is a method mask, a path pattern of literal segments
 * and '*' (exactly one non-empty segment, captured raw), and the handler. A path that matches no
 * row is 404; a path that matches only with other methods is 405 with their Allow list.
 */
#ifndef NEXTID_ROUTER_H
#define NEXTID_ROUTER_H

#include "exchange.h"

typedef void handler_fn(struct exchange *x);

struct route {
	unsigned methods; /* enum request_method bits */
	const char *pattern;
	handler_fn *handler;
	int without_store; /* answers even when the store will not open (health, metrics...) */
};

/*
 * Find the row of `table` (n rows) for req. Returns the row, filling x->cap/x->ncap, or NULL with
 * *allowed set to the methods of rows whose pattern matched (0: no pattern matched).
 */
const struct route *router_match(const struct route *table, size_t n, struct exchange *x,
                                 unsigned *allowed);

/* Route x through nextid's table and run the handler, or answer 404/405 itself, or 503 when the
 * handler needs the store and it is not open. Sets x->endpoint. */
void router_dispatch(struct exchange *x);

/* The endpoints' labels for metrics: every row's pattern, then "other" (no route, bad request).
 * *n is how many; x->endpoint indexes them. */
const char *const *router_endpoint_names(size_t *n);

#endif
