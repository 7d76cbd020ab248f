/*
 * fuzz_template: what a prefix's configuration holds. template_check and template_render
 * (db/template.c) with the period helpers on the way, the zone names of db/zone.c, and zone files
 * through db/zone_file.c.
 *
 * Input: 16 bytes of parameters, then the template, a NUL, and the prefix (up to a NUL):
 *   [0] padding (0..255: above 18 must be refused)   [1] rule (0..255: above 3 must be refused)
 *   [2..3] year  [4] month  [5] day  (any values: an invalid date must be refused when shown)
 *   [6..13] counter n (int64, little-endian: negative must be refused)
 *   [14] bit 0: render without a date
 *   [15] bit 0: the rest is a zone file instead (TZif), for zone_file_parse; [6..13] is then a
 *        moment to ask it about
 * Checks: check and render agree (a template check refuses never renders; one it accepts always
 * renders with valid arguments and room), the result is NUL-terminated and as long as returned,
 * it is never truncated (one byte less room is a refusal with ""), and the counter's digits
 * appear in it. The template's bytes are also tried as a time zone name: one that passes must be
 * a plain relative path under /usr/share/zoneinfo. A zone file that zone_file_parse accepts
 * answers every moment of the years 1..9999 with an offset RFC 8536 allows, and refuses moments
 * far outside them; one it refuses leaves no zone.
 */
#include "template.h"
#include "zone.h"
#include "zone_file.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARAMS 16
#define PREFIX_MAX 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *rule, const char *tmpl)
{
	fprintf(stderr, "\n==== nextid fuzz: template broke a rule: %s\n", rule);
	if (tmpl)
		fprintf(stderr, "template: \"%s\"\n", tmpl);
	abort();
}

static void check_tz(const char *tz)
{
	struct calendar_date d;
	const char *why = NULL;

	if (zone_check(tz, &why) != 0) {
		if (!why || strncmp(why, "timezone ", 9) != 0)
			broken("a refused zone comes with a sentence starting \"timezone \"", tz);
		return;
	}
	if (tz[0] == '/' || strstr(tz, "..") || strstr(tz, "//") || strchr(tz, '.'))
		broken("a valid zone is a plain relative path", tz);
	if (zone_local_date(1700000000, tz, &d) != 0 || d.year < 2023 || d.year > 2024)
		broken("a valid zone gives a local date", tz);
}

/* The moments every accepted zone is asked about, besides the fuzzer's own. */
static const int64_t zone_moments[] = { -62135769600, -2208988800, 0, 1700000000, 2000000000,
	                                2147483648, 4102444800, 253402473600 };

static void check_zone_file(const uint8_t *bytes, size_t len, int64_t t)
{
	struct zone_file *z = NULL;
	int32_t off;

	if (zone_file_parse(bytes, len, &z) != 0) {
		if (z != NULL)
			broken("a refused zone file leaves no zone", NULL);
		return;
	}
	for (size_t i = 0; i <= sizeof(zone_moments) / sizeof(zone_moments[0]); i++) {
		int64_t at = i < sizeof(zone_moments) / sizeof(zone_moments[0]) ? zone_moments[i] : t;
		int in_range = at >= zone_moments[0] && at <= 253402473600;
		int rc = zone_file_offset(z, at, &off);

		if (in_range != (rc == 0))
			broken("a zone answers exactly the moments of years 1..9999, two days either side",
			       NULL);
		if (rc == 0 && (off < -89999 || off > 93599))
			broken("an offset is within -24:59:59 .. +25:59:59", NULL);
	}
	zone_file_free(z);
}

