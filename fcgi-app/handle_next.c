/*
 * handle_next: the legacy core. A new name is created on first use as a long sequence starting
 * at default_start. The answer is {"next_value":N,"sequence_id":"<name>"} (keys in that order,
 * as TakeANumber's clients parse it), or "N\n" for shell scripts that ask for text.
 */
#include "handle_next.h"
#include "config.h"
#include "name.h"
#include "params.h"
#include "respond.h"
#include "store.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Decide JSON or text from ?format= first, then Accept. Answers 400 itself and returns -1. */
static int text_wanted_or_reply(struct exchange *x, int *text)
{
	char value[16];
	size_t len;

	switch (params_query_or_reply(x, "format", value, sizeof(value), &len)) {
	case -1:
		return -1;
	case QUERY_ABSENT:
		*text = request_prefers_text(&x->req);
		return 0;
	case QUERY_OK:
		if (strcmp(value, "json") == 0 || strcmp(value, "text") == 0) {
			*text = value[0] == 't';
			return 0;
		}
		break;
	}
	respond_error(x, 400, "Invalid parameter", "format must be 'json' or 'text'.");
	return -1;
}

void handle_next_value(struct exchange *x)
{
	char name[NAME_MAX_BYTES];
	size_t len;
	struct seq_record fresh;
	struct store_grant grant = { 0 };
	int text, rc;

	if (params_name_or_reply(x, 0, name, &len) != 0 || text_wanted_or_reply(x, &text) != 0)
		return;
	record_init(&fresh, RECORD_TYPE_LONG, x->app->cfg->default_start, (uint64_t)time(NULL));
	rc = store_next(x->app->store, name, len, 0,
	                x->app->cfg->create_on_first_use ? &fresh : NULL, 1, &grant);
	if (rc != STORE_OK) {
		/* /next serves counters; it creates long sequences, so that is the type it asks for. */
		const struct respond_subject about = { .name = name, .len = len, .wanted = "long",
			                               .registered = record_type_name(grant.type) };

		respond_store_error_about(x, &respond_take_answers, rc, &about);
		return;
	}
	x->issued = 1;
	if (text) {
		char body[32];
		int n = snprintf(body, sizeof(body), "%lld\n", (long long)grant.first);

		respond_text(x, 200, body, (size_t)n);
		return;
	}
	respond_json_begin(x);
	respond_json_kv_int(x, "next_value", grant.first);
	respond_json_kv_strn(x, "sequence_id", name, len);
	respond_json_send(x, 200);
}
