"""GET/POST /next/<name>: values, names, formats, methods and errors (API.md sections 1 and 2)."""

import json

from nextid_server import expect, expect_next, from_web_server, not_found, web_server_refuses

INVALID_NAME = "Invalid name"
TOO_LONG = "Name must be 1 to 200 bytes."
NOT_UTF8 = "Name must be valid UTF-8."
CONTROL = "Name must not contain control characters."
SLASH = "Name must not contain '/'."
BAD_ESCAPE = "Name has a malformed percent-escape."

# (path, message): every way a name can be refused.
INVALID_NAMES = [
    ("/next/" + "a" * 201, TOO_LONG),
    ("/next/" + "%C3%A9" * 100 + "a", TOO_LONG),
    ("/next/%FF", NOT_UTF8),
    ("/next/%C3%28", NOT_UTF8),
    ("/next/%C0%AF", NOT_UTF8),
    ("/next/a%C3", NOT_UTF8),
    ("/next/%01", CONTROL),
    ("/next/%1F", CONTROL),
    ("/next/%7F", CONTROL),
    ("/next/%00", CONTROL),
    ("/next/a%0Ab", CONTROL),
    ("/next/a%2Fb", SLASH),
    ("/next/a%2fb", SLASH),
    ("/next/%zz", BAD_ESCAPE),
    ("/next/%4", BAD_ESCAPE),
    ("/next/abc%", BAD_ESCAPE),
    ("/next/a%4g", BAD_ESCAPE),
]

NOT_FOUND_PATHS = ["/next", "/next/", "/next/a/b", "/next/a/", "/nope", "/", "/nextx/a"]


def test_a_new_name_counts_1_2_3(server):
    for value in (1, 2, 3):
        expect_next(server.get("/next/invoice"), value, "invoice")


def test_names_count_independently(server):
    expect_next(server.get("/next/a"), 1, "a")
    expect_next(server.get("/next/b"), 1, "b")
    expect_next(server.get("/next/a"), 2, "a")
    expect_next(server.get("/next/b"), 2, "b")


def test_odd_but_valid_names_are_decoded_and_independent(server):
    cases = [("test@sequence", "test@sequence"), ("a.b", "a.b"), ("a%20b", "a b"),
             ("%C3%A9t%C3%A9", "été"), ("a-b_c~d", "a-b_c~d"), ("%61", "a")]
    for raw, name in cases:
        expect_next(server.get("/next/" + raw), 1, name)
    # The JSON carries the decoded name as raw UTF-8, not as \u escapes.
    reply = server.get("/next/%C3%A9t%C3%A9")
    assert reply.body == b'{"next_value":2,"sequence_id":"\xc3\xa9t\xc3\xa9"}\n', str(reply)
    # %61 decodes to the same name as a.
    expect_next(server.get("/next/a"), 2, "a")


def test_names_are_case_sensitive(server):
    expect_next(server.get("/next/Invoice"), 1, "Invoice")
    expect_next(server.get("/next/invoice"), 1, "invoice")
    expect_next(server.get("/next/INVOICE"), 1, "INVOICE")
    expect_next(server.get("/next/Invoice"), 2, "Invoice")


def test_paths_without_exactly_one_name_segment_are_404(server):
    for path in NOT_FOUND_PATHS:
        for method in ("GET", "POST"):
            expect(server.request(method, path), 404, not_found())


def test_every_invalid_name_is_400_with_its_reason(server):
    wrong = []
    for path, message in INVALID_NAMES:
        reply = server.get(path)
        want = (400, {"error": INVALID_NAME, "message": message})
        if web_server_refuses(path):  # Apache's own 400: nextid never sees the request
            want = (400, "(the web server's own page)")
            if reply.status == 400 and from_web_server(reply):
                continue
        try:
            expect(reply, *want)
        except AssertionError:
            wrong.append("%s\n    want %r" % (reply, want))
    assert not wrong, "%d of %d invalid names got another answer:\n%s" % (
        len(wrong), len(INVALID_NAMES), "\n".join(wrong))


def test_invalid_names_consume_nothing(server):
    server.get("/next/a%2Fb")
    server.get("/next/a%4")
    expect_next(server.get("/next/a"), 1, "a")
    expect_next(server.get("/next/b"), 1, "b")


