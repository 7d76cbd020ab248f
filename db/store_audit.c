/*
 * store_audit: the audit trail of formatted prefixes in audit.db, as the store writes and reads
 * it: an entry per number issued and per admin event, each at a position of its own, written in
 * the transaction that issues the number or makes the change (store_prefix.c), never
 * overwritten, and listed in pages. The entries' bytes are audit.c's.
 */
#include "store_int.h"
#include "store_prefix.h"

#include <stdint.h>
#include <stdlib.h>

int store_audit_put(struct store *st, struct txn_attempt *a, const char *name, size_t len,
                     int kind, uint64_t seq, const struct audit_entry *e)
{
	unsigned char kbuf[AUDIT_KEY_MAX], vbuf[AUDIT_VALUE_MAX];
	DBT key = { .data = kbuf, .size = (u_int32_t)audit_key(kbuf, name, len, kind, seq) };
	DBT val = { .data = vbuf, .size = (u_int32_t)audit_encode(e, vbuf) };
	int err;

	if (val.size == 0)
		return STORE_INVALID;
	/* Never overwrite: an entry, once written, is the record of a number a client holds. */
	err = st->audit->put(st->audit, a->txn, &key, &val, DB_NOOVERWRITE);
	if (err == DB_KEYEXIST) {
		STORE_LOG(&st->opt, LOG_ERROR, "prefix '%.*s': audit position %llu is taken",
		          (int)len, name, (unsigned long long)seq);
		return STORE_UNAVAILABLE;
	}
	return STORE_DB_ERROR(st, a, err, "write the audit");
}

/* The last entry of `kind` of a prefix: its position, and its counter when e is not NULL. Both 0
 * when there is none. */
int store_audit_last(struct store *st, struct txn_attempt *a, const char *name, size_t len,
                      int kind, uint64_t *seq, struct audit_entry *e)
{
	unsigned char kbuf[AUDIT_KEY_MAX], vbuf[AUDIT_VALUE_MAX];
	DBT key = { .data = kbuf, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT val = { .data = vbuf, .ulen = sizeof(vbuf), .flags = DB_DBT_USERMEM };
	DBC *cursor = NULL;
	int found_kind, err;

	*seq = 0;
	if (e)
		e->counter = 0;
	/* Just past the last possible key of this prefix and kind, then one step back. */
	key.size = (u_int32_t)audit_key(kbuf, name, len, kind, UINT64_MAX);
	err = st->audit->cursor(st->audit, a->txn, &cursor, DB_READ_COMMITTED);
	if (err == 0) {
		err = cursor->get(cursor, &key, &val, DB_SET_RANGE);
		if (err == 0)
			err = cursor->get(cursor, &key, &val, DB_PREV);
		else if (err == DB_NOTFOUND)
			err = cursor->get(cursor, &key, &val, DB_LAST);
	}
	if (err == 0 && audit_key_parse(kbuf, key.size, name, len, &found_kind, seq) == 0 &&
	    found_kind == kind) {
		if (e && audit_decode(vbuf, val.size, e) != 0)
			e->counter = 0;
	} else {
		*seq = 0;
	}
	if (cursor)
		cursor->close(cursor);
	return STORE_DB_ERROR(st, a, err == DB_NOTFOUND ? 0 : err, "read the audit");
}

/* Write an admin event with the next event position of the prefix. Events are numbered like
 * numbers, 1, 2, 3: a position from the clock would sort a later event first after a clock
 * step back, and a client paging with after= would never see it. The prefix's record is locked
 * by the caller, so no two events can take the same position. */
int store_audit_event_put(struct store *st, struct txn_attempt *a, const char *name, size_t len,
                           const struct audit_entry *e)
{
	uint64_t last;
	int rc = store_audit_last(st, a, name, len, AUDIT_KIND_EVENT, &last, NULL);

	return rc == STORE_OK ? store_audit_put(st, a, name, len, AUDIT_KIND_EVENT, last + 1, e) : rc;
}

/* A page of audit entries, read in one transaction and handed out after it. */
#define AUDIT_CHUNK 200

struct audit_chunk_op {
	const char *name;
	size_t len;
	int kind;
	uint64_t after;
	size_t want, count;
	uint64_t seq[AUDIT_CHUNK];
	struct audit_entry entries[AUDIT_CHUNK];
};

static int audit_chunk_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct audit_chunk_op *op = arg;
	unsigned char kbuf[AUDIT_KEY_MAX], vbuf[AUDIT_VALUE_MAX];
	DBT key = { .data = kbuf, .ulen = sizeof(kbuf), .flags = DB_DBT_USERMEM };
	DBT val = { .data = vbuf, .ulen = sizeof(vbuf), .flags = DB_DBT_USERMEM };
	DBC *cursor = NULL;
	u_int32_t step = DB_SET_RANGE;
	int err, kind;
	uint64_t seq;

	op->count = 0;
	if (op->after == UINT64_MAX)
		return STORE_OK;
	key.size = (u_int32_t)audit_key(kbuf, op->name, op->len, op->kind, op->after + 1);
	err = st->audit->cursor(st->audit, a->txn, &cursor, DB_READ_COMMITTED);
	while (err == 0 && op->count < op->want &&
	       (err = cursor->get(cursor, &key, &val, step)) == 0) {
		step = DB_NEXT;
		if (audit_key_parse(kbuf, key.size, op->name, op->len, &kind, &seq) != 0 ||
		    kind != op->kind)
			break; /* past this prefix's entries of this kind */
		if (audit_decode(vbuf, val.size, &op->entries[op->count]) != 0) {
			STORE_LOG(&st->opt, LOG_ERROR, "prefix '%.*s': audit entry %llu is corrupt",
			          (int)op->len, op->name, (unsigned long long)seq);
			continue;
		}
		op->seq[op->count++] = seq;
	}
	if (cursor)
		cursor->close(cursor);
	return STORE_DB_ERROR(st, a, err == DB_NOTFOUND ? 0 : err, "read the audit");
}

int store_audit_list(struct store *st, const char *name, size_t len, int kind, uint64_t after,
                     size_t limit, store_audit_fn *fn, void *ctx)
{
	struct audit_chunk_op *op;
	size_t remaining = limit ? limit : SIZE_MAX;
	int rc = STORE_OK, stop = 0;

	if (store_name_invalid(name, len))
		return STORE_INVALID;
	op = malloc(sizeof(*op));
	if (!op)
		return STORE_UNAVAILABLE;
	*op = (struct audit_chunk_op){ .name = name, .len = len, .kind = kind, .after = after };
	while (!stop && remaining > 0) {
		op->want = remaining < AUDIT_CHUNK ? remaining : AUDIT_CHUNK;
		rc = store_run_txn(st, RUN_READ, audit_chunk_body, op);
		if (rc != STORE_OK)
			break;
		for (size_t i = 0; i < op->count && !stop; i++)
			stop = fn(ctx, op->seq[i], &op->entries[i]);
		remaining -= op->count;
		if (op->count < op->want)
			break;
		op->after = op->seq[op->count - 1];
	}
	free(op);
	return rc;
}
