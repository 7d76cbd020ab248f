/*
 * store_forward_bulk: a replica's bulk writes, carried out by the master: an import, a chunk of
 * STORE_REPL_CHUNK names per request (checked only, or checked and written: store_import asks
 * for every chunk's check before any is written); advance and delete-all, a chunk of the master's
 * names per request, the replica asking for the next until the master says none is left.
 *
 * Why a request per chunk rather than the whole operation in one: a forward waits for its answer
 * at most the ack timeout and a second, and the master's message thread is busy while it runs;
 * one chunk is one transaction, whose commit fits the ack timeout by its size, whatever the
 * store's. The master walks its own names (a replica's copy may lag): each advance request says
 * after which name to go on, each delete-all request starts at the first name left.
 *
 * Each end checks what it receives (store_forward_int.h has the format): counts and names within
 * their bounds, records that decode, no bytes left over, and an answer that moves the walk on.
 */
#include "store_forward_int.h"

#include <stdlib.h>

/* A refusal's sentence from the master, kept for the calling thread until its next import. */
static _Thread_local char import_why[FWD_WHY_MAX + 1];

/* A walk gives up when the master answers this many chunks in a row that changed nothing and
 * did not end (names deleted by someone else meanwhile, or a master that does not move on). */
#define STALLED_STEPS_MAX 3

/* ---- the replica's end ---- */

int store_forward_import(struct store *st, const struct store_item *items, size_t n, int force,
                         int check_only, size_t *bad, const char **why)
{
	struct cursor c = { .p = malloc(FWD_IMPORT_REQUEST_MAX), .len = FWD_IMPORT_REQUEST_MAX };
	unsigned char *p;
	DBT resp;
	int rc;

	*bad = 0;
	*why = "";
	if (!c.p)
		return STORE_UNAVAILABLE;
	if (n == 0 || n > STORE_REPL_CHUNK)
		c.bad = 1;
	fwd_put_header(&c, FWD_OP_IMPORT);
	put_u(&c, force != 0, 1);
	put_u(&c, check_only != 0, 1);
	put_u(&c, n, 2);
	for (size_t i = 0; !c.bad && i < n; i++) {
		put_bytes(&c, items[i].name, items[i].len);
		if ((p = take(&c, RECORD_SIZE)) != NULL && record_encode(&items[i].rec, p) != RECORD_OK)
			c.bad = 1;
	}
	rc = fwd_send_request(st, &c, &resp);
	free(c.p);
	if (rc != STORE_OK)
		return rc;
	c = (struct cursor){ .p = resp.data, .len = resp.size };
	rc = fwd_response_rc(st, &c);
	if (rc == STORE_INVALID) {
		*bad = (size_t)get_u(&c, 2);
		get_text(&c, import_why, FWD_WHY_MAX);
		*why = import_why;
		if (*bad >= n)
			c.bad = 1;
	}
	if ((rc == STORE_OK || rc == STORE_INVALID) && (c.bad || c.at != c.len)) {
		STORE_LOG(&st->opt, LOG_ERROR, "the master's answer to an import does not parse");
		*bad = 0;
		*why = "";
		rc = STORE_UNAVAILABLE;
	}
	free(resp.data);
	return rc;
}

/* Bytewise name order, the names index's: < 0, 0, > 0 as a sorts before, with, after b. */
static int name_order(const char *a, size_t a_len, const char *b, size_t b_len)
{
	int cmp = memcmp(a, b, a_len < b_len ? a_len : b_len);

	return cmp ? cmp : (a_len > b_len) - (a_len < b_len);
}

/* What one step of a walk answered. */
struct step_answer {
	uint64_t changed;
	int done;
	char last[NAME_MAX_BYTES + 1];
	size_t last_len;
};

/* Ask the master for one step (op, after after[0..after_len) for an advance) and read its
 * answer. Returns the step's store result; STORE_UNAVAILABLE (logged) when it does not parse. */
static int ask_step(struct store *st, int op, uint64_t steps, const char *after, size_t after_len,
                    struct step_answer *ans)
{
	unsigned char req[16 + NAME_MAX_BYTES];
	struct cursor c = { .p = req, .len = sizeof(req) };
	DBT resp;
	int rc;

	fwd_put_header(&c, (unsigned)op);
	if (op == FWD_OP_ADVANCE_STEP) {
		put_u(&c, steps, 8);
		put_bytes(&c, after, after_len);
	}
	if ((rc = fwd_send_request(st, &c, &resp)) != STORE_OK)
		return rc;
	c = (struct cursor){ .p = resp.data, .len = resp.size };
	rc = fwd_response_rc(st, &c);
	if (rc == STORE_OK) {
		ans->changed = get_u(&c, 4);
		ans->done = (int)get_u(&c, 1);
		ans->last_len = op == FWD_OP_ADVANCE_STEP ? get_text(&c, ans->last, NAME_MAX_BYTES) : 0;
		/* An advance that is not done must move on past `after`, or it would never end. */
		if (c.bad || c.at != c.len || ans->done > 1 ||
		    (op == FWD_OP_ADVANCE_STEP && !ans->done &&
		     (ans->last_len == 0 ||
		      name_order(ans->last, ans->last_len, after, after_len) <= 0))) {
			STORE_LOG(&st->opt, LOG_ERROR, "the master's answer to a step does not parse");
			rc = STORE_UNAVAILABLE;
		}
	}
	free(resp.data);
	return rc;
}

