"""Conditional requests: every script answer carries a weak entity tag, and a
matching ``If-None-Match`` gets 304 Not Modified, after every check.
"""

from __future__ import annotations

import functools
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
from flask_jsonp import jsonpify
from tests.conftest import in_mode
from tests.helpers import assert_refused
from tests.helpers import run_jsonp
from tests.node import NodeRunner

ALLOWED = "https://app.example"
EVIL = "https://evil.example"

View = Callable[..., Any]


@pytest.fixture
def app(app: Flask, mode: str) -> Flask:
    return in_mode(app, mode)


def _get(
    app: Flask,
    url: str,
    page: str | None = ALLOWED,
    tag: str | None = None,
    method: str = "GET",
) -> TestResponse:
    headers = {} if page is None else {"Referer": f"{page}/page"}
    if tag is not None:
        headers["If-None-Match"] = tag
    return app.test_client().open(url, method=method, headers=headers)


def above(view: View) -> View:
    """Something stacked above ``@jsonp``, so the final response is wrapped."""

    @functools.wraps(view)
    def decorated(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    return decorated


#: The paths a script answer is built on: from the view's value in one step,
#: from a Response the view made, from the final response of a stacked view,
#: and by jsonpify.
LAYOUTS = ["value", "response", "stacked", "jsonpify"]


def serve(app: Flask, layout: str, data: dict[str, Any], **options: Any) -> None:
    if layout == "jsonpify":
        app.add_url_rule("/data", "data", lambda: jsonpify(data))
        return

    def as_value() -> dict[str, Any]:
        return data

    def as_response() -> Response:
        return jsonify(data)

    view: View = jsonp(**options)(as_response if layout == "response" else as_value)
    if layout == "stacked":
        view = above(view)
    app.add_url_rule("/data", "data", view, methods=["GET", "POST"])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_matching_tag_gets_304_without_a_body(
    app: Flask, node: NodeRunner, layout: str
) -> None:
    serve(app, layout, {"n": 1}, allowed_callbacks=["cb"])
    answer = _get(app, "/data?callback=cb")
    assert run_jsonp(node, answer, "cb") == {"n": 1}
    tag = answer.headers["ETag"]
    assert tag.startswith('W/"') and tag.endswith('"')
    again = _get(app, "/data?callback=cb", tag=tag)
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == tag
    assert again.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Type" not in again.headers
    # A list of tags, and a tag of another version.
    listed = _get(app, "/data?callback=cb", tag=f'"other", {tag}')
    assert listed.status_code == 304
    stale = _get(app, "/data?callback=cb", tag='W/"stale"')
    assert stale.status_code == 200
    assert run_jsonp(node, stale, "cb") == {"n": 1}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_tag_differs_per_callback_and_per_data(app: Flask, layout: str) -> None:
    data = {"n": 1}
    serve(app, layout, data)
    first = _get(app, "/data?callback=cb").headers["ETag"]
    assert _get(app, "/data?callback=cb").headers["ETag"] == first
    assert _get(app, "/data?callback=other").headers["ETag"] != first
    data["n"] = 2
    assert _get(app, "/data?callback=cb").headers["ETag"] != first
    # The plain JSON answer is another representation.
    assert _get(app, "/data").headers.get("ETag") != first


def test_the_tag_differs_per_announcement(app: Flask) -> None:
    deprecation = datetime(2030, 1, 1)

    @app.get("/a")
    @jsonp
    def a() -> Any:
        return {"n": 1}

    @app.get("/b")
    @jsonp(deprecation=deprecation)
    def b() -> Any:
        return {"n": 1}

    @app.get("/c")
    @jsonp(deprecation=deprecation, envelope=True)
    def c() -> Any:
        return {"n": 1}

    tags = {_get(app, f"/{name}?callback=cb").headers["ETag"] for name in "abc"}
    assert len(tags) == 3


def test_head_carries_the_tag_of_get(app: Flask) -> None:
    serve(app, "value", {"n": 1})
    tag = _get(app, "/data?callback=cb").headers["ETag"]
    head = _get(app, "/data?callback=cb", method="HEAD")
    assert head.headers["ETag"] == tag
    assert _get(app, "/data?callback=cb", method="HEAD", tag=tag).status_code == 304


@pytest.mark.parametrize("layout", ["value", "response", "stacked"])
def test_a_page_dependent_304_stays_private(app: Flask, layout: str) -> None:
    serve(app, layout, {"n": 1}, allowed_referrers=[ALLOWED])
    tag = _get(app, "/data?callback=cb").headers["ETag"]
    again = _get(app, "/data?callback=cb", tag=tag)
    assert again.status_code == 304
    assert again.cache_control.private
    assert {"Referer", "Sec-Fetch-Site"} <= set(again.vary)


@pytest.mark.parametrize("layout", ["value", "response", "stacked"])
def test_a_refused_page_with_a_valid_tag_gets_its_refusal(
    app: Flask, layout: str
) -> None:
    serve(app, layout, {"n": 1}, allowed_referrers=[ALLOWED], allowed_callbacks=["cb"])
    tag = _get(app, "/data?callback=cb").headers["ETag"]
    assert_refused(
        _get(app, "/data?callback=cb", page=EVIL, tag=tag), 403, "referrer_not_allowed"
    )
    assert_refused(
        _get(app, "/data?callback=cbX", tag=tag), 403, "callback_not_allowed"
    )
    assert_refused(
        _get(app, "/data?callback=cb", tag=tag, method="POST"),
        405,
        "method_not_allowed",
    )


def test_a_views_own_etag_is_the_source_of_the_tag(app: Flask) -> None:
    version: dict[str, Any] = {"etag": "v1", "body": {"n": 1}}

    @app.get("/data")
    @jsonp
    def data() -> Response:
        response = jsonify(version["body"])
        response.set_etag(version["etag"])
        return response

    first = _get(app, "/data?callback=cb").headers["ETag"]
    assert first.startswith('W/"')
    assert "v1" not in first
    # Derived from the view's tag, not from the body: a body the view says is
    # the same version keeps the tag.
    version["body"] = {"n": 2}
    assert _get(app, "/data?callback=cb").headers["ETag"] == first
    assert _get(app, "/data?callback=other").headers["ETag"] != first
    version["etag"] = "v2"
    assert _get(app, "/data?callback=cb").headers["ETag"] != first


def test_a_tuple_with_the_views_etag_header_derives_the_tag(app: Flask) -> None:
    @app.get("/data")
    @jsonp
    def data() -> Any:
        return {"n": 1}, {"ETag": '"v1"'}

    tag = _get(app, "/data?callback=cb").headers["ETag"]
    assert _get(app, "/data?callback=cb", tag=tag).status_code == 304
    assert tag != '"v1"'


def test_errors_and_redirects_carry_no_tag(app: Flask) -> None:
    @app.get("/missing")
    @jsonp
    def missing() -> Any:
        return {"error": "missing"}, 404

    answer = _get(app, "/missing?callback=cb", tag="*")
    assert answer.status_code == 404
    assert "ETag" not in answer.headers


def test_an_enveloped_error_is_a_200_script_with_a_tag(
    app: Flask, node: NodeRunner
) -> None:
    @app.get("/missing")
    @jsonp(envelope=True)
    def missing() -> Any:
        return {"error": "missing"}, 404

    answer = _get(app, "/missing?callback=cb")
    assert run_jsonp(node, answer, "cb")["meta"]["status"] == 404
    assert (
        _get(app, "/missing?callback=cb", tag=answer.headers["ETag"]).status_code == 304
    )


@pytest.mark.parametrize("where", ["decorator", "config", "blueprint"])
def test_the_switch_turns_tags_and_304_off(app: Flask, where: str) -> None:
    if where == "decorator":
        app.add_url_rule("/data", "data", jsonp(etag=False)(lambda: {"n": 1}))
    elif where == "config":
        app.config["JSONP_ETAG"] = False
        app.add_url_rule("/data", "data", jsonp(lambda: {"n": 1}))
    else:
        api = JSONP.enable_blueprint(Blueprint("api", __name__), etag=False)
        api.add_url_rule("/data", "data", lambda: {"n": 1})
        app.register_blueprint(api)
    answer = _get(app, "/data?callback=cb", tag="*")
    assert answer.status_code == 200
    assert "ETag" not in answer.headers


def test_an_inner_layer_decides_the_tag(app: Flask) -> None:
    api = JSONP.enable_blueprint(Blueprint("api", __name__), etag=False)

    @api.get("/data")
    @jsonp(etag=True)
    def data() -> Any:
        return {"n": 1}

    app.register_blueprint(api)
    assert _get(app, "/data?callback=cb").headers["ETag"].startswith('W/"')


def test_a_304_never_changes_the_views_response(app: Flask) -> None:
    with app.app_context():
        shared = jsonify({"n": 1})
    shared.set_etag("v1")
    before = list(shared.headers.items())
    app.add_url_rule("/data", "data", jsonp(lambda: shared))
    tag = _get(app, "/data?callback=cb").headers["ETag"]
    assert _get(app, "/data?callback=cb", tag=tag).status_code == 304
    assert list(shared.headers.items()) == before
    assert shared.status_code == 200
    assert shared.get_json() == {"n": 1}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_answers_are_the_same_where_werkzeug_keeps_no_header_list(
    app: Flask, layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask_jsonp import answer

    serve(app, layout, {"n": 1})
    fast = _get(app, "/data?callback=cb")
    monkeypatch.setattr(answer, "_APPEND_TO_HEADER_LIST", False)
    checked = _get(app, "/data?callback=cb")
    assert list(checked.headers.items()) == list(fast.headers.items())
    assert checked.data == fast.data


@pytest.mark.parametrize(
    "data",
    [
        {"n": 1},
        ["a", "b"],
        {"html": "<b>&</b>", "line": "\u2028"},
        {"__proto__": {"admin": True}, "user_id": 7},
        {"big": "x" * 100_000},
    ],
    ids=["dict", "list", "escaped", "proto", "big"],
)
@pytest.mark.parametrize("tag", [None, "match"])
def test_the_script_only_answer_is_the_general_one(
    app: Flask, data: Any, tag: str | None
) -> None:
    from flask_jsonp.answer import answer_from_value
    from flask_jsonp.answer import script_only_answer
    from flask_jsonp.plan import Layers
    from flask_jsonp.plan import plan_for

    with app.test_request_context("/data?callback=cb"):
        plan = plan_for(app, Layers())
        assert plan.script_only
        general = answer_from_value(app, plan, "cb", data, False, {})
        assert general is not None
        environ = {} if tag is None else {"HTTP_IF_NONE_MATCH": general.headers["ETag"]}
        script_only = script_only_answer(app, plan, "cb", data, environ)
        general = answer_from_value(app, plan, "cb", data, False, environ)
        assert general is not None
        assert script_only.status_code == general.status_code
        assert sorted(script_only.headers.items()) == sorted(general.headers.items())
        assert script_only.get_data() == general.get_data()
