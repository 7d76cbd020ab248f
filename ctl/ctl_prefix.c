/*
 * ctl_prefix: nextidctl's commands for formatted prefixes and their audit trail, the same
 * operations as the /api/v1/ endpoints (config, status, reset, audit) through store_prefix.h:
 *   prefix list | show P | config P [options] | reset P --set-to N [options]
 *   audit P [--after N] [--limit N] [--csv] [--events]
 * Each change is audited by the store in the transaction that makes it, with the admin user the
 * command names (--admin-user, else the login name of whoever runs it).
 */
#include "ctl.h"
#include "log.h"
#include "name.h"
#include "numparse.h"
#include "store_prefix.h"
#include "template.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LIST_CHUNK 256 /* names read per transaction by prefix list */

const char ctl_prefix_usage_list[] =
	"prefix list\n"
	"  Every formatted prefix, one per line: name, template, padding, reset rule, time zone\n"
	"  and the next counter (or 'exhausted'), separated by tabs.";
const char ctl_prefix_usage_show[] =
	"prefix show PREFIX\n"
	"  One prefix's configuration, its current and next counter, how many numbers its audit\n"
	"  holds and when the last was issued.";
const char ctl_prefix_usage_config[] =
	"prefix config PREFIX [--format TEMPLATE] [--padding N]\n"
	"              [--reset never|daily|monthly|yearly] [--timezone ZONE] [--admin-user NAME]\n"
	"  Create a prefix, or change the settings given (a new one: {prefix}{counter}, padding 6,\n"
	"  never, UTC). Audited.";
const char ctl_prefix_usage_reset[] =
	"prefix reset PREFIX --set-to N [--force] [--reason TEXT]\n"
	"             [--admin-user NAME]\n"
	"  The next number issued becomes N+1. Lowering the counter issues numbers again and needs\n"
	"  --force. Audited.";
const char ctl_audit_usage[] =
	"audit PREFIX [--after N] [--limit N] [--csv] [--events]\n"
	"  The numbers a prefix issued, in order: position, counter, full number, client_id,\n"
	"  generated_by, correlation_id, message_id, time; with --events its resets and\n"
	"  configuration changes instead. After position N (default 0), at most --limit entries\n"
	"  (default all); tab-separated, or CSV with a header line.";

/* The usage of `prefix SUB`, or NULL when SUB is no subcommand. */
const char *ctl_prefix_usage(const char *sub)
{
	static const struct {
		const char *name, *usage;
	} subs[] = {
		{ "list", ctl_prefix_usage_list },
		{ "show", ctl_prefix_usage_show },
		{ "config", ctl_prefix_usage_config },
		{ "reset", ctl_prefix_usage_reset },
	};

	for (size_t i = 0; sub && i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(sub, subs[i].name) == 0)
			return subs[i].usage;
	return NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The audit's admin user when --admin-user is not given: the login name (which runuser and
 * su keep), else the name of the effective user; "" when neither is known. */
static void default_admin_user(char *out, size_t cap)
{
	struct passwd *pw;

	out[0] = '\0';
	if (getlogin_r(out, cap) == 0 && out[0] &&
	    name_text_check(out, strlen(out), 0) == NAME_TEXT_OK)
		return;
	pw = getpwuid(geteuid());
	if (pw && strlen(pw->pw_name) < cap &&
	    name_text_check(pw->pw_name, strlen(pw->pw_name), 0) == NAME_TEXT_OK)
		snprintf(out, cap, "%s", pw->pw_name);
	else
		out[0] = '\0';
}

/* A free-text option for the audit: at most max bytes of UTF-8 without control characters. */
static int check_text(const char *flag, const char *value, size_t max)
{
	size_t len = strlen(value);

	if (len >= 1 && len <= max && name_text_check(value, len, 0) == NAME_TEXT_OK)
		return 0;
	ctl_fail(CTL_USAGE, "%s must be 1 to %zu bytes of UTF-8 without control characters", flag,
	         max);
	return -1;
}

/* A non-negative option value within [lo, hi]; on failure say why and return -1. */
static int parse_u64(const char *flag, const char *value, uint64_t lo, uint64_t hi,
                     uint64_t *out)
{
	const char *why;

	if (numparse_u64(value, strlen(value), lo, hi, out, &why) == 0)
		return 0;
	if (hi >= (uint64_t)INT64_MAX)
		ctl_fail(CTL_USAGE, "%s '%s' %s (it takes %llu or more)", flag, value, why,
		         (unsigned long long)lo);
	else
		ctl_fail(CTL_USAGE, "%s '%s' %s (it takes %llu to %llu)", flag, value, why,
		         (unsigned long long)lo, (unsigned long long)hi);
	return -1;
}

