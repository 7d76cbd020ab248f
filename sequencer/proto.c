/*
 * proto: lines, commands and replies of the Sequencer protocol. Every reply is built here, so
 * the wording lives in one file; a reply never carries a byte that could end its line early.
 */
#include "proto.h"
#include "numparse.h"
#include "store.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char supported[] = "Supported: GETSEQ, GETSEQ_BATCH, CURRENT";

int proto_split(const char *buf, size_t len, size_t *line_len, size_t *used)
{
	size_t scan = len < PROTO_BUFFER_MIN ? len : PROTO_BUFFER_MIN;
	const char *lf = memchr(buf, '\n', scan);
	size_t n;

	if (!lf) {
		/* Refuse as soon as the line cannot fit, so a client that stalls after 64 KiB hears
		 * why: all of it is the line's, but a last CR may yet turn out to be its end. */
		n = len > 0 && buf[len - 1] == '\r' ? len - 1 : len;
		return n > PROTO_LINE_MAX ? PROTO_TOO_LONG : PROTO_PARTIAL;
	}
	n = (size_t)(lf - buf);
	*used = n + 1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > PROTO_LINE_MAX)
		return PROTO_TOO_LONG;
	*line_len = n;
	return PROTO_LINE;
}

/* ASCII whitespace, what the original's trim() removes in practice. */
static int is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static unsigned char upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

