"""Requests per second over HTTP: gunicorn (one sync worker) and Express 5,
driven by ``wrk`` on loopback.

Each server is one process, started once and kept for the whole run. A variant is
one ``wrk`` run against one URL; the variants compared with each other run back
to back in each round (see :func:`~benchmarks.bench_common.run_rounds`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from .bench_app import CACHE_DIR
from .bench_app import CALLBACK
from .bench_app import write_payload_files
from .bench_common import BenchmarkError
from .bench_common import cpu_seconds
from .bench_common import ensure_npm_packages
from .bench_common import free_port
from .bench_common import log
from .bench_common import paired_row
from .bench_common import require_executable
from .bench_common import Row
from .bench_common import run_rounds
from .bench_common import stop
from .bench_common import Target
from .bench_common import wait_until_serving
from .bench_common import with_cpu_ratio

#: The repository root, where gunicorn imports ``benchmarks.bench_app`` from.
ROOT = Path(__file__).resolve().parent.parent

#: wrk settings: 2 threads, 16 connections (the 2 cores are shared with the
#: server; more connections only lengthen the listen queue of a sync worker).
WRK_THREADS = 2
WRK_CONNECTIONS = 16

#: Seconds per wrk run (full run, quick run); wrk counts whole seconds.
DURATION = (2, 1)

#: Rounds (full run, quick run).
ROUNDS = (9, 2)

#: Seconds of warm-up per variant before the rounds.
WARMUP_SECONDS = 1

#: The promises: JSONP costs at most 2 % of a worker's plain JSON throughput, and
#: a worker with the orjson provider serves big JSONP 1.5x as fast as Express 5.
JSONP_VS_JSON_TARGET = Target(">=", 0.98)
VERSUS_EXPRESS_TARGET = Target(">=", 1.5)

_REQUESTS_PER_SECOND = re.compile(r"Requests/sec:\s+([\d.]+)")
_REQUESTS = re.compile(r"(\d+) requests in ")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
)


#: URL prefix of each kind of answer on the Flask app.
_FLASK_PREFIXES = {
    "json": "/jsonp/",
    "jsonp": "/jsonp/",
    "jsonp-one-write": "/jsonp-one-write/",
    "jsonpify": "/jsonpify/",
}


@dataclass(frozen=True)
class Server:
    """A running server: its URL and the process that answers requests."""

    base_url: str
    pid: int


@dataclass(frozen=True)
class Sample:
    """One wrk run: requests per second (wall clock), and requests per CPU
    second of the process that answered them.
    """

    requests_per_second: float
    requests_per_cpu_second: float


@dataclass(frozen=True)
class HttpVariant:
    """One URL on one server.

    :param server: ``standard`` or ``orjson`` (gunicorn with that JSON provider)
        or ``express``.
    :param kind: ``json``, ``jsonp``, ``jsonp-one-write`` (Flask only) or
        ``jsonpify``.
    """

    server: str
    size: str
    kind: str
    #: Ask with ``Connection: close``, as a sync gunicorn worker always answers.
    close: bool = False

    def path(self) -> str:
        """The URL path and query of this variant."""
        if self.server == "express":
            prefix = "/json/" if self.kind == "json" else "/jsonp/"
        else:
            prefix = _FLASK_PREFIXES[self.kind]
        query = "" if self.kind == "json" else f"?callback={CALLBACK}"
        return f"{prefix}{self.size}{query}"


def _blocks() -> list[list[HttpVariant]]:
    blocks = []
    for size in ("small", "big"):
        blocks.append(
            [
                HttpVariant("standard", size, kind)
                for kind in ("json", "jsonp", "jsonp-one-write", "jsonpify")
            ]
        )
        blocks.append(
            [HttpVariant("orjson", size, kind) for kind in ("json", "jsonp")]
            + [HttpVariant("express", size, kind) for kind in ("json", "jsonp")]
            + [HttpVariant("express", size, "jsonp", close=True)]
        )
    return blocks


def _worker_pid(master_pid: int) -> int:
    """Return the pid of the only worker of a gunicorn master."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    for _ in range(100):
        pids = children.read_text().split()
        if len(pids) == 1:
            return int(pids[0])
        time.sleep(0.1)
    raise BenchmarkError(f"gunicorn {master_pid} has workers {pids}, expected one")


