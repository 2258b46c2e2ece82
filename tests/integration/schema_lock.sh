#!/usr/bin/env bash
# The schema lock: `schema lock` writes it, `schema check` (and check-config
# --lock) refuses every breaking change with one line naming the event,
# version, field and rule (exit 1) and a malformed lock or configuration
# with exit 2. Every change it lets through is proved compatible with the
# classes protoc generates: payloads written with the new schema decode with
# the old python classes and the reverse, in binary and in JSON, and fields
# the reader does not know survive its round trip. conf/demo.lock is current.
. "$(dirname "$0")/../lib/servers.sh"

TC="$top_builddir/tablecast"
PY=/usr/bin/python3 # Debian's, which has python3-protobuf
COMPAT="$top_srcdir/tests/lib/proto-compat.py"
cd "$TC_TMP"

cat >base.cfg <<'CFG'
source = { conninfo = "dbname=shop"; };
events = (
  { name = "shop.orders.OrderShipped"; version = 1; table = "orders"; on = ["update"];
    topic = "orders"; key = "new.id";
    fields = (
      { name = "order_id";   number = 1; type = "int64";     value = "new.id"; },
      { name = "quantity";   number = 2; type = "int32";     value = "new.quantity"; },
      { name = "carrier";    number = 3; type = "enum";      value = "new.carrier";
        enum_values = ["DHL", "UPS"]; },
      { name = "tags";       number = 4; type = "string";    value = "new.tags"; repeated = true; },
      { name = "note";       number = 5; type = "string";    value = "new.note"; },
      { name = "shipped_at"; number = 6; type = "timestamp"; value = "new.shipped_at"; },
      { name = "total";      number = 7; type = "decimal";   value = "new.total"; },
      { name = "express";    number = 8; type = "bool";      value = "new.express"; }
    ); },
  { name = "shop.orders.OrderPaid"; version = 1; table = "orders"; on = ["update"];
    topic = "orders";
    fields = ( { name = "order_id"; number = 1; type = "int64"; value = "new.id"; } ); }
);
CFG

# edit NAME FROM TO [FROM TO]...: NAME.cfg is base.cfg with each FROM (which
# must be there) replaced by its TO.
edit() {
	$PY - "$@" <<'PY' || tc_fail "edit $1 failed"
import sys
name, pairs = sys.argv[1], sys.argv[2:]
text = open("base.cfg").read()
for old, new in zip(pairs[::2], pairs[1::2]):
    if old not in text:
        sys.exit("edit %s: %r is not in base.cfg" % (name, old))
    text = text.replace(old, new, 1)
open(name + ".cfg", "w").write(text)
PY
}
KEY='topic = "orders"; key = "new.id";'
NOTE='{ name = "note";       number = 5; type = "string";    value = "new.note"; },'


"$TC" schema lock --config base.cfg --lock base.lock >out 2>&1 || tc_fail "schema lock: $(cat out)"
grep -q "^base.lock: 2 event versions locked$" out || tc_fail "schema lock said: $(cat out)"
grep -q '^  field 3 carrier enum$' base.lock || tc_fail "lock lacks the enum field: $(cat base.lock)"
grep -q '^    value 2 "UPS"$' base.lock || tc_fail "lock lacks enum values"
cp base.lock base.lock.orig
# Deterministic: a second run writes the same bytes; the lock passes its own check.
"$TC" schema lock --config base.cfg --lock again.lock >/dev/null
cmp -s base.lock again.lock || tc_fail "schema lock is not deterministic"
"$TC" schema check --config base.cfg --lock base.lock --frozen >out 2>&1 || tc_fail "unchanged configuration refused: $(cat out)"

