/*
 * memstream: the FastCGI transport in memory, for tests of the request path (the fuzz harness,
 * tests/unit/test_router.c). memstream.c defines the two libfcgi stream functions the request
 * path calls, FCGX_PutStr and FCGX_GetStr, over memory buffers; link it instead of libfcgi.
 */
#ifndef NEXTID_MEMSTREAM_H
#define NEXTID_MEMSTREAM_H

#include <fcgiapp.h>
#include <stddef.h>

struct memstream {
	unsigned char *buf;
	size_t len, cap, pos;
	FCGX_Stream stream; /* what the request path is handed; its data points back here */
};

/* An input stream that reads body[0..len) (not copied: it must outlive the stream). */
FCGX_Stream *memstream_input(struct memstream *m, const void *body, size_t len);

/* An empty output stream that grows as it is written; memstream_free releases what it holds. */
FCGX_Stream *memstream_output(struct memstream *m);
void memstream_free(struct memstream *m);

#endif
