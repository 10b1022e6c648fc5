"""The cost of JSONP without a server, against another revision of flask-jsonp.

A call is ``app(environ, start_response)``, body consumed and closed as a WSGI
server does, timed with :func:`time.process_time` (the CPU time of the process
that runs it: the verdict) and :func:`time.perf_counter` (the wall clock,
printed beside it). Two versions of a package cannot share a process: this
tree's ``flask_jsonp`` runs in one :mod:`benchmarks.worker` process, the
revision's (:data:`DEFAULT_AGAINST` unless told otherwise, checked out by
:mod:`benchmarks.revision`) in another. In each round, the variants of an app
family are measured together by each worker in turn, in slices that take turns
(:func:`benchmarks.worker.timed`), so that other load slows a scenario's two
sides alike. Each :data:`SCENARIOS` ratio is taken within one worker, from the
same round: baseline ÷ candidate CPU time, median of the rounds. Ratios across
the two workers (printed too) also carry what differs between two processes
(memory layout, hash seeds): up to 25 % for one variant in one run.

pyperf and pytest-benchmark run one benchmark after the other (pyperf in fresh
processes, on the wall clock), not variants interleaved round by round, in CPU
time.
"""

from __future__ import annotations

import cProfile
import random
import statistics
import sysconfig
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.test import EnvironBuilder

from . import common
from .bench_app import CALLBACK
from .bench_app import create_app

#: The code this tree is compared with by default: 0.1 as it was before the
#: extension's work in company (its ``before_request`` hook, endpoint records),
#: the previous release's code. There is no tag yet: name one here when there is.
DEFAULT_AGAINST = "d1c0416"

#: CPU seconds of one sample of a variant (in
#: :data:`~benchmarks.worker.SLICES` slices), and rounds (full run, quick run).
BATCH_SECONDS = (0.03, 0.004)
ROUNDS = (20, 2)

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


@dataclass(frozen=True)
class Variant:
    """One kind of request to one app: what a sample measures."""

    #: A key of :data:`KINDS`.
    kind: str
    #: ``"standard"`` (Flask's JSON provider) or ``"orjson"`` (flask-orjson's).
    provider: str = "standard"
    #: ``"small"`` (about 100 B of JSON) or ``"big"`` (about 120 KB).
    size: str = "small"
    #: One more trivial app-wide ``before_request`` function in the app.
    hook: bool = False
    #: App config set before the extension is, as ``(key, value)`` pairs.
    config: tuple[tuple[str, Any], ...] = ()
    #: Send ``If-None-Match`` with the ETag of the answer to the same request,
    #: and expect 304 Not Modified.
    revalidate: bool = False

    @classmethod
    def from_json(cls, fields: dict[str, Any]) -> Variant:
        """The variant that :func:`dataclasses.asdict` gave ``fields`` for."""
        config = tuple((key, value) for key, value in fields.pop("config"))
        return cls(config=config, **fields)

    def describe(self) -> str:
        extra = [f"{key}={value!r}" for key, value in self.config]
        extra += ["another hook"] * self.hook + ["revalidated"] * self.revalidate
        return ", ".join([self.kind, self.provider, self.size, *extra])

    def caller(self) -> Callable[[], bytes]:
        """Build the app and return the function that answers one request."""
        setup = KINDS[self.kind][0]
        app = create_app(self.provider, setup, hook=self.hook, config=dict(self.config))
        return make_caller(app, self.size, self.kind, revalidate=self.revalidate)


@dataclass(frozen=True)
class Scenario:
    """A comparison: baseline ÷ candidate CPU time, in the same worker and
    round, and the promise ``ratio >= target`` if there is one.
    """

    name: str
    baseline: Variant
    candidate: Variant
    target: float | None = None


