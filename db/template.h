/*
 * template: the number formats of the formatted-number API (API.md §5). A prefix's template turns
 * its counter, its name and the date of its reset period into the full number ("SG000001",
 * "INV2026-0001"); its reset rule decides which period a date falls in (the date of a moment in
 * the prefix's time zone is zone.h's). Pure functions; any process may use them. Storing the
 * template and the period, and restarting the counter, are the store's.
 */
#ifndef NEXTID_TEMPLATE_H
#define NEXTID_TEMPLATE_H

#include "calendar.h"

#include <stddef.h>
#include <stdint.h>

/* How often the counter restarts at 1. The values are stored (the record's reset_rule byte). */
enum template_rule { TEMPLATE_NEVER, TEMPLATE_DAILY, TEMPLATE_MONTHLY, TEMPLATE_YEARLY };

/* The rule named s[0..len): "never", "daily", "monthly" or "yearly" (case-sensitive), else -1. */
int template_rule_parse(const char *s, size_t len);

/* The rule's name as the API spells it, or "?" for a value that is no rule. */
const char *template_rule_name(int rule);

#define TEMPLATE_MAX 47         /* bytes of a template (it is stored in a 48-byte record field) */
#define TEMPLATE_PADDING_MAX 18 /* widest zero padding of a number */

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
                    unsigned padding, int rule, const struct calendar_date *date, char *out,
                    size_t cap);

/*
 * The period a valid date falls in: never -> 0; yearly -> yyyy0000; monthly -> yyyymm00;
 * daily -> yyyymmdd. Periods of one rule compare as integers in time order. An unknown rule or an
 * invalid date gives 0, as for never: callers pass dates from zone_local_date.
 */
uint32_t template_period(int rule, const struct calendar_date *d);

/*
 * The first day of a period of the given rule (the inverse of template_period). Returns 0 and sets
 * *out (OUT), or -1 leaving *out unchanged for rule never, an unknown rule, or a period that is
 * not one template_period gives for that rule (20261100 is not a yearly period; 20260230 is none).
 */
int template_period_start(uint32_t period, int rule, struct calendar_date *out);

#endif
