/*
 * template: the number formats of the formatted-number API (API.md §5). A prefix's template turns
 * its counter, its name and the date of its reset period into the full number ("SG000001",
 * "INV2026-0001"); its reset rule and time zone decide which period a moment falls in. Pure
 * functions except the time zone ones, which read a zone's file under /usr/share/zoneinfo once
 * and keep it in a small cache of their own; none of them reads or sets the process's TZ or
 * calls localtime(), so the threads of a worker may call them at once and the rest of the
 * process keeps the host's zone. Any process may use it; it leaves storing the template and the
 * period, and restarting the counter, to the store.
 */
#ifndef NEXTID_TEMPLATE_H
#define NEXTID_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

/* How often the counter restarts at 1. The values are stored (the record's reset_rule byte). */
enum template_rule { TEMPLATE_NEVER, TEMPLATE_DAILY, TEMPLATE_MONTHLY, TEMPLATE_YEARLY };

/* The rule named s[0..len): "never", "daily", "monthly" or "yearly" (case-sensitive), else -1. */
int template_rule_parse(const char *s, size_t len);

/* The rule's name as the API spells it, or "?" for a value that is no rule. */
const char *template_rule_name(int rule);

/* A local calendar date. Valid: year 1..9999, month 1..12, day 1..length of that month. */
struct template_date {
	int year, month, day;
};

#define TEMPLATE_MAX 47         /* bytes of a template (it is stored in a 48-byte record field) */
#define TEMPLATE_PADDING_MAX 18 /* widest zero padding of a number */
#define TEMPLATE_TZ_MAX 47      /* bytes of a time zone name (a 48-byte record field) */

/*
 * Is tmpl a valid template? A template is 1 to TEMPLATE_MAX bytes of UTF-8 without control
 * characters, in one of two forms (never both):
 *
 *   brace form   literal text and the placeholders {prefix}, {counter} (zero-padded to the
 *                prefix's padding), {counter:N} (zero-padded to N, 1..18), {yyyy}, {yy}, {mm},
 *                {dd}; exactly one counter. '{' and '}' appear only around a placeholder, '%'
 *                not at all.
 *   printf form  literal text and %s (the prefix, at most once), %% (a '%'), and one or two of
 *                %d, %Nd, %0Nd (N 1..18, no leading zero). One integer conversion is the counter;
 *                with two, the first is the period number (yyyy for yearly and never, yyyymm for
 *                monthly, yyyymmdd for daily) and the second the counter. %Nd pads with zeros
 *                like %0Nd, not with spaces: a number with spaces in it is never what an
 *                invoice template means, and the replaced service only ever used %0Nd.
 *
 * tmpl is a C string: it ends at its first NUL, so a caller holding bytes and a length (a JSON
 * string may contain \u0000) must refuse an embedded NUL itself. NULL counts as empty.
 * Returns 0, or -1 with *why (when why is not NULL) a static sentence for a 400 answer, starting
 * "format_template ".
 */
int template_check(const char *tmpl, const char **why);

/*
 * Render a number: the prefix (prefix_len bytes, copied as they are; NULL when prefix_len is 0),
 * the counter n (>= 0), padding (0..TEMPLATE_PADDING_MAX, used by {counter} only: 0 = none) and the
 * rule and date of the period the number belongs to (date may be NULL when the template shows no
 * date and no period number; otherwise it must be a valid date). A number wider than its padding
 * is printed in full. Writes a NUL-terminated string into out (capacity cap, NUL included).
 * Returns its length, or -1 (out is then "" when cap > 0) when it does not fit, which is never
 * truncated, or when tmpl, n, padding, rule or date is invalid.
 */
int template_render(const char *tmpl, const char *prefix, size_t prefix_len, int64_t n,
                    unsigned padding, int rule, const struct template_date *date, char *out,
                    size_t cap);

