"""Per-application state, kept in ``app.extensions["jsonp"]``."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import TYPE_CHECKING

from flask import Flask

from .options import EXTENSION_KEY

if TYPE_CHECKING:
    from .extension import JSONP
    from .wrapping import JsonpPlan
    from .wrapping import Layers

#: At most this many endpoints are remembered as warned about credentialed
#: requests; past it the warning is not repeated for new ones.
MAX_WARNED_ENDPOINTS = 1024


@dataclass
class JsonpState:
    """What flask-jsonp keeps for one application.

    .. versionadded:: 0.1
    """

    #: The :class:`~flask_jsonp.JSONP` instance set up on the app, if any.
    extension: JSONP | None = None
    #: Keyword arguments given to :class:`~flask_jsonp.JSONP`.
    defaults: dict[str, Any] = field(default_factory=dict)
    #: The resolved options of each JSONP view, made on its first request.
    plans: dict[Layers, JsonpPlan] = field(default_factory=dict)
    #: The layers of each registered JSONP blueprint, by its dotted name, so
    #: nested JSONP blueprints add their parents' policies to their own.
    blueprint_layers: dict[str, Layers] = field(default_factory=dict)
    #: Endpoints already warned about answering JSONP to credentialed requests.
    warned_endpoints: set[str | None] = field(default_factory=set)


def state_for(app: Flask) -> JsonpState:
    """Return the app's state, creating an empty one for apps that use the
    decorator without ever creating :class:`~flask_jsonp.JSONP`.
    """
    state: JsonpState | None = app.extensions.get(EXTENSION_KEY)
    if state is None:
        state = app.extensions[EXTENSION_KEY] = JsonpState()
    return state