@contextmanager
def _gunicorn(provider: str) -> Iterator[Server]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers=1",
        "--worker-class=sync",
        f"--bind=127.0.0.1:{port}",
        "--backlog=2048",
        "--log-level=warning",
        f"benchmarks.bench_app:create_app('{provider}')",
    ]
    process = subprocess.Popen(command, cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base + "/jsonp/small", process)
        yield Server(base, _worker_pid(process.pid))
    finally:
        stop(process)


@contextmanager
def _express(node: str, node_modules: Path) -> Iterator[Server]:
    port = free_port()
    payload_dir = write_payload_files(CACHE_DIR / "bench-payloads")["small"].parent
    env = {**os.environ, "NODE_PATH": str(node_modules), "NODE_ENV": "production"}
    process = subprocess.Popen(
        [
            node,
            str(ROOT / "benchmarks" / "express_server.js"),
            str(port),
            str(payload_dir),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base + "/json/small", process)
        yield Server(base, process.pid)
    finally:
        stop(process)


def _check(url: str, variant: HttpVariant) -> None:
    """Make sure a URL answers what it should before measuring it."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        body = answer.read()
        content_type = answer.headers.get("Content-Type", "")
    if variant.kind == "json":
        ok = content_type.startswith("application/json") and body[:1] == b"{"
    else:
        ok = "javascript" in content_type and CALLBACK.encode() in body[:200]
    if not ok:
        raise BenchmarkError(f"{url} answered {content_type}: {body[:80]!r}")


def wrk(
    wrk_path: str, url: str, seconds: int, server_pid: int, close: bool = False
) -> Sample:
    """Run wrk against ``url``, served by process ``server_pid``.

    :param close: send ``Connection: close``: one TCP connection per request.

    :raise BenchmarkError: if a response was not 2xx or wrk failed.
    """
    cpu_before = cpu_seconds(server_pid)
    completed = subprocess.run(
        [
            wrk_path,
            f"--threads={WRK_THREADS}",
            f"--connections={WRK_CONNECTIONS}",
            f"--duration={seconds}s",
            "--timeout=10s",
            *(["--header=Connection: close"] if close else []),
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    cpu_used = cpu_seconds(server_pid) - cpu_before
    output = completed.stdout
    found = _REQUESTS_PER_SECOND.search(output)
    requests = _REQUESTS.search(output)
    if completed.returncode != 0 or found is None or requests is None:
        raise BenchmarkError(f"wrk failed on {url}: {completed.stderr or output}")
    non_2xx = _NON_2XX.search(output)
    if non_2xx is not None:
        raise BenchmarkError(f"{url}: {non_2xx[1]} non-2xx answers")
    errors = _SOCKET_ERRORS.search(output)
    if errors is not None and int(errors[4]) > 0:
        log(f"warning: {url}: wrk reports {errors[0]}")
    return Sample(float(found[1]), int(requests[1]) / cpu_used)


def run(quick: bool = False) -> tuple[list[Row], list[str]]:
    """Start the servers, measure every variant in interleaved rounds.

    Express is left out, with a note, when Node.js or npm is missing.

    :return: the comparison rows and notes about what could not run.
    """
    wrk_path = require_executable("wrk")
    notes: list[str] = []
    blocks = _blocks()
    with ExitStack() as servers:
        running = {
            provider: servers.enter_context(_gunicorn(provider))
            for provider in ("standard", "orjson")
        }
        try:
            node = require_executable("node")
            running["express"] = servers.enter_context(
                _express(node, ensure_npm_packages())
            )
        except BenchmarkError as error:
            notes.append(f"Express was not measured: {error}.")
            blocks = [
                [variant for variant in block if variant.server != "express"]
                for block in blocks
            ]
        variants = [variant for block in blocks for variant in block]
        urls = {
            variant: running[variant.server].base_url + variant.path()
            for variant in variants
        }
        pids = {variant: running[variant.server].pid for variant in variants}
        for variant in variants:
            _check(urls[variant], variant)
            wrk(wrk_path, urls[variant], WARMUP_SECONDS, pids[variant], variant.close)
        samples = run_rounds(
            blocks,
            ROUNDS[quick],
            lambda variant: wrk(
                wrk_path, urls[variant], DURATION[quick], pids[variant], variant.close
            ),
            progress="HTTP",
        )
    return _rows(samples), notes


def _rows(samples: dict[HttpVariant, list[Sample]]) -> list[Row]:
    rows = []

    def add(
        name: str,
        labels: tuple[str, str],
        pair: tuple[HttpVariant, HttpVariant],
        ratio_meaning: str,
        target: Target | None = None,
    ) -> None:
        if pair[0] not in samples or pair[1] not in samples:
            return
        baseline, candidate = samples[pair[0]], samples[pair[1]]
        wall_clock, cpu = (
            paired_row(
                "HTTP",
                name,
                labels,
                (
                    [getattr(sample, measure) for sample in baseline],
                    [getattr(sample, measure) for sample in candidate],
                ),
                "req/s",
                ratio_meaning,
                higher_is_better=True,
                target=target,
            )
            for measure in ("requests_per_second", "requests_per_cpu_second")
        )
        rows.append(with_cpu_ratio(wall_clock, cpu))

    for size in ("small", "big"):
        for provider in ("standard", "orjson"):
            add(
                f"{size}, {provider} provider: JSONP vs JSON, same view",
                ("JSON", "JSONP"),
                (
                    HttpVariant(provider, size, "json"),
                    HttpVariant(provider, size, "jsonp"),
                ),
                "JSONP ÷ JSON req/s",
                JSONP_VS_JSON_TARGET,
            )
        add(
            f"{size}: flask-jsonp (orjson) vs Express 5 res.jsonp",
            ("Express", "flask-jsonp"),
            (
                HttpVariant("express", size, "jsonp"),
                HttpVariant("orjson", size, "jsonp"),
            ),
            "flask-jsonp ÷ Express req/s",
            VERSUS_EXPRESS_TARGET if size == "big" else None,
        )
        add(
            f"{size}: flask-jsonp (orjson) vs Express 5 res.jsonp, both closing"
            " connections",
            ("Express", "flask-jsonp"),
            (
                HttpVariant("express", size, "jsonp", close=True),
                HttpVariant("orjson", size, "jsonp"),
            ),
            "flask-jsonp ÷ Express req/s",
        )
        add(
            f"{size}: Express 5 res.jsonp vs res.json (reference)",
            ("res.json", "res.jsonp"),
            (
                HttpVariant("express", size, "json"),
                HttpVariant("express", size, "jsonp"),
            ),
            "res.jsonp ÷ res.json req/s",
        )
        if size == "big":
            # Small answers are already one chunk; big ones are three, so the
            # JSON is not copied to join them. This says what that costs.
            add(
                f"{size}, standard provider: JSONP body in one write vs three"
                " (diagnostic)",
                ("3 writes", "1 write"),
                (
                    HttpVariant("standard", size, "jsonp"),
                    HttpVariant("standard", size, "jsonp-one-write"),
                ),
                "1 write ÷ 3 writes req/s",
            )
        add(
            f"{size}, standard provider: flask-jsonp vs flask-jsonpify",
            ("jsonpify", "flask-jsonp"),
            (
                HttpVariant("standard", size, "jsonpify"),
                HttpVariant("standard", size, "jsonp"),
            ),
            "flask-jsonp ÷ jsonpify req/s",
        )
    return rows
