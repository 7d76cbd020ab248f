/*
 * zone_file: the TZif reader. Every byte of a zone file is distrusted: sizes and counts are
 * bounded before anything past them is read, offsets are bounded, transitions must increase, and
 * a file that breaks any rule is no zone at all (zone_check refuses its name). What is kept of a
 * file: the transitions with the offset from each, and the footer's rule (a POSIX TZ string) for
 * every moment after the last one.
 */
#include "zone_file.h"

#include "bigendian.h"
#include "calendar.h"
#include "numparse.h"

#include <stdlib.h>
#include <string.h>

#define ZONE_TIMES_MAX 2000 /* transitions, the reference reader's own bound; Debian's most: 310 */
#define ZONE_TYPES_MAX 256  /* a transition names its time type in one byte */
#define ZONE_RULE_MAX 128   /* bytes of the footer's rule; Debian's longest has 44 */
/* Offsets RFC 8536 allows: -24:59:59 to +25:59:59. Bounded, t + offset cannot overflow. */
#define OFFSET_MIN (-89999)
#define OFFSET_MAX 93599
/* The moments asked about (zone_file.h) keep every sum below far from int64's ends whatever a
 * file says. */
#define TIME_MIN ZONE_FILE_TIME_MIN
#define TIME_MAX ZONE_FILE_TIME_MAX

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

struct zone_file {
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
	c->isut = (uint32_t)bigendian_get(h + 20, 4);
	c->isstd = (uint32_t)bigendian_get(h + 24, 4);
	c->leap = (uint32_t)bigendian_get(h + 28, 4);
	c->times = (uint32_t)bigendian_get(h + 32, 4);
	c->types = (uint32_t)bigendian_get(h + 36, 4);
	c->chars = (uint32_t)bigendian_get(h + 40, 4);
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
		day = d->n - 1 + (d->n >= 60 && calendar_is_leap(y));
	} else if (d->kind == 'D') {
		day = d->n;
	} else {
		/* The weekday of the month's first day, the first wanted weekday from it, then whole
		 * weeks on; week 5 means the last, which may be the 4th. */
		int64_t first = calendar_year_start(y) + calendar_days_before_month(y, d->n);
		int64_t dom = (d->wday - calendar_weekday(first) + 7) % 7 + 7 * (d->week - 1);

		while (dom >= calendar_days_in_month(y, d->n))
			dom -= 7;
		day = calendar_days_before_month(y, d->n) + dom;
	}
	return (calendar_year_start(y) + day) * 86400 + d->time - off_before;
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
	y = calendar_year_of(calendar_day_of(t + r->std_off));
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

/* ---- parsing a zone file ---- */

/* The 64-bit block's transitions and time types into z; the counts are already checked. */
static int read_block(const unsigned char *p, const struct tzif_counts *c, struct zone_file *z)
{
	const unsigned char *types = p + (size_t)c->times * 9;

	for (uint32_t i = 0; i < c->times; i++) {
		z->at[i] = bigendian_get_signed(p + (size_t)i * 8, 8);
		z->type[i] = p[(size_t)c->times * 8 + i];
		if ((i > 0 && z->at[i] <= z->at[i - 1]) || z->type[i] >= c->types)
			return -1;
	}
	for (uint32_t i = 0; i < c->types; i++) {
		const unsigned char *tt = types + (size_t)i * 6;
		int32_t off = (int32_t)bigendian_get_signed(tt, 4);

		/* isdst is 0 or 1; the abbreviation's index points into the abbreviations */
		if (off < OFFSET_MIN || off > OFFSET_MAX || tt[4] > 1 || tt[5] >= c->chars)
			return -1;
		z->offset[i] = off;
	}
	/* The abbreviations and the standard/wall and UT/local indicators that follow are not used:
	 * they only matter to a reader that extends the footer's rule backwards, which we never do. */
	return 0;
}

int zone_file_parse(const void *buf, size_t len, struct zone_file **out)
{
	struct bytes b = { buf, len };
	struct tzif_counts c;
	struct zone_file *z;
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

void zone_file_free(struct zone_file *z)
{
	free(z);
}

int zone_file_offset(const struct zone_file *z, int64_t t, int32_t *utoff)
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
