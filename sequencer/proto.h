/*
 * proto: the Sequencer's line protocol (API.md section 6), as pure functions: finding a line in
 * received bytes, reading a command from it, and writing every reply line. No I/O and no state,
 * so the whole protocol is unit-tested (tests/unit/test_sequencer_proto.c); server.c moves the
 * bytes and counter.c asks the store. Any process may use it.
 *
 * The wording follows the Kotlin original: a command is trimmed of whitespace at both ends and
 * upper-cased (ASCII only, both); anything unknown, the empty line too, is
 * "-ERR Unknown command '<CMD>'. Supported: GETSEQ, GETSEQ_BATCH, CURRENT".
 */
#ifndef NEXTID_PROTO_H
#define NEXTID_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_LINE_MAX 65536  /* bytes of a line, its CRLF or LF not counted */
#define PROTO_BATCH_MAX 10000 /* GETSEQ_BATCH takes 1 to this many values */
#define PROTO_ECHO_MAX 64     /* bytes of an unknown command quoted back, "..." past that */
#define PROTO_REPLY_MAX 512   /* no reply line is longer, CRLF included */

/* Bytes a connection must be able to hold to find any valid line's end: the line, CR, LF. */
#define PROTO_BUFFER_MIN (PROTO_LINE_MAX + 2)

enum proto_split {
	PROTO_PARTIAL,  /* no line end yet: wait for more bytes */
	PROTO_LINE,     /* a whole line */
	PROTO_TOO_LONG, /* more than PROTO_LINE_MAX bytes before the line end: answer, then close */
};

/*
 * Look for the first line in buf[0..len). On PROTO_LINE, the line is buf[0..*line_len) without
 * its end (LF, or CR LF: one CR before the LF is dropped) and *used is the bytes to consume,
 * end included. *line_len and *used are set only for PROTO_LINE. A line is too long as soon as
 * more than PROTO_LINE_MAX bytes came without a LF (a last CR not counted), so a caller never
 * needs to hold more than PROTO_BUFFER_MIN bytes.
 */
int proto_split(const char *buf, size_t len, size_t *line_len, size_t *used);

enum proto_kind {
	PROTO_GETSEQ,  /* take one value */
	PROTO_BATCH,   /* GETSEQ_BATCH k: take cmd->count values, answer the first */
	PROTO_CURRENT, /* the value the next GETSEQ returns; takes nothing */
	PROTO_ERROR,   /* unknown, empty or malformed: cmd->reply is the whole answer */
};

struct proto_cmd {
	int kind;       /* enum proto_kind */
	uint64_t count; /* values to take: 1 for GETSEQ, k for GETSEQ_BATCH, 0 otherwise */
	char reply[PROTO_REPLY_MAX];
	size_t reply_len; /* PROTO_ERROR only */
};

/*
 * Read the command in line[0..len) (a line from proto_split, any bytes). GETSEQ and CURRENT must
 * be the whole line; GETSEQ_BATCH is followed by spaces or tabs and k, plain digits from 1 to
 * PROTO_BATCH_MAX (":k", as the original README sketched it, is accepted too). Returns the kind,
 * also stored in cmd->kind.
 */
int proto_parse(const char *line, size_t len, struct proto_cmd *cmd);

/* Write ":<value>\r\n" into buf (at least PROTO_REPLY_MAX bytes). Returns its length. */
size_t proto_format_value(int64_t value, char *buf);

/*
 * Write the "-ERR ...\r\n" line for a store result other than STORE_OK (enum store_rc) into buf
 * (at least PROTO_REPLY_MAX bytes): what happened and what the client can do, naming the
 * sequence (name[0..len), a valid name) and, for a batch (count > 1), its size. Returns its
 * length. The one table from store results to replies.
 */
size_t proto_format_store_error(int store_rc, const char *name, size_t len, uint64_t count,
                                char *buf);

/* The reply to a line over PROTO_LINE_MAX, and to a connection over --max-connections. */
#define PROTO_LINE_TOO_LONG "-ERR Line too long\r\n"
#define PROTO_TOO_MANY "-ERR too many connections\r\n"

#endif
