"""Assertions shared by the tests of the Flask entry points."""

from __future__ import annotations

from typing import Any

from werkzeug.test import TestResponse

from tests.node import NodeRunner


def assert_jsonp_headers(response: TestResponse) -> None:
    """The headers every JSONP answer carries."""
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert int(response.headers["Content-Length"]) == len(response.data)


def run_jsonp(node: NodeRunner, response: TestResponse, callback: str) -> Any:
    """Check a JSONP answer, run it in Node and return the one value passed to
    the callback.
    """
    assert_jsonp_headers(response)
    assert response.data.startswith(b"/**/")
    result = node.run(response.data, callback)
    assert result.error is None
    assert result.new_globals == []
    assert len(result.calls) == 1, result.calls
    (data,) = result.calls[0]
    return data


def assert_refused(response: TestResponse, status: int, error: str) -> None:
    """A refusal: the status, a short JSON error, never a script."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.json is not None
    assert response.json["error"] == error
    assert b"/**/" not in response.data
