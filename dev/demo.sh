#!/usr/bin/env bash
# Serve the demo site in the foreground (Ctrl-C stops it and the Solr it started).
# Called by `make demo` after dev/setup.sh demo.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
INI="$ROOT/.data/demo.ini"  # dev/demo.ini with this checkout's secrets (dev/setup.sh)
HOST=127.0.0.1
PORT="${DEMO_PORT:-5000}"
# shellcheck source=dev/site.sh
. "$ROOT/dev/site.sh"
trap site_cleanup EXIT INT TERM

# The index stays in .data/demo-solr across restarts.
site_solr "${DEMO_SOLR_PORT:-8983}" "$ROOT/.data/demo-solr" "$ROOT/.data/demo-solr.log"
# The demo's notifications end up in .data/demo-mail.log.
site_mail_sink 8025 "$ROOT/.data/demo-mail.log"
site_content "$INI"

echo
echo "Demo site: http://$HOST:$PORT   (Ctrl-C to stop)"
echo
# Background jobs (notification delivery) run in a worker beside the site, and
# what cron would run every few minutes runs every minute here.
"$VENV/bin/ckan" -c "$INI" jobs worker >>"$ROOT/.data/demo-worker.log" 2>&1 &
pids+=($!)
site_cron "$INI" 60 "$ROOT/.data/demo-cron.log"
"$VENV/bin/ckan" -c "$INI" run --host "$HOST" --port "$PORT" --disable-reloader
