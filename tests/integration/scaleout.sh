#!/usr/bin/env bash
# Scale-out: two instances, each with its own slot and a publication that
# carries one shard of a hot table (source.shard, a generated row filter),
# under a write load of inserts, updates, deletes, negative keys, key
# changes that move a row between shards, and transactions spanning both.
# A real consumer builds the state from the events of both: it equals the
# table, every key's events keep commit order, and no two events share a
# ce_id. `check` refuses filters that overlap or leave a gap, a filter
# changed by hand, and keys that cannot be split.
. "$(dirname "$0")/../lib/servers.sh"

PY=/usr/bin/python3
pg_start
broker_start --topic hot:3

psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE SEQUENCE seq;
-- seq: every write of a row takes the next value, so one key's events must show it rising.
CREATE TABLE hot (id bigint PRIMARY KEY, seq bigint NOT NULL, val text);
CREATE TABLE loose (id bigint, k bigint PRIMARY KEY);
CREATE TABLE unkeyed (k bigint PRIMARY KEY, id bigint NOT NULL);
CREATE TABLE named (name text PRIMARY KEY);
SQL

# shard_config FILE INDEX COUNT [PUBLICATION [TABLE [KEY]]]
shard_config() {
	local file=$1 index=$2 count=$3 pub=${4:-hot_$2} table=${5:-public.hot} key=${6:-id}
	cat >"$file" <<CFG
log_level = "info";
state_dir = "$TC_TMP/state_$pub";
source = {
  conninfo = "$TC_CONNINFO";
  slot = "$pub";
  publication = "$pub";
  create_slot = true;
  create_publication = true;
  snapshot = "initial";
  status_interval = 1;
  shard = { table = "$table"; key = "$key"; count = $count; index = $index; };
};
sink = { type = "kafka"; flush_timeout = 20;
         kafka = ["bootstrap.servers=$KAFKA_BOOTSTRAP", "topic.metadata.refresh.interval.ms=1000"]; };
cloudevents = { source = "//test/hot"; };
events = (
  { name = "acme.hot.RowUpserted"; version = 1; table = "$table"; on = ["insert", "update", "snapshot"];
    topic = "hot"; key = "new.$key";
    fields = (
      { name = "id";  number = 1; type = "int64";  value = "new.$key"; }
$([ "$table" = public.hot ] && echo ', { name = "seq"; number = 2; type = "int64"; value = "new.seq"; },
      { name = "val"; number = 3; type = "string"; value = "new.val"; }')
    ); },
  { name = "acme.hot.RowDeleted"; version = 1; table = "$table"; on = ["delete"];
    topic = "hot"; key = "old.$key";
    fields = ( { name = "id"; number = 1; type = "int64"; value = "old.$key"; } ); },
  # A key that changes within one shard arrives as an update: the old key is gone.
  { name = "acme.hot.KeyChanged"; version = 1; table = "$table"; on = ["update"];
    when = "old.$key <> new.$key"; topic = "hot"; key = "old.$key";
    fields = ( { name = "id"; number = 1; type = "int64"; value = "old.$key"; } ); }
);
CFG
}

# expect_check CONFIG WANT_RC PATTERN: tablecast check's exit status and a line of its output.
expect_check() {
	local cfg=$1 want=$2 pattern=$3 rc=0
	"$top_builddir/tablecast" check --config "$cfg" >"$TC_TMP/check.out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || tc_fail "check $(basename "$cfg"): exit $rc, not $want: $(cat "$TC_TMP/check.out")"
	grep -Eq -- "$pattern" "$TC_TMP/check.out" ||
		tc_fail "check $(basename "$cfg"): no line matching '$pattern': $(cat "$TC_TMP/check.out")"
}

# The examples in conf/ load.
for i in 0 1; do
	"$top_builddir/tablecast" check-config "$top_srcdir/conf/scaleout/orders-$i.cfg" >/dev/null ||
		tc_fail "conf/scaleout/orders-$i.cfg does not load"
done

shard_config "$TC_TMP/hot0.cfg" 0 2
shard_config "$TC_TMP/hot1.cfg" 1 2
shard_config "$TC_TMP/three.cfg" 1 3 hot_x

# 1. check, before any instance ran: instance 1's shard is a gap.
expect_check "$TC_TMP/hot0.cfg" 1 'error: shard filters of public.hot leave a gap: rows with abs\(id % 2\) = 1 are in no publication.*index = 1'
# A sibling with another count: rows in both publications, and rows in none.
psql -q -v ON_ERROR_STOP=1 -c 'CREATE PUBLICATION hot_0 FOR TABLE hot WHERE (abs("id" % 2) = 0)'
expect_check "$TC_TMP/three.cfg" 1 'error: shard filters of public.hot overlap: rows with abs\(id % 6\) = 4 are in publications "hot_x" \(shard 1 of 3\) and "hot_0" \(shard 0 of 2\)'
# A sibling whose filter was changed by hand (it misses negative odd keys).
psql -q -v ON_ERROR_STOP=1 -c 'CREATE PUBLICATION hot_1 FOR TABLE hot WHERE (id % 2 = 1)'
expect_check "$TC_TMP/hot1.cfg" 1 'error: publication "hot_1" filters public.hot by \(\(id % \(2\)::bigint\) = 1\), not with the filter source.shard generates .*ALTER PUBLICATION "hot_1" ADD TABLE public.hot WHERE \(abs\("id" % 2\) = 1\)'
expect_check "$TC_TMP/hot0.cfg" 1 'leave a gap.*publication "hot_1" carries public.hot without a generated shard filter'
psql -q -v ON_ERROR_STOP=1 -c 'ALTER PUBLICATION hot_1 SET TABLE hot WHERE (abs("id" % 2) = 1)'
expect_check "$TC_TMP/hot0.cfg" 0 ': 0 errors'
expect_check "$TC_TMP/hot1.cfg" 0 ': 0 errors'
# Two instances with the same index: every row of that shard twice.
psql -q -v ON_ERROR_STOP=1 -c 'CREATE PUBLICATION hot_y FOR TABLE hot WHERE (abs("id" % 2) = 1)'
expect_check "$TC_TMP/hot0.cfg" 1 'overlap: rows with abs\(id % 2\) = 1 are in publications "hot_1" \(shard 1 of 2\) and "hot_y"'
psql -q -v ON_ERROR_STOP=1 -c 'DROP PUBLICATION hot_0' -c 'DROP PUBLICATION hot_1' -c 'DROP PUBLICATION hot_y'

# Keys that cannot split a table: nullable, outside the replica identity, not an integer.
shard_config "$TC_TMP/loose.cfg" 0 2 loose_0 public.loose id
expect_check "$TC_TMP/loose.cfg" 1 'error: shard key public.loose.id may be NULL.*ALTER TABLE public.loose ALTER COLUMN id SET NOT NULL'
shard_config "$TC_TMP/unkeyed.cfg" 0 2 unkeyed_0 public.unkeyed id
expect_check "$TC_TMP/unkeyed.cfg" 1 'error: shard key public.unkeyed.id is not in the replica identity of public.unkeyed.*REPLICA IDENTITY'
shard_config "$TC_TMP/named.cfg" 0 2 named_0 public.named name
expect_check "$TC_TMP/named.cfg" 1 'error: shard key public.named.name is text: only smallint, integer and bigint'
# run refuses it too, and creates nothing that would break the table's UPDATEs.
rc=0
"$top_builddir/tablecast" run --config "$TC_TMP/unkeyed.cfg" >/dev/null 2>"$TC_TMP/unkeyed.log" || rc=$?
[ "$rc" -ne 0 ] || tc_fail "run started with a shard key outside the replica identity"
grep -q "not in the replica identity" "$TC_TMP/unkeyed.log" || tc_fail "run: $(cat "$TC_TMP/unkeyed.log")"
[ "$(psql -Atc "SELECT count(*) FROM pg_publication WHERE pubname = 'unkeyed_0'")" = 0 ] ||
	tc_fail "run created a publication that refuses the table's UPDATEs"
psql -q -v ON_ERROR_STOP=1 -c 'INSERT INTO unkeyed VALUES (1, 1)' -c 'UPDATE unkeyed SET id = 2'

# 2. Both instances stream their shard into one topic; a consumer reads alongside.
# Rows from before the slots: each instance's snapshot reads its own shard only
# (a row read twice would show its seq twice in the order check below).
psql -q -v ON_ERROR_STOP=1 -c "INSERT INTO hot SELECT g, nextval('seq'), 'before' FROM generate_series(-1020, -1001) g" \
	-c "INSERT INTO hot SELECT g, nextval('seq'), 'before' FROM generate_series(2001, 2020) g"
"$top_builddir/tablecast" schema generate --config "$TC_TMP/hot0.cfg" --out "$TC_TMP/proto"
mkdir -p "$TC_TMP/py"
(cd "$TC_TMP/proto" && protoc --python_out="$TC_TMP/py" acme/hot/v1/*.proto)
$PY "$top_srcdir/tests/lib/kafka-collect.py" "$KAFKA_BOOTSTRAP" "$TC_TMP/collected.jsonl" hot \
	2>>"$TC_TMP/collect.log" &
collector=$!
tc_on_exit "kill $collector; wait $collector"

pids=()
for i in 0 1; do
	"$top_builddir/tablecast" run --config "$TC_TMP/hot$i.cfg" >/dev/null 2>"$TC_TMP/tablecast$i.log" &
	pids+=($!)
	tc_on_exit "kill -9 ${pids[$i]}; wait ${pids[$i]}"
done
for i in 0 1; do
	wait_for 30 grep -q "streaming slot" "$TC_TMP/tablecast$i.log" || tc_fail "instance $i did not start"
done
# The filters tablecast created are the ones check proves, as PostgreSQL prints them.
[ "$(psql -Atc "SELECT string_agg(pubname || ' ' || rowfilter, ', ' ORDER BY pubname) FROM pg_publication_tables WHERE tablename = 'hot'")" = \
	"hot_0 (abs((id % (2)::bigint)) = 0), hot_1 (abs((id % (2)::bigint)) = 1)" ] || tc_fail "unexpected row filters"
expect_check "$TC_TMP/hot1.cfg" 0 ': 0 errors'

# Two writers, each on its own keys (so each key has one writer and its
# seq rises in commit order), both signs, both shards.
write() {
	{ echo "SET tc.writer = '$1';"; cat; } <<'SQL' | psql -q -v ON_ERROR_STOP=1
DO $$
DECLARE
  base bigint := current_setting('tc.writer')::bigint * 1000;
  k bigint; k2 bigint; r float8;
BEGIN
  FOR i IN 1..200 LOOP
    k := (base + 1 + floor(random() * 60)::bigint) * (CASE WHEN random() < 0.5 THEN -1 ELSE 1 END);
    r := random();
    IF r < 0.45 THEN
      INSERT INTO hot VALUES (k, nextval('seq'), md5(random()::text))
        ON CONFLICT (id) DO UPDATE SET seq = nextval('seq'), val = excluded.val;
    ELSIF r < 0.65 THEN
      DELETE FROM hot WHERE id = k;
    ELSIF r < 0.8 THEN
      -- The key changes, often to the other shard: a delete there, an insert here.
      k2 := -k + (CASE WHEN k > 0 THEN -1 ELSE 1 END) * floor(random() * 3)::bigint;
      UPDATE hot SET id = k2, seq = nextval('seq')
        WHERE id = k AND NOT EXISTS (SELECT 1 FROM hot WHERE id = k2);
    ELSE
      -- One transaction over both shards: each instance sends its part.
      UPDATE hot SET seq = nextval('seq') WHERE id IN (k, k + 1, -k, -k - 1);
    END IF;
    COMMIT;
  END LOOP;
END $$;
SQL
}
write 1 &
w1=$!
write 2 &
w2=$!
wait "$w1" || tc_fail "writer 1 failed"
wait "$w2" || tc_fail "writer 2 failed"
psql -q -v ON_ERROR_STOP=1 -c "INSERT INTO hot VALUES (-9223372036854775808, nextval('seq'), 'min'), (9223372036854775807, nextval('seq'), 'max')"

psql -Atc "SELECT id, seq, coalesce(val, '') FROM hot ORDER BY id" | tr '|' '\t' >"$TC_TMP/table.tsv"
state_equals() {
	PYTHONPATH="$TC_TMP/py" $PY - "$TC_TMP/collected.jsonl" "$TC_TMP/table.tsv" "$TC_TMP/verdict" <<'PY'
import base64, collections, json, sys
from acme.hot.v1 import row_upserted_pb2, row_deleted_pb2
records = [json.loads(l) for l in open(sys.argv[1])]
want = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.strip()]
moved = 0
state, history, ids, sources = {}, collections.defaultdict(list), collections.Counter(), collections.Counter()
for rec in sorted(records, key=lambda r: (r["partition"], r["offset"])):
    ids[rec["headers"]["ce_id"]] += 1
    ce_id = rec["headers"]["ce_id"]
    sources["snapshot" if ce_id.startswith("snapshot:") else ce_id.split("-")[1]] += 1
    value = base64.b64decode(rec["value"])
    if rec["headers"]["ce_type"] == "acme.hot.RowUpserted.v1":
        m = row_upserted_pb2.RowUpserted.FromString(value)
        assert str(m.id) == rec["key"], (m.id, rec["key"])
        state[m.id] = [str(m.id), str(m.seq), m.val]
        history[m.id].append(m.seq)
    else:  # RowDeleted or KeyChanged: field 1 is the key that is gone
        m = row_deleted_pb2.RowDeleted.FromString(value)
        state.pop(m.id, None)
        moved += rec["headers"]["ce_type"] == "acme.hot.KeyChanged.v1"
got = [state[k] for k in sorted(state)]
verdict = open(sys.argv[3], "w")
if got != want:
    missing = [w for w in want if w not in got][:3]
    extra = [g for g in got if g not in want][:3]
    print(f"state differs: {len(got)} rows from events, {len(want)} in the table; missing {missing}, extra {extra}", file=verdict)
    sys.exit(1)
out_of_order = [k for k, seqs in history.items() if any(a >= b for a, b in zip(seqs, seqs[1:]))]
assert not out_of_order, f"keys whose events are out of commit order: {out_of_order[:5]}"
repeated = [i for i, n in ids.items() if n > 1]
assert not repeated, f"ce_ids shared by several events: {repeated[:5]}"
assert sources.pop("snapshot", 0) == 40, "the snapshots did not read the 40 earlier rows once"
assert set(sources) == {"hot_0", "hot_1"} and min(sources.values()) > 60, sources
assert moved > 0, "no key changed within a shard"
print(f"{len(records)} events ({dict(sources)}), {moved} keys changed within a shard, {len(got)} rows, {sum(len(h) > 1 for h in history.values())} keys with several upserts in order", file=verdict)
PY
}
wait_for 40 state_equals || tc_fail "$(cat "$TC_TMP/verdict" 2>/dev/null)"
# Negative keys of both parities and the extremes reached the consumer.
for k in -9223372036854775808 9223372036854775807; do
	grep -q "^$k	" "$TC_TMP/table.tsv" || tc_fail "key $k is not in the table"
done
[ "$(psql -Atc "SELECT count(DISTINCT abs(id % 2)) FROM hot WHERE id < 0")" = 2 ] ||
	tc_fail "the workload left no negative keys of both parities"

for i in 0 1; do
	kill -TERM "${pids[$i]}"
	rc=0
	wait "${pids[$i]}" || rc=$?
	[ "$rc" -eq 0 ] || tc_fail "instance $i exited $rc on SIGTERM (see tablecast$i.log)"
done
echo "scaleout: $(cat "$TC_TMP/verdict")"
