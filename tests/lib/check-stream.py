"""Check a collected event stream against the table it came from.

usage: check-stream.py COLLECTED PB2_DIR EXPECTED [--no-duplicates] [--max-duplicates N]
                       [--committed-only]
COLLECTED: kafka-collect.py output; PB2_DIR: protoc --python_out of the
generated schema (acme/bank/v1/account_changed.proto); EXPECTED: JSON
lines {"id": .., "version": ..} with every row's final version.

For every key: the events, deduplicated by ce_id, carry versions 1, 2, ...
up to the row's final version, in that order (commit order per key);
every repeated ce_id carries exactly the bytes of its first delivery.

--max-duplicates N fails when more than N records repeat an earlier ce_id.

--committed-only reads like a read_committed consumer: the test broker
writes no transaction markers, so a record counts only when the offsets
record of its Kafka transaction (header tablecast_txn) was written too.
"""
import base64
import collections
import json
import sys

sys.path.insert(0, sys.argv[2])
from acme.bank.v1 import account_changed_pb2 as pb  # noqa: E402

records = [json.loads(l) for l in open(sys.argv[1])]
if "--committed-only" in sys.argv:
    committed = {base64.b64decode(r["value"]).decode().split()[1]
                 for r in records if r["topic"] == "tablecast.offsets"}
    aborted = [r for r in records
               if r["topic"] == "accounts" and r["headers"].get("tablecast_txn") not in committed]
    print(f"{len(aborted)} records of uncommitted Kafka transactions left out")
    records = [r for r in records if r not in aborted]
records = [r for r in records if r["headers"].get("ce_type") == "acme.bank.AccountChanged.v1"]
expected = {r["id"]: r["version"] for r in map(json.loads, open(sys.argv[3]))}
no_duplicates = "--no-duplicates" in sys.argv
max_duplicates = None
if "--max-duplicates" in sys.argv:
    max_duplicates = int(sys.argv[sys.argv.index("--max-duplicates") + 1])

first = {}
versions = collections.defaultdict(list)
duplicates = 0
for r in records:
    ce_id, value = r["headers"]["ce_id"], r["value"]
    if ce_id in first:
        duplicates += 1
        assert first[ce_id] == value, f"ce_id {ce_id} delivered twice with different payloads"
        continue
    first[ce_id] = value
    msg = pb.AccountChanged()
    msg.ParseFromString(base64.b64decode(value))
    assert r["key"] == str(msg.id), f"key {r['key']} for account {msg.id}"
    versions[msg.id].append(msg.version)

for key, final in expected.items():
    got = versions.get(key, [])
    assert got == list(range(1, final + 1)), \
        f"account {key}: versions {got[:10]}...{got[-5:]} (final {final}) out of order or missing"
assert set(versions) <= set(expected), "events for rows that do not exist"
assert not (no_duplicates and duplicates), f"{duplicates} duplicates"
assert max_duplicates is None or duplicates <= max_duplicates, \
    f"{duplicates} duplicates, more than the {max_duplicates} allowed"
print(f"{len(first)} events for {len(expected)} keys complete and in order; {duplicates} duplicates, all with their original ce_id")
