"""The cost of JSONP without a server: the WSGI app called directly.

A sample is a batch of calls ``app(environ, start_response)``, body consumed and
closed as a WSGI server does, timed with :func:`time.process_time` (this
process's CPU time) and :func:`time.perf_counter`. pyperf and pytest-benchmark
run one benchmark after the other (pyperf in fresh processes, on the wall clock),
not variants interleaved round by round in one process, in CPU time.
"""

from __future__ import annotations

import cProfile
import gc
import sysconfig
import time
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from flask import Flask
from werkzeug.test import EnvironBuilder

from . import common
from .bench_app import CALLBACK
from .bench_app import create_app
from .bench_app import PROVIDERS
from .bench_app import SETUPS
from .bench_app import SIZES

#: CPU seconds of one batch, and rounds (full run, quick run).
BATCH_SECONDS = (0.04, 0.02)
ROUNDS = (41, 3)

#: The kinds of request, by name: the app's set-up (see
#: :func:`~benchmarks.bench_app.create_app`), the URL path prefix, and whether a
#: callback is sent. The baselines (plain JSON, flask-jsonpify) come from an app
#: without the extension.
KINDS = {
    "bare": ("plain", "/bare/", False),
    "bare-in-jsonp-app": ("extension", "/bare/", False),
    "json": ("extension", "/jsonp/", False),
    "jsonp": ("extension", "/jsonp/", True),
    "jsonp-signalled": ("signalled", "/jsonp/", True),
    "jsonp-response": ("extension", "/jsonp-response/", True),
    "jsonpify": ("plain", "/jsonpify/", True),
}

#: The comparisons: name, baseline kind, candidate kind, targets (small, big) or
#: ``None``.
COMPARISONS: tuple[
    tuple[str, str, str, tuple[float | None, float | None] | None], ...
] = (
    ("JSONP vs plain JSON", "bare", "jsonp", (0.85, 0.93)),
    (
        "a view without JSONP, in an app with JSONP(app) vs without",
        "bare",
        "bare-in-jsonp-app",
        (0.97, 0.97),
    ),
    ("@jsonp without callback vs no decorator", "bare", "json", (0.97, 0.97)),
    ("flask-jsonp vs flask-jsonpify", "jsonpify", "jsonp", (1.0, None)),
    ("JSONP, a signal receiver connected vs none", "jsonp", "jsonp-signalled", None),
    (
        "JSONP of a view returning jsonify() vs plain JSON",
        "bare",
        "jsonp-response",
        None,
    ),
)

#: Calls profiled by :func:`profile`, and functions listed in each of its tables.
PROFILE_CALLS = 3000
PROFILE_TOP = 15


def make_caller(app: Flask, size: str, kind: str) -> Callable[[], bytes]:
    """Return a function answering one request as a WSGI server would: a fresh
    environ, the body consumed and closed. It returns the body's first chunk.
    """
    _, prefix, with_callback = KINDS[kind]
    query = {"callback": CALLBACK} if with_callback else None
    environ = EnvironBuilder(prefix + size, query_string=query).get_environ()

    def call() -> bytes:
        body: Iterable[bytes] = app(dict(environ), common.start_response)
        try:
            chunks = list(body)  # all of it, as a server sends it
            return chunks[0]
        finally:
            getattr(body, "close", lambda: None)()

    if (first := call()).startswith(b"{") == with_callback:  # JSON, or a script?
        raise RuntimeError(f"{prefix}{size} answered {first[:60]!r}")
    return call


def _batch(call: Callable[[], object], count: int) -> common.Sample:
    """Time ``count`` calls: µs of CPU time and of wall clock per call."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        call()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return common.Sample(cpu / count * 1e6, wall / count * 1e6)


def run(quick: bool = False) -> list[common.Row]:
    """Measure every variant in interleaved rounds and compare them."""
    calls, counts = {}, {}
    for provider in PROVIDERS:
        apps = {setup: create_app(provider, setup) for setup in SETUPS}
        for size in SIZES:
            for kind, (setup, *_) in KINDS.items():
                call = make_caller(apps[setup], size, kind)
                calls[provider, size, kind] = call
                cost = _batch(call, 30).cpu / 1e6  # warm-up, and sizing
                counts[provider, size, kind] = max(20, int(BATCH_SECONDS[quick] / cost))
    blocks = [[(p, s, kind) for kind in KINDS] for p in PROVIDERS for s in SIZES]
    samples = common.run_rounds(
        blocks, ROUNDS[quick], lambda v: _batch(calls[v], counts[v]), "in-process"
    )
    rows = []
    for provider, size, _ in (block[0] for block in blocks):
        for name, baseline, candidate, targets in COMPARISONS:
            pair = samples[provider, size, baseline], samples[provider, size, candidate]
            target = None if targets is None else targets[SIZES.index(size)]
            name = f"{size}, {provider}: {name}"
            rows.append(
                common.Row(
                    "in-process", name, (baseline, candidate), pair, "µs", target
                )
            )
    return rows


def profile(provider: str = "standard", size: str = "small") -> str:
    """Profile JSONP answers through the whole WSGI path.

    The profiler's clock is CPU time, as for the benchmarks: on a loaded machine
    the wall clock charges other processes' time to whatever function ran.

    :return: the functions with the most own time, then flask-jsonp's functions
        by cumulative time, in µs per request.
    """
    call = make_caller(create_app(provider), size, "jsonp")
    _batch(call, 200)
    profiler = cProfile.Profile(time.process_time)
    profiler.runcall(lambda: [call() for _ in range(PROFILE_CALLS)])
    entries = profiler.getstats()
    paths = sysconfig.get_paths()
    prefixes = [f"{path}/" for path in (paths["purelib"], paths["stdlib"], common.ROOT)]

    def line(entry: Any) -> str:
        code = entry.code
        if not isinstance(code, str):
            place = f"{code.co_filename}:{code.co_firstlineno}"
            for prefix in prefixes:
                place = place.removeprefix(prefix)
            code = f"{code.co_qualname} ({place})"
        own, cumulative = entry.inlinetime * 1e6, entry.totaltime * 1e6
        times = f"{own / PROFILE_CALLS:8.2f} {cumulative / PROFILE_CALLS:8.2f}"
        return f"{times} {entry.callcount / PROFILE_CALLS:6.1f}  {code}"

    header = f"{'own µs':>8} {'cum. µs':>8} {'calls':>6}  function (per request)"
    by_own = sorted(entries, key=lambda entry: -entry.inlinetime)
    ours = [e for e in entries if "flask_jsonp/" in getattr(e.code, "co_filename", "")]
    ours.sort(key=lambda entry: -entry.totaltime)
    text = [f"{PROFILE_CALLS} JSONP answers, {size} payload, {provider} provider."]
    text += ["Most own time:", header, *map(line, by_own[:PROFILE_TOP])]
    text += ["flask-jsonp's functions, by cumulative time:", header]
    return "\n".join(text + [line(entry) for entry in ours[:PROFILE_TOP]])
