#!/usr/bin/env bash
# Handing an event over from a translator to the owning service's outbox
# during a rolling deploy: old writers change the table only, new writers
# change it and write an outbox record (a row inserted and deleted, or a
# logical decoding message) in the same transaction, all at once under
# load. The consumer (protoc-generated python classes) must see exactly one
# event per change, one type and schema throughout, in commit order per
# key, with no gap: first without failures, then with kill -9 restarts of
# tablecast (where duplicates repeat their ce_id and bytes).
#   OUTBOX_SECONDS (default 30): how long each phase writes.
#   OUTBOX_KILLS (default 5): kill -9 restarts in the second phase.
. "$(dirname "$0")/../lib/servers.sh"
. "$(dirname "$0")/../lib/bank.sh"

SECONDS_PER_PHASE=${OUTBOX_SECONDS:-30}
KILLS=${OUTBOX_KILLS:-5}
pg_start
broker_start --topic accounts:3 --topic dlq:1
psql -q -v ON_ERROR_STOP=1 -f "$top_srcdir/conf/demo/outbox.sql"
bank_setup halt
# The bank's event, declared both ways: the translator keeps serving old writers.
sed -i -e 's|tables = \["public.accounts"\]|tables = ["public.accounts", "public.outbox"]|' \
	-e 's|on_error = "halt";|on_error = "halt"; outbox = "public.outbox"; handover = "outbox";|' \
	"$TC_TMP/bank.cfg"
grep -q 'handover = "outbox"' "$TC_TMP/bank.cfg" || tc_fail "could not declare the handover"
psql -q -v ON_ERROR_STOP=1 <<'SQL'
-- acme.bank.AccountChanged v1 as the service encodes it: id 1, version 2, amount 3.
CREATE FUNCTION account_changed(a accounts) RETURNS bytea LANGUAGE sql AS $$
    SELECT pb_int(1, a.id) || pb_int(2, a.version) || pb_int(3, a.amount) $$;
SQL

# writer KIND: transactions until $TC_TMP/writers.stop exists (background-safe).
#   old: the table only (the service's previous version)
#   row: the table, then an outbox row, deleted again in the transaction
#   row-first: the outbox row before the change it announces
#   pair: two accounts changed, an outbox record for the first only
#   message: the table, then pg_logical_emit_message
writer() {
	local kind=$1
	while [ ! -e "$TC_TMP/writers.stop" ]; do
		for _ in $(seq 1 50); do
			local a=$((RANDOM % 50 + 1)) b=$((RANDOM % 50 + 1))
			local upd="UPDATE accounts SET version = version + 1, amount = amount + 1 WHERE id = $a"
			local row="INSERT INTO outbox (event, version, key, payload) SELECT 'acme.bank.AccountChanged', 1, id::text, account_changed(accounts) FROM accounts WHERE id = $a"
			case $kind in
			old) echo "$upd;" ;;
			row) echo "BEGIN; $upd; $row; DELETE FROM outbox; COMMIT;" ;;
			row-first)
				echo "BEGIN; SELECT 1 FROM accounts WHERE id = $a FOR UPDATE;"
				echo "INSERT INTO outbox (event, version, key, payload) SELECT 'acme.bank.AccountChanged', 1, id::text, pb_int(1, id) || pb_int(2, version + 1) || pb_int(3, amount + 1) FROM accounts WHERE id = $a;"
				echo "$upd; DELETE FROM outbox; COMMIT;" ;;
			pair)
				[ "$a" != "$b" ] || b=$((a % 50 + 1))
				# Lock in id order: no deadlock with the other pair writer.
				echo "BEGIN; SELECT 1 FROM accounts WHERE id IN ($a, $b) ORDER BY id FOR UPDATE;"
				echo "$upd; $row; UPDATE accounts SET version = version + 1 WHERE id = $b; DELETE FROM outbox; COMMIT;" ;;
			message)
				echo "BEGIN; $upd; SELECT pg_logical_emit_message(true, 'tablecast', outbox_message('acme.bank.AccountChanged', 1, id::text, account_changed(accounts))) FROM accounts WHERE id = $a; COMMIT;" ;;
			esac
			echo "SELECT pg_sleep(0.004);"
		done
	done | psql -q -v ON_ERROR_STOP=1 >/dev/null 2>>"$TC_TMP/writers.log"
}

# writers_run SECONDS [KILLS]: every kind of writer at once; kill -9 and
# restart tablecast KILLS times at random moments meanwhile.
writers_run() {
	local seconds=$1 kills=${2:-0} pids=() kind k
	rm -f "$TC_TMP/writers.stop"
	for kind in old row row-first pair message; do
		writer "$kind" &
		pids+=($!)
	done
	tc_on_exit "touch $TC_TMP/writers.stop"
	local end=$((SECONDS + seconds))
	for k in $(seq 1 "$kills"); do
		sleep $((seconds / (kills + 1) - 1)).$((RANDOM % 10))
		kill -9 "$TC_PID"
		wait "$TC_PID" 2>/dev/null || true
		tc_start "$TC_TMP/bank.cfg"
	done
	while ((SECONDS < end)); do sleep 0.5; done
	touch "$TC_TMP/writers.stop"
	for k in "${pids[@]}"; do wait "$k" || tc_fail "a writer failed (see writers.log)"; done
}

# Same type and content type on every record, and no dead letters.
same_contract() {
	/usr/bin/python3 - "$TC_TMP/collected.jsonl" <<'PY'
import collections, json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
kinds = collections.Counter((r["topic"], r["headers"].get("ce_type"), r["headers"].get("content-type"),
                             r["headers"].get("ce_source")) for r in records)
print(dict(kinds))
bad = [k for k in kinds if k[0] != "accounts" or k[1] != "acme.bank.AccountChanged.v1"
       or k[2] != "application/protobuf"]
sys.exit(1 if bad or len(kinds) != 1 else 0)
PY
}

tc_start "$TC_TMP/bank.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

tc_log "phase 1: $SECONDS_PER_PHASE s of old and new writers together"
writers_run "$SECONDS_PER_PHASE"
bank_verify --no-duplicates
same_contract || tc_fail "records of another type, schema or topic appeared"
tc_stop
line=$(grep -E "handover: [0-9]+ translator events replaced by the outbox, [0-9]+ published from the translator" \
	"$TC_TMP/tablecast.log" | tail -n 1)
[ -n "$line" ] || tc_fail "no handover report was logged"
replaced=$(sed -E 's/.*handover: ([0-9]+) translator events replaced.*/\1/' <<<"$line")
published=$(sed -E 's/.*outbox, ([0-9]+) published from.*/\1/' <<<"$line")
{ [ "$replaced" -gt 0 ] && [ "$published" -gt 0 ]; } ||
	tc_fail "both paths must have been used: $line"
changes1=$(psql -At -c "SELECT sum(version) FROM accounts")
tc_log "phase 1: $changes1 changes, $replaced translator events replaced by outbox records, $published from the translator"

tc_log "phase 2: $SECONDS_PER_PHASE s more, with $KILLS kill -9 restarts"
tc_start "$TC_TMP/bank.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not restart"
writers_run "$SECONDS_PER_PHASE" "$KILLS"
bank_verify
same_contract || tc_fail "records of another type, schema or topic appeared"
tc_stop
[ "$(psql -At -c 'SELECT count(*) FROM outbox')" -eq 0 ] || tc_fail "the outbox table is not empty"
echo "outbox: $(psql -At -c "SELECT sum(version) FROM accounts") changes, one event each; $KILLS kills survived"
