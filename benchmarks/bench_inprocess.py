"""The cost of the wrapping step, without a server: the WSGI app called directly.

Each variant is a batch of calls ``app(environ, start_response)`` whose body is
consumed and closed, as a WSGI server does. The same view is asked without a
callback (plain JSON) and with one (JSONP), so the difference is what
:func:`flask_jsonp.wrapping.prepare` and :func:`~flask_jsonp.wrapping.finish`
add per response.
"""

from __future__ import annotations

import cProfile
import functools
import gc
import io
import pstats
import statistics
import time
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask import Response
from werkzeug.test import EnvironBuilder

from .bench_app import CALLBACK
from .bench_app import create_app
from .bench_app import payloads
from .bench_app import PROVIDERS
from .bench_app import SIZES
from .bench_common import log
from .bench_common import paired_row
from .bench_common import Row
from .bench_common import run_rounds

#: Seconds one batch of calls should take (full run, quick run).
BATCH_SECONDS = (0.1, 0.03)

#: Rounds of interleaved batches (full run, quick run).
ROUNDS = (21, 5)

#: Calls per batch when profiling.
PROFILE_CALLS = 2000

#: The kinds of request measured, by name: the URL path prefix and whether a
#: callback is sent.
KINDS = {
    "bare": ("/bare/", False),
    "json": ("/jsonp/", False),
    "jsonp": ("/jsonp/", True),
    "jsonpify": ("/jsonpify/", True),
}


@dataclass(frozen=True)
class Variant:
    """One request to one app: a JSON provider, a payload size, a kind."""

    provider: str
    size: str
    kind: str


def _write(data: bytes) -> None:
    """The ``write`` callable of WSGI; Flask never uses it."""


def _start_response(
    status: str, headers: list[tuple[str, str]], exc_info: Any = None, /
) -> Callable[[bytes], object]:
    return _write


def _environ(variant: Variant) -> dict[str, Any]:
    prefix, with_callback = KINDS[variant.kind]
    builder = EnvironBuilder(
        path=prefix + variant.size,
        query_string={"callback": CALLBACK} if with_callback else None,
        headers=[("Accept", "*/*"), ("User-Agent", "bench")],
    )
    try:
        return builder.get_environ()
    finally:
        builder.close()


