"""Every node answers every endpoint: what takes or changes values, sent to a replica, is carried
out by the master and answered with the bytes the master would send."""

import json
import os
import tempfile
import threading
import time

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


# ---- import, advance and delete-all through a replica (nextidctl), on one group -------------

MAX_SEQUENCES = 20500


@pytest.fixture(scope="module")
def group(request):
    """One three-node group for the bulk tests below, which run in file order and leave the
    store empty (delete-all is the last). Room for 20,500 sequences: an import stops midway.
    Its directory is kept when one of them failed."""
    failed_before = request.session.testsfailed
    c = cluster.Cluster(tempfile.mkdtemp(prefix="nextid-cluster-"), size=3,
                        config=dict(cluster.TEST_CONFIG, max_sequences=MAX_SEQUENCES))
    print("cluster directory: %s" % c.base_dir)
    c.start_or_stop()
    yield c
    leftovers = c.stop()
    if leftovers or request.session.testsfailed > failed_before:
        print("\nkept %s: configs, logs and data of the failed test" % c.base_dir)
    else:
        c.cleanup()
    assert not leftovers, "processes of the nodes still ran after they were stopped: %r" % (
        leftovers,)


def replicas_of(c):
    master = c.wait_master()
    return master, [n for n in c.nodes if n is not master]


def line(name, nxt):
    return json.dumps({"name": name, "type": "long", "next": str(nxt), "increment": "1",
                       "min": "1", "max": "9223372036854775807", "cycle": False, "cache": 0,
                       "exhausted": False}, separators=(",", ":"))


def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("".join(x + "\n" for x in lines))


def exported(node, prefix):
    """The node's own copy of the sequences named prefix*, as nextidctl export's lines."""
    out = node.nextidctl("export", timeout=60).stdout
    return [x for x in out.splitlines() if x.startswith('{"name":"%s' % prefix)]


def wait_exports(nodes, prefix, want, deadline_s=30):
    """Every node's copy of prefix* is want (the replicas catch up)."""
    end = time.monotonic() + deadline_s
    while True:
        got = [exported(n, prefix) for n in nodes]
        if all(g == want for g in got):
            return
        if time.monotonic() > end:
            for n, g in zip(nodes, got):
                missing = len(set(want) - set(g))
                extra = len(set(g) - set(want))
                print("%s: %d lines, %d missing, %d unexpected" % (n.name, len(g), missing,
                                                                    extra))
            raise AssertionError("the nodes' sequences %s* differ from the expected" % prefix)
        time.sleep(0.5)


def test_refused_import_through_a_replica(group):
    """A lowering without --force, found in the second chunk, writes nothing and says the same
    sentence (and exit status) on a replica as on the master."""
    master, (r1, _) = replicas_of(group)
    first = os.path.join(group.base_dir, "ri-first.jsonl")
    write_lines(first, [line("ri-low", 100)])
    assert master.nextidctl("import", first).stdout == "import: 1 sequences\n"
    refused = os.path.join(group.base_dir, "ri-refused.jsonl")
    write_lines(refused, [line("ri-%03d" % i, 1) for i in range(400)] + [line("ri-low", 50)])
    answers = []
    for node in (master, r1):
        proc = node.nextidctl("import", refused, check=False, timeout=60)
        answers.append((proc.returncode, proc.stdout, proc.stderr))
    want = (1, "", "nextidctl: import: %s:401: it would move an existing counter backwards; "
            "use --force. Nothing was imported.\n" % refused)
    assert answers == [want, want], answers
    wait_exports(group.nodes, "ri-", [line("ri-low", 100)])


def test_import_20000_through_a_replica(group):
    """20,000 sequences imported through a replica (80 chunks at the master): every node lists
    them with their values."""
    _, (r1, _) = replicas_of(group)
    lines = [line("im-%05d" % i, 3 * i + 1) for i in range(20000)]
    path = os.path.join(group.base_dir, "im.jsonl")
    write_lines(path, lines)
    proc = r1.nextidctl("import", path, timeout=120)
    assert (proc.stdout, proc.stderr) == ("import: 20000 sequences\n", ""), proc
    wait_exports(group.nodes, "im-", lines, 60)


