"""Checking first where another ``before_request`` function could answer
before the view does.

The extension puts one hook first among the app's ``before_request``
functions. On the app's first request (Flask refuses new routes and hooks from
then on) it readies every endpoint: each is resolved once, and a guard is put in
place of a view function that has a JSONP wrapper below other decorators, so
that every JSONP endpoint's view function is a JSONP wrapper that checks before
anything it wraps. Then the hook takes itself out of the app.

Where a JSONP endpoint has other ``before_request`` functions (a rate limit, a
login, a blueprint's own), each of them is wrapped in its place: the first one
to run for a request to a JSONP endpoint checks that request before the
function it wraps runs, and an answer it makes (a 429, a redirect, an error)
is finished by :meth:`~flask_jsonp.jsonp_request.JsonpRequest.finish`. A
request to an endpoint without JSONP costs each of them a lookup. A hook of
flask-jsonp's own would cost every request of the app Flask's call (and its
check for ``async``), and every JSONP request a function to run after it.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask
from flask import request

from .endpoints import endpoint_record
from .endpoints import HOOK_ATTR
from .endpoints import ready_endpoints
from .jsonp_request import JsonpRequest
from .jsonp_request import REQUEST_ATTR
from .options import EXTENSION_KEY
from .state import JsonpState
from .wrapping import make_guard

Hook = Callable[[], Any]

#: Held while an app's endpoints are readied: requests that arrive together
#: at a threaded server's start ready them once.
_READY_LOCK = threading.Lock()

#: A hook wrapped by :func:`checking_first` carries itself under this
#: attribute: a function that copied its attributes with
#: :func:`functools.wraps` is not one.
_CHECKING_ATTR = "_flask_jsonp_checks_first"


def check_request_hook(app: Flask) -> Hook:
    """Return the ``before_request`` function that readies every endpoint of
    ``app`` on its first request, checks that request, and takes itself out of
    the app.

    .. versionadded:: 0.1
    """

    def check_jsonp_request() -> None:
        state: JsonpState = app.extensions[EXTENSION_KEY]
        if not state.ready:
            with _READY_LOCK:
                if not state.ready:
                    _ready(app, state, check_jsonp_request)
        # Flask runs this request's hooks from the lists it had: they are not
        # the wrapped ones, so this request is checked here.
        req = request._get_current_object()  # type: ignore[attr-defined]
        jsonp_request = _checked_request(app, state, req)
        if jsonp_request is not None:
            jsonp_request.finish_later()

    setattr(check_jsonp_request, HOOK_ATTR, True)
    return check_jsonp_request


def _checked_request(app: Flask, state: JsonpState, req: Any) -> JsonpRequest | None:
    """Check the current request if it is to a JSONP endpoint that other
    ``before_request`` functions could answer, and return what flask-jsonp
    knows of it; ``None`` for any other request.

    :param req: the request object (not Flask's proxy).
    :raise JsonpRequestError: the refusal, which the app's handlers answer.
    """
    rule = req.url_rule
    if rule is None:
        return None
    endpoint = rule.endpoint
    view = app.view_functions.get(endpoint)
    record = state.endpoints.get(endpoint)
    if record is None or record.view is not view:
        # A view function swapped in after the first request.
        record = endpoint_record(app, state, endpoint, view, make_guard)
    if record.methods is not None:
        record = record.for_method(req.method)
    if record.plan is None or not record.other_hooks:
        # Nothing runs between the hooks and the endpoint's view function,
        # which is a JSONP wrapper (the view's own, or the guard): it checks
        # the request before anything it wraps runs.
        return None
    jsonp_request = JsonpRequest(
        app, req.environ, record.plan, record.covered, record.view
    )
    setattr(req, REQUEST_ATTR, jsonp_request)
    jsonp_request.check()
    return jsonp_request


def checking_first(app: Flask, state: JsonpState, hook: Hook) -> Hook:
    """Wrap another ``before_request`` function of ``app``: a request to a
    JSONP endpoint is checked before ``hook`` runs, and what ``hook`` answers
    or raises is finished as JSONP answers are.
    """
    # Decided once, as for views: a sync function is called directly, which
    # is what Flask's ensure_sync returns for it.
    is_async = inspect.iscoroutinefunction(hook)

    @wraps(hook)
    def checked_before() -> Any:
        call = app.ensure_sync(hook) if is_async else hook
        req = request._get_current_object()  # type: ignore[attr-defined]
        jsonp_request: JsonpRequest | None = getattr(req, REQUEST_ATTR, None)
        if jsonp_request is None:
            jsonp_request = _checked_request(app, state, req)
            if jsonp_request is None:
                return call()
        try:
            rv = call()
        except BaseException:
            jsonp_request.finish_later()
            raise
        if rv is not None:
            # It answers instead of the view.
            jsonp_request.finish_later()
        return rv

    setattr(checked_before, _CHECKING_ATTR, checked_before)
    return checked_before


def is_checking_first(function: object) -> bool:
    """Tell whether ``function`` is another ``before_request`` function
    wrapped by :func:`checking_first`.
    """
    return getattr(function, _CHECKING_ATTR, None) is function


def _ready(app: Flask, state: JsonpState, hook: Hook) -> None:
    """Resolve every endpoint of ``app`` once, guards included, take ``hook``
    out of the app, and wrap the app's other ``before_request`` functions if a
    JSONP endpoint has any.
    """
    ready_endpoints(app, state, make_guard)
    state.ready = True
    wrap_others = any(
        record.plan is not None and record.other_hooks
        for endpoint_record_ in state.endpoints.values()
        for record in (
            endpoint_record_.methods.values()
            if endpoint_record_.methods is not None
            else (endpoint_record_,)
        )
    )
    funcs = app.before_request_funcs
    for scope, hooks in list(funcs.items()):
        # A new list: Flask may be iterating over the current one.
        kept = [
            checking_first(app, state, item)
            if wrap_others and not is_checking_first(item)
            else item
            for item in hooks
            if item is not hook
        ]
        if kept:
            funcs[scope] = kept
        else:
            # None at all where it would be empty: Flask then skips the key
            # instead of looping over an empty list on every request.
            del funcs[scope]
