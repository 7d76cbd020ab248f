"""The web console at /console/ in a real headless Chromium, against a real lighttpd and pool.

The tests of this module share one server and one browser and run in order: what one creates
the next may read. Each saves a screenshot of the view it checks (conftest.py says where).
"""

import csv
import io
import json
import os
import re
import time
import urllib.parse

import pytest

from conftest import TOKEN

import nextid_server

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

WAIT_S = 15
AUTH = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}


# Helpers -------------------------------------------------------------------------------------

def wait_for(what, check, timeout=WAIT_S):
    """Poll check() until it returns a true value; fail naming `what` after timeout."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = check()
            if last:
                return last
        except (NoSuchElementException, StaleElementReferenceException) as e:
            last = e
        time.sleep(0.1)
    pytest.fail("timed out waiting for %s (last: %r)" % (what, last))


def url(srv, view=""):
    return "http://127.0.0.1:%d/console/%s" % (srv.port, view)


def go(browser, srv, view):
    """Open a view by its address, as a person following a link would."""
    browser.get(url(srv, view))
    wait_for("the view's heading", lambda: browser.find_element(By.CSS_SELECTOR, "main h1"))


def by_id(browser, ident):
    return browser.find_element(By.ID, ident)


def table_rows(browser, table_id):
    """Each body row of a table as the texts of its cells (th and td), read in one script: the
    views redraw their tables at every poll."""
    return browser.execute_script(
        "var t = document.getElementById(arguments[0]); if (!t) return [];"
        "return Array.prototype.map.call(t.querySelectorAll('tbody tr'), function (tr) {"
        "  return Array.prototype.map.call(tr.querySelectorAll('th, td'), function (c) {"
        "    return c.innerText.trim(); }); });", table_id)


def row_of(browser, table_id, name):
    for row in table_rows(browser, table_id):
        if row and row[0] == name:
            return row
    return None


def severe_logs(browser):
    return [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def set_token(browser, token):
    """Type the token into the header form, as a person would (Enter submits)."""
    state = by_id(browser, "token-state")
    if state.is_displayed():
        by_id(browser, "token-forget").click()
    field = wait_for("the token field", lambda: by_id(browser, "token-input").is_displayed()
                     and by_id(browser, "token-input"))
    field.send_keys(token + Keys.ENTER)
    wait_for("the token to be taken", lambda: by_id(browser, "token-state").is_displayed())


def error_text(browser):
    box = by_id(browser, "error")
    return box.text if box.is_displayed() else ""


def shot(browser, screenshots, name):
    browser.save_screenshot(os.path.join(screenshots, name + ".png"))


def admin_get(srv, path):
    reply = srv.get(path, AUTH)
    assert reply.status == 200, str(reply)
    return reply.json()


def quote(name):
    return urllib.parse.quote(name, safe="")


# The sequences ----------------------------------------------------------------------------

def test_the_console_loads_with_no_console_errors(console_server, browser, screenshots):
    for _ in range(3):
        assert console_server.get("/next/alpha").status == 200
    assert console_server.get("/api/next-id/users?dataType=int").status == 200
    console_server.nextidctl("create", "orders", "--start", "1000", "--increment", "5")
    go(browser, console_server, "")
    wait_for("the table", lambda: len(table_rows(browser, "sequence-table")) == 3)
    assert browser.title == "Sequences — nextid console"
    assert severe_logs(browser) == []
    # Every file of the page came from this host: nothing was fetched elsewhere.
    sources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; });")
    assert sources and all(s.startswith(url(console_server)) or "/api/" in s for s in sources)
    assert all(s.startswith("http://127.0.0.1:%d/" % console_server.port) for s in sources)
    shot(browser, screenshots, "sequences")


def test_the_table_shows_the_sequences_created_with_their_values(console_server, browser):
    go(browser, console_server, "#/sequences")
    wait_for("three rows", lambda: len(table_rows(browser, "sequence-table")) == 3)
    rows = [r[:4] for r in table_rows(browser, "sequence-table")]
    # Without the token: the public list (name, type, next value); options need the token.
    assert rows == [["alpha", "long", "4", "—"], ["orders", "long", "1000", "—"],
                    ["users", "int", "2", "—"]]
    set_token(browser, TOKEN)
    wait_for("the options", lambda: [r[:4] for r in table_rows(browser, "sequence-table")] == [
        ["alpha", "long", "4", "step 1, min 1, max 9223372036854775807"],
        ["orders", "long", "1000", "step 5, min 1, max 9223372036854775807"],
        ["users", "int", "2", "step 1, min 1, max 2147483647"]])
    # The search narrows the table as one types.
    by_id(browser, "seq-search").send_keys("ord")
    wait_for("one match", lambda: [r[0] for r in table_rows(browser, "sequence-table")]
             == ["orders"])
    assert by_id(browser, "sequence-table").find_element(By.TAG_NAME, "caption").text == \
        "1 sequence matching “ord”"
    by_id(browser, "seq-search").send_keys(Keys.BACKSPACE * 3)
    wait_for("all rows again", lambda: len(table_rows(browser, "sequence-table")) == 3)


def test_the_table_keeps_the_keyboard_focus_across_refreshes(console_server, browser):
    go(browser, console_server, "#/sequences")
    wait_for("the rows", lambda: len(table_rows(browser, "sequence-table")) == 3)
    # From the search field, Tab goes through the page size to the first sequence's link.
    by_id(browser, "seq-search").click()
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "seq-size"
    browser.switch_to.active_element.send_keys(Keys.TAB)
    focused = lambda: browser.execute_script(  # noqa: E731
        "return document.activeElement.getAttribute('href')")
    assert focused() == "#/sequence/alpha"
    browser.execute_script("window.focusedBefore = document.activeElement;")
    wait_for("a refresh", lambda: browser.execute_script(
        "return !document.body.contains(window.focusedBefore);"), timeout=5)
    assert focused() == "#/sequence/alpha"  # the table was redrawn, the focus kept
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for("the sequence's page", lambda: browser.find_element(By.CSS_SELECTOR, "main h1").text
             == "Sequence alpha")


def test_the_value_and_the_rate_move_after_next_calls(console_server, browser, screenshots):
    go(browser, console_server, "#/sequences")
    wait_for("alpha at 4", lambda: (row_of(browser, "sequence-table", "alpha") or [""] * 5)[2]
             == "4")
    # Two polls at the same value first, so that the rate has a before.
    time.sleep(2.5)
    assert row_of(browser, "sequence-table", "alpha")[4] == "0/min"
    for _ in range(40):
        assert console_server.get("/next/alpha").status == 200
    wait_for("alpha at 44", lambda: row_of(browser, "sequence-table", "alpha")[2] == "44")
    rate = row_of(browser, "sequence-table", "alpha")[4]
    m = re.fullmatch(r"([0-9.]+)/min", rate)
    assert m and float(m.group(1)) > 0, rate
    # The chart: an SVG line labelled with the same rate.
    label, path = browser.execute_script(
        "var svg = document.querySelector(\"tr[data-name='alpha'] svg.spark\");"
        "var p = svg.querySelector('path');"
        "return [svg.getAttribute('aria-label'), p ? p.getAttribute('d') : ''];")
    assert label.startswith("Issue rate of alpha: ") and label.endswith("/min"), label
    assert path.startswith("M"), path
    # A sequence nobody called keeps a zero rate.
    assert row_of(browser, "sequence-table", "users")[4] == "0/min"
    shot(browser, screenshots, "sequences-rate")


def test_an_admin_action_works_with_the_right_token_and_shows_the_error_with_a_wrong_one(
        console_server, browser, screenshots):
    go(browser, console_server, "#/sequences")
    set_token(browser, "a-wrong-token-of-enough-length")
    wait_for("the 401 shown", lambda: error_text(browser) ==
             "Unauthorized: Send the admin token as \"Authorization: Bearer <admin_token>\".")
    # The create form is there (a token is set) but the service refuses it.
    by_id(browser, "create-name").send_keys("made-in-console")
    by_id(browser, "create-start").send_keys("70")
    by_id(browser, "create-form").find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for("the refusal", lambda: error_text(browser).startswith("Unauthorized"))
    assert console_server.get("/api/admin/sequences/made-in-console", AUTH).status == 404
    shot(browser, screenshots, "wrong-token")
    # The right token: the same action works.
    set_token(browser, TOKEN)
    wait_for("the error gone", lambda: error_text(browser) == "")
    by_id(browser, "create-name").send_keys("made-in-console")
    by_id(browser, "create-type").send_keys("int")
    by_id(browser, "create-start").send_keys("70")
    by_id(browser, "create-form").find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for("the confirmation", lambda: by_id(browser, "status").text ==
             "Sequence made-in-console saved; its next value is 70.")
    assert admin_get(console_server, "/api/admin/sequences/made-in-console") == {
        "name": "made-in-console", "type": "int", "next": 70, "increment": 1, "min": 1,
        "max": 2147483647, "cycle": False, "cache": 0, "exhausted": False}
    wait_for("the new row", lambda: (row_of(browser, "sequence-table", "made-in-console")
                                     or [""] * 5)[1:3] == ["int", "70"])
    # The token lives in this tab's sessionStorage only: not in the address, the page or
    # localStorage.
    assert browser.execute_script("return sessionStorage.getItem('nextid.adminToken')") == TOKEN
    assert browser.execute_script("return localStorage.length") == 0
    assert TOKEN not in browser.current_url
    assert TOKEN not in browser.page_source
    assert by_id(browser, "token-input").get_attribute("value") == ""


def test_a_lowering_asks_for_confirmation_and_says_which_values_come_again(
        console_server, browser, screenshots):
    assert console_server.request("PUT", "/api/admin/sequences/lowered", AUTH,
                                  json.dumps({"start": 500}).encode()).status == 201
    go(browser, console_server, "#/sequence/lowered")
    field = wait_for("the admin forms", lambda: by_id(browser, "set-next"))
    wait_for("the details", lambda: "500" in by_id(browser, "sequence-details").text)
    field.send_keys("1" + Keys.ENTER)
    dialog = wait_for("the confirmation", lambda: by_id(browser, "confirm").is_displayed()
                      and by_id(browser, "confirm"))
    assert by_id(browser, "confirm-title").text == "Lower lowered?"
    assert by_id(browser, "confirm-text").text == (
        "Values 1 to 499 will be issued again: clients that already hold them will see them a "
        "second time.")
    shot(browser, screenshots, "confirm-lowering")
    # Cancel (the focused button): nothing changes.
    assert browser.switch_to.active_element == by_id(browser, "confirm-cancel")
    by_id(browser, "confirm-cancel").click()
    wait_for("the dialog closed", lambda: not dialog.is_displayed())
    assert by_id(browser, "status").text == "Nothing changed."
    assert admin_get(console_server, "/api/admin/sequences/lowered")["next"] == "500"
    # Confirm: lowered.
    field = by_id(browser, "set-next")
    field.clear()
    field.send_keys("1" + Keys.ENTER)
    wait_for("the confirmation", lambda: by_id(browser, "confirm").is_displayed())
    by_id(browser, "confirm-ok").click()
    wait_for("lowered", lambda: admin_get(console_server, "/api/admin/sequences/lowered")["next"]
             == "1")
    assert console_server.get("/next/lowered").json()["next_value"] == 1
    # Raising asks nothing and says which values are skipped (once the page has seen the 1
    # taken: the next value is 2).
    wait_for("next at 2", lambda: "Next value\n2\n" in by_id(browser, "sequence-details").text)
    field = wait_for("the form again", lambda: by_id(browser, "set-next"))
    field.send_keys("10" + Keys.ENTER)
    wait_for("raised", lambda: by_id(browser, "status").text ==
             "lowered: the next value is now 10. Values 2 to 9 will never be issued.")
    assert not by_id(browser, "confirm").is_displayed()
    shot(browser, screenshots, "sequence")


def test_the_options_form_changes_a_sequence(console_server, browser):
    go(browser, console_server, "#/sequence/orders")
    cache = wait_for("the options form", lambda: by_id(browser, "opt-cache"))
    assert by_id(browser, "opt-increment").get_attribute("value") == "5"
    cache.clear()
    cache.send_keys("20")
    by_id(browser, "opt-cycle").click()
    by_id(browser, "options-form").find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for("saved", lambda: by_id(browser, "status").text == "orders: options saved.")
    got = admin_get(console_server, "/api/admin/sequences/orders")
    assert (got["cache"], got["cycle"], got["increment"], got["next"]) == (20, True, "5", "1000")
    wait_for("the details", lambda: "Cache\n20\nExhausted" in by_id(browser, "sequence-details").text)


def test_a_delete_says_what_happens_to_the_numbers_and_asks_first(console_server, browser):
    go(browser, console_server, "#/sequence/lowered")
    button = wait_for("the delete button", lambda: by_id(browser, "delete-sequence"))
    wait_for("the details", lambda: "Next value\n10\n" in by_id(browser, "sequence-details").text)
    button.click()
    wait_for("the confirmation", lambda: by_id(browser, "confirm").is_displayed())
    assert by_id(browser, "confirm-title").text == "Delete lowered?"
    assert by_id(browser, "confirm-text").text == (
        "Its counter is removed: the next GET /next/lowered creates it again from its start, "
        "and the values issued before 10 will be issued again.")
    by_id(browser, "confirm-ok").click()
    wait_for("the table again", lambda: browser.current_url.endswith("#/sequences"))
    wait_for("the message", lambda: by_id(browser, "status").text == "lowered deleted.")
    assert console_server.get("/api/admin/sequences/lowered", AUTH).status == 404
    wait_for("no row", lambda: table_rows(browser, "sequence-table") and
             row_of(browser, "sequence-table", "lowered") is None)


# Formatted prefixes -------------------------------------------------------------------------

def take(srv, prefix, client_id):
    reply = srv.get("/api/v1/next/%s?client_id=%s" % (quote(prefix), quote(client_id)))
    assert reply.status == 200, str(reply)
    return reply.json()["full_number"]


def test_the_audit_view_shows_exactly_the_numbers_taken(console_server, browser, screenshots,
                                                        downloads):
    body = {"padding_length": 4, "format_template": "{prefix}-{counter}", "reset_rule": "never"}
    assert console_server.request("POST", "/api/v1/config/INV", AUTH,
                                  json.dumps(body).encode()).status == 200
    taken = [(take(console_server, "INV", c), c) for c in
             ["shop", "shop", "billing", "shop", "billing", "shop", "shop"]]
    assert [n for n, _ in taken] == ["INV-%04d" % i for i in range(1, 8)]
    go(browser, console_server, "#/prefixes")
    wait_for("the prefix list", lambda: row_of(browser, "prefix-table", "INV"))
    assert row_of(browser, "prefix-table", "INV") == [
        "INV", "{prefix}-{counter} (padding 4)", "never", "UTC", "7", "INV-0008"]
    shot(browser, screenshots, "prefixes")
    by_id(browser, "prefix-table").find_element(By.LINK_TEXT, "INV").click()
    wait_for("the audit", lambda: len(table_rows(browser, "audit-table")) == 7)
    got = [(r[2], r[3]) for r in table_rows(browser, "audit-table")]
    assert got == taken
    assert [r[1] for r in table_rows(browser, "audit-table")] == [str(i) for i in range(1, 8)]
    details = by_id(browser, "prefix-details").text
    assert "Next number\nINV-0008" in details and "Current counter\n7" in details
    shot(browser, screenshots, "prefix-audit")
    # Filter by client_id: the two billing numbers only.
    by_id(browser, "audit-client").send_keys("billing" + Keys.ENTER)
    wait_for("the filtered audit", lambda: [(r[2], r[3]) for r in
                                            table_rows(browser, "audit-table")]
             == [n for n in taken if n[1] == "billing"])
    # A period that ended before today: nothing.
    by_id(browser, "audit-client").clear()
    browser.execute_script("document.getElementById('audit-to').value = '2001-01-31';")
    by_id(browser, "audit-form").find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for("no match", lambda: by_id(browser, "audit-table").find_element(
        By.TAG_NAME, "caption").text == "No number matches.")
    browser.execute_script("document.getElementById('audit-to').value = '';")
    by_id(browser, "audit-client").send_keys("shop" + Keys.ENTER)
    wait_for("the shop numbers", lambda: len(table_rows(browser, "audit-table")) == 5)
    # The CSV export: the filtered numbers, exactly.
    by_id(browser, "audit-csv").click()
    path = os.path.join(downloads, "audit-INV.csv")
    wait_for("the CSV file", lambda: os.path.exists(path) and os.path.getsize(path) > 0)
    with open(path, encoding="utf-8", newline="") as f:
        lines = list(csv.reader(io.StringIO(f.read())))
    assert lines[0] == ["seq", "counter", "full_number", "client_id", "generated_by",
                        "message_id", "generated_at"]
    assert [(r[2], r[3]) for r in lines[1:]] == [n for n in taken if n[1] == "shop"]
    audit = admin_get(console_server, "/api/v1/audit/INV")["records"]
    assert [r[5] for r in lines[1:]] == [a["message_id"] for a in audit if a["client_id"] == "shop"]


def test_a_forced_reset_of_a_prefix_asks_first(console_server, browser, screenshots):
    go(browser, console_server, "#/prefix/INV")
    field = wait_for("the reset form", lambda: by_id(browser, "reset-to"))
    wait_for("the details", lambda: "Current counter\n7" in by_id(browser, "prefix-details").text)
    field.send_keys("2")
    by_id(browser, "reset-reason").send_keys("test")
    by_id(browser, "reset-form").find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for("the confirmation", lambda: by_id(browser, "confirm").is_displayed())
    assert by_id(browser, "confirm-text").text == (
        "The counter goes back from 7 to 2: numbers 3 to 7 will be issued again, with the same "
        "full numbers in this period.")
    by_id(browser, "confirm-ok").click()
    wait_for("the reset", lambda: by_id(browser, "status").text == "Counter reset from 7 to 2.")
    assert take(console_server, "INV", "after") == "INV-0003"
    wait_for("the reset in the events", lambda: "reset from 7 to 2 (test)"
             in by_id(browser, "events-box").text)


# The id decoder and the pool ----------------------------------------------------------------

def test_the_decoder_splits_an_id_into_time_sequence_and_machine(console_server, browser,
                                                                screenshots):
    ident = console_server.get("/generate").json()["id"]
    parts = console_server.get("/generate/decompose/%d" % ident).json()
    go(browser, console_server, "#/generate")
    by_id(browser, "decode-id").send_keys(str(ident) + Keys.ENTER)
    text = wait_for("the decoded id", lambda: by_id(browser, "decode-out").text)
    assert text == "Id\n%s\nTime\n%s\nUnix ms\n%s\nSequence\n%s\nMachine\n%s" % (
        parts["id"], parts["time"], parts["unix_ms"], parts["sequence"], parts["machine_id"])
    shot(browser, screenshots, "generate")
    by_id(browser, "decode-id").clear()
    by_id(browser, "decode-id").send_keys("12abc" + Keys.ENTER)
    wait_for("the refusal", lambda: error_text(browser).startswith("Invalid"))


def test_the_pool_view_shows_the_pool(console_server, browser, screenshots):
    go(browser, console_server, "#/pool")
    wait_for("the cards", lambda: by_id(browser, "pool-workers"))
    pool = console_server.get("/api/pool").json()
    assert by_id(browser, "pool-workers").text.split("\n")[:2] == [
        "Workers", "%d × %d threads" % (pool["workers"], pool["threads_per_worker"])]
    assert by_id(browser, "pool-durability").text == "Durability\nsync"
    wait_for("a request rate", lambda: "/s" in by_id(browser, "pool-rate").text)
    # No replication group: its section stays hidden.
    assert not by_id(browser, "replication").is_displayed()
    shot(browser, screenshots, "pool")


GROUP_SETTLE_S = 20  # at most this long for a group to elect, connect and claim its shard_ids


@pytest.fixture
def replication_group(request):
    """Three real nodes of one replication group, each a pool behind its own lighttpd serving the
    console, started one after another (Berkeley DB wants members to join one at a time), node 0
    the group's creator and first master. All stopped at the end."""
    addrs = ["127.0.0.1:%d" % nextid_server.free_port() for _ in range(3)]
    nodes = []
    try:
        for i in range(3):
            cfg = {"replication_address": addrs[i], "shard_id": i + 1, "workers": 1,
                   "replication_peers": " ".join(a for j, a in enumerate(addrs) if j != i)}
            if i == 0:
                cfg["replication_group_creator"] = "yes"
            srv = nextid_server.NextidServer(config=cfg, web_server="lighttpd")
            nodes.append(srv)
            srv.repl_address = addrs[i]
            srv.start()
        yield nodes
    finally:
        leftovers = []
        for srv in reversed(nodes):  # replicas first, then the master
            leftovers += srv.stop()
            srv.cleanup(keep=getattr(request.session, "console_failed", False) or
                        bool(leftovers))
        if leftovers:
            pytest.fail("nextid processes still ran after the master stopped (now killed): %r"
                        % leftovers)


