"""Requests over HTTP: gunicorn (one sync worker) and Express 5, driven by wrk.

Each server is one process for the whole run. A sample is one wrk run against one
URL: the server process's CPU time (psutil) and the wall clock, per request, from
the JSON summary that ``benchmarks/wrk_summary.lua`` prints.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import ExitStack

import psutil

from . import common
from .bench_app import CALLBACK
from .bench_app import payloads
from .bench_app import PROVIDERS
from .bench_app import SIZES

#: wrk threads and connections: the 2 cores are shared with the server, and more
#: connections only lengthen the listen queue of a sync worker.
WRK_OPTIONS = ("--threads=2", "--connections=16", "--timeout=10s")
WRK_SCRIPT = common.ROOT / "benchmarks" / "wrk_summary.lua"

#: Seconds per wrk run and rounds (full run, quick run); wrk counts whole seconds.
DURATION = (1, 1)
ROUNDS = (11, 2)

#: The comparisons, for each size: name, baseline and candidate variants (server,
#: kind of answer, and "close" to send ``Connection: close`` as a sync worker does).
COMPARISONS = (
    ("standard: JSONP vs plain JSON", "standard bare", "standard jsonp"),
    ("orjson: JSONP vs plain JSON", "orjson bare", "orjson jsonp"),
    ("standard: flask-jsonp vs flask-jsonpify", "standard jsonpify", "standard jsonp"),
    ("flask-jsonp (orjson) vs Express 5 res.jsonp", "express jsonp", "orjson jsonp"),
    (
        "flask-jsonp (orjson) vs Express 5, both closing connections",
        "express jsonp close",
        "orjson jsonp",
    ),
)

#: Targets: JSONP costs at most 2 % of plain JSON, and a worker with the orjson
#: provider serves big JSONP 1.5x as fast as Express 5 (per process).
JSONP_VS_JSON = 0.98
TARGETS = {f"{s}, {name}": JSONP_VS_JSON for name, *_ in COMPARISONS[:2] for s in SIZES}
TARGETS[f"big, {COMPARISONS[3][0]}"] = 1.5

Variant = tuple[str, str]  # size, "server kind [close]"


def _label(variant: str) -> str:
    server, kind, *_ = variant.split()
    return "Express" if server == "express" else kind


@contextmanager
def _servers(with_express: bool) -> Iterator[dict[str, tuple[str, psutil.Process]]]:
    """Start gunicorn for each provider (and Express); yield, by server name, its
    base URL and the process that answers requests.
    """
    running = {}
    with ExitStack() as stack:
        for provider in PROVIDERS:
            port = common.free_port()
            app = f"benchmarks.bench_app:create_app('{provider}')"
            options = ("--workers=1", "--worker-class=sync", "--backlog=2048")
            command = common.gunicorn_command(app, *options, f"--bind=127.0.0.1:{port}")
            base = f"http://127.0.0.1:{port}"
            master = stack.enter_context(common.server(command, f"{base}/bare/small"))
            running[provider] = (base, master.children()[0])
        if with_express:
            modules, port = common.npm_modules(), common.free_port()
            payload_file = modules.parent / "payloads.json"
            payload_file.write_text(json.dumps(payloads()), encoding="utf-8")
            script = common.ROOT / "benchmarks" / "express_server.js"
            command = ["node", str(script), str(port), str(payload_file)]
            env = {**os.environ, "NODE_PATH": str(modules), "NODE_ENV": "production"}
            base = f"http://127.0.0.1:{port}"
            node = common.server(command, f"{base}/jsonp/small", env)
            running["express"] = (base, stack.enter_context(node))
        yield running


def wrk(url: str, seconds: int, process: psutil.Process, close: bool) -> common.Sample:
    """Run wrk against ``url`` served by ``process``: µs per request of the
    process's CPU time and of the wall clock.
    """
    header = ["--header=Connection: close"] if close else []
    cpu = sum(process.cpu_times()[:2])  # user and system
    summary = common.wrk(
        *WRK_OPTIONS, f"--script={WRK_SCRIPT}", *header, url, seconds=seconds
    )
    cpu = sum(process.cpu_times()[:2]) - cpu
    if summary["non_2xx"] or not summary["requests"]:
        raise common.BenchmarkError(f"{url}: {summary}")
    if summary["timeout"] or summary["read"] or summary["connect"]:
        common.log(f"warning: {url}: socket errors {summary}")
    requests = summary["requests"]
    return common.Sample(cpu / requests * 1e6, summary["duration_us"] / requests)


def run(quick: bool = False) -> tuple[list[common.Row], list[str]]:
    """Start the servers and measure every variant in interleaved rounds.

    :return: the comparison rows, and notes on what could not run (Express
        without Node.js and npm).
    """
    if shutil.which("wrk") is None:
        raise common.BenchmarkError("wrk is not installed (apt-get install wrk)")
    with_express = bool(shutil.which("node") and shutil.which("npm"))
    notes = [] if with_express else ["Express was not measured: no Node.js or npm."]
    # One block per size: every variant of its comparisons, Express if it runs.
    variants = dict.fromkeys(v for _, *pair in COMPARISONS for v in pair)
    kept = [v for v in variants if with_express or not v.startswith("express")]
    blocks = [[(size, variant) for variant in kept] for size in SIZES]
    with _servers(with_express) as running:

        def measure(variant: Variant, seconds: int = DURATION[quick]) -> common.Sample:
            size, (server, kind, *close) = variant[0], variant[1].split()
            query = "" if kind == "bare" else f"?callback={CALLBACK}"
            base, process = running[server]
            return wrk(f"{base}/{kind}/{size}{query}", seconds, process, bool(close))

        for variant in (variant for block in blocks for variant in block):
            measure(variant, 1)  # warm-up; wrk fails on any answer but a 2xx
        samples = common.run_rounds(blocks, ROUNDS[quick], measure, "HTTP")
    rows = []
    for size, (name, baseline, candidate) in itertools.product(SIZES, COMPARISONS):
        if (size, baseline) in samples:
            name = f"{size}, {name}"
            found = samples[size, baseline], samples[size, candidate]
            labels = _label(baseline), _label(candidate)
            rows.append(
                common.Row("HTTP", name, labels, found, "µs", TARGETS.get(name))
            )
    return rows, notes
