"""Flask-Limiter's 429, made in ``before_request`` before any view runs, reaches
a JSONP client: as a 429 with nosniff, or, with the envelope, as
``meta.status`` 429 in the callback. Whichever of the two extensions is set up
first, and wherever the limit is declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.test import TestResponse

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from tests.company.support import assert_nosniff
from tests.company.support import callback_argument
from tests.company.support import run_in_node
from tests.node import NodeRunner

DATA = {"quota": "left"}
LIMIT = "1 per minute"


@dataclass(frozen=True)
class Setup:
    limiter_first: bool
    #: "above" or "below" @jsonp, or "default" for the limiter's default_limits.
    limit: str

    def __str__(self) -> str:
        first = "Limiter-first" if self.limiter_first else "JSONP-first"
        return f"{first}-limit-{self.limit}"


SETUPS = [
    Setup(limiter_first, limit)
    for limiter_first in (True, False)
    for limit in ("above", "below", "default")
]


def make_client(app: Flask, setup: Setup, *, envelope: bool) -> FlaskClient:
    default_limits: list[Any] = [LIMIT] if setup.limit == "default" else []

    def make_limiter() -> Limiter:
        return Limiter(
            get_remote_address,
            app=app,
            default_limits=default_limits,
            storage_uri="memory://",
        )

    if setup.limiter_first:
        limiter = make_limiter()
        JSONP(app)
    else:
        JSONP(app)
        limiter = make_limiter()

    def view() -> dict[str, str]:
        return DATA

    wrapped = jsonp(envelope=envelope)
    if setup.limit == "above":
        view = limiter.limit(LIMIT)(wrapped(view))
    elif setup.limit == "below":
        view = wrapped(limiter.limit(LIMIT)(view))
    else:
        view = wrapped(view)
    app.get("/quota")(view)
    return app.test_client()


def over_the_limit(client: FlaskClient, query: str) -> TestResponse:
    first = client.get(f"/quota{query}")
    assert first.status_code == 200
    return client.get(f"/quota{query}")


@pytest.mark.parametrize("query", ["?callback=onQuota", ""])
@pytest.mark.parametrize("setup", SETUPS, ids=str)
def test_429_reaches_the_client_without_the_envelope(
    app: Flask, setup: Setup, query: str
) -> None:
    response = over_the_limit(make_client(app, setup, envelope=False), query)
    assert response.status_code == 429
    assert not response.data.startswith(b"/**/")
    assert_nosniff(response)


@pytest.mark.parametrize("setup", SETUPS, ids=str)
def test_429_reaches_the_callback_with_the_envelope(app: Flask, setup: Setup) -> None:
    client = make_client(app, setup, envelope=True)
    first = client.get("/quota?callback=onQuota")
    assert callback_argument(first, "onQuota") == {
        "meta": {"status": 200},
        "data": DATA,
    }
    response = client.get("/quota?callback=onQuota")
    argument = callback_argument(response, "onQuota")
    assert argument["meta"]["status"] == 429
    assert "data" in argument


@pytest.mark.parametrize("setup", SETUPS, ids=str)
def test_429_without_a_callback_stays_a_429_with_the_envelope(
    app: Flask, setup: Setup
) -> None:
    response = over_the_limit(make_client(app, setup, envelope=True), "")
    assert response.status_code == 429
    assert_nosniff(response)


@pytest.mark.node
@pytest.mark.parametrize("setup", SETUPS, ids=str)
def test_enveloped_429_runs_the_callback(
    app: Flask, node: NodeRunner, setup: Setup
) -> None:
    response = over_the_limit(make_client(app, setup, envelope=True), "?callback=a.b")
    assert run_in_node(node, response, "a.b")["meta"]["status"] == 429
