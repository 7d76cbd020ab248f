"""Many clients on one name: distinct, consecutive values, increasing per client (API.md section 1)."""

import threading

import pytest

THREADS = 10
PER_THREAD = 100


def run_clients(target, count, timeout_s=120):
    """Run target(k) for k in range(count) in threads and wait for all of them."""
    threads = [threading.Thread(target=target, args=(k,), daemon=True) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s)
    assert not any(t.is_alive() for t in threads), "a client did not finish within %d s" % timeout_s


@pytest.mark.slow
def test_ten_clients_share_one_name_without_gaps_or_duplicates(server):
    results = [[] for _ in range(THREADS)]
    problems = []

    def client(k):
        out = results[k]
        for _ in range(PER_THREAD):
            reply = server.get("/next/shared", timeout=10)
            if reply.status != 200:
                problems.append(str(reply))
                return
            out.append(reply.json()["next_value"])

    run_clients(client, THREADS)
    assert not problems, problems[:5]

    values = [v for r in results for v in r]
    assert len(values) == THREADS * PER_THREAD
    assert sorted(values) == list(range(1, THREADS * PER_THREAD + 1))
    for r in results:
        assert all(a < b for a, b in zip(r, r[1:])), r
    reply = server.get("/next/shared")
    assert reply.json()["next_value"] == THREADS * PER_THREAD + 1, str(reply)


MANY_NAMES = 12000
NAME_CLIENTS = 8


@pytest.mark.slow
def test_twelve_thousand_new_names_all_start_at_one_and_keep_counting(nextid):
    # Regression: with small hash pages the store once ran out of mutexes once about 10,000
    # sequences were cached (BDB2034), after which every request and every new worker failed.
    srv = nextid(config={"durability": "write"})
    problems = []

    def client(k):
        for i in range(k, MANY_NAMES, NAME_CLIENTS):
            reply = srv.get("/next/many-%d" % i, timeout=10)
            if reply.status != 200 or reply.json()["next_value"] != 1:
                problems.append("many-%d: %s" % (i, reply))
                return

    run_clients(client, NAME_CLIENTS)
    assert not problems, problems[:5]
    for i in (0, MANY_NAMES // 2, MANY_NAMES - 1):
        reply = srv.get("/next/many-%d" % i)
        assert reply.status == 200 and reply.json()["next_value"] == 2, str(reply)
    assert srv.get("/health/ready").status == 200
