"""APIFlask's ``@app.output(Schema)`` above and below ``@jsonp``: the schema
applies in either order, with a callback and without one.
"""

from __future__ import annotations

import pytest
from apiflask import APIFlask
from apiflask import Schema
from apiflask.fields import String
from flask.testing import FlaskClient

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


class UserSchema(Schema):
    name = String()
    password = String(load_only=True)


def make_app(with_extension: bool) -> APIFlask:
    app = APIFlask(__name__)
    app.config["TESTING"] = True
    if with_extension:
        JSONP(app)

    @app.get("/jsonp-below")
    @app.output(UserSchema)
    @jsonp
    def jsonp_below() -> dict[str, str]:
        return RETURNED

    @app.get("/jsonp-above")
    @jsonp
    @app.output(UserSchema)
    def jsonp_above() -> dict[str, str]:
        return RETURNED

    return app


@pytest.fixture(params=[True, False], ids=["JSONP(app)", "decorator-only"])
def client(request: pytest.FixtureRequest) -> FlaskClient:
    return make_app(request.param).test_client()


ORDERS = ["/jsonp-below", "/jsonp-above"]


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
