/*
 * store_forward_int: what the two files of a replica's forwarded writes share: the message
 * format's constants, the cursor that encodes and decodes a message within its bounds, and the
 * request and response helpers. store_forward.c has the channel, the single-sequence operations
 * and the master's dispatcher; store_forward_bulk.c the bulk ones (import, advance, delete-all).
 * Nothing but those two files (and their unit test) includes this header.
 *
 * Request:  version(1) op(1) then the op's fields. Response: version(1) rc(1) then the result.
 * Integers are big-endian (bigendian.h), names and texts a 2-byte length and their bytes.
 */
#ifndef NEXTID_STORE_FORWARD_INT_H
#define NEXTID_STORE_FORWARD_INT_H

#include "store_int.h"
#include "audit.h"
#include "bigendian.h"
#include "name.h"
#include "record.h"

#include <stdint.h>
#include <string.h>

#define FWD_VERSION 1
#define FWD_OP_NEXT 1
#define FWD_OP_PREFIX_GROUP 2
#define FWD_OP_CLAIM 3
#define FWD_OP_CONFIGURE 4
#define FWD_OP_CREATE 5
#define FWD_OP_DELETE 6
#define FWD_OP_PREFIX_CONFIGURE 7
#define FWD_OP_PREFIX_RESET 8
#define FWD_OP_IMPORT 9        /* store_forward_bulk.c: a chunk of an import, checked or written */
#define FWD_OP_ADVANCE_STEP 10 /* one chunk of advance, after a name */
#define FWD_OP_DELETE_STEP 11  /* one chunk of delete-all, from the first name */
#define FWD_OP_NEXT_JOINT 12   /* FWD_OP_NEXT for several requests of one process at once */
#define FWD_WHY_MAX 512 /* a refusal's sentence */
#define FWD_TEXT_MAX 1024 /* a prefix's format, zone, reason: the store checks them further */
/* Takes in one forwarded group (nextid-grpc combines its callers' takes). */
#define FWD_TAKES_MAX 64
/* The largest request: a group's name and its takes' audit texts; a next's name and record. */
#define FWD_REQUEST_MAX (64 + NAME_MAX_BYTES + RECORD_SIZE + \
                         FWD_TAKES_MAX * (8 + 3 * (2 + AUDIT_TEXT_MAX)))
/* Numbers one forwarded prefix take may ask for (the HTTP batch limit), and its answer's size. */
#define FWD_PREFIX_COUNT_MAX 1000
#define FWD_NUMBER_BYTES (8 + 8 + 16 + 2 + AUDIT_NUMBER_MAX)
#define FWD_RESPONSE_MAX (16 + FWD_PREFIX_COUNT_MAX * FWD_NUMBER_BYTES)
#define FWD_GRANT_BYTES (2 + 4 * 8 + 1)
/* An import chunk's request: its header and STORE_REPL_CHUNK names with their records. */
#define FWD_IMPORT_REQUEST_MAX (16 + STORE_REPL_CHUNK * (2 + NAME_MAX_BYTES + RECORD_SIZE))
/* The largest message the master's handler reads at all; each op checks its own bounds. */
#define FWD_MESSAGE_MAX (FWD_REQUEST_MAX > FWD_IMPORT_REQUEST_MAX ? FWD_REQUEST_MAX \
                                                                  : FWD_IMPORT_REQUEST_MAX)

/* ---- encoding: a cursor over a bounded buffer; any overrun marks it bad ---- */

struct cursor {
	unsigned char *p;
	size_t len, at;
	int bad;
};

static inline unsigned char *take(struct cursor *c, size_t n)
{
	unsigned char *here;

	if (c->bad || n > c->len - c->at) {
		c->bad = 1;
		return NULL;
	}
	here = c->p + c->at;
	c->at += n;
	return here;
}

static inline void put_u(struct cursor *c, uint64_t v, int n)
{
	unsigned char *p = take(c, (size_t)n);

	if (p)
		bigendian_put(p, v, n);
}

static inline uint64_t get_u(struct cursor *c, int n)
{
	unsigned char *p = take(c, (size_t)n);

	return p ? bigendian_get(p, n) : 0;
}

static inline void put_bytes(struct cursor *c, const void *s, size_t n)
{
	unsigned char *p;

	if (n > UINT16_MAX) {
		c->bad = 1;
		return;
	}
	put_u(c, n, 2);
	if ((p = take(c, n)) != NULL)
		memcpy(p, s, n);
}

/* A length-prefixed text of at most max bytes into out (NUL-terminated, max + 1 bytes). */
static inline size_t get_text(struct cursor *c, char *out, size_t max)
{
	size_t n = (size_t)get_u(c, 2);
	unsigned char *p;

	if (n > max) {
		c->bad = 1;
		n = 0;
	}
	p = take(c, n);
	if (!p)
		n = 0;
	else
		memcpy(out, p, n);
	out[n] = '\0';
	return n;
}

/* A text must not hold a NUL byte: the callers' strings are C strings. */
static inline int has_nul(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

/* ---- requests and responses (store_forward.c) ---- */

/* A request's header: the protocol's version, then what the master is asked to do. */
void fwd_put_header(struct cursor *c, unsigned op);

/* Send the request c holds to the master and put its answer in resp (the caller frees
 * resp->data). STORE_OK; STORE_INVALID when the request did not fit its buffer; STORE_NO_MASTER
 * when no answer came in time. */
int fwd_send_request(struct store *st, const struct cursor *c, DBT *resp);

/* Read a response's header: the store result it carries, or STORE_UNAVAILABLE (logged) when it
 * does not parse. */
int fwd_response_rc(struct store *st, struct cursor *c);

/* The master's answer: buf[0..len), or just a result. */
void fwd_respond(DB_CHANNEL *chan, const unsigned char *buf, size_t len);
void fwd_respond_rc(DB_CHANNEL *chan, int rc);

/* ---- the bulk operations' master end (store_forward_bulk.c) ---- */

/* Serve a forwarded FWD_OP_IMPORT, FWD_OP_ADVANCE_STEP or FWD_OP_DELETE_STEP whose header c has
 * read: run it and answer on chan, then return STORE_OK; or return the refusal (STORE_INVALID,
 * STORE_UNAVAILABLE) for the dispatcher to answer, having answered nothing. */
int fwd_serve_bulk(struct store *st, int op, struct cursor *c, DB_CHANNEL *chan);

#endif
