"""The formatted-number API (Sequential ID Counter profile, API.md section 5): prefixes with a
template, a reset rule and a time zone; /api/v1/next, /batch, /status, /reset, /audit.

Exact full numbers for every template form, rule and zone; period boundaries (midnight, month end,
year end, in UTC and in zones east and west of it) with the wall clock moved by libfaketime,
one request at a time and with clients running while the clock crosses the boundary; the audit
trail after concurrent load and after SIGKILL of workers; reset semantics; errors and admin auth.

The faked clock: the master (and so every worker it forks) gets LD_PRELOAD=libfaketime.so.1 and
FAKETIME_TIMESTAMP_FILE with FAKETIME_NO_CACHE=1, so every clock read re-reads the file. The test
sets an absolute moment by writing the relative offset `target - now` in seconds ("+3449344.580"):
the clock then runs on from that moment at the real rate, identically in every process.
libfaketime's own absolute forms do not fit: "YYYY-MM-DD hh:mm:ss" stops the clock (it could not
cross a boundary under load) and is parsed in the reading process's local zone; "@YYYY-MM-DD
hh:mm:ss" (start-at) restarts at the given moment in each process when that process first reads
the changed file, so two forked workers disagree by however long one of them was idle.
"""

import collections
import datetime
import http.client
import json
import os
import random
import re
import signal
import threading
import time
import urllib.parse
import zoneinfo

import pytest

from nextid_server import compact_json, expect, from_web_server

TOKEN = "prefix-T0ken_for.tests~0123456789"
AUTH = {"Authorization": "Bearer " + TOKEN}
FAKETIME_SO = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
RFC3339_MS_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")

NEXT_KEYS = ["prefix", "counter", "full_number", "client_id", "generated_by", "message_id",
             "generated_at"]
AUDIT_KEYS = ["seq", "counter", "full_number", "client_id", "generated_by", "message_id",
              "generated_at"]
RESET_EVENT_KEYS = ["seq", "event", "old_value", "new_value", "reason", "admin_user", "id", "at"]
CONFIG_EVENT_KEYS = ["seq", "event", "settings", "admin_user", "id", "at"]

DISABLED = {"error": "Admin disabled",
            "message": "No admin_token is configured; administer with nextidctl on the host."}
UNAUTHORIZED = {"error": "Unauthorized",
                "message": "Send the admin token as \"Authorization: Bearer <admin_token>\"."}

needs_faketime = pytest.mark.skipif(not os.path.exists(FAKETIME_SO),
                                    reason="libfaketime is not installed (Debian: faketime)")


# Requests --------------------------------------------------------------------------------

def q(name):
    return urllib.parse.quote(name, safe="")


def encode(body):
    if body is None or isinstance(body, bytes):
        return body
    return json.dumps(body).encode("utf-8")


def configure(srv, name, body=None, headers=AUTH):
    return srv.request("POST", "/api/v1/config/" + q(name), headers, encode(body or {}))


def read_config(srv, name):
    return srv.get("/api/v1/config/" + q(name))


def take(srv, name, client_id=None, generated_by=None, method="GET"):
    params = [(k, v) for k, v in (("client_id", client_id), ("generated_by", generated_by))
              if v is not None]
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    return srv.request(method, "/api/v1/next/" + q(name) + query)


def batch(srv, name, body):
    return srv.request("POST", "/api/v1/batch/" + q(name), {}, encode(body))


def status(srv, name):
    return srv.get("/api/v1/status/" + q(name))


def reset(srv, name, body, headers=AUTH):
    return srv.request("POST", "/api/v1/reset/" + q(name), headers, encode(body))


def audit(srv, name, query="", headers=AUTH):
    return srv.get("/api/v1/audit/" + q(name) + query, headers)


def config_body(name, padding=6, template="{prefix}{counter}", rule="never", zone="UTC"):
    return {"prefix": name, "padding_length": padding, "format_template": template,
            "reset_rule": rule, "timezone": zone}


CONFIG_MESSAGE = "configuration updated successfully"


def configured(name, padding=6, template="{prefix}{counter}", rule="never", zone="UTC"):
    """The answer to POST /api/v1/config/<name>, on create and on update alike."""
    return dict({"message": CONFIG_MESSAGE}, **config_body(name, padding, template, rule, zone))


def not_configured(name):
    return {"error": "prefix %s not configured" % name,
            "message": "Configure it first with POST /api/v1/config/%s (admin)." % name}


def json_ok(reply, status=200):
    """A JSON answer of the service: status, headers, compact body with a trailing newline."""
    assert reply.status == status, str(reply)
    assert reply.headers.get("content-type") == "application/json", str(reply)
    assert reply.headers.get("cache-control") == "no-store", str(reply)
    body = reply.json()
    assert reply.body == compact_json(body), "not compact JSON with a newline: %s" % reply
    return body


def parse_time(text):
    """RFC 3339 UTC with milliseconds -> unix seconds (float)."""
    assert RFC3339_MS_UTC.match(text), text
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def at(iso):
    """'2026-11-23T00:00:00.5Z' -> unix seconds."""
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def check_number(reply, prefix, counter=None, full=None, client_id=None, generated_by=None):
    """One /api/v1/next answer: keys in order (client_id and generated_by only when sent), a
    uuid4 message_id, an RFC 3339 UTC time with milliseconds. Returns the body."""
    body = json_ok(reply)
    keys = [k for k in NEXT_KEYS
            if not (k == "client_id" and client_id is None)
            and not (k == "generated_by" and generated_by is None)]
    assert list(body) == keys, str(reply)
    assert body["prefix"] == prefix, str(reply)
    if counter is not None:
        assert body["counter"] == counter, str(reply)
    if full is not None:
        assert body["full_number"] == full, str(reply)
    if client_id is not None:
        assert body["client_id"] == client_id, str(reply)
    if generated_by is not None:
        assert body["generated_by"] == generated_by, str(reply)
    assert UUID4.match(body["message_id"]), str(reply)
    parse_time(body["generated_at"])
    return body


def check_batch(reply, prefix, count, start=None, fulls=None):
    body = json_ok(reply)
    assert list(body) == ["prefix", "start_counter", "end_counter", "full_numbers", "batch_id"], \
        str(reply)
    assert body["prefix"] == prefix, str(reply)
    assert body["end_counter"] - body["start_counter"] + 1 == count, str(reply)
    assert len(body["full_numbers"]) == count, str(reply)
    if start is not None:
        assert body["start_counter"] == start, str(reply)
    if fulls is not None:
        assert body["full_numbers"] == fulls, str(reply)
    assert UUID.match(body["batch_id"]), str(reply)
    return body


def expect_status(srv, name, current, next_counter, last_audit):
    expect(status(srv, name), 200,
           {"prefix": name, "current_counter": current, "next_counter": next_counter,
            "db_healthy": True, "last_audit_counter": last_audit})


def audit_all(srv, name, kind=None, limit=250):
    """Every audit record of a prefix, paged with after/limit; checks the paging itself."""
    records, after, pages = [], None, 0
    while True:
        query = "?limit=%d" % limit
        if after is not None:
            query += "&after=%d" % after
        if kind:
            query += "&kind=" + kind
        body = json_ok(audit(srv, name, query))
        assert list(body) == ["prefix", "records"] and body["prefix"] == name, body
        page = body["records"]
        assert len(page) <= limit, (query, len(page))
        records += page
        pages += 1
        assert pages < 2000, "the audit pages do not end"
        if len(page) < limit:
            break
        after = page[-1]["seq"]
    seqs = [r["seq"] for r in records]
    assert all(a < b for a, b in zip(seqs, seqs[1:])), "audit seqs not increasing: %r" % seqs[:50]
    for r in records:
        if kind == "events":
            assert list(r) == (RESET_EVENT_KEYS if r["event"] == "reset" else CONFIG_EVENT_KEYS), r
        else:
            assert list(r) == AUDIT_KEYS, r
            assert UUID4.match(r["message_id"]), r
            parse_time(r["generated_at"])
    return records


