#!/usr/bin/env bash
# The transactional outbox: outbox rows and transactional logical decoding
# messages become their declared events, in commit order with translator
# events, with the key, CloudEvents attributes and payload a consumer
# expects; deletes of outbox rows are ignored; records that break the
# contract (bad payload, unknown event, non-transactional message) become
# dead letters with their reason.
. "$(dirname "$0")/../lib/servers.sh"

PY=/usr/bin/python3
pg_start
psql -q -v ON_ERROR_STOP=1 -f "$top_srcdir/conf/demo/outbox.sql"
psql -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE orders (id bigint PRIMARY KEY, total numeric NOT NULL);
SQL

cat >"$TC_TMP/events.cfg" <<CFG
source = { conninfo = "$TC_CONNINFO"; create_slot = true; create_publication = true; status_interval = 1; };
state_dir = "$TC_TMP/state";
sink = { type = "stdout"; dead_letter_topic = "dlq"; };
events = (
  { name = "acme.shop.OrderPlaced"; version = 1; table = "orders"; on = ["insert"];
    topic = "orders"; key = "new.id";
    fields = ( { name = "id"; number = 1; type = "int64"; value = "new.id"; },
               { name = "total"; number = 2; type = "decimal"; value = "new.total"; } ); },
  { name = "acme.shop.PaymentTaken"; version = 1; outbox = "public.outbox"; topic = "payments";
    on_error = "dead_letter";
    fields = ( { name = "order_id"; number = 1; type = "int64"; required = true; },
               { name = "note"; number = 2; type = "string"; },
               { name = "codes"; number = 3; type = "int32"; repeated = true; },
               { name = "at"; number = 4; type = "timestamp"; } ); }
);
CFG

"$top_builddir/tablecast" check-config "$TC_TMP/events.cfg" >/dev/null ||
	tc_fail "check-config refused the outbox configuration"
"$top_builddir/tablecast" schema generate --config "$TC_TMP/events.cfg" --out "$TC_TMP/proto"
PROTO=acme/shop/v1/payment_taken.proto
[ -f "$TC_TMP/proto/$PROTO" ] || tc_fail "schema generate wrote no $PROTO for the outbox event"
mkdir -p "$TC_TMP/py"
protoc --proto_path="$TC_TMP/proto" --proto_path=/usr/include --python_out="$TC_TMP/py" "$PROTO"
protoc --proto_path="$top_srcdir/proto" --python_out="$TC_TMP/py" tablecast/v1/change.proto

# check: the outbox table's shape.
"$top_builddir/tablecast" check --config "$TC_TMP/events.cfg" >"$TC_TMP/check.out" 2>&1 ||
	tc_fail "check refused the outbox table: $(cat "$TC_TMP/check.out")"
psql -q -v ON_ERROR_STOP=1 -c "CREATE TABLE bad_outbox (event text, version text, payload text)"
sed 's|outbox = "public.outbox"|outbox = "public.bad_outbox"|' "$TC_TMP/events.cfg" >"$TC_TMP/bad.cfg"
if "$top_builddir/tablecast" check --config "$TC_TMP/bad.cfg" >"$TC_TMP/check.out" 2>&1; then
	tc_fail "check accepted an outbox table of the wrong shape"
fi
grep -q "outbox public.bad_outbox column version is text, expected integer" "$TC_TMP/check.out" &&
	grep -q "outbox public.bad_outbox column payload is text, expected bytea" "$TC_TMP/check.out" ||
	tc_fail "check did not name the wrong columns: $(cat "$TC_TMP/check.out")"

tc_start "$TC_TMP/events.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

psql -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
-- 1: a translator event, then an outbox row deleted in the same transaction.
BEGIN;
INSERT INTO orders VALUES (1, 10.5);
INSERT INTO outbox (event, version, key, payload)
  VALUES ('acme.shop.PaymentTaken', 1, '1', pb_int(1, 1) || pb_string(2, 'first'));
DELETE FROM outbox;
COMMIT;
-- 2: the outbox row first, with a subject, extra headers and packed repeated numbers.
BEGIN;
INSERT INTO outbox (event, version, key, subject, payload, headers)
  VALUES ('acme.shop.PaymentTaken', 1, '2', 'payments/2',
          pb_int(1, 2) || pb_bytes(3, pb_varint(7) || pb_varint(-1)) || pb_bytes(4, pb_int(1, 1700000000)),
          '{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}');
INSERT INTO orders VALUES (2, 20);
COMMIT;
-- 3: a logical decoding message, between two translator events.
BEGIN;
INSERT INTO orders VALUES (3, 30);
SELECT pg_logical_emit_message(true, 'tablecast',
  outbox_message('acme.shop.PaymentTaken', 1, '3', pb_int(1, 3) || pb_string(2, 'by message')));