# ---- breaking changes: exit 1, one line each, from all three commands ---------
# refused NAME EVENT RULE FROM TO [FROM TO]...: the edit is refused with exactly
# one line "NAME.cfg:LINE: event EVENT v1: ... (RULE); declare version 2 instead".
nrefused=0
refused() {
	local name=$1 event=$2 rule=$3 rc
	shift 3
	edit "$name" "$@"
	for cmd in "schema check --config $name.cfg --lock base.lock" \
		"check-config --lock base.lock $name.cfg" \
		"schema lock --config $name.cfg --lock base.lock"; do
		rc=0
		# shellcheck disable=SC2086
		"$TC" $cmd >out 2>err || rc=$?
		[ "$rc" -eq 1 ] || tc_fail "$name: $cmd: exit $rc, expected 1: $(cat out err)"
		[ "$(wc -l <out)" -eq 1 ] || tc_fail "$name: $cmd: not one line: $(cat out)"
		grep -Eq "^($name\.cfg|base\.lock):[0-9]+: event $event v1: .* \($rule\); (.*, or )?declare version 2 instead$" out ||
			tc_fail "$name: $cmd: $(cat out)"
	done
	cmp -s base.lock base.lock.orig || tc_fail "$name: schema lock rewrote the lock"
	echo "schema_lock: refused $name: $(cut -d' ' -f2- out)"
	nrefused=$((nrefused + 1))
}
ship=shop.orders.OrderShipped
refused reused $ship FIELD_NUMBER_REUSED \
	'name = "quantity";   number = 2; type = "int32"' 'name = "weight";   number = 2; type = "double"'
refused renamed $ship FIELD_SAME_NAME 'name = "quantity"' 'name = "qty"'
refused widened $ship FIELD_WIRE_JSON_COMPATIBLE_TYPE \
	'number = 2; type = "int32"' 'number = 2; type = "int64"'
refused format $ship FIELD_WIRE_JSON_COMPATIBLE_TYPE \
	'number = 7; type = "decimal"' 'number = 7; type = "string"'
refused cardinality $ship FIELD_SAME_CARDINALITY 'value = "new.tags"; repeated = true;' 'value = "new.tags";'
refused removed $ship FIELD_NO_DELETE_UNLESS_RESERVED "$NOTE" ''
grep -q 'removed without reserving its number 5 and name "note"' out || tc_fail "removed: $(cat out)"
refused half_reserved $ship FIELD_NO_DELETE_UNLESS_RESERVED "$NOTE" '' "$KEY" "$KEY reserved = (5);"
grep -q 'removed without reserving its name "note"' out || tc_fail "half_reserved: $(cat out)"
refused enum_removed $ship ENUM_VALUE_NO_DELETE '["DHL", "UPS"]' '["DHL"]'
refused enum_inserted $ship ENUM_VALUE_SAME_NUMBER '["DHL", "UPS"]' '["DHL", "GLS", "UPS"]'
refused message_renamed shop.orders.OrderPaid MESSAGE_SAME_NAME '"shop.orders.OrderPaid"' '"shop.orders.OrderSettled"'
refused package_renamed shop.orders.OrderPaid PACKAGE_SAME_NAME '"shop.orders.OrderPaid"' '"shop.billing.OrderPaid"'
refused version_bumped shop.orders.OrderPaid EVENT_VERSION_NO_DELETE \
	'name = "shop.orders.OrderPaid"; version = 1;' 'name = "shop.orders.OrderPaid"; version = 2;'
# The removed version's line is the lock's.
"$TC" schema check --config version_bumped.cfg --lock base.lock >out 2>/dev/null || true
grep -q '^base\.lock:[0-9]*: event shop.orders.OrderPaid v1: the lock lists this version' out || tc_fail "version removed: $(cat out)"
[ "$nrefused" -ge 12 ] || tc_fail "only $nrefused refusals"

# `check --lock` refuses before it needs the database (none is running here).
rc=0
"$TC" check --config renamed.cfg --lock base.lock >out 2>&1 || rc=$?
[ "$rc" -eq 1 ] || tc_fail "check --lock: exit $rc: $(cat out)"
grep -q "(FIELD_SAME_NAME); declare version 2 instead" out || tc_fail "check --lock: $(cat out)"

# --force writes a breaking lock anyway.
cp base.lock forced.lock
"$TC" schema lock --config renamed.cfg --lock forced.lock --force >/dev/null || tc_fail "--force refused"
grep -q '^  field 2 qty int32$' forced.lock || tc_fail "--force did not write"

