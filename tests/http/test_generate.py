"""GET|POST /generate and /generate/decompose/<id>: time-ordered 64-bit ids (API.md section 4).

id = tick << 24 | sequence << 16 | machine_id, with tick in 10 ms units since the epoch
(2022-01-01T00:00:00Z unless generator_epoch says otherwise). Every id any client receives is
unique, and one client's ids strictly increase: across workers, across a burst larger than a
tick, across a worker killed by SIGKILL, across a clock that steps back (libfaketime moves the
master's CLOCK_REALTIME), and across a restart with the clock an hour behind. An epoch after the
clock stops start-up; a clock stepped back before the epoch answers 503 at once; a restart with
an earlier epoch continues above the old ids, one with a later epoch is refused.

libfaketime: the master gets LD_PRELOAD=libfaketime.so.1 and FAKETIME_TIMESTAMP_FILE; with
FAKETIME_NO_CACHE=1 every clock read re-reads that file, which holds a relative offset in
seconds: "+0", "-0.2" (200 ms back), "-10", "-3600". A suffix is a multiplier of minutes,
hours, days or years, not milliseconds: "-200ms" would mean 200 minutes. The file is replaced
atomically (os.replace), so a clock read never sees it half written. DONT_FAKE_MONOTONIC=1 keeps
CLOCK_MONOTONIC, which the pool's timers use, real.
"""

import collections
import http.client
import json
import os
import random
import re
import signal
import threading
import time

import pytest

import nextid_server
from nextid_server import compact_json, expect

EPOCH_MS = 1640995200000  # 2022-01-01T00:00:00Z
TICK_MS = 10
FAKETIME_SO = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

BAD_COUNT = {"error": "Invalid parameter", "message": "count must be between 1 and 1000."}
BAD_FORMAT = {"error": "Invalid parameter", "message": "format must be 'number' or 'string'."}
BAD_ID = {"error": "Invalid id",
          "message": "The id must be a decimal number from 0 to 18446744073709551615."}
NOT_ALLOWED = {"error": "Method not allowed", "message": "Allowed methods: GET, POST."}
CLOCK_BACK = "Clock moved backwards"
CLOCK_BACK_MESSAGE = re.compile(r"The clock is (\d+) ms behind the last id issued; "
                                r"ids resume when it catches up\.")

needs_faketime = pytest.mark.skipif(not os.path.exists(FAKETIME_SO),
                                    reason="libfaketime is not installed (Debian: faketime)")


@pytest.fixture(autouse=True)
def no_shard_id_in_the_environment(monkeypatch):
    """The master inherits the test's environment: a SHARD_ID there would change every id."""
    monkeypatch.delenv("SHARD_ID", raising=False)


# Helpers ---------------------------------------------------------------------------------

def parts(i):
    """(tick, sequence, machine_id) of an id."""
    return i >> 24, (i >> 16) & 0xFF, i & 0xFFFF


def unix_ms(i, epoch_ms=EPOCH_MS):
    return epoch_ms + (i >> 24) * TICK_MS


def ids_of(reply):
    """The ids of a 200 answer, as ints, with its shape checked: exactly {"id","timestamp"} or
    {"ids","timestamp"}, compact, numbers (or strings of digits with ?format=string)."""
    assert reply.status == 200, str(reply)
    obj = reply.json()
    assert reply.body == compact_json(obj), str(reply)
    assert reply.headers.get("content-type") == "application/json", str(reply)
    assert reply.headers.get("cache-control") == "no-store", str(reply)
    assert list(obj) in (["id", "timestamp"], ["ids", "timestamp"]), str(reply)
    assert type(obj["timestamp"]) is int, str(reply)
    raw = [obj["id"]] if "id" in obj else obj["ids"]
    out = []
    for v in raw:
        if isinstance(v, str):
            assert v.isdigit() and str(int(v)) == v, str(reply)
            v = int(v)
        assert type(v) is int and 0 <= v < 1 << 64, str(reply)
        out.append(v)
    return out


def one_id(srv, path="/generate", method="GET"):
    ids = ids_of(srv.request(method, path))
    assert len(ids) == 1
    return ids[0]


def assert_unique_and_increasing(per_client):
    """per_client: each client's ids in the order it received them."""
    everything = [i for ids in per_client for i in ids]
    repeated = sorted(i for i, n in collections.Counter(everything).items() if n > 1)
    assert not repeated, "%d ids received twice, e.g. %r" % (len(repeated), repeated[:10])
    for k, ids in enumerate(per_client):
        down = [(a, b) for a, b in zip(ids, ids[1:]) if b <= a]
        assert not down, "client %d saw ids go down %d times, e.g. %r" % (k, len(down), down[:5])


