"""Soak flask-jsonp under gunicorn with wrk: ``python -m benchmarks.soak``.

Starts gunicorn (2 workers) on a free loopback port serving
:mod:`benchmarks.soak_app`, drives it with wrk for ``--duration`` seconds with the
request mix of ``benchmarks/soak.lua`` (valid JSONP through every door, plain
JSON, hostile callbacks, POST with a callback, enveloped errors, referrer
allowlist) while a Python client sends HEAD requests (which wrk cannot read), and
prints a table: requests and statuses by kind, unexpected statuses, 5xx, bodies
that do not look right, socket errors, and each worker's RSS before and after.

The run fails (exit status 1) if any unexpected status, 5xx, bad body or socket
error is seen, if a worker was replaced, or if a worker's RSS grew by
``--max-rss-growth-mb`` or more. RSS "before" is read after a short warm-up with
the same mix, so that first-request caches are not counted as growth. gunicorn
is stopped on every path. Exit status 2: wrk or gunicorn is missing.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import suppress
from dataclasses import dataclass
from dataclasses import field
from importlib.metadata import version
from pathlib import Path
from types import FrameType

#: The repository root: gunicorn imports ``benchmarks.soak_app`` from there.
ROOT = Path(__file__).resolve().parent.parent
LUA_SCRIPT = Path(__file__).resolve().with_name("soak.lua")
APP = "benchmarks.soak_app:app"

#: Seconds to wait for gunicorn to answer, and then to stop.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

#: wrk's own per-request timeout: generous, so a busy machine is not mistaken
#: for a stuck server.
WRK_TIMEOUT = "10s"

#: What the HEAD client asks for, and what it must get.
HEAD_PATH = "/api/items?callback=app.callbacks.onItems"
HEAD_KIND = "head"

MB = 1024 * 1024


@dataclass
class Tally:
    """Statuses, expected statuses and bad bodies, by kind of request."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    expected: set[tuple[str, int]] = field(default_factory=set)
    bad: Counter[str] = field(default_factory=Counter)
    summary: dict[str, int] = field(default_factory=dict)

    @property
    def kinds(self) -> list[str]:
        return sorted(
            {kind for kind, _ in self.statuses} | {k for k, _ in self.expected}
        )

    def requests(self, kind: str | None = None) -> int:
        return sum(
            count
            for (counted_kind, _), count in self.statuses.items()
            if kind is None or counted_kind == kind
        )

    def unexpected(self, kind: str | None = None) -> int:
        return sum(
            count
            for key, count in self.statuses.items()
            if key not in self.expected and (kind is None or key[0] == kind)
        )

    def server_errors(self) -> int:
        return sum(
            count for (_, status), count in self.statuses.items() if status >= 500
        )


# -- Processes ----------------------------------------------------------------


def _fail_missing(what: str, hint: str) -> None:
    print(f"soak: {what} is not installed ({hint})", file=sys.stderr)
    raise SystemExit(2)


def _gunicorn_args(listener_fd: int, workers: int, worker_class: str) -> list[str]:
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"fd://{listener_fd}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--chdir",
        str(ROOT),
        "--log-level",
        "warning",
    ]
    if worker_class == "gthread":
        args += ["--threads", "4"]
    help_text = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--help"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    if "--no-control-socket" in help_text:
        # gunicorn >= 25 opens a control socket in ~/.gunicorn; a soak needs none.
        args.append("--no-control-socket")
    return [*args, APP]


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after it.
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == pid:
            children.append(int(entry.name))
    return sorted(children)


