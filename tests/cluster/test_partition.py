"""A master cut off from the others while its clients still reach it must never hand out a value:
its commits cannot be acknowledged by a quorum, so it answers 503, and once the link heals the
group agrees and no value repeats.

Two ways to cut it off:
  - both replicas stopped (SIGSTOP of their nextid processes);
  - a cut link: the master runs in a network namespace of its own (created here with `ip netns`,
    two veth pairs: 10.204.0.0/30 carries replication, 10.204.0.4/30 the clients' HTTP), and the
    replication link goes down while the clients' link stays up. Needs root (skipped otherwise).
"""

import os
import shutil
import subprocess
import time
import uuid

import pytest

import cluster
import clusterload

REQUEST_TIMEOUT_S = 3
CUT_S = 5.0              # how long the master stays cut off
HEAL_BOUND_S = 30        # the group agrees again within this

pytestmark = pytest.mark.slow


def probe_cut_master(master, seconds):
    """Ask the cut-off master for values of every family for `seconds`; returns its answers as
    (family, status, error or body)."""
    out = []
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        family = clusterload.FAMILIES[i % len(clusterload.FAMILIES)]
        i += 1
        method, path = clusterload.family_request(family, 1)
        t0 = time.monotonic()
        reply = master.request(method, path, timeout=REQUEST_TIMEOUT_S + 3)
        elapsed = time.monotonic() - t0
        err = None
        if reply.headers.get("content-type") == "application/json":
            err = reply.json().get("error")
        out.append((family, reply.status, err if err is not None else reply.body[:120],
                    round(elapsed, 2)))
    return out


def values_before(c):
    """One value of each family from every node before the cut: (family, value) pairs."""
    return [(f, clusterload.next_value(n, f)) for n in c.nodes for f in clusterload.FAMILIES]


def check_healed(c, seen):
    """After the link heals: one master all agree on, every node's next value above every value
    seen, and every node the same state."""
    c.wait_master(deadline_s=HEAL_BOUND_S)
    problems = []
    for node in c.nodes:
        for family in clusterload.FAMILIES:
            v = clusterload.next_value(node, family, deadline_s=HEAL_BOUND_S)
            top = max(val for f, val in seen if f == family)
            if v <= top:
                problems.append("%s %s after the heal: %d, not above %d" % (node.name, family,
                                                                            v, top))
            seen.append((family, v))
    problems += clusterload.check_agreement(c.nodes, HEAL_BOUND_S)
    return problems


def check_cut_answers(answers):
    """Every answer of the cut master: 503 JSON No master / Not replicated, within the bound."""
    bad = [a for a in answers if a[1] != 503 or a[2] not in clusterload.GAP_ERRORS or
           a[3] > REQUEST_TIMEOUT_S + 1]
    assert answers, "the cut master was never asked"
    assert not bad, "the cut-off master answered: %r (all: %d)" % (bad[:5], len(answers))


def test_partition_replicas_stopped(make_cluster):
    c = make_cluster(config={"request_timeout_s": REQUEST_TIMEOUT_S})
    master = c.wait_master()
    assert clusterload.configure_prefix(master).status in (200, 201)
    seen = values_before(c)
    replicas = [n for n in c.nodes if n is not master]
    for r in replicas:
        r.pause()
    try:
        answers = probe_cut_master(master, CUT_S)
    finally:
        for r in replicas:
            r.resume()
    print("cut master answered: %r" % answers[:6])
    check_cut_answers(answers)
    problems = check_healed(c, seen)
    assert not problems, "\n".join(problems)


# The cut link ---------------------------------------------------------------------------------

NET_REPL_HOST, NET_REPL_NS = "10.204.0.1", "10.204.0.2"
NET_HTTP_HOST, NET_HTTP_NS = "10.204.0.5", "10.204.0.6"
NET_GUARD = "10.204.0.0/24"


def ip(*args):
    subprocess.run(["ip"] + list(args), check=True, capture_output=True, timeout=10)