class IdLoad:
    """Clients in threads, each asking for ids one request at a time (cycling through paths)
    until stop(), the duration or its request budget. Each client records, in order, one
    Result(t0, t1, status, ids, reply) per request: t0/t1 are time.monotonic() before and after,
    ids the ids of a 200 (else None); a connection error or timeout has status 0."""

    Result = collections.namedtuple("Result", "t0 t1 status ids reply")
    backoff_s = 0.01

    def __init__(self, srv, paths, clients, duration_s, max_requests=3000, timeout=5):
        self.srv, self.paths = srv, list(paths)
        self.duration_s, self.max_requests, self.timeout = duration_s, max_requests, timeout
        self.results = [[] for _ in range(clients)]
        self.errors = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(k,), daemon=True)
                         for k in range(clients)]

    def _run(self, k):
        end = time.monotonic() + self.duration_s
        out = self.results[k]
        n = k  # the clients start at different paths
        while not self._stop.is_set() and time.monotonic() < end and len(out) < self.max_requests:
            path = self.paths[n % len(self.paths)]
            n += 1
            t0 = time.monotonic()
            try:
                reply = self.srv.get(path, timeout=self.timeout)
            except (OSError, http.client.HTTPException) as e:
                self.errors.append(repr(e))
                out.append(self.Result(t0, time.monotonic(), 0, None, None))
                time.sleep(self.backoff_s)
                continue
            t1 = time.monotonic()
            if reply.status == 200:
                out.append(self.Result(t0, t1, 200, ids_of(reply), reply))
            else:
                out.append(self.Result(t0, t1, reply.status, None, reply))
                time.sleep(self.backoff_s)

    def start(self):
        for t in self._threads:
            t.start()
        return self

    def wait(self):
        for t in self._threads:
            t.join(self.duration_s + 2 * self.timeout)
        assert not any(t.is_alive() for t in self._threads), "a load client did not stop"
        return self

    def stop(self):
        self._stop.set()
        return self.wait()

    def all_results(self):
        return [r for client in self.results for r in client]

    def per_client_ids(self):
        return [[i for r in client if r.status == 200 for i in r.ids] for client in self.results]

    def statuses(self):
        return collections.Counter(r.status for r in self.all_results())

    def summary(self):
        return "%d requests, statuses %s, %d ids, first errors %r" % (
            len(self.all_results()), dict(self.statuses()),
            sum(len(c) for c in self.per_client_ids()), self.errors[:3])