# libfaketime -----------------------------------------------------------------------------

def set_clock(path, target):
    """Make the faked wall clock read `target` (unix seconds) now and run on from there."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("%+.3f\n" % (target - time.time()))
    os.replace(tmp, path)


@pytest.fixture
def faked(nextid, tmp_path):
    """A factory of started nextids (with the admin token) whose wall clock is moved by
    libfaketime: faked(start_at) -> (server, clock), where clock(unix_seconds) moves it.
    libfaketime's /dev/shm leftovers of every master are removed afterwards."""
    masters = []

    def make(start_at, config=None, workers=None):
        path = str(tmp_path / "faketime.rc")
        set_clock(path, start_at)
        env = {"LD_PRELOAD": FAKETIME_SO, "FAKETIME_TIMESTAMP_FILE": path,
               "FAKETIME_NO_CACHE": "1", "DONT_FAKE_MONOTONIC": "1",
               "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        # One thread per worker: libfaketime re-reading its file on every clock read
        # (FAKETIME_NO_CACHE) is not safe across threads; measured, Berkeley DB lock waits then
        # "timed out" after 0 to 1 ms of their 500. The workers still run side by side.
        settings = {"admin_token": TOKEN, "threads": "1"}
        settings.update(config or {})
        srv = nextid(config=settings, env=env, workers=workers)
        masters.append(srv.master_pid)

        def clock(target):
            set_clock(path, target)

        # The faked clock is live in the workers: a probe number carries its time.
        clock(start_at)
        assert configure(srv, "clock-probe").status == 200
        probe = check_number(take(srv, "clock-probe"), "clock-probe")
        assert abs(parse_time(probe["generated_at"]) - start_at) < 5, \
            "libfaketime did not move the workers' clock to %s: %r" % (start_at, probe)
        return srv, clock

    yield make

    for pid in masters:
        for name in ("faketime_shm_%d" % pid, "sem.faketime_sem_%d" % pid):
            try:
                os.unlink(os.path.join("/dev/shm", name))
            except FileNotFoundError:
                pass


@pytest.fixture
def admin(nextid):
    return nextid(config={"admin_token": TOKEN})


# Configuration ---------------------------------------------------------------------------

def test_config_creates_with_defaults_reads_back_and_changes(admin):
    expect(read_config(admin, "P"), 404, not_configured("P"))
    expect(configure(admin, "P", {}), 200, configured("P"))
    expect(read_config(admin, "P"), 200, config_body("P"))
    check_number(take(admin, "P"), "P", 1, "P000001")
    # Fields not sent keep their values; the counter goes on.
    expect(configure(admin, "P", {"padding_length": 3, "format_template": "{prefix}/{counter}",
                                  "admin_user": "ops"}),
           200, configured("P", 3, "{prefix}/{counter}"))
    expect(configure(admin, "P", {"timezone": "Asia/Tokyo"}), 200,
           configured("P", 3, "{prefix}/{counter}", zone="Asia/Tokyo"))
    expect(read_config(admin, "P"), 200,
           config_body("P", 3, "{prefix}/{counter}", zone="Asia/Tokyo"))
    check_number(take(admin, "P"), "P", 2, "P/002")
    # All fields at once on a new prefix.
    full = {"padding_length": 4, "format_template": "INV%d-%04d", "reset_rule": "yearly",
            "timezone": "America/New_York", "admin_user": "alice"}
    expect(configure(admin, "INV", full), 200,
           configured("INV", 4, "INV%d-%04d", "yearly", "America/New_York"))
    expect(read_config(admin, "INV"), 200,
           config_body("INV", 4, "INV%d-%04d", "yearly", "America/New_York"))
    # A HEAD of the config reads it without a body.
    head = admin.request("HEAD", "/api/v1/config/INV")
    assert head.status == 200 and head.body == b"", str(head)


def test_config_answers_200_with_the_message_on_create_and_on_update(admin):
    # The Sequential ID Counter answered 200 {"message":"configuration updated successfully"}
    # whether the prefix was new or not; a client written against it may check either.
    for body in ({"padding_length": 4}, {"padding_length": 5}, {}):
        reply = configure(admin, "SG", body)
        assert reply.status == 200, str(reply)
        assert reply.json()["message"] == CONFIG_MESSAGE, str(reply)
    expect(configure(admin, "PO", {"format_template": "%s%08d", "reset_rule": "monthly"}), 200,
           configured("PO", 6, "%s%08d", "monthly"))
    expect(configure(admin, "PO", {"padding_length": 8}), 200,
           configured("PO", 8, "%s%08d", "monthly"))


CONFIG_ERRORS = [
    ({"padding_length": 19}, "padding_length"),
    ({"padding_length": -1}, "padding_length"),
    ({"padding_length": "six"}, "padding_length"),
    ({"padding_length": 2.5}, "padding_length"),
    ({"format_template": ""}, "format_template"),
    ({"format_template": "{prefix}"}, "format_template"),
    ({"format_template": "{counter"}, "format_template"),
    ({"format_template": "counter}{counter}"}, "format_template"),
    ({"format_template": "{nope}-{counter}"}, "format_template"),
    ({"format_template": "{counter}{counter}"}, "format_template"),
    ({"format_template": "{counter:19}"}, "format_template"),
    ({"format_template": "{counter:0}"}, "format_template"),
    ({"format_template": "%s%x"}, "format_template"),
    ({"format_template": "%s"}, "format_template"),
    ({"format_template": "%d-%d-%d"}, "format_template"),
    ({"format_template": "%s{counter}"}, "format_template"),
    ({"format_template": "%s%019d"}, "format_template"),
    ({"format_template": "A" * 40 + "{counter}"}, "format_template"),   # 49 bytes
    ({"format_template": "a\u0001{counter}"}, "format_template"),
    ({"format_template": 5}, "format_template"),
    ({"format_template": None}, "format_template"),
    ({"reset_rule": "weekly"}, "reset_rule"),
    ({"reset_rule": "Daily"}, "reset_rule"),
    ({"reset_rule": 1}, "reset_rule"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": ""}, "timezone"),
    ({"timezone": "../../../etc/passwd"}, "timezone"),
    ({"timezone": "Europe//Berlin"}, "timezone"),
    ({"timezone": "Europe/Berlin/"}, "timezone"),
    ({"timezone": 9}, "timezone"),
    ({"admin_user": 5}, "admin_user"),
]


def test_invalid_config_values_are_400_naming_the_field_and_change_nothing(admin):
    good = {"padding_length": 4, "format_template": "{prefix}-{counter}", "reset_rule": "daily",
            "timezone": "Europe/Berlin"}
    expect(configure(admin, "K", good), 200,
           configured("K", 4, "{prefix}-{counter}", "daily", "Europe/Berlin"))
    wrong = []
    for body, field in CONFIG_ERRORS:
        for name in ("K", "new"):
            reply = configure(admin, name, body)
            got = reply.json() if reply.headers.get("content-type") == "application/json" else None
            if not (reply.status == 400 and got is not None and list(got) == ["error", "message"]
                    and got["error"] in ("Invalid configuration", "Invalid field")
                    and got["message"].startswith(field + " ")):
                wrong.append("%r on %s: %s" % (body, name, reply))
    assert not wrong, "\n".join(wrong)
    expect(read_config(admin, "K"), 200,
           config_body("K", 4, "{prefix}-{counter}", "daily", "Europe/Berlin"))
    expect(read_config(admin, "new"), 404, not_configured("new"))


@pytest.mark.parametrize("body", [b"nope", b"[]", b"{\"padding_length\":", b"42",
                                  b'{"bogus":1}', b'{"padding_length":4,"padding_length":5}'])
def test_a_config_body_that_is_no_valid_object_is_400(admin, body):
    reply = configure(admin, "J", body)
    got = json_ok(reply, 400)
    assert list(got) == ["error", "message"] and got["message"], str(reply)
    expect(read_config(admin, "J"), 404, not_configured("J"))


# Templates, rules and zones (exact full numbers on a faked clock) -------------------------

# (name, config, the first numbers) on 2026-11-22T20:00:00Z: Sunday 22 November in UTC and in
# New York (15:00 EST), already Monday 23 November in Tokyo (05:00 JST).
TEMPLATES = [
    ("SG", {"format_template": "%s%06d"}, ["SG000001", "SG000002", "SG000003"]),
    ("plain", {}, ["plain000001", "plain000002"]),
    ("inv-y", {"format_template": "INV%d-%04d", "reset_rule": "yearly"},
     ["INV2026-0001", "INV2026-0002"]),
    ("inv-m", {"format_template": "INV%d-%04d", "reset_rule": "monthly"},
     ["INV202611-0001", "INV202611-0002"]),
    ("inv-d", {"format_template": "INV%d-%04d", "reset_rule": "daily"},
     ["INV20261122-0001", "INV20261122-0002"]),
    ("inv-n", {"format_template": "INV%d-%04d"}, ["INV2026-0001", "INV2026-0002"]),
    ("ORD", {"format_template": "{prefix}-{yyyy}{mm}-{counter:5}", "reset_rule": "monthly"},
     ["ORD-202611-00001", "ORD-202611-00002"]),
    ("T", {"format_template": "{prefix}{yy}{mm}{dd}-{counter}", "padding_length": 3,
           "reset_rule": "daily", "timezone": "Asia/Tokyo"}, ["T261123-001", "T261123-002"]),
    ("NY", {"format_template": "{prefix}/{yyyy}/{mm}/{dd}/{counter:2}", "reset_rule": "daily",
            "timezone": "America/New_York"}, ["NY/2026/11/22/01", "NY/2026/11/22/02"]),
    ("X", {"format_template": "%s-%d"}, ["X-1", "X-2"]),
    ("Q", {"format_template": "%s%5d"}, ["Q00001", "Q00002"]),  # %Nd pads with zeros too
    ("pct", {"format_template": "%s%%%03d"}, ["pct%001", "pct%002"]),
    ("zero", {"padding_length": 0}, ["zero1", "zero2"]),
    ("été", {"format_template": "%s-%04d"}, ["été-0001", "été-0002"]),
    ("lit", {"format_template": "No. {counter} ({prefix})", "padding_length": 2},
     ["No. 01 (lit)", "No. 02 (lit)"]),
]


@needs_faketime
def test_templates_render_exact_full_numbers(faked):
    srv, clock = faked(at("2026-11-22T20:00:00Z"))
    for name, body, fulls in TEMPLATES:
        assert configure(srv, name, body).status == 200, (name, body)
    for name, body, fulls in TEMPLATES:
        first = check_number(take(srv, name, client_id="c1", generated_by="g1"), name, 1,
                             fulls[0], "c1", "g1")
        assert abs(parse_time(first["generated_at"]) - at("2026-11-22T20:00:00Z")) < 5, first
        check_batch(batch(srv, name, {"count": len(fulls) - 1}), name, len(fulls) - 1, 2,
                    fulls[1:])
        records = audit_all(srv, name)
        assert [(r["seq"], r["counter"], r["full_number"]) for r in records] == \
            [(i + 1, i + 1, f) for i, f in enumerate(fulls)], (name, records)


# (unix moment, zone) -> the local date that moment has there; INV%d-%04d for each rule.
ZONE_MOMENTS = {
    "2026-11-22T20:00:00Z": {"UTC": "20261122", "Asia/Tokyo": "20261123",
                             "America/New_York": "20261122"},
    "2026-11-22T03:00:00Z": {"UTC": "20261122", "Asia/Tokyo": "20261122",
                             "America/New_York": "20261121"},
    "2026-12-31T20:00:00Z": {"UTC": "20261231", "Asia/Tokyo": "20270101",
                             "America/New_York": "20261231"},
    "2027-01-01T02:00:00Z": {"UTC": "20270101", "Asia/Tokyo": "20270101",
                             "America/New_York": "20261231"},
}


@needs_faketime
@pytest.mark.parametrize("moment", sorted(ZONE_MOMENTS))
def test_each_rule_in_each_zone_renders_the_local_period(faked, moment):
    srv, clock = faked(at(moment))
    for zone, date in ZONE_MOMENTS[moment].items():
        for rule, period in (("never", date[:4]), ("yearly", date[:4]), ("monthly", date[:6]),
                             ("daily", date)):
            name = "%s-%s" % (rule, zone.replace("/", "_"))
            expect(configure(srv, name, {"format_template": "INV%d-%04d", "reset_rule": rule,
                                         "timezone": zone}),
                   200, configured(name, 6, "INV%d-%04d", rule, zone))
            check_number(take(srv, name), name, 1, "INV%s-0001" % period)
            check_number(take(srv, name, method="POST"), name, 2, "INV%s-0002" % period)


def test_a_counter_wider_than_its_padding_is_printed_in_full(admin):
    for name, body, set_to, full in [
            ("W", {"padding_length": 4}, 999999, "W1000000"),
            ("V", {"format_template": "{prefix}-{counter:5}"}, 99999, "V-100000"),
            ("U", {"format_template": "%s%03d", "padding_length": 8}, 999, "U1000"),
            ("S", {"format_template": "%s%06d"}, 9223372036854775805,
             "S9223372036854775806")]:
        assert configure(admin, name, body).status == 200
        check_number(take(admin, name), name, 1)
        check_reset(reset(admin, name, {"set_to": set_to}), 1, set_to)
        expect_status(admin, name, set_to, set_to + 1, 1)
        check_number(take(admin, name), name, set_to + 1, full)


@needs_faketime
def test_a_printf_year_counter_wider_than_its_padding(faked):
    srv, clock = faked(at("2026-06-15T12:00:00Z"))
    assert configure(srv, "inv", {"format_template": "INV%d-%04d",
                                  "reset_rule": "yearly"}).status == 200
    check_number(take(srv, "inv"), "inv", 1, "INV2026-0001")
    assert reset(srv, "inv", {"set_to": 9998}).status == 200
    check_batch(batch(srv, "inv", {"count": 3}), "inv", 3, 9999,
                ["INV2026-9999", "INV2026-10000", "INV2026-10001"])


# Period boundaries, one request at a time ------------------------------------------------

# id -> (name, config, [(moment, full numbers issued there, in order)]). The moments are in
# time order; each is half a second before or after a boundary (local midnight, month end or
# year end), or the UTC midnight that is no boundary in the prefix's own zone.
BOUNDARIES = {
    "daily-UTC": ("inv", {"format_template": "INV%d-%04d", "reset_rule": "daily"}, [
        ("2026-11-22T23:59:59.5Z", ["INV20261122-0001", "INV20261122-0002", "INV20261122-0003"]),
        ("2026-11-23T00:00:00.5Z", ["INV20261123-0001", "INV20261123-0002"]),
    ]),
    "daily-Asia/Tokyo": ("D", {"format_template": "{prefix}{yyyy}{mm}{dd}-{counter:4}",
                               "reset_rule": "daily", "timezone": "Asia/Tokyo"}, [
        ("2026-11-22T14:59:59.5Z", ["D20261122-0001", "D20261122-0002"]),
        ("2026-11-22T15:00:00.5Z", ["D20261123-0001", "D20261123-0002"]),
        ("2026-11-22T23:59:59.5Z", ["D20261123-0003"]),
        ("2026-11-23T00:00:00.5Z", ["D20261123-0004"]),
    ]),
    "daily-America/New_York": ("E", {"format_template": "%s%d-%03d", "reset_rule": "daily",
                                     "timezone": "America/New_York"}, [
        ("2026-11-22T23:59:59.5Z", ["E20261122-001"]),
        ("2026-11-23T00:00:00.5Z", ["E20261122-002", "E20261122-003"]),
        ("2026-11-23T04:59:59.5Z", ["E20261122-004"]),
        ("2026-11-23T05:00:00.5Z", ["E20261123-001", "E20261123-002"]),
    ]),
    "monthly-UTC": ("inv", {"format_template": "INV%d-%04d", "reset_rule": "monthly"}, [
        ("2026-11-30T23:59:59.5Z", ["INV202611-0001", "INV202611-0002"]),
        ("2026-12-01T00:00:00.5Z", ["INV202612-0001", "INV202612-0002", "INV202612-0003"]),
    ]),
    "monthly-America/New_York": ("inv", {"format_template": "INV%d-%04d",
                                         "reset_rule": "monthly",
                                         "timezone": "America/New_York"}, [
        ("2026-11-30T23:59:59.5Z", ["INV202611-0001"]),
        ("2026-12-01T00:00:00.5Z", ["INV202611-0002"]),
        ("2026-12-01T04:59:59.5Z", ["INV202611-0003", "INV202611-0004"]),
        ("2026-12-01T05:00:00.5Z", ["INV202612-0001", "INV202612-0002"]),
    ]),
    "yearly-UTC": ("Y", {"format_template": "{prefix}-{yyyy}-{counter:4}",
                         "reset_rule": "yearly"}, [
        ("2026-12-31T23:59:59.5Z", ["Y-2026-0001", "Y-2026-0002", "Y-2026-0003"]),
        ("2027-01-01T00:00:00.5Z", ["Y-2027-0001", "Y-2027-0002"]),
    ]),
    "yearly-Asia/Tokyo": ("inv", {"format_template": "INV%d-%04d", "reset_rule": "yearly",
                                  "timezone": "Asia/Tokyo"}, [
        ("2026-12-31T14:59:59.5Z", ["INV2026-0001", "INV2026-0002"]),
        ("2026-12-31T15:00:00.5Z", ["INV2027-0001", "INV2027-0002"]),
        ("2027-01-01T00:00:00.5Z", ["INV2027-0003"]),
    ]),
    "yearly-America/New_York": ("NY", {"format_template": "{prefix}{yy}-{counter:3}",
                                       "reset_rule": "yearly",
                                       "timezone": "America/New_York"}, [
        ("2026-12-31T23:59:59.5Z", ["NY26-001"]),
        ("2027-01-01T00:00:00.5Z", ["NY26-002"]),
        ("2027-01-01T04:59:59.5Z", ["NY26-003"]),
        ("2027-01-01T05:00:00.5Z", ["NY27-001", "NY27-002"]),
    ]),
}


def counter_of(full):
    return int(re.search(r"(\d+)\Z", full).group(1))


@needs_faketime
@pytest.mark.parametrize("case", list(BOUNDARIES))
def test_a_period_boundary_restarts_the_counter_at_1_with_the_new_date(faked, case):
    name, body, moments = BOUNDARIES[case]
    first = at(moments[0][0])
    srv, clock = faked(first - 60)
    assert configure(srv, name, body).status == 200
    issued, times = [], []
    for moment, fulls in moments:
        t = at(moment)
        clock(t)
        # The next counter, before anything is issued in this moment's period.
        reply = status(srv, name)
        assert json_ok(reply)["next_counter"] == counter_of(fulls[0]), (case, moment, str(reply))
        clock(t)
        got = check_number(take(srv, name, client_id=case), name, counter_of(fulls[0]), None,
                           case)
        when = parse_time(got["generated_at"])
        assert t - 0.01 <= when < t + 0.45, \
            "test clock: %s asked, the worker read %s" % (moment, got["generated_at"])
        numbers = [got["full_number"]]
        if len(fulls) > 1:
            clock(t)
            numbers += check_batch(batch(srv, name, {"count": len(fulls) - 1, "client_id": case}),
                                   name, len(fulls) - 1, counter_of(fulls[1]))["full_numbers"]
        assert numbers == fulls, (case, moment)
        issued += fulls
        times += [t] * len(fulls)
    records = audit_all(srv, name)
    late = [(r["full_number"], r["generated_at"]) for r, t in zip(records, times)
            if not t - 0.01 <= parse_time(r["generated_at"]) < t + 0.45]
    assert not late, "test clock: numbers issued too far from their moment: %r" % late
    assert [r["full_number"] for r in records] == issued, case
    assert [r["counter"] for r in records] == [counter_of(f) for f in issued], case
    assert [r["seq"] for r in records] == list(range(1, len(issued) + 1)), case
    assert all(r["client_id"] == case for r in records), records
    last = counter_of(issued[-1])
    expect_status(srv, name, last, last + 1, last)


@needs_faketime
@pytest.mark.parametrize("case", ["daily-UTC", "yearly-Asia/Tokyo"])
def test_a_clock_step_back_across_a_boundary_repeats_no_full_number(faked, case):
    """The deterministic form of a late request (one that read the clock before midnight and
    commits after a number of the new period): the clock steps back over the boundary after the
    new period began. A number of the old period's date would repeat one already issued."""
    name, body, moments = BOUNDARIES[case]
    (before_iso, before), (after_iso, after) = moments[0], moments[1]
    srv, clock = faked(at(before_iso) - 60)
    assert configure(srv, name, body).status == 200
    clock(at(before_iso))
    issued = check_batch(batch(srv, name, {"count": len(before)}), name, len(before), 1,
                         before)["full_numbers"]
    clock(at(after_iso))
    issued += check_batch(batch(srv, name, {"count": 2}), name, 2, 1, after[:2])["full_numbers"]
    clock(at(before_iso))  # one second back, over the boundary
    nxt = after[0][:-len("0001")]
    for reply, want in ((take(srv, name), [nxt + "0003"]),
                        (batch(srv, name, {"count": 2}), [nxt + "0004", nxt + "0005"])):
        if reply.status == 503:  # "clock unsafe" is a fair answer too (API.md section 1)
            json_ok(reply, 503)
            continue
        body = json_ok(reply)
        got = body.get("full_numbers") or [body.get("full_number")]
        assert not set(got) & set(issued), \
            "after a 1 s clock step back a full number was issued again: %s (issued before: " \
            "%r)" % (reply, issued)
        assert got == want, "after a 1 s clock step back: %s, expected %r" % (reply, want)
        issued += got
    records = audit_all(srv, name)
    assert [r["full_number"] for r in records] == issued


@needs_faketime
def test_a_reset_after_a_clock_step_back_still_reaches_a_client_paging_the_events(faked):
    """A client tails the events with ?kind=events&after=<last seq seen>. A reset made after the
    wall clock stepped back (NTP, a VM restore) must still reach it: the events are listed in the
    order they happened, not in the order of their wall-clock times."""
    start = at("2026-11-22T12:00:00Z")
    srv, clock = faked(start)
    assert configure(srv, "ev", {"admin_user": "creator"}).status == 200
    check_number(take(srv, "ev"), "ev", 1)
    first = check_reset(reset(srv, "ev", {"set_to": 10, "reason": "first",
                                          "admin_user": "a"}), 1, 10)
    seen = audit_all(srv, "ev", kind="events")
    assert [e["event"] for e in seen] == ["config", "reset"] and seen[1]["id"] == \
        first["reset_id"], seen
    clock(start - 3600)  # the wall clock steps back an hour
    second = check_reset(reset(srv, "ev", {"set_to": 20, "reason": "second",
                                           "admin_user": "b"}), 10, 20)
    newer = json_ok(audit(srv, "ev", "?kind=events&after=%d" % seen[-1]["seq"]))["records"]
    assert [e["id"] for e in newer] == [second["reset_id"]], \
        "a client paging the events after seq %d does not see the reset made after the clock " \
        "stepped back; the events now list: %r" % (
            seen[-1]["seq"], [(e["seq"], e["event"], e.get("reason"), e["at"])
                              for e in audit_all(srv, "ev", kind="events")])


# Clients running while the clock crosses a boundary ---------------------------------------

class PrefixLoad:
    """Clients in threads, one request at a time until the duration or the request budget runs
    out, each a random choice of GET next, POST next and a batch (1..batch_max) on a random
    prefix, with client_id "client-<k>". Every request is kept (status 0 for a connection error
    or timeout); after a failure a client waits a little, as a real client would."""

    backoff_s = 0.02

    def __init__(self, srv, prefixes, clients, duration_s, max_requests, seed, batch_max=20,
                 timeout=5):
        self.srv, self.prefixes, self.duration_s = srv, prefixes, duration_s
        self.max_requests, self.batch_max, self.timeout = max_requests, batch_max, timeout
        self.seed = seed
        self.results = [[] for _ in range(clients)]
        self.errors = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(k,), daemon=True)
                         for k in range(clients)]

    def _run(self, k):
        rng = random.Random(self.seed * 1000 + k)
        client_id, generated_by = "client-%d" % k, "load é %d" % k
        end = time.monotonic() + self.duration_s
        out = self.results[k]
        while not self._stop.is_set() and time.monotonic() < end and len(out) < self.max_requests:
            name = rng.choice(self.prefixes)
            kind = rng.choice(("GET", "POST", "batch"))
            count = rng.randint(1, self.batch_max) if kind == "batch" else 1
            t0 = time.monotonic()
            try:
                if kind == "batch":
                    reply = self.srv.request(
                        "POST", "/api/v1/batch/" + q(name), {},
                        encode({"count": count, "client_id": client_id,
                                "generated_by": generated_by}), timeout=self.timeout)
                else:
                    reply = self.srv.request(
                        kind, "/api/v1/next/%s?%s" % (q(name), urllib.parse.urlencode(
                            {"client_id": client_id, "generated_by": generated_by})),
                        timeout=self.timeout)
            except (OSError, http.client.HTTPException) as e:  # reset, timeout, bad status line
                self.errors.append(repr(e))
                out.append((kind, name, count, 0, None, t0))
                time.sleep(self.backoff_s)
                continue
            body = None
            if reply.status == 200:
                body = reply.json()
            else:
                if not from_web_server(reply):
                    self.errors.append(str(reply))
                time.sleep(self.backoff_s)
            out.append((kind, name, count, reply.status, body, t0))

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def wait(self):
        for t in self._threads:
            t.join(self.duration_s + 2 * self.timeout + 5)
        assert not any(t.is_alive() for t in self._threads), "a load client did not stop"
        return self

    def statuses(self):
        return collections.Counter(r[3] for c in self.results for r in c)

    def summary(self):
        return "%d requests, statuses %s, first errors %r" % (
            sum(len(c) for c in self.results), dict(self.statuses()), self.errors[:3])

    def numbers(self):
        """Every number a client received, in each client's order: dicts with prefix, counter,
        full_number, client, client_id, generated_by, message_id and generated_at (None for a
        batch, whose answer has neither)."""
        out = []
        for k, client in enumerate(self.results):
            for kind, name, count, st, body, t0 in client:
                if st != 200:
                    continue
                base = {"prefix": name, "client": k, "client_id": "client-%d" % k,
                        "generated_by": "load é %d" % k, "t0": t0}
                if kind == "batch":
                    assert list(body) == ["prefix", "start_counter", "end_counter",
                                          "full_numbers", "batch_id"], body
                    assert body["prefix"] == name and len(body["full_numbers"]) == count, body
                    assert body["end_counter"] - body["start_counter"] + 1 == count, body
                    for i, full in enumerate(body["full_numbers"]):
                        out.append(dict(base, counter=body["start_counter"] + i,
                                        full_number=full, message_id=None, generated_at=None,
                                        batch=body["batch_id"]))
                else:
                    assert list(body) == NEXT_KEYS, body
                    assert body["prefix"] == name and body["client_id"] == base["client_id"], body
                    assert body["generated_by"] == base["generated_by"], body
                    out.append(dict(base, counter=body["counter"],
                                    full_number=body["full_number"],
                                    message_id=body["message_id"],
                                    generated_at=body["generated_at"], batch=None))
        return out


