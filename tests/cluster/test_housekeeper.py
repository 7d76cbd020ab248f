"""The replication process (each node's housekeeper) keeps its heartbeat through the work it does
on a master: a checkpoint there must not outlast the pool's patience (twice request_timeout_s),
or the housekeeper is killed inside Berkeley DB and the node recovered."""

import time

import pytest

import cluster

pytestmark = pytest.mark.slow

REQUEST_TIMEOUT_S = 3      # the pool kills a housekeeper silent for 6 s (Berkeley DB's default
                           # checkpoint delay would be 30 s)
CHECKPOINT_S = 1           # a checkpoint each second, as long as there was a write
WRITING_S = 8          # past the first checkpoint plus the 6 s limit


def test_master_checkpoints_without_a_stall(make_cluster):
    c = make_cluster(config={"request_timeout_s": REQUEST_TIMEOUT_S,
                             "checkpoint_interval_s": CHECKPOINT_S})
    master = c.wait_master()
    replica = [n for n in c.nodes if n is not master][0]
    value = 0
    end = time.monotonic() + WRITING_S
    while time.monotonic() < end:
        for node in (master, replica):
            value += 1
            cluster.ns.expect_next(node.get("/next/hk-checkpoint"), value, "hk-checkpoint")
        time.sleep(0.05)
    for node in c.nodes:
        m = node.metrics()
        assert (m["nextid_housekeeper_stalls_total"], m["nextid_store_recoveries_total"]) == \
            (0, 0), "%s: %r" % (node.name, {k: v for k, v in m.items() if "total" in k})


# A master's replication process runs eight message threads, a replica's two (db/store_repl.c).
MESSAGE_THREADS_MASTER, MESSAGE_THREADS_REPLICA = 8, 2
ROLE_FIT_S = 10            # a role event, then the housekeeper's next tick (every 100 ms)


def keeper_threads(node):
    """The thread count of the node's housekeeper (its replication process), from /proc."""
    keepers = [pid for pid in node.nextid_pids() if cluster.ns.comm(pid) == "nextid-keeper"]
    assert len(keepers) == 1, "%s: housekeepers %r" % (node.name, keepers)
    with open("/proc/%d/status" % keepers[0]) as f:
        return int(next(line for line in f if line.startswith("Threads:")).split()[1])


def wait_threads_fit(master, replicas):
    """Wait until each replica's housekeeper has exactly the master's threads less the message
    threads a replica does without; fail with the counts seen last."""
    want = MESSAGE_THREADS_MASTER - MESSAGE_THREADS_REPLICA
    end = time.monotonic() + ROLE_FIT_S
    while True:
        seen = {n.name: keeper_threads(n) for n in [master] + replicas}
        if all(seen[master.name] - seen[r.name] == want for r in replicas):
            return
        if time.monotonic() > end:
            pytest.fail("housekeeper threads %r: the master's %s should have %d more than each "
                        "replica's" % (seen, master.name, want))
        time.sleep(0.1)


def test_message_threads_follow_the_role(make_cluster):
    c = make_cluster()
    master = c.wait_master()
    wait_threads_fit(master, [n for n in c.nodes if n is not master])
    master.kill()
    new_master = c.wait_master(among=[n for n in c.nodes if n is not master])
    cluster.ns.expect_next(new_master.get("/next/hk-threads"), 1, "hk-threads")
    wait_threads_fit(new_master, [n for n in c.nodes if n not in (master, new_master)])
