/*
 * config: the "key = value" parser. Accepted texts are checked field by field against the
 * defaults plus the one key the row sets; refused texts against the whole "FILE:LINE: reason"
 * message, since that message is what an operator reads when start-up stops.
 */
#include "config.h"
#include "log.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

#define FILE_NAME "nextid.conf"

/* A string literal with its length (NUL bytes inside count), for rows. */
#define S(lit) lit, sizeof(lit) - 1

/* The named field of cfg: a string (*str) or a number (*num). Returns -1 for an unknown name. */
static int field(struct config *cfg, const char *name, char **str, int64_t **num)
{
	static const struct {
		const char *name;
		size_t offset;
		int is_string;
	} fields[] = {
		{ "data_dir", offsetof(struct config, data_dir), 1 },
		{ "socket", offsetof(struct config, socket), 1 },
		{ "workers", offsetof(struct config, workers), 0 },
		{ "threads", offsetof(struct config, threads), 0 },
		{ "max_requests", offsetof(struct config, max_requests), 0 },
		{ "durability", offsetof(struct config, durability), 0 },
		{ "lock_timeout_ms", offsetof(struct config, lock_timeout_ms), 0 },
		{ "shutdown_timeout_s", offsetof(struct config, shutdown_timeout_s), 0 },
		{ "log_level", offsetof(struct config, log_level), 0 },
		{ "default_start", offsetof(struct config, default_start), 0 },
		{ "checkpoint_interval_s", offsetof(struct config, checkpoint_interval_s), 0 },
		{ "grpc_tls_cert", offsetof(struct config, grpc_tls_cert), 1 },
		{ "grpc_tls_key", offsetof(struct config, grpc_tls_key), 1 },
	};

	*str = NULL;
	*num = NULL;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(fields[i].name, name) != 0)
			continue;
		if (fields[i].is_string)
			*str = (char *)cfg + fields[i].offset;
		else
			*num = (int64_t *)(void *)((char *)cfg + fields[i].offset);
		return 0;
	}
	return -1;
}

static const char *const field_names[] = {
	"data_dir",  "socket",        "workers",      "threads",  "max_requests",   "durability",
	"lock_timeout_ms", "shutdown_timeout_s", "log_level", "default_start",
	"checkpoint_interval_s", "grpc_tls_cert", "grpc_tls_key",
};

/* Compare two configs field by field; describe the first difference in buf, or return NULL. */
static const char *config_diff(struct config *got, struct config *want, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++) {
		char *gs, *ws;
		int64_t *gn, *wn;

		field(got, field_names[i], &gs, &gn);
		field(want, field_names[i], &ws, &wn);
		if (gs && strcmp(gs, ws) != 0) {
			snprintf(buf, len, "%s is \"%s\", want \"%s\"", field_names[i], gs, ws);
			return buf;
		}
		if (gn && *gn != *wn) {
			snprintf(buf, len, "%s is %" PRId64 ", want %" PRId64, field_names[i], *gn,
			         *wn);
			return buf;
		}
	}
	return NULL;
}

/* Every default that config.h documents, spelled out rather than taken from config_defaults. */
START_TEST(test_defaults)
{
	struct config cfg;

	memset(&cfg, 0x5a, sizeof(cfg));
	config_defaults(&cfg);
	ck_assert_str_eq(cfg.data_dir, "/var/lib/nextid");
	ck_assert_str_eq(cfg.socket, "/run/nextid/fcgi.sock");
	ck_assert_int_eq(cfg.workers, 4);
	ck_assert_int_eq(cfg.threads, 8);
	ck_assert_int_eq(cfg.max_requests, 10000);
	ck_assert_int_eq(cfg.durability, CONFIG_DURABILITY_SYNC);
	ck_assert_int_eq(cfg.lock_timeout_ms, 500);
	ck_assert_int_eq(cfg.shutdown_timeout_s, 10);
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
	ck_assert_int_eq(cfg.default_start, 1);
	ck_assert_int_eq(cfg.checkpoint_interval_s, 60);
}
END_TEST

struct ok_row {
	int line;
	const char *text;
	size_t len;
	const char *key; /* the one field that differs from the defaults, or NULL */
	int64_t num;     /* its value when a number */
	const char *str; /* its value when a string */
	const char *desc;
};

