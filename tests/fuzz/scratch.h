/*
 * scratch: a temporary directory for a test's stores and sockets, and its removal with all it
 * holds. Shared by the fuzz harness and the unit tests of the request path.
 */
#ifndef NEXTID_SCRATCH_H
#define NEXTID_SCRATCH_H

#include <stddef.h>

/* Make dir (cap bytes) a new directory $TMPDIR/nextid-<label>-XXXXXX (/tmp without TMPDIR).
 * Returns 0, or -1 with errno set. */
int scratch_make(char *dir, size_t cap, const char *label);

/* Remove path and everything below it; what cannot be removed stays, silently. */
void scratch_remove(const char *path);

#endif
