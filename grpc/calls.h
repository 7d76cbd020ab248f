/*
 * calls: nextid-grpc's side of the gRPC core library (the C API of grpc/grpc.h): the server, its
 * port (plaintext HTTP/2 or TLS), the completion queue and every call's life. The gRPC core
 * speaks HTTP/2, reads each request message whole (bounded by MESSAGE_REQUEST_MAX) and sends the
 * answers; one thread, the caller of calls_run, drives its I/O and never waits for the store.
 * A new call is decoded and checked there (message.c), the admin token checked (reply.c), and
 * then handed to the service's store threads, which send its answer back through the core when
 * they are done. Calls to a method that does not exist end UNIMPLEMENTED.
 */
#ifndef NEXTID_CALLS_H
#define NEXTID_CALLS_H

#include <stddef.h>

struct keeper;
struct service;
struct config;

struct calls_options {
	const char *host;        /* the address to listen on: an IPv4 or IPv6 address, or a name */
	unsigned port;           /* 0: a free port, logged */
	const char *tls_cert;    /* PEM certificate chain, or NULL for plaintext */
	const char *tls_key;     /* its PEM private key (with tls_cert) */
	const char *admin_token; /* "" = the admin methods answer PERMISSION_DENIED */
	unsigned store_threads;  /* 1..64 */
	unsigned shutdown_timeout_s;
};

struct calls;

/*
 * Create the server, listen, and start the service's store threads over k. Logs "listening on
 * HOST:PORT" with the port taken. Returns 0 with *out set, or -1 (logged): the address cannot be
 * bound, the certificate is refused, no memory.
 */
int calls_open(const struct calls_options *opt, const struct config *cfg, struct keeper *k,
               struct calls **out);

/* Serve until calls_stop; then let the calls in progress finish (at most shutdown_timeout_s,
 * after which they are cancelled). Returns 0. */
int calls_run(struct calls *c);

/* Ask calls_run to stop: no new call is taken. Safe from any thread, more than once. */
void calls_stop(struct calls *c);

/* Free what calls_open made (after calls_run returned, or instead of it). NULL is allowed. */
void calls_close(struct calls *c);

#endif
