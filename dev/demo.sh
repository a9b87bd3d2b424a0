#!/usr/bin/env bash
# Serve the demo site in the foreground (Ctrl-C stops it and the Solr stand-in).
# Called by `make demo` after dev/setup.sh demo.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
INI="$ROOT/.data/demo.ini"  # dev/demo.ini with this checkout's secrets (dev/setup.sh)
HOST=127.0.0.1
PORT="${DEMO_PORT:-5000}"
SOLR_PORT="${DEMO_SOLR_PORT:-8983}"

ping() {  # url: succeeds when the search service answers
    "$VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" >/dev/null 2>&1
}

pids=()
cleanup() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ -z "${CKAN_SOLR_URL:-}" ]; then
    export CKAN_SOLR_URL="http://$HOST:$SOLR_PORT/solr/ckan"
    if ! ping "$CKAN_SOLR_URL/admin/ping"; then
        PYTHONPATH="$ROOT/dev" "$VENV/bin/python" -m solr_standin \
            --host "$HOST" --port "$SOLR_PORT" --core ckan --data "$ROOT/.data/demo-solr.json" \
            >>"$ROOT/.data/demo-solr.log" 2>&1 &
        pids+=($!)
        for _ in $(seq 1 50); do
            ping "$CKAN_SOLR_URL/admin/ping" && break
            sleep 0.2
        done
        ping "$CKAN_SOLR_URL/admin/ping" || { echo "Solr stand-in did not start (see .data/demo-solr.log)" >&2; exit 1; }
    fi
fi

# A local mail sink: the demo's notifications end up in .data/demo-mail.log.
"$VENV/bin/python" -m aiosmtpd -n -l 127.0.0.1:8025 -c aiosmtpd.handlers.Debugging \
    >>"$ROOT/.data/demo-mail.log" 2>&1 &
pids+=($!)

"$VENV/bin/ckan" -c "$INI" db pending-migrations --apply >/dev/null
"$VENV/bin/python" "$ROOT/dev/demo_data.py" "$INI"

echo
echo "Demo site: http://$HOST:$PORT   (Ctrl-C to stop)"
echo
# Background jobs (notification delivery) run in a worker beside the site, and
# what cron would run every few minutes runs every minute here.
"$VENV/bin/ckan" -c "$INI" jobs worker >>"$ROOT/.data/demo-worker.log" 2>&1 &
pids+=($!)
while sleep 60; do
    "$VENV/bin/ckan" -c "$INI" governance embargo lift
    "$VENV/bin/ckan" -c "$INI" governance grants expire
    "$VENV/bin/ckan" -c "$INI" governance notify send
done >>"$ROOT/.data/demo-cron.log" 2>&1 &
pids+=($!)
"$VENV/bin/ckan" -c "$INI" run --host "$HOST" --port "$PORT" --disable-reloader