def group_seen(node):
    """/api/pool's replication member once every member's role and shard_id is known."""
    reply = node.get("/api/pool")
    r = reply.json().get("replication") if reply.status == 200 else None
    if not r or len(r["members"]) != 3 or r["role"] not in ("master", "replica"):
        return None
    if any(m["role"] not in ("master", "replica") or m["shard_id"] is None
           for m in r["members"]):
        return None
    return r


def test_the_pool_view_shows_the_replication_group_of_a_real_group(replication_group, browser,
                                                                   screenshots):
    nodes = replication_group
    addrs = [n.repl_address for n in nodes]
    replica = nodes[1]
    r = wait_for("the group in /api/pool", lambda: group_seen(replica), GROUP_SETTLE_S)
    go(browser, replica, "#/pool")
    wait_for("the group", lambda: by_id(browser, "replication").is_displayed())
    assert by_id(browser, "replication-role").text == "This node\nreplica"
    assert by_id(browser, "replication-master").text == "Master\n" + addrs[0]
    assert by_id(browser, "replication-elections").text == \
        "Elections\n%d\ntaken part in since this node started" % r["elections"]
    wait_for("no lag", lambda: by_id(browser, "replication-lag").text ==
             "Replication lag\n0 B\nlog this node knows it has not applied")
    rows = table_rows(browser, "replication-table")
    # This node first, then the others in the order /api/pool lists them.
    assert rows[0] == [addrs[1] + " (this node)", "replica", "2"], rows
    assert sorted(rows[1:]) == sorted([[addrs[0], "master", "1"], [addrs[2], "replica", "3"]])
    assert rows[1:] == [[m["address"], m["role"], str(m["shard_id"])]
                        for m in r["members"][1:]], (rows, r)
    assert browser.find_elements(By.ID, "replication-error") == []
    browser.execute_script("arguments[0].scrollIntoView()", by_id(browser, "replication"))
    shot(browser, screenshots, "pool-replication")
    # On a phone the members' table becomes cards, with no horizontal scroll.
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True})
    try:
        time.sleep(1)  # a poll drawn at that width
        assert browser.execute_script(
            "return [document.documentElement.clientWidth, Math.max("
            "document.documentElement.scrollWidth, document.body.scrollWidth)]") == [360, 360]
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    # The master's own view: it is the master, and every member is where it was.
    go(browser, nodes[0], "#/pool")
    wait_for("the master's view", lambda: table_rows(browser, "replication-table")[:1] ==
             [[addrs[0] + " (this node)", "master", "1"]])
    assert by_id(browser, "replication-role").text == "This node\nmaster"


