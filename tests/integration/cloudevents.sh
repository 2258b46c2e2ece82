#!/usr/bin/env bash
# CloudEvents structured mode, read by clients we did not write: every record
# on Kafka (events and dead letters) has content-type
# application/cloudevents+protobuf and a value that python3-protobuf, with the
# official io.cloudevents.v1 proto compiled by protoc, reads as a CloudEvent
# with every required attribute, the optional ones tablecast sets, and the
# event in proto_data (a google.protobuf.Any with its type URL), never in
# binary_data. The unpacked event equals the row.
. "$(dirname "$0")/../lib/servers.sh"

PY=/usr/bin/python3 # Debian's, which has python3-protobuf and python3-confluent-kafka
pg_start
broker_start --topic orders:1 --topic dlq:1
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL, carrier text,
                     qty int NOT NULL, shipped_at timestamptz);
ALTER TABLE orders REPLICA IDENTITY FULL;
INSERT INTO orders VALUES (1, 'paid', NULL, 2, NULL), (2, 'paid', NULL, 1, NULL), (3, 'paid', NULL, 7, NULL);
SQL

cat >"$TC_TMP/ce.cfg" <<CFG
state_dir = "$TC_TMP/state";
source = { conninfo = "$TC_CONNINFO"; create_slot = true; create_publication = true;
           tables = ["public.orders"]; status_interval = 1; };
sink = { type = "kafka"; dead_letter_topic = "dlq";
         kafka = ["bootstrap.servers=$KAFKA_BOOTSTRAP", "topic.metadata.refresh.interval.ms=1000"]; };
cloudevents = { source = "//test.example/shop"; mode = "structured"; };
events = (
  { name = "acme.shop.OrderShipped"; version = 1; table = "orders"; on = ["update"];
    when = "old.status <> 'shipped' AND new.status = 'shipped'";
    topic = "orders"; key = "new.id"; subject = "'order/' || new.id"; on_error = "dead_letter";
    fields = (
      { name = "order_id";   number = 1; type = "int64";     value = "new.id"; },
      { name = "carrier";    number = 2; type = "string";    value = "new.carrier"; },
      # Overflows for a large quantity: that row becomes a dead letter.
      { name = "grams";      number = 3; type = "int32";     value = "new.qty * 1000000000"; },
      { name = "shipped_at"; number = 4; type = "timestamp"; value = "new.shipped_at"; }
    ); }
);
CFG

# The consumer's schemas: the official CloudEvents proto, the event's, the dead letter's.
"$top_builddir/tablecast" schema generate --config "$TC_TMP/ce.cfg" --out "$TC_TMP/proto"
mkdir -p "$TC_TMP/py"
protoc --proto_path="$top_srcdir/proto" --proto_path=/usr/include --python_out="$TC_TMP/py" \
	io/cloudevents/v1/cloudevents.proto tablecast/v1/change.proto
protoc --proto_path="$TC_TMP/proto" --proto_path=/usr/include --python_out="$TC_TMP/py" \
	acme/shop/v1/order_shipped.proto

$PY "$top_srcdir/tests/lib/kafka-collect.py" "$KAFKA_BOOTSTRAP" "$TC_TMP/collected.jsonl" orders dlq \
	2>>"$TC_TMP/collect.log" &
collector=$!
tc_on_exit "kill $collector; wait $collector"
tc_start "$TC_TMP/ce.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

psql -q -v ON_ERROR_STOP=1 <<'SQL'
UPDATE orders SET status = 'shipped', carrier = 'DHL', shipped_at = '2026-11-24 08:05:00.123456+00' WHERE id = 1;
UPDATE orders SET status = 'shipped', shipped_at = '2026-11-25 00:00:00+00' WHERE id = 2;
UPDATE orders SET status = 'shipped', carrier = 'UPS' WHERE id = 3;
SQL
collected() { [ "$(grep -c . "$TC_TMP/collected.jsonl" 2>/dev/null || true)" -ge 3 ]; }
wait_for 30 collected ||
	tc_fail "records: $(cat "$TC_TMP/collected.jsonl" 2>/dev/null)"
tc_stop

$PY - "$TC_TMP/collected.jsonl" "$TC_TMP/py" <<'PY' || tc_fail "structured records do not decode as the spec says"
import base64, importlib.util, json, sys
sys.path.insert(0, sys.argv[2])
# The package is io.cloudevents.v1, and "io" is also Python's own module: load the file.
spec = importlib.util.spec_from_file_location(
    "cloudevents_pb2", sys.argv[2] + "/io/cloudevents/v1/cloudevents_pb2.py")