def set_clock(path, offset):
    """Point libfaketime at a new relative offset (see the module docstring), atomically."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(offset + "\n")
    os.replace(tmp, path)


@pytest.fixture
def faked(nextid, tmp_path):
    """A factory of started nextids whose master (and so every worker) reads its wall clock
    through libfaketime from a file the test rewrites: faked(config=...) -> (server, clock file).

    libfaketime leaves /dev/shm/faketime_shm_<pid> and sem.faketime_sem_<pid> behind for every
    master it was loaded into; they are removed afterwards."""
    masters = set()

    def make(config=None, workers=None, offset="+0", check=True):
        """offset: the master's clock at start (see set_clock); check=False skips the proof
        that the fake clock is live, which takes ids and steps the clock back 10 s."""
        clock = str(tmp_path / "faketime.rc")
        set_clock(clock, offset)
        env = {"LD_PRELOAD": FAKETIME_SO, "FAKETIME_TIMESTAMP_FILE": clock,
               "FAKETIME_NO_CACHE": "1", "DONT_FAKE_MONOTONIC": "1",
               "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        # One thread per worker: libfaketime re-reading its file on every clock read
        # (FAKETIME_NO_CACHE) is not safe across threads (see test_prefix.py).
        settings = {"threads": "1"}
        settings.update(config or {})
        srv = nextid(config=settings, env=env, workers=workers, start=False)
        start_master = srv.start_master

        def tracked_start_master(*args, **kwargs):
            try:
                return start_master(*args, **kwargs)
            finally:
                if srv.master_pid:
                    masters.add(srv.master_pid)

        srv.start_master = tracked_start_master
        srv.start()
        if not check:
            return srv, clock
        # The fake clock is live: 10 s back stops ids, and putting it right brings them back.
        before = one_id(srv)
        set_clock(clock, "-10")
        reply = srv.get("/generate")
        assert reply.status == 503 and reply.json()["error"] == CLOCK_BACK, \
            "libfaketime did not move the master's clock: %s" % reply
        set_clock(clock, "+0")
        assert one_id(srv) > before
        return srv, clock

    yield make

    for pid in masters:
        for name in ("faketime_shm_%d" % pid, "sem.faketime_sem_%d" % pid):
            try:
                os.unlink(os.path.join("/dev/shm", name))
            except FileNotFoundError:
                pass


def clock_back_reply(reply):
    """A 503 "Clock moved backwards" with its message; returns the N ms of the message."""
    assert reply.status == 503, str(reply)
    assert reply.headers.get("content-type") == "application/json", str(reply)
    assert reply.headers.get("cache-control") == "no-store", str(reply)
    obj = reply.json()
    assert list(obj) == ["error", "message"] and obj["error"] == CLOCK_BACK, str(reply)
    assert obj["message"].startswith("The clock is "), str(reply)
    m = CLOCK_BACK_MESSAGE.fullmatch(obj["message"])
    assert m, str(reply)
    return int(m.group(1))


def master_log_lines(srv):
    """The JSON lines of the master's stderr (the harness's own lines skipped)."""
    lines = []
    with open(srv.master_log, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("{"):
                lines.append(json.loads(line))
    return lines


# Shape, formats, errors ------------------------------------------------------------------

def test_an_id_is_a_json_number_with_the_current_time(server):
    last = 0
    for method in ("GET", "POST", "GET"):
        t0 = time.time()
        reply = server.request(method, "/generate")
        t1 = time.time()
        [i] = ids_of(reply)
        obj = reply.json()
        assert list(obj) == ["id", "timestamp"] and type(obj["id"]) is int, str(reply)
        assert int(t0) - 1 <= obj["timestamp"] <= t1 + 1, str(reply)
        assert t0 * 1000 - 1000 <= unix_ms(i) <= t1 * 1000 + 1000, (i, unix_ms(i), t0)
        assert parts(i)[2] == 1, "no shard configured: machine 1, not %d" % parts(i)[2]
        assert i > last
        last = i


def test_format_string_gives_the_id_as_a_string_and_number_is_the_default(server):
    a = one_id(server, "/generate?format=number")
    reply = server.get("/generate?format=string")
    obj = reply.json()
    assert type(obj["id"]) is str, str(reply)
    [b] = ids_of(reply)
    c = one_id(server, "/generate?format=string", method="POST")
    d = one_id(server)
    assert a < b < c < d


def test_count_returns_a_list_of_increasing_ids(server):
    for path, n, as_string in (("/generate?count=1", 1, False), ("/generate?count=7", 7, False),
                               ("/generate?count=5&format=string", 5, True),
                               ("/generate?format=number&count=3", 3, False)):
        for method in ("GET", "POST"):
            reply = server.request(method, path)
            ids = ids_of(reply)
            obj = reply.json()
            assert list(obj) == ["ids", "timestamp"] and len(ids) == n, str(reply)
            assert all(isinstance(v, str) == as_string for v in obj["ids"]), str(reply)
            assert all(a < b for a, b in zip(ids, ids[1:])), ids


@pytest.mark.parametrize("query, body", [
    ("count=0", BAD_COUNT),
    ("count=1001", BAD_COUNT),
    ("count=1e3", BAD_COUNT),
    ("count=x", BAD_COUNT),
    ("count=-1", BAD_COUNT),
    ("count=1.5", BAD_COUNT),
    ("count=18446744073709551617", BAD_COUNT),
    ("count=1001&format=string", BAD_COUNT),
    ("format=x", BAD_FORMAT),
    ("format=json", BAD_FORMAT),
    ("format=NUMBER", BAD_FORMAT),
    ("format=strings", BAD_FORMAT),
    ("format=" + "s" * 40, BAD_FORMAT),
    ("count=3&format=text", BAD_FORMAT),
])
def test_a_bad_count_or_format_is_400_exactly(server, query, body):
    for method in ("GET", "POST"):
        expect(server.request(method, "/generate?" + query), 400, body)


def test_head_put_and_delete_are_405(server):
    reply = server.request("HEAD", "/generate")
    assert (reply.status, reply.body) == (405, b""), str(reply)
    assert reply.headers.get("allow") == "GET, POST", str(reply)
    assert reply.headers.get("cache-control") == "no-store", str(reply)
    for method in ("PUT", "DELETE"):
        reply = server.request(method, "/generate")
        expect(reply, 405, NOT_ALLOWED)
        assert reply.headers.get("allow") == "GET, POST", str(reply)


def test_decompose_takes_a_fresh_id_apart(server):
    for path in ("/generate", "/generate?format=string"):
        i = one_id(server, path)
        tick, seq, machine = parts(i)
        reply = server.get("/generate/decompose/%d" % i)
        expect(reply, 200, {"id": i, "time": tick, "sequence": seq, "machine_id": machine,
                            "unix_ms": EPOCH_MS + tick * TICK_MS})
        assert machine == 1
        assert abs(reply.json()["unix_ms"] - time.time() * 1000) < 1000, str(reply)


def test_decompose_of_the_extremes_and_of_non_numbers(server):
    expect(server.get("/generate/decompose/0"), 200,
           {"id": 0, "time": 0, "sequence": 0, "machine_id": 0, "unix_ms": EPOCH_MS})
    top = (1 << 64) - 1
    expect(server.get("/generate/decompose/%d" % top), 200,
           {"id": top, "time": (1 << 40) - 1, "sequence": 255, "machine_id": 65535,
            "unix_ms": EPOCH_MS + ((1 << 40) - 1) * TICK_MS})
    layout_max = (1 << 63) - 1
    expect(server.get("/generate/decompose/%d" % layout_max), 200,
           {"id": layout_max, "time": (1 << 39) - 1, "sequence": 255, "machine_id": 65535,
            "unix_ms": EPOCH_MS + ((1 << 39) - 1) * TICK_MS})
    for bad in ("abc", "-1", "1.5", "1e3", "0x10", "18446744073709551616", "99999999999999999999",
                "%201", "12a"):
        expect(server.get("/generate/decompose/" + bad), 400, BAD_ID)


def test_decompose_uses_the_configured_epoch(nextid):
    epoch = 1577836800000  # 2020-01-01T00:00:00Z
    srv = nextid(config={"generator_epoch": "2020-01-01T00:00:00Z", "shard_id": 9})
    i = one_id(srv)
    tick, seq, machine = parts(i)
    reply = srv.get("/generate/decompose/%d" % i)
    expect(reply, 200, {"id": i, "time": tick, "sequence": seq, "machine_id": 9,
                        "unix_ms": epoch + tick * TICK_MS})
    assert abs(epoch + tick * TICK_MS - time.time() * 1000) < 1000, (i, tick)


# Bursts and concurrency ------------------------------------------------------------------

def test_a_burst_of_1000_in_one_request_spills_into_the_next_ticks(server):
    ids = ids_of(server.get("/generate?count=1000"))
    assert len(ids) == 1000 and len(set(ids)) == 1000
    assert all(a < b for a, b in zip(ids, ids[1:]))
    by_tick = collections.OrderedDict()
    for i in ids:
        tick, seq, machine = parts(i)
        assert machine == 1
        by_tick.setdefault(tick, []).append(seq)
    ticks = list(by_tick)
    # 256 a tick: at least 4 ticks, each counting 0, 1, 2, ... from the start of the tick.
    assert len(ticks) >= 4, {t: len(s) for t, s in by_tick.items()}
    for tick, seqs in by_tick.items():
        assert seqs == list(range(len(seqs))), "tick %d: sequences %r" % (tick, seqs)
    full = [t for t, s in by_tick.items() if len(s) == 256]
    assert len(full) >= 2, "fewer than two full ticks: %r" % {t: len(s) for t, s in by_tick.items()}
    # A used-up tick waits for the next one (at most a tick): the burst stays short.
    assert ticks[-1] - ticks[0] < 100, ticks
    # And the next request goes on after it.
    assert one_id(server) > ids[-1]


@pytest.mark.slow
def test_eight_clients_take_20000_ids_each_without_a_duplicate(nextid):
    srv = nextid(config={"shard_id": 42})
    clients, batches = 8, 20
    per_client = [[] for _ in range(clients)]
    failures = []

    def client(k):
        try:
            for b in range(batches):
                paths = ["/generate?count=1000"]
                if b % 4 == k % 4:
                    paths += ["/generate", "/generate?format=string"]
                for path in paths:
                    t0 = time.time()
                    reply = srv.request("POST" if (b + k) % 3 == 0 else "GET", path)
                    t1 = time.time()
                    ids = ids_of(reply)
                    for i in ids:
                        ms = unix_ms(i)
                        if not t0 * 1000 - 1000 <= ms <= t1 * 1000 + 1000:
                            failures.append("id %d: time %d, wall clock %.0f..%.0f"
                                            % (i, ms, t0 * 1000, t1 * 1000))
                            break
                    per_client[k].extend(ids)
        except Exception as e:  # noqa: BLE001 - reported below
            failures.append("client %d: %r" % (k, e))

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    elapsed = time.monotonic() - start
    assert not any(t.is_alive() for t in threads), "a client did not finish in 60 s"
    assert not failures, failures[:5]
    print("%d ids in %.1f s" % (sum(len(c) for c in per_client), elapsed))
    for k, ids in enumerate(per_client):
        assert len(ids) == batches * 1000 + 2 * len([b for b in range(batches) if b % 4 == k % 4])
    assert_unique_and_increasing(per_client)
    machines = collections.Counter(parts(i)[2] for ids in per_client for i in ids)
    assert machines == {42: sum(len(c) for c in per_client)}, machines
    sample = per_client[3][12345]
    assert srv.get("/generate/decompose/%d" % sample).json()["machine_id"] == 42


@pytest.mark.slow
def test_sigkill_of_workers_under_load_never_repeats_an_id(server):
    seed = random.randrange(1 << 30)
    print("random seed %d" % seed)
    rng = random.Random(seed)
    workers = len(server.worker_pids())
    load = IdLoad(server, ["/generate", "/generate?count=100", "/generate?format=string",
                           "/generate?count=7"], clients=8, duration_s=4).start()
    killed = []
    for _ in range(5):
        time.sleep(0.5 + rng.random() * 0.2)
        pids = server.worker_pids()
        if pids:
            pid = rng.choice(pids)
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
    load.wait()
    print("killed workers %r; %s" % (killed, load.summary()))
    assert killed, "no worker was killed"
    per_client = load.per_client_ids()
    assert sum(len(c) for c in per_client) > 1000, load.summary()
    assert_unique_and_increasing(per_client)
    # A request on a killed worker may fail (lighttpd answers 500 or 502); none may be refused
    # by the generator.
    assert set(load.statuses()) <= {0, 200, 500, 502, 503}, load.summary()
    for r in load.all_results():
        if r.status == 503 and r.reply.headers.get("content-type") == "application/json":
            assert r.reply.json().get("error") != CLOCK_BACK, str(r.reply)
    everything = [i for c in per_client for i in c]
    end = time.monotonic() + 10
    while len(server.worker_pids()) != workers and time.monotonic() < end:
        time.sleep(0.05)
    assert len(server.worker_pids()) == workers
    assert one_id(server) > max(everything)


# Shard -----------------------------------------------------------------------------------

def test_shard_id_from_the_config(nextid):
    srv = nextid(config={"shard_id": 65535})
    i = one_id(srv)
    assert parts(i)[2] == 65535
    assert srv.get("/generate/decompose/%d" % i).json()["machine_id"] == 65535


def test_shard_id_from_the_environment_wins_over_the_config(nextid):
    srv = nextid(config={"shard_id": 42}, env={"SHARD_ID": "7"})
    ids = ids_of(srv.get("/generate?count=300"))
    assert {parts(i)[2] for i in ids} == {7}
    srv2 = nextid(env={"SHARD_ID": "65535"})
    assert parts(one_id(srv2))[2] == 65535


@pytest.mark.parametrize("value", ["0", "65536", "abc", "", "-1", "7x"])
def test_an_invalid_shard_id_stops_start_up(nextid, value):
    srv = nextid(config={"shard_id": 42}, env={"SHARD_ID": value}, start=False)
    with pytest.raises(nextid_server.StartError):
        srv.start_master(wait=False)
    rc = srv.master.wait(10)
    assert rc != 0, "nextid-fcgi started with SHARD_ID=%r" % value
    lines = master_log_lines(srv)
    assert any(line.get("level") == "error" and "SHARD_ID" in line.get("msg", "")
               for line in lines), lines


def test_no_shard_means_machine_1_with_a_warning(nextid):
    srv = nextid()
    ids = ids_of(srv.get("/generate?count=10"))
    assert {parts(i)[2] for i in ids} == {1}
    lines = master_log_lines(srv)
    warnings = [line for line in lines if line.get("level") == "warn"
                and "SHARD_ID" in line.get("msg", "") and line.get("role") == "master"]
    assert warnings, lines


def test_a_shard_in_the_config_or_environment_gives_no_warning(nextid):
    for srv, machine in ((nextid(config={"shard_id": 3}), 3), (nextid(env={"SHARD_ID": "4"}), 4)):
        assert parts(one_id(srv))[2] == machine
        assert not [line for line in master_log_lines(srv) if "SHARD_ID" in line.get("msg", "")
                    or "shard" in line.get("msg", "")], master_log_lines(srv)


# A clock that steps back (libfaketime) ---------------------------------------------------

@needs_faketime
@pytest.mark.slow
def test_a_200_ms_step_back_during_a_light_load_keeps_ids_increasing(faked):
    srv, clock = faked()
    before = one_id(srv)
    load = IdLoad(srv, ["/generate", "/generate?count=5", "/generate?format=string"],
                  clients=4, duration_s=2.4).start()
    time.sleep(0.8)
    set_clock(clock, "-0.2")
    time.sleep(0.8)
    set_clock(clock, "-0.5")  # 300 ms more: 500 ms behind in all, still within 1 s
    load.wait()
    print(load.summary())
    assert load.statuses() == {200: len(load.all_results())}, load.summary()
    per_client = load.per_client_ids()
    assert_unique_and_increasing(per_client)
    everything = [i for c in per_client for i in c]
    assert len(everything) > 500, load.summary()
    assert min(everything) > before
    assert one_id(srv) > max(everything)


@needs_faketime
@pytest.mark.slow
def test_a_200_ms_step_back_during_a_saturating_load_is_absorbed_too(faked):
    """The same step, while clients ask for more than 25,600 ids a second (batches of 1000):
    a step back within the tolerance must still answer every request."""
    srv, clock = faked()
    load = IdLoad(srv, ["/generate?count=1000"], clients=4, duration_s=3).start()
    time.sleep(1.0)
    step = time.monotonic()
    set_clock(clock, "-0.2")
    load.wait()
    results = load.all_results()
    refused = [r for r in results if r.status != 200]
    after = [r for r in results if r.t0 > step]
    print(load.summary())
    assert_unique_and_increasing(load.per_client_ids())
    assert not refused, (
        "%d of %d requests refused after a 200 ms step back (tolerance 1000 ms); of the %d "
        "requests sent after the step %d succeeded; first refusal %s; refusals per 0.5 s after "
        "the step: %r" % (
            len(refused), len(results), len(after), len([r for r in after if r.status == 200]),
            refused[0].reply,
            sorted(collections.Counter(int((r.t0 - step) * 2) / 2 for r in refused).items())))


@needs_faketime
@pytest.mark.slow
def test_a_10_s_step_back_answers_503_until_the_clock_catches_up(faked):
    srv, clock = faked()
    load = IdLoad(srv, ["/generate", "/generate?count=10", "/generate?format=string"],
                  clients=4, duration_s=3).start()
    time.sleep(0.6)
    back = time.monotonic()
    set_clock(clock, "-10")
    time.sleep(0.8)
    forward = time.monotonic()
    set_clock(clock, "+0")  # caught up, instead of waiting 10 s
    time.sleep(0.8)
    load.stop()
    print(load.summary())
    results = load.all_results()
    assert set(load.statuses()) <= {200, 503}, load.summary()
    margin = 0.05
    during = [r for r in results if r.t0 > back + margin and r.t1 < forward]
    after = [r for r in results if r.t0 > forward + margin]
    before = [r for r in results if r.t1 < back]
    assert before and all(r.status == 200 for r in before), load.summary()
    assert len(during) >= 10, load.summary()
    wrong = [str(r.reply) for r in during if r.status != 503]
    assert not wrong, "ids issued while the clock was 10 s behind: %r" % wrong[:5]
    for r in during:
        behind = clock_back_reply(r.reply)
        assert 1000 < behind <= 10100, str(r.reply)
    assert len(after) >= 10 and all(r.status == 200 for r in after), \
        [str(r.reply) for r in after if r.status != 200][:5]
    assert_unique_and_increasing(load.per_client_ids())
    everything = [i for c in load.per_client_ids() for i in c]
    assert one_id(srv) > max(everything)


@needs_faketime
@pytest.mark.slow
@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
def test_a_restart_with_the_clock_an_hour_behind_repeats_no_id(faked, stop):
    srv, clock = faked(config={"shard_id": 5})
    old = []
    for path in ("/generate?count=1000", "/generate", "/generate?count=1000", "/generate"):
        old += ids_of(srv.get(path))
    sig = getattr(signal, stop)
    srv.kill_master(sig)
    if sig != signal.SIGKILL:
        assert srv.wait_master(15) == 0
    set_clock(clock, "-3600")
    srv.start_master(wait=True)

    # Ids at once, on a clock an hour behind, all after every id of the previous run.
    t0 = time.time()
    reply = srv.get("/generate")
    first = ids_of(reply)
    assert abs(reply.json()["timestamp"] - (t0 - 3600)) < 5, \
        "the restarted master's clock is not an hour behind: %s" % reply
    new = first + ids_of(srv.get("/generate?count=1000")) + ids_of(srv.get("/generate"))
    assert min(new) > max(old), (min(new), max(old))
    assert all(a < b for a, b in zip(new, new[1:]))
    assert {parts(i)[2] for i in old + new} == {5}
    # The clock catching up later changes nothing.
    set_clock(clock, "+0")
    assert one_id(srv) > max(new)


# The epoch -------------------------------------------------------------------------------

DAY_S = 86400
BEFORE_EPOCH = "Clock before epoch"
BEFORE_EPOCH_MESSAGE = re.compile(r"The clock is (\d+) ms before generator_epoch "
                                  r"\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\); "
                                  r"ids resume when it passes it\.")
FUTURE_EPOCH_LOG = re.compile(r"generator_epoch (\S+) is after the clock \((\S+), (\d+) ms before "
                              r"it\): /generate counts time from the epoch, so it must be in the "
                              r"past; fix generator_epoch or the clock")
LATER_EPOCH_LOG = re.compile(r"generator_epoch (\S+) is later than (\S+), the epoch of the ids "
                             r"this store has issued; counted from it, the clock \((\S+)\) is "
                             r"(\d+) ms behind them, so new ids would repeat theirs or run that "
                             r"far ahead of the clock: set generator_epoch back to (\S+) \(or "
                             r"earlier\)")


def utc(seconds):
    """A generator_epoch value: 2022-01-01T00:00:00Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def before_epoch_reply(reply, epoch_s):
    """A 503 "Clock before epoch" naming the epoch; returns the N ms of the message."""
    assert reply.status == 503, str(reply)
    assert reply.headers.get("content-type") == "application/json", str(reply)
    assert reply.headers.get("cache-control") == "no-store", str(reply)
    obj = reply.json()
    assert list(obj) == ["error", "message"] and obj["error"] == BEFORE_EPOCH, str(reply)
    m = BEFORE_EPOCH_MESSAGE.fullmatch(obj["message"])
    assert m and m.group(2) == utc(epoch_s), str(reply)
    return int(m.group(1))


