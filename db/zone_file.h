/*
 * zone_file: a time zone's file (TZif, RFC 8536, as tzdata installs under /usr/share/zoneinfo),
 * parsed from bytes, and the UTC offset it gives at a moment. Pure: no I/O, no state. zone.c
 * reads the files and keeps them parsed; tests and the fuzzer hand it any bytes. Any process may
 * use it.
 */
#ifndef NEXTID_ZONE_FILE_H
#define NEXTID_ZONE_FILE_H

#include <stddef.h>
#include <stdint.h>

/* The moments a zone answers: local years 1..9999 and two days either side. */
#define ZONE_FILE_TIME_MIN (-62135596800 - 2 * 86400) /* 0000-12-30T00:00:00Z */
#define ZONE_FILE_TIME_MAX (253402300800 + 2 * 86400) /* 10000-01-03T00:00:00Z */

#define ZONE_FILE_MAX 65536 /* bytes; Debian's largest zone file has 3,940 */

/*
 * Accepted: version 2 or later (the 64-bit block is used, the version 1 block skipped), at most
 * 2000 transitions in strictly increasing order, 1 to 256 time types with offsets from -24:59:59
 * to +25:59:59, no leap seconds, and a footer that is empty or a POSIX TZ string
 * ("CET-1CEST,M3.5.0,M10.5.0/3", with version 3's switch times from -167 to 167 hours) which must
 * have both switches when it names daylight saving time. Anything else, a size over ZONE_FILE_MAX
 * included, is refused whole.
 *
 * Moments before the first transition take time type 0; those after the last take the footer's
 * rule, or with an empty footer the last transition's type (which a zone with switches still to
 * come gets wrong, and which zic writes only for zones whose future no rule expresses: on Debian
 * 12, none outside right/, which zone_check refuses).
 *
 * zone_file_parse returns 0 and sets *out (OUT; free it with zone_file_free), or -1 and sets *out
 * to NULL. zone_file_offset sets *utoff (OUT) to the offset from UTC in seconds east (Berlin in
 * winter 3600, New York -18000) at unix time t and returns 0, or returns -1 for a t outside
 * ZONE_FILE_TIME_MIN..ZONE_FILE_TIME_MAX or a NULL z. zone_file_free(NULL) does nothing.
 */
struct zone_file;
int zone_file_parse(const void *buf, size_t len, struct zone_file **out);
int zone_file_offset(const struct zone_file *z, int64_t t, int32_t *utoff);
void zone_file_free(struct zone_file *z);

#endif
