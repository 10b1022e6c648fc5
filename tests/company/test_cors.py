"""flask-cors and JSONP on one endpoint: ``fetch`` gets plain JSON with the CORS
headers, a preflight is answered by flask-cors whether or not the URL carries
a callback, and JSONP answers keep nosniff. Whichever extension is set up first.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_cors import CORS

from flask_jsonp import cors_origins
from flask_jsonp import JSONP
from flask_jsonp import jsonp
from tests.company.support import ALLOWED_REFERRERS
from tests.company.support import assert_nosniff
from tests.company.support import assert_private
from tests.company.support import assert_refused
from tests.company.support import callback_argument
from tests.company.support import FROM_ALLOWED_PAGE
from tests.company.support import FROM_EVIL_PAGE

DATA = {"orders": [1, 2]}
#: One list for both: the pages that may read the endpoint by JSONP and by CORS.
ENTRIES = [*ALLOWED_REFERRERS, "https://*.partner.example"]
ORIGIN = "https://app.example"
PARTNER_ORIGIN = "https://shop.partner.example"
FETCH = {"Origin": ORIGIN, **FROM_ALLOWED_PAGE, "Sec-Fetch-Mode": "cors"}
PREFLIGHT = {
    **FETCH,
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "X-Requested-With",
}


#: Which extension is set up first, and whether the route lets Flask answer
#: OPTIONS (the default) or routes it to the view.
SETUPS = [
    pytest.param((cors_first, methods), id=f"{first}-{name}")
    for cors_first, first in [(True, "CORS-first"), (False, "JSONP-first")]
    for methods, name in [
        (None, "automatic-OPTIONS"),
        (["GET", "OPTIONS"], "view-OPTIONS"),
    ]
]


@pytest.fixture(params=SETUPS)
def client(app: Flask, request: pytest.FixtureRequest) -> FlaskClient:
    cors_first, methods = request.param
    if cors_first:
        CORS(app, origins=cors_origins(ENTRIES))
        JSONP(app)
    else:
        JSONP(app)
        CORS(app, origins=cors_origins(ENTRIES))

    @app.route("/orders", methods=methods)
    @jsonp(allowed_referrers=ENTRIES)
    def orders() -> dict[str, list[int]]:
        return DATA

    return app.test_client()


@pytest.mark.parametrize("origin", [ORIGIN, PARTNER_ORIGIN])
def test_fetch_without_a_callback_gets_json_with_cors_headers(
    client: FlaskClient, origin: str
) -> None:
    headers = {**FETCH, "Origin": origin, "Referer": f"{origin}/orders"}
    response = client.get("/orders", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == DATA
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert_nosniff(response)


def test_fetch_from_another_origin_gets_no_cors_headers(client: FlaskClient) -> None:
    headers = {**FETCH, "Origin": "https://evil.example"}
    response = client.get("/orders", headers=headers)
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("query", ["", "?callback=onOrders"])
def test_preflight_is_answered_by_flask_cors(client: FlaskClient, query: str) -> None:
    response = client.options(f"/orders{query}", headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert not response.data.startswith(b"/**/")


def test_jsonp_answer_keeps_nosniff_and_its_privacy(client: FlaskClient) -> None:
    response = client.get("/orders?callback=onOrders", headers=FROM_ALLOWED_PAGE)
    assert callback_argument(response, "onOrders") == DATA
    assert_nosniff(response)
    assert_private(response)


def test_cors_does_not_open_jsonp_to_other_pages(client: FlaskClient) -> None:
    response = client.get(
        "/orders?callback=onOrders", headers={**FROM_EVIL_PAGE, "Origin": ORIGIN}
    )
    assert_refused(response, 403, "referrer_not_allowed")