/* Does s[0..len), compared without case, equal word (upper case)? */
static int word_is(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	if (len != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (upper((unsigned char)s[i]) != (unsigned char)word[i])
			return 0;
	return 1;
}

/*
 * Quote s[0..len) upper-cased into out (at least PROTO_ECHO_MAX + 4 bytes), as the original
 * quoted the command back. Control bytes become '?', so the quote cannot end the reply line (or
 * fake a second one); past PROTO_ECHO_MAX bytes it is cut, on a UTF-8 character boundary, and
 * "..." is added: a client gains nothing from 64 KiB of its own bytes.
 */
static void echo(const char *s, size_t len, char *out)
{
	size_t n = len;

	if (n > PROTO_ECHO_MAX) {
		n = PROTO_ECHO_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--; /* s[n] continues a character: cut before the character starts */
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (char)(c < 0x20 || c == 0x7F ? '?' : upper(c));
	}
	strcpy(out + n, n < len ? "..." : "");
}

static int error_reply(struct proto_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int error_reply(struct proto_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd->reply, sizeof(cmd->reply) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(cmd->reply) - 3)
		n = (int)sizeof(cmd->reply) - 3; /* cannot happen with our formats; stay a line */
	memcpy(cmd->reply + n, "\r\n", 3);
	cmd->reply_len = (size_t)n + 2;
	cmd->kind = PROTO_ERROR;
	cmd->count = 0;
	return PROTO_ERROR;
}

/* GETSEQ_BATCH's argument, arg[0..len) with the spaces after the word already skipped. */
static int parse_batch(const char *arg, size_t len, struct proto_cmd *cmd)
{
	char quoted[PROTO_ECHO_MAX + 4];
	const char *digits = arg, *why;
	size_t n = len;
	uint64_t k;

	if (n > 0 && digits[0] == ':') {
		digits++;
		n--;
	}
	if (numparse_u64(digits, n, 1, PROTO_BATCH_MAX, &k, &why) != 0) {
		echo(arg, len, quoted);
		return error_reply(cmd,
		                   "-ERR Invalid batch size '%s'. GETSEQ_BATCH takes a count from 1 to "
		                   "%d",
		                   quoted, PROTO_BATCH_MAX);
	}
	cmd->kind = PROTO_BATCH;
	cmd->count = k;
	return PROTO_BATCH;
}

int proto_parse(const char *line, size_t len, struct proto_cmd *cmd)
{
	static const char batch[] = "GETSEQ_BATCH";
	const size_t batch_len = sizeof(batch) - 1;
	char quoted[PROTO_ECHO_MAX + 4];

	while (len > 0 && is_space((unsigned char)line[0])) {
		line++;
		len--;
	}
	while (len > 0 && is_space((unsigned char)line[len - 1]))
		len--;
	cmd->reply_len = 0;
	if (word_is(line, len, "GETSEQ")) {
		cmd->kind = PROTO_GETSEQ;
		cmd->count = 1;
		return PROTO_GETSEQ;
	}
	if (word_is(line, len, "CURRENT")) {
		cmd->kind = PROTO_CURRENT;
		cmd->count = 0;
		return PROTO_CURRENT;
	}
	if (len >= batch_len && word_is(line, batch_len, batch) &&
	    (len == batch_len || line[batch_len] == ' ' || line[batch_len] == '\t')) {
		size_t at = batch_len;

		while (at < len && (line[at] == ' ' || line[at] == '\t'))
			at++;
		return parse_batch(line + at, len - at, cmd);
	}
	echo(line, len, quoted);
	return error_reply(cmd, "-ERR Unknown command '%s'. %s", quoted, supported);
}

size_t proto_format_value(int64_t value, char *buf)
{
	int n = snprintf(buf, PROTO_REPLY_MAX, ":%" PRId64 "\r\n", value);

	return n > 0 ? (size_t)n : 0;
}

size_t proto_format_store_error(int store_rc, const char *name, size_t len, uint64_t count,
                                char *buf)
{
	struct proto_cmd out;
	int nlen = len > NAME_MAX_BYTES ? NAME_MAX_BYTES : (int)len;

	switch (store_rc) {
	case STORE_EXHAUSTED:
		if (count > 1)
			error_reply(&out,
			            "-ERR Sequence '%.*s' has fewer than %" PRIu64 " values left before "
			            "its maximum; nothing was taken, ask for fewer",
			            nlen, name, count);
		else
			error_reply(&out,
			            "-ERR Sequence '%.*s' reached its maximum; raise its max or enable "
			            "cycle",
			            nlen, name);
		break;
	case STORE_BUSY:
		error_reply(&out, "-ERR Store busy; nothing was taken, retry in a moment");
		break;
	case STORE_UNAVAILABLE:
		error_reply(&out, "-ERR Store unavailable; retry in a moment");
		break;
	case STORE_FULL:
		error_reply(&out, "-ERR Storage full; nothing was taken, retry once the disk that "
		                  "holds the store has room");
		break;
	case STORE_LIMIT:
		error_reply(&out, "-ERR Sequence '%.*s' cannot be created: max_sequences reached; "
		                  "delete unused sequences or raise it", nlen, name);
		break;
	case STORE_NO_MASTER:
		error_reply(&out, "-ERR No master: an election may be under way; nothing was taken, "
		                  "retry in a moment");
		break;
	case STORE_NOT_REPLICATED:
		error_reply(&out, "-ERR Not replicated: the group did not acknowledge in time; "
		                  "nothing is handed out, retry in a moment");
		break;
	case STORE_TYPE_MISMATCH:
		error_reply(&out, "-ERR Sequence '%.*s' holds random ids, not numbers; serve another "
		                  "sequence with --sequence", nlen, name);
		break;
	case STORE_PREFIX:
		error_reply(&out, "-ERR Sequence '%.*s' is a formatted prefix: take its numbers from "
		                  "/api/v1/next, which audits each", nlen, name);
		break;
	case STORE_NOT_FOUND:
		error_reply(&out, "-ERR Sequence '%.*s' does not exist", nlen, name);
		break;
	case STORE_INVALID:
		error_reply(&out, "-ERR The request is outside what sequence '%.*s' allows", nlen,
		            name);
		break;
	default: /* no command of ours can get another result; say where to look if one does */
		error_reply(&out, "-ERR The store refused the request (result %d); see the log",
		            store_rc);
		break;
	}
	memcpy(buf, out.reply, out.reply_len);
	return out.reply_len;
}
