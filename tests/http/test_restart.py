"""Stopping, starting and reloading the master: counters continue, no request is refused, a
graceful stop lets a request in flight finish, a bad config stops start-up (API.md section 9)."""

import os
import signal
import subprocess
import threading
import time

import pytest

from nextid_server import FCGI, Load, expect_next


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
