"""The one mechanism behind every entry point: where a JSONP request is checked,
and where its answer is wrapped.

Every door goes through :func:`wrap_view`: the :func:`~flask_jsonp.jsonp`
decorator calls it on the view, :meth:`~flask_jsonp.JSONP.enable_blueprint` on
each view of the blueprint when it is registered. Wrapping a view that is itself
a wrapper made here adds a layer to it; any other function (a wrapper of someone
else's, even one that copied this one's attributes with :func:`functools.wraps`)
is wrapped whole, so no decorator between two layers is ever skipped.

**Where the checks run.** An endpoint's JSONP wrappers are found by walking the
``__wrapped__`` chain of its view function, once per endpoint
(:func:`endpoint_record`); their options are combined into one plan, and the
request is checked against it before any decorator the user stacked above
``@jsonp`` and any other extension's hook runs: an authentication decorator, a
cache or a rate limit never sees a refused request, and a cache above ``@jsonp``
cannot serve a page the allowlist refuses. With :class:`~flask_jsonp.JSONP` set
up, its ``before_request`` hook (the first of the app's) makes this hold: on the
app's first request it resolves every endpoint and puts a guard, a JSONP wrapper
of its own, in place of each view function that has a JSONP wrapper below other
decorators, so that the endpoint's view function is always a JSONP wrapper,
which checks before anything it wraps. Where another ``before_request`` function
runs for a JSONP endpoint, the hook checks first; where none does, the hook
takes itself out of the app, which then pays nothing for it. Without the
extension, the outermost JSONP wrapper of the chain checks when it is reached.

**Where the answer is wrapped.** When a JSONP wrapper is the endpoint's view
function, it builds the answer from the view's return value in one step. When
something is stacked above it, the wrapper hands the return value on as the
view returned it (an API framework's schema then applies), and the final
response is wrapped: by a guard that the extension puts in place of the
endpoint's view function, which sees what the whole chain returned, or without
the extension by an ``after_this_request`` function. Error answers, whoever
makes them, go through that same function: nosniff on all of them, ``private``
and ``Vary`` where a referrer allowlist decided, and with the envelope a status
for the callback.

A JSONP view called by another one checks its own options against the callback
being answered and leaves the wrapping to the outer one;
:func:`~flask_jsonp.jsonpify` inside any of them returns plain JSON.
"""

from __future__ import annotations

import inspect
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
from .answer import error_data
from .answer import make_private
from .answer import warn_credentialed
from .errors import add_nosniff
from .errors import InvalidCallback
from .errors import JsonpGone
from .errors import JsonpRequestError
from .errors import NOSNIFF
from .options import EXTENSION_KEY
from .plan import APP_LAYERS
from .plan import JsonpPlan
from .plan import Layers
from .plan import plan_for
from .signals import jsonp_answered
from .signals import send_answered
from .signals import send_refused
from .state import EndpointRecord
from .state import JsonpState
from .state import state_for

P = ParamSpec("P")
R = TypeVar("R")

#: The attribute of Flask's request object holding the :class:`JsonpRequest` of
#: a request to a JSONP endpoint. Not a WSGI environ key: the JsonpRequest holds
#: the environ, and the environ holding it back would be a reference cycle,
#: which only the garbage collector frees, later, in another request's time
#: (Flask breaks its own request-environ cycle when the request ends). From the
#: request object nothing leads back once Flask has.
REQUEST_ATTR = "_flask_jsonp_request"

#: Set in the WSGI environ when a JSONP request is refused, so that
#: :func:`~flask_jsonp.jsonpify` in the error handler answers plain JSON.
REFUSED_KEY = "flask_jsonp.refused"

#: A wrapper made here carries itself under this attribute: a function whose
#: attribute is another function (copied by :func:`functools.wraps`) is not one.
_SELF_ATTR = "__jsonp_wrapper__"
#: The layers of a wrapper made here.
_LAYERS_ATTR = "__jsonp_layers__"
#: Marks the extension's ``before_request`` hook, so it is added once per app.
_HOOK_ATTR = "_flask_jsonp_hook"

#: How far ``__wrapped__`` chains are followed: far more decorators than a view
#: has, and a bound for chains that loop.
MAX_CHAIN_LENGTH = 64

View = Callable[..., Any]


def is_jsonp_wrapper(function: object) -> bool:
    """Tell whether ``function`` is a wrapper made by :func:`wrap_view` itself,
    not a function that copied its attributes.

    .. versionadded:: 0.1
    """
    return getattr(function, _SELF_ATTR, None) is function


