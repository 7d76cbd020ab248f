/*
 * config: a table-driven parser for "key = value" files. Each row names a key, where its value
 * lives in struct config and how to check it; numbers go through numparse, words through a list
 * of allowed spellings. Reading a file is bounded (1 MiB, 4 KiB per line) and refuses NUL bytes.
 */
#include "config.h"
#include "address.h"
#include "log.h"
#include "numparse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_LINE_MAX 4096

enum key_kind { KEY_PATH, KEY_SOCKET, KEY_NUMBER, KEY_WORD, KEY_SECRET, KEY_TIME, KEY_ADDRESS,
	        KEY_PEERS };

struct key_row {
	const char *name;
	enum key_kind kind;
	size_t offset;
	int64_t lo, hi;            /* KEY_NUMBER */
	const char *const *words;  /* KEY_WORD: index in this list is the stored value */
};

static const char *const durability_words[] = { "sync", "write", "reserve", NULL };
static const char *const log_level_words[] = { "debug", "info", "warn", "error", NULL };
static const char *const process_model_words[] = { "pool", "fcgid", NULL };
static const char *const yes_no_words[] = { "no", "yes", NULL };
static const char *const ack_policy_words[] = { "quorum", "all", "one", "none", NULL };

#define ROW_NUM(key, lo, hi) { #key, KEY_NUMBER, offsetof(struct config, key), lo, hi, NULL }
#define ROW_WORD(key, list) { #key, KEY_WORD, offsetof(struct config, key), 0, 0, list }

static const struct key_row key_table[] = {
	{ "data_dir", KEY_PATH, offsetof(struct config, data_dir), 0, 0, NULL },
	{ "socket", KEY_SOCKET, offsetof(struct config, socket), 0, 0, NULL },
	ROW_NUM(workers, 1, 256),
	ROW_NUM(threads, 1, CONFIG_THREADS_MAX),
	ROW_NUM(max_requests, 0, 1000000000),
	ROW_WORD(durability, durability_words),
	ROW_NUM(lock_timeout_ms, 1, 60000),
	ROW_NUM(shutdown_timeout_s, 1, 3600),
	ROW_WORD(log_level, log_level_words),
	ROW_NUM(default_start, 1, INT64_MAX),
	ROW_NUM(checkpoint_interval_s, 1, 86400),
	{ "admin_token", KEY_SECRET, offsetof(struct config, admin_token), 0, 0, NULL },
	ROW_NUM(shard_id, 1, 65535),
	{ "generator_epoch", KEY_TIME, offsetof(struct config, generator_epoch_ms), 0, 0, NULL },
	ROW_NUM(clock_tolerance_ms, 0, 60000),
	ROW_NUM(request_timeout_s, 1, 3600),
	ROW_WORD(process_model, process_model_words),
	ROW_NUM(reserve_size, 1, 1000000),
	ROW_NUM(max_sequences, 0, INT64_MAX),
	ROW_WORD(create_on_first_use, yes_no_words),
	{ "grpc_tls_cert", KEY_PATH, offsetof(struct config, grpc_tls_cert), 0, 0, NULL },
	{ "grpc_tls_key", KEY_PATH, offsetof(struct config, grpc_tls_key), 0, 0, NULL },
	{ "replication_address", KEY_ADDRESS, offsetof(struct config, replication_address), 0, 0,
	  NULL },
	{ "replication_peers", KEY_PEERS, offsetof(struct config, replication_peers), 0, 0, NULL },
	ROW_NUM(replication_priority, 0, 1000000),
	ROW_WORD(replication_ack_policy, ack_policy_words),
	ROW_NUM(replication_ack_timeout_ms, 10, 60000),
	ROW_NUM(replication_election_timeout_ms, 100, 60000),
	ROW_NUM(replication_heartbeat_ms, 50, 60000),
	ROW_WORD(replication_group_creator, yes_no_words),
};

