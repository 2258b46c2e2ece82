# shellcheck shell=bash
# An "items" table read back by a consumer that keeps the last event per
# key, for the snapshot and backfill tests.
#   . tests/lib/servers.sh; . tests/lib/items.sh
#   items_setup CONFIG SOURCE_SETTINGS  # config with the items events, a consumer
#   items_verify                        # the consumer's state equals the table

# items_setup CONFIG SOURCE_SETTINGS: write CONFIG (Kafka sink, ItemStocked on
# snapshot/insert/update, ItemRemoved on delete) and start the consumer.
items_setup() {
	local cfg=$1 source_extra=$2
	cat >"$cfg" <<CFG
log_level = "info";
state_dir = "$TC_TMP/state";
source = { conninfo = "$TC_CONNINFO"; create_slot = true; create_publication = true;
           tables = ["public.items"]; status_interval = 1; $source_extra };
sink = { type = "kafka"; dead_letter_topic = "dlq";
         kafka = ["bootstrap.servers=$KAFKA_BOOTSTRAP", "topic.metadata.refresh.interval.ms=1000"]; };
events = (
  { name = "acme.items.ItemStocked"; version = 1; table = "public.items";
    on = ["snapshot", "insert", "update"]; topic = "items"; key = "new.id";
    fields = (
      { name = "id";    number = 1; type = "int64";  value = "new.id"; },
      { name = "qty";   number = 2; type = "int64";  value = "new.qty"; },
      { name = "label"; number = 3; type = "string"; value = "new.label"; }
    ); },
  { name = "acme.items.ItemRemoved"; version = 1; table = "public.items"; on = ["delete"];
    topic = "items"; key = "old.id";
    fields = ( { name = "id"; number = 1; type = "int64"; value = "old.id"; } ); }
);
CFG
	"$top_builddir/tablecast" schema generate --config "$cfg" --out "$TC_TMP/proto"
	mkdir -p "$TC_TMP/py"
	protoc --proto_path="$TC_TMP/proto" --python_out="$TC_TMP/py" acme/items/v1/item_stocked.proto
	/usr/bin/python3 "$top_srcdir/tests/lib/replay-state.py" "$KAFKA_BOOTSTRAP" items "$TC_TMP/py" \
		acme.items.ItemStocked.v1=acme.items.v1.item_stocked_pb2:ItemStocked \
		acme.items.ItemRemoved.v1 "$TC_TMP/state.tsv" 2>"$TC_TMP/replay.log" &
	ITEMS_REPLAY=$!
	# Wait for it: a dump still being written must not race the removal of TC_TMP.
	tc_on_exit "kill $ITEMS_REPLAY; wait $ITEMS_REPLAY"
}

# items_verify KIND [QUERY]: wait until the consumer's state equals the table
# (or QUERY's id, qty, label rows) row by row; its events must include
# ce_tablecastsnapshot=KIND and nothing unexpected.
items_verify() {
	psql -At -F $'\t' -c "${2:-SELECT id, qty, label FROM items ORDER BY id}" >"$TC_TMP/expected.tsv"
	items_match() {
		kill -USR1 "$ITEMS_REPLAY"
		sleep 1
		cmp -s "$TC_TMP/expected.tsv" "$TC_TMP/state.tsv"
	}
	if ! wait_for 180 items_match; then
		diff "$TC_TMP/expected.tsv" "$TC_TMP/state.tsv" >"$TC_TMP/state.diff" || true
		head -n 10 "$TC_TMP/state.diff" >&2
		tc_fail "the consumer's state differs from the table in $(grep -c '^[<>]' "$TC_TMP/state.diff") lines; $(tr '\n' ' ' <"$TC_TMP/state.tsv.stats")"
	fi
	grep -q "^snapshot $1" "$TC_TMP/state.tsv.stats" || tc_fail "no ce_tablecastsnapshot=$1"
	! grep -q "unexpected\|id conflicts" "$TC_TMP/state.tsv.stats" ||
		tc_fail "unexpected events or ce_ids: $(cat "$TC_TMP/state.tsv.stats")"
	sed 's/^/  /' "$TC_TMP/state.tsv.stats"
}
