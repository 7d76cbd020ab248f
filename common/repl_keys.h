/*
 * repl_keys: the replication keys of nextid.conf as the store takes them. Every front door fills
 * them from its config (config_repl_keys) and hands them to store_repl_configure; they live here,
 * below both, so the mapping is written once. Strings are not copied: they stay the config's.
 */
#ifndef NEXTID_REPL_KEYS_H
#define NEXTID_REPL_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define REPL_KEYS_ADDRESS_MAX 256 /* HOST:PORT with its NUL, as config.h stores them */

struct repl_keys {
	const char *address;                          /* "" or NULL: no replication */
	const char (*peers)[REPL_KEYS_ADDRESS_MAX];   /* npeers addresses */
	size_t npeers;
	int64_t priority, ack_policy, ack_timeout_ms, election_timeout_ms, heartbeat_ms, creator;
	int64_t call_limit_ms; /* request_timeout_s in ms: how long a caller waits on one store call */
};

#endif
