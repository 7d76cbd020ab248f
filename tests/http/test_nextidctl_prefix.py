"""nextidctl for formatted prefixes and their audit trail, on the live store while the service
runs: prefix list, show, config and reset, and audit (tab-separated, CSV, events), with the
exact output of each, and the same state as the /api/v1/ endpoints see."""

import os
import pwd
import re
import subprocess
import urllib.parse

from nextid_server import CTL, expect
from test_nextidctl import RUN_TIMEOUT_S, describe, fails, ok, run, usage_error

TOKEN = "ctl-prefix-T0ken-0123456789"
AUTH = {"Authorization": "Bearer " + TOKEN}
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"

USAGE_LIST = (
    "prefix list\n"
    "  Every formatted prefix, one per line: name, template, padding, reset rule, time zone\n"
    "  and the next counter (or 'exhausted'), separated by tabs.\n")
USAGE_SHOW = (
    "prefix show PREFIX\n"
    "  One prefix's configuration, its current and next counter, how many numbers its audit\n"
    "  holds and when the last was issued.\n")
USAGE_CONFIG = (
    "prefix config PREFIX [--format TEMPLATE] [--padding N]\n"
    "              [--reset never|daily|monthly|yearly] [--timezone ZONE] [--admin-user NAME]\n"
    "  Create a prefix, or change the settings given (a new one: {prefix}{counter}, padding 6,\n"
    "  never, UTC). Audited.\n")
USAGE_RESET = (
    "prefix reset PREFIX --set-to N [--force] [--reason TEXT]\n"
    "             [--admin-user NAME]\n"
    "  The next number issued becomes N+1. Lowering the counter issues numbers again and needs\n"
    "  --force. Audited.\n")
USAGE_AUDIT = (
    "audit PREFIX [--after N] [--limit N] [--csv] [--events]\n"
    "  The numbers a prefix issued, in order: position, counter, full number, client_id,\n"
    "  generated_by, correlation_id, message_id, time; with --events its resets and\n"
    "  configuration changes instead. After position N (default 0), at most --limit entries\n"
    "  (default all); tab-separated, or CSV with a header line.\n")
LEAD = "usage: nextidctl [--config FILE] "


def login_name():
    """Who the audit names when --admin-user is not given: the login name, else the user."""
    try:
        name = os.getlogin()
        if name:
            return name
    except OSError:
        pass
    return pwd.getpwuid(os.geteuid()).pw_name


def take(srv, prefix, **query):
    path = "/api/v1/next/" + urllib.parse.quote(prefix, safe="")
    if query:
        path += "?" + urllib.parse.urlencode(query)
    reply = srv.get(path)
    assert reply.status == 200, str(reply)
    return reply.json()


def lines_match(text, patterns):
    """Each line of text matches its regular expression, whole, and there are as many."""
    lines = text.split("\n")
    assert lines[-1] == "", repr(text)
    assert len(lines) - 1 == len(patterns), "%r against %r" % (text, patterns)
    for line, pattern in zip(lines, patterns):
        assert re.fullmatch(pattern, line), "%r does not match %r" % (line, pattern)
    return lines[:-1]


def help_of(*args):
    proc = subprocess.run([CTL] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=RUN_TIMEOUT_S, text=True)
    assert (proc.returncode, proc.stderr) == (0, ""), describe(proc)
    return proc.stdout


# --help ----------------------------------------------------------------------------------

def test_every_prefix_subcommand_and_audit_has_its_own_help():
    assert help_of("prefix", "--help") == "".join(
        LEAD + u for u in (USAGE_LIST, USAGE_SHOW, USAGE_CONFIG, USAGE_RESET))
    for sub, usage in (("list", USAGE_LIST), ("show", USAGE_SHOW), ("config", USAGE_CONFIG),
                       ("reset", USAGE_RESET)):
        assert help_of("prefix", sub, "--help") == LEAD + usage
        assert help_of("prefix", sub, "SG", "-h") == LEAD + usage
    assert help_of("audit", "--help") == LEAD + USAGE_AUDIT
    assert help_of("audit", "SG", "--csv", "--help") == LEAD + USAGE_AUDIT


