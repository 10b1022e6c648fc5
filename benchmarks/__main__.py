"""Run the benchmarks: ``python -m benchmarks`` (``make bench``).

A full run measures the wrapping step in-process, requests per second over HTTP
and 200 parallel requests in Chromium, prints the table and writes
``BENCHMARKS.md`` and ``benchmarks/results.png``. ``--quick`` and ``--only`` runs
print the table only, unless ``--write`` is given.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
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

from tests.tools import CHROMIUM_PATH

from . import bench_browser
from . import bench_http
from . import bench_inprocess
from .bench_common import BenchmarkError
from .bench_common import log
from .bench_common import npm_version
from .bench_common import Row
from .bench_inprocess import Step

#: The sections, in the order they run.
SECTIONS = ("inprocess", "http", "browser")

#: The repository root.
ROOT = Path(__file__).resolve().parent.parent

#: The report and its chart.
REPORT_PATH = ROOT / "BENCHMARKS.md"
CHART_PATH = ROOT / "benchmarks" / "results.png"

#: Python distributions whose versions the report lists.
PYTHON_DISTRIBUTIONS = (
    "Flask",
    "Werkzeug",
    "orjson",
    "flask-orjson",
    "gunicorn",
    "Flask-Jsonpify",
    "playwright",
)

#: Bar colours of the chart, by section.
SECTION_COLOURS = {"in-process": "#4c72b0", "HTTP": "#dd8452", "browser": "#55a868"}


@dataclass
class Results:
    """Everything one run measured, and what it could not."""

    rows: list[Row] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)


#: Why the JSONP ÷ JSON targets are hard to meet, whatever one run says.
TARGETS_PREAMBLE = (
    "The plain-JSON baseline is the same `@jsonp` view answering without a"
    " callback, so it already pays for reading the options and skimming the"
    " query. A JSONP answer then also parses the query, validates the callback,"
    " builds the guarded call, scans the body for bytes to escape (one `memchr`"
    " per byte, and a copy only when one is found) and sets three more headers:"
    " some 15 to 25 µs of Python per request. Against a small answer that"
    " gunicorn serves in about 200 µs, the 2 % budget is 4 µs, so the small-payload"
    " targets are out of reach without dropping checks that make the answer safe;"
    " for big answers the wrapping step no longer copies or re-encodes the body"
    " (see the breakdown below), and what remains is the fixed cost plus the"
    " escaping of the bytes that need it."
)


def _parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure what JSONP costs against plain JSON, Express 5 and"
        " flask-jsonpify, and what the loader costs against fetch-jsonp.",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        help="run only this section (repeat for several)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer and shorter rounds: a smoke run, not figures to publish",
    )
    parser.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write BENCHMARKS.md and benchmarks/results.png (default: only for"
        " a full run)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of JSONP answers (big payload, both providers)",
    )
    return parser.parse_args(argv)


def _run(sections: Sequence[str], quick: bool) -> Results:
    results = Results(sections=list(sections))
    if "inprocess" in sections:
        log("in-process: the WSGI app called directly")
        results.rows += bench_inprocess.run(quick)
        log("in-process: timing the parts of the wrapping step")
        results.steps = bench_inprocess.wrapping_steps(quick)
    if "http" in sections:
        log("HTTP: gunicorn and Express driven by wrk")
        try:
            rows, notes = bench_http.run(quick)
        except BenchmarkError as error:
            results.notes.append(f"HTTP was not measured: {error}.")
        else:
            results.rows += rows
            results.notes += notes
    if "browser" in sections:
        log("browser: the loader and fetch-jsonp in Chromium")
        try:
            rows, versions = bench_browser.run(quick)
        except BenchmarkError as error:
            results.notes.append(f"The browser was not measured: {error}.")
        else:
            results.rows += rows
            results.versions.update(versions)
    return results


def _command_output(command: Sequence[str]) -> str | None:
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (completed.stdout or completed.stderr).strip().splitlines()
    return lines[0].strip() if lines else None


def _versions(measured: dict[str, str]) -> dict[str, str]:
    versions = {"Python": platform.python_version()}
    for name in PYTHON_DISTRIBUTIONS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    commit = _command_output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    changed = _command_output(
        ["git", "-C", str(ROOT), "status", "--porcelain", "flask_jsonp"]
    )
    versions["flask-jsonp"] = (
        f"{importlib.metadata.version('flask-jsonp')}, commit {commit}"
        + (" with uncommitted changes" if changed else "")
    )
    wrk = _command_output(["wrk", "--version"])
    versions["wrk"] = wrk.split(" [")[0].removeprefix("wrk ") if wrk else "not found"
    versions["Node.js"] = _command_output(["node", "--version"]) or "not found"
    for package, label in (("express", "Express"), ("fetch-jsonp", "fetch-jsonp")):
        versions[label] = npm_version(package) or "not installed"
    chromium = _command_output([CHROMIUM_PATH, "--version"])
    versions["Chromium"] = measured.get("Chromium") or chromium or "not found"
    return versions


def _machine() -> dict[str, str]:
    model = platform.processor() or "unknown"
    memory = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "CPU": model,
        "Cores": str(os.cpu_count()),
        "Memory": memory,
        "System": f"{platform.system()} {platform.release()} ({platform.machine()})",
    }


def _value(value: float, unit: str) -> str:
    if unit == "req/s":
        return f"{value:,.0f} req/s"
    return f"{value:,.1f} {unit}"


def _verdict(row: Row) -> str:
    if row.target is None:
        return ""
    if row.met:
        return "met"
    return f"**missed** by {abs(row.ratio - row.target.value):.3f}"


def render_table(rows: Sequence[Row]) -> str:
    """Render the rows as a Markdown table, padded to read in a terminal too."""
    header = [
        "Where",
        "Comparison",
        "Baseline (median)",
        "Candidate (median)",
        "Ratio (range)",
        "Ratio, CPU time",
        "Target",
        "Result",
    ]
    lines = [
        [
            row.section,
            row.name,
            f"{row.baseline_label}: {_value(row.baseline_median, row.unit)}",
            f"{row.candidate_label}: {_value(row.candidate_median, row.unit)}",
            f"{row.ratio:.3f} ({row.ratio_low:.2f} to {row.ratio_high:.2f})",
            "—" if row.cpu_ratio is None else f"{row.cpu_ratio:.3f}",
            "—" if row.target is None else str(row.target),
            _verdict(row),
        ]
        for row in rows
    ]
    widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(8)]

    def render(cells: Sequence[str]) -> str:
        padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([render(header), separator, *map(render, lines)])


def render_steps(steps: Sequence[Step]) -> str:
    """Render the timed parts of the wrapping step as a Markdown table."""
    if not steps:
        return ""
    keys = list(steps[0].microseconds)
    header = ["Part (µs per call)", *(f"{size}, {provider}" for provider, size in keys)]
    lines = [
        [f"`{step.name}`", *(f"{step.microseconds.get(key, 0):.1f}" for key in keys)]
        for step in steps
    ]
    separator = ["---", *("---:" for _ in keys)]
    return "\n".join(
        "| " + " | ".join(cells) + " |" for cells in [header, separator, *lines]
    )


def _find(rows: Sequence[Row], section: str, *words: str) -> Row | None:
    for row in rows:
        if row.section == section and all(word in row.name for word in words):
            return row
    return None


def _step(steps: Sequence[Step], name: str, provider: str, size: str) -> float | None:
    for step in steps:
        if step.name == name:
            return step.microseconds.get((provider, size))
    return None


def _explain(row: Row, results: Results) -> list[str]:
    """Say, from this run's own figures, why a target was missed."""
    lines = []
    if row.section == "HTTP" and "JSONP vs JSON" in row.name:
        size, provider = row.name.split(",")[0], row.name.split(", ")[1].split()[0]
        budget = (1 - row.target.value if row.target else 0.02) / row.baseline_median
        lines.append(
            f"At {row.baseline_median:,.0f} plain JSON req/s the worker spends "
            f"{1e6 / row.baseline_median:.0f} µs per request, so the "
            f"{(1 - (row.target.value if row.target else 0.98)) * 100:.0f} % budget"
            f" is {budget * 1e6:.1f} µs; JSONP used "
            f"{(1 / row.candidate_median - 1 / row.baseline_median) * 1e6:.0f} µs "
            "more per request (wall clock)."
        )
        in_process = _find(
            results.rows, "in-process", f"{size} (", provider, "JSONP vs JSON"
        )
        if in_process is not None:
            added = in_process.candidate_median - in_process.baseline_median
            parts = [
                f"`{name}` {value:.1f} µs"
                for name in (
                    "prepare()",
                    "finish()",
                    "finish() → jsonp_body()",
                    "finish() → escape_json_for_script()",
                    "finish() → _warn_credentialed()",
                    "finish() → guarded_call_prefix()",
                )
                if (value := _step(results.steps, name, provider, size)) is not None
            ]
            lines.append(
                f"In-process the same view answers JSON in "
                f"{in_process.baseline_median:.1f} µs and JSONP in "
                f"{in_process.candidate_median:.1f} µs (+{added:.1f} µs); timed "
                f"alone: {', '.join(parts)}."
            )
        one_write = _find(results.rows, "HTTP", f"{size}, ", "one write vs three")
        if one_write is not None:
            lines.append(
                f"A big answer goes out as three chunks (call, JSON, `);`), one "
                f"`send()` each, so the JSON is not copied to join them: the same "
                f"answer joined into one chunk ran at {one_write.ratio:.3f}x"
                f" the requests per second (CPU time: {one_write.cpu_ratio:.3f}) "
                "with the standard provider."
            )
    if row.section == "HTTP" and "Express" in row.name:
        size = row.name.split(":")[0]
        plain = _find(results.rows, "HTTP", size, "orjson provider: JSONP vs JSON")
        if plain is not None and row.target is not None:
            plain_ratio = plain.baseline_median / row.baseline_median
            budget = plain.target.value if plain.target is not None else 1.0
            if plain_ratio * budget >= row.target.value:
                lines.append(
                    f"Plain JSON from the same worker runs at {plain_ratio:.2f}x "
                    "Express's res.jsonp (wall clock), so JSONP within its own "
                    f"target ({plain_ratio * budget:.2f}x) would meet this one: "
                    "the shortfall is the wrapping step (see above)."
                )
            else:
                lines.append(
                    f"Even plain JSON from the same worker runs at only "
                    f"{plain_ratio:.2f}x Express's res.jsonp (wall clock): the gap "
                    "is Flask and Werkzeug's per-request work in one Python process,"
                    " against one Node.js process."
                )
    if row.section == "browser":
        busy = (
            ""
            if row.cpu_ratio is None
            else f"; counted in main-thread busy time the ratio is {row.cpu_ratio:.3f}"
        )
        spread = (
            "the difference is within the round-to-round noise"
            if row.ratio_low <= 1 <= row.ratio_high
            else "the loader was slower in every round"
        )
        lines.append(
            f"The per-round ratios range from {row.ratio_low:.2f} to "
            f"{row.ratio_high:.2f}: both libraries wait on the same server, and "
            f"{spread}{busy}."
        )
    return lines


