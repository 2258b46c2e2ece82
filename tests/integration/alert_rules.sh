#!/usr/bin/env bash
# The Prometheus rules: promtool (Debian's prometheus package) checks their
# syntax and runs their unit tests, which give every alert series that must
# fire it and a healthy instance that must not.
set -euo pipefail
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
command -v promtool >/dev/null || { echo "FAIL: promtool is missing (Debian package prometheus)" >&2; exit 1; }
cd "$top_srcdir/packaging/prometheus"
promtool check rules tablecast.rules.yml
promtool test rules tests/tablecast.test.yml
# Every alert has a unit test, a severity, a summary and a runbook section.
alerts=$(sed -n 's/^ *- alert: //p' tablecast.rules.yml | sort)
[ -n "$alerts" ] || { echo "FAIL: no alerts found" >&2; exit 1; }
for a in $alerts; do
	grep -q "alertname: $a\$" tests/tablecast.test.yml || { echo "FAIL: alert $a has no unit test" >&2; exit 1; }
	section=$(awk -v a="$a" '$0 ~ "- alert: "a"$" {f=1} f && /runbook: / {print; exit}' tablecast.rules.yml |
		sed 's/.*#\([a-z0-9-]*\)".*/\1/')
	[ -n "$section" ] || { echo "FAIL: alert $a names no runbook section" >&2; exit 1; }
	# GitHub-style anchors of the runbook's headings.
	sed -n 's/^#\{2,3\} //p' "$top_srcdir/docs/OPERATIONS.md" |
		tr 'A-Z' 'a-z' | sed 's/[^a-z0-9 -]//g; s/ /-/g' | grep -qx -- "$section" ||
		{ echo "FAIL: alert $a: docs/OPERATIONS.md has no section #$section" >&2; exit 1; }
done
echo "alert rules: $(echo "$alerts" | wc -l) alerts, each tested and with a runbook section"
