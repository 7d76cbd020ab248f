/*
 * randid: random ids for the uuid8..uuid22 types: characters drawn uniformly from [A-Za-z0-9]
 * with the kernel's CSPRNG. Nothing is seeded: a generator seeded before fork() would give every
 * worker the same stream.
 */
#ifndef NEXTID_RANDID_H
#define NEXTID_RANDID_H

#include <stddef.h>

/* Fill out[0..len) with random id characters (no NUL added). Returns 0, or -1 with errno set. */
int randid_fill(char *out, size_t len);

#endif