static const struct ok_row ok_rows[] = {
	{ __LINE__, S(""), NULL, 0, NULL, "empty text: every default" },
	{ __LINE__, S("\n"), NULL, 0, NULL, "one empty line" },
	{ __LINE__, S("\n\n\n"), NULL, 0, NULL, "empty lines" },
	{ __LINE__, S("   \t  \n\t\n"), NULL, 0, NULL, "blank lines of spaces and tabs" },
	{ __LINE__, S("\r\n\r\n"), NULL, 0, NULL, "CRLF blank lines" },
	{ __LINE__, S("# a comment\n"), NULL, 0, NULL, "a comment" },
	{ __LINE__, S("#\n#workers = 999\n"), NULL, 0, NULL, "a commented-out key" },
	{ __LINE__, S("   # indented comment\n\t# tab-indented\n"), NULL, 0, NULL,
	  "indented comments" },
	{ __LINE__, S("# = = = no key here\n"), NULL, 0, NULL, "a comment with '='" },
	{ __LINE__, S("# caf\xc3\xa9 = yes\n"), NULL, 0, NULL,
	  "a comment with UTF-8" },
	{ __LINE__, S("# only a comment, no newline"), NULL, 0, NULL, "no final newline" },

	{ __LINE__, S("workers = 8\n"), "workers", 8, NULL, "workers" },
	{ __LINE__, S("workers=8"), "workers", 8, NULL, "no spaces, no final newline" },
	{ __LINE__, S("  workers  =  8  \n"), "workers", 8, NULL, "spaces around key and value" },
	{ __LINE__, S("\tworkers\t=\t8\t\n"), "workers", 8, NULL, "tabs around key and value" },
	{ __LINE__, S("workers = 8\r\n"), "workers", 8, NULL, "CRLF line end" },
	{ __LINE__, S("# c\r\n\r\nworkers = 8\r\n# d\r\n"), "workers", 8, NULL,
	  "CRLF throughout" },
	{ __LINE__, S("workers = 1"), "workers", 1, NULL, "workers at its minimum" },
	{ __LINE__, S("workers = 256"), "workers", 256, NULL, "workers at its maximum" },
	{ __LINE__, S("workers = 0008"), "workers", 8, NULL, "leading zeros" },
	{ __LINE__, S("threads = 1"), "threads", 1, NULL, "one thread per worker" },
	{ __LINE__, S("threads = 64"), "threads", 64, NULL, "the most threads" },
	{ __LINE__, S("max_requests = 0"), "max_requests", 0, NULL, "0 = never recycle" },
	{ __LINE__, S("max_requests = 1000000000"), "max_requests", 1000000000, NULL,
	  "max_requests at its maximum" },
	{ __LINE__, S("durability = sync"), "durability", CONFIG_DURABILITY_SYNC, NULL, "sync" },
	{ __LINE__, S("durability = write"), "durability", CONFIG_DURABILITY_WRITE, NULL, "write" },
	{ __LINE__, S("durability = none"), "durability", CONFIG_DURABILITY_WRITE, NULL, "write" },
	{ __LINE__, S("durability = reserve"), "durability", CONFIG_DURABILITY_RESERVE, NULL, "reserve" },
	{ __LINE__, S("lock_timeout_ms = 1"), "lock_timeout_ms", 1, NULL, "lock timeout minimum" },
	{ __LINE__, S("lock_timeout_ms = 60000"), "lock_timeout_ms", 60000, NULL,
	  "lock timeout maximum" },
	{ __LINE__, S("shutdown_timeout_s = 3600"), "shutdown_timeout_s", 3600, NULL,
	  "shutdown timeout maximum" },
	{ __LINE__, S("log_level = debug"), "log_level", LOG_DEBUG, NULL, "debug" },
	{ __LINE__, S("log_level = info"), "log_level", LOG_INFO, NULL, "info" },
	{ __LINE__, S("log_level = warn"), "log_level", LOG_WARN, NULL, "warn" },
	{ __LINE__, S("log_level = error"), "log_level", LOG_ERROR, NULL, "error" },
	{ __LINE__, S("default_start = 9223372036854775807"), "default_start", INT64_MAX, NULL,
	  "default_start at INT64_MAX" },
	{ __LINE__, S("checkpoint_interval_s = 86400"), "checkpoint_interval_s", 86400, NULL,
	  "checkpoint interval maximum" },
	{ __LINE__, S("data_dir = /srv/nextid\n"), "data_dir", 0, "/srv/nextid", "data_dir" },
	{ __LINE__, S("grpc_tls_cert = /etc/nextid/grpc.crt\n"), "grpc_tls_cert", 0,
	  "/etc/nextid/grpc.crt", "grpc_tls_cert" },
	{ __LINE__, S("grpc_tls_key = /etc/nextid/grpc.key\n"), "grpc_tls_key", 0,
	  "/etc/nextid/grpc.key", "grpc_tls_key" },
	{ __LINE__, S("data_dir = /\n"), "data_dir", 0, "/", "the root as data_dir" },
	{ __LINE__, S("data_dir =   /a b/c  \r\n"), "data_dir", 0, "/a b/c",
	  "inner spaces stay, outer spaces and CR go" },
	{ __LINE__, S("data_dir = /d/\xc3\xa9t\xc3\xa9\n"), "data_dir", 0, "/d/\xc3\xa9t\xc3\xa9",
	  "a UTF-8 path" },
	{ __LINE__, S("socket = /tmp/nextid.sock"), "socket", 0, "/tmp/nextid.sock",
	  "a unix socket" },
	{ __LINE__, S("socket = 127.0.0.1:9000"), "socket", 0, "127.0.0.1:9000", "HOST:PORT" },
	{ __LINE__, S("socket = a=b"), "socket", 0, "a=b", "the first '=' splits key and value" },
	{ __LINE__, S("\n\n# c\n\nworkers = 3\n\n"), "workers", 3, NULL,
	  "a key between blank and comment lines" },
};

