"""nextidctl on the live store while the service runs: list, show, create, set, delete, export,
import, backup, verify, and the Sequence Service's sequence-reset flags (API.md sections 3, 7
and 8)."""

import json
import os
import re
import subprocess
import time

import pytest

from nextid_server import BUILD, CTL, Load, expect, expect_next

RESET = os.path.join(BUILD, "sequence-reset")
COMMANDS = ["list", "show", "create", "set", "delete", "export", "import", "backup", "verify",
            "recover", "advance", "sequence-reset"]
EXPORT_KEYS = ["name", "type", "next", "increment", "min", "max", "cycle", "cache", "exhausted"]
INT_MAX = 2147483647
LONG_MAX = 9223372036854775807
NOBODY = 65534
RUN_TIMEOUT_S = 30


# Running the program ---------------------------------------------------------------------

def run(srv, *args, stdin=None, prog=CTL, config=True, timeout=RUN_TIMEOUT_S):
    """Run nextidctl (or the sequence-reset alias) on srv's config. stdin: None for no input at
    all (EOF at once), or the bytes to send. Returns the CompletedProcess with str outputs."""
    cmd = [prog] + (["--config", srv.conf_path] if config else []) + [str(a) for a in args]
    proc = subprocess.run(cmd, input=stdin, stdin=subprocess.DEVNULL if stdin is None else None,
                          capture_output=True, timeout=timeout)
    proc.stdout = proc.stdout.decode("utf-8", "replace")
    proc.stderr = proc.stderr.decode("utf-8", "replace")
    proc.cmd = " ".join(cmd)
    return proc


def ok(proc):
    """Exit 0 and nothing on stderr; returns stdout."""
    assert (proc.returncode, proc.stderr) == (0, ""), describe(proc)
    return proc.stdout


def fails(proc, message=None, code=1):
    """Exit `code` with exactly one line on stderr starting "nextidctl: "; message, when given, is
    that whole line (a str) or a pattern it must match (a compiled regex)."""
    assert proc.returncode == code, describe(proc)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nextidctl: "), describe(proc)
    if isinstance(message, str):
        assert lines[0] == message, describe(proc)
    elif message is not None:
        assert message.search(lines[0]), describe(proc)
    return lines[0]


def usage_error(proc):
    assert proc.returncode == 2 and proc.stderr.strip(), describe(proc)


def describe(proc):
    return "%s -> exit %s\nstdout: %r\nstderr: %r" % (getattr(proc, "cmd", proc.args),
                                                      proc.returncode, proc.stdout, proc.stderr)


# Reading the service -----------------------------------------------------------------------

def status_body(entity, data_type, current):
    if current is not None and data_type == "long":
        current = str(current)
    return {"entityName": entity, "dataType": data_type, "currentValue": current}


def status(srv, entity):
    return srv.get("/api/status/" + entity)


def absent(entity):
    return {"error": "Entity not found", "message": "No entity is named '%s'." % entity}


def next_id(srv, entity, data_type):
    return srv.get("/api/next-id/%s?dataType=%s" % (entity, data_type))


def id_body(entity, data_type, value):
    return {"entityName": entity, "dataType": data_type,
            "value": str(value) if data_type == "long" else value}


def take(srv, name, count):
    """count values of /next/name; returns the last."""
    value = None
    for _ in range(count):
        reply = srv.get("/next/" + name)
        assert reply.status == 200, str(reply)
        value = reply.json()["next_value"]
    return value


def names(srv):
    return [line.split("\t")[0] for line in ok(run(srv, "list")).splitlines()]


# --help and usage ---------------------------------------------------------------------------

@pytest.mark.no_web_server
def test_help_lists_every_command(server):
    for args in (["--help"], ["--config", server.conf_path, "--help"]):
        proc = subprocess.run([CTL] + args, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=RUN_TIMEOUT_S, text=True)
        assert (proc.returncode, proc.stderr) == (0, ""), describe(proc)
        for command in COMMANDS:
            assert re.search(r"(^|\s)%s(\s|$)" % re.escape(command), proc.stdout, re.M), \
                "%s is missing from nextidctl --help:\n%s" % (command, proc.stdout)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.no_web_server
