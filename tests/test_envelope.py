from __future__ import annotations

from typing import Any

import pytest
from flask import abort
from flask import Flask
from flask.testing import FlaskClient

from flask_jsonp import jsonp
from tests.helpers import run_jsonp
from tests.node import NodeRunner


@pytest.fixture
def app(app: Flask) -> Flask:
    @app.get("/ok")
    @jsonp(envelope=True)
    def ok() -> Any:
        return {"a": 1}, 201

    @app.get("/missing")
    @jsonp(envelope=True)
    def missing() -> Any:
        abort(404, description="No such user.")

    @app.get("/teapot")
    @jsonp(envelope=True)
    def teapot() -> Any:
        return {"error": "short and stout"}, 418

    @app.get("/plain-missing")
    @jsonp
    def plain_missing() -> Any:
        abort(404)

    return app


def test_success_is_wrapped_with_its_status(
    client: FlaskClient, node: NodeRunner
) -> None:
    response = client.get("/ok?callback=cb")
    assert response.status_code == 200
    assert run_jsonp(node, response, "cb") == {
        "meta": {"status": 201},
        "data": {"a": 1},
    }


def test_http_error_arrives_as_data_with_status_200(
    client: FlaskClient, node: NodeRunner
) -> None:
    response = client.get("/missing?callback=cb")
    assert response.status_code == 200
    assert run_jsonp(node, response, "cb") == {
        "meta": {"status": 404},
        "data": {"name": "Not Found", "description": "No such user."},
    }


def test_json_error_response_of_the_view_is_the_data(
    client: FlaskClient, node: NodeRunner
) -> None:
    response = client.get("/teapot?callback=cb")
    assert run_jsonp(node, response, "cb") == {
        "meta": {"status": 418},
        "data": {"error": "short and stout"},
    }


def test_app_error_handler_json_is_the_data(app: Flask, node: NodeRunner) -> None:
    @app.errorhandler(404)
    def not_found(error: Exception) -> Any:
        return {"reason": "gone fishing"}, 404

    response = app.test_client().get("/missing?callback=cb")
    assert run_jsonp(node, response, "cb") == {
        "meta": {"status": 404},
        "data": {"reason": "gone fishing"},
    }


def test_without_callback_errors_are_plain(client: FlaskClient) -> None:
    response = client.get("/missing")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_without_envelope_errors_are_not_wrapped(client: FlaskClient) -> None:
    response = client.get("/plain-missing?callback=cb")
    assert response.status_code == 404
    assert b"/**/" not in response.data


def test_config_turns_the_envelope_on(app: Flask, node: NodeRunner) -> None:
    app.config["JSONP_ENVELOPE"] = True
    response = app.test_client().get("/plain-missing?callback=cb")
    assert response.status_code == 200
    data = run_jsonp(node, response, "cb")
    assert data["meta"] == {"status": 404}
    assert data["data"]["name"] == "Not Found"


def test_server_error_in_envelope_mode_is_a_clean_500(app: Flask) -> None:
    @app.get("/boom")
    @jsonp(envelope=True)
    def boom() -> Any:
        raise RuntimeError("do not leak this")

    app.config["TESTING"] = False
    response = app.test_client().get("/boom?callback=cb")
    assert response.status_code == 500
    assert b"do not leak this" not in response.data