def test_import_stopped_midway_through_a_replica(group):
    """A chunk refused at max_sequences: the chunk before it stays, the command says which lines,
    and the same import again (on the master) answers the same."""
    master, (r1, _) = replicas_of(group)
    lines = [line("mw-%03d" % i, 1) for i in range(600)]
    path = os.path.join(group.base_dir, "mw.jsonl")
    write_lines(path, lines)
    answers = []
    for node in (r1, master):
        proc = node.nextidctl("import", path, check=False, timeout=60)
        answers.append((proc.returncode, proc.stdout, proc.stderr))
    want = (1, "", "nextidctl: import: the store refused a transaction (too many sequences: "
            "max_sequences in nextid.conf is reached) after the sequences of lines 1 to 250 "
            "were imported; running the same import again is safe\n")
    assert answers == [want, want], answers
    wait_exports(group.nodes, "mw-", lines[:250])


def test_advance_through_a_replica(group):
    """advance on a replica moves every counter of the group by exactly N, on every node."""
    _, (_, r2) = replicas_of(group)
    proc = r2.nextidctl("advance", 1000, timeout=120)
    assert (proc.stdout, proc.stderr) == \
        ("advance: 20251 sequences moved 1000 values ahead\n", ""), proc
    wait_exports(group.nodes, "im-", [line("im-%05d" % i, 3 * i + 1001) for i in range(20000)],
                 60)
    wait_exports(group.nodes, "ri-", [line("ri-low", 1100)])
    wait_exports(group.nodes, "mw-", [line("mw-%03d" % i, 1001) for i in range(250)])


def test_delete_all_through_a_replica(group):
    """sequence-reset (delete-all) on a replica empties every node."""
    _, (r1, _) = replicas_of(group)
    proc = r1.nextidctl("sequence-reset", "-f", timeout=120)
    assert (proc.stdout, proc.stderr) == ("deleted 20251 sequences\n", ""), proc
    wait_exports(group.nodes, "", [])


def take_concurrently(nodes, path, threads_per_node, calls):
    """calls requests of path on each of threads_per_node threads per node at once: each thread's
    replies in order, and the count of replies that were not 200."""
    results, failures = [], []

    def client(node):
        mine = []
        for _ in range(calls):
            reply = node.get(path, timeout=10)
            if reply.status == 200:
                mine.append(reply.json())
            else:
                failures.append(str(reply))
        results.append(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in nodes
               for _ in range(threads_per_node)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "clients still waiting after 120 s"
    return results, failures


def test_concurrent_requests_through_replicas(group):
    """A replica's process sends the requests its threads make for one name at once in one forward
    and splits the master's answer in their order; a sequence whose values cannot be split (it
    cycles) goes request by request. Either way each value once, each batch consecutive, and each
    client's values in the order it asked for them. Last of the group's tests: the group has
    settled by then (while it forms, a replica replacing its workers answers "No master" for a
    moment), and the bulk tests' counts are done."""
    master, replicas = replicas_of(group)
    nodes = replicas + [master]
    results, failures = take_concurrently(replicas + replicas + [master], "/next/jt-hot", 4, 25)
    assert not failures, failures[:3]
    values = [r["next_value"] for mine in results for r in mine]
    assert sorted(values) == list(range(1, 5 * 4 * 25 + 1))
    for mine in results:
        got = [r["next_value"] for r in mine]
        assert got == sorted(got), got

    path = "/api/next-batch/jt-batch?dataType=long&batchSize=5"
    results, failures = take_concurrently(replicas, path, 6, 10)
    assert not failures, failures[:3]
    starts = sorted(int(r["startValue"]) for mine in results for r in mine)
    assert starts == list(range(1, 2 * 6 * 10 * 5 + 1, 5))
    assert all(int(r["endValue"]) == int(r["startValue"]) + 4 for mine in results for r in mine)

    reply = admin(master, "PUT", "/api/admin/sequences/jt-cycle",
                  {"type": "int", "start": 1, "min": 1, "max": 3, "cycle": True})
    assert reply.status in (200, 201), str(reply)
    results, failures = take_concurrently(replicas, "/next/jt-cycle", 6, 10)
    assert not failures, failures[:3]
    values = sorted(r["next_value"] for mine in results for r in mine)
    assert values == [1] * 40 + [2] * 40 + [3] * 40
    cluster.wait_agreement(nodes, ["jt-hot", "jt-cycle"], ["jt-batch"], [], 30)
