"""The per-view entry points: the :func:`jsonp` decorator and :func:`jsonpify`."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from typing import overload
from typing import ParamSpec
from typing import TypeVar

from flask import jsonify
from flask import Response

from .options import check_overrides
from .wrapping import jsonp_from_response
from .wrapping import wrap_view

P = ParamSpec("P")
R = TypeVar("R")


@overload
def jsonp(view: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def jsonp(
    view: None = None,
    /,
    *,
    callback_params: str | Iterable[str] | None = None,
    max_callback_length: int | None = None,
    callback_policy: str | None = None,
    allowed_callbacks: Iterable[str] | None = None,
    allowed_referrers: Iterable[str] | None = None,
    allowed_referrers_report_only: Iterable[str] | None = None,
    envelope: bool | None = None,
    deprecation: datetime | None = None,
    sunset: datetime | None = None,
    deprecation_link: str | None = None,
    etag: bool | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def jsonp(
    view: Callable[P, R] | None = None,
    /,
    *,
    callback_params: str | Iterable[str] | None = None,
    max_callback_length: int | None = None,
    callback_policy: str | None = None,
    allowed_callbacks: Iterable[str] | None = None,
    allowed_referrers: Iterable[str] | None = None,
    allowed_referrers_report_only: Iterable[str] | None = None,
    envelope: bool | None = None,
    deprecation: datetime | None = None,
    sunset: datetime | None = None,
    deprecation_link: str | None = None,
    etag: bool | None = None,
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Answer JSONP from a view that answers JSON.

    When the request carries a callback parameter (``?callback=onData``) the
    view's JSON becomes ``/**/typeof onData === "function" && onData({...});``,
    served as ``text/javascript``. Without one, the view's response is left as it
    is. The callback is checked before the view runs; a request with a callback
    and a method other than GET or HEAD is refused with 405. Use it bare or with
    options, below the route decorator::

        @app.get("/api/user")
        @jsonp
        def user():
            return {"user": "admin"}

        @app.get("/api/orders")
        @jsonp(allowed_referrers=["https://shop.example"], envelope=True)
        async def orders():
            ...

    Options left as ``None`` come from :class:`~flask_jsonp.JSONP`'s defaults,
    then the ``JSONP_*`` config keys. Directly on another ``@jsonp`` (or as a
    view of a JSONP blueprint) it adds a layer instead of wrapping twice; with
    other decorators in between, each is kept and the layers still combine.
    The answer is wrapped once, with the strictest policy of the layers: every
    allowlist must accept the request, and the shortest length limit and the
    strictest callback policy win; the innermost layer that sets
    ``callback_params``, ``envelope`` or an announcement of the end decides
    those.

    Put it below the route decorator, and below or above other decorators as
    they need: with :class:`~flask_jsonp.JSONP` set up on the app, its checks
    run before any decorator stacked above it, and when something is stacked
    above it the final response is wrapped, so an API framework's schema still
    applies. Without a callback the view's return value is handed on as the
    view returned it.

    :param view: the view function, when used bare.
    :param callback_params: query parameter name(s) carrying the callback; the
        first one present wins.
    :param max_callback_length: longer callbacks are refused with 400.
    :param callback_policy: ``"safe"`` (the default) also refuses names that
        reach the browser's own objects or run strings as code (``setTimeout``,
        ``document.write``); ``"identifier"`` accepts any valid identifier path.
    :param allowed_callbacks: if given, only these names are answered: exact
        names, or prefixes ending in ``*`` (``"jQuery*"``).
    :param allowed_referrers: if given, only pages of these origins
        (``https://app.example``, ``https://*.example.com``) are answered;
        ``"*"`` answers every page, over an app-wide allowlist.
    :param allowed_referrers_report_only: pages outside these origins are
        answered, and reported with :data:`~flask_jsonp.jsonp_refused`
        (``report_only=True``): try an allowlist before enforcing it.
    :param envelope: always answer 200 and pass
        ``{"meta": {"status": N}, "data": ...}`` to the callback, so pages can see
        errors.
    :param deprecation: when JSONP on this view was deprecated: JSONP answers
        carry ``Deprecation: @<unix time>`` (:rfc:`9745`), and the envelope's
        ``meta`` a ``deprecation`` date. A naive datetime is read as UTC.
    :param sunset: when JSONP on this view ends: announced with ``Sunset``
        (:rfc:`8594`) and ``meta.sunset``; from then on, JSONP requests are
        refused with 410 Gone (with the envelope, ``meta.status`` 410). Requests
        without a callback are answered as before.
    :param deprecation_link: a page about the end of JSONP here, announced with
        ``Link: <url>; rel="deprecation"`` and ``meta.link``.
    :param etag: ``True`` (the default): each script answer carries a weak
        ``ETag`` that differs per callback, data and announcement (derived from
        the view's own ``ETag`` when it sets one, without hashing the body),
        and a request whose ``If-None-Match`` matches gets 304 Not Modified,
        after every check. ``False``: no tag, no 304.
    :raise TypeError, ValueError: for invalid options, when decorating.

    .. versionadded:: 0.1
    """
    overrides = check_overrides(
        {
            "callback_params": callback_params,
            "max_callback_length": max_callback_length,
            "callback_policy": callback_policy,
            "allowed_callbacks": allowed_callbacks,
            "allowed_referrers": allowed_referrers,
            "allowed_referrers_report_only": allowed_referrers_report_only,
            "envelope": envelope,
            "deprecation": deprecation,
            "sunset": sunset,
            "deprecation_link": deprecation_link,
            "etag": etag,
        }
    )
    if view is not None:
        return wrap_view(view, overrides)

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        return wrap_view(view, overrides)

    return decorator


def jsonpify(*args: Any, **kwargs: Any) -> Response:
    """Like :func:`flask.json.jsonify`, but answer JSONP when the request carries a
    valid callback.

    The request is checked as by :func:`jsonp`, with the app's options::

        @app.get("/api/user")
        def user():
            return jsonpify(user="admin")

    Inside a JSONP view (decorated, or in a JSONP blueprint) it returns plain
    JSON and leaves the wrapping to the view, whose options then apply. Outside
    one, the callback is checked after the view has run, so a refused request
    may have had effects: prefer :func:`jsonp` for views that change anything.

    :raise InvalidCallback: the callback is not a name the policy accepts.
    :raise JsonpMethodNotAllowed: a callback with another method than GET or
        HEAD.
    :raise CallbackNotAllowed: ``allowed_callbacks`` refuses the callback.
    :raise ReferrerNotAllowed: ``allowed_referrers`` refuses the page.
    :raise JsonpGone: the app's ``sunset`` has passed.

    .. versionadded:: 0.1
    """
    return jsonp_from_response(jsonify(*args, **kwargs))
