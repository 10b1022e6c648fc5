"""What a request costs beside its instructions, on this tree and another
revision: garbage-collector work, reference cycles left behind, memory.

callgrind counts instructions; it does not say that a request leaves a
reference cycle, which only the garbage collector frees, later, in another
request's time. This runs each variant in a :mod:`benchmarks.worker` of each
side and prints, per request:

- ``gen0``/``gen1``/``gen2``: collections of each generation (per 1,000);
- ``gc µs``: time spent in them (``gc.callbacks``);
- ``cycles``: objects that only the collector could free (``gc.collect()``'s
  count after the requests);
- ``kept``: memory blocks one request leaves allocated (tracemalloc);
- ``peak KiB``: the most one request allocates at once;
- ``CPU gc on/off``: CPU time per request with the collector enabled and
  disabled.

With ``--trace``, it counts instead the Python bytecodes and calls of each
request, in all and in each of flask-jsonp's functions and those that differ
between the sides (``sys.settrace`` with ``f_trace_opcodes``): exact, and the
same whatever the machine's load.

::

    python -m benchmarks.anatomy                      # against d1c0416
    python -m benchmarks.anatomy --against HEAD~3 --count 20000
    python -m benchmarks.anatomy --trace              # bytecodes, by function
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from . import common
from .bench_inprocess import DEFAULT_AGAINST
from .bench_inprocess import Variant
from .revision import checkout
from .revision import describe_tree
from .revision import Worker

#: The requests looked at: plain JSON (no flask-jsonp involved), a small JSONP
#: answer, and both beside another app-wide ``before_request`` function.
VARIANTS = (
    Variant("bare"),
    Variant("bare-in-jsonp-app"),
    Variant("jsonp"),
    Variant("jsonp", provider="orjson"),
    Variant("bare-in-jsonp-app", hook=True),
    Variant("jsonp", hook=True),
)

COLUMNS = (
    ("gen0 /1k", "gen0_collections", 1000),
    ("gen1 /1k", "gen1_collections", 1000),
    ("gen2 /1k", "gen2_collections", 1000),
    ("gc µs", "gc_us", 1),
    ("cycles", "cycle_objects", 1),
    ("kept", "blocks_kept_after_one_call", 1),
    ("peak KiB", "peak_kib_of_one_call", 1),
    ("CPU gc on", "cpu_gc_on_us", 1),
    ("CPU gc off", "cpu_gc_off_us", 1),
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.anatomy", description=__doc__
    )
    parser.add_argument("--against", default=DEFAULT_AGAINST, metavar="REVISION")
    parser.add_argument("--count", type=int, default=10_000, help="requests")
    parser.add_argument("--trace", action="store_true", help="count bytecodes")
    arguments = parser.parse_args(argv)
    root, short = checkout(arguments.against)
    sides = {f"this tree ({describe_tree()})": common.ROOT, short: root}
    if arguments.trace:
        return _trace(sides)
    header = ["side", "request", *(name for name, _, _ in COLUMNS)]
    print(" | ".join(header))
    for label, code_root in sides.items():
        with Worker(code_root, label) as worker:
            prepared = worker.ask(
                {"op": "prepare", "variants": [asdict(v) for v in VARIANTS]}
            )
            for index, variant in enumerate(VARIANTS):
                if "missing" in prepared["results"][index]:
                    continue
                found = worker.ask(
                    {"op": "anatomy", "index": index, "count": arguments.count}
                )
                cells = [f"{found[key] * scale:.2f}" for _, key, scale in COLUMNS]
                print(" | ".join([label, variant.describe(), *cells]), flush=True)
    return 0


def _trace(sides: dict[str, Path]) -> int:
    """Print bytecodes and calls per request of each variant on both sides,
    and the functions whose bytecodes differ.
    """
    found: dict[tuple[str, Variant], dict[str, float]] = {}
    for label, code_root in sides.items():
        with Worker(code_root, label) as worker:
            prepared = worker.ask(
                {"op": "prepare", "variants": [asdict(v) for v in VARIANTS]}
            )
            for index, variant in enumerate(VARIANTS):
                if "missing" not in prepared["results"][index]:
                    message = {"op": "trace", "index": index, "count": 20}
                    found[label, variant] = worker.ask(message)
    ours, theirs = sides
    for variant in VARIANTS:
        print(f"\n{variant.describe()}")
        for label in sides:
            counts = found.get((label, variant), {})
            codes = sum(v for k, v in counts.items() if not k.startswith("calls: "))
            calls = sum(v for k, v in counts.items() if k.startswith("calls: "))
            print(f"  {label}: {codes:,.0f} bytecodes, {calls:,.0f} Python calls")
        mine, other = found.get((ours, variant), {}), found.get((theirs, variant), {})
        names = {k for k in mine.keys() | other.keys() if not k.startswith("calls: ")}
        changed = [
            (mine.get(k, 0) - other.get(k, 0), k)
            for k in names
            if mine.get(k, 0) != other.get(k, 0)
        ]
        for difference, name in sorted(changed, key=lambda item: -abs(item[0])):
            print(
                f"    {difference:+6.0f}  {other.get(name, 0):5.0f} -> "
                f"{mine.get(name, 0):5.0f}  {name}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