START_TEST(test_ok)
{
	const struct ok_row *row = &ok_rows[_i];
	struct config got, want;
	char err[CONFIG_ERR_MAX] = "", diff[256];
	const char *d;
	int rc;

	config_defaults(&got);
	config_defaults(&want);
	if (row->key) {
		char *s;
		int64_t *n;

		ck_assert_msg(field(&want, row->key, &s, &n) == 0, "line %d: bad row", row->line);
		if (s)
			snprintf(s, CONFIG_PATH_MAX, "%s", row->str);
		else
			*n = row->num;
	}
	rc = config_parse(row->text, row->len, FILE_NAME, &got, err, sizeof(err));
	ck_assert_msg(rc == 0, "line %d: %s: refused: %s", row->line, row->desc, err);
	d = config_diff(&got, &want, diff, sizeof(diff));
	ck_assert_msg(d == NULL, "line %d: %s: %s", row->line, row->desc, d);
}
END_TEST

struct err_row {
	int line;
	const char *text;
	size_t len;
	const char *err; /* the whole message */
	const char *desc;
};

static const struct err_row err_rows[] = {
	{ __LINE__, S("color = blue\n"), FILE_NAME ":1: unknown key 'color'", "unknown key" },
	{ __LINE__, S("# c\n\nWorkers = 4\n"), FILE_NAME ":3: unknown key 'Workers'",
	  "keys are case-sensitive; the line counts comments and blanks" },
	{ __LINE__, S("work ers = 4"), FILE_NAME ":1: unknown key 'work ers'",
	  "a space inside a key" },
	{ __LINE__, S("workers = 4\r\nworkers = 5\r\n"),
	  FILE_NAME ":2: key 'workers' is set twice", "repeated key" },
	{ __LINE__, S("workers = 4\n# x\nworkers = 4\n"),
	  FILE_NAME ":3: key 'workers' is set twice", "repeated key with the same value" },
	{ __LINE__, S("workers 4\n"), FILE_NAME ":1: expected 'key = value'", "missing '='" },
	{ __LINE__, S("workers\n"), FILE_NAME ":1: expected 'key = value'", "a lone key" },
	{ __LINE__, S("; an ini comment\n"), FILE_NAME ":1: expected 'key = value'",
	  "';' does not start a comment" },
	{ __LINE__, S("= 4\n"), FILE_NAME ":1: missing key before '='", "missing key" },
	{ __LINE__, S("  \t= 4\n"), FILE_NAME ":1: missing key before '='",
	  "missing key after blanks" },
	{ __LINE__, S("workers =\n"), FILE_NAME ":1: key 'workers' has no value", "empty value" },
	{ __LINE__, S("workers = \t \r\n"), FILE_NAME ":1: key 'workers' has no value",
	  "a value of blanks" },
	{ __LINE__, S("workers = 0"), FILE_NAME ":1: workers: '0' is too small (allowed: 1 to 256)",
	  "workers below its range" },
	{ __LINE__, S("workers = 257"),
	  FILE_NAME ":1: workers: '257' is too large (allowed: 1 to 256)",
	  "workers above its range" },
	{ __LINE__, S("threads = 0"), FILE_NAME ":1: threads: '0' is too small (allowed: 1 to 64)",
	  "threads below its range" },
	{ __LINE__, S("threads = 65"), FILE_NAME ":1: threads: '65' is too large (allowed: 1 to 64)",
	  "threads above its range" },
	{ __LINE__, S("workers = 99999999999999999999"),
	  FILE_NAME ":1: workers: '99999999999999999999' is too large (allowed: 1 to 256)",
	  "workers past 64 bits" },
	{ __LINE__, S("workers = -1"),
	  FILE_NAME ":1: workers: '-1' is not a number (allowed: 1 to 256)",
	  "no sign where the range is positive" },
	{ __LINE__, S("workers = four"),
	  FILE_NAME ":1: workers: 'four' is not a number (allowed: 1 to 256)", "non-number" },
	{ __LINE__, S("workers = 4 # four"),
	  FILE_NAME ":1: workers: '4 # four' is not a number (allowed: 1 to 256)",
	  "no inline comments" },
	{ __LINE__, S("workers = 1e3"),
	  FILE_NAME ":1: workers: '1e3' is not a number (allowed: 1 to 256)", "exponent" },
	{ __LINE__, S("workers = 0x10"),
	  FILE_NAME ":1: workers: '0x10' is not a number (allowed: 1 to 256)", "hex" },
	{ __LINE__, S("workers = +4"),
	  FILE_NAME ":1: workers: '+4' is not a number (allowed: 1 to 256)", "plus sign" },
	{ __LINE__, S("workers == 4"),
	  FILE_NAME ":1: workers: '= 4' is not a number (allowed: 1 to 256)", "double '='" },
	{ __LINE__, S("max_requests = 1000000001"),
	  FILE_NAME ":1: max_requests: '1000000001' is too large (allowed: 0 to 1000000000)",
	  "max_requests above its range" },
	{ __LINE__, S("lock_timeout_ms = 0"),
	  FILE_NAME ":1: lock_timeout_ms: '0' is too small (allowed: 1 to 60000)",
	  "lock timeout of zero" },
	{ __LINE__, S("shutdown_timeout_s = 3601"),
	  FILE_NAME ":1: shutdown_timeout_s: '3601' is too large (allowed: 1 to 3600)",
	  "shutdown timeout above its range" },
	{ __LINE__, S("default_start = 0"),
	  FILE_NAME ":1: default_start: '0' is too small (allowed: 1 to 9223372036854775807)",
	  "default_start of zero" },
	{ __LINE__, S("default_start = 9223372036854775808"),
	  FILE_NAME ":1: default_start: '9223372036854775808' is too large"
	            " (allowed: 1 to 9223372036854775807)",
	  "default_start past INT64_MAX" },
	{ __LINE__, S("checkpoint_interval_s = 86401"),
	  FILE_NAME ":1: checkpoint_interval_s: '86401' is too large (allowed: 1 to 86400)",
	  "checkpoint interval above its range" },
	{ __LINE__, S("durability = fast"),
	  FILE_NAME ":1: durability: 'fast' is not one of the allowed words"
	            " (allowed: sync, write, reserve)",
	  "bad word" },
	{ __LINE__, S("durability = SYNC"),
	  FILE_NAME ":1: durability: 'SYNC' is not one of the allowed words"
	            " (allowed: sync, write, reserve)",
	  "words are case-sensitive" },
	{ __LINE__, S("durability = syncs"),
	  FILE_NAME ":1: durability: 'syncs' is not one of the allowed words"
	            " (allowed: sync, write, reserve)",
	  "a word with a suffix" },
	{ __LINE__, S("durability = syn"),
	  FILE_NAME ":1: durability: 'syn' is not one of the allowed words"
	            " (allowed: sync, write, reserve)",
	  "a prefix of a word" },
	{ __LINE__, S("durability = 0"),
	  FILE_NAME ":1: durability: '0' is not one of the allowed words"
	            " (allowed: sync, write, reserve)",
	  "a word's index is not the word" },
	{ __LINE__, S("log_level = verbose"),
	  FILE_NAME ":1: log_level: 'verbose' is not one of the allowed words"
	            " (allowed: debug, info, warn, error)",
	  "bad log level" },
	{ __LINE__, S("grpc_tls_key = grpc.key"),
	  FILE_NAME ":1: grpc_tls_key: 'grpc.key' must be an absolute path", "relative key file" },
	{ __LINE__, S("data_dir = var/lib/nextid"),
	  FILE_NAME ":1: data_dir: 'var/lib/nextid' must be an absolute path", "relative data_dir" },
	{ __LINE__, S("data_dir = ./nextid"),
	  FILE_NAME ":1: data_dir: './nextid' must be an absolute path", "dot-relative data_dir" },
	{ __LINE__, S("data_dir = ~/nextid"),
	  FILE_NAME ":1: data_dir: '~/nextid' must be an absolute path", "no tilde expansion" },
	{ __LINE__, S("\0"), FILE_NAME ":1: the file contains a NUL byte", "a lone NUL byte" },
	{ __LINE__, S("workers = 4\0\n"), FILE_NAME ":1: the file contains a NUL byte",
	  "a NUL byte at the end of line 1" },
	{ __LINE__, S("# one\n# two\nworkers = \0" "4\n"),
	  FILE_NAME ":3: the file contains a NUL byte",
	  "a NUL byte is reported on the line that holds it" },
	{ __LINE__, S("workers = 4\nworkers = 5\nfoo = 1\n"),
	  FILE_NAME ":2: key 'workers' is set twice", "the first error stops the parse" },
};

