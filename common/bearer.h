/*
 * bearer: the admin token check every front door makes (the HTTP admin endpoints' Authorization
 * header, nextid-grpc's authorization metadata). Any process may use it.
 */
#ifndef NEXTID_BEARER_H
#define NEXTID_BEARER_H

#include <stddef.h>

/* Is header, of header_len bytes, "Bearer <token>" (the scheme in any case)? The token is
 * compared in time that depends on its own length only, so a wrong guess says nothing of how
 * much of it was right. token must not be empty (callers refuse admin without one first). */
int bearer_matches(const char *token, const char *header, size_t header_len);

#endif