def test_every_command_has_help_on_stdout(server, command):
    for config in (True, False):
        out = ok(run(server, command, "--help", config=config))
        assert "usage" in out.lower() and command in out, out
    assert names(server) == []


@pytest.mark.no_web_server
def test_the_seed_help_flag_exits_0_with_usage(server):
    for proc in (run(server, "sequence-reset", "-h"), run(server, "-h", prog=RESET),
                 run(server, "-h", prog=RESET, config=False)):
        out = ok(proc)
        assert "usage" in out.lower() and "-e" in out and "-v" in out and "-t" in out, out


@pytest.mark.no_web_server
def test_usage_errors_exit_2(server):
    usage_error(run(server))
    usage_error(run(server, "frobnicate"))
    usage_error(run(server, "show"))
    usage_error(run(server, "set", "x"))
    usage_error(run(server, "set", "x", "5"))
    usage_error(run(server, "create"))
    usage_error(run(server, "delete"))
    usage_error(run(server, "import"))
    usage_error(run(server, "backup"))
    assert names(server) == []


# list and show -------------------------------------------------------------------------------

def test_list_prints_name_type_and_next_sorted_by_name(server):
    assert ok(run(server, "list")) == ""
    take(server, "b", 2)
    ok(run(server, "create", "a", "--type", "int", "--start", 10))
    ok(run(server, "create", "c", "--type", "uuid8"))
    ok(run(server, "create", "d", "--type", "int", "--start", INT_MAX))
    expect(next_id(server, "d", "int"), 200, id_body("d", "int", INT_MAX))
    ok(run(server, "create", "A"))
    ok(run(server, "create", "été", "--type", "long", "--start", "5000000000"))
    assert ok(run(server, "list")) == ("A\tlong\t1\n"
                                       "a\tint\t10\n"
                                       "b\tlong\t3\n"
                                       "c\tuuid8\t-\n"
                                       "d\tint\texhausted\n"
                                       "été\tlong\t5000000000\n")
    # Listing consumed nothing.
    expect_next(server.get("/next/b"), 3, "b")


def test_show_prints_every_option(server):
    ok(run(server, "create", "full", "--type", "int", "--start", 20, "--increment", 5, "--min", 10,
           "--max", 40, "--cycle", "--cache", 100))
    assert ok(run(server, "show", "full")) == ("name: full\ntype: int\nnext: 20\nincrement: 5\n"
                                               "min: 10\nmax: 40\ncycle: yes\ncache: 100\n")
    take(server, "plain", 3)
    assert ok(run(server, "show", "plain")) == (
        "name: plain\ntype: long\nnext: 4\nincrement: 1\nmin: 1\nmax: 9223372036854775807\n"
        "cycle: no\ncache: 0\n")
    ok(run(server, "create", "two", "--max", 2))
    take(server, "two", 2)
    assert ok(run(server, "show", "two")) == ("name: two\ntype: long\nnext: exhausted\n"
                                              "increment: 1\nmin: 1\nmax: 2\ncycle: no\n"
                                              "cache: 0\n")
    ok(run(server, "create", "tok", "--type", "uuid22"))
    assert ok(run(server, "show", "tok")).startswith("name: tok\ntype: uuid22\nnext: -\n")
    fails(run(server, "show", "ghost"))
    expect(status(server, "ghost"), 404, absent("ghost"))


# create --------------------------------------------------------------------------------------

def test_create_makes_a_long_from_1_by_default(server):
    ok(run(server, "create", "d"))
    expect(status(server, "d"), 200, status_body("d", "long", 1))
    assert ok(run(server, "show", "d")) == (
        "name: d\ntype: long\nnext: 1\nincrement: 1\nmin: 1\nmax: 9223372036854775807\n"
        "cycle: no\ncache: 0\n")
    expect_next(server.get("/next/d"), 1, "d")


