"""What the combination tests share: the pages, and what a user relies on in
an answer, read from the response as a browser would read it.
"""

from __future__ import annotations

import gzip
import importlib
import json
import zlib
from importlib.metadata import version
from typing import Any
from typing import cast

import pytest
from flask import Flask
from flask_login import login_user
from flask_login import LoginManager
from flask_login import UserMixin
from werkzeug.test import TestResponse

from flask_jsonp.response import guarded_call_prefix
from tests.helpers import assert_jsonp_headers
from tests.node import NodeRunner

#: Flask-Caching 2.5 stores what the cached view raises (an HTTP error) and the
#: redirect a login returns; 2.4, which Python 3.10 and Flask 2.3 get in the
#: version matrix, stores neither.
CACHING_STORES_REFUSALS = tuple(
    int(part) for part in version("Flask-Caching").split(".")[:2]
) >= (2, 5)
needs_caching_that_stores_refusals = pytest.mark.skipif(
    not CACHING_STORES_REFUSALS,
    reason="Flask-Caching < 2.5 stores no refusal: the cache cannot keep one",
)

#: The allowlist of the views under test, and pages in and out of it.
ALLOWED_REFERRERS = ["https://app.example"]
FROM_ALLOWED_PAGE = {"Referer": "https://app.example/dashboard?tab=1"}
FROM_EVIL_PAGE = {"Referer": "https://evil.example/steal"}
#: A Referer stripped by a Referrer-Policy, a proxy or a privacy tool.
WITHOUT_REFERER: dict[str, str] = {}

#: Data that must reach the allowed page and nobody else.
SECRET = "s3cret-token-4242"


def _decompress_with(module_names: tuple[str, ...], data: bytes) -> bytes:
    # br and zstd come from modules that Flask-Compress installs, whose name
    # depends on the Python version (compression.zstd from 3.14).
    for name in module_names:
        try:
            module: Any = importlib.import_module(name)
        except ImportError:
            continue
        return cast(bytes, module.decompress(data))
    raise AssertionError(f"none of {module_names} is installed")


def body_of(response: TestResponse) -> bytes:
    """The body as the client reads it, decoded from its content coding."""
    data = response.get_data()
    coding = response.headers.get("Content-Encoding", "identity")
    if coding == "gzip":
        return gzip.decompress(data)
    if coding == "deflate":
        return zlib.decompress(data)
    if coding == "br":
        return _decompress_with(("brotli", "brotlicffi"), data)
    if coding == "zstd":
        return _decompress_with(("compression.zstd", "backports.zstd"), data)
    assert coding == "identity", coding
    return data


def assert_nosniff(response: TestResponse) -> None:
    """The browser never runs or renders the answer as anything but its type."""
    values = response.headers.getlist("X-Content-Type-Options")
    assert values, "no X-Content-Type-Options"
    assert all(value.strip() == "nosniff" for value in values), values


def assert_private(response: TestResponse) -> None:
    """An answer that a referrer allowlist decided: no shared cache may give it
    to another page.
    """
    assert "private" in response.cache_control, response.headers
    assert "public" not in response.cache_control
    vary = {name.lower() for name in response.vary}
    assert {"referer", "sec-fetch-site"} <= vary, response.headers


def assert_no_secret(response: TestResponse) -> None:
    assert SECRET.encode() not in body_of(response)


def callback_argument(response: TestResponse, callback: str) -> Any:
    """Check a JSONP answer's headers and return what it passes to ``callback``,
    read without a JavaScript engine (the Node tests run the same answers).
    """
    assert response.status_code == 200, (response.status_code, response.data)
    assert_jsonp_headers(response)
    body = body_of(response)
    prefix = guarded_call_prefix(callback)
    assert body.startswith(prefix), body[:120]
    assert body.endswith(b");"), body[-40:]
    return json.loads(body[len(prefix) : -len(b");")])


def assert_refused(response: TestResponse, status: int, error: str) -> None:
    """A refusal the page can see as such: the status, our JSON error, never a
    script, nosniff.
    """
    assert response.status_code == status, (response.status_code, response.data)
    assert response.mimetype == "application/json"
    assert response.json is not None
    assert response.json["error"] == error
    assert not body_of(response).startswith(b"/**/")
    assert_nosniff(response)
    assert_no_secret(response)


def run_in_node(node: NodeRunner, response: TestResponse, callback: str) -> Any:
    """Run a JSONP answer in Node.js with ``callback`` defined, and return the
    one value it was called with.
    """
    assert response.status_code == 200, (response.status_code, response.data)
    assert_jsonp_headers(response)
    result = node.run(body_of(response), callback)
    assert result.error is None
    assert result.new_globals == []
    assert len(result.calls) == 1, result.calls
    (argument,) = result.calls[0]
    return argument


class User(UserMixin):
    """The one user of the login tests, ``alice``."""

    def __init__(self, user_id: str) -> None:
        self.id = user_id


def set_up_login(app: Flask, login_view: str | None = None) -> LoginManager:
    """Set up the real Flask-Login on ``app``: ``alice`` is the only user, and
    ``POST /login`` signs her in.
    """
    login_manager = LoginManager(app)
    login_manager.login_view = login_view

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return User(user_id) if user_id == "alice" else None

    @app.post("/login")
    def login() -> str:
        login_user(User("alice"))
        return "ok"

    return login_manager
