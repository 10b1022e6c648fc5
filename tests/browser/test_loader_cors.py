"""The loader's move to CORS (``preferCors``) and its deprecation notices, in
Chromium and Firefox, on pages under the demo's Content-Security-Policy (scripts by
nonce, ``connect-src`` allowing the API), against the real flask-jsonp and
flask-cors.

Pages come from ``http://localhost:PORT`` and the API from
``http://127.0.0.1:PORT``: every request is cross-origin, as in production.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.browser.api_app import create_retiring_api_app
from tests.browser.api_app import Gates
from tests.browser.engines import BrowserPage
from tests.browser.live_server import LiveServer
from tests.browser.test_loader import callback_name
from tests.browser.test_loader import COUNT_TIMERS_AND_LISTENERS
from tests.browser.test_loader import page_nonce
from tests.browser.test_loader import run_jsonp
from tests.browser.test_loader import SHORT_TIMEOUT_MS
from tests.browser.test_loader import snapshot

pytestmark = pytest.mark.browser

#: What the retiring endpoints say, as the loader's notices give them.
RETIRING = {
    "deprecation": "2026-11-01T00:00:00.000Z",
    "sunset": "2099-06-30T00:00:00.000Z",
    "link": "https://example.com/jsonp-retired",
    "dates": [True, True],
}

# Records, in page globals, every fetch() (its URL and init), every console.warn
# and every notice the onDeprecation hook receives (dates as ISO strings).
INSTALL_RECORDERS = """(loaderName) => {
  const describe = (notice) => ({
    url: notice.url,
    deprecation: notice.deprecation ? notice.deprecation.toISOString() : null,
    sunset: notice.sunset ? notice.sunset.toISOString() : null,
    link: notice.link ?? null,
    dates: [notice.deprecation, notice.sunset].map((date) => date instanceof Date),
  });
  window.__fetches = [];
  const { fetch } = window;
  window.fetch = (input, init) => {
    __fetches.push({ url: String(input), init });
    return fetch(input, init);
  };
  window.__warnings = [];
  const { warn } = console;
  console.warn = (...args) => {
    __warnings.push([String(args[0]), args[1] && describe(args[1])]);
    warn.apply(console, args);
  };
  window.__notices = [];
  if (window.jsonp) jsonp.defaults.onDeprecation = (n) => __notices.push(describe(n));
}"""

# What the loader passed to fetch().
FETCHES = """() => __fetches.map(({ url, init }) => ({
  url, mode: init.mode, credentials: init.credentials ?? null,
  referrerPolicy: init.referrerPolicy ?? null, aborted: init.signal.aborted,
}))"""


def open_demo_page(page: BrowserPage, server: LiveServer, policy: str = "demo") -> None:
    """Load the classic loader's page under ``policy``, give the loader the page's
    nonce (the JSONP fallback needs it), and install the recorders.
    """
    page.goto(server.page_url(f"/page/csp?policy={policy}"))
    page.evaluate("(nonce) => { jsonp.defaults.nonce = nonce; }", page_nonce(page))
    page.evaluate(INSTALL_RECORDERS)


def fetches(page: BrowserPage) -> list[dict[str, Any]]:
    recorded: list[dict[str, Any]] = page.evaluate(FETCHES)
    return recorded


def warnings(page: BrowserPage) -> list[Any]:
    recorded: list[Any] = page.evaluate("__warnings")
    return recorded


def notices(page: BrowserPage, count: int) -> list[dict[str, Any]]:
    """The hook's notices, once there are ``count`` (it is called in a task)."""
    page.wait_for_function("(count) => __notices.length >= count", count)
    page.wait_for_timeout(50)  # one more would be a bug: let it arrive
    recorded: list[dict[str, Any]] = page.evaluate("__notices")
    return recorded


@pytest.fixture
def demo_page(page: BrowserPage, api_server: LiveServer) -> BrowserPage:
    """A page under the demo's policy, with the classic loader and the recorders."""
    open_demo_page(page, api_server)
    return page


CORS = {"preferCors": True}


