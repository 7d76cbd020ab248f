/*
 * audit: the bytes of the audit trail of formatted prefixes (API.md section 5). Every number
 * issued through that API gets an entry, written in the transaction that issues it; resets and
 * configuration changes get one too. Pure encoding and decoding, like record.c: the store does
 * the reading and writing. Any process may use it.
 *
 * Keys sort by prefix name, then kind, then position:  name 0x00 kind seq(8 bytes, big-endian).
 * A name never holds a 0x00 byte (name.h), so one prefix's entries form one contiguous range
 * and appends for different prefixes land on different pages of the btree.
 */
#ifndef NEXTID_AUDIT_H
#define NEXTID_AUDIT_H

#include "name.h"

#include <stddef.h>
#include <stdint.h>

#define AUDIT_VERSION 1
#define AUDIT_NUMBER_MAX 1024 /* bytes of a full number */
#define AUDIT_TEXT_MAX 128    /* bytes of client_id, generated_by, admin_user, correlation_id */
#define AUDIT_NOTE_MAX 512    /* bytes of a reset's reason */
#define AUDIT_KEY_MAX (NAME_MAX_BYTES + 2 + 8) /* name 0x00 kind seq */
#define AUDIT_VALUE_MAX (64 + AUDIT_NUMBER_MAX + 4 * AUDIT_TEXT_MAX + AUDIT_NOTE_MAX + 12)

enum audit_kind {
	AUDIT_KIND_NUMBER = 'n', /* one issued number, seq = the prefix's audit position */
	AUDIT_KIND_EVENT = 'e',  /* an admin event (reset, configuration), seq = 1, 2, 3... */
};

enum audit_event { AUDIT_ISSUED = 1, AUDIT_RESET = 2, AUDIT_CONFIG = 3 };

struct audit_entry {
	uint8_t event;        /* enum audit_event */
	int64_t counter;      /* issued: the counter; reset: the new current counter */
	int64_t old_value;    /* reset: the current counter before */
	uint32_t period;      /* the period the number belongs to (template_period) */
	int64_t time_ms;      /* unix ms */
	unsigned char id[16]; /* issued: the message_id; events: their id (a UUID's bytes) */
	char full_number[AUDIT_NUMBER_MAX + 1];
	char client_id[AUDIT_TEXT_MAX + 1];
	char generated_by[AUDIT_TEXT_MAX + 1];
	char admin_user[AUDIT_TEXT_MAX + 1];
	char note[AUDIT_NOTE_MAX + 1]; /* reset: the reason; config: the new settings in words */
	char correlation_id[AUDIT_TEXT_MAX + 1]; /* issued: the caller's request id ("" if none) */
};

/* Write the key of entry `seq` of `kind` for prefix name into key (AUDIT_KEY_MAX bytes).
 * Returns its length. */
size_t audit_key(unsigned char *key, const char *name, size_t len, int kind, uint64_t seq);

/* Split a key: returns 0 with *kind and *seq when it belongs to name, -1 otherwise. */
int audit_key_parse(const unsigned char *key, size_t key_len, const char *name, size_t len,
                    int *kind, uint64_t *seq);

/* Encode e into buf (AUDIT_VALUE_MAX bytes). Returns the length, or 0 when a string is too long
 * or not NUL-terminated within its field. An entry without a correlation_id is encoded exactly as
 * before that field existed (see audit.c). */
size_t audit_encode(const struct audit_entry *e, unsigned char *buf);

/* Decode len bytes into *e. Returns 0, or -1 when the bytes are not a valid entry. */
int audit_decode(const void *buf, size_t len, struct audit_entry *e);

/* Fill id with 16 random bytes marked as a version-4 UUID. Returns 0, or -1 (errno set). */
int audit_new_id(unsigned char id[16]);

/* Format a UUID's bytes as 36 characters plus a NUL. */
void audit_format_id(const unsigned char id[16], char out[37]);

#endif
