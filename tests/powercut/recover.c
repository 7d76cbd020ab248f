/*
 * powercut-recover: nextid's own recovery on a data directory rebuilt as a power cut would have
 * left it, then every counter as recovery left it. tests/powercut/run calls it once per cut point.
 *
 *   powercut-recover --config FILE
 *
 * It runs store_recover() with the store options the pool derives from FILE, exactly what
 * the master's recovery helper runs at start-up (Berkeley DB recovery, then, when the clean
 * marker is not set, every sequence resumed past its reservation), then opens the store as a
 * worker would and prints one line per sequence: "NAME<TAB>POSITION", POSITION being the next
 * value the counter would issue (one step past its last when exhausted). Store messages go to
 * stderr. Exit status: 0, 1 when recovery or the open failed, 2 on a usage or config error.
 */
#include "config.h"
#include "record.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

static void log_to_stderr(void *ctx, int level, const char *file, int line, const char *msg)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };

	(void)ctx;
	if (level >= LOG_WARN)
		fprintf(stderr, "%s: %s:%d: %s\n", names[level], file, line, msg);
}

static int print_position(void *ctx, const char *name, size_t len, const struct seq_record *rec)
{
	__extension__ __int128 pos = rec->next;

	(void)ctx;
	if (rec->flags & RECORD_FLAG_EXHAUSTED)
		pos += rec->increment;
	printf("%.*s\t%lld\n", (int)len, name, (long long)pos);
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct store_options opt;
	struct store *st;
	char err[CONFIG_ERR_MAX];
	int rc;

	if (argc != 3 || strcmp(argv[1], "--config") != 0) {
		fputs("usage: powercut-recover --config FILE\n", stderr);
		return 2;
	}
	if (config_load(argv[2], &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "powercut-recover: %s\n", err);
		return 2;
	}
	/* As the pool composes them (fcgi-app/pool.c, compose_store_options). */
	store_options_init(&opt, cfg.data_dir);
	opt.durability = (enum store_durability)cfg.durability;
	opt.lock_timeout_ms = (unsigned)cfg.lock_timeout_ms;
	opt.reserve_size = cfg.reserve_size;
	opt.log = log_to_stderr;
	if (store_recover(&opt) != STORE_OK) {
		fputs("powercut-recover: recovery failed\n", stderr);
		return 1;
	}
	if (store_open(&opt, &st) != STORE_OK) {
		fputs("powercut-recover: cannot open the recovered store\n", stderr);
		return 1;
	}
	rc = store_list(st, NULL, 0, 0, print_position, NULL);
	store_close(st);
	if (rc != STORE_OK) {
		fprintf(stderr, "powercut-recover: list: %s\n", store_rc_name(rc));
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