def test_create_honours_every_option_at_once(server):
    ok(run(server, "create", "c", "--type", "int", "--start", 20, "--increment", 5, "--min", 10,
           "--max", 40, "--cycle", "--cache", 0))
    expect(status(server, "c"), 200, status_body("c", "int", 20))
    for value in (20, 25, 30, 35, 40, 10):
        expect(next_id(server, "c", "int"), 200, id_body("c", "int", value))
    ok(run(server, "create", "down", "--increment", -1, "--max", 3))
    for value in (3, 2, 1):
        expect_next(server.get("/next/down"), value, "down")
    ok(run(server, "create", "u", "--type", "uuid16"))
    expect(status(server, "u"), 200, status_body("u", "uuid16", None))


def test_create_refuses_an_existing_name_and_invalid_options(server):
    ok(run(server, "create", "x", "--type", "int", "--start", 5))
    fails(run(server, "create", "x"), "nextidctl: create: sequence 'x' exists already")
    fails(run(server, "create", "x", "--type", "long", "--start", 9),
          "nextidctl: create: sequence 'x' exists already")
    fails(run(server, "create", "y", "--min", 0), "nextidctl: create: min must be at least 1.")
    fails(run(server, "create", "y", "--increment", 0),
          "nextidctl: create: increment must not be 0.")
    fails(run(server, "create", "y", "--min", 10, "--max", 9),
          "nextidctl: create: min must not exceed max.")
    fails(run(server, "create", "y", "--type", "int", "--max", INT_MAX + 1),
          "nextidctl: create: max must not exceed 2147483647 for an int.")
    fails(run(server, "create", "y", "--start", 11, "--max", 10),
          "nextidctl: create: The next value must lie between min and max.")
    for args in (["--type", "float"], ["--start", "abc"], ["--start", "1e3"], ["--cache", -1],
                 ["--cache", 1000001], ["--bogus"]):
        proc = run(server, "create", "y", *args)
        assert proc.returncode in (1, 2) and proc.stderr.startswith("nextidctl"), describe(proc)
    for bad_name in ("a/b", "a" * 201, "tab\there"):
        proc = run(server, "create", bad_name)
        assert proc.returncode in (1, 2) and proc.stderr.startswith("nextidctl"), describe(proc)
    expect(status(server, "x"), 200, status_body("x", "int", 5))
    assert names(server) == ["x"]


# set and delete --------------------------------------------------------------------------------

def test_set_makes_n_the_next_value_issued(server):
    take(server, "s", 3)
    ok(run(server, "set", "s", "--next", 500))
    expect(status(server, "s"), 200, status_body("s", "long", 500))
    expect_next(server.get("/next/s"), 500, "s")
    ok(run(server, "set", "s", "--next", 2))
    expect_next(server.get("/next/s"), 2, "s")
    ok(run(server, "set", "s", "--next", LONG_MAX))
    expect_next(server.get("/next/s"), LONG_MAX, "s")
    assert "next: exhausted" in ok(run(server, "show", "s"))
    ok(run(server, "set", "s", "--next", 7))
    expect_next(server.get("/next/s"), 7, "s")


def test_set_refuses_a_missing_sequence_or_a_value_out_of_range(server):
    ok(run(server, "create", "r", "--type", "int", "--max", 10, "--start", 4))
    fails(run(server, "set", "ghost", "--next", 5), "nextidctl: set: no sequence is named 'ghost'")
    fails(run(server, "set", "r", "--next", 11),
          "nextidctl: set: The next value must lie between min and max.")
    fails(run(server, "set", "r", "--next", 0),
          "nextidctl: set: The next value must lie between min and max.")
    ok(run(server, "create", "u", "--type", "uuid8"))
    fails(run(server, "set", "u", "--next", 5),
          "nextidctl: set: A random-id sequence has no next value to set.")
    expect(status(server, "r"), 200, status_body("r", "int", 4))
    expect(status(server, "ghost"), 404, absent("ghost"))


def test_delete_removes_a_sequence_and_its_name_restarts_at_1(server):
    take(server, "d", 5)
    take(server, "keep", 2)
    ok(run(server, "delete", "d"))
    expect(status(server, "d"), 404, absent("d"))
    assert names(server) == ["keep"]
    expect_next(server.get("/next/d"), 1, "d")
    fails(run(server, "delete", "ghost"))
    expect_next(server.get("/next/keep"), 3, "keep")