def test_the_pool_view_says_when_the_group_cannot_be_read(console_server, browser):
    # /api/pool as a replicated node answers when its store cannot list the group: the page's
    # fetch of /api/pool gets this node's real answer with that member added.
    go(browser, console_server, "#/pool")
    browser.execute_script("""
        var real = window.fetch;
        window.fetch = function (path, init) {
          if (path !== '/api/pool') return real(path, init);
          return real(path, init).then(function (reply) { return reply.json(); })
            .then(function (body) {
              body.replication = {role: 'electing', master: '', elections: 2, lag_bytes: 0,
                members: [], members_error: 'The group could not be read: unavailable.'};
              return new Response(JSON.stringify(body),
                                  {headers: {'Content-Type': 'application/json'}});
            });
        };""")
    wait_for("the group", lambda: by_id(browser, "replication").is_displayed())
    assert by_id(browser, "replication-role").text == "This node\nelecting"
    assert by_id(browser, "replication-master").text == "Master\nnone known"
    assert table_rows(browser, "replication-table") == []
    assert by_id(browser, "replication-error").text == \
        "Members unknown: The group could not be read: unavailable."


# A phone ------------------------------------------------------------------------------------

@pytest.mark.parametrize("view", ["#/sequences", "#/sequence/alpha", "#/prefixes",
                                  "#/prefix/INV", "#/generate", "#/pool"])
def test_each_view_fits_a_360_pixel_wide_phone(console_server, browser, screenshots, view):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True})
    try:
        go(browser, console_server, view)
        time.sleep(1)  # the first poll drawn
        width = browser.execute_script("return document.documentElement.clientWidth")
        scroll = browser.execute_script(
            "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        assert (width, scroll) == (360, 360), view
        # The screenshot shows the whole page (up to 2000 pixels), as a long phone screen would.
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 360, "height": min(height, 2000), "deviceScaleFactor": 1, "mobile": True})
        name = "phone-" + (view.strip("#/").replace("/", "-") or "sequences")
        shot(browser, screenshots, name)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_no_console_errors_after_all_views(console_server, browser):
    # Only the refusals the tests caused on purpose: the wrong token's 401s and the bad id's 400.
    logs = [e for e in severe_logs(browser)
            if not re.search(r"status of (401|400) ", e["message"])]
    assert logs == []
