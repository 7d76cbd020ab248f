"""nextid-grpc: the Sequential ID Counter's gRPC service (API.md section 10) on the store of a
real nextid, through a client generated from grpc/*.proto by python3-grpc-tools, as a user of
the original generates one from its own .proto.

First the wire (field numbers and types read from raw bytes, both ways), then every method with
exact values, the admin metadata, every status code, numbers shared with REST, concurrency,
hostile input, and kills (of nextid-grpc and of the pool under it).
"""

import collections
import datetime
import os
import signal
import socket
import struct
import subprocess
import threading
import time

import grpc
import pytest

import nextid_server as ns
from conftest import ADMIN_TOKEN, GrpcExited, admin, health_pb, pb

SERVICE = "/sequentialid.SequentialIDService/"
LONG_MAX = 2 ** 63 - 1
TIMEOUT_S = 10


def configure(stub, prefix, fmt="", rule="", padding=0):
    return stub.UpdateConfig(pb.UpdateConfigRequest(
        config=pb.ConfigInfo(prefix=prefix, format=fmt, padding=padding, description=rule),
        client_id="test-admin"), metadata=admin(), timeout=TIMEOUT_S)


def code_of(fn):
    """The status code and message a call ends with."""
    try:
        fn()
    except grpc.RpcError as e:
        return e.code(), e.details()
    return grpc.StatusCode.OK, None


def raw(channel, method):
    """A call that sends and returns bytes as they are (no serializer on either side)."""
    return channel.unary_unary(SERVICE + method)


# ---- the wire ----

def fields(data):
    """Split protobuf bytes into (field number, wire type, value) triples: the test's own reading
    of the wire, so the generated code's view is checked against API.md section 10, not
    against itself. Varints are ints, length-delimited fields bytes."""
    out, i = [], 0

    def varint():
        nonlocal i
        shift = value = 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while i < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            out.append((number, wire, varint()))
        elif wire == 2:
            n = varint()
            out.append((number, wire, data[i:i + n]))
            i += n
        else:
            raise AssertionError("unexpected wire type %d" % wire)
    return out


