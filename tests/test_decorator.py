from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import ClassVar

import pytest
from flask import abort
from flask import Blueprint
from flask import Flask
from flask import jsonify
from flask import redirect
from flask import Response
from flask import stream_with_context
from flask.testing import FlaskClient
from flask.views import MethodView

from flask_jsonp import jsonp
from tests.helpers import assert_jsonp_headers
from tests.helpers import assert_refused
from tests.helpers import run_jsonp
from tests.node import NodeRunner

USER = {"user": "admin", "roles": ["a", "b"], "html": "</script><!--"}


@pytest.fixture
def app(app: Flask) -> Flask:
    @app.get("/dict")
    @jsonp
    def as_dict() -> Any:
        return USER

    @app.get("/list")
    @jsonp()
    def as_list() -> Any:
        return [1, "two", None]

    @app.get("/jsonify")
    @jsonp
    def as_jsonify() -> Any:
        return jsonify(USER)

    @app.get("/created")
    @jsonp
    def created() -> Any:
        return USER, 201, {"X-Extra": "kept", "ETag": '"v1"'}

    @app.get("/status-only")
    @jsonp
    def status_only() -> Any:
        return jsonify([1]), 202

    @app.get("/async")
    @jsonp
    async def asynchronous() -> Any:
        return USER

    @app.get("/html")
    @jsonp
    def html() -> Any:
        return "<p>hello</p>"

    @app.get("/redirect")
    @jsonp
    def moved() -> Any:
        return redirect("/dict")

    @app.get("/stream")
    @jsonp
    def stream() -> Any:
        def generate() -> Any:
            yield '{"a": '
            yield "1}"

        return Response(stream_with_context(generate()), mimetype="application/json")

    @app.get("/missing")
    @jsonp
    def missing() -> Any:
        abort(404)

    @app.get("/boom")
    @jsonp
    def boom() -> Any:
        raise RuntimeError("secret traceback detail")

    @app.route("/user", methods=["GET", "POST", "PUT", "DELETE"])
    @jsonp
    def user() -> Any:
        return {"method": app.config.get("SEEN_METHOD", "any")}

    return app


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/dict", USER), ("/list", [1, "two", None]), ("/jsonify", USER)],
)
def test_json_is_wrapped_for_the_callback(
    client: FlaskClient, node: NodeRunner, path: str, expected: Any
) -> None:
    response = client.get(f"{path}?callback=onBack")
    assert response.status_code == 200
    assert run_jsonp(node, response, "onBack") == expected


def test_async_view_is_wrapped(client: FlaskClient, node: NodeRunner) -> None:
    response = client.get("/async?callback=a.b.c")
    assert run_jsonp(node, response, "a.b.c") == USER


def test_status_and_extra_headers_are_kept_but_not_the_etag(
    client: FlaskClient, node: NodeRunner
) -> None:
    response = client.get("/created?callback=cb")
    assert response.status_code == 201
    assert response.headers["X-Extra"] == "kept"
    # The tag named the JSON, not this script: it would tie the answers for
    # every callback, and the JSON answer, to one entity.
    assert "ETag" not in response.headers
    assert client.get("/created").headers["ETag"] == '"v1"'
    assert run_jsonp(node, response, "cb") == USER
    assert client.get("/status-only?callback=cb").status_code == 202


def test_without_callback_the_response_is_untouched_but_nosniff(
    client: FlaskClient, app: Flask
) -> None:
    plain = app.test_client()
    response = plain.get("/dict")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == USER
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Cross-Origin-Resource-Policy" not in response.headers


def test_head_has_the_same_headers_and_no_body(client: FlaskClient) -> None:
    get = client.get("/dict?callback=cb")
    head = client.head("/dict?callback=cb")
    assert head.status_code == 200
    assert head.data == b""
    for name in ("Content-Type", "Content-Length", "X-Content-Type-Options"):
        assert head.headers[name] == get.headers[name]


@pytest.mark.parametrize("path", ["/html", "/redirect", "/stream"])
def test_non_json_responses_are_never_wrapped(client: FlaskClient, path: str) -> None:
    response = client.get(f"{path}?callback=cb")
    assert "javascript" not in (response.mimetype or "")
    assert b"/**/" not in response.data
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_streamed_json_is_not_wrapped(client: FlaskClient) -> None:
    response = client.get("/stream?callback=cb")
    assert response.json == {"a": 1}


def test_http_errors_keep_their_status(app: Flask) -> None:
    response = app.test_client().get("/missing?callback=cb")
    assert response.status_code == 404
    assert b"/**/" not in response.data


def test_app_error_handlers_answer_http_errors(app: Flask) -> None:
    @app.errorhandler(404)
    def not_found(error: Exception) -> Any:
        return {"custom": "handler"}, 404

    response = app.test_client().get("/missing?callback=cb")
    assert response.status_code == 404
    assert response.json == {"custom": "handler"}


