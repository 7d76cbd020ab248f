/*
 * fuzz_store_forward: the master's end of a replica's forwarded writes (store_forward_dispatch)
 * over a real, unreplicated store in a temporary directory: any bytes as a request. Checks: the
 * handler answers exactly once, with the protocol's version and a store result, and the store
 * stays open for the next input. Inputs that parse run the store functions, imports, advance and
 * delete-all steps included; the store is recreated every few thousand inputs so that it stays
 * small. The dictionary (store_forward.dict) has each op's header.
 */
#include "record.h"
#include "scratch.h"
#include "store.h"
#include "store_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIPE_EVERY 2000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256];
static struct store *st;
static unsigned long inputs;
static int answers;
static unsigned char answer[2];
static size_t answer_len;

static void broken(const char *rule)
{
	fprintf(stderr, "\n==== nextid fuzz: store_forward broke a rule: %s\n", rule);
	abort();
}

static void quiet(void *ctx, int level, const char *file, int line, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)file;
	(void)line;
	(void)msg;
}

static int on_send(DB_CHANNEL *chan, DBT *msg, u_int32_t n, u_int32_t flags)
{
	(void)chan;
	(void)flags;
	answers++;
	answer_len = n == 1 ? msg[0].size : 0;
	if (answer_len >= 2)
		memcpy(answer, msg[0].data, 2);
	return 0;
}

static void open_store(void)
{
	struct store_options opt;

	if (scratch_make(dir, sizeof(dir), "fuzz-forward") != 0)
		broken("a scratch directory");
	store_options_init(&opt, dir);
	opt.log = quiet;
	if (store_recover(&opt) != STORE_OK || store_open(&opt, &st) != STORE_OK)
		broken("a fresh store opens");
	atomic_store(&st->serving, 1);
}

static void close_store(void)
{
	store_close(st);
	scratch_remove(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size ? size : 1);
	DBT msg = { .data = copy, .size = (u_int32_t)size };
	DB_CHANNEL chan;

	if (!st)
		open_store();
	else if (++inputs % WIPE_EVERY == 0) {
		close_store();
		open_store();
	}
	if (!copy)
		broken("memory for the input");
	memcpy(copy, data, size); /* the handler reads only its own copy's bytes */
	memset(&chan, 0, sizeof(chan));
	chan.send_msg = on_send;
	answers = 0;
	answer_len = 0;
	store_forward_dispatch(st->env, &chan, &msg, 1, DB_REPMGR_NEED_RESPONSE);
	free(copy);
	if (answers != 1)
		broken("exactly one answer to every request");
	if (answer_len < 2 || answer[0] != 1 || answer[1] >= STORE_RC_COUNT)
		broken("an answer starts with the version and a store result");
	return 0;
}
