"""Admin over HTTP: /api/admin/sequences, behind "Authorization: Bearer <admin_token>"
(API.md sections 3, 7 and 8)."""

import json

import pytest

from nextid_server import StartError, expect, expect_next, not_found

TOKEN = "adm1n-T0ken_for.tests~0123456789"
AUTH = {"Authorization": "Bearer " + TOKEN}
INT_MAX = 2147483647
LONG_MAX = 9223372036854775807

DISABLED = {"error": "Admin disabled",
            "message": "No admin_token is configured; administer with nextidctl on the host."}
UNAUTHORIZED = {"error": "Unauthorized",
                "message": "Send the admin token as \"Authorization: Bearer <admin_token>\"."}
INVALID_JSON = {"error": "Invalid JSON", "message": "The body must be one JSON object."}
UNKNOWN_FIELD = {"error": "Invalid field",
                 "message": "Unknown field; the fields are type, start, increment, min, max, "
                            "cycle and cache."}
NUMBERS = "Numbers must be whole numbers, as JSON numbers or strings of digits."
BAD_TYPE = "type must be int, long, uuid8, uuid12, uuid16 or uuid22."
BAD_CYCLE = "cycle must be true or false."
BAD_CACHE = "cache must be a whole number from 0 to 1000000."
NEXT_RANGE = "The next value must lie between min and max."
NO_NEXT = "A random-id sequence has no next value to set."


# Requests and bodies ---------------------------------------------------------------------

def path(name=None, suffix=""):
    return "/api/admin/sequences" + ("" if name is None else "/" + name) + suffix


def encode(body):
    if body is None or isinstance(body, bytes):
        return body
    return json.dumps(body).encode("utf-8")


def put(srv, name, body, headers=AUTH):
    return srv.request("PUT", path(name), headers, encode(body))


def set_next(srv, name, body, headers=AUTH):
    return srv.request("POST", path(name, "/next"), headers, encode(body))


def show(srv, name, method="GET", headers=AUTH):
    return srv.request(method, path(name), headers)


def listing(srv, query="", method="GET", headers=AUTH):
    return srv.request(method, path() + query, headers)


def delete(srv, name, headers=AUTH):
    return srv.request("DELETE", path(name), headers)


def seq(name, data_type, next_value, increment=1, min_value=1, max_value=None, cycle=False,
        cache=0, exhausted=False):
    """One sequence as the admin API writes it: counters as JSON numbers for int, strings for
    long, null for the uuid types; next is null once the sequence is exhausted."""
    if max_value is None:
        max_value = {"int": INT_MAX, "long": LONG_MAX}.get(data_type)

    def number(v):
        if data_type.startswith("uuid") or v is None:
            return None
        return str(v) if data_type == "long" else v

    return {"name": name, "type": data_type, "next": None if exhausted else number(next_value),
            "increment": number(increment), "min": number(min_value), "max": number(max_value),
            "cycle": cycle, "cache": cache, "exhausted": exhausted}


def uuid_seq(name, data_type):
    return seq(name, data_type, None, None, None, None)


def invalid_field(message):
    return {"error": "Invalid field", "message": message}


def invalid_options(message):
    return {"error": "Invalid options", "message": message}


def not_found_seq(name):
    return {"error": "Sequence not found", "message": "No sequence is named '%s'." % name}


def status_body(entity, data_type, current):
    if current is not None and data_type == "long":
        current = str(current)
    return {"entityName": entity, "dataType": data_type, "currentValue": current}


def status(srv, entity):
    return srv.get("/api/status/" + entity)


def next_id(srv, entity, data_type):
    return srv.get("/api/next-id/%s?dataType=%s" % (entity, data_type))


def expect_head(reply, status_code, headers=None):
    """A HEAD answer: the status, no body, and the headers a GET would carry."""
    assert (reply.status, reply.body) == (status_code, b""), str(reply)
    assert reply.headers.get("cache-control") == "no-store", str(reply)
    for name, value in (headers or {}).items():
        assert reply.headers.get(name) == value, str(reply)


def check_all(cases):
    """cases: (reply, status, body). Every mismatch is collected, so that one run shows them all."""
    wrong = []
    for reply, code, body in cases:
        try:
            expect(reply, code, body)
        except AssertionError:
            wrong.append("%s\n    want %d %r" % (reply, code, body))
    assert not wrong, "%d of %d requests got another answer:\n%s" % (
        len(wrong), len(cases), "\n".join(wrong))


@pytest.fixture
def admin(nextid):
    """A started nextid with an admin token."""
    return nextid(config={"admin_token": TOKEN})