def refused_start(srv, pattern):
    """Start the master, which must exit non-zero at once with an error log matching pattern;
    returns the match."""
    with pytest.raises(nextid_server.StartError):
        srv.start_master(wait=False)
    rc = srv.master.wait(10)
    assert rc != 0, "nextid-fcgi exited 0"
    errors = [line.get("msg", "") for line in master_log_lines(srv) if line.get("level") == "error"]
    matches = [m for m in (pattern.fullmatch(e) for e in errors) if m]
    assert len(matches) == 1, errors
    return matches[0]


def restart_master(srv, **config):
    """Stop the master gracefully, change its config, start it again."""
    srv.kill_master(signal.SIGTERM)
    assert srv.wait_master(15) == 0
    srv.write_config(**config)
    srv.start_master(wait=True)


def test_an_epoch_in_the_future_stops_start_up_before_the_store_is_touched(nextid):
    srv = nextid(config={"generator_epoch": "2090-01-01T00:00:00Z"}, start=False)
    t0 = time.time()
    m = refused_start(srv, FUTURE_EPOCH_LOG)
    t1 = time.time()
    assert m.group(1) == "2090-01-01T00:00:00Z", m.group(0)
    assert utc(t0 - 1) <= m.group(2) <= utc(t1 + 1), m.group(0)
    epoch_ms = 3786912000000  # 2090-01-01T00:00:00Z
    assert epoch_ms - t1 * 1000 - 1000 <= int(m.group(3)) <= epoch_ms - t0 * 1000 + 1000
    assert not os.path.exists(srv.data_dir), os.listdir(srv.data_dir)