#define KEY_COUNT (sizeof(key_table) / sizeof(key_table[0]))

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->data_dir, "/var/lib/nextid");
	strcpy(cfg->socket, "/run/nextid/fcgi.sock");
	cfg->workers = 4;
	cfg->threads = 8;
	cfg->max_requests = 10000;
	cfg->durability = CONFIG_DURABILITY_SYNC;
	cfg->lock_timeout_ms = 500;
	cfg->shutdown_timeout_s = 10;
	cfg->log_level = LOG_INFO;
	cfg->default_start = 1;
	cfg->checkpoint_interval_s = 60;
	cfg->generator_epoch_ms = 1640995200000LL; /* 2022-01-01T00:00:00Z */
	cfg->clock_tolerance_ms = 1000;
	cfg->request_timeout_s = 10;
	cfg->reserve_size = 100;
	cfg->max_sequences = CONFIG_MAX_SEQUENCES_DEFAULT;
	cfg->create_on_first_use = 1;
	cfg->replication_priority = 100;
	cfg->replication_ack_policy = CONFIG_ACK_QUORUM;
	cfg->replication_ack_timeout_ms = 1000;
	cfg->replication_election_timeout_ms = 1000;
	cfg->replication_heartbeat_ms = 300;
}

/* One HOST:PORT, checked, into field (CONFIG_ADDRESS_MAX bytes). */
static int set_address(char *field, const char *v, size_t len, const char **why)
{
	char host[ADDRESS_MAX];
	unsigned port;

	if (len >= CONFIG_ADDRESS_MAX) {
		*why = "is too long";
		return -1;
	}
	if (address_split(v, len, host, sizeof(host), &port, why) != 0)
		return -1;
	memcpy(field, v, len);
	field[len] = '\0';
	return 0;
}

/* replication_peers: HOST:PORT words separated by spaces or commas. */
static int set_peers(struct config *cfg, const char *v, size_t len, const char **why)
{
	size_t i = 0;

	cfg->replication_peer_count = 0;
	while (i < len) {
		size_t start;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && v[i] != ' ' && v[i] != '\t' && v[i] != ',')
			i++;
		if (cfg->replication_peer_count == CONFIG_PEERS_MAX) {
			*why = "names more than 16 members";
			return -1;
		}
		if (set_address(cfg->replication_peers[cfg->replication_peer_count], v + start,
		                i - start, why) != 0)
			return -1;
		cfg->replication_peer_count++;
	}
	return 0;
}

const char *config_durability_name(int64_t durability)
{
	if (durability < 0 || durability > CONFIG_DURABILITY_RESERVE)
		return "?";
	return durability_words[durability];
}

void config_repl_keys(const struct config *cfg, struct repl_keys *out)
{
	*out = (struct repl_keys){
		.address = cfg->replication_address,
		.peers = cfg->replication_peers,
		.npeers = (size_t)cfg->replication_peer_count,
		.priority = cfg->replication_priority,
		.ack_policy = cfg->replication_ack_policy,
		.ack_timeout_ms = cfg->replication_ack_timeout_ms,
		.election_timeout_ms = cfg->replication_election_timeout_ms,
		.heartbeat_ms = cfg->replication_heartbeat_ms,
		.creator = cfg->replication_group_creator,
		.call_limit_ms = cfg->request_timeout_s * 1000,
	};
}

static int fail(char *err, size_t errlen, const char *file, size_t line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s:%zu: ", file, line);

	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && is_space(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_space((*s)[*len - 1]))
		(*len)--;
}

static const struct key_row *find_key(const char *name, size_t len)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (strlen(key_table[i].name) == len && memcmp(key_table[i].name, name, len) == 0)
			return &key_table[i];
	return NULL;
}

/* "YYYY-MM-DDTHH:MM:SSZ" (UTC, 1970 to 2099) to unix ms; anything else is refused. */
static int parse_utc_time(const char *v, size_t len, int64_t *ms, const char **why)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	int64_t part[6];
	const size_t at[6] = { 0, 5, 8, 11, 14, 17 }, width[6] = { 4, 2, 2, 2, 2, 2 };
	struct tm tm = { 0 }, back;
	time_t t;

	*why = "is not a UTC time like 2022-01-01T00:00:00Z";
	if (len != sizeof(shape) - 1)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (shape[i] == 'd' ? (v[i] < '0' || v[i] > '9') : v[i] != shape[i])
			return -1;
	for (size_t i = 0; i < 6; i++)
		if (numparse_i64(v + at[i], width[i], 0, 9999, &part[i], why) != 0)
			return -1;
	tm.tm_year = (int)part[0] - 1900;
	tm.tm_mon = (int)part[1] - 1;
	tm.tm_mday = (int)part[2];
	tm.tm_hour = (int)part[3];
	tm.tm_min = (int)part[4];
	tm.tm_sec = (int)part[5];
	t = timegm(&tm);
	/* timegm normalises 2022-02-30 into March: a round trip shows whether the date exists. */
	if (part[0] < 1970 || part[0] > 2099 || !gmtime_r(&t, &back) ||
	    back.tm_mday != (int)part[2] || back.tm_mon != (int)part[1] - 1 ||
	    back.tm_hour != (int)part[3] || back.tm_min != (int)part[4] || back.tm_sec != (int)part[5]) {
		*why = "is not a real UTC time from 1970 to 2099";
		return -1;
	}
	*ms = (int64_t)t * 1000;
	return 0;
}

