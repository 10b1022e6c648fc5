"""Count who still uses an app's JSONP endpoints, with Prometheus counters fed by
flask-jsonp's signals.

Every label has a bounded set of values, whatever pages send requests: the page
is labelled with the entry of your allowlist that allows it, ``"other"`` for any
page outside it, or ``"none"`` for a request without a usable ``Referer``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask
from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import REGISTRY

from flask_jsonp import jsonp_answered
from flask_jsonp import jsonp_refused
from flask_jsonp import matching_entry


def page_label(origin: str | None, pages: Iterable[str]) -> str:
    """Label a page by the entry of ``pages`` that allows its origin."""
    if origin is None:
        return "none"
    return matching_entry(origin, pages) or "other"


class JsonpUsageMetrics:
    """Two counters, ``jsonp_answers_total`` and ``jsonp_refusals_total``, of
    the JSONP requests of the apps given to :meth:`init_app`.
    """

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.answers = Counter(
            "jsonp_answers",
            "JSONP requests answered, by endpoint and page.",
            ["endpoint", "page"],
            registry=registry,
        )
        self.refusals = Counter(
            "jsonp_refusals",
            "JSONP requests refused, or only reported by a report-only allowlist.",
            ["endpoint", "reason", "report_only", "page"],
            registry=registry,
        )

    def init_app(self, app: Flask, pages: Iterable[str]) -> None:
        """Count the JSONP requests of ``app``, with pages labelled by the
        entries of ``pages`` (in the syntax of ``allowed_referrers``).
        """
        pages = tuple(pages)

        def on_answered(
            sender: Flask, *, endpoint: str | None, origin: str | None, **extra: Any
        ) -> None:
            page = page_label(origin, pages)
            self.answers.labels(endpoint or "none", page).inc()

        def on_refused(
            sender: Flask,
            *,
            endpoint: str | None,
            origin: str | None,
            reason: str,
            report_only: bool,
            **extra: Any,
        ) -> None:
            page = page_label(origin, pages)
            only = "true" if report_only else "false"
            self.refusals.labels(endpoint or "none", reason, only, page).inc()

        # weak=False: nothing else holds these two functions.
        jsonp_answered.connect(on_answered, app, weak=False)
        jsonp_refused.connect(on_refused, app, weak=False)
