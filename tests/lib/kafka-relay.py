"""Publish each stdin line as one Kafka message as soon as it arrives.

kcat -P reads stdin to the end before producing, which is no use for a live
stream; this relay produces line by line.
usage: kafka-relay.py BOOTSTRAP TOPIC < lines
"""
import sys

from confluent_kafka import Producer

bootstrap, topic = sys.argv[1], sys.argv[2]
producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                     "linger.ms": 5})
for line in iter(sys.stdin.readline, ""):
    producer.produce(topic, line.rstrip("\n").encode())
    producer.poll(0)
if producer.flush(30) != 0:
    sys.exit("kafka-relay: messages left undelivered")
