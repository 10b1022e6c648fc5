"""Serialisation goes through the app's JSON provider, whichever it is."""

from __future__ import annotations

import json
from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask import jsonify
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


class HTMLish:
    def __html__(self) -> str:
        return "<b>safe</b>"


#: What flask-orjson's provider serializes beyond plain JSON types: its default
#: function's Decimal and __html__, and orjson's own naive datetimes, dataclasses
#: and non-string keys under the provider's options.
ORJSON_VALUES = [
    DATA,
    [Decimal("1.10"), HTMLish(), datetime(2026, 12, 7, 11, 0)],
    {"when": date(2026, 12, 7), "nested": {"list": [1, 2.5, True, None]}},
]


@pytest.mark.parametrize("value", ORJSON_VALUES)
@pytest.mark.parametrize("configured", [False, True])
def test_orjson_bytes_are_the_providers_dumps(value: Any, configured: bool) -> None:
    # flask_jsonp.json_bytes calls orjson.dumps as flask-orjson's dumps() does,
    # without decoding: the bytes must be what dumps() returns, encoded.
    flask_orjson = pytest.importorskip("flask_orjson")
    import orjson

    from flask_jsonp.answer import dumps

    app = Flask(__name__)
    provider = flask_orjson.OrjsonProvider(app)
    if configured:
        provider.option = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
        provider.default = lambda value: f"custom {type(value).__name__}"
    app.json = provider
    assert dumps(app, value) == provider.dumps(value).encode()
    # The body of what jsonify() answers, less its newline.
    with app.app_context():
        plain = jsonify(value).get_data()
    assert dumps(app, value) == plain.rstrip(b"\n")


def test_a_subclass_of_the_orjson_provider_is_asked_for_its_dumps(
    node: NodeRunner,
) -> None:
    pytest.importorskip("flask_orjson")
    from flask_orjson import OrjsonProvider

    class Renamed(OrjsonProvider):
        def dumps(self, obj: Any, **kwargs: Any) -> str:
            return super().dumps({"wrapped": obj}, **kwargs)

    app = Flask(__name__)
    app.json = Renamed(app)
    response = make_app(app).test_client().get("/data?callback=cb")
    assert run_jsonp(node, response, "cb") == {"wrapped": DATA}
