"""A disk that fills up, and what anyone may make the disk hold.

The store sits on a small filesystem the test mounts itself (tmpfs, which fails a write for
space as ext4 does); a filler file takes the rest of it. nextid must answer 503 "Storage full"
in JSON for every write that finds no room, keep serving existing sequences while the log file
being written has room, say why in /health/ready and /metrics, never lose a worker to SIGBUS, and
resume by itself once the filler is gone. Then the bounds on what an anonymous client can create
(max_sequences, create_on_first_use) and the checkpoints that keep the log from ballooning.
"""

import glob
import os
import re
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from nextid_server import CTL, expect, expect_next

MOUNT_MB = 120          # the store's shared memory (about 64 MB) and its first log file fit
FLOOD_MAX = 20000       # new names tried before the log file runs out (about 3,000 suffice)
FLOOD_CLIENTS = 4       # the checkpoint test's clients at once
FLOOD_LOOK_S = 0.05     # and how often it counts the log files meanwhile
FLOOD_DEADLINE_S = 300
HEAL_S = 15.0           # the bound on resuming once there is room (recovery retries every 5 s)
STORAGE_FULL = {"error": "Storage full",
                "message": "The disk that holds the store is full; nothing was taken or "
                           "changed. Free space on it: nextid resumes by itself."}
READY_LOW = re.compile(r"The disk that holds the store has (\d+) bytes free, less than the "
                       r"16777216 a new log file needs; free space on it and readiness returns "
                       r"by itself\.")
READY_NO_ROOM = re.compile(r"The disk that holds the store has too little room for it \((\d+) "
                           r"bytes free\); free space on it and readiness returns by itself\.")