def test_the_wire_has_api_md_s_field_numbers_and_types(grpc_server):
    g = grpc_server()
    configure(g.stub(), "SG", "%s%06d")
    ch = g.channel()
    # GetNextRequest: prefix string [1], client_id string [2], correlation_id string [3]
    got = fields(raw(ch, "GetNext")(b"\x0a\x02SG\x12\x03erp\x1a\x02c1", timeout=TIMEOUT_S))
    by = {n: (w, v) for n, w, v in got}
    assert sorted(by) == [1, 2, 3, 4, 5]
    assert by[1] == (2, b"SG000001")            # full_number string [1]
    assert by[2] == (2, b"SG")                  # prefix string [2]
    assert by[3] == (0, 1)                      # counter int64 [3]
    assert by[4][0] == 2 and by[4][1].endswith(b"Z")  # generated_at string [4], RFC 3339 UTC
    datetime.datetime.strptime(by[4][1].decode(), "%Y-%m-%dT%H:%M:%S.%fZ")
    assert by[5][0] == 2 and len(by[5][1]) == 36    # message_id string [5], a UUID
    # GetNextBatchRequest: prefix [1], count int32 [2], client_id [3], correlation_id [4]
    got = fields(raw(ch, "GetNextBatch")(b"\x0a\x02SG\x10\x02\x1a\x01a\x22\x01b",
                                          timeout=TIMEOUT_S))
    assert [(n, w) for n, w, _ in got] == [(1, 2), (1, 2), (2, 2), (3, 0), (4, 0), (5, 0),
                                           (6, 2), (7, 2)]
    assert [v for n, _, v in got if n == 1] == [b"SG000002", b"SG000003"]
    assert dict((n, v) for n, _, v in got if n != 1)[5] == 2   # count int32 [5]
    # GetStatusRequest prefix [1] -> prefix [1], current_counter [2], is_active bool [3],
    # last_generated [4], total_generated [5], config ConfigInfo [6]
    got = fields(raw(ch, "GetStatus")(b"\x0a\x02SG", timeout=TIMEOUT_S))
    by = {n: (w, v) for n, w, v in got}
    assert by[1] == (2, b"SG") and by[2] == (0, 3) and by[3] == (0, 1) and by[5] == (0, 3)
    assert by[4][0] == 2 and by[6][0] == 2
    # ConfigInfo: prefix [1], format [2], padding int32 [3], initial_value [5], max_value [6],
    # is_active [7], description [8] (the reset rule); separator [4] is empty, so not sent
    assert fields(by[6][1]) == [(1, 2, b"SG"), (2, 2, b"%s%06d"), (3, 0, 6), (5, 0, 1),
                                (6, 0, LONG_MAX), (7, 0, 1), (8, 2, b"never")]
    # HealthResponse: status enum [1] (SERVING = 0 is not sent), message [2], details map [3]
    got = fields(raw(ch, "Health")(b"", timeout=TIMEOUT_S))
    assert [(n, w) for n, w, _ in got] == [(2, 2), (3, 2), (3, 2), (3, 2)]
    assert dict(tuple(v for _, _, v in fields(e)) for n, _, e in got if n == 3)[b"store"] == \
        b"healthy"
    # ResetCounterRequest: prefix [1], new_value int64 [2], reason [3], client_id [4],
    # correlation_id [5] -> success bool [1], message [2], old_value [3], new_value [4]
    reset = ch.unary_unary(SERVICE + "ResetCounter")
    got = fields(reset(b"\x0a\x02SG\x10\x0a\x1a\x02ok\x22\x02op\x2a\x01z", metadata=admin(),
                       timeout=TIMEOUT_S))
    assert got == [(1, 0, 1), (2, 2, b"Counter reset from 3 to 10"), (3, 0, 3), (4, 0, 10)]
    # GetConfigRequest prefix [1] -> config [1], found bool [2]
    got = fields(raw(ch, "GetConfig")(b"\x0a\x02SG", timeout=TIMEOUT_S))
    assert [(n, w) for n, w, _ in got] == [(1, 2), (2, 0)] and got[1][2] == 1
    # UpdateConfigRequest: config [1], client_id [2], correlation_id [3] -> success [1],
    # message [2], config [3]
    got = fields(raw(ch, "UpdateConfig")(b"\x0a\x0e\x0a\x02PO\x18\x08\x42\x06yearly\x12\x02op",
                                          metadata=admin(), timeout=TIMEOUT_S))
    assert [(n, w) for n, w, _ in got] == [(1, 0), (2, 2), (3, 2)]
    assert (8, 2, b"yearly") in fields(got[2][2]) and (3, 0, 8) in fields(got[2][2])


# ---- every method ----

def test_every_method_answers_with_exact_values(grpc_server):
    g = grpc_server()
    s = g.stub()
    r = configure(s, "SG", "%s%06d")
    assert (r.success, r.message) == (True, "configuration created successfully")
    assert r.config == pb.ConfigInfo(prefix="SG", format="%s%06d", padding=6, initial_value=1,
                                     max_value=LONG_MAX, is_active=True, description="never")
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    n = s.GetNext(pb.GetNextRequest(prefix="SG", client_id="erp", correlation_id="c1"),
                  timeout=TIMEOUT_S)
    assert (n.full_number, n.prefix, n.counter) == ("SG000001", "SG", 1)
    at = datetime.datetime.strptime(n.generated_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)
    assert before <= at <= before + datetime.timedelta(seconds=30)
    b = s.GetNextBatch(pb.GetNextBatchRequest(prefix="SG", count=1000, client_id="erp"),
                       timeout=TIMEOUT_S)
    assert list(b.full_numbers) == ["SG%06d" % i for i in range(2, 1002)]
    assert (b.prefix, b.start_counter, b.end_counter, b.count) == ("SG", 2, 1001, 1000)
    assert len(b.batch_id) == 36 and b.generated_at.endswith("Z")
    st = s.GetStatus(pb.GetStatusRequest(prefix="SG"), timeout=TIMEOUT_S)
    assert (st.prefix, st.current_counter, st.is_active, st.total_generated) == \
        ("SG", 1001, True, 1001)
    assert st.last_generated == b.generated_at
    assert st.config.format == "%s%06d"
    c = s.GetConfig(pb.GetConfigRequest(prefix="SG"), timeout=TIMEOUT_S)
    assert c.found and c.config == r.config
    none = s.GetConfig(pb.GetConfigRequest(prefix="NOPE"), timeout=TIMEOUT_S)
    assert not none.found and not none.HasField("config")
    rs = s.ResetCounter(pb.ResetCounterRequest(prefix="SG", new_value=5000, reason="new year",
                                               client_id="ops", correlation_id="r1"),
                        metadata=admin(), timeout=TIMEOUT_S)
    assert (rs.success, rs.message, rs.old_value, rs.new_value) == \
        (True, "Counter reset from 1001 to 5000", 1001, 5000)
    assert s.GetNext(pb.GetNextRequest(prefix="SG"), timeout=TIMEOUT_S).full_number == \
        "SG005001"
    h = s.Health(pb.HealthRequest(), timeout=TIMEOUT_S)
    assert h.status == pb.HealthResponse.SERVING and h.message == "Service is healthy"
    assert h.details["store"] == "healthy" and h.details["durability"] == "sync"
    assert int(h.details["uptime_seconds"]) >= 0
    hc = g.health().Check(health_pb.HealthCheckRequest(), timeout=TIMEOUT_S)
    assert hc.status == health_pb.HealthCheckResponse.SERVING
    hc = g.health().Check(health_pb.HealthCheckRequest(
        service="sequentialid.SequentialIDService"), timeout=TIMEOUT_S)
    assert hc.status == health_pb.HealthCheckResponse.SERVING
    assert code_of(lambda: g.health().Check(health_pb.HealthCheckRequest(service="other"),
                                            timeout=TIMEOUT_S))[0] == grpc.StatusCode.NOT_FOUND
    # the configuration changed over gRPC is the one REST sees, and the other way round
    assert g.srv.get("/api/v1/config/SG").json()["format_template"] == "%s%06d"