@needs_faketime
@pytest.mark.slow
def test_a_clock_stepped_back_before_the_epoch_answers_503_at_once(faked):
    """No id issued yet, the clock an hour before the epoch: the generator's state is its
    used-up tick 0, which a clock held at tick 0 used to wait on for ever (the worker killed
    after request_timeout_s, an HTML 500 for the client)."""
    epoch_s = int(time.time()) + 3600
    # The master starts 10 s past the epoch (an epoch in the future stops start-up).
    srv, clock = faked(config={"generator_epoch": utc(epoch_s), "request_timeout_s": 3},
                       offset="+3610", check=False)
    workers = srv.worker_pids()
    set_clock(clock, "+0")
    for path in ("/generate?count=1000", "/generate", "/generate?format=string") * 4:
        t0 = time.time()
        reply = srv.get(path)
        t1 = time.time()
        behind = before_epoch_reply(reply, epoch_s)
        assert epoch_s * 1000 - t1 * 1000 - 50 <= behind <= epoch_s * 1000 - t0 * 1000 + 50, \
            (behind, str(reply))
        assert t1 - t0 < 2, "%s took %.1f s" % (path, t1 - t0)
    assert srv.worker_pids() == workers, "workers were replaced"

    # Past the epoch again: ids, on the (fake) clock.
    set_clock(clock, "+3620")
    t0 = time.time()
    first = ids_of(srv.get("/generate?count=1000"))
    assert abs(unix_ms(first[0], epoch_s * 1000) - (t0 + 3620) * 1000) < 2000, first[0]
    # Before it once more, with ids issued: still refused at once, never "moved backwards".
    set_clock(clock, "+0")
    before_epoch_reply(srv.get("/generate"), epoch_s)
    set_clock(clock, "+3625")
    assert ids_of(srv.get("/generate?count=1000"))[0] > first[-1]
    assert srv.worker_pids() == workers, "workers were replaced"