def rss_bytes(pid: int) -> int:
    """The resident set size of ``pid``, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _get(
    port: int, path: str, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@contextmanager
def gunicorn(workers: int, worker_class: str, log: Path) -> Iterator[tuple[int, int]]:
    """Run gunicorn on a free loopback port; yield ``(port, master pid)``.

    The listening socket is bound here and handed over as a file descriptor, so
    no other process can take the port in between. gunicorn runs in its own
    session and is stopped, whatever happens, on leaving the block.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    port = listener.getsockname()[1]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            _gunicorn_args(listener.fileno(), workers, worker_class),
            pass_fds=[listener.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
    listener.close()
    try:
        _wait_until_ready(process, port, workers)
        yield port, process.pid
    finally:
        _stop(process)


def _wait_until_ready(
    process: subprocess.Popen[bytes], port: int, workers: int
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            status, _, _ = _get(port, "/api/items")
        except OSError:
            status = 0
        if status == 200 and len(_children(process.pid)) == workers:
            return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            # Its own session: the group holds gunicorn and its workers only.
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT)


# -- Load ---------------------------------------------------------------------


def run_wrk(
    wrk: str, port: int, seconds: int, threads: int, connections: int
) -> tuple[str, Tally]:
    """Run wrk with the soak mix; return its output and the parsed tally."""
    command = [
        wrk,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        f"--timeout={WRK_TIMEOUT}",
        f"--script={LUA_SCRIPT}",
        f"http://127.0.0.1:{port}",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output, _ = process.communicate(timeout=seconds + 30)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"wrk did not finish within {seconds + 30} s") from error
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed with status {process.returncode}:\n{output}")
    return output, parse_wrk_output(output)


def parse_wrk_output(output: str) -> Tally:
    """Read the ``soak`` lines that soak.lua's ``done`` prints."""
    tally = Tally()
    for line in output.splitlines():
        fields = line.split("\t")
        if fields[0] != "soak":
            continue
        if fields[1] == "status":
            tally.statuses[fields[2], int(fields[3])] += int(fields[4])
        elif fields[1] == "expect":
            tally.expected.add((fields[2], int(fields[3])))
        elif fields[1] == "bad":
            tally.bad[fields[2]] += int(fields[3])
        elif fields[1] == "summary":
            tally.summary[fields[2]] = int(float(fields[3]))
    return tally


class HeadClient(threading.Thread):
    """Send HEAD requests on one keep-alive connection until stopped, and check
    that each answer has the GET answer's headers and no body.
    """

    def __init__(self, port: int) -> None:
        super().__init__(name="soak-head-client", daemon=True)
        self.port = port
        self.tally = Tally(expected={(HEAD_KIND, 200)})
        self.stopping = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as error:  # reported in the table, not lost
            self.failure = error

    def _run(self) -> None:
        _, get_headers, get_body = _get(self.port, HEAD_PATH)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"X-Soak-Kind": HEAD_KIND}
        try:
            while not self.stopping.is_set():
                connection.request("HEAD", HEAD_PATH, headers=headers)
                response = connection.getresponse()
                body = response.read()
                kind = response.getheader("X-Soak-Kind", "unknown")
                self.tally.statuses[kind, response.status] += 1
                same_headers = all(
                    response.getheader(name) == get_headers.get(name)
                    for name in (
                        "Content-Type",
                        "Content-Length",
                        "X-Content-Type-Options",
                    )
                )
                if body or not same_headers or not get_body.startswith(b"/**/"):
                    self.tally.bad[kind] += 1
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
        finally:
            connection.close()


# -- Report -------------------------------------------------------------------


@dataclass
class Bound:
    name: str
    value: float
    limit: str
    ok: bool
    unit: str = ""


def _statuses_text(tally: Tally, kind: str) -> str:
    counts = sorted(
        (status, count)
        for (counted_kind, status), count in tally.statuses.items()
        if counted_kind == kind
    )
    return ", ".join(f"{status}: {count}" for status, count in counts) or "-"


def _expected_text(tally: Tally, kind: str) -> str:
    return ",".join(str(s) for k, s in sorted(tally.expected) if k == kind) or "-"


def format_report(
    tally: Tally,
    rss_before: dict[int, int],
    rss_after: dict[int, int],
    bounds: list[Bound],
    header: str,
) -> str:
    """The table printed at the end of a soak."""
    lines = [header, ""]
    row = "{:<18} {:>9}  {:<24} {:<9} {:>10} {:>10}"
    lines.append(
        row.format(
            "kind", "requests", "statuses", "expected", "unexpected", "bad bodies"
        )
    )
    for kind in tally.kinds:
        lines.append(
            row.format(
                kind,
                tally.requests(kind),
                _statuses_text(tally, kind),
                _expected_text(tally, kind),
                tally.unexpected(kind),
                tally.bad[kind],
            )
        )
    lines.append(
        row.format(
            "all",
            tally.requests(),
            "",
            "",
            tally.unexpected(),
            sum(tally.bad.values()),
        )
    )
    seconds = tally.summary.get("duration_us", 0) / 1e6
    rate = tally.requests() / seconds if seconds else 0.0
    lines += [
        "",
        f"throughput: {rate:.0f} requests/s over {seconds:.1f} s;"
        f" wrk p99 latency {tally.summary.get('latency_p99_us', 0) / 1000:.1f} ms",
        "socket errors: "
        + ", ".join(
            f"{name} {tally.summary.get(name, 0)}"
            for name in ("connect", "read", "write", "timeout")
        ),
        f"5xx: {tally.server_errors()}",
        "",
        "{:<10} {:>12} {:>12} {:>10}".format(
            "worker", "RSS before", "RSS after", "growth"
        ),
    ]
    for pid in sorted(rss_before):
        before, after = rss_before[pid], rss_after.get(pid, 0)
        lines.append(
            f"{pid:<10} {before / MB:9.1f} MB {after / MB:9.1f} MB"
            f" {(after - before) / MB:+7.1f} MB"
        )
    lines += ["", "bounds:"]
    for bound in bounds:
        value = f"{bound.value:g}{bound.unit}"
        lines.append(
            f"  {bound.name:<22} {value:>10}   {bound.limit:<16} "
            + ("ok" if bound.ok else "FAIL")
        )
    lines += ["", "PASS" if all(bound.ok for bound in bounds) else "FAIL"]
    return "\n".join(lines)


