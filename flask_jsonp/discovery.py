"""Where JSONP is declared for an endpoint: finding the JSONP wrappers behind a
view function.

A JSONP wrapper is the function :func:`~flask_jsonp.jsonp` (or blueprint mode)
makes; it carries itself under an attribute, so a function that copied its
attributes with :func:`functools.wraps` is never taken for one. The wrappers of
an endpoint are found from its view function by following what Flask and the
decorators users stack leave behind:

- the ``__wrapped__`` chain that :func:`functools.wraps` sets, through every
  decorator stacked on the view;
- for a class-based view (:meth:`flask.views.View.as_view`), the view class:
  its ``decorators``, its ``dispatch_request`` and, for a
  :class:`~flask.views.MethodView`, the method that the request's method
  chooses (``get`` for ``HEAD`` when there is no ``head``).

A class-based view can declare JSONP on one method and not another, so what an
endpoint needs is resolved per HTTP method. A wrapper that none of these paths
reaches (below a decorator that does not use :func:`functools.wraps`) is
*hidden*: it is found only through the closures of the functions above it, is
reported, and never answers JSONP for the endpoint (see
:mod:`flask_jsonp.wrapping`).

Everything here runs when an endpoint is resolved, once per endpoint, never on
each request.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.views import MethodView

from .plan import JsonpPlan
from .plan import Layers
from .plan import plan_for

View = Callable[..., Any]

#: A wrapper made by :mod:`flask_jsonp.wrapping` carries itself under this
#: attribute: a function whose attribute is another function (copied by
#: :func:`functools.wraps`) is not one.
_SELF_ATTR = "__jsonp_wrapper__"
#: The layers of a wrapper made there.
_LAYERS_ATTR = "__jsonp_layers__"

#: How far ``__wrapped__`` chains and closures are followed: far more
#: decorators than a view has, and a bound for chains that loop.
MAX_CHAIN_LENGTH = 64

#: The methods a view class without ``methods`` answers, as Flask's
#: ``add_url_rule`` defaults them.
_DEFAULT_METHODS = frozenset({"GET"})


def mark_wrapper(wrapper: View, layers: Layers) -> None:
    """Mark ``wrapper`` as a JSONP wrapper with ``layers``."""
    setattr(wrapper, _SELF_ATTR, wrapper)
    setattr(wrapper, _LAYERS_ATTR, layers)


def is_jsonp_wrapper(function: object) -> bool:
    """Tell whether ``function`` is a JSONP wrapper made by flask-jsonp itself,
    not a function that copied its attributes.

    .. versionadded:: 0.1
    """
    return getattr(function, _SELF_ATTR, None) is function


def wrapper_layers(wrapper: View) -> Layers:
    """The layers of the JSONP wrapper ``wrapper``."""
    layers: Layers = getattr(wrapper, _LAYERS_ATTR)
    return layers


def _unbound(function: Any) -> Any:
    # A bound method (a view class's method, a callable instance's __call__)
    # leads to its function.
    return getattr(function, "__func__", function)


def _chain(function: Any) -> Iterator[Any]:
    """``function`` and every function its ``__wrapped__`` chain leads to."""
    for _ in range(MAX_CHAIN_LENGTH):
        if function is None:
            return
        function = _unbound(function)
        yield function
        function = getattr(function, "__wrapped__", None)


def wrappers_in_chain(view: object) -> list[View]:
    """The JSONP wrappers in ``view``'s ``__wrapped__`` chain, outermost
    first.
    """
    return [function for function in _chain(view) if is_jsonp_wrapper(function)]


def view_class(view: object) -> type[Any] | None:
    """The class of a class-based view function, as
    :meth:`~flask.views.View.as_view` records it on the function (and
    :func:`functools.wraps` copies it onto decorators above).
    """
    for function in _chain(view):
        cls = getattr(function, "view_class", None)
        if isinstance(cls, type):
            return cls
    return None


def view_methods(view: object) -> frozenset[str]:
    """The HTTP methods a view function declares (``methods``), as Flask's
    ``add_url_rule`` reads them; ``GET`` when it declares none.
    """
    methods = getattr(view, "methods", None)
    if not methods:
        return _DEFAULT_METHODS
    return frozenset(method.upper() for method in methods)


def _method_handler(cls: type[Any], method: str) -> Any:
    """The function a :class:`~flask.views.MethodView` runs for ``method``,
    as its ``dispatch_request`` chooses it.
    """
    handler = getattr(cls, method.lower(), None)
    if handler is None and method == "HEAD":
        handler = getattr(cls, "get", None)
    return handler


@dataclass(frozen=True)
class Declaration:
    """Where JSONP is declared for one endpoint and one HTTP method.

    .. versionadded:: 0.1
    """

    #: The JSONP wrappers that run for it, outermost first.
    wrappers: tuple[View, ...]
    #: Their layers combined, outermost first.
    layers: Layers


def _declaration(wrappers: list[View]) -> Declaration | None:
    if not wrappers:
        return None
    layers = Layers()
    for wrapper in wrappers:
        layers = layers + wrapper_layers(wrapper)
    return Declaration(tuple(wrappers), layers)


def declarations(view: View) -> dict[str, Declaration | None] | Declaration | None:
    """Find where JSONP is declared behind the view function ``view``.

    :return: for a function view, its :class:`Declaration`, or ``None`` when it
        answers no JSONP; for a class-based view, one entry per HTTP method
        it may be dispatched (``HEAD`` included), each a declaration or
        ``None``.
    """
    outer = wrappers_in_chain(view)
    cls = view_class(view)
    if cls is None:
        return _declaration(outer)
    dispatch = wrappers_in_chain(getattr(cls, "dispatch_request", None))
    methods = set(getattr(cls, "methods", None) or view_methods(view))
    if "GET" in methods:
        methods.add("HEAD")
    found: dict[str, Declaration | None] = {}
    for method in sorted(methods):
        handler: list[View] = []
        if issubclass(cls, MethodView):
            handler = wrappers_in_chain(_method_handler(cls, method))
        found[method] = _declaration(outer + dispatch + handler)
    return found


def hidden_wrappers(view: View) -> list[tuple[View, View]]:
    """JSONP wrappers behind ``view`` that no ``__wrapped__`` chain reaches,
    found through the closures of the functions above them: each as the
    function that hides it (a decorator without :func:`functools.wraps`) and
    the wrapper.
    """
    roots: list[Any] = [view]
    cls = view_class(view)
    if cls is not None:
        roots.append(getattr(cls, "dispatch_request", None))
        roots.extend(getattr(cls, name.lower(), None) for name in (cls.methods or ()))
    seen: set[int] = set()
    visible: set[int] = set()
    for root in roots:
        visible.update(id(function) for function in _chain(root))
    found: list[tuple[View, View]] = []
    pending: list[Any] = [function for root in roots for function in _chain(root)]
    while pending and len(seen) < MAX_CHAIN_LENGTH * 4:
        function = pending.pop()
        if id(function) in seen or not callable(function):
            continue
        seen.add(id(function))
        for cell in getattr(function, "__closure__", None) or ():
            try:
                content = _unbound(cell.cell_contents)
            except ValueError:  # An empty cell.
                continue
            if not callable(content) or id(content) in seen:
                continue
            if is_jsonp_wrapper(content) and id(content) not in visible:
                found.append((function, content))
                visible.add(id(content))
            # Through a wrapper of our own, only what it wraps is the view.
            if not is_jsonp_wrapper(function) or content is function.__wrapped__:
                pending.extend(_chain(content))
    return found


def resolve_plans(
    app: Flask, endpoint: str, found: dict[str, Declaration | None] | Declaration | None
) -> dict[str, JsonpPlan | None] | JsonpPlan | None:
    """Resolve the plan of each declaration of ``endpoint``.

    :raise ValueError, TypeError: options that are valid alone but conflict
        once combined (a sunset before a deprecation given by another layer or
        by the config), naming the endpoint.
    """
    try:
        if found is None:
            return None
        if isinstance(found, Declaration):
            return plan_for(app, found.layers)
        return {
            method: None if declaration is None else plan_for(app, declaration.layers)
            for method, declaration in found.items()
        }
    except (TypeError, ValueError) as error:
        raise type(error)(
            f"the JSONP options of endpoint {endpoint!r} conflict: {error}"
            f" ({_describe_layers(found)})"
        ) from None


def _describe_layers(
    found: dict[str, Declaration | None] | Declaration | None,
) -> str:
    declarations_found = (
        [found] if isinstance(found, Declaration) else list((found or {}).values())
    )
    given = [
        ", ".join(f"{name}={value!r}" for name, value in layer) or "no options"
        for declaration in declarations_found
        if declaration is not None
        for layer in declaration.layers.overrides
    ]
    layers = "; ".join(dict.fromkeys(given))
    return f"layers, outermost first: {layers}; then the app's defaults and config"