static void print_next(FILE *out, int64_t next)
{
	if (next > 0)
		fprintf(out, "%lld", (long long)next);
	else
		fputs("exhausted", out);
}

/* prefix list ----------------------------------------------------------------------------- */

struct name_chunk {
	size_t count;
	char names[LIST_CHUNK][NAME_MAX_BYTES + 1];
	int prefix[LIST_CHUNK];
};

static int collect_name(void *ctx, const char *name, size_t len, const struct seq_record *rec)
{
	struct name_chunk *chunk = ctx;

	memcpy(chunk->names[chunk->count], name, len);
	chunk->names[chunk->count][len] = '\0';
	chunk->prefix[chunk->count++] = record_is_prefix(rec);
	return 0;
}

/* Each prefix's line, its counters read in a transaction of its own: the rule applied now. */
static int print_prefixes(struct ctl *c, const struct name_chunk *chunk)
{
	for (size_t i = 0; i < chunk->count; i++) {
		const char *name = chunk->names[i];
		struct store_prefix_status s;
		int rc;

		if (!chunk->prefix[i])
			continue;
		rc = store_prefix_status(c->store, name, strlen(name), now_ms(), &s);
		if (rc == STORE_NOT_FOUND)
			continue; /* deleted or made a plain sequence since the names were read */
		if (rc != STORE_OK)
			return ctl_store_fail(c, "prefix list: %s", store_rc_name(rc));
		fprintf(c->out, "%s\t%s\t%u\t%s\t%s\t", name, s.rec.format, s.rec.padding,
		        template_rule_name(s.rec.reset_rule), s.rec.timezone);
		print_next(c->out, s.next);
		fputc('\n', c->out);
	}
	return CTL_OK;
}

static int prefix_list(struct ctl *c, int argc, char **argv)
{
	struct name_chunk *chunk;
	char after[NAME_MAX_BYTES + 1] = "";
	int rc = CTL_OK;

	(void)argv;
	if (argc != 0)
		return ctl_fail(CTL_USAGE, "prefix list takes no arguments");
	chunk = malloc(sizeof(*chunk));
	if (!chunk)
		return ctl_fail(CTL_FAIL, "prefix list: out of memory");
	do {
		chunk->count = 0;
		if (store_list(c->store, after, strlen(after), LIST_CHUNK, collect_name, chunk) !=
		    STORE_OK) {
			rc = ctl_store_fail(c, "prefix list failed");
			break;
		}
		rc = print_prefixes(c, chunk);
		if (chunk->count)
			memcpy(after, chunk->names[chunk->count - 1], sizeof(after));
	} while (rc == CTL_OK && chunk->count == LIST_CHUNK);
	free(chunk);
	return rc;
}

/* prefix show ----------------------------------------------------------------------------- */

/* Read a prefix's status, saying on one line why there is none. */
static int read_status(struct ctl *c, const char *cmd, const char *name,
                       struct store_prefix_status *s)
{
	int rc = store_prefix_status(c->store, name, strlen(name), now_ms(), s);

	if (rc == STORE_OK)
		return CTL_OK;
	if (rc == STORE_NOT_FOUND)
		return ctl_fail(CTL_FAIL, "%s: no prefix is named '%s' (create it with nextidctl "
		                "prefix config)", cmd, name);
	return ctl_store_fail(c, "%s: %s", cmd, store_rc_name(rc));
}

static int prefix_show(struct ctl *c, int argc, char **argv)
{
	struct store_prefix_status s;
	char when[LOG_TIME_MAX];
	int rc;

	if (argc != 1)
		return ctl_fail(CTL_USAGE, "usage: nextidctl prefix show PREFIX");
	if (ctl_check_name(argv[0]) != 0)
		return CTL_USAGE;
	rc = read_status(c, "prefix show", argv[0], &s);
	if (rc != CTL_OK)
		return rc;
	if (s.last_audit_ms > 0)
		log_format_time(s.last_audit_ms, when, sizeof(when));
	else
		snprintf(when, sizeof(when), "-");
	fprintf(c->out, "prefix: %s\nformat: %s\npadding: %u\nreset: %s\ntimezone: %s\n"
	        "current: %lld\nnext: ", argv[0], s.rec.format, s.rec.padding,
	        template_rule_name(s.rec.reset_rule), s.rec.timezone, (long long)s.current);
	print_next(c->out, s.next);
	fprintf(c->out, "\naudited: %llu\nlast issued: %s\n", (unsigned long long)s.audited, when);
	return CTL_OK;
}