def check_bounds(
    tally: Tally,
    rss_before: dict[int, int],
    rss_after: dict[int, int],
    workers_after: list[int],
    max_growth_mb: float,
) -> list[Bound]:
    socket_errors = sum(
        tally.summary.get(name, 0) for name in ("connect", "read", "write", "timeout")
    )
    growth_mb = max(
        (rss_after.get(pid, 0) - before) / MB for pid, before in rss_before.items()
    )
    replaced = len(set(rss_before) ^ set(workers_after))
    return [
        Bound("requests", tally.requests(), "> 0", tally.requests() > 0),
        Bound(
            "unexpected statuses",
            tally.unexpected(),
            "must be 0",
            tally.unexpected() == 0,
        ),
        Bound("5xx", tally.server_errors(), "must be 0", tally.server_errors() == 0),
        Bound(
            "bad bodies", sum(tally.bad.values()), "must be 0", not tally.bad.total()
        ),
        Bound("socket errors", socket_errors, "must be 0", socket_errors == 0),
        Bound("workers replaced", replaced, "must be 0", replaced == 0),
        Bound(
            "RSS growth (max)",
            round(growth_mb, 1),
            f"< {max_growth_mb:g} MB",
            growth_mb < max_growth_mb,
            " MB",
        ),
    ]


# -- Main ---------------------------------------------------------------------


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the soak, print the table and return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--duration", type=int, default=30, help="seconds (30)")
    parser.add_argument(
        "--warmup", type=int, default=5, help="seconds of warm-up before RSS (5)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--worker-class",
        default="gthread",
        choices=["gthread", "sync"],
        help=(
            "gthread (default, 4 threads) keeps connections alive; sync closes"
            " each one after its answer"
        ),
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument(
        "--max-rss-growth-mb", type=float, default=10.0, help="per worker (10)"
    )
    args = parser.parse_args(argv)

    wrk = shutil.which("wrk")
    if wrk is None:
        _fail_missing("wrk", "apt-get install wrk")
    if importlib.util.find_spec("gunicorn") is None:
        _fail_missing("gunicorn", "pip install gunicorn, or pip install -e '.[bench]'")
    assert wrk is not None
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)

    with tempfile.TemporaryDirectory(prefix="flask-jsonp-soak-") as scratch:
        log = Path(scratch) / "gunicorn.log"
        try:
            with gunicorn(args.workers, args.worker_class, log) as (port, master):
                if args.warmup > 0:
                    run_wrk(wrk, port, args.warmup, args.threads, args.connections)
                workers = _children(master)
                rss_before = {pid: rss_bytes(pid) for pid in workers}
                head_client = HeadClient(port)
                head_client.start()
                try:
                    output, tally = run_wrk(
                        wrk, port, args.duration, args.threads, args.connections
                    )
                finally:
                    head_client.stopping.set()
                    head_client.join(15)
                workers_after = _children(master)
                rss_after = {
                    pid: rss_bytes(pid) for pid in workers if pid in workers_after
                }
        except (RuntimeError, OSError) as error:
            print(f"soak: {error}", file=sys.stderr)
            print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("soak: interrupted; gunicorn stopped", file=sys.stderr)
            return 130
        gunicorn_log = log.read_text(errors="replace")

    if head_client.failure is not None:
        print(f"soak: the HEAD client failed: {head_client.failure!r}", file=sys.stderr)
        head_client.tally.bad[HEAD_KIND] += 1
    tally.statuses.update(head_client.tally.statuses)
    tally.expected |= head_client.tally.expected
    tally.bad.update(head_client.tally.bad)

    bounds = check_bounds(
        tally, rss_before, rss_after, workers_after, args.max_rss_growth_mb
    )
    header = (
        f"flask-jsonp soak: {args.duration} s of wrk ({args.threads} threads,"
        f" {args.connections} connections) and one HEAD client, after"
        f" {args.warmup} s of warm-up,\nagainst gunicorn {version('gunicorn')}"
        f" ({args.workers} {args.worker_class} workers) serving {APP} on"
        f" http://127.0.0.1:{port}"
    )
    print(format_report(tally, rss_before, rss_after, bounds, header))
    if not all(bound.ok for bound in bounds):
        print("\nwrk output:\n" + output, file=sys.stderr)
        print("gunicorn log (end):\n" + gunicorn_log[-4000:], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
