/*
 * request: parsing of the FastCGI parameters into struct request, percent-decoding, query lookup
 * and Accept negotiation. Every length is bounded and every byte sequence is acceptable input:
 * the worst a hostile request gets is a 400.
 */
#include "request.h"
#include "name.h"
#include "numparse.h"

#include <string.h>
#include <strings.h>

const char *request_param(char *const *envp, const char *name)
{
	size_t len = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	return NULL;
}

static unsigned parse_method(const char *m)
{
	static const struct {
		const char *name;
		unsigned bit;
	} methods[] = { { "GET", REQUEST_GET },   { "HEAD", REQUEST_HEAD },
		        { "POST", REQUEST_POST }, { "PUT", REQUEST_PUT },
		        { "DELETE", REQUEST_DELETE } };

	for (size_t i = 0; m && i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i].name) == 0)
			return methods[i].bit;
	return REQUEST_OTHER;
}

/* An absolute-form target ("http://host/next/x", RFC 9112 section 3.2.2) as Apache passes it:
 * the path starts after the authority. Anything else is returned as it is. */
static const char *skip_scheme_and_authority(const char *uri)
{
	const char *rest = NULL, *slash;

	if (strncasecmp(uri, "http://", 7) == 0)
		rest = uri + 7;
	else if (strncasecmp(uri, "https://", 8) == 0)
		rest = uri + 8;
	if (!rest)
		return uri;
	slash = strchr(rest, '/');
	return slash ? slash : uri; /* no path after the authority: malformed, as before */
}

/* Split the path after its leading '/' at every '/'; "/next/" has the segments "next" and "". */
static void split_path(struct request *req)
{
	const char *p = req->path + 1, *end = req->path + req->path_len;

	req->nseg = 0;
	for (;;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *seg_end = slash ? slash : end;

		if (req->nseg == REQUEST_SEGMENTS_MAX) {
			req->nseg = REQUEST_SEGMENTS_MAX + 1;
			return;
		}
		req->seg[req->nseg].raw = p;
		req->seg[req->nseg].len = (size_t)(seg_end - p);
		req->nseg++;
		if (!slash)
			return;
		p = slash + 1;
	}
}

int request_parse(struct request *req, char *const *envp)
{
	const char *uri = request_param(envp, "REQUEST_URI");
	const char *length = request_param(envp, "CONTENT_LENGTH");
	const char *accept = request_param(envp, "HTTP_ACCEPT");
	const char *authorization = request_param(envp, "HTTP_AUTHORIZATION");
	const char *question, *why;
	size_t uri_len;

	memset(req, 0, sizeof(*req));
	req->method = parse_method(request_param(envp, "REQUEST_METHOD"));
	req->accept = accept ? accept : "";
	req->authorization = authorization ? authorization : "";
	req->path = "/";
	req->path_len = 1;
	req->query = "";
	if (uri)
		uri = skip_scheme_and_authority(uri);
	if (!uri || uri[0] != '/')
		return REQUEST_MALFORMED;
	uri_len = strnlen(uri, REQUEST_URI_MAX + 1);
	if (uri_len > REQUEST_URI_MAX)
		return REQUEST_URI_TOO_LONG;
	question = memchr(uri, '?', uri_len);
	req->path = uri;
	req->path_len = question ? (size_t)(question - uri) : uri_len;
	if (question) {
		req->query = question + 1;
		req->query_len = uri_len - req->path_len - 1;
	}
	split_path(req);
	if (length && length[0] != '\0' &&
	    numparse_u64(length, strlen(length), 0, UINT64_MAX, &req->content_length, &why) != 0)
		return REQUEST_MALFORMED;
	if (req->content_length > REQUEST_BODY_MAX)
		return REQUEST_BODY_TOO_LARGE;
	return REQUEST_OK;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int request_percent_decode(const char *in, size_t len, char *out, size_t cap, size_t *out_len,
                           int plus_is_space)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3)
				return -1;
			hi = hex_value(in[i + 1]);
			lo = hex_value(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (o == cap)
			return -2;
		out[o++] = c;
	}
	*out_len = o;
	return 0;
}

