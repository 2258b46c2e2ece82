#!/usr/bin/env bash
# Backfill conditions are data, not SQL. A hostile user who may insert into
# the signal table (or run `tablecast backfill --where`) tries to run
# statements, read another table, run a program on the database host, stall
# the backfill queue and forge log lines, against a tablecast connected as a
# superuser. Every attempt is refused with one reason, logged once and never
# retried; the victim table is intact, the marker file never appears, the
# secret never reaches the log, and the stream goes on.
. "$(dirname "$0")/../lib/servers.sh"

TC="$top_builddir/tablecast"
pg_start
MARKDIR="$TC_TMP/marker"
mkdir -p "$MARKDIR"
chmod 777 "$MARKDIR"
MARK="$MARKDIR/pwned"
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, label text);
INSERT INTO items SELECT g, g % 10, 'item ' || g FROM generate_series(1, 50) g;
CREATE TABLE victim (id int PRIMARY KEY, payload text);
INSERT INTO victim VALUES (1, 'TOPSECRET-4711');
SQL

cat >"$TC_TMP/inj.cfg" <<CFG
log_level = "info";
state_dir = "$TC_TMP/state";
source = { conninfo = "$TC_CONNINFO"; create_slot = true; create_publication = true;
           tables = ["public.items"]; status_interval = 1;
           signal_table = "public.tablecast_signal"; backfill_chunk = 16; backfill_timeout = 4; };
sink = { type = "stdout"; };
events = (
  { name = "acme.items.ItemStocked"; version = 1; table = "public.items";
    on = ["snapshot", "insert", "update"]; topic = "items"; key = "new.id";
    fields = (
      { name = "id";  number = 1; type = "int64"; value = "new.id"; },
      { name = "qty"; number = 2; type = "int64"; value = "new.qty"; }
    ); }
);
CFG

tc_start "$TC_TMP/inj.cfg"
wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast.log" || tc_fail "tablecast did not start"

# The attempts: what each tries, then the condition.
attempts=(
	"close the COPY and drop a table|true) TO STDOUT; DROP TABLE victim; COPY (SELECT 1"
	"a second statement|id > 0; DROP TABLE victim"
	"a subquery on another table|id IN (SELECT id FROM victim)"
	"a cast that prints another table's value|CAST((SELECT payload FROM victim) AS int) = 1"
	"a cast that prints a column's value|label::int = 1"
	"a slow function|pg_sleep(30) IS NULL"
	"a program on the database host|true) TO STDOUT; COPY (SELECT 1) TO PROGRAM 'touch $MARK'; COPY (SELECT 1"
	"a program, behind a comment|id = 1 -- ) TO PROGRAM 'touch $MARK'"
	"a comment hiding the rest|id = 1 /* ) TO STDOUT; COPY (SELECT 1) TO PROGRAM 'touch $MARK' */"
	"a forged log line|id = 1
tablecast: error: FORGED line"
	"a control character|label = 'a$(printf '\033')[2J'"
	"a reg* cast|'victim'::regclass IS NOT NULL"
	"set_config|set_config('statement_timeout', '1', false) = '1'"
	"reading a server file|pg_read_file('/etc/passwd') <> ''"
	"a statement inside a function|query_to_xml('DROP TABLE victim', true, true, '') IS NOT NULL"
	"a dollar-quoted string|label = \$x\$a\$x\$"
	"another table's column|victim.payload = 'x'"
	"a deep expression|$(printf '1+%.0s' $(seq 1 1500))1 = 1"
	"a long condition|id IN ($(seq -s , 1 1500))"
	"a division by zero, only the server can see|qty / (id - id) = 1"
)