def test_set_and_delete_take_effect_at_once_under_load(server):
    big = 1000000
    load = Load(server, "/next/x", clients=4, duration_s=30, max_requests=3000).start()
    try:
        wait_for(lambda: all(len(r) >= 20 for r in load.results), "the load to get going")
        ok(run(server, "set", "x", "--next", big))
        marks_set = [len(r) for r in load.results]
        probe_set = server.get("/next/x").json()["next_value"]
        wait_for(lambda: all(len(r) >= m + 20 for r, m in zip(load.results, marks_set)),
                 "requests after set")
        ok(run(server, "delete", "x"))
        marks_delete = [len(r) for r in load.results]
        probe_delete = server.get("/next/x").json()["next_value"]
        wait_for(lambda: all(len(r) >= m + 20 for r, m in zip(load.results, marks_delete)),
                 "requests after delete")
    finally:
        load.stop()
    assert load.statuses() == {200: load.count()}, (load.statuses(), load.errors[:3])
    assert big <= probe_set < big + load.count(), probe_set
    assert 1 <= probe_delete <= load.count(), probe_delete

    # A client's request i + 1 starts after its response i is recorded. So every request from
    # index mark + 1 on started after the command had returned and must see its effect; requests
    # before the mark may have seen it already, and no client ever goes back to an older phase.
    runs = ([], [probe_set], [probe_delete])  # before set, after set, after delete
    for k, results in enumerate(load.results):
        last_phase = 0
        for i, (_, value) in enumerate(results):
            where = "client %d request %d got %d" % (k, i, value)
            if i <= marks_set[k]:
                phase = 1 if value >= big else 0
            elif i <= marks_delete[k]:
                phase = 1 if value >= big else 2
            else:
                assert value < big, "after delete returned, " + where
                phase = 2
            if i > marks_set[k]:
                assert phase >= 1, "after set returned, " + where
            assert phase >= last_phase, "back to an older counter: " + where
            last_phase = phase
            runs[phase].append(value)
    before, between, after = runs
    # Each run of the counter is strict: consecutive, no value twice.
    assert sorted(before) == list(range(1, len(before) + 1))
    assert sorted(between) == list(range(big, big + len(between)))
    assert sorted(after) == list(range(1, len(after) + 1))


def wait_for(condition, what, deadline_s=20):
    end = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < end, "timed out waiting for %s" % what
        time.sleep(0.01)


# export and import -----------------------------------------------------------------------------

def make_assorted(srv):
    """Sequences of every kind: int with options, long, uuid, exhausted, counting down."""
    ok(run(srv, "create", "a", "--type", "int", "--start", 10, "--increment", 5, "--min", 10,
           "--max", 100, "--cycle", "--cache", 7))
    take(srv, "b", 2)
    ok(run(srv, "create", "c", "--type", "uuid8"))
    ok(run(srv, "create", "d", "--type", "int", "--max", 2))
    expect(srv.get("/api/next-batch/d?dataType=int&batchSize=2"), 200,
           {"entityName": "d", "dataType": "int", "batchSize": 2, "startValue": 1, "endValue": 2})
    ok(run(srv, "create", "e", "--increment", -2, "--max", "9000000000"))
    take(srv, "e", 1)


def parse_export(text):
    """[(key, value) pairs] per line, keys in the order written."""
    assert text.endswith("\n") or text == "", repr(text)
    return [json.loads(line, object_pairs_hook=list) for line in text.splitlines()]


