"""Conditional requests for JSONP answers in real browsers: a script answer
served with ``Cache-Control: no-cache`` is kept by the browser and revalidated
with ``If-None-Match``; the app answers 304 and the browser runs the script it
kept, so the callback gets the same data again.

What the app answered is recorded below Flask (a WSGI wrapper), as the browser
would be seen from a server log.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from flask import render_template_string

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from tests.browser.engines import BrowserPage
from tests.browser.live_server import LiveServer

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

pytestmark = pytest.mark.browser

#: What the revalidated endpoint returns until a test changes it.
ROWS = {"rows": [{"id": 1, "name": "first"}, {"id": 2, "name": "second"}]}

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>revalidation</title>
{{ jsonp_loader() }}
</head><body></body></html>
"""

# Adds a <script src=url> `times` times, each once the previous one has fired
# "load" or "error", with window[callback] recording what it is called with;
# resolves with the calls and the events.
LOAD_SCRIPT_TIMES = """
async ({ url, callback, times }) => {
  const calls = [];
  const events = [];
  window[callback] = (data) => calls.push(data);
  for (let i = 0; i < times; i++) {
    await new Promise((resolve) => {
      const script = document.createElement('script');
      script.src = url;
      script.onload = script.onerror = (event) => {
        events.push(event.type);
        script.remove();
        resolve();
      };
      document.head.append(script);
    });
  }
  delete window[callback];
  return { calls, events };
}
"""

# Calls the bundled loader `times` times in a row with `options`.
LOADER_TIMES = """
async ({ url, options, times }) => {
  const results = [];
  for (let i = 0; i < times; i++) results.push(await jsonp(url, options));
  return results;
}
"""


@dataclass(frozen=True)
class Exchange:
    """One request to the API and what the app answered."""

    path: str
    query: str
    if_none_match: str | None
    status: int
    headers: dict[str, str]


class Recorder:
    """A WSGI wrapper that records every ``/api/`` request and its answer."""

    def __init__(self, app: WSGIApplication) -> None:
        self._app = app
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        def recording_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            if environ["PATH_INFO"].startswith("/api/"):
                exchange = Exchange(
                    path=environ["PATH_INFO"],
                    query=environ.get("QUERY_STRING", ""),
                    if_none_match=environ.get("HTTP_IF_NONE_MATCH"),
                    status=int(status.split()[0]),
                    headers={name.lower(): value for name, value in headers},
                )
                with self._lock:
                    self.exchanges.append(exchange)
            return start_response(status, headers, exc_info)

        return self._app(environ, recording_start_response)


def create_revalidated_app() -> tuple[Flask, dict[str, Any]]:
    """An app whose ``/api/rows`` answers with ``Cache-Control: no-cache``
    (store, but ask before reuse), and the data it returns, which a test may
    change.
    """
    app = Flask(__name__)
    JSONP(app)
    current = {"data": ROWS}

    @app.get("/page")
    def page() -> str:
        return render_template_string(PAGE)

    @app.get("/api/rows")
    @jsonp
    def rows() -> tuple[dict[str, Any], dict[str, str]]:
        return current["data"], {"Cache-Control": "no-cache"}

    return app, current


@dataclass
class Served:
    server: LiveServer
    recorder: Recorder
    current: dict[str, Any]


@pytest.fixture
def served(serve_app: Callable[[WSGIApplication], LiveServer]) -> Served:
    app, current = create_revalidated_app()
    recorder = Recorder(app.wsgi_app)
    app.wsgi_app = recorder  # type: ignore[method-assign]
    return Served(serve_app(app), recorder, current)


@pytest.fixture
def revalidating_page(page: BrowserPage, served: Served) -> BrowserPage:
    page.goto(served.server.page_url("/page"))
    return page


def load_script_times(
    page: BrowserPage, url: str, callback: str, times: int = 2
) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        LOAD_SCRIPT_TIMES, {"url": url, "callback": callback, "times": times}
    )
    return result


def test_second_script_load_is_revalidated_and_runs_the_kept_script(
    revalidating_page: BrowserPage, served: Served, page_errors: list[str]
) -> None:
    url = served.server.api_url("/api/rows?callback=onRows")
    result = load_script_times(revalidating_page, url, "onRows")
    assert result == {"calls": [ROWS, ROWS], "events": ["load", "load"]}
    first, second = served.recorder.exchanges
    assert (first.status, first.if_none_match) == (200, None)
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert (second.status, second.if_none_match) == (304, etag)
    # A 304 keeps the tag and what the browser must apply to the kept script.
    assert second.headers["etag"] == etag
    assert second.headers["x-content-type-options"] == "nosniff"
    assert second.headers["cache-control"] == "no-cache"
    assert "content-type" not in second.headers
    assert page_errors == []


def test_changed_data_is_answered_in_full_and_runs(
    revalidating_page: BrowserPage, served: Served
) -> None:
    url = served.server.api_url("/api/rows?callback=onRows")
    first = load_script_times(revalidating_page, url, "onRows", times=1)
    changed = {"rows": [{"id": 3, "name": "third"}]}
    served.current["data"] = changed
    second = load_script_times(revalidating_page, url, "onRows", times=1)
    assert first["calls"] + second["calls"] == [ROWS, changed]
    before, after = served.recorder.exchanges
    assert before.status == 200
    # The browser asked with the old tag; the data differs, so it does not match.
    assert after.if_none_match == before.headers["etag"]
    assert after.status == 200
    assert after.headers["etag"] != before.headers["etag"]


def test_loader_names_each_call_anew_so_nothing_is_revalidated(
    revalidating_page: BrowserPage, served: Served
) -> None:
    url = served.server.api_url("/api/rows")
    results = revalidating_page.evaluate(
        LOADER_TIMES, {"url": url, "options": {}, "times": 2}
    )
    assert results == [ROWS, ROWS]
    first, second = served.recorder.exchanges
    # Each call puts a fresh callback name in the URL: another cache entry,
    # another tag, never a conditional request.
    assert first.query != second.query
    assert [first.status, second.status] == [200, 200]
    assert [first.if_none_match, second.if_none_match] == [None, None]
    assert first.headers["etag"] != second.headers["etag"]


def test_loader_with_a_fixed_callback_name_is_revalidated(
    revalidating_page: BrowserPage, served: Served, page_errors: list[str]
) -> None:
    url = served.server.api_url("/api/rows")
    options = {"callbackName": "onCachedRows"}
    results = revalidating_page.evaluate(
        LOADER_TIMES, {"url": url, "options": options, "times": 2}
    )
    assert results == [ROWS, ROWS]
    first, second = served.recorder.exchanges
    assert first.query == second.query == "callback=onCachedRows"
    assert (first.status, first.if_none_match) == (200, None)
    assert (second.status, second.if_none_match) == (304, first.headers["etag"])
    assert revalidating_page.evaluate("!('onCachedRows' in window)")
    assert page_errors == []
