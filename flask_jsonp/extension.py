"""The Flask extension: app-wide defaults, blueprint mode and the bundled loader."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from flask import Blueprint
from flask import Flask
from flask.blueprints import BlueprintSetupState

from .loader import register_loader
from .options import check_overrides
from .options import config_key
from .options import DEFAULTS
from .options import EXTENSION_KEY
from .state import JsonpState
from .state import state_for
from .wrapping import Layers
from .wrapping import wrap_view


class JSONP:
    """Set up flask-jsonp on an application.

    The extension is optional: :func:`~flask_jsonp.jsonp` works on its own. It
    sets the ``JSONP_*`` config defaults, records app-wide defaults, serves the
    bundled JavaScript loader and adds the ``jsonp_loader()`` template helper.
    It never turns JSONP on for views by itself: answering JSONP on every route
    would hand private JSON to any page.

    ::

        jsonp = JSONP(allowed_referrers=["https://app.example"])

        def create_app():
            app = Flask(__name__)
            jsonp.init_app(app)
            return app

    :param app: the application, or ``None`` to call :meth:`init_app` later.
    :param defaults: option defaults for every app this extension is set up on;
        they take precedence over the app's ``JSONP_*`` config.

    .. versionadded:: 0.1
    """

    def __init__(self, app: Flask | None = None, **defaults: Any) -> None:
        self.defaults = check_overrides(defaults)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Set up the extension on ``app`` (application factory pattern)."""
        for name, default in DEFAULTS.items():
            app.config.setdefault(config_key(name), default)
        state = app.extensions.get(EXTENSION_KEY)
        if isinstance(state, JsonpState):
            warned, blueprint_layers = state.warned_endpoints, state.blueprint_layers
        else:
            warned, blueprint_layers = set(), {}
        # Views resolve their options again on their next request.
        app.extensions[EXTENSION_KEY] = JsonpState(
            extension=self,
            defaults=dict(self.defaults),
            blueprint_layers=blueprint_layers,
            warned_endpoints=warned,
        )
        register_loader(app)

    @staticmethod
    def enable_blueprint(
        blueprint: Blueprint,
        *,
        callback_params: str | Iterable[str] | None = None,
        max_callback_length: int | None = None,
        callback_policy: str | None = None,
        allowed_callbacks: Iterable[str] | None = None,
        allowed_referrers: Iterable[str] | None = None,
        envelope: bool | None = None,
    ) -> Blueprint:
        """Answer JSONP from every view of ``blueprint``, as if each were
        decorated with :func:`~flask_jsonp.jsonp` with these options.

        Meant for a blueprint of public API views::

            api = JSONP.enable_blueprint(Blueprint("api", __name__))

        Each view is wrapped when the blueprint is registered, with the same
        wrapper as the decorator's. Views that are JSONP views already (with
        :func:`~flask_jsonp.jsonp`), and the views of a JSONP blueprint nested
        in this one, get this blueprint's options as one more layer: the
        answer is wrapped once and the strictest policy applies. The views of
        a nested blueprint that is not enabled itself answer no JSONP.

        HTTP errors raised by the views go through the app's error handlers
        first; with the envelope, the callback receives the handler's JSON, or
        the status's standard name and description.

        :param blueprint: the blueprint whose views answer JSONP.
        :param callback_params: as for :func:`~flask_jsonp.jsonp`.
        :param max_callback_length: as for :func:`~flask_jsonp.jsonp`.
        :param callback_policy: as for :func:`~flask_jsonp.jsonp`.
        :param allowed_callbacks: as for :func:`~flask_jsonp.jsonp`.
        :param allowed_referrers: as for :func:`~flask_jsonp.jsonp`.
        :param envelope: as for :func:`~flask_jsonp.jsonp`.
        :return: the blueprint, for one-line use.
        :raise TypeError, ValueError: for invalid options, at once.

        .. versionadded:: 0.1
        """
        overrides = check_overrides(
            {
                "callback_params": callback_params,
                "max_callback_length": max_callback_length,
                "callback_policy": callback_policy,
                "allowed_callbacks": allowed_callbacks,
                "allowed_referrers": allowed_referrers,
                "envelope": envelope,
            }
        )

        def wrap_blueprint_views(state: BlueprintSetupState) -> None:
            _wrap_blueprint_views(state, overrides)

        blueprint.record(wrap_blueprint_views)
        return blueprint


def _wrap_blueprint_views(
    state: BlueprintSetupState, overrides: dict[str, Any]
) -> None:
    """Wrap the views of a JSONP blueprint as it is registered: those already
    added to the app, and those its later setup functions add.
    """
    # Any: Flask 3 types the setup state's app as its sans-IO base class.
    app: Any = state.app
    jsonp_state = state_for(app)
    name = f"{state.name_prefix}.{state.name}".lstrip(".")
    # A nested blueprint is registered after its parents, so the layers of the
    # nearest JSONP parent (which hold its own parents') are known.
    parents = [
        jsonp_state.blueprint_layers[prefix]
        for prefix in _dotted_prefixes(name)
        if prefix in jsonp_state.blueprint_layers
    ]
    outer = parents[-1].overrides if parents else ()
    layers = Layers((*outer, overrides))
    jsonp_state.blueprint_layers[name] = layers

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        # wrap_view adds each layer as the outermost one: innermost first.
        for layer in reversed(layers.overrides):
            view = wrap_view(view, layer)
        return view

    own_prefix, depth = f"{name}.", name.count(".") + 1
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith(own_prefix) and endpoint.count(".") == depth:
            app.view_functions[endpoint] = wrap(view)

    add_url_rule = state.add_url_rule

    def add_jsonp_url_rule(
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        **options: Any,
    ) -> None:
        add_url_rule(
            rule, endpoint, None if view_func is None else wrap(view_func), **options
        )

    # The views the blueprint's later setup functions add go through the setup
    # state; this one is discarded when the registration ends.
    state.add_url_rule = add_jsonp_url_rule  # type: ignore[method-assign]


def _dotted_prefixes(name: str) -> list[str]:
    """``"a.b.c"`` gives ``["a", "a.b"]``."""
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]
