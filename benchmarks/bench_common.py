"""What the benchmarks share: interleaved rounds, result rows, tools and npm.

Every figure is a ratio between two variants measured in the same round, one
right after the other; a run reports the median of those per-round ratios. A
machine busy with something else slows both sides of a pair alike, so ratios hold
where absolute numbers do not.
"""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .bench_app import CACHE_DIR

#: npm packages installed at bench time, into :data:`NPM_DIR`.
NPM_PACKAGES = ("express@5", "fetch-jsonp@1")

#: Where npm installs them (gitignored, reused by later runs).
NPM_DIR = CACHE_DIR / "bench-npm"

#: Seconds to wait for a server to answer its first request.
SERVER_START_TIMEOUT = 30.0

#: Seed of the order of the variants in each round, so runs are comparable.
ORDER_SEED = 1905

V = TypeVar("V", bound=Hashable)
T = TypeVar("T")


class BenchmarkError(RuntimeError):
    """A benchmark could not run, for a reason worth telling the user."""


@dataclass(frozen=True)
class Target:
    """A promise on a ratio: ``ratio >= value`` or ``ratio <= value``."""

    operator: str
    value: float

    def met_by(self, ratio: float) -> bool:
        """Tell whether ``ratio`` keeps the promise."""
        return ratio >= self.value if self.operator == ">=" else ratio <= self.value

    def __str__(self) -> str:
        return f"{'≥' if self.operator == '>=' else '≤'} {self.value:.2f}"


@dataclass(frozen=True)
class Row:
    """One comparison: two variants, their medians and the ratio between them."""

    #: ``in-process``, ``HTTP`` or ``browser``.
    section: str
    #: What is compared, e.g. ``small (95 B), standard provider``.
    name: str
    baseline_label: str
    candidate_label: str
    baseline_median: float
    candidate_median: float
    #: ``µs``, ``req/s`` or ``ms``.
    unit: str
    #: Median of the per-round ratios, oriented as :attr:`ratio_meaning` says.
    ratio: float
    ratio_low: float
    ratio_high: float
    #: e.g. ``JSONP ÷ JSON req/s``.
    ratio_meaning: str
    rounds: int
    target: Target | None = None
    #: The same ratio measured another way (HTTP: requests per CPU-second of the
    #: server process), as a cross-check that does not depend on other load.
    cpu_ratio: float | None = None
    cpu_ratio_low: float | None = None
    cpu_ratio_high: float | None = None

    @property
    def met(self) -> bool | None:
        """Whether the target is met, ``None`` without a target."""
        return None if self.target is None else self.target.met_by(self.ratio)


def paired_row(
    section: str,
    name: str,
    labels: tuple[str, str],
    values: tuple[Sequence[float], Sequence[float]],
    unit: str,
    ratio_meaning: str,
    higher_is_better: bool,
    target: Target | None = None,
) -> Row:
    """Build a :class:`Row` from per-round values of a baseline and a candidate.

    The ratio is candidate ÷ baseline when higher values are better (requests
    per second), baseline ÷ candidate otherwise (time), so a ratio above 1 always
    means the candidate does better.
    """
    baseline, candidate = values
    ratios = [
        (c / b) if higher_is_better else (b / c)
        for b, c in zip(baseline, candidate, strict=True)
    ]
    return Row(
        section=section,
        name=name,
        baseline_label=labels[0],
        candidate_label=labels[1],
        baseline_median=statistics.median(baseline),
        candidate_median=statistics.median(candidate),
        unit=unit,
        ratio=statistics.median(ratios),
        ratio_low=min(ratios),
        ratio_high=max(ratios),
        ratio_meaning=ratio_meaning,
        rounds=len(ratios),
        target=target,
    )


def with_cpu_ratio(row: Row, cpu_row: Row) -> Row:
    """Return ``row`` with the ratio of ``cpu_row`` as its cross-check."""
    return dataclasses.replace(
        row,
        cpu_ratio=cpu_row.ratio,
        cpu_ratio_low=cpu_row.ratio_low,
        cpu_ratio_high=cpu_row.ratio_high,
    )


def cpu_seconds(pid: int) -> float:
    """Return the CPU time used so far by all threads of process ``pid``.

    Reads the scheduler's nanosecond counters rather than the 10 ms ticks of
    ``/proc/PID/stat``.
    """
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended while we read
    return total / 1e9


def run_rounds(
    blocks: Sequence[Sequence[V]],
    rounds: int,
    measure: Callable[[V], T],
    progress: str = "",
) -> dict[V, list[T]]:
    """Measure every variant once per round, interleaved.

    The variants of a block (those compared with each other) run back to back;
    their order rotates from round to round and the order of the blocks is
    shuffled, so no variant always runs first, last, or after the same one.

    :return: the values of each variant, one per round.
    """
    order_rng = random.Random(ORDER_SEED)
    values: dict[V, list[T]] = {variant: [] for block in blocks for variant in block}
    for round_index in range(rounds):
        if progress:
            log(f"{progress}: round {round_index + 1}/{rounds}")
        shuffled = list(blocks)
        order_rng.shuffle(shuffled)
        for block in shuffled:
            shift = round_index % len(block)
            for variant in [*block[shift:], *block[:shift]]:
                values[variant].append(measure(variant))
    return values


def log(message: str) -> None:
    """Tell the user what is running (on stderr: stdout gets the table)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """Return a loopback TCP port that is free now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    """Wait until ``url`` answers, or fail if ``process`` died first."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchmarkError(
                f"the server for {url} exited with {process.returncode}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    raise BenchmarkError(f"{url} did not answer within {SERVER_START_TIMEOUT:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server this benchmark started."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def require_executable(name: str) -> str:
    """Return the path of ``name`` on ``PATH``, or raise :class:`BenchmarkError`."""
    path = shutil.which(name)
    if path is None:
        raise BenchmarkError(f"{name} is not installed")
    return path


def ensure_npm_packages() -> Path:
    """Install :data:`NPM_PACKAGES` into :data:`NPM_DIR` unless already there.

    :return: the ``node_modules`` folder.
    """
    modules = NPM_DIR / "node_modules"
    if all(
        (modules / _npm_name(spec) / "package.json").is_file() for spec in NPM_PACKAGES
    ):
        return modules
    npm = require_executable("npm")
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    log(f"npm install {' '.join(NPM_PACKAGES)} into {NPM_DIR}")
    completed = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *NPM_PACKAGES],
        cwd=NPM_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchmarkError(f"npm install failed: {completed.stderr.strip()}")
    return modules


def npm_version(package: str) -> str | None:
    """Return the installed version of an npm package from :data:`NPM_DIR`."""
    manifest = NPM_DIR / "node_modules" / package / "package.json"
    try:
        version: str = json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None
    return version


def _npm_name(spec: str) -> str:
    return spec.rpartition("@")[0] if spec.rfind("@") > 0 else spec
