/*
 * store_prefix: formatted prefixes. The reset rule is decided inside the transaction that issues
 * numbers: the period of `now` in the prefix's zone is compared with the stored one, and only a
 * later period restarts the counter. A request computed just before midnight that commits after
 * one computed just after it gets a counter of the new period, and is formatted with that period
 * too, so a full number can never repeat. Every number's audit entry is written in the same
 * transaction as the counter: no number without its entry, no entry without its number.
 */
#include "store_prefix.h"
#include "store_int.h"
#include "template.h"
#include "zone.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_PADDING 6
#define DEFAULT_FORMAT "{prefix}{counter}"
#define DEFAULT_TIMEZONE "UTC"

/* The period `now` falls in and the date numbers of that period are formatted with. */
struct period_view {
	uint32_t period;
	struct calendar_date date;
};

/*
 * Apply the reset rule to rec at now_ms: a later period restarts the counter at 1. The date to
 * format with is now's local date, or the first day of the stored period when now lies before it
 * (a late request, or a clock that stepped back). Returns 0, or -1 for an unusable zone.
 */
static int apply_period(struct seq_record *rec, int64_t now_ms, struct period_view *v)
{
	if (zone_local_date(now_ms / 1000, rec->timezone, &v->date) != 0)
		return -1;
	v->period = template_period(rec->reset_rule, &v->date);
	if (rec->reset_rule == TEMPLATE_NEVER)
		return 0;
	if (v->period > rec->period) {
		rec->period = v->period;
		rec->next = rec->min;
		rec->flags &= (uint16_t)~RECORD_FLAG_EXHAUSTED;
	} else if (v->period < rec->period) {
		v->period = rec->period;
		template_period_start(rec->period, rec->reset_rule, &v->date);
	}
	return 0;
}

/* Read a prefix for change: NOT_FOUND unless it exists and is a prefix. */
static int read_prefix(struct store *st, struct txn_attempt *a, DBT *key, u_int32_t flags,
                       struct seq_record *rec)
{
	int rc = store_read_record(st, a, key, flags, rec);

	if (rc == STORE_OK && !record_is_prefix(rec))
		return STORE_NOT_FOUND;
	return rc;
}

struct configure_prefix_op {
	DBT key;
	const char *name;
	size_t len;
	const struct store_prefix_config *c;
	struct seq_record rec;
	int created;
	const char *why;
};

/* Check and apply a configuration to rec. */
static int apply_config(struct seq_record *rec, const struct store_prefix_config *c,
                        const char **why)
{
	if (c->fields & PREFIX_SET_PADDING) {
		if (c->padding > TEMPLATE_PADDING_MAX) {
			*why = "padding_length must be 0 to 18.";
			return -1;
		}
		rec->padding = (uint8_t)c->padding;
	}
	if (c->fields & PREFIX_SET_FORMAT) {
		if (template_check(c->format, why) != 0)
			return -1;
		snprintf(rec->format, sizeof(rec->format), "%s", c->format);
	}
	if (c->fields & PREFIX_SET_RULE) {
		if (c->reset_rule < TEMPLATE_NEVER || c->reset_rule > TEMPLATE_YEARLY) {
			*why = "reset_rule must be never, daily, monthly or yearly.";
			return -1;
		}
		rec->reset_rule = (uint8_t)c->reset_rule;
	}
	if (c->fields & PREFIX_SET_TIMEZONE) {
		if (zone_check(c->timezone, why) != 0)
			return -1;
		snprintf(rec->timezone, sizeof(rec->timezone), "%s", c->timezone);
	}
	return 0;
}