# id -> (name, config, boundary, regex of a full number: (date, counter), old date, new date)
CROSSINGS = {
    "daily-UTC": ("inv", {"format_template": "INV%d-%04d", "reset_rule": "daily"},
                  "2026-11-23T00:00:00Z", r"INV(\d{8})-(\d{4,})", "20261122", "20261123"),
    "yearly-Asia/Tokyo": ("Y", {"format_template": "{prefix}-{yyyy}-{counter:4}",
                                "reset_rule": "yearly", "timezone": "Asia/Tokyo"},
                          "2026-12-31T15:00:00Z", r"Y-(\d{4})-(\d{4,})", "2026", "2027"),
    "monthly-America/New_York": ("M", {"format_template": "%s%d/%05d", "reset_rule": "monthly",
                                       "timezone": "America/New_York"},
                                 "2026-12-01T05:00:00Z", r"M(\d{6})/(\d{5,})", "202611",
                                 "202612"),
}


@needs_faketime
@pytest.mark.slow
@pytest.mark.parametrize("case", list(CROSSINGS))
def test_concurrent_clients_across_a_boundary_restart_the_counter_exactly_once(faked, case):
    name, body, boundary_iso, pattern, old, new = CROSSINGS[case]
    boundary = at(boundary_iso)
    seed = random.randrange(1 << 30)
    print("random seed %d" % seed)
    srv, clock = faked(boundary - 30)
    assert configure(srv, name, body).status == 200
    clock(boundary - 1.0)
    load = PrefixLoad(srv, [name], clients=8, duration_s=2.0, max_requests=1500, seed=seed,
                      batch_max=5).start()
    load.wait()
    print(load.summary())
    assert load.statuses() == {200: sum(len(c) for c in load.results)}, load.summary()
    numbers = load.numbers()
    fulls = [n["full_number"] for n in numbers]
    repeated = [f for f, c in collections.Counter(fulls).items() if c > 1]
    assert not repeated, "full numbers received twice: %r" % repeated[:20]
    by_period = {old: [], new: []}
    for n in numbers:
        m = re.fullmatch(pattern, n["full_number"])
        assert m and m.group(1) in by_period, "not a number of either period: %r" % n
        assert int(m.group(2)) == n["counter"], n
        by_period[m.group(1)].append(n["counter"])
        if n["generated_at"] is not None and parse_time(n["generated_at"]) >= boundary:
            assert m.group(1) == new, "issued at %s, after the boundary %s, with the old date: %r" \
                % (n["generated_at"], boundary_iso, n)
    print("%d numbers of %s, %d of %s" % (len(by_period[old]), old, len(by_period[new]), new))
    for period, counters in by_period.items():
        assert counters, "no number of period %s: the load did not straddle the boundary (%s)" \
            % (period, load.summary())
        assert sorted(counters) == list(range(1, len(counters) + 1)), \
            "period %s: counters not exactly 1..%d once each: %r" % (
                period, len(counters), sorted(counters)[:40])
    # One client's numbers only move forward: (period, counter) increases.
    for k in range(len(load.results)):
        mine = [(re.fullmatch(pattern, n["full_number"]).group(1), n["counter"])
                for n in numbers if n["client"] == k]
        assert all(a < b for a, b in zip(mine, mine[1:])), "client %d went back: %r" % (k, mine)
    # The audit: every number once, in issue order, with exactly one restart at 1.
    records = audit_all(srv, name)
    counters = [r["counter"] for r in records]
    k = len(by_period[old])
    assert counters == list(range(1, k + 1)) + list(range(1, len(by_period[new]) + 1)), \
        "audit counters are not 1..%d then 1..%d: %r" % (k, len(by_period[new]), counters)
    assert sorted(r["full_number"] for r in records) == sorted(fulls)
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    received = {n["full_number"]: n for n in numbers}
    for r in records:
        n = received[r["full_number"]]
        assert (r["client_id"], r["generated_by"]) == (n["client_id"], n["generated_by"]), (r, n)
        if n["message_id"] is not None:
            assert (r["message_id"], r["generated_at"]) == (n["message_id"], n["generated_at"]), \
                (r, n)
    expect_status(srv, name, len(by_period[new]), len(by_period[new]) + 1, len(by_period[new]))


