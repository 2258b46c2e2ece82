#!/usr/bin/env bash
# docs/MIGRATION.md end to end (make demo-migration): the audit shows the
# warehouse reading orders, the events are published with the existing rows,
# the warehouse's own read model is built from them (duplicates dropped by
# ce_id), tablecast verify and a field-by-field comparison prove it equal,
# the warehouse's SELECT is revoked and a fresh audit --since-last shows no
# foreign reader left. Each step fails the test when it does not show that.
exec "${BASH:-bash}" "$(dirname "$0")/../demo-migration.sh"