INSERT INTO orders VALUES (4, 40);
COMMIT;
-- 4: messages of other prefixes are not tablecast's; an update of an outbox row is not a record.
SELECT pg_logical_emit_message(true, 'someone-else', 'hello');
INSERT INTO outbox (event, version, key, payload) VALUES ('acme.shop.PaymentTaken', 1, '5', pb_int(1, 5));
UPDATE outbox SET key = 'changed';
DELETE FROM outbox;
SQL
psql -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
-- Dead letters: a field number the event does not declare, a wrong wire type,
-- a required field absent, an unknown event, an unknown version, bad UTF-8,
-- a message that is no envelope, and a non-transactional message.
INSERT INTO outbox (event, version, key, payload) VALUES ('acme.shop.PaymentTaken', 1, 'bad1', pb_int(1, 9) || pb_int(9, 1));
INSERT INTO outbox (event, version, key, payload) VALUES ('acme.shop.PaymentTaken', 1, 'bad2', pb_string(1, 'nine'));
INSERT INTO outbox (event, version, key, payload) VALUES ('acme.shop.PaymentTaken', 1, 'bad3', pb_string(2, 'no order id'));
INSERT INTO outbox (event, version, key, payload) VALUES ('acme.shop.Unknown', 1, 'bad4', pb_int(1, 9));
INSERT INTO outbox (event, version, key, payload) VALUES ('acme.shop.PaymentTaken', 2, 'bad5', pb_int(1, 9));
INSERT INTO outbox (event, version, key, payload) VALUES ('acme.shop.PaymentTaken', 1, 'bad6', pb_int(1, 9) || pb_bytes(2, '\xff'));
SELECT pg_logical_emit_message(true, 'tablecast', '\xffff'::bytea);
SELECT pg_logical_emit_message(false, 'tablecast',
  outbox_message('acme.shop.PaymentTaken', 1, 'bad8', pb_int(1, 8)));
INSERT INTO orders VALUES (99, 0);
SQL

wait_for 30 grep -q '"key":"99"' "$TC_TMP/changes.jsonl" || tc_fail "the last change did not arrive"
tc_stop

"$PY" - "$TC_TMP/changes.jsonl" "$TC_TMP/py" <<'PY' || tc_fail "the outbox stream is wrong (see above)"
import base64, json, sys
sys.path.insert(0, sys.argv[2])
from acme.shop.v1 import payment_taken_pb2 as pb
from tablecast.v1 import change_pb2

lines = [json.loads(l) for l in open(sys.argv[1])]
fail = False
def check(cond, what):
    global fail
    if not cond:
        print("FAIL:", what)
        fail = True

events = [l for l in lines if l["topic"] != "dlq"]
got = [(l["topic"], l["key"]) for l in events]
want = [("orders", "1"), ("payments", "1"), ("payments", "2"), ("orders", "2"),
        ("orders", "3"), ("payments", "3"), ("orders", "4"), ("payments", "5"), ("orders", "99")]
check(got == want, f"events in commit order: {got}")
# ce_id: commit LSN and place in the transaction, as for translator events.
for txn in ([0, 1], [2, 3], [4, 5, 6]):
    ids = [events[i]["ce"]["id"] for i in txn]
    prefixes = {i.rsplit("-", 1)[0] for i in ids}
    check(len(prefixes) == 1, f"one transaction, one LSN prefix: {ids}")
    check([i.rsplit("-", 1)[1] for i in ids] == [str(n) for n in range(len(ids))], f"ce_id numbering {ids}")
pay = [l for l in events if l["topic"] == "payments"]
for l in pay:
    check(l["ce"]["type"] == "acme.shop.PaymentTaken.v1", f"ce_type {l['ce']['type']}")
    check(l["ce"]["source"], "ce_source set")
    m = pb.PaymentTaken()
    m.ParseFromString(base64.b64decode(l["payload"]))
    check(str(m.order_id) == l["key"], f"payload order_id {m.order_id} for key {l['key']}")
check(pay[0]["data"]["note"] == "first", f"decoded values: {pay[0]['data']}")
m = pb.PaymentTaken(); m.ParseFromString(base64.b64decode(pay[1]["payload"]))
check(list(m.codes) == [7, -1] and m.at.seconds == 1700000000, f"packed repeated and timestamp: {m}")
check(pay[1]["ce"].get("subject") == "payments/2", "ce_subject from the subject column")
check(pay[1].get("headers", {}).get("traceparent", "").startswith("00-4bf9"), f"extra headers: {pay[1].get('headers')}")
check("subject" not in pay[0]["ce"], "no subject when the column is NULL")
check(pay[2]["data"]["note"] == "by message", "a logical decoding message is a record")

dlq = [l for l in lines if l["topic"] == "dlq"]
reasons = [l.get("error", "") for l in dlq]
expect = ["field number 9 is not declared", "has wire type 2, expected 0", 'required field "order_id"',
          "no event acme.shop.Unknown v1", "no event acme.shop.PaymentTaken v2", "is not UTF-8",
          "not a tablecast.v1.OutboxMessage", "not transactional"]
check(len(dlq) == len(expect), f"{len(dlq)} dead letters: {reasons}")
for want_reason, reason in zip(expect, reasons):
    check(want_reason in reason, f"dead letter reason {reason!r} should say {want_reason!r}")
for l in dlq:
    dl = change_pb2.DeadLetter(); dl.ParseFromString(base64.b64decode(l["payload"]))
    check(dl.error == l["error"], "the dead letter carries its reason")
    if "message" in l["error"] or "transactional" in l["error"]:
        check(len(dl.message) > 0, "a refused message carries its content")
    else:
        check(dl.change.relation == "public.outbox" and len(getattr(dl.change, "new")) > 0, "a refused row carries the row")
if fail:
    sys.exit(1)
print(f"{len(events)} events and {len(dlq)} dead letters as expected")
PY
grep -qE '^([0-9T:.Z-]+ )?tablecast: warning: dead letter: outbox record acme.shop.PaymentTaken v1: payload: field number 9' \
	"$TC_TMP/tablecast.log" || tc_fail "the dead letter was not logged"