class Netns:
    """A namespace with two veth pairs to the host: repl (10.204.0.1 host, .2 inside) and http
    (10.204.0.5 host, .6 inside). Removed by close() (which removes the veths with it)."""

    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.name = "nextid-" + tag
        self.repl_host, self.repl_ns = "nxr%s" % tag, "nxr%sn" % tag
        self.http_host, self.http_ns = "nxh%s" % tag, "nxh%sn" % tag
        ip("netns", "add", self.name)
        self.guard = False
        try:
            # While a link is down its addresses must go nowhere (not out of the default route):
            # a blackhole behind the links' own routes.
            ip("route", "add", "blackhole", NET_GUARD, "metric", "4000")
            self.guard = True
            ip("-n", self.name, "link", "set", "lo", "up")
            for host_end, ns_end, host_addr, ns_addr in (
                    (self.repl_host, self.repl_ns, NET_REPL_HOST, NET_REPL_NS),
                    (self.http_host, self.http_ns, NET_HTTP_HOST, NET_HTTP_NS)):
                ip("link", "add", host_end, "type", "veth", "peer", "name", ns_end)
                ip("link", "set", ns_end, "netns", self.name)
                ip("addr", "add", host_addr + "/30", "dev", host_end)
                ip("-n", self.name, "addr", "add", ns_addr + "/30", "dev", ns_end)
                ip("link", "set", host_end, "up")
                ip("-n", self.name, "link", "set", ns_end, "up")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.close()
            raise

    def cut(self):
        """The namespace's end of the replication link goes down: no packet crosses it, in
        either direction, and no connection is refused either (a pulled cable)."""
        ip("-n", self.name, "link", "set", self.repl_ns, "down")

    def heal(self):
        ip("-n", self.name, "link", "set", self.repl_ns, "up")

    def close(self):
        for link in (self.repl_host, self.http_host):
            subprocess.run(["ip", "link", "del", link], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)
        if self.guard:
            subprocess.run(["ip", "route", "del", "blackhole", NET_GUARD, "metric", "4000"],
                           capture_output=True, timeout=10)


def netns_unavailable():
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add); run as root to cut a real link"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is missing"
    return None


@pytest.fixture
def netns():
    why = netns_unavailable()
    if why:
        pytest.skip(why)
    try:
        n = Netns()
    except subprocess.CalledProcessError as e:
        pytest.skip("cannot create a network namespace here: %s" % e.stderr.decode().strip())
    yield n
    n.close()


def test_partition_cut_link(netns, make_cluster):
    """node1 (the creator, highest priority: the master) inside the namespace: replication on
    10.204.0.2, HTTP on 10.204.0.6; node2 and node3 on the host: replication on 10.204.0.1,
    HTTP on 127.0.0.1."""
    c = make_cluster(config={"request_timeout_s": REQUEST_TIMEOUT_S},
                     hosts=[NET_REPL_NS, NET_REPL_HOST, NET_REPL_HOST],
                     http_hosts=[NET_HTTP_NS, cluster.LOCALHOST, cluster.LOCALHOST],
                     netns=[netns.name, None, None])
    inside = c.nodes[0]
    master = c.wait_master()
    assert master is inside, c.roles()
    assert clusterload.configure_prefix(master).status in (200, 201)
    seen = values_before(c)
    netns.cut()
    try:
        answers = probe_cut_master(master, CUT_S)
        others = [n for n in c.nodes if n is not master]
        # The two others may elect a new master meanwhile: whoever they name, the cut one
        # must not have handed out a value.
        for n in others:
            for family in clusterload.FAMILIES:
                try:
                    r = n.request(*clusterload.family_request(family, 1),
                                  timeout=REQUEST_TIMEOUT_S + 3)
                except OSError:
                    continue
                if r.status == 200:
                    seen.append((family, clusterload.read_values(family, r.json(), 1)[0]))
    finally:
        netns.heal()
    print("cut master answered: %r" % answers[:6])
    check_cut_answers(answers)
    problems = check_healed(c, seen)
    assert not problems, "\n".join(problems)
