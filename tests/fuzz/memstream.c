/*
 * memstream: FCGX_PutStr appends to a growing buffer, FCGX_GetStr reads what is left of a fixed
 * one. An output that cannot grow fails as libfcgi's does, with -1.
 */
#include "memstream.h"

#include <stdlib.h>
#include <string.h>

FCGX_Stream *memstream_input(struct memstream *m, const void *body, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->buf = (unsigned char *)body;
	m->len = m->cap = len;
	m->stream.isReader = 1;
	m->stream.data = m;
	return &m->stream;
}

FCGX_Stream *memstream_output(struct memstream *m)
{
	memset(m, 0, sizeof(*m));
	m->stream.data = m;
	return &m->stream;
}

void memstream_free(struct memstream *m)
{
	if (!m->stream.isReader)
		free(m->buf);
	m->buf = NULL;
	m->len = m->cap = m->pos = 0;
}

int FCGX_PutStr(const char *str, int n, FCGX_Stream *stream)
{
	struct memstream *m = stream->data;

	if (n <= 0)
		return n < 0 ? -1 : 0;
	if (m->len + (size_t)n > m->cap) {
		size_t cap = (m->len + (size_t)n) * 2 + 256;
		unsigned char *buf = realloc(m->buf, cap);

		if (!buf)
			return -1;
		m->buf = buf;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, str, (size_t)n);
	m->len += (size_t)n;
	return n;
}

int FCGX_GetStr(char *str, int n, FCGX_Stream *stream)
{
	struct memstream *m = stream->data;
	size_t left = m->len - m->pos, take = n < 0 ? 0 : (size_t)n;

	if (take > left)
		take = left;
	if (take == 0)
		return 0;
	memcpy(str, m->buf + m->pos, take);
	m->pos += take;
	return (int)take;
}
