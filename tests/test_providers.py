"""Serialisation goes through the app's JSON provider, whichever it is."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask import Response
from flask.json.provider import DefaultJSONProvider

from flask_jsonp import jsonp
from tests.helpers import run_jsonp
from tests.node import NodeRunner

DATA = {"z": 1, "a": "</script> \u2028 caf\u00e9 \U0001f600 & <!--", "m": [1.5, None]}


class RawUTF8Provider(DefaultJSONProvider):
    """A provider that writes raw UTF-8 and escapes nothing, as orjson does."""

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
        return Response(body, mimetype=self.mimetype)


def make_app(app: Flask) -> Flask:
    @app.get("/data")
    @jsonp
    def data() -> Any:
        return DATA

    return app


def check(app: Flask, node: NodeRunner) -> bytes:
    response = app.test_client().get("/data?callback=cb")
    assert run_jsonp(node, response, "cb") == DATA
    for unsafe in (b"<", b">", "\u2028".encode()):
        assert unsafe not in response.data
    data: bytes = response.data
    return data


def test_custom_provider_is_used_and_escaped(node: NodeRunner) -> None:
    app = Flask(__name__)
    app.json = RawUTF8Provider(app)
    body = check(make_app(app), node)
    assert "café".encode() in body


def test_orjson_provider(node: NodeRunner) -> None:
    flask_orjson = pytest.importorskip("flask_orjson")
    app = Flask(__name__)
    app.json = flask_orjson.OrjsonProvider(app)
    body = check(make_app(app), node)
    assert "café".encode() in body


def test_default_provider_sort_keys_off(node: NodeRunner) -> None:
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    body = check(make_app(app), node)
    assert body.index(b'"z"') < body.index(b'"a"')
