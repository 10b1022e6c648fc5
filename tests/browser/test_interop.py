"""Other JSONP clients against views decorated with :func:`flask_jsonp.jsonp`:
jQuery 4 (``$.ajax({dataType: "jsonp"})``) and fetch-jsonp, from npm, in Chromium and
Firefox.

The packages are installed at test time into the cache of
:mod:`tests.browser.vendor` and served from the page's origin under ``/vendor/``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.api_app import Gates
from tests.browser.api_app import PAYLOADS
from tests.browser.engines import BrowserPage
from tests.browser.live_server import LiveServer
from tests.browser.vendor import install_npm_packages
from tests.browser.vendor import INTEROP_PACKAGES

pytestmark = pytest.mark.browser

#: The script each client needs, under /vendor/ (or the bundled loader).
CLIENT_SCRIPTS = {
    "jquery": "/vendor/jquery/dist/jquery.min.js",
    "fetch-jsonp": "/vendor/fetch-jsonp/build/fetch-jsonp.js",
    "flask-jsonp": "/_jsonp/jsonp.js",
}

# Fetch `url` with `client` and resolve with the data, or with {error: ...}.
FETCH_WITH = """
async ({ client, url }) => {
  const fetchers = {
    'jquery': () => new Promise((resolve, reject) => {
      $.ajax({ url, dataType: 'jsonp', timeout: 5000 })
        .done(resolve)
        .fail((xhr, status) => reject(new Error(status)));
    }),
    'fetch-jsonp': () => fetchJsonp(url).then((response) => response.json()),
    'flask-jsonp': () => jsonp(url),
  };
  try {
    return { data: await fetchers[client]() };
  } catch (error) {
    return { error: String(error) };
  }
}
"""


@pytest.fixture(scope="module")
def vendor_packages() -> dict[str, str]:
    """Install jQuery 4 and fetch-jsonp 1 from npm, once."""
    return install_npm_packages(INTEROP_PACKAGES)


@pytest.fixture
def client_page(
    page: BrowserPage, api_server: LiveServer, vendor_packages: dict[str, str]
) -> BrowserPage:
    """A page on the page origin with all three clients loaded."""
    page.goto(api_server.page_url("/page/bare"))
    for path in CLIENT_SCRIPTS.values():
        page.add_script_tag(api_server.page_url(path))
    return page


def fetch_with(page: BrowserPage, client: str, url: str) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(FETCH_WITH, {"client": client, "url": url})
    return result


def test_vendor_versions(vendor_packages: dict[str, str]) -> None:
    assert vendor_packages["jquery"].startswith("4.")
    assert vendor_packages["fetch-jsonp"].startswith("1.")


@pytest.mark.parametrize("name", ["object", "script-breakers", "unicode", "big"])
@pytest.mark.parametrize("client", sorted(CLIENT_SCRIPTS))
def test_client_receives_what_the_view_returned(
    client_page: BrowserPage, api: Callable[[str], str], client: str, name: str
) -> None:
    result = fetch_with(client_page, client, api(f"/api/data/{name}"))
    assert result == {"data": PAYLOADS[name]}


def test_jquery_with_a_fixed_callback_and_cache(
    client_page: BrowserPage, api: Callable[[str], str], page_errors: list[str]
) -> None:
    data = client_page.evaluate(
        """(url) => $.ajax({
            url, dataType: 'jsonp', jsonpCallback: 'onJqueryData', cache: true,
        })""",
        api("/api/echo"),
    )
    # A cacheable URL: the fixed name and nothing else (no "_" cache buster).
    assert data["args"] == {"callback": ["onJqueryData"]}
    assert client_page.evaluate("!('onJqueryData' in window)")
    assert page_errors == []


def test_jquery_with_another_callback_parameter(
    client_page: BrowserPage, api: Callable[[str], str]
) -> None:
    data = client_page.evaluate(
        "(url) => $.ajax({ url, dataType: 'jsonp', jsonp: 'cb' })", api("/api/echo-cb")
    )
    assert set(data["args"]) == {"cb", "_"}


def test_jquery_sees_errors_and_enveloped_errors(
    client_page: BrowserPage, api: Callable[[str], str]
) -> None:
    # A plain 404 is a script that fails to load: jQuery reports "error" ...
    result = fetch_with(client_page, "jquery", api("/api/missing"))
    assert result == {"error": "Error: error"}
    # ... with the envelope, the page gets the status and the error's text.
    result = fetch_with(client_page, "jquery", api("/api/envelope/404"))
    assert result["data"]["meta"] == {"status": 404}
    assert result["data"]["data"]["name"] == "Not Found"


def test_jquery_late_response_after_timeout_is_harmless(
    client_page: BrowserPage,
    api: Callable[[str], str],
    page_errors: list[str],
    gates: Gates,
    gate: str,
) -> None:
    # jQuery deletes its callback on timeout; the guard in flask-jsonp's answer
    # keeps the late script from throwing a ReferenceError.
    status = client_page.evaluate(
        """(url) => new Promise((resolve) => {
            // Learn when jQuery's script, removed at the timeout, has run.
            new MutationObserver((records) => {
                for (const { addedNodes } of records) {
                    for (const node of addedNodes) {
                        if (node.nodeName !== 'SCRIPT') continue;
                        const done = () => { window.lateScriptDone = true; };
                        node.addEventListener('load', done);
                        node.addEventListener('error', done);
                    }
                }
            }).observe(document.head, { childList: true });
            $.ajax({ url, dataType: 'jsonp', timeout: 300 })
                .fail((xhr, status) => resolve(status));
        })""",
        api(f"/api/held/{gate}"),
    )
    assert status == "timeout"
    gates.open(gate)
    client_page.wait_for_function("window.lateScriptDone === true")
    assert page_errors == []


def test_fetch_jsonp_with_fixed_callback_and_parameter(
    client_page: BrowserPage, api: Callable[[str], str]
) -> None:
    data = client_page.evaluate(
        """(url) => fetchJsonp(url, {
            jsonpCallback: 'cb', jsonpCallbackFunction: 'onFetchJsonpData',
        }).then((response) => response.json())""",
        api("/api/echo-cb"),
    )
    assert data["args"] == {"cb": ["onFetchJsonpData"]}
    assert client_page.evaluate("!('onFetchJsonpData' in window)")


def test_fetch_jsonp_sees_a_failed_script(
    client_page: BrowserPage, api: Callable[[str], str]
) -> None:
    result = fetch_with(client_page, "fetch-jsonp", api("/api/missing"))
    assert "failed" in result["error"]