def jsonp_layers(view: object) -> list[Layers]:
    """Return the layers of every JSONP wrapper in ``view``'s ``__wrapped__``
    chain, outermost first; empty for a view that answers no JSONP.

    .. versionadded:: 0.1
    """
    return [getattr(wrapper, _LAYERS_ATTR) for wrapper in _wrappers_in_chain(view)]


def _wrappers_in_chain(view: object) -> list[View]:
    found: list[View] = []
    function: Any = view
    for _ in range(MAX_CHAIN_LENGTH):
        if function is None:
            break
        if is_jsonp_wrapper(function):
            found.append(function)
        function = getattr(function, "__wrapped__", None)
    return found


def endpoint_record(
    app: Flask, state: JsonpState, endpoint: str, view: View | None, guard: bool
) -> EndpointRecord:
    """Resolve what ``endpoint`` needs and keep it in the app's state.

    :param guard: put a guard in place of a view function that is not a JSONP
        wrapper but has one in its chain, so that the final return value is
        wrapped (the extension's hook does this; the decorator alone does not
        change the app's view functions).
    """
    if view is None:
        record = EndpointRecord(None)
    else:
        wrappers = _wrappers_in_chain(view)
        if not wrappers:
            record = EndpointRecord(view)
        else:
            layers = Layers()
            for wrapper in wrappers:
                layers = layers + getattr(wrapper, _LAYERS_ATTR)
            plan = plan_for(app, layers)
            if guard and wrappers[0] is not view:
                view = _make_wrapper(view, Layers())
                wrappers.insert(0, view)
                app.view_functions[endpoint] = view
            record = EndpointRecord(
                view, frozenset(wrappers), plan, _other_hooks(app, endpoint)
            )
    state.endpoints[endpoint] = record
    return record


def _other_hooks(app: Flask, endpoint: str) -> bool:
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


def is_check_request_hook(function: object) -> bool:
    """Tell whether ``function`` is the hook :func:`check_request_hook` made."""
    return getattr(function, _HOOK_ATTR, False) is True


