"""What users stack around a JSONP view never opens a hole.

These tests prove the mechanism with plain ``functools.wraps`` decorators, the
shape of every decorator of the Flask ecosystem; ``tests/company/`` runs the
same guarantees with the real extensions. Each test runs with the extension set
up (its hook checks first) and, where the guarantee holds without it, with the
decorator alone.
"""

from __future__ import annotations

import functools
import gzip
from collections.abc import Callable
from typing import Any

import pytest
from flask import abort
from flask import Blueprint
from flask import Flask
from flask import jsonify
from flask import redirect
from flask import request
from flask import Response
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from flask_jsonp import jsonpify
from flask_jsonp.discovery import is_jsonp_wrapper
from flask_jsonp.endpoints import is_check_request_hook
from flask_jsonp.hook import is_checking_first
from tests.conftest import in_mode
from tests.helpers import assert_refused
from tests.helpers import run_jsonp
from tests.node import NodeRunner

ALLOWED = "https://app.example"
EVIL = "https://evil.example"
SECRET = {"secret": "s3cr3t"}

View = Callable[..., Any]


@pytest.fixture
def app(app: Flask, mode: str) -> Flask:
    return in_mode(app, mode)


def login_required(view: View) -> View:
    """An authentication decorator as Flask-Login writes one."""

    @functools.wraps(view)
    def decorated(*args: Any, **kwargs: Any) -> Any:
        if request.headers.get("X-User") != "alice":
            abort(401)
        return view(*args, **kwargs)

    return decorated


