/*
 * store_meta: what meta.db holds beside the sequences, a key each: the schema version (4 bytes
 * in the host's order), the clean marker (1 byte), the count of sequences and the id generator's
 * high-water mark (8 big-endian bytes each). Recovery and opening use the first two outside any
 * transaction; the others are read and written in the transactions that need them.
 */
#include "store_int.h"
#include "bigendian.h"

#include <string.h>

static const char schema_key[] = "schema";
static const char clean_key[] = "clean";
static const char count_key[] = "sequences.count";
/* The mark is two records: the time (the key an older nextid reads, counted from its configured
 * epoch) and, beside it, the epoch it is counted from. */
static const char mark_key[] = "generator.mark_ms";
static const char mark_epoch_key[] = "generator.epoch_ms";

static DBT meta_key(const char *name)
{
	return (DBT){ .data = (void *)name, .size = (u_int32_t)strlen(name) };
}

/* One 8-byte record of meta into *v. Returns STORE_OK, NOT_FOUND, INVALID when it has another
 * size (*size), or a failure (`what` names it in the log). */
static int meta_get8(struct store *st, struct txn_attempt *a, const char *name,
                     u_int32_t flags, uint64_t *v, u_int32_t *size, const char *what)
{
	unsigned char buf[8];
	DBT key = meta_key(name);
	DBT val = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	int err = st->meta->get(st->meta, a->txn, &key, &val, flags);

	*v = 0;
	if (err == DB_NOTFOUND)
		return STORE_NOT_FOUND;
	if (err != 0)
		return STORE_DB_ERROR(st, a, err, what);
	*size = val.size;
	if (val.size != sizeof(buf))
		return STORE_INVALID;
	*v = bigendian_get(buf, 8);
	return STORE_OK;
}

static int meta_put8(struct store *st, struct txn_attempt *a, const char *name, uint64_t v,
                     const char *what)
{
	unsigned char buf[8];
	DBT key = meta_key(name);
	DBT val = { .data = buf, .size = sizeof(buf) };

	bigendian_put(buf, v, 8);
	return STORE_DB_ERROR(st, a, st->meta->put(st->meta, a->txn, &key, &val, 0), what);
}

