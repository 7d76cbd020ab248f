/*
 * nextid-grpc: the Sequential ID Counter's gRPC service (API.md section 10) over the same store
 * as nextid-fcgi, so a number taken over gRPC and one taken over REST never collide and both are
 * in the audit. This file reads the command line, the environment (GRPC_PORT) and the config,
 * checks that this process may open the store and reads the TLS files; keeper.c holds the store,
 * calls.c the gRPC server, service.c the methods.
 */
#include "calls.h"
#include "config.h"
#include "keeper.h"
#include "log.h"
#include "numparse.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define DEFAULT_PORT 9090
#define STORE_THREADS 4         /* store calls in parallel; see docs/grpc.md */
#define PEM_MAX (1024 * 1024)   /* bytes of a certificate chain or key file */

static const char usage_text[] =
	"usage: nextid-grpc [--config FILE] [--host ADDR] [--port N]\n"
	"Serves the Sequential ID Counter's gRPC service (sequentialid.SequentialIDService, and\n"
	"grpc.health.v1.Health) over the nextid store.\n"
	"  --config FILE   nextid's config (default " CONFIG_DEFAULT_PATH "); TLS when it sets\n"
	"                  grpc_tls_cert and grpc_tls_key\n"
	"  --host ADDR     the address to listen on (default 127.0.0.1)\n"
	"  --port N        the TCP port (default $GRPC_PORT, else 9090; 0 picks a free one, logged)\n"
	"Each option also takes its value after '=' (--port=9091).\n"
	"Signals: SIGTERM/SIGINT stop gracefully. Exit status: 0 stopped, 1 failed, 2 usage,\n"
	"3 a store call blocked longer than the config's request_timeout_s (start it again).\n";

struct args {
	const char *config_path;
	const char *host;
	int64_t port;
	int port_given;
};

/* A port in 0..65535 from `what` (an option or GRPC_PORT). Returns 0, or -1 (printed). */
static int port_arg(const char *what, const char *value, int64_t *out)
{
	const char *why;

	if (numparse_i64(value, strlen(value), 0, 65535, out, &why) == 0)
		return 0;
	fprintf(stderr, "nextid-grpc: %s '%s' %s (0 to 65535)\n", what, value, why);
	return -1;
}

/* Parse argv. Returns 0, 1 for --help, -1 on a usage error (printed). */
static int parse_args(int argc, char **argv, struct args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq = strchr(arg, '='), *value;
		size_t len = eq ? (size_t)(eq - arg) : strlen(arg);

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
			return 1;
		if (eq)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			value = NULL;
		if (len == 8 && strncmp(arg, "--config", len) == 0 && value) {
			a->config_path = value;
		} else if (len == 6 && strncmp(arg, "--host", len) == 0 && value) {
			a->host = value;
		} else if (len == 6 && strncmp(arg, "--port", len) == 0 && value) {
			if (port_arg("--port", value, &a->port) != 0)
				return -1;
			a->port_given = 1;
		} else {
			fprintf(stderr, "nextid-grpc: %s '%s'\n%s",
			        value || strncmp(arg, "--", 2) != 0 ? "unknown argument"
			                                            : "no value for", arg, usage_text);
			return -1;
		}
	}
	if (a->host[0] == '\0') {
		fprintf(stderr, "nextid-grpc: --host must not be empty\n");
		return -1;
	}
	return 0;
}

/*
 * The Sequential ID Counter read its gRPC port from GRPC_PORT; the command line wins. An
 * unusable value is an error, not a silent 9090: a client would be left calling a port nobody
 * serves.
 */
static int port_from_environment(struct args *a)
{
	const char *v = getenv("GRPC_PORT");

	if (a->port_given || !v)
		return 0;
	return port_arg("GRPC_PORT", v, &a->port);
}

/*
 * As nextid-sequencer does: run as the store's owner only (Berkeley DB creates log files as
 * whoever writes, and one owned by root would lock nextid-fcgi out), and on a store a pool's
 * master recovers (process_model = pool).
 */
static int check_store_access(const struct config *cfg, const char *config_path)
{
	char why[PATH_MAX + 160];

	if (cfg->process_model != CONFIG_PROCESS_POOL) {
		LOG_ERROR("%s: nextid-grpc needs process_model = pool (a nextid-fcgi master recovers "
		          "the store; nextid-grpc only opens it)", config_path);
		return -1;
	}
	if (store_owner_refusal(cfg->data_dir, "nextid-grpc", why, sizeof(why)) == 0)
		return 0;
	LOG_ERROR("%s", why);
	return -1;
}

/* A whole PEM file, NUL-terminated, at most PEM_MAX bytes. Returns it (free()), or NULL
 * (logged). */
