"""Failover under load: the master killed, the new master stopped past the election timeout, the
dead node back, and never a value twice.

Clients on all three nodes (`/next`, a batch family, a formatted prefix) run throughout while:
  1. the master is killed with SIGKILL (every process of its node at once, a host that dies);
     the two others elect a new master and carry on;
  2. the new master is stopped (SIGSTOP of its nextid processes) past the election timeout, then
     resumed: the one node left cannot elect alone and answers 503 meanwhile;
  3. the dead node starts again on its data and rejoins as a replica;
  4. with all three back, the master is stopped past the election timeout once more: this time
     the two others elect, and the stopped one, resumed, rejoins as a replica.
Afterwards: no value was received twice across all nodes and families; one more value from each
node is above all of them; every formatted number received is in every node's audit exactly
once; every node answers the same statuses and audit; every answer in the gaps was 503 JSON
("No master" or "Not replicated"), never a web server's page (but for a request in flight on a
node across its own stop, see clusterload.check_gaps), and no running node left a request
unanswered past request_timeout_s.
"""

import collections
import time

import pytest

import cluster
import clusterload

REQUEST_TIMEOUT_S = 3
CLIENT_TIMEOUT_S = REQUEST_TIMEOUT_S + 3   # a request past this counts as hung
LOAD_S = 2.0                                # load between two faults
STOP_S = 6.0                                # SIGSTOP this long: past the election timeout
FAILOVER_BOUND_S = 15                       # a new master is agreed on within this


pytestmark = pytest.mark.slow


class Outages:
    """When each node was down or stopped: {name: [(t_from, t_to or None)]}."""

    def __init__(self):
        self.spans = {}
        self.wall = []      # what happened when, in UTC, to read beside the nodes' logs

    def begin(self, node, what):
        self.spans.setdefault(node.name, []).append((time.monotonic(), None))
        self.wall.append("%s %s %s" % (time.strftime("%H:%M:%S", time.gmtime()), what,
                                       node.name))

    def end(self, node, what):
        lo, _ = self.spans[node.name][-1]
        self.spans[node.name][-1] = (lo, time.monotonic())
        self.wall.append("%s %s %s" % (time.strftime("%H:%M:%S", time.gmtime()), what,
                                       node.name))


def stop_past_election(c, node, outages):
    """SIGSTOP node's nextid processes for STOP_S, then SIGCONT."""
    outages.begin(node, "SIGSTOP")
    node.pause()
    time.sleep(STOP_S)
    node.resume()
    outages.end(node, "SIGCONT")


def test_failover(make_cluster):
    c = make_cluster(config={"request_timeout_s": REQUEST_TIMEOUT_S})
    first = c.wait_master()
    assert first is c.nodes[0], c.roles()          # the group's creator, highest priority
    reply = clusterload.configure_prefix(first)
    assert reply.status in (200, 201), str(reply)

    outages = Outages()
    load = clusterload.ClusterLoad(c.nodes, CLIENT_TIMEOUT_S).start()
    events = []
    try:
        time.sleep(LOAD_S)
        before = len(load.ok())
        assert before > 0, load.summary()

        # 1. kill the master: every process of its node
        outages.begin(first, "SIGKILL")
        first.kill()
        t_kill = first.fault_at
        second = c.wait_master(among=[n for n in c.nodes if n is not first],
                               deadline_s=FAILOVER_BOUND_S)
        time.sleep(LOAD_S)
        t_first = load.first_value_after(t_kill)
        assert t_first is not None, "no value after the kill: %r" % load.summary()
        events.append("kill %s -> %s master, first value after %.2f s"
                      % (first.name, second.name, t_first - t_kill))

        # 2. stop the new master past the election timeout: the last node cannot elect alone
        stop_past_election(c, second, outages)
        survivor = [n for n in c.nodes if n not in (first, second)][0]
        c.wait_master(among=[second, survivor], deadline_s=FAILOVER_BOUND_S)
        time.sleep(LOAD_S)

        # 3. the dead node comes back on its data, as a replica
        first.start(wait_role=False)
        outages.end(first, "started")
        first.wait_role(("replica",), cluster.START_DEADLINE_S)
        third = c.wait_master(deadline_s=FAILOVER_BOUND_S)
        time.sleep(LOAD_S)

        # 4. all three up: stop the master past the election timeout; the two others elect
        outages.begin(third, "SIGSTOP")
        third.pause()
        t_stop = third.fault_at
        fourth = c.wait_master(among=[n for n in c.nodes if n is not third],
                               deadline_s=FAILOVER_BOUND_S)
        t_elected = time.monotonic()
        time.sleep(max(0.0, STOP_S - (t_elected - t_stop)))
        third.resume()
        outages.end(third, "SIGCONT")
        events.append("stopped %s -> %s master after %.2f s" % (third.name, fourth.name,
                                                                t_elected - t_stop))
        assert third.wait_role(("replica",), FAILOVER_BOUND_S) == "replica"
        c.wait_master(deadline_s=FAILOVER_BOUND_S)
        time.sleep(LOAD_S)
    finally:
        load.stop()
    print("events: %s" % events)
    print("faults (UTC): %s" % "; ".join(outages.wall))
    print("answers: %r" % load.summary())

    answers = load.snapshot()
    for family in clusterload.FAMILIES:
        assert load.ok(family), "no %s value received at all: %r" % (family, load.summary())
    problems = clusterload.check_duplicates(answers)
    tolerated = collections.Counter()
    problems += clusterload.check_gaps(answers, outages.spans, tolerated)
    print("tolerated: %r" % dict(tolerated))
    # the nodes agree first (a replica's reads may lag: it catches up), then every node's audit
    problems += clusterload.check_agreement(c.nodes)
    problems += clusterload.check_above(c.nodes, answers)
    problems += clusterload.check_audit(c.nodes, answers)
    assert not problems, "\n".join(problems)
