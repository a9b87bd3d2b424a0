"""benchmarks/RESULTS.md: each benchmark rewrites its own section, keeps the others.

A section runs from ``<!-- begin NAME -->`` to ``<!-- end NAME -->``. Sections
are kept in the order of ``ORDER``; the header above them is rewritten each time.
"""
from __future__ import annotations

import datetime as dt
import os
import pathlib
import platform
import re
import subprocess

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
ORDER = ("overhead", "scale")

HEADER = """\
# Benchmark results

Written by `make bench` (section "Overhead against plain CKAN") and `make bench-scale`
(section "Behaviour at scale"); each run rewrites its own section and keeps the other.
How they are made and what the targets are: the README's "Overhead" section and the
docstrings of `benchmarks/overhead.py` and `benchmarks/scale.py`.
"""


def machine() -> str:
    """One line: date, CKAN, Python, PostgreSQL, cores, memory."""
    import ckan

    memory = "?"
    try:
        for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return (f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; CKAN {ckan.__version__}; "
            f"Python {platform.python_version()}; PostgreSQL {postgres_version()}; "
            f"{os.cpu_count()} cores, {memory} memory ({platform.machine()}, "
            f"{platform.system()} {platform.release()})")


def postgres_version() -> str:
    env = dict(os.environ, PGPASSWORD="pass")
    try:
        return subprocess.run(
            ["psql", "-X", "-tA", "-h", "127.0.0.1", "-U", "ckan_default", "-d", "ckan_bench",
             "-c", "SHOW server_version"], env=env, capture_output=True, text=True, check=True,
        ).stdout.strip().split()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "?"


def write_section(name: str, body: str) -> None:
    """Replace (or add) section ``name`` of RESULTS.md with ``body``."""
    sections: dict[str, str] = {}
    if RESULTS.exists():
        text = RESULTS.read_text()
        for found in re.finditer(r"<!-- begin (\w+) -->\n(.*?)<!-- end \1 -->\n", text, re.S):
            sections[found[1]] = found[2]
    sections[name] = body.rstrip("\n") + "\n"
    names = [n for n in ORDER if n in sections] + sorted(n for n in sections if n not in ORDER)
    RESULTS.write_text(HEADER + "".join(
        f"\n<!-- begin {n} -->\n{sections[n]}<!-- end {n} -->\n" for n in names))


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; columns after the first are right-aligned."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
