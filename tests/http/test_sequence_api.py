"""The Sequence Service profile: /api/next-id, /api/next-batch, /api/status, /api/list, /api/types
(API.md sections 1, 3 and 8; seed 000)."""

import random
import threading

import pytest

from nextid_server import expect, expect_next, not_found

TYPES = ["int", "long", "uuid8", "uuid12", "uuid16", "uuid22"]
INT_MAX = 2147483647
LONG_MAX = 9223372036854775807

BAD_TYPE = {"error": "Valid dataType is required",
            "message": "dataType must be one of int, long, uuid8, uuid12, uuid16, uuid22.",
            "validTypes": TYPES}
BAD_BATCH = {"error": "Valid batchSize is required",
             "message": "batchSize must be between 1 and 10000"}
BAD_LIMIT = {"error": "Invalid parameter", "message": "limit must be between 1 and 10000."}
BAD_AFTER = {"error": "Invalid parameter", "message": "after must be a valid name."}

TYPES_BODY = {
    "availableTypes": TYPES,
    "description": {
        "int": "Sequential 32-bit integer (1 to 2,147,483,647)",
        "long": "Sequential 64-bit integer (1 to 9,223,372,036,854,775,807)",
        "uuid8": "Random 8-character alphanumeric string",
        "uuid12": "Random 12-character alphanumeric string",
        "uuid16": "Random 16-character alphanumeric string",
        "uuid22": "Random 22-character alphanumeric string",
    },
}

# (raw name in the path, message): names the /next/ endpoint refuses, refused here alike.
INVALID_NAMES = [
    ("%FF", "Name must be valid UTF-8."),
    ("%01", "Name must not contain control characters."),
    ("a" * 201, "Name must be 1 to 200 bytes."),
    ("a%2Fb", "Name must not contain '/'."),
]

NOT_FOUND_PATHS = ["/api/next-id/?dataType=int", "/api/next-id/a/b?dataType=int",
                   "/api/next-id?dataType=int",
                   "/api/next-batch/?dataType=int&batchSize=1",
                   "/api/next-batch/a/b?dataType=int&batchSize=1",
                   "/api/status/", "/api/status/a/b", "/api/nope"]


# Requests and bodies ---------------------------------------------------------------------

def next_id(server, entity, data_type, method="GET"):
    return server.request(method, "/api/next-id/%s?dataType=%s" % (entity, data_type))


def next_batch(server, entity, data_type, size, method="GET"):
    return server.request(method, "/api/next-batch/%s?dataType=%s&batchSize=%s"
                          % (entity, data_type, size))


def status(server, entity, method="GET"):
    return server.request(method, "/api/status/%s" % entity)


def number(data_type, value):
    """How a numeric value of this type is written: a JSON number for int, a string for long."""
    return str(value) if data_type == "long" else value


def id_body(entity, data_type, value):
    return {"entityName": entity, "dataType": data_type, "value": number(data_type, value)}


def batch_body(entity, data_type, size, start, end):
    return {"entityName": entity, "dataType": data_type, "batchSize": size,
            "startValue": number(data_type, start), "endValue": number(data_type, end)}


def status_body(entity, data_type, current):
    value = None if current is None else number(data_type, current)
    return {"entityName": entity, "dataType": data_type, "currentValue": value}


def mismatch(entity, old, new):
    return {"error": "Type mismatch",
            "message": "Entity '%s' is registered as '%s', cannot use '%s'" % (entity, old, new),
            "registeredType": old}


def int_overflow(entity, bound=INT_MAX):
    return {"error": "Integer overflow",
            "message": "Entity '%s' cannot go past %d; nothing was consumed." % (entity, bound)}


def long_overflow(entity, bound=LONG_MAX):
    return {"error": "Long overflow",
            "message": "Entity '%s' cannot go past %d; nothing was consumed." % (entity, bound)}


def not_found_entity(entity):
    return {"error": "Entity not found", "message": "No entity is named '%s'." % entity}


def twice(param):
    return {"error": "Invalid parameter", "message": "%s is given more than once." % param}


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


# next-id ---------------------------------------------------------------------------------

