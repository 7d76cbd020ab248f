/*
 * fuzz_config: config_parse (common/config.c) on arbitrary file contents. Beyond "no crash" (ASan
 * and UBSan watch every byte), it checks what the header promises: the result is 0 or -1; a
 * refusal is "nextid.conf:LINE: reason" in a NUL-terminated message that fits any buffer size,
 * even a tiny one (each buffer is allocated to its exact size, so ASan sees one byte too many);
 * a refusal never echoes an admin_token value; an accepted file leaves every field in its
 * documented range; and the same text gives the same answer twice.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *rule, const char *err)
{
	fprintf(stderr, "\n==== nextid fuzz: config_parse broke a rule: %s\n", rule);
	if (err)
		fprintf(stderr, "message: %s\n", err);
	abort();
}

static int in(int64_t v, int64_t lo, int64_t hi)
{
	return v >= lo && v <= hi;
}

static int printable_token(const char *t)
{
	size_t len = strlen(t);

	if (len == 0)
		return 1;
	if (len < CONFIG_TOKEN_MIN || len > CONFIG_TOKEN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (t[i] <= ' ' || t[i] > '~')
			return 0;
	return 1;
}

static void check_accepted(const struct config *c)
{
	if (!memchr(c->data_dir, '\0', sizeof(c->data_dir)) || c->data_dir[0] != '/')
		broken("data_dir is an absolute path that fits", NULL);
	if (!memchr(c->socket, '\0', sizeof(c->socket)) || c->socket[0] == '\0')
		broken("socket is a non-empty string that fits", NULL);
	if (!memchr(c->admin_token, '\0', sizeof(c->admin_token)) || !printable_token(c->admin_token))
		broken("admin_token is empty or 16 to 256 printable characters", NULL);
	if (!in(c->workers, 1, 256) || !in(c->max_requests, 0, 1000000000) ||
	    !in(c->durability, 0, 2) || !in(c->lock_timeout_ms, 1, 60000) ||
	    !in(c->shutdown_timeout_s, 1, 3600) || !in(c->log_level, 0, 3) ||
	    !in(c->default_start, 1, INT64_MAX) || !in(c->checkpoint_interval_s, 1, 86400) ||
	    !in(c->shard_id, 0, 65535) || !in(c->clock_tolerance_ms, 0, 60000) ||
	    !in(c->request_timeout_s, 1, 3600) || !in(c->process_model, 0, 1))
		broken("every number is in its documented range", NULL);
	/* 1970-01-01 to 2099-12-31T23:59:59Z, whole seconds. */
	if (!in(c->generator_epoch_ms, 0, 4102444799000LL) || c->generator_epoch_ms % 1000 != 0)
		broken("generator_epoch is a whole second from 1970 to 2099", NULL);
}

/* When the refused line sets admin_token, the reason is one of the fixed sentences: a refusal
 * never echoes the token, not even a wrong one. */
static void check_secret_kept(const char *text, size_t len, const char *err)
{
	static const char key[] = "admin_token";
	static const char *const reasons[] = {
		"admin_token must be 16 to 256 characters",
		"admin_token must be printable ASCII without spaces",
		"key 'admin_token' is set twice",
		"key 'admin_token' has no value",
		"the file contains a NUL byte",
		"line is longer than 4096 bytes",
	};
	const char *p = text, *end = text + len, *colon = strstr(err + 12, ": ");
	size_t lineno = 0, want = 0;

	for (const char *d = err + 12; *d >= '0' && *d <= '9' && want < 100000000; d++)
		want = want * 10 + (size_t)(*d - '0');
	while (p < end && ++lineno < want) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		p = nl ? nl + 1 : end;
	}
	if (p >= end || lineno != want)
		return;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	if ((size_t)(end - p) < sizeof(key) - 1 || memcmp(p, key, sizeof(key) - 1) != 0)
		return;
	p += sizeof(key) - 1;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	if (p == end || *p != '=')
		return;
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(colon + 2, reasons[i]) == 0)
			return;
	broken("a refused admin_token line gets a fixed sentence, never its value", err);
}

static int parse_with(const char *text, size_t len, size_t errlen, struct config *c, char **err)
{
	*err = malloc(errlen);
	if (!*err)
		abort();
	memset(*err, 'x', errlen);
	config_defaults(c);
	return config_parse(text, len, "nextid.conf", c, *err, errlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t errlens[] = { CONFIG_ERR_MAX, 1, 13, 40 };
	const char *text = (const char *)data;
	struct config first, again;
	char *err;
	int rc = parse_with(text, size, CONFIG_ERR_MAX, &first, &err), rc2;

	if (rc != 0 && rc != -1)
		broken("config_parse returns 0 or -1", NULL);
	if (rc == 0) {
		check_accepted(&first);
	} else {
		if (!memchr(err, '\0', CONFIG_ERR_MAX))
			broken("the message is NUL-terminated", NULL);
		if (strncmp(err, "nextid.conf:", 12) != 0 || err[12] < '1' || err[12] > '9' ||
		    !strstr(err + 12, ": "))
			broken("the message starts with FILE:LINE: ", err);
		check_secret_kept(text, size, err);
	}
	free(err);
	for (size_t i = 0; i < sizeof(errlens) / sizeof(errlens[0]); i++) {
		rc2 = parse_with(text, size, errlens[i], &again, &err);
		if (rc2 != rc || (rc == 0 && memcmp(&first, &again, sizeof(first)) != 0))
			broken("the same text gives the same answer", NULL);
		if (rc2 != 0 && !memchr(err, '\0', errlens[i]))
			broken("the message is NUL-terminated in any buffer", NULL);
		free(err);
	}
	return 0;
}
