"""Peak memory of turning a big JSON answer into JSONP.

``python -m benchmarks.memory [--size-mb 50]``: a view has built its JSON
response, ``@jsonp`` wraps it and a WSGI server sends it. The peak that
``tracemalloc`` records meanwhile, over the JSON body's size, must stay within
:data:`MAX_RATIO` and the answer must parse back, or the exit status is 1. The
payload is records with ``<>&`` in HTML snippets, or with ``--payload markup``
one string of nothing but ``<>&``, the worst case.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tracemalloc
from typing import Any
from typing import cast
from typing import NamedTuple

from flask import Flask
from flask import Response
from werkzeug.test import EnvironBuilder

from flask_jsonp import jsonp

#: Wrapping may allocate at most three times the JSON body's size.
MAX_RATIO = 3.0
DEFAULT_SIZE_MB = 50
MB = 1024 * 1024

#: One record of the ``records`` payload, about 1 KB of JSON.
_RECORD_HTML = "<p>" + "lorem ipsum & dolor " * 45 + "</p>"


class MemoryReport(NamedTuple):
    """Bytes of the JSON body and peak allocated; whether the answer parsed back."""

    json_bytes: int
    peak_bytes: int
    answer_ok: bool

    @property
    def ratio(self) -> float:
        return self.peak_bytes / self.json_bytes


def _start_response(*_: Any) -> Any:
    return lambda data: None  # the tests import this module: no psutil here


def build_payload(size_bytes: int, kind: str = "records") -> Any:
    """Return data whose JSON is about ``size_bytes`` long (see the module)."""
    if kind == "markup":
        return ["<>&" * (size_bytes // 3)]
    record = {"id": 0, "title": "Item <0> & co", "html": _RECORD_HTML}
    count = max(1, size_bytes // (len(json.dumps(record)) + 2))
    return [{**record, "id": n, "title": f"Item <{n}> & co"} for n in range(count)]


def measure(
    size_bytes: int, kind: str = "records", returns: str = "response"
) -> MemoryReport:
    """Send one JSONP answer of about ``size_bytes``; measure the peak memory
    allocated meanwhile. The view returns a JSON response built off the
    measurement (``returns="response"``) or the data, serialised within it. The
    body is iterated chunk by chunk, as a server writes it (escaping may be lazy);
    the answer is checked on a second request, off the measurement.
    """
    app = Flask(__name__)
    payload = build_payload(size_bytes, kind)
    with app.app_context():
        responses = [cast(Response, app.json.response(payload)) for _ in range(2)]
    json_bytes = len(responses[0].get_data())
    view = (lambda: responses.pop()) if returns == "response" else (lambda: payload)
    app.add_url_rule("/data", "data", jsonp(view))
    environ = EnvironBuilder("/data", query_string="callback=app.onData").get_environ()
    gc.collect()
    tracemalloc.start()
    try:
        sum(len(chunk) for chunk in app(dict(environ), _start_response))
        peak_bytes = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    answer = b"".join(app(dict(environ), _start_response))
    head, call, rest = answer.partition(b"app.onData(")
    answer_ok = head.startswith(b"/**/") and bool(call) and rest.endswith(b");")
    answer_ok = answer_ok and b"<" not in rest and json.loads(rest[:-2]) == payload
    return MemoryReport(json_bytes, peak_bytes, answer_ok)


def main(argv: list[str] | None = None) -> int:
    """Measure, print the ratio and return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.memory", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--size-mb", type=float, default=DEFAULT_SIZE_MB)
    parser.add_argument("--payload", choices=("records", "markup"), default="records")
    parser.add_argument("--returns", choices=("response", "data"), default="response")
    args = parser.parse_args(argv)
    report = measure(int(args.size_mb * MB), args.payload, args.returns)
    within = report.ratio <= MAX_RATIO
    print(
        f"{args.payload}: JSON body {report.json_bytes / MB:.1f} MB, peak while"
        f" wrapping and sending {report.peak_bytes / MB:.1f} MB = {report.ratio:.2f}x"
        f" (bound {MAX_RATIO:.2f}x: {'ok' if within else 'FAIL'}); the answer"
        f" {'parses' if report.answer_ok else 'does NOT parse'} back"
    )
    return 0 if within and report.answer_ok else 1


if __name__ == "__main__":
    sys.exit(main())