def test_next_id_counts_from_1_as_a_number_for_int_and_a_string_for_long(server):
    for value in (1, 2, 3):
        expect(next_id(server, "users", "int"), 200, id_body("users", "int", value))
    for value in (1, 2):
        expect(next_id(server, "orders", "long"), 200, id_body("orders", "long", value))
    reply = next_id(server, "orders", "long")
    assert reply.body == b'{"entityName":"orders","dataType":"long","value":"3"}\n', str(reply)
    reply = next_id(server, "users", "int")
    assert reply.body == b'{"entityName":"users","dataType":"int","value":4}\n', str(reply)


def test_next_id_answers_post_like_get(server):
    expect(next_id(server, "p", "int", "POST"), 200, id_body("p", "int", 1))
    expect(next_id(server, "p", "int"), 200, id_body("p", "int", 2))
    expect(server.request("POST", "/api/next-id/p?dataType=int", body=b""), 200,
           id_body("p", "int", 3))


def test_entity_names_are_decoded_and_written_as_raw_utf8(server):
    expect(next_id(server, "%C3%A9t%C3%A9", "int"), 200, id_body("été", "int", 1))
    expect(next_id(server, "test@sequence", "long"), 200, id_body("test@sequence", "long", 1))
    expect(next_id(server, "a%20b", "int"), 200, id_body("a b", "int", 1))
    reply = next_id(server, "%C3%A9t%C3%A9", "int")
    assert reply.body == b'{"entityName":"\xc3\xa9t\xc3\xa9","dataType":"int","value":2}\n', str(reply)


def test_head_on_endpoints_that_hand_out_values_is_405_and_consumes_nothing(server):
    expect(next_id(server, "h", "int"), 200, id_body("h", "int", 1))
    for path in ("/api/next-id/h?dataType=int", "/api/next-batch/h?dataType=int&batchSize=5"):
        reply = server.request("HEAD", path)
        assert (reply.status, reply.body) == (405, b""), str(reply)
        assert reply.headers.get("allow") == "GET, POST", str(reply)
        assert reply.headers.get("cache-control") == "no-store", str(reply)
    expect(next_id(server, "h", "int"), 200, id_body("h", "int", 2))


# next-batch ------------------------------------------------------------------------------

def test_int_batches_are_consecutive_ranges_of_numbers(server):
    expect(next_batch(server, "inv", "int", 5), 200, batch_body("inv", "int", 5, 1, 5))
    expect(next_batch(server, "inv", "int", 1), 200, batch_body("inv", "int", 1, 6, 6))
    expect(next_id(server, "inv", "int"), 200, id_body("inv", "int", 7))
    expect(next_batch(server, "inv", "int", 3, "POST"), 200, batch_body("inv", "int", 3, 8, 10))


def test_long_batches_carry_their_bounds_as_strings(server):
    reply = next_batch(server, "ord", "long", 100)
    assert reply.body == (b'{"entityName":"ord","dataType":"long","batchSize":100,'
                          b'"startValue":"1","endValue":"100"}\n'), str(reply)
    expect(reply, 200, batch_body("ord", "long", 100, 1, 100))
    expect(next_id(server, "ord", "long"), 200, id_body("ord", "long", 101))


def test_a_batch_of_10000_works_and_007_means_7(server):
    expect(next_batch(server, "big", "int", 10000), 200, batch_body("big", "int", 10000, 1, 10000))
    expect(next_batch(server, "big", "int", "007"), 200, batch_body("big", "int", 7, 10001, 10007))
    expect(next_batch(server, "bigl", "long", 10000), 200,
           batch_body("bigl", "long", 10000, 1, 10000))


def test_uuid_batches_list_their_values(server):
    for data_type, length in (("uuid8", 8), ("uuid12", 12), ("uuid16", 16), ("uuid22", 22)):
        entity = "tok-" + data_type
        reply = next_batch(server, entity, data_type, 5)
        assert reply.status == 200, str(reply)
        obj = reply.json()
        assert list(obj) == ["entityName", "dataType", "batchSize", "values"], str(reply)
        values = obj["values"]
        assert len(values) == 5 and all(isinstance(v, str) and len(v) == length and v.isascii()
                                        and v.isalnum() for v in values), str(reply)
        expect(reply, 200, {"entityName": entity, "dataType": data_type, "batchSize": 5,
                            "values": values})


# Errors ----------------------------------------------------------------------------------

