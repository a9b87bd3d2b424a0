"""The fault scenarios of ``make bench-load``: each injects one fault into the
running stack while the full load runs, and says what must hold after.

A scenario is ``inject(stack, t0) -> marks`` (the windows of the fault, as
(label, start, end) in epoch seconds) and ``expect(run) -> failures`` over the
run's analysed log (benchmarks/load/report.py's ``Run``).
"""
from __future__ import annotations

import os
import random
import signal
import time

from . import stack as st

AT = 30  # seconds into the run when a fault starts


def _wait_until(t: float) -> None:
    time.sleep(max(0.0, t - time.time()))


def postgres(stack: st.Stack, t0: float) -> list:
    _wait_until(t0 + AT)
    down = time.time()
    st.postgres("stop")
    time.sleep(15)
    st.postgres("start")
    return [("PostgreSQL down", down, time.time())]


def redis(stack: st.Stack, t0: float) -> list:
    _wait_until(t0 + AT)
    down = time.time()
    st.redis_stop()
    time.sleep(60)
    st.redis_start()
    return [("Redis down", down, time.time())]


def smtp_down(stack: st.Stack, t0: float) -> list:
    _wait_until(t0 + AT)
    down = time.time()
    stack.stop("smtp")
    time.sleep(45)
    stack.mail()
    return [("SMTP down", down, time.time())]


def smtp_slow(stack: st.Stack, t0: float) -> list:
    _wait_until(t0 + AT)
    slow = time.time()
    (st.WORK / "smtp-control").write_text("slow 5")
    time.sleep(45)
    (st.WORK / "smtp-control").write_text("")
    return [("SMTP 5 s per message", slow, time.time())]


def solr(stack: st.Stack, t0: float) -> list:
    _wait_until(t0 + AT)
    down = time.time()
    st.solr_stop("with")
    time.sleep(30)
    st.solr_start("with", st.PORTS["solr-with"])
    return [("Solr down", down, time.time())]


def worker_kill(stack: st.Stack, t0: float) -> list:
    marks = []
    _wait_until(t0 + AT)
    for _ in range(5):
        pids = stack.worker_pids("with")
        if pids:
            victim = random.choice(pids)
            at = time.time()
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
            marks.append(("worker killed", at, at + 0.5))
        time.sleep(6)
    return marks


INJECT = {"postgres": postgres, "redis": redis, "smtp-down": smtp_down, "smtp-slow": smtp_slow,
          "solr": solr, "worker-kill": worker_kill}


# What each scenario must show, besides what every run must (no leak, every
# check of checks.py, every gate decided by the answering server's clock).

# What needs Solr in CKAN itself: search, the search page, package_patch
# (which indexes before it answers) and the dataset page (its organisation box
# counts the organisation's datasets with package_search).
SEARCH_KINDS = ("package_search", "search page", "package_patch", "dataset page")
# CKAN's API answers a Solr outage with these errors (ckan/views/api.py).
SEARCH_ERRORS = ("Search Connection Error", "Search Index Error", "Search Error")
WRITES = ("agreement_accept", "request_create", "request_decide", "package_patch")


def expect(name: str, run) -> list[str]:
    failures = []
    window = run.window()  # (start, end) of the fault, or None
    after = (window[1] + 20) if window else None

    def server_errors(rows):
        return [r for r in rows if r.status >= 500 or r.status == 0]

    shown = [r for r in run.rows if r.error.endswith("traceback shown")]
    if shown:
        failures.append(f"{len(shown)} answers showed a Python traceback")
    if name in ("steady", "smtp-down", "smtp-slow", "compare"):
        bad = server_errors(run.rows)
        if bad:
            failures.append(f"{len(bad)} server errors or dropped connections (target 0)")
    if name == "postgres":
        dropped = [r for r in run.rows if r.status == 0]
        if dropped:
            failures.append(f"{len(dropped)} requests got no HTTP answer while PostgreSQL was down")
        late = server_errors(r for r in run.rows if r.t > after)
        if late:
            failures.append(f"{len(late)} server errors 20 s after PostgreSQL was back (no recovery)")
    if name == "redis":
        bad = server_errors(run.rows)
        if bad:
            failures.append(f"{len(bad)} server errors with Redis away (target 0)")
        done = [r for r in run.rows if window[0] < r.t < window[1] and r.kind in WRITES and r.status == 200]
        if not done:
            failures.append("no decision or acceptance committed while Redis was down")
    if name == "smtp-down" and not run.counts.get("delivery retries"):
        failures.append("no delivery was retried although the SMTP server was down")
    if name == "smtp-slow" and not any(m.get("delay") for m in run.inbox):
        failures.append("no message went through the slow SMTP server")
    if name == "solr":
        bad = server_errors(r for r in run.rows if r.kind not in SEARCH_KINDS)
        if bad:
            kinds = sorted({r.kind for r in bad})
            failures.append(f"{len(bad)} server errors without Solr outside search ({', '.join(kinds)})")
        unclean = [r for r in run.rows if r.kind in SEARCH_KINDS and (r.status == 0 or (
            r.status >= 500 and not r.kind.endswith("page") and r.error.split(" ", 1)[-1] not in SEARCH_ERRORS))]
        if unclean:
            failures.append(f"{len(unclean)} searches without Solr failed other than with CKAN's "
                            f"search errors (e.g. {unclean[0].kind}: {unclean[0].error})")
        answered = [r for r in run.rows if window[0] + 2 < r.t < window[1] - 1
                    and r.kind in ("package_show", "download") and r.status in (200, 302, 403)]
        if not answered:
            failures.append("package_show and downloads did not answer while Solr was down")
        late = server_errors(r for r in run.rows if r.t > after)
        if late:
            failures.append(f"{len(late)} server errors 20 s after Solr was back")
    if name == "worker-kill":
        # A request answered with no HTTP response is excused when its worker
        # was killed while it ran; any other error is not.
        late = server_errors(r for r in run.rows
                             if not any(r.t - 0.5 <= a <= r.t + r.ms / 1000 + 0.5 for _, a, _b in run.marks))
        if late:
            failures.append(f"{len(late)} server errors not explained by a kill")
    return failures


def observed(name: str, run) -> str:
    """What the run saw of its fault, in words, for RESULTS.md."""
    window = run.window()
    if window is None:
        return "no fault"
    during = [r for r in run.rows if window[0] <= r.t <= window[1]]
    failed = [r for r in during if r.status >= 500 or r.status == 0]
    ok_after = [r.t for r in run.rows if r.t > window[1] and 200 <= r.status < 400]
    recovered = f"; first success {ok_after[0] - window[1]:.1f} s after" if ok_after else ""
    kinds = sorted({r.kind for r in failed})
    text = f"{len(failed)} of {len(during)} requests failed while it lasted ({', '.join(kinds) or 'none'}){recovered}"
    if name == "redis":
        writes = sum(1 for r in during if r.kind in WRITES and r.status == 200)
        text += f"; {writes} writes committed while Redis was down"
    if name in ("redis", "smtp-down", "smtp-slow"):
        late = [m["t"] - window[1] for m in run.inbox if m["t"] > window[1]]
        if late:
            text += f"; last message delivered {max(late):.0f} s after it ended"
    if name == "smtp-down":
        text += f"; {run.counts.get('delivery retries', 0)} delivery retries"
    if name == "worker-kill":
        text += f"; {sum(1 for r in run.rows if r.status == 0)} requests got no answer"
    return text
