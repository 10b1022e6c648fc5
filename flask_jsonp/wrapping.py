"""The one mechanism that turns a view's JSON into a JSONP answer.

Every entry point goes through :func:`wrap_view`: the :func:`~flask_jsonp.jsonp`
decorator calls it on the view, :meth:`~flask_jsonp.JSONP.enable_blueprint` on
each view of the blueprint when it is registered, and wrapping a view that is
already wrapped adds a layer to the one wrapper instead of nesting a second one.
:func:`~flask_jsonp.jsonpify` inside a wrapped view leaves the wrapping to it,
so the answer is wrapped exactly once, with the policy of every layer.

A request is checked before the view runs (a refused request never reaches it).
The view's return value is then turned into the answer in one step: a dict, a
list, or either in a ``(body, status)`` or ``(body, status, headers)`` tuple is
serialized once with the app's JSON provider and the final response is built
once with all its headers.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from functools import wraps
from typing import Any
from typing import cast
from typing import ParamSpec
from typing import TypeVar

from flask import after_this_request
from flask import current_app
from flask import Flask
from flask import request
from flask import Response
from flask.json.provider import DefaultJSONProvider
from flask.json.provider import JSONProvider
from werkzeug.datastructures import Headers
from werkzeug.exceptions import default_exceptions
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from .callback import callback_refusal
from .errors import add_nosniff
from .errors import CallbackNotAllowed
from .errors import InvalidCallback
from .errors import JSONP_METHODS
from .errors import JsonpMethodNotAllowed
from .errors import NOSNIFF
from .errors import REFERRER_HEADERS
from .errors import ReferrerNotAllowed
from .options import EXTENSION_KEY
from .options import JsonpOptions
from .options import resolve
from .query import CallbackFinder
from .query import QueryError
from .referrer import origin_allowed
from .referrer import parse_origin
from .response import JAVASCRIPT_MIMETYPE
from .response import jsonp_body
from .response import PREFIX_CACHE_SIZE
from .state import MAX_WARNED_ENDPOINTS
from .state import state_for

P = ParamSpec("P")
R = TypeVar("R")

#: Messages about JSONP use that deserves a look (credentialed answers).
logger = logging.getLogger("flask_jsonp")

#: Set in the WSGI environ by a wrapped view, so that :func:`~flask_jsonp.jsonpify`
#: called inside it (or in an error handler it leads to) leaves the wrapping to
#: the view and its layers.
WRAPPED_ENVIRON_KEY = "flask_jsonp.wrapped"

#: Set in the WSGI environ by a JSONP view with a referrer allowlist that another
#: JSONP view called: the answer the outer view makes depends on the page too.
REFERRER_CHECKED_ENVIRON_KEY = "flask_jsonp.referrer_checked"

#: Content type of JSONP answers.
JAVASCRIPT_CONTENT_TYPE = f"{JAVASCRIPT_MIMETYPE}; charset=utf-8"

#: Headers of every JSONP answer besides its type and length: nosniff, and CORP
#: to let pages that require it (Cross-Origin-Embedder-Policy) load the script.
JSONP_HEADERS = (
    ("X-Content-Type-Options", NOSNIFF),
    ("Cross-Origin-Resource-Policy", "cross-origin"),
)

#: Attributes of a wrapped view: the view it wraps and its layers.
_VIEW_ATTR = "__jsonp_view__"
_LAYERS_ATTR = "__jsonp_layers__"


@dataclass(frozen=True, eq=False)
class Layers:
    """The options given in code by each layer covering one view, outermost
    first. Compared by identity: it is the key of the view's plan.

    .. versionadded:: 0.1
    """

    overrides: tuple[Mapping[str, Any], ...]


#: The layers of :func:`~flask_jsonp.jsonpify` outside any wrapped view: the
#: app's options alone.
APP_LAYERS = Layers(())


@lru_cache(maxsize=PREFIX_CACHE_SIZE)
def _refusal(callback: str, policy: str) -> str | None:
    return callback_refusal(callback, policy)


class JsonpPlan:
    """What answering one view on one application needs, resolved once on its
    first request: the options and what follows from them.

    .. versionadded:: 0.1
    """

    def __init__(self, options: JsonpOptions) -> None:
        self.options = options
        self.finder = CallbackFinder(options.callback_params)

    def find_callback(self, query: str) -> str | None:
        """Return the callback in ``query`` (the WSGI ``QUERY_STRING``),
        ``None`` if the request asks for plain JSON.

        :raise InvalidCallback: the parameter is repeated, or the query string
            is not UTF-8.
        """
        try:
            return self.finder.find(query)
        except QueryError as error:
            raise InvalidCallback(str(error)) from None

    def check(self, callback: str, environ: Mapping[str, Any]) -> None:
        """Refuse a JSONP request that this view must not answer.

        :raise JsonpMethodNotAllowed: the method is not GET or HEAD.
        :raise InvalidCallback: the callback is too long, not a valid name, or
            refused by the callback policy.
        :raise CallbackNotAllowed: an allowlist refuses the callback.
        :raise ReferrerNotAllowed: an allowlist refuses the page.
        """
        if environ.get("REQUEST_METHOD") not in JSONP_METHODS:
            raise JsonpMethodNotAllowed()
        options = self.options
        if len(callback) > options.max_callback_length:
            # Before the cache, so that long strings never enter it.
            raise InvalidCallback()
        reason = _refusal(callback, options.callback_policy)
        if reason is not None:
            raise InvalidCallback(reason)
        if options.allowed_callbacks and not all(
            allowlist.allows(callback) for allowlist in options.allowed_callbacks
        ):
            raise CallbackNotAllowed()
        if options.allowed_referrers and not self._referrer_allowed(environ):
            raise ReferrerNotAllowed()

    def _referrer_allowed(self, environ: Mapping[str, Any]) -> bool:
        origin = parse_origin(environ.get("HTTP_REFERER", ""))
        if origin is None:
            # Fail closed: no usable Referer (stripped by a Referrer-Policy, a
            # proxy or a privacy tool) is refused, unless the browser says the
            # request comes from this very origin.
            return environ.get("HTTP_SEC_FETCH_SITE") == "same-origin"
        return all(
            origin_allowed(origin, patterns)
            for patterns in self.options.allowed_referrers
        )


def plan_for(app: Flask, layers: Layers) -> JsonpPlan:
    """Return the plan of the view with ``layers`` on ``app``, resolving its
    options on first use.

    .. versionadded:: 0.1
    """
    state = state_for(app)
    plan = state.plans.get(layers)
    if plan is None:
        options = resolve(app.config, state.defaults, layers.overrides)
        plan = state.plans[layers] = JsonpPlan(options)
    return plan


def _dumps(app: Flask, obj: Any) -> bytes:
    """Serialize ``obj`` as :func:`flask.json.jsonify` would, to UTF-8 bytes.

    A provider whose ``response()`` is Flask's own is asked for ``dumps()``
    with the arguments that ``response()`` would pass, which saves building a
    response only to read its body; any other provider is asked for its
    response.
    """
    # Any: Flask 2.3 and 3 type providers and their responses differently.
    provider: Any = app.json
    response_method = type(provider).response
    if response_method is DefaultJSONProvider.response:
        compact = provider.compact
        if compact is False or (compact is None and app.debug):
            text = provider.dumps(obj, indent=2)
        else:
            text = provider.dumps(obj, separators=(",", ":"))
    elif response_method is JSONProvider.response:
        text = provider.dumps(obj)
    else:
        return cast(bytes, provider.response(obj).get_data())
    return cast(str, text).encode()


def _error_data(response: Response, error: HTTPException | None) -> Any:
    """What an enveloped error passes to the callback: the error handler's JSON
    if it answered JSON, else the error's name and description (never a body
    that could hold a traceback).
    """
    if response.is_json:
        return response.get_json(silent=True)
    if error is None:
        error_class = default_exceptions.get(response.status_code)
        if error_class is not None:
            error = error_class()
    if error is not None:
        return {"name": error.name, "description": error.description}
    return {"name": HTTP_STATUS_CODES.get(response.status_code, "Unknown Error")}


def _warn_credentialed(app: Flask, plan: JsonpPlan, environ: Mapping[str, Any]) -> None:
    # The environ, not request.cookies: parsing cookies on every answer is costly.
    if plan.options.allowed_referrers or (
        "HTTP_COOKIE" not in environ and "HTTP_AUTHORIZATION" not in environ
    ):
        return
    endpoint = request.endpoint
    warned = state_for(app).warned_endpoints
    if endpoint in warned or len(warned) >= MAX_WARNED_ENDPOINTS:
        return
    warned.add(endpoint)
    logger.warning(
        "JSONP endpoint %r answered a request that carries cookies or an"
        " Authorization header, without a referrer allowlist: any web page can"
        " read this answer with the visitor's credentials. Set allowed_referrers"
        " or serve only public data.",
        endpoint,
    )


#: Headers of the view's response that a JSONP answer replaces.
_REPLACED_HEADERS = frozenset(
    {"content-type", "content-length", *(name.lower() for name, _ in JSONP_HEADERS)}
)


def _set_answer_headers(response: Response, length: int) -> None:
    """Give a response the headers of a JSONP answer, keeping the view's
    others.
    """
    # One new list: setting a header scans and rewrites the list each time,
    # where add() appends.
    headers = Headers()
    for name, value in response.headers.items():
        if name.lower() not in _REPLACED_HEADERS:
            headers.add(name, value)
    headers.add("Content-Type", JAVASCRIPT_CONTENT_TYPE)
    headers.add("Content-Length", str(length))
    for name, value in JSONP_HEADERS:
        headers.add(name, value)
    response.headers = headers


def _depends_on_the_page(plan: JsonpPlan, environ: Mapping[str, Any]) -> bool:
    """Whether a referrer allowlist decided this answer: the view's own, or
    that of a JSONP view it called.
    """
    return bool(plan.options.allowed_referrers) or (
        REFERRER_CHECKED_ENVIRON_KEY in environ
    )


def _make_private(response: Response) -> None:
    """Keep shared caches from serving an answer that depends on the page to
    another page, merged with the view's own ``Vary`` and ``Cache-Control``.
    """
    response.vary.update(REFERRER_HEADERS)
    response.cache_control.public = False
    response.cache_control.private = True


def wrap_response(
    app: Flask,
    plan: JsonpPlan,
    callback: str,
    response: Response,
    error: HTTPException | None = None,
    environ: Mapping[str, Any] | None = None,
) -> Response:
    """Turn a JSON response into the JSONP answer for ``callback``, in place.

    Responses that are not JSON (HTML, files, redirects, streams) are left as
    they are, with ``X-Content-Type-Options: nosniff`` added. Error responses
    (status >= 400) are wrapped only with the envelope, which answers 200 and
    reports the status to the callback.

    :param response: the view's response, after the app's error handlers.
    :param error: the HTTP error the response answers, if known.
    :param environ: the request's WSGI environ, if the caller has it at hand.

    .. versionadded:: 0.1
    """
    status = response.status_code
    envelope = plan.options.envelope
    if envelope and status >= 400:
        json_body = _dumps(app, _error_data(response, error))
    elif (
        response.is_json
        and not (response.is_streamed or response.direct_passthrough)
        and (envelope or status < 400)
    ):
        json_body = response.get_data() or b"null"
    else:
        add_nosniff(response)
        return response
    if environ is None:
        environ = request.environ
    _warn_credentialed(app, plan, environ)
    body = jsonp_body(callback, json_body, status if envelope else None)
    if envelope:
        response.status_code = 200
    response.response = body.chunks
    _set_answer_headers(response, body.length)
    if _depends_on_the_page(plan, environ):
        _make_private(response)
    return response


def _json_answer(
    app: Flask, plan: JsonpPlan, callback: str, rv: Any, environ: Mapping[str, Any]
) -> Response | None:
    """Build the answer to a dict or list return value (alone or in a tuple
    with an int status below 400) in one step; ``None`` for anything else.
    """
    status: Any = None
    headers: Any = None
    body = rv
    if type(rv) is tuple:
        # The shapes Flask accepts: (body, status, headers), (body, headers)
        # and (body, status).
        if len(rv) == 3:
            body, status, headers = rv
        elif len(rv) == 2:
            body, second = rv
            if isinstance(second, (Headers, dict, tuple, list)):
                headers = second
            else:
                status = second
    if not isinstance(body, (dict, list)) or not (
        status is None or (type(status) is int and status < 400)
    ):
        return None
    _warn_credentialed(app, plan, environ)
    envelope_status = (status or 200) if plan.options.envelope else None
    built = jsonp_body(callback, _dumps(app, body), envelope_status)
    chunks = built.chunks
    data: Any = chunks[0] if type(chunks) is tuple and len(chunks) == 1 else chunks
    if headers is None:
        response = app.response_class(
            data,
            status=200 if envelope_status else status,
            content_type=JAVASCRIPT_CONTENT_TYPE,
        )
        # Headers.add, one by one, costs a third of passing them to the
        # constructor, which goes through Headers.extend.
        add_header = response.headers.add
        for name, value in JSONP_HEADERS:
            add_header(name, value)
        if data is chunks:
            response.content_length = built.length
    else:
        response = app.response_class(
            data, status=200 if envelope_status else status, headers=headers
        )
        _set_answer_headers(response, built.length)
    if _depends_on_the_page(plan, environ):
        _make_private(response)
    return response


def _enveloped_error(
    app: Flask, plan: JsonpPlan, callback: str, error: HTTPException
) -> Response:
    response = app.make_response(app.handle_http_exception(error))
    return wrap_response(app, plan, callback, response, error, request.environ)


def _nosniff_on_error() -> None:
    # The error answer is made by Flask after the view has given up; whatever
    # handler makes it, it carries nosniff, as every answer of a JSONP view.
    after_this_request(_add_nosniff_hook)


def _add_nosniff_hook(response: Response) -> Response:
    add_nosniff(response)
    return response


def wrap_view(view: Callable[P, R], overrides: Mapping[str, Any]) -> Callable[P, R]:
    """Return ``view`` answering JSONP with ``overrides`` as its outermost
    layer.

    A view that is already wrapped is not wrapped again: the new layer is added
    to its layers, and the strictest policy of all of them applies. Sync and
    ``async`` views are both run through :meth:`flask.Flask.ensure_sync`, as
    Flask runs views.

    .. versionadded:: 0.1
    """
    inner: Callable[..., Any] = getattr(view, _VIEW_ATTR, view)
    layers = Layers((overrides, *getattr(view, _LAYERS_ATTR, Layers(())).overrides))
    # Decided once: a sync view is called directly, which is what ensure_sync
    # would return for it.
    sync_view = None if inspect.iscoroutinefunction(inner) else inner

    @wraps(inner)
    def jsonp_view(*args: Any, **kwargs: Any) -> Response:
        # A proxy's attribute costs four times _get_current_object().
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        environ = request._get_current_object().environ  # type: ignore[attr-defined]
        try:
            plan = app.extensions[EXTENSION_KEY].plans[layers]
        except KeyError:
            plan = plan_for(app, layers)
        query = environ.get("QUERY_STRING")
        callback = plan.find_callback(query) if query else None
        if callback is not None:
            plan.check(callback, environ)
        if WRAPPED_ENVIRON_KEY in environ:
            # Called by another JSONP view, which wraps the answer: only
            # this view's checks apply here.
            if plan.options.allowed_referrers:
                environ[REFERRER_CHECKED_ENVIRON_KEY] = True
            return app.ensure_sync(inner)(*args, **kwargs)  # type: ignore[no-any-return]
        environ[WRAPPED_ENVIRON_KEY] = True
        try:
            if sync_view is not None:
                rv = sync_view(*args, **kwargs)
            else:
                rv = app.ensure_sync(inner)(*args, **kwargs)
            if callback is None:
                if type(rv) is dict or type(rv) is list:
                    # What Flask's make_response does for these, on a response
                    # that is new: add() costs less than setting the header.
                    provider: Any = app.json  # see _dumps
                    plain: Response = provider.response(rv)
                    plain.headers.add("X-Content-Type-Options", NOSNIFF)
                    return plain
                response = app.make_response(rv)
                add_nosniff(response)
                return response
            answer = _json_answer(app, plan, callback, rv, environ)
            if answer is not None:
                return answer
            response = app.make_response(rv)
            return wrap_response(app, plan, callback, response, None, environ)
        except HTTPException as error:
            if callback is not None and plan.options.envelope:
                return _enveloped_error(app, plan, callback, error)
            _nosniff_on_error()
            raise
        except Exception:
            # Never enveloped, never a script: Flask answers it (with the app's
            # handlers, or a plain 500).
            _nosniff_on_error()
            raise

    setattr(jsonp_view, _VIEW_ATTR, inner)
    setattr(jsonp_view, _LAYERS_ATTR, layers)
    return cast(Callable[P, R], jsonp_view)


def jsonp_from_response(response: Response) -> Response:
    """Answer ``response`` as JSONP if the current request asks for it, with
    the app's options: the mechanism behind :func:`~flask_jsonp.jsonpify`.

    Inside a wrapped view (or an error handler it leads to) the response is
    returned as it is, and the view wraps it with all its layers.

    .. versionadded:: 0.1
    """
    environ = request.environ
    if WRAPPED_ENVIRON_KEY in environ:
        return response
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    plan = plan_for(app, APP_LAYERS)
    callback = plan.find_callback(environ.get("QUERY_STRING", ""))
    if callback is None:
        add_nosniff(response)
        return response
    plan.check(callback, environ)
    return wrap_response(app, plan, callback, response, None, environ)