def test_a_missing_empty_or_unknown_data_type_is_400_and_creates_nothing(server):
    queries = ["", "?dataType=", "?dataType=INT", "?dataType=uuid7", "?dataType=Int",
               "?dataType=integer", "?dataType=uuid", "?dataType=int%20", "?datatype=int"]
    cases = []
    for query in queries:
        cases.append((server.get("/api/next-id/dt" + query), 400, BAD_TYPE))
        sep = "&" if query else "?"
        cases.append((server.get("/api/next-batch/dt" + query + sep + "batchSize=3"), 400, BAD_TYPE))
    # dataType is checked before batchSize.
    for query in ("?batchSize=0", "?dataType=uuid7&batchSize=abc", "?dataType=&batchSize=",
                  "?dataType=INT"):
        cases.append((server.get("/api/next-batch/dt" + query), 400, BAD_TYPE))
    cases.append((status(server, "dt"), 404, not_found_entity("dt")))
    check_all(cases)
    expect(next_id(server, "dt", "long"), 200, id_body("dt", "long", 1))


BAD_BATCH_SIZES = ["", "0", "10001", "-1", "1e3", "0x10", "%205", "10abc", "5.0",
                   "99999999999999999999", "+5", "00000000000000000000010001"]


def test_a_bad_batch_size_is_400_and_consumes_nothing(server):
    cases = []
    for data_type in ("int", "long", "uuid8"):
        cases.append((server.get("/api/next-batch/bs?dataType=%s" % data_type), 400, BAD_BATCH))
        for size in BAD_BATCH_SIZES:
            cases.append((next_batch(server, "bs", data_type, size), 400, BAD_BATCH))
    cases.append((status(server, "bs"), 404, not_found_entity("bs")))
    check_all(cases)
    expect(next_batch(server, "bs", "int", 3), 200, batch_body("bs", "int", 3, 1, 3))
    for size in BAD_BATCH_SIZES[:6]:
        expect(next_batch(server, "bs", "int", size), 400, BAD_BATCH)
    expect(next_batch(server, "bs", "int", 1), 200, batch_body("bs", "int", 1, 4, 4))


def test_a_parameter_given_twice_is_400_and_consumes_nothing(server):
    expect(next_id(server, "dup", "int"), 200, id_body("dup", "int", 1))
    check_all([
        (server.get("/api/next-id/dup?dataType=int&dataType=int"), 400, twice("dataType")),
        (server.get("/api/next-id/dup?dataType=int&dataType=long"), 400, twice("dataType")),
        (server.get("/api/next-batch/dup?dataType=int&dataType=int&batchSize=2"), 400,
         twice("dataType")),
        (server.get("/api/next-batch/dup?dataType=int&batchSize=2&batchSize=2"), 400,
         twice("batchSize")),
        (server.get("/api/next-batch/dup?batchSize=2&dataType=int&batchSize=3"), 400,
         twice("batchSize")),
        (server.get("/api/list?limit=2&limit=2"), 400, twice("limit")),
        (server.get("/api/list?after=a&after=b"), 400, twice("after")),
    ])
    expect(next_id(server, "dup", "int"), 200, id_body("dup", "int", 2))


def test_invalid_entity_names_get_the_same_400_as_next(server):
    cases = []
    for raw, message in INVALID_NAMES:
        body = {"error": "Invalid name", "message": message}
        cases.append((next_id(server, raw, "int"), 400, body))
        cases.append((next_id(server, raw, "uuid8", "POST"), 400, body))
        cases.append((next_batch(server, raw, "long", 2), 400, body))
        cases.append((status(server, raw), 400, body))
    check_all(cases)


def test_paths_without_exactly_one_entity_segment_are_404(server):
    cases = []
    for path in NOT_FOUND_PATHS:
        cases.append((server.get(path), 404, not_found()))
    check_all(cases)


# The type is fixed at first use ----------------------------------------------------------

def test_the_type_is_fixed_by_the_first_next_id(server):
    expect(next_id(server, "t", "int"), 200, id_body("t", "int", 1))
    check_all([
        (next_id(server, "t", "long"), 400, mismatch("t", "int", "long")),
        (next_batch(server, "t", "long", 2), 400, mismatch("t", "int", "long")),
        (next_batch(server, "t", "uuid8", 2), 400, mismatch("t", "int", "uuid8")),
        (next_id(server, "t", "uuid22", "POST"), 400, mismatch("t", "int", "uuid22")),
    ])
    # Nothing was consumed by the refusals.
    expect(next_id(server, "t", "int"), 200, id_body("t", "int", 2))
    expect(status(server, "t"), 200, status_body("t", "int", 3))


