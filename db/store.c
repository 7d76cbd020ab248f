/*
 * store: one sequence at a time, by name: read, create, configure, delete, and import a set (in
 * one transaction, or in chunks under replication). Each is a body that store_txn.c runs. Values
 * leave through store_next.c, walks over every sequence are store_scan.c's, and the record's
 * bytes are record.c's.
 */
#include "store_int.h"

#include <time.h>

struct record_op {
	DBT key;
	struct seq_record *rec;
};

static int get_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct record_op *op = arg;

	return store_read_record(st, a, &op->key, 0, op->rec);
}

int store_get(struct store *st, const char *name, size_t len, struct seq_record *out)
{
	struct record_op op = { .key = store_name_key(name, len), .rec = out };

	if (store_name_invalid(name, len))
		return STORE_INVALID;
	return store_run_txn(st, RUN_READ, get_body, &op);
}

static int create_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct record_op *op = arg;
	int rc = store_write_record(st, a, &op->key, op->rec, DB_NOOVERWRITE);

	return rc == STORE_OK ? store_index_add(st, a, &op->key) : rc;
}

int store_create(struct store *st, const char *name, size_t len, const struct seq_record *rec)
{
	struct seq_record copy = *rec;
	struct record_op op = { .key = store_name_key(name, len), .rec = &copy };

	if (store_name_invalid(name, len) || record_check(&copy) != RECORD_OK)
		return STORE_INVALID;
	switch (store_forward_route(st)) {
	case STORE_ROUTE_MASTER:
		return store_forward_create(st, name, len, rec);
	case STORE_ROUTE_NONE:
		return STORE_NO_MASTER;
	}
	copy.created = (uint64_t)time(NULL);
	return store_run_txn(st, RUN_DURABLE, create_body, &op);
}

struct configure_op {
	DBT key;
	const struct record_change *ch;
	int mode;
	struct seq_record rec;
	int created;
	const char *why;
};

static int configure_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct configure_op *op = arg;
	int rc = store_read_record(st, a, &op->key, DB_RMW, &op->rec);

	if (rc != STORE_OK && rc != STORE_NOT_FOUND)
		return rc;
	op->created = rc == STORE_NOT_FOUND;
	if (op->created && op->mode == STORE_CHANGE_ONLY)
		return STORE_NOT_FOUND;
	if (!op->created && op->mode == STORE_CREATE_ONLY)
		return STORE_EXISTS;
	if (record_apply(&op->rec, op->ch, !op->created, (uint64_t)time(NULL), &op->why) !=
	    RECORD_OK)
		return STORE_INVALID;
	rc = store_write_record(st, a, &op->key, &op->rec, 0);
	return rc == STORE_OK && op->created ? store_index_add(st, a, &op->key) : rc;
}

int store_configure(struct store *st, const char *name, size_t len,
                    const struct record_change *ch, int mode, struct seq_record *out,
                    int *created, const char **why)
{
	struct configure_op op = { .key = store_name_key(name, len), .ch = ch, .mode = mode };
	int rc;

	*why = "The name is not valid.";
	if (store_name_invalid(name, len))
		return STORE_INVALID;
	switch (store_forward_route(st)) {
	case STORE_ROUTE_MASTER:
		return store_forward_configure(st, name, len, ch, mode, out, created, why);
	case STORE_ROUTE_NONE:
		return STORE_NO_MASTER;
	}
	rc = store_run_txn(st, RUN_DURABLE, configure_body, &op);
	*why = op.why ? op.why : "";
	if (rc == STORE_OK && out)
		*out = op.rec;
	if (rc == STORE_OK && created)
		*created = op.created;
	return rc;
}

static int delete_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct record_op *op = arg;

	return store_remove_record(st, a, &op->key);
}

int store_delete(struct store *st, const char *name, size_t len)
{
	struct record_op op = { .key = store_name_key(name, len) };

	if (store_name_invalid(name, len))
		return STORE_INVALID;
	switch (store_forward_route(st)) {
	case STORE_ROUTE_MASTER:
		return store_forward_delete(st, name, len);
	case STORE_ROUTE_NONE:
		return STORE_NO_MASTER;
	}
	return store_run_txn(st, RUN_DURABLE, delete_body, &op);
}

struct import_op {
	const struct store_item *items;
	size_t n, bad;
	int force;
	int check_only; /* read and check each item, write nothing */
	const char *why;
};

/* Where a counter stands: the next value it would issue, or one step past its last. */
static __int128 counter_position(const struct seq_record *rec)
{
	__extension__ __int128 pos = rec->next;

	return (rec->flags & RECORD_FLAG_EXHAUSTED) ? pos + rec->increment : pos;
}

/* Would replacing old by new issue a number of old's again? */
static const char *import_refusal(const struct seq_record *old, const struct seq_record *new)
{
	int old_counts = record_type_max(old->type) != 0;

	if (!old_counts)
		return NULL;
	if (record_type_max(new->type) == 0 || (old->increment > 0) != (new->increment > 0))
		return "it would turn an existing counter into another kind; use --force.";
	if (old->increment > 0 ? counter_position(new) < counter_position(old)
	                       : counter_position(new) > counter_position(old))
		return "it would move an existing counter backwards; use --force.";
	return NULL;
}

