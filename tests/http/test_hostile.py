"""Hostile requests (issue 8, "Hostile input"; API.md section 1): a table of malformed requests,
each sent raw over a socket (http.client would refuse to send most of them), with the exact
status and JSON body expected, and then proof that the service kept answering.

Every row names the layer that answers it. Most reach nextid, which must answer with its JSON
error (never HTML, never a 500). Some never get that far: the web server in front refuses a
request line or header block over its limit, a malformed Content-Length, an unknown method
(lighttpd), a malformed percent-escape or a raw control byte in the path (Apache), and answers
with its own page. For those rows the test asserts what the whole system answers: that status,
from the web server (no `Cache-Control: no-store`, which every nextid answer carries), never a
500. A row gives the nextid answer, and per web server where that server answers otherwise:
    Row("name", req("GET", "/next/%zz"), nextid(400, INVALID_NAME_ESCAPE), apache=web(400))

One server (lighttpd or Apache, as NEXTID_WEB_SERVER says) with an admin_token serves the whole
module; rows that hand out values use names of their own, so every row's answer is exact whatever
ran before it. Every request has its own connection and a 10 s deadline.
"""

import collections
import json
import os
import socket
import sys
import time

import pytest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nextid_server  # noqa: E402
from nextid_server import compact_json  # noqa: E402

TOKEN = "hostile-admin-token-0123456789"
AUTH = "Authorization: Bearer " + TOKEN
DEADLINE_S = 10

# ---- the answers -----------------------------------------------------------------------------


def err(title, message, **more):
    body = {"error": title, "message": message}
    body.update(more)
    return body


NOT_FOUND = err("Endpoint not found",
                "No endpoint answers this path; check the URL against the API documentation.")
NAME_ESCAPE = err("Invalid name", "Name has a malformed percent-escape.")
NAME_LENGTH = err("Invalid name", "Name must be 1 to 200 bytes.")
NAME_UTF8 = err("Invalid name", "Name must be valid UTF-8.")
NAME_CONTROL = err("Invalid name", "Name must not contain control characters.")
NAME_SLASH = err("Invalid name", "Name must not contain '/'.")
BATCH_SIZE = err("Valid batchSize is required", "batchSize must be between 1 and 10000")
COUNT = err("Invalid parameter", "count must be between 1 and 1000.")
LIST_LIMIT = err("Invalid parameter", "limit must be between 1 and 10000.")
AUDIT_LIMIT = err("Invalid parameter", "limit must be between 1 and 1000.")
AUDIT_AFTER = err("Invalid parameter",
                  "after must be a whole number (the seq of the last record seen).")
LIST_AFTER = err("Invalid parameter", "after must be a valid name.")
NEXT_FORMAT = err("Invalid parameter", "format must be 'json' or 'text'.")
GENERATE_FORMAT = err("Invalid parameter", "format must be 'number' or 'string'.")
KIND = err("Invalid parameter", "kind must be 'numbers' or 'events'.")
DECOMPOSE = err("Invalid id", "The id must be a decimal number from 0 to 18446744073709551615.")
TYPES = ["int", "long", "uuid8", "uuid12", "uuid16", "uuid22"]
DATA_TYPE = err("Valid dataType is required",
                "dataType must be one of int, long, uuid8, uuid12, uuid16, uuid22.",
                validTypes=TYPES)
CLIENT_ID = err("Invalid parameter",
                "client_id must be 1 to 128 bytes of UTF-8 without control characters.")
UNAUTHORIZED = err("Unauthorized",
                   'Send the admin token as "Authorization: Bearer <admin_token>".')
BAD_JSON = err("Invalid JSON", "The body must be one JSON object.")
TOO_LARGE = err("Request too large", "The request body exceeds 65536 bytes.")
BAD_REQUEST = err("Bad request", "The request could not be parsed (URI or Content-Length).")
PUT_UNKNOWN = err("Invalid field", "Unknown field; the fields are type, start, increment, min, "
                                   "max, cycle and cache.")
NEXT_UNKNOWN = err("Invalid field", "Unknown field; the only field is next.")
BAD_TYPE = err("Invalid field", "type must be int, long, uuid8, uuid12, uuid16 or uuid22.")
NOT_WHOLE = err("Invalid field",
                "Numbers must be whole numbers, as JSON numbers or strings of digits.")
BAD_CYCLE = err("Invalid field", "cycle must be true or false.")
BAD_CACHE = err("Invalid field", "cache must be a whole number from 0 to 1000000.")
CONFIG_UNKNOWN = err("Invalid field", "Unknown field; the fields are padding_length, "
                                      "format_template, reset_rule, timezone, admin_user.")
BATCH_COUNT = err("Invalid field", "count must be between 1 and 1000.")
SET_TO = err("Invalid field", "set_to must be a whole number from 0.")


def dup(key):
    return err("Invalid parameter", "%s is given more than once." % key)


def dup_field(key):
    return err("Invalid field", "Field '%s' is given more than once." % key)


def allowed(methods):
    return err("Method not allowed", "Allowed methods: %s." % methods)


def next_value(value, name):
    return {"next_value": value, "sequence_id": name}


def int_sequence(name, nxt=1):
    return {"name": name, "type": "int", "next": nxt, "increment": 1, "min": 1,
            "max": 2147483647, "cycle": False, "cache": 0, "exhausted": False}


Nextid = collections.namedtuple("Nextid", "status body content_type allow")
Web = collections.namedtuple("Web", "status")
Closed = collections.namedtuple("Closed", "")


def nextid(status, body, content_type="application/json", allow=None):
    """nextid answers: this status and exactly this body (a dict is compact JSON + newline)."""
    return Nextid(status, body, content_type, allow)


def web(status):
    """The web server answers itself with this status; nextid never sees the request."""
    return Web(status)


def closed():
    """The web server closes the connection without an answer (and nextid never sees it)."""
    return Closed()


def not_allowed(methods):
    return nextid(405, allowed(methods), allow=methods)


def head_not_allowed(methods):
    """405 to a HEAD request: the headers only."""
    return nextid(405, b"", allow=methods)


# ---- raw HTTP ----------------------------------------------------------------------------------


