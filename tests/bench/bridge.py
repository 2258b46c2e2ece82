"""The hand-written peer bridge a team would write instead of tablecast:
psycopg2 reads the slot through wal2json, each insert or update becomes a
JSON event (numeric kept exact with Decimal) produced to Kafka with
confluent-kafka, and the slot is confirmed after producer.flush().

usage: bridge.py CONNINFO SLOT BOOTSTRAP TOPIC CHANGES
Exits once CHANGES events are acknowledged by Kafka and confirmed; prints
"delivered N".
"""
import json
import sys
from decimal import Decimal

import psycopg2
import psycopg2.extras
from confluent_kafka import Producer

conninfo, slot, bootstrap, topic, want = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5,
                     "compression.type": "lz4"})
delivered = 0
produced = 0


def on_delivery(err, msg):
    global delivered
    if err is not None:
        sys.exit(f"bridge: delivery failed: {err}")
    delivered += 1


def produce(value, key):
    while True:
        try:
            producer.produce(topic, value, key=key, on_delivery=on_delivery)
            return
        except BufferError:
            producer.poll(0.1)


def consume(msg):
    global produced
    change = json.loads(msg.payload, parse_float=Decimal)
    if change.get("action") in ("I", "U"):
        cols = {c["name"]: c["value"] for c in change["columns"]}
        qty, price = cols["qty"], cols["price"]
        event = {"id": cols["id"], "qty": qty, "price": str(price),
                 "total": str(Decimal(qty) * price) if price is not None else None,
                 "note": cols["note"], "at": cols["at"]}
        produce(json.dumps(event).encode(), str(cols["id"]).encode())
        produced += 1
        producer.poll(0)
    if produced % 10000 == 0 or produced >= want:
        producer.flush()
        msg.cursor.send_feedback(flush_lsn=msg.data_start)
        if delivered >= want:
            raise psycopg2.extras.StopReplication()


conn = psycopg2.connect(conninfo, connection_factory=psycopg2.extras.LogicalReplicationConnection)
cur = conn.cursor()
cur.start_replication(slot_name=slot, decode=True,
                      options={"format-version": "2", "add-tables": "public.bench"})
try:
    cur.consume_stream(consume)
except psycopg2.extras.StopReplication:
    pass
print(f"delivered {delivered}")
