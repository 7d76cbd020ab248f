/*
 * template: parsing and rendering of number templates, and reset periods. A template is parsed
 * into a short list of tokens (text, prefix, counter, period number, date fields) by the same
 * code for template_check and template_render, so what check accepts is exactly what render can
 * print. Output is written byte by byte against the caller's capacity: no sprintf, and nothing is
 * ever truncated silently.
 */
#include "template.h"

#include "name.h"
#include "numparse.h"

#include <limits.h>
#include <string.h>

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

/* ---- periods ---- */

uint32_t template_period(int rule, const struct calendar_date *d)
{
	uint32_t y, m;

	if (!calendar_date_valid(d))
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

int template_period_start(uint32_t period, int rule, struct calendar_date *out)
{
	/* Bounded by 9999 after the range check below, so the ints cannot overflow. */
	struct calendar_date d = { (int)(period / 10000), (int)(period / 100 % 100),
		                   (int)(period % 100) };

	if (period > 99991231u)
		return -1;
	switch (rule) {
	case TEMPLATE_YEARLY:
		if (d.month != 0 || d.day != 0)
			return -1;
		d.month = d.day = 1;
		break;
	case TEMPLATE_MONTHLY:
		if (d.day != 0)
			return -1;
		d.day = 1;
		break;
	case TEMPLATE_DAILY:
		break;
	default:
		return -1;
	}
	if (!calendar_date_valid(&d))
		return -1;
	*out = d;
	return 0;
}

/* The number a two-conversion printf template shows first: the period as people write it. */
static uint64_t period_number(int rule, const struct calendar_date *d)
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
	switch (name_text_check(s, len, 0)) {
	case NAME_TEXT_OK:
		return 0;
	case NAME_TEXT_UTF8:
		return fail(why, "format_template must be valid UTF-8.");
	default:
		return fail(why, "format_template must not contain control characters.");
	}
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
                    unsigned padding, int rule, const struct calendar_date *date, char *out,
                    size_t cap)
{
	struct out o = { out, cap, 0, 0 };
	struct parsed p;

	if (cap > 0)
		out[0] = '\0';
	if (cap == 0 || n < 0 || padding > TEMPLATE_PADDING_MAX || rule < 0 || rule >= RULE_COUNT ||
	    (prefix == NULL && prefix_len > 0) || parse(tmpl, &p, NULL) != 0 ||
	    (needs_date(&p) && !calendar_date_valid(date)))
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