# ---- malformed input: exit 2, one file:line line ------------------------------
malformed() {
	local what=$1 rc=0
	shift
	"$TC" "$@" >out 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || tc_fail "$what: exit $rc, expected 2: $(cat out)"
	[ "$(wc -l <out)" -eq 1 ] || tc_fail "$what: not one line: $(cat out)"
	grep -Eq '^tablecast: [^: ]+(:[0-9]+)?: [^ ]' out || tc_fail "$what: $(cat out)"
}
printf 'tablecast-lock 1\nevent shop.orders.OrderPaid v1\n  package shop.orders.v1\n  field 1 order_id int64\n  field 1 again int64\n' >dup.lock
malformed "duplicate field" schema check --config base.cfg --lock dup.lock
grep -q '^tablecast: dup.lock:5: event shop.orders.OrderPaid v1: field number 1 is listed twice$' out || tc_fail "dup.lock: $(cat out)"
printf 'tablecast-lock 1\nevent shop.orders.OrderPaid v1\n  package shop.orders.v1\n  field 1 order_id enum\n    value 1 "unclosed\n' >quote.lock
malformed "unclosed quote" check-config --lock quote.lock base.cfg
head -c 3000 /dev/urandom >random.lock
malformed "random bytes" schema check --config base.cfg --lock random.lock
malformed "missing lock" schema check --config base.cfg --lock nowhere.lock
malformed "schema lock over a malformed lock" schema lock --config base.cfg --lock dup.lock
printf 'source = { conninfo = "dbname=x"; };\nevents = ( { name = "a.B"; version = 1; table = "t"; on = ["insert"]; topic = "t";\n  reserved = (1, 1);\n  fields = ( { name = "x"; number = 2; type = "int32"; value = "new.x"; } ); } );\n' >badcfg.cfg
malformed "reserved twice" schema check --config badcfg.cfg --lock base.lock
grep -q 'badcfg.cfg:3: event a.B: number 1 is reserved twice' out || tc_fail "reserved twice: $(cat out)"
printf 'source = { conninfo = "dbname=x"; };\nevents = ( { name = "a.B"; version = 1; table = "t"; on = ["insert"]; topic = "t";\n  reserved = (2);\n  fields = ( { name = "x"; number = 2; type = "int32"; value = "new.x"; } ); } );\n' >badcfg.cfg
malformed "field on a reserved number" check-config badcfg.cfg
grep -q 'badcfg.cfg:4: event a.B: field "x" uses number 2, which is reserved' out || tc_fail "reserved reuse: $(cat out)"

# ---- compatible changes: pass, and payloads cross both ways --------------------
# module path and message of OrderShipped v1
MOD=shop/orders/v1/order_shipped_pb2
MSG=OrderShipped
"$TC" schema generate --config base.cfg --out old-proto
mkdir -p old-py
protoc --proto_path=old-proto --proto_path=/usr/include --python_out=old-py \
	old-proto/shop/orders/v1/order_shipped.proto
