/*
 * numparse: strict decimal parsing with bounds. Refuses everything that is not plain digits so
 * that "1e3", "0x10", " 5" and "10abc" are errors, never silently a different number.
 */
#include "numparse.h"

/* Accumulate digits into *out: -1 when any byte is not a digit (checked over the whole input, so
 * "99999999999999999999x" is not a number rather than too large), -2 past UINT64_MAX. */
static int parse_digits(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	int overflow = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)((unsigned char)s[i] - '0');

		if (d > 9)
			return -1;
		if (v > (UINT64_MAX - d) / 10)
			overflow = 1;
		else
			v = v * 10 + d;
	}
	*out = v;
	return overflow ? -2 : 0;
}

int numparse_u64(const char *s, size_t len, uint64_t lo, uint64_t hi, uint64_t *out,
                 const char **why)
{
	uint64_t v = 0;
	int rc = parse_digits(s, len, &v);

	if (rc == -1) {
		*why = "is not a number";
		return -1;
	}
	if (rc == -2 || v > hi) {
		*why = "is too large";
		return -1;
	}
	if (v < lo) {
		*why = "is too small";
		return -1;
	}
	*out = v;
	return 0;
}

int numparse_i64(const char *s, size_t len, int64_t lo, int64_t hi, int64_t *out,
                 const char **why)
{
	int negative = len > 0 && s[0] == '-' && lo < 0;
	uint64_t mag = 0;
	int64_t v;
	int rc = parse_digits(s + negative, len - (size_t)negative, &mag);

	if (rc == -1) {
		*why = "is not a number";
		return -1;
	}
	if (negative) {
		/* The magnitude of INT64_MIN is one more than INT64_MAX. */
		if (rc == -2 || mag > (uint64_t)INT64_MAX + 1) {
			*why = "is too small";
			return -1;
		}
		v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (rc == -2 || mag > (uint64_t)INT64_MAX) {
			*why = "is too large";
			return -1;
		}
		v = (int64_t)mag;
	}
	if (v > hi) {
		*why = "is too large";
		return -1;
	}
	if (v < lo) {
		*why = "is too small";
		return -1;
	}
	*out = v;
	return 0;
}