# Every endpoint, as (method, path, body); "k" exists, "fresh" does not.
ENDPOINTS = [
    ("GET", path(), None),
    ("HEAD", path(), None),
    ("GET", path(None, "?limit=1&after=a"), None),
    ("GET", path("k"), None),
    ("HEAD", path("k"), None),
    ("GET", path("fresh"), None),
    ("PUT", path("k"), b'{"start":50}'),
    ("PUT", path("fresh"), b'{}'),
    ("PUT", path("k"), b'not json'),
    ("POST", path("k", "/next"), b'{"next":70}'),
    ("POST", path("fresh", "/next"), b'{"next":70}'),
    ("DELETE", path("k"), None),
    ("DELETE", path("fresh"), None),
    ("GET", path("%FF"), None),
]

BAD_AUTHORIZATION = [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Bearer" + TOKEN,
    "Basic " + TOKEN,
    "Token " + TOKEN,
    TOKEN,
    "Bearer " + TOKEN + "x",
    "Bearer " + TOKEN[:-1],
    "Bearer " + TOKEN[:16],
    "Bearer " + TOKEN.upper(),
    "Bearer x" + TOKEN,
    "Bearer wrong-token-of-the-same-size-xx",
]


def answers_to(srv, method, target, body, header):
    headers = {} if header is None else {"Authorization": header}
    return srv.request(method, target, headers, body)


# Authorization ---------------------------------------------------------------------------

def test_without_an_admin_token_every_admin_endpoint_is_403_and_changes_nothing(server):
    expect_next(server.get("/next/k"), 1, "k")
    wrong = []
    for method, target, body in ENDPOINTS:
        for header in (None, "Bearer " + TOKEN, "Bearer "):
            reply = answers_to(server, method, target, body, header)
            try:
                if method == "HEAD":
                    expect_head(reply, 403)
                else:
                    expect(reply, 403, DISABLED)
                assert "www-authenticate" not in reply.headers, str(reply)
            except AssertionError:
                wrong.append("%s (Authorization %r)" % (reply, header))
    assert not wrong, "%d answers were not 403 Admin disabled:\n%s" % (len(wrong),
                                                                       "\n".join(wrong))
    expect(status(server, "k"), 200, status_body("k", "long", 2))
    expect(server.get("/api/list"), 200, {"entities": [status_body("k", "long", 2)]})


def test_a_missing_or_wrong_token_is_401_with_www_authenticate_and_changes_nothing(admin):
    expect(put(admin, "k", {"type": "int", "start": 5}), 201, seq("k", "int", 5))
    wrong = []
    for method, target, body in ENDPOINTS:
        for header in BAD_AUTHORIZATION:
            reply = answers_to(admin, method, target, body, header)
            try:
                if method == "HEAD":
                    expect_head(reply, 401, {"www-authenticate": "Bearer"})
                else:
                    expect(reply, 401, UNAUTHORIZED)
                assert reply.headers.get("www-authenticate") == "Bearer", str(reply)
            except AssertionError:
                wrong.append("%s (Authorization %r)" % (reply, header))
    assert not wrong, "%d answers were not 401 Unauthorized:\n%s" % (len(wrong), "\n".join(wrong))
    expect(show(admin, "k"), 200, seq("k", "int", 5))
    expect(show(admin, "fresh"), 404, not_found_seq("fresh"))
    expect(listing(admin), 200, {"sequences": [seq("k", "int", 5)]})


def test_the_bearer_scheme_is_case_insensitive_and_the_token_is_not(admin):
    expect(put(admin, "k", {}), 201, seq("k", "long", 1))
    for scheme in ("Bearer", "bearer", "BEARER", "bEaReR"):
        headers = {"Authorization": scheme + " " + TOKEN}
        expect(show(admin, "k", headers=headers), 200, seq("k", "long", 1))
        expect(listing(admin, headers=headers), 200, {"sequences": [seq("k", "long", 1)]})
    expect(put(admin, "k", {"start": 9}, headers={"Authorization": "bearer " + TOKEN}), 200,
           seq("k", "long", 9))
    for token in (TOKEN.upper(), TOKEN.lower(), TOKEN.swapcase()):
        if token != TOKEN:
            expect(show(admin, "k", headers={"Authorization": "Bearer " + token}), 401,
                   UNAUTHORIZED)


def test_tokens_of_16_and_256_printable_characters_work(nextid):
    for token in ("0123456789abcdef", "~!$%&*+-./:;<=>?@[]^_`{|}" + "z" * 231):
        assert len(token) in (16, 256)
        srv = nextid(config={"admin_token": token})
        expect(listing(srv, headers={"Authorization": "Bearer " + token}), 200, {"sequences": []})
        expect(listing(srv, headers={"Authorization": "Bearer " + token[:-1]}), 401, UNAUTHORIZED)
        srv.stop()