START_TEST(test_err)
{
	const struct err_row *row = &err_rows[_i];
	struct config cfg;
	char err[CONFIG_ERR_MAX], shown[256];
	int rc;

	memset(err, 'x', sizeof(err));
	config_defaults(&cfg);
	rc = config_parse(row->text, row->len, FILE_NAME, &cfg, err, sizeof(err));
	ck_assert_msg(rc == -1, "line %d: %s: accepted \"%s\"", row->line, row->desc,
	              unit_show(row->text, row->len, shown, sizeof(shown)));
	ck_assert_msg(memchr(err, '\0', sizeof(err)) != NULL, "line %d: %s: err not terminated",
	              row->line, row->desc);
	ck_assert_msg(strcmp(err, row->err) == 0, "line %d: %s: error \"%s\", want \"%s\"",
	              row->line, row->desc, err, row->err);
}
END_TEST

/* Texts too long to write out: prefix + count x fill + suffix. */
struct long_row {
	int line;
	const char *prefix;
	char fill;
	size_t count;
	const char *suffix;
	const char *err_start; /* NULL: accepted */
	const char *err_end;
	const char *desc;
};

static const struct long_row long_rows[] = {
	{ __LINE__, "#", 'a', 4095, "\n", NULL, NULL, "a comment line of exactly 4096 bytes" },
	{ __LINE__, "#", 'a', 4096, "\n", FILE_NAME ":1: line is longer than 4096 bytes", "",
	  "a comment line of 4097 bytes" },
	{ __LINE__, "workers = 4\n#", 'a', 5000, "", FILE_NAME ":2: line is longer than 4096 bytes",
	  "", "an overlong last line without a newline" },
	{ __LINE__, "workers = ", '0', 4096 - 11, "7", NULL, NULL,
	  "a 4096-byte line of leading zeros is a number" },
	{ __LINE__, "data_dir = /", 'd', 1022, "", NULL, NULL, "a data_dir of 1023 bytes" },
	{ __LINE__, "data_dir = /", 'd', 1023, "", FILE_NAME ":1: data_dir: '/ddd",
	  "ddd' is too long", "a data_dir of 1024 bytes" },
	{ __LINE__, "socket = /", 's', 2000, "\n", FILE_NAME ":1: socket: '/sss",
	  "sss' is too long", "a socket of 2001 bytes" },
	{ __LINE__, "", '\n', 100000, "workers = x",
	  FILE_NAME ":100001: workers: 'x' is not a number", " (allowed: 1 to 256)",
	  "line numbers count past 65535" },
};