int request_decode_name(const struct request_segment *seg, char *out, size_t *out_len,
                        const char **why)
{
	switch (request_percent_decode(seg->raw, seg->len, out, NAME_MAX_BYTES, out_len, 0)) {
	case 0:
		return name_check(out, *out_len, why);
	case -2:
		*why = NAME_LENGTH_WHY;
		return -1;
	default:
		*why = "Name has a malformed percent-escape.";
		return -1;
	}
}

int request_query(const struct request *req, const char *key, char *out, size_t cap,
                  size_t *out_len)
{
	const char *p = req->query, *end = req->query + req->query_len;
	size_t key_len = strlen(key);
	int found = QUERY_ABSENT;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pair_end = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pair_end - p));
		const char *name_end = eq ? eq : pair_end;
		char name[64];
		size_t name_len;

		if (request_percent_decode(p, (size_t)(name_end - p), name, sizeof(name), &name_len,
		                           1) == 0 &&
		    name_len == key_len && memcmp(name, key, key_len) == 0) {
			const char *v = eq ? eq + 1 : pair_end;

			if (found != QUERY_ABSENT)
				return QUERY_DUPLICATE;
			/* A NUL decoded from %00 would let strcmp read "text%00x" as "text". */
			if (request_percent_decode(v, (size_t)(pair_end - v), out, cap - 1, out_len, 1) != 0 ||
			    memchr(out, '\0', *out_len))
				found = QUERY_MALFORMED;
			else
				found = QUERY_OK;
			out[found == QUERY_OK ? *out_len : 0] = '\0';
		}
		p = pair_end + 1;
	}
	return found;
}

/* Parse "q=0.5" style weights: 0, 1, or 0.ddd / 1.000 with up to three decimals. -1 if invalid. */
static int parse_quality(const char *s, size_t len)
{
	int q = 0, scale = 1000;

	if (len == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	q = (s[0] - '0') * 1000;
	if (len == 1)
		return q;
	if (s[1] != '.' || len > 5)
		return -1;
	for (size_t i = 2; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		scale /= 10;
		q += (s[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The quality the Accept header gives `type` ("text/plain"): that of the most specific matching
 * range (exact, then "text/ *", then "* / *"), 0 when none matches. Returns 1000ths.
 */
static int accept_quality(const char *accept, const char *type)
{
	const char *slash = strchr(type, '/');
	size_t major_len = (size_t)(slash - type);
	int best_specificity = -1, best_q = 0;
	const char *p = accept;

	while (*p) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *range_end = semi ? semi : end;
		int specificity = -1, q = 1000;
		size_t rlen;

		while (p < range_end && is_blank(*p))
			p++;
		while (range_end > p && is_blank(range_end[-1]))
			range_end--;
		rlen = (size_t)(range_end - p);
		if (rlen == strlen(type) && strncasecmp(p, type, rlen) == 0)
			specificity = 2;
		else if (rlen == major_len + 2 && strncasecmp(p, type, major_len + 1) == 0 &&
		         p[major_len + 1] == '*')
			specificity = 1;
		else if (rlen == 3 && memcmp(p, "*/*", 3) == 0)
			specificity = 0;
		for (const char *param = semi; specificity >= 0 && param && param < end;) {
			const char *next = memchr(param + 1, ';', (size_t)(end - param - 1));
			const char *pend = next ? next : end;
			const char *v = param + 1;

			while (v < pend && is_blank(*v))
				v++;
			if (pend - v >= 2 && (v[0] == 'q' || v[0] == 'Q') && v[1] == '=') {
				const char *qe = pend;

				while (qe > v + 2 && is_blank(qe[-1]))
					qe--;
				q = parse_quality(v + 2, (size_t)(qe - v - 2));
				if (q < 0)
					specificity = -1; /* a range with a broken weight is ignored */
			}
			param = next;
		}
		if (specificity > best_specificity) {
			best_specificity = specificity;
			best_q = q;
		}
		p = comma ? comma + 1 : end;
	}
	return best_q;
}

int request_prefers_text(const struct request *req)
{
	if (req->accept[0] == '\0')
		return 0;
	return accept_quality(req->accept, "text/plain") >
	       accept_quality(req->accept, "application/json");
}
