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