@pytest.mark.slow
def test_a_restart_with_an_earlier_epoch_continues_above_the_old_ids_on_the_clock(nextid):
    srv = nextid(config={"generator_epoch": "2024-01-01T00:00:00Z", "shard_id": 5})
    old = ids_of(srv.get("/generate?count=1000")) + [one_id(srv)]
    restart_master(srv, generator_epoch="2022-01-01T00:00:00Z")
    t0 = time.time()
    new = ids_of(srv.get("/generate?count=1000")) + [one_id(srv)]
    t1 = time.time()
    assert min(new) > max(old), (min(new), max(old))
    assert all(a < b for a, b in zip(new, new[1:]))
    # Counted from the new epoch they are on the clock: not run ahead by the mark's lease.
    assert t0 * 1000 - 1000 <= unix_ms(new[0]) <= t1 * 1000 + 1000, (unix_ms(new[0]), t0)
    warnings = [line.get("msg", "") for line in master_log_lines(srv)
                if line.get("level") == "warn" and "generator_epoch moved" in line.get("msg", "")]
    assert warnings == ["generator_epoch moved earlier by 63072000000 ms since the last ids were "
                        "issued; new ids continue after theirs"], warnings


@pytest.mark.slow
def test_a_restart_with_a_later_epoch_is_refused_and_the_old_one_still_works(nextid):
    """Counted from an epoch two years later, the clock is two years behind the ids issued:
    new ids would repeat theirs (or run two years ahead of the clock). nextid refuses to start."""
    srv = nextid(config={"shard_id": 5})
    old = ids_of(srv.get("/generate?count=1000")) + [one_id(srv)]
    srv.kill_master(signal.SIGTERM)
    assert srv.wait_master(15) == 0
    srv.write_config(generator_epoch="2024-01-01T00:00:00Z")
    t0 = time.time()
    m = refused_start(srv, LATER_EPOCH_LOG)
    assert m.group(1) == "2024-01-01T00:00:00Z", m.group(0)
    assert m.group(2) == m.group(5) == "2022-01-01T00:00:00Z", m.group(0)
    two_years_ms = 730 * DAY_S * 1000
    # Two years, and the mark's lease past the last id (up to 5 s).
    last_ms = unix_ms(max(old))
    assert two_years_ms + last_ms - t0 * 1000 - 2000 <= int(m.group(4)) \
        <= two_years_ms + last_ms + 5000 - t0 * 1000 + 1000, m.group(0)

    srv.write_config(generator_epoch="2022-01-01T00:00:00Z")
    srv.start_master(wait=True)
    new = ids_of(srv.get("/generate?count=1000"))
    assert min(new) > max(old), (min(new), max(old))