class JsonpRequest:
    """What flask-jsonp knows of one request to a JSONP endpoint.

    .. versionadded:: 0.1
    """

    # Class attributes are the defaults: a request sets only what happens to
    # it, which costs less than setting every attribute up front.

    #: A callback parameter is present (the request asks for JSONP).
    requested = False
    #: The callback asked for, once read; checked or not.
    callback: str | None = None
    #: The callback, once every check has accepted it.
    checked: str | None = None
    #: The refusal, if the request was refused.
    refusal: JsonpRequestError | None = None
    #: A JSONP view's call is under way: JSONP views it calls leave the
    #: wrapping to it.
    active = False
    #: The answer is built: nothing is left to do after the request.
    answered = False
    #: The view chain returned normally, so its JSON may be wrapped.
    returned = False
    #: The HTTP error the view raised, if any.
    error: HTTPException | None = None
    #: The view raised something else than an HTTP error.
    unhandled = False
    #: A JSONP view with a referrer allowlist was called along the way.
    depends_on_page = False
    #: :meth:`finish` will run on the response.
    finishing = False

    def __init__(
        self,
        app: Flask,
        environ: dict[str, Any],
        plan: JsonpPlan,
        covered: frozenset[View] = frozenset(),
        top: View | None = None,
    ) -> None:
        self.app = app
        self.environ = environ
        #: The options the request is checked and answered with.
        self.plan = plan
        #: The JSONP wrappers whose options :attr:`plan` holds.
        self.covered = covered
        #: The function that builds the answer: the endpoint's view function.
        self.top = top

    @property
    def private(self) -> bool:
        """Whether a referrer allowlist decided the answer."""
        return self.plan.private or self.depends_on_page

    def finish_later(self) -> None:
        """Have :meth:`finish` run on the response Flask makes, whatever makes
        it (the view, an error handler).
        """
        if not self.finishing:
            self.finishing = True
            after_this_request(self.finish)

    def check(self) -> None:
        """Read the callback and refuse the request if the plan says so.

        :raise JsonpRequestError: the refusal, which the app's handlers answer.
        """
        environ = self.environ
        try:
            callback = self.plan.find_callback(environ)
        except InvalidCallback as refusal:
            self.requested = True
            send_refused(self.app, request.endpoint, None, environ, refusal.error)
            self._refused(refusal)
            raise
        if callback is None:
            return
        self.requested = True
        self.callback = callback
        try:
            self.plan.check(self.app, callback, environ)
        except JsonpRequestError as refusal:
            self._refused(refusal)
            raise
        self.checked = callback

    def check_nested(self, app: Flask, layers: Layers) -> None:
        """Check the options of a JSONP view called inside this request's
        JSONP view against the callback being answered, whatever parameter
        that view would read it from.
        """
        plan = plan_for(app, layers)
        if self.checked is not None:
            try:
                plan.check(app, self.checked, self.environ)
            except JsonpRequestError as refusal:
                self._refused(refusal)
                raise
        if plan.private:
            self.depends_on_page = True

    def _refused(self, refusal: JsonpRequestError) -> None:
        self.refusal = refusal
        self.environ[REFUSED_KEY] = True
        self.finish_later()

    def answered_with(self, callback: str) -> None:
        """Record that a script answers ``callback`` and say so."""
        self.answered = True
        environ = self.environ
        # The environ, not request.cookies: parsing cookies on every answer is
        # costly, and so is asking for the endpoint when nothing needs it.
        if not self.plan.private and (
            "HTTP_COOKIE" in environ or "HTTP_AUTHORIZATION" in environ
        ):
            warn_credentialed(self.app, request.endpoint)
        if jsonp_answered.receivers:
            send_answered(self.app, request.endpoint, callback, environ)

    def finish(self, response: Response) -> Response:
        """Finish the response Flask made for this request: nosniff always;
        for a JSONP request the headers that say whom it is for and what is
        announced, the JSONP answer for JSON the view chain returned, and with
        the envelope, errors as a status for the callback.
        """
        if self.answered:
            return response
        add_nosniff(response)
        if not self.requested:
            return response
        plan, app = self.plan, self.app
        callback = self.checked
        envelope_error: Any = None
        if callback is None:
            if (
                isinstance(self.refusal, JsonpGone)
                and plan.options.envelope
                and self.callback is not None
            ):
                # Every other check accepted the callback: it can be answered.
                envelope_error = error_data(response, self.refusal, trust_body=False)
                answer_from_response(
                    app, plan, self.callback, response, self.private, envelope_error
                )
                return response
        elif response.status_code >= 400 or self.error is not None:
            from_view = self.error is not None or self.returned
            if (
                plan.options.envelope
                and not self.unhandled
                and (from_view or response.status_code < 500)
            ):
                # Errors of the view pass on their JSON; those made around it
                # (a rate limit, a login) only their status.
                envelope_error = error_data(response, self.error, trust_body=from_view)
                if answer_from_response(
                    app, plan, callback, response, self.private, envelope_error
                ):
                    self.answered_with(callback)
                    return response
        elif self.returned and answer_from_response(
            app, plan, callback, response, self.private
        ):
            self.answered_with(callback)
            return response
        add_notice(response, plan)
        if self.private:
            make_private(response)
        return response


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
        callback = jsonp_request.checked
        jsonp_request.answered = True
        if callback is None:
            return _plain_answer(app, rv)
        private = jsonp_request.private
        plan = jsonp_request.plan
        answer = answer_from_value(app, plan, callback, rv, private)
        if answer is None:
            answer = app.make_response(rv)
            envelope_error = None
            if plan.options.envelope and answer.status_code >= 400:
                envelope_error = error_data(answer, None, trust_body=True)
            if not answer_from_response(
                app, plan, callback, answer, private, envelope_error
            ):
                add_notice(answer, jsonp_request.plan)
                return answer
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


def _add_nosniff(response: Response) -> Response:
    add_nosniff(response)
    return response


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
        after_this_request(_add_nosniff)
        raise
    rule = req.url_rule
    if rule is None or app.view_functions.get(rule.endpoint) is not wrapper:
        # Below someone else's decorator, or called by another view: the
        # value is handed on as the view returned it.
        after_this_request(_add_nosniff)
        return rv
    return _plain_answer(app, rv)


def _plain_answer(app: Flask, rv: Any) -> Response:
    """The response Flask would make of the view's value, with nosniff."""
    if type(rv) is dict or type(rv) is list:
        # What Flask's make_response does for these, on a response that is
        # new: add() costs less than setting the header.
        provider: Any = app.json
        plain: Response = provider.response(rv)
        plain.headers.add("X-Content-Type-Options", NOSNIFF)
        return plain
    response = app.make_response(rv)
    add_nosniff(response)
    return response


