"""Members joining a running group: a new, empty node catches up by itself; a node whose shard_id
another member already has is refused (ids of /generate are unique by shard_id only)."""

import os
import time

import pytest

import cluster
import clusterload

pytestmark = pytest.mark.slow

JOIN_BOUND_S = 30


def test_new_empty_node_catches_up(make_cluster):
    c = make_cluster()
    master = c.wait_master()
    assert clusterload.configure_prefix(master).status in (200, 201)
    taken = {f: [clusterload.next_value(n, f) for n in c.nodes for _ in range(5)]
             for f in clusterload.FAMILIES}
    for f, values in taken.items():
        assert len(set(values)) == len(values), (f, values)

    new = c.add_node()                      # shard_id 4, empty data, the members as helpers
    new.start(wait_role=False)
    assert new.wait_role(("replica",), JOIN_BOUND_S) == "replica"
    c.wait_master(deadline_s=JOIN_BOUND_S)
    problems = clusterload.check_agreement(c.nodes, JOIN_BOUND_S)
    assert not problems, "\n".join(problems)
    # The new member hands out values too (through the master), above all the others.
    for f, values in taken.items():
        v = clusterload.next_value(new, f)
        assert v > max(values), (f, v, values)
    # Its /generate ids carry its own shard_id.
    reply = new.get("/generate")
    assert reply.status == 200, str(reply)
    ident = reply.json()["id"]
    decomposed = new.get("/generate/decompose/%d" % ident).json()
    assert decomposed["machine_id"] == 4, decomposed


def test_node_with_a_taken_shard_id_is_refused(make_cluster):
    c = make_cluster()
    c.wait_master()
    twin = c.add_node(shard_id=2)           # node2 has shard_id 2
    twin.start_master(wait=False)
    end = time.monotonic() + JOIN_BOUND_S
    while twin.master.poll() is None and time.monotonic() < end:
        time.sleep(0.1)
    rc = twin.master.poll()
    log = cluster.ns._tail(twin.master_log, 20000)
    assert rc is not None, "nextid-fcgi with a taken shard_id still runs after %d s:\n%s" % (
        JOIN_BOUND_S, log)
    assert rc != 0, log
    assert "shard_id 2 belongs to member %s of the group" % c.nodes[1].repl_address in log, log
    # The group is untouched: the same master, its three members.
    c.nodes.remove(twin)
    twin.stop()
    c.wait_master(deadline_s=10)


def test_group_creator_with_an_emptied_store_rejoins_and_never_restarts_the_group(make_cluster):
    """node1 says replication_group_creator = yes for ever; once it has been in the group, a
    start with no database files (killed while the group sent it a new copy of the store, which
    replaces every file) must receive the store, never create an empty one and a group of its
    own that hands out 1, 2, 3 again."""
    c = make_cluster()
    creator = c.nodes[0]
    c.wait_master()
    taken = [clusterload.next_value(n, "next") for n in c.nodes for _ in range(3)]
    creator.stop()
    c.wait_master(among=c.nodes[1:], deadline_s=JOIN_BOUND_S)
    kept = set(os.listdir(creator.data_dir))
    assert "group.member" in kept, sorted(kept)
    for name in kept - {"group.member", "DB_CONFIG"}:
        path = os.path.join(creator.data_dir, name)
        if os.path.isfile(path):
            os.remove(path)
    creator.start(wait_role=False)
    assert creator.wait_role(("replica",), JOIN_BOUND_S) == "replica"
    m = c.wait_master(deadline_s=JOIN_BOUND_S)
    assert m is not creator, c.roles()
    value = clusterload.next_value(creator, "next")
    assert value > max(taken), (value, taken)
    problems = clusterload.check_agreement(c.nodes, JOIN_BOUND_S)
    assert not problems, "\n".join(problems)
