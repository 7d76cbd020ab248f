"""`make run` (tests/http/serve): the development run comes back by itself after a SIGKILL of the
nextid-fcgi master, as the packaged service does under systemd, and a SIGTERM to serve stops
everything it started.

serve runs as a subprocess on a free port with a temporary data directory, exactly as `make run`
starts it; the test signals only serve and the master it found among serve's children.
"""

import os
import signal
import shutil
import subprocess
import tempfile
import time

import pytest

from nextid_server import (WEB_SERVER, Load, children, comm, expect_next, free_port,
                           is_running, request, wait_gone)

SERVE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve")
START_DEADLINE_S = 15
COME_BACK_S = 20      # from the old pool gone to a value answered by the new one
STOP_DEADLINE_S = 40  # serve's own stop timeout (30 s) and some

pytestmark = pytest.mark.skipif(WEB_SERVER != "lighttpd",
                                reason="make run serves behind lighttpd; the lighttpd run covers it")


class ServeRun:
    """One tests/http/serve in its own session, and every pid of its tree the test has seen."""

    def __init__(self, workers=2):
        self.dir = tempfile.mkdtemp(prefix="nextid-serve-")
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "serve.log")
        self.seen = set()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [SERVE, "--port", str(self.port), "--data", self.dir, "--workers", str(workers)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def tree(self):
        """{comm: sorted pids} of serve's children and grandchildren, noted in self.seen."""
        out = {}
        for kid in children(self.proc.pid):
            for pid in [kid] + children(kid):
                self.seen.add(pid)
                out.setdefault(comm(pid), []).append(pid)
        return {k: sorted(v) for k, v in out.items()}

    def master(self):
        masters = self.tree().get("nextid-fcgi", [])
        return masters[0] if len(masters) == 1 else None

    def request(self, method, path, timeout=10):
        return request(self.port, method, path, timeout=timeout)

    def get(self, path, timeout=10):
        return request(self.port, "GET", path, timeout=timeout)

    def wait_ready(self):
        end = time.monotonic() + START_DEADLINE_S
        last = None
        while time.monotonic() < end:
            assert self.proc.poll() is None, "serve exited %d:\n%s" % (self.proc.returncode,
                                                                       self.log())
            try:
                reply = self.get("/health/live", timeout=2)
                if reply.status == 200 and self.master():
                    return
                last = str(reply)
            except OSError as e:
                last = repr(e)
            time.sleep(0.05)
        raise AssertionError("no 200 from /health/live within %d s (last: %s):\n%s"
                             % (START_DEADLINE_S, last, self.log()))

    def stop(self):
        """SIGTERM serve and wait for it; returns its exit status, or None if it had to be
        killed. Whatever of its tree still runs afterwards is killed and returned."""
        rc = None
        if self.proc.poll() is None:
            self.tree()
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        else:
            rc = self.proc.returncode
        ours = [p for p in self.seen if is_running(p) and
                ((comm(p) or "").startswith("nextid-") or comm(p) == "lighttpd")]
        wait_gone(ours, 3)
        leftovers = [p for p in ours if is_running(p)]
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return rc, leftovers


@pytest.fixture
def serve_run(request):
    runs = []

    def make(**kwargs):
        run = ServeRun(**kwargs)
        runs.append(run)
        print("serve directory: %s (port %d)" % (run.dir, run.port))
        return run

    yield make
    failed = not hasattr(request.node, "rep_call") or request.node.rep_call.failed
    for run in runs:
        _, leftovers = run.stop()
        if failed or leftovers:
            print("\nkept %s: the data and serve's log of the failed test" % run.dir)
        else:
            shutil.rmtree(run.dir, ignore_errors=True)
        assert not leftovers, "processes of serve still ran after it stopped: %r" % leftovers


@pytest.mark.slow
def test_make_run_comes_back_by_itself_after_a_sigkill_of_the_master(serve_run):
    run = serve_run(workers=2)
    run.wait_ready()
    expect_next(run.get("/next/x"), 1, "x")
    expect_next(run.get("/next/x"), 2, "x")

    old_master = run.master()
    old_pool = children(old_master)
    assert len(old_pool) == 3, run.tree()          # 2 workers and the housekeeper
    os.kill(old_master, signal.SIGKILL)
    # As a service manager would, wait for the old pool to be gone, so the value below can only
    # come from a new one.
    assert wait_gone([old_master] + old_pool, 5), run.tree()

    gone = time.monotonic()
    refused = []
    reply = None
    while time.monotonic() < gone + COME_BACK_S:
        try:
            reply = run.get("/next/x", timeout=5)
        except OSError as e:
            refused.append(repr(e))
            reply = None
        if reply is not None and reply.status == 200:
            break
        if reply is not None:
            refused.append(str(reply))
        time.sleep(0.2)
    took = time.monotonic() - gone
    print("answered %.2f s after the old pool was gone; %d refusals before: %r"
          % (took, len(refused), refused[:3]))
    assert reply is not None and reply.status == 200, \
        "no 200 from /next/x within %d s of the kill (last: %s)\n%s" % (
            COME_BACK_S, refused[-1:] or reply, run.log())
    # 3 exactly: 1 and 2 were answered before the kill, nothing was in flight during it.
    expect_next(reply, 3, "x")
    expect_next(run.get("/next/x"), 4, "x")

    new_master = run.master()
    assert new_master and new_master != old_master, run.tree()
    assert "serve: nextid-fcgi %d was killed by signal 9" % old_master in run.log(), run.log()

    rc, leftovers = run.stop()
    assert rc == 0, "serve exited %r:\n%s" % (rc, run.log())
    assert not leftovers, leftovers
    assert not os.path.exists(os.path.join(run.dir, "nextid.sock")), "socket file left behind"


@pytest.mark.slow
def test_make_run_repeats_and_loses_no_answered_value_across_a_master_sigkill_under_load(
        serve_run):
    run = serve_run(workers=2)
    run.wait_ready()
    expect_next(run.get("/next/l"), 1, "l")
    load = Load(run, "/next/l", clients=4, duration_s=6, max_requests=100000, timeout=10)
    load.start()
    time.sleep(1.5)
    old_master = run.master()
    os.kill(old_master, signal.SIGKILL)
    load.wait()
    values = load.values()
    print("statuses %r, %d values, %d errors" % (dict(load.statuses()), len(values),
                                                  len(load.errors)))
    assert len(values) == len(set(values)), "a value was answered twice"
    assert min(values) >= 2, min(values)
    new_master = run.master()
    assert new_master and new_master != old_master, run.tree()
    # The new master's /metrics counts only what its pool issued: it came back during the load.
    metrics = run.get("/metrics").body.decode()
    issued = [line for line in metrics.splitlines()
              if line.startswith("nextid_values_issued_total ")]
    assert issued and int(issued[0].split()[1]) > 0, issued
    # Every value answered stays taken: the next one is above them all.
    reply = run.get("/next/l")
    assert reply.status == 200 and reply.json()["next_value"] > max(values), str(reply)


def test_make_run_writes_a_random_admin_token_once_and_points_to_the_console(serve_run):
    run = serve_run(workers=1)
    run.wait_ready()
    conf = os.path.join(run.dir, "nextid.conf")
    with open(conf, encoding="utf-8") as f:
        tokens = [line.split("=", 1)[1].strip() for line in f if line.startswith("admin_token =")]
    assert len(tokens) == 1 and len(tokens[0]) == 48 and int(tokens[0], 16) >= 0, tokens
    assert os.stat(conf).st_mode & 0o777 == 0o600
    log = run.log()
    assert ("console: http://127.0.0.1:%d/console/ — its admin token is the admin_token line of %s"
            % (run.port, conf)) in log
    assert tokens[0] not in log  # the terminal shows where the token is, never the token
    # The token works; the console is served.
    reply = request(run.port, "GET", "/api/admin/sequences",
                    headers={"Authorization": "Bearer " + tokens[0]})
    assert (reply.status, reply.body) == (200, b'{"sequences":[]}\n'), str(reply)
    assert run.get("/console/").status == 200
