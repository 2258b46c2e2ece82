#!/usr/bin/python3
"""The warehouse's own read model of the orders, built from the events.

After the migration (docs/MIGRATION.md) the warehouse no longer reads the
storefront's `orders` table: this consumer keeps the orders it needs in the
warehouse's own database (an SQLite file) from the events on `shop.orders`,
and the warehouse finds its work there.

  warehouse-read-model.py build --db FILE --proto DIR --brokers HOST:PORT
                                [--topic shop.orders] [--from-beginning]
      read the topic up to its end as it is now, apply, exit
  warehouse-read-model.py next --db FILE --status STATUS
      print the oldest order in STATUS (nothing when there is none)
  warehouse-read-model.py dump --db FILE
      print every order, one line each, by id

DIR holds the classes `protoc --python_out` generated from the .proto files
of `tablecast schema generate`. Payloads are decoded with them; the event
type comes from the CloudEvents header ce_type (`shop.orders.OrderState.v1`).

How the events are applied:
- OrderState v1 (snapshot, insert, update) carries the whole order: it
  replaces the copy. OrderDeleted v1 removes it.
- OrderPlaced, OrderPaid and OrderShipped (v1, v2) say why an order changed;
  the OrderState of the same change carries the state they describe (and
  more exactly: OrderShipped v2's carrier is an enum), so they are decoded
  and counted but change nothing here. OrderLineAdded is for pickers; this
  model keeps orders only.
- Duplicates (a crashed producer sends a transaction again with the same
  ce_id, or the topic is read again) are dropped by ce_id.
- Per order in commit order: Kafka keeps the events of one key (the order
  id) in one partition, in order; on top of that an event whose commit
  position (the LSN in its ce_id) is not after the last one applied to its
  order is stale and dropped, and a row of the initial snapshot never
  overwrites a change streamed after it (a backfill row is applied where it
  stands: tablecast publishes it at its high watermark, after the changes
  it saw, and drops rows changed inside the window).
- The offsets read are kept in the same database, committed in the same
  transaction as the changes they caused: a crash between the two cannot
  apply an event twice or skip one.
"""

