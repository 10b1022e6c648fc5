"""Soak flask-jsonp under gunicorn with wrk: ``python -m benchmarks.soak``.

gunicorn (2 workers) serves :mod:`benchmarks.soak_app`; wrk sends it the mix of
``benchmarks/soak.lua`` (JSONP through every door, plain JSON, hostile callbacks,
POST, enveloped errors, referrers) for ``--duration`` seconds, and a thread sends
HEAD requests, which wrk cannot read. The run prints statuses by kind and fails
(exit status 1) on an unexpected status, a kind of request never answered with
its expected status, a 5xx, a bad body, a socket error, a replaced worker, RSS
growth (read after a warm-up with the same mix) of ``--max-rss-growth-mb`` or
more, or a page label of ``flask_jsonp.prometheus`` outside the allowlist's entries,
``other`` and ``none``, though the mix sends pages never seen before. Exit
status 2: wrk or gunicorn is missing.

``tests/test_soak.py`` runs it for a few seconds in ``make test``, so that the mix
keeps up with what the package answers.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import shutil
import sys
import threading
import time
import urllib.request
from collections import Counter
from importlib.metadata import version

import psutil
from prometheus_client.parser import text_string_to_metric_families

from . import common
from .soak_app import ALLOWED_REFERRERS

APP = "benchmarks.soak_app:app"
LUA_SCRIPT = common.ROOT / "benchmarks" / "soak.lua"

#: What the HEAD client asks for; it must get the GET answer's headers, no body.
HEAD_PATH = "/api/items?callback=app.callbacks.onItems"
HEAD_HEADERS = ("Content-Type", "Content-Length", "X-Content-Type-Options")

MB = 1024 * 1024

#: The page labels ``flask_jsonp.prometheus`` may use, however many pages ask.
METRIC_PAGES = {*ALLOWED_REFERRERS, "other", "none"}


def send_heads(port: int, stopping: threading.Event, tally: Counter[str]) -> None:
    """Send HEAD requests on one keep-alive connection until ``stopping`` is set;
    count statuses as ``head 200`` and answers unlike the GET answer as ``bad``.
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", HEAD_PATH)
        get = connection.getresponse()
        expected = [get.getheader(name) for name in HEAD_HEADERS]
        tally["bad"] += not get.read().startswith(b"/**/")
        while not stopping.is_set():
            connection.request("HEAD", HEAD_PATH)
            response = connection.getresponse()
            tally[f"head {response.status}"] += 1
            got = [response.getheader(name) for name in HEAD_HEADERS]
            tally["bad"] += bool(response.read()) or got != expected
    except (OSError, http.client.HTTPException) as error:
        print(f"soak: the HEAD client failed: {error!r}", file=sys.stderr)
        tally["bad"] += 1
    finally:
        connection.close()


def metric_pages(port: int) -> tuple[set[str], float]:
    """Read ``/metrics`` from one worker: the page labels of the
    ``JsonpMetrics`` counters, and how many requests they counted.
    """
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    pages, counted = set(), 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in ("jsonp_answers_total", "jsonp_refusals_total"):
                pages.add(sample.labels["page"])
                counted += sample.value
    return pages, counted