@pytest.mark.parametrize("token", ["A" * 15, "A" * 257, "has a space in it 0123"])
def test_an_admin_token_that_is_too_short_too_long_or_spaced_stops_start_up(nextid, token):
    srv = nextid(config={"admin_token": token}, start=False)
    with pytest.raises(StartError):
        srv.start()


# list and show -----------------------------------------------------------------------------

def test_list_shows_every_sequence_sorted_by_name_with_typed_fields(admin):
    expect(listing(admin), 200, {"sequences": []})
    expect(put(admin, "b", {"type": "int", "start": 10, "max": 100, "cycle": True, "cache": 5}),
           201, seq("b", "int", 10, max_value=100, cycle=True, cache=5))
    expect_next(admin.get("/next/a%20b"), 1, "a b")
    expect(put(admin, "B", {"type": "uuid12"}), 201, uuid_seq("B", "uuid12"))
    expect(put(admin, "%C3%A9", {"increment": -3}), 201,
           seq("é", "long", LONG_MAX, increment=-3))
    expect(put(admin, "full", {"type": "int", "start": INT_MAX}), 201, seq("full", "int", INT_MAX))
    expect(next_id(admin, "full", "int"), 200,
           {"entityName": "full", "dataType": "int", "value": INT_MAX})
    want = [uuid_seq("B", "uuid12"), seq("a b", "long", 2), seq("b", "int", 10, max_value=100,
                                                               cycle=True, cache=5),
            seq("full", "int", INT_MAX, exhausted=True),
            seq("é", "long", LONG_MAX, increment=-3)]
    for _ in range(2):
        expect(listing(admin), 200, {"sequences": want})
    reply = listing(admin)
    assert reply.body.startswith(
        b'{"sequences":[{"name":"B","type":"uuid12","next":null,"increment":null,"min":null,'
        b'"max":null,"cycle":false,"cache":0,"exhausted":false},{"name":"a b","type":"long",'
        b'"next":"2","increment":"1","min":"1","max":"9223372036854775807","cycle":false,'
        b'"cache":0,"exhausted":false},{"name":"b","type":"int","next":10,"increment":1,'
        b'"min":1,"max":100,"cycle":true,"cache":5,"exhausted":false},'), str(reply)
    expect_head(listing(admin, method="HEAD"), 200)
    # Reading consumed nothing.
    expect_next(admin.get("/next/a%20b"), 2, "a b")


def test_list_pages_with_after_and_limit_and_refuses_bad_ones(admin):
    names = ["a", "b", "c", "d", "e"]
    for name in names:
        assert put(admin, name, {"type": "int"}).status == 201
    all_five = [seq(n, "int", 1) for n in names]
    expect(listing(admin, "?limit=2"), 200, {"sequences": all_five[:2]})
    expect(listing(admin, "?limit=2&after=b"), 200, {"sequences": all_five[2:4]})
    expect(listing(admin, "?after=d"), 200, {"sequences": all_five[4:]})
    expect(listing(admin, "?after=bb&limit=1"), 200, {"sequences": all_five[2:3]})
    expect(listing(admin, "?after=e"), 200, {"sequences": []})
    expect(listing(admin, "?limit=10000"), 200, {"sequences": all_five})
    bad_limit = {"error": "Invalid parameter", "message": "limit must be between 1 and 10000."}
    bad_after = {"error": "Invalid parameter", "message": "after must be a valid name."}
    check_all([(listing(admin, "?limit=" + v), 400, bad_limit)
               for v in ("0", "10001", "abc", "", "-1", "1e3", "0x10")] +
              [(listing(admin, "?after=" + v), 400, bad_after) for v in ("%FF", "%01", "a%2Fb")])


def test_show_answers_one_sequence_or_404(admin):
    expect(put(admin, "s", {"type": "int", "start": 3, "increment": 2}), 201,
           seq("s", "int", 3, increment=2))
    expect(show(admin, "s"), 200, seq("s", "int", 3, increment=2))
    expect_head(show(admin, "s", "HEAD"), 200)
    expect(show(admin, "ghost"), 404, not_found_seq("ghost"))
    expect(show(admin, "%C3%A9t%C3%A9"), 404, not_found_seq("été"))
    expect_head(show(admin, "ghost", "HEAD"), 404)
    # Show creates nothing and consumes nothing.
    expect(show(admin, "ghost"), 404, not_found_seq("ghost"))
    expect(next_id(admin, "s", "int"), 200, {"entityName": "s", "dataType": "int", "value": 3})


