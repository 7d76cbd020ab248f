/*
 * ctl_reset: the Sequence Service's sequence-reset tool, flags unchanged:
 *   (no -e)        delete every sequence
 *   -e NAME        delete NAME
 *   -e NAME -v N   N becomes the next value issued (NAME is created as an int if missing)
 *   -e NAME -t T   NAME's type becomes T (created if missing), as record_apply converts types
 *   -f             no confirmation; otherwise only the exact answer "yes" proceeds
 *   -h             help
 */
#include "ctl.h"

#include <string.h>

struct reset_args {
	const char *name, *type_name;
	int64_t value;
	int has_value, force;
};

static int parse_flags(int argc, char **argv, struct reset_args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(flag, "-f") == 0) {
			a->force = 1;
			continue;
		}
		if (strcmp(flag, "-e") != 0 && strcmp(flag, "-v") != 0 && strcmp(flag, "-t") != 0)
			return ctl_fail(CTL_USAGE, "sequence-reset: unknown flag '%s' (see -h)", flag);
		if (!value)
			return ctl_fail(CTL_USAGE, "sequence-reset: %s needs a value", flag);
		if (strcmp(flag, "-e") == 0) {
			if (ctl_check_name(value) != 0)
				return CTL_USAGE;
			a->name = value;
		} else if (strcmp(flag, "-t") == 0) {
			a->type_name = value;
		} else {
			if (ctl_parse_i64("-v", value, &a->value) != 0)
				return CTL_USAGE;
			a->has_value = 1;
		}
		i++;
	}
	if (!a->name && (a->has_value || a->type_name))
		return ctl_fail(CTL_USAGE, "sequence-reset: -v and -t need -e NAME");
	return 0;
}

static int delete_all(struct ctl *c, int force)
{
	size_t count;
	int rc;

	if (!force && !ctl_confirm(c, "Delete every sequence? Their numbers will be issued again."))
		return ctl_fail(CTL_FAIL, "aborted");
	rc = store_delete_all(c->store, &count);
	if (rc != STORE_OK && count > 0) /* the chunks before the one that failed stay deleted */
		return ctl_store_fail(c, "sequence-reset: the store did not answer after %zu sequences "
		                      "were deleted", count);
	if (rc != STORE_OK)
		return ctl_store_fail(c, "sequence-reset: the store did not answer");
	fprintf(c->out, "deleted %zu sequences\n", count);
	return CTL_OK;
}

static int delete_one(struct ctl *c, const char *name, int force)
{
	char question[300];
	int rc;

	snprintf(question, sizeof(question),
	         "Delete sequence '%s'? Its numbers will be issued again.", name);
	if (!force && !ctl_confirm(c, question))
		return ctl_fail(CTL_FAIL, "aborted");
	rc = store_delete(c->store, name, strlen(name));
	if (rc == STORE_NOT_FOUND)
		return ctl_fail(CTL_FAIL, "sequence-reset: no sequence is named '%s'", name);
	if (rc != STORE_OK)
		return ctl_store_fail(c, "sequence-reset: %s", store_rc_name(rc));
	fprintf(c->out, "deleted '%s'\n", name);
	return CTL_OK;
}

static int change_one(struct ctl *c, const struct reset_args *a)
{
	struct record_change ch = { 0 };
	struct seq_record rec;
	char question[400];
	const char *why;
	int rc;

	if (a->type_name) {
		const struct record_value type = { .text = a->type_name, .truth = -1 };

		if (record_change_set(&ch, "type", &type, &why) != RECORD_SET_OK)
			return ctl_fail(CTL_USAGE, "sequence-reset: -t '%s': %s", a->type_name, why);
	}
	if (a->has_value) {
		ch.fields |= RECORD_CHANGE_START;
		ch.start = a->value;
	}
	if (a->has_value && !a->type_name) {
		/* The Sequence Service created a missing entity as an int here, and its README's
		 * clients then ask for ?dataType=int; a long would answer them 400 Type mismatch. A
		 * value no int can hold still creates a long, as it did before, rather than fail. */
		ch.fields |= RECORD_CHANGE_NEW_TYPE;
		ch.type = a->value <= record_type_max(RECORD_TYPE_INT) ? RECORD_TYPE_INT
		                                                      : RECORD_TYPE_LONG;
	}
	snprintf(question, sizeof(question), "Change sequence '%s'%s%s%s%s?", a->name,
	         a->type_name ? ": type " : "", a->type_name ? a->type_name : "",
	         a->has_value ? (a->type_name ? ", next value " : ": next value ") : "",
	         a->has_value ? "as given" : "");
	if (!a->force && !ctl_confirm(c, question))
		return ctl_fail(CTL_FAIL, "aborted");
	rc = store_configure(c->store, a->name, strlen(a->name), &ch, STORE_CREATE_OR_CHANGE, &rec,
	                     NULL, &why);
	if (rc == STORE_INVALID)
		return ctl_fail(CTL_FAIL, "sequence-reset: %s", why);
	if (rc != STORE_OK)
		return ctl_store_fail(c, "sequence-reset: %s", store_rc_name(rc));
	if (record_type_max(rec.type) != 0)
		fprintf(c->out, "'%s' is now %s, next value %lld\n", a->name,
		        record_type_name(rec.type), (long long)rec.next);
	else
		fprintf(c->out, "'%s' is now %s\n", a->name, record_type_name(rec.type));
	return CTL_OK;
}

int ctl_sequence_reset(struct ctl *c, int argc, char **argv)
{
	struct reset_args a;
	int rc = parse_flags(argc, argv, &a);

	if (rc != 0)
		return rc;
	if (!a.name)
		return delete_all(c, a.force);
	if (!a.has_value && !a.type_name)
		return delete_one(c, a.name, a.force);
	return change_one(c, &a);
}