def test_the_type_is_fixed_by_the_first_numeric_batch(server):
    expect(next_batch(server, "bl", "long", 3), 200, batch_body("bl", "long", 3, 1, 3))
    check_all([
        (next_id(server, "bl", "int"), 400, mismatch("bl", "long", "int")),
        (next_batch(server, "bl", "int", 3), 400, mismatch("bl", "long", "int")),
        (next_batch(server, "bl", "uuid16", 3), 400, mismatch("bl", "long", "uuid16")),
    ])
    expect(next_id(server, "bl", "long"), 200, id_body("bl", "long", 4))


def test_the_type_is_fixed_by_the_first_uuid_batch_even_against_other_uuid_types(server):
    reply = next_batch(server, "u", "uuid8", 2)
    assert reply.status == 200, str(reply)
    check_all([
        (next_id(server, "u", "uuid16"), 400, mismatch("u", "uuid8", "uuid16")),
        (next_batch(server, "u", "uuid16", 2), 400, mismatch("u", "uuid8", "uuid16")),
        (next_batch(server, "u", "uuid22", 1), 400, mismatch("u", "uuid8", "uuid22")),
        (next_id(server, "u", "int"), 400, mismatch("u", "uuid8", "int")),
        (next_batch(server, "u", "long", 2), 400, mismatch("u", "uuid8", "long")),
        (server.get("/next/u"), 400, mismatch("u", "uuid8", "long")),
        (server.request("POST", "/next/u"), 400, mismatch("u", "uuid8", "long")),
    ])
    reply = next_id(server, "u", "uuid8")
    assert reply.status == 200 and len(reply.json()["value"]) == 8, str(reply)
    expect(status(server, "u"), 200, status_body("u", "uuid8", None))


def test_a_uuid_next_id_fixes_the_type_and_refuses_next(server):
    reply = next_id(server, "s12", "uuid12")
    assert reply.status == 200, str(reply)
    check_all([
        (server.get("/next/s12"), 400, mismatch("s12", "uuid12", "long")),
        (next_id(server, "s12", "uuid8"), 400, mismatch("s12", "uuid12", "uuid8")),
        (next_batch(server, "s12", "int", 1), 400, mismatch("s12", "uuid12", "int")),
    ])


def test_a_sequence_created_by_next_is_long(server):
    expect_next(server.get("/next/n"), 1, "n")
    expect(next_id(server, "n", "long"), 200, id_body("n", "long", 2))
    check_all([
        (next_id(server, "n", "int"), 400, mismatch("n", "long", "int")),
        (next_batch(server, "n", "uuid22", 1), 400, mismatch("n", "long", "uuid22")),
    ])
    expect(next_batch(server, "n", "long", 2), 200, batch_body("n", "long", 2, 3, 4))
    expect_next(server.get("/next/n"), 5, "n")
    expect(status(server, "n"), 200, status_body("n", "long", 6))


def test_next_on_an_int_sequence_continues_its_counter(server):
    expect(next_id(server, "ni", "int"), 200, id_body("ni", "int", 1))
    expect_next(server.get("/next/ni"), 2, "ni")
    expect(next_batch(server, "ni", "int", 2), 200, batch_body("ni", "int", 2, 3, 4))
    expect_next(server.request("POST", "/next/ni"), 5, "ni")
    expect(status(server, "ni"), 200, status_body("ni", "int", 6))


# status ----------------------------------------------------------------------------------

def test_status_reports_the_next_value_and_consumes_nothing(server):
    expect(next_id(server, "s", "int"), 200, id_body("s", "int", 1))
    expect(next_id(server, "s", "int"), 200, id_body("s", "int", 2))
    for _ in range(3):
        expect(status(server, "s"), 200, status_body("s", "int", 3))
        reply = status(server, "s", "HEAD")
        assert (reply.status, reply.body) == (200, b""), str(reply)
        assert reply.headers.get("cache-control") == "no-store", str(reply)
    expect(next_id(server, "s", "int"), 200, id_body("s", "int", 3))

    expect(next_batch(server, "sl", "long", 4), 200, batch_body("sl", "long", 4, 1, 4))
    reply = status(server, "sl")
    assert reply.body == b'{"entityName":"sl","dataType":"long","currentValue":"5"}\n', str(reply)
    expect(next_id(server, "sl", "long"), 200, id_body("sl", "long", 5))


