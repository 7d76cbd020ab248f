"""The chaos mode of tests/crash/run over three nodes in one replication group (`--cluster`).

ClusterChaos is mixed into crash/run's Run (`class ClusterRun(ClusterChaos, Run)`): the same load
(its clients spread over the three nodes: client k of each family asks node k mod 3), the same
checks after every round and at the end, with these rounds instead of the single pool's:

  kill-master-node    SIGKILL every process of the master's node (a host that dies); the two
                      others elect; the failover time is the kill to the first value answered
                      after it; then the node starts again on its data and must rejoin as a
                      replica
  kill-replica-node   the same for a replica (no election)
  stop-master-node    SIGSTOP the master's nextid processes past the election timeout: the two
                      others elect (failover time as above); then SIGCONT, and the old master
                      must rejoin as a replica
  stop-replica-node   SIGSTOP a replica's nextid processes for a moment, then SIGCONT

After each round the group must be whole again (three nodes, one master all agree on) within
GROUP_BOUND_S. At the end, besides crash/run's checks (nothing twice, order, the next value above everything
received, the audit): the next value of each sequence from every node, every node's audit, every
node answering the same state, and every answer in the gaps 503 JSON "No master" or "Not
replicated" ("Store unavailable" too from a node recovering its store after its fault; their
count in the report), never a web server's page (but for a request in flight on a node across
its own kill or stop: counted, see clusterload.check_gaps), and none missing from a node that
was up.
"""

import collections
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "cluster"))

import cluster  # noqa: E402
import clusterload  # noqa: E402
from nextid_server import StartError  # noqa: E402

CLUSTER_ACTIONS = ["kill-master-node", "kill-replica-node", "stop-master-node",
                   "stop-replica-node"]
STOP_MASTER_S = (4.0, 6.0)     # past the election timeout
STOP_REPLICA_S = (0.5, 3.0)
DOWN_S = (0.2, 1.5)            # a killed node stays down this long
FAILOVER_BOUND_S = 15          # a new master is agreed on, and a value answered, within this
GROUP_BOUND_S = 40             # the group is whole again after a round within this
SETTLED_S = 2.0                # after the rounds, whole and ready this long before the checks
CLUSTER_REQUEST_TIMEOUT_S = 3  # see pool_config


