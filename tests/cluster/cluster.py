"""Three nextid nodes in one replication group, for tests, `make run-cluster`, the chaos mode of
tests/crash/run and `make bench`.

A Node is one host's worth of nextid: its own directory (nextid.conf, lighttpd.conf, socket,
data, logs), an HTTP port and a replication address, the nextid-fcgi master (socket mode) and a
lighttpd in front of it. Every process of a node names the node's directory in its command line
(`nextid-fcgi --config DIR/nextid.conf --socket DIR/nextid.sock`, which its workers, housekeeper
and helpers inherit; `lighttpd -D -f DIR/lighttpd.conf`), so `ps` tells the nodes apart.

A node may run inside a network namespace (netns): its processes are started through
`ip netns exec`, and it listens on the namespace's address instead of 127.0.0.1 (the partition
test cuts its link to the others).

A Cluster starts its nodes one after another, the group creator first (each node waits until it
knows its role before the next starts: two sites joining at once can leave the group unable to
elect), and finds the master through each node's /health. Only pids the harness started or
listed as children of its masters are ever signalled.
"""

import collections
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "http"))
sys.dont_write_bytecode = True

import nextid_server as ns  # noqa: E402

LOCALHOST = "127.0.0.1"
START_DEADLINE_S = 20      # one node: socket, lighttpd and a known role
GROUP_DEADLINE_S = 30      # the whole group: one master, the others its replicas
STOP_DEADLINE_S = 10
HTTP_TIMEOUT_S = 10
TOKEN = "cluster-T0ken-0123456789abcdef"
AUTH = {"Authorization": "Bearer " + TOKEN}
ROLES = ("master", "replica", "electing")
# Every test's defaults: two workers a node (three nodes share two cores), the admin token, and
# a request bound the clients can wait for.
TEST_CONFIG = {"workers": 2, "admin_token": TOKEN, "request_timeout_s": 3, "log_level": "info"}


class ClusterError(Exception):
    pass


def q(name):
    return urllib.parse.quote(name, safe="")