def test_the_command_list_shows_prefix_and_audit():
    text = help_of("--help")
    for usage in (USAGE_LIST, USAGE_SHOW, USAGE_CONFIG, USAGE_RESET, USAGE_AUDIT):
        assert "\n  " + usage in text, "%r not in\n%s" % (usage, text)


# prefix config, list, show ---------------------------------------------------------------

def test_config_creates_and_changes_prefixes_that_the_api_then_serves(nextid):
    srv = nextid(config={"admin_token": TOKEN})
    assert ok(run(srv, "prefix", "list")) == ""
    assert ok(run(srv, "prefix", "config", "SG")) == \
        "created SG: {prefix}{counter}, padding 6, never, UTC\n"
    assert ok(run(srv, "prefix", "config", "INV", "--format", "INV-{yyyy}-{counter:4}",
                  "--reset", "yearly", "--timezone", "Europe/Paris")) == \
        "created INV: INV-{yyyy}-{counter:4}, padding 6, yearly, Europe/Paris\n"
    assert ok(run(srv, "prefix", "config", "SG", "--padding", "3")) == \
        "changed SG: {prefix}{counter}, padding 3, never, UTC\n"
    expect(srv.get("/api/v1/config/SG"), 200,
           {"prefix": "SG", "padding_length": 3, "format_template": "{prefix}{counter}",
            "reset_rule": "never", "timezone": "UTC"})

    assert take(srv, "SG")["full_number"] == "SG001"
    assert take(srv, "SG")["full_number"] == "SG002"
    year = take(srv, "INV")["full_number"][4:8]
    # A plain sequence is not a prefix: list leaves it out, show refuses it.
    ok(run(srv, "create", "plain"))
    assert ok(run(srv, "prefix", "list")) == (
        "INV\tINV-{yyyy}-{counter:4}\t6\tyearly\tEurope/Paris\t2\n"
        "SG\t{prefix}{counter}\t3\tnever\tUTC\t3\n")
    lines_match(ok(run(srv, "prefix", "show", "SG")), [
        r"prefix: SG", r"format: \{prefix\}\{counter\}", r"padding: 3", r"reset: never",
        r"timezone: UTC", r"current: 2", r"next: 3", r"audited: 2", r"last issued: " + TIME])
    assert ok(run(srv, "prefix", "show", "INV")).startswith("prefix: INV\n")
    assert year.isdigit()
    fails(run(srv, "prefix", "show", "plain"),
          "nextidctl: prefix show: no prefix is named 'plain' (create it with nextidctl prefix "
          "config)")
    fails(run(srv, "prefix", "show", "nope"),
          "nextidctl: prefix show: no prefix is named 'nope' (create it with nextidctl prefix "
          "config)")


def test_a_new_prefix_shows_no_number_yet(nextid):
    srv = nextid()
    ok(run(srv, "prefix", "config", "T", "--format", "T-{counter}", "--padding", "0"))
    assert ok(run(srv, "prefix", "show", "T")) == (
        "prefix: T\nformat: T-{counter}\npadding: 0\nreset: never\ntimezone: UTC\n"
        "current: 0\nnext: 1\naudited: 0\nlast issued: -\n")