static void check_periods(int rule, const struct calendar_date *d)
{
	struct calendar_date start;
	uint32_t period = template_period(rule, d);

	if (rule == TEMPLATE_NEVER || rule > TEMPLATE_YEARLY) {
		if (period != 0)
			broken("never (or no rule) has period 0", NULL);
		return;
	}
	if (template_period_start(period, rule, &start) != 0)
		broken("a period's start exists", NULL);
	if (template_period(rule, &start) != period)
		broken("a period starts inside itself", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char tmpl[TEMPLATE_MAX * 2 + 2], out[4096], small[4096], digits[24];
	const char *prefix, *why = NULL;
	struct calendar_date date;
	const uint8_t *rest, *nul;
	size_t tlen, prefix_len;
	unsigned padding;
	int rule, ok, ok2, r, r2, date_valid;
	int64_t n;
	uint64_t un = 0;

	if (size < PARAMS)
		return 0;
	padding = data[0];
	rule = data[1];
	date.year = data[2] | data[3] << 8;
	date.month = data[4];
	date.day = data[5];
	for (int i = 7; i >= 0; i--)
		un = un << 8 | data[6 + i];
	n = (int64_t)un;
	rest = data + PARAMS;
	if (data[15] & 1) {
		check_zone_file(rest, size - PARAMS, n);
		return 0;
	}
	nul = memchr(rest, '\0', size - PARAMS);
	tlen = nul ? (size_t)(nul - rest) : size - PARAMS;
	if (tlen >= sizeof(tmpl))
		tlen = sizeof(tmpl) - 1;
	memcpy(tmpl, rest, tlen);
	tmpl[tlen] = '\0';
	/* The prefix is a name: any bytes but NUL (the number is a C string). */
	prefix = nul ? (const char *)nul + 1 : "";
	prefix_len = nul ? strnlen(prefix, size - PARAMS - (size_t)(nul - rest) - 1) : 0;
	if (prefix_len > PREFIX_MAX)
		prefix_len = PREFIX_MAX;

	ok = template_check(tmpl, &why) == 0;
	ok2 = template_check(tmpl, NULL) == 0;
	if (ok != ok2)
		broken("template_check does not depend on why", tmpl);
	if (!ok && (!why || strncmp(why, "format_template ", 16) != 0))
		broken("a refusal comes with a sentence starting \"format_template \"", tmpl);

	date_valid = date.year >= 1 && date.year <= 9999 && date.month >= 1 && date.month <= 12 &&
	             date.day >= 1 && date.day <= 31 &&
	             template_period(TEMPLATE_DAILY, &date) != 0;
	r = template_render(tmpl, prefix_len ? prefix : NULL, prefix_len, n, padding, rule,
	                    (data[14] & 1) ? NULL : &date, out, sizeof(out));
	if (r >= 0 && (!ok || n < 0 || padding > TEMPLATE_PADDING_MAX || rule > TEMPLATE_YEARLY))
		broken("render refuses what check, the counter, padding or rule make invalid", tmpl);
	if (r < 0 && out[0] != '\0')
		broken("a refused render leaves \"\"", tmpl);
	if (r < 0 && ok && n >= 0 && padding <= TEMPLATE_PADDING_MAX && rule <= TEMPLATE_YEARLY &&
	    date_valid && !(data[14] & 1))
		broken("a valid template renders with valid arguments and room", tmpl);
	if (r >= 0) {
		if (strlen(out) != (size_t)r)
			broken("the result is as long as returned", tmpl);
		snprintf(digits, sizeof(digits), "%lld", (long long)n);
		if (!strstr(out, digits))
			broken("the counter's digits appear in the number", tmpl);
		/* Exactly enough room renders the same; one byte less is a refusal, never a cut. */
		r2 = template_render(tmpl, prefix_len ? prefix : NULL, prefix_len, n, padding, rule,
		                     (data[14] & 1) ? NULL : &date, small, (size_t)r + 1);
		if (r2 != r || strcmp(small, out) != 0)
			broken("exactly enough room renders the same", tmpl);
		r2 = template_render(tmpl, prefix_len ? prefix : NULL, prefix_len, n, padding, rule,
		                     (data[14] & 1) ? NULL : &date, small, (size_t)r);
		if (r2 != -1 || (r > 0 && small[0] != '\0'))
			broken("one byte less room is a refusal, never a truncation", tmpl);
	}
	if (date_valid)
		check_periods(rule, &date);
	check_tz(tmpl);
	return 0;
}