def test_status_of_an_unknown_entity_is_404(server):
    expect(status(server, "ghost"), 404, not_found_entity("ghost"))
    expect(status(server, "%C3%A9t%C3%A9"), 404, not_found_entity("été"))
    reply = status(server, "ghost", "HEAD")
    assert (reply.status, reply.body) == (404, b""), str(reply)
    # Status creates nothing.
    expect(status(server, "ghost"), 404, not_found_entity("ghost"))
    expect(server.get("/api/list"), 200, {"entities": []})


def test_status_shows_a_created_but_unused_sequence_at_its_start(server):
    server.nextidctl("create", "fresh", "--type", "int", "--start", 100)
    expect(status(server, "fresh"), 200, status_body("fresh", "int", 100))
    server.nextidctl("create", "freshl", "--type", "long", "--start", 7)
    expect(status(server, "freshl"), 200, status_body("freshl", "long", 7))
    expect(next_id(server, "fresh", "int"), 200, id_body("fresh", "int", 100))


def test_status_of_an_exhausted_sequence_is_null(server):
    server.nextidctl("create", "lasti", "--type", "int", "--start", INT_MAX)
    expect(status(server, "lasti"), 200, status_body("lasti", "int", INT_MAX))
    expect(next_id(server, "lasti", "int"), 200, id_body("lasti", "int", INT_MAX))
    expect(status(server, "lasti"), 200, status_body("lasti", "int", None))

    server.nextidctl("create", "lastl", "--type", "long", "--start", LONG_MAX)
    expect(next_id(server, "lastl", "long"), 200, id_body("lastl", "long", LONG_MAX))
    expect(status(server, "lastl"), 200, status_body("lastl", "long", None))

    server.nextidctl("create", "max2", "--type", "int", "--max", 2)
    expect(next_batch(server, "max2", "int", 2), 200, batch_body("max2", "int", 2, 1, 2))
    expect(status(server, "max2"), 200, status_body("max2", "int", None))


# Overflow consumes nothing ---------------------------------------------------------------

def test_int_overflow_is_409_and_consumes_nothing(server):
    server.nextidctl("create", "io", "--type", "int", "--start", INT_MAX - 7)
    check_all([
        (next_batch(server, "io", "int", 9), 409, int_overflow("io")),
        (next_batch(server, "io", "int", 10000), 409, int_overflow("io")),
    ])
    expect(next_id(server, "io", "int"), 200, id_body("io", "int", INT_MAX - 7))
    expect(next_batch(server, "io", "int", 8), 409, int_overflow("io"))
    expect(next_batch(server, "io", "int", 7), 200,
           batch_body("io", "int", 7, INT_MAX - 6, INT_MAX))
    check_all([
        (next_id(server, "io", "int"), 409, int_overflow("io")),
        (next_id(server, "io", "int", "POST"), 409, int_overflow("io")),
        (next_batch(server, "io", "int", 1), 409, int_overflow("io")),
    ])
    expect(status(server, "io"), 200, status_body("io", "int", None))


def test_long_overflow_is_409_and_consumes_nothing(server):
    server.nextidctl("create", "lo", "--type", "long", "--start", LONG_MAX - 7)
    expect(next_batch(server, "lo", "long", 9), 409, long_overflow("lo"))
    expect(next_id(server, "lo", "long"), 200, id_body("lo", "long", LONG_MAX - 7))
    expect(next_batch(server, "lo", "long", 8), 409, long_overflow("lo"))
    reply = next_batch(server, "lo", "long", 7)
    assert reply.body == (b'{"entityName":"lo","dataType":"long","batchSize":7,'
                          b'"startValue":"9223372036854775801","endValue":"9223372036854775807"}\n'
                          ), str(reply)
    expect(reply, 200, batch_body("lo", "long", 7, LONG_MAX - 6, LONG_MAX))
    check_all([
        (next_id(server, "lo", "long"), 409, long_overflow("lo")),
        (next_batch(server, "lo", "long", 1), 409, long_overflow("lo")),
    ])
    expect(status(server, "lo"), 200, status_body("lo", "long", None))


def test_overflow_names_a_configured_max(server):
    server.nextidctl("create", "m12", "--type", "int", "--start", 10, "--max", 12)
    expect(next_batch(server, "m12", "int", 4), 409, int_overflow("m12", 12))
    expect(next_batch(server, "m12", "int", 3), 200, batch_body("m12", "int", 3, 10, 12))
    expect(next_id(server, "m12", "int"), 409, int_overflow("m12", 12))

    server.nextidctl("create", "ml", "--type", "long", "--max", 3)
    expect(next_batch(server, "ml", "long", 4), 409, long_overflow("ml", 3))
    expect(next_batch(server, "ml", "long", 3), 200, batch_body("ml", "long", 3, 1, 3))
    expect(next_id(server, "ml", "long"), 409, long_overflow("ml", 3))


