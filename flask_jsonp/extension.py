"""The Flask extension: app-wide defaults, blueprint mode and the bundled loader."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint
from flask import Flask
from flask import g
from flask import got_request_exception
from flask import Response
from flask.blueprints import BlueprintSetupState

from .loader import register_loader
from .options import check_overrides
from .options import config_key
from .options import DEFAULTS
from .options import EXTENSION_KEY
from .state import JsonpState
from .wrapping import finish
from .wrapping import JsonpRequest
from .wrapping import prepare

#: Where blueprint mode keeps the checked request between its two hooks.
_G_KEY = "_flask_jsonp_request"
#: Set on ``g`` when the request raised an exception no handler answered.
_G_FAILED_KEY = "_flask_jsonp_failed"


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
        warned = state.warned_endpoints if isinstance(state, JsonpState) else set()
        app.extensions[EXTENSION_KEY] = JsonpState(
            extension=self, defaults=dict(self.defaults), warned_endpoints=warned
        )
        register_loader(app)

    @staticmethod
    def enable_blueprint(
        blueprint: Blueprint,
        *,
        callback_params: str | Iterable[str] | None = None,
        max_callback_length: int | None = None,
        allowed_callbacks: Iterable[str] | None = None,
        allowed_referrers: Iterable[str] | None = None,
        envelope: bool | None = None,
    ) -> Blueprint:
        """Answer JSONP from every view of ``blueprint``, as if each were
        decorated with :func:`~flask_jsonp.jsonp` with these options.

        Meant for a blueprint of public API views::

            api = JSONP.enable_blueprint(Blueprint("api", __name__))

        HTTP errors raised by the views go through the app's error handlers
        first; with the envelope, the callback receives the handler's JSON, or
        the status's standard name and description.

        :return: the blueprint, for one-line use.

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

        def prepare_jsonp() -> None:
            setattr(g, _G_KEY, prepare(overrides))

        def finish_jsonp(response: Response) -> Response:
            jsonp_request: JsonpRequest | None = g.pop(_G_KEY, None)
            if jsonp_request is None:
                return response
            if g.pop(_G_FAILED_KEY, False):
                # An unhandled exception: answer the plain 500, as the decorator
                # does, rather than a script.
                jsonp_request = JsonpRequest(None, jsonp_request.options)
            return finish(response, jsonp_request)

        blueprint.before_request(prepare_jsonp)
        blueprint.after_request(finish_jsonp)
        blueprint.record_once(_watch_unhandled_exceptions)
        return blueprint


def _remember_unhandled_exception(sender: Flask, **extra: Any) -> None:
    setattr(g, _G_FAILED_KEY, True)


def _watch_unhandled_exceptions(state: BlueprintSetupState) -> None:
    # Flask runs after_request hooks on the 500 answer to an unhandled exception
    # too; this signal is how blueprint mode tells it from an HTTP error.
    got_request_exception.connect(_remember_unhandled_exception, state.app, weak=False)
