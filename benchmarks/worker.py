"""A process measuring one revision's ``flask_jsonp``, for
:mod:`benchmarks.bench_inprocess`: ``python -m benchmarks.worker CODE_ROOT``.

It loads the ``flask_jsonp`` package of ``CODE_ROOT`` (and nothing else from
there: the benchmark code and every other package come from this tree and
environment), then answers one JSON message per line on stdin, one JSON line
on stdout, until stdin closes:

- ``{"op": "hello"}``: where ``flask_jsonp`` was loaded from;
- ``{"op": "prepare", "variants": [...]}``: build each variant's app and
  caller, check its answer, and report its CPU time per call, or why the
  revision cannot run it;
- ``{"op": "measure", "indexes": [i, ...], "counts": [n, ...]}``: one sample
  of ``n`` calls of each variant ``i``, taking turns (see :func:`timed`), in µs
  of this process's CPU time and of wall clock per call;
- ``{"op": "anatomy", "index": i, "count": n}``: what ``n`` calls leave to the
  garbage collector and allocate (see :func:`anatomy`);
- ``{"op": "trace", "index": i, "count": n}``: bytecodes and Python calls per
  call (see :func:`trace`).
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import cast


def load_package(code_root: Path) -> Path:
    """Import ``flask_jsonp`` from ``code_root`` alone: its folder, not the
    whole root, goes on the import path, so that the revision's ``tests`` or
    ``benchmarks`` never shadow this tree's.
    """
    folder = code_root / "flask_jsonp"
    spec = importlib.util.spec_from_file_location(
        "flask_jsonp", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["flask_jsonp"] = module
    spec.loader.exec_module(module)
    return Path(str(module.__file__)).resolve()


def anatomy(call: Callable[[], object], count: int) -> dict[str, float]:
    """What ``count`` calls cost beside their instructions, per call.

    - ``collections``, ``gc_us``: collections of the garbage collector, and
      their time (``gc.callbacks``);
    - ``cycle_objects``: objects that only the collector could free (reference
      cycles): what its collections during the calls and one after them found;
    - ``blocks_kept_after_one_call``: memory blocks (tracemalloc) a call
      leaves allocated, for the collector to free; ``peak_kib_of_one_call``:
      the most memory one call has allocated at once;
    - ``cpu_gc_off_us`` with ``cpu_gc_on_us``: CPU time with the collector
      disabled and enabled.
    """
    started: list[float] = []
    spent: list[float] = []
    collected: list[int] = []

    def track(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(time.process_time())
        else:
            spent.append(time.process_time() - started.pop())
            collected.append(info["collected"])

    gc.collect()
    before = [stats["collections"] for stats in gc.get_stats()]
    gc.callbacks.append(track)
    try:
        cpu = time.process_time()
        for _ in range(count):
            call()
        cpu_on = time.process_time() - cpu
    finally:
        gc.callbacks.remove(track)
    after = [stats["collections"] for stats in gc.get_stats()]
    left = sum(collected) + gc.collect()
    gc.disable()
    try:
        cpu = time.process_time()
        for _ in range(count):
            call()
        cpu_off = time.process_time() - cpu
    finally:
        gc.enable()
    gc.collect()
    tracemalloc.start()
    try:
        call()  # anything allocated once, on a first traced call, is not counted
        gc.collect()
        mine = [tracemalloc.Filter(False, tracemalloc.__file__)]
        first = tracemalloc.take_snapshot().filter_traces(mine)
        tracemalloc.reset_peak()
        current = tracemalloc.get_traced_memory()[0]
        call()
        peak = tracemalloc.get_traced_memory()[1] - current
        second = tracemalloc.take_snapshot().filter_traces(mine)
    finally:
        tracemalloc.stop()
    kept = second.compare_to(first, "filename")
    blocks = sum(stat.count_diff for stat in kept)
    result = {
        f"gen{generation}_collections": (b - a) / count
        for generation, (a, b) in enumerate(zip(before, after, strict=True))
    }
    result |= {
        "gc_us": sum(spent) / count * 1e6,
        "cycle_objects": left / count,
        "cpu_gc_on_us": cpu_on / count * 1e6,
        "cpu_gc_off_us": cpu_off / count * 1e6,
        "blocks_kept_after_one_call": float(blocks),
        "peak_kib_of_one_call": peak / 1024,
    }
    return result


def trace(call: Callable[[], object], count: int) -> dict[str, float]:
    """Python bytecodes executed and Python functions called per call, in
    total and by function (``name (file)``): the same code and input give the
    same counts, whatever else the machine runs.
    """
    counts: dict[str, float] = {}

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes, frame.f_trace_lines = True, False
        code = frame.f_code
        key = f"{code.co_qualname} ({Path(code.co_filename).name})"
        counts[f"calls: {key}"] = counts.get(f"calls: {key}", 0) + 1

        def opcode(frame: Any, event: str, arg: Any) -> Any:
            counts[key] = counts.get(key, 0) + 1
            return opcode

        return opcode

    sys.settrace(tracer)
    try:
        for _ in range(count):
            call()
    finally:
        sys.settrace(None)
    return {key: value / count for key, value in counts.items()}


def main(argv: list[str]) -> int:
    # The answers go to the original stdout; anything else printed, to stderr.
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)

    def answer(message: dict[str, Any]) -> None:
        answers.write(json.dumps(message) + "\n")

    package = load_package(Path(argv[0]).resolve())
    # Imported after flask_jsonp, which they import in turn.
    from .bench_inprocess import Variant

    calls: list[Callable[[], bytes] | None] = []
    for line in sys.stdin:
        message = json.loads(line)
        try:
            op = message["op"]
            if op == "hello":
                answer({"flask_jsonp": str(package)})
            elif op == "prepare":
                results: list[dict[str, Any]] = []
                for fields in message["variants"]:
                    try:
                        call = Variant.from_json(fields).caller()
                    except Exception as error:  # a feature the revision lacks
                        calls.append(None)
                        results.append({"missing": f"{type(error).__name__}: {error}"})
                        continue
                    calls.append(call)
                    results.append({"cost": timed([call], [30 * SLICES])[0][0]})
                answer({"results": results})
            elif op == "measure":
                chosen = [calls[index] for index in message["indexes"]]
                assert all(chosen)
                found = timed(
                    cast(list[Callable[[], bytes]], chosen), message["counts"]
                )
                answer({"samples": found})
            elif op == "trace":
                call = calls[message["index"]]
                assert call is not None
                answer(trace(call, message["count"]))
            elif op == "anatomy":
                call = calls[message["index"]]
                assert call is not None
                answer(anatomy(call, message["count"]))
            else:
                answer({"error": f"unknown op {op!r}"})
        except Exception as error:
            answer({"error": f"{type(error).__name__}: {error}"})
    return 0


#: Slices of a sample: the variants of a sample take turns, a slice of each at a
#: time. On a shared machine a process's CPU time per call nearly doubles while
#: another process shares its core (or the virtual CPU is descheduled while it
#: is charged): variants measured in turns, slice by slice, share that alike.
SLICES = 4


def timed(
    calls: Sequence[Callable[[], object]], counts: Sequence[int]
) -> list[tuple[float, float]]:
    """Time ``counts[i]`` calls of each ``calls[i]``, in :data:`SLICES` turns:
    µs of this process's CPU time and of wall clock per call, for each.

    The young garbage is collected before each slice, untimed: each slice pays
    for the collections its own calls bring about, not for another variant's,
    short of what is left when it ends.
    """
    cpu_times, wall_times = [0.0] * len(calls), [0.0] * len(calls)
    per_slice = [max(1, count // SLICES) for count in counts]
    for turn in range(SLICES):
        for index in [*range(turn % len(calls), len(calls)), *range(turn % len(calls))]:
            call, count = calls[index], per_slice[index]
            gc.collect(1)
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(count):
                call()
            cpu_times[index] += time.process_time() - cpu
            wall_times[index] += time.perf_counter() - wall
    return [
        (cpu / (count * SLICES) * 1e6, wall / (count * SLICES) * 1e6)
        for cpu, wall, count in zip(cpu_times, wall_times, per_slice, strict=True)
    ]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