static int configure_prefix_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct configure_prefix_op *op = arg;
	struct audit_entry *e;
	struct period_view view;
	uint64_t seq = 0;
	int rc = store_read_record(st, a, &op->key, DB_RMW, &op->rec);

	if (rc != STORE_OK && rc != STORE_NOT_FOUND)
		return rc;
	op->created = rc == STORE_NOT_FOUND;
	if (op->created || !record_is_prefix(&op->rec)) {
		if (op->created) {
			record_init(&op->rec, RECORD_TYPE_LONG, 1, (uint64_t)(op->c->now_ms / 1000));
			/* Entries of a deleted prefix of this name stay: continue after them. */
			rc = store_audit_last(st, a, op->name, op->len, AUDIT_KIND_NUMBER, &seq, NULL);
			if (rc != STORE_OK)
				return rc;
			op->rec.audit_seq = seq;
		} else if (op->rec.type != RECORD_TYPE_LONG || op->rec.increment != 1 ||
		           op->rec.min != 1) {
			op->why = "Only a long sequence counting up by 1 from 1 can become a prefix.";
			return STORE_INVALID;
		}
		op->rec.padding = DEFAULT_PADDING;
		snprintf(op->rec.format, sizeof(op->rec.format), "%s", DEFAULT_FORMAT);
		snprintf(op->rec.timezone, sizeof(op->rec.timezone), "%s", DEFAULT_TIMEZONE);
	}
	uint8_t old_rule = op->rec.reset_rule;

	if (apply_config(&op->rec, op->c, &op->why) != 0)
		return STORE_INVALID;
	/* A new rule starts counting periods now, the counter going on: periods of different rules
	 * do not compare (a monthly 20261100 is "later" than a yearly 20260000). */
	if (!op->created && op->rec.reset_rule != old_rule)
		op->rec.period = 0;
	/* Start the period now: the first number of a new daily prefix must not reset it again. */
	if ((op->created || op->rec.period == 0) && op->rec.reset_rule != TEMPLATE_NEVER) {
		struct seq_record copy = op->rec;

		if (apply_period(&copy, op->c->now_ms, &view) != 0) {
			op->why = "timezone is not a zone this host knows.";
			return STORE_INVALID;
		}
		op->rec.period = view.period; /* the period only: the counter is not reset */
	}
	rc = store_write_record(st, a, &op->key, &op->rec, 0);
	if (rc == STORE_OK && op->created)
		rc = store_index_add(st, a, &op->key);
	if (rc != STORE_OK)
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e || audit_new_id(e->id) != 0) {
		free(e);
		return STORE_UNAVAILABLE;
	}
	e->event = AUDIT_CONFIG;
	e->time_ms = op->c->now_ms;
	e->counter = op->rec.next;
	snprintf(e->admin_user, sizeof(e->admin_user), "%s", op->c->admin_user);
	snprintf(e->correlation_id, sizeof(e->correlation_id), "%s",
	         op->c->correlation_id ? op->c->correlation_id : "");
	snprintf(e->note, sizeof(e->note), "format %s, padding %u, reset %s, zone %s",
	         op->rec.format, op->rec.padding, template_rule_name(op->rec.reset_rule),
	         op->rec.timezone);
	rc = store_audit_event_put(st, a, op->name, op->len, e);
	free(e);
	return rc;
}

int store_prefix_configure(struct store *st, const char *name, size_t len,
                           const struct store_prefix_config *c, struct seq_record *out,
                           int *created, const char **why)
{
	struct configure_prefix_op op = { .key = store_name_key(name, len), .name = name,
		                          .len = len, .c = c };
	int rc;

	*why = "The name is not valid.";
	if (store_name_invalid(name, len))
		return STORE_INVALID;
	switch (store_forward_route(st)) {
	case STORE_ROUTE_MASTER:
		return store_forward_prefix_configure(st, name, len, c, out, created, why);
	case STORE_ROUTE_NONE:
		return STORE_NO_MASTER;
	}
	rc = store_run_txn(st, RUN_DURABLE, configure_prefix_body, &op);
	*why = op.why ? op.why : "";
	if (rc == STORE_OK) {
		*out = op.rec;
		*created = op.created;
	}
	return rc;
}

struct next_prefix_op {
	DBT key;
	const char *name;
	size_t len;
	int64_t now_ms;
	struct store_prefix_take *takes;
	size_t n;
	int none_issued; /* OUT: every take was refused; nothing was written */
	struct audit_entry *e;
};

/* Number, render and audit one take's values first..first+count-1. */
static int issue_take(struct store *st, struct txn_attempt *a, const struct next_prefix_op *op,
                      struct seq_record *rec, const struct period_view *view,
                      struct store_prefix_take *t, int64_t first)
{
	const char *correlation_id = t->correlation_id ? t->correlation_id : "";
	struct audit_entry *e = op->e;
	int rc;