def test_a_name_of_exactly_200_bytes_is_valid(server):
    expect_next(server.get("/next/" + "a" * 200), 1, "a" * 200)
    expect_next(server.get("/next/" + "%C3%A9" * 100), 1, "é" * 100)
    expect_next(server.get("/next/" + "a" * 200), 2, "a" * 200)


def test_format_text_in_the_query_gives_a_plain_number(server):
    expect(server.get("/next/t?format=text"), 200, b"1\n", "text/plain")
    expect_next(server.get("/next/t?format=json"), 2, "t")
    expect(server.get("/next/t?format=text"), 200, b"3\n", "text/plain")


def test_accept_header_chooses_text_only_when_it_prefers_text(server):
    cases = [
        ("text/plain", b"1\n"),
        ("text/plain;q=0.5, application/json", {"next_value": 2, "sequence_id": "acc"}),
        ("application/json;q=0.1, text/plain", b"3\n"),
        ("*/*", {"next_value": 4, "sequence_id": "acc"}),
        ("application/json", {"next_value": 5, "sequence_id": "acc"}),
        ("text/plain, application/json", {"next_value": 6, "sequence_id": "acc"}),
    ]
    for accept, body in cases:
        reply = server.get("/next/acc", headers={"Accept": accept})
        if isinstance(body, bytes):
            expect(reply, 200, body, "text/plain")
        else:
            expect(reply, 200, body)


def test_format_errors_are_400_and_consume_nothing(server):
    expect(server.get("/next/f?format=xml"), 400,
           {"error": "Invalid parameter", "message": "format must be 'json' or 'text'."})
    expect(server.get("/next/f?format=text&format=json"), 400,
           {"error": "Invalid parameter", "message": "format is given more than once."})
    expect_next(server.get("/next/f"), 1, "f")


def test_unknown_query_parameters_are_ignored(server):
    expect_next(server.get("/next/q?foo=bar"), 1, "q")
    expect(server.get("/next/q?foo=bar&format=text&x"), 200, b"2\n", "text/plain")


def test_head_is_405_and_consumes_nothing(server):
    expect_next(server.get("/next/h"), 1, "h")
    for _ in range(3):
        reply = server.request("HEAD", "/next/h")
        assert (reply.status, reply.body) == (405, b""), str(reply)
        assert reply.headers.get("allow") == "GET, POST", str(reply)
        assert reply.headers.get("cache-control") == "no-store", str(reply)
    reply = server.request("HEAD", "/next/never")
    assert reply.status == 405, str(reply)
    expect_next(server.get("/next/h"), 2, "h")
    expect_next(server.get("/next/never"), 1, "never")


def test_put_and_delete_are_405_and_consume_nothing(server):
    for method in ("PUT", "DELETE"):
        reply = server.request(method, "/next/m")
        expect(reply, 405, {"error": "Method not allowed", "message": "Allowed methods: GET, POST."})
        assert reply.headers.get("allow") == "GET, POST", str(reply)
    expect_next(server.get("/next/m"), 1, "m")


def test_post_counts_like_get(server):
    expect_next(server.request("POST", "/next/p"), 1, "p")
    expect_next(server.get("/next/p"), 2, "p")
    expect_next(server.request("POST", "/next/p", body=b""), 3, "p")
    expect(server.request("POST", "/next/p?format=text"), 200, b"4\n", "text/plain")


def test_every_body_is_json_or_the_documented_text(server):
    requests = [("GET", "/next/j"), ("POST", "/next/j"), ("GET", "/next/j?format=json"),
                ("PUT", "/next/j"), ("DELETE", "/next/j"), ("GET", "/next/j?format=xml"),
                ("GET", "/next/%zz"), ("GET", "/next/a%2Fb"), ("GET", "/next/" + "a" * 201)]
    requests += [("GET", path) for path in NOT_FOUND_PATHS]
    for method, path in requests:
        if web_server_refuses(path):
            continue
        reply = server.request(method, path)
        assert reply.headers.get("content-type") == "application/json", str(reply)
        assert reply.body.endswith(b"\n") and b"\n" not in reply.body[:-1], str(reply)
        obj = json.loads(reply.body.decode("utf-8"))
        if reply.status == 200:
            assert list(obj) == ["next_value", "sequence_id"], str(reply)
        else:
            assert list(obj) == ["error", "message"], str(reply)
    reply = server.get("/next/j?format=text")
    assert reply.headers.get("content-type") == "text/plain", str(reply)
    assert reply.body.endswith(b"\n") and int(reply.body) > 0, str(reply)
