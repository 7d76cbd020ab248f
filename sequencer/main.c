/*
 * nextid-sequencer: the Sequencer's GETSEQ/CURRENT line protocol over TCP (API.md section 6),
 * serving one sequence of the same store as nextid-fcgi. This file reads the command line and
 * the config, checks that this process may open the store, then hands over to counter.c (the
 * sequence in the store) and server.c (the event loop).
 */
#include "config.h"
#include "counter.h"
#include "log.h"
#include "name.h"
#include "numparse.h"
#include "server.h"
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: nextid-sequencer [--sequence=NAME] [--initial=N] [--host=ADDR] [--port=N]\n"
	"                        [--max-connections=N] [--idle-timeout=S] [--config=FILE]\n"
	"Serves one sequence of the nextid store over TCP with the Sequencer's line protocol:\n"
	"GETSEQ, GETSEQ_BATCH k (1 to 10000) and CURRENT, one command a line (CRLF or LF).\n"
	"  --sequence=NAME        the sequence (default sequencer); /next/NAME shares it\n"
	"  --initial=N            its first value when it does not exist yet (default: the\n"
	"                         config's default_start); ignored once it exists\n"
	"  --host=ADDR            the address to listen on (default 127.0.0.1)\n"
	"  --port=N               the TCP port (default 10001; 0 picks a free one, logged)\n"
	"  --max-connections=N    more are answered -ERR and closed (default 1024)\n"
	"  --idle-timeout=S       close a connection silent for S seconds (default 300; 0 never)\n"
	"  --config=FILE          nextid's config (default " CONFIG_DEFAULT_PATH ")\n"
	"Each option also takes its value as the next argument (--port 10002).\n"
	"Signals: SIGTERM/SIGINT stop gracefully. Exit status: 0 stopped, 1 failed, 2 usage,\n"
	"3 a store call blocked longer than the config's request_timeout_s (start it again).\n";

struct args {
	const char *config_path;
	const char *sequence;
	const char *host;
	int64_t initial;
	int initial_given;
	int64_t port, max_connections, idle_timeout_s;
};

/* A number option in [lo, hi]. Returns 0, or -1 (printed). */
static int number_arg(const char *opt, const char *value, int64_t lo, int64_t hi, int64_t *out)
{
	const char *why;

	if (numparse_i64(value, strlen(value), INT64_MIN, INT64_MAX, out, &why) == 0) {
		if (*out >= lo && *out <= hi)
			return 0;
		why = *out < lo ? "is too small" : "is too large";
	}
	fprintf(stderr, "nextid-sequencer: %s '%s' %s (%" PRId64 " to %" PRId64 ")\n", opt, value,
	        why, lo, hi);
	return -1;
}

/* Store one option's value. Returns 0, or -1 (printed). */
static int set_option(struct args *a, const char *opt, const char *value)
{
	if (strcmp(opt, "--config") == 0) {
		a->config_path = value;
	} else if (strcmp(opt, "--sequence") == 0) {
		a->sequence = value;
	} else if (strcmp(opt, "--host") == 0) {
		a->host = value;
	} else if (strcmp(opt, "--initial") == 0) {
		/* A long sequence holds 1 to 2^63-1; the original's negative starts have no place. */
		a->initial_given = 1;
		return number_arg(opt, value, 1, INT64_MAX, &a->initial);
	} else if (strcmp(opt, "--port") == 0) {
		return number_arg(opt, value, 0, 65535, &a->port);
	} else if (strcmp(opt, "--max-connections") == 0) {
		return number_arg(opt, value, 1, 1000000, &a->max_connections);
	} else if (strcmp(opt, "--idle-timeout") == 0) {
		return number_arg(opt, value, 0, 7 * 24 * 3600, &a->idle_timeout_s);
	} else {
		fprintf(stderr, "nextid-sequencer: unknown option '%s'\n%s", opt, usage_text);
		return -1;
	}
	return 0;
}

