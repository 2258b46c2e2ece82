"""A consumer building its read model from events alone: the last event per key.

usage: replay-state.py BOOTSTRAP TOPIC PYDIR UPSERT_TYPE=module:Class DELETE_TYPE OUT
Reads TOPIC from the beginning, keeping per key the last record. On SIGUSR1
it writes OUT: one line per live key, the upsert message's fields joined
by tabs (in field-number order), sorted by key as a number; a key whose
last event is DELETE_TYPE is gone. OUT.stats gets record counts per
ce_type and per ce_tablecastsnapshot value, and how many snapshot or
backfill records repeated a ce_id already seen ("ids repeated": a chunk read
again) and how many repeated one seen with another key ("id conflicts": a
consumer deduplicating by ce_id would drop a different row). Runs until
SIGTERM.
"""
import collections
import importlib
import os
import signal
import sys
import uuid

from confluent_kafka import Consumer

bootstrap, topic, pydir, upsert, delete_type, outfile = sys.argv[1:7]
upsert_type, spec = upsert.split("=", 1)
module_name, class_name = spec.split(":")
sys.path.insert(0, pydir)
message_class = getattr(importlib.import_module(module_name), class_name)
fields = sorted(message_class.DESCRIPTOR.fields, key=lambda f: f.number)

last = {}  # key -> the row as OUT prints it, None when the key's last event is a delete
counts = collections.Counter()
read_ids = {}  # hash of a snapshot or backfill record's ce_id -> its key
running = True
dump_requested = False


def stop(signum, frame):
    global running
    running = False


def request_dump(signum, frame):
    global dump_requested
    dump_requested = True


def row_of(ce_type, value):
    """The upsert message's fields joined by tabs; None for a delete."""
    if ce_type == delete_type:
        return None
    if ce_type != upsert_type:
        counts["unexpected type " + ce_type] += 1
        return None
    msg = message_class.FromString(value)
    return "\t".join(str(getattr(msg, f.name)) for f in fields)


def dump():
    lines = sorted((int(key), row) for key, row in last.items() if row is not None)
    with open(outfile + ".tmp", "w") as out:
        for _, line in lines:
            out.write(line + "\n")
    with open(outfile + ".stats.tmp", "w") as out:
        for name, n in sorted(counts.items()):
            out.write(f"{name}\t{n}\n")
    os.replace(outfile + ".stats.tmp", outfile + ".stats")
    os.replace(outfile + ".tmp", outfile)


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
signal.signal(signal.SIGUSR1, request_dump)
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "replay-" + uuid.uuid4().hex,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False,
                     "topic.metadata.refresh.interval.ms": 1000})
consumer.subscribe([topic])
def consume_batch():
    """Apply what the broker has now; the number of records."""
    batch = consumer.consume(num_messages=10000, timeout=0.2)
    for msg in batch:
        if msg.error():
            print(f"replay-state: {msg.error()}", file=sys.stderr)
            continue
        headers = dict(msg.headers() or [])
        ce_type = headers.get("ce_type", b"").decode()
        counts["type " + ce_type] += 1
        kind = headers.get("ce_tablecastsnapshot", b"-").decode()
        counts["snapshot " + kind] += 1
        key = msg.key().decode()
        if kind != "-":
            id_hash = hash(headers.get("ce_id", b""))
            if id_hash in read_ids:
                counts["ids repeated" if read_ids[id_hash] == key else "id conflicts"] += 1
            else:
                read_ids[id_hash] = key
        last[key] = row_of(ce_type, msg.value())
    return len(batch)


while running:
    consume_batch()
    if dump_requested:
        # Catch up first: while batches come back full, the broker holds more.
        while consume_batch() == 10000:
            pass
        dump_requested = False
        dump()
consumer.close()
