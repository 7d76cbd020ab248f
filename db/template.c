/*
 * template: parsing and rendering of number templates, reset periods, and local dates in a
 * prefix's time zone. A template is parsed into a short list of tokens (text, prefix, counter,
 * period number, date fields) by the same code for template_check and template_render, so what
 * check accepts is exactly what render can print. Output is written byte by byte against the
 * caller's capacity: no sprintf, and nothing is ever truncated silently. Local dates come from
 * the zone's own file (TZif), read here once and kept in a small cache: the process's TZ,
 * tzset() and localtime() are never used, since a worker's threads ask in different zones at
 * once and TZ is one per process.
 */
#include "template.h"

#include "name.h"
#include "numparse.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZONEINFO_DIR "/usr/share/zoneinfo/"

static const char *const rule_names[] = {
	[TEMPLATE_NEVER] = "never",
	[TEMPLATE_DAILY] = "daily",
	[TEMPLATE_MONTHLY] = "monthly",
	[TEMPLATE_YEARLY] = "yearly",
};

#define RULE_COUNT ((int)(sizeof(rule_names) / sizeof(rule_names[0])))

int template_rule_parse(const char *s, size_t len)
{
	for (int r = 0; r < RULE_COUNT; r++)
		if (s != NULL && strlen(rule_names[r]) == len && memcmp(s, rule_names[r], len) == 0)
			return r;
	return -1;
}

const char *template_rule_name(int rule)
{
	return rule >= 0 && rule < RULE_COUNT ? rule_names[rule] : "?";
}

/* ---- dates and periods ---- */

static int is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* Years stop at 9999 so that {yyyy} is always four digits and a daily period fits in 8 digits. */
static int date_valid(int year, int month, int day)
{
	return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
	       day <= days_in_month(year, month);
}

static int date_ok(const struct template_date *d)
{
	return d != NULL && date_valid(d->year, d->month, d->day);
}

uint32_t template_period(int rule, const struct template_date *d)
{
	uint32_t y, m;

	if (!date_ok(d))
		return 0;
	y = (uint32_t)d->year;
	m = (uint32_t)d->month;
	switch (rule) {
	case TEMPLATE_YEARLY:
		return y * 10000;
	case TEMPLATE_MONTHLY:
		return y * 10000 + m * 100;
	case TEMPLATE_DAILY:
		return y * 10000 + m * 100 + (uint32_t)d->day;
	default:
		return 0;
	}
}

int template_period_start(uint32_t period, int rule, struct template_date *out)
{
	/* Bounded by 9999 after the range check below, so the ints cannot overflow. */
	int y = (int)(period / 10000), m = (int)(period / 100 % 100), d = (int)(period % 100);

	if (period > 99991231u)
		return -1;
	switch (rule) {
	case TEMPLATE_YEARLY:
		if (m != 0 || d != 0)
			return -1;
		m = d = 1;
		break;
	case TEMPLATE_MONTHLY:
		if (d != 0)
			return -1;
		d = 1;
		break;
	case TEMPLATE_DAILY:
		break;
	default:
		return -1;
	}
	if (!date_valid(y, m, d))
		return -1;
	out->year = y;
	out->month = m;
	out->day = d;
	return 0;
}

/* The number a two-conversion printf template shows first: the period as people write it. */
static uint64_t period_number(int rule, const struct template_date *d)
{
	uint64_t y = (uint64_t)d->year, m = (uint64_t)d->month, day = (uint64_t)d->day;

	switch (rule) {
	case TEMPLATE_DAILY:
		return y * 10000 + m * 100 + day;
	case TEMPLATE_MONTHLY:
		return y * 100 + m;
	default: /* yearly, and never: the year is the natural reading of "INV%d-%04d" */
		return y;
	}
}

/* ---- parsing ---- */

enum tok_kind { TOK_TEXT, TOK_PREFIX, TOK_COUNTER, TOK_PERIOD, TOK_YYYY, TOK_YY, TOK_MM, TOK_DD };

/* {counter}: the width is the prefix's padding, known only when rendering. */
#define WIDTH_PADDING 0xFF

struct tok {
	unsigned char kind;  /* enum tok_kind */
	unsigned char width; /* zero padding of a number; WIDTH_PADDING for {counter} */
	const char *text;    /* TOK_TEXT: bytes of the template */
	size_t len;
};

/* Every token takes at least one byte of the template, so TEMPLATE_MAX tokens always suffice. */
struct parsed {
	struct tok tok[TEMPLATE_MAX];
	size_t count;
};

