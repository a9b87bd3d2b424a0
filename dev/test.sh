#!/usr/bin/env bash
# make test: our suite, and CKAN's own tests with governance beside it
# (dev/ckan_suite.sh, CKAN_SUITE=quick|all|none), at the same time: each is one
# Python process, so on two cores they take about as long as ours alone. CKAN's
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

# shellcheck disable=SC2086
"$VENV/bin/python" -m pytest ${PYTEST_ARGS:-}
ours=$?

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
[ "$ours" = 0 ] && [ "$core" = 0 ] && [ "$static" = 0 ]