/* prefix config ---------------------------------------------------------------------------- */

/* The value after flag argv[*i], moving *i past it; NULL after saying it is missing. */
static const char *option_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		ctl_fail(CTL_USAGE, "%s needs a value", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

static int config_options(int argc, char **argv, struct store_prefix_config *pc,
                          char *admin_user, size_t cap)
{
	for (int i = 1; i < argc; i++) {
		const char *flag = argv[i], *v;
		uint64_t padding;

		if (strcmp(flag, "--format") != 0 && strcmp(flag, "--padding") != 0 &&
		    strcmp(flag, "--reset") != 0 && strcmp(flag, "--timezone") != 0 &&
		    strcmp(flag, "--admin-user") != 0)
			return ctl_fail(CTL_USAGE, "prefix config: unknown option '%s'", flag);
		if (!(v = option_value(argc, argv, &i)))
			return CTL_USAGE;
		if (strcmp(flag, "--format") == 0) {
			pc->format = v;
			pc->fields |= PREFIX_SET_FORMAT;
		} else if (strcmp(flag, "--padding") == 0) {
			if (parse_u64(flag, v, 0, TEMPLATE_PADDING_MAX, &padding) != 0)
				return CTL_USAGE;
			pc->padding = (unsigned)padding;
			pc->fields |= PREFIX_SET_PADDING;
		} else if (strcmp(flag, "--reset") == 0) {
			if ((pc->reset_rule = template_rule_parse(v, strlen(v))) < 0)
				return ctl_fail(CTL_USAGE, "--reset must be never, daily, monthly or "
				                "yearly");
			pc->fields |= PREFIX_SET_RULE;
		} else if (strcmp(flag, "--timezone") == 0) {
			pc->timezone = v;
			pc->fields |= PREFIX_SET_TIMEZONE;
		} else {
			if (check_text(flag, v, AUDIT_TEXT_MAX) != 0)
				return CTL_USAGE;
			snprintf(admin_user, cap, "%s", v);
		}
	}
	return CTL_OK;
}

static int prefix_config(struct ctl *c, int argc, char **argv)
{
	char admin_user[AUDIT_TEXT_MAX + 1];
	struct store_prefix_config pc = { .now_ms = now_ms(), .admin_user = admin_user };
	struct seq_record rec;
	const char *why = NULL;
	int rc, created = 0;

	if (argc < 1 || strncmp(argv[0], "--", 2) == 0)
		return ctl_fail(CTL_USAGE, "usage: nextidctl prefix config PREFIX [options]");
	if (ctl_check_name(argv[0]) != 0)
		return CTL_USAGE;
	default_admin_user(admin_user, sizeof(admin_user));
	rc = config_options(argc, argv, &pc, admin_user, sizeof(admin_user));
	if (rc != CTL_OK)
		return rc;
	rc = store_prefix_configure(c->store, argv[0], strlen(argv[0]), &pc, &rec, &created, &why);
	if (rc == STORE_INVALID)
		return ctl_fail(CTL_FAIL, "prefix config: %s", why ? why : "invalid configuration");
	if (rc != STORE_OK)
		return ctl_store_fail(c, "prefix config: %s", store_rc_name(rc));
	fprintf(c->out, "%s %s: %s, padding %u, %s, %s\n", created ? "created" : "changed", argv[0],
	        rec.format, rec.padding, template_rule_name(rec.reset_rule), rec.timezone);
	return CTL_OK;
}

/* prefix reset ----------------------------------------------------------------------------- */

static int reset_options(int argc, char **argv, struct store_reset *r, int *has_set_to,
                         char *reason, char *admin_user)
{
	for (int i = 1; i < argc; i++) {
		const char *flag = argv[i], *v;
		uint64_t set_to;

		if (strcmp(flag, "--force") == 0) {
			r->force = 1;
			continue;
		}
		if (strcmp(flag, "--set-to") != 0 && strcmp(flag, "--reason") != 0 &&
		    strcmp(flag, "--admin-user") != 0)
			return ctl_fail(CTL_USAGE, "prefix reset: unknown option '%s'", flag);
		if (!(v = option_value(argc, argv, &i)))
			return CTL_USAGE;
		if (strcmp(flag, "--set-to") == 0) {
			if (parse_u64(flag, v, 0, INT64_MAX - 1, &set_to) != 0)
				return CTL_USAGE;
			r->set_to = (int64_t)set_to;
			*has_set_to = 1;
		} else if (strcmp(flag, "--reason") == 0) {
			if (check_text(flag, v, AUDIT_NOTE_MAX) != 0)
				return CTL_USAGE;
			snprintf(reason, AUDIT_NOTE_MAX + 1, "%s", v);
		} else {
			if (check_text(flag, v, AUDIT_TEXT_MAX) != 0)
				return CTL_USAGE;
			snprintf(admin_user, AUDIT_TEXT_MAX + 1, "%s", v);
		}
	}
	return *has_set_to ? CTL_OK : ctl_fail(CTL_USAGE, "prefix reset: --set-to N is required");
}

static int prefix_reset(struct ctl *c, int argc, char **argv)
{
	char reason[AUDIT_NOTE_MAX + 1] = "", admin_user[AUDIT_TEXT_MAX + 1];
	struct store_reset r = { .reason = reason, .admin_user = admin_user, .now_ms = now_ms() };
	struct store_prefix_status s;
	const char *why = NULL;
	int rc, has_set_to = 0;

	if (argc < 1 || strncmp(argv[0], "--", 2) == 0)
		return ctl_fail(CTL_USAGE, "usage: nextidctl prefix reset PREFIX --set-to N [options]");
	if (ctl_check_name(argv[0]) != 0)
		return CTL_USAGE;
	default_admin_user(admin_user, sizeof(admin_user));
	rc = reset_options(argc, argv, &r, &has_set_to, reason, admin_user);
	if (rc != CTL_OK)
		return rc;
	/* Say a lowering in the command's own words; the store checks it again in the reset's
	 * transaction, so a number issued meanwhile is never issued twice without --force. */
	rc = read_status(c, "prefix reset", argv[0], &s);
	if (rc != CTL_OK)
		return rc;
	if (!r.force && r.set_to < s.current)
		return ctl_fail(CTL_FAIL, "prefix reset: %lld is below the current counter, %lld: "
		                "numbers %lld to %lld would be issued again; add --force if that is "
		                "what you want", (long long)r.set_to, (long long)s.current,
		                (long long)r.set_to + 1, (long long)s.current);
	rc = store_prefix_reset(c->store, argv[0], strlen(argv[0]), &r, &why);
	if (rc == STORE_NOT_FOUND)
		return ctl_fail(CTL_FAIL, "prefix reset: no prefix is named '%s'", argv[0]);
	if (rc == STORE_INVALID)
		return ctl_fail(CTL_FAIL, "prefix reset: %s", why ? why : "invalid reset");
	if (rc != STORE_OK)
		return ctl_store_fail(c, "prefix reset: %s", store_rc_name(rc));
	fprintf(c->out, "Counter reset from %lld to %lld\n", (long long)r.old_value,
	        (long long)r.new_value);
	return CTL_OK;
}

int ctl_prefix(struct ctl *c, int argc, char **argv)
{
	if (argc < 1)
		return ctl_fail(CTL_USAGE, "usage: nextidctl prefix list|show|config|reset ...");
	if (strcmp(argv[0], "list") == 0)
		return prefix_list(c, argc - 1, argv + 1);
	if (strcmp(argv[0], "show") == 0)
		return prefix_show(c, argc - 1, argv + 1);
	if (strcmp(argv[0], "config") == 0)
		return prefix_config(c, argc - 1, argv + 1);
	if (strcmp(argv[0], "reset") == 0)
		return prefix_reset(c, argc - 1, argv + 1);
	return ctl_fail(CTL_USAGE, "prefix: unknown subcommand '%s' (list, show, config, reset)",
	                argv[0]);
}

/* audit ------------------------------------------------------------------------------------ */

struct audit_out {
	FILE *out;
	int csv;
};

/* One field: as it is when tab-separated (no field holds a control character); in CSV, quoted
 * as RFC 4180 says, doubling quotes. */
static void field(const struct audit_out *o, const char *s, int last)
{
	if (o->csv) {
		fputc('"', o->out);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', o->out);
			fputc(*s, o->out);
		}
		fputc('"', o->out);
	} else {
		fputs(s, o->out);
	}
	fputs(last ? (o->csv ? "\r\n" : "\n") : (o->csv ? "," : "\t"), o->out);
}