static void add_tok(struct parsed *p, unsigned char kind, unsigned width, const char *text,
                    size_t len)
{
	struct tok *t;

	/* Two adjacent text runs ("%%" then text) become one token. */
	if (kind == TOK_TEXT && p->count > 0 && p->tok[p->count - 1].kind == TOK_TEXT &&
	    p->tok[p->count - 1].text + p->tok[p->count - 1].len == text) {
		p->tok[p->count - 1].len += len;
		return;
	}
	t = &p->tok[p->count++];
	t->kind = kind;
	t->width = (unsigned char)width;
	t->text = text;
	t->len = len;
}

static int fail(const char **why, const char *sentence)
{
	if (why != NULL)
		*why = sentence;
	return -1;
}

/* Control characters first, as the more specific complaint, then UTF-8 (as name_check does). */
static int check_bytes(const char *s, size_t len, const char **why)
{
	const unsigned char *p = (const unsigned char *)s;
	int bad_utf8 = 0;

	for (size_t i = 0; i < len;) {
		size_t n;

		if (p[i] < 0x20 || p[i] == 0x7F)
			return fail(why, "format_template must not contain control characters.");
		n = name_utf8_char_len(p + i, len - i);
		if (n == 0) {
			bad_utf8 = 1;
			n = 1;
		}
		i += n;
	}
	if (bad_utf8)
		return fail(why, "format_template must be valid UTF-8.");
	return 0;
}

static const struct {
	const char *name;
	unsigned char kind;
	unsigned char width;
} placeholders[] = {
	{ "prefix", TOK_PREFIX, 0 }, { "counter", TOK_COUNTER, WIDTH_PADDING },
	{ "yyyy", TOK_YYYY, 4 },     { "yy", TOK_YY, 2 },
	{ "mm", TOK_MM, 2 },         { "dd", TOK_DD, 2 },
};

/* One placeholder, the name between the braces. */
static int parse_placeholder(const char *name, size_t len, struct parsed *p, const char **why)
{
	static const char counter_n[] = "counter:";
	const size_t counter_n_len = sizeof(counter_n) - 1;
	uint64_t width;
	const char *ignored;

	for (size_t i = 0; i < sizeof(placeholders) / sizeof(placeholders[0]); i++)
		if (strlen(placeholders[i].name) == len && memcmp(name, placeholders[i].name, len) == 0) {
			add_tok(p, placeholders[i].kind, placeholders[i].width, NULL, 0);
			return 0;
		}
	if (len >= counter_n_len && memcmp(name, counter_n, counter_n_len) == 0) {
		if (numparse_u64(name + counter_n_len, len - counter_n_len, 1, TEMPLATE_PADDING_MAX,
		                 &width, &ignored) != 0)
			return fail(why, "format_template {counter:N} needs N from 1 to 18.");
		add_tok(p, TOK_COUNTER, (unsigned)width, NULL, 0);
		return 0;
	}
	return fail(why, "format_template has an unknown placeholder; use {prefix}, {counter}, "
	                 "{counter:N}, {yyyy}, {yy}, {mm} or {dd}.");
}

static int parse_brace(const char *s, size_t len, struct parsed *p, const char **why)
{
	int counters = 0;

	for (size_t i = 0; i < len;) {
		size_t j;

		if (s[i] == '}')
			return fail(why, "format_template has a '}' without an opening '{'.");
		if (s[i] != '{') {
			for (j = i; j < len && s[j] != '{' && s[j] != '}'; j++)
				;
			add_tok(p, TOK_TEXT, 0, s + i, j - i);
			i = j;
			continue;
		}
		for (j = i + 1; j < len && s[j] != '{' && s[j] != '}'; j++)
			;
		if (j == len || s[j] == '{')
			return fail(why, "format_template has a '{' without a closing '}'.");
		if (parse_placeholder(s + i + 1, j - i - 1, p, why) != 0)
			return -1;
		if (p->tok[p->count - 1].kind == TOK_COUNTER)
			counters++;
		i = j + 1;
	}
	if (counters == 0)
		return fail(why, "format_template has no counter; use {counter} or %d.");
	if (counters > 1)
		return fail(why, "format_template has more than one counter.");
	return 0;
}

/*
 * One integer conversion, s[0..len) starting after the '%': [0]N d with N 1..18 and no leading
 * zero, or plain d. Returns the bytes it took, or 0 after setting *why.
 */
static size_t parse_int_conv(const char *s, size_t len, unsigned *width, const char **why)
{
	size_t zero = len > 0 && s[0] == '0', k = zero, digits;
	uint64_t w = 0;
	const char *ignored;

	while (k < len && s[k] >= '0' && s[k] <= '9')
		k++;
	digits = k - zero;
	if (k == len || s[k] != 'd') {
		fail(why, "format_template allows only %s, %d, %Nd, %0Nd (N from 1 to 18) and %%.");
		return 0;
	}
	/* "%0d" has a flag and no width; "%007d" spells the width with a zero C reads as a flag. */
	if ((zero && digits == 0) || (digits > 0 && s[zero] == '0') ||
	    (digits > 0 && numparse_u64(s + zero, digits, 1, TEMPLATE_PADDING_MAX, &w, &ignored) != 0)) {
		fail(why, "format_template conversion width must be from 1 to 18.");
		return 0;
	}
	*width = (unsigned)w;
	return k + 1;
}

