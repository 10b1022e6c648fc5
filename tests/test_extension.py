from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import abort
from flask import Blueprint
from flask import Flask
from flask.testing import FlaskClient

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from flask_jsonp import jsonpify
from flask_jsonp.state import JsonpState
from tests.helpers import assert_refused
from tests.helpers import run_jsonp
from tests.node import NodeRunner


def test_init_app_records_state_and_config_defaults() -> None:
    extension = JSONP()
    app = Flask(__name__)
    app.config["JSONP_MAX_CALLBACK_LENGTH"] = 10
    extension.init_app(app)
    state = app.extensions["jsonp"]
    assert isinstance(state, JsonpState)
    assert state.extension is extension
    assert app.config["JSONP_CALLBACK_PARAMS"] == ("callback",)
    assert app.config["JSONP_MAX_CALLBACK_LENGTH"] == 10  # setdefault keeps it
    assert app.config["JSONP_ENVELOPE"] is False


def test_one_extension_serves_several_apps() -> None:
    extension = JSONP(max_callback_length=3)
    first, second = Flask("first"), Flask("second")
    for app in (first, second):
        extension.init_app(app)

        @app.get("/x")
        @jsonp
        def x() -> Any:
            return [1]

    for app in (first, second):
        assert app.test_client().get("/x?callback=abcd").status_code == 400
        assert app.test_client().get("/x?callback=abc").status_code == 200


def test_decorator_works_without_the_extension(app: Flask, node: NodeRunner) -> None:
    @app.get("/x")
    @jsonp
    def x() -> Any:
        return {"ok": True}

    response = app.test_client().get("/x?callback=cb")
    assert run_jsonp(node, response, "cb") == {"ok": True}


def test_precedence_decorator_over_extension_over_config_over_default() -> None:
    app = Flask(__name__)
    app.config["JSONP_CALLBACK_PARAMS"] = "from_config"
    app.config["JSONP_MAX_CALLBACK_LENGTH"] = 4
    JSONP(app, max_callback_length=6)

    @app.get("/default")
    @jsonp
    def default() -> Any:
        return [1]

    @app.get("/decorated")
    @jsonp(callback_params="from_arg", max_callback_length=8)
    def decorated() -> Any:
        return [1]

    client = app.test_client()
    # extension default (6) beats config (4); config param name beats built-in
    assert client.get("/default?from_config=abcdef").status_code == 200
    assert client.get("/default?from_config=abcdefg").status_code == 400
    assert client.get("/default?callback=abc").mimetype == "application/json"
    # decorator beats both
    assert client.get("/decorated?from_arg=abcdefgh").status_code == 200
    assert client.get("/decorated?from_arg=abcdefghi").status_code == 400


def test_app_config_allowlists(app: Flask) -> None:
    app.config["JSONP_ALLOWED_CALLBACKS"] = ["onData"]
    app.config["JSONP_ALLOWED_REFERRERS"] = ["https://app.example"]

    @app.get("/x")
    @jsonp
    def x() -> Any:
        return [1]

    client = app.test_client()
    ok = {"Referer": "https://app.example/"}
    assert client.get("/x?callback=onData", headers=ok).status_code == 200
    assert_refused(
        client.get("/x?callback=other", headers=ok), 403, "callback_not_allowed"
    )
    assert_refused(
        client.get("/x?callback=onData", headers={"Referer": "https://evil.example/"}),
        403,
        "referrer_not_allowed",
    )


def test_invalid_config_is_reported(app: Flask) -> None:
    app.config["JSONP_ALLOWED_REFERRERS"] = ["app.example"]

    @app.get("/x")
    @jsonp
    def x() -> Any:
        return [1]

    with pytest.raises(ValueError, match=r"app\.example"):
        app.test_client().get("/x?callback=cb")


def test_unknown_extension_option_is_refused() -> None:
    with pytest.raises(TypeError, match="callbacks_param"):
        JSONP(callbacks_param="cb")


class TestJsonpify:
    @pytest.fixture
    def app(self, app: Flask) -> Flask:
        @app.route("/user", methods=["GET", "POST"])
        def user() -> Any:
            return jsonpify(user="admin")

        @app.get("/list")
        def as_list() -> Any:
            return jsonpify([1, 2])

        return app

    def test_answers_jsonp_with_a_callback(
        self, client: FlaskClient, node: NodeRunner
    ) -> None:
        response = client.get("/user?callback=cb")
        assert run_jsonp(node, response, "cb") == {"user": "admin"}
        assert run_jsonp(node, client.get("/list?callback=x.y"), "x.y") == [1, 2]

    def test_answers_json_without_one(self, client: FlaskClient) -> None:
        response = client.get("/user")
        assert response.json == {"user": "admin"}
        assert response.headers["X-Content-Type-Options"] == "nosniff"

    def test_refuses_like_the_decorator(self, client: FlaskClient) -> None:
        assert_refused(client.get("/user?callback=1x"), 400, "invalid_callback")
        assert_refused(client.post("/user?callback=cb"), 405, "method_not_allowed")

    def test_inside_a_decorated_view_wraps_once(
        self, app: Flask, node: NodeRunner
    ) -> None:
        @app.get("/both")
        @jsonp
        def both() -> Any:
            return jsonpify(n=1)

        response = app.test_client().get("/both?callback=cb")
        assert run_jsonp(node, response, "cb") == {"n": 1}


