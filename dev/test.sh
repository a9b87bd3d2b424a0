#!/usr/bin/env bash
# make test: our suite (in two processes, below), and CKAN's own tests with
# governance beside it (dev/ckan_suite.sh, CKAN_SUITE=quick|all|none), all at
# the same time, so both cores work until the end. CKAN's
# run uses databases of its own (dev/ckan_core/services.ini); its output goes
# to .data/ckan-core/suite.log and is shown when ours is done. Exits non-zero
# when either fails, or when the type checker or the linter finds anything.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
SUITE="${CKAN_SUITE:-quick}"
LOG="$ROOT/.data/ckan-core/suite.log"

core_pid=
if [ "$SUITE" != none ]; then
    mkdir -p "$(dirname "$LOG")"
    CKAN_SUITE_SERVICES_INI="$ROOT/dev/ckan_core/services.ini" \
        "$ROOT/dev/ckan_suite.sh" $SUITE >"$LOG" 2>&1 &
    core_pid=$!
    echo "CKAN's own tests ($SUITE) run beside ours: $LOG"
fi

# The type checker and the linter over the package (config in pyproject.toml),
# while CKAN's tests start: seconds, and a failure fails make test.
echo "==> mypy -p ckanext.governance; ruff check ckanext"
(cd "$ROOT" && "$VENV/bin/mypy" -p ckanext.governance && "$VENV/bin/ruff" check ckanext)
static=$?

# Our suite: with PYTEST_ARGS, one process of what they select. Without, two at
# once, which together run every test under tests/ once: FIRST with test.ini, the
# rest with dev/test_shard.ini (databases, Redis database and files of its own;
# each process starts its own Solr). Its output goes to .data/test-shard.log and
# is shown when the first is done.
FIRST=(tests/matrix tests/site_wide tests/browser tests/views)
SHARD_LOG="$ROOT/.data/test-shard.log"
second=0
if [ -n "${PYTEST_ARGS:-}" ]; then
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pytest ${PYTEST_ARGS}
    ours=$?
else
    ignored=()
    for path in "${FIRST[@]}"; do ignored+=("--ignore=$path"); done
    (cd "$ROOT" && "$VENV/bin/python" -m pytest --ckan-ini=dev/test_shard.ini "${ignored[@]}") \
        >"$SHARD_LOG" 2>&1 &
    shard_pid=$!
    echo "==> pytest ${FIRST[*]} (test.ini); the rest of tests/ beside it (dev/test_shard.ini): $SHARD_LOG"
    (cd "$ROOT" && "$VENV/bin/python" -m pytest "${FIRST[@]}")
    ours=$?
    wait "$shard_pid"
    second=$?
    echo
    echo "==> the rest of tests/ (dev/test_shard.ini), from $SHARD_LOG:"
    cat "$SHARD_LOG"
fi

core=0
if [ -n "$core_pid" ]; then
    wait "$core_pid"
    core=$?
    echo
    echo "==> CKAN's own tests with governance ($SUITE), from $LOG:"
    # The comparison and timings; the whole log stays in the file.
    sed -n '/^baseline:  *[0-9]* tests/,$p' "$LOG"
    grep -E '^(baseline|governance): [0-9]+ s' "$LOG" || true
    [ "$core" = 0 ] || { echo "CKAN's own tests failed (exit $core): see $LOG" >&2; tail -n 30 "$LOG" >&2; }
fi
[ "$static" = 0 ] || echo "the type checker or the linter failed (exit $static): see above" >&2
[ "$second" = 0 ] || echo "the rest of our tests failed (exit $second): see above" >&2
[ "$ours" = 0 ] && [ "$second" = 0 ] && [ "$core" = 0 ] && [ "$static" = 0 ]
