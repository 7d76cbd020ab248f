"""Replication through Berkeley DB's Replication Manager: a small group on 127.0.0.1.

Three real nodes (each a nextid-fcgi master behind its own lighttpd, with its own data directory
and replication port), node 0 the group's creator. What a replica is asked to take is carried out
by the master and answered by the replica with the master's bytes; a master cut off from the
others (its replicas stopped with SIGSTOP) answers 503 "Not replicated" and never a value; after a
SIGKILL of every process of the master, a replica is elected and the values go on above every
value handed out before. Every wait is bounded; everything started is stopped.
"""

import json
import os
import signal
import time
import urllib.parse

import pytest

import nextid_server
from nextid_server import free_port, is_running

# Replication lives below the web server: these run once, behind lighttpd (make check-http).
pytestmark = pytest.mark.skipif(nextid_server.WEB_SERVER != "lighttpd",
                                reason="replication does not go through the web server: run once, "
                                       "behind lighttpd")

TOKEN = "replication-T0ken_for.tests~0123456789"
AUTH = {"Authorization": "Bearer " + TOKEN}
REQUEST_TIMEOUT_S = 5
SETTLE_S = 20  # at most this long for a group to elect and connect


def node_config(addrs, i, extra=None):
    cfg = {"replication_address": addrs[i],
           "replication_peers": " ".join(a for j, a in enumerate(addrs) if j != i),
           "workers": 2, "admin_token": TOKEN, "request_timeout_s": REQUEST_TIMEOUT_S,
           "shard_id": i + 1}
    if i == 0:
        cfg["replication_group_creator"] = "yes"
    cfg.update(extra or {})
    return cfg


@pytest.fixture
def group(nextid):
    """Three started nodes, one after another (Berkeley DB wants members to join one at a
    time), node 0 the creator and first master."""
    addrs = ["127.0.0.1:%d" % free_port() for _ in range(3)]
    nodes = []
    for i in range(3):
        # a joining member answers once it is in the group, which on a busy machine can take
        # longer than a single node's start
        n = nextid(config=node_config(addrs, i), start=False)
        n.start_deadline_s = SETTLE_S
        nodes.append(n.start())
    for n, a in zip(nodes, addrs):
        n.repl_address = a
    wait_for(lambda: roles(nodes) == ["master", "replica", "replica"], SETTLE_S, "roles")
    yield nodes
    for n in nodes:  # a test may leave a node stopped: let it go before the harness stops it
        for pid in pids_of(n):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass


def wait_for(cond, deadline_s, what):
    end = time.monotonic() + deadline_s
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError("no %s after %s s" % (what, deadline_s))
        time.sleep(0.1)


def health(node):
    reply = node.get("/health", timeout=REQUEST_TIMEOUT_S + 2)
    return reply.json() if reply.status == 200 else {}


def roles(nodes):
    return [health(n).get("replication", {}).get("role") for n in nodes]


def pids_of(node):
    return [node.master_pid] + node.master_children() if node.master_pid else []


def signal_node(node, sig):
    for pid in pids_of(node):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def next_value(node, name):
    """GET /next/<name>: (status, value or None, the reply)."""
    reply = node.get("/next/" + name, timeout=REQUEST_TIMEOUT_S + 2)
    value = reply.json().get("next_value") if reply.status == 200 else None
    return reply.status, value, reply


def settled_take(nodes, name, deadline_s=SETTLE_S):
    """Take one value from each node, retrying 503s until the group serves again."""
    values = []
    for n in nodes:
        got = wait_for(lambda: (lambda s, v, r: v if s == 200 else None)(*next_value(n, name)),
                       deadline_s, "value from %s" % n.repl_address)
        values.append(got)
    return values


def expect_503_json(reply, errors):
    assert reply.status == 503, str(reply)
    assert reply.headers["content-type"] == "application/json", str(reply)
    assert reply.json()["error"] in errors, str(reply)


def test_without_replication_keys_health_has_no_replication(nextid):
    node = nextid()
    body = node.get("/health").json()
    assert set(body) == {"status", "uptime"}
    assert "nextid_replication_role" not in node.get("/metrics").body.decode()


