"""Flask-Login and Flask-Caching on one JSONP view, as "With other extensions"
(docs/extensions.md) shows them: the two code blocks of the page run as they
are written, the wrong order serves one user's answer to anyone and caches the
login's refusal, the right one never does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_caching import Cache
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import LoginManager
from flask_login import UserMixin
from werkzeug.test import TestResponse

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from tests.company.support import assert_nosniff
from tests.company.support import assert_private
from tests.company.support import body_of
from tests.company.support import needs_caching_that_stores_refusals
from tests.company.support import run_in_node
from tests.node import NodeRunner

PAGE = Path(__file__).parent.parent.parent / "docs" / "extensions.md"

#: The page's origin is the one the documented allowlist names.
FROM_ALLOWED_PAGE = {"Referer": "https://app.example/account"}

#: The documented view's URL, with the callback a page would give it.
URL = "/api/me?callback=onMe"


def documented_block(name: str) -> str:
    """The code of the ``{code-block}`` with ``:name: name`` on the page."""
    pattern = re.compile(
        rf"^```{{code-block}} python\n:name: {re.escape(name)}\n\n(.*?)^```",
        re.MULTILINE | re.DOTALL,
    )
    (code,) = pattern.findall(PAGE.read_text(encoding="utf-8"))
    return str(code)


class User(UserMixin):
    """A user whose name counts how often a view reads it, that is, how often
    the view really ran rather than the cache.
    """

    def __init__(self, user_id: str, reads: list[str]) -> None:
        self.id = user_id
        self._reads = reads

    @property
    def name(self) -> str:
        self._reads.append(self.id)
        return self.id.title()


USERS = ("alice", "bob")


@dataclass
class Site:
    """An app with the documented view at ``/api/me``."""

    app: Flask
    #: The ids of the users whose name a view read, in order.
    reads: list[str]
    #: The values the cache stored, in order.
    stored: list[Any]

    def client(self, user_id: str | None = None) -> FlaskClient:
        """A browser of its own: signed in as ``user_id``, or anonymous."""
        client = self.app.test_client()
        if user_id is not None:
            assert client.post(f"/login/{user_id}").status_code == 200
        return client


def make_site(
    app: Flask, add_view: Callable[[dict[str, Any]], None], login_view: str | None
) -> Site:
    """Set up Flask-Login and Flask-Caching as the page assumes, then add the
    view with ``add_view``, given the names the page's code uses.
    """
    app.config["CACHE_TYPE"] = "SimpleCache"
    reads: list[str] = []
    login_manager = LoginManager(app)
    login_manager.login_view = login_view

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return User(user_id, reads) if user_id in USERS else None

    @app.post("/login/<user_id>")
    def login(user_id: str) -> str:
        login_user(User(user_id, reads))
        return "signed in"

    @app.get("/sign-in")
    def sign_in() -> str:
        return "sign in"

    cache = Cache(app)
    stored: list[Any] = []
    store = cache.set

    def recording_set(key: str, value: Any, timeout: Any = None) -> Any:
        stored.append(value)
        return store(key, value, timeout=timeout)

    # The cached decorator stores through this method: what it is given is
    # what the cache holds.
    cache.set = recording_set  # type: ignore[method-assign]
    # Flask(__name__) needs a module name to find its root folder.
    add_view({"__name__": "docs_example", "app": app, "cache": cache})
    return Site(app, reads, stored)


def run_block(name: str) -> Callable[[dict[str, Any]], None]:
    def add_view(namespace: dict[str, Any]) -> None:
        exec(compile(documented_block(name), str(PAGE), "exec"), namespace)

    return add_view


#: What Flask-Login answers an anonymous request: a 401 it raises, or the
#: redirect to the login view it returns.
REFUSALS = [
    pytest.param((None, 401), id="401"),
    pytest.param(("sign_in", 302), id="redirect"),
]


@pytest.fixture(params=REFUSALS)
def refusal(request: pytest.FixtureRequest) -> tuple[str | None, int]:
    login_view: str | None
    status: int
    login_view, status = request.param
    return login_view, status


def assert_refused_by_login(response: TestResponse, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.data)
    assert b"Alice" not in body_of(response)
    assert b"Bob" not in body_of(response)
    assert_nosniff(response)
    if "callback" in response.request.args:
        assert_private(response)


def name_in_node(node: NodeRunner, response: TestResponse) -> Any:
    """What the answer passes to the page's callback, run in Node.js."""
    assert_private(response)
    return run_in_node(node, response, "onMe")


def test_the_page_holds_both_blocks_with_the_extension_set_up() -> None:
    for name in ("login-cache-wrong", "login-cache-per-user"):
        assert "JSONP(app)" in documented_block(name)
        assert "@login_required" in documented_block(name)


