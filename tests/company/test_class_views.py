"""Class-based views with JSONP declared on a method, on ``dispatch_request`` or
in the class's ``decorators``, stacked with the real Flask-Caching, Flask-Login
and flask-smorest: with ``JSONP(app)`` the checks run before anything stacked,
exactly as for a function view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import ClassVar

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask.views import MethodView
from flask.views import View
from flask_caching import Cache
from flask_login import login_required
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from tests.company.support import ALLOWED_REFERRERS
from tests.company.support import assert_no_secret
from tests.company.support import assert_nosniff
from tests.company.support import assert_private
from tests.company.support import assert_refused
from tests.company.support import callback_argument
from tests.company.support import FROM_ALLOWED_PAGE
from tests.company.support import FROM_EVIL_PAGE
from tests.company.support import run_in_node
from tests.company.support import SECRET
from tests.company.support import set_up_login
from tests.company.support import WITHOUT_REFERER
from tests.node import NodeRunner

DATA = {"secret": SECRET}

allowlisted = jsonp(allowed_referrers=ALLOWED_REFERRERS)


def _cache(app: Flask) -> Cache:
    return Cache(app, config={"CACHE_TYPE": "SimpleCache"})


def cache_above_jsonp_on_get(app: Flask, calls: list[str]) -> None:
    cache = _cache(app)

    class Catalog(MethodView):
        @cache.cached(query_string=True)
        @allowlisted
        def get(self) -> dict[str, str]:
            calls.append("get")
            return DATA

    app.add_url_rule("/catalog", view_func=Catalog.as_view("catalog"))


def cache_below_jsonp_on_get(app: Flask, calls: list[str]) -> None:
    cache = _cache(app)

    class Catalog(MethodView):
        @allowlisted
        @cache.cached(query_string=True)
        def get(self) -> dict[str, str]:
            calls.append("get")
            return DATA

    app.add_url_rule("/catalog", view_func=Catalog.as_view("catalog"))


def cache_in_decorators_jsonp_on_dispatch(app: Flask, calls: list[str]) -> None:
    cache = _cache(app)

    class Catalog(View):
        decorators: ClassVar[list[Callable[..., Any]]] = [
            cache.cached(query_string=True)
        ]

        @allowlisted
        def dispatch_request(self) -> dict[str, str]:
            calls.append("dispatch")
            return DATA

    app.add_url_rule("/catalog", view_func=Catalog.as_view("catalog"))


def cache_above_jsonp_in_decorators(app: Flask, calls: list[str]) -> None:
    cache = _cache(app)

    class Catalog(MethodView):
        # Applied in order: the last one is outermost.
        decorators: ClassVar[list[Callable[..., Any]]] = [
            allowlisted,
            cache.cached(query_string=True),
        ]

        def get(self) -> dict[str, str]:
            calls.append("get")
            return DATA

    app.add_url_rule("/catalog", view_func=Catalog.as_view("catalog"))


def cache_on_the_view_function(app: Flask, calls: list[str]) -> None:
    cache = _cache(app)

    class Catalog(MethodView):
        @allowlisted
        def get(self) -> dict[str, str]:
            calls.append("get")
            return DATA

    view: Any = cache.cached(query_string=True)(Catalog.as_view("catalog"))
    app.add_url_rule("/catalog", view_func=view)


CACHED = [
    cache_above_jsonp_on_get,
    cache_below_jsonp_on_get,
    cache_in_decorators_jsonp_on_dispatch,
    cache_above_jsonp_in_decorators,
    cache_on_the_view_function,
]


def make_cached(
    app: Flask, arrangement: Callable[..., None]
) -> tuple[FlaskClient, list[str]]:
    JSONP(app)
    calls: list[str] = []
    arrangement(app, calls)
    return app.test_client(), calls


@pytest.mark.parametrize("arrangement", CACHED)
def test_a_cache_never_serves_the_allowed_pages_answer_to_another(
    app: Flask, arrangement: Callable[..., None]
) -> None:
    client, calls = make_cached(app, arrangement)
    allowed = client.get("/catalog?callback=cb", headers=FROM_ALLOWED_PAGE)
    assert callback_argument(allowed, "cb") == DATA
    assert_private(allowed)
    for headers in (FROM_EVIL_PAGE, WITHOUT_REFERER):
        assert_refused(
            client.get("/catalog?callback=cb", headers=headers),
            403,
            "referrer_not_allowed",
        )
    again = client.get("/catalog?callback=cb", headers=FROM_ALLOWED_PAGE)
    assert callback_argument(again, "cb") == DATA
    assert calls, "the view never ran"


@pytest.mark.parametrize("arrangement", CACHED)
def test_a_refusal_is_never_cached_for_the_allowed_page(
    app: Flask, arrangement: Callable[..., None]
) -> None:
    client, _ = make_cached(app, arrangement)
    refused = client.get("/catalog?callback=cb", headers=FROM_EVIL_PAGE)
    assert_refused(refused, 403, "referrer_not_allowed")
    allowed = client.get("/catalog?callback=cb", headers=FROM_ALLOWED_PAGE)
    assert callback_argument(allowed, "cb") == DATA


@pytest.mark.node
@pytest.mark.parametrize("arrangement", CACHED)
def test_the_cached_class_view_answer_runs_the_callback(
    app: Flask, node: NodeRunner, arrangement: Callable[..., None]
) -> None:
    client, _ = make_cached(app, arrangement)
    for _round in range(2):
        answer = client.get("/catalog?callback=app.onData", headers=FROM_ALLOWED_PAGE)
        assert run_in_node(node, answer, "app.onData") == DATA
    plain = client.get("/catalog", headers=FROM_EVIL_PAGE)
    assert plain.json == DATA
    assert_nosniff(plain)


def login_in_decorators(app: Flask) -> None:
    class Me(MethodView):
        decorators: ClassVar[list[Callable[..., Any]]] = [login_required]

        @allowlisted
        def get(self) -> dict[str, str]:
            return DATA

    app.add_url_rule("/me", view_func=Me.as_view("me"))


def login_above_jsonp_on_get(app: Flask) -> None:
    class Me(MethodView):
        @login_required
        @allowlisted
        def get(self) -> dict[str, str]:
            return DATA

    app.add_url_rule("/me", view_func=Me.as_view("me"))


@pytest.mark.parametrize("arrangement", [login_in_decorators, login_above_jsonp_on_get])
def test_the_allowlist_runs_before_the_login(
    app: Flask, arrangement: Callable[[Flask], None]
) -> None:
    set_up_login(app)
    JSONP(app)
    arrangement(app)
    client = app.test_client()
    # An evil page is refused for its page, before the login is asked.
    assert_refused(
        client.get("/me?callback=cb", headers=FROM_EVIL_PAGE),
        403,
        "referrer_not_allowed",
    )
    anonymous = client.get("/me?callback=cb", headers=FROM_ALLOWED_PAGE)
    assert anonymous.status_code == 401
    assert_no_secret(anonymous)
    assert_nosniff(anonymous)
    assert_private(anonymous)
    client.post("/login")
    answer = client.get("/me?callback=cb", headers=FROM_ALLOWED_PAGE)
    assert callback_argument(answer, "cb") == DATA
    assert_private(answer)
    assert_refused(
        client.get("/me?callback=cb", headers=FROM_EVIL_PAGE),
        403,
        "referrer_not_allowed",
    )


def test_each_method_answers_with_its_own_declaration(app: Flask) -> None:
    JSONP(app)

    class Items(MethodView):
        @allowlisted
        def get(self) -> dict[str, str]:
            return DATA

        def post(self) -> dict[str, str]:
            return {"posted": "yes"}

        @jsonp
        def put(self) -> dict[str, str]:
            return {"put": "yes"}

    app.add_url_rule("/items", view_func=Items.as_view("items"))
    client = app.test_client()
    # POST declares no JSONP: answered as the method answers, whatever the query.
    posted = client.post("/items?callback=cb", headers=FROM_EVIL_PAGE)
    assert posted.json == {"posted": "yes"}
    # PUT declares JSONP, which answers GET only.
    assert_refused(client.put("/items?callback=cb"), 405, "method_not_allowed")
    # HEAD runs get(), with its allowlist.
    head = client.head("/items?callback=cb", headers=FROM_EVIL_PAGE)
    assert head.status_code == 403
    head = client.head("/items?callback=cb", headers=FROM_ALLOWED_PAGE)
    assert head.status_code == 200
    assert head.mimetype == "text/javascript"


def register_smorest(app: Flask, cache: Cache, order: str) -> None:
    app.config.update(API_TITLE="Shop", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = Api(app)
    blp = SmorestBlueprint("shop", __name__, url_prefix="/shop")

    if order == "cache-above":

        @blp.route("/catalog")
        class Catalog(MethodView):
            @cache.cached(query_string=True)
            @allowlisted
            @blp.response(200)
            def get(self) -> dict[str, Any]:
                return DATA

    else:

        @blp.route("/catalog")
        class Catalog(MethodView):  # type: ignore[no-redef]
            @allowlisted
            @cache.cached(query_string=True)
            @blp.response(200)
            def get(self) -> dict[str, Any]:
                return DATA

    api.register_blueprint(blp)


@pytest.mark.parametrize("order", ["cache-above", "cache-below"])
def test_a_flask_smorest_method_view_checks_before_the_cache(
    app: Flask, order: str
) -> None:
    JSONP(app)
    register_smorest(app, _cache(app), order)
    client = app.test_client()
    allowed = client.get("/shop/catalog?callback=cb", headers=FROM_ALLOWED_PAGE)
    assert callback_argument(allowed, "cb") == DATA
    assert_private(allowed)
    for headers in (FROM_EVIL_PAGE, WITHOUT_REFERER):
        # flask-smorest answers HTTP errors with its own JSON.
        refused = client.get("/shop/catalog?callback=cb", headers=headers)
        assert refused.status_code == 403
        assert refused.mimetype == "application/json"
        assert_no_secret(refused)
        assert_nosniff(refused)
        assert_private(refused)