def test_config_refuses_what_the_api_refuses_and_changes_nothing(nextid):
    srv = nextid()
    ok(run(srv, "prefix", "config", "SG"))
    for args, line, code in (
            (["--format", "bad{"],
             "nextidctl: prefix config: format_template has a '{' without a closing '}'.", 1),
            (["--timezone", "Mars/Base"],
             "nextidctl: prefix config: timezone is not a known IANA time zone, such as "
             "Europe/Berlin or UTC.", 1),
            (["--padding", "19"], "nextidctl: --padding '19' is too large (it takes 0 to 18)", 2),
            (["--padding", "-1"], "nextidctl: --padding '-1' is not a number (it takes 0 to 18)",
             2),
            (["--reset", "weekly"],
             "nextidctl: --reset must be never, daily, monthly or yearly", 2),
            (["--size", "3"], "nextidctl: prefix config: unknown option '--size'", 2),
            (["--format"], "nextidctl: --format needs a value", 2),
            (["--admin-user", "a\tb"],
             "nextidctl: --admin-user must be 1 to 128 bytes of UTF-8 without control "
             "characters", 2)):
        fails(run(srv, "prefix", "config", "SG", *args), line, code)
    fails(run(srv, "prefix", "config", "a/b"), "nextidctl: Name must not contain '/'.", 2)
    usage_error(run(srv, "prefix", "config"))
    usage_error(run(srv, "prefix"))
    fails(run(srv, "prefix", "rename", "SG"),
          "nextidctl: prefix: unknown subcommand 'rename' (list, show, config, reset)", 2)
    assert ok(run(srv, "prefix", "list")) == "SG\t{prefix}{counter}\t6\tnever\tUTC\t1\n"


# prefix reset ----------------------------------------------------------------------------

def test_reset_moves_the_counter_and_lowering_needs_force(nextid):
    srv = nextid(config={"admin_token": TOKEN})
    ok(run(srv, "prefix", "config", "SG"))
    for _ in range(5):
        take(srv, "SG")
    assert ok(run(srv, "prefix", "reset", "SG", "--set-to", "100")) == \
        "Counter reset from 5 to 100\n"
    assert take(srv, "SG")["full_number"] == "SG000101"
    fails(run(srv, "prefix", "reset", "SG", "--set-to", "3"),
          "nextidctl: prefix reset: 3 is below the current counter, 101: numbers 4 to 101 "
          "would be issued again; add --force if that is what you want")
    assert take(srv, "SG")["counter"] == 102
    assert ok(run(srv, "prefix", "reset", "SG", "--set-to", "3", "--force", "--reason",
                  "year-end renumbering", "--admin-user", "ann")) == \
        "Counter reset from 102 to 3\n"
    assert take(srv, "SG")["counter"] == 4
    # Resetting to the current counter changes nothing and needs no force.
    assert ok(run(srv, "prefix", "reset", "SG", "--set-to", "4")) == "Counter reset from 4 to 4\n"

    for args, line in (
            ([], "nextidctl: prefix reset: --set-to N is required"),
            (["--set-to", "x"], "nextidctl: --set-to 'x' is not a number (it takes 0 to "
                                "9223372036854775806)"),
            (["--set-to", "9223372036854775807"],
             "nextidctl: --set-to '9223372036854775807' is too large (it takes 0 to "
             "9223372036854775806)"),
            (["--set-to", "1", "--hard"], "nextidctl: prefix reset: unknown option '--hard'"),
            (["--set-to", "9", "--reason", ""],
             "nextidctl: --reason must be 1 to 512 bytes of UTF-8 without control "
             "characters")):
        fails(run(srv, "prefix", "reset", "SG", *args), line, 2)
    fails(run(srv, "prefix", "reset", "nope", "--set-to", "1"),
          "nextidctl: prefix reset: no prefix is named 'nope' (create it with nextidctl prefix "
          "config)")
    assert take(srv, "SG")["counter"] == 5
    expect(srv.get("/api/v1/status/SG"), 200,
           {"prefix": "SG", "current_counter": 5, "next_counter": 6, "db_healthy": True,
            "last_audit_counter": 5})


# audit -----------------------------------------------------------------------------------