	for (uint64_t i = 0; i < t->count; i++) {
		struct store_number *n = &t->out[i];

		n->counter = first + (int64_t)i;
		n->seq = ++rec->audit_seq;
		if (template_render(rec->format, op->name, op->len, n->counter, rec->padding,
		                    rec->reset_rule, &view->date, n->full_number,
		                    sizeof(n->full_number)) < 0)
			return STORE_INVALID;
		if (audit_new_id(n->message_id) != 0)
			return STORE_UNAVAILABLE;
		memset(e, 0, sizeof(*e));
		e->event = AUDIT_ISSUED;
		e->counter = n->counter;
		e->period = view->period;
		e->time_ms = op->now_ms;
		memcpy(e->id, n->message_id, 16);
		memcpy(e->full_number, n->full_number, sizeof(e->full_number));
		snprintf(e->client_id, sizeof(e->client_id), "%s", t->who->client_id);
		snprintf(e->generated_by, sizeof(e->generated_by), "%s", t->who->generated_by);
		snprintf(e->correlation_id, sizeof(e->correlation_id), "%s", correlation_id);
		rc = store_audit_put(st, a, op->name, op->len, AUDIT_KIND_NUMBER, n->seq, e);
		if (rc != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

/*
 * Each take in order. A take that runs past the maximum, or whose number does not fit its room,
 * gets nothing and leaves the record as it was for the next: the record and its audit position
 * are worked on in a copy that only a take which succeeded moves forward. (A failed audit write
 * fails the transaction, so its half-written entries go with it.)
 */
static int next_prefix_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct next_prefix_op *op = arg;
	struct seq_record rec, work;
	struct period_view view;
	int64_t first, last, issued_to = 0; /* counters start at 1: 0 is "none" */
	int rc = read_prefix(st, a, &op->key, DB_RMW, &rec);

	op->none_issued = 0;

	if (rc != STORE_OK)
		return rc;
	if (apply_period(&rec, op->now_ms, &view) != 0)
		return STORE_UNAVAILABLE;
	for (size_t i = 0; i < op->n; i++) {
		struct store_prefix_take *t = &op->takes[i];

		work = rec;
		switch (record_advance(&work, t->count, &first, &last)) {
		case RECORD_OK:
			break;
		case RECORD_EXHAUSTED:
			t->rc = STORE_EXHAUSTED;
			continue;
		default:
			t->rc = STORE_INVALID;
			continue;
		}
		/* The widest number is the last (a counter only grows within a take): when it fits,
		 * all do, and a take that does not fit is refused before it writes anything. */
		if (template_render(work.format, op->name, op->len, last, work.padding,
		                    work.reset_rule, &view.date, t->out[t->count - 1].full_number,
		                    sizeof(t->out[0].full_number)) < 0) {
			t->rc = STORE_INVALID;
			continue;
		}
		t->rc = issue_take(st, a, op, &work, &view, t, first);
		if (t->rc != STORE_OK)
			return t->rc;
		rec = work;
		issued_to = last;
	}
	if (issued_to == 0) {
		/* Nothing to commit (every take refused): end the transaction without a write, and
		 * without a log flush, as a single take that fails always did. */
		op->none_issued = 1;
		return STORE_EXHAUSTED;
	}
	store_reserve(st, a, &rec, issued_to);
	return store_write_record(st, a, &op->key, &rec, 0);
}

int store_prefix_next_group(struct store *st, const char *name, size_t len, int64_t now_ms,
                            struct store_prefix_take *takes, size_t n)
{
	struct next_prefix_op op = { .key = store_name_key(name, len), .name = name, .len = len,
		                     .now_ms = now_ms, .takes = takes, .n = n };
	int rc, flush_owed = 0;

	if (store_name_invalid(name, len) || n == 0)
		return STORE_INVALID;
	for (size_t i = 0; i < n; i++)
		if (takes[i].count == 0)
			return STORE_INVALID;
	switch (store_forward_route(st)) {
	case STORE_ROUTE_MASTER:
		return store_forward_prefix_group(st, name, len, now_ms, takes, n);
	case STORE_ROUTE_NONE:
		return STORE_NO_MASTER;
	}
	op.e = malloc(sizeof(*op.e));
	if (!op.e)
		return STORE_UNAVAILABLE;
	/* The commit releases the record; the flush follows, and only then may anyone answer. */
	rc = store_run_deferred(st, next_prefix_body, &op, &flush_owed);
	if (rc != STORE_OK && op.none_issued)
		rc = STORE_OK; /* each take's rc says why it got nothing */
	else if (rc == STORE_OK && flush_owed)
		rc = store_log_flush(st);
	free(op.e);
	return rc;
}

int store_prefix_next(struct store *st, const char *name, size_t len,
                      const struct store_caller *who, uint64_t count, struct store_number *out)
{
	struct store_prefix_take take = { .who = who, .count = count, .out = out };
	int rc;

	if (count == 0)
		return STORE_INVALID;
	rc = store_prefix_next_group(st, name, len, who->now_ms, &take, 1);
	return rc == STORE_OK ? take.rc : rc;
}

struct status_op {
	DBT key;
	const char *name;
	size_t len;
	int64_t now_ms;
	struct store_prefix_status *out;
};

static int status_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct status_op *op = arg;
	struct store_prefix_status *s = op->out;
	struct period_view view;
	struct audit_entry *last;
	uint64_t seq;
	int rc = read_prefix(st, a, &op->key, 0, &s->rec);

	if (rc != STORE_OK)
		return rc;
	if (apply_period(&s->rec, op->now_ms, &view) != 0) /* a copy: nothing is written */
		return STORE_UNAVAILABLE;
	s->next_number[0] = '\0';
	if (s->rec.flags & RECORD_FLAG_EXHAUSTED) {
		s->current = s->rec.next;
		s->next = 0;
	} else {
		s->next = s->rec.next;
		s->current = s->rec.next - 1;
		/* -1 leaves "": a number that would not fit is refused when taken, not shown here */
		template_render(s->rec.format, op->name, op->len, s->next, s->rec.padding,
		                s->rec.reset_rule, &view.date, s->next_number, sizeof(s->next_number));
	}
	last = malloc(sizeof(*last));
	if (!last)
		return STORE_UNAVAILABLE;
	last->time_ms = 0;
	rc = store_audit_last(st, a, op->name, op->len, AUDIT_KIND_NUMBER, &seq, last);
	s->last_audit_counter = last->counter;
	s->last_audit_ms = seq ? last->time_ms : 0;
	s->audited = seq;
	free(last);
	return rc;
}

int store_prefix_status(struct store *st, const char *name, size_t len, int64_t now_ms,
                        struct store_prefix_status *out)
{
	struct status_op op = { .key = store_name_key(name, len), .name = name, .len = len,
		                .now_ms = now_ms, .out = out };

