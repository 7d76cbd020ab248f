"""Sequences created with nextidctl on the running service: maximum, minimum, increment, cycle
(API.md sections 2 and 8)."""

from nextid_server import expect, expect_next

MAX = 9223372036854775807


def exhausted(name):
    return {"error": "Sequence exhausted",
            "message": "Sequence '%s' reached its maximum; raise its max or enable cycle." % name}


def show(server, name):
    out = server.nextidctl("show", name).stdout
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def test_the_last_value_below_2_63_is_issued_once_then_409_forever(server):
    server.nextidctl("create", "big", "--start", MAX - 2)
    for value in (MAX - 2, MAX - 1, MAX):
        expect_next(server.get("/next/big"), value, "big")
    for _ in range(3):
        expect(server.get("/next/big"), 409, exhausted("big"))
    expect(server.get("/next/big?format=text"), 409, exhausted("big"))


def test_a_configured_max_stops_the_sequence(server):
    server.nextidctl("create", "m3", "--max", 3)
    for value in (1, 2, 3):
        expect_next(server.get("/next/m3"), value, "m3")
    expect(server.get("/next/m3"), 409, exhausted("m3"))
    expect(server.get("/next/m3"), 409, exhausted("m3"))


def test_a_cycling_sequence_wraps_to_its_min(server):
    server.nextidctl("create", "c3", "--max", 3, "--cycle")
    for value in (1, 2, 3, 1, 2):
        expect_next(server.get("/next/c3"), value, "c3")


def test_increment_and_start_are_honoured(server):
    server.nextidctl("create", "by5", "--start", 10, "--increment", 5)
    for value in (10, 15, 20):
        expect_next(server.get("/next/by5"), value, "by5")
    fields = show(server, "by5")
    assert (fields.get("name"), fields.get("next"), fields.get("increment")) == ("by5", "25", "5"), fields


def test_a_decrementing_sequence_stops_at_its_min(server):
    server.nextidctl("create", "down", "--increment", -1, "--start", 3, "--min", 1)
    for value in (3, 2, 1):
        expect_next(server.get("/next/down"), value, "down")
    # The wording of the message for a minimum is not fixed by the contract; status and title are.
    for _ in range(2):
        reply = server.get("/next/down")
        assert reply.status == 409, str(reply)
        assert reply.json()["error"] == "Sequence exhausted", str(reply)
        assert list(reply.json()) == ["error", "message"], str(reply)


def test_nextidctl_set_moves_a_live_counter(server):
    expect_next(server.get("/next/moved"), 1, "moved")
    server.nextidctl("set", "moved", "--next", 500)
    expect_next(server.get("/next/moved"), 500, "moved")
    expect_next(server.get("/next/moved"), 501, "moved")
    assert show(server, "moved").get("next") == "502"


def test_nextidctl_create_refuses_an_existing_name(server):
    server.nextidctl("create", "once")
    proc = server.nextidctl("create", "once", check=False)
    assert proc.returncode != 0 and proc.stderr.strip(), (proc.returncode, proc.stderr)
    expect_next(server.get("/next/once"), 1, "once")
