"""Robustness of the pool (docs/design.md, "Decisions"): an incomplete store is refused, a stopped worker
or a killed nextidctl holding a record lock is cleaned up, a stopped housekeeper is replaced, a
spawned pool ends with its web server, stray signals are ignored, reloads and recycled workers
keep full capacity, FastCGI connections are not kept alive, and a crash loop pauses respawning
instead of spinning.

Every wait is bounded; every process signalled here is one the harness recorded (the master, its
children, lighttpd, or a nextidctl this file started).
"""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from nextid_server import (CTL, Load, StartError, expect, expect_next, holds_lock_in_hook,
                           is_running, stop_process, wait_gone, waits_idle)

BUSY = {"error": "Store unavailable", "message": "The store is busy; retry in a moment."}

# helpers ---------------------------------------------------------------------------------------

def log_size(srv):
    try:
        return os.path.getsize(srv.master_log)
    except FileNotFoundError:
        return 0


def log_entries(srv, since=0):
    """The JSON lines of the master's stderr (workers and helpers write there too) after byte
    offset since; the harness's own marker lines are skipped."""
    with open(srv.master_log, "rb") as f:
        f.seek(since)
        text = f.read().decode("utf-8", "replace")
    entries = []
    for line in text.splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))
    return entries


def wait_for_log(srv, predicate, since=0, deadline_s=3):
    """The first log entry after since that predicate accepts, polling up to deadline_s; None."""
    end = time.monotonic() + deadline_s
    while True:
        for entry in log_entries(srv, since):
            if predicate(entry):
                return entry
        if time.monotonic() > end:
            return None
        time.sleep(0.05)