/* A number, never quoted; empty when there is none (present is 0). */
static void number_field(const struct audit_out *o, int64_t n, int present)
{
	if (present)
		fprintf(o->out, "%lld", (long long)n);
	fputs(o->csv ? "," : "\t", o->out);
}

static void id_and_time(const struct audit_out *o, const struct audit_entry *e)
{
	char id[37], when[LOG_TIME_MAX];

	audit_format_id(e->id, id);
	log_format_time(e->time_ms, when, sizeof(when));
	field(o, id, 0);
	field(o, when, 1);
}

static int print_number(void *ctx, uint64_t seq, const struct audit_entry *e)
{
	const struct audit_out *o = ctx;

	number_field(o, (int64_t)seq, 1);
	number_field(o, e->counter, 1);
	field(o, e->full_number, 0);
	field(o, e->client_id, 0);
	field(o, e->generated_by, 0);
	field(o, e->correlation_id, 0);
	id_and_time(o, e);
	return 0;
}

static int print_event(void *ctx, uint64_t seq, const struct audit_entry *e)
{
	const struct audit_out *o = ctx;
	int reset = e->event == AUDIT_RESET;

	number_field(o, (int64_t)seq, 1);
	field(o, reset ? "reset" : "config", 0);
	number_field(o, e->old_value, reset);
	number_field(o, e->counter, reset);
	field(o, e->note, 0);
	field(o, e->admin_user, 0);
	id_and_time(o, e);
	return 0;
}