class TestBlueprintMode:
    @pytest.fixture
    def app(self, app: Flask) -> Flask:
        api = JSONP.enable_blueprint(Blueprint("api", __name__, url_prefix="/api"))

        @api.get("/user")
        def user() -> Any:
            return {"user": "admin"}

        @api.route("/items", methods=["GET", "POST"])
        def items() -> Any:
            return [1, 2]

        @api.get("/missing")
        def missing() -> Any:
            abort(404)

        @api.get("/page")
        def page() -> Any:
            return "<p>html</p>"

        enveloped = JSONP.enable_blueprint(
            Blueprint("env", __name__, url_prefix="/env"), envelope=True
        )

        @enveloped.get("/missing")
        def env_missing() -> Any:
            abort(404)

        @app.get("/private")
        def private() -> Any:
            return {"secret": 1}

        app.register_blueprint(api)
        app.register_blueprint(enveloped)
        return app

    def test_every_view_of_the_blueprint_answers_jsonp(
        self, client: FlaskClient, node: NodeRunner
    ) -> None:
        assert run_jsonp(node, client.get("/api/user?callback=cb"), "cb") == {
            "user": "admin"
        }
        assert run_jsonp(node, client.get("/api/items?callback=cb"), "cb") == [1, 2]
        assert client.get("/api/page?callback=cb").mimetype == "text/html"

    def test_views_outside_the_blueprint_are_untouched(
        self, client: FlaskClient
    ) -> None:
        response = client.get("/private?callback=cb")
        assert response.mimetype == "application/json"
        assert b"/**/" not in response.data

    def test_refusals_and_methods(self, client: FlaskClient) -> None:
        assert_refused(client.get("/api/user?callback=a;b"), 400, "invalid_callback")
        assert_refused(client.post("/api/items?callback=cb"), 405, "method_not_allowed")
        assert client.post("/api/items").json == [1, 2]

    def test_errors(self, client: FlaskClient, node: NodeRunner) -> None:
        assert client.get("/api/missing?callback=cb").status_code == 404
        response = client.get("/env/missing?callback=cb")
        assert response.status_code == 200
        data = run_jsonp(node, response, "cb")
        assert data["meta"] == {"status": 404}
        assert data["data"]["name"] == "Not Found"


def test_credentialed_request_without_allowlist_is_logged_once_per_view(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/a")
    @jsonp
    def a() -> Any:
        return [1]

    @app.get("/b")
    @jsonp(allowed_referrers=["https://app.example"])
    def b() -> Any:
        return [1]

    client = app.test_client()
    client.set_cookie("session", "s3cret")
    with caplog.at_level(logging.WARNING, logger="flask_jsonp"):
        for _ in range(3):
            client.get("/a?callback=cb")
            client.get("/b?callback=cb", headers={"Referer": "https://app.example/"})
        client.get("/a")  # plain JSON is protected by the same-origin policy
    warnings = [r for r in caplog.records if "cookies or an Authorization" in r.message]
    assert len(warnings) == 1
    assert warnings[0].name == "flask_jsonp"
    assert "'a'" in warnings[0].getMessage()


def test_authorization_header_also_warns(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/a")
    @jsonp
    def a() -> Any:
        return [1]

    with caplog.at_level(logging.WARNING, logger="flask_jsonp"):
        app.test_client().get("/a?callback=cb", headers={"Authorization": "Bearer x"})
        app.test_client().get("/a?callback=cb")
    assert len([r for r in caplog.records if "Authorization" in r.message]) == 1


def test_credential_warning_from_a_404_handler_is_keyed_on_the_endpoint(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    @app.errorhandler(404)
    def not_found(error: Exception) -> Any:
        return jsonpify(error="not found")

    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="flask_jsonp"):
        for number in range(50):
            client.get(
                f"/missing/{number}?callback=cb", headers={"Authorization": "Bearer x"}
            )
    warnings = [r for r in caplog.records if "cookies or an Authorization" in r.message]
    assert len(warnings) == 1
    assert app.extensions["jsonp"].warned_endpoints == {None}


def test_remembered_warnings_are_bounded(
    app: Flask, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask_jsonp import answer

    monkeypatch.setattr(answer, "MAX_WARNED_ENDPOINTS", 3)
    for number in range(6):
        app.add_url_rule(f"/v{number}", f"v{number}", jsonp(lambda: [1]))
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="flask_jsonp"):
        for number in range(6):
            client.get(f"/v{number}?callback=cb", headers={"Authorization": "Bearer x"})
    assert len(app.extensions["jsonp"].warned_endpoints) == 3
    assert len([r for r in caplog.records if r.name == "flask_jsonp"]) == 3


def test_options_are_resolved_once_per_app_and_view(app: Flask) -> None:
    @app.get("/x")
    @jsonp
    def x() -> Any:
        return [1]

    client = app.test_client()
    assert client.get("/x?callback=abcdef").status_code == 200
    # Config changes after the view's first request are not seen...
    app.config["JSONP_MAX_CALLBACK_LENGTH"] = 3
    assert client.get("/x?callback=abcdef").status_code == 200
    assert len(app.extensions["jsonp"].plans) == 1


def test_invalid_config_fails_the_first_request_of_each_view(app: Flask) -> None:
    app.config["JSONP_CALLBACK_POLICY"] = "lenient"

    @app.get("/x")
    @jsonp
    def x() -> Any:
        return [1]

    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(ValueError, match="callback_policy"):
        app.test_client().get("/x")