/* Old spellings a key still takes, each the same as one of its words. "none" was a durability
 * of its own that behaved as "write" (the only weaker commit Berkeley DB has would re-issue numbers
 * after any crash); configs that say it keep working. */
static const struct {
	const char *key, *word, *same_as;
} aliases[] = {
	{ "durability", "none", "write" },
};

static const char *unalias(const struct key_row *row, const char *v, size_t *len)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(aliases[i].key, row->name) == 0 && strlen(aliases[i].word) == *len &&
		    memcmp(aliases[i].word, v, *len) == 0) {
			*len = strlen(aliases[i].same_as);
			return aliases[i].same_as;
		}
	return v;
}

/* Store one checked value; on failure, *why says what is wrong with it. */
static int set_value(const struct key_row *row, const char *v, size_t len, struct config *cfg,
                     const char **why)
{
	char *field = (char *)cfg + row->offset;

	switch (row->kind) {
	case KEY_PATH:
		if (v[0] != '/') {
			*why = "must be an absolute path";
			return -1;
		}
		__attribute__((fallthrough)); /* a path is then stored like a socket address */
	case KEY_SOCKET:
		if (len >= CONFIG_PATH_MAX) {
			*why = "is too long";
			return -1;
		}
		memcpy(field, v, len);
		field[len] = '\0';
		return 0;
	case KEY_SECRET:
		if (len < CONFIG_TOKEN_MIN || len > CONFIG_TOKEN_MAX) {
			*why = "must be 16 to 256 characters";
			return -1;
		}
		for (size_t i = 0; i < len; i++) {
			if (v[i] <= ' ' || v[i] > '~') {
				*why = "must be printable ASCII without spaces";
				return -1;
			}
		}
		memcpy(field, v, len);
		field[len] = '\0';
		return 0;
	case KEY_ADDRESS:
		return set_address(field, v, len, why);
	case KEY_PEERS:
		return set_peers(cfg, v, len, why);
	case KEY_TIME:
		return parse_utc_time(v, len, (int64_t *)(void *)field, why);
	case KEY_NUMBER:
		return numparse_i64(v, len, row->lo, row->hi, (int64_t *)(void *)field, why);
	case KEY_WORD:
		v = unalias(row, v, &len);
		for (int64_t i = 0; row->words[i]; i++) {
			if (strlen(row->words[i]) == len && memcmp(row->words[i], v, len) == 0) {
				*(int64_t *)(void *)field = i;
				return 0;
			}
		}
		*why = "is not one of the allowed words";
		return -1;
	}
	*why = "has an unknown kind";
	return -1;
}

static void describe_allowed(const struct key_row *row, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	if (row->kind == KEY_NUMBER) {
		snprintf(buf, len, " (allowed: %lld to %lld)", (long long)row->lo, (long long)row->hi);
		return;
	}
	if (row->kind != KEY_WORD)
		return;
	for (size_t i = 0; row->words[i] && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : " (allowed: ",
		                 row->words[i]);
		if (n < 0)
			return;
		used += (size_t)n;
	}
	if (used < len)
		snprintf(buf + used, len - used, ")");
}

static int parse_line(const char *s, size_t len, const char *file, size_t lineno,
                      struct config *cfg, size_t *seen_at, char *err, size_t errlen)
{
	const char *eq, *key = s, *value;
	size_t key_len, value_len;
	const struct key_row *row;
	const char *why = NULL;
	char allowed[160];

