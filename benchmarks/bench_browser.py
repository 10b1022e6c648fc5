"""200 parallel JSONP requests in Chromium: the bundled loader vs fetch-jsonp.

One page, served on ``http://localhost:PORT``, loads both libraries and asks the
same API on ``http://127.0.0.1:PORT`` (another origin, as in production) 200 times
at once; the time until all 200 promises are resolved is one sample. The server is
gunicorn with one threaded worker, so Chromium's keep-alive connections are used.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# Debian's Chromium and its flags, as the browser tests launch it.
from tests.tools import CHROMIUM_ARGS
from tests.tools import CHROMIUM_PATH

from .bench_app import NPM_DIR_VARIABLE
from .bench_common import BenchmarkError
from .bench_common import ensure_npm_packages
from .bench_common import free_port
from .bench_common import log
from .bench_common import NPM_DIR
from .bench_common import paired_row
from .bench_common import Row
from .bench_common import run_rounds
from .bench_common import stop
from .bench_common import Target
from .bench_common import wait_until_serving
from .bench_common import with_cpu_ratio
from .bench_http import ROOT

#: Requests started at once in one sample.
PARALLEL_REQUESTS = 200

#: Rounds (full run, quick run); each round times both libraries once.
ROUNDS = (31, 4)

#: Untimed samples of each library first (JIT, connections, caches).
WARMUP_ROUNDS = 3

#: The promise: the loader is no slower than fetch-jsonp.
VERSUS_FETCH_JSONP_TARGET = Target(">=", 1.0)

#: The API path asked, with the small payload.
API_PATH = "/jsonp/small"

#: Gunicorn threads of the one worker: more than Chromium's 6 connections per host.
SERVER_THREADS = 8


@dataclass(frozen=True)
class Sample:
    """One sample: the time until all answers arrived, and the time the page's
    main thread was busy meanwhile (DevTools' ``TaskDuration``): the
    libraries' own cost, whatever the server and other load do.
    """

    elapsed_ms: float
    busy_ms: float


@contextmanager
def _server() -> Iterator[int]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers=1",
        "--worker-class=gthread",
        f"--threads={SERVER_THREADS}",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
        "benchmarks.bench_app:create_app('standard')",
    ]
    env = {**os.environ, NPM_DIR_VARIABLE: str(NPM_DIR)}
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/bench/fetch-jsonp.js", process)
        yield port
    finally:
        stop(process)


def run(quick: bool = False) -> tuple[list[Row], dict[str, str]]:
    """Time both libraries in interleaved rounds.

    :return: the comparison row and the versions of Chromium and fetch-jsonp.
    :raise BenchmarkError: when Chromium, Playwright or npm is missing.
    """
    if not os.access(CHROMIUM_PATH, os.X_OK):
        raise BenchmarkError(f"Chromium not found at {CHROMIUM_PATH}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise BenchmarkError("Playwright for Python is not installed") from error
    ensure_npm_packages()
    versions = {}
    with _server() as port, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS
        )
        versions["Chromium"] = browser.version
        try:
            page = browser.new_page()
            page.goto(f"http://localhost:{port}/bench/page")
            devtools = page.context.new_cdp_session(page)
            devtools.send("Performance.enable")

            def busy_seconds() -> float:
                metrics = devtools.send("Performance.getMetrics")["metrics"]
                return float(
                    next(m["value"] for m in metrics if m["name"] == "TaskDuration")
                )

            def measure(library: str) -> Sample:
                busy = busy_seconds()
                elapsed: float = page.evaluate(
                    "([library, count, path]) => run(library, count, path)",
                    [library, PARALLEL_REQUESTS, API_PATH],
                )
                return Sample(elapsed, (busy_seconds() - busy) * 1e3)

            for _ in range(WARMUP_ROUNDS):
                measure("loader")
                measure("fetch-jsonp")
            log(f"browser: Chromium {browser.version}")
            values = run_rounds(
                [["loader", "fetch-jsonp"]],
                ROUNDS[quick],
                measure,
                progress="browser",
            )
        finally:
            browser.close()
    wall_clock, busy = (
        paired_row(
            "browser",
            f"{PARALLEL_REQUESTS} parallel requests, Chromium: loader vs fetch-jsonp",
            ("fetch-jsonp", "loader"),
            (
                [getattr(sample, measure) for sample in values["fetch-jsonp"]],
                [getattr(sample, measure) for sample in values["loader"]],
            ),
            "ms",
            "fetch-jsonp time ÷ loader time",
            higher_is_better=False,
            target=VERSUS_FETCH_JSONP_TARGET,
        )
        for measure in ("elapsed_ms", "busy_ms")
    )
    return [with_cpu_ratio(wall_clock, busy)], versions
