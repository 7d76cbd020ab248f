/*
 * zone: the time zones of formatted prefixes. Is a name an IANA zone we can use, what is its
 * offset from UTC at a moment, and what is the local date there. A zone's file under
 * /usr/share/zoneinfo (package tzdata) is read once and kept in a small cache of this module's;
 * the process's TZ is never read or set and localtime() never called, so the threads of a worker
 * may ask in different zones at once and the rest of the process keeps the host's zone. The store
 * checks a prefix's zone and dates its numbers with it; any process may use it.
 */
#ifndef NEXTID_ZONE_H
#define NEXTID_ZONE_H

#include "calendar.h"

#include <stdint.h>

#define ZONE_NAME_MAX 47 /* bytes of a time zone name (a 48-byte record field) */

/*
 * Is tz an IANA zone name we can use? 1 to ZONE_NAME_MAX bytes of [A-Za-z0-9_+-] in '/'-separated
 * parts (no leading, trailing or doubled '/'; no '.', so no ".."), starting with a capital letter
 * as every IANA name does (which keeps out zoneinfo's "localtime", "posixrules", "right/..." and
 * "posix/..."), and naming a zone file under /usr/share/zoneinfo that zone_file_parse accepts;
 * the zone is then kept for later calls. "UTC" is valid without a file. Returns 0, or -1 with
 * *why (when why is not NULL) a static sentence for a 400 answer, starting "timezone ".
 */
int zone_check(const char *tz, const char **why);

/*
 * The offset from UTC, in seconds east (Berlin in winter 3600, New York -18000), of zone tz at
 * unix time t, into *utoff (OUT). Returns 0, or -1 for a name zone_check refuses, a zone whose
 * file is missing or refused by zone_file_parse, or a t outside ZONE_FILE_TIME_MIN..MAX (local
 * years 1..9999 and two days either side; *utoff unchanged). The zone's file is read on the first
 * call for it and kept (16 zones; beyond, the one used least recently is dropped), so a tzdata
 * update reaches a process that started before it when a zone is read again, which for a worker
 * means when it is replaced. "UTC" is 0 without a file and without a lock. Thread-safe.
 */
int zone_offset(int64_t t, const char *tz, int32_t *utoff);

/*
 * The local date (OUT) of unix time t (seconds) in zone tz: t plus zone_offset, as a calendar
 * date. Returns 0, or -1 for a zone that zone_check refuses or a moment whose local year is
 * outside 1..9999 (*out unchanged). Thread-safe, as zone_offset.
 */
int zone_local_date(int64_t t, const char *tz, struct calendar_date *out);

#endif
