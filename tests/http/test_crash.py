"""kill -9 of workers and of the master under load: a value any client received is never issued
again, the service comes back by itself, and the counter keeps going (API.md section 1).

Each kill lands at a different moment of the request cycle; with NEXTID_TEST_HOLD_LOCK_MS most
land while a worker holds the sequence's record lock. Requests may fail around a kill; they are
counted and printed, never required to succeed.
"""

import collections
import os
import random
import signal
import time

import pytest

from nextid_server import Load

CLIENTS = 8
KILLS = 5


def kill_random_worker(srv, rng):
    workers = srv.worker_pids()
    if not workers:
        return None
    pid = rng.choice(workers)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return None
    return pid


def wait_for_workers(srv, count, deadline_s):
    end = time.monotonic() + deadline_s
    workers = srv.worker_pids()
    while len(workers) != count and time.monotonic() < end:
        time.sleep(0.05)
        workers = srv.worker_pids()
    return workers


def check_never_repeated(srv, load, name):
    """The invariants after a crash round, and the failure fraction on stdout."""
    total = load.count()
    values = load.values()
    failed = total - len(values)
    print("%s: %d requests, %d failed (%.1f%%), statuses %s, first errors %s"
          % (name, total, failed, 100.0 * failed / max(total, 1), dict(load.statuses()),
             load.errors[:3]))
    assert values, "no request succeeded"
    repeated = sorted(v for v, n in collections.Counter(values).items() if n > 1)
    assert not repeated, "values received twice: %r" % repeated[:20]
    for client in load.results:
        mine = [v for s, v in client if s == 200]
        assert all(a < b for a, b in zip(mine, mine[1:])), "a client saw a value go down: %r" % mine
    final = srv.get("/next/" + name)
    assert final.status == 200, str(final)
    assert final.json()["next_value"] > max(values), (str(final), max(values))


@pytest.mark.slow
def test_kill_9_of_workers_holding_the_lock_and_of_the_master_never_repeats_a_value(nextid):
    seed = random.randrange(1 << 30)
    print("random seed %d" % seed)
    rng = random.Random(seed)
    workers = 4
    srv = nextid(config={"workers": workers}, env={"NEXTID_TEST_HOLD_LOCK_MS": "20"})
    # Ready means one worker answers; on a busy machine the others may still be starting.
    assert len(wait_for_workers(srv, workers, 10)) == workers
    load = Load(srv, "/next/crash", clients=CLIENTS, duration_s=8, max_requests=1000).start()
    killed = []
    for _ in range(KILLS):
        time.sleep(0.7)
        killed.append(kill_random_worker(srv, rng))
    time.sleep(0.7)
    srv.kill_master(signal.SIGKILL)
    srv.start_master(wait=False)
    srv.wait_ready("/health/ready", deadline_s=5)
    load.wait()
    print("killed workers %r and master" % killed)
    check_never_repeated(srv, load, "crash")
    assert len(wait_for_workers(srv, workers, 10)) == workers


@pytest.mark.slow
def test_kill_9_of_workers_under_plain_load_never_repeats_a_value(server):
    seed = random.randrange(1 << 30)
    print("random seed %d" % seed)
    rng = random.Random(seed)
    workers = len(server.worker_pids())
    load = Load(server, "/next/plain", clients=CLIENTS, duration_s=5, max_requests=3000).start()
    killed = []
    for _ in range(KILLS):
        time.sleep(0.5 + rng.random() * 0.3)
        killed.append(kill_random_worker(server, rng))
    load.wait()
    print("killed workers %r" % killed)
    check_never_repeated(server, load, "plain")
    assert len(wait_for_workers(server, workers, 10)) == workers
    server.wait_ready("/health/ready", deadline_s=5)