def test_a_yearly_prefix_numbers_by_year_as_the_original(grpc_server):
    g = grpc_server()
    s = g.stub()
    r = configure(s, "INV", "INV%d-%04d", "yearly")
    assert (r.config.format, r.config.description) == ("INV%d-%04d", "yearly")
    year = datetime.datetime.now(datetime.timezone.utc).year
    assert s.GetNext(pb.GetNextRequest(prefix="INV"), timeout=TIMEOUT_S).full_number == \
        "INV%d-0001" % year
    # a later UpdateConfig that leaves format, padding and rule empty changes none of them
    r = configure(s, "INV")
    assert (r.message, r.config.format, r.config.description) == \
        ("configuration updated successfully", "INV%d-%04d", "yearly")
    assert s.GetNext(pb.GetNextRequest(prefix="INV"), timeout=TIMEOUT_S).full_number == \
        "INV%d-0002" % year


# ---- admin ----

def test_admin_methods_need_the_bearer_token(grpc_server):
    g = grpc_server()
    s = g.stub()
    configure(s, "SG")
    reset = lambda md: code_of(lambda: s.ResetCounter(  # noqa: E731
        pb.ResetCounterRequest(prefix="SG", new_value=10), metadata=md, timeout=TIMEOUT_S))
    assert reset(None)[0] == grpc.StatusCode.UNAUTHENTICATED
    assert reset(None)[1] == \
        'send the admin token as metadata "authorization: Bearer <admin_token>"'
    assert reset([("authorization", "Bearer " + ADMIN_TOKEN + "x")])[0] == \
        grpc.StatusCode.UNAUTHENTICATED
    assert reset([("authorization", ADMIN_TOKEN)])[0] == grpc.StatusCode.UNAUTHENTICATED
    assert reset([("authorization", "Bearer " + ADMIN_TOKEN)])[0] == grpc.StatusCode.OK
    update = lambda md: code_of(lambda: s.UpdateConfig(  # noqa: E731
        pb.UpdateConfigRequest(config=pb.ConfigInfo(prefix="X")), metadata=md,
        timeout=TIMEOUT_S))
    assert update(None)[0] == grpc.StatusCode.UNAUTHENTICATED
    assert update([("authorization", "Bearer nope")])[0] == grpc.StatusCode.UNAUTHENTICATED
    # no admin_token configured: PERMISSION_DENIED, whatever the call carries
    off = grpc_server(config={"admin_token": None})
    so = off.stub()
    for md in (None, admin()):
        code, message = code_of(lambda: so.UpdateConfig(
            pb.UpdateConfigRequest(config=pb.ConfigInfo(prefix="X")), metadata=md,
            timeout=TIMEOUT_S))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert message.startswith("admin methods are off: no admin_token is configured")
    assert code_of(lambda: so.GetConfig(pb.GetConfigRequest(prefix="X"), timeout=TIMEOUT_S))[0] \
        == grpc.StatusCode.OK