# list ------------------------------------------------------------------------------------

def make_seven_entities(server):
    """Seven entities of every kind; returns the expected list entries, sorted bytewise."""
    for _ in range(2):
        assert next_id(server, "B", "int").status == 200
    assert next_batch(server, "a", "long", 5).status == 200
    assert next_id(server, "ab", "uuid8").status == 200
    expect_next(server.get("/next/a%20b"), 1, "a b")
    server.nextidctl("create", "_x", "--type", "int", "--start", 100)
    assert next_batch(server, "%C3%A9", "uuid22", 3).status == 200
    assert next_id(server, "1", "int").status == 200
    entries = [status_body("1", "int", 2), status_body("B", "int", 3),
               status_body("_x", "int", 100), status_body("a", "long", 6),
               status_body("a b", "long", 2), status_body("ab", "uuid8", None),
               status_body("é", "uuid22", None)]
    assert [e["entityName"].encode() for e in entries] == \
        sorted(e["entityName"].encode() for e in entries)
    return entries


def test_list_is_empty_on_a_new_store(server):
    expect(server.get("/api/list"), 200, {"entities": []})
    expect(server.get("/api/list?limit=2"), 200, {"entities": []})


def test_list_shows_every_entity_sorted_bytewise_and_consumes_nothing(server):
    entries = make_seven_entities(server)
    for _ in range(2):
        expect(server.get("/api/list"), 200, {"entities": entries})
    reply = server.request("HEAD", "/api/list")
    assert (reply.status, reply.body) == (200, b""), str(reply)
    assert reply.headers.get("cache-control") == "no-store", str(reply)
    expect(server.get("/api/list?limit=10000"), 200, {"entities": entries})
    for entry in entries:
        expect(status(server, entry["entityName"].replace(" ", "%20")
                      .replace("é", "%C3%A9")), 200, entry)


def test_list_pages_with_limit_and_after(server):
    entries = make_seven_entities(server)
    seen, after, pages = [], None, 0
    while True:
        path = "/api/list?limit=2"
        if after is not None:
            path += "&after=" + after.replace(" ", "%20").replace("é", "%C3%A9")
        reply = server.get(path)
        assert reply.status == 200, str(reply)
        page = reply.json()["entities"]
        expect(reply, 200, {"entities": entries[len(seen):len(seen) + 2]})
        pages += 1
        if not page:
            break
        seen += page
        after = page[-1]["entityName"]
        assert pages <= len(entries), "paging does not end: %s" % reply
    assert seen == entries
    assert pages == 5  # 2 + 2 + 2 + 1, then an empty page after the last name


def test_list_after_a_name_that_does_not_exist_starts_strictly_after_it(server):
    entries = make_seven_entities(server)
    by_name = {e["entityName"]: e for e in entries}
    expect(server.get("/api/list?after=aa"), 200, {"entities": [by_name["ab"], by_name["é"]]})
    expect(server.get("/api/list?after=a"), 200,
           {"entities": [by_name["a b"], by_name["ab"], by_name["é"]]})
    expect(server.get("/api/list?after=0&limit=1"), 200, {"entities": [by_name["1"]]})
    expect(server.get("/api/list?after=%C3%A9"), 200, {"entities": []})
    expect(server.get("/api/list?limit=3&after=A"), 200,
           {"entities": [by_name["B"], by_name["_x"], by_name["a"]]})


def test_list_refuses_a_bad_limit_or_after(server):
    assert next_id(server, "x", "int").status == 200
    cases = []
    for limit in ("0", "10001", "abc", "", "-1", "1e3", "0x10", "%205", "2.0",
                  "99999999999999999999"):
        cases.append((server.get("/api/list?limit=" + limit), 400, BAD_LIMIT))
    for after in ("%FF", "%01", "a%2Fb", "a" * 201, "%zz"):
        cases.append((server.get("/api/list?after=" + after), 400, BAD_AFTER))
    check_all(cases)


