"""What the set-up cannot see fails closed, alone and loud: options that
conflict only once combined, JSONP views hidden below a decorator without
``functools.wraps``, responses the view owns, signal receivers that raise.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Blueprint
from flask import Flask
from flask import jsonify
from flask import Response
from werkzeug.test import TestResponse

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from flask_jsonp import jsonp_answered
from flask_jsonp import jsonp_refused
from tests.conftest import in_mode
from tests.helpers import assert_refused
from tests.helpers import run_jsonp
from tests.node import NodeRunner

ALLOWED = "https://app.example"
EVIL = "https://evil.example"
DATA = {"settings": "s3cret"}

View = Callable[..., Any]


@pytest.fixture
def app(app: Flask, mode: str) -> Flask:
    return in_mode(app, mode)


def _get(app: Flask, url: str, page: str | None = ALLOWED) -> TestResponse:
    headers = {} if page is None else {"Referer": f"{page}/page"}
    return app.test_client().get(url, headers=headers)


# Options valid alone that conflict once combined.

SUNSET = datetime(2030, 1, 1)
LATER_DEPRECATION = datetime(2031, 1, 1)


def test_a_blueprint_sunset_before_a_views_deprecation_is_refused_at_registration() -> (
    None
):
    app = Flask(__name__)
    JSONP(app)
    api = JSONP.enable_blueprint(Blueprint("api", __name__), sunset=SUNSET)

    @api.get("/old")
    @jsonp(deprecation=LATER_DEPRECATION)
    def old() -> Any:
        return DATA

    with pytest.raises(ValueError, match=r"endpoint 'api\.old'.*sunset"):
        app.register_blueprint(api)


def test_a_config_sunset_before_a_views_deprecation_is_refused_by_init_app() -> None:
    app = Flask(__name__)
    app.config["JSONP_SUNSET"] = SUNSET

    @app.get("/old")
    @jsonp(deprecation=LATER_DEPRECATION)
    def old() -> Any:
        return DATA

    with pytest.raises(ValueError, match=r"endpoint 'old'.*deprecation"):
        JSONP(app)
    assert "jsonp" not in app.extensions


def test_a_conflict_met_on_the_first_request_fails_only_its_endpoint(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Flask(__name__, static_folder=None)
    JSONP(app)
    app.config["JSONP_SUNSET"] = SUNSET

    @app.get("/health")
    def health() -> Any:
        return {"ok": True}

    @app.get("/data")
    @jsonp
    def data() -> Any:
        return DATA

    @app.get("/old")
    @jsonp(deprecation=LATER_DEPRECATION)
    def old() -> Any:
        return DATA

    client = app.test_client()
    with caplog.at_level(logging.ERROR, "flask_jsonp"):
        assert client.get("/health").json == {"ok": True}
    assert "endpoint 'old'" in caplog.text
    assert client.get("/data").json == DATA
    for url in ("/old", "/old?callback=cb"):
        failed = client.get(url)
        assert failed.status_code == 500
        assert b"s3cret" not in failed.data
    assert client.get("/health").json == {"ok": True}


# Responses the view owns are never changed.


@pytest.mark.parametrize("stacked", [False, True], ids=["outermost", "stacked"])
@pytest.mark.parametrize("allowlist", [None, [ALLOWED]], ids=["public", "private"])
def test_a_memoized_response_is_never_changed(
    app: Flask, node: NodeRunner, stacked: bool, allowlist: list[str] | None
) -> None:
    @functools.cache
    def settings() -> Response:
        return jsonify(DATA)

    def above(view: View) -> View:
        @functools.wraps(view)
        def decorated(*args: Any, **kwargs: Any) -> Any:
            return view(*args, **kwargs)

        return decorated

    view: View = jsonp(allowed_referrers=allowlist)(settings)
    if stacked:
        view = above(view)
    app.add_url_rule("/settings", "settings", view)
    with app.app_context():
        shared = settings()
    before = (shared.get_data(), list(shared.headers.items()))
    answer = _get(app, "/settings?callback=onSettings")
    assert run_jsonp(node, answer, "onSettings") == DATA
    assert (shared.get_data(), list(shared.headers.items())) == before
    plain = _get(app, "/settings", page=EVIL)
    assert plain.json == DATA
    assert plain.mimetype == "application/json"
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert (shared.get_data(), list(shared.headers.items())) == before


def test_a_memoized_page_is_never_made_private_in_place(app: Flask) -> None:
    page = Response("<p>hello</p>", mimetype="text/html")
    page.cache_control.public = True

    @app.get("/page")
    @jsonp(allowed_referrers=[ALLOWED])
    def view() -> Response:
        return page

    answer = _get(app, "/page?callback=cb")
    assert answer.cache_control.private
    assert page.cache_control.public
    assert "private" not in page.cache_control
    assert "X-Content-Type-Options" not in page.headers


# JSONP views hidden below a decorator without functools.wraps.


def hiding(view: View) -> View:
    """A decorator written without functools.wraps."""

    def hidden(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    return hidden


def hiding_cache(store: dict[str, Any]) -> Callable[[View], View]:
    """A cache decorator written without functools.wraps, keyed on the path
    alone: the worst a user could stack above ``@jsonp``.
    """

    def decorator(view: View) -> View:
        def cached_view(*args: Any, **kwargs: Any) -> Any:
            if "value" not in store:
                store["value"] = view(*args, **kwargs)
            return store["value"]

        return cached_view

    return decorator


def test_a_hidden_jsonp_view_never_builds_a_script_a_cache_could_keep(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    store: dict[str, Any] = {}

    @app.get("/settings")
    @hiding_cache(store)
    @jsonp(allowed_referrers=[ALLOWED])
    def settings() -> Any:
        return DATA

    with caplog.at_level(logging.WARNING, "flask_jsonp"):
        answer = _get(app, "/settings?callback=onSettings")
    # Not a script: what the cache keeps is the view's value, never a script
    # made for the allowed page.
    assert answer.mimetype == "application/json"
    assert not answer.data.startswith(b"/**/")
    assert not isinstance(store["value"], Response)
    assert "settings" in caplog.text
    assert "functools.wraps" in caplog.text
    evil = _get(app, "/settings?callback=onSettings", page=EVIL)
    assert not evil.data.startswith(b"/**/")


def test_a_hidden_jsonp_view_still_refuses_what_its_options_refuse(app: Flask) -> None:
    @app.get("/settings")
    @hiding
    @jsonp(allowed_referrers=[ALLOWED])
    def settings() -> Any:
        return DATA

    assert_refused(
        _get(app, "/settings?callback=cb", page=EVIL), 403, "referrer_not_allowed"
    )


def test_the_extension_names_a_hidden_jsonp_view_on_the_first_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Flask(__name__)
    JSONP(app)

    @app.get("/settings")
    @hiding
    @jsonp
    def settings() -> Any:
        return DATA

    with caplog.at_level(logging.WARNING, "flask_jsonp"):
        app.test_client().get("/")
    assert "endpoint 'hidden'" in caplog.text
    assert "hiding.<locals>.hidden" in caplog.text
    assert "functools.wraps" in caplog.text


# Signal receivers that raise.


class ReceiverFailed(Exception):
    pass


def _raise(sender: Flask, **extra: Any) -> None:
    raise ReceiverFailed()


def _serve(app: Flask, stacked: bool) -> None:
    def above(view: View) -> View:
        @functools.wraps(view)
        def decorated(*args: Any, **kwargs: Any) -> Any:
            return view(*args, **kwargs)

        return decorated

    def data() -> dict[str, str]:
        return DATA

    view: View = jsonp(allowed_callbacks=["cb"])(data)
    if stacked:
        view = above(view)
    app.add_url_rule("/data", "data", view)


@pytest.mark.parametrize("stacked", [False, True], ids=["outermost", "stacked"])
@pytest.mark.parametrize(
    ("signal", "url"),
    [
        (jsonp_answered, "/data?callback=cb"),
        (jsonp_refused, "/data?callback=other"),
        (jsonp_refused, "/data?callback=cb&callback=cb"),
    ],
    ids=["answered", "refused", "unreadable"],
)
def test_a_raising_receiver_fails_the_request_with_nosniff(
    app: Flask, stacked: bool, signal: Any, url: str
) -> None:
    _serve(app, stacked)
    with signal.connected_to(_raise, app):
        failed = _get(app, url)
    assert failed.status_code == 500
    assert failed.headers["X-Content-Type-Options"] == "nosniff"
    assert not failed.data.startswith(b"/**/")
    assert b"s3cret" not in failed.data
