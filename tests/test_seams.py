"""The seams between the doors: layers that nest, error handlers, exceptions.

Every door runs one wrapper, so nesting them (a decorated view in a JSONP
blueprint, ``jsonpify`` inside either, nested JSONP blueprints) wraps the answer
once, with the strictest policy of all the layers. Apps run as in production
(``TESTING`` and ``PROPAGATE_EXCEPTIONS`` off).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import abort
from flask import Blueprint
from flask import Flask
from flask import jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from flask_jsonp import jsonpify
from tests.helpers import assert_refused
from tests.helpers import run_jsonp
from tests.node import NodeRunner

ALLOWED = "https://app.example"
OTHER = "https://other.example"

#: What the views return: data, and a Cache-Control a shared cache would honour.
DATA = {"user": "admin"}
PUBLIC = {"Cache-Control": "public, max-age=300"}


@pytest.fixture
def app(app: Flask) -> Flask:
    app.config["TESTING"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def _view(answer: str) -> Callable[[], Any]:
    """A view answering DATA with a public Cache-Control, as a dict or jsonpify."""

    def view() -> Any:
        if answer == "jsonpify":
            return jsonpify(DATA), 200, PUBLIC
        return DATA, 200, PUBLIC

    return view


def _serve_layers(app: Flask, layout: str, outer: dict[str, Any]) -> str:
    """Serve DATA through ``layout``, with ``outer`` as the options of the
    outermost layer; return the view's URL.
    """
    if layout == "decorator+decorator":
        app.get("/data")(jsonp(**outer)(jsonp(_view("dict"))))
        return "/data"
    if layout == "decorator+jsonpify":
        app.get("/data")(jsonp(**outer)(_view("jsonpify")))
        return "/data"
    if layout.startswith("blueprint+"):
        inner = layout.partition("+")[2]
        api = JSONP.enable_blueprint(Blueprint("api", __name__), **outer)
        view = _view("jsonpify" if inner == "jsonpify" else "dict")
        api.get("/data")(jsonp(view) if inner == "decorator" else view)
        app.register_blueprint(api)
        return "/data"
    if layout == "blueprint-enabled-after-its-routes":
        api = Blueprint("api", __name__)
        api.get("/data")(jsonp(_view("dict")))
        JSONP.enable_blueprint(api, **outer)
        app.register_blueprint(api)
        return "/data"
    assert layout in ("nested-blueprints", "nested-blueprints+decorator")
    parent = JSONP.enable_blueprint(Blueprint("parent", __name__), **outer)
    child = JSONP.enable_blueprint(Blueprint("child", __name__, url_prefix="/c"))
    view = _view("dict")
    child.get("/data")(jsonp(view) if layout.endswith("decorator") else view)
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    return "/c/data"


LAYOUTS = [
    "decorator+decorator",
    "decorator+jsonpify",
    "blueprint+dict",
    "blueprint+decorator",
    "blueprint+jsonpify",
    "blueprint-enabled-after-its-routes",
    "nested-blueprints",
    "nested-blueprints+decorator",
]


def _get(app: Flask, url: str, referrer: str | None) -> TestResponse:
    headers = {"Referer": f"{referrer}/page"} if referrer else {}
    return app.test_client().get(url, headers=headers)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_outer_referrer_allowlist_applies_through_every_inner_layer(
    app: Flask, node: NodeRunner, layout: str
) -> None:
    url = _serve_layers(app, layout, {"allowed_referrers": [ALLOWED]})
    response = _get(app, f"{url}?callback=cb", ALLOWED)
    # Wrapped exactly once: one call, with the view's data.
    assert run_jsonp(node, response, "cb") == DATA
    assert response.data.count(b"/**/") == 1
    # A shared cache must not serve it to another page.
    assert response.cache_control.private
    assert not response.cache_control.public
    assert response.cache_control.max_age == 300
    assert {"Referer", "Sec-Fetch-Site"} <= set(response.vary)
    for referrer in (OTHER, None):
        refused = _get(app, f"{url}?callback=cb", referrer)
        assert_refused(refused, 403, "referrer_not_allowed")
        assert b"admin" not in refused.data


@pytest.mark.parametrize("layout", LAYOUTS)
def test_without_callback_every_layout_answers_plain_json(
    app: Flask, layout: str
) -> None:
    url = _serve_layers(app, layout, {"allowed_referrers": [ALLOWED]})
    response = _get(app, url, OTHER)
    assert response.json == DATA
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("layout", ["decorator+decorator", "nested-blueprints"])
def test_allowlists_of_all_layers_intersect(
    app: Flask, node: NodeRunner, layout: str
) -> None:
    both, outer_only = "https://both.example", "https://outer.example"
    if layout == "decorator+decorator":

        @app.get("/c/data")
        @jsonp(allowed_referrers=[both, outer_only], allowed_callbacks=["cb*"])
        @jsonp(allowed_referrers=[both, ALLOWED], allowed_callbacks=["cbX", "cbY"])
        def data() -> Any:
            return DATA

    else:
        parent = JSONP.enable_blueprint(
            Blueprint("parent", __name__),
            allowed_referrers=[both, outer_only],
            allowed_callbacks=["cb*"],
        )
        child = JSONP.enable_blueprint(
            Blueprint("child", __name__, url_prefix="/c"),
            allowed_referrers=[both, ALLOWED],
            allowed_callbacks=["cbX", "cbY"],
        )
        child.get("/data")(lambda: DATA)
        parent.register_blueprint(child)
        app.register_blueprint(parent)

    assert run_jsonp(node, _get(app, "/c/data?callback=cbX", both), "cbX") == DATA
    for origin in (outer_only, ALLOWED):
        refused = _get(app, "/c/data?callback=cbX", origin)
        assert_refused(refused, 403, "referrer_not_allowed")
    assert_refused(_get(app, "/c/data?callback=cbZ", both), 403, "callback_not_allowed")


def test_shortest_length_and_strictest_policy_win(app: Flask, node: NodeRunner) -> None:
    @app.get("/data")
    @jsonp(max_callback_length=12)
    @jsonp(max_callback_length=64, callback_policy="identifier")
    def data() -> Any:
        return DATA

    client = app.test_client()
    assert run_jsonp(node, client.get("/data?callback=a234567890ab"), "a234567890ab")
    assert_refused(client.get("/data?callback=a234567890abc"), 400, "invalid_callback")
    # The outer layer keeps the default "safe" policy, which refuses this.
    assert_refused(client.get("/data?callback=setTimeout"), 400, "invalid_callback")


def test_innermost_layer_shapes_the_answer(app: Flask, node: NodeRunner) -> None:
    api = JSONP.enable_blueprint(
        Blueprint("api", __name__), callback_params="outer", envelope=False
    )

    @api.get("/data")
    @jsonp(callback_params="inner", envelope=True)
    def data() -> Any:
        return DATA

    app.register_blueprint(api)
    client = app.test_client()
    enveloped = run_jsonp(node, client.get("/data?inner=cb"), "cb")
    assert enveloped == {"meta": {"status": 200}, "data": DATA}
    assert client.get("/data?outer=cb").json == DATA


def test_jsonpify_inside_a_view_with_other_callback_params_never_wraps(
    app: Flask,
) -> None:
    # The view reads "cb"; jsonpify alone would read "callback" with the app's
    # (empty) policy, but inside the view only the view's layers decide.
    @app.get("/data")
    @jsonp(callback_params="cb", allowed_referrers=[ALLOWED])
    def data() -> Any:
        return jsonpify(DATA)

    response = _get(app, "/data?callback=steal", OTHER)
    assert response.mimetype == "application/json"
    assert b"/**/" not in response.data


# -- Errors and exceptions ----------------------------------------------------

#: Where a failing view is served.
DOORS = [
    "decorator",
    "decorator-envelope",
    "blueprint",
    "blueprint-envelope",
    "jsonpify",
    "blueprint+jsonpify-envelope",
]


def _serve_failure(app: Flask, door: str, failure: Callable[[], Any]) -> str:
    envelope = door.endswith("-envelope")
    if door.startswith("blueprint"):
        api = JSONP.enable_blueprint(Blueprint("api", __name__), envelope=envelope)

        @api.get("/fail")
        def blueprint_fail() -> Any:
            result = failure()
            return jsonpify(result) if "jsonpify" in door else result

        app.register_blueprint(api)
    elif door == "jsonpify":

        @app.get("/fail")
        def jsonpify_fail() -> Any:
            return jsonpify(failure())

    else:

        @app.get("/fail")
        @jsonp(envelope=envelope)
        def decorated_fail() -> Any:
            return failure()

    return "/fail"


def _raise_runtime_error() -> Any:
    raise RuntimeError("secret-detail")


#: Handlers an app may have, each answering JSON (the common API pattern).
HANDLERS: dict[str, Callable[[Flask], None]] = {
    "none": lambda app: None,
    "exception-as-200-json": lambda app: app.register_error_handler(
        Exception, lambda error: (jsonify(error=str(error)), 200)
    ),
    "exception-as-json": lambda app: app.register_error_handler(
        Exception, lambda error: (jsonify(error=str(error)), 500)
    ),
    "500-as-json": lambda app: app.register_error_handler(
        500, lambda error: (jsonify(error="server"), 500)
    ),
    "http-errors-as-json": lambda app: app.register_error_handler(
        HTTPException,
        lambda error: (jsonify(error=error.name), error.code or 500),
    ),
}


@pytest.mark.parametrize("handler", HANDLERS)
@pytest.mark.parametrize("door", DOORS)
def test_unhandled_exception_never_becomes_a_script(
    app: Flask, door: str, handler: str
) -> None:
    HANDLERS[handler](app)
    url = _serve_failure(app, door, _raise_runtime_error)
    response = app.test_client().get(f"{url}?callback=cb")
    assert "javascript" not in (response.mimetype or "")
    assert not response.data.startswith(b"/**/")
    if door != "jsonpify":
        # A plain view that fails before it calls jsonpify is no JSONP view.
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    if handler == "none":
        assert response.status_code == 500
        assert b"secret-detail" not in response.data


@pytest.mark.parametrize("code", [404, 403, 500])
@pytest.mark.parametrize("handler", HANDLERS)
@pytest.mark.parametrize("door", DOORS)
def test_http_errors_carry_nosniff_and_are_enveloped_only_when_asked(
    app: Flask, node: NodeRunner, door: str, handler: str, code: int
) -> None:
    HANDLERS[handler](app)
    url = _serve_failure(app, door, lambda: abort(code))
    response = app.test_client().get(f"{url}?callback=cb")
    if door != "jsonpify":
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    if door.endswith("-envelope"):
        assert response.status_code == 200
        # The status of the handler's answer, which may differ from the error's.
        status = {"exception-as-200-json": 200, "exception-as-json": 500}
        expected = status.get(handler, code)
        assert run_jsonp(node, response, "cb")["meta"] == {"status": expected}
    else:
        assert not response.data.startswith(b"/**/")
    # Without a callback the error is the same plain answer, with nosniff.
    plain = app.test_client().get(url)
    if door != "jsonpify":
        assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert not plain.data.startswith(b"/**/")


def test_a_jsonp_view_calling_another_wraps_once_and_checks_both(
    app: Flask, node: NodeRunner
) -> None:
    @jsonp(allowed_referrers=[ALLOWED])
    def inner() -> Any:
        return DATA

    @app.get("/outer")
    @jsonp(allowed_callbacks=["cb"])
    def outer() -> Any:
        return inner()

    response = _get(app, "/outer?callback=cb", ALLOWED)
    assert run_jsonp(node, response, "cb") == DATA
    assert response.data.count(b"/**/") == 1
    assert response.cache_control.private
    assert {"Referer", "Sec-Fetch-Site"} <= set(response.vary)
    assert_refused(_get(app, "/outer?callback=cb", OTHER), 403, "referrer_not_allowed")
    assert_refused(
        _get(app, "/outer?callback=cbX", ALLOWED), 403, "callback_not_allowed"
    )