# ---- status codes ----

def test_each_failure_has_its_status_code_and_takes_nothing(grpc_server):
    g = grpc_server()
    s = g.stub()
    configure(s, "SG")
    C = grpc.StatusCode

    def call(method, **fields):
        req = getattr(pb, method + "Request")(**fields)
        md = admin() if method in ("ResetCounter", "UpdateConfig") else None
        return code_of(lambda: getattr(s, method)(req, metadata=md, timeout=TIMEOUT_S))

    assert call("GetNext", prefix="NOPE") == \
        (C.NOT_FOUND, "prefix NOPE not configured; configure it first (UpdateConfig)")
    assert call("GetNextBatch", prefix="NOPE", count=2)[0] == C.NOT_FOUND
    assert call("GetStatus", prefix="NOPE")[0] == C.NOT_FOUND
    assert call("ResetCounter", prefix="NOPE", new_value=1)[0] == C.NOT_FOUND
    assert call("GetNext") == (C.INVALID_ARGUMENT, "prefix is required.")
    assert call("GetNext", prefix="a/b")[0] == C.INVALID_ARGUMENT
    assert call("GetNext", prefix="SG", client_id="x" * 129) == \
        (C.INVALID_ARGUMENT, "client_id must be at most 128 bytes.")
    assert call("GetNext", prefix="SG", correlation_id="a\tb")[0] == C.INVALID_ARGUMENT
    for count in (0, -1, 1001):
        assert call("GetNextBatch", prefix="SG", count=count) == \
            (C.INVALID_ARGUMENT, "count must be between 1 and 1000.")
    assert call("ResetCounter", prefix="SG", new_value=-1)[0] == C.INVALID_ARGUMENT
    assert call("UpdateConfig", config=pb.ConfigInfo(prefix="SG", format="{yy}"))[0] == \
        C.INVALID_ARGUMENT
    assert call("UpdateConfig", config=pb.ConfigInfo(prefix="SG", separator="-")) == \
        (C.INVALID_ARGUMENT, "separator is not supported; put it in format.")
    assert call("UpdateConfig", client_id="op")[0] == C.INVALID_ARGUMENT
    # nothing above took a number
    assert s.GetNext(pb.GetNextRequest(prefix="SG"), timeout=TIMEOUT_S).counter == 1
    s.GetNextBatch(pb.GetNextBatchRequest(prefix="SG", count=4), timeout=TIMEOUT_S)
    assert call("ResetCounter", prefix="SG", new_value=2) == (
        C.FAILED_PRECONDITION, "new_value 2 is below the current counter of prefix SG, 5: that "
        "would issue numbers again, so nextid does not lower a counter")
    assert call("ResetCounter", prefix="SG", new_value=LONG_MAX - 1)[0] == C.OK
    assert call("GetNextBatch", prefix="SG", count=2) == (
        C.RESOURCE_EXHAUSTED, "prefix SG has fewer than 2 numbers left before its maximum; "
        "nothing was issued, ask for fewer")
    last = s.GetNext(pb.GetNextRequest(prefix="SG"), timeout=TIMEOUT_S)
    assert (last.counter, last.full_number) == (LONG_MAX, "SG%d" % LONG_MAX)
    assert call("GetNext", prefix="SG") == \
        (C.RESOURCE_EXHAUSTED, "prefix SG reached its maximum; nothing was issued")
    st = s.GetStatus(pb.GetStatusRequest(prefix="SG"), timeout=TIMEOUT_S)
    assert (st.current_counter, st.is_active) == (LONG_MAX, False)


# ---- shared with REST ----

