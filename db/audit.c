/*
 * audit: encoding of audit entries. Layout (big-endian):
 *   0 version  1 event  2 counter(8)  10 old_value(8)  18 period(4)  22 time_ms(8)  30 id(16)
 *   46 five strings, each a 16-bit length then its bytes: full_number, client_id, generated_by,
 *   admin_user, note; then, only when it is not empty, a sixth: correlation_id.
 * The sixth string came later, and is optional so that the layout stays version 1: an entry
 * without it is byte for byte what an older nextid wrote and reads, and an entry with it is one an
 * older nextid skips as damaged (logged) rather than misreads. Decoding accepts both.
 * Decoding trusts nothing: every length is checked against the field and the buffer.
 */
#include "audit.h"

#include "bigendian.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define HEADER 46

size_t audit_key(unsigned char *key, const char *name, size_t len, int kind, uint64_t seq)
{
	memcpy(key, name, len);
	key[len] = 0x00;
	key[len + 1] = (unsigned char)kind;
	bigendian_put(key + len + 2, seq, 8);
	return len + 10;
}

int audit_key_parse(const unsigned char *key, size_t key_len, const char *name, size_t len,
                    int *kind, uint64_t *seq)
{
	if (key_len != len + 10 || memcmp(key, name, len) != 0 || key[len] != 0x00)
		return -1;
	*kind = key[len + 1];
	*seq = bigendian_get(key + len + 2, 8);
	return 0;
}

/* The five strings, in their order in the value, with their field sizes. */
#define STRINGS(e)                                                                          \
	{ { (e)->full_number, sizeof((e)->full_number) },                                   \
	  { (e)->client_id, sizeof((e)->client_id) },                                       \
	  { (e)->generated_by, sizeof((e)->generated_by) },                                 \
	  { (e)->admin_user, sizeof((e)->admin_user) },                                     \
	  { (e)->note, sizeof((e)->note) } }

struct field {
	const char *s;
	size_t size;
};

/* Append the string s (at most size bytes with its NUL) at buf + *pos. Returns 0, or -1 when it
 * has no NUL within its field. */
static int put_string(unsigned char *buf, size_t *pos, const char *s, size_t size)
{
	const char *nul = memchr(s, '\0', size);
	size_t n;

	if (!nul)
		return -1;
	n = (size_t)(nul - s);
	bigendian_put(buf + *pos, n, 2);
	memcpy(buf + *pos + 2, s, n);
	*pos += 2 + n;
	return 0;
}

/* Read a string into out (size bytes with its NUL) from buf[*pos..len). Returns 0, or -1 when
 * it runs past the buffer or does not fit the field. */
static int get_string(const unsigned char *buf, size_t len, size_t *pos, char *out, size_t size)
{
	size_t n;

	if (len - *pos < 2)
		return -1;
	n = (size_t)bigendian_get(buf + *pos, 2);
	if (n >= size || len - *pos - 2 < n)
		return -1;
	memcpy(out, buf + *pos + 2, n);
	out[n] = '\0';
	*pos += 2 + n;
	return 0;
}

size_t audit_encode(const struct audit_entry *e, unsigned char *buf)
{
	const struct field strings[] = STRINGS(e);
	size_t pos = HEADER;

	buf[0] = AUDIT_VERSION;
	buf[1] = e->event;
	bigendian_put(buf + 2, (uint64_t)e->counter, 8);
	bigendian_put(buf + 10, (uint64_t)e->old_value, 8);
	bigendian_put(buf + 18, e->period, 4);
	bigendian_put(buf + 22, (uint64_t)e->time_ms, 8);
	memcpy(buf + 30, e->id, 16);
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (put_string(buf, &pos, strings[i].s, strings[i].size) != 0)
			return 0;
	if (!memchr(e->correlation_id, '\0', sizeof(e->correlation_id)))
		return 0;
	if (e->correlation_id[0] != '\0' &&
	    put_string(buf, &pos, e->correlation_id, sizeof(e->correlation_id)) != 0)
		return 0;
	return pos;
}

int audit_decode(const void *bytes, size_t len, struct audit_entry *e)
{
	const unsigned char *buf = bytes;
	struct field strings[] = STRINGS(e);
	size_t pos = HEADER;

	if (len < HEADER || buf[0] != AUDIT_VERSION || buf[1] < AUDIT_ISSUED ||
	    buf[1] > AUDIT_CONFIG)
		return -1;
	e->event = buf[1];
	e->counter = bigendian_get_signed(buf + 2, 8);
	e->old_value = bigendian_get_signed(buf + 10, 8);
	e->period = (uint32_t)bigendian_get(buf + 18, 4);
	e->time_ms = bigendian_get_signed(buf + 22, 8);
	memcpy(e->id, buf + 30, 16);
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (get_string(buf, len, &pos, (char *)strings[i].s, strings[i].size) != 0)
			return -1;
	e->correlation_id[0] = '\0';
	if (pos < len && (get_string(buf, len, &pos, e->correlation_id,
	                             sizeof(e->correlation_id)) != 0 ||
	                  e->correlation_id[0] == '\0'))
		return -1; /* an empty sixth string is never written: one encoding per entry */
	return pos == len ? 0 : -1;
}

int audit_new_id(unsigned char id[16])
{
	size_t have = 0;

	while (have < 16) {
		ssize_t n = getrandom(id + have, 16 - have, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	id[6] = (unsigned char)((id[6] & 0x0F) | 0x40); /* version 4 */
	id[8] = (unsigned char)((id[8] & 0x3F) | 0x80); /* RFC 4122 variant */
	return 0;
}

void audit_format_id(const unsigned char id[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[id[i] >> 4];
		out[o++] = hex[id[i] & 0x0F];
	}
	out[o] = '\0';
}
