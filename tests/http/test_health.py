"""/health, /health/live and /health/ready (API.md section 9)."""

import time

from nextid_server import expect

HEALTH_PATHS = ["/health", "/health/live", "/health/ready"]


def test_health_reports_healthy_and_the_uptime_in_whole_seconds(server):
    reply = server.get("/health")
    bound = time.monotonic() - server.started_at + 1
    body = reply.json()
    assert list(body) == ["status", "uptime"], str(reply)
    uptime = body["uptime"]
    assert isinstance(uptime, int) and not isinstance(uptime, bool) and 0 <= uptime <= bound, str(reply)
    expect(reply, 200, {"status": "healthy", "uptime": uptime})


def test_health_in_text_is_exactly_ok(server):
    expect(server.get("/health", headers={"Accept": "text/plain"}), 200, b"OK", "text/plain")


def test_live_and_ready_answer_with_their_status(server):
    expect(server.get("/health/live"), 200, {"status": "live"})
    expect(server.get("/health/ready"), 200, {"status": "ready"})


def test_head_on_health_endpoints_is_200_with_no_body(server):
    for path in HEALTH_PATHS:
        reply = server.request("HEAD", path)
        assert (reply.status, reply.body) == (200, b""), str(reply)
        assert reply.headers.get("cache-control") == "no-store", str(reply)


def test_post_on_health_endpoints_is_405_allowing_get_and_head(server):
    for path in HEALTH_PATHS:
        reply = server.request("POST", path)
        expect(reply, 405, {"error": "Method not allowed", "message": "Allowed methods: GET, HEAD."})
        assert reply.headers.get("allow") == "GET, HEAD", str(reply)
