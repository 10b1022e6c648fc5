"""A repeated callback is refused whichever of several parameter names carries it.

Two values for one callback are ambiguous: a cache, a proxy or a firewall in front
of the app may read the other one (HTTP parameter pollution).
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_jsonp import jsonp
from flask_jsonp.query import CallbackFinder
from flask_jsonp.query import QueryError
from tests.helpers import assert_refused

PARAMS = ("callback", "jsonp")

REPEATED = [
    "callback=a&callback=b",
    "jsonp=a&jsonp=b",
    "callback=a&%63allback=b",
    "jsonp=a&json%70=b",
    "x=1&jsonp=a&y=2&jsonp=a",
]


@pytest.fixture
def multi_client(app: Flask) -> FlaskClient:
    @app.get("/data")
    @jsonp(callback_params=list(PARAMS))
    def data() -> dict[str, int]:
        return {"n": 1}

    return app.test_client()


@pytest.mark.parametrize("query", REPEATED)
def test_repeated_callback_among_several_params_is_refused(
    multi_client: FlaskClient, query: str
) -> None:
    assert_refused(multi_client.get(f"/data?{query}"), 400, "invalid_callback")


@pytest.mark.parametrize("query", ["callback=a", "jsonp=a"])
def test_one_callback_among_several_params_is_answered(
    multi_client: FlaskClient, query: str
) -> None:
    response = multi_client.get(f"/data?{query}")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.data.startswith(b'/**/typeof a === "function" && a(')


@pytest.mark.parametrize("query", REPEATED)
def test_finder_with_several_params_refuses_a_repeated_one(query: str) -> None:
    with pytest.raises(QueryError, match="more than once"):
        CallbackFinder(PARAMS).find(query)
