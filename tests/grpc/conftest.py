"""Fixtures for the black-box tests of nextid-grpc.

`grpc_server(config=..., args=..., env=...)` starts a real nextid (pool and lighttpd, through
tests/http's harness: the master creates the store, and the REST side serves the same store),
then build/nextid-grpc on its config with --port 0 (the port it took is read from its log), and
returns a GrpcServer with a stub for each service. The client code is generated once per run
from grpc/*.proto by Debian's python3-grpc-tools, into a temporary directory. Everything a test
started is stopped afterwards; the directory of a failed test is kept and printed.

The gRPC tests do not go through the web server, so they run once (`make check-grpc`), not again
behind Apache.
"""

import importlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))

import nextid_server as ns  # noqa: E402

GRPC_BIN = os.path.join(ns.BUILD, "nextid-grpc")
PROTO_DIR = os.path.join(ns.ROOT, "grpc")
ADMIN_TOKEN = "grpc-admin-token-0123456789"
# A nextid-grpc started after a SIGKILL may wait for a record lock the dead one held until the
# pool's failchk (every 10 s) frees it, or its watchdog may end it (then it is started again).
START_DEADLINE_S = 20


def _generate_client():
    """The Python client of sequentialid.proto and health.proto, as a user of the original would
    generate one from its .proto, imported from a directory of its own."""
    out = tempfile.mkdtemp(prefix="nextid-grpc-client-")
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I" + PROTO_DIR,
                    "--python_out=" + out, "--grpc_python_out=" + out,
                    "sequentialid.proto", "health.proto"], check=True)
    sys.path.insert(0, out)
    mods = {name: importlib.import_module(name) for name in
            ("sequentialid_pb2", "sequentialid_pb2_grpc", "health_pb2", "health_pb2_grpc")}
    return out, mods


CLIENT_DIR, CLIENT = _generate_client()
pb = CLIENT["sequentialid_pb2"]
pb_grpc = CLIENT["sequentialid_pb2_grpc"]
health_pb = CLIENT["health_pb2"]
health_grpc = CLIENT["health_pb2_grpc"]

import grpc  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(CLIENT_DIR, ignore_errors=True)


class GrpcExited(AssertionError):
    def __init__(self, returncode, log):
        super().__init__("nextid-grpc exited %d:\n%s" % (returncode, log))
        self.returncode = returncode


class GrpcServer:
    """One nextid-grpc on a NextidServer's config, logging into its directory."""

    def __init__(self, srv, args=(), env=None):
        self.srv = srv
        self.args = list(args)
        self.env = env
        self.log_path = os.path.join(srv.dir, "grpc.log")
        self.proc = None
        self.port = None
        self.channels = []

    def start(self, wait=True, port_arg=True):
        env = dict(os.environ)
        env.pop("GRPC_PORT", None)
        env.update(self.env or {})
        cmd = [GRPC_BIN, "--config", self.srv.conf_path] + (["--port", "0"] if port_arg else [])
        with open(self.log_path, "ab") as log:
            log.write(b"--- test: starting nextid-grpc %s\n" % " ".join(self.args).encode())
            offset = log.tell()
            self.proc = subprocess.Popen(cmd + self.args, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, cwd=self.srv.dir, env=env)
        if not wait:
            return self
        end = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < end:
            text = self.log(offset)
            m = re.search(r'"listening on [^"]*:(\d+) \(', text)
            if m and "serving sequentialid" in text:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                raise GrpcExited(self.proc.returncode, text)
            time.sleep(0.02)
        raise AssertionError("nextid-grpc did not start:\n%s" % self.log(offset))

    def log(self, offset=0):
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def channel(self, credentials=None, options=None):
        target = "127.0.0.1:%d" % self.port
        ch = (grpc.secure_channel(target, credentials, options=options) if credentials
              else grpc.insecure_channel(target, options=options))
        self.channels.append(ch)
        return ch

    def stub(self, channel=None):
        return pb_grpc.SequentialIDServiceStub(channel or self.channel())

    def health(self, channel=None):
        return health_grpc.HealthStub(channel or self.channel())

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signal it and wait; its exit status (SIGKILL after the timeout)."""
        for ch in self.channels:
            ch.close()
        self.channels = []
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("nextid-grpc ignored %s for %d s" % (sig, timeout))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes seconds (kills, restarts); "
                                       "-m 'not slow' skips them")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


@pytest.fixture
def grpc_server(request):
    made = []

    def make(config=None, args=(), env=None, start=True, srv=None):
        if srv is None:
            settings = {"admin_token": ADMIN_TOKEN}
            settings.update(config or {})
            settings = {k: v for k, v in settings.items() if v is not None}  # None: unset
            srv = ns.NextidServer(config=settings)
            made.append((srv, None))
            print("nextid test directory: %s (port %d)" % (srv.dir, srv.port))
            srv.start()
        g = GrpcServer(srv, args, env)
        made.append((srv, g))
        if start:
            g.start()
        return g

    yield make

    call = getattr(request.node, "rep_call", None)
    failed = call is None or call.failed
    for srv, g in reversed(made):
        if g is not None:
            g.stop(signal.SIGKILL if failed else signal.SIGTERM)
    for srv, g in made:
        if g is None:
            srv.stop()
            kept = srv.cleanup(keep=failed)
            if kept:
                print("kept %s: configs, logs and data of the failed test" % kept)


def admin():
    return [("authorization", "Bearer " + ADMIN_TOKEN)]