def test_invalid_names_are_400_on_every_admin_endpoint(admin):
    cases = []
    for raw, message in (("%FF", "Name must be valid UTF-8."),
                         ("%01", "Name must not contain control characters."),
                         ("a" * 201, "Name must be 1 to 200 bytes."),
                         ("a%2Fb", "Name must not contain '/'.")):
        body = {"error": "Invalid name", "message": message}
        cases += [(show(admin, raw), 400, body), (put(admin, raw, {}), 400, body),
                  (set_next(admin, raw, {"next": 1}), 400, body), (delete(admin, raw), 400, body)]
    check_all(cases)
    expect(listing(admin), 200, {"sequences": []})


def test_admin_paths_without_exactly_one_name_are_404(admin):
    check_all([(admin.request("GET", p, AUTH), 404, not_found())
               for p in ("/api/admin/sequences/", "/api/admin/sequences/a/b", "/api/admin",
                         "/api/admin/", "/api/admin/sequences/a/next/x")])


def test_wrong_methods_are_405_with_allow(admin):
    expect(put(admin, "w", {}), 201, seq("w", "long", 1))
    cases = [("POST", path("w"), "GET, HEAD, PUT, DELETE"),
             ("PUT", path(), "GET, HEAD"), ("POST", path(), "GET, HEAD"),
             ("DELETE", path(), "GET, HEAD"),
             ("GET", path("w", "/next"), "POST"), ("PUT", path("w", "/next"), "POST"),
             ("DELETE", path("w", "/next"), "POST")]
    for method, target, allow in cases:
        body = b'{"next":5}' if method in ("PUT", "POST") else None
        reply = admin.request(method, target, AUTH, body)
        expect(reply, 405, {"error": "Method not allowed",
                            "message": "Allowed methods: %s." % allow})
        assert reply.headers.get("allow") == allow, str(reply)
    expect(show(admin, "w"), 200, seq("w", "long", 1))


# PUT: create ----------------------------------------------------------------------------

def test_put_creates_a_long_from_1_with_defaults_and_answers_201(admin):
    reply = put(admin, "new", {})
    expect(reply, 201, seq("new", "long", 1))
    assert reply.body == (b'{"name":"new","type":"long","next":"1","increment":"1","min":"1",'
                          b'"max":"9223372036854775807","cycle":false,"cache":0,'
                          b'"exhausted":false}\n'), str(reply)
    expect(status(admin, "new"), 200, status_body("new", "long", 1))
    expect_next(admin.get("/next/new"), 1, "new")


def test_put_creates_every_type(admin):
    expect(put(admin, "i", {"type": "int"}), 201, seq("i", "int", 1))
    expect(put(admin, "l", {"type": "long"}), 201, seq("l", "long", 1))
    for data_type in ("uuid8", "uuid12", "uuid16", "uuid22"):
        expect(put(admin, data_type, {"type": data_type}), 201, uuid_seq(data_type, data_type))
        reply = next_id(admin, data_type, data_type)
        assert reply.status == 200 and len(reply.json()["value"]) == int(data_type[4:]), str(reply)
        expect(status(admin, data_type), 200, status_body(data_type, data_type, None))
    expect(next_id(admin, "i", "int"), 200, {"entityName": "i", "dataType": "int", "value": 1})


def test_put_creates_with_every_field(admin):
    body = {"type": "int", "start": 20, "increment": 5, "min": 10, "max": 40, "cycle": True,
            "cache": 0}
    want = seq("all", "int", 20, increment=5, min_value=10, max_value=40, cycle=True)
    expect(put(admin, "all", body), 201, want)
    expect(show(admin, "all"), 200, want)
    for value in (20, 25, 30, 35, 40, 10, 15):
        expect_next(admin.get("/next/all"), value, "all")


def test_put_creating_a_decrementing_sequence_starts_at_max(admin):
    expect(put(admin, "down", {"type": "int", "increment": -1, "max": 3}), 201,
           seq("down", "int", 3, increment=-1, max_value=3))
    for value in (3, 2, 1):
        expect_next(admin.get("/next/down"), value, "down")
    expect(show(admin, "down"), 200, seq("down", "int", 1, increment=-1, max_value=3,
                                         exhausted=True))
    expect(put(admin, "downl", {"increment": -1}), 201,
           seq("downl", "long", LONG_MAX, increment=-1))