def main(argv: list[str] | None = None) -> int:
    """Run the soak, print the table and return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0]
    )
    add = parser.add_argument
    add("--duration", type=int, default=30, help="seconds (30)")
    add("--warmup", type=int, default=5, help="seconds before reading RSS (5)")
    add("--workers", type=int, default=2, help="gunicorn workers (2)")
    classes = ["gthread", "sync"]  # gthread: 4 threads, keep-alive; sync closes
    add("--worker-class", default="gthread", choices=classes, help="(gthread)")
    add("--threads", type=int, default=2, help="wrk threads (2)")
    add("--connections", type=int, default=16, help="wrk connections (16)")
    add("--max-rss-growth-mb", type=float, default=10.0, help="per worker (10)")
    args = parser.parse_args(argv)
    if not shutil.which("wrk") or not importlib.util.find_spec("gunicorn"):
        print("soak: wrk or gunicorn is not installed", file=sys.stderr)
        return 2
    port = common.free_port()
    options = [f"--workers={args.workers}", f"--worker-class={args.worker_class}"]
    options += ["--threads=4"] if args.worker_class == "gthread" else []
    command = common.gunicorn_command(APP, *options, f"--bind=127.0.0.1:{port}")
    # A generous timeout: a busy machine is not a stuck server.
    load = [f"-t{args.threads}", f"-c{args.connections}", "--timeout=10s"]
    load += [f"--script={LUA_SCRIPT}", f"http://127.0.0.1:{port}"]
    try:
        with common.server(command, f"http://127.0.0.1:{port}/api/items") as master:
            for _ in range(100):  # the first worker answered; wait for the others
                if len(master.children()) < args.workers:
                    time.sleep(0.1)
            if args.warmup > 0:
                common.wrk(*load, seconds=args.warmup)
            rss_before = {w.pid: w.memory_info().rss for w in master.children()}
            stopping, heads = threading.Event(), Counter[str]()
            head_client = threading.Thread(
                target=send_heads, args=(port, stopping, heads)
            )
            head_client.start()
            try:
                found = common.wrk(*load, seconds=args.duration)
            finally:
                stopping.set()
                head_client.join(15)
            rss_after = {w.pid: w.memory_info().rss for w in master.children()}
            pages, counted = metric_pages(port)
    except (common.BenchmarkError, OSError, psutil.Error) as error:
        print(f"soak: {error}", file=sys.stderr)
        return 1

    bad = Counter[str](found["bad"]) + Counter({"head": heads.pop("bad", 0)})
    statuses, expected = Counter[str](found["statuses"]) + heads, {*found["expected"]}
    expected.add("head 200")
    print(
        f"flask-jsonp soak: {args.duration} s of wrk and a HEAD client against"
        f" gunicorn {version('gunicorn')} ({args.workers} {args.worker_class} workers):"
    )
    by_kind: dict[str, Counter[str]] = {key.split()[0]: Counter() for key in expected}
    for key, count in statuses.items():
        kind, status = key.split()
        by_kind.setdefault(kind, Counter())[status] += count
    print(f"{'kind':<17} {'requests':>8}  {'statuses':<24} {'expected':<9} bad")
    for kind, counts in sorted(by_kind.items()):
        wanted = ",".join(
            k.split()[1] for k in sorted(expected) if k.split()[0] == kind
        )
        got = ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))
        print(f"{kind:<17} {counts.total():>8}  {got:<24} {wanted:<9} {bad[kind]}")
    seconds = found["duration_us"] / 1e6
    print(
        f"\n{statuses.total()} requests, {statuses.total() / seconds:.0f}/s over"
        f" {seconds:.1f} s; wrk p99 latency {found['p99_us'] / 1000:.1f} ms\n"
    )
    for pid, before in rss_before.items():
        after = rss_after.get(pid, 0)
        print(f"worker {pid}: RSS {before / MB:.1f} MB -> {after / MB:.1f} MB")
    growth = max((rss_after.get(pid, 0) - rss) / MB for pid, rss in rss_before.items())
    limit = args.max_rss_growth_mb
    unexpected = sum(n for key, n in statuses.items() if key not in expected)
    unanswered = sorted(key for key in expected if not statuses[key])
    server_errors = sum(n for key, n in statuses.items() if int(key.split()[1]) >= 500)
    bounds = {
        "requests > 0": statuses.total() > 0,
        f"every kind answered ({', '.join(unanswered) or 'yes'})": not unanswered,
        f"unexpected statuses = 0 ({unexpected})": unexpected == 0,
        f"5xx = 0 ({server_errors})": server_errors == 0,
        f"bad bodies = 0 ({bad.total()})": bad.total() == 0,
        "socket errors = 0": not any(
            found[e] for e in ("connect", "read", "write", "timeout")
        ),
        "no worker replaced": set(rss_before) == set(rss_after),
        f"metric pages bounded ({len(pages)} values)": counted > 0
        and pages <= METRIC_PAGES,
        f"RSS growth < {limit:g} MB ({growth:+.1f} MB)": growth < limit,
    }
    print("\nbounds:")
    for bound, ok in bounds.items():
        print(f"  {bound:<36} {'ok' if ok else 'FAIL'}")
    passed = all(bounds.values())
    print("\nPASS" if passed else "\nFAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
