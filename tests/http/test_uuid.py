"""uuid8/12/16/22 from /api/next-id and /api/next-batch: length, alphabet, uniqueness, uniformity,
independence of workers and servers (API.md section 3)."""

import collections
import string
import threading

from nextid_server import expect, compact_json

ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits
LENGTHS = {"uuid8": 8, "uuid12": 12, "uuid16": 16, "uuid22": 22}


def is_token(value, length):
    return isinstance(value, str) and len(value) == length and all(c in ALPHABET for c in value)


def uuid_id(server, entity, data_type):
    """One value from /api/next-id, after checking the whole response."""
    reply = server.get("/api/next-id/%s?dataType=%s" % (entity, data_type))
    assert reply.status == 200, str(reply)
    obj = reply.json()
    assert list(obj) == ["entityName", "dataType", "value"], str(reply)
    value = obj["value"]
    expect(reply, 200, {"entityName": entity, "dataType": data_type, "value": value})
    assert is_token(value, LENGTHS[data_type]), str(reply)
    return value


def uuid_batch(server, entity, data_type, size):
    """The values of one /api/next-batch, after checking the whole response and every value."""
    reply = server.get("/api/next-batch/%s?dataType=%s&batchSize=%d" % (entity, data_type, size),
                       timeout=30)
    assert reply.status == 200, str(reply)
    obj = reply.json()
    assert list(obj) == ["entityName", "dataType", "batchSize", "values"], str(reply)
    values = obj["values"]
    assert reply.body == compact_json({"entityName": entity, "dataType": data_type,
                                       "batchSize": size, "values": values}), str(reply)
    expect(reply, 200, obj)
    assert len(values) == size, "%d values in a batch of %d" % (len(values), size)
    bad = [v for v in values if not is_token(v, LENGTHS[data_type])]
    assert not bad, "values of %s that are not %d characters of [A-Za-z0-9]: %r" % (
        data_type, LENGTHS[data_type], bad[:5])
    return values


def test_single_values_have_the_length_and_alphabet_of_their_type(server):
    for data_type in LENGTHS:
        values = [uuid_id(server, "one-" + data_type, data_type) for _ in range(20)]
        assert len(set(values)) == len(values), values


def test_post_hands_out_uuids_like_get(server):
    reply = server.request("POST", "/api/next-id/p?dataType=uuid16")
    assert reply.status == 200 and is_token(reply.json()["value"], 16), str(reply)
    reply = server.request("POST", "/api/next-batch/p?dataType=uuid16&batchSize=3")
    assert reply.status == 200, str(reply)
    assert [is_token(v, 16) for v in reply.json()["values"]] == [True] * 3, str(reply)


def test_batches_have_the_length_and_alphabet_of_their_type(server):
    for data_type in LENGTHS:
        values = uuid_batch(server, "many-" + data_type, data_type, 100)
        assert len(set(values)) == 100
    assert len(uuid_batch(server, "single", "uuid22", 1)) == 1


def test_a_batch_of_10000_uuid8_is_valid_and_distinct(server):
    values = uuid_batch(server, "u8", "uuid8", 10000)
    # 10,000 draws from 62^8 ~ 2.2e14 collide with probability ~ 2e-7.
    assert len(set(values)) == 10000


def test_100000_uuid22_have_no_duplicate(server):
    seen = set()
    for _ in range(10):
        seen.update(uuid_batch(server, "u22", "uuid22", 10000))
    assert len(seen) == 100000, "%d duplicates among 100,000 uuid22" % (100000 - len(seen))


def test_characters_are_uniform_by_a_chi_square_test(server):
    # 25,000 uuid8 are exactly 200,000 characters, each expected 200,000/62 ~ 3225.8 times if the
    # 62 characters are equally likely. Pearson's statistic sum((observed - expected)^2 / expected)
    # then follows a chi-square distribution with 62 - 1 = 61 degrees of freedom, whose upper
    # 0.001 quantile is 100.888: a uniform generator fails this test once in 1,000 runs. A
    # generator with modulo bias (byte % 62 favours 8 characters 5:4) scores in the thousands.
    values = []
    for size in (10000, 10000, 5000):
        values += uuid_batch(server, "chi", "uuid8", size)
    text = "".join(values)
    assert len(text) == 200000
    counts = collections.Counter(text)
    expected = len(text) / len(ALPHABET)
    statistic = sum((counts.get(c, 0) - expected) ** 2 / expected for c in ALPHABET)
    assert statistic < 100.888, "chi-square %.1f >= 100.888 (61 df, p = 0.001); counts %r" % (
        statistic, sorted(counts.items()))


def test_concurrent_requests_across_workers_never_repeat_a_value(nextid):
    # A generator seeded once in the master and copied into each forked worker would hand out
    # the same values in every worker; concurrent clients spread over the workers would see them.
    srv = nextid(workers=4)
    clients, per_client = 8, 40
    results = [[] for _ in range(clients)]
    problems = []

    def client(k):
        for i in range(per_client):
            data_type = "uuid8" if i % 2 == 0 else "uuid12"
            reply = srv.get("/api/next-id/w-%s?dataType=%s" % (data_type, data_type), timeout=10)
            if reply.status != 200:
                problems.append(str(reply))
                return
            results[k].append(reply.json()["value"])

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a client did not finish within 60 s"
    assert not problems, problems[:5]
    values = [v for r in results for v in r]
    assert len(values) == clients * per_client
    repeated = [v for v, n in collections.Counter(values).items() if n > 1]
    assert not repeated, "values handed out more than once: %r" % repeated[:10]


def test_two_servers_produce_different_values(nextid):
    # Two services on fresh stores must not start from the same generator state.
    first, second = nextid(), nextid()
    a = uuid_batch(first, "same", "uuid12", 1000) + [uuid_id(first, "one", "uuid8")]
    b = uuid_batch(second, "same", "uuid12", 1000) + [uuid_id(second, "one", "uuid8")]
    common = set(a) & set(b)
    assert not common, "both servers handed out %r" % sorted(common)[:10]


def test_a_uuid_entity_shows_in_status_with_a_null_current_value(server):
    for data_type in LENGTHS:
        uuid_id(server, "st-" + data_type, data_type)
        for _ in range(2):  # status consumes nothing and stays null
            expect(server.get("/api/status/st-" + data_type), 200,
                   {"entityName": "st-" + data_type, "dataType": data_type, "currentValue": None})
    uuid_batch(server, "st-batch", "uuid22", 3)
    expect(server.get("/api/status/st-batch"), 200,
           {"entityName": "st-batch", "dataType": "uuid22", "currentValue": None})
