"""Fixtures for the three-node tests: `make_cluster` builds a cluster.Cluster in a temporary
directory on free ports of 127.0.0.1 (never 808x/908x, which `make run-cluster` uses), and stops
every node at the end; the directory is removed when the test passed and kept (its path printed)
when it failed.

    c = make_cluster(config={"request_timeout_s": 3})   # started; c.nodes[0] created the group
"""

import os
import sys
import tempfile

import pytest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402

BASE_CONFIG = cluster.TEST_CONFIG


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes seconds (load, restarts, kills)")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


def _failed(node):
    call = getattr(node, "rep_call", None)
    setup = getattr(node, "rep_setup", None)
    return call is None or call.failed or (setup is not None and setup.failed)


@pytest.fixture
def make_cluster(request):
    made = []

    def make(size=3, config=None, start=True, **kwargs):
        settings = dict(BASE_CONFIG)
        settings.update(config or {})
        c = cluster.Cluster(tempfile.mkdtemp(prefix="nextid-cluster-"), size=size,
                            config=settings, **kwargs)
        made.append(c)
        print("cluster directory: %s (HTTP ports %s)" % (c.base_dir,
                                                         [n.http_port for n in c.nodes]))
        if start:
            try:
                c.start()
            except cluster.ClusterError:
                print(c.describe())
                raise
        return c

    yield make

    leftovers = []
    for c in made:
        leftovers += c.stop()
    failed = _failed(request.node) or bool(leftovers)
    capture = request.config.pluginmanager.getplugin("capturemanager")
    for c in made:
        if failed:
            with capture.global_and_fixture_disabled():
                print("\nkept %s: configs, logs and data of the failed test" % c.base_dir)
        else:
            c.cleanup()
    if leftovers:
        pytest.fail("processes of the nodes still ran after they were stopped (now killed): %r"
                    % leftovers)
