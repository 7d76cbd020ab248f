"""Clients spread over every node of a cluster, and the checks on what they received.

A ClusterLoad runs one client thread per (family, node): `/next/<name>`, a batch family
`/api/next-batch/<e>?dataType=long` and a formatted prefix `/api/v1/next/<P>` (whose audit is
checked). Each client records every answer: its node, when it was sent and received, its status
(0: no answer: connection refused, reset or timed out), whether it was JSON from nextid, and for
a 200 the values it carried.

The checks (each returns a list of problems, empty when all is well):
  - duplicates: no value received twice per name, no two batch ranges overlap, no prefix counter
    or full number twice, across all nodes;
  - gaps: every answer that is not 200 is 503 JSON (`error` one of GAP_ERRORS; or "Store
    unavailable" from a node that was killed or stopped, while it recovers its store), never a
    page of the web server, and a node that was neither down nor stopped answered (no request
    hung past the client's timeout, which is request_timeout_s plus a margin);
  - above: one more value from every node is above every value received;
  - audit: on every node, every formatted number received is in the audit exactly once with its
    full number and message id, and no counter is there twice.
"""

import collections
import http.client
import json
import threading
import time

import cluster

NEXT_NAME = "fo-next"
BATCH_ENTITY = "fo-batch"
BATCH_MAX = 20
PREFIX = "FO"
PREFIX_BODY = {"format_template": "{prefix}-{counter:6}"}
FAMILIES = ("next", "batch", "prefix")
# What a node answers while it cannot hand out a value (the contract of replication).
GAP_ERRORS = ("No master", "Not replicated")
# A node that was killed or stopped may also answer the single node's own 503 while it opens and
# recovers its store, for this long after it runs again; at any other time that is a problem.
RECOVERING_ERROR = "Store unavailable"
RECOVERY_GRACE_S = 10.0
BACKOFF_S = (0.02, 0.2)


def configure_prefix(node):
    """The prefix, configured through node (a replica forwards it to the master)."""
    return node.request("POST", "/api/v1/config/" + cluster.q(PREFIX), cluster.AUTH,
                        json.dumps(PREFIX_BODY).encode("utf-8"))


def family_request(family, n):
    if family == "next":
        return "GET", "/next/" + NEXT_NAME
    if family == "batch":
        return "GET", "/api/next-batch/%s?dataType=long&batchSize=%d" % (BATCH_ENTITY, n)
    return "GET", "/api/v1/next/%s?client_id=c%d" % (cluster.q(PREFIX), n)


def read_values(family, body, n):
    """(lo, hi, item) of a 200 answer; raises on an answer that is not what the API promises."""
    if family == "next":
        assert body["sequence_id"] == NEXT_NAME, body
        v = body["next_value"]
        assert isinstance(v, int), body
        return v, v, v
    if family == "batch":
        s, e = int(body["startValue"]), int(body["endValue"])
        assert body["entityName"] == BATCH_ENTITY and e - s + 1 == n, body
        return s, e, (s, e)
    assert body["prefix"] == PREFIX, body
    c = body["counter"]
    assert isinstance(c, int), body
    return c, c, {"counter": c, "full_number": body["full_number"],
                  "message_id": body["message_id"]}


class Answer:
    __slots__ = ("node", "family", "t0", "t1", "status", "json", "web", "error", "lo", "hi",
                 "item", "text")

    def __init__(self, node, family, t0, t1, status, json_ok=False, web=False, error=None,
                 lo=None, hi=None, item=None, text=""):
        self.node, self.family, self.t0, self.t1 = node, family, t0, t1
        self.status, self.json, self.web, self.error = status, json_ok, web, error
        self.lo, self.hi, self.item, self.text = lo, hi, item, text


