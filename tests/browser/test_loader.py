"""The bundled loader (static/jsonp.js, jsonp.mjs) in a real Chromium, against
views decorated with :func:`flask_jsonp.jsonp`.

Pages come from ``http://localhost:PORT`` and the API from
``http://127.0.0.1:PORT``: every request is cross-origin, as in production.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from typing import TYPE_CHECKING
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask import render_template_string
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from flask_jsonp import is_valid_callback
from flask_jsonp import JSONP
from flask_jsonp import jsonp
from tests.browser.api_app import Gates
from tests.browser.api_app import PAYLOADS
from tests.browser.engines import BrowserPage
from tests.browser.live_server import LiveServer

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.browser

#: Timeout for the tests of timeouts: short, yet far above a local round trip.
SHORT_TIMEOUT_MS = 300

# Calls jsonp(url, options) in the page and describes what happened: the outcome,
# and every <script> element added to the document meanwhile. `abort` adds an
# AbortController's signal, aborted before the call ("before") or after `afterMs`,
# with no reason, a string ("text") or an Error ("error") as the reason.
RUN_JSONP = """
async ({ url, options, abort, moduleUrl }) => {
  const loader = moduleUrl ? (await import(moduleUrl)).jsonp : window.jsonp;
  const scripts = [];
  const record = (records) => {
    for (const { addedNodes } of records) {
      for (const node of addedNodes) {
        if (node.nodeName === 'SCRIPT') {
          scripts.push({
            src: node.src, nonce: node.nonce, crossOrigin: node.crossOrigin,
            referrerPolicy: node.referrerPolicy,
          });
        }
      }
    }
  };
  const observer = new MutationObserver(record);
  observer.observe(document, { childList: true, subtree: true });
  options = { ...options };
  let controller, reason;
  if (abort) {
    controller = new AbortController();
    options.signal = controller.signal;
    const reasons = { none: undefined, text: 'stop it', error: new Error('custom') };
    reason = reasons[abort.reason];
    if (abort.when === 'before') controller.abort(reason);
    else setTimeout(() => controller.abort(reason), abort.afterMs);
  }
  let outcome;
  try {
    outcome = { ok: true, data: await loader(url, options) };
  } catch (error) {
    outcome = {
      ok: false,
      isReason: reason !== undefined && error === reason,
      error: {
        name: error.name, message: error.message, code: error.code, url: error.url,
        status: error.status, data: error.data,
        isError: error instanceof Error,
        isJsonpError: error instanceof (window.jsonp || loader).JsonpError,
        isDOMException: error instanceof DOMException,
        hasStatus: typeof error === 'object' && 'status' in error,
      },
    };
  }
  record(observer.takeRecords());
  observer.disconnect();
  return { ...outcome, scripts, scriptsInDocument: document.scripts.length };
}
"""

# Sorted: Firefox defines its built-in globals (JSON, globalThis, ...) when first
# used, which reorders getOwnPropertyNames(window).
SNAPSHOT = """() => ({
  globals: Object.getOwnPropertyNames(window).sort(),
  scripts: document.scripts.length,
})"""

# Replace window.setTimeout, clearTimeout and the AbortSignal listener methods with
# counting wrappers, to see the loader start and release its timer and listener.
COUNT_TIMERS_AND_LISTENERS = """() => {
  const counts = { delays: [], cleared: 0, added: 0, removed: 0 };
  const { setTimeout: set, clearTimeout: clear } = window;
  window.setTimeout = (fn, delay) => {
    counts.delays.push(delay);
    return set(fn, delay);
  };
  window.clearTimeout = (id) => { if (id !== undefined) counts.cleared++; clear(id); };
  const proto = EventTarget.prototype;
  const { addEventListener: add, removeEventListener: remove } = proto;
  proto.addEventListener = function (type, ...rest) {
    if (this instanceof AbortSignal && type === 'abort') counts.added++;
    return add.call(this, type, ...rest);
  };
  proto.removeEventListener = function (type, ...rest) {
    if (this instanceof AbortSignal && type === 'abort') counts.removed++;
    return remove.call(this, type, ...rest);
  };
  window.__counts = counts;
}"""


def run_jsonp(
    page: BrowserPage,
    url: str,
    options: dict[str, Any] | None = None,
    *,
    abort: dict[str, Any] | None = None,
    module: bool = False,
) -> dict[str, Any]:
    """Call the loader in ``page`` (the ES module's if ``module``); see
    :data:`RUN_JSONP`.
    """
    page_url = urlsplit(page.url)
    module_url = f"{page_url.scheme}://{page_url.netloc}/_jsonp/jsonp.mjs"
    arg = {
        "url": url,
        "options": options or {},
        "abort": abort,
        "moduleUrl": module_url if module else None,
    }
    result: dict[str, Any] = page.evaluate(RUN_JSONP, arg)
    return result


def callback_name(script_src: str, param: str = "callback") -> str:
    """The callback name a request put in its URL."""
    (name,) = parse_qs(urlsplit(script_src).query)[param]
    return name


def same_json(actual: Any, expected: Any) -> bool:
    """Equal as JSON values. Numbers compare as doubles: Playwright hands back a
    whole JS number as a Python ``int`` made from its shortest decimal form.
    """
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same_json(actual[key], expected[key]) for key in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(map(same_json, actual, expected))
        )
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return not isinstance(actual, bool) and float(actual) == float(expected)
    return type(actual) is type(expected) and bool(actual == expected)


def snapshot(page: BrowserPage) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(SNAPSHOT)
    return result


def wait_until_gone(page: BrowserPage, name: str) -> None:
    """Wait until ``window[name]`` no longer exists."""
    page.wait_for_function("(name) => !(name in window)", arg=name)


@pytest.fixture
def loader_page(page: BrowserPage, api_server: LiveServer) -> BrowserPage:
    """A page with the classic loader, loaded through ``jsonp_loader()``."""
    page.goto(api_server.page_url("/page"))
    return page


def test_classic_script_defines_only_the_jsonp_global(
    page: BrowserPage, api_server: LiveServer
) -> None:
    page.goto(api_server.page_url("/page/bare"))
    before = set(snapshot(page)["globals"])
    page.add_script_tag(api_server.page_url("/_jsonp/jsonp.js"))
    after = set(snapshot(page)["globals"])
    assert after - before == {"jsonp"}
    assert page.evaluate(
        "typeof jsonp === 'function' && jsonp.JsonpError.prototype instanceof Error"
    )


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_data_arrives_equal_to_what_the_view_returned(
    loader_page: BrowserPage, api: Callable[[str], str], name: str
) -> None:
    result = run_jsonp(loader_page, api(f"/api/data/{name}"))
    assert result["ok"], result
    assert result["data"] == PAYLOADS[name]


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=JSON_VALUES)
def test_any_json_value_arrives_unchanged(
    loader_page: BrowserPage, api: Callable[[str], str], value: Any
) -> None:
    result = run_jsonp(
        loader_page, api("/api/reflect"), {"params": {"json": json.dumps(value)}}
    )
    assert result["ok"], result
    assert same_json(result["data"], value)


def test_params_are_encoded_and_the_query_is_kept(
    loader_page: BrowserPage, api: Callable[[str], str]
) -> None:
    params = {
        "q": "a b&c=d/é",
        "n": 1,
        "yes": True,
        "list": ["x", "y"],
        "skipped": None,
        "ключ": "✓",
    }
    result = run_jsonp(
        loader_page, api("/api/echo?keep=a%20b&flag"), {"params": params}
    )
    assert result["ok"], result
    query = result["data"]["query"]
    name = callback_name(result["scripts"][0]["src"])
    assert query == (
        "keep=a%20b&flag&q=a%20b%26c%3Dd%2F%C3%A9&n=1&yes=true&list=x&list=y"
        f"&%D0%BA%D0%BB%D1%8E%D1%87=%E2%9C%93&callback={name}"
    )
    assert result["data"]["args"] == {
        "keep": ["a b"],
        "flag": [""],
        "q": ["a b&c=d/é"],
        "n": ["1"],
        "yes": ["true"],
        "list": ["x", "y"],
        "ключ": ["✓"],
        "callback": [name],
    }


def test_params_go_before_the_fragment(
    loader_page: BrowserPage, api: Callable[[str], str]
) -> None:
    result = run_jsonp(loader_page, api("/api/echo?x=1#frag?y=2"), {"params": {"z": 3}})
    assert result["ok"], result
    (script,) = result["scripts"]
    assert script["src"].endswith("#frag?y=2")
    assert result["data"]["args"]["x"] == ["1"]
    assert result["data"]["args"]["z"] == ["3"]


def test_relative_and_url_object_urls_are_resolved_against_the_page(
    loader_page: BrowserPage,
) -> None:
    result = loader_page.evaluate(
        """async () => [
            await jsonp('/api/data/list'),
            await jsonp(new URL('/api/data/string', location.href)),
        ]"""
    )
    assert result == [PAYLOADS["list"], PAYLOADS["string"]]


def test_callback_param_names_the_query_parameter(
    loader_page: BrowserPage, api: Callable[[str], str]
) -> None:
    result = run_jsonp(loader_page, api("/api/echo-cb"), {"callbackParam": "cb"})
    assert result["ok"], result
    args = result["data"]["args"]
    assert list(args) == ["cb"]
    assert args["cb"] == [callback_name(result["scripts"][0]["src"], "cb")]


def test_fixed_callback_name_is_used_and_released(
    loader_page: BrowserPage, api: Callable[[str], str]
) -> None:
    for _ in range(2):  # reusable once the previous request is done
        result = run_jsonp(
            loader_page, api("/api/echo"), {"callbackName": "onFixedData"}
        )
        assert result["ok"], result
        assert result["data"]["args"]["callback"] == ["onFixedData"]
        assert loader_page.evaluate("!('onFixedData' in window)")


def test_generated_callback_names_are_unique_and_valid(
    loader_page: BrowserPage, api: Callable[[str], str]
) -> None:
    names = loader_page.evaluate(
        """async (url) => {
            const names = [];
            for (let round = 0; round < 3; round++) {
                const batch = Array.from({ length: 10 }, () => jsonp(url));
                for (const data of await Promise.all(batch)) {
                    names.push(data.args.callback[0]);
                }
            }
            return names;
        }""",
        api("/api/echo"),
    )
    assert len(set(names)) == len(names) == 30
    assert all(is_valid_callback(name) for name in names)
    assert loader_page.evaluate("(names) => names.every((n) => !(n in window))", names)


@pytest.mark.parametrize(
    ("taken", "setup"),
    [
        ("alert", ""),
        ("location", ""),
        ("myGlobal", "window.myGlobal = 1;"),
        ("undefinedButDeclared", "window.undefinedButDeclared = undefined;"),
    ],
)
def test_callback_name_taken_on_window_is_refused(
    loader_page: BrowserPage, api: Callable[[str], str], taken: str, setup: str
) -> None:
    if setup:
        loader_page.evaluate(setup)
    before = snapshot(loader_page)
    result = run_jsonp(loader_page, api("/api/echo"), {"callbackName": taken})
    assert not result["ok"]
    assert result["error"]["code"] == "setup"
    assert result["error"]["isJsonpError"]
    assert result["scripts"] == []
    assert snapshot(loader_page) == before


def test_callback_name_in_use_by_a_pending_request_is_refused(
    loader_page: BrowserPage, api: Callable[[str], str], gates: Gates, gate: str
) -> None:
    second = loader_page.evaluate(
        """async ([held, other]) => {
            window.firstRequest = jsonp(held, { callbackName: 'busyName' });
            return jsonp(other, { callbackName: 'busyName' }).catch((e) => e.code);
        }""",
        [api(f"/api/held/{gate}"), api("/api/echo")],
    )
    assert second == "setup"
    gates.open(gate)
    first = loader_page.evaluate("firstRequest")
    assert first == {"gate": gate, "opened": True}


@pytest.mark.parametrize(
    ("url", "options"),
    [
        pytest.param("javascript:alert(1)", {}, id="javascript-url"),
        pytest.param("data:text/javascript,alert(1)", {}, id="data-url"),
        pytest.param("ftp://127.0.0.1/x", {}, id="ftp-url"),
        pytest.param("http://[::1", {}, id="unparsable-url"),
        pytest.param("API/api/echo?callback=x", {}, id="callback-already-in-url"),
        pytest.param(
            "API/api/echo", {"params": {"callback": "x"}}, id="callback-in-params"
        ),
        pytest.param("API/api/echo", {"callbackParam": ""}, id="empty-callback-param"),
        pytest.param("API/api/echo", {"callbackName": "a.b"}, id="dotted-name"),
        pytest.param("API/api/echo", {"callbackName": "a b"}, id="name-with-space"),
        pytest.param("API/api/echo", {"callbackName": ""}, id="empty-name"),
        pytest.param("API/api/echo", {"callbackName": "x" * 129}, id="long-name"),
        pytest.param("API/api/echo", {"timeout": -1}, id="negative-timeout"),
        pytest.param("API/api/echo", {"timeout": "soon"}, id="text-timeout"),
        pytest.param("API/api/echo", {"timeout": 2**31}, id="overflowing-timeout"),
    ],
)
def test_bad_arguments_reject_with_setup_and_touch_nothing(
    loader_page: BrowserPage, api_server: LiveServer, url: str, options: dict[str, Any]
) -> None:
    url = url.replace("API", api_server.api_origin)
    before = snapshot(loader_page)
    result = run_jsonp(loader_page, url, options)
    assert not result["ok"]
    error = result["error"]
    assert error["code"] == "setup"
    assert error["isJsonpError"] and error["name"] == "JsonpError"
    assert error["url"] == url
    assert result["scripts"] == []
    assert snapshot(loader_page) == before


def test_reserved_word_callback_name_is_refused_by_the_server(
    loader_page: BrowserPage, api: Callable[[str], str]
) -> None:
    # The loader accepts any identifier; the server refuses reserved words
    # with 400, which the page sees as a failed script.
    result = run_jsonp(loader_page, api("/api/echo"), {"callbackName": "class"})
    assert result["error"]["code"] == "network"


@pytest.mark.parametrize("path", ["/api/held/{gate}", "/raw/unguarded/{gate}"])
def test_timeout_rejects_and_the_late_response_is_harmless(
    loader_page: BrowserPage,
    api: Callable[[str], str],
    page_errors: list[str],
    gates: Gates,
    gate: str,
    path: str,
) -> None:
    before = snapshot(loader_page)
    result = run_jsonp(
        loader_page, api(path.format(gate=gate)), {"timeout": SHORT_TIMEOUT_MS}
    )
    assert not result["ok"]
    assert result["error"]["code"] == "timeout"
    assert result["error"]["isJsonpError"]
    assert result["scriptsInDocument"] == before["scripts"]
    # The callback stays until the script that was still loading is done ...
    name = callback_name(result["scripts"][0]["src"])
    assert loader_page.evaluate("(name) => typeof window[name]", name) == "function"
    gates.open(gate)
    # ... then goes, and the late call raised nothing.
    wait_until_gone(loader_page, name)
    assert page_errors == []
    assert snapshot(loader_page) == before


def test_timeout_zero_disables_the_timer(
    loader_page: BrowserPage, api: Callable[[str], str]
) -> None:
    loader_page.evaluate(COUNT_TIMERS_AND_LISTENERS)
    result = run_jsonp(
        loader_page, api("/api/slow"), {"timeout": 0, "params": {"ms": 400}}
    )
    assert result["ok"], result
    assert result["data"] == {"slept": 400}
    assert loader_page.evaluate("__counts.delays") == []


def test_default_timeout_is_ten_seconds_and_released(
    loader_page: BrowserPage, api: Callable[[str], str]
) -> None:
    loader_page.evaluate(COUNT_TIMERS_AND_LISTENERS)
    for path in ["/api/data/list", "/api/missing", "/raw/no-call"]:
        run_jsonp(loader_page, api(path))
    counts = loader_page.evaluate("__counts")
    assert counts["delays"] == [10_000] * 3
    assert counts["cleared"] == 3


@pytest.mark.parametrize("path", ["/api/held/{gate}", "/raw/unguarded/{gate}"])
def test_abort_rejects_with_abort_error_and_the_late_response_is_harmless(
    loader_page: BrowserPage,
    api: Callable[[str], str],
    page_errors: list[str],
    gates: Gates,
    gate: str,
    path: str,
) -> None:
    before = snapshot(loader_page)
    loader_page.evaluate(COUNT_TIMERS_AND_LISTENERS)
    result = run_jsonp(
        loader_page,
        api(path.format(gate=gate)),
        abort={"when": "after", "afterMs": 100, "reason": "none"},
    )
    assert not result["ok"]
    error = result["error"]
    assert error["name"] == "AbortError" and error["isDOMException"]
    counts = loader_page.evaluate("__counts")
    assert (counts["added"], counts["removed"], counts["cleared"]) == (1, 1, 1)
    gates.open(gate)
    wait_until_gone(loader_page, callback_name(result["scripts"][0]["src"]))
    assert page_errors == []
    after = snapshot(loader_page)
    assert set(after["globals"]) - set(before["globals"]) == {"__counts"}
    assert after["scripts"] == before["scripts"]


@pytest.mark.parametrize("reason", ["text", "error"])
def test_abort_rejects_with_the_signal_reason(
    loader_page: BrowserPage, api: Callable[[str], str], gate: str, reason: str
) -> None:
    result = run_jsonp(
        loader_page,
        api(f"/api/held/{gate}"),
        abort={"when": "after", "afterMs": 50, "reason": reason},
    )
    assert not result["ok"]
    assert result["isReason"]


@pytest.mark.parametrize("reason", ["none", "error"])
def test_already_aborted_signal_rejects_without_a_request(
    loader_page: BrowserPage, api: Callable[[str], str], reason: str
) -> None:
    before = snapshot(loader_page)
    result = run_jsonp(
        loader_page, api("/api/echo"), abort={"when": "before", "reason": reason}
    )
    assert not result["ok"]
    if reason == "none":
        assert result["error"]["name"] == "AbortError"
        assert result["error"]["isDOMException"]
    else:
        assert result["isReason"]
    assert result["scripts"] == []
    assert snapshot(loader_page) == before


def test_abort_after_success_changes_nothing(
    loader_page: BrowserPage, api: Callable[[str], str], page_errors: list[str]
) -> None:
    loader_page.evaluate(COUNT_TIMERS_AND_LISTENERS)
    result = loader_page.evaluate(
        """async (url) => {
            const controller = new AbortController();
            const data = await jsonp(url, { signal: controller.signal });
            controller.abort();
            return data;
        }""",
        api("/api/data/list"),
    )
    assert result == PAYLOADS["list"]
    counts = loader_page.evaluate("__counts")
    assert (counts["added"], counts["removed"]) == (1, 1)
    assert page_errors == []


def test_envelope_resolves_with_the_data(
    loader_page: BrowserPage, api: Callable[[str], str]
) -> None:
    result = run_jsonp(loader_page, api("/api/envelope/201"), {"envelope": True})
    assert result["ok"], result
    assert result["data"] == {"status": 201, "items": [1, 2, 3]}
    # Without the option, the page sees the envelope itself.
    result = run_jsonp(loader_page, api("/api/envelope/201"))
    assert result["data"] == {
        "meta": {"status": 200},
        "data": {"status": 201, "items": [1, 2, 3]},
    }


@pytest.mark.parametrize(
    ("status", "name"), [(400, "Bad Request"), (404, "Not Found"), (503, None)]
)
def test_envelope_error_status_rejects_with_http(
    loader_page: BrowserPage, api: Callable[[str], str], status: int, name: str | None
) -> None:
    result = run_jsonp(loader_page, api(f"/api/envelope/{status}"), {"envelope": True})
    assert not result["ok"]
    error = result["error"]
    assert error["code"] == "http"
    assert error["status"] == status
    assert error["isJsonpError"]
    assert str(status) in error["message"]
    assert set(error["data"]) == {"name", "description"}
    if name is not None:
        assert error["data"]["name"] == name


def test_envelope_option_on_a_plain_response_rejects_with_http(
    loader_page: BrowserPage, api: Callable[[str], str]
) -> None:
    result = run_jsonp(loader_page, api("/api/data/object"), {"envelope": True})
    error = result["error"]
    assert error["code"] == "http"
    assert not error["hasStatus"]
    assert error["data"] == PAYLOADS["object"]


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A loopback URL whose port is bound but not listening: refused at once."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{bound.getsockname()[1]}/api"


@pytest.mark.parametrize(
    "path",
    [
        "/api/missing",  # decorated view, 404: JSON, not a script
        "/api/fails",  # decorated view, 500
        "/raw/error-body/404",  # a script body with an error status is not run
        "/raw/error-body/500",
        "/api/nowhere",  # no such route
    ],
)
def test_failed_script_rejects_with_network(
    loader_page: BrowserPage, api: Callable[[str], str], path: str
) -> None:
    before = snapshot(loader_page)
    result = run_jsonp(loader_page, api(path))
    assert not result["ok"]
    assert result["error"]["code"] == "network"
    assert result["error"]["url"] == result["scripts"][0]["src"]
    assert snapshot(loader_page) == before


def test_refused_connection_rejects_with_network(
    loader_page: BrowserPage, refused_url: str
) -> None:
    result = run_jsonp(loader_page, refused_url)
    assert result["error"]["code"] == "network"


@pytest.mark.parametrize("path", ["/raw/no-call", "/raw/calls-other"])
def test_script_that_never_calls_back_rejects_with_no_callback(
    loader_page: BrowserPage, api: Callable[[str], str], path: str
) -> None:
    before = snapshot(loader_page)
    result = run_jsonp(loader_page, api(path))
    assert result["error"]["code"] == "no-callback"
    assert snapshot(loader_page) == before


def test_callback_called_twice_settles_once(
    loader_page: BrowserPage, api: Callable[[str], str], page_errors: list[str]
) -> None:
    before = snapshot(loader_page)
    result = run_jsonp(loader_page, api("/raw/twice"))
    assert result["ok"]
    assert result["data"] == {"call": 1}
    assert snapshot(loader_page) == before
    assert page_errors == []


def test_error_is_a_jsonp_error_with_code_and_url(
    loader_page: BrowserPage, api: Callable[[str], str]
) -> None:
    result = run_jsonp(loader_page, api("/api/missing"), {"params": {"a": 1}})
    error = result["error"]
    assert error["isError"] and error["isJsonpError"] and not error["isDOMException"]
    assert error["name"] == "JsonpError"
    assert error["url"].startswith(api("/api/missing?a=1&callback="))
    assert error["url"] in error["message"]
    assert loader_page.evaluate(
        """() => {
            const error = new jsonp.JsonpError('timeout', 'message', 'http://x/');
            return [error.code, error.url, error.message, String(error)];
        }"""
    ) == ["timeout", "http://x/", "message", "JsonpError: message"]


def test_sixty_parallel_requests_leave_no_global_and_no_script(
    loader_page: BrowserPage,
    api_server: LiveServer,
    api: Callable[[str], str],
    page_errors: list[str],
    gates: Gates,
    gate: str,
) -> None:
    before = snapshot(loader_page)
    outcome = loader_page.evaluate(
        """async ({ echo, missing, noCall, held, shortTimeout }) => {
            const scriptsBefore = document.scripts.length;
            const kinds = ['ok', 'ok', 'ok', 'network', 'no-callback', 'timeout'];
            const urls = { ok: echo, network: missing, 'no-callback': noCall,
                           timeout: held };
            const requests = Array.from({ length: 60 }, (_, i) => {
                const kind = kinds[i % kinds.length];
                const timeout = kind === 'timeout' ? shortTimeout : 5000;
                return jsonp(urls[kind], { params: { i }, timeout }).then(
                    (data) => ({ i, kind, got: Number(data.args.i[0]) }),
                    (error) => ({ i, kind, got: error.code }),
                );
            });
            const inFlight = document.scripts.length - scriptsBefore;
            return { inFlight, results: await Promise.all(requests) };
        }""",
        {
            "echo": api("/api/echo"),
            "missing": api("/api/missing"),
            "noCall": api("/raw/no-call"),
            # Chromium opens at most 6 connections per host, and a request that
            # timed out still holds one: keep the held ones on another host.
            "held": api_server.page_url(f"/api/held/{gate}"),
            "shortTimeout": SHORT_TIMEOUT_MS,
        },
    )
    # The six per cycle are in flight at once; the held ones time out.
    assert outcome["inFlight"] == 60
    for result in outcome["results"]:
        expected = result["i"] if result["kind"] == "ok" else result["kind"]
        assert result["got"] == expected, result
    assert snapshot(loader_page)["scripts"] == before["scripts"]
    # The ten timed-out callbacks wait for their scripts, then go.
    gates.open(gate)
    loader_page.wait_for_function(
        "(before) => Object.getOwnPropertyNames(window).length === before.length",
        arg=before["globals"],
    )
    assert snapshot(loader_page) == before
    assert page_errors == []


def test_fixed_name_reused_after_a_timeout_ignores_the_late_response(
    loader_page: BrowserPage,
    api: Callable[[str], str],
    page_errors: list[str],
    gates: Gates,
    gate: str,
) -> None:
    second_gate = gate + "-second"
    options = {"callbackName": "onSameName", "timeout": SHORT_TIMEOUT_MS}
    first = run_jsonp(loader_page, api(f"/api/held/{gate}"), options)
    assert first["error"]["code"] == "timeout"
    loader_page.evaluate(
        """([url, options]) => {
            window.secondRequest = jsonp(url, { ...options, timeout: 0 });
        }""",
        [api(f"/api/held/{second_gate}"), options],
    )
    gates.open(gate)  # the first, late response calls onSameName: ignored
    loader_page.wait_for_timeout(200)
    gates.open(second_gate)
    second = loader_page.evaluate("secondRequest")
    assert second == {"gate": second_gate, "opened": True}
    loader_page.evaluate("delete window.secondRequest")
    wait_until_gone(loader_page, "onSameName")
    assert page_errors == []


def test_cross_origin_option_makes_a_cors_request(
    loader_page: BrowserPage, api_server: LiveServer, api: Callable[[str], str]
) -> None:
    options = {"crossOrigin": "anonymous"}
    result = run_jsonp(loader_page, api("/api/cors"), options)
    assert result["ok"], result
    assert result["scripts"][0]["crossOrigin"] == "anonymous"
    assert result["data"] == {"origin": api_server.page_origin}
    # Without CORS headers the browser refuses the script.
    assert run_jsonp(loader_page, api("/api/echo"), options)["error"]["code"] == (
        "network"
    )


def test_referrer_policy_option_is_applied(
    loader_page: BrowserPage, api_server: LiveServer, api: Callable[[str], str]
) -> None:
    default = run_jsonp(loader_page, api("/api/echo"))
    assert default["data"]["referrer"] == api_server.page_url("/")
    result = run_jsonp(loader_page, api("/api/echo"), {"referrerPolicy": "no-referrer"})
    assert result["scripts"][0]["referrerPolicy"] == "no-referrer"
    assert result["data"]["referrer"] is None


def test_referrer_allowlist_sees_the_page_and_no_referrer_is_refused(
    page: BrowserPage, serve_app: Callable[[Flask], LiveServer]
) -> None:
    app = Flask(__name__)
    JSONP(app)

    @app.get("/page")
    def page_view() -> str:
        return render_template_string("<!doctype html>{{ jsonp_loader() }}")

    @app.get("/api/private")
    @jsonp
    def private() -> dict[str, str]:
        return {"secret": "for localhost pages"}

    server = serve_app(app)
    # The port is known only now; options are read per request.
    app.config["JSONP_ALLOWED_REFERRERS"] = [server.page_origin]
    page.goto(server.page_url("/page"))
    url = server.api_url("/api/private")
    assert run_jsonp(page, url)["data"] == {"secret": "for localhost pages"}
    refused = run_jsonp(page, url, {"referrerPolicy": "no-referrer"})
    assert refused["error"]["code"] == "network"
    page.goto(server.api_url("/page"))  # another origin
    assert run_jsonp(page, url)["error"]["code"] == "network"


def page_nonce(page: BrowserPage) -> str:
    """The nonce of the page's loader script, which both engines hide from the
    attribute: only the property holds it.
    """
    nonce: str = page.evaluate("document.querySelector('script[nonce]').nonce")
    assert len(nonce) > 10
    hidden = "document.querySelector('script[nonce]').getAttribute('nonce')"
    assert page.evaluate(hidden) == ""
    return nonce


def test_csp_page_loader_uses_a_nonce_only_when_given_one(
    page: BrowserPage, api_server: LiveServer, api: Callable[[str], str]
) -> None:
    page.goto(api_server.page_url("/page/csp"))
    nonce = page_nonce(page)
    # The loader does not copy the page's nonce, so the policy refuses the script.
    default = run_jsonp(page, api("/api/data/object"))
    assert default["error"]["code"] == "network"
    assert default["scripts"][0]["nonce"] == ""
    explicit = run_jsonp(page, api("/api/data/list"), {"nonce": nonce})
    assert explicit["data"] == PAYLOADS["list"]
    assert explicit["scripts"][0]["nonce"] == nonce
    # A wrong nonce is refused too: the policy is in force.
    wrong = run_jsonp(page, api("/api/data/list"), {"nonce": "not-the-nonce"})
    assert wrong["error"]["code"] == "network"
    # The loader-wide default, which an explicit empty nonce overrides.
    page.evaluate("(nonce) => { jsonp.defaults.nonce = nonce; }", nonce)
    by_default = run_jsonp(page, api("/api/data/object"))
    assert by_default["data"] == PAYLOADS["object"]
    assert by_default["scripts"][0]["nonce"] == nonce
    without = run_jsonp(page, api("/api/data/object"), {"nonce": ""})
    assert without["error"]["code"] == "network"
    assert without["scripts"][0]["nonce"] == ""
    assert page.errors == []


def test_host_allowlist_in_the_policy_applies_unless_a_nonce_is_given(
    page: BrowserPage, api_server: LiveServer, api: Callable[[str], str]
) -> None:
    # script-src 'nonce-...' http://localhost:PORT: the API's host is not listed.
    page.goto(api_server.page_url("/page/csp?policy=allowlist"))
    nonce = page_nonce(page)
    blocked = run_jsonp(page, api("/api/data/list"))
    assert blocked["error"]["code"] == "network"
    listed = run_jsonp(page, api_server.page_url("/api/data/list"))
    assert listed["data"] == PAYLOADS["list"]
    with_nonce = run_jsonp(page, api("/api/data/list"), {"nonce": nonce})
    assert with_nonce["data"] == PAYLOADS["list"]


def test_strict_dynamic_trusts_the_loaders_scripts_without_a_nonce(
    page: BrowserPage, api_server: LiveServer, api: Callable[[str], str]
) -> None:
    page.goto(api_server.page_url("/page/csp?policy=strict-dynamic"))
    page_nonce(page)
    result = run_jsonp(page, api("/api/data/nested"))
    assert result["data"] == PAYLOADS["nested"]
    assert result["scripts"][0]["nonce"] == ""
    # The price: any script added through the DOM loads too, from any host.
    loaded = page.evaluate(
        """(src) => new Promise((resolve) => {
            const script = document.createElement('script');
            script.onload = script.onerror = (event) => resolve(event.type);
            script.src = src;
            document.head.append(script);
        })""",
        api("/api/data/list?callback=pageDefinedName"),
    )
    assert loaded == "load"


def test_es_module_on_a_csp_page(page: BrowserPage, api_server: LiveServer) -> None:
    page.goto(api_server.page_url("/page/csp?module=1"))
    page.wait_for_function("document.getElementById('result').textContent !== ''")
    result = json.loads(page.text_content("#result") or "")
    assert result == {
        "globals": "undefined",
        "data": PAYLOADS["object"],
        "error": {"isJsonpError": True, "code": "network"},
    }


def test_es_module_creates_no_global(
    page: BrowserPage, api_server: LiveServer, api: Callable[[str], str]
) -> None:
    page.goto(api_server.page_url("/page/bare"))
    before = snapshot(page)
    exports = page.evaluate(
        """async (url) => {
            const module = await import(url);
            return Object.keys(module).sort().concat(module.JsonpError.name);
        }""",
        api_server.page_url("/_jsonp/jsonp.mjs"),
    )
    assert exports == ["JsonpError", "jsonp", "JsonpError"]
    result = run_jsonp(page, api("/api/data/nested"), module=True)
    assert result["data"] == PAYLOADS["nested"]
    failed = run_jsonp(page, api("/api/missing"), module=True)
    assert failed["error"]["code"] == "network" and failed["error"]["isJsonpError"]
    assert snapshot(page) == before


# Wraps trustedTypes.createPolicy before the page's scripts run, to count the
# policies made and keep them, so that a test can try the loader's.
CAPTURE_POLICIES = """
window.__policies = [];
if (window.trustedTypes) {
  const create = trustedTypes.createPolicy.bind(trustedTypes);
  trustedTypes.createPolicy = (name, rules) => {
    const policy = create(name, rules);
    window.__policies.push({ name, policy });
    return policy;
  };
}
"""

# Whether the page refuses a plain string as a script URL.
STRING_SCRIPT_URL_REFUSED = """() => {
  try {
    document.createElement('script').src = 'http://127.0.0.1/x.js';
    return false;
  } catch (error) {
    return error instanceof TypeError;
  }
}"""

# What the loader's policy does with `url`: "signed" or the error's name.
SIGN_WITH_LOADER_POLICY = """(url) => {
  const { policy } = window.__policies.find(({ name }) => name === 'flask-jsonp');
  try {
    return String(policy.createScriptURL(url)) === url ? 'signed' : 'changed';
  } catch (error) {
    return error.name;
  }
}"""


def test_trusted_types_page_loads_through_the_loaders_own_policy(
    page: BrowserPage, api_server: LiveServer, api: Callable[[str], str]
) -> None:
    # require-trusted-types-for 'script'; trusted-types flask-jsonp. Chromium 156
    # and Firefox 153 ESR both enforce it.
    page.add_init_script(CAPTURE_POLICIES)
    page.goto(api_server.page_url("/page/csp?policy=trusted-types"))
    assert page.evaluate(STRING_SCRIPT_URL_REFUSED)
    nonce = page_nonce(page)
    first = run_jsonp(page, api("/api/data/list"), {"nonce": nonce})
    second = run_jsonp(page, api("/api/data/object"), {"nonce": nonce})
    assert first["data"] == PAYLOADS["list"]
    assert second["data"] == PAYLOADS["object"]
    # One policy, made at the first request.
    assert page.evaluate("__policies.map(({ name }) => name)") == ["flask-jsonp"]
    # It signs nothing but the URL the loader is assigning at that moment: not
    # another script, nor a URL it built before.
    for url in ["https://evil.test/x.js", first["scripts"][0]["src"]]:
        assert page.evaluate(SIGN_WITH_LOADER_POLICY, url) == "TypeError"
    assert page.errors == []


def test_trusted_types_policy_the_page_does_not_allow_rejects_with_setup(
    page: BrowserPage, api_server: LiveServer, api: Callable[[str], str]
) -> None:
    page.goto(api_server.page_url("/page/csp?policy=trusted-types-other"))
    before = snapshot(page)
    result = run_jsonp(page, api("/api/data/list"), {"nonce": page_nonce(page)})
    assert result["error"]["code"] == "setup"
    assert "flask-jsonp" in result["error"]["message"]
    assert result["scripts"] == []
    assert snapshot(page) == before


def test_page_without_trusted_types_gets_no_policy(
    page: BrowserPage, api_server: LiveServer, api: Callable[[str], str]
) -> None:
    # As in a browser without Trusted Types (Safari before 26).
    page.add_init_script(
        "Object.defineProperty(window, 'trustedTypes', { value: undefined });"
        + CAPTURE_POLICIES
    )
    page.goto(api_server.page_url("/page"))
    assert run_jsonp(page, api("/api/data/list"))["data"] == PAYLOADS["list"]
    assert page.evaluate("__policies") == []


# Removes a built-in before the page's scripts run, as in an older browser; keeps
# it in __removed, since Playwright's own serialisation needs Object.entries.
REMOVE_BUILT_IN = """
window.__removed = { owner: FEATURE_OWNER, name: FEATURE_NAME };
window.__removed.value = window.__removed.owner[window.__removed.name];
delete window.__removed.owner[window.__removed.name];
"""

# Calls jsonp(url) without the built-in, then puts it back and reports.
CALL_WITHOUT_BUILT_IN = """async (url) => {
  const scripts = document.scripts.length;
  let outcome;
  try {
    outcome = { data: await jsonp(url) };
  } catch (error) {
    outcome = { code: error.code, message: error.message };
  }
  const { owner, name, value } = window.__removed;
  owner[name] = value;
  return { ...outcome, scriptsAdded: document.scripts.length - scripts };
}"""


@pytest.mark.parametrize(("owner", "name"), [("Object", "entries"), ("window", "URL")])
def test_browser_without_es2017_gets_a_setup_rejection(
    page: BrowserPage,
    api_server: LiveServer,
    api: Callable[[str], str],
    owner: str,
    name: str,
) -> None:
    page.add_init_script(
        REMOVE_BUILT_IN.replace("FEATURE_OWNER", owner).replace(
            "FEATURE_NAME", repr(name)
        )
    )
    page.goto(api_server.page_url("/page"))
    result = page.evaluate(CALL_WITHOUT_BUILT_IN, api("/api/data/list"))
    assert result["code"] == "setup", result
    assert name in result["message"]
    assert result["scriptsAdded"] == 0
    # The loader itself loaded without an error.
    assert page.errors == []