static int parse_printf(const char *s, size_t len, struct parsed *p, const char **why)
{
	int strings = 0, ints = 0;
	size_t first_int = 0;

	for (size_t i = 0; i < len;) {
		size_t j, took;
		unsigned width;

		if (s[i] != '%') {
			for (j = i; j < len && s[j] != '%'; j++)
				;
			add_tok(p, TOK_TEXT, 0, s + i, j - i);
			i = j;
			continue;
		}
		if (i + 1 == len)
			return fail(why, "format_template ends with a lone '%'.");
		if (s[i + 1] == '%') {
			add_tok(p, TOK_TEXT, 0, s + i, 1);
			i += 2;
			continue;
		}
		if (s[i + 1] == 's') {
			if (++strings > 1)
				return fail(why, "format_template has more than one %s.");
			add_tok(p, TOK_PREFIX, 0, NULL, 0);
			i += 2;
			continue;
		}
		if ((took = parse_int_conv(s + i + 1, len - i - 1, &width, why)) == 0)
			return -1;
		if (++ints > 2)
			return fail(why, "format_template has more than two integer conversions.");
		if (ints == 1)
			first_int = p->count;
		add_tok(p, TOK_COUNTER, width, NULL, 0);
		i += 1 + took;
	}
	if (ints == 0)
		return fail(why, "format_template has no counter; use {counter} or %d.");
	if (ints == 2)
		p->tok[first_int].kind = TOK_PERIOD;
	return 0;
}

static int parse(const char *tmpl, struct parsed *p, const char **why)
{
	size_t len = tmpl == NULL ? 0 : strnlen(tmpl, TEMPLATE_MAX + 1);
	int brace;

	p->count = 0;
	if (len == 0)
		return fail(why, "format_template is empty.");
	if (len > TEMPLATE_MAX)
		return fail(why, "format_template is longer than 47 bytes.");
	if (check_bytes(tmpl, len, why) != 0)
		return -1;
	brace = memchr(tmpl, '{', len) != NULL || memchr(tmpl, '}', len) != NULL;
	if (brace && memchr(tmpl, '%', len) != NULL)
		return fail(why, "format_template mixes {placeholders} with % conversions.");
	return brace ? parse_brace(tmpl, len, p, why) : parse_printf(tmpl, len, p, why);
}

int template_check(const char *tmpl, const char **why)
{
	struct parsed p;

	return parse(tmpl, &p, why);
}

/* ---- rendering ---- */

struct out {
	char *buf;
	size_t cap, len;
	int full; /* something did not fit */
};

static void put(struct out *o, const char *bytes, size_t n)
{
	/* One byte always stays free for the NUL. */
	if (o->full || o->cap == 0 || n > o->cap - 1 - o->len) {
		o->full = 1;
		return;
	}
	if (n > 0)
		memcpy(o->buf + o->len, bytes, n);
	o->len += n;
}

/* v in decimal, zero-padded to width (at most TEMPLATE_PADDING_MAX; a wider v is shown in full). */
static void put_number(struct out *o, uint64_t v, unsigned width)
{
	char digits[TEMPLATE_PADDING_MAX + 20];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (sizeof(digits) - i < width)
		digits[--i] = '0';
	put(o, digits + i, sizeof(digits) - i);
}

static int needs_date(const struct parsed *p)
{
	for (size_t i = 0; i < p->count; i++)
		if (p->tok[i].kind >= TOK_PERIOD)
			return 1;
	return 0;
}

int template_render(const char *tmpl, const char *prefix, size_t prefix_len, int64_t n,
                    unsigned padding, int rule, const struct template_date *date, char *out,
                    size_t cap)
{
	struct out o = { out, cap, 0, 0 };
	struct parsed p;

	if (cap > 0)
		out[0] = '\0';
	if (cap == 0 || n < 0 || padding > TEMPLATE_PADDING_MAX || rule < 0 || rule >= RULE_COUNT ||
	    (prefix == NULL && prefix_len > 0) || parse(tmpl, &p, NULL) != 0 ||
	    (needs_date(&p) && !date_ok(date)))
		return -1;
	for (size_t i = 0; i < p.count && !o.full; i++) {
		const struct tok *t = &p.tok[i];

		switch (t->kind) {
		case TOK_TEXT:
			put(&o, t->text, t->len);
			break;
		case TOK_PREFIX:
			put(&o, prefix, prefix_len);
			break;
		case TOK_COUNTER:
			put_number(&o, (uint64_t)n, t->width == WIDTH_PADDING ? padding : t->width);
			break;
		case TOK_PERIOD:
			put_number(&o, period_number(rule, date), t->width);
			break;
		case TOK_YYYY:
			put_number(&o, (uint64_t)date->year, 4);
			break;
		case TOK_YY:
			put_number(&o, (uint64_t)(date->year % 100), 2);
			break;
		case TOK_MM:
			put_number(&o, (uint64_t)date->month, 2);
			break;
		case TOK_DD:
			put_number(&o, (uint64_t)date->day, 2);
			break;
		}
	}
	if (o.full || o.len > INT_MAX) {
		out[0] = '\0';
		return -1;
	}
	out[o.len] = '\0';
	return (int)o.len;
}