static int import_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct import_op *op = arg;

	for (size_t i = 0; i < op->n; i++) {
		const struct store_item *it = &op->items[i];
		DBT key = store_name_key(it->name, it->len);
		struct seq_record old, rec = it->rec;
		int rc = store_read_record(st, a, &key, op->check_only ? 0 : DB_RMW, &old);

		op->bad = i;
		if (rc != STORE_OK && rc != STORE_NOT_FOUND)
			return rc;
		if (rc == STORE_OK && !op->force && (op->why = import_refusal(&old, &rec)) != NULL)
			return STORE_INVALID;
		if (op->check_only)
			continue;
		if (rc == STORE_NOT_FOUND) {
			rc = store_index_add(st, a, &key);
			if (rc != STORE_OK)
				return rc;
		}
		if ((rc = store_write_record(st, a, &key, &rec, 0)) != STORE_OK) {
			op->why = "the record is not valid.";
			return rc;
		}
	}
	return STORE_OK;
}

/* The index of the first item whose name or record is not valid, or n. */
static size_t import_invalid(const struct store_item *items, size_t n)
{
	size_t i = 0;

	while (i < n && !store_name_invalid(items[i].name, items[i].len) &&
	       record_check(&items[i].rec) == RECORD_OK)
		i++;
	return i;
}

int store_import_chunk(struct store *st, const struct store_item *items, size_t n, int force,
                       int check_only, size_t *bad, const char **why)
{
	struct import_op op = { .items = items, .n = n, .force = force, .check_only = check_only };
	int rc;

	*bad = import_invalid(items, n);
	*why = "the name or the record is not valid.";
	if (n > STORE_REPL_CHUNK || *bad < n)
		return STORE_INVALID;
	*bad = 0;
	*why = "";
	switch (store_forward_route(st)) {
	case STORE_ROUTE_MASTER:
		return store_forward_import(st, items, n, force, check_only, bad, why);
	case STORE_ROUTE_NONE:
		return STORE_NO_MASTER;
	}
	rc = store_run_txn(st, check_only ? RUN_READ : RUN_DURABLE, import_body, &op);
	*bad = op.bad;
	*why = op.why ? op.why : "";
	return rc;
}

/* Times a chunk is written when the group did not acknowledge it in time. */
#define IMPORT_CHUNK_ATTEMPTS 3

/*
 * A chunk whose commit the group did not acknowledge in time ("Not replicated": a slow round of
 * acknowledgements now and then) may be committed on the master all the same, and its counters
 * may have issued values since. Without --force it is written again: the refusal check lets the
 * same records through and refuses a counter that moved on, so a retry never lowers one; that
 * refusal is then the first attempt's "Not replicated", not a verdict on the file. With --force
 * nothing is checked, and a second write could lower a counter that issued values: never again.
 */
static int import_write_chunk(struct store *st, const struct store_item *items, size_t n,
                              int force, size_t *bad, const char **why)
{
	int rc = store_import_chunk(st, items, n, force, 0, bad, why);

	for (int attempt = 1; rc == STORE_NOT_REPLICATED && !force && attempt < IMPORT_CHUNK_ATTEMPTS;
	     attempt++) {
		rc = store_import_chunk(st, items, n, force, 0, bad, why);
		if (rc == STORE_INVALID) {
			*bad = 0;
			*why = "";
			return STORE_NOT_REPLICATED;
		}
	}
	return rc;
}

/*
 * Replicated, one transaction of many thousands of names outlasts the acknowledgement timeout:
 * chunks of STORE_REPL_CHUNK, each its own transaction (at the master, forwarded from a
 * replica). Every chunk is checked first, so a refused import writes nothing; each chunk's
 * transaction checks its items again, so a counter that moved meanwhile is still never lowered.
 */
static int import_chunked(struct store *st, const struct store_item *items, size_t n, int force,
                          size_t *bad, const char **why, size_t *written)
{
	int rc = STORE_OK;

	for (size_t at = 0; !force && rc == STORE_OK && at < n; at += STORE_REPL_CHUNK) {
		size_t k = n - at < STORE_REPL_CHUNK ? n - at : STORE_REPL_CHUNK;

		rc = store_import_chunk(st, items + at, k, force, 1, bad, why);
		*bad += at;
	}
	for (size_t at = 0; rc == STORE_OK && at < n; at += STORE_REPL_CHUNK) {
		size_t k = n - at < STORE_REPL_CHUNK ? n - at : STORE_REPL_CHUNK;

		rc = import_write_chunk(st, items + at, k, force, bad, why);
		*bad += at;
		if (rc == STORE_OK)
			*written = at + k;
	}
	return rc;
}

int store_import(struct store *st, const struct store_item *items, size_t n, int force,
                 size_t *bad, const char **why, size_t *written)
{
	struct import_op op = { .items = items, .n = n, .force = force };
	int rc;

	*written = 0;
	*bad = import_invalid(items, n);
	*why = "the name or the record is not valid.";
	if (*bad < n)
		return STORE_INVALID;
	*bad = 0;
	*why = "";
	if (store_replicated(&st->opt))
		return import_chunked(st, items, n, force, bad, why, written);
	rc = store_run_txn(st, RUN_DURABLE, import_body, &op);
	*bad = op.bad;
	*why = op.why ? op.why : "";
	if (rc == STORE_OK)
		*written = n;
	return rc;
}