def test_export_writes_one_json_line_per_sequence(server):
    assert ok(run(server, "export")) == ""
    make_assorted(server)
    rows = parse_export(ok(run(server, "export")))
    for row in rows:
        assert [k for k, _ in row] == EXPORT_KEYS, row
    by_name = {dict(row)["name"]: dict(row) for row in rows}
    assert sorted(by_name) == ["a", "b", "c", "d", "e"]
    assert by_name["a"] == {"name": "a", "type": "int", "next": 10, "increment": 5, "min": 10,
                            "max": 100, "cycle": True, "cache": 7, "exhausted": False}
    assert by_name["b"] == {"name": "b", "type": "long", "next": "3", "increment": "1",
                            "min": "1", "max": "9223372036854775807", "cycle": False,
                            "cache": 0, "exhausted": False}
    assert by_name["c"] == {"name": "c", "type": "uuid8", "next": None, "increment": None,
                            "min": None, "max": None, "cycle": False, "cache": 0,
                            "exhausted": False}
    d = dict(by_name["d"])
    d.pop("next")  # an exhausted sequence's next is the exporter's business
    assert d == {"name": "d", "type": "int", "increment": 1, "min": 1, "max": 2, "cycle": False,
                 "cache": 0, "exhausted": True}
    assert by_name["e"] == {"name": "e", "type": "long", "next": "8999999998",
                            "increment": "-2", "min": "1", "max": "9000000000", "cycle": False,
                            "cache": 0, "exhausted": False}
    # export FILE writes the same lines; exporting consumed nothing.
    path = os.path.join(server.dir, "out.jsonl")
    ok(run(server, "export", path))
    with open(path, encoding="utf-8") as f:
        assert f.read() == ok(run(server, "export"))
    expect_next(server.get("/next/b"), 3, "b")


def test_export_delete_everything_import_reproduces_the_same_export(server):
    make_assorted(server)
    ok(run(server, "create", "été", "--type", "uuid22"))
    before = ok(run(server, "export"))
    listed = ok(run(server, "list"))
    path = os.path.join(server.dir, "all.jsonl")
    ok(run(server, "export", path))
    for name in names(server):
        ok(run(server, "delete", name))
    assert ok(run(server, "list")) == ""
    ok(run(server, "import", path))
    assert ok(run(server, "export")) == before
    assert ok(run(server, "list")) == listed
    # The imported counters go on where they were.
    expect(next_id(server, "a", "int"), 200, id_body("a", "int", 10))
    expect_next(server.get("/next/b"), 3, "b")
    expect(next_id(server, "d", "int"), 409, {
        "error": "Integer overflow",
        "message": "Entity 'd' cannot go past 2; nothing was consumed."})
    expect_next(server.get("/next/e"), 8999999998, "e")


def test_an_import_line_needs_no_more_than_name_type_and_next(server):
    path = os.path.join(server.dir, "short.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"name":"m","type":"long","next":"7"}\n{"name":"i","type":"int","next":3}\n'
                '{"name":"u","type":"uuid8"}\n{"name":"c","type":"long","next":5,"cycle":true}\n')
    assert ok(run(server, "import", path)) == "import: 4 sequences\n"
    assert ok(run(server, "show", "c")) == ("name: c\ntype: long\nnext: 5\nincrement: 1\nmin: 1\n"
                                           "max: 9223372036854775807\ncycle: yes\ncache: 0\n")
    expect_next(server.get("/next/m"), 7, "m")
    expect(status(server, "i"), 200, status_body("i", "int", 3))
    assert names(server) == ["c", "i", "m", "u"]


def test_import_refuses_to_move_a_counter_backwards_unless_forced(server):
    take(server, "x", 4)
    take(server, "y", 1)
    path = os.path.join(server.dir, "x5.jsonl")
    ok(run(server, "export", path))  # x at 5, y at 2
    take(server, "x", 5)  # x at 10
    ok(run(server, "delete", "y"))
    fails(run(server, "import", path))
    expect(status(server, "x"), 200, status_body("x", "long", 10))
    expect(status(server, "y"), 404, absent("y"))  # all or nothing
    ok(run(server, "import", "--force", path))
    expect(status(server, "x"), 200, status_body("x", "long", 5))
    expect(status(server, "y"), 200, status_body("y", "long", 2))
    # The same value, or a counter moved forwards, needs no force.
    ok(run(server, "import", path))
    ok(run(server, "set", "x", "--next", 3))
    ok(run(server, "import", path))
    expect_next(server.get("/next/x"), 5, "x")


def good_line(name, next_value):
    return json.dumps({"name": name, "type": "long", "next": str(next_value), "increment": "1",
                       "min": "1", "max": "9223372036854775807", "cycle": False, "cache": 0,
                       "exhausted": False}, separators=(",", ":"))


