/*
 * address: HOST:PORT as the replication keys write it, checked and split.
 */
#include "address.h"
#include "numparse.h"

#include <string.h>

static int is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == ':';
}

int address_split(const char *s, size_t len, char *host, size_t hostlen, unsigned *port,
                         const char **why)
{
	const char *colon = NULL, *h = s;
	size_t hlen;
	int64_t p;

	for (size_t i = 0; i < len; i++)
		if (s[i] == ':')
			colon = s + i;
	*why = "is not HOST:PORT";
	if (!colon || colon == s || hostlen < ADDRESS_MAX)
		return -1;
	hlen = (size_t)(colon - s);
	if (s[0] == '[') { /* [v6]:port: the brackets go */
		if (hlen < 3 || s[hlen - 1] != ']')
			return -1;
		h = s + 1;
		hlen -= 2;
	}
	if (hlen > ADDRESS_MAX - 8) {
		*why = "has a host name that is too long";
		return -1;
	}
	for (size_t i = 0; i < hlen; i++)
		if (!is_host_char(h[i]))
			return -1;
	if (numparse_i64(colon + 1, len - (size_t)(colon + 1 - s), 1, 65535, &p, why) != 0) {
		*why = "has no port from 1 to 65535";
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (unsigned)p;
	return 0;
}

