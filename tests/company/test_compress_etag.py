"""Flask-Compress and the JSONP answers' entity tags: the gzip, br and identity
answers of one JSONP URL carry a weak tag, which Flask-Compress leaves as it is
(it suffixes strong tags only), so no strong tag is ever shared by different
bytes; a matching ``If-None-Match`` gets 304 whatever the ``Accept-Encoding``;
with the tags turned off there is none at all. Both orders of set-up.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask import jsonify
from flask import Response
from flask.testing import FlaskClient
from flask_compress import Compress
from werkzeug.test import TestResponse

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
DATA = {"rows": [{"id": number, "name": f"row {number}"} for number in range(60)]}

#: Accept-Encoding, and the Content-Encoding Flask-Compress answers it with.
ENCODINGS = {"gzip": "gzip", "br": "br", "identity": None}

#: The three ways a view hands over its data: a dict (built in one step), a
#: JSON response, and a JSON response with the view's own strong tag.
PATHS = ["/rows", "/response", "/tagged"]

SETUPS = [
    pytest.param(True, id="Compress-first"),
    pytest.param(False, id="JSONP-first"),
]


def make_client(app: Flask, compress_first: bool) -> FlaskClient:
    if compress_first:
        Compress(app)
        JSONP(app)
    else:
        JSONP(app)
        Compress(app)
    allowlisted = jsonp(allowed_referrers=ALLOWED_REFERRERS)

    @app.get("/rows")
    @allowlisted
    def rows() -> dict[str, Any]:
        return DATA

    @app.get("/response")
    @allowlisted
    def response() -> Response:
        return jsonify(DATA)

    @app.get("/tagged")
    @allowlisted
    def tagged() -> Response:
        answer = jsonify(DATA)
        answer.add_etag()
        return answer

    return app.test_client()


@pytest.fixture(params=SETUPS)
def client(app: Flask, request: pytest.FixtureRequest) -> FlaskClient:
    return make_client(app, request.param)


def get(client: FlaskClient, url: str, encoding: str, **headers: str) -> TestResponse:
    return client.get(
        url, headers={"Accept-Encoding": encoding, **FROM_ALLOWED_PAGE, **headers}
    )


@pytest.mark.parametrize("path", PATHS)
def test_every_encoding_carries_the_same_weak_tag(
    client: FlaskClient, path: str
) -> None:
    tags = {}
    for encoding, coding in ENCODINGS.items():
        response = get(client, f"{path}?callback=onRows", encoding)
        assert response.headers.get("Content-Encoding") == coding
        assert callback_argument(response, "onRows") == DATA
        etag, weak = response.get_etag()
        # Weak: equal for the same script whatever its coding, which a weak
        # tag may be; a strong one would have to differ per encoding.
        assert weak, response.headers["ETag"]
        tags[encoding] = etag
    assert len(set(tags.values())) == 1, tags


@pytest.mark.parametrize("path", PATHS)
def test_no_strong_tag_is_shared_by_different_bytes(
    client: FlaskClient, path: str
) -> None:
    bodies: dict[str, set[bytes]] = {}
    for query in ["", "?callback=first", "?callback=second"]:
        for encoding in ENCODINGS:
            response = get(client, path + query, encoding)
            assert response.status_code == 200
            etag, weak = response.get_etag()
            if etag is not None and not weak:
                bodies.setdefault(etag, set()).add(response.get_data())
    for etag, seen in bodies.items():
        assert len(seen) == 1, f"strong ETag {etag!r} on {len(seen)} different bodies"


@pytest.mark.parametrize("asked_with", list(ENCODINGS))
@pytest.mark.parametrize("tagged_by", list(ENCODINGS))
@pytest.mark.parametrize("path", PATHS)
def test_matching_tag_gets_304_whatever_the_encoding(
    client: FlaskClient, path: str, tagged_by: str, asked_with: str
) -> None:
    url = f"{path}?callback=onRows"
    etag = get(client, url, tagged_by).headers["ETag"]
    response = get(client, url, asked_with, **{"If-None-Match": etag})
    assert response.status_code == 304, response.headers
    assert response.get_data() == b""
    assert response.headers["ETag"] == etag
    assert "Content-Encoding" not in response.headers
    assert "Content-Type" not in response.headers
    assert "accept-encoding" in {name.lower() for name in response.vary}
    assert_private(response)
    assert_nosniff(response)


@pytest.mark.parametrize("path", PATHS)
def test_tag_of_another_callback_gets_the_full_answer(
    client: FlaskClient, path: str
) -> None:
    etag = get(client, f"{path}?callback=first", "gzip").headers["ETag"]
    response = get(client, f"{path}?callback=second", "gzip", **{"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert callback_argument(response, "second") == DATA
    assert response.headers["ETag"] != etag


@pytest.mark.parametrize(
    "compress_first", [True, False], ids=["Compress-first", "JSONP-first"]
)
@pytest.mark.parametrize("path", PATHS)
def test_without_jsonp_etag_no_answer_is_tagged(
    app: Flask, compress_first: bool, path: str
) -> None:
    app.config["JSONP_ETAG"] = False
    client = make_client(app, compress_first)
    url = f"{path}?callback=onRows"
    for encoding, coding in ENCODINGS.items():
        response = get(client, url, encoding, **{"If-None-Match": "*"})
        assert response.status_code == 200
        assert response.headers.get("Content-Encoding") == coding
        assert "ETag" not in response.headers
        assert callback_argument(response, "onRows") == DATA


@pytest.mark.node
@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_decoded_tagged_answer_runs_in_node(
    client: FlaskClient, node: NodeRunner, encoding: str
) -> None:
    response = get(client, "/tagged?callback=app.onRows", encoding)
    assert response.headers["Content-Encoding"] == encoding
    assert response.get_etag()[1]
    assert body_of(response) != response.get_data()
    assert run_in_node(node, response, "app.onRows") == DATA
