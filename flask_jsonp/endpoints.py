"""What each endpoint needs, resolved once and kept in the app's state.

:mod:`flask_jsonp.discovery` finds where JSONP is declared behind a view
function; this module resolves those declarations into plans for one app,
records them per endpoint, and puts a guard in place of a view function that
has JSONP wrappers below other decorators, so that the endpoint's view function
always checks first (the extension does this on the app's first request).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask

from .discovery import Declaration
from .discovery import declarations
from .discovery import hidden_wrappers
from .discovery import resolve_plans
from .plan import JsonpPlan
from .state import EndpointRecord
from .state import JsonpState

#: Where set-up problems are reported.
logger = logging.getLogger("flask_jsonp")

View = Callable[..., Any]

#: Makes a guard: a JSONP wrapper without options of its own around a view
#: function, put in the app's view functions in its place.
GuardFactory = Callable[[View], View]

#: Marks the extension's ``before_request`` hook, so it is added once per app
#: and told apart from the app's other hooks.
HOOK_ATTR = "_flask_jsonp_hook"


def is_check_request_hook(function: object) -> bool:
    """Tell whether ``function`` is the extension's ``before_request`` hook."""
    return getattr(function, HOOK_ATTR, False) is True


def other_hooks(app: Flask, endpoint: str) -> bool:
    """Whether ``before_request`` functions besides the extension's run for
    ``endpoint``: the app's, and those of the blueprints it belongs to (the
    names Flask's ``request.blueprints`` gives).
    """
    funcs = app.before_request_funcs
    names = []
    blueprint = endpoint.rpartition(".")[0]
    while blueprint:
        names.append(blueprint)
        blueprint = blueprint.rpartition(".")[0]
    app_hooks = funcs.get(None, ())
    return any(not is_check_request_hook(hook) for hook in app_hooks) or any(
        funcs.get(name) for name in names
    )


def _record(
    view: View,
    declaration: Declaration | None,
    plan: JsonpPlan | None,
    guard: View | None,
    hooks: bool,
) -> EndpointRecord:
    if declaration is None or plan is None:
        return EndpointRecord(view if guard is None else guard)
    wrappers = declaration.wrappers
    if guard is not None:
        wrappers = (guard, *wrappers)
        view = guard
    return EndpointRecord(view, frozenset(wrappers), plan, hooks)


def endpoint_record(
    app: Flask,
    state: JsonpState,
    endpoint: str,
    view: View | None,
    make_guard: GuardFactory | None = None,
) -> EndpointRecord:
    """Resolve what ``endpoint`` needs and keep it in the app's state.

    :param make_guard: given, a guard is put in place of a view function that
        is not itself a JSONP wrapper but has JSONP wrappers behind it, so that
        the final return value is wrapped and the checks run first (the
        extension's hook does this; the decorator alone does not change the
        app's view functions).
    :raise ValueError, TypeError: the endpoint's options conflict once
        combined.
    """
    if view is None:
        record = EndpointRecord(None)
        state.endpoints[endpoint] = record
        return record
    found = declarations(view)
    plans = resolve_plans(app, endpoint, found)
    hooks = other_hooks(app, endpoint)
    if isinstance(found, dict):
        assert isinstance(plans, dict)
        needs_guard = any(
            declaration is not None and declaration.wrappers[0] is not view
            for declaration in found.values()
        )
        guard = make_guard(view) if needs_guard and make_guard else None
        methods = {
            method: _record(view, declaration, plans[method], guard, hooks)
            for method, declaration in found.items()
        }
        if guard is not None:
            app.view_functions[endpoint] = guard
        record = EndpointRecord(view if guard is None else guard, methods=methods)
    else:
        assert not isinstance(plans, dict)
        guard = None
        if found is not None and found.wrappers[0] is not view and make_guard:
            guard = make_guard(view)
            app.view_functions[endpoint] = guard
        record = _record(view, found, plans, guard, hooks)
    state.endpoints[endpoint] = record
    return record


def failing_view(error: Exception) -> View:
    """A view function that fails every request with ``error``: the endpoint
    of a view whose options conflict fails closed, and alone.
    """

    def conflicting_jsonp_options(*args: Any, **kwargs: Any) -> Any:
        raise error

    return conflicting_jsonp_options


def ready_endpoints(app: Flask, state: JsonpState, make_guard: GuardFactory) -> None:
    """Resolve every endpoint of ``app`` once, guards included.

    An endpoint whose options conflict is replaced by a view that fails every
    request to it, and the conflict is logged: the rest of the app is served.
    JSONP wrappers hidden below a decorator without :func:`functools.wraps` are
    reported.
    """
    for endpoint, view in list(app.view_functions.items()):
        try:
            endpoint_record(app, state, endpoint, view, make_guard)
        except (TypeError, ValueError) as error:
            logger.error("%s: every request to it fails until this is fixed", error)
            failing = failing_view(error)
            app.view_functions[endpoint] = failing
            state.endpoints[endpoint] = EndpointRecord(failing)
            continue
        warn_hidden(endpoint, view)


def check_endpoints(app: Flask) -> None:
    """Refuse, at set-up, an endpoint whose JSONP options conflict once
    combined (a layer's ``deprecation`` after another's ``sunset``, or after
    the config's): each is valid alone, so only the endpoint tells.

    :raise ValueError, TypeError: naming the endpoint and the options.
    """
    for endpoint, view in app.view_functions.items():
        resolve_plans(app, endpoint, declarations(view))


def hidden_message(endpoint: str, hider: View, wrapper: View) -> str:
    """What to say of a JSONP view hidden below a decorator."""
    return (
        f"endpoint {endpoint!r}: the JSONP view {_name(wrapper)} is below"
        f" {_name(hider)}, a decorator that does not use functools.wraps, so"
        " flask-jsonp cannot see it: it answers no JSONP. Decorate the inner"
        " function of that decorator with @functools.wraps(view), or put @jsonp"
        " above it."
    )


def warn_hidden(endpoint: str, view: View) -> None:
    """Log each JSONP wrapper hidden behind ``view``."""
    for hider, wrapper in hidden_wrappers(view):
        logger.warning(hidden_message(endpoint, hider, wrapper))


def _name(function: View) -> str:
    module = getattr(function, "__module__", None) or "?"
    name = getattr(function, "__qualname__", None) or repr(function)
    return f"{module}.{name}"
