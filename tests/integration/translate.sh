#!/usr/bin/env bash
# Events decoded by tools we did not write (protoc --decode, python3-protobuf
# from protoc --python_out) equal the rows in PostgreSQL, for every
# supported type, NULLs and extremes; the proto files are stable.
. "$(dirname "$0")/../lib/servers.sh"

PY=/usr/bin/python3 # Debian's, which has python3-protobuf
pg_start
export PGOPTIONS="-c timezone=UTC -c extra_float_digits=3"
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE everything (
    id bigint PRIMARY KEY, i2 smallint, i4 int, i8 bigint, b bool, f4 real, f8 double precision,
    n numeric, t text, vc varchar(20), c char(3), bin bytea, u uuid, j json, jb jsonb,
    d date, ts timestamp, tstz timestamptz, m mood, ai int[], at text[], big text
);
ALTER TABLE everything REPLICA IDENTITY FULL;
ALTER TABLE everything ALTER big SET STORAGE EXTERNAL;
SQL

cat >"$TC_TMP/events.cfg" <<CFG
source = { conninfo = "$TC_CONNINFO"; create_slot = true; create_publication = true; status_interval = 1; };
state_dir = "$TC_TMP/state";
sink = { type = "stdout"; };
events = (
  {
    name = "acme.types.Everything"; version = 1; table = "everything"; on = ["insert", "update"];
    topic = "everything"; key = "new.id"; subject = "'everything/' || new.id";
    fields = (
      { name = "id";   number = 1;  type = "int64";     value = "new.id"; },
      { name = "i2";   number = 2;  type = "int32";     value = "new.i2"; },
      { name = "i4";   number = 3;  type = "int32";     value = "new.i4"; },
      { name = "i8";   number = 4;  type = "int64";     value = "new.i8"; },
      { name = "b";    number = 5;  type = "bool";      value = "new.b"; },
      { name = "f4";   number = 6;  type = "float";     value = "new.f4"; },
      { name = "f8";   number = 7;  type = "double";    value = "new.f8"; },
      { name = "n";    number = 8;  type = "decimal";   value = "new.n"; },
      { name = "t";    number = 9;  type = "string";    value = "new.t"; },
      { name = "vc";   number = 10; type = "string";    value = "new.vc"; },
      { name = "c";    number = 11; type = "string";    value = "new.c"; },
      { name = "bin";  number = 12; type = "bytes";     value = "new.bin"; },
      { name = "u";    number = 13; type = "uuid";      value = "new.u"; },
      { name = "j";    number = 14; type = "json";      value = "new.j"; },
      { name = "jb";   number = 15; type = "json";      value = "new.jb"; },
      { name = "d";    number = 16; type = "date";      value = "new.d"; },
      { name = "ts";   number = 17; type = "timestamp"; value = "new.ts"; },
      { name = "tstz"; number = 18; type = "timestamp"; value = "new.tstz"; },
      { name = "m";    number = 19; type = "enum";      value = "new.m"; enum_values = ["sad", "ok", "happy"]; },
      { name = "ai";   number = 20; type = "int32";     value = "new.ai"; repeated = true; },
      { name = "at";   number = 21; type = "string";    value = "new.at"; repeated = true; },
      { name = "big";  number = 22; type = "string";    value = "new.big"; },
      { name = "big_len"; number = 23; type = "int32";  value = "length(new.big)"; },
      { name = "i4_x";    number = 24; type = "decimal"; value = "new.i4 * 1.5"; },
      { name = "m_text";  number = 25; type = "string";  value = "new.m::text"; }
    );
  }
);
CFG

"$top_builddir/tablecast" schema generate --config "$TC_TMP/events.cfg" --out "$TC_TMP/proto"
"$top_builddir/tablecast" schema generate --config "$TC_TMP/events.cfg" --out "$TC_TMP/proto2"
diff -r "$TC_TMP/proto" "$TC_TMP/proto2" || tc_fail "schema generation is not stable"
PROTO=acme/types/v1/everything.proto
[ -f "$TC_TMP/proto/$PROTO" ] || tc_fail "no $PROTO generated"
protoc --proto_path="$TC_TMP/proto" --proto_path=/usr/include --python_out="$TC_TMP/py" "$PROTO" 2>/dev/null ||
	{ mkdir -p "$TC_TMP/py" && protoc --proto_path="$TC_TMP/proto" --proto_path=/usr/include --python_out="$TC_TMP/py" "$PROTO"; }

tc_start "$TC_TMP/events.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

psql -q -v ON_ERROR_STOP=1 <<'SQL'
-- Extremes.
INSERT INTO everything VALUES (1, -32768, -2147483648, -9223372036854775808, true, 3.4028235e38, -1.7976931348623157e308,
  '-123456789012345678901234567890.123456789', 'unicode: grüße, 日本語, emoji 🎉', '', 'ab',
  '\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1, 2, {"x": null}]}', '{"b": 2, "a": 1}',
  '1969-07-20', '1901-12-13 20:45:52.000001', '2262-04-11 23:47:16.854775+00', 'happy', '{1,-2,2147483647}', '{"a b","c\"d",""}',
  (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 3000) g));
INSERT INTO everything VALUES (2, 32767, 2147483647, 9223372036854775807, false, -1.17549435e-38, 5e-324,
  '99999999999999999999999999999', '', 'x', 'abc', '', '00000000-0000-0000-0000-000000000000', '[]', 'null',
  '9999-12-31', '2038-01-19 03:14:08', '0001-01-01 00:00:00+00', 'sad', '{}', '{}', '');