def test_every_node_answers_with_the_masters_values(group):
    master = group[0].repl_address
    for n in group:
        assert health(n)["replication"] == {
            "role": "master" if n is group[0] else "replica", "master": master}
    values = settled_take(group, "shared") + settled_take(group, "shared")
    # One counter, whichever node was asked: strictly increasing, no value twice.
    assert values == sorted(set(values)), values
    status, value, reply = next_value(group[2], "shared")
    assert (status, reply.body) == (200, b'{"next_value":%d,"sequence_id":"shared"}\n' % value)
    # Each replica reads the master's counter once it has applied the commit (the quorum is the
    # master and one replica: the other may be a moment behind).
    for n in group[1:]:
        wait_for(lambda: (lambda r: r.status == 200 and int(r.json()["next"]) == value + 1)(
            n.get("/api/admin/sequences/shared", AUTH)), 5, "the record on a replica")
    metrics = group[1].get("/metrics").body.decode()
    assert "\nnextid_replication_role 2\n" in metrics
    assert "\nnextid_replication_lag_bytes " in metrics
    assert "\nnextid_replication_role 1\n" in group[0].get("/metrics").body.decode()


def test_a_replica_takes_formatted_numbers_through_the_master(group):
    body = json.dumps({"padding_length": 4}).encode()
    reply = wait_for(lambda: (lambda r: r if r.status != 503 else None)(
        group[1].request("POST", "/api/v1/config/INV", AUTH, body)), SETTLE_S, "a configure")
    assert reply.status in (200, 201), str(reply)
    numbers = []
    for n in group[1:]:
        reply = wait_for(lambda: (lambda r: r if r.status == 200 else None)(
            n.get("/api/v1/next/INV?client_id=c1")), SETTLE_S, "a formatted number")
        numbers.append(reply.json()["full_number"])
    assert numbers == ["INV0001", "INV0002"], numbers
    audit = group[0].get("/api/v1/audit/INV", AUTH).json()
    assert [e["full_number"] for e in audit["records"]] == numbers, audit
    reply = group[2].request("POST", "/api/v1/reset/INV", AUTH, b'{"set_to":41}')
    assert reply.status == 200, str(reply)
    assert group[1].get("/api/v1/next/INV").json()["full_number"] == "INV0042"


@pytest.mark.slow
def test_a_partitioned_master_answers_503_never_a_value(group):
    before = settled_take(group, "part")
    for n in group[1:]:
        signal_node(n, signal.SIGSTOP)
    try:
        for _ in range(5):
            start = time.monotonic()
            status, value, reply = next_value(group[0], "part")
            took = time.monotonic() - start
            assert value is None, "a cut-off master handed out %r" % value
            expect_503_json(reply, ("Not replicated", "No master"))
            assert took < REQUEST_TIMEOUT_S, took
    finally:
        for n in group[1:]:
            signal_node(n, signal.SIGCONT)
    after = settled_take(group, "part")
    assert min(after) > max(before), (before, after)
    assert len(set(after)) == len(after), after


@pytest.mark.slow
def test_sigkill_of_the_master_elects_a_replica_and_values_go_on(group):
    before = settled_take(group, "fail")
    gap = []
    group[0].kill_master(signal.SIGKILL)
    t0 = time.monotonic()

    def new_master():
        r = roles(group[1:])
        return "master" in r and r

    wait_for(new_master, SETTLE_S, "new master")
    elected_s = time.monotonic() - t0
    for n in group[1:]:
        status, value, reply = next_value(n, "fail")
        if status != 200:
            expect_503_json(reply, ("Not replicated", "No master"))
            gap.append(status)
    after = settled_take(group[1:], "fail")
    assert min(after) > max(before), (before, after)
    assert elected_s < 10, elected_s


@pytest.mark.slow
def test_a_stopped_master_is_replaced_and_rejoins_as_a_replica(group):
    before = settled_take(group, "stop")
    signal_node(group[0], signal.SIGSTOP)
    got = []
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 8:
            for n in group[1:]:
                start = time.monotonic()
                status, value, reply = next_value(n, "stop")
                assert time.monotonic() - start < REQUEST_TIMEOUT_S
                if status == 200:
                    got.append(value)
                else:
                    expect_503_json(reply, ("Not replicated", "No master"))
            if len(got) >= 4:
                break
        failover_s = time.monotonic() - t0
        assert len(got) >= 4, "no new master within 8 s"
    finally:
        signal_node(group[0], signal.SIGCONT)
    assert failover_s < 8, failover_s
    wait_for(lambda: roles(group)[0] == "replica", SETTLE_S, "the old master a replica")
    after = settled_take(group, "stop")
    values = before + got + after
    assert len(set(values)) == len(values), values
    assert min(got) > max(before) and min(after) > max(got), (before, got, after)