ids=()
for a in "${attempts[@]}"; do
	cond=${a#*|}
	id=$(psql -qAt -v ON_ERROR_STOP=1 -v cond="$cond" <<'SQL'
INSERT INTO tablecast_signal (kind, target, condition) VALUES ('backfill', 'public.items', :'cond') RETURNING id;
SQL
	)
	ids+=("$id")
done

# Good requests after them: they run, so the queue was not stalled, and
# the SQL generated from their trees selects what they say.
good() { # CONDITION EXPECTED_KEYS
	local id keys
	id=$(psql -qAt -v cond="$1" <<'SQL'
INSERT INTO tablecast_signal (kind, target, condition) VALUES ('backfill', 'public.items', :'cond') RETURNING id;
SQL
	)
	wait_for 60 grep -q "backfill $id of public.items: done," "$TC_TMP/tablecast.log" ||
		tc_fail "the good backfill $1 did not finish"
	keys=$(grep "\"id\":\"backfill:$id:" "$TC_TMP/changes.jsonl" | grep -o '"key":"[0-9]*"' | tr -dc '0-9\n' | sort -n | tr '\n' ' ')
	[ "$keys" = "$2" ] || tc_fail "backfill where $1: keys $keys, expected $2"
	tc_log "backfill where $1: keys $keys"
}
good "qty = 3 AND label <> 'x' AND id BETWEEN 1 AND 40" "3 13 23 33 "
good "length(label) = 7 AND qty IN (1, 2) AND NOT (id > 45)" "11 12 21 22 31 32 41 42 "
good "COALESCE(label, '') = 'item ' || '6' OR upper(label) = 'ITEM 9' OR id IS NULL OR qty + 1 = '9'::int / 3 * 2" "5 6 9 15 25 35 45 "

# Every attempt: refused (or failed at the server) with a reason, exactly once.
i=0
for a in "${attempts[@]}"; do
	id=${ids[i]}
	i=$((i + 1))
	n=$(grep -c "backfill $id of public.items: \(condition refused\|failed\): " "$TC_TMP/tablecast.log" || true)
	[ "$n" -eq 1 ] || tc_fail "${a%%|*} (request $id): $n refusal lines, expected 1"
	tc_log "refused ${a%%|*}: $(grep -o "backfill $id of public.items: \(condition refused\|failed\): .*" "$TC_TMP/tablecast.log" | cut -c 1-150)"
done

# Through the command line: exit 2 and one clear line, nothing inserted.
# (The running tablecast inserts and deletes watermark rows meanwhile: count requests only.)
before=$(psql -qAt -c "SELECT nextval(pg_get_serial_sequence('tablecast_signal', 'id'))")
for a in "${attempts[@]}"; do
	cond=${a#*|}
	case "$a" in "a division by zero"*) continue ;; esac
	rc=0
	"$TC" backfill --config "$TC_TMP/inj.cfg" --table public.items --where "$cond" >"$TC_TMP/cli.out" 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || tc_fail "--where ${a%%|*}: exit $rc: $(cat "$TC_TMP/cli.out")"
	[ "$(wc -l <"$TC_TMP/cli.out")" -eq 1 ] || tc_fail "--where ${a%%|*}: not one line: $(cat "$TC_TMP/cli.out")"
	grep -q "^tablecast: --where: " "$TC_TMP/cli.out" || tc_fail "--where ${a%%|*}: $(cat "$TC_TMP/cli.out")"
done
[ "$(psql -qAt -c "SELECT count(*) FROM tablecast_signal WHERE kind = 'backfill' AND id > $before")" -eq 0 ] ||
	tc_fail "refused --where requests inserted rows"

# Nothing happened to the database or the host; the secret is not in the log; no forged line.
[ "$(psql -qAt -c "SELECT payload FROM victim")" = "TOPSECRET-4711" ] || tc_fail "the victim table was changed"
[ ! -e "$MARK" ] || tc_fail "a program ran on the database host"
! grep -q "TOPSECRET" "$TC_TMP/tablecast.log" || tc_fail "the secret reached the log"
! grep -q "^tablecast: error: FORGED" "$TC_TMP/tablecast.log" || tc_fail "a log line was forged"
grep -qF 'id = 1\x0atablecast: error: FORGED line' "$TC_TMP/tablecast.log" || tc_fail "the forged text was not logged, escaped"
! grep -q $'\033' "$TC_TMP/tablecast.log" || tc_fail "a control character reached the log"

# A backfill that cannot finish (the table locked) ends at backfill_timeout,
# once, and the stream is read all the while (a request for a table without
# snapshot events is answered meanwhile).
psql -q -c "BEGIN; LOCK TABLE items IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(10); COMMIT" &
locker=$!
tc_on_exit "kill $locker"
locked() { [ "$(psql -qAt -c "SELECT count(*) FROM pg_locks WHERE relation = 'items'::regclass AND mode = 'AccessExclusiveLock' AND granted")" -eq 1 ]; }
wait_for 10 locked || tc_fail "the table was not locked"
slow=$(psql -qAt -c "INSERT INTO tablecast_signal (kind, target) VALUES ('backfill', 'public.items') RETURNING id")
wait_for 10 grep -q "backfill $slow of public.items: reading" "$TC_TMP/tablecast.log" || tc_fail "the blocked backfill did not start"
other=$(psql -qAt -c "INSERT INTO tablecast_signal (kind, target) VALUES ('backfill', 'public.nope') RETURNING id")
timed_out="backfill $slow of public.items: failed: .*canceling statement due to statement timeout; the request is dropped"
wait_for 20 grep -q "$timed_out" "$TC_TMP/tablecast.log" || tc_fail "a blocked read did not time out"
wait_for 10 grep -q "backfill $other of public.nope: no event" "$TC_TMP/tablecast.log" || tc_fail "the other request was not seen"
[ "$(grep -n "backfill $other of public.nope" "$TC_TMP/tablecast.log" | cut -d: -f1)" -lt "$(grep -n "$timed_out" "$TC_TMP/tablecast.log" | cut -d: -f1)" ] ||
	tc_fail "the stream waited for the blocked backfill"
tc_log "a blocked backfill: $(grep -o "backfill $slow of public.items: failed: .*" "$TC_TMP/tablecast.log")"
wait "$locker"

# The stream goes on: a change after the attempts arrives.
psql -q -c "INSERT INTO items VALUES (1001, 7, 'after')"
after_key() { grep '"key":"1001"' "$TC_TMP/changes.jsonl" | grep -qv tablecastsnapshot; }
wait_for 30 after_key || tc_fail "a change after the attempts did not arrive"
kill -0 "$TC_PID" || tc_fail "tablecast is not running"
tc_stop
echo "injection: ${#attempts[@]} attempts through the signal table and $((${#attempts[@]} - 1)) through --where refused, each once; the victim intact, no program ran, the stream went on"