def test_audit_lists_exactly_the_numbers_taken_in_order_and_pages(nextid):
    srv = nextid()
    ok(run(srv, "prefix", "config", "SG"))
    taken = [take(srv, "SG", client_id="erp", generated_by="batch-7"), take(srv, "SG"),
             take(srv, "SG", client_id="a,b \"c\"")]
    rows = [line.split("\t") for line in ok(run(srv, "audit", "SG")).splitlines()]
    assert rows == [
        [str(i + 1), str(t["counter"]), t["full_number"], t.get("client_id", ""),
         t.get("generated_by", ""), "", t["message_id"], t["generated_at"]]
        for i, t in enumerate(taken)]
    assert [r[2] for r in rows] == ["SG000001", "SG000002", "SG000003"]
    # The API's audit says the same numbers.
    api = srv.request("GET", "/api/v1/audit/SG", AUTH)
    assert api.status == 403  # no admin_token here: nextidctl is the way in

    assert ok(run(srv, "audit", "SG", "--after", "1", "--limit", "1")).split("\t")[:3] == \
        ["2", "2", "SG000002"]
    assert ok(run(srv, "audit", "SG", "--after", "3")) == ""
    assert len(ok(run(srv, "audit", "SG", "--limit", "2")).splitlines()) == 2

    lines_match(ok(run(srv, "audit", "SG", "--csv")).replace("\r\n", "\n"), [
        re.escape("seq,counter,full_number,client_id,generated_by,correlation_id,message_id,"
                  "generated_at"),
        r'1,1,"SG000001","erp","batch-7","","%s","%s"' % (UUID, TIME),
        r'2,2,"SG000002","","","","%s","%s"' % (UUID, TIME),
        r'3,3,"SG000003","a,b ""c""","","","%s","%s"' % (UUID, TIME)])
    csv_text = ok(run(srv, "audit", "SG", "--csv"))
    assert csv_text.count("\r\n") == 4 and "\n" not in csv_text.replace("\r\n", "")


def test_audit_events_show_configuration_changes_and_resets(nextid):
    srv = nextid()
    ok(run(srv, "prefix", "config", "SG", "--admin-user", "ann"))
    take(srv, "SG")
    take(srv, "SG")
    ok(run(srv, "prefix", "reset", "SG", "--set-to", "0", "--force", "--reason", "test run",
           "--admin-user", "bob"))
    ok(run(srv, "prefix", "config", "SG", "--padding", "2"))
    me = re.escape(login_name())
    lines_match(ok(run(srv, "audit", "SG", "--events")), [
        r"1\tconfig\t\t\tformat \{prefix\}\{counter\}, padding 6, reset never, zone UTC\tann\t"
        + UUID + r"\t" + TIME,
        r"2\treset\t2\t0\ttest run\tbob\t" + UUID + r"\t" + TIME,
        r"3\tconfig\t\t\tformat \{prefix\}\{counter\}, padding 2, reset never, zone UTC\t" + me
        + r"\t" + UUID + r"\t" + TIME])
    lines_match(ok(run(srv, "audit", "SG", "--events", "--csv", "--after", "1")).replace(
        "\r\n", "\n"), [
        re.escape("seq,event,old_value,new_value,note,admin_user,id,at"),
        r'2,"reset",2,0,"test run","bob","%s","%s"' % (UUID, TIME),
        r'3,"config",,,"format \{prefix\}\{counter\}, padding 2, reset never, zone UTC","%s",'
        r'"%s","%s"' % (me, UUID, TIME)])
    # The numbers' audit is apart from the events': the two numbers taken, nothing else.
    assert [line.split("\t")[2] for line in ok(run(srv, "audit", "SG")).splitlines()] == \
        ["SG000001", "SG000002"]


def test_audit_refuses_bad_arguments_and_what_is_no_prefix(nextid):
    srv = nextid()
    ok(run(srv, "create", "plain"))
    ok(run(srv, "prefix", "config", "SG"))
    fails(run(srv, "audit", "plain"), "nextidctl: audit: no prefix is named 'plain'")
    fails(run(srv, "audit", "nope"), "nextidctl: audit: no prefix is named 'nope'")
    for args, line in (
            (["--limit", "0"], "nextidctl: --limit '0' is too small (it takes 1 or more)"),
            (["--after", "1e3"], "nextidctl: --after '1e3' is not a number (it takes 0 or more)"),
            (["--after"], "nextidctl: --after needs a value"),
            (["--json"], "nextidctl: audit: unknown option '--json'")):
        fails(run(srv, "audit", "SG", *args), line, 2)
    usage_error(run(srv, "audit"))
