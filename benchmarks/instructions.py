"""Instructions per request, counted by ``valgrind --tool=callgrind``.

The CPU-time ratios of :mod:`benchmarks.bench_inprocess` move with the shared
machine's load; instruction counts do not: the same code and inputs give the
same count, whatever else runs. Each kind of request of
:data:`benchmarks.bench_inprocess.KINDS` is run twice under callgrind, with
:data:`SHORT` and :data:`LONG` requests after a warm-up, and the difference is
divided by ``LONG - SHORT``, which cancels start-up and import.

    python -m benchmarks.instructions                 # the small payload
    python -m benchmarks.instructions --size big bare jsonp

Needs Debian's ``valgrind``; takes about a minute and a half per kind.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .bench_app import PROVIDERS
from .bench_app import SIZES
from .bench_inprocess import KINDS

#: Requests measured in the two runs of each kind.
SHORT, LONG = 200, 1200

#: The warm-up before the measured requests: caches filled, plans resolved.
WARMUP = 200

_COLLECTED = re.compile(r"Collected : (\d+)")

_RUNNER = """
import sys
from benchmarks.bench_app import create_app
from benchmarks.bench_inprocess import KINDS, make_caller
provider, size, kind, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
call = make_caller(create_app(provider, KINDS[kind][0]), size, kind)
for _ in range({warmup} + count):
    call()
"""


def count(provider: str, size: str, kind: str, requests: int) -> int:
    """Instructions of a whole run with ``requests`` requests of ``kind``."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [
                valgrind,
                "--tool=callgrind",
                f"--callgrind-out-file={Path(folder) / 'out'}",
                sys.executable,
                "-c",
                _RUNNER.format(warmup=WARMUP),
                provider,
                size,
                kind,
                str(requests),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
    match = _COLLECTED.search(result.stderr)
    if match is None:
        raise RuntimeError(f"callgrind printed no count:\n{result.stderr[-2000:]}")
    return int(match[1])


def per_request(provider: str, size: str, kind: str) -> float:
    """Instructions per request of ``kind``."""
    short = count(provider, size, kind, SHORT)
    long = count(provider, size, kind, LONG)
    return (long - short) / (LONG - SHORT)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the instructions per request of each kind and its ratio to the
    plain JSON view's (``bare``), higher is better.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.instructions", description=__doc__
    )
    parser.add_argument("kinds", nargs="*", choices=[[], *KINDS], default=[])
    parser.add_argument("--provider", choices=PROVIDERS, default="standard")
    parser.add_argument("--size", choices=SIZES, default="small")
    arguments = parser.parse_args(argv)
    kinds = list(dict.fromkeys(["bare", *(arguments.kinds or KINDS)]))
    counts = {}
    for kind in kinds:
        counts[kind] = per_request(arguments.provider, arguments.size, kind)
        ratio = counts["bare"] / counts[kind]
        print(f"{kind:<20} {counts[kind]:>10,.0f} instructions  bare/this {ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