def test_numbers_taken_over_rest_and_grpc_alternately_never_collide(grpc_server):
    g = grpc_server()
    s = g.stub()
    configure(s, "SG")
    got = []
    for i in range(40):
        if i % 2:
            r = g.srv.get("/api/v1/next/SG?client_id=rest")
            assert r.status == 200, str(r)
            got.append((r.json()["counter"], r.json()["full_number"], r.json()["message_id"],
                        "rest"))
        else:
            n = s.GetNext(pb.GetNextRequest(prefix="SG", client_id="grpc",
                                            correlation_id="c%d" % i), timeout=TIMEOUT_S)
            got.append((n.counter, n.full_number, n.message_id, "grpc"))
    assert [c for c, _, _, _ in got] == list(range(1, 41))
    audit = g.srv.get("/api/v1/audit/SG?limit=1000",
                      headers={"Authorization": "Bearer " + ADMIN_TOKEN})
    assert audit.status == 200, str(audit)
    records = audit.json()["records"]
    assert [(r["counter"], r["full_number"], r["message_id"], r["client_id"]) for r in records] \
        == [(c, f, m, who) for c, f, m, who in got]
    # A gRPC caller's correlation_id is its own field of the record; REST records have none.
    assert [r.get("correlation_id") for r in records] == \
        [("c%d" % i if i % 2 == 0 else None) for i in range(40)]


# ---- load ----

def test_sixteen_clients_get_distinct_consecutive_numbers(grpc_server):
    g = grpc_server()
    configure(g.stub(), "LOAD")
    got = [[] for _ in range(16)]
    errors = []

    def draw(i):
        stub = g.stub(g.channel())
        try:
            for _ in range(200):
                got[i].append(stub.GetNext(pb.GetNextRequest(prefix="LOAD", client_id="c%d" % i),
                                           timeout=30).counter)
        except grpc.RpcError as e:
            errors.append(e)

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(16)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    elapsed = time.monotonic() - start
    assert not errors, errors[:3]
    for mine in got:
        assert mine == sorted(mine)  # a later answer never carries a smaller number
    assert sorted(v for mine in got for v in mine) == list(range(1, 3201))
    print("16 x 200 GetNext in %.2f s: %.0f calls/s" % (elapsed, 3200 / elapsed))
    st = g.stub().GetStatus(pb.GetStatusRequest(prefix="LOAD"), timeout=TIMEOUT_S)
    assert (st.current_counter, st.total_generated) == (3200, 3200)


# ---- hostile input ----

def h2_frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + \
        struct.pack(">I", stream) + payload


def hpack_literal(name, value):
    """A header field as a literal without indexing, no Huffman coding (RFC 7541, 6.2.2)."""
    def string(s):
        assert len(s) < 127
        return bytes([len(s)]) + s
    return b"\x00" + string(name) + string(value)


