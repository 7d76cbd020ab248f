/*
 * address: a network address as nextid.conf writes one, "HOST:PORT": a host name or IPv4 address
 * (letters, digits, '.', '-'), or an IPv6 literal in brackets, and a port from 1 to 65535.
 */
#ifndef NEXTID_ADDRESS_H
#define NEXTID_ADDRESS_H

#include <stddef.h>

#define ADDRESS_MAX 256 /* the longest address, with its NUL */

/*
 * Split s (len bytes) into host (NUL-terminated, without the brackets of an IPv6 literal;
 * hostlen >= ADDRESS_MAX) and *port. Returns 0, or -1 with *why a phrase ("is not HOST:PORT").
 */
int address_split(const char *s, size_t len, char *host, size_t hostlen, unsigned *port,
                  const char **why);

#endif