/* ---- calendar arithmetic (proleptic Gregorian, days counted from 1970-01-01) ---- */

/* a / b rounded down, for b > 0: C's division rounds toward zero, wrong before 1970. */
static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* a modulo b in 0..b-1, for b > 0. */
static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

/* Days from 1970-01-01 to January 1st of year y, for any y this module meets (-2..10001). */
static int64_t year_start(int64_t y)
{
	/* leap years in 1..y-1; 477 of them are in 1..1969 */
	int64_t leaps = floor_div(y - 1, 4) - floor_div(y - 1, 100) + floor_div(y - 1, 400);

	return 365 * (y - 1970) + leaps - 477;
}

/* Days before the first of month m (1..12) in year y. */
static int64_t days_before_month(int64_t y, int m)
{
	static const int before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };

	return before[m - 1] + (m > 2 && is_leap((int)y));
}

/* The year that day `days` falls in (days within a few million of the epoch). */
static int64_t year_of(int64_t days)
{
	int64_t y = 1970 + floor_div(days * 400, 146097); /* 146097 days make 400 years */

	while (year_start(y) > days)
		y--;
	while (year_start(y + 1) <= days)
		y++;
	return y;
}

/* ---- time zones: names ---- */

#define ZONE_UTC "UTC" /* the default zone, answered without a file */

static int tz_char_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '+' || c == '-' || c == '/';
}

/* The rules of template_tz_valid that need no file. */
static int tz_name_ok(const char *tz, const char **why)
{
	size_t len = tz == NULL ? 0 : strnlen(tz, TEMPLATE_TZ_MAX + 1);

	if (len == 0)
		return fail(why, "timezone is empty.");
	if (len > TEMPLATE_TZ_MAX)
		return fail(why, "timezone is longer than 47 bytes.");
	for (size_t i = 0; i < len; i++)
		if (!tz_char_ok((unsigned char)tz[i]))
			return fail(why, "timezone may contain only letters, digits, '_', '+', '-' and "
			                 "'/'.");
	/* '.' is already refused, so no part can be ".."; these keep the name a plain relative path. */
	if (tz[0] == '/' || tz[len - 1] == '/' || strstr(tz, "//") != NULL)
		return fail(why, "timezone must not start or end with '/' or contain \"//\".");
	/* Every IANA name starts with a capital; zoneinfo's lowercase entries are not zones to pick:
	 * "localtime" follows whatever the host is set to, "right/" counts leap seconds (local time
	 * 27 s off), "posixrules" and "posix/" are aliases kept for old software. */
	if (!(tz[0] >= 'A' && tz[0] <= 'Z'))
		return fail(why, "timezone is not a known IANA time zone, such as Europe/Berlin or UTC.");
	return 0;
}

/* ---- time zones: zone files (TZif, RFC 8536) ---- */

/*
 * Every byte of a zone file is distrusted: sizes and counts are bounded before anything past them
 * is read, offsets are bounded, transitions must increase, and a file that breaks any rule is no
 * zone at all (template_tz_valid refuses its name). What is kept of a file: the transitions with
 * the offset from each, and the footer's rule for every moment after the last one.
 */
#define ZONE_FILE_MAX 65536 /* bytes; Debian's largest zone file has 3,940 */
#define ZONE_TIMES_MAX 2000 /* transitions, the reference reader's own bound; Debian's most: 310 */
#define ZONE_TYPES_MAX 256  /* a transition names its time type in one byte */
#define ZONE_RULE_MAX 128   /* bytes of the footer's rule; Debian's longest has 44 */
/* Offsets RFC 8536 allows: -24:59:59 to +25:59:59. Bounded, t + offset cannot overflow. */
#define OFFSET_MIN (-89999)
#define OFFSET_MAX 93599
/* The moments asked about: local years 1..9999 and two days either side, so that every sum below
 * stays far from int64's ends whatever a file says. */
#define TIME_MIN (-62135596800 - 2 * 86400) /* 0000-12-30T00:00:00Z */
#define TIME_MAX (253402300800 + 2 * 86400) /* 10000-01-03T00:00:00Z */

