"""Faults and hostile requests: views that fail, odd query strings, big bodies,
and the attacks listed in SECURITY.md that need a test of their own.

Apps here run as in production (``TESTING`` and ``PROPAGATE_EXCEPTIONS`` off), so
a fault shows as the response a client would get, not as an exception in the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import NoReturn

import pytest
from flask import Blueprint
from flask import Flask
from werkzeug.test import TestResponse

from benchmarks.memory import MAX_RATIO
from benchmarks.memory import measure
from flask_jsonp import JSONP
from flask_jsonp import jsonp
from flask_jsonp import jsonpify
from flask_jsonp.response import EAGER_ESCAPE_LIMIT
from tests.helpers import assert_jsonp_headers
from tests.helpers import assert_refused
from tests.helpers import run_jsonp
from tests.node import NodeRunner
from tests.tools import CHROMIUM_ARGS
from tests.tools import missing_tool
from tests.tools import require_chromium

#: Text that must never reach a client: it is only in the exceptions.
SECRET = "secret-detail-7f3a"


@pytest.fixture
def app(app: Flask) -> Flask:
    app.config["TESTING"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


# -- Views that fail ----------------------------------------------------------


def _raise() -> NoReturn:
    raise RuntimeError(SECRET)


#: What a failing view does: raise, or return what the JSON provider (or Flask)
#: cannot serialise.
FAULTS: dict[str, Callable[[], Any]] = {
    "raises": _raise,
    "object-value": lambda: {"secret": SECRET, "value": object()},
    "set-value": lambda: {"secret": SECRET, "values": {1, 2}},
    "set": lambda: {SECRET, "x"},
}

#: The entry points a view can be served through.
DOORS = ["decorator", "decorator-envelope", "jsonpify", "blueprint"]


def _serve_fault(app: Flask, door: str, fault: Callable[[], Any]) -> str:
    """Serve ``fault`` through ``door`` and return the URL of the view."""
    if door.startswith("blueprint"):
        blueprint = JSONP.enable_blueprint(
            Blueprint("api", __name__, url_prefix="/api"),
            envelope=door.endswith("envelope"),
        )

        @blueprint.get("/fault")
        def blueprint_fault() -> Any:
            return fault()

        app.register_blueprint(blueprint)
        return "/api/fault"
    if door == "jsonpify":

        @app.get("/fault")
        def jsonpify_fault() -> Any:
            return jsonpify(fault())

        return "/fault"

    @app.get("/fault")
    @jsonp(envelope=door.endswith("envelope"))
    def decorated_fault() -> Any:
        return fault()

    return "/fault"


def _assert_no_script_and_no_detail(response: TestResponse) -> None:
    assert "javascript" not in (response.mimetype or "")
    assert not response.data.startswith(b"/**/")
    assert SECRET.encode() not in response.data
    assert b"Traceback" not in response.data
    assert b"object at 0x" not in response.data


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("fault", FAULTS)
def test_failing_view_is_a_500_from_the_apps_error_handler(
    app: Flask, door: str, fault: str
) -> None:
    handled: list[int] = []

    @app.errorhandler(500)
    def internal_error(error: Exception) -> Any:
        handled.append(1)
        return {"error": "internal"}, 500

    url = _serve_fault(app, door, FAULTS[fault])
    response = app.test_client().get(f"{url}?callback=cb")
    assert response.status_code == 500
    assert handled == [1]
    assert response.json == {"error": "internal"}
    _assert_no_script_and_no_detail(response)


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("fault", FAULTS)
def test_failing_view_without_handler_is_a_bare_500(
    app: Flask, door: str, fault: str
) -> None:
    url = _serve_fault(app, door, FAULTS[fault])
    response = app.test_client().get(f"{url}?callback=cb")
    assert response.status_code == 500
    _assert_no_script_and_no_detail(response)


@pytest.mark.parametrize("handler", [True, False], ids=["handler", "no-handler"])
@pytest.mark.parametrize("fault", FAULTS)
def test_failing_view_of_an_enveloped_blueprint_is_a_500(
    app: Flask, fault: str, handler: bool
) -> None:
    if handler:
        app.register_error_handler(500, lambda error: ({"error": "internal"}, 500))
    url = _serve_fault(app, "blueprint-envelope", FAULTS[fault])
    response = app.test_client().get(f"{url}?callback=cb")
    assert response.status_code == 500
    _assert_no_script_and_no_detail(response)


# -- Query strings ------------------------------------------------------------

#: Outcomes of a query string: refused with 400, answered as JSONP for ``cb``,
#: or answered as plain JSON (no callback parameter recognised).
REFUSED, ANSWERED, PLAIN = "refused", "answered", "plain"

QUERY_STRINGS = [
    pytest.param(b"callback=cb&callback=cb", REFUSED, id="repeated-same"),
    pytest.param(b"callback=a&callback=b", REFUSED, id="repeated"),
    pytest.param(b"callback=cb&callback=", REFUSED, id="repeated-one-empty"),
    pytest.param(b"callback=", REFUSED, id="empty"),
    pytest.param(b"callback", REFUSED, id="no-equals-sign"),
    pytest.param(b"callback=%20", REFUSED, id="encoded-space"),
    pytest.param(b"callback=+cb", REFUSED, id="plus-is-a-space"),
    pytest.param(b"callback=cb%00", REFUSED, id="encoded-nul"),
    pytest.param(b"callback=cb\x00", REFUSED, id="raw-nul"),
    pytest.param(b"callback=%00", REFUSED, id="only-nul"),
    pytest.param(b"callback=%", REFUSED, id="lone-percent"),
    pytest.param(b"callback=%zz", REFUSED, id="bad-escape"),
    pytest.param(b"callback=%FF%FE", REFUSED, id="encoded-non-utf8"),
    pytest.param(b"callback=caf%C3%A9", REFUSED, id="encoded-utf8-letter"),
    pytest.param(b"callback=caf\xc3\xa9", REFUSED, id="raw-utf8-letter"),
    pytest.param(b"callback=cb%0A", REFUSED, id="encoded-newline"),
    pytest.param(b"callback=cb%E2%80%A8", REFUSED, id="encoded-line-separator"),
    pytest.param(b"callback=cb;x=1", REFUSED, id="semicolon-is-not-a-separator"),
    pytest.param(b"callback=%2563%2562", REFUSED, id="double-encoded"),
    pytest.param(b"callback=" + b"a" * 100_000, REFUSED, id="100k-callback"),
    # Documented choice: the value is checked after percent-decoding, and the
    # decoded value is what is written, so an encoded valid name is accepted.
    pytest.param(b"callback=%63%62", ANSWERED, id="percent-encoded-name"),
    pytest.param(b"callback=cb&pad=" + b"a" * 1_000_000, ANSWERED, id="1mb-query"),
    pytest.param(
        b"&".join(b"p%d=1" % n for n in range(10_000)) + b"&callback=cb",
        ANSWERED,
        id="10k-parameters",
    ),
    pytest.param(b"callback=cb&x=\x00", ANSWERED, id="nul-elsewhere"),
    pytest.param(b"Callback=cb", PLAIN, id="name-is-case-sensitive"),
    pytest.param(b"callback%5B%5D=cb", PLAIN, id="brackets-are-another-name"),
]


@pytest.mark.parametrize(("query_string", "outcome"), QUERY_STRINGS)
def test_odd_query_strings_get_a_clear_answer_never_a_500(
    app: Flask, node: NodeRunner, query_string: bytes, outcome: str
) -> None:
    @app.get("/data")
    @jsonp
    def data() -> Any:
        return {"n": 1}

    # The WSGI environ carries the raw bytes of the query as latin-1 text.
    response = app.test_client().get(
        "/data", environ_overrides={"QUERY_STRING": query_string.decode("latin-1")}
    )
    assert response.status_code != 500
    if outcome == REFUSED:
        assert_refused(response, 400, "invalid_callback")
    elif outcome == ANSWERED:
        assert run_jsonp(node, response, "cb") == {"n": 1}
    else:
        assert response.status_code == 200
        assert response.json == {"n": 1}


@pytest.mark.parametrize(
    ("query_string", "statuses"),
    [
        (b"callback=\xff", {400}),
        (b"callback=caf\xe9", {400}),
        (b"x=\xff&callback=cb", {400}),
        # No callback can be read: plain JSON or a 400 would both be clear.
        (b"\xff", {200, 400}),
    ],
    ids=["callback", "latin-1-callback", "other-parameter", "bare"],
)
def test_raw_non_utf8_query_string_is_a_400(
    app: Flask, query_string: bytes, statuses: set[int]
) -> None:
    @app.get("/data")
    @jsonp
    def data() -> Any:
        return {"n": 1}

    response = app.test_client().get(
        "/data", environ_overrides={"QUERY_STRING": query_string.decode("latin-1")}
    )
    assert response.status_code in statuses
    assert not response.data.startswith(b"/**/")


# -- Big bodies ---------------------------------------------------------------


@pytest.mark.parametrize("returns", ["response", "data"])
def test_wrapping_a_big_body_needs_at_most_three_times_its_size(returns: str) -> None:
    # The same measurement as `python -m benchmarks.memory`, on 5 MB.
    report = measure(5 * 1024 * 1024, returns=returns)
    assert report.answer_ok
    assert report.ratio <= MAX_RATIO, f"{report.ratio:.2f}x"


@pytest.mark.parametrize("returns", ["response", "data"])
def test_wrapping_a_markup_only_body_needs_at_most_three_times_its_size(
    returns: str,
) -> None:
    # Big enough to be escaped in slices, as a 50 MB body is; smaller bodies are
    # escaped at once, and then need up to about ten times their (small) size.
    report = measure(4 * EAGER_ESCAPE_LIMIT, "markup", returns)
    assert report.answer_ok
    assert report.ratio <= MAX_RATIO, f"{report.ratio:.2f}x"


# -- Attacks that need a test of their own (see SECURITY.md) ------------------


@pytest.mark.parametrize("signature", ["CWS", "FWS", "ZWS"])
def test_rosetta_flash_style_callback_cannot_choose_the_first_bytes(
    app: Flask, node: NodeRunner, signature: str
) -> None:
    @app.get("/data")
    @jsonp
    def data() -> Any:
        return {"n": 1}

    client = app.test_client()
    # An alphanumeric name is a valid callback, but the answer starts with the
    # server's own comment, never with the client's bytes (a Flash file
    # signature here).
    short = signature + "MIKI0hCD0Up0IZUnnnn"
    response = client.get(f"/data?callback={short}")
    assert response.data.startswith(b"/**/")
    assert run_jsonp(node, response, short) == {"n": 1}
    # A real Rosetta Flash payload is a long alphanumeric run: over the limit.
    long = signature + "0hCD0Up0IZUnnnnnnnnnnnnnnnnnnnUU5nnnnnn3Snn7" * 4
    assert_refused(client.get(f"/data?callback={long}"), 400, "invalid_callback")


def test_some_callback_reaches_page_methods_only_under_the_identifier_policy(
    app: Flask, node: NodeRunner
) -> None:
    @app.get("/default")
    @jsonp
    def default_endpoint() -> Any:
        return {"n": 1}

    @app.get("/plain")
    @jsonp(callback_policy="identifier")
    def plain_endpoint() -> Any:
        return {"n": 1}

    @app.get("/fixed")
    @jsonp(callback_policy="identifier", allowed_callbacks=["onData"])
    def fixed_endpoint() -> Any:
        return {"n": 1}

    client = app.test_client()
    # Same Origin Method Execution: a dotted name that walks the DOM would make
    # the answer click a button of the including page with the page's rights.
    method = "document.body.firstElementChild.click"
    assert_refused(client.get(f"/default?callback={method}"), 400, "invalid_callback")
    # The plain grammar answers it...
    assert run_jsonp(node, client.get(f"/plain?callback={method}"), method) == {"n": 1}
    # ...unless allowed_callbacks pins the names the page's own code uses.
    assert_refused(client.get(f"/fixed?callback={method}"), 403, "callback_not_allowed")
    assert run_jsonp(node, client.get("/fixed?callback=onData"), "onData") == {"n": 1}


def test_proto_key_arrives_as_an_own_property(app: Flask, node: NodeRunner) -> None:
    @app.get("/profile")
    @jsonp
    def profile() -> Any:
        # e.g. a map of user-chosen names to values
        return {"__proto__": {"isAdmin": True}, "name": "x"}

    body = app.test_client().get("/profile?callback=cb").data
    inspect = (
        b"function cb(data) { report(Object.keys(data), data.isAdmin === true); }\n"
    )
    result = node.run(inspect + body, "report")
    assert result.error is None
    assert result.calls == [[["__proto__", "name"], False]]


def test_referrer_refusal_says_it_depends_on_the_referer(app: Flask) -> None:
    @app.get("/private")
    @jsonp(allowed_referrers=["https://good.example"])
    def private() -> Any:
        return {"balance": 42}

    response = app.test_client().get(
        "/private?callback=cb", headers={"Referer": "https://evil.example/"}
    )
    assert response.status_code == 403
    assert "Referer" in response.headers.get("Vary", "")


# -- What the browser does with each answer -----------------------------------

#: Loads each URL with a <script> tag from the page and reports the script's
#: event ("load" or "error") and what it passed to window.hit, if anything.
LOAD_SCRIPTS = """
async (urls) => {
  const outcomes = [];
  for (const url of urls) {
    window.hits = [];
    window.hit = (value) => window.hits.push(value);
    const event = await new Promise((resolve) => {
      const script = document.createElement("script");
      script.onload = script.onerror = (event) => resolve(event.type);
      script.src = url;
      document.head.append(script);
    });
    outcomes.push([event, window.hits]);
  }
  return outcomes;
}
"""


@pytest.fixture
def chromium_page() -> Iterator[Any]:
    """A page in Debian's Chromium, closed (with Playwright's event loop) at the
    end of the test.
    """
    executable = require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_tool("Playwright for Python is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=CHROMIUM_ARGS,
            headless=True,
        )
        try:
            context = browser.new_context()
            context.set_default_timeout(5_000)
            yield context.new_page()
        finally:
            browser.close()


@pytest.mark.browser
def test_browser_runs_jsonp_but_never_json_or_refusals(
    app: Flask, chromium_page: Any
) -> None:
    from tests.browser.live_server import LiveServer

    @app.get("/page")
    def page() -> str:
        return "<!doctype html><title>page</title>"

    @app.get("/api/data")
    @jsonp
    def data() -> Any:
        return {"n": 1}

    @app.get("/raw/script-labelled-json")
    def script_labelled_json() -> Any:
        # A valid script, served as JSON with nosniff, as the package serves JSON.
        return (
            'hit("ran");',
            200,
            {
                "Content-Type": "application/json",
                "X-Content-Type-Options": "nosniff",
            },
        )

    with LiveServer(app) as server:
        chromium_page.goto(server.page_url("/page"))
        # The page is on localhost, the API on 127.0.0.1: cross-site requests.
        outcomes = chromium_page.evaluate(
            LOAD_SCRIPTS,
            [
                server.api_url("/api/data?callback=hit"),
                server.api_url("/api/data"),
                server.api_url("/api/data?callback=alert(1)"),
                server.api_url("/raw/script-labelled-json"),
            ],
        )
    jsonp_answer, json_answer, refusal, labelled_json = outcomes
    assert jsonp_answer == ["load", [{"n": 1}]]
    assert json_answer == ["error", []]
    assert refusal == ["error", []]
    assert labelled_json == ["error", []]


def test_json_and_jsonp_answers_say_exactly_what_they_are(app: Flask) -> None:
    @app.get("/data")
    @jsonp
    def data() -> Any:
        return {"n": 1}

    client = app.test_client()
    jsonp_answer = client.get("/data?callback=cb")
    assert_jsonp_headers(jsonp_answer)
    json_answer = client.get("/data")
    assert json_answer.headers["Content-Type"] == "application/json"
    assert json_answer.headers["X-Content-Type-Options"] == "nosniff"
    assert json.loads(json_answer.data) == {"n": 1}