def render_report(
    results: Results,
    command: str,
    duration: float,
    load: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> str:
    """Write the Markdown report of one run."""
    rows = results.rows
    versions = _versions(results.versions)
    machine = _machine()
    today = datetime.date.today().isoformat()
    out = [
        "# Benchmarks",
        "",
        f"Figures from one run of `{command}` on {today}, which took "
        f"{duration / 60:.1f} minutes. Every figure that matters is a **ratio** "
        "between two variants measured in the same run, one right after the other;"
        " absolute numbers depend on the machine and are no promise. Rerun it on "
        "yours: `make bench` (or `.venv/bin/python -m benchmarks`).",
        "",
        "## Results",
        "",
        "Ratio = the candidate's speed ÷ the baseline's (above 1: the candidate is "
        "faster; for times, baseline time ÷ candidate time). It is the median of "
        "the per-round ratios; the range is the lowest and highest round. *Ratio, "
        "CPU time* is the same comparison counted in CPU time instead of wall "
        "clock: for HTTP, requests per CPU-second of the server process; in the "
        "browser, the time the page's main thread was busy (DevTools "
        "`TaskDuration`). Other load on the machine disturbs it much less than the"
        " wall clock. Targets are judged on the wall-clock ratio.",
        "",
        render_table(rows),
        "",
        f"![Ratios of this run]({CHART_PATH.relative_to(ROOT).as_posix()})",
        "",
    ]
    targeted = [row for row in rows if row.target is not None]
    if targeted:
        out += ["## Targets", "", TARGETS_PREAMBLE, ""]
        for row in targeted:
            out.append(
                f"- {row.section}, {row.name}: {row.ratio:.3f} for a target of "
                f"{row.target}: {_verdict(row)}"
                + (
                    f" (CPU time: {row.cpu_ratio:.3f})."
                    if row.cpu_ratio is not None
                    else "."
                )
            )
            if not row.met:
                out += [f"  {line}" for line in _explain(row, results)]
        out.append("")
    if results.steps:
        out += [
            "## Where the JSONP time goes",
            "",
            "The parts of the wrapping step timed alone, in a request context with "
            "a callback (median µs per call). `finish()` includes the parts listed "
            "under it; bodies are iterated as a server does, so lazy work counts; "
            "`request.args` is parsed once per request and not counted.",
            "",
            render_steps(results.steps),
            "",
        ]
    if results.notes:
        out += ["## Not measured", "", *(f"- {note}" for note in results.notes), ""]
    out += [
        "## How it is measured",
        "",
        "- **Rounds.** Each round measures every variant once; the variants "
        "compared with each other run back to back, their order rotates from "
        "round to round and the groups are shuffled. Ratios are taken within a "
        "round, then the median is reported.",
        "- **Payloads.** Small: a 95-byte user object. Big: a ~120 KB page of 460 "
        "customer records with non-ASCII names and a few `&` (escaped in JSONP), "
        "from a fixed seed (`benchmarks/bench_app.py`). The view returns a dict "
        "and the app's JSON provider serializes it on every request; Express "
        "serializes the same objects, parsed once from the same JSON.",
        "- **In-process.** The WSGI app is called directly with a prepared "
        "environ; the body is consumed and closed as a server does. *JSON* and "
        "*JSONP* are the same `@jsonp` view asked without and with `?callback=`; "
        "*no decorator* is the view without `@jsonp`.",
        f"- **HTTP.** gunicorn, 1 sync worker; Express 5, 1 process, default "
        f"settings (`NODE_ENV=production`); flask-jsonpify 1.5 on the same Flask "
        f"app. `wrk -t{bench_http.WRK_THREADS} -c{bench_http.WRK_CONNECTIONS}`, "
        f"{bench_http.DURATION[0]} s per variant and round, "
        f"{bench_http.ROUNDS[0]} rounds, on loopback. A sync worker closes the "
        "connection after each answer, so every gunicorn request includes a TCP "
        "connect; Express keeps wrk's connections alive.",
        f"- **Browser.** Chromium (Playwright, Debian's binary, headless) loads a "
        f"page from `http://localhost:PORT` that asks "
        f"`http://127.0.0.1:PORT{bench_browser.API_PATH}` "
        f"{bench_browser.PARALLEL_REQUESTS} times at once, with the bundled loader "
        f"and with fetch-jsonp; gunicorn, 1 gthread worker with "
        f"{bench_browser.SERVER_THREADS} threads. "
        f"{bench_browser.ROUNDS[0]} rounds after {bench_browser.WARMUP_ROUNDS} "
        "warm-ups.",
        "- **Noise.** The machine has "
        f"{machine['Cores']} cores, shared during the run with other work (the "
        f"1-minute load average was {load[0][0]:.2f} at the start and "
        f"{load[1][0]:.2f} at the end); wrk also shares them with the server. "
        "Interleaved rounds, medians and ratios are how the figures cope with it;"
        " the CPU-time ratio is the cross-check.",
        "",
        "## Machine",
        "",
        *(f"- {name}: {value}" for name, value in machine.items()),
        "",
        "## Versions",
        "",
        *(f"- {name}: {value}" for name, value in versions.items()),
        "",
        "## Reproduce",
        "",
        "```",
        "make bench                                  # full run, rewrites this file",
        ".venv/bin/python -m benchmarks --quick      # smoke run, prints only",
        ".venv/bin/python -m benchmarks --only http  # one section",
        ".venv/bin/python -m benchmarks --profile    # plus a cProfile of JSONP",
        "```",
        "",
        "Needs `wrk`, Node.js with npm (Express 5 and fetch-jsonp are installed "
        "into `.cache/bench-npm/` on first use) and Chromium at `/usr/bin/chromium`"
        " (or `CHROMIUM_PATH`); a section whose tool is missing is skipped and "
        "listed under *Not measured*.",
        "",
    ]
    return "\n".join(out)


def render_chart(rows: Sequence[Row], path: Path) -> None:
    """Draw the ratios as horizontal bars, with their range and target."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    labels = [f"{row.section}: {row.name}" for row in rows]
    positions = list(range(len(rows)))[::-1]
    figure, axes = pyplot.subplots(figsize=(11, 0.42 * len(rows) + 1.6))
    axes.barh(
        positions,
        [row.ratio for row in rows],
        xerr=[
            [row.ratio - row.ratio_low for row in rows],
            [row.ratio_high - row.ratio for row in rows],
        ],
        color=[SECTION_COLOURS.get(row.section, "grey") for row in rows],
        error_kw={"elinewidth": 1, "capsize": 2, "ecolor": "#333333"},
    )
    for position, row in zip(positions, rows, strict=True):
        if row.target is not None:
            axes.plot(
                [row.target.value] * 2,
                [position - 0.4, position + 0.4],
                color="red" if not row.met else "black",
                linewidth=2,
            )
        axes.annotate(
            f"{row.ratio:.2f}",
            (row.ratio_high, position),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    axes.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    axes.set_xlim(
        0,
        1.12
        * max(
            [row.ratio_high for row in rows]
            + [row.target.value for row in rows if row.target is not None]
        ),
    )
    axes.set_yticks(positions, labels, fontsize=8)
    axes.set_xlabel(
        "candidate speed ÷ baseline speed: median of rounds, whiskers: range,\n"
        "vertical marks: targets (red: missed)",
        fontsize=9,
    )
    axes.set_title("flask-jsonp benchmarks: ratios from one run", fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected sections, print the table, write the report."""
    arguments = _parse_arguments(argv)
    sections = [name for name in SECTIONS if name in (arguments.only or SECTIONS)]
    full_run = not arguments.quick and len(sections) == len(SECTIONS)
    write = full_run if arguments.write is None else arguments.write
    command = shlex.join(["python", "-m", "benchmarks", *(argv or sys.argv[1:])])
    started = time.monotonic()
    load_before = os.getloadavg()
    results = _run(sections, arguments.quick)
    duration = time.monotonic() - started
    load_after = os.getloadavg()
    print(render_table(results.rows))
    for note in results.notes:
        print(f"Not measured: {note}")
    for row in results.rows:
        if row.target is not None:
            print(f"{row.section}, {row.name}: {row.target}: {_verdict(row)}")
    if results.steps:
        print("\nWhere the JSONP time goes (µs per call):")
        print(render_steps(results.steps))
    print(f"\nDuration: {duration / 60:.1f} min")
    if arguments.profile:
        for provider in ("standard", "orjson"):
            print(bench_inprocess.profile(provider, "big"))
    if write:
        render_chart(results.rows, CHART_PATH)
        REPORT_PATH.write_text(
            render_report(results, command, duration, (load_before, load_after)),
            encoding="utf-8",
        )
        log(f"wrote {REPORT_PATH.relative_to(ROOT)} and {CHART_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