def stalled_connection(port, streams, path):
    """A client that opens `streams` calls and never reads: its window of 0 bytes lets the server
    send no message back. Returns the socket (the caller closes it)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    out += h2_frame(4, 0, 0, struct.pack(">HI", 4, 0))  # SETTINGS_INITIAL_WINDOW_SIZE = 0
    headers = b"".join(hpack_literal(n, v) for n, v in (
        (b":method", b"POST"), (b":scheme", b"http"), (b":path", path),
        (b":authority", b"127.0.0.1"), (b"content-type", b"application/grpc"),
        (b"te", b"trailers")))
    body = b"\x00" + struct.pack(">I", 4) + b"\x0a\x02SG"
    for i in range(streams):
        stream = 2 * i + 1
        out += h2_frame(1, 4, stream, headers) + h2_frame(0, 1, stream, body)
    sock.sendall(out)
    return sock


def test_hostile_input_is_refused_and_the_server_keeps_answering(grpc_server):
    g = grpc_server()
    s = g.stub()
    configure(s, "SG")
    ch = g.channel()
    C = grpc.StatusCode
    # truncated and malformed messages
    for body in (b"\x0a\x05SG", b"\x0a", b"\x08\x05", b"\xff\xff\xff"):
        code, message = code_of(lambda: raw(ch, "GetNext")(body, timeout=TIMEOUT_S))
        assert (code, message) == \
            (C.INVALID_ARGUMENT, "The request is not a valid sequentialid.GetNextRequest "
             "message."), body
    # an embedded NUL is seen, not cut off
    assert code_of(lambda: raw(ch, "GetNext")(b"\x0a\x03SG\x00", timeout=TIMEOUT_S))[0] == \
        C.INVALID_ARGUMENT
    # an oversized message: refused by the core before it is read
    big = b"\x0a\x02SG\x12" + b"\x80\x80\x01" + b"x" * 16384
    assert code_of(lambda: raw(ch, "GetNext")(big, timeout=TIMEOUT_S))[0] == \
        C.RESOURCE_EXHAUSTED
    # unknown methods and services
    for path in (SERVICE + "GetNope", "/other.Service/GetNext", "/grpc.health.v1.Health/Watch"):
        code, message = code_of(lambda: ch.unary_unary(path)(b"", timeout=TIMEOUT_S))
        assert (code, message) == (C.UNIMPLEMENTED, "unknown method " + path)
    # not HTTP/2 at all, and HTTP/2 without gRPC's content type
    with socket.create_connection(("127.0.0.1", g.port), timeout=5) as junk:
        junk.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + os.urandom(4096))
        try:
            while junk.recv(4096):
                pass
        except OSError:
            pass
    curl = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null",
                           "-w", "%{http_code}", "-H", "content-type: application/json",
                           "-d", "{}", "http://127.0.0.1:%d%sGetNext" % (g.port, SERVICE)],
                          capture_output=True, text=True, timeout=30)
    assert curl.stdout != "200" or "grpc" not in curl.stderr, curl
    # a client that opens many streams and never reads: others are served meanwhile
    stalled = [stalled_connection(g.port, 300, (SERVICE + "GetStatus").encode())
               for _ in range(3)]
    try:
        time.sleep(0.5)
        start = time.monotonic()
        assert [s.GetNext(pb.GetNextRequest(prefix="SG"), timeout=TIMEOUT_S).counter
                for _ in range(20)] == list(range(1, 21))
        assert time.monotonic() - start < 5
    finally:
        for sock in stalled:
            sock.close()
    assert s.GetNext(pb.GetNextRequest(prefix="SG"), timeout=TIMEOUT_S).counter == 21
    assert g.proc.poll() is None
    assert g.stop() == 0


# ---- running it ----

def test_grpc_port_is_honoured_and_bad_options_are_usage_errors(grpc_server):
    g = grpc_server(start=False)
    port = ns.free_port()
    g.env = {"GRPC_PORT": str(port)}
    g.start(port_arg=False)
    assert g.port == port
    assert g.stub().Health(pb.HealthRequest(), timeout=TIMEOUT_S).message == "Service is healthy"
    assert g.stop() == 0
    for args, env in ((["--port", "x"], {}), (["--bogus"], {}), ([], {"GRPC_PORT": "70000"})):
        bad = grpc_server(srv=g.srv, args=args, env=env, start=False)
        with pytest.raises(GrpcExited) as e:
            bad.start(port_arg=False)
        assert e.value.returncode == 2


def test_tls_from_the_two_config_keys(grpc_server, tmp_path):
    cert, key = str(tmp_path / "grpc.crt"), str(tmp_path / "grpc.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    g = grpc_server(config={"grpc_tls_cert": cert, "grpc_tls_key": key})
    assert "(TLS)" in g.log()
    with open(cert, "rb") as f:
        creds = grpc.ssl_channel_credentials(root_certificates=f.read())
    s = g.stub(g.channel(creds))
    configure(s, "SG")
    assert s.GetNext(pb.GetNextRequest(prefix="SG"), timeout=TIMEOUT_S).full_number == "SG000001"
    # plaintext to a TLS port is refused
    assert code_of(lambda: g.stub().GetNext(pb.GetNextRequest(prefix="SG"), timeout=3))[0] \
        == grpc.StatusCode.UNAVAILABLE
    # one key without the other stops start-up, saying why
    del g.srv.settings["grpc_tls_key"]
    g.srv.write_config()
    bad = grpc_server(srv=g.srv, start=False)
    with pytest.raises(GrpcExited) as e:
        bad.start()
    assert e.value.returncode == 1
    assert "TLS needs both grpc_tls_cert and grpc_tls_key" in bad.log()


def test_sigterm_finishes_and_exits_0(grpc_server):
    g = grpc_server()
    configure(g.stub(), "SG")
    g.stub().GetNext(pb.GetNextRequest(prefix="SG"), timeout=TIMEOUT_S)
    start = time.monotonic()
    assert g.stop() == 0
    assert time.monotonic() - start < 3
    assert '"stopped"' in g.log()


# ---- kills ----

def draw_until(stub, prefix, stop, got, codes):
    while not stop.is_set():
        try:
            got.append(stub.GetNext(pb.GetNextRequest(prefix=prefix), timeout=5).counter)
        except grpc.RpcError as e:
            codes[e.code()] += 1
            time.sleep(0.02)


def serve_again(g, deadline_s=60):
    """Start nextid-grpc again until it serves: after a SIGKILL inside Berkeley DB it may wait
    for the pool's failchk, or its watchdog may end it (exit 3) for another start."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            return g.start()
        except GrpcExited as e:
            assert e.returncode == 3 and time.monotonic() < end, str(e)