BAD_LINES = [
    '{"name":"bad","type":"long"',
    '[1,2,3]',
    'not json',
    good_line("bad", 5).replace('"long"', '"float"'),
    good_line("bad", 5).replace('"min":"1"', '"min":"0"'),
    good_line("bad", 5).replace('"increment":"1"', '"increment":"0"'),
    good_line("bad", 5).replace('"next":"5"', '"next":"abc"'),
    good_line("a/b", 5),
]


@pytest.mark.parametrize("bad", BAD_LINES)
def test_an_import_with_a_bad_line_imports_nothing_and_names_the_line(server, bad):
    take(server, "keep", 3)
    listed = ok(run(server, "list"))
    path = os.path.join(server.dir, "bad.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join([good_line("n1", 7), good_line("keep", 100), bad, good_line("n4", 9)])
                + "\n")
    line = fails(run(server, "import", path))
    assert "%s:3" % path in line, line
    line = fails(run(server, "import", "--force", path))
    assert "%s:3" % path in line, line
    assert ok(run(server, "list")) == listed
    expect_next(server.get("/next/keep"), 4, "keep")


@pytest.mark.no_web_server
def test_import_of_a_missing_file_fails(server):
    fails(run(server, "import", os.path.join(server.dir, "nope.jsonl")))
    assert names(server) == []


# backup and verify -----------------------------------------------------------------------------

def test_verify_passes_on_a_healthy_store_while_the_service_runs(server):
    make_assorted(server)
    out = ok(run(server, "verify"))
    assert len(out.splitlines()) == 1 and out.strip(), out
    expect_next(server.get("/next/b"), 3, "b")


def test_backup_refuses_a_directory_that_is_not_empty(server):
    take(server, "x", 2)
    target = os.path.join(server.dir, "full")
    os.mkdir(target)
    with open(os.path.join(target, "keep.txt"), "w") as f:
        f.write("mine\n")
    fails(run(server, "backup", target))
    assert os.listdir(target) == ["keep.txt"]


def test_backup_into_an_empty_directory_is_a_store_a_second_server_runs_on(server, nextid):
    make_assorted(server)
    target = os.path.join(server.dir, "empty")
    os.mkdir(target)
    out = ok(run(server, "backup", target))
    assert len(out.splitlines()) == 1 and re.search(r"\b5\b", out), out
    copy = nextid(start=False)
    copy.write_config(data_dir=target)
    copy.start()
    assert ok(run(copy, "export")) == ok(run(server, "export"))
    ok(run(copy, "verify"))
    expect_next(copy.get("/next/b"), 3, "b")
    expect_next(server.get("/next/b"), 3, "b")


@pytest.mark.slow
def test_a_backup_during_a_running_load_holds_every_value_issued_before_it_started(server, nextid):
    loads = {name: Load(server, "/next/" + name, clients=2, duration_s=3.0, max_requests=2000)
             for name in ("b0", "b1", "b2")}
    for load in loads.values():
        load.start()
    try:
        wait_for(lambda: all(len(load.values()) >= 10 for load in loads.values()),
                 "values on every name")
        time.sleep(0.5)
        seen = {name: max(load.values()) for name, load in loads.items()}
        target = os.path.join(server.dir, "hot")
        backup = run(server, "backup", target, timeout=60)
        count_at_backup = sum(load.count() for load in loads.values())
        for load in loads.values():
            load.wait()
    finally:
        for load in loads.values():
            load.stop()
    out = ok(backup)
    assert re.search(r"\b3\b", out), out
    for name, load in loads.items():
        assert load.statuses() == {200: load.count()}, (name, load.statuses(), load.errors[:3])
    # The copy was hot: the load went on after the backup had returned.
    assert sum(load.count() for load in loads.values()) > count_at_backup, "backup outlasted load"
    final = {name: int(status(server, name).json()["currentValue"]) for name in loads}

    copy = nextid(start=False)
    copy.write_config(data_dir=target)
    copy.start()
    ok(run(copy, "verify"))
    for name in loads:
        reply = status(copy, name)
        assert reply.status == 200, str(reply)
        restored = int(reply.json()["currentValue"])
        assert seen[name] < restored <= final[name], (name, seen[name], restored, final[name])
        expect_next(copy.get("/next/" + name), restored, name)


