/*
 * nextid-fcgi: command line and configuration, then the pool. Everything else happens in pool.c
 * (the master) and the children it forks.
 */
#include "config.h"
#include "log.h"
#include "numparse.h"
#include "pool.h"
#include "scoreboard.h"
#include "store.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: nextid-fcgi [--config FILE] [--socket PATH|HOST:PORT] [--workers N]\n"
	"       nextid-fcgi --fcgid [--config FILE]    (one process, started by Apache mod_fcgid)\n"
	"Serves nextid over FastCGI with a pre-forked pool of workers. Without --socket it serves on\n"
	"the socket systemd passed (socket activation), else on fd 0 when a web server passed a\n"
	"listening socket there, else on the config's `socket`.\n"
	"Signals: SIGTERM/SIGINT stop gracefully, SIGHUP reloads the configuration, SIGUSR2 restarts\n"
	"in place (same process and socket: runs the program file again, e.g. after an upgrade).\n";

/* Parse argv into *args. Returns 0, 1 for --help, -1 on a usage error (printed). */
static int parse_args(int argc, char **argv, struct pool_args *args)
{
	for (int i = 1; i < argc; i += 2) {
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		const char *why;
		int64_t n;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
		if (strcmp(argv[i], "--fcgid") == 0) {
			args->fcgid = 1;
			i--; /* a flag without a value */
			continue;
		}
		if (strcmp(argv[i], "--config") != 0 && strcmp(argv[i], "--socket") != 0 &&
		    strcmp(argv[i], "--workers") != 0) {
			fprintf(stderr, "nextid-fcgi: unknown option '%s'\n%s", argv[i], usage_text);
			return -1;
		}
		if (!value) {
			fprintf(stderr, "nextid-fcgi: %s needs a value\n", argv[i]);
			return -1;
		}
		if (strcmp(argv[i], "--config") == 0) {
			args->config_path = value;
		} else if (strcmp(argv[i], "--socket") == 0) {
			args->socket_override = value;
		} else if (numparse_i64(value, strlen(value), 1, 256, &n, &why) == 0) {
			args->workers_override = (int)n;
		} else {
			fprintf(stderr, "nextid-fcgi: --workers '%s' %s (1 to 256)\n", value, why);
			return -1;
		}
	}
	return 0;
}

/* NEXTID_TEST_HOLD_LOCK_MS: a test-only hook that makes every increment hold its record lock
 * this long, so crash tests can kill a worker in the middle of a transaction. */
static unsigned test_hold_lock_ms(void)
{
	const char *v = getenv("NEXTID_TEST_HOLD_LOCK_MS");
	const char *why;
	int64_t ms;

	if (!v || numparse_i64(v, strlen(v), 0, 60000, &ms, &why) != 0)
		return 0;
	return (unsigned)ms;
}

/*
 * The id generator's machine id: SHARD_ID from the environment (as go-id read it) wins over
 * shard_id in the config; neither means 1, with a warning, since two hosts sharing a machine id
 * can issue the same ids. An invalid SHARD_ID stops start-up.
 */
static int resolve_shard(struct config *cfg)
{
	const char *env = getenv("SHARD_ID"), *why;
	int64_t shard;

	if (env) {
		if (numparse_i64(env, strlen(env), 1, 65535, &shard, &why) != 0) {
			LOG_ERROR("SHARD_ID '%.16s' %s: it must be a number from 1 to 65535", env, why);
			return -1;
		}
		cfg->shard_id = shard;
	}
	if (cfg->shard_id == 0) {
		LOG_WARN("no shard_id in the config and no SHARD_ID: using 1; give every host its own");
		cfg->shard_id = 1;
	}
	return 0;
}

/*
 * --fcgid: Apache's mod_fcgid starts and stops independent processes itself, one request at a
 * time each, with its socket on fd 0. Then this process is a single worker: no master, no
 * housekeeper, and the store watches its openers itself (process_model = fcgid).
 */
static int run_fcgid(const struct pool_args *args)
{
	struct scoreboard *sb = scoreboard_open();
	struct config cfg = args->cfg;
	struct worker_args wa = { .cfg = &cfg, .sb = sb, .slot = 0, .listen_fd = 0,
		                  .hold_lock_ms = args->hold_lock_ms };

	cfg.threads = 1; /* mod_fcgid sends each process one request at a time */

	log_setup((int)args->cfg.log_level, "fcgid");
	if (!sb)
		return EXIT_FAILURE;
	return worker_run(&wa);
}

/* Every process of one store must open it the same way: the mode is in the config file. */
static int check_process_model(const struct pool_args *args)
{
	int fcgid_config = args->cfg.process_model == CONFIG_PROCESS_FCGID;

	if (args->fcgid && !fcgid_config)
		LOG_ERROR("%s: --fcgid needs process_model = fcgid", args->config_path);
	else if (!args->fcgid && fcgid_config)
		LOG_ERROR("%s: process_model = fcgid is for mod_fcgid (nextid-fcgi --fcgid); the pool "
		          "needs process_model = pool",
		          args->config_path);
	else
		return 0;
	return -1;
}

/*
 * Every file this process creates in data_dir belongs to it: run as root over a store of the
 * service's user, it would leave region and log files that lock the service out once it runs as
 * that user again. So, like nextidctl and nextid-sequencer, refuse to be another user than the
 * owner, before anything is created. A data_dir not created yet is ours to create.
 */
static int check_store_owner(const struct config *cfg)
{
	struct store_owner o;

	if (store_owner_check(cfg->data_dir, &o) != STORE_OWNER_OTHER)
		return 0; /* ours, or not there yet (or unreadable: opening it says why) */
	LOG_ERROR("the store in %s belongs to %s (uid %u); run nextid-fcgi as that user (the "
	          "Debian package runs it as nextid under systemd), e.g. runuser -u %s -- "
	          "nextid-fcgi ...",
	          cfg->data_dir, o.name[0] ? o.name : "another user", o.uid,
	          o.name[0] ? o.name : "<owner>");
	return -1;
}

int main(int argc, char **argv)
{
	struct pool_args args = { .argv = argv, .config_path = CONFIG_DEFAULT_PATH };
	char err[CONFIG_ERR_MAX];
	int rc = parse_args(argc, argv, &args);

	if (rc != 0) {
		if (rc > 0)
			fputs(usage_text, stdout);
		return rc > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	if (config_load(args.config_path, &args.cfg, err, sizeof(err)) != 0) {
		LOG_ERROR("%s", err);
		return EXIT_FAILURE;
	}
	log_setup((int)args.cfg.log_level, "master");
	if (resolve_shard(&args.cfg) != 0 || check_process_model(&args) != 0 ||
	    check_store_owner(&args.cfg) != 0)
		return EXIT_FAILURE;
	args.hold_lock_ms = test_hold_lock_ms();
	if (args.hold_lock_ms)
		LOG_WARN("test hook: every increment holds its lock for %u ms", args.hold_lock_ms);
	return args.fcgid ? run_fcgid(&args) : pool_run(&args);
}
