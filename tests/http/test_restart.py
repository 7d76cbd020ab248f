"""Stopping, starting, reloading and restarting the master in place: counters continue, no
request is refused, a graceful stop lets a request in flight finish, a bad config stops start-up
(API.md section 9)."""

import json
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

import nextid_server
from nextid_server import FCGI, Load, expect_next

NOBODY = 65534
OWNER_REFUSAL = ("the store in %s belongs to nobody (uid 65534); run nextid-fcgi as that user (the "
                 "Debian package runs it as nextid under systemd), e.g. runuser -u nobody -- "
                 "nextid-fcgi ...")


@pytest.mark.slow
def test_the_counter_continues_after_the_master_is_stopped_and_started(server):
    for value in (1, 2, 3):
        expect_next(server.get("/next/restart"), value, "restart")
    server.kill_master(signal.SIGTERM)
    assert server.wait_master(15) == 0
    server.start_master()
    expect_next(server.get("/next/restart"), 4, "restart")
    expect_next(server.get("/next/other"), 1, "other")


@pytest.mark.slow
def test_the_counter_continues_after_lighttpd_restarts_a_spawned_master(nextid):
    srv = nextid(mode="spawned")
    first_master = srv.master_pid
    for value in (1, 2, 3):
        expect_next(srv.get("/next/spawned"), value, "spawned")
    assert srv.stop_lighttpd(), "the spawned master did not stop when lighttpd stopped"
    srv.start_lighttpd()
    assert srv.master_pid != first_master
    expect_next(srv.get("/next/spawned"), 4, "spawned")


@pytest.mark.slow
def test_sighup_replaces_every_worker_without_refusing_a_request(nextid):
    srv = nextid(config={"workers": 4})
    before = srv.worker_pids()
    assert len(before) == 4, before
    load = Load(srv, "/next/hup", clients=4, duration_s=2.0, max_requests=500).start()
    time.sleep(0.5)
    srv.write_config(default_start=100)
    os.kill(srv.master_pid, signal.SIGHUP)
    load.wait()

    assert load.statuses() == {200: load.count()}, (load.statuses(), load.errors[:3])
    values = load.values()
    assert sorted(values) == list(range(1, len(values) + 1))

    deadline = time.monotonic() + 15
    after = srv.worker_pids()
    while (len(after) != 4 or set(after) & set(before)) and time.monotonic() < deadline:
        time.sleep(0.1)
        after = srv.worker_pids()
    assert len(after) == 4 and not set(after) & set(before), (before, after)
    expect_next(srv.get("/next/fresh-after-reload"), 100, "fresh-after-reload")
    expect_next(srv.get("/next/hup"), len(values) + 1, "hup")


def wait_for_log(srv, text, deadline_s=10):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with open(srv.master_log, encoding="utf-8", errors="replace") as f:
            if text in f.read():
                return
        time.sleep(0.05)
    pytest.fail("the master never logged %r" % text)


@pytest.mark.slow
def test_sigusr2_restarts_in_place_on_the_replaced_program_without_refusing_a_request(
        nextid, monkeypatch, tmp_path):
    """SIGUSR2 stops the children, runs the program file again in the same process and keeps the
    socket open, so requests wait on it instead of being refused: an upgrade's restart without
    systemd (which would hold the socket itself). The upgrade replaced the program file first,
    and the restarted master runs the new one."""
    program = str(tmp_path / "nextid-fcgi")
    shutil.copy(FCGI, program)
    monkeypatch.setattr(nextid_server, "FCGI", program)
    srv = nextid(config={"workers": 2})
    master = srv.master_pid
    before = srv.worker_pids()
    assert len(before) == 2, before
    shutil.copy(FCGI, program + ".new")
    os.rename(program + ".new", program)  # as dpkg installs a new version
    assert os.readlink("/proc/%d/exe" % master) == program + " (deleted)"

    load = Load(srv, "/next/usr2", clients=4, duration_s=2.0, max_requests=5000).start()
    time.sleep(0.5)
    os.kill(master, signal.SIGUSR2)
    load.wait()

    assert load.statuses() == {200: load.count()}, (load.statuses(), load.errors[:3])
    values = load.values()
    assert sorted(values) == list(range(1, len(values) + 1))
    wait_for_log(srv, "serving on the socket kept open across a restart in place")
    assert srv.master.poll() is None and srv.master_pid == master
    assert os.readlink("/proc/%d/exe" % master) == program
    deadline = time.monotonic() + 10
    after = srv.worker_pids()
    while (len(after) != 2 or set(after) & set(before)) and time.monotonic() < deadline:
        time.sleep(0.05)
        after = srv.worker_pids()
    assert len(after) == 2 and not set(after) & set(before), (before, after)
    expect_next(srv.get("/next/usr2"), len(values) + 1, "usr2")