-- Every nullable column NULL.
INSERT INTO everything (id) VALUES (3);
-- An update that leaves the big TOASTed column unchanged: filled from the old row (FULL).
UPDATE everything SET i4 = 42 WHERE id = 1;
SQL
four_events() { [ "$(count_lines '"topic":"everything"')" -ge 4 ]; }
wait_for 30 four_events ||
	tc_fail "expected 4 events, got $(grep -c '"topic":"everything"' "$TC_TMP/changes.jsonl")"
tc_stop

psql -At -c "SELECT json_build_object('id', id, 'i2', i2::text, 'i4', i4::text, 'i8', i8::text, 'b', b::text,
    'f4', f4::text, 'f8', f8::text, 'n', n::text, 't', t, 'vc', vc, 'c', c, 'bin', encode(bin, 'hex'),
    'u', u::text, 'j', j::text, 'jb', jb::text, 'd', d::text,
    'ts', (extract(epoch FROM ts) * 1000000)::bigint::text, 'tstz', (extract(epoch FROM tstz) * 1000000)::bigint::text,
    'm', m::text, 'ai', ai, 'at', at, 'big', big)
  FROM everything ORDER BY id" >"$TC_TMP/rows.jsonl"

# protoc decodes the binary payload with the generated schema.
$PY -c '
import base64, json, sys
first = next(l for l in open(sys.argv[1]) if "\"topic\":\"everything\"" in l)
sys.stdout.buffer.write(base64.b64decode(json.loads(first)["payload"]))' "$TC_TMP/changes.jsonl" >"$TC_TMP/event1.bin"
protoc --proto_path="$TC_TMP/proto" --proto_path=/usr/include --decode=acme.types.v1.Everything "$PROTO" \
	<"$TC_TMP/event1.bin" >"$TC_TMP/event1.txt" || tc_fail "protoc could not decode the payload"
grep -q 'i8: -9223372036854775808' "$TC_TMP/event1.txt" || tc_fail "protoc: int8 min missing: $(head -5 "$TC_TMP/event1.txt")"
grep -q 'n: "-123456789012345678901234567890.123456789"' "$TC_TMP/event1.txt" || tc_fail "protoc: numeric not exact"

PYTHONPATH="$TC_TMP/py" $PY - "$TC_TMP/changes.jsonl" "$TC_TMP/rows.jsonl" <<'PY'
import base64, decimal, json, struct, sys
from acme.types.v1 import everything_pb2 as pb

events = [json.loads(l) for l in open(sys.argv[1]) if '"topic":"everything"' in l]
rows = {r["id"]: r for r in map(json.loads, open(sys.argv[2]))}
assert len(events) == 4, len(events)

def f32(text):
    return struct.unpack("f", struct.pack("f", float(text)))[0]

def check(msg, row, label):
    def same(field, got, want):
        assert got == want, f"{label}: {field}: event {got!r} != table {want!r}"
    def present(field):
        return msg.HasField(field)
    for f in ("i2", "i4", "i8"):
        if row[f] is None: assert not present(f), f"{label}: {f} should be absent"
        else: same(f, getattr(msg, f), int(row[f]))
    if row["b"] is None: assert not present("b")
    else: same("b", msg.b, row["b"] == "true")
    if row["f4"] is not None: same("f4", msg.f4, f32(row["f4"]))
    if row["f8"] is not None: same("f8", msg.f8, float(row["f8"]))
    for f in ("n", "t", "vc", "c", "u", "j", "jb", "d", "big"):
        if row[f] is None: assert not present(f), f"{label}: {f} should be absent"
        else: same(f, getattr(msg, f), row[f])
    if row["bin"] is None: assert not present("bin")
    else: same("bin", msg.bin, bytes.fromhex(row["bin"]))
    for f in ("ts", "tstz"):
        if row[f] is None: assert not present(f); continue
        t = getattr(msg, f)
        same(f, t.seconds * 1000000 + t.nanos // 1000, int(row[f]))
    if row["m"] is None: assert not present("m")
    else:
        same("m", pb.Everything.M.Name(msg.m), "M_" + row["m"].upper())
        same("m_text", msg.m_text, row["m"])
    if row["ai"] is None: assert len(msg.ai) == 0
    elif None in row["ai"]: raise AssertionError("an array with NULL cannot be encoded")
    else: same("ai", list(msg.ai), row["ai"])
    if row["at"] is not None: same("at", list(msg.at), row["at"])
    if row["big"] is not None: same("big_len", msg.big_len, len(row["big"]))
    if row["i4"] is not None: same("i4_x", msg.i4_x, str(decimal.Decimal(row["i4"]) * decimal.Decimal("1.5")))
    else: assert not present("i4_x")

seen = []
for ev in events:
    msg = pb.Everything()
    msg.ParseFromString(base64.b64decode(ev["payload"]))
    assert ev["key"] == str(msg.id) and ev["ce"]["subject"] == f"everything/{msg.id}"
    assert ev["ce"]["type"] == "acme.types.Everything.v1", ev["ce"]["type"]
    seen.append((msg.id, ev))
    # The last event per id is compared with the table; the first of id 1 is before the update.
    last = max(i for i, (k, _) in enumerate(seen) if k == msg.id) == len(seen) - 1
    row = dict(rows[msg.id])
    if msg.id == 1 and msg.i4 != 42:
        row["i4"] = "-2147483648"
    check(msg, row, f"row {msg.id}")
ids = [k for k, _ in seen]
assert ids == [2, 3, 1] or sorted(set(ids)) == [1, 2, 3], ids
assert len({ev["ce"]["id"] for _, ev in seen}) == 4, "ce_id not unique"
print("translate: 4 events decoded by python3-protobuf equal the table")
PY
echo "translate: protoc --decode agrees"
