/*
 * bigendian: byte by byte, so the host's own byte order and alignment never matter; the signed
 * reader avoids converting an unsigned value above INT64_MAX to int64_t, which C leaves to the
 * implementation.
 */
#include "bigendian.h"

void bigendian_put(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

uint64_t bigendian_get(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int64_t bigendian_get_signed(const unsigned char *p, int n)
{
	uint64_t v = bigendian_get(p, n), sign = (uint64_t)1 << (n * 8 - 1);

	/* Below the sign bit, the value; with it, the value minus 2^(n*8): -(~v within n bytes) - 1. */
	if ((v & sign) == 0)
		return (int64_t)v;
	return -(int64_t)(~v & (sign - 1 + sign)) - 1;
}
