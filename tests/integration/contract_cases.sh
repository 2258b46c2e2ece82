#!/usr/bin/env bash
# `tablecast test`: the demo's contract cases pass; a copy of the demo
# configuration with one expression broken on purpose fails them with a diff
# and exit 1; structured mode and dead letters run through the same decoding;
# a malformed case file is exit 2 with file:line. No database, no broker.
. "$(dirname "$0")/../lib/servers.sh"

TC="$top_builddir/tablecast"
cases="$top_srcdir/tests/cases"
out="$TC_TMP/out"

# run_test WANT_EXIT CONFIG CASES...: the exit status and output of tablecast test.
run_test() {
	local want=$1 rc=0
	shift
	"$TC" test --config "$@" >"$out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || tc_fail "tablecast test --config $*: exit $rc, not $want: $(head -c 4000 "$out")"
}

# 1. The shipped cases pass against conf/demo.cfg.
run_test 0 "$top_srcdir/conf/demo.cfg" "$cases/demo.cfg"
n=$(grep -c '^ok ' "$out")
[ "$n" -ge 12 ] || tc_fail "only $n cases passed: $(cat "$out")"
[ "$(tail -n 1 "$out")" = "$n passed, 0 failed" ] || tc_fail "last line: $(tail -n 1 "$out")"
tc_log "demo cases: $(tail -n 1 "$out")"

# 2. The same cases against a copy whose total_cents expression is broken:
#    exit 1, the failing cases named, the diff shows the wrong value.
broken="$TC_TMP/demo-broken.cfg"
sed 's/(new.total \* 100)::bigint/(new.total * 10)::bigint/' "$top_srcdir/conf/demo.cfg" >"$broken"
! cmp -s "$broken" "$top_srcdir/conf/demo.cfg" || tc_fail "the sed did not break the expression"
run_test 1 "$broken" "$cases/demo.cfg"
grep -q '^FAIL .*demo.cfg:[0-9]*: the order ships: v1 and v2 side by side' "$out" ||
	tc_fail "the broken expression's case is not named: $(cat "$out")"
grep -qx -- '    -   total_cents: 4250' "$out" || tc_fail "no expected line in the diff: $(cat "$out")"
grep -qx -- '    +   total_cents: 425' "$out" || tc_fail "no actual line in the diff: $(cat "$out")"
grep -Eq '^[0-9]+ passed, [1-9][0-9]* failed$' "$out" || tc_fail "no totals line: $(tail -n 1 "$out")"
tc_log "broken on purpose: $(tail -n 1 "$out")"

# 3. Structured mode and dead letters: the records are CloudEvents whose
#    proto_data holds the event (or the dead letter) and decodes to the values.
variant="$TC_TMP/demo-structured.cfg"
sed -e '/dataschema_base/a\  mode = "structured";' -e '/version = 2;/a\    on_error = "dead_letter";' \
	"$top_srcdir/conf/demo.cfg" >"$variant"
run_test 0 "$variant" "$cases/demo-dead-letters.cfg"
[ "$(tail -n 1 "$out")" = "2 passed, 0 failed" ] || tc_fail "structured cases: $(cat "$out")"
# The same dead-letter case against the demo itself, where v2 halts: a failure.
run_test 1 "$top_srcdir/conf/demo.cfg" "$cases/demo-dead-letters.cfg"
grep -q '^    + halt: event shop.orders.OrderShipped v2: ' "$out" || tc_fail "no halt in the diff: $(cat "$out")"

# 4. A case file that cannot be read: exit 2 with file:line.
printf 'tables = ( { name = "public.orders"; columns = ( ["id", "bigint"] ); } );\ncases = ( { name = "x"; table = "public.orders"; op = "upsert"; new = { id = "1"; }; expect = (); } );\n' \
	>"$TC_TMP/bad.cfg"
run_test 2 "$top_srcdir/conf/demo.cfg" "$TC_TMP/bad.cfg"
grep -q "^tablecast: $TC_TMP/bad.cfg:2: op is \"insert\", \"update\" or \"delete\"" "$out" ||
	tc_fail "malformed case file: $(cat "$out")"
printf 'cases = (\n' >"$TC_TMP/syntax.cfg"
run_test 2 "$top_srcdir/conf/demo.cfg" "$TC_TMP/syntax.cfg"
grep -q "^tablecast: $TC_TMP/syntax.cfg:[0-9]*: " "$out" || tc_fail "syntax error: $(cat "$out")"
echo "PASS: contract_cases"