ncompat=0
compatible() {
	local name=$1
	shift
	edit "$name" "$@"
	"$TC" schema check --config "$name.cfg" --lock base.lock >out 2>&1 || tc_fail "$name refused: $(cat out)"
	# Not --frozen: the lock does not list the addition yet; schema lock records it.
	cp base.lock "$name.lock"
	"$TC" schema lock --config "$name.cfg" --lock "$name.lock" >/dev/null || tc_fail "$name: schema lock refused"
	"$TC" schema check --config "$name.cfg" --lock "$name.lock" --frozen >/dev/null || tc_fail "$name: lock not current after schema lock"
	rm -rf "$name-proto" "$name-py" && mkdir -p "$name-py"
	"$TC" schema generate --config "$name.cfg" --out "$name-proto"
	protoc --proto_path="$name-proto" --proto_path=/usr/include --python_out="$name-py" \
		"$name-proto/shop/orders/v1/order_shipped.proto" || tc_fail "$name: protoc refused the new schema"
	# new → old, then old → new; binary and JSON; unknown fields kept by the reader.
	$PY "$COMPAT" write "$name-py" $MOD $MSG "$name.new" &&
		$PY "$COMPAT" read old-py $MOD $MSG "$name.new" "$name.old-read" &&
		$PY "$COMPAT" same "$name.new.values" "$name.old-read.values" &&
		$PY "$COMPAT" same "$name.new.json-values" "$name.old-read.json-values" &&
		$PY "$COMPAT" again "$name-py" $MOD $MSG "$name.new" "$name.old-read.bin" ||
		tc_fail "$name: new payloads through the old classes"
	$PY "$COMPAT" write old-py $MOD $MSG "$name.old" &&
		$PY "$COMPAT" read "$name-py" $MOD $MSG "$name.old" "$name.new-read" &&
		$PY "$COMPAT" same "$name.old.values" "$name.new-read.values" &&
		$PY "$COMPAT" same "$name.old.json-values" "$name.new-read.json-values" &&
		$PY "$COMPAT" again old-py $MOD $MSG "$name.old" "$name.new-read.bin" ||
		tc_fail "$name: old payloads through the new classes"
	echo "schema_lock: compatible $name: passes, and payloads cross both ways"
	ncompat=$((ncompat + 1))
}
compatible field_added \
	'{ name = "express";    number = 8; type = "bool";      value = "new.express"; }' \
	'{ name = "express";    number = 8; type = "bool";      value = "new.express"; },
      { name = "weight_kg";  number = 9; type = "double";    value = "new.weight"; },
      { name = "labels";     number = 10; type = "int32";    value = "new.labels"; repeated = true; }'
compatible enum_appended '["DHL", "UPS"]' '["DHL", "UPS", "GLS"]'
compatible field_reserved "$NOTE" '' "$KEY" "$KEY reserved = (5, \"note\");"
grep -q '^  reserved 5;$' field_reserved-proto/shop/orders/v1/order_shipped.proto ||
	tc_fail "the generated .proto does not reserve the removed field: $(cat field_reserved-proto/shop/orders/v1/order_shipped.proto)"
grep -q '^  reserved "note";$' field_reserved-proto/shop/orders/v1/order_shipped.proto || tc_fail "the name is not reserved"
compatible int32_to_uint32 'number = 2; type = "int32"' 'number = 2; type = "uint32"'
compatible int64_to_uint64 'name = "order_id";   number = 1; type = "int64"' 'name = "order_id";   number = 1; type = "uint64"'
compatible version_added '  { name = "shop.orders.OrderPaid";' '  { name = "shop.orders.OrderShipped"; version = 2; table = "orders"; on = ["insert"]; topic = "orders";
    fields = ( { name = "id"; number = 1; type = "string"; value = "new.id"; } ); },
  { name = "shop.orders.OrderPaid";'
compatible values_changed 'value = "new.quantity"' 'value = "new.quantity * 2"'
compatible reserved_ahead "$KEY" "$KEY reserved = (20, \"future\");"
compatible event_added '  { name = "shop.orders.OrderPaid";' '  { name = "shop.billing.InvoiceSent"; version = 1; table = "invoices"; on = ["insert"]; topic = "billing";
    fields = ( { name = "id"; number = 1; type = "int64"; value = "new.id"; } ); },
  { name = "shop.orders.OrderPaid";'
[ "$ncompat" -ge 9 ] || tc_fail "only $ncompat compatible changes"

# ---- the demo's lock is current ----------------------------------------------
"$TC" schema check --config "$top_srcdir/conf/demo.cfg" --lock "$top_srcdir/conf/demo.lock" --frozen >out 2>&1 ||
	tc_fail "conf/demo.lock is not current (tablecast schema lock --config conf/demo.cfg --lock conf/demo.lock): $(cat out)"
"$TC" schema lock --config "$top_srcdir/conf/demo.cfg" --lock demo.lock >/dev/null
cmp -s demo.lock "$top_srcdir/conf/demo.lock" || tc_fail "conf/demo.lock differs from what schema lock writes"
grep -q 'reserved 5;' <("$TC" schema generate --config "$top_srcdir/conf/demo.cfg" --out demo-proto && cat demo-proto/shop/orders/v2/order_shipped.proto) ||
	tc_fail "the demo's OrderShipped v2 does not reserve field 5"
echo "schema_lock: $nrefused breaking changes refused, $ncompat compatible ones proved with python3-protobuf"
