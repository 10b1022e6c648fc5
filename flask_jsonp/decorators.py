"""The per-view entry points: the :func:`jsonp` decorator and :func:`jsonpify`."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from functools import wraps
from typing import Any
from typing import cast
from typing import overload
from typing import ParamSpec
from typing import TypeVar

from flask import current_app
from flask import jsonify
from flask import Response
from werkzeug.exceptions import HTTPException

from .options import check_overrides
from .wrapping import finish
from .wrapping import JsonpRequest
from .wrapping import prepare

P = ParamSpec("P")
R = TypeVar("R")


def _answer_error(error: HTTPException, jsonp_request: JsonpRequest) -> Response:
    """Answer an HTTP error raised by the view.

    Only an enveloped JSONP request needs the error inside the script; any other
    request lets it propagate to Flask unchanged.
    """
    if jsonp_request.callback is None or not jsonp_request.options.envelope:
        raise error
    response = current_app.make_response(current_app.handle_http_exception(error))
    return finish(response, jsonp_request, error)


def _wrap_view(view: Callable[P, R], overrides: dict[str, Any]) -> Callable[P, R]:
    if inspect.iscoroutinefunction(view):
        async_view = cast(Callable[P, Awaitable[Any]], view)

        @wraps(view)
        async def async_jsonp_view(*args: P.args, **kwargs: P.kwargs) -> Response:
            jsonp_request = prepare(overrides)
            try:
                rv = await async_view(*args, **kwargs)
            except HTTPException as error:
                return _answer_error(error, jsonp_request)
            return finish(current_app.make_response(rv), jsonp_request)

        return cast(Callable[P, R], async_jsonp_view)

    @wraps(view)
    def jsonp_view(*args: P.args, **kwargs: P.kwargs) -> Response:
        jsonp_request = prepare(overrides)
        try:
            rv: Any = view(*args, **kwargs)
        except HTTPException as error:
            return _answer_error(error, jsonp_request)
        return finish(current_app.make_response(rv), jsonp_request)

    return cast(Callable[P, R], jsonp_view)


@overload
def jsonp(view: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def jsonp(
    view: None = None,
    /,
    *,
    callback_params: str | Iterable[str] | None = None,
    max_callback_length: int | None = None,
    allowed_callbacks: Iterable[str] | None = None,
    allowed_referrers: Iterable[str] | None = None,
    envelope: bool | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def jsonp(
    view: Callable[P, R] | None = None,
    /,
    *,
    callback_params: str | Iterable[str] | None = None,
    max_callback_length: int | None = None,
    allowed_callbacks: Iterable[str] | None = None,
    allowed_referrers: Iterable[str] | None = None,
    envelope: bool | None = None,
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
    then the ``JSONP_*`` config keys.

    :param view: the view function, when used bare.
    :param callback_params: query parameter name(s) carrying the callback; the
        first one present wins.
    :param max_callback_length: longer callbacks are refused with 400.
    :param allowed_callbacks: if given, only these exact names are answered.
    :param allowed_referrers: if given, only pages of these origins
        (``https://app.example``, ``https://*.example.com``) are answered.
    :param envelope: always answer 200 and pass
        ``{"meta": {"status": N}, "data": ...}`` to the callback, so pages can see
        errors.
    :raise TypeError, ValueError: for invalid options, when decorating.

    .. versionadded:: 0.1
    """
    overrides = check_overrides(
        {
            "callback_params": callback_params,
            "max_callback_length": max_callback_length,
            "allowed_callbacks": allowed_callbacks,
            "allowed_referrers": allowed_referrers,
            "envelope": envelope,
        }
    )
    if view is not None:
        return _wrap_view(view, overrides)

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        return _wrap_view(view, overrides)

    return decorator


def jsonpify(*args: Any, **kwargs: Any) -> Response:
    """Like :func:`flask.jsonify`, but answer JSONP when the request carries a
    valid callback.

    The request is checked as by :func:`jsonp`, with the app's options::

        @app.get("/api/user")
        def user():
            return jsonpify(user="admin")

    :raise InvalidCallback, JsonpMethodNotAllowed, CallbackNotAllowed,
        ReferrerNotAllowed: as :func:`jsonp` does.

    .. versionadded:: 0.1
    """
    jsonp_request = prepare({})
    return finish(jsonify(*args, **kwargs), jsonp_request)
