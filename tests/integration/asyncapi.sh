#!/usr/bin/env bash
# `tablecast schema generate --asyncapi`: the document for conf/demo.cfg (and
# its structured-mode variant) passes the official AsyncAPI parser
# (@asyncapi/parser with @asyncapi/protobuf-schema-parser, npm, versions pinned
# by tests/asyncapi/package-lock.json) run by nodejs, and describes every
# topic, event version, key and CloudEvents header; a document broken on
# purpose fails the same validation. The npm packages are installed once into
# the build tree (npm ci), so the registry must be reachable the first time.
. "$(dirname "$0")/../lib/servers.sh"

TC="$top_builddir/tablecast"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	# CI installs them through ./bootstrap: their absence there is a failure.
	[ "${CI:-}" != "true" ] || tc_fail "node and npm are needed (Debian packages nodejs, npm)"
	echo "SKIP: node or npm not installed (Debian packages nodejs, npm)"
	exit 77
fi

nodedir="$top_builddir/tests/asyncapi-node"
mkdir -p "$nodedir"
cp "$top_srcdir/tests/asyncapi/package.json" "$top_srcdir/tests/asyncapi/package-lock.json" \
	"$top_srcdir/tests/asyncapi/validate.js" "$nodedir/"
if ! cmp -s "$nodedir/package-lock.json" "$nodedir/node_modules/.tablecast-lock" 2>/dev/null; then
	tc_log "npm ci in $nodedir"
	# --ignore-scripts: nothing the parser needs runs at install time.
	# npm's temporary files go with the test's (nothing may be left in /tmp).
	(cd "$nodedir" && TMPDIR="$TC_TMP" npm ci --ignore-scripts --no-audit --no-fund >"$TC_TMP/npm.log" 2>&1) ||
		tc_fail "npm ci failed: $(tail -n 20 "$TC_TMP/npm.log")"
	cp "$nodedir/package-lock.json" "$nodedir/node_modules/.tablecast-lock"
fi
tc_log "$(node --version), @asyncapi/parser $(node -p "require('$nodedir/node_modules/@asyncapi/parser/package.json').version")"

# validate DOC: the parser's verdict and summary in $TC_TMP/validate.out.
validate() {
	(cd "$nodedir" && node validate.js "$1") >"$TC_TMP/validate.out" 2>&1
}

doc="$TC_TMP/demo.asyncapi.json"
"$TC" schema generate --config "$top_srcdir/conf/demo.cfg" --asyncapi "$doc" ||
	tc_fail "schema generate --asyncapi failed"
validate "$doc" || tc_fail "the demo's document is not valid: $(cat "$TC_TMP/validate.out")"
out="$TC_TMP/validate.out"
grep -qx 'valid' "$out" || tc_fail "no verdict: $(cat "$out")"
grep -qx 'version 3.0.0' "$out" || tc_fail "not AsyncAPI 3.0.0: $(cat "$out")"

# Every topic a channel, every event version a message with its fields.
topics=$(grep -o "^    topic = \"[^\"]*\"" "$top_srcdir/conf/demo.cfg" | sort -u | wc -l)
[ "$(grep -c '^channel ' "$out")" -eq "$topics" ] || tc_fail "channels: $(grep '^channel ' "$out")"
orders=$(grep -c '^    topic = "shop.orders";' "$top_srcdir/conf/demo.cfg")
grep -qx "channel shop.orders address shop.orders messages $orders" "$out" || tc_fail "shop.orders: $(cat "$out")"
events=$(grep -c '^    version = ' "$top_srcdir/conf/demo.cfg")
[ "$(grep -c '^message ' "$out")" -eq "$events" ] || tc_fail "messages: $(grep '^message ' "$out")"
while read -r _ id _ ct _ type _ key _ headers _ fields; do
	[ "$id" = "$type" ] || tc_fail "message $id: ce_type $type"
	[ "$ct" = "application/protobuf" ] || tc_fail "message $id: content-type $ct"
	[ "$key" = "string" ] || tc_fail "message $id: key $key"
	for h in ce_specversion ce_id ce_source ce_type ce_time ce_dataschema content-type; do
		case ",$headers," in *",$h,"*) ;; *) tc_fail "message $id: no header $h ($headers)" ;; esac
	done
	[ -n "$fields" ] || tc_fail "message $id: no payload fields"
done < <(grep '^message ' "$out")
grep -q '^message shop.orders.OrderShipped.v2 .* fields order_id,customer_id,carrier,shipped_at,total_cents,days_to_ship$' "$out" ||
	tc_fail "OrderShipped v2's payload: $(grep OrderShipped.v2 "$out")"
python3 - "$doc" <<'PY' || tc_fail "document content"
import json, sys
doc = json.load(open(sys.argv[1]))
m = doc["components"]["messages"]["shop.orders.OrderShipped.v2"]
h = m["headers"]["properties"]
assert h["ce_type"]["const"] == "shop.orders.OrderShipped.v2", h["ce_type"]
assert h["ce_source"]["const"] == "//shop-db.example.com/shop", h["ce_source"]
assert h["ce_dataschema"]["const"] == "https://schemas.example.com/shop/shop/orders/v2/order_shipped.proto", h["ce_dataschema"]
assert "new.id" in m["bindings"]["kafka"]["key"]["description"]
assert "message OrderShipped {" in m["payload"]["schema"]
assert "package shop.orders.v2;" in m["payload"]["schema"]
PY

# The same configuration gives the same bytes.
"$TC" schema generate --config "$top_srcdir/conf/demo.cfg" --asyncapi "$TC_TMP/again.json"
cmp -s "$doc" "$TC_TMP/again.json" || tc_fail "two runs differ"

# Structured mode, and dead letters: the records' content-type and dataschema
# change with the mode; the dead-letter topic is a channel of its own.
sed -e '/dataschema_base/a\  mode = "structured";' -e '/version = 2;/a\    on_error = "dead_letter";' \
	"$top_srcdir/conf/demo.cfg" >"$TC_TMP/structured.cfg"
"$TC" schema generate --config "$TC_TMP/structured.cfg" --asyncapi "$TC_TMP/structured.json"
validate "$TC_TMP/structured.json" || tc_fail "structured document: $(cat "$out")"
grep -q '^message shop.orders.OrderShipped.v2 content-type application/cloudevents+protobuf ' "$out" ||
	tc_fail "structured content-type: $(cat "$out")"
grep -q '"ce_dataschema":{"type":"string","const":"type.googleapis.com/shop.orders.v2.OrderShipped"' \
	"$TC_TMP/structured.json" || tc_fail "structured dataschema"
grep -qx 'channel shop.dead_letters address shop.dead_letters messages 1' "$out" ||
	tc_fail "no dead-letter channel: $(cat "$out")"
grep -q '^message tablecast.v1.DeadLetter content-type application/cloudevents+protobuf ce_type tablecast.v1.DeadLetter key string .*ce_dataschema.* fields event,version,error,change,message$' "$out" ||
	tc_fail "dead letter message: $(grep DeadLetter "$out")"
# Without dead_letter events there is no dead-letter channel.
! grep -q 'shop.dead_letters' "$doc" || tc_fail "a dead-letter channel nobody publishes to"

# The validation can fail: an operation whose action is not send/receive.
sed 's/"action":"send"/"action":"publish"/' "$doc" >"$TC_TMP/broken.json"
if validate "$TC_TMP/broken.json"; then
	tc_fail "a broken document passed: $(cat "$out")"
fi
grep -q '^error: ' "$out" || tc_fail "no error for the broken document: $(cat "$out")"
echo "PASS: asyncapi"