@pytest.fixture
def small_disk():
    """A tmpfs of MOUNT_MB mounted on a new directory, unmounted (lazily, if something still
    holds it) when the test ends."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    where = tempfile.mkdtemp(prefix="nextid-disk-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0755" % MOUNT_MB, "tmpfs",
                    where], check=True, timeout=30)
    try:
        yield where
    finally:
        if subprocess.run(["umount", where], timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", where], timeout=30)
        os.rmdir(where)


def fill(where):
    """Write a filler file until the filesystem refuses; returns its path."""
    path = os.path.join(where, "filler")
    chunk = b"\0" * 65536
    with open(path, "wb") as f:
        try:
            while True:
                f.write(chunk)
                f.flush()
        except OSError as e:
            assert e.errno == 28, e  # ENOSPC
    return path


def long_name(i):
    """A new name per i, long, so that each creation writes much log."""
    return "n%06d-" % i + "x" * 180


def ctl(srv, *args):
    proc = subprocess.run([CTL, "--config", srv.conf_path] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def until(predicate, what, bound_s=HEAL_S):
    deadline = time.monotonic() + bound_s
    while not predicate():
        assert time.monotonic() < deadline, "not within %.0f s: %s" % (bound_s, what)
        time.sleep(0.2)


def metric(srv, name):
    text = srv.get("/metrics").body.decode()
    found = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    assert found, "%s not in /metrics" % name
    return int(found.group(1))


def master_log(srv):
    with open(srv.master_log, errors="replace") as f:
        return f.read()


def expect_ready_full(srv, message):
    reply = srv.get("/health/ready")
    assert reply.status == 503 and reply.json()["error"] == "Storage full", str(reply)
    assert message.fullmatch(reply.json()["message"]), str(reply)


@pytest.mark.slow
def test_a_full_disk_answers_storage_full_serves_existing_sequences_and_heals(small_disk, nextid):
    srv = nextid(config={"data_dir": os.path.join(small_disk, "data")})
    for value in range(1, 4):
        expect_next(srv.get("/next/kept"), value, "kept")
    time.sleep(1.5)  # the housekeeper's first pass: the log file being written is allocated
    filler = fill(small_disk)

    expect_ready_full(srv, READY_LOW)
    assert metric(srv, "nextid_store_free_bytes") < 16 << 20
    expect(srv.get("/health/live"), 200, {"status": "live"})
    # The log file being written has room: the existing sequence goes on, and new names too.
    expect_next(srv.get("/next/kept"), 4, "kept")
    kept = 4
    created = 0
    for i in range(FLOOD_MAX):
        reply = srv.get("/next/" + long_name(i))
        if reply.status != 200:
            expect(reply, 503, STORAGE_FULL)
            break
        expect_next(reply, 1, long_name(i))
        created += 1
    else:
        pytest.fail("%d new names fitted on a full disk" % FLOOD_MAX)
    assert created > 0
    # Every write now finds no room, in every API family, and nothing is taken.
    for method, path in [("GET", "/next/kept"), ("POST", "/next/kept"),
                         ("GET", "/api/next-id/kept?dataType=long"),
                         ("GET", "/api/next-batch/kept?dataType=long&batchSize=10")]:
        expect(srv.request(method, path), 503, STORAGE_FULL)
    assert metric(srv, "nextid_store_space_errors_total") >= 5
    # A worker killed now is replaced; failchk waits for room instead of taking the store away.
    os.kill(srv.worker_pids()[0], signal.SIGKILL)
    time.sleep(1.0)
    expect(srv.get("/next/kept"), 503, STORAGE_FULL)

    os.unlink(filler)
    until(lambda: srv.get("/health/ready").status == 200, "ready once the filler is gone")
    expect_next(srv.get("/next/kept"), kept + 1, "kept")
    expect_next(srv.get("/next/" + long_name(FLOOD_MAX)), 1, long_name(FLOOD_MAX))
    expect_next(srv.get("/next/" + long_name(created)), 1, long_name(created))
    log = master_log(srv)
    assert "killed by signal 7" not in log, "a process died of SIGBUS"
    assert "stopping every process to recover the store" not in log
    assert master_log(srv).count("killed by signal 9") == 1
    rc, out, err = ctl(srv, "verify")
    assert rc == 0, (out, err)


@pytest.mark.slow
def test_a_start_on_a_full_disk_answers_503_and_starts_serving_once_there_is_room(small_disk,
                                                                                  nextid):
    srv = nextid(config={"data_dir": os.path.join(small_disk, "data")})
    for value in range(1, 4):
        expect_next(srv.get("/next/kept"), value, "kept")
    assert srv.get("/generate").status == 200
    srv.kill_master(signal.SIGKILL)
    # Recovery recreates the store's shared memory, for which there is now no room.
    filler = fill(small_disk)
    srv.start_master()

    expect(srv.get("/next/kept"), 503, STORAGE_FULL)
    expect(srv.get("/api/status/kept"), 503, STORAGE_FULL)
    expect_ready_full(srv, READY_NO_ROOM)
    expect(srv.get("/health/live"), 200, {"status": "live"})
    reply = srv.get("/generate")
    assert reply.status == 503 and reply.json()["error"] in ("Storage full", "Store unavailable"), \
        str(reply)
    assert srv.master.poll() is None, "the master gave up"
    assert "the store cannot be recovered while its disk is full" in master_log(srv)

    os.unlink(filler)
    until(lambda: srv.get("/health/ready").status == 200, "ready once the filler is gone")
    expect_next(srv.get("/next/kept"), 4, "kept")
    assert srv.get("/generate").status == 200
    assert "killed by signal 7" not in master_log(srv)


# What an anonymous client may create ----------------------------------------------------------

TOO_MANY = ("Creating '%s' would pass max_sequences; delete unused sequences, or raise "
            "max_sequences in nextid.conf.")


def test_max_sequences_refuses_a_new_name_while_existing_ones_go_on(nextid):
    srv = nextid(config={"max_sequences": 3})
    for name in ("a", "b"):
        expect_next(srv.get("/next/" + name), 1, name)
    reply = srv.get("/api/next-id/c?dataType=int")
    expect(reply, 200, {"entityName": "c", "dataType": "int", "value": 1})
    # The bound counts every sequence, whoever creates it.
    expect(srv.get("/next/d"), 409, {"error": "Too many sequences", "message": TOO_MANY % "d"})
    expect(srv.get("/api/next-id/e?dataType=uuid8"), 409,
           {"error": "Too many sequences", "message": TOO_MANY % "e"})
    expect(srv.get("/api/next-batch/f?dataType=long&batchSize=5"), 409,
           {"error": "Too many sequences", "message": TOO_MANY % "f"})
    rc, out, err = ctl(srv, "create", "g")
    assert rc != 0 and "max_sequences" in err, (rc, out, err)
    # Existing names keep working.
    expect_next(srv.get("/next/a"), 2, "a")
    expect(srv.get("/api/next-id/c?dataType=int"), 200,
           {"entityName": "c", "dataType": "int", "value": 2})
    # A deleted sequence makes room, and the count survives a restart.
    rc, out, err = ctl(srv, "delete", "b")
    assert rc == 0, (out, err)
    srv.kill_master(signal.SIGTERM)
    srv.wait_master(15)
    srv.start_master()
    expect_next(srv.get("/next/d"), 1, "d")
    expect(srv.get("/next/h"), 409, {"error": "Too many sequences", "message": TOO_MANY % "h"})


def test_without_create_on_first_use_an_unknown_name_is_404_and_admin_creates(nextid):
    srv = nextid(config={"create_on_first_use": "no"})

    def absent(name):
        return {"error": "Sequence not found",
                "message": "No sequence is named '%s', and this service creates sequences only "
                           "through its admin API or nextidctl (create_on_first_use = no)." % name}
    expect(srv.get("/next/invoice"), 404, absent("invoice"))
    expect(srv.request("POST", "/next/invoice"), 404, absent("invoice"))
    expect(srv.get("/api/next-id/users?dataType=int"), 404, absent("users"))
    expect(srv.get("/api/next-batch/users?dataType=int&batchSize=3"), 404, absent("users"))
    expect(srv.get("/api/next-id/tokens?dataType=uuid8"), 404, absent("tokens"))
    rc, out, err = ctl(srv, "list")
    assert (rc, out) == (0, ""), (rc, out, err)

    for args in (("create", "invoice", "--start", "1000"), ("create", "users", "--type", "int"),
                 ("create", "tokens", "--type", "uuid8")):
        rc, out, err = ctl(srv, *args)
        assert rc == 0, (args, out, err)
    expect_next(srv.get("/next/invoice"), 1000, "invoice")
    expect(srv.get("/api/next-id/users?dataType=int"), 200,
           {"entityName": "users", "dataType": "int", "value": 1})
    reply = srv.get("/api/next-id/tokens?dataType=uuid8")
    assert reply.status == 200 and len(reply.json()["value"]) == 8, str(reply)
    expect(srv.get("/api/next-id/tokens?dataType=uuid12"), 400, {
        "error": "Type mismatch",
        "message": "Entity 'tokens' is registered as 'uuid8', cannot use 'uuid12'",
        "registeredType": "uuid8"})


# The log does not balloon ---------------------------------------------------------------------

@pytest.mark.slow
def test_checkpoints_under_a_flood_of_new_names_keep_few_log_files(nextid):
    # No timed checkpoint during the test: only the log volume can trigger one.
    srv = nextid(config={"checkpoint_interval_s": 3600})
    # FLOOD_CLIENTS clients create the 12,000 names between them (one after another they took
    # over a minute), while this thread counts the log files every FLOOD_LOOK_S.
    refused = []

    def flood(first):
        for i in range(first, 12000, FLOOD_CLIENTS):
            reply = srv.get("/next/" + long_name(i))
            if reply.status != 200:
                refused.append(str(reply))
                return

    clients = [threading.Thread(target=flood, args=(k,), daemon=True)
               for k in range(FLOOD_CLIENTS)]
    for client in clients:
        client.start()
    most = 0
    deadline = time.monotonic() + FLOOD_DEADLINE_S
    while any(client.is_alive() for client in clients) and time.monotonic() < deadline:
        most = max(most, len(glob.glob(os.path.join(srv.data_dir, "log.*"))))
        time.sleep(FLOOD_LOOK_S)
    for client in clients:
        client.join(max(0.0, deadline - time.monotonic()))
    assert not any(client.is_alive() for client in clients), \
        "the flood did not end within %d s" % FLOOD_DEADLINE_S
    assert refused == [], refused[0]
    logs = glob.glob(os.path.join(srv.data_dir, "log.*"))
    most = max(most, len(logs))
    assert most <= 3, "up to %d log files of 10 MB: %s" % (most, sorted(logs))