START_TEST(test_long)
{
	const struct long_row *row = &long_rows[_i];
	size_t plen = strlen(row->prefix), slen = strlen(row->suffix);
	size_t len = plen + row->count + slen;
	char *text = malloc(len);
	char err[CONFIG_ERR_MAX] = "";
	struct config cfg;
	int rc;

	ck_assert_ptr_nonnull(text);
	memcpy(text, row->prefix, plen);
	memset(text + plen, row->fill, row->count);
	memcpy(text + plen + row->count, row->suffix, slen);
	config_defaults(&cfg);
	rc = config_parse(text, len, FILE_NAME, &cfg, err, sizeof(err));
	free(text);
	if (!row->err_start) {
		ck_assert_msg(rc == 0, "line %d: %s: refused: %s", row->line, row->desc, err);
		return;
	}
	ck_assert_msg(rc == -1, "line %d: %s: accepted", row->line, row->desc);
	ck_assert_msg(strncmp(err, row->err_start, strlen(row->err_start)) == 0,
	              "line %d: %s: error \"%s\", want it to start \"%s\"", row->line, row->desc, err,
	              row->err_start);
	ck_assert_msg(strlen(err) >= strlen(row->err_end) &&
	                      strcmp(err + strlen(err) - strlen(row->err_end), row->err_end) == 0,
	              "line %d: %s: error \"%s\", want it to end \"%s\"", row->line, row->desc, err,
	              row->err_end);
	/* A long value is quoted shortened, so the message stays one readable line. */
	ck_assert_msg(strlen(err) < 200, "line %d: %s: a %zu-byte message", row->line, row->desc,
	              strlen(err));
}
END_TEST