# sequence-reset flags --------------------------------------------------------------------------

def reset(srv, *args, stdin=None, alias=False):
    if alias:
        return run(srv, *args, stdin=stdin, prog=RESET)
    return run(srv, "sequence-reset", *args, stdin=stdin)


@pytest.mark.parametrize("alias", [False, True], ids=["nextidctl", "alias"])
def test_reset_v_makes_n_the_next_value_creating_an_int_if_missing(server, alias):
    ok(reset(server, "-f", "-e", "users", "-v", 1000, alias=alias))
    expect(status(server, "users"), 200, status_body("users", "int", 1000))
    expect_next(server.get("/next/users"), 1000, "users")
    ok(reset(server, "-e", "users", "-v", 5, "-f", alias=alias))
    expect_next(server.get("/next/users"), 5, "users")
    ok(run(server, "create", "ids", "--type", "int", "--start", 3))
    ok(reset(server, "-f", "-e", "ids", "-v", 50, alias=alias))
    expect(next_id(server, "ids", "int"), 200, id_body("ids", "int", 50))
    # An existing long stays a long; a value no int holds creates a long.
    take(server, "orders", 2)
    ok(reset(server, "-f", "-e", "orders", "-v", 70, alias=alias))
    expect(status(server, "orders"), 200, status_body("orders", "long", 70))
    ok(reset(server, "-f", "-e", "big", "-v", INT_MAX, alias=alias))
    expect(status(server, "big"), 200, status_body("big", "int", INT_MAX))
    ok(reset(server, "-f", "-e", "huge", "-v", INT_MAX + 1, alias=alias))
    expect(status(server, "huge"), 200, status_body("huge", "long", INT_MAX + 1))


@pytest.mark.parametrize("alias", [False, True], ids=["nextidctl", "alias"])
def test_the_sequence_service_readme_flow_serves_the_reset_value_as_an_int(server, alias):
    # Its README resets an entity with -e users, then sets its counter with -e users -v 1000,
    # and its clients read it with ?dataType=int: the entity -v creates must be an int, or
    # they get 400 Type mismatch.
    expect(next_id(server, "users", "int"), 200, id_body("users", "int", 1))
    for args in (["-e", "users"], ["-e", "users", "-v", 1000]):
        proc = reset(server, *args, stdin=b"yes\n", alias=alias)
        assert proc.stdout.strip(), "no question was asked: " + describe(proc)
        ok(proc)
    expect(next_id(server, "users", "int"), 200, id_body("users", "int", 1000))
    expect(next_id(server, "users", "int"), 200, id_body("users", "int", 1001))
    expect(status(server, "users"), 200, status_body("users", "int", 1002))


@pytest.mark.parametrize("alias", [False, True], ids=["nextidctl", "alias"])
def test_reset_t_changes_the_type_creating_if_missing(server, alias):
    ok(reset(server, "-f", "-e", "tokens", "-t", "uuid16", alias=alias))
    expect(status(server, "tokens"), 200, status_body("tokens", "uuid16", None))
    take(server, "users", 4)
    ok(reset(server, "-f", "-e", "users", "-t", "uuid16", alias=alias))
    expect(status(server, "users"), 200, status_body("users", "uuid16", None))
    reply = next_id(server, "users", "uuid16")
    assert reply.status == 200 and len(reply.json()["value"]) == 16, str(reply)
    ok(reset(server, "-f", "-e", "invoices", "-t", "long", "-v", 2000, alias=alias))
    expect(status(server, "invoices"), 200, status_body("invoices", "long", 2000))
    ok(reset(server, "-f", "-e", "tokens", "-t", "int", alias=alias))
    expect(status(server, "tokens"), 200, status_body("tokens", "int", 1))
    ok(reset(server, "-f", "-e", "invoices", "-t", "int", alias=alias))
    expect(next_id(server, "invoices", "int"), 200, id_body("invoices", "int", 2000))
    ok(reset(server, "-f", "-e", "invoices", "-t", "long", alias=alias))
    expect(status(server, "invoices"), 200, status_body("invoices", "long", 2001))