	if (store_name_invalid(name, len))
		return STORE_INVALID;
	return store_run_txn(st, RUN_READ, status_body, &op);
}

struct reset_op {
	DBT key;
	const char *name;
	size_t len;
	struct store_reset *r;
	const char *why;
};

static int reset_body(struct store *st, struct txn_attempt *a, void *arg)
{
	struct reset_op *op = arg;
	struct store_reset *r = op->r;
	struct seq_record rec;
	struct period_view view;
	struct audit_entry *e;
	int rc = read_prefix(st, a, &op->key, DB_RMW, &rec);

	if (rc != STORE_OK)
		return rc;
	if (apply_period(&rec, r->now_ms, &view) != 0)
		return STORE_UNAVAILABLE;
	r->old_value = (rec.flags & RECORD_FLAG_EXHAUSTED) ? rec.next : rec.next - 1;
	if (r->set_to < 0 || r->set_to >= rec.max) {
		op->why = "set_to must be from 0 to 9223372036854775806.";
		return STORE_INVALID;
	}
	if (r->set_to < r->old_value && !r->force) {
		op->why = "set_to is below the current counter, which would issue numbers again; "
		          "send \"force\":true if that is what you want.";
		return STORE_INVALID;
	}
	rec.next = r->set_to + 1;
	rec.flags &= (uint16_t)~RECORD_FLAG_EXHAUSTED;
	r->new_value = r->set_to;
	rc = store_write_record(st, a, &op->key, &rec, 0);
	if (rc != STORE_OK)
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e || audit_new_id(r->reset_id) != 0) {
		free(e);
		return STORE_UNAVAILABLE;
	}
	e->event = AUDIT_RESET;
	e->counter = r->new_value;
	e->old_value = r->old_value;
	e->period = view.period;
	e->time_ms = r->now_ms;
	memcpy(e->id, r->reset_id, 16);
	snprintf(e->admin_user, sizeof(e->admin_user), "%s", r->admin_user);
	snprintf(e->correlation_id, sizeof(e->correlation_id), "%s",
	         r->correlation_id ? r->correlation_id : "");
	snprintf(e->note, sizeof(e->note), "%s", r->reason);
	rc = store_audit_event_put(st, a, op->name, op->len, e);
	free(e);
	return rc;
}

int store_prefix_reset(struct store *st, const char *name, size_t len, struct store_reset *r,
                       const char **why)
{
	struct reset_op op = { .key = store_name_key(name, len), .name = name, .len = len, .r = r };
	int rc;

	*why = "The name is not valid.";
	if (store_name_invalid(name, len))
		return STORE_INVALID;
	switch (store_forward_route(st)) {
	case STORE_ROUTE_MASTER:
		return store_forward_prefix_reset(st, name, len, r, why);
	case STORE_ROUTE_NONE:
		return STORE_NO_MASTER;
	}
	rc = store_run_txn(st, RUN_DURABLE, reset_body, &op);
	*why = op.why ? op.why : "";
	return rc;
}