def test_nextidctl_shows_the_group(group):
    # A replica on a busy machine may not have applied the last commit yet: wait for lag 0.
    me = "%s\treplica\tshard 2\tthis node\tlag 0 bytes" % group[1].repl_address
    lines = []

    def caught_up():
        lines[:] = group[1].nextidctl("group").stdout.splitlines()
        return lines[:1] == [me]
    wait_for(caught_up, SETTLE_S, "node2 caught up")
    out = lines
    assert sorted(out[1:]) == sorted(["%s\tmaster\tshard 1" % group[0].repl_address,
                                      "%s\treplica\tshard 3" % group[2].repl_address]), out


@pytest.mark.slow
def test_a_node_with_a_members_shard_id_is_refused(group, nextid):
    addrs = [n.repl_address for n in group] + ["127.0.0.1:%d" % free_port()]
    fourth = nextid(config=node_config(addrs, 3, {"shard_id": 2}), start=False)
    fourth.start_master(wait=False)
    rc = fourth.wait_master(SETTLE_S)
    assert rc == 1, rc
    with open(fourth.master_log, encoding="utf-8") as f:
        log = f.read()
    assert "shard_id 2 belongs to member %s of the group" % addrs[1] in log, log[-2000:]
    # It left the group again: the three go on, and a value still needs only their quorum.
    assert settled_take(group, "after-refusal")


def test_admin_writes_on_a_replica_are_carried_out_by_the_master(group):
    path = "/api/admin/sequences/adm"
    reply = wait_for(lambda: (lambda r: r if r.status != 503 else None)(
        group[1].request("PUT", path, AUTH, b'{"start":100}')), SETTLE_S, "a forwarded create")
    assert reply.status == 201, str(reply)
    assert reply.json()["next"] == "100", str(reply)
    reply = group[2].request("PUT", path, AUTH, b'{"start":"x"}')
    assert reply.status == 400, str(reply)
    status, value, _ = next_value(group[2], "adm")
    assert (status, value) == (200, 100)
    group[2].nextidctl("create", "ctl-made", "--start", "7")
    assert group[0].get("/api/admin/sequences/ctl-made", AUTH).json()["next"] == "7"
    reply = group[1].request("DELETE", path, AUTH)
    assert reply.body == b'{"name":"adm","deleted":true}\n', str(reply)
    assert group[0].get(path, AUTH).status == 404


@pytest.mark.slow
def test_nextidctl_removes_a_dead_member(group):
    group[2].kill_master(signal.SIGKILL)
    out = group[0].nextidctl("group", "remove", group[2].repl_address).stdout
    assert out == "removed %s\n" % group[2].repl_address

    def two_members():
        lines = group[0].nextidctl("group").stdout.splitlines()
        return len(lines) == 2 and lines

    lines = wait_for(two_members, SETTLE_S, "a group of two")
    assert lines[1] == "%s\treplica\tshard 2" % group[1].repl_address, lines
    # A group of two: the quorum is both, and both are here.
    assert settled_take(group[:2], "after-remove")


def pool_replication(node):
    reply = node.get("/api/pool", timeout=REQUEST_TIMEOUT_S + 2)
    assert reply.status == 200, str(reply)
    return reply.json()["replication"]


def test_api_pool_shows_the_group_each_node_sees(group):
    addrs = [n.repl_address for n in group]

    def member(i, role, me):
        return {"address": addrs[i], "role": role, "shard_id": i + 1, "self": me}

    # This node first, then the others in the order the Replication Manager lists them.
    expected = [
        [member(0, "master", True), member(1, "replica", False), member(2, "replica", False)],
        [member(1, "replica", True), member(0, "master", False), member(2, "replica", False)],
        [member(2, "replica", True), member(0, "master", False), member(1, "replica", False)]]
    for i, n in enumerate(group):
        def settled():
            r = pool_replication(n)
            got = dict(r, members=r["members"][:1] + sorted(r["members"][1:],
                                                            key=lambda m: m["address"]))
            # Caught up too: a checkpoint record in flight is a moment of lag (measured: 92
            # bytes, once in a run of make check).
            return got["members"] == [expected[i][0]] + sorted(
                expected[i][1:], key=lambda m: m["address"]) and got["lag_bytes"] == 0 and got
        got = wait_for(settled, SETTLE_S, "the group in /api/pool of node %d" % i)
        assert list(got) == ["role", "master", "elections", "lag_bytes", "members",
                             "members_error"], got
        assert (got["role"], got["master"], got["members_error"]) == (
            "master" if i == 0 else "replica", addrs[0], None), got
        # The same figures as /metrics (a joining replica counts the election it took part in).
        metrics = n.get("/metrics").body.decode()
        assert "\nnextid_replication_elections_total %d\n" % got["elections"] in metrics, got
        assert got["lag_bytes"] == 0, got