def http_request(host, port, method, path, headers=None, body=None, timeout=HTTP_TIMEOUT_S):
    """One request on a fresh connection: an nextid_server.Reply."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {}
        for name, value in resp.getheaders():
            name = name.lower()
            hdrs[name] = hdrs[name] + ", " + value if name in hdrs else value
        reply = ns.Reply(resp.status, hdrs, data)
    finally:
        conn.close()
    reply.method, reply.path = method, path
    return reply


def free_ports(count, host=LOCALHOST):
    """count distinct ports on host that nobody listened on a moment ago."""
    socks, ports = [], []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def descendants(pid):
    """Every process below pid (children, their children, ...), from /proc."""
    out, todo = [], [pid]
    while todo:
        kids = ns.children(todo.pop())
        out += kids
        todo += kids
    return out


def signal_pids(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


class Node:
    """One nextid node: nextid-fcgi (socket mode) behind lighttpd, in directory dir.

    name: node1, node2, ...; http_port, repl_port: its ports on host; peers: the other members'
    replication addresses (HOST:PORT); settings: every other nextid.conf key. netns: the network
    namespace its processes run in (None: the host's); host: its replication address's host, and
    its HTTP's unless http_host says otherwise."""

    def __init__(self, name, directory, http_port, repl_port, peers, settings, host=LOCALHOST,
                 netns=None, env=None, http_host=None):
        self.name = name
        self.dir = os.path.abspath(directory)
        self.repl_host, self.netns = host, netns
        self.host = http_host or host     # where its lighttpd listens
        self.http_port, self.repl_port = http_port, repl_port
        self.peers = list(peers)
        self.env = dict(env or {})
        self.data_dir = os.path.join(self.dir, "data")
        self.docroot = os.path.join(self.dir, "docroot")
        self.socket_path = os.path.join(self.dir, "nextid.sock")
        self.conf_path = os.path.join(self.dir, "nextid.conf")
        self.web_conf_path = os.path.join(self.dir, "lighttpd.conf")
        self.master_log = os.path.join(self.dir, "master.log")
        self.web_log = os.path.join(self.dir, "lighttpd.out")
        self.error_log = os.path.join(self.dir, "lighttpd-error.log")
        self.settings = dict(settings)
        self.master = None       # Popen of nextid-fcgi
        self.web = None          # Popen of lighttpd
        self.seen_pids = set()   # every process of this node ever listed
        self.stopped = False     # SIGSTOPped by the harness
        self.fault_at = None     # when the last kill() or pause() had sent its signals
        os.makedirs(self.docroot, exist_ok=True)

    @property
    def repl_address(self):
        return "%s:%d" % (self.repl_host, self.repl_port)

    # configuration ---------------------------------------------------------------------------

    def write_config(self, **changes):
        self.settings.update(changes)
        with open(self.conf_path, "w", encoding="utf-8") as f:
            f.write(ns.render_nextid_conf(self.settings))

    def _write_web_conf(self):
        text = ns.render_lighttpd_conf(self.http_port, self.docroot, self.socket_path,
                                       self.error_log, "")
        text = text.replace('server.bind = "127.0.0.1"', 'server.bind = "%s"' % self.host)
        with open(self.web_conf_path, "w", encoding="utf-8") as f:
            f.write(text)

    def _prefix(self):
        return ["ip", "netns", "exec", self.netns] if self.netns else []

    # start and stop --------------------------------------------------------------------------

    def start(self, wait_role=True, deadline_s=START_DEADLINE_S):
        """nextid-fcgi, then lighttpd; then wait until /health answers and (wait_role) names a
        role."""
        self.start_master()
        self.start_web()
        self.wait_live(deadline_s)
        if wait_role:
            self.wait_role(ROLES, deadline_s)
        return self

    def start_master(self, wait=True):
        """nextid-fcgi; wait: until its socket accepts (fails if it exits first)."""
        if not os.access(ns.FCGI, os.X_OK):
            raise ClusterError("%s is missing: run make first" % ns.FCGI)
        env = dict(os.environ)
        env.update(self.env)
        with open(self.master_log, "ab") as log:
            log.write(b"--- harness: starting nextid-fcgi\n")
            self.master = subprocess.Popen(
                self._prefix() + [ns.FCGI, "--config", self.conf_path, "--socket",
                                  self.socket_path],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, cwd=self.dir)
        self.seen_pids.add(self.master.pid)
        end = time.monotonic() + START_DEADLINE_S
        while wait and not self._socket_accepts():
            if self.master.poll() is not None:
                self.fail("nextid-fcgi exited with status %d before its socket appeared"
                          % self.master.returncode)
            if time.monotonic() > end:
                self.fail("no listening socket at %s after %d s" % (self.socket_path,
                                                                    START_DEADLINE_S))
            time.sleep(0.02)

    def _socket_accepts(self):
        if not os.path.exists(self.socket_path):
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            try:
                s.connect(self.socket_path)
            except OSError:
                return False
        return True

    def start_web(self):
        self._write_web_conf()
        with open(self.web_log, "ab") as log:
            log.write(b"--- harness: starting lighttpd\n")
            self.web = subprocess.Popen(self._prefix() + [ns.lighttpd_binary(), "-D", "-f",
                                                          self.web_conf_path],
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                        cwd=self.dir)
        self.seen_pids.add(self.web.pid)

    def wait_live(self, deadline_s=START_DEADLINE_S):
        end = time.monotonic() + deadline_s
        last = None
        while time.monotonic() < end:
            for what, proc in (("lighttpd", self.web), ("nextid-fcgi", self.master)):
                if proc is not None and proc.poll() is not None:
                    self.fail("%s exited with status %d" % (what, proc.returncode))
            try:
                reply = self.get("/health/live", timeout=2)
                if reply.status == 200:
                    return
                last = str(reply)
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.05)
        self.fail("/health/live did not answer 200 within %d s (last: %s)" % (deadline_s, last))

    def pids(self):
        """The node's live processes: lighttpd, the master and everything below it."""
        out = []
        for proc in (self.web, self.master):
            if proc is not None and proc.poll() is None:
                out.append(proc.pid)
                out += descendants(proc.pid)
        self.seen_pids.update(out)
        return out

    def nextid_pids(self):
        """The master and everything below it (workers, housekeeper, helpers)."""
        if self.master is None or self.master.poll() is not None:
            return []
        out = [self.master.pid] + descendants(self.master.pid)
        self.seen_pids.update(out)
        return out

    def dump_stacks(self, why):
        """Write every nextid process's thread stacks (gdb, when installed) to stacks-<pid>.txt in
        the node's directory, to read where a node that failed a check was waiting. Bounded:
        at most 30 s a process. Returns the files written."""
        if not shutil.which("gdb"):
            return []
        written = []
        for pid in self.nextid_pids():
            path = os.path.join(self.dir, "stacks-%d.txt" % pid)
            try:
                out = subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx",
                                      "-ex", "thread apply all bt"],
                                     capture_output=True, text=True, timeout=30).stdout
            except (OSError, subprocess.TimeoutExpired):
                continue
            with open(path, "w") as f:
                f.write("%s\n%s: %s\n%s" % (why, pid, cmdline(pid), out))
            written.append(path)
        return written

    def kill(self):
        """SIGKILL every process of the node at once (a host that dies), and wait until they are
        gone (5 s at most). Returns the pids killed."""
        pids = self.pids()
        signal_pids(pids, signal.SIGKILL)
        self.fault_at = time.monotonic()
        for proc in (self.web, self.master):
            if proc is not None:
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        if not ns.wait_gone(pids, 5):
            raise ClusterError("%s: processes still run after SIGKILL: %r"
                               % (self.name, [p for p in pids if ns.is_running(p)]))
        self.master = self.web = None
        self.stopped = False
        return pids

    def pause(self):
        """SIGSTOP every nextid process of the node (the web server keeps accepting: the host
        is alive, nextid hangs). Returns the pids stopped."""
        pids = self.nextid_pids()
        signal_pids(pids, signal.SIGSTOP)
        self.fault_at = time.monotonic()
        self.stopped = True
        return pids

    def resume(self):
        signal_pids(self.nextid_pids(), signal.SIGCONT)
        self.stopped = False

    def stop(self):
        """Stop what this node started: lighttpd, then nextid-fcgi (SIGTERM, SIGKILL after the
        deadline); a leftover process of the node is killed. Returns the leftovers."""
        if self.stopped:
            self.resume()
        self.pids()
        for proc in (self.web, self.master):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(STOP_DEADLINE_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.web = self.master = None
        ours = [p for p in self.seen_pids if ns.is_running(p) and
                self.dir in cmdline(p)]
        ns.wait_gone(ours, 2)
        leftovers = [p for p in ours if ns.is_running(p)]
        signal_pids(leftovers, signal.SIGKILL)
        self.seen_pids.clear()
        return leftovers

    def running(self):
        return self.master is not None and self.master.poll() is None

    # HTTP ----------------------------------------------------------------------------------

    def request(self, method, path, headers=None, body=None, timeout=HTTP_TIMEOUT_S):
        return http_request(self.host, self.http_port, method, path, headers, body, timeout)

    def get(self, path, headers=None, timeout=HTTP_TIMEOUT_S):
        return self.request("GET", path, headers, None, timeout)

    def health(self, timeout=2):
        """/health's JSON, or None when the node does not answer it with 200 JSON."""
        try:
            reply = self.get("/health", timeout=timeout)
            if reply.status != 200:
                return None
            return reply.json()
        except (OSError, http.client.HTTPException, ValueError):
            return None

    def replication(self, timeout=2):
        """/health's "replication" object ({"role", "master"}) or None."""
        h = self.health(timeout)
        return h.get("replication") if isinstance(h, dict) else None

    def role(self, timeout=2):
        r = self.replication(timeout)
        return r.get("role") if isinstance(r, dict) else None

    def wait_role(self, roles, deadline_s):
        end = time.monotonic() + deadline_s
        while True:
            role = self.role()
            if role in roles:
                return role
            if time.monotonic() > end:
                self.fail("/health names no role in %r within %d s (last: %r)"
                          % (roles, deadline_s, self.health()))
            time.sleep(0.1)

    def metrics(self):
        """/metrics as {name or name{labels}: float}."""
        reply = self.get("/metrics")
        out = {}
        for line in reply.body.decode("utf-8", "replace").splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                try:
                    out[key] = float(value)
                except ValueError:
                    pass
        return out

    def nextidctl(self, *args, check=True, timeout=30):
        cmd = self._prefix() + [ns.CTL, "--config", self.conf_path] + [str(a) for a in args]
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout)
        proc.stdout = proc.stdout.decode("utf-8", "replace")
        proc.stderr = proc.stderr.decode("utf-8", "replace")
        if check and proc.returncode != 0:
            raise AssertionError("%s exited %d: %s" % (" ".join(cmd), proc.returncode,
                                                       proc.stderr))
        return proc

    # failure reports -----------------------------------------------------------------------

    def fail(self, why):
        print(self.describe())
        raise ClusterError("%s: %s; see the config and logs printed above, in %s"
                           % (self.name, why, self.dir))

    def describe(self):
        parts = []
        for title, path in (("nextid.conf", self.conf_path),
                            ("nextid-fcgi stderr", self.master_log),
                            ("lighttpd stdout/stderr", self.web_log),
                            ("lighttpd error log", self.error_log)):
            parts.append("===== %s %s (%s)\n%s" % (self.name, title, path,
                                                    ns._tail(path, 6000)))
        return "\n".join(parts)