#: What the in-process section compares, in the order of its table. A row for a
#: feature the older revision lacks (an option, a config key) is measured for
#: this tree only. ``jsonp-signalled`` has no row: a receiver connected to the
#: usage signals makes every app of the process send them (blinker's
#: ``receivers`` is global), which slowed every JSONP row by 5 µs when it
#: shared their process; ``python -m benchmarks.instructions jsonp-signalled``
#: counts it in a process of its own.
SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "small, standard: JSONP vs plain JSON", Variant("bare"), Variant("jsonp"), 0.90
    ),
    Scenario(
        "small, orjson: JSONP vs plain JSON",
        Variant("bare", provider="orjson"),
        Variant("jsonp", provider="orjson"),
        0.88,
    ),
    Scenario(
        "big, standard: JSONP vs plain JSON",
        Variant("bare", size="big"),
        Variant("jsonp", size="big"),
        0.97,
    ),
    Scenario(
        "big, orjson: JSONP vs plain JSON",
        Variant("bare", size="big", provider="orjson"),
        Variant("jsonp", size="big", provider="orjson"),
        0.95,
    ),
    Scenario(
        "small, standard: flask-jsonp vs flask-jsonpify",
        Variant("jsonpify"),
        Variant("jsonp"),
        1.10,
    ),
    Scenario(
        "small, standard: a view without JSONP, JSONP(app) vs without",
        Variant("bare"),
        Variant("bare-in-jsonp-app"),
        0.98,
    ),
    Scenario(
        "small, standard, another hook: JSONP vs plain JSON",
        Variant("bare", hook=True),
        Variant("jsonp", hook=True),
        0.88,
    ),
    Scenario(
        "small, standard, another hook: a view without JSONP, JSONP(app) vs without",
        Variant("bare", hook=True),
        Variant("bare-in-jsonp-app", hook=True),
        0.98,
    ),
    Scenario(
        "small, standard: @jsonp without callback vs no decorator",
        Variant("bare"),
        Variant("json"),
        0.97,
    ),
    Scenario(
        "small, standard: JSONP of a view returning jsonify() vs plain JSON",
        Variant("bare"),
        Variant("jsonp-response"),
    ),
    # Conditional requests: JSONP_ETAG is on by default. d1c0416 refuses the
    # config key, so these are measured for this tree only.
    Scenario(
        "small, standard: JSONP, JSONP_ETAG on vs off",
        Variant("jsonp", config=(("JSONP_ETAG", False),)),
        Variant("jsonp", config=(("JSONP_ETAG", True),)),
        0.97,
    ),
    Scenario(
        "small, standard: a 304 vs a full JSONP answer",
        Variant("jsonp", config=(("JSONP_ETAG", True),)),
        Variant("jsonp", config=(("JSONP_ETAG", True),), revalidate=True),
        1.00,
    ),
)

#: Calls profiled by :func:`profile`, and functions listed in each of its tables.
PROFILE_CALLS = 3000
PROFILE_TOP = 15


def _status_and_headers(
    app: Flask, environ: dict[str, Any]
) -> tuple[int, dict[str, str], bytes]:
    """One answer, as a test would read it: status, headers, body."""
    seen: list[Any] = []

    def start_response(status: str, headers: Any, *_: Any) -> Callable[..., Any]:
        seen[:] = [int(status.split()[0]), dict(headers)]
        return lambda data: None

    body: Iterable[bytes] = app(dict(environ), start_response)
    try:
        data = b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()
    return seen[0], seen[1], data


