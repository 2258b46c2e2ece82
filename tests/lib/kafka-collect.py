"""Consume topics from the beginning and append every record to a file as a JSON line.

A real Kafka client reading alongside tablecast: the test broker keeps only
the tail of each partition, so tests collect as records arrive.
usage: kafka-collect.py BOOTSTRAP OUTFILE TOPIC... (runs until SIGTERM)
"""
import base64
import json
import signal
import sys
import uuid

from confluent_kafka import Consumer

bootstrap, outfile, topics = sys.argv[1], sys.argv[2], sys.argv[3:]
running = True


def stop(signum, frame):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "collect-" + uuid.uuid4().hex,
                     "auto.offset.reset": "earliest", "enable.auto.commit": False,
                     "topic.metadata.refresh.interval.ms": 1000})
consumer.subscribe(topics)
with open(outfile, "a", buffering=1) as out:
    while running:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            print(f"kafka-collect: {msg.error()}", file=sys.stderr)
            continue
        headers = {k: v.decode() for k, v in (msg.headers() or [])}
        out.write(json.dumps({
            "topic": msg.topic(), "partition": msg.partition(), "offset": msg.offset(),
            "key": msg.key().decode() if msg.key() is not None else None,
            "headers": headers, "value": base64.b64encode(msg.value() or b"").decode(),
        }) + "\n")
consumer.close()
