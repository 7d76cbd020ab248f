"""Fixtures for the black-box HTTP tests, and the checks every response must pass.

`server` is a started nextid (socket mode, default config). `nextid` is a factory for tests that
need a config change, an environment variable, spawned mode, or a server that is not started yet:
    srv = nextid(mode="spawned", config={"workers": 1}, env={"NEXTID_TEST_HOLD_LOCK_MS": "20"})
The web server in front is lighttpd, or Apache when NEXTID_WEB_SERVER=apache; behind Apache a
test that asks for spawned mode (lighttpd's bin-path, which Apache has no equivalent of) skips.
Everything a test started is stopped afterwards; the temporary directory is removed when the test
passed and kept (its path printed) when it failed.
"""

import os
import sys

import pytest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nextid_server  # noqa: E402


def pytest_report_header(config):
    return "nextid web server: %s (NEXTID_WEB_SERVER)" % nextid_server.WEB_SERVER


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes seconds (load, restarts, kills); "
                                       "-m 'not slow' skips them")
    config.addinivalue_line("markers", "no_web_server: sends no request through the web server "
                                       "(nextidctl, files, the store): runs behind lighttpd only")


def pytest_collection_modifyitems(config, items):
    # A test that never goes through the web server checks the same thing behind either: it
    # runs once, in the lighttpd run (make check-http), and skips in make check-http-apache.
    if nextid_server.WEB_SERVER == "lighttpd":
        return
    skip = pytest.mark.skip(reason="sends nothing through the web server: runs behind lighttpd")
    for item in items:
        if item.get_closest_marker("no_web_server"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_web_server_guard(request):
    """A test marked no_web_server that sends a request through the web server fails."""
    if request.node.get_closest_marker("no_web_server") is None:
        yield
        return
    nextid_server.NO_WEB_SERVER_TEST = request.node.nodeid
    try:
        yield
    finally:
        nextid_server.NO_WEB_SERVER_TEST = None


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item, so that teardown knows whether the test failed.
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


def _failed(node):
    call = getattr(node, "rep_call", None)
    setup = getattr(node, "rep_setup", None)
    return call is None or call.failed or (setup is not None and setup.failed)


@pytest.fixture
def nextid(request):
    servers = []

    def make(mode="socket", config=None, env=None, workers=None, start=True):
        if mode == "spawned" and nextid_server.WEB_SERVER != "lighttpd":
            pytest.skip(nextid_server.SPAWNED_NEEDS_LIGHTTPD)
        srv = nextid_server.NextidServer(mode=mode, config=config, env=env, workers=workers)
        servers.append(srv)
        print("nextid test directory: %s (%s on port %d)" % (srv.dir, srv.web_server, srv.port))
        if start:
            srv.start()
        return srv

    yield make

    leftovers = []
    for srv in servers:
        leftovers += srv.stop()
    failed = _failed(request.node) or bool(leftovers)
    capture = request.config.pluginmanager.getplugin("capturemanager")
    for srv in servers:
        kept = srv.cleanup(keep=failed)
        if kept:
            with capture.global_and_fixture_disabled():
                print("\nkept %s: configs, logs and data of the failed test" % kept)
    if leftovers:
        pytest.fail("nextid processes still ran after the master stopped (now killed): %r"
                    % leftovers)


@pytest.fixture
def server(nextid):
    return nextid()
