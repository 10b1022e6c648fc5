"""Signals that tell who still uses an application's JSONP endpoints.

They are `blinker`_ signals made through :class:`flask.signals.Namespace`, as
Flask's own are: connect a receiver for one app with
``jsonp_answered.connect(receiver, app)``. They are sent only for JSONP requests
(a request that carries a callback), whatever made the answer: the
:func:`~flask_jsonp.jsonp` decorator, blueprint mode or
:func:`~flask_jsonp.jsonpify`. With no receiver connected, nothing is computed.

A receiver that raises fails the request, as a failing view does: Flask answers
the error (a 500 unless the app handles it), never the script, and that answer
carries ``X-Content-Type-Options: nosniff`` like every answer of a JSONP
endpoint.

.. _blinker: https://blinker.readthedocs.io/
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

# Flask's own signals are made with blinker's Namespace, re-exported here.
from flask.signals import Namespace  # type: ignore[attr-defined]

from .referrer import parse_origin

_signals = Namespace()

#: Sent when a JSONP endpoint answers a script, with the app as sender and the
#: keyword arguments ``endpoint`` (the Flask endpoint name, or ``None``),
#: ``callback`` (the callback the script calls) and ``origin`` (the page's
#: ``scheme://host[:port]`` read from the ``Referer``, or ``None`` without a
#: usable one; never a path or a query, which can hold tokens).
#:
#: .. versionadded:: 0.1
jsonp_answered = _signals.signal("jsonp-answered")

#: Sent when a JSONP request is refused, with the app as sender and the keyword
#: arguments of :data:`jsonp_answered`, plus ``reason``, the refusal's error
#: code (``"invalid_callback"``, ``"callback_not_allowed"``,
#: ``"referrer_not_allowed"``, ``"method_not_allowed"`` or ``"gone"``), and
#: ``report_only``: ``True`` when the page is outside
#: ``allowed_referrers_report_only`` and was answered all the same. ``callback``
#: is ``None`` when it could not be read: given twice, or in a query string that
#: is not UTF-8.
#:
#: .. versionadded:: 0.1
jsonp_refused = _signals.signal("jsonp-refused")


def page_origin(environ: Mapping[str, Any]) -> str | None:
    """Return the origin of the page that asked, from the ``Referer`` of the
    WSGI ``environ``, as browsers write an origin: ``https://app.example``, with
    the port only when it is not the scheme's default and an IPv6 host in
    brackets (``https://[2001:db8::1]:8443``).
    """
    origin = parse_origin(environ.get("HTTP_REFERER", ""))
    return None if origin is None else origin.serialize()


def send_answered(
    app: Flask, endpoint: str | None, callback: str, environ: Mapping[str, Any]
) -> None:
    """Send :data:`jsonp_answered` if anything listens."""
    if jsonp_answered.receivers:
        jsonp_answered.send(
            app, endpoint=endpoint, callback=callback, origin=page_origin(environ)
        )


def send_refused(
    app: Flask,
    endpoint: str | None,
    callback: str | None,
    environ: Mapping[str, Any],
    reason: str,
    report_only: bool = False,
) -> None:
    """Send :data:`jsonp_refused` if anything listens."""
    if jsonp_refused.receivers:
        jsonp_refused.send(
            app,
            endpoint=endpoint,
            callback=callback,
            origin=page_origin(environ),
            reason=reason,
            report_only=report_only,
        )