def test_prefer_cors_resolves_from_cors_without_script_or_global(
    demo_page: BrowserPage, api_server: LiveServer, api: Callable[[str], str]
) -> None:
    before = snapshot(demo_page)
    result = run_jsonp(demo_page, api("/api/cors/echo"), {**CORS, "params": {"q": 1}})
    assert result["ok"], result
    assert result["data"] == {
        "args": {"q": ["1"]},  # no callback parameter
        "referrer": api_server.page_url("/"),
        "origin": api_server.page_origin,
        "mode": "cors",
    }
    assert result["scripts"] == []
    assert snapshot(demo_page) == before
    (fetched,) = fetches(demo_page)
    assert fetched["url"] == api("/api/cors/echo?q=1")
    assert (fetched["mode"], fetched["credentials"]) == ("cors", None)
    assert demo_page.errors == []


def test_prefer_cors_in_the_es_module(
    page: BrowserPage, api_server: LiveServer, api: Callable[[str], str]
) -> None:
    page.goto(api_server.page_url("/page/bare"))
    page.evaluate(INSTALL_RECORDERS)
    before = snapshot(page)
    cors = run_jsonp(page, api("/api/cors/echo"), CORS, module=True)
    assert cors["ok"], cors
    assert cors["data"]["args"] == {}
    assert cors["scripts"] == []
    fallback = run_jsonp(page, api("/api/echo"), CORS, module=True)
    assert fallback["data"]["args"]["callback"] == [
        callback_name(fallback["scripts"][0]["src"])
    ]
    assert snapshot(page) == before
    assert len(fetches(page)) == 2


@pytest.mark.parametrize(
    ("path", "policy"),
    [
        pytest.param("/api/echo", "demo", id="no-cors-headers"),
        pytest.param("/api/cors/elsewhere", "demo", id="cors-for-another-origin"),
        pytest.param("/api/cors/not-json", "demo", id="cors-answer-not-json"),
        pytest.param("/api/cors/echo", "demo-no-connect", id="csp-refuses-fetch"),
    ],
)
def test_prefer_cors_falls_back_to_jsonp_when_cors_gives_nothing(
    page: BrowserPage,
    api_server: LiveServer,
    api: Callable[[str], str],
    path: str,
    policy: str,
) -> None:
    open_demo_page(page, api_server, policy)
    before = snapshot(page)
    result = run_jsonp(page, api(path), CORS)
    assert result["ok"], result
    (script,) = result["scripts"]
    assert result["data"]["args"]["callback"] == [callback_name(script["src"])]
    assert script["nonce"]
    assert len(fetches(page)) == 1
    # The fallback's callback is gone too.
    assert snapshot(page) == before
    assert page.errors == []


@pytest.mark.parametrize(
    ("path", "options", "code", "status"),
    [
        ("/api/missing", {}, "network", None),
        # A 404 the page may read over CORS still falls back: JSONP decides.
        ("/api/cors/missing", {}, "network", None),
        ("/raw/no-call", {}, "no-callback", None),
        ("/api/cors/envelope/404", {"envelope": True}, "http", 404),
        ("/api/cors/envelope/503", {"envelope": True}, "http", 503),
        ("/api/data/object", {"envelope": True}, "http", None),
    ],
)
def test_prefer_cors_keeps_the_error_codes(
    demo_page: BrowserPage,
    api: Callable[[str], str],
    path: str,
    options: dict[str, Any],
    code: str,
    status: int | None,
) -> None:
    outcomes = []
    for prefer_cors in (False, True):
        result = run_jsonp(demo_page, api(path), {**options, "preferCors": prefer_cors})
        assert not result["ok"], result
        assert result["error"]["isJsonpError"]
        assert len(result["scripts"]) == 1
        outcomes.append((result["error"]["code"], result["error"].get("status")))
    assert outcomes == [(code, status)] * 2


def test_envelope_with_prefer_cors_resolves_with_the_plain_json(
    demo_page: BrowserPage, api: Callable[[str], str]
) -> None:
    result = run_jsonp(
        demo_page, api("/api/cors/envelope/200"), {**CORS, "envelope": True}
    )
    assert result["data"] == {"status": 200}
    assert result["scripts"] == []


