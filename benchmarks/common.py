"""What the benchmarks share: interleaved rounds, comparison rows, servers, npm.

Other load slows both sides of a pair alike, so ratios from interleaved rounds
hold where absolute numbers do not; CPU time holds better than the wall clock.
"""

from __future__ import annotations

import importlib.metadata
import json
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import NamedTuple
from typing import TypeVar

import psutil

from .bench_app import NPM_DIR

#: The repository root, where servers import ``benchmarks.bench_app`` from.
ROOT = Path(__file__).resolve().parent.parent

#: npm packages installed on first use, into :data:`NPM_DIR`.
NPM_PACKAGES = ("express@5", "fetch-jsonp@1")

V = TypeVar("V", bound=Hashable)


class BenchmarkError(RuntimeError):
    """A benchmark could not run, for a reason worth telling the user."""


class Sample(NamedTuple):
    """CPU time and wall-clock time per unit of work, in :attr:`Row.unit`."""

    cpu: float
    wall: float


@dataclass(frozen=True)
class Row:
    """A candidate compared with a baseline in the same rounds. Ratios are
    baseline ÷ candidate CPU time, one per round; :attr:`ratio` is their median.
    """

    section: str
    name: str
    labels: tuple[str, str]
    samples: tuple[Sequence[Sample], Sequence[Sample]]
    unit: str
    #: The promise ``ratio >= target``, if there is one.
    target: float | None = None

    @property
    def ratios(self) -> list[float]:
        return [b.cpu / c.cpu for b, c in zip(*self.samples, strict=True)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def wall_ratio(self) -> float:
        return statistics.median(
            b.wall / c.wall for b, c in zip(*self.samples, strict=True)
        )

    @property
    def medians(self) -> tuple[float, float]:
        """The median CPU time of the baseline and of the candidate."""
        baseline, candidate = (
            statistics.median(s.cpu for s in x) for x in self.samples
        )
        return baseline, candidate

    @property
    def met(self) -> bool:
        return self.target is None or self.ratio >= self.target

    @property
    def verdict(self) -> str:
        """``met by 0.012`` or ``**missed** by 0.034``; empty without a target."""
        if self.target is None:
            return ""
        margin = f"by {abs(self.ratio - self.target):.3f}"
        return f"met {margin}" if self.met else f"**missed** {margin}"


def run_rounds(
    blocks: Sequence[Sequence[V]],
    rounds: int,
    measure: Callable[[V], Sample],
    what: str,
) -> dict[V, list[Sample]]:
    """Measure every variant once per round, and return their samples.

    The variants of a block run back to back, in an order that rotates from round
    to round, and the blocks are shuffled (with a fixed seed).
    """
    order = random.Random(1905)
    samples: dict[V, list[Sample]] = {v: [] for block in blocks for v in block}
    for index in range(rounds):
        log(f"{what}: round {index + 1}/{rounds}")
        for block in order.sample(blocks, len(blocks)):
            shift = index % len(block)
            for variant in [*block[shift:], *block[:shift]]:
                samples[variant].append(measure(variant))
    return samples


def wrk(*arguments: str, seconds: int) -> dict[str, Any]:
    """Run wrk with a script whose ``done`` prints a JSON line; return it."""
    command = ["wrk", f"--duration={seconds}s", *arguments]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    try:
        found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise BenchmarkError(f"wrk failed: {done.stdout}{done.stderr}") from None
    return found


def start_response(*_: Any) -> Callable[[bytes], object]:
    """A WSGI ``start_response`` for calling an app directly."""
    return lambda data: None


def log(message: str) -> None:
    """Tell the user what is running (on stderr: stdout gets the table)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """Return a loopback TCP port that is free now."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def gunicorn_command(app: str, *options: str) -> list[str]:
    """The command running gunicorn on ``app`` quietly, with ``options``."""
    # gunicorn >= 25 opens a control socket in ~/.gunicorn, which no run needs.
    new = int(importlib.metadata.version("gunicorn").split(".")[0]) >= 25
    quiet = ["--log-level=warning", *(["--no-control-socket"] if new else [])]
    return [sys.executable, "-m", "gunicorn", *quiet, *options, app]


@contextmanager
def server(
    command: Sequence[str], ready_url: str, env: dict[str, str] | None = None
) -> Iterator[psutil.Process]:
    """Start a server, wait until ``ready_url`` answers (300 tries 0.1 s apart),
    and stop the server on leaving the block."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise BenchmarkError(f"{command[0]} exited with {process.returncode}")
            try:
                urllib.request.urlopen(ready_url, timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise BenchmarkError(f"{ready_url} did not answer")
        yield psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def npm_modules() -> Path:
    """Install :data:`NPM_PACKAGES` into :data:`NPM_DIR` unless there already;
    return the ``node_modules`` folder."""
    modules = NPM_DIR / "node_modules"
    names = [spec.rpartition("@")[0] for spec in NPM_PACKAGES]
    if all((modules / name / "package.json").is_file() for name in names):
        return modules
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    log(f"npm install {' '.join(NPM_PACKAGES)} into {NPM_DIR}")
    command = ["npm", "install", "--no-audit", "--no-fund", *NPM_PACKAGES]
    try:
        subprocess.run(command, cwd=NPM_DIR, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise BenchmarkError(f"npm install failed: {error}") from error
    return modules
