"""200 parallel JSONP requests in Chromium: the bundled loader vs fetch-jsonp.

A page on ``http://localhost:PORT`` asks the API on ``http://127.0.0.1:PORT``
(another origin) 200 times at once. A sample is the time the page's main thread
was busy meanwhile (DevTools' ``TaskDuration``: the libraries' own cost) and the
wall clock until all answers arrived; gunicorn has one threaded worker.
"""

from __future__ import annotations

import os

from tests.tools import CHROMIUM_ARGS
from tests.tools import CHROMIUM_PATH

from . import common

#: Requests started at once in one sample, and the API path they ask.
PARALLEL_REQUESTS = 200
API_PATH = "/jsonp/small"

#: Rounds (full run, quick run), after untimed warm-up rounds.
ROUNDS = (21, 3)
WARMUP_ROUNDS = 3

#: The promise: the loader is no slower than fetch-jsonp.
VERSUS_FETCH_JSONP = 1.0


def run(quick: bool = False) -> tuple[list[common.Row], str]:
    """Time both libraries in interleaved rounds.

    :return: the comparison row and Chromium's version.
    :raise BenchmarkError: when Chromium, Playwright or npm is missing.
    """
    if not os.access(CHROMIUM_PATH, os.X_OK):
        raise common.BenchmarkError(f"Chromium not found at {CHROMIUM_PATH}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise common.BenchmarkError("Playwright for Python is not installed") from error
    common.npm_modules()
    port = common.free_port()
    # 8 threads: more than Chromium's 6 connections per host.
    options = ("--worker-class=gthread", "--threads=8", f"--bind=127.0.0.1:{port}")
    command = common.gunicorn_command("benchmarks.bench_app:create_app()", *options)
    ready = f"http://127.0.0.1:{port}/bench/fetch-jsonp.js"
    with common.server(command, ready), sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.goto(f"http://localhost:{port}/bench/page")
            devtools = page.context.new_cdp_session(page)
            devtools.send("Performance.enable")

            def busy_ms() -> float:
                metrics = devtools.send("Performance.getMetrics")["metrics"]
                busy = next(m for m in metrics if m["name"] == "TaskDuration")
                return float(busy["value"]) * 1e3

            def measure(library: str) -> common.Sample:
                before = busy_ms()
                elapsed: float = page.evaluate(
                    "([library, count, path]) => run(library, count, path)",
                    [library, PARALLEL_REQUESTS, API_PATH],
                )
                return common.Sample(busy_ms() - before, elapsed)

            for library in ["loader", "fetch-jsonp"] * WARMUP_ROUNDS:
                measure(library)
            libraries = ("fetch-jsonp", "loader")
            samples = common.run_rounds([libraries], ROUNDS[quick], measure, "browser")
            version = browser.version
        finally:
            browser.close()
    name = f"{PARALLEL_REQUESTS} parallel requests, Chromium: loader vs fetch-jsonp"
    pair = samples["fetch-jsonp"], samples["loader"]
    row = common.Row("browser", name, libraries, pair, "ms", VERSUS_FETCH_JSONP)
    return [row], version