def test_put_takes_numbers_as_json_integers_or_strings_of_digits(admin):
    expect(put(admin, "big", {"start": "9223372036854775806", "max": "9223372036854775807",
                              "increment": "1", "min": "2"}), 201,
           seq("big", "long", LONG_MAX - 1, min_value=2))
    expect(put(admin, "big2", {"start": 9223372036854775807}), 201, seq("big2", "long", LONG_MAX))
    expect(put(admin, "neg", {"increment": "-5"}), 201,
           seq("neg", "long", LONG_MAX, increment=-5))
    expect(put(admin, "c", {"cache": 1000000}), 201, seq("c", "long", 1, cache=1000000))
    expect_next(admin.get("/next/big"), LONG_MAX - 1, "big")
    expect_next(admin.get("/next/big"), LONG_MAX, "big")


# PUT: change ----------------------------------------------------------------------------

def test_put_on_an_existing_sequence_changes_it_and_answers_200(admin):
    expect(put(admin, "x", {"type": "int"}), 201, seq("x", "int", 1))
    expect_next(admin.get("/next/x"), 1, "x")
    expect(put(admin, "x", {"max": 1000}), 200, seq("x", "int", 2, max_value=1000))
    expect(put(admin, "x", {"cache": 10}), 200, seq("x", "int", 2, max_value=1000, cache=10))
    expect(put(admin, "x", {"cycle": True}), 200,
           seq("x", "int", 2, max_value=1000, cycle=True, cache=10))
    expect(put(admin, "x", {"cycle": False, "cache": 0}), 200, seq("x", "int", 2, max_value=1000))
    expect(put(admin, "x", {}), 200, seq("x", "int", 2, max_value=1000))
    expect(put(admin, "x", {"min": 2}), 200, seq("x", "int", 2, min_value=2, max_value=1000))
    expect(show(admin, "x"), 200, seq("x", "int", 2, min_value=2, max_value=1000))


def test_put_start_on_an_existing_sequence_sets_the_next_value(admin):
    expect_next(admin.get("/next/x"), 1, "x")
    expect_next(admin.get("/next/x"), 2, "x")
    expect(put(admin, "x", {"start": 500}), 200, seq("x", "long", 500))
    expect(status(admin, "x"), 200, status_body("x", "long", 500))
    expect_next(admin.get("/next/x"), 500, "x")
    expect(put(admin, "x", {"start": 2}), 200, seq("x", "long", 2))
    expect_next(admin.get("/next/x"), 2, "x")


def test_a_changed_increment_takes_effect_at_once_for_next(admin):
    for value in (1, 2, 3):
        expect_next(admin.get("/next/step"), value, "step")
    expect(put(admin, "step", {"increment": 2}), 200, seq("step", "long", 4, increment=2))
    for value in (4, 6, 8):
        expect_next(admin.get("/next/step"), value, "step")
    expect(put(admin, "step", {"increment": -3}), 200, seq("step", "long", 10, increment=-3))
    for value in (10, 7, 4, 1):
        expect_next(admin.get("/next/step"), value, "step")
    expect(admin.get("/next/step"), 409, {
        "error": "Sequence exhausted",
        "message": "Sequence 'step' reached its maximum; raise its max or enable cycle."})


def test_a_lowered_max_and_cycle_take_effect_at_once(admin):
    expect_next(admin.get("/next/c"), 1, "c")
    expect(put(admin, "c", {"max": 3, "cycle": True}), 200,
           seq("c", "long", 2, max_value=3, cycle=True))
    for value in (2, 3, 1, 2, 3, 1):
        expect_next(admin.get("/next/c"), value, "c")


def test_raising_max_of_an_exhausted_sequence_resumes_after_its_last_value(admin):
    expect(put(admin, "ex", {"type": "int", "start": 101, "increment": 2, "max": 105}), 201,
           seq("ex", "int", 101, increment=2, max_value=105))
    for value in (101, 103, 105):
        expect_next(admin.get("/next/ex"), value, "ex")
    exhausted = seq("ex", "int", None, increment=2, max_value=105, exhausted=True)
    expect(show(admin, "ex"), 200, exhausted)
    expect(status(admin, "ex"), 200, status_body("ex", "int", None))
    expect(admin.get("/next/ex"), 409, {
        "error": "Sequence exhausted",
        "message": "Sequence 'ex' reached its maximum; raise its max or enable cycle."})
    expect(put(admin, "ex", {"max": 200}), 200, seq("ex", "int", 107, increment=2, max_value=200))
    expect(status(admin, "ex"), 200, status_body("ex", "int", 107))
    expect_next(admin.get("/next/ex"), 107, "ex")
    expect_next(admin.get("/next/ex"), 109, "ex")


