/*
 * bigendian: numbers as big-endian bytes, the one byte order of the store's on-disk formats (the
 * record, audit entries and their keys, meta's counters) and of zone files, with signed numbers
 * in two's complement. Pure; any process.
 */
#ifndef NEXTID_BIGENDIAN_H
#define NEXTID_BIGENDIAN_H

#include <stdint.h>

/* Write the low n bytes (1..8) of v at p, the most significant first. A signed value is passed
 * as (uint64_t)v, which C defines as its two's complement. */
void bigendian_put(unsigned char *p, uint64_t v, int n);

/* The n bytes (1..8) at p, the most significant first. */
uint64_t bigendian_get(const unsigned char *p, int n);

/* The n bytes (1..8) at p as a two's complement number n * 8 bits wide: 0xFF..FF is -1. */
int64_t bigendian_get_signed(const unsigned char *p, int n);

#endif
