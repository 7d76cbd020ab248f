/*
 * numparse: the one strict decimal parser behind every number nextid reads, from a URL, a query,
 * a config file or the command line. Plain ASCII digits only (an optional leading '-' where a
 * negative value is allowed); no spaces, signs, exponents, hex or trailing bytes. strtol and atoi
 * appear nowhere else in the tree. Usable by every process; no state.
 */
#ifndef NEXTID_NUMPARSE_H
#define NEXTID_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse s[0..len) as a decimal integer in [lo, hi]. Returns 0 and sets *out, or -1 and sets *why
 * to a static English fragment ("is not a number", "is too large", "is too small"), suitable for
 * "batchSize is too large". A leading '-' is accepted only when lo < 0.
 */
int numparse_i64(const char *s, size_t len, int64_t lo, int64_t hi, int64_t *out,
                 const char **why);

/* The same for unsigned values up to UINT64_MAX; never accepts a sign. */
int numparse_u64(const char *s, size_t len, uint64_t lo, uint64_t hi, uint64_t *out,
                 const char **why);

#endif
