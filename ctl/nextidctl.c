/*
 * nextidctl: the admin CLI. main() finds the command, answers --help without touching the store,
 * refuses to run as another user than the store's owner (files it created would lock the service
 * out), opens the store and runs the command. export/import are in ctl_transfer.c, the seed's
 * sequence-reset flags in ctl_reset.c.
 */
#include "ctl.h"
#include "dir.h"
#include "name.h"
#include "numparse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int ctl_fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("nextidctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

int ctl_store_fail(struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	/* A recovery pulled the store from under the command: not a failure of the command. */
	if (c->store && store_needs_recovery(c->store))
		return ctl_interrupted();
	fputs("nextidctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (c->store_said[0])
		fprintf(stderr, ": %s", c->store_said);
	fputc('\n', stderr);
	return CTL_FAIL;
}

int ctl_parse_i64(const char *flag, const char *value, int64_t *out)
{
	const char *why;

	if (!value) {
		ctl_fail(CTL_USAGE, "%s needs a value", flag);
		return -1;
	}
	if (numparse_i64(value, strlen(value), INT64_MIN, INT64_MAX, out, &why) != 0) {
		ctl_fail(CTL_USAGE, "%s '%s' %s", flag, value, why);
		return -1;
	}
	return 0;
}

int ctl_check_name(const char *name)
{
	const char *why;

	if (name_check(name, strlen(name), &why) == 0)
		return 0;
	ctl_fail(CTL_USAGE, "%s", why);
	return -1;
}

int ctl_confirm(struct ctl *c, const char *question)
{
	char line[64];

	fprintf(c->out, "%s Type 'yes' to continue: ", question);
	fflush(c->out);
	if (!fgets(line, sizeof(line), c->in))
		return 0;
	line[strcspn(line, "\r\n")] = '\0';
	return strcmp(line, "yes") == 0;
}

/* The store's complaints are kept, not printed: the failing command says them in its one line. */
static void remember_store_message(void *ctx, int level, const char *file, int line,
                                   const char *msg)
{
	struct ctl *c = ctx;

	(void)file;
	(void)line;
	if (level >= LOG_WARN)
		snprintf(c->store_said, sizeof(c->store_said), "%s", msg);
}

static void print_counter(FILE *out, const struct seq_record *rec)
{
	if (record_type_max(rec->type) == 0)
		fputs("-", out);
	else if (rec->flags & RECORD_FLAG_EXHAUSTED)
		fputs("exhausted", out);
	else
		fprintf(out, "%lld", (long long)rec->next);
}

static int print_entry(void *ctx, const char *name, size_t len, const struct seq_record *rec)
{
	FILE *out = ctx;

	fprintf(out, "%.*s\t%s\t", (int)len, name, record_type_name(rec->type));
	print_counter(out, rec);
	fputc('\n', out);
	return 0;
}

static int cmd_list(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return ctl_fail(CTL_USAGE, "list takes no arguments");
	if (store_list(c->store, NULL, 0, 0, print_entry, c->out) != STORE_OK)
		return ctl_store_fail(c, "list failed");
	return CTL_OK;
}

static int cmd_show(struct ctl *c, int argc, char **argv)
{
	struct seq_record rec;
	int rc;

	if (argc != 1)
		return ctl_fail(CTL_USAGE, "usage: nextidctl show NAME");
	if (ctl_check_name(argv[0]) != 0)
		return CTL_USAGE;
	rc = store_get(c->store, argv[0], strlen(argv[0]), &rec);
	if (rc != STORE_OK)
		return ctl_store_fail(c, "show: %s: %s", argv[0], store_rc_name(rc));
	fprintf(c->out, "name: %s\ntype: %s\nnext: ", argv[0], record_type_name(rec.type));
	print_counter(c->out, &rec);
	fprintf(c->out, "\nincrement: %lld\nmin: %lld\nmax: %lld\ncycle: %s\ncache: %u\n",
	        (long long)rec.increment, (long long)rec.min, (long long)rec.max,
	        rec.flags & RECORD_FLAG_CYCLE ? "yes" : "no", rec.cache);
	return CTL_OK;
}

/* Read create's options (--NAME VALUE, --cycle alone) into ch. Returns 0, or an exit status after
 * saying what is wrong. */
static int create_options(int argc, char **argv, struct record_change *ch)
{
	memset(ch, 0, sizeof(*ch));
	for (int i = 0; i < argc; i++) {
		int alone = strcmp(argv[i], "--cycle") == 0;
		struct record_value v = { .text = alone || i + 1 == argc ? NULL : argv[i + 1],
			                  .truth = alone ? 1 : -1 };
		const char *why;
		int rc = strncmp(argv[i], "--", 2) == 0
		                 ? record_change_set(ch, argv[i] + 2, &v, &why)
		                 : RECORD_SET_UNKNOWN;

		if (rc == RECORD_SET_UNKNOWN)
			return ctl_fail(CTL_USAGE, "create: unknown option '%s'", argv[i]);
		if (!alone && !v.text)
			return ctl_fail(CTL_USAGE, "%s needs a value", argv[i]);
		if (rc == RECORD_SET_NUMBER)
			return ctl_fail(CTL_USAGE, "%s '%s' %s", argv[i], v.text, why);
		if (rc == RECORD_SET_INVALID)
			return ctl_fail(CTL_USAGE, "create: %s", why);
		i += !alone;
	}
	return 0;
}

/* create and set: apply ch to sequence name (mode STORE_CREATE_ONLY or STORE_CHANGE_ONLY) and say
 * what the store answered, for command cmd. */
static int configure(struct ctl *c, const char *cmd, const char *name,
                     const struct record_change *ch, int mode)
{
	const char *why;
	int rc = store_configure(c->store, name, strlen(name), ch, mode, NULL, NULL, &why);

	switch (rc) {
	case STORE_OK:
		return CTL_OK;
	case STORE_EXISTS:
		return ctl_fail(CTL_FAIL, "%s: sequence '%s' exists already", cmd, name);
	case STORE_NOT_FOUND:
		return ctl_fail(CTL_FAIL, "%s: no sequence is named '%s'", cmd, name);
	case STORE_INVALID:
		return ctl_fail(CTL_FAIL, "%s: %s", cmd, why);
	default:
		return ctl_store_fail(c, "%s: %s", cmd, store_rc_name(rc));
	}
}

static int cmd_create(struct ctl *c, int argc, char **argv)
{
	struct record_change ch;
	int rc;

	if (argc < 1)
		return ctl_fail(CTL_USAGE, "usage: nextidctl create NAME [options]");
	if (ctl_check_name(argv[0]) != 0)
		return CTL_USAGE;
	rc = create_options(argc - 1, argv + 1, &ch);
	if (rc != 0)
		return rc;
	return configure(c, "create", argv[0], &ch, STORE_CREATE_ONLY);
}

static int cmd_set(struct ctl *c, int argc, char **argv)
{
	struct record_change ch = { .fields = RECORD_CHANGE_START };

	if (argc != 3 || strcmp(argv[1], "--next") != 0)
		return ctl_fail(CTL_USAGE, "usage: nextidctl set NAME --next N");
	if (ctl_check_name(argv[0]) != 0 || ctl_parse_i64("--next", argv[2], &ch.start) != 0)
		return CTL_USAGE;
	return configure(c, "set", argv[0], &ch, STORE_CHANGE_ONLY);
}

static int cmd_delete(struct ctl *c, int argc, char **argv)
{
	int rc;

	if (argc != 1)
		return ctl_fail(CTL_USAGE, "usage: nextidctl delete NAME");
	if (ctl_check_name(argv[0]) != 0)
		return CTL_USAGE;
	rc = store_delete(c->store, argv[0], strlen(argv[0]));
	if (rc == STORE_NOT_FOUND)
		return ctl_fail(CTL_FAIL, "delete: no sequence is named '%s'", argv[0]);
	if (rc != STORE_OK)
		return ctl_store_fail(c, "delete: %s", store_rc_name(rc));
	return CTL_OK;
}

static int cmd_backup(struct ctl *c, int argc, char **argv)
{
	size_t count;
	enum dir_find content;
	int rc;

	if (argc != 1)
		return ctl_fail(CTL_USAGE, "usage: nextidctl backup DIR");
	/* What an interrupted backup leaves in DIR is of no use: the watchdog removes it, but only
	 * what this backup wrote (it refuses a directory that holds anything). */
	content = dir_find(argv[0], "");
	if (content == DIR_ABSENT || content == DIR_NONE)
		ctl_watch_remove_on_end(argv[0], content == DIR_NONE);
	rc = store_backup(c->store, argv[0], &count);
	if (rc != STORE_OK && store_needs_recovery(c->store))
		return ctl_interrupted(); /* which removes the copy too */
	ctl_watch_remove_on_end(NULL, 0);
	if (rc != STORE_OK)
		return ctl_store_fail(c, "backup to %s failed", argv[0]);
	fprintf(c->out, "backup: %zu sequences in %s, recovered and verified\n", count, argv[0]);
	return CTL_OK;
}

/* Offline: the store is not open (c->store is NULL) and must not be in use. */
static int cmd_recover(struct ctl *c, int argc, char **argv)
{
	int rc;

	(void)argv;
	if (argc != 0)
		return ctl_fail(CTL_USAGE, "recover takes no arguments");
	rc = store_recover_unused(&c->opt);
	if (rc == STORE_BUSY)
		return ctl_store_fail(c, "recover: stop the service first");
	if (rc != STORE_OK)
		return ctl_store_fail(c, "recover: the store in %s cannot be recovered", c->opt.data_dir);
	fprintf(c->out, "recover: the store in %s is recovered\n", c->opt.data_dir);
	return CTL_OK;
}

static int cmd_advance(struct ctl *c, int argc, char **argv)
{
	int64_t steps;
	size_t moved;
	int rc;

	if (argc != 1)
		return ctl_fail(CTL_USAGE, "usage: nextidctl advance N");
	if (ctl_parse_i64("N", argv[0], &steps) != 0)
		return CTL_USAGE;
	if (steps < 1)
		return ctl_fail(CTL_USAGE, "advance: N must be at least 1");
	rc = store_advance_all(c->store, (uint64_t)steps, &moved);
	if (rc != STORE_OK && moved > 0) /* the chunks before the one that failed stay moved */
		return ctl_store_fail(c, "advance: %s, after %zu sequences moved %lld values ahead",
		                      store_rc_name(rc), moved, (long long)steps);
	if (rc != STORE_OK)
		return ctl_store_fail(c, "advance: %s", store_rc_name(rc));
	fprintf(c->out, "advance: %zu sequences moved %lld values ahead\n", moved, (long long)steps);
	return CTL_OK;
}

void ctl_remove_dir(const char *dir, int keep_dir)
{
	/* getdents64 into a buffer of our own: opendir would allocate. Two passes, since entries
	 * removed while reading may hide others. */
	_Alignas(struct dirent64) char buf[4096];
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	for (int pass = 0; fd >= 0 && pass < 2; pass++) {
		ssize_t n;

		lseek(fd, 0, SEEK_SET);
		while ((n = getdents64(fd, buf, sizeof(buf))) > 0) {
			for (ssize_t off = 0; off < n;) {
				struct dirent64 *e = (struct dirent64 *)(void *)(buf + off);

				if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
					unlinkat(fd, e->d_name, 0);
				off += e->d_reclen;
			}
		}
	}
	if (fd >= 0)
		close(fd);
	if (!keep_dir)
		rmdir(dir);
}

/* Verify a hot copy rather than the live files: Berkeley DB's verify takes no locks, so it must
 * not read files that workers are writing. */
static int cmd_verify(struct ctl *c, int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	char dir[CONFIG_PATH_MAX];
	size_t count;
	int rc;

	(void)argv;
	if (argc != 0)
		return ctl_fail(CTL_USAGE, "verify takes no arguments");
	/* The watchdog may end the process at any moment: it knows the copy's directory before
	 * the directory exists, and forgets it only once it is gone, so no moment leaves one. */
	snprintf(dir, sizeof(dir), "%s/nextid-verify-%d-%lld", tmp && *tmp ? tmp : "/tmp",
	         (int)getpid(), (long long)time(NULL));
	ctl_watch_remove_on_end(dir, 0);
	if (mkdir(dir, 0700) != 0) {
		ctl_watch_remove_on_end(NULL, 0);
		return ctl_fail(CTL_FAIL, "verify: cannot make a directory for the copy: %s",
		                strerror(errno));
	}
	rc = store_backup(c->store, dir, &count);
	ctl_remove_dir(dir, 0);
	ctl_watch_remove_on_end(NULL, 0);
	if (rc != STORE_OK && store_needs_recovery(c->store))
		return ctl_interrupted(); /* not a finding about the store: it went away under us */
	if (rc != STORE_OK) {
		/* One line that says what to do, after what Berkeley DB found. */
		fprintf(stderr, "nextidctl: verify: the store is not sound: %s; stop the service and "
		        "restore the last backup (nextidctl(1), RESTORE)\n",
		        c->store_said[0] ? c->store_said : "see the messages above");
		return CTL_FAIL;
	}
	fprintf(c->out, "verify: %zu sequences; every record and database file is sound\n", count);
	return CTL_OK;
}

struct command {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
	const char *usage;
	int offline; /* runs on a store nobody has open, without opening it first */
	const char *after; /* what to do when the command was interrupted (ctl_watch.c) */
	const char *const *usages; /* a command with subcommands: each one's usage, NULL-ended */
};

/* After an interruption: whether anything changed, and whether to run the command again. */
/* group: the replication group as this node sees it; group remove ADDRESS: take a member that
 * is gone for good out of it (and out of the shard_id list). */
static int cmd_group(struct ctl *c, int argc, char **argv)
{
	struct store_member m[STORE_REPL_PEERS_MAX + 2];
	size_t n = 0;
	int rc;

	if (!c->cfg.replication_address[0])
		return ctl_fail(CTL_FAIL, "replication is not configured (replication_address)");
	if (argc == 2 && strcmp(argv[0], "remove") == 0) {
		if (strcmp(argv[1], c->cfg.replication_address) == 0)
			return ctl_fail(CTL_USAGE, "%s is this node; remove it from another member",
			                argv[1]);
		if (store_repl_remove(c->store, argv[1]) != STORE_OK)
			return ctl_store_fail(c, "cannot remove %s from the group", argv[1]);
		rc = store_member_forget(c->store, argv[1]);
		if (rc != STORE_OK)
			fprintf(stderr, "nextidctl: %s left the group; its shard_id stays recorded until "
			                "this is run on the master (%s)\n", argv[1], store_rc_name(rc));
		fprintf(c->out, "removed %s\n", argv[1]);
		return CTL_OK;
	}
	if (argc != 0)
		return ctl_fail(CTL_USAGE, "usage: group, or group remove HOST:PORT");
	if (store_repl_members(c->store, m, sizeof(m) / sizeof(m[0]), &n) != STORE_OK)
		return ctl_store_fail(c, "cannot read the group");
	for (size_t i = 0; i < n; i++) {
		fprintf(c->out, "%s	%s	", m[i].address,
		        m[i].role == STORE_ROLE_NONE ? "unreachable" : store_repl_role_name(m[i].role));
		if (m[i].shard)
			fprintf(c->out, "shard %llu", (unsigned long long)m[i].shard);
		else
			fprintf(c->out, "shard ?");
		if (m[i].self)
			fprintf(c->out, "	this node	lag %llu bytes", (unsigned long long)m[i].lag_bytes);
		fputc('\n', c->out);
	}
	return CTL_OK;
}

#define AFTER_NOTHING "nothing was changed; run the command again"
#define AFTER_LISTING "nothing was changed, and what it printed or wrote is incomplete; run the " \
	"command again"
#define AFTER_CHANGE "the change was made in full or not at all: see which with nextidctl show " \
	"or list before you run the command again"

static const char *const prefix_usages[] = { ctl_prefix_usage_list, ctl_prefix_usage_show,
	                                    ctl_prefix_usage_config, ctl_prefix_usage_reset,
	                                    NULL };

static const struct command commands[] = {
	{ "list", cmd_list, "list\n  Every sequence, one per line: name, type, next value (or "
	                    "'exhausted', or '-' for random-id types).", 0, AFTER_LISTING, NULL },
	{ "show", cmd_show, "show NAME\n  One sequence's type, next value and options.", 0,
	  AFTER_NOTHING, NULL },
	{ "create", cmd_create,
	  "create NAME [--type int|long|uuid8|uuid12|uuid16|uuid22] [--start N] [--increment N]\n"
	  "            [--min N] [--max N] [--cycle] [--cache N]\n"
	  "  A new sequence (default: long, from 1, increment 1, up to 2^63-1).", 0, AFTER_CHANGE,
	  NULL },
	{ "set", cmd_set, "set NAME --next N\n  Make N the next value issued.", 0, AFTER_CHANGE,
	  NULL },
	{ "delete", cmd_delete,
	  "delete NAME\n  Remove a sequence: its numbers will be issued again if it is recreated.", 0,
	  AFTER_CHANGE, NULL },
	{ "export", ctl_export,
	  "export [FILE]\n  Every sequence as JSON lines, to FILE or standard output.", 0,
	  AFTER_LISTING, NULL },
	{ "import", ctl_import,
	  "import [--force] FILE\n  Write the sequences of an export, all or nothing. Refuses to "
	  "move a counter\n  backwards (which would issue its numbers again) unless --force.", 0,
	  "the import was made in full or not at all, and the same file imports again safely: run "
	  "the command again (with --force, first see with nextidctl show whether it was made)", NULL },
	{ "backup", cmd_backup,
	  "backup DIR\n  A hot, consistent copy in DIR (new or empty), recovered and verified: a "
	  "store\n  that data_dir can point at.", 0,
	  "nothing was changed and no copy was kept; run the command again", NULL },
	{ "verify", cmd_verify, "verify\n  Check every record and database file (on a hot copy).", 0,
	  AFTER_NOTHING, NULL },
	{ "recover", cmd_recover,
	  "recover\n  With the service stopped: recover the store (after a restore from a backup).",
	  1, NULL, NULL },
	{ "advance", cmd_advance,
	  "advance N\n  Move every counter N values ahead: after a restore, past what the lost store\n"
	  "  may have issued since the backup. Cycling sequences are left alone.", 0,
	  "counters move a chunk at a time, so some may have moved: see nextidctl list before you "
	  "run the command again", NULL },
	{ "prefix", ctl_prefix, NULL, 0,
	  "a change was made in full or not at all: see which with nextidctl prefix show before you "
	  "run the command again", prefix_usages },
	{ "audit", ctl_audit, ctl_audit_usage, 0, AFTER_LISTING, NULL },
	{ "group", cmd_group,
	  "group [remove HOST:PORT]\n  The replication group: each member's address, role, shard_id, "
	  "and this node's\n  lag. remove takes a member that is gone for good out of the group.", 0,
	  AFTER_CHANGE, NULL },
	/* sequence-reset stays last: main() finds it there for the alias. */
	{ "sequence-reset", ctl_sequence_reset,
	  "sequence-reset [-e NAME] [-v N] [-t TYPE] [-f] [-h]\n"
	  "  The Sequence Service's reset tool: no -e deletes every sequence; -e NAME alone deletes\n"
	  "  it; -v N makes N its next value; -t TYPE changes its type (both create it if missing);\n"
	  "  -f skips the confirmation, which otherwise needs the word yes.", 0, AFTER_CHANGE,
	  NULL },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

/* A command's usage (each subcommand's, for a command that has them), each after lead. */
static void print_usage(FILE *out, const char *lead, const struct command *cmd)
{
	if (!cmd->usages) {
		fprintf(out, "%s%s\n", lead, cmd->usage);
		return;
	}
	for (const char *const *u = cmd->usages; *u; u++)
		fprintf(out, "%s%s\n", lead, *u);
}

static void usage(FILE *out)
{
	fputs("usage: nextidctl [--config FILE] COMMAND [ARGS]    (default config: "
	      CONFIG_DEFAULT_PATH ")\n\ncommands:\n", out);
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		print_usage(out, "  ", &commands[i]);
	fputs("\nCOMMAND --help shows one command's usage.\n", out);
}

static int wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

/* Files this process creates in the store would belong to it: refuse to be another user. */
static int check_owner(const char *data_dir)
{
	struct store_owner o;
	int rc = store_owner_check(data_dir, &o);

	if (rc == STORE_OWNER_NONE)
		return ctl_fail(CTL_FAIL, "no store at %s: %s", data_dir, strerror(o.err));
	if (rc == STORE_OWNER_SELF)
		return CTL_OK;
	return ctl_fail(CTL_FAIL,
	                "the store in %s belongs to %s (uid %u); run nextidctl as that user, e.g. "
	                "runuser -u %s -- nextidctl ...",
	                data_dir, o.name[0] ? o.name : "another user", o.uid,
	                o.name[0] ? o.name : "<owner>");
}

static int run(const struct command *cmd, const char *config_path, int argc, char **argv)
{
	struct ctl c = { .in = stdin, .out = stdout };
	char err[CONFIG_ERR_MAX];
	int rc;

	if (config_load(config_path, &c.cfg, err, sizeof(err)) != 0)
		return ctl_fail(CTL_FAIL, "%s", err);
	rc = check_owner(c.cfg.data_dir);
	if (rc != CTL_OK)
		return rc;
	store_options_init(&c.opt, c.cfg.data_dir);
	c.opt.durability = (enum store_durability)c.cfg.durability; /* same order (config.h) */
	{
		struct repl_keys rk;

		config_repl_keys(&c.cfg, &rk);
		store_repl_configure(&c.opt, &rk);
	}
	c.opt.lock_timeout_ms = (unsigned)c.cfg.lock_timeout_ms;
	c.opt.self_recovering = c.cfg.process_model == CONFIG_PROCESS_FCGID;
	c.opt.reserve_size = c.cfg.reserve_size;
	c.opt.max_sequences = (uint64_t)c.cfg.max_sequences;
	c.opt.log = remember_store_message;
	c.opt.log_ctx = &c;
	c.opt.guest = 1;
	c.opt.joined = ctl_watch_joined(); /* the watchdog watches from env.lock on */
	/* Offline, recover holds recovery.lock itself and nobody else may use the store. */
	if (!cmd->offline &&
	    ctl_watch_start(&c.opt, cmd->name, cmd->after, (unsigned)c.cfg.request_timeout_s) != 0)
		return ctl_fail(CTL_FAIL, "cannot start the watchdog: %s", strerror(errno));
	if (!cmd->offline && store_open(&c.opt, &c.store) != STORE_OK) {
		ctl_watch_stop();
		return ctl_store_fail(&c, "cannot open the store in %s", c.cfg.data_dir);
	}
	/* A command opened while a recovery runs waits for it in store_open; from now on a
	 * recovery would pull the store from under it. */
	ctl_watch_attached();
	rc = cmd->run(&c, argc, argv);
	/* The output goes out before the close, which the watchdog may have to cut short. */
	if (fflush(stdout) != 0)
		rc = ctl_fail(CTL_FAIL, "cannot write the output: %s", strerror(errno));
	ctl_watch_closing(rc);
	store_close(c.store);
	ctl_watch_stop();
	return rc;
}

int main(int argc, char **argv)
{
	const char *config_path = CONFIG_DEFAULT_PATH;
	const char *self = basename(argv[0]);
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "--config") == 0) {
		config_path = argv[2];
		i = 3;
	} else if (argc == 2 && strcmp(argv[1], "--config") == 0) {
		return ctl_fail(CTL_USAGE, "--config needs a value");
	}
	/* Installed as sequence-reset too: then the whole command line is that command's. */
	if (strcmp(self, "sequence-reset") == 0) {
		const struct command *reset = &commands[COMMAND_COUNT - 1];

		if (wants_help(argc - i, argv + i)) {
			printf("usage: sequence-reset [--config FILE] [-e NAME] [-v N] [-t TYPE] [-f] [-h]\n"
			       "%s\n", strchr(reset->usage, '\n') + 1);
			return CTL_OK;
		}
		return run(reset, config_path, argc - i, argv + i);
	}
	if (i >= argc || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
	    strcmp(argv[i], "help") == 0) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? CTL_USAGE : CTL_OK;
	}
	for (size_t c = 0; c < COMMAND_COUNT; c++) {
		if (strcmp(argv[i], commands[c].name) != 0)
			continue;
		if (wants_help(argc - i - 1, argv + i + 1)) {
			const char *sub = commands[c].usages && i + 1 < argc
			                          ? ctl_prefix_usage(argv[i + 1]) : NULL;

			if (sub)
				printf("usage: nextidctl [--config FILE] %s\n", sub);
			else
				print_usage(stdout, "usage: nextidctl [--config FILE] ", &commands[c]);
			return CTL_OK;
		}
		return run(&commands[c], config_path, argc - i - 1, argv + i + 1);
	}
	ctl_fail(CTL_USAGE, "unknown command '%s'", argv[i]);
	usage(stderr);
	return CTL_USAGE;
}
