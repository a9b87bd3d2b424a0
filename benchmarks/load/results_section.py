"""benchmarks/RESULTS.md's "Under load" section and benchmarks/load.png."""
from __future__ import annotations

import sys

from . import faults, report
from . import stack as st

TARGET_THROUGHPUT, TARGET_P95 = 0.95, 1.10


def _f(x: float) -> str:
    return f"{x:.1f}"


def write(runs: list[report.Run], args) -> None:
    sys.path.insert(0, str(st.ROOT / "benchmarks"))
    import results

    body = ["## Under load, with faults (`make bench-load`)\n",
            f"{results.machine()}. The reference deployment (README) on loopback: gunicorn with 4 "
            f"workers, 2 job workers, cron every 10 s (not during the comparison), Solr 9, Redis, the run's SMTP server; locust "
            f"with {args.users} users at {args.rate:g} request/s each ({args.users * args.rate:g}/s "
            f"offered, a bounded load), {args.seconds} s per run.\n"]
    compared = [r for r in runs if r.name.startswith("compare")]
    if compared:
        def pooled(label: str) -> dict:
            rows = [row for r in compared if r.name == f"compare {label}" for row in r.rows]
            s = report.Run.summary(compared[0], rows)
            s["throughput"] = len(rows) / (args.seconds * sum(1 for r in compared if r.name == f"compare {label}"))
            return s
        w, wo = pooled("with"), pooled("without")
        tr, pr = w["throughput"] / wo["throughput"], w["p95"] / wo["p95"]
        body.append("### The same load with and without the plugin\n")
        body.append("The shared mix (anonymous and logged-in package_show, package_search, dataset and "
                    "resource pages, search page, downloads, datastore_search over every tier; publishers' "
                    "package_patch) against the two sites in turn, A B B A.\n")
        body.append(results.table(
            ["", "requests", "throughput /s", "p50 ms", "p95 ms", "p99 ms", "5xx", "no answer"],
            [[label, str(s["requests"]), _f(s["throughput"]), _f(s["p50"]), _f(s["p95"]), _f(s["p99"]),
              str(s["5xx"]), str(s["dropped"])] for label, s in (("with governance", w), ("without", wo))]))
        body.append(f"Throughput ratio {tr:.3f} (target ≥ {TARGET_THROUGHPUT}: "
                    f"{'met' if tr >= TARGET_THROUGHPUT else 'MISSED'}); p95 ratio {pr:.3f} "
                    f"(target ≤ {TARGET_P95}: {'met' if pr <= TARGET_P95 else 'MISSED'}); p50 ratio "
                    f"{w['p50'] / wo['p50']:.3f}, p99 ratio {w['p99'] / wo['p99']:.3f}.\n")
        control = sum(len(r.leaks) for r in compared if r.name == "compare without")
        caught = sum(len(r.leaks) for r in compared if r.name == "compare with")
        body.append(f"The scanner's control: under the same load, plain CKAN handed {control} answers "
                    f"carrying data of datasets whose terms the caller does not meet (it has no terms); "
                    f"with the plugin, {caught}.\n")
    full = [r for r in runs if not r.name.startswith("compare")]
    if full:
        body.append("### The full mix, alone and with each fault\n")
        body.append("Researchers accept agreements and file requests, reviewers decide in bulk (up to 5 "
                    "at once, two reviewers racing), publishers change tiers and embargoes, six embargoes "
                    "and four grants end during each run. Every answer scanned for the data of datasets "
                    "the caller may not have (resource URLs, upload names and contents, DataStore rows).\n")
        rows, observed = [], []
        for r in full:
            s = r.summary()
            fault = "; ".join(sorted({f"{m[0]} {m[2] - m[1]:.0f} s" if m[2] - m[1] > 1 else m[0]
                                      for m in r.marks})) or "none"
            if r.name == "worker-kill":
                fault = f"{len(r.marks)} workers SIGKILLed, 6 s apart"
            observed.append(f"- **{r.name}** ({fault}): {faults.observed(r.name, r)}; lost: "
                            + ("nothing" if not r.failures else "see the assertions below"))
            rows.append([r.name, fault, str(s["requests"]), _f(s["throughput"]), _f(s["p50"]), _f(s["p95"]),
                         _f(s["p99"]), str(s["5xx"]), str(s["dropped"]), str(len(r.leaks)),
                         str(getattr(r, "decided", 0)), "pass" if not r.failures else "FAIL"])
        body.append(results.table(["run", "fault", "requests", "/s", "p50", "p95", "p99", "5xx", "no answer",
                                   "leaks", "gates checked", "assertions"], rows))
        body.append("What each fault did, as the load generator saw it:\n")
        body.append("\n".join(observed) + "\n")
        body.append("What each run wrote, and found exactly once (ledger, outbox, inbox):\n")
        keys = sorted({k for r in full for k in r.counts})
        body.append(results.table(["run"] + keys, [[r.name] + [str(r.counts.get(k, "")) for k in keys] for r in full]))
    failed = [(r.name, f) for r in runs for f in r.failures]
    body.append("### Assertions\n")
    body.append("\n".join(f"- {name}: FAIL {f}" for name, f in failed) + "\n" if failed else
                "Every assertion passed: no leak, no lost or duplicated fact or message, every gate "
                "decided by the answering server's clock, and each fault's own expectations (README).\n")
    body.append("![latency over time](load.png)\n")
    results.write_section("load", "\n".join(body))
    report.plot(runs, str(st.ROOT / "benchmarks" / "load.png"))
    print("wrote benchmarks/RESULTS.md and benchmarks/load.png", file=sys.stderr)
