"""Who still uses JSONP: the demo API's answers counted by page and by kind,
JSONP or CORS, as an API that is retiring JSONP would measure them.

JSONP answers are counted from flask-jsonp's :data:`~flask_jsonp.jsonp_answered`
signal, whose ``origin`` is the page's origin from the ``Referer``. CORS answers
are plain JSON answers, which flask-jsonp does not see: they are counted from
Flask's ``request_finished`` signal, for a request with an ``Origin``, no
callback, and an ``Access-Control-Allow-Origin`` in the answer. A page is
labelled by the allowlist entry that allows it, or :data:`OTHER`, so the labels
are bounded by the allowlist, whatever pages send requests.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

from flask import Flask
from flask import request
from flask import Response
from flask.signals import request_finished

from flask_jsonp import jsonp_answered
from flask_jsonp import matching_entry

#: The label of every page outside the allowlist, and of requests without one.
OTHER = "other"

#: The query parameter of the demo API's JSONP requests (flask-jsonp's default).
CALLBACK_PARAM = "callback"

#: The kinds of answer counted.
KINDS = ("jsonp", "cors")


class Usage:
    """Counts of an app's JSONP and CORS answers by page.

    :param app: the app whose answers to count.
    :param entries: the allowlist, in the syntax of ``allowed_referrers``.
    :param skip_endpoints: endpoints whose answers are not counted: the
        report's own, which the demo page reads after every step.
    """

    def __init__(
        self, app: Flask, entries: Iterable[str], skip_endpoints: frozenset[str]
    ) -> None:
        self._entries = tuple(entries)
        self._skip_endpoints = skip_endpoints
        self._lock = threading.Lock()
        self._counts: dict[str, Counter[str]] = {
            label: Counter() for label in (*self._entries, OTHER)
        }
        # Bound methods: blinker holds them weakly, the app holds this object.
        jsonp_answered.connect(self.count_jsonp, app)
        request_finished.connect(self.count_cors, app)

    def label(self, origin: str | None) -> str:
        """The label of a page: the allowlist entry that allows it, or
        :data:`OTHER`.
        """
        return matching_entry(origin, self._entries) or OTHER

    def _add(self, kind: str, origin: str | None) -> None:
        label = self.label(origin)
        with self._lock:
            self._counts[label][kind] += 1

    def count_jsonp(self, sender: Flask, *, origin: str | None, **extra: Any) -> None:
        """Receive :data:`~flask_jsonp.jsonp_answered`."""
        self._add("jsonp", origin)

    def count_cors(self, sender: Flask, response: Response, **extra: Any) -> None:
        """Receive ``request_finished``: count the answer if it was a CORS one."""
        if (
            request.method != "OPTIONS"
            and request.endpoint not in self._skip_endpoints
            and CALLBACK_PARAM not in request.args
            and "Origin" in request.headers
            and "Access-Control-Allow-Origin" in response.headers
        ):
            self._add("cors", request.headers["Origin"])

    def report(self) -> dict[str, list[dict[str, Any]]]:
        """The counts, one row per label, in allowlist order then :data:`OTHER`."""
        with self._lock:
            return {
                "pages": [
                    {"page": label, **{kind: counts[kind] for kind in KINDS}}
                    for label, counts in self._counts.items()
                ]
            }
