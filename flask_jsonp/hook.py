"""The extension's ``before_request`` hook: it readies every endpoint on the
app's first request, then checks first where another hook could answer
before the view does.
"""

from __future__ import annotations

from collections.abc import Callable

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


def check_request_hook(app: Flask) -> Callable[[], None]:
    """Return the ``before_request`` function that readies every endpoint of
    ``app`` on its first request, and then checks the requests to the JSONP
    endpoints that other hooks could answer before their view does.

    On the first request the app's view functions are all known (Flask
    refuses new routes from then on): each endpoint is resolved once, a guard
    is put in place of a view function that has a JSONP wrapper below other
    decorators, and if no JSONP endpoint has another ``before_request``
    function, the hook takes itself out of the app: every JSONP endpoint's view
    function is then a JSONP wrapper that checks before anything it wraps, and
    the rest of the app pays nothing.

    .. versionadded:: 0.1
    """

    def check_jsonp_request() -> None:
        req = request._get_current_object()  # type: ignore[attr-defined]
        state: JsonpState = app.extensions[EXTENSION_KEY]
        if not state.ready:
            _ready(app, state, check_jsonp_request)
        rule = req.url_rule
        if rule is None:
            return
        endpoint = rule.endpoint
        view = app.view_functions.get(endpoint)
        record = state.endpoints.get(endpoint)
        if record is None or record.view is not view:
            # A view function swapped in after the first request.
            record = endpoint_record(app, state, endpoint, view, make_guard)
        if record.methods is not None:
            record = record.for_method(req.method)
        if record.plan is None or not record.other_hooks:
            # Nothing runs between this hook and the endpoint's view function,
            # which is a JSONP wrapper (the view's own, or the guard): it
            # checks the request before anything it wraps runs.
            return
        jsonp_request = JsonpRequest(
            app, req.environ, record.plan, record.covered, record.view
        )
        setattr(req, REQUEST_ATTR, jsonp_request)
        # Another hook may answer before the view does (a rate limit, a
        # login): that answer goes through finish().
        jsonp_request.finish_later()
        jsonp_request.check()

    setattr(check_jsonp_request, HOOK_ATTR, True)
    return check_jsonp_request


def _ready(app: Flask, state: JsonpState, hook: Callable[[], None]) -> None:
    """Resolve every endpoint of ``app`` once, guards included, and take
    ``hook`` out of the app if no JSONP endpoint needs it.
    """
    ready_endpoints(app, state, make_guard)
    state.ready = True
    if not any(
        record.plan is not None and record.other_hooks
        for endpoint_record_ in state.endpoints.values()
        for record in (
            endpoint_record_.methods.values()
            if endpoint_record_.methods is not None
            else (endpoint_record_,)
        )
    ):
        hooks = app.before_request_funcs.get(None, [])
        # A new list: Flask may be iterating over the current one. None at all
        # if it would be empty: Flask then skips the key instead of looping
        # over an empty list on every request.
        others = [item for item in hooks if item is not hook]
        if others:
            app.before_request_funcs[None] = others
        else:
            app.before_request_funcs.pop(None, None)