/* The day and local time a rule switches on, in a given year. */
struct rule_day {
	char kind;     /* 'J': n is 1..365, February 29 never counted; 'D': n is 0..365; 'M' */
	int n;         /* J and D: the day; M: the month, 1..12 */
	int week;      /* M: 1..5, 5 being the last such weekday of the month */
	int wday;      /* M: 0..6, 0 = Sunday */
	int32_t time;  /* seconds after local midnight; version 3 allows -167 h to 167 h */
};

/* The footer: a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"), for moments after the last
 * transition. Offsets here are seconds east of UTC, though the string counts them westwards. */
struct zone_rule {
	int32_t std_off, dst_off;
	int has_dst;
	struct rule_day start, end; /* daylight saving time starts, ends */
};

struct template_zone {
	int32_t offset[ZONE_TYPES_MAX]; /* per time type */
	uint32_t times;                 /* transitions */
	int has_rule;                   /* the footer is not empty */
	struct zone_rule rule;
	unsigned char *type; /* [times]: the time type in force from at[i] */
	int64_t at[];        /* [times]: strictly increasing, unix seconds */
};

/* The unread rest of a file. */
struct bytes {
	const unsigned char *p;
	size_t left;
};

/* The next n bytes (NULL when fewer are left, and nothing is taken). */
static const unsigned char *take(struct bytes *b, uint64_t n)
{
	const unsigned char *at = b->p;

	if (n > b->left)
		return NULL;
	b->p += n;
	b->left -= (size_t)n;
	return at;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A two's complement big-endian int64, without the implementation-defined unsigned conversion. */
static int64_t be64(const unsigned char *p)
{
	uint64_t v = (uint64_t)be32(p) << 32 | be32(p + 4);

	return v <= INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
}

static int32_t be32_signed(const unsigned char *p)
{
	uint32_t v = be32(p);

	return v <= INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

/* A header's counts, in file order. */
struct tzif_counts {
	uint32_t isut, isstd, leap, times, types, chars;
};

static int read_header(struct bytes *b, unsigned char *version, struct tzif_counts *c)
{
	const unsigned char *h = take(b, 44);

	if (h == NULL || memcmp(h, "TZif", 4) != 0)
		return -1;
	*version = h[4]; /* then 15 unused bytes */
	c->isut = be32(h + 20);
	c->isstd = be32(h + 24);
	c->leap = be32(h + 28);
	c->times = be32(h + 32);
	c->types = be32(h + 36);
	c->chars = be32(h + 40);
	return 0;
}

/* Bytes of the data block after a header, times being time_size bytes. No overflow: each count
 * is below 2^32 and each factor below 16. */
static uint64_t block_size(const struct tzif_counts *c, unsigned time_size)
{
	return (uint64_t)c->times * (time_size + 1) + (uint64_t)c->types * 6 + c->chars +
	       (uint64_t)c->leap * (time_size + 4) + c->isstd + c->isut;
}

/*
 * The counts of the 64-bit block as RFC 8536 requires them, within our bounds. A file with leap
 * seconds is refused: its times count them (zoneinfo's right/ zones), ours do not.
 */
static int counts_ok(const struct tzif_counts *c)
{
	return c->types >= 1 && c->types <= ZONE_TYPES_MAX && c->times <= ZONE_TIMES_MAX &&
	       c->leap == 0 && (c->isstd == 0 || c->isstd == c->types) &&
	       (c->isut == 0 || c->isut == c->types);
}

/* ---- the footer's rule ---- */

static int peek(const struct bytes *b)
{
	return b->left > 0 ? b->p[0] : -1;
}

static int skip(struct bytes *b, int c)
{
	if (peek(b) != c)
		return -1;
	take(b, 1);
	return 0;
}

/* Decimal digits as a number in [lo, hi] (through numparse, as every number we read). */
static int rule_number(struct bytes *b, unsigned lo, unsigned hi, int *out)
{
	size_t n = 0;
	uint64_t v;
	const char *ignored;

	while (n < b->left && b->p[n] >= '0' && b->p[n] <= '9')
		n++;
	if (n == 0 || numparse_u64((const char *)b->p, n, lo, hi, &v, &ignored) != 0)
		return -1;
	take(b, n);
	*out = (int)v;
	return 0;
}

static int ascii_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* A zone abbreviation: three or more letters, or <three or more of [A-Za-z0-9+-]>. Unused. */
static int rule_name(struct bytes *b)
{
	size_t n = 0;

	if (skip(b, '<') == 0) {
		while (n < b->left && (ascii_alpha(b->p[n]) || (b->p[n] >= '0' && b->p[n] <= '9') ||
		                      b->p[n] == '+' || b->p[n] == '-'))
			n++;
		take(b, n);
		return n >= 3 && skip(b, '>') == 0 ? 0 : -1;
	}
	while (n < b->left && ascii_alpha(b->p[n]))
		n++;
	take(b, n);
	return n >= 3 ? 0 : -1;
}

/* [+-]hh[:mm[:ss]] with hh 0..max_hours, as signed seconds. */
static int rule_clock(struct bytes *b, unsigned max_hours, int32_t *out)
{
	int neg = skip(b, '-') == 0, h, m = 0, s = 0;

	if (!neg)
		skip(b, '+');
	if (rule_number(b, 0, max_hours, &h) != 0)
		return -1;
	if (skip(b, ':') == 0 &&
	    (rule_number(b, 0, 59, &m) != 0 || (skip(b, ':') == 0 && rule_number(b, 0, 59, &s) != 0)))
		return -1;
	*out = (int32_t)(h * 3600 + m * 60 + s) * (neg ? -1 : 1);
	return 0;
}

/* A switch: Jn, n or Mm.w.d, then /time (02:00 when left out). */
static int rule_switch(struct bytes *b, struct rule_day *d)
{
	int ok;

	d->week = d->wday = 0;
	if (skip(b, 'J') == 0) {
		d->kind = 'J';
		ok = rule_number(b, 1, 365, &d->n) == 0;
	} else if (skip(b, 'M') == 0) {
		d->kind = 'M';
		ok = rule_number(b, 1, 12, &d->n) == 0 && skip(b, '.') == 0 &&
		     rule_number(b, 1, 5, &d->week) == 0 && skip(b, '.') == 0 &&
		     rule_number(b, 0, 6, &d->wday) == 0;
	} else {
		d->kind = 'D';
		ok = rule_number(b, 0, 365, &d->n) == 0;
	}
	d->time = 2 * 3600;
	if (ok && skip(b, '/') == 0)
		ok = rule_clock(b, 167, &d->time) == 0;
	return ok ? 0 : -1;
}

/*
 * The whole footer: std offset [dst [offset] ,start,end]. Daylight saving time without its
 * switches is refused: POSIX leaves those to the implementation, and zic never writes it.
 */
static int rule_parse(const unsigned char *s, size_t len, struct zone_rule *r)
{
	struct bytes b = { s, len };
	int32_t off;

	if (rule_name(&b) != 0 || rule_clock(&b, 24, &off) != 0)
		return -1;
	r->std_off = -off;
	r->has_dst = b.left > 0;
	if (!r->has_dst)
		return 0;
	if (rule_name(&b) != 0)
		return -1;
	r->dst_off = r->std_off + 3600;
	if (peek(&b) != ',') {
		if (rule_clock(&b, 24, &off) != 0)
			return -1;
		r->dst_off = -off;
	}
	if (skip(&b, ',') != 0 || rule_switch(&b, &r->start) != 0 || skip(&b, ',') != 0 ||
	    rule_switch(&b, &r->end) != 0 || b.left != 0)
		return -1;
	return 0;
}

/* The unix time of a switch in year y, the local time before it being off_before east of UTC. */
static int64_t switch_at(const struct rule_day *d, int64_t y, int32_t off_before)
{
	int64_t day;

	if (d->kind == 'J') {
		day = d->n - 1 + (d->n >= 60 && is_leap((int)y));
	} else if (d->kind == 'D') {
		day = d->n;
	} else {
		/* The weekday of the month's first day (1970-01-01 was a Thursday, 4), the first wanted
		 * weekday from it, then whole weeks on; week 5 means the last, which may be the 4th. */
		int64_t first = year_start(y) + days_before_month(y, d->n);
		int64_t dom = floor_mod(d->wday - floor_mod(first + 4, 7), 7) + 7 * (d->week - 1);

		while (dom >= days_in_month((int)y, d->n))
			dom -= 7;
		day = days_before_month(y, d->n) + dom;
	}
	return (year_start(y) + day) * 86400 + d->time - off_before;
}

/*
 * The offset a rule gives at t (TIME_MIN..TIME_MAX). Switches may lie up to a week outside their
 * year (version 3 times), so the switches of four years around t are weighed and the latest at or
 * before t decides. Of two at the same moment the later year's wins, which keeps "daylight saving
 * all year" (start at 0/0, end at J365/25: the end meets next year's start) in daylight saving.
 */
static int32_t rule_offset(const struct zone_rule *r, int64_t t)
{
	int64_t y, best = INT64_MIN;
	int32_t off = r->std_off;

	if (!r->has_dst)
		return r->std_off;
	y = year_of(floor_div(t + r->std_off, 86400));
	for (int64_t k = y - 2; k <= y + 1; k++) {
		int64_t on = switch_at(&r->start, k, r->std_off);
		int64_t end = switch_at(&r->end, k, r->dst_off);
		/* in time order within the year; a start and an end at one moment leave standard time */
		int64_t first = on <= end ? on : end, second = on <= end ? end : on;
		int32_t first_off = on <= end ? r->dst_off : r->std_off;
		int32_t second_off = on <= end ? r->std_off : r->dst_off;

		if (first <= t && first >= best) {
			best = first;
			off = first_off;
		}
		if (second <= t && second >= best) {
			best = second;
			off = second_off;
		}
	}
	return off;
}

/* ---- reading a zone file ---- */

/* The 64-bit block's transitions and time types into z; the counts are already checked. */
static int read_block(const unsigned char *p, const struct tzif_counts *c, struct template_zone *z)
{
	const unsigned char *types = p + (size_t)c->times * 9;

	for (uint32_t i = 0; i < c->times; i++) {
		z->at[i] = be64(p + (size_t)i * 8);
		z->type[i] = p[(size_t)c->times * 8 + i];
		if ((i > 0 && z->at[i] <= z->at[i - 1]) || z->type[i] >= c->types)
			return -1;
	}
	for (uint32_t i = 0; i < c->types; i++) {
		const unsigned char *tt = types + (size_t)i * 6;
		int32_t off = be32_signed(tt);

		/* isdst is 0 or 1; the abbreviation's index points into the abbreviations */
		if (off < OFFSET_MIN || off > OFFSET_MAX || tt[4] > 1 || tt[5] >= c->chars)
			return -1;
		z->offset[i] = off;
	}
	/* The abbreviations and the standard/wall and UT/local indicators that follow are not used:
	 * they only matter to a reader that extends the footer's rule backwards, which we never do. */
	return 0;
}

int template_zone_parse(const void *buf, size_t len, struct template_zone **out)
{
	struct bytes b = { buf, len };
	struct tzif_counts c;
	struct template_zone *z;
	const unsigned char *block;
	unsigned char version;

	*out = NULL;
	if (buf == NULL || len > ZONE_FILE_MAX)
		return -1;
	/* The version 1 block (32-bit times) is skipped: version 2 on repeats it with 64-bit times
	 * and adds the footer. A version 1 file has neither; zic has not written one since 2005. */
	if (read_header(&b, &version, &c) != 0 || version < '2' || take(&b, block_size(&c, 4)) == NULL)
		return -1;
	if (read_header(&b, &version, &c) != 0 || !counts_ok(&c) ||
	    (block = take(&b, block_size(&c, 8))) == NULL)
		return -1;
	/* The footer: '\n', a rule (maybe empty), '\n', and nothing after it. */
	if (b.left < 2 || b.left - 2 > ZONE_RULE_MAX || b.p[0] != '\n' || b.p[b.left - 1] != '\n' ||
	    memchr(b.p + 1, '\n', b.left - 2) != NULL)
		return -1;
	if ((z = malloc(sizeof(*z) + (size_t)c.times * (sizeof(int64_t) + 1))) == NULL)
		return -1;
	z->times = c.times;
	z->type = (unsigned char *)(z->at + c.times);
	z->has_rule = b.left > 2;
	if (read_block(block, &c, z) != 0 ||
	    (z->has_rule && rule_parse(b.p + 1, b.left - 2, &z->rule) != 0)) {
		free(z);
		return -1;
	}
	*out = z;
	return 0;
}

void template_zone_free(struct template_zone *z)
{
	free(z);
}

int template_zone_offset(const struct template_zone *z, int64_t t, int32_t *utoff)
{
	uint32_t lo = 0, hi;

	if (z == NULL || t < TIME_MIN || t > TIME_MAX)
		return -1;
	/* After the last transition (or with none) the footer's rule, when there is one, else the
	 * last type in force; before the first, type 0 (RFC 8536 3.2). */
	if (z->times == 0 || t >= z->at[z->times - 1]) {
		*utoff = z->has_rule ? rule_offset(&z->rule, t)
		                     : z->offset[z->times == 0 ? 0 : z->type[z->times - 1]];
		return 0;
	}
	if (t < z->at[0]) {
		*utoff = z->offset[0];
		return 0;
	}
	/* at[lo] <= t < at[hi] */
	hi = z->times - 1;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (z->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	*utoff = z->offset[z->type[lo]];
	return 0;
}

/* The zone file of a valid name, parsed; NULL when it is missing, odd or no zone. */
static struct template_zone *zone_read(const char *tz)
{
	char path[sizeof(ZONEINFO_DIR) + TEMPLATE_TZ_MAX];
	struct template_zone *z = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd, n;

	n = snprintf(path, sizeof(path), "%s%s", ZONEINFO_DIR, tz);
	if (n < 0 || (size_t)n >= sizeof(path))
		return NULL;
	/* O_NONBLOCK: nothing odd in the directory (a FIFO) may hang a worker. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > ZONE_FILE_MAX ||
	    (buf = malloc(ZONE_FILE_MAX + 1)) == NULL)
		goto out;
	/* One byte more than allowed, so that a file grown since fstat is refused, not cut. */
	while (len <= ZONE_FILE_MAX) {
		ssize_t got = read(fd, buf + len, ZONE_FILE_MAX + 1 - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	if (len <= ZONE_FILE_MAX)
		template_zone_parse(buf, len, &z);
out:
	free(buf);
	close(fd);
	return z;
}

/* ---- time zones: the cache ---- */

/*
 * The zones asked about, each read once per process. A worker's threads share them; zone_lock
 * covers the table and every use of a zone in it (a binary search, a few additions), so a zone can
 * be dropped to make room without anyone holding it. Files are read outside the lock. A zone
 * stays until room is needed, so an updated tzdata reaches a worker when the worker is replaced
 * (max_requests, a reload). ZONE_SLOTS is more zones than one store's prefixes are expected to
 * use; beyond it, the zone asked about least recently is dropped (and read again when asked).
 */
#define ZONE_SLOTS 16

static struct {
	char name[TEMPLATE_TZ_MAX + 1];
	struct template_zone *zone; /* NULL: a free slot */
	uint64_t used;              /* zone_uses at the last use: the smallest goes first */
} zone_slots[ZONE_SLOTS];
static uint64_t zone_uses;
static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;

/* Under zone_lock: the zone named tz, or NULL. */
static struct template_zone *cache_find(const char *tz)
{
	for (int i = 0; i < ZONE_SLOTS; i++)
		if (zone_slots[i].zone != NULL && strcmp(zone_slots[i].name, tz) == 0) {
			zone_slots[i].used = ++zone_uses;
			return zone_slots[i].zone;
		}
	return NULL;
}

/* Under zone_lock: keep z as tz (a valid name), in a free slot or the least recently used one. */
static void cache_add(const char *tz, struct template_zone *z)
{
	int victim = 0;

	for (int i = 0; i < ZONE_SLOTS; i++) {
		if (zone_slots[i].zone == NULL) {
			victim = i;
			break;
		}
		if (zone_slots[i].used < zone_slots[victim].used)
			victim = i;
	}
	template_zone_free(zone_slots[victim].zone);
	memcpy(zone_slots[victim].name, tz, strlen(tz) + 1);
	zone_slots[victim].zone = z;
	zone_slots[victim].used = ++zone_uses;
}

/* The offset at t in the zone of a valid name other than UTC, reading its file when not cached. */
static int cached_offset(const char *tz, int64_t t, int32_t *utoff)
{
	struct template_zone *z, *fresh;
	int rc;

	pthread_mutex_lock(&zone_lock);
	z = cache_find(tz);
	rc = z == NULL ? -1 : template_zone_offset(z, t, utoff);
	pthread_mutex_unlock(&zone_lock);
	if (z != NULL)
		return rc;
	if ((fresh = zone_read(tz)) == NULL)
		return -1;
	pthread_mutex_lock(&zone_lock);
	if ((z = cache_find(tz)) == NULL) { /* else another thread was quicker: keep its copy */
		cache_add(tz, fresh);
		z = fresh;
		fresh = NULL;
	}
	rc = template_zone_offset(z, t, utoff);
	pthread_mutex_unlock(&zone_lock);
	template_zone_free(fresh);
	return rc;
}

int template_tz_offset(int64_t t, const char *tz, int32_t *utoff)
{
	if (tz_name_ok(tz, NULL) != 0 || t < TIME_MIN || t > TIME_MAX)
		return -1;
	if (strcmp(tz, ZONE_UTC) == 0) {
		*utoff = 0;
		return 0;
	}
	return cached_offset(tz, t, utoff);
}

int template_tz_valid(const char *tz, const char **why)
{
	int32_t ignored;

	if (tz_name_ok(tz, why) != 0)
		return -1;
	/* Read (and kept) through the same path as every later use, so a name accepted here is a
	 * zone that answers. */
	if (template_tz_offset(0, tz, &ignored) != 0)
		return fail(why, "timezone is not a known IANA time zone, such as Europe/Berlin or UTC.");
	return 0;
}

int template_local_date(int64_t t, const char *tz, struct template_date *out)
{
	int32_t off;
	int64_t days, y;
	int m;

	if (template_tz_offset(t, tz, &off) != 0)
		return -1;
	days = floor_div(t + off, 86400);
	y = year_of(days);
	if (y < 1 || y > 9999)
		return -1;
	days -= year_start(y);
	for (m = 12; days_before_month(y, m) > days; m--)
		;
	out->year = (int)y;
	out->month = m;
	out->day = (int)(days - days_before_month(y, m)) + 1;
	return 0;
}
