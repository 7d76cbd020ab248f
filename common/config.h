/*
 * config: the app's configuration, read from /etc/nextid/nextid.conf (or --config) as
 * "key = value" lines with '#' comments. Every key has a default, so an empty file works; an
 * unknown key, a repeated key or a bad value is an error naming the file, the line and the reason.
 * www-conf/nextid.conf documents every key. Used by the master (and on SIGHUP), by nextidctl and
 * by nextid-sequencer.
 */
#ifndef NEXTID_CONFIG_H
#define NEXTID_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "repl_keys.h"

#define CONFIG_DEFAULT_PATH "/etc/nextid/nextid.conf"
#define CONFIG_PATH_MAX 1024
#define CONFIG_TOKEN_MIN 16
#define CONFIG_TOKEN_MAX 256
#define CONFIG_ERR_MAX (CONFIG_PATH_MAX + 256)
#define CONFIG_THREADS_MAX 64
#define CONFIG_MAX_SEQUENCES_DEFAULT 1000000
#define CONFIG_ADDRESS_MAX REPL_KEYS_ADDRESS_MAX /* replication HOST:PORT, with its NUL (address.h) */
#define CONFIG_PEERS_MAX 16    /* replication_peers: members besides this node */

/* The words of the durability key, in the order of the store's enum store_durability (db/store.h),
 * which the front doors fill from it. "none" is read as "write". */
enum config_durability {
	CONFIG_DURABILITY_SYNC,    /* log flushed to disk before the response is written */
	CONFIG_DURABILITY_WRITE,   /* log written to the OS: survives a process crash, not a power cut */
	CONFIG_DURABILITY_RESERVE, /* synced reservations ahead of the counters (record_reserve) */
};

enum config_process_model {
	CONFIG_PROCESS_POOL,  /* nextid-fcgi's master supervises the workers (the normal way) */
	CONFIG_PROCESS_FCGID, /* independent processes (Apache mod_fcgid): the store watches itself */
};

/* The words of replication_ack_policy, in the order of the store's enum store_ack_policy. */
enum config_ack_policy {
	CONFIG_ACK_QUORUM, /* a majority of the group has the commit (the default) */
	CONFIG_ACK_ALL,    /* every member has it */
	CONFIG_ACK_ONE,    /* one other member has it */
	CONFIG_ACK_NONE,   /* nobody waits: a failover can lose what was answered */
};

struct config {
	char data_dir[CONFIG_PATH_MAX];
	char socket[CONFIG_PATH_MAX]; /* a unix socket path, or HOST:PORT */
	int64_t workers;
	int64_t threads;      /* requests one worker serves at once, each on its own thread */
	int64_t max_requests; /* 0 = never recycle */
	int64_t durability;   /* enum config_durability */
	int64_t lock_timeout_ms;
	int64_t shutdown_timeout_s;
	int64_t log_level; /* enum log_level (log.h) */
	int64_t default_start;
	int64_t checkpoint_interval_s;
	char admin_token[CONFIG_TOKEN_MAX + 1]; /* "" = no admin over HTTP */
	int64_t shard_id;            /* 1..65535; 0 = not set (SHARD_ID or 1) */
	int64_t generator_epoch_ms;  /* unix ms of the id generator's tick 0 */
	int64_t clock_tolerance_ms;  /* a clock step back the generator absorbs */
	int64_t request_timeout_s;   /* a worker busy with one request longer is killed */
	int64_t process_model;       /* enum config_process_model */
	int64_t reserve_size;        /* durability reserve: values a synced reservation covers */
	int64_t max_sequences;       /* sequences the store may hold; 0 = no bound */
	int64_t create_on_first_use; /* 1: GET /next/<new name> creates it; 0: 404 */
	char grpc_tls_cert[CONFIG_PATH_MAX]; /* nextid-grpc: PEM certificate chain ("" = plaintext) */
	char grpc_tls_key[CONFIG_PATH_MAX];  /* nextid-grpc: its PEM private key */
	/* Replication (www-conf/nextid.conf): all off while replication_address is "". */
	char replication_address[CONFIG_ADDRESS_MAX]; /* this node's HOST:PORT */
	char replication_peers[CONFIG_PEERS_MAX][CONFIG_ADDRESS_MAX]; /* the others' HOST:PORT */
	int64_t replication_peer_count;
	int64_t replication_priority;           /* election priority; 0 = never master */
	int64_t replication_ack_policy;         /* enum config_ack_policy */
	int64_t replication_ack_timeout_ms;     /* a commit without its acks by then answers 503 */
	int64_t replication_election_timeout_ms;
	int64_t replication_heartbeat_ms;       /* master's heartbeat; replicas call an election
	                                           after 3 missed ones */
	int64_t replication_group_creator;      /* 1: this node creates the group (once) */
};

/* Fill *cfg with the documented defaults. */
void config_defaults(struct config *cfg);

/*
 * Parse text[0..len) on top of *cfg (call config_defaults first). `file` names the source in
 * messages. Returns 0, or -1 with "FILE:LINE: reason" in err (NUL-terminated, truncated to errlen).
 */
int config_parse(const char *text, size_t len, const char *file, struct config *cfg, char *err,
                 size_t errlen);

/* Read and parse the file at path on top of the defaults. Same results as config_parse. */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);

/* The name of a durability value, as written in the file ("sync", "write", "reserve"). */
const char *config_durability_name(int64_t durability);

/* The replication keys (and request_timeout_s) as the store takes them; strings stay cfg's. */
void config_repl_keys(const struct config *cfg, struct repl_keys *out);

/* A time in unix ms as the file writes one (generator_epoch): 2022-01-01T00:00:00Z, the
 * millisecond dropped. buf of CONFIG_TIME_MAX bytes. */
#define CONFIG_TIME_MAX 32
void config_format_time(int64_t ms, char *buf, size_t len);

#endif
