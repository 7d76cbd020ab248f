"""What a host admin meets when the store is damaged or gone: a service that says so instead of
issuing a wrong number, `nextidctl verify` that finds the damage and says what to do, and the
restore path of docs/operations.md "Backup and restore" (nextidctl(1), RESTORE), exercised step
by step."""

import os
import shutil
import subprocess
import time

import pytest

from nextid_server import CTL, expect, expect_next

NOT_OPEN = {"error": "Store unavailable",
            "message": "The store cannot be opened; the reason is in the service log."}
RESTORE_HINT = ('; stop the service and restore the last backup (nextidctl(1), RESTORE)')
RETRY_S = 1.0       # a worker tries to open a store that would not open once a second
SETTLE_S = 10.0     # the bound on waiting for workers to notice a change of the store


def ctl(srv, *args):
    proc = subprocess.run([CTL, "--config", srv.conf_path] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def take(srv, name, count):
    """count values of /next/name, checked to run on from first; returns them."""
    values = []
    for _ in range(count):
        reply = srv.get("/next/" + name)
        assert reply.status == 200, str(reply)
        values.append(reply.json()["next_value"])
    return values


def until(predicate, what, bound_s=SETTLE_S):
    deadline = time.monotonic() + bound_s
    while not predicate():
        assert time.monotonic() < deadline, "not within %.0f s: %s" % (bound_s, what)
        time.sleep(0.1)


def damage(path):
    """Overwrite every page but the first (the meta page) with a byte pattern."""
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.seek(4096)
        f.write(b"\xa5" * (size - 4096))


# A store that cannot be opened --------------------------------------------------------------

@pytest.mark.slow
def test_a_store_that_will_not_open_answers_503_and_fails_ready_then_heals(nextid):
    # One worker, replaced after every request: once one has answered 503, every later request
    # meets a worker that tried to open the store after it was gone.
    srv = nextid(config={"workers": 1, "max_requests": 1})
    expect_next(srv.get("/next/kept"), 1, "kept")
    sequences = os.path.join(srv.data_dir, "sequences.db")
    os.rename(sequences, sequences + ".away")

    # A worker that opened the store before still serves from its open files, until replaced.
    issued = [1]

    def refusing():
        reply = srv.get("/next/kept")
        if reply.status == 200:
            issued.append(reply.json()["next_value"])
        return reply.status == 503
    until(refusing, "/next answers 503 once sequences.db is gone")
    assert issued == list(range(1, len(issued) + 1)), issued
    for path in ["/next/kept", "/api/next-id/kept?dataType=long", "/api/v1/next/kept",
                 "/api/status/kept", "/generate"]:
        expect(srv.get(path), 503, NOT_OPEN)
    expect(srv.request("POST", "/next/kept"), 503, NOT_OPEN)
    reply = srv.get("/health/ready")
    assert reply.status == 503 and reply.json()["error"] == "Store unavailable", str(reply)
    expect(srv.get("/health/live"), 200, {"status": "live"})
    assert srv.get("/metrics").status == 200
    with open(srv.master_log, errors="replace") as f:
        assert "cannot open the store; answering 503 until it opens" in f.read()

    os.rename(sequences + ".away", sequences)
    time.sleep(RETRY_S)
    until(lambda: srv.get("/health/ready").status == 200, "ready once sequences.db is back")
    expect_next(srv.get("/next/kept"), len(issued) + 1, "kept")


# verify ------------------------------------------------------------------------------------

def test_verify_finds_a_damaged_file_and_says_to_restore_the_last_backup(server):
    take(server, "a", 5)
    server.stop()
    damage(os.path.join(server.data_dir, "sequences.db"))
    code, out, err = ctl(server, "verify")
    assert (code, out) == (1, ""), err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("nextidctl: verify: the store is not sound: "), err
    assert lines[0].endswith(RESTORE_HINT), err


# The restore path of docs/operations.md "Backup and restore" ------------------------------

@pytest.mark.slow
def test_restore_from_a_backup_continues_every_counter_without_a_duplicate(nextid):
    srv = nextid()
    backups = os.path.join(srv.dir, "backups")
    os.mkdir(backups)
    before = take(srv, "inv", 5) + take(srv, "ord", 2)
    assert before == [1, 2, 3, 4, 5, 1, 2]
    backup = os.path.join(backups, "nightly")
    code, out, err = ctl(srv, "backup", backup)
    assert code == 0, err
    # The service goes on after the backup: these numbers are not in it.
    after = take(srv, "inv", 3) + take(srv, "late", 1)
    assert after == [6, 7, 8, 1]

    # The store is damaged; verify says so.
    damage(os.path.join(srv.data_dir, "sequences.db"))
    code, out, err = ctl(srv, "verify")
    assert code == 1 and err.rstrip().endswith(RESTORE_HINT), err

    # 1. Export what the damaged store still reads, 2. stop, 3. put the backup in place,
    # 4. recover and move every counter forward with the export, 5. start.
    last_state = os.path.join(backups, "last-state.jsonl")
    code, out, err = ctl(srv, "export", last_state)
    assert code == 0, err
    srv.stop()
    damaged = srv.data_dir + ".damaged"
    os.rename(srv.data_dir, damaged)
    shutil.copytree(backup, srv.data_dir)
    code, out, err = ctl(srv, "recover")
    assert (code, out, err) == (0, "recover: the store in %s is recovered\n" % srv.data_dir, "")
    code, out, err = ctl(srv, "verify")
    assert code == 0, err
    code, out, err = ctl(srv, "import", last_state)
    assert code == 0, err
    srv.start()

    expect_next(srv.get("/next/inv"), 9, "inv")
    expect_next(srv.get("/next/ord"), 3, "ord")
    expect_next(srv.get("/next/late"), 2, "late")
    code, out, err = ctl(srv, "verify")
    assert code == 0, err


@pytest.mark.slow
def test_without_an_export_advance_moves_every_counter_past_what_may_have_been_issued(nextid):
    srv = nextid()
    take(srv, "inv", 5)
    backup = os.path.join(srv.dir, "nightly")
    code, out, err = ctl(srv, "backup", backup)
    assert code == 0, err
    take(srv, "inv", 3)
    srv.stop()
    shutil.rmtree(srv.data_dir)
    shutil.copytree(backup, srv.data_dir)
    code, out, err = ctl(srv, "recover")
    assert code == 0, err
    code, out, err = ctl(srv, "advance", "1000")
    assert (code, out, err) == (0, "advance: 1 sequences moved 1000 values ahead\n", "")
    srv.start()
    expect_next(srv.get("/next/inv"), 1006, "inv")


def test_recover_refuses_while_the_service_runs_and_changes_nothing(server):
    take(server, "busy", 3)
    code, out, err = ctl(server, "recover")
    assert (code, out) == (1, ""), err
    assert err == ("nextidctl: recover: stop the service first: another nextid-fcgi master "
                   "(or its workers) still uses %s\n" % server.data_dir), err
    expect_next(server.get("/next/busy"), 4, "busy")
