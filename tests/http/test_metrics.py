"""/metrics: the pool's counters in the Prometheus text format (API.md section 9)."""

import re
import shutil
import subprocess
import time

import pytest

from nextid_server import expect


def scrape(srv):
    reply = srv.get("/metrics")
    assert reply.status == 200, str(reply)
    assert reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert reply.headers["cache-control"] == "no-store"
    return reply.body.decode("utf-8")


def value(text, series):
    """The value of one series line, e.g. 'nextid_values_issued_total'; 0 when absent."""
    m = re.search("^" + re.escape(series) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0


def requests(text, endpoint, status):
    return value(text, 'nextid_requests_total{endpoint="%s",status="%s"}' % (endpoint, status))


def test_counts_match_the_requests_made_across_workers(nextid):
    srv = nextid(workers=3)
    before = scrape(srv)
    for _ in range(25):
        assert srv.get("/next/metered").status == 200
    for _ in range(4):
        assert srv.get("/api/next-batch/m?dataType=int&batchSize=10").status == 200
    assert srv.get("/generate?count=7").status == 200
    assert srv.get("/nope").status == 404
    assert srv.get("/next/%FF").status == 400
    assert srv.request("HEAD", "/next/metered").status == 405
    after = scrape(srv)
    assert requests(after, "/next/*", 200) - requests(before, "/next/*", 200) == 25
    assert requests(after, "/next/*", 400) - requests(before, "/next/*", 400) == 1
    assert requests(after, "/next/*", 405) - requests(before, "/next/*", 405) == 1
    assert requests(after, "/api/next-batch/*", 200) == 4
    assert requests(after, "/generate", 200) == 1
    assert requests(after, "other", 404) - requests(before, "other", 404) == 1
    issued = value(after, "nextid_values_issued_total") - value(before, "nextid_values_issued_total")
    assert issued == 25 + 4 * 10 + 7
    assert value(after, "nextid_workers") == 3
    count = value(after, "nextid_request_duration_seconds_count")
    inf = value(after, 'nextid_request_duration_seconds_bucket{le="+Inf"}')
    assert count == inf and count >= 33
    assert value(after, "nextid_store_transactions_total") >= 29


def test_counts_survive_a_worker_that_exits(nextid):
    # max_requests recycles the single worker every 5 requests: its counts move to the totals.
    srv = nextid(workers=1, config={"max_requests": "5"})
    for _ in range(23):
        assert srv.get("/next/recycled").status == 200
    text = scrape(srv)
    assert requests(text, "/next/*", 200) == 23
    assert value(text, "nextid_values_issued_total") == 23


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool (Debian package prometheus)")
def test_promtool_accepts_the_exposition(server):
    for path in ("/next/a", "/nope", "/generate", "/api/types", "/next/%00"):
        server.get(path)
    text = scrape(server)
    check = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                           capture_output=True, timeout=30)
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()


def test_head_answers_headers_only(server):
    reply = server.request("HEAD", "/metrics")
    assert reply.status == 200 and reply.body == b""


def test_post_is_405(server):
    expect(server.request("POST", "/metrics"), 405,
           {"error": "Method not allowed", "message": "Allowed methods: GET, HEAD."})


POOL_KEYS = ["workers", "threads_per_worker", "in_flight", "durability", "store_bytes",
             "free_bytes", "filesystem_bytes", "checkpoints", "recoveries", "failchk_runs",
             "worker_restarts", "lock_timeouts", "requests", "issued", "latency_p50_us",
             "latency_p90_us", "latency_p99_us", "uptime"]


def pool(srv):
    reply = srv.get("/api/pool")
    assert reply.status == 200, str(reply)
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-store"
    body = reply.json()
    assert list(body) == POOL_KEYS, str(reply)
    return body


def test_pool_status_is_the_pool_at_a_glance_as_json(nextid):
    srv = nextid(workers=2, config={"threads": "3", "durability": "write",
                                    "checkpoint_interval_s": "1"})
    before = pool(srv)
    for _ in range(12):
        assert srv.get("/next/pooled").status == 200
    assert srv.get("/generate?count=5").status == 200
    # A worker counts a request after sending its answer: wait for the last counts to land.
    deadline = time.monotonic() + 5
    while pool(srv)["issued"] - before["issued"] != 17 and time.monotonic() < deadline:
        time.sleep(0.05)
    after = pool(srv)
    assert (after["workers"], after["threads_per_worker"], after["durability"]) == (2, 3, "write")
    # The request asking; a thread that has just sent its answer may still be finishing it.
    deadline = time.monotonic() + 5
    while pool(srv)["in_flight"] != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool(srv)["in_flight"] == 1
    assert after["issued"] - before["issued"] == 17
    # Every request answered: the histogram's count (which the scrape itself joins afterwards).
    text = scrape(srv)
    assert after["requests"] <= value(text, "nextid_request_duration_seconds_count")
    assert after["requests"] - before["requests"] >= 13
    assert (after["recoveries"], after["failchk_runs"], after["worker_restarts"],
            after["lock_timeouts"]) == (0, 0, 0, 0)
    # Percentiles are bucket bounds of the histogram, in order (these requests take well under
    # the last bound, 1 s, past which they would be -1).
    bounds = [250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000]
    p = [after["latency_p50_us"], after["latency_p90_us"], after["latency_p99_us"]]
    assert all(v in bounds for v in p) and p == sorted(p), p
    assert 0 < after["store_bytes"] < after["filesystem_bytes"]
    assert 0 < after["free_bytes"] <= after["filesystem_bytes"]
    # The housekeeper writes a checkpoint every checkpoint_interval_s.
    deadline = time.monotonic() + 10
    while pool(srv)["checkpoints"] < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pool(srv)["checkpoints"] >= 2
    head = srv.request("HEAD", "/api/pool")
    assert (head.status, head.body) == (200, b"")
    assert srv.request("POST", "/api/pool").status == 405
