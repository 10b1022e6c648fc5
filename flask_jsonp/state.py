"""Per-application state, kept in ``app.extensions["jsonp"]``."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import TYPE_CHECKING

from flask import Flask

from .options import EXTENSION_KEY

if TYPE_CHECKING:
    from .plan import JsonpPlan
    from .plan import Layers

#: At most this many endpoints are remembered as warned about credentialed
#: requests; past it the warning is not repeated for new ones.
MAX_WARNED_ENDPOINTS = 1024

#: At most this many plans (one per distinct set of options) are kept per app. A
#: view decorated anew on each request with the same options reuses its plan;
#: past the bound, new option sets are resolved on each request instead.
MAX_PLANS = 1024


@dataclass(frozen=True, eq=False)
class EndpointRecord:
    """What answering one endpoint needs, resolved once from its view function.

    .. versionadded:: 0.1
    """

    #: The endpoint's view function when the record was made: a record whose
    #: view is no longer the endpoint's is made anew.
    view: Callable[..., Any] | None
    #: The JSONP wrappers that run for the endpoint, whose options :attr:`plan`
    #: holds.
    covered: frozenset[Callable[..., Any]] = frozenset()
    #: The options of all of them combined; ``None`` for an endpoint that
    #: answers no JSONP.
    plan: JsonpPlan | None = None
    #: Another ``before_request`` function runs for this endpoint after the
    #: extension's, and may answer instead of the view.
    other_hooks: bool = False
    #: For a class-based view, the record of each HTTP method it dispatches
    #: (JSONP may be declared on one method and not another); ``covered`` and
    #: ``plan`` above are then empty.
    methods: Mapping[str, EndpointRecord] | None = None

    def for_method(self, method: str) -> EndpointRecord:
        """The record that holds for a request with ``method``."""
        if self.methods is None:
            return self
        return self.methods.get(method) or EndpointRecord(self.view)


@dataclass
class JsonpState:
    """What flask-jsonp keeps for one application.

    .. versionadded:: 0.1
    """

    #: The :class:`~flask_jsonp.JSONP` instance set up on the app, if any.
    extension: object | None = None
    #: Keyword arguments given to :class:`~flask_jsonp.JSONP`.
    defaults: dict[str, Any] = field(default_factory=dict)
    #: The resolved options of each set of layers, made on first use.
    plans: dict[Layers, JsonpPlan] = field(default_factory=dict)
    #: What each endpoint needs, by endpoint name.
    endpoints: dict[str, EndpointRecord] = field(default_factory=dict)
    #: Every endpoint was resolved, on the app's first request after the
    #: extension was set up.
    ready: bool = False
    #: The layers of each registered JSONP blueprint, by its dotted name, so
    #: nested JSONP blueprints add their parents' policies to their own.
    blueprint_layers: dict[str, Layers] = field(default_factory=dict)
    #: Endpoints already warned about answering JSONP to credentialed requests.
    warned_endpoints: set[str | None] = field(default_factory=set)
    #: JSONP views already reported as run where the set-up did not find them.
    reported_unseen: set[Callable[..., Any]] = field(default_factory=set)


def state_for(app: Flask) -> JsonpState:
    """Return the app's state, creating an empty one for apps that use the
    decorator without ever creating :class:`~flask_jsonp.JSONP`.
    """
    state: JsonpState | None = app.extensions.get(EXTENSION_KEY)
    if state is None:
        state = app.extensions[EXTENSION_KEY] = JsonpState()
    return state
