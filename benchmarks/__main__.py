"""Run the benchmarks and report: ``python -m benchmarks`` (``make bench``).

A full run measures JSONP in-process, over HTTP and in Chromium, profiles the
JSONP request path and the memory of wrapping a big answer, prints the table and
writes ``BENCHMARKS.md`` and ``benchmarks/results.png`` (matplotlib). ``--quick``
and ``--only`` runs print only, unless ``--write`` is given.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import psutil

from tests.tools import CHROMIUM_PATH

from . import bench_browser
from . import bench_http
from . import bench_inprocess
from . import common
from . import memory
from .bench_app import NPM_DIR
from .common import Row

#: Bar colours of the chart, by section.
COLOURS = {"in-process": "#4c72b0", "HTTP": "#dd8452", "browser": "#55a868"}

INTRODUCTION = """\
Each figure is a ratio from interleaved rounds of one run: baseline ÷ candidate
time per request (above 1, the candidate is faster). *Ratio, CPU*, on which
targets are judged, counts CPU time (in-process: `time.process_time`; HTTP: the
server process, by psutil; browser: the page's main-thread busy time) and is the
median of the rounds (range: lowest and highest); other load disturbs it far less
than the wall clock (*Ratio, wall*). Absolute numbers are no promise."""

METHOD = f"""## How it is measured

`bare` is an undecorated `jsonify` view (plain JSON), `jsonp` a `@jsonp` view that
returns the data, asked with `?callback=` (`json`: without one), `jsonp-response`
`@jsonp` over the `bare` view, `jsonpify` flask-jsonpify 1.5, on payloads of 95 B
and about 120 KB. In-process: {bench_inprocess.ROUNDS[0]}
rounds of WSGI calls. HTTP: gunicorn (1 sync worker) and Express 5 (1 process)
under `wrk {" ".join(bench_http.WRK_OPTIONS[:2])}`, {bench_http.ROUNDS[0]} rounds
of {bench_http.DURATION[0]} s. Browser: {bench_browser.ROUNDS[0]} rounds in
Chromium. The docstrings in `benchmarks/` say more.
"""

REPRODUCE = """## Reproduce

`make bench` (a full run, rewriting this file), `make bench ARGS=--quick` (a smoke
run, printed only), `ARGS="--only http"` (one section), `python -m
benchmarks.memory`. Needs `wrk`, Node.js and npm (for Express 5 and fetch-jsonp,
into `.cache/bench-npm/`) and Chromium at `/usr/bin/chromium` (or `CHROMIUM_PATH`).
"""

HEADER = "Where|Comparison|Baseline, CPU|Candidate, CPU|Ratio, CPU (range)|Ratio, wall"
HEADER += "|Target|Result"


@dataclass
class Results:
    """Everything one run measured, and what it could not."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The in-process section's table against another revision, and its name.
    against: str = ""
    revision: str = ""
    profile: str = ""
    memory: str = ""
    versions: dict[str, str] = field(default_factory=dict)


def table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table, padded to read in a terminal too."""
    cells = [HEADER.split("|")]
    for row in rows:
        (baseline, candidate), unit = row.medians, row.unit
        cells.append(
            [
                row.section,
                row.name,
                f"{row.labels[0]}: {baseline:,.1f} {unit}",
                f"{row.labels[1]}: {candidate:,.1f} {unit}",
                f"{row.ratio:.3f} ({min(row.ratios):.3f} to {max(row.ratios):.3f})",
                f"{row.wall_ratio:.3f}",
                "—" if row.target is None else f"≥ {row.target:.2f}",
                row.verdict,
            ]
        )
    widths = [max(map(len, column)) for column in zip(*cells, strict=True)]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells
    ]
    lines.insert(1, " | ".join("-" * width for width in widths))
    return "\n".join(f"| {line} |" for line in lines)


def explain(row: Row, rows: Sequence[Row]) -> list[str]:
    """Say, from this run's own figures, by how much a target was missed."""
    assert row.target is not None
    baseline = row.medians[0]
    allowed, candidate = baseline / row.target, baseline / row.ratio
    lines = [
        f"Against {row.labels[0]}'s {baseline:,.1f} {row.unit} of CPU time, the"
        f" target allows {row.labels[1]} {allowed:,.1f}; at the median ratio it"
        f" takes {candidate:,.1f} ({candidate - allowed:+,.1f} {row.unit})."
    ]
    same = {(r.section, r.name): r for r in rows}
    size = row.name.split(",")[0].split(":")[0]
    if row.section == "HTTP" and (inproc := same.get(("in-process", row.name))):
        extra = inproc.medians[0] / inproc.ratio - inproc.medians[0]
        lines.append(f"In-process, the same JSONP answer costs {extra:+,.1f} µs.")
    plain = same.get(("HTTP", f"{size}, orjson: JSONP vs plain JSON"))
    if "Express" in row.name and plain is not None:
        speed = baseline / plain.medians[0]
        lines.append(
            f"Plain JSON from the same worker runs at {speed:.2f}x Express's"
            f" res.jsonp; JSONP within its own target ({bench_http.JSONP_VS_JSON})"
            f" would be at {speed * bench_http.JSONP_VS_JSON:.2f}x."
        )
    return lines


def markdown(results: Results, command: str, minutes: float, load: str) -> str:
    """Write the Markdown report of one run."""
    out = [
        f"# Benchmarks\n\nFigures from one run of `{command}` on"
        f" {datetime.date.today()}, which took {minutes:.1f} minutes ({load}).\n",
        f"{INTRODUCTION}\n\n{table(results.rows)}\n",
        "![Ratios of this run](benchmarks/results.png)\n",
    ]
    if results.against:
        out.append(
            f"## In-process, against {results.revision}\n\nThe same scenarios"
            " measured on the code of another revision, in a worker process of its"
            " own, in the same rounds: each side's ratio, and each side's CPU time"
            f" per request over the other's.\n\n{results.against}\n"
        )
    if missed := [row for row in results.rows if not row.met]:
        out.append("## Targets missed\n")
        for row in missed:
            out.append(
                f"- {row.section}, {row.name}: {row.ratio:.3f} for ≥ {row.target:.2f},"
                f" {row.verdict} (wall clock: {row.wall_ratio:.3f})."
            )
            out += [f"  {line}" for line in explain(row, results.rows)]
        out[-1] += "\n"
    if results.profile:
        out.append(
            "## Where the JSONP time goes\n\ncProfile of JSONP answers through the"
            " WSGI app, in CPU time. Each call the profiler sees costs it a clock"
            " read, which inflates functions called often: compare the entries with"
            f" each other, not with the table.\n\n```\n{results.profile}\n```\n"
        )
        out.append((Path(__file__).parent / "analysis.md").read_text())
    if results.memory:
        out.append(f"## Memory\n\n{results.memory}\n")
    if results.notes:
        out += ["## Not measured\n", *(f"- {note}" for note in results.notes), ""]
    out += [METHOD, "## Machine and versions\n"]
    out += [f"- {name}: {value}" for name, value in results.versions.items()]
    return "\n".join([*out, "", REPRODUCE])


def chart(rows: Sequence[Row], path: Path) -> None:
    """Draw CPU ratios as bars with their range, wall ratios as dots, targets."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no state

    positions = list(range(len(rows)))[::-1]
    figure = Figure(figsize=(11, 0.36 * len(rows) + 1.6), layout="tight")
    axes = figure.subplots()
    low, high = (
        [r.ratio - min(r.ratios) for r in rows],
        [max(r.ratios) - r.ratio for r in rows],
    )
    colours = [COLOURS[row.section] for row in rows]
    axes.barh(positions, [r.ratio for r in rows], xerr=[low, high], color=colours)
    axes.plot([row.wall_ratio for row in rows], positions, "k.")
    for position, row in zip(positions, rows, strict=True):
        if row.target is not None:
            mark = [position - 0.4, position + 0.4]
            axes.plot([row.target] * 2, mark, "k" if row.met else "r", lw=2)
        axes.annotate(f"{row.ratio:.2f}", (0.02, position), va="center", fontsize=8)
    axes.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    axes.set_yticks(positions, [f"{r.section}: {r.name}" for r in rows], fontsize=8)
    axes.set_xlabel(
        "baseline ÷ candidate CPU time: median of rounds (bars), range (whiskers),\n"
        "wall clock (dots), targets (marks; red: missed)",
        fontsize=9,
    )
    axes.set_title("flask-jsonp benchmarks: ratios from one run", fontsize=11)
    figure.savefig(path, dpi=100)


SECTIONS = ("inprocess", "http", "browser")
DISTRIBUTIONS = "Flask Werkzeug orjson flask-orjson gunicorn Flask-Jsonpify psutil"
DISTRIBUTIONS += " playwright flask-jsonp"


def _output(*command: str) -> str:
    """The first line a command prints, or ``not found``."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    return ((done.stdout or done.stderr).strip().splitlines() or ["none"])[0]


def _versions(chromium: str) -> dict[str, str]:
    memory_gib = psutil.virtual_memory().total / 2**30
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":")[1] for line in cpuinfo if "model name" in line), "")
    versions = {
        "Machine": f"{cpu.strip()}, {os.cpu_count()} cores, {memory_gib:.1f} GiB,"
        f" {platform.system()} {platform.release()}",
        "Python": platform.python_version(),
    }
    for name in DISTRIBUTIONS.split():
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    describe = ("git", "-C", str(common.ROOT), "describe", "--always", "--dirty")
    versions["flask-jsonp"] += f", commit {_output(*describe)}"
    versions["wrk"] = _output("wrk", "--version").split(" [")[0].removeprefix("wrk ")
    versions["Node.js"] = _output("node", "--version")
    for package in ("express", "fetch-jsonp"):
        manifest = NPM_DIR / "node_modules" / package / "package.json"
        found = manifest.is_file() and json.loads(manifest.read_text())["version"]
        versions[package] = found or "not installed"
    versions["Chromium"] = chromium or _output(CHROMIUM_PATH, "--version")
    return versions


