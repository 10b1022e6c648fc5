"""Why a cache above ``@jsonp`` needs ``JSONP(app)`` (docs/extensions.md, "The
rule: set up the extension"): without it, Flask-Caching stores the refusal that
``@jsonp`` raises, so one request from outside the allowlist shuts the endpoint
for every page, and a hit answers the view's data unchecked and without the
callback. With the extension, the same stack does neither.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_caching import Cache

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from tests.company.support import ALLOWED_REFERRERS
from tests.company.support import assert_refused
from tests.company.support import callback_argument
from tests.company.support import FROM_ALLOWED_PAGE
from tests.company.support import FROM_EVIL_PAGE
from tests.company.support import needs_caching_that_stores_refusals
from tests.company.support import run_in_node
from tests.company.support import SECRET
from tests.company.support import WITHOUT_REFERER
from tests.node import NodeRunner

DATA = {"secret": SECRET}


def cache_above_jsonp(
    app: Flask, *, with_extension: bool, query_string: bool
) -> FlaskClient:
    cache = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    if with_extension:
        JSONP(app)

    @app.get("/data")
    @cache.cached(query_string=query_string)
    @jsonp(allowed_referrers=ALLOWED_REFERRERS)
    def data() -> dict[str, str]:
        return DATA

    return app.test_client()


#: The requests a refused page's 403 must not reach: the allowed page's own,
#: another callback's, plain JSON. With the query string in the key, only the
#: URL the refused request used is shut.
AFTER_A_REFUSAL = [
    ("/data?callback=onData", {True: 403, False: 403}),
    ("/data?callback=other", {True: 200, False: 403}),
    ("/data", {True: 200, False: 403}),
]


@needs_caching_that_stores_refusals
@pytest.mark.parametrize("query_string", [True, False], ids=["query_string", "path"])
@pytest.mark.parametrize(
    "page", [FROM_EVIL_PAGE, WITHOUT_REFERER], ids=["evil", "none"]
)
def test_without_the_extension_one_refusal_shuts_the_endpoint_for_every_page(
    app: Flask, query_string: bool, page: dict[str, str]
) -> None:
    client = cache_above_jsonp(app, with_extension=False, query_string=query_string)
    assert_refused(
        client.get("/data?callback=onData", headers=page), 403, "referrer_not_allowed"
    )
    for url, statuses in AFTER_A_REFUSAL:
        response = client.get(url, headers=FROM_ALLOWED_PAGE)
        assert response.status_code == statuses[query_string], url
        if response.status_code == 403:
            assert_refused(response, 403, "referrer_not_allowed")


@pytest.mark.node
@pytest.mark.parametrize("query_string", [True, False], ids=["query_string", "path"])
@pytest.mark.parametrize(
    "page", [FROM_EVIL_PAGE, WITHOUT_REFERER], ids=["evil", "none"]
)
def test_without_the_extension_a_cache_hit_skips_the_checks_and_the_callback(
    app: Flask, node: NodeRunner, query_string: bool, page: dict[str, str]
) -> None:
    client = cache_above_jsonp(app, with_extension=False, query_string=query_string)
    first = client.get("/data?callback=onData", headers=FROM_ALLOWED_PAGE)
    assert run_in_node(node, first, "onData") == DATA
    # What the cache holds is the view's data: a hit answers it as plain JSON,
    # unchecked, to a page the allowlist refuses as to the allowed one, whose
    # callback it never calls.
    for headers in (page, FROM_ALLOWED_PAGE):
        hit = client.get("/data?callback=onData", headers=headers)
        assert hit.status_code == 200
        assert hit.mimetype == "application/json"
        assert hit.json == DATA
        assert node.run(hit.get_data(), "onData").calls == []


@pytest.mark.parametrize("query_string", [True, False], ids=["query_string", "path"])
@pytest.mark.parametrize(
    "page", [FROM_EVIL_PAGE, WITHOUT_REFERER], ids=["evil", "none"]
)
def test_with_the_extension_refusals_neither_stick_nor_are_skipped(
    app: Flask, query_string: bool, page: dict[str, str]
) -> None:
    client = cache_above_jsonp(app, with_extension=True, query_string=query_string)
    for _ in range(2):
        refused = client.get("/data?callback=onData", headers=page)
        assert_refused(refused, 403, "referrer_not_allowed")
        answer = client.get("/data?callback=onData", headers=FROM_ALLOWED_PAGE)
        assert callback_argument(answer, "onData") == DATA