@needs_faketime
@pytest.mark.slow
def test_ids_issued_under_a_wrong_epoch_leave_no_drift_once_it_is_put_right(faked):
    """A host whose clock ran five years ahead, with an epoch set four years ahead to match:
    its ids count a year of ticks. The clock and the epoch put right, new ids come after those
    and on the clock: the mark they left is a distance from their epoch, not a time five years
    ahead that every later id would have to follow."""
    year_s = 365 * DAY_S
    epoch_s = int(time.time()) + 4 * year_s
    srv, clock = faked(config={"generator_epoch": utc(epoch_s), "shard_id": 5},
                       offset="+%d" % (5 * year_s), check=False)
    old = ids_of(srv.get("/generate?count=1000")) + [one_id(srv)]
    assert abs(unix_ms(old[0], epoch_s * 1000) - (time.time() + 5 * year_s) * 1000) < 5000
    srv.kill_master(signal.SIGTERM)
    assert srv.wait_master(15) == 0
    set_clock(clock, "+0")
    srv.write_config(generator_epoch="2022-01-01T00:00:00Z")
    srv.start_master(wait=True)
    t0 = time.time()
    new = ids_of(srv.get("/generate?count=1000")) + [one_id(srv)]
    t1 = time.time()
    assert min(new) > max(old), (min(new), max(old))
    assert t0 * 1000 - 1000 <= unix_ms(new[0]) <= t1 * 1000 + 1000, \
        "the first id after the fix is %.0f s from the clock" % (unix_ms(new[0]) / 1000 - t0)
