"""flask-smorest's ``@blp.response(200, Schema)`` above and below ``@jsonp``: the
schema applies in either order, with a callback and without one.
"""

from __future__ import annotations

import marshmallow as ma
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_smorest import Api
from flask_smorest import Blueprint

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from tests.company.support import assert_nosniff
from tests.company.support import callback_argument
from tests.company.support import run_in_node
from tests.company.support import SECRET
from tests.node import NodeRunner

#: What the view returns, and what the schema lets out of it.
RETURNED = {"name": "alice", "password": SECRET}
DUMPED = {"name": "alice"}


class UserSchema(ma.Schema):
    name = ma.fields.String()
    password = ma.fields.String(load_only=True)


def make_api(app: Flask) -> Api:
    app.config.update(API_TITLE="Users", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    return Api(app)


def register_views(api: Api) -> None:
    blp = Blueprint("users", __name__, url_prefix="/users")

    @blp.route("/jsonp-below")
    @blp.response(200, UserSchema)
    @jsonp
    def jsonp_below() -> dict[str, str]:
        return RETURNED

    @blp.route("/jsonp-above")
    @jsonp
    @blp.response(200, UserSchema)
    def jsonp_above() -> dict[str, str]:
        return RETURNED

    api.register_blueprint(blp)


@pytest.fixture(params=[True, False], ids=["JSONP(app)", "decorator-only"])
def client(app: Flask, request: pytest.FixtureRequest) -> FlaskClient:
    if request.param:
        JSONP(app)
    register_views(make_api(app))
    return app.test_client()


ORDERS = ["/users/jsonp-below", "/users/jsonp-above"]


@pytest.mark.parametrize("path", ORDERS)
def test_schema_applies_to_the_json_answer(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.json == DUMPED
    assert SECRET.encode() not in response.data
    assert_nosniff(response)


@pytest.mark.parametrize("path", ORDERS)
def test_schema_applies_to_the_jsonp_answer(client: FlaskClient, path: str) -> None:
    response = client.get(f"{path}?callback=onUser")
    assert callback_argument(response, "onUser") == DUMPED
    assert SECRET.encode() not in response.data


@pytest.mark.node
@pytest.mark.parametrize("path", ORDERS)
def test_jsonp_answer_runs_the_callback_with_the_schemas_output(
    client: FlaskClient, node: NodeRunner, path: str
) -> None:
    response = client.get(f"{path}?callback=api.onUser")
    assert run_in_node(node, response, "api.onUser") == DUMPED