def test_a_start_on_an_exhausted_sequence_revives_it(admin):
    expect(put(admin, "ex", {"max": 2}), 201, seq("ex", "long", 1, max_value=2))
    expect_next(admin.get("/next/ex"), 1, "ex")
    expect_next(admin.get("/next/ex"), 2, "ex")
    expect(show(admin, "ex"), 200, seq("ex", "long", None, max_value=2, exhausted=True))
    expect(put(admin, "ex", {"start": 2}), 200, seq("ex", "long", 2, max_value=2))
    expect_next(admin.get("/next/ex"), 2, "ex")


# PUT: refusals ---------------------------------------------------------------------------

def test_put_refuses_unknown_repeated_and_badly_typed_fields_and_changes_nothing(admin):
    expect(put(admin, "k", {"type": "int", "start": 5}), 201, seq("k", "int", 5))
    cases = []
    for name in ("k", "fresh"):
        cases += [
            (put(admin, name, {"foo": 1}), 400, UNKNOWN_FIELD),
            (put(admin, name, {"start": 6, "Start": 7}), 400, UNKNOWN_FIELD),
            (put(admin, name, {"next": 6}), 400, UNKNOWN_FIELD),
            (put(admin, name, b'{"start":1,"start":2}'), 400,
             invalid_field("Field 'start' is given more than once.")),
            (put(admin, name, b'{"cycle":true,"max":9,"cycle":false}'), 400,
             invalid_field("Field 'cycle' is given more than once.")),
            (put(admin, name, {"start": 1.5}), 400, invalid_field(NUMBERS)),
            (put(admin, name, {"start": "1.5"}), 400, invalid_field(NUMBERS)),
            (put(admin, name, {"start": "abc"}), 400, invalid_field(NUMBERS)),
            (put(admin, name, {"start": "1e3"}), 400, invalid_field(NUMBERS)),
            (put(admin, name, {"start": " 5"}), 400, invalid_field(NUMBERS)),
            (put(admin, name, {"start": ""}), 400, invalid_field(NUMBERS)),
            (put(admin, name, {"start": None}), 400, invalid_field(NUMBERS)),
            (put(admin, name, {"start": True}), 400, invalid_field(NUMBERS)),
            (put(admin, name, {"increment": [1]}), 400, invalid_field(NUMBERS)),
            (put(admin, name, {"max": "9223372036854775808"}), 400, invalid_field(NUMBERS)),
            (put(admin, name, b'{"max":9223372036854775808}'), 400, invalid_field(NUMBERS)),
            (put(admin, name, {"cycle": "yes"}), 400, invalid_field(BAD_CYCLE)),
            (put(admin, name, {"cycle": 1}), 400, invalid_field(BAD_CYCLE)),
            (put(admin, name, {"cycle": None}), 400, invalid_field(BAD_CYCLE)),
            (put(admin, name, {"type": "float"}), 400, invalid_field(BAD_TYPE)),
            (put(admin, name, {"type": "INT"}), 400, invalid_field(BAD_TYPE)),
            (put(admin, name, {"type": "uuid"}), 400, invalid_field(BAD_TYPE)),
            (put(admin, name, {"type": ""}), 400, invalid_field(BAD_TYPE)),
            (put(admin, name, {"type": 1}), 400, invalid_field(BAD_TYPE)),
            (put(admin, name, {"cache": -1}), 400, invalid_field(BAD_CACHE)),
            (put(admin, name, {"cache": 1000001}), 400, invalid_field(BAD_CACHE)),
            (put(admin, name, {"cache": 1.5}), 400, invalid_field(BAD_CACHE)),
            (put(admin, name, {"cache": "x"}), 400, invalid_field(BAD_CACHE)),
            (put(admin, name, {"cache": False}), 400, invalid_field(BAD_CACHE)),
        ]
    check_all(cases)
    expect(show(admin, "k"), 200, seq("k", "int", 5))
    expect(show(admin, "fresh"), 404, not_found_seq("fresh"))


def test_put_refuses_a_body_that_is_not_one_json_object(admin):
    expect(put(admin, "k", {}), 201, seq("k", "long", 1))
    cases = []
    for name in ("k", "fresh"):
        for body in (None, b"", b"nope", b"{", b'{"start":1', b"[]", b'[{"start":1}]', b"1",
                     b'"str"', b"null", b"{} {}", b"{}x", b'{"start":2}\x00'):
            cases.append((put(admin, name, body), 400, INVALID_JSON))
    cases.append((set_next(admin, "k", b"[1]"), 400, INVALID_JSON))
    cases.append((set_next(admin, "k", None), 400, INVALID_JSON))
    check_all(cases)
    expect(show(admin, "k"), 200, seq("k", "long", 1))
    expect(show(admin, "fresh"), 404, not_found_seq("fresh"))


