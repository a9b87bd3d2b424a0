# Sourced by dev/demo.sh and dev/stack.sh: what serving the demo's site takes
# besides the web server itself. Expects ROOT and VENV; the processes started
# here are stopped by site_cleanup (with the Solr started here, if any).
pids=()
own_solr_home=

site_ping() {  # url: succeeds when the search service answers
    "$VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" >/dev/null 2>&1
}

site_solr() {  # port home log: Solr for CKAN_SOLR_URL unless that is set already
    if [ -z "${CKAN_SOLR_URL:-}" ]; then
        export CKAN_SOLR_URL="http://127.0.0.1:$1/solr/ckan"
        # A Solr left running there (or one of your own on that port) is used as it is.
        if ! site_ping "$CKAN_SOLR_URL/admin/ping"; then
            echo "starting Apache Solr on port $1 (log: ${3#"$ROOT"/})"
            own_solr_home=$2
            VENV="$VENV" "$ROOT/dev/solr/solr.sh" start "$1" "$2" "$3" >/dev/null
        fi
    fi
}

site_mail_sink() {  # port log: a local SMTP server that writes every message to the log
    "$VENV/bin/python" -m aiosmtpd -n -l "127.0.0.1:$1" -c aiosmtpd.handlers.Debugging >>"$2" 2>&1 &
    pids+=($!)
}

site_content() {  # ini: migrations, the demo content (created once), datasets the index lacks
    "$VENV/bin/ckan" -c "$1" db pending-migrations --apply >/dev/null
    "$VENV/bin/python" "$ROOT/dev/demo_data.py" "$1"
    # Datasets the index does not hold yet (a new Solr home, an index removed by hand).
    "$VENV/bin/ckan" -c "$1" search-index rebuild --only-missing >/dev/null 2>&1
}

site_cron() {  # ini seconds log: what cron runs (the README's crontab), every so many seconds
    while sleep "$2"; do
        "$VENV/bin/ckan" -c "$1" governance embargo lift
        "$VENV/bin/ckan" -c "$1" governance grants expire
        "$VENV/bin/ckan" -c "$1" governance notify send
    done >>"$3" 2>&1 &
    pids+=($!)
}

site_running() {  # succeeds while any process started here is still running
    local pid
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null && return 0
    done
    return 1
}

site_cleanup() {
    if [ ${#pids[@]} -gt 0 ]; then
        kill "${pids[@]}" 2>/dev/null || true
        # A job worker blocked on Redis may sit out its signal: 15 s, then SIGKILL.
        for _ in $(seq 15); do
            site_running || break
            sleep 1
        done
        kill -KILL "${pids[@]}" 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    [ -z "$own_solr_home" ] || "$ROOT/dev/solr/solr.sh" stop "$own_solr_home" || true
}