/* The whole file with every key set, in a different order than config.h lists them. */
START_TEST(test_every_key)
{
	static const char text[] =
		"# every key\r\n"
		"checkpoint_interval_s = 30\n"
		"default_start = 1000\n"
		"log_level = warn\n"
		"shutdown_timeout_s = 20\n"
		"lock_timeout_ms = 250\n"
		"durability = write\n"
		"max_requests = 0\n"
		"workers = 16\n"
		"socket = 127.0.0.1:9000\n"
		"data_dir = /tmp/nextid-data\n";
	struct config cfg;
	char err[CONFIG_ERR_MAX] = "";

	memset(&cfg, 0x5a, sizeof(cfg));
	config_defaults(&cfg);
	ck_assert_msg(config_parse(text, sizeof(text) - 1, FILE_NAME, &cfg, err, sizeof(err)) == 0,
	              "refused: %s", err);
	ck_assert_str_eq(cfg.data_dir, "/tmp/nextid-data");
	ck_assert_str_eq(cfg.socket, "127.0.0.1:9000");
	ck_assert_int_eq(cfg.workers, 16);
	ck_assert_int_eq(cfg.max_requests, 0);
	ck_assert_int_eq(cfg.durability, CONFIG_DURABILITY_WRITE);
	ck_assert_int_eq(cfg.lock_timeout_ms, 250);
	ck_assert_int_eq(cfg.shutdown_timeout_s, 20);
	ck_assert_int_eq(cfg.log_level, LOG_WARN);
	ck_assert_int_eq(cfg.default_start, 1000);
	ck_assert_int_eq(cfg.checkpoint_interval_s, 30);
}
END_TEST

/* The replication keys: defaults, a whole group's worth, and what is refused with its message. */
START_TEST(test_replication_keys)
{
	static const char text[] =
		"replication_address = node1.example:9081\n"
		"replication_peers = 10.0.0.2:9082, [::1]:9083\t10.0.0.4:9084\n"
		"replication_priority = 0\n"
		"replication_ack_policy = all\n"
		"replication_ack_timeout_ms = 250\n"
		"replication_election_timeout_ms = 500\n"
		"replication_heartbeat_ms = 100\n"
		"replication_group_creator = yes\n";
	struct config cfg;
	char err[CONFIG_ERR_MAX] = "";

	config_defaults(&cfg);
	ck_assert_str_eq(cfg.replication_address, "");
	ck_assert_int_eq(cfg.replication_peer_count, 0);
	ck_assert_int_eq(cfg.replication_priority, 100);
	ck_assert_int_eq(cfg.replication_ack_policy, CONFIG_ACK_QUORUM);
	ck_assert_int_eq(cfg.replication_ack_timeout_ms, 1000);
	ck_assert_int_eq(cfg.replication_election_timeout_ms, 1000);
	ck_assert_int_eq(cfg.replication_heartbeat_ms, 300);
	ck_assert_int_eq(cfg.replication_group_creator, 0);
	ck_assert_msg(config_parse(text, sizeof(text) - 1, FILE_NAME, &cfg, err, sizeof(err)) == 0,
	              "refused: %s", err);
	ck_assert_str_eq(cfg.replication_address, "node1.example:9081");
	ck_assert_int_eq(cfg.replication_peer_count, 3);
	ck_assert_str_eq(cfg.replication_peers[0], "10.0.0.2:9082");
	ck_assert_str_eq(cfg.replication_peers[1], "[::1]:9083");
	ck_assert_str_eq(cfg.replication_peers[2], "10.0.0.4:9084");
	ck_assert_int_eq(cfg.replication_priority, 0);
	ck_assert_int_eq(cfg.replication_ack_policy, CONFIG_ACK_ALL);
	ck_assert_int_eq(cfg.replication_ack_timeout_ms, 250);
	ck_assert_int_eq(cfg.replication_election_timeout_ms, 500);
	ck_assert_int_eq(cfg.replication_heartbeat_ms, 100);
	ck_assert_int_eq(cfg.replication_group_creator, 1);
}
END_TEST

struct repl_err_row {
	int line;
	const char *text;
	size_t len;
	const char *err;
};