def test_one_timeout_covers_both_attempts(
    demo_page: BrowserPage, api: Callable[[str], str]
) -> None:
    # /api/slow sends no CORS headers: the fetch waits 400 ms for nothing, then
    # the script waits 400 ms again; each is under the timeout, both are not.
    demo_page.evaluate(COUNT_TIMERS_AND_LISTENERS)
    options = {**CORS, "params": {"ms": 400}, "timeout": 700}
    result = run_jsonp(demo_page, api("/api/slow"), options)
    assert result["error"]["code"] == "timeout"
    (script,) = result["scripts"]
    assert result["error"]["url"] == script["src"]
    slow = run_jsonp(demo_page, api("/api/slow"), {**options, "timeout": 3000})
    assert slow["data"] == {"slept": 400}
    assert demo_page.evaluate("__counts.delays") == [700, 3000]


def test_timeout_during_the_cors_fetch_rejects_without_fallback(
    demo_page: BrowserPage,
    api: Callable[[str], str],
    gates: Gates,
    gate: str,
) -> None:
    before = snapshot(demo_page)
    demo_page.evaluate(COUNT_TIMERS_AND_LISTENERS)
    options = {**CORS, "timeout": SHORT_TIMEOUT_MS}
    result = run_jsonp(demo_page, api(f"/api/cors/held/{gate}"), options)
    error = result["error"]
    assert error["code"] == "timeout" and error["isJsonpError"]
    assert error["url"].startswith(api(f"/api/cors/held/{gate}?callback="))
    assert result["scripts"] == []
    (fetched,) = fetches(demo_page)
    assert fetched["aborted"]
    assert demo_page.evaluate("__counts.cleared") == 1
    gates.open(gate)
    demo_page.wait_for_timeout(200)
    after = snapshot(demo_page)
    assert set(after["globals"]) - set(before["globals"]) == {"__counts"}
    assert after["scripts"] == before["scripts"]
    assert demo_page.errors == []


@pytest.mark.parametrize("reason", ["none", "text", "error"])
def test_abort_during_the_cors_fetch_rejects_without_fallback(
    demo_page: BrowserPage,
    api: Callable[[str], str],
    gates: Gates,
    gate: str,
    reason: str,
) -> None:
    before = snapshot(demo_page)
    demo_page.evaluate(COUNT_TIMERS_AND_LISTENERS)
    result = run_jsonp(
        demo_page,
        api(f"/api/cors/held/{gate}"),
        CORS,
        abort={"when": "after", "afterMs": 100, "reason": reason},
    )
    assert not result["ok"]
    if reason == "none":
        assert result["error"]["name"] == "AbortError"
        assert result["error"]["isDOMException"]
    else:
        assert result["isReason"]
    assert result["scripts"] == []
    (fetched,) = fetches(demo_page)
    assert fetched["aborted"]
    counts = demo_page.evaluate("__counts")
    assert (counts["added"], counts["removed"], counts["cleared"]) == (1, 1, 1)
    gates.open(gate)
    demo_page.wait_for_timeout(200)
    after = snapshot(demo_page)
    assert set(after["globals"]) - set(before["globals"]) == {"__counts"}
    assert after["scripts"] == before["scripts"]


def test_already_aborted_signal_rejects_without_a_fetch(
    demo_page: BrowserPage, api: Callable[[str], str]
) -> None:
    result = run_jsonp(
        demo_page,
        api("/api/cors/echo"),
        CORS,
        abort={"when": "before", "reason": "error"},
    )
    assert result["isReason"]
    assert result["scripts"] == []
    assert fetches(demo_page) == []


def test_prefer_cors_fetch_follows_the_referrer_policy_option(
    demo_page: BrowserPage, api: Callable[[str], str]
) -> None:
    options = {**CORS, "referrerPolicy": "no-referrer"}
    result = run_jsonp(demo_page, api("/api/cors/echo"), options)
    assert result["data"]["referrer"] is None
    assert fetches(demo_page)[0]["referrerPolicy"] == "no-referrer"


def test_deprecation_headers_of_a_cors_answer_warn_once_per_endpoint(
    demo_page: BrowserPage, api: Callable[[str], str]
) -> None:
    url = api("/api/cors/announced")
    for params in [{"page": 1}, {"page": 2}, {}]:
        result = run_jsonp(demo_page, url, {**CORS, "params": params})
        assert result["data"] == {"via": "cors"}
    notice = {
        "url": url,
        "deprecation": "2026-11-01T00:00:00.000Z",  # Deprecation: @1793491200
        "sunset": "2027-06-30T00:00:00.000Z",
        "link": "https://example.com/retired",  # the rel="deprecation" one
        "dates": [True, True],
    }
    assert notices(demo_page, 1) == [notice]
    assert warnings(demo_page) == [[f"jsonp: {url} is deprecated", notice]]