def counted(calls: list[str]) -> Callable[[View], View]:
    """A decorator that records that it ran, as a cache or a logger would."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def decorated(*args: Any, **kwargs: Any) -> Any:
            calls.append(view.__name__)
            return view(*args, **kwargs)

        return decorated

    return decorator


def _get(
    app: Flask, url: str, page: str | None = ALLOWED, user: str | None = None
) -> TestResponse:
    headers = {}
    if page is not None:
        headers["Referer"] = f"{page}/page?token=t"
    if user is not None:
        headers["X-User"] = user
    return app.test_client().get(url, headers=headers)


def _serve_between(app: Flask, layout: str) -> str:
    """Serve SECRET behind login_required, placed between two JSONP layers."""
    if layout == "blueprint>login>decorator":
        api = JSONP.enable_blueprint(Blueprint("api", __name__))

        @api.get("/me")
        @login_required
        @jsonp(allowed_referrers=[ALLOWED])
        def me() -> Any:
            return SECRET

        app.register_blueprint(api)
    else:

        @app.get("/me")
        @jsonp(envelope=False)
        @login_required
        @jsonp(allowed_referrers=[ALLOWED])
        def me() -> Any:
            return SECRET

    return "/me"


LAYOUTS = ["blueprint>login>decorator", "decorator>login>decorator"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("callback", [None, "onData"])
def test_a_decorator_between_two_jsonp_layers_is_never_dropped(
    app: Flask, layout: str, callback: str | None
) -> None:
    url = _serve_between(app, layout)
    query = f"?callback={callback}" if callback else ""
    anonymous = _get(app, url + query)
    assert anonymous.status_code == 401
    assert b"s3cr3t" not in anonymous.data
    assert anonymous.headers["X-Content-Type-Options"] == "nosniff"
    assert _get(app, url + query, user="alice").status_code == 200


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_inner_allowlist_holds_between_layers(
    app: Flask, node: NodeRunner, layout: str
) -> None:
    url = _serve_between(app, layout) + "?callback=onData"
    answer = _get(app, url, user="alice")
    assert run_jsonp(node, answer, "onData") == SECRET
    assert answer.cache_control.private
    for page in (EVIL, None):
        refused = _get(app, url, page=page, user="alice")
        assert_refused(refused, 403, "referrer_not_allowed")
        assert {"Referer", "Sec-Fetch-Site"} <= set(refused.vary)


def test_with_the_extension_checks_run_before_any_decorator_above(
    app: Flask, mode: str
) -> None:
    calls: list[str] = []

    @app.get("/data")
    @counted(calls)
    @jsonp(allowed_referrers=[ALLOWED])
    def data() -> Any:
        return SECRET

    refused = _get(app, "/data?callback=onData", page=EVIL)
    assert_refused(refused, 403, "referrer_not_allowed")
    assert_refused(_get(app, "/data?callback=eval"), 400, "invalid_callback")
    # The decorator above never saw a refused request with the extension; alone,
    # @jsonp checks when it is reached.
    assert calls == ([] if mode == "extension" else ["data", "data"])


@pytest.mark.parametrize("callback", [None, "onData"])
def test_without_a_callback_the_view_value_is_handed_on_as_returned(
    app: Flask, node: NodeRunner, callback: str | None
) -> None:
    seen: list[Any] = []

    def schema(view: View) -> View:
        # An API framework's response decorator: it reshapes what the view
        # returned, and passes a Response through untouched.
        @functools.wraps(view)
        def decorated(*args: Any, **kwargs: Any) -> Any:
            rv = view(*args, **kwargs)
            seen.append(rv)
            if isinstance(rv, Response):
                return rv
            return jsonify({"name": rv["name"]})

        return decorated

    @app.get("/user")
    @schema
    @jsonp
    def user() -> Any:
        return {"name": "alice", "password": "hunter2"}

    response = _get(app, "/user" + (f"?callback={callback}" if callback else ""))
    assert seen == [{"name": "alice", "password": "hunter2"}]
    assert b"hunter2" not in response.data
    if callback:
        assert run_jsonp(node, response, callback) == {"name": "alice"}
    else:
        assert response.json == {"name": "alice"}


def test_a_nested_jsonp_view_checks_its_allowlist_whatever_its_parameter(
    app: Flask,
) -> None:
    @jsonp(callback_params="cb", allowed_referrers=[ALLOWED])
    def inner() -> Any:
        return SECRET

    @app.get("/outer")
    @jsonp
    def outer() -> Any:
        return inner()

    refused = _get(app, "/outer?callback=onData", page=EVIL)
    assert_refused(refused, 403, "referrer_not_allowed")
    assert b"s3cr3t" not in refused.data
    answer = _get(app, "/outer?callback=onData")
    assert answer.status_code == 200
    assert answer.cache_control.private


def test_enabling_a_parent_blueprint_twice_keeps_both_policies(
    app: Flask,
) -> None:
    parent = Blueprint("parent", __name__)
    JSONP.enable_blueprint(parent, allowed_referrers=[ALLOWED, EVIL])
    JSONP.enable_blueprint(parent, allowed_callbacks=["onData"])
    child = JSONP.enable_blueprint(Blueprint("child", __name__, url_prefix="/c"))
    child.get("/data")(lambda: SECRET)
    parent.get("/data")(lambda: SECRET)
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    for url in ("/data", "/c/data"):
        assert _get(app, f"{url}?callback=onData").status_code == 200
        assert_refused(_get(app, f"{url}?callback=other"), 403, "callback_not_allowed")
        refused = _get(app, f"{url}?callback=onData", page="https://third.example")
        assert_refused(refused, 403, "referrer_not_allowed")


def _refusal_handlers(app: Flask, handler: str) -> None:
    if handler == "html":

        @app.errorhandler(HTTPException)
        def html(error: HTTPException) -> Any:
            return f"<p>{error.name}</p>", error.code

    elif handler == "jsonpify":

        @app.errorhandler(HTTPException)
        def as_jsonpify(error: HTTPException) -> Any:
            return jsonpify(error=error.name), error.code


@pytest.mark.parametrize("handler", ["html", "jsonpify"])
@pytest.mark.parametrize(
    ("url", "method", "status", "page"),
    [
        ("/data?callback=eval", "GET", 400, ALLOWED),
        ("/data?callback=onData", "GET", 403, EVIL),
        ("/data?callback=onData", "POST", 405, ALLOWED),
    ],
)
def test_refusals_answered_by_the_app_keep_nosniff_and_vary(
    app: Flask, handler: str, url: str, method: str, status: int, page: str
) -> None:
    _refusal_handlers(app, handler)

    @app.route("/data", methods=["GET", "POST"])
    @jsonp(allowed_referrers=[ALLOWED])
    def data() -> Any:
        return SECRET

    response = app.test_client().open(
        url, method=method, headers={"Referer": f"{page}/"}
    )
    assert response.status_code == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # The refusal depends on the page (403), or on nothing a page could
    # change; either way no cache may hand it to another page.
    assert {"Referer", "Sec-Fetch-Site"} <= set(response.vary)
    assert response.cache_control.private
    # jsonpify in the handler answers JSON, never a script, never a 500.
    assert b"/**/" not in response.data
    assert b"s3cr3t" not in response.data


@pytest.mark.parametrize("envelope", [False, True])
@pytest.mark.parametrize("hook_first", [True, False])
def test_errors_made_by_other_hooks_reach_a_script_tag_client(
    node: NodeRunner, envelope: bool, hook_first: bool
) -> None:
    # Only the extension runs before the app's other hooks; whichever was set
    # up first, its hook runs first.
    app = Flask(__name__)

    def rate_limit() -> None:
        if request.headers.get("X-Too-Many"):
            abort(429)

    if hook_first:
        app.before_request(rate_limit)
    JSONP(app)
    if not hook_first:
        app.before_request(rate_limit)

    @app.get("/data")
    @jsonp(envelope=envelope, allowed_referrers=[ALLOWED])
    def data() -> Any:
        return SECRET

    response = app.test_client().get(
        "/data?callback=onData",
        headers={"X-Too-Many": "1", "Referer": f"{ALLOWED}/"},
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.cache_control.private
    if envelope:
        assert run_jsonp(node, response, "onData") == {
            "meta": {"status": 429},
            "data": {
                "name": "Too Many Requests",
                "description": "This user has exceeded an allotted request count."
                " Try again later.",
            },
        }
    else:
        assert response.status_code == 429
    # A refused page never reaches the other hook: it is refused first.
    refused = app.test_client().get(
        "/data?callback=onData", headers={"X-Too-Many": "1", "Referer": f"{EVIL}/"}
    )
    assert_refused(refused, 403, "referrer_not_allowed")


def test_envelope_reaches_the_callback_for_a_login_refusal(
    app: Flask, node: NodeRunner
) -> None:
    @app.get("/data")
    @jsonp(envelope=True)
    @login_required
    def data() -> Any:
        return SECRET

    response = _get(app, "/data?callback=onData")
    enveloped = run_jsonp(node, response, "onData")
    assert enveloped["meta"] == {"status": 401}
    assert "s3cr3t" not in str(enveloped)


def test_a_redirect_of_an_allowlisted_view_is_private(app: Flask) -> None:
    @app.get("/data")
    @jsonp(allowed_referrers=[ALLOWED])
    def data() -> Any:
        return redirect("/login?next=/data&token=abc")

    response = _get(app, "/data?callback=onData")
    assert response.status_code == 302
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.cache_control.private
    assert {"Referer", "Sec-Fetch-Site"} <= set(response.vary)


def test_a_gzip_encoded_view_answer_is_wrapped_decoded(
    app: Flask, node: NodeRunner
) -> None:
    @app.get("/data")
    @jsonp
    def data() -> Any:
        response = jsonify(SECRET)
        response.set_data(gzip.compress(response.get_data()))
        response.headers["Content-Encoding"] = "gzip"
        response.set_etag("json-v1")
        return response

    answer = _get(app, "/data?callback=onData")
    assert "Content-Encoding" not in answer.headers
    # The view's tag described the JSON: the script's is its own.
    assert answer.headers["ETag"].startswith('W/"')
    assert "json-v1" not in answer.headers["ETag"]
    assert run_jsonp(node, answer, "onData") == SECRET


def test_a_plain_view_that_called_a_jsonp_view_answers_with_jsonpify(
    app: Flask, node: NodeRunner
) -> None:
    @jsonp
    def helper() -> Any:
        return {"n": 1}

    @app.get("/plain")
    def plain() -> Any:
        helper()
        return jsonpify(SECRET)

    response = _get(app, "/plain?callback=onData")
    assert run_jsonp(node, response, "onData") == SECRET


def test_blueprint_mode_wraps_only_the_blueprints_own_views(app: Flask) -> None:
    app.add_url_rule("/app-view", "api.app_view", lambda: SECRET)
    api = JSONP.enable_blueprint(Blueprint("api", __name__))
    api.get("/bp")(lambda: SECRET)
    app.register_blueprint(api)
    assert _get(app, "/app-view?callback=onData").json == SECRET
    assert _get(app, "/bp?callback=onData").mimetype == "text/javascript"


def test_a_failing_late_init_app_leaves_the_app_as_it_was() -> None:
    app = Flask(__name__)
    extension = JSONP(app, allowed_referrers=[ALLOWED])

    @app.get("/data")
    @jsonp
    def data() -> Any:
        return SECRET

    app.config["JSONP_CALLBACK_POLICY"] = "strict"
    with pytest.raises(ValueError, match="JSONP_CALLBACK_POLICY"):
        JSONP().init_app(app)
    assert app.extensions["jsonp"].extension is extension
    app.config["JSONP_CALLBACK_POLICY"] = "safe"
    refused = _get(app, "/data?callback=onData", page=EVIL)
    assert_refused(refused, 403, "referrer_not_allowed")


def test_decorating_per_request_does_not_grow_the_plans(app: Flask) -> None:
    @app.get("/data")
    def data() -> Any:
        return jsonp(allowed_referrers=[ALLOWED])(lambda: SECRET)()

    client = app.test_client()
    for _ in range(50):
        client.get("/data?callback=onData", headers={"Referer": f"{ALLOWED}/"})
    assert len(app.extensions["jsonp"].plans) <= 2


def test_the_plans_kept_never_pass_their_bound(
    app: Flask, node: NodeRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask_jsonp import plan

    bound = 3
    monkeypatch.setattr(plan, "MAX_PLANS", bound)
    # More option sets than the bound: views registered with their own, and
    # views decorated anew on each request with one the request chooses.
    count = 2 * bound + 2
    for number in range(count):
        app.add_url_rule(
            f"/v{number}",
            f"v{number}",
            jsonp(allowed_callbacks=[f"cb{number}"])(lambda number=number: [number]),
        )

    @app.get("/anew/<int:number>")
    def anew(number: int) -> Any:
        return jsonp(allowed_callbacks=[f"cb{number}"])(lambda: [number])()

    client = app.test_client()
    # Twice over: past the bound, options are resolved anew on each request,
    # and still decide it.
    for _ in range(2):
        for number in range(count):
            for url in (f"/v{number}", f"/anew/{number}"):
                answer = client.get(f"{url}?callback=cb{number}")
                if url.startswith("/anew"):
                    # Called by a plain view: checked, never a script.
                    assert answer.json == [number]
                else:
                    assert run_jsonp(node, answer, f"cb{number}") == [number]
                other = client.get(f"{url}?callback=cb{number + 1}")
                assert_refused(other, 403, "callback_not_allowed")
                assert len(app.extensions["jsonp"].plans) <= bound
    assert len(app.extensions["jsonp"].plans) == bound


@pytest.mark.parametrize("callback", ["", "?callback=onData"])
def test_a_cors_preflight_is_never_refused(app: Flask, callback: str) -> None:
    @app.get("/data")
    @jsonp(allowed_referrers=[ALLOWED], allowed_callbacks=["other"])
    def data() -> Any:
        return SECRET

    response = app.test_client().options(
        f"/data{callback}",
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "GET",
        },
    )
    assert response.status_code == 200
    assert b"s3cr3t" not in response.data


def test_the_hook_leaves_an_app_whose_jsonp_views_need_no_check_before_them() -> None:
    # The rest of the app pays nothing: every JSONP endpoint's view function is
    # a JSONP wrapper (the view's, or a guard put in place on the first
    # request), which checks before anything it wraps.
    app = Flask(__name__)
    JSONP(app)
    calls: list[str] = []
    app.get("/plain")(lambda: SECRET)

    @app.get("/stacked")
    @counted(calls)
    @jsonp(allowed_referrers=[ALLOWED])
    def stacked() -> Any:
        return SECRET

    client = app.test_client()
    assert client.get("/plain").json == SECRET
    assert not any(
        is_check_request_hook(hook) for hook in app.before_request_funcs[None]
    )
    assert is_jsonp_wrapper(app.view_functions["stacked"])
    refused = client.get("/stacked?callback=cb", headers={"Referer": f"{EVIL}/"})
    assert_refused(refused, 403, "referrer_not_allowed")
    assert calls == []
    answer = client.get("/stacked?callback=cb", headers={"Referer": f"{ALLOWED}/"})
    assert answer.mimetype == "text/javascript"
    assert calls == ["stacked"]


@pytest.mark.parametrize("first", ["refused", "anonymous", "plain"])
def test_other_hooks_are_checked_before_where_they_could_answer_first(
    first: str,
) -> None:
    # The first request is checked by the extension's hook, which then leaves
    # the app and wraps the other hooks: each request after it is checked by
    # the first wrapped hook to run, before that hook does.
    app = Flask(__name__)
    JSONP(app)
    api = Blueprint("api", __name__)
    seen: list[str] = []

    @api.before_request
    def authenticate() -> None:
        seen.append(request.path)
        if request.headers.get("X-User") != "alice":
            abort(401)

    api.add_url_rule(
        "/data", "data", jsonp(allowed_referrers=[ALLOWED])(lambda: SECRET)
    )
    api.add_url_rule("/plain", "plain", lambda: SECRET)
    app.register_blueprint(api)
    client = app.test_client()
    requests = {
        "refused": lambda: client.get(
            "/data?callback=cb", headers={"Referer": f"{EVIL}/"}
        ),
        "anonymous": lambda: client.get(
            "/data?callback=cb", headers={"Referer": f"{ALLOWED}/"}
        ),
        "plain": lambda: client.get("/plain?callback=cb"),
    }
    requests[first]()
    assert not any(
        is_check_request_hook(hook)
        for hooks in app.before_request_funcs.values()
        for hook in hooks
    )
    assert [is_checking_first(hook) for hook in app.before_request_funcs["api"]] == [
        True
    ]
    seen.clear()
    for _ in range(2):
        refused = requests["refused"]()
        assert_refused(refused, 403, "referrer_not_allowed")
        assert seen == []
        anonymous = requests["anonymous"]()
        assert anonymous.status_code == 401
        assert anonymous.headers["X-Content-Type-Options"] == "nosniff"
        assert anonymous.cache_control.private
        assert "Referer" in anonymous.headers["Vary"]
        assert seen == ["/data"]
        seen.clear()
        answer = client.get(
            "/data?callback=cb",
            headers={"Referer": f"{ALLOWED}/", "X-User": "alice"},
        )
        assert answer.mimetype == "text/javascript"
        assert answer.cache_control.private
        plain = requests["plain"]()
        assert plain.status_code == 401
        assert "X-Content-Type-Options" not in plain.headers
        assert seen == ["/data", "/plain"]
        seen.clear()


def test_an_async_hook_is_checked_before_and_still_runs() -> None:
    app = Flask(__name__)
    JSONP(app)
    ran: list[str] = []

    @app.before_request
    async def limit() -> Any:
        ran.append(request.path)
        if request.headers.get("X-Over-Limit"):
            return "Too Many Requests", 429
        return None

    app.add_url_rule("/data", "data", jsonp(allowed_callbacks=["cb"])(lambda: SECRET))
    client = app.test_client()
    for _ in range(2):  # the first request, then the wrapped hook
        assert client.get("/data?callback=cb").mimetype == "text/javascript"
        refused = client.get("/data?callback=evil")
        assert_refused(refused, 403, "callback_not_allowed")
        limited = client.get("/data?callback=cb", headers={"X-Over-Limit": "1"})
        assert limited.status_code == 429
        assert limited.headers["X-Content-Type-Options"] == "nosniff"
        assert ran == ["/data", "/data"]
        ran.clear()
    assert [is_checking_first(hook) for hook in app.before_request_funcs[None]] == [
        True
    ]