/*
 * The period a valid date falls in: never -> 0; yearly -> yyyy0000; monthly -> yyyymm00;
 * daily -> yyyymmdd. Periods of one rule compare as integers in time order. An unknown rule or an
 * invalid date gives 0, as for never: callers pass dates from template_local_date.
 */
uint32_t template_period(int rule, const struct template_date *d);

/*
 * The first day of a period of the given rule (the inverse of template_period). Returns 0 and sets
 * *out (OUT), or -1 leaving *out unchanged for rule never, an unknown rule, or a period that is
 * not one template_period gives for that rule (20261100 is not a yearly period; 20260230 is none).
 */
int template_period_start(uint32_t period, int rule, struct template_date *out);

/*
 * Is tz an IANA zone name we can use? 1 to TEMPLATE_TZ_MAX bytes of [A-Za-z0-9_+-] in
 * '/'-separated parts (no leading, trailing or doubled '/'; no '.', so no ".."), starting with a
 * capital letter as every IANA name does (which keeps out zoneinfo's "localtime", "posixrules",
 * "right/..." and "posix/..."), and naming a zone file under /usr/share/zoneinfo (package tzdata)
 * that template_zone_parse accepts; the zone is then kept for later calls. "UTC" is valid without
 * a file. Returns 0, or -1 with *why (when why is not NULL) a static sentence for a 400 answer,
 * starting "timezone ".
 */
int template_tz_valid(const char *tz, const char **why);

/*
 * The offset from UTC, in seconds east (Berlin in winter 3600, New York -18000), of zone tz at
 * unix time t, into *utoff (OUT). Returns 0, or -1 for a name template_tz_valid refuses, a zone
 * whose file is missing or refused by template_zone_parse, or a t more than two days outside the
 * years 1..9999 (*utoff unchanged). The zone's file is read on
 * the first call for it and kept (16 zones; beyond, the one used least recently is dropped), so a
 * tzdata update reaches a process that started before it when a zone is read again, which for a
 * worker means when it is replaced. "UTC" is 0 without a file and without a lock. Thread-safe;
 * the process's environment is never read or changed.
 */
int template_tz_offset(int64_t t, const char *tz, int32_t *utoff);

/*
 * The local date (OUT) of unix time t (seconds) in zone tz: t plus template_tz_offset, as a
 * calendar date. Returns 0, or -1 for a zone that template_tz_valid refuses or a moment whose
 * local year is outside 1..9999 (*out unchanged). Thread-safe, as template_tz_offset.
 */
int template_local_date(int64_t t, const char *tz, struct template_date *out);

/*
 * A zone file's contents (TZif, RFC 8536), parsed. template_tz_offset reads files through it;
 * tests and the fuzzer hand it any bytes. Accepted: version 2 or later (the 64-bit block is
 * used, the version 1 block skipped), at most 2000 transitions in strictly increasing order, 1
 * to 256 time types with offsets from -24:59:59 to +25:59:59, no leap seconds, and a footer that
 * is empty or a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3", with version 3's switch times from
 * -167 to 167 hours) which must have both switches when it names daylight saving time. Anything
 * else, a size over 64 KiB included, is refused whole.
 *
 * Moments before the first transition take time type 0; those after the last take the footer's
 * rule, or with an empty footer the last transition's type (which a zone with switches still to
 * come gets wrong, and which zic writes only for zones whose future no rule expresses: on Debian
 * 12, none outside right/, which template_tz_valid refuses).
 *
 * template_zone_parse returns 0 and sets *out (OUT; free it with template_zone_free), or -1 and
 * sets *out to NULL. template_zone_offset sets *utoff as template_tz_offset does and returns 0, or
 * -1 for a t more than two days outside the years 1..9999. template_zone_free(NULL) does nothing.
 */
struct template_zone;
int template_zone_parse(const void *buf, size_t len, struct template_zone **out);
int template_zone_offset(const struct template_zone *z, int64_t t, int32_t *utoff);
void template_zone_free(struct template_zone *z);

#endif