def test_read_only_endpoints_refuse_post_allowing_get_and_head(server):
    assert next_id(server, "ro", "int").status == 200
    for path in ("/api/status/ro", "/api/list", "/api/types"):
        reply = server.request("POST", path)
        expect(reply, 405, {"error": "Method not allowed", "message": "Allowed methods: GET, HEAD."})
        assert reply.headers.get("allow") == "GET, HEAD", str(reply)
    expect(status(server, "ro"), 200, status_body("ro", "int", 2))


# types -----------------------------------------------------------------------------------

def test_types_lists_the_six_types_with_their_descriptions(server):
    expect(server.get("/api/types"), 200, TYPES_BODY)
    reply = server.request("HEAD", "/api/types")
    assert (reply.status, reply.body) == (200, b""), str(reply)
    assert reply.headers.get("cache-control") == "no-store", str(reply)


# Sequence options (section 8) ------------------------------------------------------------

def test_start_and_increment_are_honoured_by_every_endpoint(server):
    server.nextidctl("create", "by5", "--type", "int", "--start", 10, "--increment", 5)
    expect(status(server, "by5"), 200, status_body("by5", "int", 10))
    expect(next_id(server, "by5", "int"), 200, id_body("by5", "int", 10))
    expect(next_id(server, "by5", "int"), 200, id_body("by5", "int", 15))
    expect(next_batch(server, "by5", "int", 3), 200, batch_body("by5", "int", 3, 20, 30))
    expect(status(server, "by5"), 200, status_body("by5", "int", 35))
    expect(next_id(server, "by5", "int"), 200, id_body("by5", "int", 35))


def test_a_decrementing_batch_runs_downwards(server):
    server.nextidctl("create", "down", "--type", "int", "--increment", -1, "--start", 5)
    expect(next_batch(server, "down", "int", 3), 200, batch_body("down", "int", 3, 5, 3))
    expect(status(server, "down"), 200, status_body("down", "int", 2))
    expect(next_id(server, "down", "int"), 200, id_body("down", "int", 2))


def test_a_cycling_int_sequence_wraps_to_1(server):
    server.nextidctl("create", "cyc", "--type", "int", "--start", 10, "--max", 12, "--cycle")
    for value in (10, 11, 12, 1):
        expect(next_id(server, "cyc", "int"), 200, id_body("cyc", "int", value))


def test_a_batch_never_wraps_mid_way_and_consumes_nothing(server):
    server.nextidctl("create", "cb", "--type", "int", "--start", 10, "--max", 12, "--cycle")
    expect(next_batch(server, "cb", "int", 4), 409, int_overflow("cb", 12))
    expect(next_id(server, "cb", "int"), 200, id_body("cb", "int", 10))
    expect(next_batch(server, "cb", "int", 3), 409, int_overflow("cb", 12))
    expect(next_batch(server, "cb", "int", 2), 200, batch_body("cb", "int", 2, 11, 12))
    expect(next_id(server, "cb", "int"), 200, id_body("cb", "int", 1))


# Concurrency -----------------------------------------------------------------------------

CLIENTS = 16
PER_CLIENT = 60


@pytest.mark.slow
def test_concurrent_int_batches_tile_the_numbers_from_1_without_overlap(server):
    results = [[] for _ in range(CLIENTS)]
    problems = []

    def client(k):
        rng = random.Random(7919 * (k + 1))
        out = results[k]
        for _ in range(PER_CLIENT):
            size = rng.randint(1, 50)
            reply = next_batch(server, "shared", "int", size)
            if reply.status != 200:
                problems.append(str(reply))
                return
            obj = reply.json()
            if list(obj) != ["entityName", "dataType", "batchSize", "startValue", "endValue"] \
                    or obj["batchSize"] != size or obj["endValue"] - obj["startValue"] + 1 != size:
                problems.append("batch of %d: %s" % (size, reply))
                return
            out.append((obj["startValue"], obj["endValue"]))

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a client did not finish within 120 s"
    assert not problems, problems[:5]

    ranges = sorted(r for out in results for r in out)
    assert len(ranges) == CLIENTS * PER_CLIENT
    expected_start = 1
    for start, end in ranges:
        assert start == expected_start, "gap or overlap at %d: range %d..%d" % (
            expected_start, start, end)
        expected_start = end + 1
    for out in results:
        assert all(a[1] < b[0] for a, b in zip(out, out[1:])), out
    expect(status(server, "shared"), 200, status_body("shared", "int", expected_start))