@pytest.mark.parametrize("alias", [False, True], ids=["nextidctl", "alias"])
def test_reset_e_alone_deletes_that_sequence_and_no_e_deletes_every_one(server, alias):
    for name in ("a", "b", "c"):
        take(server, name, 3)
    ok(reset(server, "-f", "-e", "b", alias=alias))
    assert names(server) == ["a", "c"]
    expect_next(server.get("/next/b"), 1, "b")
    ok(reset(server, "-f", alias=alias))
    assert names(server) == []
    expect_next(server.get("/next/a"), 1, "a")


@pytest.mark.parametrize("answer", [b"", b"y\n", b"YES\n", b"Yes\n", b"\n", b"no\n",
                                    b"yes please\n", b"yess\n"],
                         ids=["eof", "y", "YES", "Yes", "empty", "no", "yes-please", "yess"])
def test_without_f_anything_but_yes_aborts_and_changes_nothing(server, answer):
    take(server, "a", 3)
    take(server, "b", 2)
    before = ok(run(server, "export"))
    for args in ([], ["-e", "a"], ["-e", "a", "-v", 100], ["-e", "a", "-t", "uuid8"],
                 ["-e", "new", "-v", 5]):
        for alias in (False, True):
            proc = reset(server, *args, stdin=answer, alias=alias)
            fails(proc, "nextidctl: aborted")
            assert proc.stdout.strip(), "no question was asked: " + describe(proc)
    assert ok(run(server, "export")) == before


def test_without_f_the_answer_yes_proceeds(server):
    take(server, "a", 3)
    take(server, "b", 2)
    for alias in (False, True):
        proc = reset(server, "-e", "a", "-v", 100, stdin=b"yes\n", alias=alias)
        assert proc.stdout.strip(), "no question was asked: " + describe(proc)
        ok(proc)
        expect_next(server.get("/next/a"), 100, "a")
    ok(reset(server, "-e", "a", stdin=b"yes\n"))
    assert names(server) == ["b"]
    ok(reset(server, stdin=b"yes\n", alias=True))
    assert names(server) == []


@pytest.mark.parametrize("args", [["-e"], ["-e", "x", "-v"], ["-e", "x", "-t"], ["-f", "-e"],
                                  ["-e", "x", "-f", "-v"]],
                         ids=["e-at-end", "v-at-end", "t-at-end", "f-e-at-end", "f-v-at-end"])
def test_a_flag_missing_its_value_is_a_usage_error_without_waiting_for_input(server, args):
    take(server, "x", 2)
    for cmd in ([CTL, "--config", server.conf_path, "sequence-reset"] + args,
                [RESET, "--config", server.conf_path] + args):
        # stdin stays open: a program that asked would wait here until the deadline.
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            out, err = _wait_open_stdin(proc, 5)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 2 and err.strip(), (cmd, proc.returncode, out, err)
    expect_next(server.get("/next/x"), 3, "x")


def _wait_open_stdin(proc, timeout_s):
    """Wait for proc to exit without closing its stdin; its (stdout, stderr) once it has."""
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        proc.stdin.close()
        raise AssertionError("%r waited for input instead of refusing" % proc.args)
    proc.stdin.close()
    return proc.stdout.read(), proc.stderr.read()


# ownership ---------------------------------------------------------------------------------

def tree(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, files in os.walk(root) for f in files)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the data directory to nobody")
def test_a_user_who_does_not_own_the_data_directory_is_refused(server):
    take(server, "x", 2)
    server.stop()
    st = os.stat(server.data_dir)
    files = tree(server.data_dir)
    os.chown(server.data_dir, NOBODY, NOBODY)
    try:
        for args in (["list"], ["show", "x"], ["create", "z"], ["set", "x", "--next", 9],
                     ["delete", "x"], ["sequence-reset", "-f"], ["verify"], ["export"]):
            fails(run(server, *args), re.compile(r"belongs to"))
        fails(run(server, "-f", "-e", "x", "-v", 9, prog=RESET), re.compile(r"belongs to"))
        assert tree(server.data_dir) == files
    finally:
        os.chown(server.data_dir, st.st_uid, st.st_gid)
    assert ok(run(server, "list")) == "x\tlong\t3\n"