def comm_of(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def children_by_comm(srv):
    """{comm: sorted pids} of the master's children."""
    out = {}
    for pid in srv.master_children():
        out.setdefault(comm_of(pid), []).append(pid)
    return {k: sorted(v) for k, v in out.items()}


def wait_until(check, deadline_s, interval=0.05):
    """Poll check() until it returns something true or deadline_s passes; its last value."""
    end = time.monotonic() + deadline_s
    value = check()
    while not value and time.monotonic() < end:
        time.sleep(interval)
        value = check()
    return value


def in_thread(fn):
    """Run fn in a daemon thread; the dict it returns gets "reply" or "error" and "elapsed"."""
    result = {}

    def run():
        start = time.monotonic()
        try:
            result["reply"] = fn()
        except Exception as e:  # a connection error is an outcome here, not a test error
            result["error"] = repr(e)
        result["elapsed"] = time.monotonic() - start

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def from_web_server(reply):
    """An error page of the web server itself, not an answer of nextid (which always sends
    Cache-Control: no-store): the fate of a request in flight when its worker is killed."""
    return reply.status >= 500 and reply.headers.get("cache-control") != "no-store"


def timed_get(srv, path, timeout=10):
    start = time.monotonic()
    reply = srv.get(path, timeout=timeout)
    return reply, time.monotonic() - start


# 1. an incomplete store is refused ---------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("missing", ["sequences.db", "names.db", "meta.db"])
def test_a_store_with_a_missing_database_file_is_refused_and_starts_once_it_is_restored(
        nextid, missing):
    srv = nextid()
    for value in (1, 2, 3):
        expect_next(srv.get("/next/a"), value, "a")
    srv.kill_master(signal.SIGTERM)
    assert srv.wait_master(15) == 0

    path = os.path.join(srv.data_dir, missing)
    kept = os.path.join(srv.dir, missing + ".kept")
    shutil.copy2(path, kept)
    os.remove(path)
    since = log_size(srv)
    started = time.monotonic()
    with pytest.raises(StartError) as refused:
        srv.start_master(wait=False)
    elapsed = time.monotonic() - started
    assert "exited with status" in str(refused.value), str(refused.value)
    assert srv.master.returncode != 0
    assert elapsed < 8, "the refusal took %.1f s" % elapsed
    errors = [e for e in log_entries(srv, since) if e.get("level") == "error"]
    assert any("is incomplete" in e["msg"] and missing in e["msg"] for e in errors), errors
    assert not os.path.exists(path), "a refused start created %s" % missing

    shutil.copy2(kept, path)
    srv.start_master()
    expect_next(srv.get("/next/a"), 4, "a")


def test_an_emptied_data_directory_starts_a_new_store_from_1(server):
    for value in (1, 2):
        expect_next(server.get("/next/a"), value, "a")
    server.kill_master(signal.SIGTERM)
    assert server.wait_master(15) == 0
    for name in os.listdir(server.data_dir):
        path = os.path.join(server.data_dir, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    since = log_size(server)
    server.start_master()
    expect_next(server.get("/next/a"), 1, "a")
    assert any("created a new store" in e["msg"] for e in log_entries(server, since))


# 2. a stopped worker holding a record lock ---------------------------------------------------

@pytest.mark.slow
def test_a_stopped_worker_holding_a_lock_gives_503_then_is_killed_and_replaced(nextid):
    request_timeout_s = 3
    srv = nextid(config={"workers": 3, "lock_timeout_ms": 300,
                         "request_timeout_s": request_timeout_s},
                 env={"NEXTID_TEST_HOLD_LOCK_MS": "1000"})
    expect_next(srv.get("/next/hot"), 1, "hot")   # the sequence exists before the lock is held
    before = srv.worker_pids()
    assert len(before) == 3, before

    sent = time.monotonic()
    held_thread, held = in_thread(lambda: srv.get("/next/hot", timeout=20))
    holder = wait_until(lambda: [p for p in srv.worker_pids() if holds_lock_in_hook(p)], 0.8,
                        interval=0.02)
    assert len(holder) == 1, "no single worker sleeps holding the lock: %r" % holder
    holder = holder[0]
    stop_process(holder)
    try:
        # The probes overlap, 0.2 s apart, as real traffic does. Strictly one after another, a
        # wait in Berkeley DB 5.3 can lose its deadline (about 1 in 300, see store_expire_locks
        # in db/store.h) and then expires only when another wait starts or the request timeout
        # replaces the holder; each new wait re-arms the detector for every waiter.
        probes = []
        for _ in range(3):
            probes.append(in_thread(lambda: timed_get(srv, "/next/hot")))
            time.sleep(0.2)
        for thread, out in probes:
            thread.join(10)
            reply, elapsed = out["reply"]
            expect(reply, 503, BUSY)
            assert elapsed < 1.0, "a busy answer took %.2f s" % elapsed
        reply, elapsed = timed_get(srv, "/next/other")
        expect_next(reply, 1, "other")
        assert elapsed < 3, "another name took %.2f s" % elapsed

        deadline_s = sent + request_timeout_s + 3 - time.monotonic()
        replaced = wait_until(lambda: holder not in srv.worker_pids()
                              and len(srv.worker_pids()) == 3, max(deadline_s, 0.1))
        after = srv.worker_pids()
        assert replaced, "worker %d still there (or pool not back to 3) %.1f s after its request " \
            "started: %r" % (holder, time.monotonic() - sent, after)
    finally:
        if is_running(holder):  # leave nothing stopped behind, whatever happened
            os.kill(holder, signal.SIGCONT)
    assert set(after) - set(before), (before, after)

    held_thread.join(15)
    assert not held_thread.is_alive(), "the held request never ended"
    print("held request: %s" % str(held.get("reply") or held.get("error")))
    assert "reply" not in held or from_web_server(held["reply"]), str(held["reply"])
    # 2 was never answered: it is issued again (rolled back) or, at most, skipped (the increment
    # committed as the worker died); never a value below 2, never a second gap.
    reply = srv.get("/next/hot")
    assert reply.status == 200 and reply.json()["next_value"] in (2, 3), str(reply)
    following = reply.json()["next_value"]
    print("after the kill /next/hot gave %d" % following)
    expect_next(reply, following, "hot")
    expect_next(srv.get("/next/hot"), following + 1, "hot")
    assert wait_for_log(srv, lambda e: "has been on one request for" in e["msg"]
                        and str(holder) in e["msg"]), "no request-timeout kill in the log"


# 2b. a stopped housekeeper ------------------------------------------------------------------

def keeper_pids(srv):
    return children_by_comm(srv).get("nextid-keeper", [])


def metric_line(srv, name):
    """The whole line of one unlabelled series in /metrics, or None when it is absent."""
    reply = srv.get("/metrics")
    assert reply.status == 200, str(reply)
    for line in reply.body.decode("utf-8").splitlines():
        if line.split(" ")[0] == name:
            return line
    return None


@pytest.mark.slow
def test_a_stopped_housekeeper_is_killed_and_replaced_after_twice_the_request_timeout(nextid):
    request_timeout_s = 1
    limit_s = 2 * request_timeout_s     # pool.c, keeper_stall_limit_ms
    srv = nextid(config={"workers": 2, "request_timeout_s": request_timeout_s})
    expect_next(srv.get("/next/k"), 1, "k")
    first = wait_until(lambda: len(keeper_pids(srv)) == 1 and keeper_pids(srv), 3)
    assert first, "no single housekeeper: %r" % children_by_comm(srv)
    first = first[0]
    # A healthy housekeeper stamps its heartbeat: it outlives the limit untouched.
    time.sleep(limit_s + 0.5)
    assert keeper_pids(srv) == [first], children_by_comm(srv)
    assert metric_line(srv, "nextid_housekeeper_stalls_total") == \
        "nextid_housekeeper_stalls_total 0"

    since = log_size(srv)
    os.kill(first, signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        time.sleep(limit_s / 2)
        assert keeper_pids(srv) == [first], "killed before the limit: %r" % children_by_comm(srv)
        replaced = wait_until(lambda: first not in keeper_pids(srv) and len(keeper_pids(srv)) == 1
                              and keeper_pids(srv), limit_s + 3)
        took = time.monotonic() - stopped
    finally:
        if is_running(first):  # leave nothing stopped behind, whatever happened
            os.kill(first, signal.SIGCONT)
    assert replaced, "housekeeper %d not replaced %.1f s after SIGSTOP: %r" % (
        first, time.monotonic() - stopped, children_by_comm(srv))
    assert not is_running(first), "the stopped housekeeper %d still exists" % first
    print("housekeeper %d replaced by %d after %.2f s" % (first, replaced[0], took))
    killed = wait_for_log(srv, lambda e: e["msg"].startswith(
        "housekeeper %d has made no progress for " % first), since)
    assert killed, "no stall kill in the log"
    assert killed["level"] == "error" and killed["role"] == "master", killed
    assert killed["msg"].endswith(" ms (limit %d ms, twice request_timeout_s); killing it"
                                  % (limit_s * 1000)), killed
    assert wait_for_log(srv, lambda e: e["msg"].startswith("housekeeper %d killed by signal 9 "
                                                           % first), since), "no reap in the log"
    assert metric_line(srv, "nextid_housekeeper_stalls_total") == \
        "nextid_housekeeper_stalls_total 1"

    # The new housekeeper stamps from its start: it is not taken for stalled in turn.
    second = replaced[0]
    time.sleep(limit_s + 0.5)
    assert keeper_pids(srv) == [second], children_by_comm(srv)
    assert metric_line(srv, "nextid_housekeeper_stalls_total") == \
        "nextid_housekeeper_stalls_total 1"
    expect_next(srv.get("/next/k"), 2, "k")


@pytest.mark.slow
def test_a_whole_node_stopped_and_resumed_loses_no_process(nextid):
    """SIGSTOP of the master and all its children (a paused VM, a stopped node) for longer than
    twice request_timeout_s, with a request in flight: on resume the clock has run on, but every
    process was stopped alike, so none is taken for hung; the request in flight is answered."""
    request_timeout_s = 1
    srv = nextid(config={"workers": 2, "request_timeout_s": request_timeout_s},
                 env={"NEXTID_TEST_HOLD_LOCK_MS": "400"})
    expect_next(srv.get("/next/n"), 1, "n")
    before = sorted(srv.master_children())
    since = log_size(srv)
    held_thread, held = in_thread(lambda: srv.get("/next/n", timeout=20))
    holder = wait_until(lambda: [p for p in srv.worker_pids() if holds_lock_in_hook(p)], 0.8,
                        interval=0.02)
    assert holder, "no worker is in the request"
    node = [srv.master_pid] + before
    try:
        for pid in node:
            stop_process(pid)
        time.sleep(2 * request_timeout_s + 1.5)
    finally:
        for pid in node:
            os.kill(pid, signal.SIGCONT)
    held_thread.join(10)
    expect_next(held["reply"], 2, "n")
    expect_next(srv.get("/next/n"), 3, "n")
    time.sleep(0.5)  # one more round of the master's watchdogs
    assert sorted(srv.master_children()) == before, children_by_comm(srv)
    paused = wait_for_log(srv, lambda e: e["msg"].startswith("the master did not run for "),
                          since)
    assert paused and paused["level"] == "warn", paused
    assert not wait_for_log(srv, lambda e: "killing it" in e["msg"], since, deadline_s=0.1)


# 3. a killed nextidctl holding a record lock ------------------------------------------------

@pytest.mark.slow
def test_a_killed_nextidctl_holding_a_lock_is_cleaned_up_and_its_import_never_happened(nextid):
    srv = nextid(config={"lock_timeout_ms": 300})
    for value in (1, 2, 3):
        expect_next(srv.get("/next/locked"), value, "locked")
    path = os.path.join(srv.dir, "big-import.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps({"name": "locked", "type": "long", "next": 1000000}) + "\n")
        for i in range(30000):
            f.write(json.dumps({"name": "filler-%d" % i, "type": "long", "next": 1}) + "\n")

    # Stop nextidctl now and then until it is caught inside its one import transaction (a read
    # of "locked" is then busy), and kill it there: the record lock stays with a dead process.
    ctl = subprocess.Popen([CTL, "--config", srv.conf_path, "import", path],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    caught = None
    try:
        for _ in range(200):
            time.sleep(0.03)
            os.kill(ctl.pid, signal.SIGSTOP)
            if ctl.poll() is not None:
                break
            try:
                probe = srv.get("/api/status/locked", timeout=2)
            except socket.timeout:
                # Stopped inside Berkeley DB holding a mutex the read needs (no lock timeout
                # applies to a mutex): let it go on and try again.
                probe = None
            if probe is not None and probe.status != 200:
                caught = probe
                break
            os.kill(ctl.pid, signal.SIGCONT)
    finally:
        if ctl.poll() is None:
            ctl.kill()
        out, err = ctl.communicate(timeout=10)
    assert caught is not None, "nextidctl was never caught holding the lock (exit %r: %r %r)" \
        % (ctl.returncode, out, err)
    expect(caught, 503, BUSY)
    assert ctl.returncode == -signal.SIGKILL, (ctl.returncode, out, err)

    # failchk runs after expired lock waits (at most every 2 s; a hung one is killed after 2 s
    # and the store recovered instead), so the lock is freed within a few seconds.
    killed = time.monotonic()
    seen = []
    while True:
        reply = srv.get("/next/locked", timeout=10)
        seen.append((round(time.monotonic() - killed, 2), reply.status))
        if reply.status == 200:
            break
        # 503 while the lock is held; the web server's own error page (no Cache-Control:
        # no-store) for a request in flight when a hung failchk makes the master restart every
        # worker to recover the store.
        if not from_web_server(reply):
            expect(reply, 503, BUSY)
        assert time.monotonic() - killed < 8, "still no 200 8 s after the kill: %r, last %s" % (
            seen, reply)
        time.sleep(0.05)
    print("after the kill: %r" % seen)
    expect_next(reply, 4, "locked")
    assert seen[0][1] != 200, "the lock was free at once: was nextidctl killed in its transaction?"
    expect(srv.get("/api/status/filler-0"), 404,
           {"error": "Entity not found", "message": "No entity is named 'filler-0'."})
    expect_next(srv.get("/next/locked"), 5, "locked")


# 4. spawned mode: the pool ends with lighttpd --------------------------------------------------

def test_a_spawned_master_and_its_children_stop_when_lighttpd_is_killed(nextid):
    shutdown_timeout_s = 2
    srv = nextid(mode="spawned", config={"shutdown_timeout_s": shutdown_timeout_s})
    for value in (1, 2):
        expect_next(srv.get("/next/orphan"), value, "orphan")
    master = srv.master_pid
    kids = srv.master_children()
    assert kids, "the spawned master has no children"
    killed = time.monotonic()
    srv.lighttpd.kill()
    srv.lighttpd.wait(5)
    gone = wait_gone([master] + kids, shutdown_timeout_s + 2)
    assert gone, "still running %.1f s after lighttpd died: %r" % (
        time.monotonic() - killed, [p for p in [master] + kids if is_running(p)])

    srv.start_lighttpd()
    assert srv.master_pid != master
    expect_next(srv.get("/next/orphan"), 3, "orphan")


# 5. stray signals --------------------------------------------------------------------------

# SIGUSR2 restarts the master in place (test_restart.py); SIGUSR1 means nothing to it.
def test_sigusr1_to_the_master_is_logged_and_ignored(server):
    expect_next(server.get("/next/sig"), 1, "sig")
    before = children_by_comm(server)
    since = log_size(server)
    sig = signal.SIGUSR1
    os.kill(server.master_pid, sig)
    entry = wait_for_log(server, lambda e, s=int(sig): "ignored" in e["msg"]
                         and str(s) in e["msg"] and e.get("role") == "master", since)
    assert entry, "no 'ignored' line for signal %d" % sig
    expect_next(server.get("/next/sig"), 2, "sig")
    assert server.master.poll() is None
    assert children_by_comm(server) == before


def test_sigusr2_to_a_worker_leaves_it_serving(nextid):
    srv = nextid(config={"workers": 1})
    workers = srv.worker_pids()
    assert len(workers) == 1, workers
    os.kill(workers[0], signal.SIGUSR2)
    time.sleep(0.2)
    for value in (1, 2):
        expect_next(srv.get("/next/usr2"), value, "usr2")
    assert srv.worker_pids() == workers


def test_sigquit_lets_a_request_in_flight_finish_then_exits_0(nextid):
    shutdown_timeout_s = 5
    srv = nextid(config={"shutdown_timeout_s": shutdown_timeout_s},
                 env={"NEXTID_TEST_HOLD_LOCK_MS": "500"})
    client, result = in_thread(lambda: srv.get("/next/quit"))
    time.sleep(0.2)
    assert client.is_alive(), "the request finished before SIGQUIT: %r" % result
    sent = time.monotonic()
    os.kill(srv.master_pid, signal.SIGQUIT)
    client.join(10)
    assert "reply" in result, "no answer for the request in flight: %r" % result
    expect_next(result["reply"], 1, "quit")
    left = shutdown_timeout_s + 1 - (time.monotonic() - sent)
    assert srv.wait_master(max(left, 0.1)) == 0


# 6. reloads keep full capacity ---------------------------------------------------------------

@pytest.mark.slow
def test_three_quick_reloads_under_load_refuse_nothing_and_replace_every_process(nextid):
    srv = nextid(config={"workers": 3})
    before = children_by_comm(srv)
    assert len(before.get("nextid-worker", [])) == 3, before
    assert len(before.get("nextid-keeper", [])) == 1, before
    load = Load(srv, "/next/reload", clients=8, duration_s=4.0, max_requests=2000).start()
    time.sleep(0.5)
    for _ in range(3):
        os.kill(srv.master_pid, signal.SIGHUP)
        time.sleep(0.5)
    load.wait()

    assert load.statuses() == {200: load.count()}, (load.statuses(), load.errors[:3])
    values = load.values()
    assert sorted(values) == list(range(1, len(values) + 1))

    def settled():
        now = children_by_comm(srv)
        workers, keepers = now.get("nextid-worker", []), now.get("nextid-keeper", [])
        return (len(workers) == 3 and len(keepers) == 1 and set(now) == {"nextid-worker",
                                                                          "nextid-keeper"}
                and not set(workers) & set(before["nextid-worker"])
                and keepers != before["nextid-keeper"]) and now

    after = wait_until(settled, 15, interval=0.1)
    assert after, (before, children_by_comm(srv))
    expect_next(srv.get("/next/reload"), len(values) + 1, "reload")



@pytest.mark.slow
def test_workers_recycled_every_few_requests_under_load_refuse_nothing(nextid):
    """A worker that reached max_requests stops while connections keep arriving: one it has just
    accepted is answered, never dropped (lighttpd would answer 503 for it)."""
    srv = nextid(config={"workers": 2, "max_requests": 25})
    load = Load(srv, "/next/recycle", clients=16, duration_s=4.0, max_requests=400).start()
    load.wait()

    assert load.statuses() == {200: load.count()}, (load.statuses(), load.errors[:3])
    values = load.values()
    assert sorted(values) == list(range(1, len(values) + 1))
    assert len(values) > 200, "too little load to recycle workers: %d requests" % len(values)
    expect_next(srv.get("/next/recycle"), len(values) + 1, "recycle")

# 7. no kept-alive FastCGI connections -------------------------------------------------------

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT = 1, 3, 4, 5, 6
FCGI_RESPONDER, FCGI_KEEP_CONN = 1, 1


def fcgi_record(rtype, content, request_id=1):
    return struct.pack(">BBHHBx", 1, rtype, request_id, len(content), 0) + content


def fcgi_pair(name, value):
    assert len(name) < 128 and len(value) < 128
    return bytes([len(name), len(value)]) + name + value


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise AssertionError("the connection closed in the middle of a record")
        data += chunk
    return data


def test_fastcgi_keep_conn_is_not_honoured_and_sigterm_then_exits_at_once(server):
    params = b"".join(fcgi_pair(k, v) for k, v in [
        (b"REQUEST_METHOD", b"GET"), (b"REQUEST_URI", b"/health/live"),
        (b"SCRIPT_NAME", b"/health/live"), (b"SERVER_PROTOCOL", b"HTTP/1.1")])
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        sock.connect(server.socket_path)
        sock.sendall(fcgi_record(FCGI_BEGIN_REQUEST,
                                 struct.pack(">HB5x", FCGI_RESPONDER, FCGI_KEEP_CONN))
                     + fcgi_record(FCGI_PARAMS, params) + fcgi_record(FCGI_PARAMS, b"")
                     + fcgi_record(FCGI_STDIN, b""))
        stdout, ended = b"", None
        while ended is None:
            _, rtype, _, length, padding = struct.unpack(">BBHHBx", recv_exactly(sock, 8))
            content = recv_exactly(sock, length + padding)[:length]
            if rtype == FCGI_STDOUT:
                stdout += content
            elif rtype == FCGI_END_REQUEST:
                ended = struct.unpack(">IB3x", content)
        assert ended == (0, 0), ended
        head, _, body = stdout.partition(b"\r\n\r\n")
        assert body == b'{"status":"live"}\n', stdout
        assert b"Status: 200" in head, stdout
        sock.settimeout(1)
        try:
            rest = sock.recv(1)
        except socket.timeout:
            pytest.fail("the worker kept the FastCGI connection open despite FCGI_KEEP_CONN")
        assert rest == b"", rest

        # Every worker waits for a connection, none is tied to a connection: SIGTERM ends at once,
        # not after shutdown_timeout_s (10 s by default).
        sent = time.monotonic()
        server.kill_master(signal.SIGTERM)
        assert server.wait_master(2) == 0, "exit took %.1f s" % (time.monotonic() - sent)


# 8. crash loops ----------------------------------------------------------------------------

@pytest.mark.slow
def test_ten_abnormal_exits_in_a_row_pause_respawning_then_the_pool_comes_back(nextid):
    srv = nextid(config={"workers": 2})
    since = log_size(srv)
    # One at a time, and only an idle worker (waiting in accept) of a full pool with no failchk
    # helper running: a worker killed inside Berkeley DB, or during a failchk, makes the master
    # recover the store, and the workers it kills for that count as no crash.
    killed = []
    end = time.monotonic() + 8
    while len(killed) < 10 and time.monotonic() < end:
        kids = children_by_comm(srv)
        workers = kids.get("nextid-worker", [])
        idle = [p for p in workers if waits_idle(p)]
        if "nextid-helper" in kids or len(workers) != 2 or set(workers) & set(killed) or not idle:
            time.sleep(0.005)
            continue
        os.kill(idle[0], signal.SIGKILL)
        killed.append(idle[0])
    last_kill = time.monotonic()
    assert len(killed) == 10, "only %d idle workers to kill within 8 s" % len(killed)

    def exits():
        return [e["msg"] for e in log_entries(srv, since) if "killed by signal" in e["msg"]]

    assert len(wait_until(lambda: len(exits()) >= 10 and exits(), 2) or exits()) == 10, exits()
    paused = [e for e in log_entries(srv, since) if "abnormal exits within" in e["msg"]]
    assert paused, "no crash-loop pause in the log after %d abnormal exits" % len(exits())
    paused = paused[0]
    assert paused["msg"] == "10 abnormal exits within 10 s: pausing respawns for 2000 ms", paused
    time.sleep(max(0, last_kill + 1.0 - time.monotonic()))
    assert len(srv.worker_pids()) < 2, "workers respawned during the pause"

    workers = wait_until(lambda: len(srv.worker_pids()) == 2 and srv.worker_pids(), 6)
    assert workers and not set(workers) & set(killed), (workers, killed)
    srv.wait_ready("/health/ready", deadline_s=5)
    expect_next(srv.get("/next/after-loop"), 1, "after-loop")
