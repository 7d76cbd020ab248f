/*
 * fuzz_json_body: the JSON bodies of the admin and formatted-prefix endpoints. The first byte of
 * the input picks the endpoint, the rest is the body, sent with a matching CONTENT_LENGTH and the
 * admin token (what a web server passes on): so every mutation reaches params_json_body_or_reply,
 * params_fields_or_reply and the handler's field readers, then the store. Sequence "s" and prefix
 * "P" are the harness's fixtures (harness.h), so that valid bodies go all the way.
 */
#include "harness.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *method, *uri;
} endpoints[] = {
	{ "PUT", "/api/admin/sequences/s" },
	{ "POST", "/api/admin/sequences/s/next" },
	{ "POST", "/api/v1/config/P" },
	{ "POST", "/api/v1/batch/P" },
	{ "POST", "/api/v1/reset/P" },
};

#define ENDPOINTS (sizeof(endpoints) / sizeof(endpoints[0]))

static int serve(size_t which, const uint8_t *body, size_t len)
{
	char method[32], uri[64], length[48];
	char auth[] = "HTTP_AUTHORIZATION=Bearer " HARNESS_TOKEN;
	char type[] = "CONTENT_TYPE=application/json";
	char *envp[] = { method, uri, length, auth, type, NULL };

	snprintf(method, sizeof(method), "REQUEST_METHOD=%s", endpoints[which].method);
	snprintf(uri, sizeof(uri), "REQUEST_URI=%s", endpoints[which].uri);
	snprintf(length, sizeof(length), "CONTENT_LENGTH=%zu", len);
	return harness_serve(envp, body, len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	harness_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	serve(data[0] % ENDPOINTS, data + 1, size - 1);
	harness_maybe_wipe();
	return 0;
}