static const struct repl_err_row repl_err_rows[] = {
	{ __LINE__, S("replication_address = node1"),
	  FILE_NAME ":1: replication_address: 'node1' is not HOST:PORT" },
	{ __LINE__, S("replication_address = node1:0"),
	  FILE_NAME ":1: replication_address: 'node1:0' has no port from 1 to 65535" },
	{ __LINE__, S("replication_address = node1:65536"),
	  FILE_NAME ":1: replication_address: 'node1:65536' has no port from 1 to 65535" },
	{ __LINE__, S("replication_address = :9000"),
	  FILE_NAME ":1: replication_address: ':9000' is not HOST:PORT" },
	{ __LINE__, S("replication_address = a/b:9000"),
	  FILE_NAME ":1: replication_address: 'a/b:9000' is not HOST:PORT" },
	{ __LINE__, S("replication_address = [::1:9000"),
	  FILE_NAME ":1: replication_address: '[::1:9000' is not HOST:PORT" },
	{ __LINE__, S("replication_address = h:9000\nreplication_peers = h:9001 x\n"),
	  FILE_NAME ":2: replication_peers: 'h:9001 x' is not HOST:PORT" },
	{ __LINE__, S("replication_address = h:9000\nreplication_peers = "
	              "h:1 h:2 h:3 h:4 h:5 h:6 h:7 h:8 h:9 h:10 h:11 h:12 h:13 h:14 h:15 h:16 h:17"),
	  FILE_NAME ":2: replication_peers: 'h:1 h:2 h:3 h:4 h:5 h:6 h:7 h:8 h:9 h:10 h:11 h:12 h:13 "
	  "h:14 h:1' names more than 16 members" },
	{ __LINE__, S("replication_peers = h:9001"),
	  FILE_NAME ":1: replication_peers needs replication_address" },
	{ __LINE__, S("replication_address = h:9000\nreplication_peers = h:9000"),
	  FILE_NAME ":2: replication_peers names this node's own replication_address" },
	{ __LINE__, S("replication_address = h:9000\ndurability = reserve"),
	  FILE_NAME ":2: durability reserve cannot be replicated: use sync or write" },
	{ __LINE__, S("replication_address = h:9000\nprocess_model = fcgid"),
	  FILE_NAME ":2: replication needs process_model pool" },
	{ __LINE__, S("replication_ack_policy = most"),
	  FILE_NAME ":1: replication_ack_policy: 'most' is not one of the allowed words "
	  "(allowed: quorum, all, one, none)" },
	{ __LINE__, S("replication_ack_timeout_ms = 5"),
	  FILE_NAME ":1: replication_ack_timeout_ms: '5' is too small (allowed: 10 to 60000)" },
};

START_TEST(test_replication_err)
{
	const struct repl_err_row *row = &repl_err_rows[_i];
	struct config cfg;
	char err[CONFIG_ERR_MAX] = "";

	config_defaults(&cfg);
	ck_assert_msg(config_parse(row->text, row->len, FILE_NAME, &cfg, err, sizeof(err)) == -1,
	              "line %d: accepted", row->line);
	ck_assert_msg(strcmp(err, row->err) == 0, "line %d: \"%s\", want \"%s\"", row->line, err,
	              row->err);
}
END_TEST

/* A short err buffer holds a truncated, NUL-terminated message; never a byte past errlen. */
START_TEST(test_err_truncated)
{
	static const char text[] = "color = blue\n";
	static const char full[] = FILE_NAME ":1: unknown key 'color'";
	static const size_t lens[] = { 1, 2, 5, 14, 15, 16, 20, sizeof(full) - 1, sizeof(full) };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char err[64];
		struct config cfg;

		memset(err, '#', sizeof(err));
		config_defaults(&cfg);
		ck_assert_int_eq(config_parse(text, sizeof(text) - 1, FILE_NAME, &cfg, err, lens[i]),
		                 -1);
		ck_assert_msg(strlen(err) == lens[i] - 1 && memcmp(err, full, lens[i] - 1) == 0,
		              "errlen %zu: got \"%s\"", lens[i], err);
		ck_assert_msg(err[lens[i]] == '#', "errlen %zu: wrote past the buffer", lens[i]);
	}
}
END_TEST

struct name_row {
	int line;
	int64_t value;
	const char *name;
	const char *desc;
};

static const struct name_row durability_rows[] = {
	{ __LINE__, CONFIG_DURABILITY_SYNC, "sync", "sync" },
	{ __LINE__, CONFIG_DURABILITY_WRITE, "write", "write" },
	{ __LINE__, CONFIG_DURABILITY_RESERVE, "reserve", "reserve" },
	{ __LINE__, 3, "?", "one past the last" },
	{ __LINE__, -1, "?", "negative" },
	{ __LINE__, INT64_MAX, "?", "INT64_MAX" },
	{ __LINE__, INT64_MIN, "?", "INT64_MIN" },
};

START_TEST(test_durability_name)
{
	const struct name_row *row = &durability_rows[_i];
	const char *got = config_durability_name(row->value);

	ck_assert_msg(got && strcmp(got, row->name) == 0, "line %d: %s: got \"%s\", want \"%s\"",
	              row->line, row->desc, got ? got : "(null)", row->name);
}
END_TEST

/* config_format_time: a time as generator_epoch is written, which parses back to its second. */
struct time_row {
	int line;
	int64_t ms;
	const char *text;
	const char *desc;
};

static const struct time_row time_rows[] = {
	{ __LINE__, 0, "1970-01-01T00:00:00Z", "the unix epoch" },
	{ __LINE__, INT64_C(1640995200000), "2022-01-01T00:00:00Z", "the default generator_epoch" },
	{ __LINE__, INT64_C(1640995200999), "2022-01-01T00:00:00Z", "the millisecond is dropped" },
	{ __LINE__, INT64_C(1640995199999), "2021-12-31T23:59:59Z", "a millisecond before" },
	{ __LINE__, INT64_C(1709164800000), "2024-02-29T00:00:00Z", "a leap day" },
	{ __LINE__, INT64_C(4102444799000), "2099-12-31T23:59:59Z", "the last second the file takes" },
	{ __LINE__, -1, "1969-12-31T23:59:59Z", "before 1970: floored, not truncated" },
	{ __LINE__, -1000, "1969-12-31T23:59:59Z", "a second before 1970" },
};

