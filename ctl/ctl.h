/*
 * ctl: what the pieces of nextidctl share. nextidctl administers the store through store.h only,
 * on the live environment, while the service runs: a front door of its own, beside fcgi-app/ and
 * sequencer/. Unlike the store, it reads and writes JSON (export and import use JSON lines, with
 * yajl).
 *
 * Every command returns an exit status: CTL_OK, CTL_FAIL (one line on stderr, "nextidctl: ..."),
 * CTL_USAGE (a usage error: missing or unknown arguments), or CTL_INTERRUPTED (the store was
 * recovered under the command, or stopped answering: one line saying whether to run it again).
 */
#ifndef NEXTID_CTL_H
#define NEXTID_CTL_H

#include "config.h"
#include "store.h"

#include <stdatomic.h>
#include <stdio.h>

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2, CTL_INTERRUPTED = 3 };

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

/* Remove the files of a flat directory (a backup copy), then the directory unless keep_dir.
 * Allocates nothing, so that the watchdog may call it whatever the main thread was doing. */
void ctl_remove_dir(const char *dir, int keep_dir);

/*
 * The watchdog (ctl_watch.c): a thread that ends the process, exit status CTL_INTERRUPTED, with
 * the line "nextidctl: <command> was interrupted: <what happened>; <after>", when a recovery of
 * the store begins once the opener holds env.lock (store_options.joined, ctl_watch_joined) or
 * ctl_watch_attached() said the store is open, or when the main thread has
 * waited for a lock for timeout_s without running. opt, command and after must outlive it.
 * ctl_watch_start returns 0, or -1 with errno set.
 */
int ctl_watch_start(const struct store_options *opt, const char *command, const char *after,
                    unsigned timeout_s);
void ctl_watch_attached(void);

/* The flag ctl_watch_attached sets, for struct store_options.joined: the store sets it as soon
 * as it holds env.lock, before an open that may block. */
atomic_int *ctl_watch_joined(void);
/* The command is done with status, and its output written: should the close that follows not
 * finish, the watchdog ends the process with that status and says nothing. */
void ctl_watch_closing(int status);
void ctl_watch_stop(void);

/* A directory the command is filling (a backup copy) that the watchdog removes (its files, and
 * the directory unless keep_dir) when it ends the command; NULL forgets it. */
void ctl_watch_remove_on_end(const char *dir, int keep_dir);

/* For the main thread, when the store reports that it needs recovery: say it as the watchdog
 * would, remove the directory it would remove, and return CTL_INTERRUPTED. */
int ctl_interrupted(void);

/* The commands. argv[0] is the first argument after the command's name. */
int ctl_export(struct ctl *c, int argc, char **argv);
int ctl_import(struct ctl *c, int argc, char **argv);
int ctl_sequence_reset(struct ctl *c, int argc, char **argv);
int ctl_prefix(struct ctl *c, int argc, char **argv); /* argv[0] is list, show, config or reset */
int ctl_audit(struct ctl *c, int argc, char **argv);

/* The usages of the prefix subcommands and of audit (ctl_prefix.c), for --help. */
extern const char ctl_prefix_usage_list[], ctl_prefix_usage_show[], ctl_prefix_usage_config[],
	ctl_prefix_usage_reset[], ctl_audit_usage[];

/* The usage of `prefix SUB`, or NULL when SUB is no subcommand of prefix. */
const char *ctl_prefix_usage(const char *sub);

#endif