def _make_wrapper(inner: View, layers: Layers) -> View:
    # Decided once: a sync view is called directly, which is what ensure_sync
    # would return for it.
    is_async = inspect.iscoroutinefunction(inner)

    @wraps(inner)
    def jsonp_view(*args: Any, **kwargs: Any) -> Any:
        # A proxy's attribute costs four times _get_current_object().
        req = request._get_current_object()  # type: ignore[attr-defined]
        environ = req.environ
        jsonp_request: JsonpRequest | None = getattr(req, REQUEST_ATTR, None)
        app: Flask = (
            current_app._get_current_object()  # type: ignore[attr-defined]
            if jsonp_request is None
            else jsonp_request.app
        )
        call = app.ensure_sync(inner) if is_async else inner
        if jsonp_request is None and not environ.get("QUERY_STRING"):
            # No query string, no callback: nothing to check or wrap.
            return _without_callback(app, req, jsonp_view, call, args, kwargs)
        if jsonp_request is not None:
            if jsonp_request.active:
                # Called by another JSONP view, which wraps the answer.
                if jsonp_view not in jsonp_request.covered:
                    jsonp_request.check_nested(app, layers)
                return call(*args, **kwargs)
            if jsonp_request.top is jsonp_view:
                # The extension's hook has checked the request.
                return _answer(app, jsonp_request, call, args, kwargs)
        rule = req.url_rule
        state = state_for(app)
        record = None
        if rule is not None:
            view = app.view_functions.get(rule.endpoint)
            record = state.endpoints.get(rule.endpoint)
            if record is None or record.view is not view:
                record = endpoint_record(app, state, rule.endpoint, view, False)
        if record and record.plan is not None and jsonp_view in record.covered:
            jsonp_request = JsonpRequest(
                app, environ, record.plan, record.covered, record.view
            )
            setattr(req, REQUEST_ATTR, jsonp_request)
            if record.view is jsonp_view:
                jsonp_request.check()
                return _answer(app, jsonp_request, call, args, kwargs)
            # Below someone else's decorator: the final response is wrapped.
            jsonp_request.finish_later()
            jsonp_request.check()
            return _hand_on(jsonp_request, call, args, kwargs)
        # Called as a function by another view, or below a decorator that
        # hides it (no __wrapped__): it answers on its own, and is forgotten
        # when it returns.
        previous = getattr(req, REQUEST_ATTR, None)
        jsonp_request = JsonpRequest(
            app, environ, plan_for(app, layers), frozenset({jsonp_view}), jsonp_view
        )
        setattr(req, REQUEST_ATTR, jsonp_request)
        try:
            jsonp_request.check()
            return _answer(app, jsonp_request, call, args, kwargs)
        finally:
            setattr(req, REQUEST_ATTR, previous)

    setattr(jsonp_view, _SELF_ATTR, jsonp_view)
    setattr(jsonp_view, _LAYERS_ATTR, layers)
    return jsonp_view


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
        layers = layers + getattr(view, _LAYERS_ATTR)
    return cast(Callable[P, R], _make_wrapper(inner, layers))


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
            _ready_endpoints(app, state, check_jsonp_request)
        rule = req.url_rule
        if rule is None:
            return
        endpoint = rule.endpoint
        view = app.view_functions.get(endpoint)
        record = state.endpoints.get(endpoint)
        if record is None or record.view is not view:
            record = endpoint_record(app, state, endpoint, view, True)
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

    setattr(check_jsonp_request, _HOOK_ATTR, True)
    return check_jsonp_request


def _ready_endpoints(app: Flask, state: JsonpState, hook: Callable[[], None]) -> None:
    """Resolve every endpoint of ``app`` once, guards included, and take
    ``hook`` out of the app if no JSONP endpoint needs it.
    """
    for endpoint, view in list(app.view_functions.items()):
        endpoint_record(app, state, endpoint, view, True)
    state.ready = True
    if not any(
        record.plan is not None and record.other_hooks
        for record in state.endpoints.values()
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


def jsonp_from_response(response: Response) -> Response:
    """Answer ``response`` as JSONP if the current request asks for it, with
    the app's options: the mechanism behind :func:`~flask_jsonp.jsonpify`.

    In a request to a JSONP endpoint (inside its view, or in an error handler
    it leads to), and after a refusal, the response is returned as it is: the
    endpoint's wrapping applies, with all its layers.

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
    if answer_from_response(app, plan, callback, response, plan.private):
        jsonp_request.answered_with(callback)
    else:
        add_notice(response, plan)
    return response
