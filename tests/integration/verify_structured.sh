#!/usr/bin/env bash
# tablecast verify with structured-mode CloudEvents (the event inside the
# envelope is compared) and a TRUNCATE event, which leaves every key
# written before it without a row.
. "$(dirname "$0")/../lib/servers.sh"

pg_start
broker_start --topic items:3
psql -q -v ON_ERROR_STOP=1 -c "CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL);
	INSERT INTO items SELECT g, g FROM generate_series(1, 100) g;"
cat >"$TC_TMP/s.cfg" <<CFG
state_dir = "$TC_TMP/state";
source = { conninfo = "$TC_CONNINFO"; create_slot = true; create_publication = true;
           tables = ["public.items"]; status_interval = 1; snapshot = "initial"; };
sink = { type = "kafka"; kafka = ["bootstrap.servers=$KAFKA_BOOTSTRAP"]; };
cloudevents = { mode = "structured"; };
events = (
  { name = "acme.items.ItemStocked"; version = 1; table = "public.items";
    on = ["snapshot", "insert", "update"]; topic = "items"; key = "new.id::text";
    subject = "'item/' || new.id";
    fields = ( { name = "id";  number = 1; type = "int64"; value = "new.id"; },
               { name = "qty"; number = 2; type = "int64"; value = "new.qty"; } ); },
  { name = "acme.items.ItemsCleared"; version = 1; table = "public.items"; on = ["truncate"];
    topic = "items"; fields = ( { name = "why"; number = 1; type = "string"; value = "'truncate'"; } ); }
);
CFG
tc_start "$TC_TMP/s.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

verify() {
	vrc=0
	"$top_builddir/tablecast" verify --config "$TC_TMP/s.cfg" --timeout 30 >"$TC_TMP/verify.out" \
		2>"$TC_TMP/verify.log" || vrc=$?
	cat "$TC_TMP/verify.out" >&2
}
counts() { sed -n 's/^  \(equal .* deleted\).*/\1/p' "$TC_TMP/verify.out"; }

psql -q -c "UPDATE items SET qty = qty + 1 WHERE id <= 10"
verify
[ "$(counts)" = "equal 100, missing 0, extra 0, different 0 (keys); 0 deleted" ] && [ "$vrc" -eq 0 ] ||
	tc_fail "structured mode: exit $vrc, $(cat "$TC_TMP/verify.out")"

psql -q -c "TRUNCATE items; INSERT INTO items VALUES (5, 50), (200, 2)"
verify
[ "$(counts)" = "equal 2, missing 0, extra 0, different 0 (keys); 99 deleted" ] && [ "$vrc" -eq 0 ] ||
	tc_fail "after a truncate: exit $vrc, $(cat "$TC_TMP/verify.out")"

echo "verify_structured: structured mode and truncates verified"