def _memory() -> str:
    found = memory.measure(memory.DEFAULT_SIZE_MB * memory.MB)
    within = found.ratio <= memory.MAX_RATIO
    return (
        f"Wrapping and sending a {found.json_bytes / memory.MB:.0f} MB JSON answer"
        " (records with `<>&`; `python -m benchmarks.memory`) allocated at most"
        f" {found.peak_bytes / memory.MB:.1f} MB, {found.ratio:.2f}x the body: the"
        f" bound of {memory.MAX_RATIO:.0f}x is {'met' if within else '**missed**'};"
        f" the answer {'parses' if found.answer_ok else '**does not** parse'} back."
    )


def _run(
    sections: Sequence[str],
    quick: bool,
    profile: bool,
    against: str,
    scenarios: Sequence[str],
) -> Results:
    results, chromium = Results(), ""
    try:
        if "inprocess" in sections:
            common.log(f"in-process: the WSGI app called directly, against {against}")
            inprocess = bench_inprocess.run(quick, against, scenarios)
            results.rows += inprocess.rows
            results.against = inprocess.table()
            results.revision = inprocess.labels[1]
    except common.BenchmarkError as error:
        results.notes.append(f"In-process was not measured: {error}.")
    try:
        if "http" in sections:
            common.log("HTTP: gunicorn and Express driven by wrk")
            rows, notes = bench_http.run(quick)
            results.rows, results.notes = results.rows + rows, notes
    except common.BenchmarkError as error:
        results.notes.append(f"HTTP was not measured: {error}.")
    try:
        if "browser" in sections:
            common.log("browser: the loader and fetch-jsonp in Chromium")
            rows, chromium = bench_browser.run(quick)
            results.rows += rows
    except common.BenchmarkError as error:
        results.notes.append(f"The browser was not measured: {error}.")
    if profile:
        common.log("profiling the JSONP request path; memory of a big answer")
        results.profile, results.memory = bench_inprocess.profile(), _memory()
    results.versions = _versions(chromium)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected sections, print the table, write the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    add = parser.add_argument
    add("--only", action="append", choices=SECTIONS, help="run only this section")
    add("--quick", action="store_true", help="fewer, shorter rounds: a smoke run")
    add(
        "--against",
        default=bench_inprocess.DEFAULT_AGAINST,
        metavar="REVISION",
        help="the flask-jsonp commit the in-process section compares this tree"
        f" with (default: {bench_inprocess.DEFAULT_AGAINST}, the previous release)",
    )
    add(
        "--scenario",
        action="append",
        default=[],
        metavar="TEXT",
        help="in-process: only the scenarios whose name contains TEXT",
    )
    optional = argparse.BooleanOptionalAction
    add("--write", action=optional, help="write the report (default: full run)")
    add("--profile", action=optional, help="profile, memory (default: full run)")
    arguments = parser.parse_args(argv)
    sections = [name for name in SECTIONS if name in (arguments.only or SECTIONS)]
    full = not arguments.quick and len(sections) == len(SECTIONS)
    full = full and not arguments.scenario
    started, load = time.monotonic(), os.getloadavg()[0]
    profile = full if arguments.profile is None else arguments.profile
    results = _run(
        sections, arguments.quick, profile, arguments.against, arguments.scenario
    )
    minutes = (time.monotonic() - started) / 60
    load_text = f"1-minute load average {load:.2f} at the start and"
    load_text += f" {os.getloadavg()[0]:.2f} at the end, on {os.cpu_count()} cores"
    if results.against:
        print(f"In-process, against {arguments.against}:\n{results.against}\n")
    print(table(results.rows), *results.notes, sep="\n")
    print(results.profile, results.memory, f"Duration: {minutes:.1f} min", sep="\n\n")
    if full if arguments.write is None else arguments.write:  # default: a full run
        chart(results.rows, common.ROOT / "benchmarks" / "results.png")
        command = shlex.join(["python", "-m", "benchmarks", *(argv or sys.argv[1:])])
        text = markdown(results, command, minutes, load_text)
        (common.ROOT / "BENCHMARKS.md").write_text(text, encoding="utf-8")
        common.log("wrote BENCHMARKS.md and benchmarks/results.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