import argparse
import collections
import datetime
import importlib
import pathlib
import sqlite3
import sys
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    status      TEXT NOT NULL,
    total       TEXT NOT NULL,       -- exact decimal text, as published
    placed_at   TEXT NOT NULL,       -- UTC, microseconds
    shipped_at  TEXT,
    carrier     TEXT
);
-- Per order, the commit position of the last change applied (kept after a
-- delete too, so a stale state cannot bring the order back).
CREATE TABLE IF NOT EXISTS positions (
    order_id INTEGER PRIMARY KEY,
    lsn      INTEGER NOT NULL,
    idx      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS seen (ce_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS offsets (
    topic     TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next      INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
"""

STATE = "shop.orders.OrderState.v1"
DELETED = "shop.orders.OrderDeleted.v1"
# Why an order changed: the state event of the same change says what it is now.
INTENTS = {
    "shop.orders.OrderPlaced.v1",
    "shop.orders.OrderPaid.v1",
    "shop.orders.OrderShipped.v1",
    "shop.orders.OrderShipped.v2",
    "shop.orders.OrderLineAdded.v1",
}


def fail(msg):
    print("warehouse-read-model: " + msg, file=sys.stderr)
    sys.exit(1)


def open_db(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(SCHEMA)
    return db


def load_classes(proto_dir):
    """Message classes by CloudEvents type: package shop.orders.v1, message
    OrderState -> shop.orders.OrderState.v1."""
    root = pathlib.Path(proto_dir)
    sys.path.insert(0, str(root))
    classes = {}
    for f in sorted(root.rglob("*_pb2.py")):
        mod = importlib.import_module(".".join(f.relative_to(root).with_suffix("").parts))
        for name, desc in mod.DESCRIPTOR.message_types_by_name.items():
            pkg, _, version = mod.DESCRIPTOR.package.rpartition(".")
            classes[f"{pkg}.{name}.{version}"] = getattr(mod, name)
    if STATE not in classes or DELETED not in classes:
        fail(f"no classes for {STATE} and {DELETED} in {proto_dir}")
    return classes


def timestamp(msg, field):
    if not msg.HasField(field):
        return None
    ts = getattr(msg, field)
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def optional(msg, field):
    return getattr(msg, field) if msg.HasField(field) else None


def position(ce_id):
    """(lsn, index) of a streamed change's ce_id ("0/16B3748-2"); None for a
    snapshot or backfill row ("snapshot:...", "backfill:...")."""
    if ":" in ce_id:
        return None
    lsn, _, idx = ce_id.rpartition("-")
    hi, _, lo = lsn.partition("/")
    return (int(hi, 16) << 32 | int(lo, 16), int(idx))


def header(msg, name):
    for k, v in msg.headers() or []:
        if k == name:
            return v.decode()
    return None


def apply(db, classes, msg, counts):
    ce_id, ce_type = header(msg, "ce_id"), header(msg, "ce_type")
    if ce_id is None or ce_type is None:
        counts["not an event"] += 1
        return
    if db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (ce_id,)).rowcount == 0:
        counts["duplicate"] += 1
        return
    if ce_type not in classes:
        counts["unknown type " + ce_type] += 1
        return
    event = classes[ce_type]()
    event.ParseFromString(msg.value() or b"")
    if ce_type in INTENTS:
        counts["intent (state event applies it)"] += 1
        return
    if ce_type not in (STATE, DELETED):
        counts["unknown type " + ce_type] += 1
        return

    order_id = event.order_id
    pos = position(ce_id)
    last = db.execute("SELECT lsn, idx FROM positions WHERE order_id = ?", (order_id,)).fetchone()
    # A change not after the last one applied to the order, or a row of the
    # initial snapshot after a streamed change: the copy holds something
    # newer. (A backfill row is current where it stands in the partition:
    # tablecast publishes it after every change it saw.)
    if last is not None and (pos <= last if pos is not None else ce_id.startswith("snapshot:")):
        counts["stale"] += 1
        return
    if pos is not None:
        db.execute("INSERT OR REPLACE INTO positions VALUES (?, ?, ?)", (order_id, pos[0], pos[1]))
    if ce_type == DELETED:
        db.execute("DELETE FROM orders WHERE id = ?", (order_id,))
        counts["deleted"] += 1
        return
    db.execute(
        "INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)",
        (order_id, event.customer_id, event.status, event.total, timestamp(event, "placed_at"),
         timestamp(event, "shipped_at"), optional(event, "carrier")))
    counts["state" if pos is not None else ce_id.partition(":")[0] + " row"] += 1


def build(args):
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    classes = load_classes(args.proto)
    db = open_db(args.db)
    consumer = Consumer({
        "bootstrap.servers": args.brokers,
        "group.id": "warehouse-read-model",  # required by the client; offsets are kept in the model
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    })
    try:
        meta = consumer.list_topics(args.topic, timeout=10)
        topic = meta.topics.get(args.topic)
        if topic is None or topic.error is not None or not topic.partitions:
            fail(f"topic {args.topic}: {topic.error if topic else 'not found'}")
        stored = dict(db.execute("SELECT partition, next FROM offsets WHERE topic = ?", (args.topic,)))
        assign, ends = [], {}
        for p in sorted(topic.partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(args.topic, p), timeout=10)
            start = low if args.from_beginning else max(stored.get(p, low), low)
            if start < high:
                assign.append(TopicPartition(args.topic, p, start))
                ends[p] = high
        counts = collections.Counter()
        if assign:
            consumer.assign(assign)
        # Up to the end each partition had when we started: what tablecast
        # had published by then.
        idle_since = time.monotonic()
        while ends:
            # consume() waits for the whole batch or the timeout: keep it short.
            batch = consumer.consume(500, timeout=0.2)
            if not batch:
                if time.monotonic() - idle_since > 10:
                    fail("no events for 10 s before the end of " + ", ".join(f"partition {p}" for p in ends))
                continue
            idle_since = time.monotonic()
            db.execute("BEGIN")
            for msg in batch:
                if msg.error():
                    raise KafkaException(msg.error())
                p = msg.partition()
                if p not in ends or msg.offset() >= ends[p]:
                    continue
                counts["read"] += 1
                apply(db, classes, msg, counts)
                db.execute("INSERT OR REPLACE INTO offsets VALUES (?, ?, ?)", (args.topic, p, msg.offset() + 1))
                if msg.offset() + 1 >= ends[p]:
                    del ends[p]
            db.execute("COMMIT")
    finally:
        consumer.close()

    read = counts.pop("read", 0)
    parts = ", ".join(f"{n} {what}" for what, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    print(f"read {read} events from {args.topic} ({len(topic.partitions)} partitions)" + (": " + parts if parts else ""))
    by_status = db.execute("SELECT status, count(*) FROM orders GROUP BY status ORDER BY status").fetchall()
    total = sum(n for _, n in by_status)
    print(f"read model: {total} orders (" + ", ".join(f"{n} {s}" for s, n in by_status) + ")")
    if any(k.startswith("unknown type") for k in counts):
        return 1
    return 0


def next_order(args):
    row = open_db(args.db).execute(
        "SELECT min(id) FROM orders WHERE status = ?", (args.status,)).fetchone()
    if row[0] is not None:
        print(row[0])
    return 0


def dump(args):
    for row in open_db(args.db).execute("SELECT * FROM orders ORDER BY id"):
        print("|".join("" if v is None else str(v) for v in row))
    return 0


def main():
    ap = argparse.ArgumentParser(description="The warehouse's read model of the orders, from the events.")
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="read the topic to its end, apply, exit")
    b.add_argument("--db", required=True)
    b.add_argument("--proto", required=True, help="directory of protoc --python_out classes")
    b.add_argument("--brokers", required=True)
    b.add_argument("--topic", default="shop.orders")
    b.add_argument("--from-beginning", action="store_true",
                   help="read the topic again from its start (what was applied is dropped by ce_id)")
    n = sub.add_parser("next", help="the oldest order in a status")
    n.add_argument("--db", required=True)
    n.add_argument("--status", required=True)
    d = sub.add_parser("dump", help="every order, one line each")
    d.add_argument("--db", required=True)
    args = ap.parse_args()
    return {"build": build, "next": next_order, "dump": dump}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