int store_schema_check(struct store *st, int create)
{
	uint32_t version = STORE_SCHEMA_VERSION, stored;
	DBT key = meta_key(schema_key);
	DBT val = { .data = &stored, .ulen = sizeof(stored), .flags = DB_DBT_USERMEM };
	int err = st->meta->get(st->meta, NULL, &key, &val, 0);

	if (err == DB_NOTFOUND && create) {
		val.data = &version;
		val.size = sizeof(version);
		val.flags = 0;
		err = st->meta->put(st->meta, NULL, &key, &val, 0); /* auto-commit: opened so */
		if (err == 0)
			return 0;
	}
	if (err != 0) {
		STORE_LOG(&st->opt, LOG_ERROR, "cannot read the schema version: %s",
		          db_strerror(err));
		return -1;
	}
	if (val.size != sizeof(stored) || stored != STORE_SCHEMA_VERSION) {
		STORE_LOG(&st->opt, LOG_ERROR,
		          "the store in %s has schema %u; this nextid reads schema %d only",
		          st->opt.data_dir, val.size == sizeof(stored) ? stored : 0,
		          STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

static int ping_body(struct store *st, struct txn_attempt *a, void *arg)
{
	DBT key = meta_key(schema_key);
	uint32_t version;
	DBT val = { .data = &version, .ulen = sizeof(version), .flags = DB_DBT_USERMEM };

	(void)arg;
	return STORE_DB_ERROR(st, a, st->meta->get(st->meta, a->txn, &key, &val, 0), "ping");
}

int store_ping(struct store *st)
{
	int rc = store_run_txn(st, RUN_READ, ping_body, NULL);

	return rc == STORE_NOT_FOUND ? STORE_UNAVAILABLE : rc;
}

/*
 * The clean marker says whether every commit made so far is on disk. The last process to close
 * the store (it alone can take env.lock exclusive) sets it in a synced commit, which also flushes
 * everything before it; the first opener after that clears it. Recovery that finds it cleared
 * knows the log tail may be lost, and under durability reserve resumes every counter past its
 * reservation.
 */
int store_clean_get(struct store *st, int *clean)
{
	unsigned char v = 0;
	DBT key = meta_key(clean_key);
	DBT val = { .data = &v, .ulen = 1, .flags = DB_DBT_USERMEM };
	int err = st->meta->get(st->meta, NULL, &key, &val, 0);

	*clean = err == 0 && val.size == 1 && v == 1;
	return err == 0 || err == DB_NOTFOUND ? 0 : -1;
}

int store_clean_set(struct store *st, int clean)
{
	unsigned char v = (unsigned char)clean;
	DBT key = meta_key(clean_key);
	DBT val = { .data = &v, .size = 1 };
	DB_TXN *txn = NULL;
	int err = st->env->txn_begin(st->env, NULL, &txn, 0);

	if (err == 0)
		err = st->meta->put(st->meta, txn, &key, &val, 0);
	if (txn)
		err = err == 0 ? txn->commit(txn, DB_TXN_SYNC) : (txn->abort(txn), err);
	if (err != 0)
		STORE_LOG(&st->opt, LOG_WARN, "cannot mark the store %s: %s",
		          clean ? "clean" : "in use", db_strerror(err));
	return err;
}

/*
 * How many sequences there are, changed in the transaction that adds or removes a name, so that
 * max_sequences is exact. A store written before the count existed has none: then the names are
 * counted once (recovery writes it at every start).
 */
int store_count_get(struct store *st, struct txn_attempt *a, uint64_t *n)
{
	u_int32_t size;
	int rc = meta_get8(st, a, count_key, DB_RMW, n, &size, "read the sequence count");

	if (rc == STORE_INVALID)
		STORE_LOG(&st->opt, LOG_WARN, "the sequence count is damaged; counting again");
	if (rc == STORE_NOT_FOUND || rc == STORE_INVALID)
		return store_count_names(st, a, n);
	return rc;
}

int store_count_put(struct store *st, struct txn_attempt *a, uint64_t n)
{
	return meta_put8(st, a, count_key, n, "write the sequence count");
}

int store_count_refresh(struct store *st)
{
	struct txn_attempt a = { 0 }; /* recovery is alone: no deadlock to retry */
	uint64_t n = 0;
	int err = st->env->txn_begin(st->env, NULL, &a.txn, 0), rc;

	if (err != 0)
		return STORE_DB_ERROR(st, NULL, err, "begin");
	rc = store_count_names(st, &a, &n);
	if (rc == STORE_OK)
		rc = store_count_put(st, &a, n);
	err = rc == STORE_OK ? a.txn->commit(a.txn, 0) : (a.txn->abort(a.txn), 0);
	return rc == STORE_OK ? STORE_DB_ERROR(st, NULL, err, "commit") : rc;
}

/* One record of the mark into *v; *found = 0 when absent. */
static int read_mark_part(struct store *st, struct txn_attempt *a, u_int32_t flags,
                          const char *name, int64_t *v, int *found)
{
	uint64_t u;
	u_int32_t size;
	int rc = meta_get8(st, a, name, flags, &u, &size, "read the generator mark");

	*v = (int64_t)u;
	*found = rc == STORE_OK;
	if (rc == STORE_NOT_FOUND)
		return STORE_OK;
	if (rc == STORE_INVALID) {
		STORE_LOG(&st->opt, LOG_ERROR, "the generator record %s has %u bytes, not 8",
		          name, size);
		return STORE_UNAVAILABLE;
	}
	return rc;
}

static int read_mark(struct store *st, struct txn_attempt *a, u_int32_t flags,
                     struct store_mark *out)
{
	int found, rc = read_mark_part(st, a, flags, mark_key, &out->ms, &found);

	if (rc == STORE_OK)
		rc = read_mark_part(st, a, flags, mark_epoch_key, &out->epoch_ms, &found);
	if (rc == STORE_OK && !found)
		out->epoch_ms = STORE_MARK_NO_EPOCH;
	return rc;
}

static int mark_get_body(struct store *st, struct txn_attempt *a, void *arg)
{
	return read_mark(st, a, 0, arg);
}

int store_mark_get(struct store *st, struct store_mark *out)
{
	if (store_replicated(&st->opt))
		return store_mark_file_get(&st->opt, out);
	return store_run_txn(st, RUN_READ, mark_get_body, out);
}

static int mark_raise_body(struct store *st, struct txn_attempt *a, void *arg)
{
	const struct store_mark *want = arg;
	struct store_mark have;
	int64_t reach;
	int rc = read_mark(st, a, DB_RMW, &have);

	if (rc != STORE_OK)
		return rc;
	if (have.ms != 0 && have.epoch_ms == want->epoch_ms && have.ms >= want->ms)
		return STORE_OK; /* the common case: already covered, nothing to write */
	if (have.epoch_ms == STORE_MARK_NO_EPOCH)
		have.epoch_ms = want->epoch_ms; /* what the nextid that wrote it counted from */
	/* Ids differ by their distance from the epoch: keep the larger, counted from want's. */
	reach = want->ms - want->epoch_ms;
	if (have.ms != 0 && have.ms - have.epoch_ms > reach)
		reach = have.ms - have.epoch_ms;
	rc = meta_put8(st, a, mark_key, (uint64_t)(want->epoch_ms + reach), "raise the mark");
	if (rc == STORE_OK)
		rc = meta_put8(st, a, mark_epoch_key, (uint64_t)want->epoch_ms, "raise the mark");
	return rc;
}

int store_mark_raise(struct store *st, int64_t ms, int64_t epoch_ms)
{
	struct store_mark want = { .ms = ms, .epoch_ms = epoch_ms };

	if (store_replicated(&st->opt))
		return store_mark_file_raise(&st->opt, ms, epoch_ms);
	return store_run_txn(st, RUN_SYNC, mark_raise_body, &want);
}

/*
 * The group's members and their shard ids (replicated, in meta.db): "member.<HOST:PORT>" -> the
 * shard_id of the node at that replication address. /generate's ids are unique only while every
 * node has its own shard_id, so a node claims its id when it joins, and a claim of an id another
 * address holds is refused.
 */
#define MEMBER_PREFIX "member."

struct claim_op {
	const char *address;
	uint64_t shard;
	char *holder; /* out: the address that holds the id, on STORE_EXISTS */
	size_t holder_len;
};

/* Walk the members: STORE_EXISTS (holder set) when another holds op->shard. */
static int find_holder(struct store *st, struct txn_attempt *a, struct claim_op *op)
{
	DBC *cur = NULL;
	DBT key = meta_key(MEMBER_PREFIX), val = { 0 };
	int err = st->meta->cursor(st->meta, a->txn, &cur, 0), rc = STORE_OK;
	size_t plen = strlen(MEMBER_PREFIX), alen = strlen(op->address);

	if (err != 0)
		return STORE_DB_ERROR(st, a, err, "list the members");
	for (err = cur->get(cur, &key, &val, DB_SET_RANGE); err == 0 && rc == STORE_OK;
	     err = cur->get(cur, &key, &val, DB_NEXT)) {
		if (key.size < plen || memcmp(key.data, MEMBER_PREFIX, plen) != 0)
			break;
		if (val.size != 8 || bigendian_get(val.data, 8) != op->shard)
			continue;
		if (key.size - plen == alen && memcmp((char *)key.data + plen, op->address, alen) == 0)
			continue;
		snprintf(op->holder, op->holder_len, "%.*s", (int)(key.size - plen),
		         (char *)key.data + plen);
		rc = STORE_EXISTS;
	}
	if (err != 0 && err != DB_NOTFOUND && rc == STORE_OK)
		rc = STORE_DB_ERROR(st, a, err, "list the members");
	cur->close(cur);
	return rc;
}

static int claim_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct claim_op *op = arg;
	char name[sizeof(MEMBER_PREFIX) + STORE_REPL_ADDRESS_MAX];
	uint64_t have = 0;
	u_int32_t size = 0;
	int rc = find_holder(st, a, op);

	if (rc != STORE_OK)
		return rc;
	snprintf(name, sizeof(name), MEMBER_PREFIX "%s", op->address);
	rc = meta_get8(st, a, name, DB_RMW, &have, &size, "read a member");
	if (rc == STORE_OK && have == op->shard)
		return STORE_OK;
	if (rc != STORE_OK && rc != STORE_NOT_FOUND && rc != STORE_INVALID)
		return rc;
	return meta_put8(st, a, name, op->shard, "record a member");
}

int store_member_claim(struct store *st, const char *address, uint64_t shard, char *holder,
                       size_t holder_len)
{
	struct claim_op op = { address, shard, holder, holder_len };

	if (!address[0] || strlen(address) >= STORE_REPL_ADDRESS_MAX)
		return STORE_INVALID;
	holder[0] = '\0';
	switch (store_forward_route_own(st)) {
	case STORE_ROUTE_MASTER:
		return store_forward_claim(st, address, shard, holder, holder_len);
	case STORE_ROUTE_NONE:
		return STORE_NO_MASTER;
	}
	return store_run_txn(st, RUN_SYNC, claim_body, &op);
}

static int drop_body(struct store *st, struct txn_attempt *a, void *arg)
{
	char name[sizeof(MEMBER_PREFIX) + STORE_REPL_ADDRESS_MAX];
	DBT key;
	int err;

	snprintf(name, sizeof(name), MEMBER_PREFIX "%s", (const char *)arg);
	key = meta_key(name);
	err = st->meta->del(st->meta, a->txn, &key, 0);
	return err == DB_NOTFOUND ? STORE_OK : STORE_DB_ERROR(st, a, err, "forget a member");
}

int store_member_forget(struct store *st, const char *address)
{
	return store_run_txn(st, RUN_SYNC, drop_body, (void *)address);
}

int store_member_shard(struct store *st, const char *address, uint64_t *shard)
{
	char name[sizeof(MEMBER_PREFIX) + STORE_REPL_ADDRESS_MAX];
	struct txn_attempt a = { 0 };
	u_int32_t size = 0;
	int rc;

	snprintf(name, sizeof(name), MEMBER_PREFIX "%s", address);
	rc = meta_get8(st, &a, name, 0, shard, &size, "read a member");
	return rc;
}