def test_sigusr2_with_a_config_that_does_not_load_is_refused_and_serving_goes_on(nextid):
    srv = nextid(config={"workers": 1})
    expect_next(srv.get("/next/refused"), 1, "refused")
    before = srv.worker_pids()
    with open(srv.conf_path, "a", encoding="utf-8") as f:
        f.write("no_such_key = 1\n")
    os.kill(srv.master_pid, signal.SIGUSR2)
    wait_for_log(srv, "restart refused, serving on with the running program: ")
    assert srv.worker_pids() == before
    expect_next(srv.get("/next/refused"), 2, "refused")


@pytest.mark.slow
def test_a_worker_is_replaced_after_max_requests(nextid):
    srv = nextid(config={"workers": 1, "max_requests": 5})
    first = srv.worker_pids()
    assert len(first) == 1, first
    for value in range(1, 31):
        expect_next(srv.get("/next/recycled"), value, "recycled")
    deadline = time.monotonic() + 5
    after = srv.worker_pids()
    while len(after) != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
        after = srv.worker_pids()
    assert len(after) == 1 and after != first, (first, after)


@pytest.mark.slow
def test_sigterm_lets_a_request_in_flight_finish_then_exits_0(nextid):
    shutdown_timeout_s = 5
    srv = nextid(config={"shutdown_timeout_s": shutdown_timeout_s},
                 env={"NEXTID_TEST_HOLD_LOCK_MS": "500"})
    result = {}
    client = threading.Thread(target=lambda: result.update(reply=srv.get("/next/slow")), daemon=True)
    client.start()
    time.sleep(0.2)
    assert client.is_alive(), "the request finished before SIGTERM: %r" % result
    sent = time.monotonic()
    srv.kill_master(signal.SIGTERM)
    client.join(10)
    assert "reply" in result, "no answer for the request in flight"
    expect_next(result["reply"], 1, "slow")
    left = shutdown_timeout_s + 1 - (time.monotonic() - sent)
    assert srv.wait_master(max(left, 0.1)) == 0


BAD_CONFIGS = [
    ("unknown key", "workers = 2\nno_such_key = 1\n", 3),
    ("bad number", "# a comment\n\nworkers = many\n", 4),
    ("bad choice", "durability = fast\n", 2),
]


@pytest.mark.parametrize("why,text,line", BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_a_bad_config_stops_start_up_naming_file_and_line(tmp_path, why, text, line):
    conf = tmp_path / "nextid.conf"
    conf.write_text("data_dir = %s\n" % (tmp_path / "data") + text)
    cmd = [FCGI, "--config", str(conf), "--socket", str(tmp_path / "nextid.sock")]
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("nextid-fcgi kept running with a bad config (%s)" % why)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode != 0, stderr
    assert "%s:%d: " % (conf, line) in stderr, stderr


def owners(root):
    """{path relative to root: uid} of root and everything under it."""
    out = {".": os.lstat(root).st_uid}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(d, name)
            out[os.path.relpath(path, root)] = os.lstat(path).st_uid
    return out


def chown_tree(root, uid, gid):
    for path in owners(root):
        os.lchown(os.path.join(root, path), uid, gid)


def error_lines(text):
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return [line.get("msg") for line in lines if line.get("level") == "error"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the data directory to nobody")
def test_root_over_a_store_another_user_owns_is_refused_and_creates_nothing(server):
    """Run as root over the store of the service's user, nextid-fcgi would leave root-owned
    region and log files that lock the service out: it refuses, as nextidctl does, in the pool
    and under mod_fcgid, before it creates anything."""
    expect_next(server.get("/next/owned"), 1, "owned")
    server.kill_master(signal.SIGTERM)
    assert server.wait_master(15) == 0
    st = os.stat(server.data_dir)
    chown_tree(server.data_dir, NOBODY, NOBODY)
    before = owners(server.data_dir)
    try:
        with pytest.raises(nextid_server.StartError):
            server.start_master(wait=False)
        assert server.master.wait(10) != 0
        with open(server.master_log, encoding="utf-8", errors="replace") as f:
            assert error_lines(f.read()) == [OWNER_REFUSAL % server.data_dir]

        fcgid_conf = os.path.join(server.dir, "fcgid.conf")
        with open(fcgid_conf, "w", encoding="utf-8") as f:
            f.write("data_dir = %s\nprocess_model = fcgid\n" % server.data_dir)
        try:
            proc = subprocess.run([FCGI, "--fcgid", "--config", fcgid_conf],
                                  stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("nextid-fcgi --fcgid kept running over a store of nobody")
        stderr = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode != 0, stderr
        assert error_lines(stderr) == [OWNER_REFUSAL % server.data_dir], stderr

        after = owners(server.data_dir)
        assert after == before, {p: u for p, u in after.items() if before.get(p) != u}
    finally:
        chown_tree(server.data_dir, st.st_uid, st.st_gid)
    server.start_master()
    expect_next(server.get("/next/owned"), 2, "owned")
