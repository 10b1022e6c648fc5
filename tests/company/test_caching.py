"""Flask-Caching's ``@cache.cached()`` above and below an allowlisted JSONP view:
the cache never hands the allowed page's answer to another page, never serves
one callback's answer to another, never keeps a refusal, and still saves the
view's work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_caching import Cache
from werkzeug.test import TestResponse

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
from tests.company.support import SECRET
from tests.company.support import WITHOUT_REFERER
from tests.node import NodeRunner

DATA = {"secret": SECRET, "items": [1, 2, 3]}


@dataclass
class Cached:
    """A client of an app with one cached JSONP view at ``/data``."""

    client: FlaskClient
    #: How many times the view ran.
    calls: list[None]
    #: Whether the cache key holds the query string (so the callback).
    query_string: bool


def make_app(
    app: Flask, *, cache_above: bool, query_string: bool, with_extension: bool
) -> Cached:
    cache = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    if with_extension:
        JSONP(app)
    calls: list[None] = []

    def view() -> dict[str, Any]:
        calls.append(None)
        return DATA

    cached = cache.cached(query_string=query_string)
    allowlisted = jsonp(allowed_referrers=ALLOWED_REFERRERS)
    if cache_above:
        app.get("/data")(cached(allowlisted(view)))
    else:
        app.get("/data")(allowlisted(cached(view)))
    return Cached(app.test_client(), calls, query_string)


#: Every order a user could write, with and without the callback in the key.
#: A cache above ``@jsonp`` needs the extension: without it the checks run only
#: when ``@jsonp``'s wrapper is reached, which a cache hit skips.
ARRANGEMENTS = [
    pytest.param((cache_above, query_string, with_extension), id=name)
    for cache_above, query_string, with_extension, name in [
        (True, False, True, "cache-above-jsonp"),
        (True, True, True, "cache-above-jsonp-query_string"),
        (False, False, True, "cache-below-jsonp"),
        (False, True, True, "cache-below-jsonp-query_string"),
        (False, False, False, "cache-below-jsonp-decorator-only"),
        (False, True, False, "cache-below-jsonp-query_string-decorator-only"),
    ]
]


@pytest.fixture(params=ARRANGEMENTS)
def cached(app: Flask, request: pytest.FixtureRequest) -> Cached:
    cache_above, query_string, with_extension = request.param
    return make_app(
        app,
        cache_above=cache_above,
        query_string=query_string,
        with_extension=with_extension,
    )


@pytest.mark.parametrize(
    "page", [FROM_EVIL_PAGE, WITHOUT_REFERER], ids=["evil", "none"]
)
def test_other_pages_are_refused_after_the_allowed_page_loaded(
    cached: Cached, page: dict[str, str]
) -> None:
    first = cached.client.get("/data?callback=onData", headers=FROM_ALLOWED_PAGE)
    assert callback_argument(first, "onData") == DATA
    assert_private(first)

    refused = cached.client.get("/data?callback=onData", headers=page)
    assert_refused(refused, 403, "referrer_not_allowed")
    assert_private(refused)

    again = cached.client.get("/data?callback=onData", headers=FROM_ALLOWED_PAGE)
    assert callback_argument(again, "onData") == DATA
    assert_private(again)
    assert len(cached.calls) == 1


@pytest.mark.parametrize(
    "page", [FROM_EVIL_PAGE, WITHOUT_REFERER], ids=["evil", "none"]
)
def test_refusal_is_never_cached(cached: Cached, page: dict[str, str]) -> None:
    for _ in range(2):
        refused = cached.client.get("/data?callback=onData", headers=page)
        assert_refused(refused, 403, "referrer_not_allowed")
    assert cached.calls == []
    answer = cached.client.get("/data?callback=onData", headers=FROM_ALLOWED_PAGE)
    assert callback_argument(answer, "onData") == DATA
    assert len(cached.calls) == 1


#: Requests in turn to one URL: the JSON answer and two callbacks, in both
#: orders, each asked twice.
SEQUENCES = {
    "jsonp-first": ["onData", "other", None, "onData", "other", None],
    "json-first": [None, "onData", None, "other", "onData"],
}


def load(cached: Cached, callbacks: list[str | None]) -> list[TestResponse]:
    responses = []
    for callback in callbacks:
        query = "" if callback is None else f"?callback={callback}"
        responses.append(cached.client.get(f"/data{query}", headers=FROM_ALLOWED_PAGE))
    return responses


def expected_calls(cached: Cached, callbacks: list[str | None]) -> int:
    """One run per cache key: the URL, or the URL and its query string."""
    return len(set(callbacks)) if cached.query_string else 1


def assert_plain_json(response: TestResponse) -> None:
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == DATA
    assert_nosniff(response)


@pytest.mark.parametrize("sequence", list(SEQUENCES))
def test_cached_answer_goes_to_the_callback_that_asked(
    cached: Cached, sequence: str
) -> None:
    callbacks = SEQUENCES[sequence]
    for callback, response in zip(callbacks, load(cached, callbacks), strict=True):
        if callback is None:
            assert_plain_json(response)
        else:
            assert callback_argument(response, callback) == DATA
            assert_private(response)
    assert len(cached.calls) == expected_calls(cached, callbacks)


@pytest.mark.node
@pytest.mark.parametrize("sequence", list(SEQUENCES))
def test_cached_answer_runs_only_the_callback_that_asked(
    cached: Cached, node: NodeRunner, sequence: str
) -> None:
    callbacks = SEQUENCES[sequence]
    for callback, response in zip(callbacks, load(cached, callbacks), strict=True):
        if callback is None:
            assert_plain_json(response)
            continue
        # The page defines only its own callback: an answer cached for the
        # other one would call nothing.
        assert run_in_node(node, response, callback) == DATA
