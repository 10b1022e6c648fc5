"""flask-talisman's security headers on JSONP answers: nosniff stays, and the
Content-Security-Policy it adds to every answer does not break the script (a
CSP governs the document that carries it; a script loaded by a page runs under
the page's policy).
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_talisman import Talisman

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from tests.company.support import ALLOWED_REFERRERS
from tests.company.support import assert_nosniff
from tests.company.support import assert_private
from tests.company.support import assert_refused
from tests.company.support import callback_argument
from tests.company.support import FROM_ALLOWED_PAGE
from tests.company.support import FROM_EVIL_PAGE
from tests.company.support import run_in_node
from tests.node import NodeRunner

DATA = {"profile": {"name": "alice"}}


@pytest.fixture(params=[True, False], ids=["Talisman-first", "JSONP-first"])
def client(app: Flask, request: pytest.FixtureRequest) -> FlaskClient:
    if request.param:
        Talisman(app, force_https=False)
        JSONP(app)
    else:
        JSONP(app)
        Talisman(app, force_https=False)

    @app.get("/profile")
    @jsonp(allowed_referrers=ALLOWED_REFERRERS)
    def profile() -> dict[str, dict[str, str]]:
        return DATA

    return app.test_client()


def test_jsonp_answer_keeps_nosniff_under_talismans_headers(
    client: FlaskClient,
) -> None:
    response = client.get("/profile?callback=onProfile", headers=FROM_ALLOWED_PAGE)
    assert callback_argument(response, "onProfile") == DATA
    assert_nosniff(response)
    assert_private(response)
    # Talisman's own headers are there too: it was not bypassed.
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # force_https=False
    assert response.headers["Referrer-Policy"]


def test_json_answer_keeps_nosniff_under_talismans_headers(
    client: FlaskClient,
) -> None:
    response = client.get("/profile")
    assert response.status_code == 200
    assert response.json == DATA
    assert_nosniff(response)
    assert "Content-Security-Policy" in response.headers


def test_refusal_keeps_nosniff_under_talismans_headers(client: FlaskClient) -> None:
    response = client.get("/profile?callback=onProfile", headers=FROM_EVIL_PAGE)
    assert_refused(response, 403, "referrer_not_allowed")
    assert_private(response)


@pytest.mark.node
def test_jsonp_answer_under_talisman_runs_in_node(
    client: FlaskClient, node: NodeRunner
) -> None:
    response = client.get("/profile?callback=onProfile", headers=FROM_ALLOWED_PAGE)
    assert run_in_node(node, response, "onProfile") == DATA