static char *read_pem(const char *key, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t len = 0;
	struct stat sb;

	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > PEM_MAX ||
	    !(buf = malloc((size_t)sb.st_size + 1))) {
		LOG_ERROR("%s %s: %s", key, path,
		          fd < 0 || errno ? strerror(errno) : "not a regular file of at most 1 MiB");
		goto fail;
	}
	while (len < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)sb.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			LOG_ERROR("%s %s: %s", key, path, n < 0 ? strerror(errno) : "changed under us");
			goto fail;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* TLS needs both files, or neither: one without the other is a config mistake to report. */
static int read_tls(const struct config *cfg, char **cert, char **key)
{
	*cert = *key = NULL;
	if (!cfg->grpc_tls_cert[0] && !cfg->grpc_tls_key[0])
		return 0;
	if (!cfg->grpc_tls_cert[0] || !cfg->grpc_tls_key[0]) {
		LOG_ERROR("TLS needs both grpc_tls_cert and grpc_tls_key in the config");
		return -1;
	}
	*cert = read_pem("grpc_tls_cert", cfg->grpc_tls_cert);
	*key = *cert ? read_pem("grpc_tls_key", cfg->grpc_tls_key) : NULL;
	if (*key)
		return 0;
	free(*cert);
	*cert = NULL;
	return -1;
}

/* ---- signals: a thread of their own ---- */

static sigset_t stop_signals;

static int block_signals(void)
{
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	/* Blocked before any thread starts (ours and the gRPC core's), so that every one inherits
	 * the mask and only the signal thread takes them. */
	if (pthread_sigmask(SIG_BLOCK, &stop_signals, NULL) != 0) {
		LOG_ERROR("cannot block signals");
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void *wait_for_stop(void *arg)
{
	struct calls *cs = arg;
	int sig = 0;

	for (;;) {
		if (sigwait(&stop_signals, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		LOG_INFO("SIGHUP ignored: nextid-grpc reads its config at start only");
	}
	LOG_INFO("%s: stopping (calls in progress finish)", sig == SIGINT ? "SIGINT" : "SIGTERM");
	calls_stop(cs);
	return NULL;
}

static int serve(const struct args *a, const struct config *cfg)
{
	struct calls_options opt = {
		.host = a->host, .port = (unsigned)a->port, .admin_token = cfg->admin_token,
		.store_threads = STORE_THREADS,
		.shutdown_timeout_s = (unsigned)cfg->shutdown_timeout_s,
	};
	char *cert = NULL, *key = NULL;
	struct keeper *keeper = NULL;
	struct calls *cs = NULL;
	pthread_t signals;
	int rc = EXIT_FAILURE;

	if (read_tls(cfg, &cert, &key) != 0)
		return EXIT_FAILURE;
	opt.tls_cert = cert;
	opt.tls_key = key;
	if (keeper_open(cfg, STORE_THREADS, &keeper) != STORE_OK)
		goto out;
	if (calls_open(&opt, cfg, keeper, &cs) != 0)
		goto out;
	LOG_INFO("serving sequentialid.SequentialIDService (durability %s, admin methods %s)",
	         config_durability_name(cfg->durability), cfg->admin_token[0] ? "on" : "off");
	if (pthread_create(&signals, NULL, wait_for_stop, cs) != 0) {
		LOG_ERROR("cannot start the signal thread");
		calls_stop(cs);
		calls_run(cs);
		goto out;
	}
	calls_run(cs);
	pthread_join(signals, NULL);
	rc = EXIT_SUCCESS;
out:
	calls_close(cs);
	keeper_close(keeper);
	free(cert);
	free(key);
	if (rc == EXIT_SUCCESS)
		LOG_INFO("stopped");
	return rc;
}

int main(int argc, char **argv)
{
	struct args a = { .config_path = CONFIG_DEFAULT_PATH, .host = "127.0.0.1",
		          .port = DEFAULT_PORT };
	struct config cfg;
	char err[CONFIG_ERR_MAX];
	int rc;

	log_setup(LOG_INFO, "grpc");
	if (block_signals() != 0)
		return EXIT_FAILURE;
	rc = parse_args(argc, argv, &a);
	if (rc == 0 && port_from_environment(&a) != 0)
		rc = -1;
	if (rc != 0) {
		if (rc > 0)
			fputs(usage_text, stdout);
		return rc > 0 ? EXIT_SUCCESS : EXIT_USAGE;
	}
	if (config_load(a.config_path, &cfg, err, sizeof(err)) != 0) {
		LOG_ERROR("%s", err);
		return EXIT_FAILURE;
	}
	log_setup((int)cfg.log_level, "grpc");
	if (check_store_access(&cfg, a.config_path) != 0)
		return EXIT_FAILURE;
	return serve(&a, &cfg);
}
