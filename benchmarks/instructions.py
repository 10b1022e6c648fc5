"""Instructions per request, counted by ``valgrind --tool=callgrind``.

The CPU-time ratios of :mod:`benchmarks.bench_inprocess` move with the shared
machine's load; instruction counts do not: the same code and inputs give the
same count, whatever else runs. Each kind of request of
:data:`benchmarks.bench_inprocess.KINDS` is run twice under callgrind, with
:data:`SHORT` and :data:`LONG` requests after a warm-up, and the difference is
divided by ``LONG - SHORT``, which cancels start-up and import.

    python -m benchmarks.instructions                 # the small payload
    python -m benchmarks.instructions --size big bare jsonp
    python -m benchmarks.instructions --code d1c0416 jsonp   # another revision
    python -m benchmarks.instructions --cache jsonp   # cache misses (cachegrind)

Instructions are not time: they miss what memory costs (cache misses, which
``--cache`` simulates) and count the garbage collector's work only where it
happens to run; :mod:`benchmarks.anatomy` shows that side.

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
from .common import ROOT
from .revision import checkout

#: Requests measured in the two runs of each kind.
SHORT, LONG = 200, 1200

#: The warm-up before the measured requests: caches filled, plans resolved.
WARMUP = 200

_COLLECTED = re.compile(r"Collected : (\d+)")
#: cachegrind's summary: instructions, and misses of the first-level data cache
#: and of the last-level cache (data and instructions).
_CACHE_LINES = {
    "instructions": re.compile(r"I\s+refs:\s+([\d,]+)"),
    "D1 misses": re.compile(r"D1\s+misses:\s+([\d,]+)"),
    "LL misses": re.compile(r"LL misses:\s+([\d,]+)"),
}

_RUNNER = """
import sys
from pathlib import Path
from benchmarks.worker import load_package
load_package(Path(sys.argv[5]))
from benchmarks.bench_app import create_app
from benchmarks.bench_inprocess import KINDS, make_caller
provider, size, kind, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
app = create_app(provider, KINDS[kind][0], hook=sys.argv[6] == "hook")
call = make_caller(app, size, kind)
for _ in range({warmup} + count):
    call()
"""


def count(
    provider: str,
    size: str,
    kind: str,
    requests: int,
    code_root: Path = ROOT,
    cache: bool = False,
    hook: bool = False,
) -> dict[str, int]:
    """Instructions of a whole run with ``requests`` requests of ``kind``,
    with cache misses if ``cache``.
    """
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    tool = ["--tool=cachegrind", "--cache-sim=yes"] if cache else ["--tool=callgrind"]
    with tempfile.TemporaryDirectory() as folder:
        out = "cachegrind" if cache else "callgrind"
        result = subprocess.run(
            [
                valgrind,
                *tool,
                f"--{out}-out-file={Path(folder) / 'out'}",
                sys.executable,
                "-c",
                _RUNNER.format(warmup=WARMUP),
                provider,
                size,
                kind,
                str(requests),
                str(code_root),
                "hook" if hook else "",
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
    patterns = _CACHE_LINES if cache else {"instructions": _COLLECTED}
    found = {}
    for name, pattern in patterns.items():
        match = pattern.search(result.stderr)
        if match is None:
            raise RuntimeError(f"valgrind printed no {name}:\n{result.stderr[-2000:]}")
        found[name] = int(match[1].replace(",", ""))
    return found


def per_request(
    provider: str,
    size: str,
    kind: str,
    code_root: Path = ROOT,
    cache: bool = False,
    hook: bool = False,
) -> dict[str, float]:
    """Instructions (and cache misses, with ``cache``) per request of ``kind``,
    in an app with one more trivial ``before_request`` function if ``hook``.
    """
    short = count(provider, size, kind, SHORT, code_root, cache, hook)
    long = count(provider, size, kind, LONG, code_root, cache, hook)
    return {name: (long[name] - short[name]) / (LONG - SHORT) for name in short}


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
    parser.add_argument(
        "--code",
        metavar="REVISION",
        help="count that revision's flask_jsonp (checked out) instead of this tree's",
    )
    parser.add_argument(
        "--cache", action="store_true", help="simulate the caches (cachegrind)"
    )
    parser.add_argument(
        "--hook", action="store_true", help="one more app-wide before_request hook"
    )
    arguments = parser.parse_args(argv)
    code_root = ROOT if arguments.code is None else checkout(arguments.code)[0]
    kinds = list(dict.fromkeys(["bare", *(arguments.kinds or KINDS)]))
    counts: dict[str, dict[str, float]] = {}
    for kind in kinds:
        counts[kind] = found = per_request(
            arguments.provider,
            arguments.size,
            kind,
            code_root,
            arguments.cache,
            arguments.hook,
        )
        ratio = counts["bare"]["instructions"] / found["instructions"]
        extra = "".join(
            f"  {name} {value:,.0f}"
            for name, value in found.items()
            if name != "instructions"
        )
        print(
            f"{kind:<20} {found['instructions']:>10,.0f} instructions"
            f"  bare/this {ratio:.3f}{extra}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
