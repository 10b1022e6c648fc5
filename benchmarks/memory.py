"""Peak memory of turning a big JSON answer into JSONP.

Run as ``python -m benchmarks.memory`` (50 MB) or ``--size-mb N``. A view has
already built its JSON body; the question is how much *more* memory
:func:`flask_jsonp.wrapping.wrap_response` needs to wrap it. ``tracemalloc`` records
every allocation made during the call; the peak, divided by the size of the
JSON body, is the ratio printed. The run fails (exit status 1) above
:data:`MAX_RATIO`, or if the wrapped answer no longer parses back to the data.

The default payload is a list of records holding ``<``, ``>`` and ``&`` (HTML
snippets), so the escaping step has to copy the body; a body without them is not
copied at all. ``--payload markup`` wraps one string made of nothing but ``<>&``,
the worst case: every character grows to six bytes, which is why the escaping is
done slice by slice as the answer is sent.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tracemalloc
from dataclasses import dataclass
from typing import Any
from typing import cast

from flask import Flask
from flask import Response

from flask_jsonp.wrapping import APP_LAYERS
from flask_jsonp.wrapping import plan_for
from flask_jsonp.wrapping import wrap_response

#: The bound: wrapping may use at most three times the JSON body's size on top
#: of the body itself.
MAX_RATIO = 3.0

#: Size of the payload ``python -m benchmarks.memory`` wraps by default.
DEFAULT_SIZE_MB = 50

#: The payloads ``--payload`` can choose.
PAYLOADS = ("records", "markup")

#: One record of the ``records`` payload, about 1 KB of JSON once serialised.
_RECORD_TEXT = "<p>" + "lorem ipsum & dolor " * 45 + "</p>"

MB = 1024 * 1024

#: The callback of the measured answer.
CALLBACK = "app.onData"


@dataclass(frozen=True)
class MemoryReport:
    """What one measurement found."""

    #: Size of the view's JSON body, in bytes.
    json_bytes: int
    #: Highest amount of memory allocated during :func:`wrap_response` and not yet
    #: freed, in bytes.
    peak_bytes: int
    #: Whether the wrapped answer parses back to the payload.
    answer_ok: bool

    @property
    def ratio(self) -> float:
        """Peak extra memory relative to the JSON body."""
        return self.peak_bytes / self.json_bytes


def build_payload(size_bytes: int, kind: str = "records") -> Any:
    """Return data whose JSON is about ``size_bytes`` long.

    :param kind: ``"records"``, a list of records with some markup in each, or
        ``"markup"``, a list of one string made only of ``<>&``.
    """
    if kind == "markup":
        return ["<>&" * (size_bytes // 3)]
    record_bytes = len(json.dumps({"id": 0, "title": "", "html": _RECORD_TEXT}))
    count = max(1, size_bytes // (record_bytes + 24))
    return [
        {"id": number, "title": f"Item <{number}> & co", "html": _RECORD_TEXT}
        for number in range(count)
    ]


def measure(size_bytes: int, kind: str = "records") -> MemoryReport:
    """Wrap a JSON answer of about ``size_bytes`` as JSONP and measure the peak
    memory that :func:`wrap_response` and sending the answer allocate.

    The answer is consumed chunk by chunk inside the measurement, as a WSGI
    server writes it, since a body that needs escaping is escaped while it is
    sent. The answer is checked on a second wrap, outside the measurement.

    :param size_bytes: approximate size of the JSON body.
    :param kind: the payload, as for :func:`build_payload`.
    """
    app = Flask(__name__)
    payload = build_payload(size_bytes, kind)
    with app.test_request_context(f"/data?callback={CALLBACK}"):
        plan = plan_for(app, APP_LAYERS)
        response = cast(Response, app.json.response(payload))
        json_bytes = len(response.get_data())
        gc.collect()
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            wrap_response(app, plan, CALLBACK, response)
            sent = sum(len(chunk) for chunk in response.response)
            _, peak_bytes = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        answer_ok = sent == response.content_length
        response = wrap_response(
            app, plan, CALLBACK, cast(Response, app.json.response(payload))
        )
        answer_ok = answer_ok and _answer_is_correct(response.get_data(), payload)
    return MemoryReport(json_bytes, peak_bytes, answer_ok)


def _answer_is_correct(answer: bytes, payload: Any) -> bool:
    """The answer is the guarded call, the escaped JSON, and ``);``, and the
    JSON parses back to the payload.
    """
    prefix, call, rest = answer.partition(b"app.onData(")
    escaped_json, suffix = rest[: -len(b");")], rest[-len(b");") :]
    return (
        prefix.startswith(b"/**/")
        and bool(call)
        and suffix == b");"
        and b"<" not in escaped_json
        and json.loads(escaped_json) == payload
    )


def main(argv: list[str] | None = None) -> int:
    """Measure, print the ratio and return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.memory", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--size-mb",
        type=float,
        default=DEFAULT_SIZE_MB,
        help=f"size of the JSON body (default {DEFAULT_SIZE_MB})",
    )
    parser.add_argument(
        "--max-ratio",
        type=float,
        default=MAX_RATIO,
        help=f"fail above this ratio (default {MAX_RATIO})",
    )
    parser.add_argument(
        "--payload",
        choices=PAYLOADS,
        default=PAYLOADS[0],
        help="records with some markup (default), or nothing but markup",
    )
    args = parser.parse_args(argv)
    report = measure(int(args.size_mb * MB), args.payload)
    within = report.ratio <= args.max_ratio
    print(f"payload:                {args.payload:>8}")
    print(f"JSON body:              {report.json_bytes / MB:8.1f} MB")
    print(f"peak, wrap and send:    {report.peak_bytes / MB:8.1f} MB")
    print(
        f"ratio:                  {report.ratio:8.2f}x"
        f"  (bound {args.max_ratio:.2f}x: {'ok' if within else 'FAIL'})"
    )
    print(f"answer parses back:     {'yes' if report.answer_ok else 'NO'}")
    return 0 if within and report.answer_ok else 1


if __name__ == "__main__":
    sys.exit(main())
