"""The one mechanism behind every entry point: the JSONP wrapper, and where
its answer is built.

Every door goes through :func:`wrap_view`: the :func:`~flask_jsonp.jsonp`
decorator calls it on the view, :meth:`~flask_jsonp.JSONP.enable_blueprint` on
each view of the blueprint when it is registered. Wrapping a view that is itself
a JSONP wrapper adds a layer to it; any other function (a wrapper of someone
else's, even one that copied this one's attributes with :func:`functools.wraps`)
is wrapped whole, so no decorator between two layers is ever skipped.

**Where the checks run.** The JSONP wrappers of an endpoint are found once per
endpoint (:mod:`flask_jsonp.discovery`, :mod:`flask_jsonp.endpoints`), their
options combined into one plan, and the request is checked against it before
anything stacked above ``@jsonp`` runs when :class:`~flask_jsonp.JSONP` is set
up: its hook (:mod:`flask_jsonp.hook`) puts a guard, a JSONP wrapper of its
own, in place of each view function that has JSONP wrappers below other
decorators (class-based views included), so that the endpoint's view function
always checks first. Without the extension, the outermost JSONP wrapper that
runs checks when it is reached.

**Where the answer is built.** When a JSONP wrapper is the endpoint's view
function, it builds the answer from the view's return value in one step. When
something is stacked above it, the wrapper hands the return value on as the
view returned it (an API framework's schema then applies), and the final
response is wrapped by :meth:`~flask_jsonp.jsonp_request.JsonpRequest.finish`.
Error answers, whoever makes them, go through that same method. The answer is
always a new response: a response the view returns is never changed.

**What the set-up cannot see.** A JSONP wrapper that is reached but was not
found behind the endpoint's view function (below a decorator that does not use
:func:`functools.wraps`, or called as a function by a plain view) checks the
request with its own options and returns the view's value as it is: it never
builds a script, since whatever sits above it (a cache) might keep that script
for another page. The first time, a warning names it and the fix.

A JSONP view called by another one checks its own options against the callback
being answered and leaves the wrapping to the outer one;
:func:`~flask_jsonp.jsonpify` inside any of them returns plain JSON.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from collections.abc import Mapping
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
from werkzeug.exceptions import HTTPException

from .answer import add_notice
from .answer import answer_from_response
from .answer import answer_from_value
from .answer import copy_response
from .answer import error_data
from .answer import finished_copy
from .answer import make_private
from .answer import script_only_answer
from .discovery import is_jsonp_wrapper
from .discovery import mark_wrapper
from .discovery import wrapper_layers
from .endpoints import endpoint_record
from .errors import add_nosniff
from .errors import NOSNIFF
from .jsonp_request import JsonpRequest
from .jsonp_request import REFUSED_KEY
from .jsonp_request import REQUEST_ATTR
from .options import EXTENSION_KEY
from .plan import APP_LAYERS
from .plan import Layers
from .plan import plan_for
from .state import JsonpState
from .state import MAX_WARNED_ENDPOINTS
from .state import state_for

P = ParamSpec("P")
R = TypeVar("R")

View = Callable[..., Any]

#: Where a JSONP view that the set-up cannot see is reported.
logger = logging.getLogger("flask_jsonp")


def _answer(
    app: Flask,
    jsonp_request: JsonpRequest,
    call: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Response:
    """Call the view and build the answer from what it returns, in one step."""
    jsonp_request.active = True
    try:
        rv = call(*args, **kwargs)
        jsonp_request.answered = True
        callback = jsonp_request.checked
        if callback is None:
            return _json_answer(app, rv)
        plan = jsonp_request.plan
        if (
            plan.script_only
            and (type(rv) is dict or type(rv) is list)
            and not jsonp_request.depends_on_page
        ):
            answer = script_only_answer(app, plan, callback, rv, jsonp_request.environ)
        else:
            built = answer_from_value(
                app, plan, callback, rv, jsonp_request.private, jsonp_request.environ
            )
            if built is None:
                return _answer_response(app, jsonp_request, callback, rv)
            answer = built
        jsonp_request.answered_with(callback)
        return answer
    except HTTPException as error:
        jsonp_request.answered = False
        jsonp_request.error = error
        jsonp_request.finish_later()
        raise
    except Exception:
        # Never enveloped, never a script: Flask answers it (with the app's
        # handlers, or a plain 500), and the answer gets nosniff.
        jsonp_request.answered = False
        jsonp_request.unhandled = True
        jsonp_request.finish_later()
        raise
    finally:
        jsonp_request.active = False


def _answer_response(
    app: Flask, jsonp_request: JsonpRequest, callback: str, rv: Any
) -> Response:
    """Build the answer to a view's value that is not a dict or a list: a
    response, or a value Flask makes one of.
    """
    plan, private = jsonp_request.plan, jsonp_request.private
    response = app.make_response(rv)
    envelope_error = None
    if plan.envelope and response.status_code >= 400:
        envelope_error = error_data(response, None, trust_body=True)
    answer = answer_from_response(
        app, plan, callback, response, private, envelope_error, jsonp_request.environ
    )
    if answer is None:
        # Not JSON (a redirect, a page, a file): answered as it is.
        finished = finished_copy(response, private)
        add_notice(finished, plan)
        return finished
    jsonp_request.answered_with(callback)
    return answer


def _hand_on(
    jsonp_request: JsonpRequest,
    call: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Call the view and return what it returns, for the final response to be
    wrapped by :meth:`JsonpRequest.finish`.
    """
    jsonp_request.active = True
    try:
        rv = call(*args, **kwargs)
    except HTTPException as error:
        jsonp_request.error = error
        raise
    except Exception:
        jsonp_request.unhandled = True
        raise
    finally:
        jsonp_request.active = False
    jsonp_request.returned = True
    return rv