def test_deprecation_headers_the_server_does_not_expose_go_unseen(
    demo_page: BrowserPage, api: Callable[[str], str]
) -> None:
    result = run_jsonp(demo_page, api("/api/cors/announced-unexposed"), CORS)
    assert result["data"] == {"via": "cors"}
    demo_page.wait_for_timeout(100)
    assert demo_page.evaluate("__notices") == []
    assert warnings(demo_page) == []


def test_a_throwing_hook_is_reported_and_changes_nothing(
    demo_page: BrowserPage, api: Callable[[str], str]
) -> None:
    demo_page.evaluate(
        """() => {
            jsonp.defaults.onDeprecation = () => { throw new Error('hook failed'); };
        }"""
    )
    result = run_jsonp(demo_page, api("/api/cors/announced"), CORS)
    assert result["data"] == {"via": "cors"}
    demo_page.wait_for_function("__warnings.length === 1")
    for _ in range(50):
        if demo_page.errors:
            break
        demo_page.wait_for_timeout(20)
    assert demo_page.errors == ["Error: hook failed"]


# The endpoints below need flask-jsonp's deprecation, sunset and
# deprecation_link options.


@pytest.fixture
def retiring(page: BrowserPage, serve_app: Callable[[Flask], LiveServer]) -> LiveServer:
    """:func:`create_retiring_api_app`, served, with ``page`` on its demo page."""
    server = serve_app(create_retiring_api_app())
    open_demo_page(page, server)
    return server


def test_deprecation_in_the_envelope_warns_once_per_endpoint(
    page: BrowserPage, retiring: LiveServer
) -> None:
    envelope: dict[str, Any] = {"envelope": True}
    calls: list[tuple[str, dict[str, Any]]] = [
        ("/api/retiring-jsonp/a", {**envelope, "params": {"x": 1}}),
        ("/api/retiring-jsonp/a", {**envelope, "params": {"x": 2}}),
        ("/api/retiring-jsonp/b", envelope),
        # Falls back to JSONP: no CORS on this endpoint.
        ("/api/retiring-jsonp/c", {**envelope, **CORS}),
        ("/api/retiring-jsonp/c", {**envelope, **CORS}),
    ]
    for path, options in calls:
        result = run_jsonp(page, retiring.api_url(path), options)
        assert result["data"] == {"name": path[-1]}, result
    expected = [
        {"url": retiring.api_url(f"/api/retiring-jsonp/{name}"), **RETIRING}
        for name in "abc"
    ]
    assert notices(page, 3) == expected
    assert warnings(page) == [
        [f"jsonp: {notice['url']} is deprecated", notice] for notice in expected
    ]


def test_the_cors_answer_of_a_retiring_endpoint_carries_no_deprecation(
    page: BrowserPage, retiring: LiveServer
) -> None:
    # The page moved to CORS: that is what the deprecation asked of it.
    url = retiring.api_url("/api/retiring/a")
    cors = run_jsonp(page, url, {**CORS, "envelope": True})
    assert cors["data"] == {"name": "a", "via": "cors"}
    page.wait_for_timeout(100)
    assert warnings(page) == []
    jsonp_answer = run_jsonp(page, url, {"envelope": True})
    assert jsonp_answer["data"] == {"name": "a", "via": "callback"}
    assert notices(page, 1) == [{"url": url, **RETIRING}]


def test_after_the_sunset_the_envelope_rejects_with_410_and_warns(
    page: BrowserPage, retiring: LiveServer
) -> None:
    url = retiring.api_url("/api/gone")
    result = run_jsonp(page, url, {"envelope": True})
    assert result["error"]["code"] == "http"
    assert result["error"]["status"] == 410
    assert notices(page, 1) == [
        {
            "url": url,
            "deprecation": "2025-06-01T00:00:00.000Z",
            "sunset": "2026-01-01T00:00:00.000Z",
            "link": None,
            "dates": [True, True],
        }
    ]
