# shellcheck shell=bash
# Schema changes against a running tablecast with the stdout sink: a
# consumer that keeps the last event per key (read back from the JSON
# lines), and halts checked against the slot.
#   . tests/lib/servers.sh; . tests/lib/ddl.sh
#   ddl_start CONFIG          # start tablecast, wait until it streams
#   ddl_verify TOPIC FIELDS SQL  # the consumer's state equals the rows SQL returns
#   ddl_expect_halt LSN TEXT...  # halted on a row at or after LSN, confirmed no further

ddl_lsn() { psql -Atc "SELECT pg_current_wal_lsn()"; }

ddl_confirmed() { psql -Atc "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'tablecast'"; }

# ddl_start CONFIG [run options...]: the log lines of this run start after DDL_MARK.
ddl_start() {
	touch "$TC_TMP/tablecast.log"
	DDL_MARK=$(wc -l <"$TC_TMP/tablecast.log")
	tc_start "$@"
	wait_for 30 ddl_streaming || tc_fail "tablecast did not start: $(ddl_log | tail -n 3)"
}

# This run's log.
ddl_log() { tail -n "+$((DDL_MARK + 1))" "$TC_TMP/tablecast.log"; }
ddl_streaming() { ddl_log | grep -q "streaming slot" || ! kill -0 "$TC_PID" 2>/dev/null; }
ddl_exited() { ! kill -0 "$TC_PID" 2>/dev/null; }

# ddl_state TOPIC "FIELD...": per key, those fields of its last event joined by
# tabs (absent: ""), sorted by key; a key whose last event is a *Removed one is gone.
ddl_state() {
	/usr/bin/python3 - "$TC_TMP/changes.jsonl" "$1" "$2" <<'PY'
import json, sys
last = {}
for line in open(sys.argv[1]):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    if ev.get("topic") != sys.argv[2] or "data" not in ev:
        continue
    removed = ev["ce"]["type"].split(".")[-2].endswith("Removed")
    last[int(ev["key"])] = None if removed else ev["data"]
for key in sorted(last):
    data = last[key]
    if data is not None:
        print("\t".join(str(data.get(f, "")) for f in sys.argv[3].split()))
PY
}

# ddl_verify TOPIC "FIELD..." SQL: wait until the consumer's state equals what
# SQL returns (those columns, NULL as '', ordered by key).
ddl_verify() {
	psql -At -F $'\t' -c "$3" >"$TC_TMP/expected.tsv"
	ddl_match() { ddl_state "$1" "$2" >"$TC_TMP/state.tsv" && cmp -s "$TC_TMP/expected.tsv" "$TC_TMP/state.tsv"; }
	wait_for 30 ddl_match "$1" "$2" ||
		tc_fail "the consumer's state differs from the table: $(diff "$TC_TMP/expected.tsv" "$TC_TMP/state.tsv" | head -n 10 | tr '\n' ' ')"
}

# ddl_wait_exit: tablecast stops by itself with status 1 (a halt).
ddl_wait_exit() {
	wait_for 60 ddl_exited || tc_fail "tablecast did not halt"
	local rc=0
	wait "$TC_PID" || rc=$?
	[ "$rc" -eq 1 ] || tc_fail "halt: exit $rc, expected 1"
	DDL_HALT=$(ddl_log | grep 'error: ' | head -n 1)
	[ -n "$DDL_HALT" ] || tc_fail "halt without an error line: $(ddl_log | tail -n 3)"
}

ddl_has() {
	local text
	for text in "$@"; do
		grep -qF -- "$text" <<<"$DDL_HALT" || tc_fail "the halt message lacks '$text': $DDL_HALT"
	done
}

lsn_le() { [ "$(psql -Atc "SELECT '$1'::pg_lsn <= '$2'::pg_lsn")" = t ]; }

# ddl_halted SED TEXT...: tablecast halts with a message holding every TEXT;
# SED extracts the LSN it names into DDL_AT, past which the slot must not be confirmed.
ddl_halted() {
	local sed=$1
	shift
	ddl_wait_exit
	ddl_has "$@"
	DDL_AT=$(sed -n "$sed" <<<"$DDL_HALT")
	[ -n "$DDL_AT" ] || tc_fail "no LSN in the halt message: $DDL_HALT"
	lsn_le "$(ddl_confirmed)" "$DDL_AT" || tc_fail "slot confirmed to $(ddl_confirmed), past $DDL_AT"
	tc_log "halted at $DDL_AT, slot at $(ddl_confirmed): $DDL_HALT"
}

# ddl_expect_halt LSN TEXT...: a translation halt on the first row written at
# or after LSN: the message has every TEXT and that row's LSN, and the slot is
# confirmed no further than it.
ddl_expect_halt() {
	local before=$1
	shift
	ddl_halted 's/.* at \([0-9A-F]*\/[0-9A-F]*\))$/\1/p' "$@"
	lsn_le "$before" "$DDL_AT" || tc_fail "halted at $DDL_AT, before the change at $before"
}

# ddl_expect_gap LSN TEXT...: a publication guard halt for a change made after
# LSN: the message has every TEXT, the first LSN whose rows may be missing is
# at most LSN, and the slot is confirmed no further than that.
ddl_expect_gap() {
	local after=$1
	shift
	ddl_halted 's/.* from \([0-9A-F]*\/[0-9A-F]*\) on may be missing.*/\1/p' "$@"
	lsn_le "$DDL_AT" "$after" || tc_fail "gap from $DDL_AT, after the change at $after"
}

# ddl_reset: drop the slot, the publication and the state: the next start begins afresh.
ddl_reset() {
	psql -q -c "SELECT pg_drop_replication_slot('tablecast')" -c "DROP PUBLICATION IF EXISTS tablecast"
	rm -rf "$TC_TMP/state" "$TC_TMP/changes.jsonl"
}