def _with_nosniff(response: Response) -> Response:
    finished = copy_response(response)
    add_nosniff(finished)
    return finished


def _without_callback(
    app: Flask,
    req: Any,
    wrapper: View,
    call: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Answer a request that cannot ask for JSONP (it has no query string) as
    the view does, with nosniff.
    """
    try:
        rv = call(*args, **kwargs)
    except Exception:
        after_this_request(_with_nosniff)
        raise
    rule = req.url_rule
    if rule is None or app.view_functions.get(rule.endpoint) is not wrapper:
        # Below someone else's decorator, or called by another view: the
        # value is handed on as the view returned it.
        after_this_request(_with_nosniff)
        return rv
    return _json_answer(app, rv)


def _json_answer(app: Flask, rv: Any) -> Response:
    """The response Flask would make of the view's value, with nosniff."""
    if type(rv) is dict or type(rv) is list:
        # What Flask's make_response does for these, on a response that is
        # new: add() costs less than setting the header.
        provider: Any = app.json
        plain: Response = provider.response(rv)
        plain.headers.add("X-Content-Type-Options", NOSNIFF)
        return plain
    response = app.make_response(rv)
    if response is rv:
        # The view's own response, which it may reuse.
        response = copy_response(response)
    add_nosniff(response)
    return response


def _unseen(
    app: Flask,
    environ: dict[str, Any],
    wrapper: View,
    layers: Layers,
    call: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Run a JSONP view that the endpoint's set-up did not find: check the
    request with its own options, and return the view's value as it is.
    """
    _report_unseen(app, wrapper)
    req = request._get_current_object()  # type: ignore[attr-defined]
    previous = getattr(req, REQUEST_ATTR, None)
    jsonp_request = JsonpRequest(
        app, environ, plan_for(app, layers), frozenset({wrapper}), wrapper
    )
    setattr(req, REQUEST_ATTR, jsonp_request)
    try:
        jsonp_request.check()
        return _hand_on(jsonp_request, call, args, kwargs)
    finally:
        setattr(req, REQUEST_ATTR, previous)


def _report_unseen(app: Flask, wrapper: View) -> None:
    reported = state_for(app).reported_unseen
    if wrapper in reported or len(reported) >= MAX_WARNED_ENDPOINTS:
        return
    reported.add(wrapper)
    name = f"{wrapper.__module__}.{wrapper.__qualname__}"
    logger.warning(
        "The JSONP view %s ran in a request to endpoint %r, but flask-jsonp did"
        " not find it behind that endpoint's view function: it sits below a"
        " decorator that does not use functools.wraps, or another view calls"
        " it. It answers no JSONP there (no script that a decorator above could"
        " keep for another page). Use @functools.wraps(view) in the decorator,"
        " or route the JSONP view itself.",
        name,
        request.endpoint,
    )


def _make_wrapper(inner: View, layers: Layers) -> View:
    # Decided once: a sync view is called directly, which is what ensure_sync
    # would return for it.
    is_async = inspect.iscoroutinefunction(inner)

    @wraps(inner)
    def jsonp_view(*args: Any, **kwargs: Any) -> Any:
        # A proxy's attribute costs four times _get_current_object().
        req = request._get_current_object()  # type: ignore[attr-defined]
        jsonp_request: JsonpRequest | None = getattr(req, REQUEST_ATTR, None)
        if jsonp_request is not None:
            app = jsonp_request.app
            call = app.ensure_sync(inner) if is_async else inner
            if jsonp_request.active:
                # Called by another JSONP view, which wraps the answer.
                if jsonp_view not in jsonp_request.covered:
                    jsonp_request.check_nested(app, layers)
                return call(*args, **kwargs)
            if jsonp_request.top is jsonp_view:
                # The extension's hook has checked the request.
                return _answer(app, jsonp_request, call, args, kwargs)
        else:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            call = app.ensure_sync(inner) if is_async else inner
        environ = req.environ
        if not environ.get("QUERY_STRING"):
            # No query string, no callback: nothing to check or wrap.
            return _without_callback(app, req, jsonp_view, call, args, kwargs)
        rule = req.url_rule
        if rule is None:
            return _unseen(app, environ, jsonp_view, layers, call, args, kwargs)
        endpoint = rule.endpoint
        view = app.view_functions.get(endpoint)
        state: JsonpState | None = app.extensions.get(EXTENSION_KEY)
        record = None if state is None else state.endpoints.get(endpoint)
        if record is None or record.view is not view:
            record = endpoint_record(app, state_for(app), endpoint, view)
        if record.methods is not None:
            record = record.for_method(req.method)
        plan = record.plan
        if plan is not None and record.view is jsonp_view:
            # The endpoint's view function: it checks first, and builds the
            # answer in one step.
            jsonp_request = JsonpRequest(app, environ, plan, record.covered, jsonp_view)
            setattr(req, REQUEST_ATTR, jsonp_request)
            jsonp_request.check()
            return _answer(app, jsonp_request, call, args, kwargs)
        if jsonp_view in record.covered:
            assert plan is not None
            # Below someone else's decorator: the final response is wrapped.
            jsonp_request = JsonpRequest(
                app, environ, plan, record.covered, record.view
            )
            setattr(req, REQUEST_ATTR, jsonp_request)
            jsonp_request.finish_later()
            jsonp_request.check()
            return _hand_on(jsonp_request, call, args, kwargs)
        if record.view is jsonp_view:
            # The guard of a class-based view, for a method that answers no
            # JSONP.
            return call(*args, **kwargs)
        return _unseen(app, environ, jsonp_view, layers, call, args, kwargs)

    mark_wrapper(jsonp_view, layers)
    return jsonp_view


def make_guard(view: View) -> View:
    """A JSONP wrapper without options of its own around the view function
    ``view``, put in its place so that the endpoint's checks run first.
    """
    return _make_wrapper(view, Layers())


def wrap_view(view: Callable[P, R], overrides: Mapping[str, Any]) -> Callable[P, R]:
    """Return ``view`` answering JSONP with ``overrides`` as its outermost
    layer.

    A view that is itself a wrapper made here is not wrapped again: the new
    layer is added to its layers. Anything else is wrapped whole. Sync and
    ``async`` views are both run as Flask runs views.

    .. versionadded:: 0.1
    """
    layers = Layers.of(overrides)
    inner: View = view
    if is_jsonp_wrapper(view):
        inner = view.__wrapped__  # type: ignore[attr-defined]
        layers = layers + wrapper_layers(view)
    return cast(Callable[P, R], _make_wrapper(inner, layers))


def jsonp_from_response(response: Response) -> Response:
    """Answer ``response`` as JSONP if the current request asks for it, with
    the app's options: the mechanism behind :func:`~flask_jsonp.jsonpify`.

    In a request to a JSONP endpoint (inside its view, or in an error handler
    it leads to), and after a refusal, the response is returned as it is: the
    endpoint's wrapping applies, with all its layers.

    :param response: a response made for this call (never a view's own).

    .. versionadded:: 0.1
    """
    req = request._get_current_object()  # type: ignore[attr-defined]
    environ = req.environ
    if getattr(req, REQUEST_ATTR, None) is not None or REFUSED_KEY in environ:
        add_nosniff(response)
        return response
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    jsonp_request = JsonpRequest(app, environ, plan_for(app, APP_LAYERS))
    jsonp_request.check()
    callback = jsonp_request.checked
    if callback is None:
        add_nosniff(response)
        return response
    plan = jsonp_request.plan
    answer = answer_from_response(
        app, plan, callback, response, plan.private, environ=environ
    )
    if answer is not None:
        jsonp_request.answered_with(callback)
        return answer
    add_nosniff(response)
    add_notice(response, plan)
    if plan.private:
        make_private(response)
    return response