def test_put_refuses_an_invalid_combination_with_the_reason(admin):
    expect(put(admin, "k", {"type": "int", "start": 5}), 201, seq("k", "int", 5))
    cases = []
    for name in ("k", "fresh"):
        cases += [
            (put(admin, name, {"min": 0}), 400, invalid_options("min must be at least 1.")),
            (put(admin, name, {"min": -3}), 400, invalid_options("min must be at least 1.")),
            (put(admin, name, {"increment": 0}), 400,
             invalid_options("increment must not be 0.")),
            (put(admin, name, {"min": 10, "max": 9, "start": 9}), 400,
             invalid_options("min must not exceed max.")),
            (put(admin, name, {"type": "int", "max": INT_MAX + 1}), 400,
             invalid_options("max must not exceed 2147483647 for an int.")),
            (put(admin, name, {"start": 0}), 400, invalid_options(NEXT_RANGE)),
            (put(admin, name, {"start": 11, "max": 10}), 400, invalid_options(NEXT_RANGE)),
            (put(admin, name, {"type": "uuid8", "start": 3}), 400, invalid_options(NO_NEXT)),
        ]
    cases += [
        (put(admin, "k", {"max": 4}), 400, invalid_options(NEXT_RANGE)),
        (put(admin, "k", {"min": 6}), 400, invalid_options(NEXT_RANGE)),
        (put(admin, "k", {"max": INT_MAX + 1}), 400,
         invalid_options("max must not exceed 2147483647 for an int.")),
    ]
    check_all(cases)
    expect(show(admin, "k"), 200, seq("k", "int", 5))
    expect(show(admin, "fresh"), 404, not_found_seq("fresh"))


# PUT: type transitions --------------------------------------------------------------------

def test_long_to_uuid16_drops_the_counter(admin):
    for value in (1, 2, 3):
        expect_next(admin.get("/next/t"), value, "t")
    expect(put(admin, "t", {"type": "uuid16"}), 200, uuid_seq("t", "uuid16"))
    expect(status(admin, "t"), 200, status_body("t", "uuid16", None))
    reply = next_id(admin, "t", "uuid16")
    assert reply.status == 200 and len(reply.json()["value"]) == 16, str(reply)
    expect(admin.get("/next/t"), 400, {
        "error": "Type mismatch", "message": "Entity 't' is registered as 'uuid16', cannot use "
                                             "'long'", "registeredType": "uuid16"})


def test_uuid_to_int_starts_at_1_or_at_the_given_start(admin):
    expect(put(admin, "u1", {"type": "uuid8"}), 201, uuid_seq("u1", "uuid8"))
    expect(put(admin, "u1", {"type": "int"}), 200, seq("u1", "int", 1))
    expect(next_id(admin, "u1", "int"), 200, {"entityName": "u1", "dataType": "int", "value": 1})
    expect(put(admin, "u2", {"type": "uuid22"}), 201, uuid_seq("u2", "uuid22"))
    expect(put(admin, "u2", {"type": "int", "start": 700}), 200, seq("u2", "int", 700))
    expect(status(admin, "u2"), 200, status_body("u2", "int", 700))
    expect(put(admin, "u3", {"type": "uuid12"}), 201, uuid_seq("u3", "uuid12"))
    expect(put(admin, "u3", {"type": "long", "start": "5000000000"}), 200,
           seq("u3", "long", 5000000000))
    expect_next(admin.get("/next/u3"), 5000000000, "u3")


def test_int_to_long_keeps_the_next_value_and_a_default_max_becomes_the_longs(admin):
    expect(put(admin, "i", {"type": "int", "start": 41}), 201, seq("i", "int", 41))
    expect(put(admin, "i", {"type": "long"}), 200, seq("i", "long", 41))
    expect_next(admin.get("/next/i"), 41, "i")
    expect(put(admin, "j", {"type": "int", "start": 41, "max": 100}), 201,
           seq("j", "int", 41, max_value=100))
    expect(put(admin, "j", {"type": "long"}), 200, seq("j", "long", 41, max_value=100))


def test_an_exhausted_int_turned_long_goes_on_past_2_31(admin):
    expect(put(admin, "top", {"type": "int", "start": INT_MAX}), 201, seq("top", "int", INT_MAX))
    expect(next_id(admin, "top", "int"), 200,
           {"entityName": "top", "dataType": "int", "value": INT_MAX})
    expect(put(admin, "top", {"type": "long"}), 200, seq("top", "long", INT_MAX + 1))
    expect_next(admin.get("/next/top"), INT_MAX + 1, "top")