def node_settings(index, http_port, repl_address, peers, creator, extra=None):
    """nextid.conf of node index (1-based) of a group: its shard_id, its replication address and
    peers, its priority (node1 highest), quorum acks. creator: this node creates the group."""
    settings = collections.OrderedDict()
    settings["shard_id"] = index
    settings["replication_address"] = repl_address
    settings["replication_peers"] = " ".join(peers)
    settings["replication_priority"] = max(1, 110 - 10 * index)
    settings["replication_ack_policy"] = "quorum"
    settings["replication_ack_timeout_ms"] = 1000
    if creator:
        settings["replication_group_creator"] = "yes"
    settings.update(extra or {})
    return settings


class Cluster:
    """size nodes under base_dir/node1..N, on free ports of 127.0.0.1 (or the ports given),
    node1 the group's creator. config: extra nextid.conf keys for every node. hosts: each node's
    replication host (default 127.0.0.1), http_hosts its HTTP host (default: the same), netns
    the namespace each runs in (default none)."""

    def __init__(self, base_dir, size=3, config=None, http_ports=None, repl_ports=None,
                 env=None, hosts=None, netns=None, http_hosts=None):
        self.base_dir = os.path.abspath(base_dir)
        os.makedirs(self.base_dir, exist_ok=True)
        hosts = hosts or [LOCALHOST] * size
        http_hosts = http_hosts or list(hosts)
        netns = netns or [None] * size
        http_ports = http_ports or free_ports(size)
        repl_ports = repl_ports or free_ports(size)
        addresses = ["%s:%d" % (h, p) for h, p in zip(hosts, repl_ports)]
        self.config = dict(config or {})
        self.env = dict(env or {})
        self.nodes = []
        for i in range(size):
            name = "node%d" % (i + 1)
            directory = os.path.join(self.base_dir, name)
            peers = [a for j, a in enumerate(addresses) if j != i]
            settings = collections.OrderedDict(data_dir=os.path.join(directory, "data"),
                                               socket=os.path.join(directory, "nextid.sock"))
            settings.update(node_settings(i + 1, http_ports[i], addresses[i], peers, i == 0,
                                          self.config))
            node = Node(name, directory, http_ports[i], repl_ports[i], peers, settings,
                        host=hosts[i], netns=netns[i], env=self.env, http_host=http_hosts[i])
            node.write_config()
            self.nodes.append(node)

    def add_node(self, shard_id=None, config=None):
        """One more node (empty data), peers: every current member; not started. The current
        members do not list it: it joins through them."""
        i = len(self.nodes)
        name = "node%d" % (i + 1)
        directory = os.path.join(self.base_dir, name)
        http_port, repl_port = free_ports(2)
        address = "%s:%d" % (LOCALHOST, repl_port)
        peers = [n.repl_address for n in self.nodes]
        settings = collections.OrderedDict(data_dir=os.path.join(directory, "data"),
                                           socket=os.path.join(directory, "nextid.sock"))
        extra = dict(self.config)
        extra.update(config or {})
        settings.update(node_settings(i + 1, http_port, address, peers, False, extra))
        if shard_id is not None:
            settings["shard_id"] = shard_id
        node = Node(name, directory, http_port, repl_port, peers, settings, env=self.env)
        node.write_config()
        self.nodes.append(node)
        return node

    def start(self):
        """Each node in turn, the creator first, each known as master or replica before the
        next starts; then the group settles."""
        for node in self.nodes:
            node.start(wait_role=False)
            node.wait_role(("master", "replica"), START_DEADLINE_S)
        return self.wait_group()

    def start_or_stop(self):
        """start(); when the group does not form, print every node's config and log tail, stop
        what started, and raise the ClusterError."""
        try:
            return self.start()
        except ClusterError:
            print(self.describe())
            self.stop()
            raise

    def live(self):
        return [n for n in self.nodes if n.running() and not n.stopped]

    def roles(self):
        return {n.name: n.role() for n in self.nodes}

    def wait_master(self, among=None, deadline_s=GROUP_DEADLINE_S, not_node=None):
        """The node that says it is master and that every other node of `among` (default: the
        running, not stopped ones) names as master; waits deadline_s at most."""
        end = time.monotonic() + deadline_s
        last = None
        while True:
            nodes = among if among is not None else self.live()
            reps = {n.name: n.replication() for n in nodes}
            masters = [n for n in nodes if (reps[n.name] or {}).get("role") == "master"]
            if len(masters) == 1 and masters[0] is not not_node:
                m = masters[0]
                if all((reps[n.name] or {}).get("role") == "replica" and
                       reps[n.name].get("master") == m.repl_address for n in nodes if n is not m):
                    return m
            last = reps
            if time.monotonic() > end:
                raise ClusterError("no master all of %s agree on within %d s: %r"
                                   % ([n.name for n in nodes], deadline_s, last))
            time.sleep(0.05)

    def wait_group(self, deadline_s=GROUP_DEADLINE_S):
        return self.wait_master(deadline_s=deadline_s)

    def master_node(self):
        for n in self.live():
            if n.role() == "master":
                return n
        return None

    def stop(self):
        """Every node, replicas first (a master stopped first would make them elect);
        returns the leftovers killed."""
        leftovers = []
        order = sorted(self.nodes, key=lambda n: n.role(timeout=1) == "master")
        for node in order:
            leftovers += node.stop()
        return leftovers

    def describe(self):
        return "\n".join(n.describe() for n in self.nodes)

    def cleanup(self):
        shutil.rmtree(self.base_dir, ignore_errors=True)