class ClusterLoad:
    """One client per family per node, until stop(). timeout: one request's bound."""

    def __init__(self, nodes, timeout, families=FAMILIES):
        self.nodes = list(nodes)
        self.timeout = timeout
        self.families = families
        self.answers = []
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(f, node, k), daemon=True)
                         for f in families for k, node in enumerate(self.nodes)]

    def _run(self, family, node, k):
        backoff = BACKOFF_S[0]
        i = 0
        while not self._stop.is_set():
            i += 1
            n = 1 + (i * 7 + k) % BATCH_MAX if family == "batch" else k + 1
            method, path = family_request(family, n)
            t0 = time.monotonic()
            try:
                reply = node.request(method, path, timeout=self.timeout)
            except (OSError, http.client.HTTPException) as e:
                self._add(Answer(node, family, t0, time.monotonic(), 0, text=repr(e)))
                backoff = self._wait(backoff)
                continue
            t1 = time.monotonic()
            is_json = reply.headers.get("content-type") == "application/json"
            body = None
            if is_json:
                try:
                    body = reply.json()
                except ValueError:
                    is_json = False
            if reply.status != 200:
                self._add(Answer(node, family, t0, t1, reply.status, is_json,
                                 ns_web(reply), (body or {}).get("error") if is_json else None,
                                 text=str(reply)))
                backoff = self._wait(backoff)
                continue
            try:
                lo, hi, item = read_values(family, body, n)
            except (AssertionError, KeyError, TypeError, ValueError) as e:
                self._add(Answer(node, family, t0, t1, -1, text="%r: %s" % (e, reply)))
                continue
            self._add(Answer(node, family, t0, t1, 200, True, lo=lo, hi=hi, item=item))
            backoff = BACKOFF_S[0]

    def _add(self, answer):
        with self.lock:
            self.answers.append(answer)

    def _wait(self, backoff):
        self._stop.wait(backoff)
        return min(backoff * 2, BACKOFF_S[1])

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(self.timeout + 5)
        stuck = [t for t in self._threads if t.is_alive()]
        assert not stuck, "%d load clients did not stop" % len(stuck)
        return self

    def snapshot(self):
        with self.lock:
            return list(self.answers)

    def ok(self, family=None):
        return [a for a in self.snapshot() if a.status == 200 and
                (family is None or a.family == family)]

    def first_value_after(self, t):
        """The time of the first 200 received (on any node) for a request sent after t."""
        times = [a.t1 for a in self.snapshot() if a.status == 200 and a.t0 >= t]
        return min(times) if times else None

    def summary(self):
        """Requests, values and failures by node, status and error, for the test's output."""
        out = collections.Counter()
        for a in self.snapshot():
            out["%s %s %s" % (a.node.name, a.status, a.error or ("web" if a.web else ""))] += 1
        return dict(sorted(out.items()))


def ns_web(reply):
    return reply.status >= 400 and reply.headers.get("cache-control") != "no-store"


# Checks -----------------------------------------------------------------------------------

def check_duplicates(answers):
    problems = []
    for family in FAMILIES:
        oks = [a for a in answers if a.status == 200 and a.family == family]
        if family == "batch":
            reach = None   # the range reaching furthest so far
            for lo, hi, name in sorted((a.lo, a.hi, a.node.name) for a in oks):
                if reach is not None and lo <= reach[1]:
                    problems.append("batch: [%d..%d] from %s overlaps [%d..%d] from %s"
                                    % ((lo, hi, name) + reach))
                if reach is None or hi > reach[1]:
                    reach = (lo, hi, name)
            continue
        values = collections.Counter(a.lo for a in oks)
        twice = sorted(v for v, c in values.items() if c > 1)
        if twice:
            who = collections.defaultdict(list)
            for a in oks:
                if a.lo in twice[:5]:
                    who[a.lo].append("%s@%.2f" % (a.node.name, a.t1))
            problems.append("%s: %d values received twice, first %r (%r)"
                            % (family, len(twice), twice[:10], dict(who)))
        if family == "prefix":
            fulls = collections.Counter(a.item["full_number"] for a in oks)
            twice = sorted(v for v, c in fulls.items() if c > 1)
            if twice:
                problems.append("prefix: %d full numbers received twice, first %r"
                                % (len(twice), twice[:10]))
    return problems


