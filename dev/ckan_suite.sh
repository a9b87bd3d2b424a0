#!/usr/bin/env bash
# CKAN's own tests beside ours: CKAN 2.12.0's test modules, from its sdist on
# PyPI, run twice against the installed CKAN: as they are (the baseline), and
# with `governance` appended to the plugins of every test. A test that passes
# without the plugin and fails with it is a regression unless
# dev/ckan_core/known_differences.txt lists it with the reason; any other
# regression makes this script exit non-zero.
#
#   dev/ckan_suite.sh            every module, both runs in full (make test-ckan)
#   dev/ckan_suite.sh quick      the fixed subset for CI (make test-ckan-quick): the
#                                governance run first, then the baseline of only the
#                                tests that did not pass in it
#   dev/ckan_suite.sh PATH...    only these test paths (relative to the CKAN
#                                package root, e.g. ckan/tests/logic/action/test_update.py)
#
# Environment:
#   CKAN_SUITE_SERVICES_INI  ini whose databases and Redis are used (default: test.ini;
#                            `dev/setup.sh test` creates them). Its databases are reset.
#   CKAN_SUITE_BASELINE      full (default; quick: failed): run the baseline on every
#                            test, or only on those that failed with governance
#   CKAN_SUITE_ARGS          extra pytest arguments, e.g. "-x" or "-k package_update"
#   CKAN_SOLR_URL            a Solr core with CKAN's schema instead of the Solr 9 of dev/solr/
#                            started for each run
# Results: .data/ckan-core/{baseline,governance}.json, timings in .data/ckan-core/timings.txt.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
CKAN_VERSION="${CKAN_VERSION:-2.12.0}"
WORK="$ROOT/.data/ckan-core"
HERE="$ROOT/dev/ckan_core"
SERVICES_INI="${CKAN_SUITE_SERVICES_INI:-$ROOT/test.ini}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'ckan_suite: %s\n' "$*" >&2; exit 2; }

# The modules issue 14 names; CKAN's own CI takes about 28 minutes for one pass of them.
ALL=(
    ckan/tests/logic/action
    ckan/tests/logic/auth
    ckan/tests/controllers
    ckan/tests/lib/search
    ckanext/datastore/tests
    ckanext/activity/tests
)
# The subset for CI: where a dataset is written,
# authorised, indexed and shown, which is where governance chains CKAN.
QUICK=(
    ckan/tests/logic/action/test_update.py
    ckan/tests/logic/action/test_patch.py
    ckan/tests/logic/action/test_create.py
    ckan/tests/logic/auth
    ckan/tests/controllers/test_package.py
    ckan/tests/lib/search
    ckanext/datastore/tests/test_create.py
    ckanext/activity/tests/logic/test_action.py
)

BASELINE="${CKAN_SUITE_BASELINE:-full}"
case "${1:-all}" in
    all) PATHS=("${ALL[@]}") ;;
    quick) PATHS=("${QUICK[@]}"); BASELINE="${CKAN_SUITE_BASELINE:-failed}" ;;
    *) PATHS=("$@") ;;
esac
case "$BASELINE" in full|failed) ;; *) die "CKAN_SUITE_BASELINE is full or failed" ;; esac

[ -x "$PY" ] || die "no virtualenv at $VENV (run dev/setup.sh test first)"
installed="$("$PY" -c 'import ckan; print(ckan.__version__)')"
[ "$installed" = "$CKAN_VERSION" ] || die "installed CKAN is $installed, the suite is $CKAN_VERSION's"
SITE="$("$PY" -c 'import ckan, os; print(os.path.dirname(os.path.dirname(ckan.__file__)))')"

mkdir -p "$WORK"
SDIST="$WORK/ckan-$CKAN_VERSION.tar.gz"
if [ ! -f "$SDIST" ]; then
    say "downloading the ckan $CKAN_VERSION sdist from PyPI"
    "$VENV/bin/pip" download -q --no-binary :all: --no-deps "ckan==$CKAN_VERSION" -d "$WORK"
fi
SRC="$WORK/ckan-$CKAN_VERSION"
if [ ! -f "$SRC/.extracted" ]; then
    say "extracting ckan/tests and ckanext/*/tests"
    rm -rf "$SRC"
    tar -xzf "$SDIST" -C "$WORK" --wildcards \
        "ckan-$CKAN_VERSION/ckan/tests/*" "ckan-$CKAN_VERSION/ckanext/*/tests/*"
    touch "$SRC/.extracted"
fi
# CKAN's wheel ships the same test packages: the extracted tests are only
# copied into the installed package where a file is missing or differs, so
# `ckan.tests.helpers`, the factories and the fixtures are those of the tests.
"$PY" "$HERE/install_tests.py" "$SRC" "$SITE"

# run.ini: CKAN's test settings (dev/ckan_core/test-core.ini) on our services.
printf 'upper\n"count"\n' > "$WORK/allowed_functions.txt"
"$PY" "$HERE/make_ini.py" "$SERVICES_INI" "$HERE/test-core.ini" \
    "$WORK/allowed_functions.txt" > "$WORK/run.ini"

TARGETS=()
for p in "${PATHS[@]}"; do TARGETS+=("$SITE/$p"); done

run() {  # name what extra-args...: what is a description for the timings
    local name="$1" what="$2"; shift 2
    local start end rc=0
    say "CKAN's own tests, $name: $what"
    start=$(date +%s)
    # shellcheck disable=SC2086
    PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" nice -n 10 "$PY" -m pytest \
        -c "$HERE/pytest.ini" --rootdir="$SITE" -p no:cacheprovider -p ckan_suite_plugin \
        --ckan-ini="$WORK/run.ini" --suite-results="$WORK/$name.json" -q -rN --tb=short \
        ${CKAN_SUITE_ARGS:-} "$@" || rc=$?
    end=$(date +%s)
    # 1 means some tests failed: compared below. Anything else is a broken run.
    [ "$rc" -le 1 ] || die "pytest ($name) exited with $rc"
    echo "$name: $((end - start)) s, $what ($(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))" \
        | tee -a "$WORK/timings.txt"
}

rm -f "$WORK/baseline.json" "$WORK/governance.json"
if [ "$BASELINE" = full ]; then
    run baseline "${PATHS[*]}" "${TARGETS[@]}"
    run governance "${PATHS[*]}" --append-governance "${TARGETS[@]}"
else
    run governance "${PATHS[*]}" --append-governance "${TARGETS[@]}"
    # A regression passes without the plugin and fails with it: only the
    # tests that did not pass with it need the run without.
    "$PY" - "$WORK/governance.json" "$SITE" > "$WORK/rerun.args" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))
for nodeid, result in sorted(results.items()):
    if result["outcome"] != "passed":
        print(f"{sys.argv[2]}/{nodeid}")
PY
    if [ -s "$WORK/rerun.args" ]; then
        run baseline "the $(wc -l < "$WORK/rerun.args") tests that did not pass with governance" \
            "@$WORK/rerun.args"
    else
        echo '{}' > "$WORK/baseline.json"
    fi
fi

"$PY" "$HERE/compare.py" "$WORK/baseline.json" "$WORK/governance.json" \
    "$HERE/known_differences.txt"