	trim(&key, &len);
	if (len == 0 || key[0] == '#')
		return 0;
	eq = memchr(key, '=', len);
	if (!eq)
		return fail(err, errlen, file, lineno, "expected 'key = value'");
	key_len = (size_t)(eq - key);
	value = eq + 1;
	value_len = len - key_len - 1;
	trim(&key, &key_len);
	trim(&value, &value_len);
	if (key_len == 0)
		return fail(err, errlen, file, lineno, "missing key before '='");
	row = find_key(key, key_len);
	if (!row)
		return fail(err, errlen, file, lineno, "unknown key '%.*s'", (int)key_len, key);
	if (seen_at[row - key_table])
		return fail(err, errlen, file, lineno, "key '%s' is set twice", row->name);
	seen_at[row - key_table] = lineno;
	if (value_len == 0)
		return fail(err, errlen, file, lineno, "key '%s' has no value", row->name);
	if (set_value(row, value, value_len, cfg, &why) != 0) {
		if (row->kind == KEY_SECRET) /* never echo a secret, not even a wrong one */
			return fail(err, errlen, file, lineno, "%s %s", row->name, why);
		describe_allowed(row, allowed, sizeof(allowed));
		return fail(err, errlen, file, lineno, "%s: '%.*s' %s%s", row->name,
		            (int)(value_len > 64 ? 64 : value_len), value, why, allowed);
	}
	return 0;
}

/* The line that set `key` (seen_at, from config_parse), else the line that set `other`: the
 * message of a rule about two keys names a line of the file, like every other message. */
static size_t blame(const size_t *seen_at, const char *key, const char *other)
{
	const struct key_row *a = find_key(key, strlen(key)), *b = find_key(other, strlen(other));
	size_t line = a ? seen_at[a - key_table] : 0;

	if (line == 0 && b)
		line = seen_at[b - key_table];
	return line ? line : 1;
}

/* What no single line can say wrong: keys that only make sense together. */
static int check_together(const struct config *cfg, const char *file, const size_t *seen_at,
                          char *err, size_t errlen)
{
	int replicated = cfg->replication_address[0] != '\0';

	if (!replicated && cfg->replication_peer_count > 0)
		return fail(err, errlen, file,
		            blame(seen_at, "replication_peers", "replication_address"),
		            "replication_peers needs replication_address");
	if (replicated && cfg->durability == CONFIG_DURABILITY_RESERVE)
		return fail(err, errlen, file, blame(seen_at, "durability", "replication_address"),
		            "durability reserve cannot be replicated: use sync or write");
	if (replicated && cfg->process_model == CONFIG_PROCESS_FCGID)
		return fail(err, errlen, file, blame(seen_at, "process_model", "replication_address"),
		            "replication needs process_model pool");
	for (int64_t i = 0; i < cfg->replication_peer_count; i++)
		if (strcmp(cfg->replication_peers[i], cfg->replication_address) == 0)
			return fail(err, errlen, file,
			            blame(seen_at, "replication_peers", "replication_address"),
			            "replication_peers names this node's own replication_address");
	return 0;
}

int config_parse(const char *text, size_t len, const char *file, struct config *cfg, char *err,
                 size_t errlen)
{
	size_t seen_at[KEY_COUNT] = { 0 }; /* the line that set each key, 0: not set */
	size_t lineno = 0, pos = 0;
	const char *nul = memchr(text, '\0', len);

	if (nul) {
		for (const char *p = text; p < nul; p++)
			lineno += *p == '\n';
		return fail(err, errlen, file, lineno + 1, "the file contains a NUL byte");
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - (text + pos)) : len - pos;

		lineno++;
		if (line_len > CONFIG_LINE_MAX)
			return fail(err, errlen, file, lineno, "line is longer than %d bytes",
			            CONFIG_LINE_MAX);
		if (parse_line(text + pos, line_len, file, lineno, cfg, seen_at, err, errlen) != 0)
			return -1;
		pos += line_len + 1;
	}
	return check_together(cfg, file, seen_at, err, errlen);
}

int config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int rc = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	config_defaults(cfg);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while ((n = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (len > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
		goto out;
	}
	rc = config_parse(buf, len, path, cfg, err, errlen);
out:
	free(buf);
	close(fd);
	return rc;
}

void config_format_time(int64_t ms, char *buf, size_t len)
{
	/* Floor, not truncation: a time before 1970 stays in its own second. */
	time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0));
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "(a time out of range)");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
