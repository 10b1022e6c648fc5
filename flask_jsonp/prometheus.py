"""Count who still uses an app's JSONP endpoints, as Prometheus counters.

:class:`JsonpMetrics` listens to the :data:`~flask_jsonp.jsonp_answered` and
:data:`~flask_jsonp.jsonp_refused` signals and counts each JSONP request by
endpoint, refusal reason and page, in two counters:

- ``jsonp_answers_total{endpoint, page}``: the scripts answered;
- ``jsonp_refusals_total{endpoint, reason, report_only, page}``: the requests
  refused, and those a report-only allowlist only reported.

Every label has a bounded set of values, whatever pages send requests: the page
is labelled with the entry of your list of pages that allows it (found with
:func:`~flask_jsonp.matching_entry`), ``"other"`` for any page outside the
list, or ``"none"`` for a request without a usable ``Referer``. A page cannot
add a series by sending a ``Referer`` of its own making.

It needs `prometheus-client`_, which the ``prometheus`` extra installs:
``pip install 'flask-jsonp[prometheus]'``. Importing :mod:`flask_jsonp` never
imports it; only this module does.

.. _prometheus-client: https://prometheus.github.io/client_python/
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask

try:
    from prometheus_client import CollectorRegistry
    from prometheus_client import Counter
    from prometheus_client import REGISTRY
except ImportError as error:
    # Say which extra to install, not only which module is missing.
    raise ImportError(
        "flask_jsonp.prometheus needs prometheus-client, which the 'prometheus'"
        " extra installs: pip install 'flask-jsonp[prometheus]'"
    ) from error

from .options import ANY_PAGE
from .origins import _entries
from .origins import _parse
from .origins import matching_entry
from .signals import jsonp_answered
from .signals import jsonp_refused

__all__ = ["OTHER_PAGE", "UNKNOWN_PAGE", "JsonpMetrics", "page_label"]

#: The page label of a request from a page outside the list of pages.
OTHER_PAGE = "other"

#: The page label of a request without a usable ``Referer``: the page's
#: ``Referrer-Policy`` is ``no-referrer``, or a privacy tool removed it. No
#: allowlist entry can be spelled like it, nor like :data:`OTHER_PAGE`.
UNKNOWN_PAGE = "none"

#: The ``endpoint`` label of a request no URL rule matched (a 404 or 405).
_NO_ENDPOINT = "none"

#: Where :meth:`JsonpMetrics.init_app` keeps each app's list of pages.
_EXTENSION_KEY = "jsonp_prometheus"


def page_label(origin: str | None, pages: str | Iterable[str]) -> str:
    """Return the label of a page: the entry of ``pages`` that allows
    ``origin``, :data:`OTHER_PAGE` or :data:`UNKNOWN_PAGE`.

    >>> from flask_jsonp.prometheus import page_label
    >>> PAGES = ["https://app.example", "https://*.partner.example"]
    >>> page_label("https://shop.partner.example", PAGES)
    'https://*.partner.example'
    >>> page_label("https://evil.example", PAGES)
    'other'
    >>> page_label(None, PAGES)
    'none'

    :param origin: the ``origin`` argument of the signals, or ``None``.
    :param pages: entries in the syntax of ``allowed_referrers``.

    .. versionadded:: 0.1
    """
    if origin is None:
        return UNKNOWN_PAGE
    return matching_entry(origin, pages) or OTHER_PAGE


def _checked_pages(pages: str | Iterable[str]) -> str | tuple[str, ...]:
    """``pages`` as :func:`~flask_jsonp.matching_entry` takes them, each entry
    parsed now, so that a mistyped entry fails when the app is set up rather
    than on its first JSONP request.
    """
    if pages == ANY_PAGE:
        return ANY_PAGE
    entries = _entries(pages)
    _parse(entries)
    return entries


class JsonpMetrics:
    """Prometheus counters of the JSONP requests of the apps given to
    :meth:`init_app`, labelled by endpoint, refusal reason and page.

    .. code-block:: python

        from flask_jsonp.prometheus import JsonpMetrics

        PAGES = ["https://app.example", "https://*.partner.example"]
        metrics = JsonpMetrics(pages=PAGES)

        def create_app():
            app = Flask(__name__)
            metrics.init_app(app)
            return app

    Then serve the registry as prometheus-client documents it (under gunicorn
    with several workers, in its multiprocess mode). This query shows which
    pages still load each endpoint, and how often:

    .. code-block:: text

        sum by (endpoint, page) (rate(jsonp_answers_total[1d]))

    Each JSONP request is counted once, in the app that answered it, however
    many apps share one :class:`JsonpMetrics` or how often :meth:`init_app` is
    called for one app. Requests without a callback (plain JSON, CORS) are not
    counted: no signal is sent for them.

    Like any prometheus-client metric, the counters are registered when the
    object is made: make one per registry (one per process for the default
    one), and give it every app.

    .. doctest::

        >>> from flask import Flask
        >>> from flask_jsonp import jsonp
        >>> from flask_jsonp.prometheus import JsonpMetrics
        >>> from prometheus_client import CollectorRegistry
        >>> app = Flask("example")
        >>> @app.get("/items")
        ... @jsonp
        ... def items():
        ...     return {"items": [1, 2]}
        >>> registry = CollectorRegistry()
        >>> metrics = JsonpMetrics(app, ["https://app.example"], registry=registry)
        >>> page = {"Referer": "https://app.example/cart?session=s3cr3t"}
        >>> app.test_client().get("/items?callback=onItems", headers=page).status
        '200 OK'
        >>> registry.get_sample_value(
        ...     "jsonp_answers_total",
        ...     {"endpoint": "items", "page": "https://app.example"},
        ... )
        1.0

    :param app: an app to count the requests of now, as :meth:`init_app` does.
    :param pages: the pages you know about: the entries of your
        ``allowed_referrers`` (in the same syntax, ``"*"`` included). They are
        the page labels, with ``"other"`` and ``"none"``. The default for
        :meth:`init_app`.
    :param registry: where the counters are registered; prometheus-client's
        default registry unless given (tests give one of their own).
    :raise ValueError: for an entry of ``pages`` that ``allowed_referrers``
        refuses too.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        app: Flask | None = None,
        pages: str | Iterable[str] = (),
        *,
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        self._default_pages = _checked_pages(pages)
        #: ``jsonp_answers_total``, labelled ``endpoint`` and ``page``.
        self.answers = Counter(
            "jsonp_answers",
            "JSONP requests answered, by endpoint and page.",
            ["endpoint", "page"],
            registry=registry,
        )
        #: ``jsonp_refusals_total``, labelled ``endpoint``, ``reason`` (the
        #: refusal's error code), ``report_only`` (``"true"`` for a page a
        #: report-only allowlist only reported) and ``page``.
        self.refusals = Counter(
            "jsonp_refusals",
            "JSONP requests refused, or only reported by a report-only allowlist.",
            ["endpoint", "reason", "report_only", "page"],
            registry=registry,
        )
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, pages: str | Iterable[str] | None = None) -> None:
        """Count the JSONP requests of ``app``.

        :param app: the application.
        :param pages: the page labels for this app, in the syntax of
            ``allowed_referrers``; the ``pages`` given to the constructor by
            default. Calling it again for the same app replaces them.
        :raise ValueError: for an entry of ``pages`` that ``allowed_referrers``
            refuses too.
        """
        checked = self._default_pages if pages is None else _checked_pages(pages)
        app.extensions.setdefault(_EXTENSION_KEY, {})[self] = checked
        # One receiver per metrics object, whatever the apps: blinker connects
        # a bound method once per sender, so a second init_app cannot make it
        # count twice. weak=False: an object made only to be set up,
        # JsonpMetrics(app), must keep counting; app.extensions holds it too,
        # but blinker should not depend on that.
        jsonp_answered.connect(self._count_answer, app, weak=False)
        jsonp_refused.connect(self._count_refusal, app, weak=False)

    def _pages_of(self, app: Flask) -> str | tuple[str, ...]:
        pages: str | tuple[str, ...] = app.extensions[_EXTENSION_KEY][self]
        return pages

    def _count_answer(
        self, sender: Flask, *, endpoint: str | None, origin: str | None, **extra: Any
    ) -> None:
        page = page_label(origin, self._pages_of(sender))
        self.answers.labels(endpoint or _NO_ENDPOINT, page).inc()

    def _count_refusal(
        self,
        sender: Flask,
        *,
        endpoint: str | None,
        origin: str | None,
        reason: str,
        report_only: bool,
        **extra: Any,
    ) -> None:
        page = page_label(origin, self._pages_of(sender))
        only = "true" if report_only else "false"
        self.refusals.labels(endpoint or _NO_ENDPOINT, reason, only, page).inc()
