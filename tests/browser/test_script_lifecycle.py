"""What each engine does with a script element that the loader relies on: the order
of execution, microtasks and load/error events, and what a script removed while
loading still does. The lifecycle comment in ``jsonp.js`` describes these results.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from tests.browser.api_app import Gates
from tests.browser.engines import BrowserPage
from tests.browser.live_server import LiveServer

pytestmark = pytest.mark.browser

# Adds a script for `url` with the callback __lifecycle, and logs: the call (and
# whether document.currentScript is the element), microtasks queued after the
# append and after the call, the load or error event (and whether the element is
# still in the document), and whether the element is removed (`remove`) right
# after it is appended. Resolves a little after the event; the result is also
# kept in window.__lifecycleDone for requests held at a gate.
LIFECYCLE = """
({ url, remove }) => {
  const log = [];
  const script = document.createElement('script');
  window.__lifecycle = () => {
    log.push(document.currentScript === script ? 'call (currentScript)' : 'call');
    Promise.resolve().then(() => log.push('microtask after call'));
  };
  window.__lifecycleDone = new Promise((resolve) => {
    script.onload = script.onerror = (event) => {
      log.push(`${event.type} (${script.isConnected ? 'in document' : 'removed'})`);
      setTimeout(() => resolve(log), 50);
    };
  });
  script.src = url + (url.includes('?') ? '&' : '?') + 'callback=__lifecycle';
  document.head.append(script);
  log.push('appended');
  if (remove) {
    script.remove();
    log.push('removed');
  }
  Promise.resolve().then(() => log.push('microtask after append'));
  return remove ? log.length : window.__lifecycleDone;
}
"""

CALLED = [
    "appended",
    "microtask after append",
    "call (currentScript)",
    "microtask after call",
    "load (in document)",
]
FAILED = ["appended", "microtask after append", "error (in document)"]


def lifecycle(page: BrowserPage, url: str, remove: bool = False) -> list[str]:
    result: list[str] = page.evaluate(LIFECYCLE, {"url": url, "remove": remove})
    return result


@pytest.fixture
def bare_page(page: BrowserPage, api_server: LiveServer) -> BrowserPage:
    page.goto(api_server.page_url("/page/bare"))
    return page


def test_script_runs_then_microtasks_then_load(
    bare_page: BrowserPage, api: Callable[[str], str]
) -> None:
    assert lifecycle(bare_page, api("/api/data/list")) == CALLED


@pytest.mark.parametrize("path", ["/api/missing", "/raw/error-body/404"])
def test_error_status_fires_error_without_running(
    bare_page: BrowserPage, api: Callable[[str], str], path: str
) -> None:
    assert lifecycle(bare_page, api(path)) == FAILED


def test_refused_connection_fires_error(bare_page: BrowserPage) -> None:
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}/api"
        assert lifecycle(bare_page, url) == FAILED


def test_script_blocked_by_csp_fires_error_later(
    page: BrowserPage, api_server: LiveServer, api: Callable[[str], str]
) -> None:
    page.goto(api_server.page_url("/page/csp"))
    assert lifecycle(page, api("/api/data/list")) == FAILED


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/api/held/{gate}",
            ["appended", "removed", "microtask after append", "call (currentScript)",
             "microtask after call", "load (removed)"],
        ),
        (
            "/raw/error-body-held/{gate}",
            ["appended", "removed", "microtask after append", "error (removed)"],
        ),
    ],
)  # fmt: skip
def test_script_removed_while_loading_still_runs_and_fires(
    bare_page: BrowserPage,
    api: Callable[[str], str],
    gates: Gates,
    gate: str,
    path: str,
    expected: list[str],
) -> None:
    lifecycle(bare_page, api(path.format(gate=gate)), remove=True)
    gates.open(gate)
    assert bare_page.evaluate("window.__lifecycleDone") == expected
