"""Every node answers every endpoint: what takes or changes values, sent to a replica, is carried
out by the master and answered with the bytes the master would send."""

import json

import pytest

import cluster

pytestmark = pytest.mark.slow

PREFIX_CONFIG = {"message": "configuration updated successfully", "prefix": "FW",
                 "padding_length": 6, "format_template": "{prefix}-{counter:6}",
                 "reset_rule": "never", "timezone": "UTC"}


def configure(node):
    return node.request("POST", "/api/v1/config/FW", cluster.AUTH,
                        json.dumps({"format_template": "{prefix}-{counter:6}"}).encode())


def test_values_through_replicas(make_cluster):
    c = make_cluster()
    master = c.wait_master()
    r1, r2 = [n for n in c.nodes if n is not master]
    # /next alternating over the three nodes: one sequence, consecutive values
    for i, node in enumerate([r1, master, r2, r1, r2, master], 1):
        cluster.ns.expect_next(node.get("/next/forwarded"), i, "forwarded")
    # a batch through a replica
    reply = r2.get("/api/next-batch/fw-batch?dataType=long&batchSize=5")
    cluster.ns.expect(reply, 200, {"entityName": "fw-batch", "dataType": "long", "batchSize": 5,
                                   "startValue": "1", "endValue": "5"})
    # a formatted number through each replica, configured on the master
    reply = configure(master)
    assert (reply.status, reply.json()) == (200, PREFIX_CONFIG), str(reply)
    for counter, node in enumerate([r1, r2], 1):
        reply = node.get("/api/v1/next/FW?client_id=fw")
        assert reply.status == 200, str(reply)
        body = reply.json()
        assert (body["prefix"], body["counter"], body["full_number"], body["client_id"]) == \
            ("FW", counter, "FW-%06d" % counter, "fw"), body
    cluster.wait_agreement(c.nodes, ["forwarded"], ["fw-batch"], ["FW"], 20)


def admin(node, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    return node.request(method, path, cluster.AUTH, data)


def test_admin_writes_through_a_replica(make_cluster):
    """Sequence admin writes sent to a replica answer the master's bytes (the same operation on
    another name, sent to the master, is the reference) and take effect for the whole group."""
    c = make_cluster()
    master = c.wait_master()
    r1, r2 = [n for n in c.nodes if n is not master]
    options = {"type": "long", "start": 1000, "max": 999999}
    for name, node in (("adm-m", master), ("adm-r", r1)):
        put = admin(node, "PUT", "/api/admin/sequences/" + name, options)
        setnext = admin(node, "POST", "/api/admin/sequences/%s/next" % name, {"next": 5000})
        if name == "adm-m":
            want = [(r.status, r.body.replace(b"adm-m", b"adm-r")) for r in (put, setnext)]
        else:
            assert [(r.status, r.body) for r in (put, setnext)] == want, (put, setnext)
    assert want[0][0] == 201, want
    cluster.ns.expect_next(r2.get("/next/adm-r"), 5000, "adm-r")
    reply = admin(r2, "DELETE", "/api/admin/sequences/adm-r")
    assert reply.status == 200, str(reply)
    assert master.get("/api/admin/sequences/adm-r", cluster.AUTH).status == 404
    cluster.wait_agreement(c.nodes, ["adm-m", "adm-r"], [], [], 20)


def test_prefix_configuration_through_a_replica(make_cluster):
    """A formatted prefix's configuration (an admin write) through a replica, a number through
    the other."""
    c = make_cluster()
    master = c.wait_master()
    r1, r2 = [n for n in c.nodes if n is not master]
    reply = configure(r1)
    assert (reply.status, reply.json()) == (200, PREFIX_CONFIG), str(reply)
    reply = r2.get("/api/v1/next/FW?client_id=fw")
    assert reply.status == 200, str(reply)
    body = reply.json()
    assert (body["prefix"], body["counter"], body["full_number"]) == ("FW", 1, "FW-000001"), body
    cluster.wait_agreement(c.nodes, [], [], ["FW"], 20)
