/*
 * fuzz_request: the whole request path, from FastCGI parameters and body to the answer's bytes.
 *
 * Input: the parameters, one "NAME=value" per line ('\n'), then an empty line, then the body:
 *     REQUEST_METHOD=PUT
 *     REQUEST_URI=/api/admin/sequences/inv
 *     CONTENT_LENGTH=14
 *     HTTP_AUTHORIZATION=Bearer fuzz-admin-token-0123456789abcdef
 *
 *     {"type":"int"}
 * A NUL inside a line ends that parameter, as libfcgi's C strings do. CONTENT_LENGTH is only what
 * the input says: a body shorter or longer than it is part of what is tried. The harness checks
 * every answer (harness.h); the store lives on between inputs, so one input can create what the
 * next one reads.
 */
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PARAMS_MAX 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	harness_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *split = memmem(data, size, "\n\n", 2);
	size_t head_len = split ? (size_t)(split - data) : size;
	const uint8_t *body = split ? split + 2 : data + size;
	char *head = malloc(head_len + 1), *envp[PARAMS_MAX + 1];
	size_t n = 0;

	if (!head)
		return 0;
	memcpy(head, data, head_len);
	head[head_len] = '\0';
	for (char *line = head; line && n < PARAMS_MAX;) {
		char *nl = memchr(line, '\n', (size_t)(head + head_len - line));

		if (nl)
			*nl = '\0';
		if (*line)
			envp[n++] = line;
		line = nl ? nl + 1 : NULL;
	}
	envp[n] = NULL;
	harness_serve(envp, body, (size_t)(data + size - body));
	free(head);
	harness_maybe_wipe();
	return 0;
}