START_TEST(test_format_time)
{
	const struct time_row *row = &time_rows[_i];
	char got[CONFIG_TIME_MAX], text[64], err[CONFIG_ERR_MAX];
	struct config cfg;

	memset(got, 'x', sizeof(got));
	config_format_time(row->ms, got, sizeof(got));
	ck_assert_msg(strcmp(got, row->text) == 0, "line %d: %s: \"%s\", want \"%s\"", row->line,
	              row->desc, got, row->text);
	if (row->ms < 0)
		return; /* the file takes 1970 to 2099 */
	snprintf(text, sizeof(text), "generator_epoch = %s\n", got);
	config_defaults(&cfg);
	ck_assert_msg(config_parse(text, strlen(text), "t", &cfg, err, sizeof(err)) == 0,
	              "line %d: %s: %s", row->line, row->desc, err);
	ck_assert_msg(cfg.generator_epoch_ms == row->ms - row->ms % 1000,
	              "line %d: %s: parsed back as %" PRId64, row->line, row->desc,
	              cfg.generator_epoch_ms);
}
END_TEST

/* Write len bytes to a new file under dir; returns its path in buf. */
static const char *write_file(const char *dir, const char *name, const void *data, size_t len,
                              char *buf, size_t cap)
{
	int fd;

	snprintf(buf, cap, "%s/%s", dir, name);
	fd = open(buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "open %s: %s", buf, strerror(errno));
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)data + done, len - done);

		ck_assert_msg(n > 0, "write %s: %s", buf, strerror(errno));
		done += (size_t)n;
	}
	close(fd);
	return buf;
}

/* config_load: the same answers as config_parse, named by path, plus the file's own failures. */
START_TEST(test_load)
{
	char dir[] = "/tmp/nextid-test-config-XXXXXX";
	char path[256], err[CONFIG_ERR_MAX], want[512];
	struct config cfg;
	const size_t big = 1024 * 1024 + 1;
	char *text;

	ck_assert_ptr_nonnull(mkdtemp(dir));

	/* Starts from the defaults, whatever was in *cfg. */
	memset(&cfg, 0x5a, sizeof(cfg));
	write_file(dir, "ok.conf", "workers = 7\n", 12, path, sizeof(path));
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "refused: %s", err);
	ck_assert_int_eq(cfg.workers, 7);
	ck_assert_str_eq(cfg.data_dir, "/var/lib/nextid");
	ck_assert_int_eq(cfg.checkpoint_interval_s, 60);
	unlink(path);

	write_file(dir, "empty.conf", "", 0, path, sizeof(path));
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "refused: %s", err);
	ck_assert_int_eq(cfg.workers, 4);
	unlink(path);

	write_file(dir, "bad.conf", "\nworkers = 0\n", 13, path, sizeof(path));
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: workers: '0' is too small (allowed: 1 to 256)", path);
	ck_assert_str_eq(err, want);
	unlink(path);

	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
	ck_assert_str_eq(err, want);

	/* One byte over the 1 MiB bound, all of it blank lines that would otherwise parse. */
	text = malloc(big);
	ck_assert_ptr_nonnull(text);
	memset(text, '\n', big);
	write_file(dir, "big.conf", text, big, path, sizeof(path));
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes", path);
	ck_assert_str_eq(err, want);
	unlink(path);

	/* Exactly 1 MiB is fine. */
	write_file(dir, "max.conf", text, big - 1, path, sizeof(path));
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "refused: %s", err);
	unlink(path);
	free(text);

	/* A directory is not a config file. */
	ck_assert_int_eq(config_load(dir, &cfg, err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, dir, strlen(dir)) == 0, "error \"%s\" does not name the path",
	              err);

	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("config");
	TCase *tc = tcase_create("tables");

	tcase_add_test(tc, test_defaults);
	UNIT_TABLE(tc, test_ok, ok_rows);
	UNIT_TABLE(tc, test_err, err_rows);
	UNIT_TABLE(tc, test_long, long_rows);
	tcase_add_test(tc, test_every_key);
	tcase_add_test(tc, test_err_truncated);
	tcase_add_test(tc, test_replication_keys);
	UNIT_TABLE(tc, test_replication_err, repl_err_rows);
	UNIT_TABLE(tc, test_durability_name, durability_rows);
	UNIT_TABLE(tc, test_format_time, time_rows);
	tcase_add_test(tc, test_load);
	suite_add_tcase(suite, tc);
	return unit_run(suite);
}