def test_raised_exception_is_a_clean_500(app: Flask) -> None:
    app.config["TESTING"] = False
    response = app.test_client().get("/boom?callback=cb")
    assert response.status_code == 500
    assert b"secret traceback detail" not in response.data
    assert b"/**/" not in response.data


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_with_callback_get_405_without_running_the_view(
    app: Flask, client: FlaskClient, method: str
) -> None:
    calls = []

    @app.route("/side-effect", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    @jsonp
    def side_effect() -> Any:
        calls.append(1)
        return {"done": True}

    response = client.open("/side-effect?callback=cb", method=method)
    assert_refused(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, HEAD"
    assert calls == []


def test_other_methods_without_callback_work_as_before(client: FlaskClient) -> None:
    response = client.post("/user")
    assert response.status_code == 200
    assert response.json == {"method": "any"}


@pytest.mark.parametrize(
    "query",
    [
        "callback=alert(1)",
        "callback=",
        "callback=a%3Bb",
        "callback=%3C%2Fscript%3E",
        "callback=" + "a" * 129,
        "callback=this.x",
        "callback=a&callback=b",
        "callback=%FF%FE",
        "callback=caf%C3%A9",
    ],
)
def test_invalid_callback_is_refused_without_echo(
    client: FlaskClient, query: str
) -> None:
    response = client.get(f"/dict?{query}")
    assert_refused(response, 400, "invalid_callback")
    value = query.partition("=")[2].partition("&")[0]
    if len(value) > 1:
        assert value.encode() not in response.data
    assert b"admin" not in response.data


def test_max_length_option(app: Flask, client: FlaskClient) -> None:
    @app.get("/short")
    @jsonp(max_callback_length=5)
    def short() -> Any:
        return [1]

    assert client.get("/short?callback=abcde").status_code == 200
    assert_refused(client.get("/short?callback=abcdef"), 400, "invalid_callback")


def test_callback_params_first_present_wins(
    app: Flask, client: FlaskClient, node: NodeRunner
) -> None:
    @app.get("/params")
    @jsonp(callback_params=["cb", "callback"])
    def params() -> Any:
        return [1]

    response = client.get("/params?callback=second&cb=first")
    assert run_jsonp(node, response, "first") == [1]
    response = client.get("/params?callback=second")
    assert run_jsonp(node, response, "second") == [1]


def test_callback_params_accepts_one_string(
    app: Flask, client: FlaskClient, node: NodeRunner
) -> None:
    @app.get("/jsonp-param")
    @jsonp(callback_params="jsonp")
    def one_param() -> Any:
        return [2]

    assert run_jsonp(node, client.get("/jsonp-param?jsonp=cb"), "cb") == [2]
    plain = client.get("/jsonp-param?callback=cb")
    assert plain.mimetype == "application/json"


def test_allowed_callbacks(app: Flask, client: FlaskClient, node: NodeRunner) -> None:
    @app.get("/fixed")
    @jsonp(allowed_callbacks=["onData", "jQuery*"])
    def fixed() -> Any:
        return {"secret-ish": 1}

    assert run_jsonp(node, client.get("/fixed?callback=onData"), "onData")
    generated = "jQuery3710123456789_1700000000000"
    assert run_jsonp(node, client.get(f"/fixed?callback={generated}"), generated)
    response = client.get("/fixed?callback=onDataX")
    assert_refused(response, 403, "callback_not_allowed")
    assert b"secret-ish" not in response.data


def test_blueprint_view(app: Flask, node: NodeRunner) -> None:
    blueprint = Blueprint("api", __name__, url_prefix="/api")

    @blueprint.get("/thing")
    @jsonp
    def thing() -> Any:
        return {"thing": 1}

    app.register_blueprint(blueprint)
    response = app.test_client().get("/api/thing?callback=cb")
    assert run_jsonp(node, response, "cb") == {"thing": 1}


def test_class_based_view(app: Flask, node: NodeRunner) -> None:
    class ItemAPI(MethodView):
        decorators: ClassVar[list[Callable[..., Any]]] = [jsonp]

        def get(self) -> Any:
            return {"item": 1}

        def post(self) -> Any:
            return {"created": 1}, 201

    app.add_url_rule("/item", view_func=ItemAPI.as_view("item"))
    client = app.test_client()
    assert run_jsonp(node, client.get("/item?callback=cb"), "cb") == {"item": 1}
    assert client.post("/item").status_code == 201
    assert client.post("/item?callback=cb").status_code == 405


def test_decorator_keeps_the_view_name_and_doc() -> None:
    def view(user_id: int) -> Any:
        """Doc."""
        return {"id": user_id}

    wrapped = jsonp(view)
    assert wrapped.__name__ == "view"
    assert wrapped.__doc__ == "Doc."
    assert wrapped.__wrapped__ is view  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"max_callback_length": 0}, ValueError),
        ({"max_callback_length": "10"}, ValueError),
        ({"callback_params": []}, ValueError),
        ({"callback_params": [""]}, TypeError),
        ({"allowed_referrers": ["app.example"]}, ValueError),
        ({"allowed_referrers": ["https://app.example/path"]}, ValueError),
    ],
)
def test_invalid_options_fail_when_decorating(
    options: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        jsonp(**options)


def test_sort_keys_and_provider_settings_apply(app: Flask) -> None:
    @app.get("/unicode")
    @jsonp
    def unicode() -> Any:
        return {"s": "caf\u00e9 \u2028 <b>"}

    app.json.sort_keys = True  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    client = app.test_client()
    data = client.get("/dict?callback=cb").data
    assert data.index(b'"html"') < data.index(b'"roles"') < data.index(b'"user"')
    response = client.get("/unicode?callback=cb")
    assert_jsonp_headers(response)
    assert "café".encode() in response.data
    assert "\u2028".encode() not in response.data
    assert b"<" not in response.data


@pytest.mark.parametrize(
    "query", ["%63allback=cb", "x=%20&callback=cb", "a=b+c&callback=cb"]
)
def test_encoded_queries_are_parsed(
    client: FlaskClient, node: NodeRunner, query: str
) -> None:
    # The raw query is only skimmed to skip parsing when no parameter can be there.
    assert run_jsonp(node, client.get(f"/dict?{query}"), "cb") == USER


def test_query_without_the_parameter_is_plain_json(client: FlaskClient) -> None:
    response = client.get("/dict?page=2&sort=name")
    assert response.mimetype == "application/json"
    assert response.json == USER