def req(method, target, headers=(), body=None, length=True, version="HTTP/1.1", raw=None):
    """The bytes of one request. target may hold any byte (given as bytes, or str encoded as
    latin-1); length=False leaves out the Content-Length a body would get; raw replaces it all."""
    if raw is not None:
        return raw
    enc = lambda s: s if isinstance(s, bytes) else s.encode("latin-1")  # noqa: E731
    lines = [b"%s %s %s" % (enc(method), enc(target), enc(version)), b"Host: 127.0.0.1",
             b"Connection: close"]
    lines += [enc(h) for h in headers]
    data = b"" if body is None else enc(body)
    if body is not None and length:
        lines.append(b"Content-Length: %d" % len(data))
    return b"\r\n".join(lines) + b"\r\n\r\n" + data


def admin(method, target, body=None, headers=(), **kw):
    return req(method, target, (AUTH,) + tuple(headers), body, **kw)


Reply = collections.namedtuple("Reply", "status headers body")


def _recv_until(sock, buf, done, end):
    while not done(buf):
        sock.settimeout(max(0.05, end - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            raise AssertionError("no complete answer within %d s (got %r)" % (DEADLINE_S,
                                                                              bytes(buf[:300])))
        if not chunk:
            return False
        buf += chunk
    return True


def _dechunk(data):
    out, pos = b"", 0
    while True:
        eol = data.index(b"\r\n", pos)
        size = int(data[pos:eol].split(b";")[0], 16)
        if size == 0:
            return out
        out += data[eol + 2:eol + 2 + size]
        pos = eol + 2 + size + 2


def send(port, data, head=False, half_close=False):
    """Send data on a fresh connection; the reply, or None when the server closed without one."""
    end = time.monotonic() + DEADLINE_S
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered (and closed) before reading all of it: read the answer
        buf = bytearray()
        try:
            if not _recv_until(sock, buf, lambda b: b"\r\n\r\n" in b, end):
                if not buf:
                    return None
                raise AssertionError("the connection closed inside the headers: %r" % bytes(buf))
            header_end = buf.index(b"\r\n\r\n") + 4
            lines = bytes(buf[:header_end - 4]).decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip()
                headers[name] = headers[name] + ", " + value if name in headers else value
            if head or status in (204, 304) or 100 <= status < 200:
                body = b""
            elif "content-length" in headers:
                want = header_end + int(headers["content-length"])
                _recv_until(sock, buf, lambda b: len(b) >= want, end)
                body = bytes(buf[header_end:want])
            elif "chunked" in headers.get("transfer-encoding", ""):
                _recv_until(sock, buf, lambda b: b.endswith(b"0\r\n\r\n"), end)
                body = _dechunk(bytes(buf[header_end:]))
            else:
                _recv_until(sock, buf, lambda b: False, end)
                body = bytes(buf[header_end:])
        except ConnectionResetError:
            if not buf:
                return None
            raise
    return Reply(status, headers, body)


# ---- the table ---------------------------------------------------------------------------------

class Row:
    """One hostile request and what each layer answers. then: a follow-up request and its answer
    (a HEAD that must not have consumed a value, say)."""

    def __init__(self, ident, data, want, lighttpd=None, apache=None, then=None,
                 half_close=False, known_limit=None):
        self.ident, self.data, self.want = ident, data, want
        self.by_server = {"lighttpd": lighttpd, "apache": apache}
        self.then, self.half_close = then, half_close
        # {server: reason}: a documented limitation of that server's setup; the row runs as a
        # strict expected failure there, so it turns red the day the limitation is gone.
        self.known_limit = known_limit or {}

    def expected(self, server):
        mine = self.by_server.get(server)
        return self.want if mine is None else mine


RAW_NUL = ("with url-normalize off (so that nextid answers bad names in JSON) lighttpd passes a "
           "raw NUL of the request line on, and libfcgi's C strings end REQUEST_URI there, "
           "before nextid can see it; lighttpd's default options refuse it (docs/design.md, Decisions)")

LONG = "a" * 201
KIB10 = "a" * 10240
DEEP_ARRAYS = "[" * 10000 + "]" * 10000
DEEP_OBJECTS = '{"a":' * 10000 + "1" + "}" * 10000
# As deep as 64 KiB allows: yajl's tree is freed recursively, one frame pair per level.
DEEPEST_ARRAYS = "[" * 32768 + "]" * 32768
DEEPEST_OBJECTS = '{"a":' * 10922 + "1" + "}" * 10922
# A valid body of exactly 65536 bytes (REQUEST_BODY_MAX), padded with JSON whitespace, and one
# byte more.
BODY_64K = '{"type":"int"' + " " * (65536 - len('{"type":"int"}')) + "}"
BODY_64K_PLUS_1 = BODY_64K[:-1] + " }"
assert len(BODY_64K) == 65536 and len(BODY_64K_PLUS_1) == 65537

ROWS = [
    # -- malformed percent-escapes in a name (Apache refuses them in any path itself) --
    Row("escape-zz-next", req("GET", "/next/%zz"), nextid(400, NAME_ESCAPE), apache=web(400)),
    Row("escape-short-next-id", req("GET", "/api/next-id/%4?dataType=int"),
        nextid(400, NAME_ESCAPE), apache=web(400)),
    Row("escape-trailing-batch", req("GET", "/api/next-batch/abc%?dataType=int&batchSize=1"),
        nextid(400, NAME_ESCAPE), apache=web(400)),
    Row("escape-g0-status", req("GET", "/api/status/%g0"), nextid(400, NAME_ESCAPE),
        apache=web(400)),
    Row("escape-percent-percent-prefix-next", req("GET", "/api/v1/next/%%"),
        nextid(400, NAME_ESCAPE), apache=web(400)),
    Row("escape-prefix-status", req("GET", "/api/v1/status/%1"), nextid(400, NAME_ESCAPE),
        apache=web(400)),
    Row("escape-prefix-config", req("GET", "/api/v1/config/%zz"), nextid(400, NAME_ESCAPE),
        apache=web(400)),
    Row("escape-admin-show", admin("GET", "/api/admin/sequences/%x"), nextid(400, NAME_ESCAPE),
        apache=web(400)),
    Row("escape-decompose-id", req("GET", "/generate/decompose/%zz"), nextid(400, DECOMPOSE),
        apache=web(400)),
    Row("escape-in-query-value", req("GET", "/next/qe?format=%zz"), nextid(400, NEXT_FORMAT)),
    Row("escape-in-query-key-is-skipped", req("GET", "/next/qk?%zz=1&format=text"),
        nextid(200, b"1\n", "text/plain")),
    Row("escape-in-batch-size", req("GET", "/api/next-batch/bs?dataType=int&batchSize=%3"),
        nextid(400, BATCH_SIZE)),

    # -- overlong names --
    Row("name-201-bytes-next", req("GET", "/next/" + LONG), nextid(400, NAME_LENGTH)),
    Row("name-201-bytes-encoded", req("GET", "/next/" + "%C3%A9" * 100 + "a"),
        nextid(400, NAME_LENGTH)),
    Row("name-201-bytes-next-id", req("GET", "/api/next-id/%s?dataType=int" % LONG),
        nextid(400, NAME_LENGTH)),
    Row("name-201-bytes-prefix-next", req("GET", "/api/v1/next/" + LONG), nextid(400, NAME_LENGTH)),
    Row("name-201-bytes-admin-put", admin("PUT", "/api/admin/sequences/" + LONG, '{"type":"int"}'),
        nextid(400, NAME_LENGTH)),
    Row("name-8000-bytes", req("GET", "/next/" + "b" * 8000), nextid(400, NAME_LENGTH)),
    # Over the request line limits of both web servers: nextid's own 414 is never reached.
    Row("name-10-kib", req("GET", "/next/" + KIB10), None, lighttpd=web(431), apache=web(414)),

    # -- invalid UTF-8 --
    Row("utf8-ff", req("GET", "/next/%FF"), nextid(400, NAME_UTF8)),
    Row("utf8-bad-continuation", req("GET", "/next/%C3%28"), nextid(400, NAME_UTF8)),
    Row("utf8-overlong-slash", req("GET", "/next/%C0%AF"), nextid(400, NAME_UTF8)),
    Row("utf8-surrogate", req("GET", "/api/next-id/%ED%A0%80?dataType=long"), nextid(400, NAME_UTF8)),
    Row("utf8-above-10ffff", req("GET", "/api/status/%F4%90%80%80"), nextid(400, NAME_UTF8)),
    Row("utf8-truncated", req("GET", "/api/v1/next/%E2%82"), nextid(400, NAME_UTF8)),
    Row("utf8-raw-ff-byte", req("GET", b"/next/\xffa"), nextid(400, NAME_UTF8)),
    Row("utf8-in-list-after", req("GET", "/api/list?after=%FF"), nextid(400, LIST_AFTER)),
    Row("utf8-in-client-id", req("GET", "/api/v1/next/P?client_id=%C3"), nextid(400, CLIENT_ID)),

    # -- NUL and control characters --
    Row("nul-escaped-in-name", req("GET", "/next/%00"), nextid(400, NAME_CONTROL)),
    Row("nul-escaped-mid-name", req("GET", "/next/a%00b"), nextid(400, NAME_CONTROL)),
    # A raw NUL byte in the request line. lighttpd (with the parse options nextid's config
    # recommends) passes it on, and libfcgi's C strings cut REQUEST_URI there.
    Row("nul-raw-byte-in-path", req("GET", b"/next/nulraw\x00b"), nextid(400, NAME_CONTROL),
        apache=web(400), known_limit={"lighttpd": RAW_NUL}),
    Row("nul-raw-byte-in-query", req("GET", b"/next/nulq?format=text\x00"), nextid(400, NEXT_FORMAT),
        apache=web(400), known_limit={"lighttpd": RAW_NUL}),
    Row("nul-escaped-in-format", req("GET", "/next/nf?format=text%00"), nextid(400, NEXT_FORMAT)),
    Row("nul-escaped-in-generate-format", req("GET", "/generate?format=string%00"),
        nextid(400, GENERATE_FORMAT)),
    Row("nul-escaped-in-audit-kind", admin("GET", "/api/v1/audit/P?kind=events%00"),
        nextid(400, KIND)),
    Row("nul-escaped-in-client-id", req("GET", "/api/v1/next/P?client_id=%00"),
        nextid(400, CLIENT_ID)),
    Row("nul-escaped-in-list-after", req("GET", "/api/list?after=%00"), nextid(400, LIST_AFTER)),
    Row("control-01-escaped", req("GET", "/next/%01"), nextid(400, NAME_CONTROL)),
    Row("control-1f-escaped", req("GET", "/api/next-id/x%1Fy?dataType=int"),
        nextid(400, NAME_CONTROL)),
    Row("control-7f-escaped", req("GET", "/api/status/%7F"), nextid(400, NAME_CONTROL)),
    Row("control-newline-escaped", req("GET", "/next/a%0Db%0A"), nextid(400, NAME_CONTROL)),
    Row("control-raw-tab", req("GET", b"/next/a\tb"), nextid(400, NAME_CONTROL), apache=web(400)),
    Row("control-raw-01", req("GET", b"/next/a\x01b"), nextid(400, NAME_CONTROL),
        apache=web(400)),
    Row("control-raw-7f", req("GET", b"/next/a\x7fb"), nextid(400, NAME_CONTROL),
        apache=web(400)),
    Row("control-in-generated-by", req("GET", "/api/v1/next/P?generated_by=a%09b"),
        nextid(400, err("Invalid parameter", "generated_by must be 1 to 128 bytes of UTF-8 "
                                             "without control characters."))),
    Row("slash-escaped-in-name", req("GET", "/next/a%2Fb"), nextid(400, NAME_SLASH)),

    # -- numbers: batchSize --
    Row("batch-size-0", req("GET", "/api/next-batch/n?dataType=int&batchSize=0"),
        nextid(400, BATCH_SIZE)),
    Row("batch-size-negative", req("GET", "/api/next-batch/n?dataType=int&batchSize=-1"),
        nextid(400, BATCH_SIZE)),
    Row("batch-size-10001", req("GET", "/api/next-batch/n?dataType=long&batchSize=10001"),
        nextid(400, BATCH_SIZE)),
    Row("batch-size-2-pow-64", req("GET", "/api/next-batch/n?dataType=int&batchSize="
                                   "18446744073709551616"), nextid(400, BATCH_SIZE)),
    Row("batch-size-40-digits", req("GET", "/api/next-batch/n?dataType=int&batchSize=" + "9" * 40),
        nextid(400, BATCH_SIZE)),
    Row("batch-size-exponent", req("GET", "/api/next-batch/n?dataType=int&batchSize=1e3"),
        nextid(400, BATCH_SIZE)),
    Row("batch-size-hex", req("GET", "/api/next-batch/n?dataType=int&batchSize=0x10"),
        nextid(400, BATCH_SIZE)),
    Row("batch-size-leading-space", req("GET", "/api/next-batch/n?dataType=int&batchSize=%205"),
        nextid(400, BATCH_SIZE)),
    Row("batch-size-plus-sign", req("GET", "/api/next-batch/n?dataType=int&batchSize=%2B5"),
        nextid(400, BATCH_SIZE)),
    Row("batch-size-trailing-letters", req("GET", "/api/next-batch/n?dataType=int&batchSize=10abc"),
        nextid(400, BATCH_SIZE)),
    Row("batch-size-empty", req("GET", "/api/next-batch/n?dataType=int&batchSize="),
        nextid(400, BATCH_SIZE)),
    Row("batch-size-decimal", req("GET", "/api/next-batch/n?dataType=int&batchSize=5.0"),
        nextid(400, BATCH_SIZE)),
    Row("batch-size-fullwidth-digit", req("GET", "/api/next-batch/n?dataType=int&batchSize=%EF%BC%95"),
        nextid(400, BATCH_SIZE)),
    # -- numbers: count, limit, after, id --
    Row("count-0", req("GET", "/generate?count=0"), nextid(400, COUNT)),
    Row("count-negative", req("GET", "/generate?count=-1"), nextid(400, COUNT)),
    Row("count-1001", req("POST", "/generate?count=1001", body=""), nextid(400, COUNT)),
    Row("count-2-pow-64-minus-1", req("GET", "/generate?count=18446744073709551615"),
        nextid(400, COUNT)),
    Row("count-fraction", req("GET", "/generate?count=1.5"), nextid(400, COUNT)),
    Row("list-limit-0", req("GET", "/api/list?limit=0"), nextid(400, LIST_LIMIT)),
    Row("list-limit-negative", req("GET", "/api/list?limit=-5"), nextid(400, LIST_LIMIT)),
    Row("list-limit-10001", req("GET", "/api/list?limit=10001"), nextid(400, LIST_LIMIT)),
    Row("list-limit-huge", req("GET", "/api/list?limit=99999999999999999999999"),
        nextid(400, LIST_LIMIT)),
    Row("admin-list-limit-exponent", admin("GET", "/api/admin/sequences?limit=1e2"),
        nextid(400, LIST_LIMIT)),
    Row("prefix-list-limit-exponent", admin("GET", "/api/admin/prefixes?limit=1e2"),
        nextid(400, LIST_LIMIT)),
    Row("prefix-list-after-201-bytes", admin("GET", "/api/admin/prefixes?after=" + LONG),
        nextid(400, LIST_AFTER)),
    Row("prefix-list-after-bad-utf8", admin("GET", "/api/admin/prefixes?after=%FF"),
        nextid(400, LIST_AFTER)),
    Row("list-after-201-bytes", req("GET", "/api/list?after=" + LONG), nextid(400, LIST_AFTER)),
    Row("list-after-empty", req("GET", "/api/list?after="), nextid(400, LIST_AFTER)),
    Row("audit-limit-0", admin("GET", "/api/v1/audit/P?limit=0"), nextid(400, AUDIT_LIMIT)),
    Row("audit-limit-1001", admin("GET", "/api/v1/audit/P?limit=1001"), nextid(400, AUDIT_LIMIT)),
    Row("audit-after-negative", admin("GET", "/api/v1/audit/P?after=-1"), nextid(400, AUDIT_AFTER)),
    Row("audit-after-2-pow-64", admin("GET", "/api/v1/audit/P?after=18446744073709551616"),
        nextid(400, AUDIT_AFTER)),
    Row("audit-after-word", admin("GET", "/api/v1/audit/P?after=abc"), nextid(400, AUDIT_AFTER)),
    Row("audit-kind-unknown", admin("GET", "/api/v1/audit/P?kind=all"), nextid(400, KIND)),
    Row("decompose-negative", req("GET", "/generate/decompose/-1"), nextid(400, DECOMPOSE)),
    Row("decompose-2-pow-64", req("GET", "/generate/decompose/18446744073709551616"),
        nextid(400, DECOMPOSE)),
    Row("decompose-word", req("GET", "/generate/decompose/abc"), nextid(400, DECOMPOSE)),
    Row("decompose-exponent", req("GET", "/generate/decompose/1e3"), nextid(400, DECOMPOSE)),
    # -- format --
    Row("format-xml", req("GET", "/next/f?format=xml"), nextid(400, NEXT_FORMAT)),
    Row("format-empty", req("GET", "/next/f?format="), nextid(400, NEXT_FORMAT)),
    Row("format-upper-case", req("GET", "/next/f?format=TEXT"), nextid(400, NEXT_FORMAT)),
    Row("format-plus-is-space", req("GET", "/next/f?format=text+"), nextid(400, NEXT_FORMAT)),
    Row("format-huge-number", req("GET", "/next/f?format=" + "9" * 30), nextid(400, NEXT_FORMAT)),
    Row("format-text-on-generate", req("GET", "/generate?format=text"),
        nextid(400, GENERATE_FORMAT)),
    Row("data-type-missing", req("GET", "/api/next-id/dt"), nextid(400, DATA_TYPE)),
    Row("data-type-upper-case", req("GET", "/api/next-id/dt?dataType=INT"), nextid(400, DATA_TYPE)),
    Row("data-type-nul", req("GET", "/api/next-id/dt?dataType=int%00"), nextid(400, DATA_TYPE)),

    # -- duplicate and array-valued query keys --
    Row("duplicate-format", req("GET", "/next/d?format=text&format=text"), nextid(400, dup("format"))),
    Row("duplicate-format-encoded-key", req("GET", "/next/d?format=text&%66ormat=json"),
        nextid(400, dup("format"))),
    Row("duplicate-batch-size", req("GET", "/api/next-batch/d?dataType=int&batchSize=1&batchSize=2"),
        nextid(400, dup("batchSize"))),
    Row("duplicate-data-type", req("GET", "/api/next-id/d?dataType=int&dataType=int"),
        nextid(400, dup("dataType"))),
    Row("duplicate-count", req("GET", "/generate?count=1&count=1"), nextid(400, dup("count"))),
    Row("duplicate-generate-format", req("GET", "/generate?format=string&format=number"),
        nextid(400, dup("format"))),
    Row("duplicate-limit", req("GET", "/api/list?limit=1&limit=2"), nextid(400, dup("limit"))),
    Row("duplicate-after", req("GET", "/api/list?after=a&after=b"), nextid(400, dup("after"))),
    Row("duplicate-client-id", req("GET", "/api/v1/next/P?client_id=a&client_id=b"),
        nextid(400, dup("client_id"))),
    Row("duplicate-kind", admin("GET", "/api/v1/audit/P?kind=events&kind=events"),
        nextid(400, dup("kind"))),
    # PHP-style array keys are other keys to nextid: ignored like any unknown parameter.
    Row("array-format-is-ignored", req("GET", "/next/arr1?format[]=text"),
        nextid(200, next_value(1, "arr1"))),
    Row("array-batch-size-is-missing", req("GET", "/api/next-batch/arr2?dataType=int&batchSize[]=5"),
        nextid(400, BATCH_SIZE)),
    Row("array-data-type-is-missing", req("GET", "/api/next-id/arr3?dataType[]=int"),
        nextid(400, DATA_TYPE)),
    Row("array-beside-plain-key", req("GET", "/api/next-id/arr4?dataType=int&dataType[0]=long"),
        nextid(200, {"entityName": "arr4", "dataType": "int", "value": 1})),

    # -- methods --
    Row("method-patch", req("PATCH", "/next/m"), not_allowed("GET, POST")),
    Row("method-options", req("OPTIONS", "/next/m"), not_allowed("GET, POST")),
    Row("method-delete-on-next", req("DELETE", "/next/m"), not_allowed("GET, POST")),
    Row("method-trace", req("TRACE", "/api/list"), not_allowed("GET, HEAD")),
    Row("method-put-on-list", req("PUT", "/api/list", body="{}"), not_allowed("GET, HEAD")),
    Row("method-post-on-status", req("POST", "/api/status/x", body=""), not_allowed("GET, HEAD")),
    # POST without Content-Length: lighttpd wants one (411), Apache passes it on.
    Row("method-post-without-length", req("POST", "/next/m"), nextid(200, next_value(1, "m")),
        lighttpd=web(411)),
    Row("method-get-on-batch", req("GET", "/api/v1/batch/P"), not_allowed("POST")),
    Row("method-delete-on-admin-list", admin("DELETE", "/api/admin/sequences"),
        not_allowed("GET, HEAD")),
    Row("method-post-on-prefix-list", admin("POST", "/api/admin/prefixes", b"{}"),
        not_allowed("GET, HEAD")),
    Row("method-post-on-pool", req("POST", "/api/pool", body=b""), not_allowed("GET, HEAD")),
    # Unknown methods: lighttpd refuses them itself (501), Apache passes them on.
    Row("method-foo", req("FOO", "/next/m"), not_allowed("GET, POST"), lighttpd=web(501)),
    Row("method-lower-case-get", req("get", "/next/m"), not_allowed("GET, POST"),
        lighttpd=web(501)),
    Row("method-connect", req("CONNECT", "127.0.0.1:80"), nextid(400, BAD_REQUEST),
        lighttpd=web(405)),
    # -- HEAD on endpoints that hand out values: 405, and nothing consumed --
    Row("head-next", req("HEAD", "/next/h1"), head_not_allowed("GET, POST"),
        then=(req("GET", "/next/h1"), nextid(200, next_value(1, "h1")))),
    Row("head-next-id", req("HEAD", "/api/next-id/h2?dataType=int"), head_not_allowed("GET, POST"),
        then=(req("GET", "/api/next-id/h2?dataType=int"),
              nextid(200, {"entityName": "h2", "dataType": "int", "value": 1}))),
    Row("head-next-batch", req("HEAD", "/api/next-batch/h3?dataType=long&batchSize=5"),
        head_not_allowed("GET, POST"),
        then=(req("GET", "/api/status/h3"), nextid(404, err("Entity not found",
                                                            "No entity is named 'h3'.")))),
    Row("head-generate", req("HEAD", "/generate?count=3"), head_not_allowed("GET, POST")),
    Row("head-prefix-next", req("HEAD", "/api/v1/next/P"), head_not_allowed("GET, POST")),
    Row("head-prefix-batch", req("HEAD", "/api/v1/batch/P"), head_not_allowed("POST")),
    Row("head-admin-set-next", admin("HEAD", "/api/admin/sequences/typed/next"),
        head_not_allowed("POST")),

    # -- bodies (admin and prefix endpoints, with the token) --
    Row("body-not-json", admin("PUT", "/api/admin/sequences/b1", "hello"), nextid(400, BAD_JSON)),
    Row("body-empty", admin("PUT", "/api/admin/sequences/b1", ""), nextid(400, BAD_JSON)),
    Row("body-absent", admin("PUT", "/api/admin/sequences/b1"), nextid(400, BAD_JSON)),
    Row("body-array", admin("PUT", "/api/admin/sequences/b1", '["type"]'), nextid(400, BAD_JSON)),
    Row("body-string", admin("POST", "/api/admin/sequences/typed/next", '"next"'),
        nextid(400, BAD_JSON)),
    Row("body-number", admin("POST", "/api/v1/reset/P", "5"), nextid(400, BAD_JSON)),
    Row("body-nested-arrays-10000-deep", admin("PUT", "/api/admin/sequences/b1", DEEP_ARRAYS),
        nextid(400, BAD_JSON)),
    Row("body-nested-objects-10000-deep", admin("PUT", "/api/admin/sequences/b1", DEEP_OBJECTS),
        nextid(400, PUT_UNKNOWN)),
    Row("body-nested-arrays-32768-deep", admin("PUT", "/api/admin/sequences/b1", DEEPEST_ARRAYS),
        nextid(400, BAD_JSON)),
    Row("body-nested-objects-10922-deep", admin("POST", "/api/v1/config/P", DEEPEST_OBJECTS),
        nextid(400, CONFIG_UNKNOWN)),
    Row("body-nested-arrays-in-a-field", admin("POST", "/api/v1/batch/P",
                                               '{"count":' + "[" * 10000 + "]" * 10000 + "}"),
        nextid(400, BATCH_COUNT)),
    Row("body-64-kib-is-accepted", admin("PUT", "/api/admin/sequences/b64k", BODY_64K),
        nextid(201, int_sequence("b64k"))),
    Row("body-64-kib-plus-1", admin("PUT", "/api/admin/sequences/b1", BODY_64K_PLUS_1),
        nextid(413, TOO_LARGE)),
    Row("body-escaped-nul", admin("PUT", "/api/admin/sequences/b1", '{"type":"int\\u0000"}'),
        nextid(400, BAD_JSON)),
    Row("body-escaped-nul-in-key", admin("POST", "/api/v1/config/P", '{"admin_user\\u0000":"a"}'),
        nextid(400, BAD_JSON)),
    Row("body-raw-nul", admin("PUT", "/api/admin/sequences/b1", '{"type":"int"}\x00'),
        nextid(400, BAD_JSON)),
    Row("body-invalid-utf8", admin("POST", "/api/v1/batch/P", b'{"count":1,"client_id":"\xff"}'),
        nextid(400, BAD_JSON)),
    Row("body-trailing-garbage", admin("PUT", "/api/admin/sequences/b1", '{"type":"int"}x'),
        nextid(400, BAD_JSON)),
    Row("body-two-objects", admin("PUT", "/api/admin/sequences/b1", '{}{}'), nextid(400, BAD_JSON)),
    # yajl's tree parser allows comments: lenient, and harmless.
    Row("body-comment-is-allowed", admin("PUT", "/api/admin/sequences/bc",
                                         '{/* c */"type":"int"}'),
        nextid(201, int_sequence("bc"))),
    Row("body-byte-order-mark", admin("PUT", "/api/admin/sequences/b1", b'\xef\xbb\xbf{"type":"int"}'),
        nextid(400, BAD_JSON)),
    Row("body-duplicate-key-put", admin("PUT", "/api/admin/sequences/b1",
                                        '{"type":"int","type":"long"}'),
        nextid(400, dup_field("type"))),
    Row("body-duplicate-key-batch", admin("POST", "/api/v1/batch/P", '{"count":1,"count":2}'),
        nextid(400, dup_field("count"))),
    Row("body-unknown-field-put", admin("PUT", "/api/admin/sequences/b1", '{"typ":"int"}'),
        nextid(400, PUT_UNKNOWN)),
    Row("body-unknown-field-next", admin("POST", "/api/admin/sequences/typed/next", '{"value":5}'),
        nextid(400, NEXT_UNKNOWN)),
    Row("body-unknown-field-config", admin("POST", "/api/v1/config/P", '{"prefix":"X"}'),
        nextid(400, CONFIG_UNKNOWN)),
    Row("body-type-number", admin("PUT", "/api/admin/sequences/b1", '{"type":1}'),
        nextid(400, BAD_TYPE)),
    Row("body-type-upper-case", admin("PUT", "/api/admin/sequences/b1", '{"type":"INT"}'),
        nextid(400, BAD_TYPE)),
    Row("body-start-word", admin("PUT", "/api/admin/sequences/b1", '{"start":"abc"}'),
        nextid(400, NOT_WHOLE)),
    Row("body-start-fraction", admin("PUT", "/api/admin/sequences/b1", '{"start":1.5}'),
        nextid(400, NOT_WHOLE)),
    Row("body-start-2-pow-63", admin("PUT", "/api/admin/sequences/b1",
                                     '{"start":9223372036854775808}'), nextid(400, NOT_WHOLE)),
    Row("body-start-null", admin("PUT", "/api/admin/sequences/b1", '{"start":null}'),
        nextid(400, NOT_WHOLE)),
    Row("body-max-array", admin("PUT", "/api/admin/sequences/b1", '{"max":[1]}'),
        nextid(400, NOT_WHOLE)),
    Row("body-cycle-string", admin("PUT", "/api/admin/sequences/b1", '{"cycle":"true"}'),
        nextid(400, BAD_CYCLE)),
    Row("body-cache-negative", admin("PUT", "/api/admin/sequences/b1", '{"cache":-1}'),
        nextid(400, BAD_CACHE)),
    Row("body-cache-too-large", admin("PUT", "/api/admin/sequences/b1", '{"cache":1000001}'),
        nextid(400, BAD_CACHE)),
    Row("body-next-missing", admin("POST", "/api/admin/sequences/typed/next", '{}'),
        nextid(400, err("Invalid field", "The body must give next."))),
    Row("body-next-object", admin("POST", "/api/admin/sequences/typed/next", '{"next":{}}'),
        nextid(400, NOT_WHOLE)),
    Row("body-padding-19", admin("POST", "/api/v1/config/P", '{"padding_length":19}'),
        nextid(400, err("Invalid field", "padding_length must be 0 to 18."))),
    Row("body-padding-negative", admin("POST", "/api/v1/config/P", '{"padding_length":-1}'),
        nextid(400, err("Invalid field", "padding_length must be 0 to 18."))),
    Row("body-template-number", admin("POST", "/api/v1/config/P", '{"format_template":5}'),
        nextid(400, err("Invalid field", "format_template must be a string."))),
    Row("body-template-two-counters", admin("POST", "/api/v1/config/P",
                                            '{"format_template":"{counter}{counter}"}'),
        nextid(400, err("Invalid configuration", "format_template has more than one counter."))),
    Row("body-reset-rule-hourly", admin("POST", "/api/v1/config/P", '{"reset_rule":"hourly"}'),
        nextid(400, err("Invalid field", "reset_rule must be never, daily, monthly or yearly."))),
    Row("body-timezone-path", admin("POST", "/api/v1/config/P", '{"timezone":"../../etc/passwd"}'),
        nextid(400, err("Invalid configuration", "timezone may contain only letters, digits, "
                                                 "'_', '+', '-' and '/'."))),
    Row("body-admin-user-empty", admin("POST", "/api/v1/config/P", '{"admin_user":""}'),
        nextid(400, err("Invalid field", "admin_user must be a string of 1 to 128 bytes of UTF-8 "
                                         "without control characters."))),
    Row("body-batch-count-0", admin("POST", "/api/v1/batch/P", '{"count":0}'),
        nextid(400, BATCH_COUNT)),
    Row("body-batch-count-1001", admin("POST", "/api/v1/batch/P", '{"count":1001}'),
        nextid(400, BATCH_COUNT)),
    Row("body-batch-count-string-word", admin("POST", "/api/v1/batch/P", '{"count":"ten"}'),
        nextid(400, BATCH_COUNT)),
    Row("body-batch-count-missing", admin("POST", "/api/v1/batch/P", '{"client_id":"c"}'),
        nextid(400, BATCH_COUNT)),
    Row("body-batch-client-id-number", admin("POST", "/api/v1/batch/P",
                                             '{"count":1,"client_id":5}'),
        nextid(400, err("Invalid field", "client_id must be a string of 1 to 128 bytes of UTF-8 "
                                         "without control characters."))),
    Row("body-reset-set-to-negative", admin("POST", "/api/v1/reset/P", '{"set_to":-1}'),
        nextid(400, SET_TO)),
    Row("body-reset-set-to-2-pow-63-minus-1", admin("POST", "/api/v1/reset/P",
                                                    '{"set_to":"9223372036854775807"}'),
        nextid(400, SET_TO)),
    Row("body-reset-force-string", admin("POST", "/api/v1/reset/P", '{"set_to":1,"force":"yes"}'),
        nextid(400, err("Invalid field", "force must be true or false."))),
    # -- content types: nextid reads the body as JSON whatever the type says --
    Row("content-type-text-plain-json-body", admin("PUT", "/api/admin/sequences/ct1",
                                                   '{"type":"int"}', ["Content-Type: text/plain"]),
        nextid(201, int_sequence("ct1"))),
    Row("content-type-form-body", admin("PUT", "/api/admin/sequences/ct2", "type=int",
                                        ["Content-Type: application/x-www-form-urlencoded"]),
        nextid(400, BAD_JSON)),
    Row("content-type-multipart-body", admin("PUT", "/api/admin/sequences/ct3",
                                             '--x\r\n\r\n{"type":"int"}\r\n--x--',
                                             ["Content-Type: multipart/form-data; boundary=x"]),
        nextid(400, BAD_JSON)),
    # -- the admin token --
    Row("auth-missing", req("PUT", "/api/admin/sequences/a1", body='{"type":"int"}'),
        nextid(401, UNAUTHORIZED)),
    Row("auth-wrong-token", req("GET", "/api/admin/sequences",
                                ["Authorization: Bearer " + TOKEN[:-1] + "X"]),
        nextid(401, UNAUTHORIZED)),
    Row("auth-token-prefix-only", req("GET", "/api/admin/sequences",
                                      ["Authorization: Bearer " + TOKEN[:-1]]),
        nextid(401, UNAUTHORIZED)),
    Row("auth-basic-scheme", req("GET", "/api/v1/audit/P", ["Authorization: Basic " + TOKEN]),
        nextid(401, UNAUTHORIZED)),
    Row("auth-empty-bearer", req("POST", "/api/v1/reset/P", ["Authorization: Bearer"],
                                 '{"set_to":1}'), nextid(401, UNAUTHORIZED)),
    Row("auth-4-kib-token", req("GET", "/api/admin/sequences",
                                ["Authorization: Bearer " + "t" * 4096]),
        nextid(401, UNAUTHORIZED)),

    # -- paths --
    Row("path-double-slash-first", req("GET", "//next/p1"), nextid(404, NOT_FOUND)),
    Row("path-double-slash-inside", req("GET", "/next//p1"), nextid(404, NOT_FOUND)),
    Row("path-dot-segment-first", req("GET", "/./next/p1"), nextid(404, NOT_FOUND)),
    Row("path-dot-segment-inside", req("GET", "/next/./p1"), nextid(404, NOT_FOUND)),
    Row("path-dot-dot-segment", req("GET", "/next/../next/p1"), nextid(404, NOT_FOUND)),
    Row("path-trailing-slash-name", req("GET", "/next/p1/"), nextid(404, NOT_FOUND)),
    Row("path-trailing-slash-list", req("GET", "/api/list/"), nextid(404, NOT_FOUND)),
    Row("path-trailing-slash-health", req("GET", "/health/"), nextid(404, NOT_FOUND)),
    Row("path-trailing-slash-admin", admin("GET", "/api/admin/sequences/"), nextid(404, NOT_FOUND)),
    Row("path-upper-case", req("GET", "/NEXT/p1"), nextid(404, NOT_FOUND)),
    Row("path-nine-segments", req("GET", "/a/b/c/d/e/f/g/h/i"), nextid(404, NOT_FOUND)),
    Row("path-encoded-literal-segment", req("GET", "/%6Eext/enc1"), nextid(200, next_value(1, "enc1"))),
    Row("path-encoded-dot-dot-is-a-name", req("GET", "/next/%2E%2E"), nextid(200, next_value(1, ".."))),
    # Absolute-form (RFC 9112 3.2.2: a server must accept it). lighttpd turns it into a path;
    # Apache passes it on as REQUEST_URI.
    Row("path-absolute-form", req("GET", "http://127.0.0.1/next/abs1"),
        nextid(200, next_value(1, "abs1"))),
    Row("path-not-starting-with-slash", req("GET", "next/p1"), None, lighttpd=web(400),
        apache=web(400)),

    # -- long query strings --
    Row("query-7000-bytes", req("GET", "/next/q1?pad=" + "x" * 7000), nextid(200, next_value(1, "q1"))),
    Row("query-1000-parameters", req("GET", "/next/q2?" + "a=1&" * 1000 + "format=text"),
        nextid(200, b"1\n", "text/plain")),
    Row("query-8200-bytes", req("GET", "/next/q3?pad=" + "x" * 8200), None, lighttpd=web(431),
        apache=web(414)),
    Row("request-line-over-64-kib", req("GET", "/next/q4?pad=" + "x" * 66000), None,
        lighttpd=web(431), apache=web(414)),

    # -- Content-Length and framing --
    Row("content-length-shorter-than-body", admin("PUT", "/api/admin/sequences/cl1",
                                                  '{"type":"int"}', ["Content-Length: 1"],
                                                  length=False),
        nextid(400, BAD_JSON)),
    Row("content-length-longer-than-body", admin("PUT", "/api/admin/sequences/cl2",
                                                 '{"type":"int"}', ["Content-Length: 100"],
                                                 length=False),
        None, lighttpd=closed(), apache=web(400), half_close=True,
        then=(admin("GET", "/api/admin/sequences/cl2"),
              nextid(404, err("Sequence not found", "No sequence is named 'cl2'.")))),
    Row("content-length-negative", admin("PUT", "/api/admin/sequences/cl3", "{}",
                                         ["Content-Length: -1"], length=False),
        None, lighttpd=web(400), apache=web(400)),
    Row("content-length-word", admin("PUT", "/api/admin/sequences/cl3", "{}",
                                     ["Content-Length: abc"], length=False),
        None, lighttpd=web(400), apache=web(400)),
    Row("content-length-twice-differing", admin("PUT", "/api/admin/sequences/cl3", "{}",
                                                ["Content-Length: 2", "Content-Length: 3"],
                                                length=False),
        None, lighttpd=web(400), apache=web(400)),
    Row("content-length-20-digits", admin("PUT", "/api/admin/sequences/cl3", "{}",
                                          ["Content-Length: 99999999999999999999"], length=False),
        None, lighttpd=web(400), apache=web(400)),
    Row("content-length-over-64-kib-claimed", admin("POST", "/api/v1/batch/P", "{" * 65537,
                                                    ["Content-Length: 65537"], length=False),
        nextid(413, TOO_LARGE)),
    Row("chunked-body", admin("PUT", "/api/admin/sequences/te1",
                              'e\r\n{"type":"int"}\r\n0\r\n\r\n', ["Transfer-Encoding: chunked"],
                              length=False),
        nextid(201, int_sequence("te1"))),
    Row("chunked-and-content-length", admin("PUT", "/api/admin/sequences/te2",
                                            'e\r\n{"type":"int"}\r\n0\r\n\r\n',
                                            ["Transfer-Encoding: chunked", "Content-Length: 14"],
                                            length=False),
        nextid(201, int_sequence("te2")), lighttpd=web(400)),

    # -- request line and headers the web server refuses --
    Row("version-http-2-in-text", req("GET", "/next/v2", version="HTTP/2.0"),
        nextid(200, next_value(1, "v2")), lighttpd=web(505)),
    Row("version-garbage", req("GET", "/next/v3", version="FOO"), None, lighttpd=web(400),
        apache=web(400)),
    Row("header-without-colon", req("GET", "/next/v4", ["NoColon"]), None, lighttpd=web(400),
        apache=web(400)),
    Row("header-name-with-space", req("GET", "/next/v4", ["Bad Header: y"]), None,
        lighttpd=web(400), apache=web(400)),
    Row("header-9-kib", req("GET", "/next/v4", ["X-Pad: " + "y" * 9000]), None, lighttpd=web(431),
        apache=web(400)),
    # -- hostile Accept headers: a broken range is ignored --
    Row("accept-quality-above-1", req("GET", "/next/acc1", ["Accept: text/plain;q=2"]),
        nextid(200, next_value(1, "acc1"))),
    Row("accept-quality-garbage", req("GET", "/next/acc2", ["Accept: text/plain;q=0.5abc, x;;;,"]),
        nextid(200, next_value(1, "acc2"))),
    Row("accept-4-kib", req("GET", "/next/acc3", ["Accept: " + "text/plain;q=0.5," * 240]),
        nextid(200, b"1\n", "text/plain")),
]

assert len(ROWS) >= 100, len(ROWS)
assert len({r.ident for r in ROWS}) == len(ROWS), "row names must be unique"


# ---- the server and the checks -----------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile(request):
    """One server for the whole table, with an admin token, sequence "typed" and prefix "P"."""
    srv = nextid_server.NextidServer(config={"admin_token": TOKEN, "workers": 2,
                                                      "shard_id": 3})
    print("nextid test directory: %s (%s on port %d)" % (srv.dir, srv.web_server, srv.port))
    failed_before = request.session.testsfailed
    try:
        srv.start()
        for method, path, body, status in [
                ("PUT", "/api/admin/sequences/typed", '{"type":"int"}', 201),
                ("POST", "/api/v1/config/P", '{"format_template":"P{counter}"}', 200)]:
            reply = srv.request(method, path, {"Authorization": "Bearer " + TOKEN}, body)
            assert reply.status == status, str(reply)
        srv.workers_at_start = srv.worker_pids()
        yield srv
    finally:
        leftovers = srv.stop()
        kept = srv.cleanup(keep=request.session.testsfailed > failed_before or bool(leftovers))
        if kept:
            print("\nkept %s: configs, logs and data of the failed test" % kept)
        assert not leftovers, "nextid processes still ran after the master stopped: %r" % leftovers


def describe(reply):
    if reply is None:
        return "(connection closed without an answer)"
    shown = {k: v for k, v in reply.headers.items()
             if k in ("content-type", "cache-control", "allow", "server")}
    body = reply.body if len(reply.body) <= 200 else reply.body[:200] + b"..."
    return "%d %r %r" % (reply.status, shown, body)


def check(reply, want, layer):
    """Does reply match want (Nextid, Web or Closed)? Raises AssertionError naming the layer."""
    got = describe(reply)
    if isinstance(want, Closed):
        assert reply is None, "want the %s to close without an answer, got %s" % (layer, got)
        return
    assert reply is not None, "want an answer from %s, got %s" % (layer, got)
    assert reply.status != 500, "a 500 (%s)" % got
    from_nextid = reply.headers.get("cache-control") == "no-store"
    if isinstance(want, Web):
        assert (reply.status, from_nextid) == (want.status, False), \
            "want the %s's own %d, got %s" % (layer, want.status, got)
        return
    body = want.body if isinstance(want.body, bytes) else compact_json(want.body)
    assert from_nextid, "want nextid's answer, got the web server's: %s" % got
    assert (reply.status, reply.body) == (want.status, body), \
        "want nextid's %d %r, got %s" % (want.status, body, got)
    assert reply.headers.get("content-type") == want.content_type, got
    if want.allow is not None:
        assert reply.headers.get("allow") == want.allow, got


@pytest.mark.parametrize("row", ROWS, ids=[r.ident for r in ROWS])
def test_hostile_request(hostile, row, request):
    server = hostile.web_server
    if server in row.known_limit:
        request.applymarker(pytest.mark.xfail(strict=True, reason=row.known_limit[server]))
    want = row.expected(server)
    layer = "nextid" if isinstance(want, Nextid) else server
    head = row.data.split(b" ", 1)[0] == b"HEAD"
    started = time.monotonic()
    reply = send(hostile.port, row.data, head=head, half_close=row.half_close)
    check(reply, want, layer)
    if row.then:
        data, then_want = row.then
        check(send(hostile.port, data), then_want, "nextid")
    assert time.monotonic() - started < DEADLINE_S


def test_the_service_kept_answering_with_the_same_workers(hostile):
    """After the table: ready, counting on, no worker died or was replaced on the way, and
    nothing in the log at warn or error."""
    reply = hostile.get("/health/ready")
    assert (reply.status, reply.json()) == (200, {"status": "ready"}), str(reply)
    for value in (1, 2):
        reply = hostile.get("/next/after-the-table")
        assert (reply.status, reply.json()) == (200, next_value(value, "after-the-table")), str(reply)
    assert hostile.worker_pids() == hostile.workers_at_start, \
        "workers changed: %r -> %r" % (hostile.workers_at_start, hostile.worker_pids())
    with open(hostile.master_log, "rb") as f:
        log = [json.loads(line) for line in f if line.startswith(b"{")]
    complaints = [e for e in log if e.get("level") in ("warn", "error")]
    assert not complaints, complaints