def number_when_served(g, prefix, deadline_s=60):
    """Start nextid-grpc again and ask for a number until one comes: the killed one may have
    died inside a transaction, whose record lock stays until the pool's failchk (every 10 s)
    releases it; meanwhile the calls answer UNAVAILABLE (busy)."""
    serve_again(g, deadline_s)
    end = time.monotonic() + deadline_s
    while True:
        try:
            return g.stub().GetNext(pb.GetNextRequest(prefix=prefix), timeout=15).counter
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.UNAVAILABLE and time.monotonic() < end, e
        if g.proc.poll() is not None:  # its watchdog ended it: start another
            serve_again(g, deadline_s)
        time.sleep(0.2)


@pytest.mark.slow
def test_sigkill_of_nextid_grpc_under_load_issues_nothing_twice(grpc_server):
    g = grpc_server(config={"request_timeout_s": 3})
    configure(g.stub(), "K")
    seen = []
    for delay_s in (0.3, 0.8):
        stop, got, codes = threading.Event(), [[] for _ in range(4)], collections.Counter()
        stubs = [g.stub(g.channel()) for _ in range(4)]
        threads = [threading.Thread(target=draw_until, args=(stubs[i], "K", stop, got[i], codes))
                   for i in range(4)]
        for t in threads:
            t.start()
        time.sleep(delay_s)
        g.proc.send_signal(signal.SIGKILL)
        g.proc.wait(10)
        stop.set()
        for t in threads:
            t.join(30)
        values = [v for mine in got for v in mine]
        assert values, "nothing before the kill"
        seen += values
        g.stop()
        value = number_when_served(g, "K")
        assert value > max(seen), (value, max(seen))
        print("killed after %s s: %d numbers, max %d; then %d"
              % (delay_s, len(values), max(values), value))
        seen.append(value)
    repeated = [v for v, n in collections.Counter(seen).items() if n > 1]
    assert not repeated, sorted(repeated)[:20]


@pytest.mark.slow
def test_the_pool_killed_and_restarted_under_load_leaves_no_dead_handle(grpc_server):
    """Killed, the pool leaves the store as it was, and nextid-grpc goes on; the master's next
    start recovers the store under it (after waiting 5 s for its lock), which panics its handle:
    it answers UNAVAILABLE, closes the handle and opens the store again by itself."""
    g = grpc_server()
    configure(g.stub(), "P")
    stop, got, codes = threading.Event(), [], collections.Counter()
    t = threading.Thread(target=draw_until, args=(g.stub(g.channel()), "P", stop, got, codes))
    t.start()
    try:
        time.sleep(0.3)
        g.srv.kill_master(signal.SIGKILL)
        time.sleep(0.5)
        during = len(got)
        g.srv.start_master(wait=True)
        deadline = time.monotonic() + 30
        while not codes[grpc.StatusCode.UNAVAILABLE] and time.monotonic() < deadline:
            time.sleep(0.05)
        after_recovery = len(got)
        while len(got) < after_recovery + 20 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        t.join(30)
    assert set(codes) <= {grpc.StatusCode.UNAVAILABLE}, codes
    assert codes[grpc.StatusCode.UNAVAILABLE] > 0, "the recovery went unnoticed"
    assert during > 0 and len(got) >= after_recovery + 20, (during, after_recovery, len(got))
    assert got == sorted(set(got)), "a number twice, or out of order"
    assert "opened the store in" in g.log()
    r = g.srv.get("/api/v1/next/P")
    assert r.status == 200 and r.json()["counter"] > max(got), str(r)