cloudevents_pb2 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cloudevents_pb2)
from acme.shop.v1 import order_shipped_pb2
from tablecast.v1 import change_pb2

records = [json.loads(l) for l in open(sys.argv[1])]
events = [r for r in records if r["topic"] == "orders"]
dead = [r for r in records if r["topic"] == "dlq"]
assert len(events) == 2 and len(dead) == 1, [(r["topic"], r["key"]) for r in records]

def cloudevent(record, want_type, want_url):
    # The Kafka binding: structured mode is told by the record's content-type.
    assert record["headers"]["content-type"] == "application/cloudevents+protobuf", record["headers"]
    ce = cloudevents_pb2.CloudEvent()
    ce.ParseFromString(base64.b64decode(record["value"]))
    # Required attributes.
    assert ce.id and ce.id == record["headers"]["ce_id"], (ce.id, record["headers"])
    assert ce.source == "//test.example/shop", ce.source
    assert ce.spec_version == "1.0", ce.spec_version
    assert ce.type == want_type, ce.type
    # The data: a protobuf message MUST be stored in proto_data.
    assert ce.WhichOneof("data") == "proto_data", ce.WhichOneof("data")
    assert not ce.HasField("binary_data")
    assert ce.proto_data.type_url == want_url, ce.proto_data.type_url
    attrs = ce.attributes
    # dataschema SHOULD be the type URL; datacontenttype MAY be application/protobuf.
    assert attrs["dataschema"].WhichOneof("attr") == "ce_uri" and attrs["dataschema"].ce_uri == want_url, attrs["dataschema"]
    assert attrs["datacontenttype"].ce_string == "application/protobuf", attrs["datacontenttype"]
    assert attrs["time"].WhichOneof("attr") == "ce_timestamp" and attrs["time"].ce_timestamp.seconds > 0, attrs["time"]
    # The headers the binding allows in structured mode say the same.
    assert record["headers"]["ce_type"] == ce.type and record["headers"]["ce_source"] == ce.source
    assert record["headers"]["ce_dataschema"] == want_url
    return ce

by_id = {}
for r in events:
    ce = cloudevent(r, "acme.shop.OrderShipped.v1", "type.googleapis.com/acme.shop.v1.OrderShipped")
    msg = order_shipped_pb2.OrderShipped()
    assert ce.proto_data.Is(msg.DESCRIPTOR) and ce.proto_data.Unpack(msg)
    assert ce.attributes["subject"].ce_string == "order/%d" % msg.order_id, ce.attributes["subject"]
    assert r["key"] == str(msg.order_id)
    by_id[msg.order_id] = msg
assert set(by_id) == {1, 2}, by_id
assert by_id[1].carrier == "DHL" and by_id[1].grams == 2000000000
assert by_id[1].shipped_at.seconds == 1795507500 and by_id[1].shipped_at.nanos == 123456000, by_id[1].shipped_at
assert not by_id[2].HasField("carrier") and by_id[2].grams == 1000000000, by_id[2]

ce = cloudevent(dead[0], "tablecast.v1.DeadLetter", "type.googleapis.com/tablecast.v1.DeadLetter")
dl = change_pb2.DeadLetter()
assert ce.proto_data.Unpack(dl)
assert dl.event == "acme.shop.OrderShipped" and dl.version == 1, dl
assert 'field "grams" (int32): 7000000000 out of range' in dl.error, dl.error
assert {c.name: c.text for c in getattr(dl.change, "new")}["id"] == "3"
print("cloudevents: 2 events and 1 dead letter decoded, attributes checked")
PY
# tablecast tail unwraps structured records too.
"$top_builddir/tablecast" tail --config "$TC_TMP/ce.cfg" --from-beginning --no-group --count 3 \
	--idle-exit 10 >"$TC_TMP/tail.jsonl" 2>"$TC_TMP/tail.err" || tc_fail "tail: $(cat "$TC_TMP/tail.err")"
grep -q '"data":{"orderId":"1","carrier":"DHL"' "$TC_TMP/tail.jsonl" || tc_fail "tail: $(cat "$TC_TMP/tail.jsonl")"
grep -q '"dead_letter":{"event":"acme.shop.OrderShipped","version":1,' "$TC_TMP/tail.jsonl" ||
	tc_fail "tail dead letter: $(cat "$TC_TMP/tail.jsonl")"
echo "PASS: cloudevents"
