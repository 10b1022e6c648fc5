"""Flask-Compress and JSONP: a compressed JSONP answer is a valid script once
decompressed and keeps its privacy headers, whichever extension is set up
first and whether or not something is stacked above ``@jsonp``; and no strong
ETag is shared by answers whose bodies differ.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

import pytest
from flask import Flask
from flask import jsonify
from flask import Response
from flask.testing import FlaskClient
from flask_compress import Compress

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from tests.company.support import ALLOWED_REFERRERS
from tests.company.support import assert_nosniff
from tests.company.support import assert_private
from tests.company.support import body_of
from tests.company.support import callback_argument
from tests.company.support import FROM_ALLOWED_PAGE
from tests.company.support import run_in_node
from tests.node import NodeRunner

#: Bigger than Flask-Compress's COMPRESS_MIN_SIZE (500 bytes).
DATA = {
    "rows": [{"id": number, "name": f"row <{number}> & co"} for number in range(60)]
}
GZIP = {"Accept-Encoding": "gzip", **FROM_ALLOWED_PAGE}
#: What browsers send: Flask-Compress picks zstd or br, which a JSONP answer
#: must survive as well.
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd", **FROM_ALLOWED_PAGE}
COMPRESSED = [
    pytest.param(GZIP, {"gzip"}, id="gzip"),
    pytest.param(BROWSER, {"zstd", "br", "gzip", "deflate"}, id="browser"),
]


def stacked(view: Callable[..., Any]) -> Callable[..., Any]:
    """Any decorator a user puts above ``@jsonp`` (``functools.wraps``)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    return wrapper


SETUPS = [
    pytest.param((compress_first, above), id=f"{first}-{name}")
    for compress_first, first in [(True, "Compress-first"), (False, "JSONP-first")]
    for above, name in [(False, "jsonp-outermost"), (True, "decorator-above-jsonp")]
]


@pytest.fixture(params=SETUPS)
def client(app: Flask, request: pytest.FixtureRequest) -> FlaskClient:
    compress_first, above = request.param
    if compress_first:
        Compress(app)
        JSONP(app)
    else:
        JSONP(app)
        Compress(app)

    def rows() -> dict[str, Any]:
        return DATA

    def tagged() -> Response:
        response = jsonify(DATA)
        response.add_etag()
        return response

    for name, view in [("rows", rows), ("tagged", tagged)]:
        wrapped: Callable[..., Any] = jsonp(allowed_referrers=ALLOWED_REFERRERS)(view)
        if above:
            wrapped = stacked(wrapped)
        app.add_url_rule(f"/{name}", view_func=wrapped)
    return app.test_client()


@pytest.mark.parametrize(("headers", "codings"), COMPRESSED)
@pytest.mark.parametrize("path", ["/rows", "/tagged"])
def test_compressed_jsonp_answer_is_a_valid_script(
    client: FlaskClient, path: str, headers: dict[str, str], codings: set[str]
) -> None:
    response = client.get(f"{path}?callback=onRows", headers=headers)
    assert response.headers.get("Content-Encoding") in codings
    assert callback_argument(response, "onRows") == DATA
    assert "accept-encoding" in {name.lower() for name in response.vary}
    assert_private(response)
    assert_nosniff(response)


@pytest.mark.parametrize(("headers", "codings"), COMPRESSED)
@pytest.mark.parametrize("path", ["/rows", "/tagged"])
def test_compressed_json_answer_is_the_json(
    client: FlaskClient, path: str, headers: dict[str, str], codings: set[str]
) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") in codings
    assert response.mimetype == "application/json"
    assert json.loads(body_of(response)) == DATA
    assert_nosniff(response)


@pytest.mark.parametrize(
    "headers", [GZIP, BROWSER, FROM_ALLOWED_PAGE], ids=["gzip", "browser", "identity"]
)
def test_no_strong_etag_is_shared_by_different_answers(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    bodies: dict[str, set[bytes]] = {}
    for query in ["", "?callback=first", "?callback=second"]:
        response = client.get(f"/tagged{query}", headers=headers)
        assert response.status_code == 200
        etag, weak = response.get_etag()
        if etag is not None and not weak:
            bodies.setdefault(etag, set()).add(body_of(response))
    for etag, seen in bodies.items():
        assert len(seen) == 1, f"strong ETag {etag!r} on {len(seen)} different bodies"


@pytest.mark.node
@pytest.mark.parametrize("headers", [GZIP, BROWSER], ids=["gzip", "browser"])
@pytest.mark.parametrize("path", ["/rows", "/tagged"])
def test_compressed_jsonp_answer_runs_in_node(
    client: FlaskClient, node: NodeRunner, path: str, headers: dict[str, str]
) -> None:
    response = client.get(f"{path}?callback=app.onRows", headers=headers)
    assert run_in_node(node, response, "app.onRows") == DATA