int ctl_audit(struct ctl *c, int argc, char **argv)
{
	struct audit_out o = { .out = c->out };
	uint64_t after = 0, limit = 0;
	struct seq_record rec;
	int rc, events = 0;

	if (argc < 1 || strncmp(argv[0], "--", 2) == 0)
		return ctl_fail(CTL_USAGE, "usage: nextidctl audit PREFIX [--after N] [--limit N] "
		                "[--csv] [--events]");
	if (ctl_check_name(argv[0]) != 0)
		return CTL_USAGE;
	for (int i = 1; i < argc; i++) {
		const char *v;

		if (strcmp(argv[i], "--csv") == 0 || strcmp(argv[i], "--events") == 0) {
			*(strcmp(argv[i], "--csv") == 0 ? &o.csv : &events) = 1;
			continue;
		}
		if (strcmp(argv[i], "--after") != 0 && strcmp(argv[i], "--limit") != 0)
			return ctl_fail(CTL_USAGE, "audit: unknown option '%s'", argv[i]);
		if (!(v = option_value(argc, argv, &i)))
			return CTL_USAGE;
		if (strcmp(argv[i - 1], "--after") == 0
		            ? parse_u64("--after", v, 0, UINT64_MAX, &after) != 0
		            : parse_u64("--limit", v, 1, SIZE_MAX, &limit) != 0)
			return CTL_USAGE;
	}
	rc = store_get(c->store, argv[0], strlen(argv[0]), &rec);
	if (rc == STORE_NOT_FOUND || (rc == STORE_OK && !record_is_prefix(&rec)))
		return ctl_fail(CTL_FAIL, "audit: no prefix is named '%s'", argv[0]);
	if (rc != STORE_OK)
		return ctl_store_fail(c, "audit: %s", store_rc_name(rc));
	if (o.csv)
		fputs(events ? "seq,event,old_value,new_value,note,admin_user,id,at\r\n"
		             : "seq,counter,full_number,client_id,generated_by,correlation_id,"
		               "message_id,generated_at\r\n", c->out);
	rc = store_audit_list(c->store, argv[0], strlen(argv[0]),
	                      events ? AUDIT_KIND_EVENT : AUDIT_KIND_NUMBER, after, (size_t)limit,
	                      events ? print_event : print_number, &o);
	if (rc != STORE_OK)
		return ctl_store_fail(c, "audit: %s", store_rc_name(rc));
	return CTL_OK;
}
