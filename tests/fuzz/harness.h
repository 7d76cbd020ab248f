/*
 * harness: a worker's request path in one process, for the libFuzzer targets. It sets up what a
 * worker holds (a real store in a temporary directory, a scoreboard, a yajl generator, a config
 * with an admin token), serves one request through router_serve, as a worker does, and checks
 * the bytes that came out against API.md section 1. A broken rule aborts with the request and the
 * answer on stderr, so libFuzzer keeps the input as a crash. libfcgi is not linked: memstream.c
 * stands in for its two stream functions over memory buffers. It fakes the transport only; the
 * store, the router and the handlers are the real code. With NEXTID_FUZZ_VERBOSE set in the
 * environment, every answer is printed: replay an input with `build/fuzz/fuzz_request FILE`.
 */
#ifndef NEXTID_FUZZ_HARNESS_H
#define NEXTID_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* The admin token of the harness's config; a request sends "Bearer " HARNESS_TOKEN. */
#define HARNESS_TOKEN "fuzz-admin-token-0123456789abcdef"

/*
 * Create the store (store_recover, once per process), open everything and add the fixtures:
 * sequence "s" (long, max 1000000), sequence "u" (uuid8), and prefix "P" (template
 * "{prefix}-{yyyy}-{counter:4}", yearly, Europe/Berlin) with three numbers issued and a reset, so
 * that inputs naming them reach the deep paths (audit listings, type mismatches) at once. Exits
 * on failure. Idempotent.
 */
void harness_init(void);

/*
 * Serve one request: envp is a NULL-terminated "NAME=value" array (the FastCGI parameters), body
 * the request body (len bytes) the input stream returns, whatever CONTENT_LENGTH says. Checks the
 * answer and aborts on a broken rule. Returns the status answered.
 */
int harness_serve(char *const *envp, const uint8_t *body, size_t len);

/* Every few thousand requests, throw the store away and create a fresh one with the fixtures, so
 * that listings, logs and disk use stay bounded over a long run. Call between inputs. Returns 1
 * when it did. */
int harness_maybe_wipe(void);

#endif