# What every node should agree on once the load has stopped -----------------------------------

def state_of(node, names, entities, prefixes):
    """A node's view of the sequences: /api/status of each name and entity, /api/v1/status and
    the whole audit of each prefix (admin)."""
    out = {}
    for n in list(names) + list(entities):
        r = node.get("/api/status/" + q(n))
        out["status " + n] = (r.status, r.body)
    for p in prefixes:
        r = node.get("/api/v1/status/" + q(p))
        body = r.body
        if r.status == 200:
            try:
                body = json.loads(r.body)
            except ValueError:
                pass
        out["prefix " + p] = (r.status, body)
        out["audit " + p] = audit(node, p)
    return out


def audit(node, prefix, page=1000):
    """Every audit record of prefix, paged; a (status, body) pair when a page fails."""
    records, after = [], None
    for _ in range(10000):
        query = "?limit=%d" % page + ("" if after is None else "&after=%d" % after)
        r = node.get("/api/v1/audit/" + q(prefix) + query, AUTH)
        if r.status != 200:
            return (r.status, r.body)
        got = r.json()["records"]
        records += got
        if len(got) < page:
            return records
        after = got[-1]["seq"]
    return ("pages do not end", b"")


def wait_agreement(nodes, names, entities, prefixes, deadline_s=30):
    """Wait until every node answers the same state (replicas catch up); returns the state, or
    raises ClusterError with the differences."""
    end = time.monotonic() + deadline_s
    while True:
        states = [state_of(n, names, entities, prefixes) for n in nodes]
        if all(s == states[0] for s in states[1:]):
            return states[0]
        if time.monotonic() > end:
            diffs = []
            for key in states[0]:
                views = [s.get(key) for s in states]
                if any(v != views[0] for v in views[1:]):
                    shown = [str(v)[:200] for v in views]
                    diffs.append("%s: %s" % (key, " | ".join(
                        "%s %s" % (n.name, v) for n, v in zip(nodes, shown))))
            raise ClusterError("the nodes still disagree after %d s: %s"
                               % (deadline_s, "; ".join(diffs[:6])))
        time.sleep(0.2)