def check_gaps(answers, outages, tolerated=None):
    """outages: {node name: [(t_from, t_to), ...]}: when the node was down or stopped (t_to None:
    still). A request with no answer is a problem unless it overlaps its node's outage; so is a
    page of the web server, which tolerated (a Counter) counts instead when given."""
    problems = collections.Counter()
    examples = {}

    def note(kind, a):
        problems[kind] += 1
        examples.setdefault(kind, a.text)

    def in_outage(a, grace=0.0):
        return any(a.t1 >= lo and (hi is None or a.t0 <= hi + grace)
                   for lo, hi in outages.get(a.node.name, []))

    for a in answers:
        if a.status == 200:
            continue
        if a.status == -1:
            note("a 200 that is not what the API promises", a)
        elif a.status == 0:
            if not in_outage(a):
                note("%s: no answer (%s) while the node was up and running" % (a.node.name,
                                                                               a.family), a)
        elif a.web and in_outage(a) and tolerated is not None:
            # In flight on a node while it was stopped: on SIGCONT its master finds the worker
            # past request_timeout_s (the clock ran on) and replaces it; the web server answers
            # for the lost connection. Counted, not a problem: no node could answer it in time.
            tolerated["%s: web server's %d for a request in flight across its own stop"
                      % (a.node.name, a.status)] += 1
        elif a.web:
            note("%s: a page of the web server (status %d), not nextid's JSON" % (a.node.name,
                                                                                 a.status), a)
        elif a.status != 503 or not a.json:
            note("%s: status %d %s" % (a.node.name, a.status, "JSON" if a.json else "not JSON"),
                 a)
        elif a.error not in GAP_ERRORS and not (a.error == RECOVERING_ERROR and
                                                 in_outage(a, RECOVERY_GRACE_S)):
            note("%s: 503 with error %r" % (a.node.name, a.error), a)
    return ["%s: %d times, e.g. %s" % (k, n, examples[k]) for k, n in sorted(problems.items())]


def highest(answers, family):
    his = [a.hi for a in answers if a.status == 200 and a.family == family]
    return max(his) if his else None


def next_value(node, family, deadline_s=20):
    """One more value of family from node (retried through 503s for deadline_s)."""
    end = time.monotonic() + deadline_s
    method, path = family_request(family, 1)
    last = None
    while time.monotonic() < end:
        try:
            reply = node.request(method, path, timeout=10)
            if reply.status == 200:
                return read_values(family, reply.json(), 1)[0]
            last = str(reply)
        except (OSError, http.client.HTTPException) as e:
            last = repr(e)
        time.sleep(0.2)
    raise AssertionError("%s: no %s value within %d s (last: %s)" % (node.name, family,
                                                                     deadline_s, last))


def check_above(nodes, answers):
    """One more value of each family from each node: above everything received."""
    problems = []
    for family in FAMILIES:
        top = highest(answers, family)
        for node in nodes:
            v = next_value(node, family)
            if top is not None and v <= top:
                problems.append("%s from %s after the load: %d, not above %d, the largest "
                                "received" % (family, node.name, v, top))
            top = v if top is None else max(top, v)
    return problems


def audit_after_gap(node, deadline_s=10):
    """node's audit of PREFIX; a read that lands in a gap (a replica replacing its workers after
    its master changed answers 503 "No master" once per handle) is read again, for deadline_s."""
    end = time.monotonic() + deadline_s
    while True:
        records = cluster.audit(node, PREFIX)
        if not isinstance(records, tuple) or time.monotonic() > end:
            return records
        try:
            error = json.loads(records[1]).get("error")
        except (ValueError, AttributeError, TypeError):
            return records
        if records[0] != 503 or error not in GAP_ERRORS:
            return records
        time.sleep(0.2)


def check_audit(nodes, answers):
    """Every formatted number received in every node's audit, exactly once."""
    problems = []
    received = [a.item for a in answers if a.status == 200 and a.family == "prefix"]
    for node in nodes:
        records = audit_after_gap(node)
        if isinstance(records, tuple):
            problems.append("%s: the audit of %s answers %r" % (node.name, PREFIX, records))
            continue
        counts = collections.Counter(r["counter"] for r in records)
        twice = sorted(c for c, n in counts.items() if n > 1)
        if twice:
            problems.append("%s: counters twice in the audit, first %r" % (node.name, twice[:10]))
        by_counter = {r["counter"]: r for r in records}
        missing = [n for n in received if n["counter"] not in by_counter]
        if missing:
            problems.append("%s: %d numbers received but not in its audit, first %r"
                            % (node.name, len(missing), missing[:3]))
        wrong = [n for n in received if n["counter"] in by_counter and
                 (by_counter[n["counter"]]["full_number"], by_counter[n["counter"]]["message_id"])
                 != (n["full_number"], n["message_id"])]
        if wrong:
            problems.append("%s: %d numbers differ from their audit record, first %r"
                            % (node.name, len(wrong), wrong[:3]))
    return problems


def check_agreement(nodes, deadline_s=30):
    """Every node answers the same statuses and audit (replicas catch up within deadline_s)."""
    try:
        cluster.wait_agreement(nodes, [NEXT_NAME], [BATCH_ENTITY], [PREFIX], deadline_s)
        return []
    except cluster.ClusterError as e:
        return [str(e)]