def make_caller(app: Flask, variant: Variant) -> Callable[[], int]:
    """Return a function answering one request to ``app``, as a WSGI server
    would: fresh environ, body consumed and closed. It returns the body size.
    """
    template = _environ(variant)

    def call() -> int:
        body = app(dict(template), _start_response)
        try:
            return sum(len(chunk) for chunk in body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return call


def _check(call: Callable[[], int], app: Flask, variant: Variant) -> None:
    status: list[str] = []

    def start_response(
        code: str, headers: list[tuple[str, str]], exc_info: Any = None, /
    ) -> Callable[[bytes], object]:
        status.append(code)
        return _write

    body = b"".join(app(_environ(variant), start_response))
    if not status or not status[0].startswith("200"):
        raise RuntimeError(f"{variant} answered {status}")
    if KINDS[variant.kind][1] and CALLBACK.encode() not in body[:200]:
        raise RuntimeError(f"{variant} did not answer JSONP")
    call()


def _time_batch(call: Callable[[], int], count: int) -> float:
    """Return the mean seconds per call over ``count`` calls."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - start) / count


def _variants(has_jsonpify: bool) -> list[list[Variant]]:
    """The blocks of variants compared with each other."""
    blocks = []
    for provider in PROVIDERS:
        for size in SIZES:
            kinds = ["bare", "json", "jsonp"]
            if provider == "standard" and has_jsonpify:
                kinds.append("jsonpify")
            blocks.append([Variant(provider, size, kind) for kind in kinds])
    return blocks


def body_sizes() -> dict[tuple[str, str, str], int]:
    """Bytes of each answer, by (provider, size, kind)."""
    sizes = {}
    for provider in PROVIDERS:
        app = create_app(provider)
        for size in SIZES:
            for kind in ("json", "jsonp"):
                variant = Variant(provider, size, kind)
                sizes[(provider, size, kind)] = make_caller(app, variant)()
    return sizes


def run(quick: bool = False) -> list[Row]:
    """Measure every variant in interleaved rounds and compare them.

    :param quick: fewer, shorter rounds, for a smoke run.
    """
    apps = {provider: create_app(provider) for provider in PROVIDERS}
    has_jsonpify = "jsonpify" in apps["standard"].view_functions
    blocks = _variants(has_jsonpify)
    callers: dict[Variant, Callable[[], int]] = {}
    counts: dict[Variant, int] = {}
    batch_seconds = BATCH_SECONDS[quick]
    for block in blocks:
        for variant in block:
            app = apps[variant.provider]
            call = callers[variant] = make_caller(app, variant)
            _check(call, app, variant)
            # Warm up, then size the batch to take about batch_seconds.
            per_call = _time_batch(call, 50)
            counts[variant] = max(20, int(batch_seconds / per_call))
    values = run_rounds(
        blocks,
        ROUNDS[quick],
        lambda variant: _time_batch(callers[variant], counts[variant]) * 1e6,
        progress="in-process",
    )
    sizes = body_sizes()
    rows = []
    for block in blocks:
        provider, size = block[0].provider, block[0].size
        by_kind = {variant.kind: values[variant] for variant in block}
        where = f"{size} ({sizes[(provider, size, 'json')]:,} B), {provider} provider"
        rows.append(
            paired_row(
                "in-process",
                f"{where}: JSONP vs JSON, same view",
                ("JSON", "JSONP"),
                (by_kind["json"], by_kind["jsonp"]),
                "µs",
                "JSONP ÷ JSON responses/s",
                higher_is_better=False,
            )
        )
        rows.append(
            paired_row(
                "in-process",
                f"{where}: @jsonp without callback vs no decorator",
                ("no decorator", "@jsonp"),
                (by_kind["bare"], by_kind["json"]),
                "µs",
                "@jsonp ÷ undecorated responses/s",
                higher_is_better=False,
            )
        )
        if "jsonpify" in by_kind:
            rows.append(
                paired_row(
                    "in-process",
                    f"{where}: flask-jsonp vs flask-jsonpify, JSONP",
                    ("jsonpify", "flask-jsonp"),
                    (by_kind["jsonpify"], by_kind["jsonp"]),
                    "µs",
                    "flask-jsonp ÷ jsonpify responses/s",
                    higher_is_better=False,
                )
            )
    return rows


@dataclass(frozen=True)
class Step:
    """One part of the wrapping step, timed alone: µs per call, by
    ``(provider, size)``.
    """

    name: str
    microseconds: dict[tuple[str, str], float]


def _per_call(
    function: Callable[[Any], object],
    make_argument: Callable[[], Any],
    seconds: float,
) -> float:
    """Return the median µs per call of ``function`` over 5 timed batches.

    Each call gets its own argument, made by ``make_argument`` off the clock
    (``finish()`` changes the response it is given), and its result is dropped
    before the next call, so memory is reused as in a server.
    """
    clock = time.perf_counter_ns
    start = clock()
    function(make_argument())
    count = max(20, int(seconds * 1e9 / 5 / max(clock() - start, 100)))
    # What reading the clock twice costs, taken off every call.
    overhead = min(-clock() + clock() for _ in range(1000))
    batches = []
    for _ in range(5):
        elapsed = 0
        for _ in range(count):
            argument = make_argument()
            start = clock()
            function(argument)
            elapsed += clock() - start - overhead
            del argument
        batches.append(elapsed / count / 1e3)
    return statistics.median(batches)


def _steps_of_one(
    app: Flask, size: str, seconds: float
) -> dict[str, tuple[Callable[[Any], object], Callable[[], Any]]]:
    """The parts of the wrapping step for one app and payload, as
    ``label: (function, make_argument)``, run in a request context with a
    callback.
    """
    from flask_jsonp import response as response_module
    from flask_jsonp import wrapping

    jsonp_request = wrapping.prepare({})
    json_response = app.make_response(payloads()[size])
    json_body = json_response.get_data()
    mimetype = json_response.mimetype

    def fresh_response() -> Response:
        response: Response = app.response_class(json_body, mimetype=mimetype)
        return response

    def nothing() -> None:
        return None

    steps: dict[str, tuple[Callable[[Any], object], Callable[[], Any]]] = {
        "prepare()": (lambda _: wrapping.prepare({}), nothing),
        "finish()": (
            functools.partial(_finish, jsonp_request=jsonp_request),
            fresh_response,
        ),
    }
    parts = {
        "escape_json_for_script()": (response_module, (json_body,)),
        "jsonp_body()": (response_module, (CALLBACK, json_body)),
        "guarded_call_prefix()": (response_module, (CALLBACK,)),
        "_warn_credentialed()": (wrapping, (jsonp_request.options,)),
    }
    for label, (module, arguments) in parts.items():
        function = getattr(module, label.removesuffix("()"))
        steps[f"finish() → {label}"] = (
            functools.partial(_call_with, function, arguments),
            nothing,
        )
    return steps


def _consume(body: object) -> None:
    """Iterate a body as a server would, so lazy work is counted."""
    chunks = getattr(body, "chunks", body)
    if isinstance(chunks, Iterable) and not isinstance(chunks, (bytes, str)):
        for _ in chunks:
            pass


def _finish(response: Response, jsonp_request: Any) -> object:
    from flask_jsonp import wrapping

    finished = wrapping.finish(response, jsonp_request)
    _consume(finished.response)
    return finished


def _call_with(
    function: Callable[..., object], arguments: tuple[Any, ...], _: Any
) -> object:
    result = function(*arguments)
    _consume(result)
    return result


def wrapping_steps(quick: bool = False) -> list[Step]:
    """Time the parts of the wrapping step one by one, in a request context.

    Parts that a newer flask-jsonp no longer has are left out. Bodies are
    iterated, so work deferred to the server's iteration is counted.
    ``request.args`` is parsed once per request context, so ``prepare()`` is
    timed without it.
    """
    from flask_jsonp import wrapping

    seconds = 0.05 if quick else 0.25
    found: dict[str, dict[tuple[str, str], float]] = {}
    for provider in PROVIDERS:
        app = create_app(provider)
        for size in SIZES:
            key = (provider, size)
            with app.test_request_context(f"/jsonp/{size}"):
                found.setdefault("prepare() without a callback", {})[key] = _per_call(
                    lambda _: wrapping.prepare({}), lambda: None, seconds
                )
            with app.test_request_context(
                f"/jsonp/{size}", query_string={"callback": CALLBACK}
            ):
                steps = _steps_of_one(app, size, seconds)
                for label, (function, make_argument) in steps.items():
                    found.setdefault(label, {})[key] = _per_call(
                        function, make_argument, seconds
                    )
    return [Step(name, by_key) for name, by_key in found.items()]


def profile(provider: str, size: str, calls: int = PROFILE_CALLS) -> str:
    """Profile JSONP answers and return the functions flask-jsonp spends time in.

    :return: a report of cumulative time per call, for the wrapping step's
        functions and the Flask and Werkzeug functions they call.
    """
    app = create_app(provider)
    call = make_caller(app, Variant(provider, size, "jsonp"))
    _time_batch(call, 200)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        call()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative")
    log(f"profiled {calls} JSONP answers ({size}, {provider} provider)")
    out.write(f"\n{calls} JSONP answers, {size} payload, {provider} provider\n")
    stats.print_stats(_PROFILE_FILTER, 40)
    return out.getvalue()


#: Functions shown by :func:`profile`: the wrapping path and what it calls.
_PROFILE_FILTER = (
    r"flask_jsonp|get_data|set_data|content_type|content_length|cache_control|"
    r"vary|make_response|json/provider|__setitem__|headers\.py.*\(set\)|"
    r"dispatch_request|full_dispatch|wsgi_app|replace"
)


def format_timings(rows: Iterable[Row]) -> str:
    """Render in-process medians as ``µs per response`` lines, for the log."""
    return "\n".join(
        f"{row.name}: {row.baseline_label} {row.baseline_median:.1f} µs, "
        f"{row.candidate_label} {row.candidate_median:.1f} µs"
        for row in rows
    )
