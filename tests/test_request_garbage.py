"""A JSONP request leaves nothing for the garbage collector: what it allocates is
freed by reference counting when the request ends, as Flask's own objects are.

A reference cycle (the request's bookkeeping holding the WSGI environ, which
holds it back) costs no instruction on the request that makes it; it is paid
later, by whichever request triggers a collection, and callgrind's count of
the request does not show it.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from flask_jsonp.jsonp_request import JsonpRequest


def _other_hook() -> None:
    """An app-wide hook of another extension: the JSONP check stays before it."""


def _logged(view: Callable[..., Any]) -> Callable[..., Any]:
    """Someone else's decorator above ``@jsonp``."""

    @functools.wraps(view)
    def logged(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    return logged


def _app(extension: bool, hook: bool, stacked: bool) -> Flask:
    app = Flask(__name__)
    if extension:
        JSONP(app)
    if hook:
        app.before_request(_other_hook)

    def data() -> dict[str, int]:
        return {"id": 1}

    view = jsonp(data)
    app.add_url_rule("/data", "data", _logged(view) if stacked else view)
    return app


@pytest.fixture
def collector_off() -> Iterator[None]:
    """Only reference counting frees objects while the test runs."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _live_jsonp_requests() -> int:
    return sum(isinstance(item, JsonpRequest) for item in gc.get_objects())


@pytest.mark.parametrize(
    ("extension", "hook", "stacked"),
    [
        pytest.param(False, False, False, id="decorator alone"),
        pytest.param(True, False, False, id="with JSONP(app)"),
        pytest.param(True, True, False, id="beside another before_request hook"),
        pytest.param(True, False, True, id="below another decorator"),
        pytest.param(True, True, True, id="below another decorator and hook"),
    ],
)
@pytest.mark.parametrize("query", ["callback=show", "format=json"])
@pytest.mark.usefixtures("collector_off")
def test_a_jsonp_request_leaves_no_reference_cycle(
    extension: bool, hook: bool, stacked: bool, query: str
) -> None:
    app = _app(extension, hook, stacked)
    environ = EnvironBuilder("/data", query_string=query).get_environ()
    answers: list[str] = []

    def start_response(status: str, *_: Any) -> Callable[[bytes], object]:
        answers.append(status)
        return lambda data: None

    for _ in range(3):  # the first request readies the endpoints
        body = app(dict(environ), start_response)
        data = b"".join(body)
        getattr(body, "close", lambda: None)()
    assert answers == ["200 OK"] * 3
    assert data.startswith(b"/**/") == query.startswith("callback")
    assert _live_jsonp_requests() == 0
