/*
 * ctl: what the pieces of nextidctl share. nextidctl administers the store through store.h only,
 * on the live environment, while the service runs. It lives in db/ beside the store it drives;
 * unlike the store, it reads and writes JSON (export and import use JSON lines, with yajl).
 *
 * Every command returns an exit status: CTL_OK, CTL_FAIL (one line on stderr, "nextidctl: ..."),
 * or CTL_USAGE (a usage error: missing or unknown arguments).
 */
#ifndef NEXTID_CTL_H
#define NEXTID_CTL_H

#include "config.h"
#include "store.h"

#include <stdio.h>

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

struct ctl {
	struct config cfg;
	struct store_options opt; /* how the store is opened */
	struct store *store;      /* NULL for an offline command */
	FILE *in;  /* where confirmations are read */
	FILE *out; /* where results go */
	char store_said[512]; /* the store's last warning or error, for the one error line */
};

/* Print "nextidctl: <message>" on stderr and return status. printf-style. */
int ctl_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like ctl_fail with CTL_FAIL, and appends what the store last reported (": <reason>") when it
 * said anything: every failure stays one line. */
int ctl_store_fail(struct ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a signed decimal option value; on failure say why (naming the flag) and return -1. */
int ctl_parse_i64(const char *flag, const char *value, int64_t *out);

/* Check a name with name_check(); on failure say why and return -1. */
int ctl_check_name(const char *name);

/* Ask `question` on out and read a line from in: 1 only when the answer is exactly "yes". */
int ctl_confirm(struct ctl *c, const char *question);

/* The commands. argv[0] is the first argument after the command's name. */
int ctl_export(struct ctl *c, int argc, char **argv);
int ctl_import(struct ctl *c, int argc, char **argv);
int ctl_sequence_reset(struct ctl *c, int argc, char **argv);

#endif