def test_long_to_int_keeps_a_next_value_that_fits_and_refuses_one_that_does_not(admin):
    expect(put(admin, "small", {"start": 77}), 201, seq("small", "long", 77))
    expect(put(admin, "small", {"type": "int"}), 200, seq("small", "int", 77))
    expect(put(admin, "big", {"start": INT_MAX + 1}), 201, seq("big", "long", INT_MAX + 1))
    expect(put(admin, "big", {"type": "int"}), 400, invalid_options(NEXT_RANGE))
    expect(show(admin, "big"), 200, seq("big", "long", INT_MAX + 1))
    expect_next(admin.get("/next/big"), INT_MAX + 1, "big")
    # With a start that fits, the change goes through.
    expect(put(admin, "big", {"type": "int", "start": 9}), 200, seq("big", "int", 9))


# POST next -------------------------------------------------------------------------------

def test_post_next_sets_the_next_value_issued(admin):
    expect_next(admin.get("/next/n"), 1, "n")
    expect(set_next(admin, "n", {"next": 1000}), 200, seq("n", "long", 1000))
    expect_next(admin.get("/next/n"), 1000, "n")
    expect(set_next(admin, "n", {"next": "9223372036854775807"}), 200, seq("n", "long", LONG_MAX))
    expect(status(admin, "n"), 200, status_body("n", "long", LONG_MAX))
    expect_next(admin.get("/next/n"), LONG_MAX, "n")
    expect(show(admin, "n"), 200, seq("n", "long", None, exhausted=True))
    expect(set_next(admin, "n", {"next": 3}), 200, seq("n", "long", 3))
    expect_next(admin.get("/next/n"), 3, "n")


def test_post_next_refusals(admin):
    expect(put(admin, "r", {"type": "int", "max": 10, "start": 4}), 201,
           seq("r", "int", 4, max_value=10))
    expect(put(admin, "u", {"type": "uuid8"}), 201, uuid_seq("u", "uuid8"))
    check_all([
        (set_next(admin, "ghost", {"next": 5}), 404, not_found_seq("ghost")),
        (set_next(admin, "r", {"next": 11}), 400, invalid_options(NEXT_RANGE)),
        (set_next(admin, "r", {"next": 0}), 400, invalid_options(NEXT_RANGE)),
        (set_next(admin, "r", {"next": -1}), 400, invalid_options(NEXT_RANGE)),
        (set_next(admin, "u", {"next": 5}), 400, invalid_options(NO_NEXT)),
        (set_next(admin, "r", {}), 400, invalid_field("The body must give next.")),
        (set_next(admin, "r", {"start": 5}), 400,
         invalid_field("Unknown field; the only field is next.")),
        (set_next(admin, "r", b'{"next":5,"next":6}'), 400,
         invalid_field("Field 'next' is given more than once.")),
        (set_next(admin, "r", {"next": 5.5}), 400, invalid_field(NUMBERS)),
        (set_next(admin, "r", {"next": "five"}), 400, invalid_field(NUMBERS)),
        (set_next(admin, "r", b"nope"), 400, INVALID_JSON),
    ])
    expect(show(admin, "r"), 200, seq("r", "int", 4, max_value=10))
    expect(show(admin, "ghost"), 404, not_found_seq("ghost"))


# DELETE ----------------------------------------------------------------------------------

def test_delete_removes_a_sequence_and_its_name_restarts_at_1(admin):
    for value in (1, 2, 3):
        expect_next(admin.get("/next/d"), value, "d")
    expect_next(admin.get("/next/keep"), 1, "keep")
    reply = delete(admin, "d")
    expect(reply, 200, {"name": "d", "deleted": True})
    assert reply.body == b'{"name":"d","deleted":true}\n', str(reply)
    expect(show(admin, "d"), 404, not_found_seq("d"))
    expect(status(admin, "d"), 404, {"error": "Entity not found",
                                     "message": "No entity is named 'd'."})
    expect(delete(admin, "d"), 404, not_found_seq("d"))
    expect(listing(admin), 200, {"sequences": [seq("keep", "long", 2)]})
    expect_next(admin.get("/next/d"), 1, "d")
    expect(delete(admin, "%C3%A9"), 404, not_found_seq("é"))
    expect(put(admin, "%C3%A9", {"type": "uuid8"}), 201, uuid_seq("é", "uuid8"))
    expect(delete(admin, "%C3%A9"), 200, {"name": "é", "deleted": True})
