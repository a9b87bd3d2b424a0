"""Reading a load run back: its requests, leaks, gates and inbox; the figures
of benchmarks/RESULTS.md's "Under load" section and benchmarks/load.png."""
from __future__ import annotations

import dataclasses
import glob
import json
import os
import statistics


@dataclasses.dataclass
class Row:
    t: float
    kind: str
    ms: float
    status: int
    host: str
    leak: bool
    error: str


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


@dataclasses.dataclass
class Run:
    name: str
    log: str
    seconds: float
    marks: list = dataclasses.field(default_factory=list)
    counts: dict = dataclasses.field(default_factory=dict)
    failures: list = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        self.rows: list[Row] = []
        for path in glob.glob(os.path.join(self.log, "requests-*.tsv")):
            for line in open(path):
                t, kind, ms, status, host, leak, error = line.rstrip("\n").split("\t")
                self.rows.append(Row(float(t), kind, float(ms), int(status), host, leak == "LEAK", error))
        self.rows.sort(key=lambda r: r.t)
        self.leaks = self._jsonl("leaks-*.jsonl")
        self.seen = self._jsonl("seen-*.jsonl")
        self.gates = self._jsonl("gates-*.jsonl")
        inbox = os.path.join(self.log, "inbox.jsonl")
        self.inbox = [json.loads(x) for x in open(inbox)] if os.path.exists(inbox) else []
        self.t0 = self.rows[0].t if self.rows else 0.0

    def _jsonl(self, pattern: str) -> list[dict]:
        return [json.loads(line) for path in glob.glob(os.path.join(self.log, pattern)) for line in open(path)]

    def window(self) -> tuple[float, float] | None:
        if not self.marks:
            return None
        return min(m[1] for m in self.marks), max(m[2] for m in self.marks)

    def summary(self, rows: list[Row] | None = None) -> dict:
        rows = self.rows if rows is None else rows
        ms = [r.ms for r in rows]
        span = (rows[-1].t - rows[0].t) if len(rows) > 1 else self.seconds
        return {"requests": len(rows), "throughput": len(rows) / max(span, 1e-9),
                "p50": percentile(ms, 0.50), "p95": percentile(ms, 0.95), "p99": percentile(ms, 0.99),
                "5xx": sum(1 for r in rows if r.status >= 500), "dropped": sum(1 for r in rows if r.status == 0)}

    def gate_failures(self, plan: dict) -> tuple[list[str], int]:
        """Each download of a dataset whose embargo or grant ends during the run,
        against the end by the clock of the server that answered it."""
        failures, decided = [], 0
        ends = plan.get("ends", {})
        for g in self.gates:
            end = ends.get(g["name"])
            if end is None or g["status"] not in (200, 302, 403):
                continue
            first, last = g["start"] + g["offset"], g["end"] + g["offset"]
            if first - 1 <= end <= last + 1:
                continue  # the end fell while the request was in flight
            d = plan["datasets"][g["name"]]
            if d["class"] == "embargo":
                should_open = first > end
            elif g["caller"] == d.get("holder"):
                should_open = last < end
            else:
                should_open = False
            opened = g["status"] != 403
            decided += 1
            if opened != should_open:
                failures.append(f"{g['name']} {'opened' if opened else 'closed'} for {g['caller'] or 'anonymous'} "
                                f"{first - end:+.1f} s from its end by the server's clock")
        return failures, decided


def series(run: Run, step: float = 2.0) -> tuple[list[float], list[float], list[float], list[float]]:
    """Seconds from the run's start, median and p95 latency per step, and errors per step."""
    buckets: dict[int, list[Row]] = {}
    for r in run.rows:
        buckets.setdefault(int((r.t - run.t0) // step), []).append(r)
    xs, med, p95, errors = [], [], [], []
    for k in sorted(buckets):
        ms = [r.ms for r in buckets[k]]
        xs.append(k * step)
        med.append(statistics.median(ms))
        p95.append(percentile(ms, 0.95))
        errors.append(sum(1 for r in buckets[k] if r.status >= 500 or r.status == 0))
    return xs, med, p95, errors


def plot(runs: list[Run], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(runs), 1, figsize=(10, 2.2 * len(runs)), sharex=True, squeeze=False)
    for ax, run in zip(axes[:, 0], runs):
        xs, med, p95, errors = series(run)
        ax.plot(xs, p95, color="tab:blue", lw=1.2, label="p95")
        ax.plot(xs, med, color="tab:green", lw=1.0, label="median")
        for label, a, b in run.marks:
            ax.axvspan(a - run.t0, max(b, a + 0.5) - run.t0, color="tab:red", alpha=0.2)
        if run.marks:
            ax.text(run.marks[0][1] - run.t0, 0.03, run.marks[0][0], fontsize=8, color="tab:red",
                    va="bottom", transform=ax.get_xaxis_transform())  # y: a fraction of the axes
        bad = [(x, 1) for x, e in zip(xs, errors) if e]
        if bad:
            ax.scatter([x for x, _ in bad], [max(p95) * 1.2] * len(bad), marker="x", color="tab:red",
                       s=12, label="5xx / no answer")
        ax.set_yscale("log")
        ax.set_ylabel("ms")
        ax.set_title(run.name, fontsize=9, loc="left")
        ax.legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("seconds into the run")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