/* Walk every chunk at the master; *changed totals the chunks that committed. */
static int walk_at_master(struct store *st, int op, uint64_t steps, size_t *changed)
{
	struct step_answer ans;
	char after[NAME_MAX_BYTES];
	size_t after_len = 0;
	int rc, stalled = 0;

	*changed = 0;
	for (;;) {
		rc = ask_step(st, op, steps, after, after_len, &ans);
		if (rc != STORE_OK)
			return rc;
		*changed += (size_t)ans.changed;
		if (ans.done)
			return STORE_OK;
		stalled = ans.changed ? 0 : stalled + 1;
		if (op == FWD_OP_DELETE_STEP && stalled >= STALLED_STEPS_MAX) {
			STORE_LOG(&st->opt, LOG_ERROR, "delete-all at the master does not move on");
			return STORE_UNAVAILABLE;
		}
		after_len = ans.last_len;
		memcpy(after, ans.last, after_len);
	}
}

int store_forward_advance_all(struct store *st, uint64_t steps, size_t *moved)
{
	return walk_at_master(st, FWD_OP_ADVANCE_STEP, steps, moved);
}

int store_forward_delete_all(struct store *st, size_t *count)
{
	return walk_at_master(st, FWD_OP_DELETE_STEP, 0, count);
}

/* ---- the master's end ---- */

/* An import chunk's items, read from the request into items and names (n of each). Returns 0,
 * or -1 when anything is out of bounds or does not decode. */
static int read_items(struct cursor *c, struct store_item *items, char (*names)[NAME_MAX_BYTES + 1],
                      size_t n)
{
	for (size_t i = 0; i < n && !c->bad; i++) {
		size_t len = get_text(c, names[i], NAME_MAX_BYTES);
		unsigned char *p = take(c, RECORD_SIZE);

		if (!p || has_nul(names[i], len) ||
		    record_decode(p, RECORD_SIZE, &items[i].rec) != RECORD_OK)
			return -1;
		items[i].name = names[i];
		items[i].len = len;
	}
	return c->bad || c->at != c->len ? -1 : 0;
}

static int serve_import(struct store *st, struct cursor *c, DB_CHANNEL *chan)
{
	int force = (int)get_u(c, 1), check_only = (int)get_u(c, 1), rc;
	size_t n = (size_t)get_u(c, 2), bad = 0;
	unsigned char out[8 + FWD_WHY_MAX];
	struct cursor o = { .p = out, .len = sizeof(out) };
	struct store_item *items;
	char (*names)[NAME_MAX_BYTES + 1];
	const char *why = "";

	if (c->bad || force > 1 || check_only > 1 || n == 0 || n > STORE_REPL_CHUNK)
		return STORE_INVALID;
	items = calloc(n, sizeof(*items));
	names = calloc(n, sizeof(*names));
	if (!items || !names) {
		rc = STORE_UNAVAILABLE;
	} else if (read_items(c, items, names, n) != 0) {
		rc = STORE_INVALID;
	} else {
		rc = store_import_chunk(st, items, n, force, check_only, &bad, &why);
		put_u(&o, FWD_VERSION, 1);
		put_u(&o, (uint64_t)rc, 1);
		if (rc == STORE_INVALID) {
			put_u(&o, bad, 2);
			put_bytes(&o, why, strnlen(why, FWD_WHY_MAX));
		}
		if (o.bad)
			fwd_respond_rc(chan, STORE_UNAVAILABLE);
		else
			fwd_respond(chan, out, o.at);
		rc = STORE_OK;
	}
	free(names);
	free(items);
	return rc;
}

static int serve_step(struct store *st, int op, struct cursor *c, DB_CHANNEL *chan)
{
	char after[NAME_MAX_BYTES + 1], last[NAME_MAX_BYTES];
	unsigned char out[16 + NAME_MAX_BYTES];
	struct cursor o = { .p = out, .len = sizeof(out) };
	uint64_t steps = 0;
	size_t after_len = 0, last_len = 0, changed = 0;
	int rc, done = 1;

	if (op == FWD_OP_ADVANCE_STEP) {
		steps = get_u(c, 8);
		after_len = get_text(c, after, NAME_MAX_BYTES);
	}
	if (c->bad || c->at != c->len || has_nul(after, after_len))
		return STORE_INVALID;
	rc = op == FWD_OP_ADVANCE_STEP
	             ? store_advance_step(st, steps, after, after_len, last, &last_len, &changed, &done)
	             : store_delete_step(st, &changed, &done);
	put_u(&o, FWD_VERSION, 1);
	put_u(&o, (uint64_t)rc, 1);
	if (rc == STORE_OK) {
		put_u(&o, changed, 4);
		put_u(&o, done != 0, 1);
		if (op == FWD_OP_ADVANCE_STEP)
			put_bytes(&o, last, last_len);
	}
	if (o.bad)
		fwd_respond_rc(chan, STORE_UNAVAILABLE);
	else
		fwd_respond(chan, out, o.at);
	return STORE_OK;
}

int fwd_serve_bulk(struct store *st, int op, struct cursor *c, DB_CHANNEL *chan)
{
	return op == FWD_OP_IMPORT ? serve_import(st, c, chan) : serve_step(st, op, c, chan);
}