def make_caller(
    app: Flask, size: str, kind: str, *, revalidate: bool = False
) -> Callable[[], bytes]:
    """Return a function answering one request as a WSGI server would: a fresh
    environ, the body consumed and closed. It returns the body's first chunk,
    if any.

    :param revalidate: send the ETag of a first answer in ``If-None-Match``.
    :raise RuntimeError: the app does not answer as the kind expects.
    """
    _, prefix, with_callback = KINDS[kind]
    query = {"callback": CALLBACK} if with_callback else None
    environ = EnvironBuilder(prefix + size, query_string=query).get_environ()
    status, headers, body = _status_and_headers(app, environ)
    if status != 200 or body.startswith(b"{") == with_callback:  # JSON or script?
        raise RuntimeError(f"{prefix}{size} answered {status} {body[:60]!r}")
    if revalidate:
        if "ETag" not in headers:
            raise RuntimeError(f"{prefix}{size} answered without an ETag")
        environ["HTTP_IF_NONE_MATCH"] = headers["ETag"]
        status, headers, body = _status_and_headers(app, environ)
        if status != 304:
            raise RuntimeError(f"{prefix}{size} revalidated answered {status}")

    def call() -> bytes:
        body: Iterable[bytes] = app(dict(environ), common.start_response)
        try:
            chunks = list(body)  # all of it, as a server sends it
            return chunks[0] if chunks else b""
        finally:
            getattr(body, "close", lambda: None)()

    return call


#: A side of the comparison, and a variant it measures.
Measured = tuple[str, Variant]


@dataclass
class Comparison:
    """One scenario's samples on both sides."""

    scenario: Scenario
    #: The samples of each side that could run both variants, by side label:
    #: (baseline's, candidate's).
    sides: dict[str, tuple[list[common.Sample], list[common.Sample]]]

    def row(self, side: str) -> common.Row | None:
        """The scenario's row for one side, ``None`` if it could not run it."""
        if side not in self.sides:
            return None
        labels = (self.scenario.baseline.kind, self.scenario.candidate.kind)
        return common.Row(
            "in-process",
            self.scenario.name,
            labels,
            self.sides[side],
            "µs",
            self.scenario.target,
        )


@dataclass
class InProcess:
    """What the in-process section measured."""

    #: The side labels: this tree's, then the compared revision's.
    labels: tuple[str, str]
    comparisons: list[Comparison]
    #: Why variants could not run, one line each.
    missing: list[str]

    @property
    def rows(self) -> list[common.Row]:
        """This tree's rows, for the report's main table and chart."""
        return [row for c in self.comparisons if (row := c.row(self.labels[0]))]

    def table(self) -> str:
        """Both sides' ratios, side by side, with this tree's verdict and how
        each side's CPU time compares with the other's for the same variant.
        """
        ours, theirs = self.labels
        header = [
            "Scenario",
            "Target",
            f"{ours}: CPU ratio (range)",
            "wall",
            "Result",
            f"{theirs}: CPU ratio (range)",
            "wall",
            f"baseline CPU, {theirs} ÷ {ours}",
            f"candidate CPU, {theirs} ÷ {ours}",
        ]
        cells = [header]
        for comparison in self.comparisons:
            mine, other = comparison.row(ours), comparison.row(theirs)
            target = comparison.scenario.target
            line = [
                comparison.scenario.name,
                "—" if target is None else f"≥ {target:.2f}",
            ]
            for side, row in enumerate((mine, other)):
                if row is None:
                    line += ["not measured", ""]
                else:
                    spread = f"{min(row.ratios):.3f} to {max(row.ratios):.3f}"
                    line += [f"{row.ratio:.3f} ({spread})", f"{row.wall_ratio:.3f}"]
                if side == 0:  # the verdict is this tree's
                    line.append(mine.verdict if mine else "")
            for index in (0, 1):
                if mine is None or other is None:
                    line.append("")
                    continue
                pairs = zip(other.samples[index], mine.samples[index], strict=True)
                line.append(f"{statistics.median(t.cpu / o.cpu for t, o in pairs):.3f}")
            cells.append(line)
        widths = [max(map(len, column)) for column in zip(*cells, strict=True)]
        lines = [
            " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))
            for r in cells
        ]
        lines.insert(1, " | ".join("-" * width for width in widths))
        text = "\n".join(f"| {line} |" for line in lines)
        return "\n".join([text, *(f"- {line}" for line in self.missing)])