# Two zones at once in one worker's threads ------------------------------------------------

# Kiritimati (+14) and Pago Pago (-11) are 25 hours apart, so their dates differ at every moment:
# a number worked out in the other prefix's zone, or in the host's, shows a wrong day.
TWO_ZONES = {"K": "Pacific/Kiritimati", "P": "Pacific/Pago_Pago"}
TWO_ZONES_MIDNIGHT = "2026-11-22T10:00:00Z"  # 2026-11-23 00:00 in Kiritimati, 23:00 in Pago Pago


def local_day(zone, unix_s):
    return datetime.datetime.fromtimestamp(unix_s, zoneinfo.ZoneInfo(zone)).strftime("%Y%m%d")


@needs_faketime
@pytest.mark.slow
def test_two_zones_taken_at_once_by_one_workers_threads_each_number_in_its_own_zone(nextid):
    """One worker, 8 threads, 8 clients x 200 requests alternating between a prefix in each zone,
    across midnight in Kiritimati: every number has the day of its own zone at the moment it was
    issued, and each prefix's counters run 1..n in each of its days. The clock is faked by a fixed
    offset in the environment (no file to re-read, which libfaketime does unsafely across
    threads), so it runs on from the moment chosen, as the real clock does."""
    boundary = at(TWO_ZONES_MIDNIGHT)
    offset = int(boundary - 15 - time.time())  # the server starts 15 s before midnight
    env = {"LD_PRELOAD": FAKETIME_SO, "FAKETIME": "%+d" % offset, "DONT_FAKE_MONOTONIC": "1",
           "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    srv = nextid(config={"admin_token": TOKEN, "threads": "8"}, env=env, workers=1)
    for name, zone in TWO_ZONES.items():
        assert configure(srv, name, {"format_template": "{prefix}{yyyy}{mm}{dd}-{counter:5}",
                                     "reset_rule": "daily", "timezone": zone}).status == 200
    probe = check_number(take(srv, "K"), "K", 1)
    assert abs(parse_time(probe["generated_at"]) - (time.time() + offset)) < 2, probe
    midnight_real = boundary - offset
    assert time.time() < midnight_real - 1, "the server took too long to start"
    time.sleep(midnight_real - 0.5 - time.time())

    results = [[] for _ in range(8)]

    def client(k):
        for i in range(200):
            if i == 100:  # half before midnight (whatever the speed), half after
                time.sleep(max(0.0, midnight_real + 0.05 - time.time()))
            name = "KP"[(k + i) % 2]
            results[k].append((k, name, take(srv, name, client_id="c%d" % k)))

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a client did not finish"

    by_day = collections.defaultdict(list)
    wrong = []
    for k, name, reply in (r for client in results for r in client):
        body = check_number(reply, name, client_id="c%d" % k)
        m = re.fullmatch(r"([KP])(\d{8})-(\d{5,})", body["full_number"])
        assert m and m.group(1) == name and int(m.group(3)) == body["counter"], body
        issued = parse_time(body["generated_at"])
        want = local_day(TWO_ZONES[name], issued)
        # A request that read the clock just before midnight and committed after one that read
        # it just after takes the new day (the period never goes back): only then a later day.
        late = m.group(2) == local_day(TWO_ZONES[name], issued + 2) and issued < boundary
        if m.group(2) != want and not late:
            wrong.append((body["full_number"], body["generated_at"], want))
        by_day[(name, m.group(2))].append(body["counter"])
    assert not wrong, "%d numbers with another zone's day, e.g. %r" % (len(wrong), wrong[:5])
    probe_day = local_day("Pacific/Kiritimati", parse_time(probe["generated_at"]))
    by_day[("K", probe_day)].append(1)
    assert sorted(by_day) == [("K", "20261122"), ("K", "20261123"), ("P", "20261121")], \
        sorted(by_day)
    for (name, day), counters in by_day.items():
        assert sorted(counters) == list(range(1, len(counters) + 1)), \
            "%s on %s: counters not 1..%d once each: %r" % (name, day, len(counters),
                                                          sorted(counters)[:40])
    assert sum(len(c) for c in by_day.values()) == 1601


# The audit under load and after SIGKILL --------------------------------------------------

PREFIXES = {"A": {"format_template": "%s%06d"},
            "B-été": {"format_template": "{prefix}-{counter:4}"},
            "C": {"format_template": "INV%d-%05d", "timezone": "Asia/Tokyo"}}


def check_audit_against(srv, numbers, exact):
    """For every prefix: each number a client received is in the audit exactly once, with its
    full number, client_id, generated_by (and message_id and time for a single next); the audit
    has no duplicates and nothing beyond the status's current_counter. exact: the audit also
    holds nothing else (every request was answered)."""
    for name in PREFIXES:
        mine = [n for n in numbers if n["prefix"] == name]
        assert mine, "no number of %s was received" % name
        records = audit_all(srv, name, limit=333)
        counters = [r["counter"] for r in records]
        repeated = [c for c, k in collections.Counter(counters).items() if k > 1]
        assert not repeated, "%s: counters twice in the audit: %r" % (name, repeated[:20])
        fulls = collections.Counter(r["full_number"] for r in records)
        assert all(k == 1 for k in fulls.values()), "%s: a full number twice in the audit" % name
        assert [r["seq"] for r in records] == counters, "%s: seq is not the counter" % name
        st = json_ok(status(srv, name))
        assert st["last_audit_counter"] == st["current_counter"], st
        assert not records or max(counters) <= st["current_counter"], \
            "%s: audit counter %d beyond current_counter %d" % (name, max(counters),
                                                              st["current_counter"])
        by_counter = {r["counter"]: r for r in records}
        received = collections.Counter(n["counter"] for n in mine)
        twice = [c for c, k in received.items() if k > 1]
        assert not twice, "%s: counters received twice: %r" % (name, twice[:20])
        missing = sorted(c for c in received if c not in by_counter)
        assert not missing, "%s: %d received numbers without an audit record: %r" % (
            name, len(missing), missing[:20])
        for n in mine:
            r = by_counter[n["counter"]]
            assert (r["full_number"], r["client_id"], r["generated_by"]) == \
                (n["full_number"], n["client_id"], n["generated_by"]), (r, n)
            if n["message_id"] is not None:
                assert (r["message_id"], r["generated_at"]) == \
                    (n["message_id"], n["generated_at"]), (r, n)
        extra = sorted(set(by_counter) - set(received))
        gaps = sorted(set(range(1, st["current_counter"] + 1)) - set(by_counter))
        print("%s: %d received, %d in the audit, %d only in the audit (answer lost), "
              "current_counter %d, %d counters without a record"
              % (name, len(mine), len(records), len(extra), st["current_counter"], len(gaps)))
        if exact:
            assert sorted(received) == counters == list(range(1, st["current_counter"] + 1)), \
                "%s: the audit does not hold exactly the issued counters: only in the audit " \
                "%r, gaps %r" % (name, extra[:20], gaps[:20])
        # The next number is beyond everything recorded.
        after = check_number(take(srv, name), name)
        assert after["counter"] > max(counters), (after, max(counters))


@pytest.mark.slow
def test_after_concurrent_next_and_batch_the_audit_holds_exactly_the_issued_numbers(admin):
    seed = random.randrange(1 << 30)
    print("random seed %d" % seed)
    for name, body in PREFIXES.items():
        assert configure(admin, name, body).status == 200
    load = PrefixLoad(admin, list(PREFIXES), clients=8, duration_s=2.0, max_requests=300,
                      seed=seed).start()
    load.wait()
    print(load.summary())
    assert load.statuses() == {200: sum(len(c) for c in load.results)}, load.summary()
    check_audit_against(admin, load.numbers(), exact=True)


def kill_random_worker(srv, rng):
    workers = srv.worker_pids()
    if not workers:
        return None
    pid = rng.choice(workers)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return None
    return pid


def wait_for_workers(srv, count, deadline_s):
    end = time.monotonic() + deadline_s
    workers = srv.worker_pids()
    while len(workers) != count and time.monotonic() < end:
        time.sleep(0.05)
        workers = srv.worker_pids()
    return workers


@pytest.mark.slow
def test_after_sigkill_of_workers_under_load_every_received_number_is_audited_once(admin):
    seed = random.randrange(1 << 30)
    print("random seed %d" % seed)
    rng = random.Random(seed)
    for name, body in PREFIXES.items():
        assert configure(admin, name, body).status == 200
    workers = len(admin.worker_pids())
    load = PrefixLoad(admin, list(PREFIXES), clients=8, duration_s=4.0, max_requests=2000,
                      seed=seed).start()
    killed = []
    for _ in range(5):
        time.sleep(0.5 + rng.random() * 0.2)
        killed.append(kill_random_worker(admin, rng))
    load.wait()
    print("killed workers %r; %s" % (killed, load.summary()))
    assert len(wait_for_workers(admin, workers, 10)) == workers
    admin.wait_ready("/health/ready", deadline_s=5)
    # nextid itself may answer 503 (store unavailable) while a killed worker is cleaned up.
    wrong = [e for e in load.errors if e.startswith(("GET", "POST")) and " -> 503 " not in e]
    assert not wrong, "answers of nextid other than 200 and 503 under the kills: %r" % wrong[:5]
    check_audit_against(admin, load.numbers(), exact=False)


def test_audit_pages_with_after_and_limit_and_refuses_bad_parameters(admin):
    assert configure(admin, "pg", {"padding_length": 2}).status == 200
    check_number(take(admin, "pg", client_id="one"), "pg", 1, "pg01", "one")
    check_batch(batch(admin, "pg", {"count": 9, "client_id": "nine", "generated_by": "b"}),
                "pg", 9, 2, ["pg%02d" % i for i in range(2, 11)])
    check_number(take(admin, "pg", generated_by="last"), "pg", 11, "pg11", None, "last")
    records = json_ok(audit(admin, "pg"))["records"]  # default limit 100: all 11
    assert [(r["seq"], r["counter"], r["full_number"]) for r in records] == \
        [(i, i, "pg%02d" % i) for i in range(1, 12)]
    assert (records[0]["client_id"], records[1]["client_id"], records[1]["generated_by"]) == \
        ("one", "nine", "b")
    assert records[10]["generated_by"] == "last"
    # What a request did not send is empty in its record.
    assert records[0]["generated_by"] in ("", None) and records[10]["client_id"] in ("", None)
    assert json_ok(audit(admin, "pg", "?limit=3"))["records"] == records[:3]
    assert json_ok(audit(admin, "pg", "?after=3&limit=4"))["records"] == records[3:7]
    assert json_ok(audit(admin, "pg", "?after=10&limit=4"))["records"] == records[10:]
    assert json_ok(audit(admin, "pg", "?after=11"))["records"] == []
    assert json_ok(audit(admin, "pg", "?after=0&limit=1000"))["records"] == records
    assert audit_all(admin, "pg", limit=2) == records
    for query in ("?limit=0", "?limit=1001", "?limit=abc", "?limit=1e3", "?limit=-1",
                  "?after=x", "?after=-1", "?after=0x10", "?kind=bogus"):
        reply = audit(admin, "pg", query)
        body = json_ok(reply, 400)
        assert list(body) == ["error", "message"], str(reply)


# Reset ------------------------------------------------------------------------------------

def check_reset(reply, old, new):
    body = json_ok(reply)
    assert list(body) == ["success", "message", "old_value", "new_value", "reset_id"], str(reply)
    assert body["success"] is True and body["message"] == "Counter reset from %d to %d" % (
        old, new), str(reply)
    assert (body["old_value"], body["new_value"]) == (old, new), str(reply)
    assert UUID.match(body["reset_id"]), str(reply)
    return body


def test_reset_set_to_n_issues_n_plus_1_lowering_needs_force_and_is_audited(admin):
    assert configure(admin, "R", {"format_template": "{prefix}-{counter}", "padding_length": 4,
                                  "admin_user": "creator"}).status == 200
    for i in (1, 2, 3):
        check_number(take(admin, "R"), "R", i, "R-%04d" % i)
    r1 = check_reset(reset(admin, "R", {"set_to": 10, "reason": "skip ahead",
                                        "admin_user": "alice"}), 3, 10)
    expect_status(admin, "R", 10, 11, 3)
    check_number(take(admin, "R"), "R", 11, "R-0011")
    # Lowering without force (absent or false) is 400 and changes nothing.
    for body in ({"set_to": 5, "reason": "oops", "admin_user": "bob"},
                 {"set_to": 5, "force": False}, {"set_to": 0}):
        reply = reset(admin, "R", body)
        got = json_ok(reply, 400)
        assert got["error"] == "Invalid reset" and list(got) == ["error", "message"], str(reply)
        expect_status(admin, "R", 11, 12, 11)
    # Setting it to the current counter is no lowering.
    r2 = check_reset(reset(admin, "R", {"set_to": 11}), 11, 11)
    check_number(take(admin, "R"), "R", 12, "R-0012")
    # With force it goes down.
    r3 = check_reset(reset(admin, "R", {"set_to": 5, "force": True, "reason": "re-use",
                                        "admin_user": "carol"}), 12, 5)
    expect_status(admin, "R", 5, 6, 12)
    check_number(take(admin, "R"), "R", 6, "R-0006")
    expect_status(admin, "R", 6, 7, 6)
    # The numbers in issue order: seq is the audit position, the counter what was issued.
    records = audit_all(admin, "R")
    assert [(r["seq"], r["counter"], r["full_number"]) for r in records] == [
        (1, 1, "R-0001"), (2, 2, "R-0002"), (3, 3, "R-0003"), (4, 11, "R-0011"),
        (5, 12, "R-0012"), (6, 6, "R-0006")]
    # The events: the creation, then the three resets, not the refused ones.
    events = audit_all(admin, "R", kind="events")
    assert [e["event"] for e in events] == ["config", "reset", "reset", "reset"], events
    assert events[0]["admin_user"] == "creator" and isinstance(events[0]["settings"], str), \
        events[0]
    resets = [(e["old_value"], e["new_value"], e["reason"], e["admin_user"], e["id"])
              for e in events[1:]]
    assert resets[0] == (3, 10, "skip ahead", "alice", r1["reset_id"]), events
    assert resets[1][:2] == (11, 11) and resets[1][4] == r2["reset_id"], events
    assert resets[1][2] in ("", None) and resets[1][3] in ("", None), events
    assert resets[2] == (12, 5, "re-use", "carol", r3["reset_id"]), events
    times = [parse_time(e["at"]) for e in events]
    assert times == sorted(times) and abs(times[-1] - time.time()) < 60, events
    assert len({e["id"] for e in events}) == 4
    # Paging the events.
    assert json_ok(audit(admin, "R", "?kind=events&limit=2"))["records"] == events[:2]
    assert json_ok(audit(admin, "R", "?kind=events&after=%d" % events[1]["seq"]))["records"] \
        == events[2:]
    assert json_ok(audit(admin, "R", "?kind=numbers"))["records"] == records


@pytest.mark.parametrize("body", [{}, {"set_to": -1}, {"set_to": "five"}, {"set_to": 1.5},
                                  {"set_to": None}, {"set_to": 5, "force": "yes"},
                                  {"set_to": 5, "bogus": 1}, {"set_to": 5, "reason": 7},
                                  {"set_to": 5, "admin_user": ["x"]}, b"", b"set_to=5"])
def test_a_bad_reset_body_is_400_and_changes_nothing(admin, body):
    assert configure(admin, "R", {}).status == 200
    check_number(take(admin, "R"), "R", 1)
    reply = reset(admin, "R", body)
    got = json_ok(reply, 400)
    assert list(got) == ["error", "message"], str(reply)
    expect_status(admin, "R", 1, 2, 1)
    assert [e["event"] for e in audit_all(admin, "R", kind="events")] == ["config"]


# Batches ---------------------------------------------------------------------------------

def test_batch_limits_and_bad_bodies(admin):
    assert configure(admin, "B", {"format_template": "%s%04d"}).status == 200
    check_batch(batch(admin, "B", {"count": 1}), "B", 1, 1, ["B0001"])
    big = check_batch(batch(admin, "B", {"count": 1000, "client_id": "bulk"}), "B", 1000, 2)
    assert big["full_numbers"] == ["B%04d" % i for i in range(2, 1002)]
    for body in ({"count": 0}, {"count": 1001}, {"count": -1}, {"count": "five"}, {"count": 2.5},
                 {}, {"count": 5, "bogus": 1}, {"count": 5, "client_id": 5},
                 {"count": 5, "client_id": ""}, {"count": 5, "generated_by": "x" * 129},
                 b"", b"[5]", b"count=5"):
        reply = batch(admin, "B", body)
        got = json_ok(reply, 400)
        assert list(got) == ["error", "message"], (body, str(reply))
    expect_status(admin, "B", 1001, 1002, 1001)


def test_next_by_get_and_post_echoes_client_and_generator_and_head_burns_nothing(admin):
    assert configure(admin, "N", {"format_template": "{prefix}{counter:3}"}).status == 200
    t0 = time.time()
    a = check_number(take(admin, "N"), "N", 1, "N001")
    b = check_number(take(admin, "N", client_id="web shop", generated_by="été", method="POST"),
                     "N", 2, "N002", "web shop", "été")
    c = check_number(take(admin, "N", client_id="only-client"), "N", 3, "N003", "only-client")
    assert len({a["message_id"], b["message_id"], c["message_id"]}) == 3
    for n in (a, b, c):
        assert t0 - 2 <= parse_time(n["generated_at"]) <= time.time() + 2, n
    head = admin.request("HEAD", "/api/v1/next/N")
    assert head.status == 405 and "GET" in head.headers.get("allow", ""), str(head)
    expect_status(admin, "N", 3, 4, 3)
    records = audit_all(admin, "N")
    assert [(r["message_id"], r["generated_at"]) for r in records] == \
        [(n["message_id"], n["generated_at"]) for n in (a, b, c)]
    assert (records[1]["client_id"], records[1]["generated_by"]) == ("web shop", "été")
    assert records[2]["client_id"] == "only-client" and records[2]["generated_by"] in ("", None)
    # A prefix is no plain sequence: /next/<P> is a 409, and burns nothing.
    reply = admin.get("/next/N")
    assert reply.status == 409 and json_ok(reply, 409)["error"] == "Formatted prefix", str(reply)
    expect_status(admin, "N", 3, 4, 3)


# Unknown prefixes and admin auth ---------------------------------------------------------

def test_an_unconfigured_prefix_is_404_everywhere(admin):
    # A plain sequence of that name (TakeANumber) is no prefix either.
    assert admin.get("/next/plain").status == 200
    for name in ("nope", "plain", "été"):
        nf = not_configured(name)
        expect(take(admin, name), 404, nf)
        expect(take(admin, name, client_id="c", method="POST"), 404, nf)
        expect(batch(admin, name, {"count": 3}), 404, nf)
        expect(status(admin, name), 404, nf)
        expect(audit(admin, name), 404, nf)
        expect(audit(admin, name, "?kind=events"), 404, nf)
        expect(read_config(admin, name), 404, nf)
        expect(reset(admin, name, {"set_to": 5}), 404, nf)
    # None of that created anything.
    expect(read_config(admin, "nope"), 404, not_configured("nope"))
    expect(status(admin, "nope"), 404, not_configured("nope"))


def test_admin_endpoints_need_the_bearer_token(admin):
    assert configure(admin, "Z", {"padding_length": 2}).status == 200
    check_number(take(admin, "Z"), "Z", 1, "Z01")
    bad = [None, {"Authorization": "Bearer wrong-token-0123456789abcdef"},
           {"Authorization": "Bearer " + TOKEN + "x"}, {"Authorization": "Bearer " + TOKEN[:-1]},
           {"Authorization": "Basic " + TOKEN}, {"Authorization": TOKEN},
           {"Authorization": "Bearer"}]
    for headers in bad:
        for reply in (configure(admin, "Z", {"padding_length": 5}, headers=headers or {}),
                      configure(admin, "new", {}, headers=headers or {}),
                      reset(admin, "Z", {"set_to": 50}, headers=headers or {}),
                      audit(admin, "Z", headers=headers or {}),
                      audit(admin, "Z", "?kind=events", headers=headers or {})):
            expect(reply, 401, UNAUTHORIZED)
            assert reply.headers.get("www-authenticate", "").startswith("Bearer"), str(reply)
    expect(read_config(admin, "Z"), 200, config_body("Z", 2))
    expect(read_config(admin, "new"), 404, not_configured("new"))
    expect_status(admin, "Z", 1, 2, 1)
    # The scheme is case-insensitive; the non-admin endpoints need no token.
    assert audit(admin, "Z", headers={"Authorization": "bearer " + TOKEN}).status == 200
    assert reset(admin, "Z", {"set_to": 1}, headers={"Authorization": "BEARER " + TOKEN}) \
        .status == 200


def test_without_an_admin_token_the_admin_endpoints_are_403(server):
    for headers in ({}, AUTH):
        expect(configure(server, "P", {}, headers=headers), 403, DISABLED)
        expect(reset(server, "P", {"set_to": 5}, headers=headers), 403, DISABLED)
        expect(audit(server, "P", headers=headers), 403, DISABLED)
    expect(read_config(server, "P"), 404, not_configured("P"))
    expect(take(server, "P"), 404, not_configured("P"))


def listed(name, current, next_counter, next_number, padding=6, template="{prefix}{counter}",
           rule="never", zone="UTC"):
    """One prefix as GET /api/admin/prefixes lists it."""
    return dict(config_body(name, padding, template, rule, zone), current_counter=current,
                next_counter=next_counter, next_number=next_number)


def test_prefix_list_pages_the_prefixes_with_the_preview_of_their_next_number(admin):
    year = time.gmtime().tm_year
    expect(admin.get("/api/admin/prefixes", AUTH), 200, {"prefixes": []})
    configure(admin, "SG", {})
    configure(admin, "INV", {"padding_length": 4, "format_template": "{prefix}-{yyyy}-{counter}",
                             "reset_rule": "yearly"})
    admin.get("/next/plain")  # a plain sequence is no prefix: not listed
    take(admin, "INV")
    take(admin, "INV")
    inv = listed("INV", 2, 3, "INV-%d-0003" % year, 4, "{prefix}-{yyyy}-{counter}", "yearly")
    sg = listed("SG", 0, 1, "SG000001")
    expect(admin.get("/api/admin/prefixes", AUTH), 200, {"prefixes": [inv, sg]})
    expect(admin.get("/api/admin/prefixes?limit=1", AUTH), 200, {"prefixes": [inv]})
    expect(admin.get("/api/admin/prefixes?after=INV&limit=5", AUTH), 200, {"prefixes": [sg]})
    expect(admin.get("/api/admin/prefixes?after=SG", AUTH), 200, {"prefixes": []})
    # Admin only, and the same paging rules as the sequences' list.
    expect(admin.get("/api/admin/prefixes"), 401, UNAUTHORIZED)
    expect(admin.get("/api/admin/prefixes?limit=0", AUTH), 400,
           {"error": "Invalid parameter", "message": "limit must be between 1 and 10000."})
    # The preview takes nothing: the next number taken is the one shown.
    check_number(take(admin, "INV"), "INV", 3, "INV-%d-0003" % year)


def test_prefix_list_answers_403_without_a_configured_token(server):
    expect(server.get("/api/admin/prefixes", AUTH), 403, DISABLED)
