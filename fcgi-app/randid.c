/*
 * randid: getrandom(2) bytes mapped onto 62 characters by rejection sampling. A byte is used only
 * below 248 = 4 * 62, so each character has exactly 4 of the 248 accepted byte values: no modulo
 * bias. About 3% of bytes are rejected.
 */
#include "randid.h"

#include <errno.h>
#include <sys/random.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#define ALPHABET_SIZE 62
#define ACCEPT_BELOW (256 / ALPHABET_SIZE * ALPHABET_SIZE)

int randid_fill(char *out, size_t len)
{
	unsigned char pool[256];
	size_t used = sizeof(pool), have = sizeof(pool);

	for (size_t i = 0; i < len;) {
		if (used == have) {
			ssize_t n = getrandom(pool, sizeof(pool), 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -1;
			have = (size_t)n;
			used = 0;
		}
		unsigned char b = pool[used++];

		if (b < ACCEPT_BELOW)
			out[i++] = alphabet[b % ALPHABET_SIZE];
	}
	return 0;
}