class ClusterChaos:
    """Overrides of crash/run's Run for three nodes; see the module's comment."""

    cluster = None

    def cluster_init(self):
        self.failovers = []     # (action, seconds from the fault to the first value after it)
        self.outages = {}       # node name -> [(t_from, t_to or None)]
        self.tolerated = collections.Counter()   # see clusterload.check_gaps

    # what the run is made of ------------------------------------------------------------------

    def targets(self):
        return self.cluster.nodes

    def master_logs(self):
        return [n.master_log for n in self.cluster.nodes] if self.cluster else []

    def directory(self):
        return self.cluster.base_dir

    def started(self):
        return self.cluster is not None

    def stop_all(self):
        return self.cluster.stop() if self.cluster else []

    def pool_config(self):
        """crash/run's settings, but request_timeout_s 3 (as test_failover): on a replicated node
        a request may wait for a forward's answer or a commit's acknowledgements (the 1 s ack
        timeout) after a lock wait, and the store gives up 500 ms before request_timeout_s."""
        config = super().pool_config()
        config["request_timeout_s"] = CLUSTER_REQUEST_TIMEOUT_S
        return config

    def start(self):
        self.cluster_init()
        self.cluster = cluster.Cluster(tempfile.mkdtemp(prefix="nextid-cluster-"),
                                       config=self.pool_config())
        self.say("directory %s, three nodes on 127.0.0.1:%s, %d workers each"
                 % (self.cluster.base_dir, [n.http_port for n in self.cluster.nodes],
                    self.args.workers))
        try:
            self.cluster.start()
        except cluster.ClusterError as e:
            print(self.cluster.describe())
            raise StartError(str(e))
        self.configure_prefixes(self.cluster.wait_master())
        self.wait_prefixes_everywhere()

    def wait_prefixes_everywhere(self):
        """Every node knows the prefixes before the load starts (a replica serves reads itself)."""
        prefixes = [k for f in self.families if f.name == "prefix" for k in f.keys]
        end = time.monotonic() + GROUP_BOUND_S
        for node in self.cluster.nodes:
            for p in prefixes:
                while node.get("/api/v1/config/" + cluster.q(p)).status != 200:
                    if time.monotonic() > end:
                        raise StartError("%s does not know prefix %s after %d s"
                                         % (node.name, p, GROUP_BOUND_S))
                    time.sleep(0.05)

    # rounds -----------------------------------------------------------------------------------

    def actions(self):
        return {"kill-master-node": lambda n: self.kill_node(n, True),
                "kill-replica-node": lambda n: self.kill_node(n, False),
                "stop-master-node": lambda n: self.stop_node(n, True),
                "stop-replica-node": lambda n: self.stop_node(n, False)}

    def action_names(self):
        return CLUSTER_ACTIONS

    def pick(self, master):
        m = self.cluster.wait_master(deadline_s=GROUP_BOUND_S)
        if master:
            return m
        return self.rng.choice([n for n in self.cluster.nodes if n is not m])

    def outage(self, node, begin):
        spans = self.outages.setdefault(node.name, [])
        if begin:
            spans.append((time.monotonic(), None))
        else:
            spans[-1] = (spans[-1][0], time.monotonic())

    def failover(self, action, t_fault, node, round_no):
        """Wait for a master among the other nodes and a value answered after t_fault; records
        the failover time. Returns its description."""
        others = [n for n in self.cluster.nodes if n is not node]
        try:
            new = self.cluster.wait_master(among=others, deadline_s=FAILOVER_BOUND_S)
        except cluster.ClusterError as e:
            self.violate("%s of %s: %s" % (action, node.name, e), round_no)
            return "no new master"
        end = t_fault + FAILOVER_BOUND_S
        while True:
            t_first = self.first_value_after(t_fault)
            if t_first is not None or time.monotonic() > end:
                break
            time.sleep(0.02)
        if t_first is None:
            self.violate("%s of %s: no value answered within %d s (new master %s)"
                         % (action, node.name, FAILOVER_BOUND_S, new.name), round_no)
            return "master %s, no value" % new.name
        self.failovers.append((action, t_first - t_fault))
        return "master %s, first value %.2f s after the fault" % (new.name, t_first - t_fault)

    def first_value_after(self, t):
        times = [r.t1 for f in self.families for r in self.load.snapshot(f.name)
                 if r.status == 200 and r.t0 >= t]
        return min(times) if times else None

    def kill_node(self, round_no, master):
        node = self.pick(master)
        role = "master" if master else "replica"
        self.outage(node, True)
        try:
            node.kill()
        except cluster.ClusterError as e:
            self.violate(str(e), round_no)
        text = "killed %s %s" % (role, node.name)
        if master:
            text += "; " + self.failover("kill-master-node", node.fault_at, node, round_no)
        time.sleep(self.rng.uniform(*DOWN_S))
        return text + "; " + self.restart(node, round_no)

    def restart(self, node, round_no):
        t0 = time.monotonic()
        try:
            node.start(wait_role=False, deadline_s=GROUP_BOUND_S)
            self.outage(node, False)
            role = node.wait_role(("replica",), GROUP_BOUND_S)
        except cluster.ClusterError as e:
            self.outage(node, False)
            self.violate("%s did not come back as a replica: %s" % (node.name, e), round_no)
            return "not back"
        return "%s back as %s after %.2f s; %s" % (node.name, role, time.monotonic() - t0,
                                                   self.whole(round_no))

    def stop_node(self, round_no, master):
        node = self.pick(master)
        role = "master" if master else "replica"
        seconds = self.rng.uniform(*(STOP_MASTER_S if master else STOP_REPLICA_S))
        self.outage(node, True)
        node.pause()
        text = "stopped %s %s for %.1f s" % (role, node.name, seconds)
        try:
            if master:
                text += "; " + self.failover("stop-master-node", node.fault_at, node, round_no)
            time.sleep(max(0.0, node.fault_at + seconds - time.monotonic()))
        finally:
            node.resume()
            self.outage(node, False)
        if master:
            try:
                node.wait_role(("replica",), GROUP_BOUND_S)
            except cluster.ClusterError as e:
                self.violate("%s resumed but not a replica: %s" % (node.name, e), round_no)
                node.dump_stacks("round %d: resumed but not a replica" % round_no)
        return text + "; resumed; " + self.whole(round_no)

    def whole(self, round_no):
        """The three nodes agree on one master again (bounded)."""
        try:
            m = self.cluster.wait_master(among=self.cluster.nodes, deadline_s=GROUP_BOUND_S)
            return "group whole, master %s" % m.name
        except cluster.ClusterError as e:
            self.violate("the group is not whole again: %s" % e, round_no)
            return "group not whole"

    # final checks -----------------------------------------------------------------------------

    def wait_full_strength(self):
        """The group whole (one master all three name) and ready on every node, and still so
        SETTLED_S later: a node may start a recovery just after the last round."""
        end = time.monotonic() + GROUP_BOUND_S
        settled_since, master = None, None
        while True:
            try:
                m = self.cluster.wait_master(among=self.cluster.nodes,
                                             deadline_s=max(0.1, end - time.monotonic()))
                ready = all(n.get("/health/ready", timeout=2).status == 200
                            for n in self.cluster.nodes)
            except (cluster.ClusterError, OSError) as e:
                self.violate("after the last round: %s" % e)
                return
            now = time.monotonic()
            if not ready or m is not master or settled_since is None:
                settled_since, master = (now if ready else None), m
            elif now - settled_since >= SETTLED_S:
                return
            if now > end:
                self.violate("after the last round: the group did not settle within %d s"
                             % GROUP_BOUND_S)
                return
            time.sleep(0.1)

    def final_value(self, family, key, srv=None):
        """The next value from every node: the smallest (each must be above all received)."""
        values = []
        for node in self.cluster.nodes:
            v = super().final_value(family, key, node)
            if v is not None:
                values.append(v)
        return min(values) if values else None

    def check_audit(self, prefix, received, srv=None):
        # A replica's reads may lag (it catches up): the nodes agree on the prefix first.
        try:
            cluster.wait_agreement(self.cluster.nodes, [], [], [prefix], 30)
        except cluster.ClusterError as e:
            self.violate(str(e))
        records = None
        for node in self.cluster.nodes:
            records = super().check_audit(prefix, received, node)
        return records

    def final_checks(self):
        summary = super().final_checks()
        self.check_gaps()
        names = {f.name: f.keys for f in self.families}
        try:
            cluster.wait_agreement(self.cluster.nodes, names.get("next", []),
                                   names.get("batch", []), names.get("prefix", []), 30)
        except cluster.ClusterError as e:
            self.violate(str(e))
        return summary

    def check_gaps(self):
        nodes = self.cluster.nodes
        for f in self.families:
            bad = {}
            for r in self.load.snapshot(f.name):
                node = nodes[r.node]
                if r.status in (200, -1):
                    continue
                spans = self.outages.get(node.name, [])

                def in_outage(grace):
                    return any(r.t1 >= lo and (hi is None or r.t0 <= hi + grace)
                               for lo, hi in spans)
                error = r.json.get("error") if isinstance(r.json, dict) else None
                if r.status == 0:
                    if not in_outage(0.0):
                        bad.setdefault("%s: no answer while it was up" % node.name, r)
                elif r.web and in_outage(0.0):
                    self.tolerated["%s: web server's %d in flight across its own fault"
                                   % (node.name, r.status)] += 1
                elif r.web:
                    bad.setdefault("%s: a web server's page (%d)" % (node.name, r.status), r)
                elif r.status != 503 or error is None:
                    bad.setdefault("%s: status %d, %r" % (node.name, r.status, r.json), r)
                elif error not in clusterload.GAP_ERRORS and not (
                        error == clusterload.RECOVERING_ERROR and
                        in_outage(clusterload.RECOVERY_GRACE_S)):
                    bad.setdefault("%s: 503 %r" % (node.name, error), r)
            for what, r in sorted(bad.items()):
                self.violate("%s: %s, first at %.2f s" % (f.name, what, r.t0 - self.t_start))

    def report(self, summary):
        super().report(summary)
        values, gaps = 0, collections.Counter()
        for f in self.families:
            for r in self.load.snapshot(f.name):
                if r.status == 200:
                    values += (r.hi - r.lo + 1) if f.name == "batch" else 1
                elif r.status == 503 and isinstance(r.json, dict):
                    gaps[str(r.json.get("error"))] += 1
        print("answers in the gaps: %s" % (", ".join("503 %s: %d" % kv for kv in
                                                     sorted(gaps.items())) or "none"))
        if self.tolerated:
            print("tolerated: %s" % ", ".join("%s %d" % kv for kv in
                                              sorted(self.tolerated.items())))
        times = sorted(t for _, t in self.failovers)
        print("cluster: %d rounds, %d values checked on 3 nodes; failovers: %d%s"
              % (sum(self.rounds.values()), values, len(times),
                 ", median %.2f s, worst %.2f s (%s)" % (
                     statistics.median(times), times[-1],
                     " ".join("%.2f" % t for t in times)) if times else ""))
