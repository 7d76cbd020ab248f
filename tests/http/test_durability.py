"""Durability modes (API.md section 8): what survives a crash of the whole pool.

reserve: each sequence keeps a synced reservation ahead of its counter; after an unclean stop the
counter resumes past it, so no value a client received is issued again, at the cost of at most
reserve_size skipped values. A clean stop skips nothing.
"""

import collections
import signal
import threading
import time

import pytest

from nextid_server import Load, expect_next

NAMES = ["r1", "r2", "r3"]
RESERVE = 50


def load_names(srv, duration_s=2.0, clients=6):
    """Clients cycling over NAMES; returns {name: [values received]}."""
    got = collections.defaultdict(list)
    lock = threading.Lock()
    end = time.monotonic() + duration_s

    def client(k):
        i = k
        while time.monotonic() < end:
            name = NAMES[i % len(NAMES)]
            i += 1
            try:
                reply = srv.get("/next/" + name, timeout=5)
            except OSError:
                continue
            if reply.status == 200:
                with lock:
                    got[name].append(reply.json()["next_value"])

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration_s + 10)
    assert not any(t.is_alive() for t in threads)
    return got


def next_value(srv, name):
    reply = srv.get("/next/" + name)
    assert reply.status == 200, str(reply)
    return reply.json()["next_value"]


@pytest.mark.slow
def test_reserve_after_sigkill_of_the_pool_resumes_above_every_value_received(nextid):
    srv = nextid(config={"durability": "reserve", "reserve_size": str(RESERVE)})
    got = load_names(srv)
    srv.kill_master(signal.SIGKILL)
    srv.wait_master(10)
    srv.start_master()
    for name in NAMES:
        values = got[name]
        assert values, "no value received for %s" % name
        assert len(values) == len(set(values)), "a value of %s was received twice" % name
        resumed = next_value(srv, name)
        assert resumed > max(values), (name, resumed, max(values))
        # Past the reservation: at most reserve_size values (plus the ones in flight) skipped.
        assert resumed - max(values) <= RESERVE + 10, (name, resumed, max(values))


def test_reserve_after_a_clean_stop_skips_nothing(nextid):
    srv = nextid(config={"durability": "reserve", "reserve_size": str(RESERVE)})
    for i in range(1, 8):
        expect_next(srv.get("/next/clean"), i, "clean")
    srv.kill_master(signal.SIGTERM)
    srv.wait_master(15)
    srv.start_master()
    expect_next(srv.get("/next/clean"), 8, "clean")


@pytest.mark.slow
def test_reserve_logs_the_resume_after_an_unclean_stop(nextid):
    srv = nextid(config={"durability": "reserve", "reserve_size": str(RESERVE)})
    for _ in range(3):
        srv.get("/next/logged")
    srv.kill_master(signal.SIGKILL)
    srv.wait_master(10)
    srv.start_master()
    with open(srv.master_log, encoding="utf-8") as f:
        text = f.read()
    assert "resume past their reservations" in text
    # The first value (1) took the reservation 1 + RESERVE; the counter resumes right after it.
    assert next_value(srv, "logged") == 1 + RESERVE + 1


@pytest.mark.slow
def test_sync_after_sigkill_of_the_pool_continues_right_after_the_values_received(nextid):
    srv = nextid(config={"durability": "sync"})
    got = load_names(srv)
    srv.kill_master(signal.SIGKILL)
    srv.wait_master(10)
    srv.start_master()
    for name in NAMES:
        values = got[name]
        assert len(values) == len(set(values))
        resumed = next_value(srv, name)
        # Strict: no reservation to skip; only requests cut off in flight may leave a gap.
        assert max(values) < resumed <= max(values) + 10, (name, resumed, max(values))


def test_reserve_is_a_durability_the_config_accepts_with_its_size(nextid):
    srv = nextid(config={"durability": "reserve", "reserve_size": "1"}, start=False)
    srv.start()
    expect_next(srv.get("/next/one"), 1, "one")
    expect_next(srv.get("/next/one"), 2, "one")


# The per-sequence cache (API.md section 8) --------------------------------------------------

def test_a_cached_sequence_gives_each_worker_increasing_unique_values(nextid):
    srv = nextid(workers=3)
    srv.nextidctl("create", "cached", "--cache", "20")
    values = []
    lock = threading.Lock()

    def client():
        mine = []
        for _ in range(60):
            reply = srv.get("/next/cached")
            assert reply.status == 200, str(reply)
            mine.append(reply.json()["next_value"])
        with lock:
            values.append(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    flat = [v for mine in values for v in mine]
    assert len(flat) == 240 and len(set(flat)) == 240, "a value was given twice"
    # Blocks of 20 per worker: at most 3 blocks are open at the end, so at most 60 are skipped.
    assert max(flat) <= 240 + 3 * 20


def test_a_cached_sequence_in_one_worker_counts_1_2_3(nextid):
    srv = nextid(workers=1)
    srv.nextidctl("create", "solo", "--cache", "10")
    for i in range(1, 26):
        expect_next(srv.get("/next/solo"), i, "solo")


@pytest.mark.slow
def test_a_crash_skips_at_most_a_block_of_a_cached_sequence_never_repeats(nextid):
    srv = nextid(workers=2)
    srv.nextidctl("create", "crashy", "--cache", "25")
    got = [srv.get("/next/crashy").json()["next_value"] for _ in range(30)]
    srv.kill_master(signal.SIGKILL)
    srv.wait_master(10)
    srv.start_master()
    resumed = next_value(srv, "crashy")
    assert resumed > max(got)
    assert resumed - max(got) <= 2 * 25 + 1