/* Parse argv. Returns 0, 1 for --help, -1 on a usage error (printed). */
static int parse_args(int argc, char **argv, struct args *a)
{
	for (int i = 1; i < argc; i++) {
		char opt[32];
		const char *eq = strchr(argv[i], '='), *value;
		size_t len = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
		if (strncmp(argv[i], "--", 2) != 0 || len >= sizeof(opt)) {
			fprintf(stderr, "nextid-sequencer: unknown argument '%s'\n%s", argv[i],
			        usage_text);
			return -1;
		}
		memcpy(opt, argv[i], len);
		opt[len] = '\0';
		if (eq) {
			value = eq + 1;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			fprintf(stderr, "nextid-sequencer: %s needs a value\n", opt);
			return -1;
		}
		if (set_option(a, opt, value) != 0)
			return -1;
	}
	return 0;
}

/* The sequence name must be one the store accepts; the host must not be empty. */
static int check_args(const struct args *a)
{
	const char *why;

	if (name_check(a->sequence, strlen(a->sequence), &why) != 0) {
		fprintf(stderr, "nextid-sequencer: --sequence '%s': %s\n", a->sequence, why);
		return -1;
	}
	if (a->host[0] == '\0') {
		fprintf(stderr, "nextid-sequencer: --host must not be empty\n");
		return -1;
	}
	return 0;
}

/*
 * The store's files must stay the service's: Berkeley DB creates log files as whoever writes,
 * and one owned by root would lock nextid-fcgi out. So, like nextidctl, run as the owner only.
 * The sequencer is one more ordinary opener of a store the pool's master recovers, so the
 * config must say process_model = pool.
 */
static int check_store_access(const struct config *cfg, const char *config_path)
{
	char why[PATH_MAX + 160];

	if (cfg->process_model != CONFIG_PROCESS_POOL) {
		LOG_ERROR("%s: nextid-sequencer needs process_model = pool (a nextid-fcgi master "
		          "recovers the store; the sequencer only opens it)", config_path);
		return -1;
	}
	if (store_owner_refusal(cfg->data_dir, "nextid-sequencer", why, sizeof(why)) == 0)
		return 0;
	LOG_ERROR("%s", why);
	return -1;
}

static int serve(const struct args *a, const struct config *cfg)
{
	struct counter_options copt = {
		.cfg = cfg, .name = a->sequence, .len = strlen(a->sequence),
		.start = a->initial_given ? a->initial : cfg->default_start,
		.start_given = a->initial_given,
	};
	struct server_options sopt = {
		.host = a->host, .port = (unsigned)a->port,
		.max_connections = (unsigned)a->max_connections,
		.idle_timeout_s = (unsigned)a->idle_timeout_s,
		.shutdown_timeout_s = (unsigned)cfg->shutdown_timeout_s,
	};
	struct counter *counter = NULL;
	struct server *server = NULL;
	int rc = EXIT_FAILURE;

	if (counter_open(&copt, &counter) != STORE_OK)
		goto out;
	if (server_open(&sopt, counter, &server) != 0)
		goto out;
	LOG_INFO("serving sequence '%s' (durability %s), at most %u connections, idle timeout "
	         "%u s", a->sequence, config_durability_name(cfg->durability),
	         sopt.max_connections, sopt.idle_timeout_s);
	if (server_run(server) == 0)
		rc = EXIT_SUCCESS;
out:
	server_close(server);
	counter_close(counter);
	if (rc == EXIT_SUCCESS)
		LOG_INFO("stopped");
	return rc;
}

int main(int argc, char **argv)
{
	struct args a = { .config_path = CONFIG_DEFAULT_PATH, .sequence = "sequencer",
		          .host = "127.0.0.1", .port = 10001, .max_connections = 1024,
		          .idle_timeout_s = 300 };
	struct config cfg;
	char err[CONFIG_ERR_MAX];
	int rc;

	log_setup(LOG_INFO, "sequencer");
	if (server_block_signals() != 0)
		return EXIT_FAILURE;
	rc = parse_args(argc, argv, &a);
	if (rc == 0)
		rc = check_args(&a);
	if (rc != 0) {
		if (rc > 0)
			fputs(usage_text, stdout);
		return rc > 0 ? EXIT_SUCCESS : EXIT_USAGE;
	}
	if (config_load(a.config_path, &cfg, err, sizeof(err)) != 0) {
		LOG_ERROR("%s", err);
		return EXIT_FAILURE;
	}
	log_setup((int)cfg.log_level, "sequencer");
	if (check_store_access(&cfg, a.config_path) != 0)
		return EXIT_FAILURE;
	return serve(&a, &cfg);
}