@pytest.mark.node
def test_wrong_order_serves_a_users_answer_to_anyone(
    app: Flask, node: NodeRunner, refusal: tuple[str | None, int]
) -> None:
    login_view, _ = refusal
    site = make_site(app, run_block("login-cache-wrong"), login_view)
    alice = site.client("alice")
    assert name_in_node(node, alice.get(URL, headers=FROM_ALLOWED_PAGE)) == {
        "name": "Alice"
    }
    for other in (site.client(), site.client("bob")):
        answer = other.get(URL, headers=FROM_ALLOWED_PAGE)
        assert name_in_node(node, answer) == {"name": "Alice"}


@needs_caching_that_stores_refusals
def test_wrong_order_caches_the_logins_refusal(
    app: Flask, refusal: tuple[str | None, int]
) -> None:
    login_view, status = refusal
    site = make_site(app, run_block("login-cache-wrong"), login_view)
    anonymous = site.client().get(URL, headers=FROM_ALLOWED_PAGE)
    assert anonymous.status_code == status
    assert len(site.stored) == 1
    signed_in = site.client("alice").get(URL, headers=FROM_ALLOWED_PAGE)
    assert signed_in.status_code == status
    assert site.reads == []


@pytest.mark.node
def test_anonymous_client_never_gets_a_users_cached_answer(
    app: Flask, node: NodeRunner, refusal: tuple[str | None, int]
) -> None:
    login_view, status = refusal
    site = make_site(app, run_block("login-cache-per-user"), login_view)
    alice = site.client("alice")
    for _ in range(2):
        answer = alice.get(URL, headers=FROM_ALLOWED_PAGE)
        assert name_in_node(node, answer) == {"name": "Alice"}
    assert site.reads == ["alice"]

    anonymous = site.client()
    for url in (URL, "/api/me", "/api/me?callback=other"):
        assert_refused_by_login(anonymous.get(url, headers=FROM_ALLOWED_PAGE), status)
    assert site.reads == ["alice"]


@pytest.mark.node
def test_logins_refusal_is_never_cached(
    app: Flask, node: NodeRunner, refusal: tuple[str | None, int]
) -> None:
    login_view, status = refusal
    site = make_site(app, run_block("login-cache-per-user"), login_view)
    anonymous = site.client()
    for url in (URL, "/api/me", URL):
        assert_refused_by_login(anonymous.get(url, headers=FROM_ALLOWED_PAGE), status)
    assert site.stored == []
    answer = site.client("alice").get(URL, headers=FROM_ALLOWED_PAGE)
    assert name_in_node(node, answer) == {"name": "Alice"}
    assert site.reads == ["alice"]
    assert site.stored == [{"name": "Alice"}]


@pytest.mark.node
def test_each_user_gets_their_own_cached_answer(app: Flask, node: NodeRunner) -> None:
    site = make_site(app, run_block("login-cache-per-user"), login_view=None)
    clients = {user_id: site.client(user_id) for user_id in USERS}
    for user_id in [*USERS, *USERS]:
        answer = clients[user_id].get(URL, headers=FROM_ALLOWED_PAGE)
        assert name_in_node(node, answer) == {"name": user_id.title()}
    plain = clients["bob"].get("/api/me")
    assert plain.json == {"name": "Bob"}
    # One run per user and URL; the second round came from the cache.
    assert site.reads == ["alice", "bob", "bob"]


def test_pages_outside_the_allowlist_are_refused_after_a_user_loaded(
    app: Flask,
) -> None:
    site = make_site(app, run_block("login-cache-per-user"), login_view=None)
    alice = site.client("alice")
    assert alice.get(URL, headers=FROM_ALLOWED_PAGE).status_code == 200
    refused = alice.get(URL, headers={"Referer": "https://evil.example/"})
    assert refused.status_code == 403
    assert b"Alice" not in body_of(refused)


def login_over_cache_keyed_on_the_url(namespace: dict[str, Any]) -> None:
    """The login above the cache, but the cache keyed on the URL only."""
    app: Flask = namespace["app"]
    cache: Cache = namespace["cache"]
    JSONP(app)

    @app.get("/api/me")
    @login_required
    @jsonp(allowed_referrers=["https://app.example"])
    @cache.cached(query_string=True)
    def me() -> dict[str, str]:
        return {"name": current_user.name}


def test_login_over_a_cache_keyed_on_the_url_still_mixes_users(app: Flask) -> None:
    # The page says the key must hold the user: this is why.
    site = make_site(app, login_over_cache_keyed_on_the_url, login_view=None)
    assert site.client("alice").get(URL, headers=FROM_ALLOWED_PAGE).status_code == 200
    answer = site.client("bob").get(URL, headers=FROM_ALLOWED_PAGE)
    assert b'"name":"Alice"' in body_of(answer)
    assert_refused_by_login(site.client().get(URL, headers=FROM_ALLOWED_PAGE), 401)
