"""Document JSONP views in an OpenAPI spec built with apispec (flask-smorest,
APIFlask).

:class:`JsonpPlugin` adds, to each ``GET`` operation of a JSONP view, the
callback query parameter(s) and a ``text/javascript`` answer beside the JSON
one of the ``200`` response. Plain views are left as they are.

apispec is needed only by this module: import it only in an app that builds a
spec. flask-jsonp itself never imports it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from apispec import APISpec
from apispec import BasePlugin
from flask import current_app
from flask import Flask
from flask import has_app_context
from werkzeug.routing import Rule

from .discovery import Declaration
from .discovery import declarations
from .plan import Layers
from .plan import plan_for
from .response import JAVASCRIPT_MIMETYPE

__all__ = ["JsonpPlugin"]

#: A variable part of a Flask rule, ``<int:id>`` or ``<id>``, as OpenAPI writes
#: it: ``{id}`` (what flask-smorest and APIFlask do).
_RULE_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

#: The methods JSONP answers (a script tag only ever sends GET).
_JSONP_OPERATIONS = ("get",)

#: What the JSONP answer's schema says it is.
_SCRIPT_DESCRIPTION = (
    "With a callback, the same data as a script that calls the callback with it."
)


class JsonpPlugin(BasePlugin):
    """An apispec plugin that documents the JSONP side of JSONP views.

    For each ``GET`` operation whose view is a JSONP view (decorated with
    :func:`~flask_jsonp.jsonp`, or in a blueprint passed to
    :meth:`~flask_jsonp.JSONP.enable_blueprint`), it adds an optional query
    parameter for each of the view's ``callback_params`` and a
    ``text/javascript`` content to the ``200`` response.

    With flask-smorest, which documents each blueprint as it is registered,
    outside any app context, give it the app::

        from flask_jsonp.openapi import JsonpPlugin

        api = Api(app, spec_kwargs={"extra_plugins": [JsonpPlugin(app)]})

    With APIFlask, which builds the spec when ``app.spec`` is read or the spec
    is served, the current app is used::

        app = APIFlask(__name__, spec_plugins=[JsonpPlugin()])

    :param app: the application whose views the spec describes; by default
        the current app when the spec is built.
    :raise RuntimeError: when the spec is built, if no app was given and no
        app context is active.

    .. versionadded:: 0.1
    """

    def __init__(self, app: Flask | None = None) -> None:
        self.app = app
        self.openapi_major = 3

    def init_spec(self, spec: APISpec) -> None:
        self.openapi_major = spec.openapi_version.major

    def operation_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Document the callback of each JSONP operation in ``operations``."""
        if not operations:
            return
        app = self._get_app()
        rule = kwargs.get("rule")
        for method, operation in operations.items():
            if method not in _JSONP_OPERATIONS:
                continue
            endpoint = (
                rule.endpoint
                if isinstance(rule, Rule)
                else _endpoint_for(app, path, method)
            )
            view = app.view_functions.get(endpoint) if endpoint else None
            layers = None if view is None else _jsonp_layers(view)
            if layers is not None:
                self._document(app, operation, layers)

    def _get_app(self) -> Flask:
        if self.app is not None:
            return self.app
        if not has_app_context():
            raise RuntimeError(
                "JsonpPlugin needs the application whose views it documents:"
                " pass it, JsonpPlugin(app), or build the spec in an app context."
            )
        return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]

    def _document(
        self,
        app: Flask,
        operation: dict[str, Any],
        layers: Layers,
    ) -> None:
        options = plan_for(app, layers).options
        parameters = operation.setdefault("parameters", [])
        documented = {(p.get("in"), p.get("name")) for p in parameters}
        for name in options.callback_params:
            if ("query", name) not in documented:
                parameters.append(self._callback_parameter(name, options.envelope))
        responses = operation.setdefault("responses", {})
        ok = responses.get("200", responses.get(200))
        if ok is None:
            ok = responses["200"] = {"description": "OK"}
        if not isinstance(ok, dict) or "$ref" in ok:
            # A shared response object: it describes plain views too.
            return
        if self.openapi_major >= 3:
            script = {"schema": {"type": "string", "description": _SCRIPT_DESCRIPTION}}
            ok.setdefault("content", {}).setdefault(JAVASCRIPT_MIMETYPE, script)
        else:
            produces = operation.setdefault("produces", ["application/json"])
            if JAVASCRIPT_MIMETYPE not in produces:
                produces.append(JAVASCRIPT_MIMETYPE)

    def _callback_parameter(self, name: str, envelope: bool) -> dict[str, Any]:
        description = (
            "The name of the function to call with the answer (JSONP). Without"
            " it the answer is JSON."
        )
        if envelope:
            description += (
                " The function receives"
                ' `{"meta": {"status": <HTTP status>}, "data": <the JSON answer>}`'
                " and the HTTP status is always 200."
            )
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
        }
        if self.openapi_major >= 3:
            parameter["schema"] = {"type": "string"}
        else:
            parameter["type"] = "string"
        return parameter


def _endpoint_for(app: Flask, path: str | None, method: str) -> str | None:
    """The endpoint of the rule that OpenAPI writes as ``path`` and that
    answers ``method`` (APIFlask gives the path only).
    """
    if path is None:
        return None
    for rule in app.url_map.iter_rules():
        if rule.methods is not None and method.upper() not in rule.methods:
            continue
        if _RULE_VARIABLE.sub(r"{\1}", rule.rule) == path:
            endpoint: str = rule.endpoint
            return endpoint
    return None


def _jsonp_layers(view: Callable[..., Any]) -> Layers | None:
    """The layers of every JSONP wrapper covering a ``GET`` of ``view``,
    outermost first; ``None`` for a view that answers no JSONP.
    """
    found = declarations(view)
    if isinstance(found, dict):
        found = found.get("GET")
    return found.layers if isinstance(found, Declaration) else None