def run(
    quick: bool = False,
    against: str = DEFAULT_AGAINST,
    scenarios: Sequence[str] = (),
) -> InProcess:
    """Measure every scenario on this tree and on ``against``, in interleaved
    rounds, each side in a worker process of its own.

    :param scenarios: measure only the scenarios whose name contains one of
        these strings (all if empty).
    :raise BenchmarkError: the revision cannot be checked out or a worker failed.
    """
    chosen = [
        scenario
        for scenario in SCENARIOS
        if not scenarios or any(text in scenario.name for text in scenarios)
    ]
    if not chosen:
        raise common.BenchmarkError(f"no scenario's name contains {scenarios}")
    from .revision import checkout
    from .revision import describe_tree
    from .revision import Worker

    root, short = checkout(against)
    labels = ("this tree", short)
    common.log(f"in-process: this tree is {describe_tree()}")
    variants = list(dict.fromkeys(v for s in chosen for v in (s.baseline, s.candidate)))
    missing: list[str] = []
    indexes: dict[Measured, int] = {}
    costs: dict[Measured, float] = {}
    with Worker(common.ROOT, labels[0]) as mine, Worker(root, short) as theirs:
        workers = {labels[0]: mine, short: theirs}
        for label, worker in workers.items():
            common.log(f"in-process: {label} runs {worker.package}")
            message = {"op": "prepare", "variants": [asdict(v) for v in variants]}
            results = worker.ask(message)["results"]
            for index, (variant, result) in enumerate(
                zip(variants, results, strict=True)
            ):
                if "missing" in result:
                    missing.append(
                        f"{label} cannot run {variant.describe()}: {result['missing']}"
                    )
                else:
                    indexes[label, variant] = index
                    costs[label, variant] = result["cost"]
        # The same count for a variant on both sides, from this tree's cost.
        counts = {}
        for label, variant in indexes:
            cost = costs.get((labels[0], variant), costs[label, variant])
            counts[label, variant] = max(20, int(BATCH_SECONDS[quick] * 1e6 / cost))

        # A sample measures the variants of one app family (provider, size,
        # hook, config) in turns; the two sides take turns too, in an order that
        # alternates from round to round, and the families are shuffled.
        families: dict[tuple[Any, ...], list[Variant]] = {}
        for variant in variants:
            key = (variant.provider, variant.size, variant.hook, variant.config)
            families.setdefault(key, []).append(variant)
        samples: dict[Measured, list[common.Sample]] = {m: [] for m in indexes}
        order = random.Random(1905)
        rounds = ROUNDS[quick]
        for number in range(rounds):
            common.log(f"in-process: round {number + 1}/{rounds}")
            for family in order.sample(list(families.values()), len(families)):
                for label in labels[:: 1 if number % 2 else -1]:
                    measured = [(label, v) for v in family if (label, v) in indexes]
                    if not measured:
                        continue
                    found = workers[label].ask(
                        {
                            "op": "measure",
                            "indexes": [indexes[m] for m in measured],
                            "counts": [counts[m] for m in measured],
                        }
                    )["samples"]
                    for m, (cpu, wall) in zip(measured, found, strict=True):
                        samples[m].append(common.Sample(cpu, wall))
    comparisons = []
    for scenario in chosen:
        pairs = [
            ((label, scenario.baseline), (label, scenario.candidate))
            for label in labels
        ]
        sides = {
            baseline[0]: (samples[baseline], samples[candidate])
            for baseline, candidate in pairs
            if baseline in samples and candidate in samples
        }
        comparisons.append(Comparison(scenario, sides))
    return InProcess(labels, comparisons, missing)


def profile(provider: str = "standard", size: str = "small") -> str:
    """Profile JSONP answers through the whole WSGI path.

    The profiler's clock is CPU time, as for the benchmarks: on a loaded machine
    the wall clock charges other processes' time to whatever function ran.

    :return: the functions with the most own time, then flask-jsonp's functions
        by cumulative time, in µs per request.
    """
    call = make_caller(create_app(provider), size, "jsonp")
    for _ in range(200):
        call()
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
