"""The Flask extension: app-wide defaults, blueprint mode and the bundled loader."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask import Flask
from flask.blueprints import BlueprintSetupState

from .discovery import declarations
from .discovery import resolve_plans
from .endpoints import check_endpoints
from .endpoints import is_check_request_hook
from .hook import check_request_hook
from .loader import register_loader
from .options import check_config
from .options import check_overrides
from .options import config_key
from .options import DEFAULTS
from .options import EXTENSION_KEY
from .options import resolve
from .plan import Layers
from .state import JsonpState
from .state import state_for
from .wrapping import wrap_view


class JSONP:
    """Set up flask-jsonp on an application.

    The extension is optional: :func:`~flask_jsonp.jsonp` works on its own. It
    checks the ``JSONP_*`` config and sets its defaults, records app-wide
    defaults, serves the bundled JavaScript loader and adds the
    ``jsonp_loader()`` template helper. It also makes the policy of every
    JSONP view hold whatever is stacked on it: each request to a JSONP
    endpoint is checked before any other extension's ``before_request``
    function and any decorator above ``@jsonp`` (a login, a cache, a rate
    limit) runs, and the final response of such a view is wrapped. It never
    turns JSONP on for views by itself: answering JSONP on every route would
    hand private JSON to any page.

    ::

        jsonp_extension = JSONP(allowed_referrers=["https://app.example"])

        def create_app():
            app = Flask(__name__)
            jsonp_extension.init_app(app)
            return app

    Name the extension object anything but ``jsonp``, which is the decorator.

    :param app: the application, or ``None`` to call :meth:`init_app` later.
    :param defaults: option defaults for every app this extension is set up on;
        they take precedence over the app's ``JSONP_*`` config.
    :raise TypeError, ValueError: for an unknown option or an invalid value.

    .. versionadded:: 0.1
    """

    def __init__(self, app: Flask | None = None, **defaults: Any) -> None:
        self.defaults = check_overrides(defaults)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Set up the extension on ``app`` (application factory pattern).

        :raise TypeError, ValueError: for an unknown ``JSONP_*`` config key or
            an invalid value, naming the key; the app is then left as it was.
        """
        check_config(app.config)
        resolve(app.config, self.defaults)
        previous = app.extensions.get(EXTENSION_KEY)
        if isinstance(previous, JsonpState):
            warned, blueprint_layers = (
                previous.warned_endpoints,
                previous.blueprint_layers,
            )
        else:
            warned, blueprint_layers = set(), {}
        # Views resolve their options again on their next request.
        app.extensions[EXTENSION_KEY] = JsonpState(
            extension=self,
            defaults=dict(self.defaults),
            blueprint_layers=blueprint_layers,
            warned_endpoints=warned,
        )
        try:
            # The routes that exist already: options that conflict only once
            # combined are refused now, not on the first request.
            check_endpoints(app)
            # Fails on an app that has served requests.
            register_loader(app)
        except Exception:
            if previous is None:
                del app.extensions[EXTENSION_KEY]
            else:
                app.extensions[EXTENSION_KEY] = previous
            raise
        for name, default in DEFAULTS.items():
            app.config.setdefault(config_key(name), default)
        hooks = app.before_request_funcs.setdefault(None, [])
        if not any(is_check_request_hook(hook) for hook in hooks):
            # First: the policy is checked before any other extension's hook
            # (a rate limit, a login) runs, whichever was set up first.
            hooks.insert(0, check_request_hook(app))

    @staticmethod
    def enable_blueprint(
        blueprint: Blueprint,
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
    ) -> Blueprint:
        """Answer JSONP from every view of ``blueprint``, as if each were
        decorated with :func:`~flask_jsonp.jsonp` with these options.

        Meant for a blueprint of public API views::

            api = JSONP.enable_blueprint(Blueprint("api", __name__))

        Each view the blueprint adds is wrapped when the blueprint is
        registered, with the same wrapper as the decorator's, whether it was
        added before or after this call. Views that are JSONP views already
        (with :func:`~flask_jsonp.jsonp` outermost), and the views of a JSONP
        blueprint nested in this one, get this blueprint's options as one more
        layer: the answer is wrapped once and the strictest policy applies.
        Calling this again on the same blueprint adds another layer. The
        views of a nested blueprint that is not enabled itself answer no
        JSONP.

        HTTP errors raised by the views go through the app's error handlers
        first; with the envelope, the callback receives the handler's JSON, or
        the status's standard name and description.

        :param blueprint: the blueprint whose views answer JSONP.
        :param callback_params: as for :func:`~flask_jsonp.jsonp`.
        :param max_callback_length: as for :func:`~flask_jsonp.jsonp`.
        :param callback_policy: as for :func:`~flask_jsonp.jsonp`.
        :param allowed_callbacks: as for :func:`~flask_jsonp.jsonp`.
        :param allowed_referrers: as for :func:`~flask_jsonp.jsonp`.
        :param allowed_referrers_report_only: as for :func:`~flask_jsonp.jsonp`.
        :param envelope: as for :func:`~flask_jsonp.jsonp`.
        :param deprecation: as for :func:`~flask_jsonp.jsonp`.
        :param sunset: as for :func:`~flask_jsonp.jsonp`.
        :param deprecation_link: as for :func:`~flask_jsonp.jsonp`.
        :param etag: as for :func:`~flask_jsonp.jsonp`.
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
                "allowed_referrers_report_only": allowed_referrers_report_only,
                "envelope": envelope,
                "deprecation": deprecation,
                "sunset": sunset,
                "deprecation_link": deprecation_link,
                "etag": etag,
            }
        )
        # Any: Flask 2.3 and 3 type the setup functions' return differently.
        deferred: list[Any] = blueprint.deferred_functions
        setups = [item for item in deferred if isinstance(item, _JsonpBlueprintSetup)]
        if setups:
            setup = setups[0]
        else:
            setup = _JsonpBlueprintSetup()
            # record() refuses a blueprint that is registered already.
            blueprint.record(setup)
            # First of the setup functions, so that every view the blueprint
            # adds goes through it, whenever it was declared.
            deferred.remove(setup)
            deferred.insert(0, setup)
        setup.layers.append(overrides)
        return blueprint


class _JsonpBlueprintSetup:
    """The setup function of a JSONP blueprint, holding the options of each
    :meth:`JSONP.enable_blueprint` call on it, in call order.
    """

    def __init__(self) -> None:
        self.layers: list[dict[str, Any]] = []

    def __call__(self, state: BlueprintSetupState) -> None:
        _wrap_blueprint_views(state, Layers.of(*reversed(self.layers)))


def _wrap_blueprint_views(state: BlueprintSetupState, own: Layers) -> None:
    """Wrap the views a JSONP blueprint adds as it is registered: with the
    layers of its nearest JSONP parent (which hold its own parents'), then its
    own.
    """
    # Any: Flask 3 types the setup state's app as its sans-IO base class.
    app: Any = state.app
    jsonp_state = state_for(app)
    name = f"{state.name_prefix}.{state.name}".lstrip(".")
    # A nested blueprint is registered after its parents, so the layers of
    # its JSONP parents are known.
    parents = [
        jsonp_state.blueprint_layers[prefix]
        for prefix in _dotted_prefixes(name)
        if prefix in jsonp_state.blueprint_layers
    ]
    layers = (parents[-1] if parents else Layers()) + own
    jsonp_state.blueprint_layers[name] = layers

    def wrap(endpoint: str, view: Callable[..., Any]) -> Callable[..., Any]:
        # wrap_view adds each layer as the outermost one: innermost first.
        for layer in reversed(layers.mappings()):
            view = wrap_view(view, layer)
        # Options that conflict only once combined with the view's own are
        # refused now, naming the endpoint, not on the first request.
        resolve_plans(app, endpoint, declarations(view))
        return view

    add_url_rule = state.add_url_rule

    def add_jsonp_url_rule(
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        **options: Any,
    ) -> None:
        if view_func is not None:
            name = endpoint or view_func.__name__
            full_name = f"{state.name_prefix}.{state.name}.{name}".lstrip(".")
            view_func = wrap(full_name, view_func)
        add_url_rule(rule, endpoint, view_func, **options)

    # This setup function runs first, so every view the blueprint adds goes
    # through the setup state; it is discarded when the registration ends.
    state.add_url_rule = add_jsonp_url_rule  # type: ignore[method-assign]


def _dotted_prefixes(name: str) -> list[str]:
    """``"a.b.c"`` gives ``["a", "a.b"]``."""
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]
