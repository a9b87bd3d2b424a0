#!/usr/bin/env bash
# make stack: the demo's site in the shape production has, in the foreground
# (Ctrl-C stops all of it). After dev/setup.sh stack.
#
#   gunicorn, STACK_WORKERS (4) worker processes on 127.0.0.1:STACK_PORT (5050),
#     serving dev/stack/wsgi.py (CKAN's WSGI app, loaded once per worker) with
#     dev/stack/gunicorn.conf.py
#   two `ckan jobs worker` processes on the same Redis queue
#   cron: `ckan governance embargo lift`, `grants expire`, `notify send` every
#     STACK_CRON_SECONDS (60), as the crontab of the README's reference deployment
#   Apache Solr 9 on STACK_SOLR_PORT (8984, index in .data/stack-solr/), an SMTP
#     sink on STACK_SMTP_PORT (8026, mail in .data/stack-mail.log), over the
#     machine's PostgreSQL (ckan_stack, datastore_stack) and Redis (database 4)
#
# Logs: .data/stack-{gunicorn,worker-1,worker-2,cron,solr}.log.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PORT="${STACK_PORT:-5050}"
SOLR_PORT="${STACK_SOLR_PORT:-8984}"
SMTP_PORT="${STACK_SMTP_PORT:-8026}"
WORKERS="${STACK_WORKERS:-4}"
CRON_SECONDS="${STACK_CRON_SECONDS:-60}"
INI="$ROOT/.data/stack.ini"
SOLR_HOME="$ROOT/.data/stack-solr"
LOGS="$ROOT/.data/stack"
"$VENV/bin/python" "$ROOT/dev/stack/write_ini.py" "$ROOT" "$PORT" "$SOLR_PORT" "$SMTP_PORT"
# shellcheck source=dev/site.sh
. "$ROOT/dev/site.sh"
trap site_cleanup EXIT
trap 'exit 130' INT TERM

site_solr "$SOLR_PORT" "$SOLR_HOME" "$LOGS-solr.log"
site_mail_sink "$SMTP_PORT" "$ROOT/.data/stack-mail.log"
site_content "$INI"
for n in 1 2; do
    "$VENV/bin/ckan" -c "$INI" jobs worker >>"$LOGS-worker-$n.log" 2>&1 &
    pids+=($!)
done
site_cron "$INI" "$CRON_SECONDS" "$LOGS-cron.log"

echo
echo "Stack: http://127.0.0.1:$PORT   ($WORKERS gunicorn workers, 2 job workers, cron every ${CRON_SECONDS}s; Ctrl-C to stop)"
echo
CKAN_INI="$INI" STACK_PORT="$PORT" STACK_WORKERS="$WORKERS" STACK_LOG="$LOGS-gunicorn.log" \
    "$VENV/bin/gunicorn" -c "$ROOT/dev/stack/gunicorn.conf.py" --chdir "$ROOT/dev/stack" wsgi:application &
pids+=($!)
wait "${pids[-1]}"
