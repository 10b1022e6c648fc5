"""The Flask app the browser tests load pages from and call the loader against.

Its API views are decorated with the real :func:`flask_jsonp.jsonp`; a few raw
views answer what other servers send (no ``typeof`` guard, no call at all), and
some wait for a :class:`Gates` entry, so a test decides when a response arrives.
The ``/api/cors/...`` views also answer ``fetch`` with CORS (the real flask-cors),
for the loader's ``preferCors``. :func:`create_retiring_api_app` serves endpoints
that flask-jsonp's ``deprecation`` and ``sunset`` options announce.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import abort
from flask import Flask
from flask import g
from flask import jsonify
from flask import render_template_string
from flask import request
from flask import Response
from flask import send_from_directory
from flask import url_for
from flask_cors import cross_origin

from flask_jsonp import JSONP
from flask_jsonp import jsonp

#: Seconds a held response waits for its gate at most, so that a failing test
#: cannot leave a request thread behind for long.
HOLD_LIMIT = 5.0

#: Upper bound of ``/api/slow``, in milliseconds.
SLOW_LIMIT_MS = 2_000

#: What ``/api/data/<name>`` returns: values that JSON, the JSONP body and the
#: loader must carry unchanged.
PAYLOADS: dict[str, Any] = {
    "object": {"user": "admin", "id": 7, "active": True, "tags": ["a", "b"]},
    "nested": {"a": [{"b": {"c": [1, 2.5, -3, None, False, "", {}, []]}}]},
    "empty-object": {},
    "list": [0, 1, 2, 3],
    "string": "just a string",
    "number": 9007199254740991,  # Number.MAX_SAFE_INTEGER
    "float": -1.5e-7,
    "null": None,
    "false": False,
    "script-breakers": {
        "html": "</script><script>alert(1)</script><!--",
        "separators": "line\u2028para\u2029end",
        "quotes": "'\"`\\",
        "amp": "&amp; &lt;",
        "controls": "\x00\x1f\t\n\r",
    },
    "unicode": {"ключ": "значение", "emoji": "\U0001f600", "cjk": "漢字", "rtl": "עב"},
    "big": [{"index": index, "text": "x" * 100} for index in range(2_000)],
}

PAGE_START = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ title }}</title>
"""
PAGE_END = """
</head><body><output id="result"></output></body></html>
"""

# An inline module with the page's nonce: it imports the ES module, gives it the
# nonce, runs two requests, and writes what happened into <output id="result">
# (a module must not create globals, so the page keeps none either).
MODULE_PAGE_SCRIPT = """
<script type="module" nonce="{{ nonce }}">
import { jsonp, JsonpError } from "{{ module_url }}";
jsonp.defaults.nonce = document.querySelector("script[nonce]").nonce;
const api = `${location.protocol}//127.0.0.1:${location.port}`;
const result = { globals: typeof window.jsonp };
try {
  result.data = await jsonp(`${api}/api/data/object`);
  await jsonp(`${api}/api/missing`).catch((error) => {
    result.error = { isJsonpError: error instanceof JsonpError, code: error.code };
  });
} catch (error) {
  result.unexpected = String(error);
}
document.getElementById("result").textContent = JSON.stringify(result);
</script>
"""


#: The policies of ``/page/csp?policy=NAME``; every one allows the page's own
#: scripts by nonce.
CSP_POLICIES = {
    # Scripts by nonce only.
    "nonce": "script-src 'nonce-{nonce}'; object-src 'none'; base-uri 'none'",
    # And by host: the page's origin (localhost), not the API's (127.0.0.1).
    "allowlist": "script-src 'nonce-{nonce}' {page_origin}; object-src 'none'",
    # Scripts a trusted script adds are trusted, whatever their host.
    "strict-dynamic": "script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'",
    # The demo's policy (demo_site/page.py): scripts by nonce, fetch to the API.
    "demo": (
        "default-src 'self'; script-src 'nonce-{nonce}';"
        " connect-src 'self' {api_origin}; object-src 'none'; base-uri 'none';"
        " form-action 'self'; frame-ancestors 'none'"
    ),
    # The same without the API in connect-src: the policy refuses fetch() to it.
    "demo-no-connect": (
        "default-src 'self'; script-src 'nonce-{nonce}'; connect-src 'self';"
        " object-src 'none'; base-uri 'none'"
    ),
    # Script URLs only through the loader's Trusted Types policy.
    "trusted-types": (
        "script-src 'nonce-{nonce}'; require-trusted-types-for 'script';"
        " trusted-types flask-jsonp"
    ),
    # Trusted Types with a policy list that leaves the loader's out.
    "trusted-types-other": (
        "script-src 'nonce-{nonce}'; require-trusted-types-for 'script';"
        " trusted-types other-policy"
    ),
}


class Gates:
    """Named one-shot events: a held view waits until the test opens its gate."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def _event(self, name: str) -> threading.Event:
        with self._lock:
            return self._events.setdefault(name, threading.Event())

    def open(self, name: str) -> None:
        """Let the responses held at ``name`` go."""
        self._event(name).set()

    def wait(self, name: str) -> bool:
        """Wait for ``name`` to open, at most :data:`HOLD_LIMIT` seconds."""
        return self._event(name).wait(HOLD_LIMIT)


def _script(body: str) -> Response:
    return Response(body, mimetype="text/javascript")


#: Pages allowed to read the ``/api/cors/...`` answers: those of the test server's
#: page origin, ``http://localhost:PORT`` (the port is known only once it serves).
LOCALHOST_PAGES = re.compile(r"^http://localhost:\d+$")

#: The headers a page may read from a CORS answer for the loader's notices.
DEPRECATION_HEADERS = ["Deprecation", "Sunset", "Link"]

#: What ``/api/cors/announced`` says, as RFC 9745 and RFC 8594 headers.
ANNOUNCED_HEADERS = {
    "Deprecation": "@1793491200",  # 2026-11-01T00:00:00Z
    "Sunset": "Wed, 30 Jun 2027 00:00:00 GMT",
    "Link": (
        '<https://example.com/api>; rel="alternate",'
        ' <https://example.com/retired>; rel="deprecation"; type="text/html"'
    ),
}

#: The dates of :func:`create_retiring_api_app`'s endpoints: deprecated since
#: 2026-11-01, sunset far ahead (or both passed, for ``/api/gone``).
DEPRECATION = datetime(2026, 11, 1)
SUNSET = datetime(2099, 6, 30)
PAST_DEPRECATION = datetime(2025, 6, 1)
PAST_SUNSET = datetime(2026, 1, 1)
DEPRECATION_LINK = "https://example.com/jsonp-retired"


def create_api_app(gates: Gates, vendor_dir: Path | None = None) -> Flask:
    """Build the app; ``vendor_dir`` is served under ``/vendor/`` (npm packages)."""
    app = Flask(__name__)
    JSONP(app)
    _add_pages(app, vendor_dir)
    _add_api(app, gates)
    _add_cors_api(app, gates)
    _add_raw_views(app, gates)
    return app


def _add_pages(app: Flask, vendor_dir: Path | None = None) -> None:
    def render_page(title: str, head: str = "") -> str:
        return render_template_string(
            PAGE_START + head + PAGE_END,
            title=title,
            nonce=g.get("csp_nonce"),
            module_url=url_for("flask_jsonp.loader_file", filename="jsonp.mjs"),
        )

    @app.get("/page")
    def classic_page() -> str:
        return render_page("classic", "{{ jsonp_loader() }}")

    @app.get("/page/bare")
    def bare_page() -> str:
        return render_page("bare")

    @app.get("/page/csp")
    def csp_page() -> Response:
        g.csp_nonce = secrets.token_urlsafe(16)
        if request.args.get("module"):
            head = MODULE_PAGE_SCRIPT
        else:
            head = "{{ jsonp_loader() }}"
        response = app.make_response(render_page("csp", head))
        policy = CSP_POLICIES[request.args.get("policy", "nonce")]
        page_origin = request.host_url.rstrip("/")
        response.headers["Content-Security-Policy"] = policy.format(
            nonce=g.csp_nonce,
            page_origin=page_origin,
            api_origin=page_origin.replace("//localhost:", "//127.0.0.1:"),
        )
        return response

    @app.get("/vendor/<path:filename>")
    def vendor(filename: str) -> Response:
        if vendor_dir is None:
            abort(404)
        return send_from_directory(vendor_dir, filename)


def _add_api(app: Flask, gates: Gates) -> None:
    @app.get("/api/data/<name>")
    @jsonp
    def data(name: str) -> Response:
        if name not in PAYLOADS:
            abort(404)
        return jsonify(PAYLOADS[name])

    @app.get("/api/reflect")
    @jsonp
    def reflect() -> Response:
        return jsonify(json.loads(request.args["json"]))

    @app.get("/api/echo")
    @jsonp
    def echo() -> dict[str, Any]:
        return {
            "args": request.args.to_dict(flat=False),
            "query": request.query_string.decode("ascii"),
            "referrer": request.referrer,
            "origin": request.headers.get("Origin"),
        }

    @app.get("/api/echo-cb")
    @jsonp(callback_params="cb")
    def echo_cb() -> dict[str, Any]:
        return {"args": request.args.to_dict(flat=False)}

    @app.get("/api/cors")
    @jsonp
    def cors() -> Response:
        response = jsonify(origin=request.headers.get("Origin"))
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    @app.get("/api/held/<gate>")
    @jsonp
    def held(gate: str) -> dict[str, Any]:
        return {"gate": gate, "opened": gates.wait(gate)}

    @app.get("/api/slow")
    @jsonp
    def slow() -> dict[str, Any]:
        milliseconds = min(int(request.args["ms"]), SLOW_LIMIT_MS)
        time.sleep(milliseconds / 1000)
        return {"slept": milliseconds}

    @app.get("/api/missing")
    @jsonp
    def missing() -> Response:
        abort(404)

    @app.get("/api/fails")
    @jsonp
    def fails() -> Response:
        abort(500)

    @app.get("/api/envelope/<int:status>")
    @jsonp(envelope=True)
    def envelope(status: int) -> Any:
        if status >= 400:
            abort(status)
        return {"status": status, "items": [1, 2, 3]}


def _add_cors_api(app: Flask, gates: Gates) -> None:
    """Views that answer a CORS ``fetch`` (no callback) as well as JSONP."""
    allowed = cross_origin(origins=[LOCALHOST_PAGES])

    @app.get("/api/cors/echo")
    @allowed
    @jsonp
    def cors_echo() -> dict[str, Any]:
        return {
            "args": request.args.to_dict(flat=False),
            "referrer": request.referrer,
            "origin": request.headers.get("Origin"),
            "mode": request.headers.get("Sec-Fetch-Mode"),
        }

    @app.get("/api/cors/elsewhere")
    @cross_origin(origins=["https://elsewhere.example"])
    @jsonp
    def cors_elsewhere() -> dict[str, Any]:
        return {"args": request.args.to_dict(flat=False)}

    @app.get("/api/cors/held/<gate>")
    @allowed
    @jsonp
    def cors_held(gate: str) -> dict[str, Any]:
        return {"gate": gate, "opened": gates.wait(gate)}

    @app.get("/api/cors/missing")
    @allowed
    @jsonp
    def cors_missing() -> tuple[Response, int]:
        # Returned, not raised, so that the 404 carries the CORS headers.
        return jsonify(error="not found"), 404

    @app.get("/api/cors/envelope/<int:status>")
    @allowed
    @jsonp(envelope=True)
    def cors_envelope(status: int) -> tuple[dict[str, Any], int]:
        return {"status": status}, status

    @app.get("/api/cors/not-json")
    @allowed
    def cors_not_json() -> Response:
        # Plain text to a fetch; a script to a JSONP request.
        callback = request.args.get("callback")
        if callback is None:
            return Response("not JSON", mimetype="text/plain")
        return _script(f"{callback}({json.dumps({'args': {'callback': [callback]}})});")

    @app.get("/api/cors/announced")
    @cross_origin(origins=[LOCALHOST_PAGES], expose_headers=DEPRECATION_HEADERS)
    @jsonp
    def cors_announced() -> Response:
        # An API that retires the whole endpoint announces it on every answer.
        response = jsonify(via="callback" if "callback" in request.args else "cors")
        response.headers.update(ANNOUNCED_HEADERS)
        return response

    @app.get("/api/cors/announced-unexposed")
    @allowed
    @jsonp
    def cors_announced_unexposed() -> Response:
        # The same, without Access-Control-Expose-Headers: the page can't see them.
        response = jsonify(via="callback" if "callback" in request.args else "cors")
        response.headers.update(ANNOUNCED_HEADERS)
        return response


def _add_raw_views(app: Flask, gates: Gates) -> None:
    @app.get("/raw/unguarded/<gate>")
    def unguarded(gate: str) -> Response:
        # What a server without the typeof guard sends: a bare call.
        callback = request.args["callback"]
        gates.wait(gate)
        return _script(f"{callback}({json.dumps({'gate': gate})});")

    @app.get("/raw/no-call")
    def no_call() -> Response:
        return _script("/* a script that never calls back */ void 0;")

    @app.get("/raw/twice")
    def twice() -> Response:
        # Guarded like flask-jsonp's answers: the loader drops the global at
        # the first call (a guard-less second call would throw).
        callback = request.args["callback"]
        call = f"typeof {callback} === 'function' && {callback}"
        return _script(f"{call}({{'call': 1}}); {call}({{'call': 2}});")

    @app.get("/raw/error-body/<int:status>")
    def error_body(status: int) -> Response:
        # A script body with an error status: browsers must not run it.
        callback = request.args["callback"]
        response = _script(f"{callback}({{'ran': true}});")
        response.status_code = status
        return response

    @app.get("/raw/error-body-held/<gate>")
    def error_body_held(gate: str) -> Response:
        # The same, once the gate opens: for scripts removed while loading.
        gates.wait(gate)
        return error_body(404)

    @app.get("/raw/calls-other")
    def calls_other() -> Response:
        return _script("typeof otherCallback === 'function' && otherCallback(1);")


def create_retiring_api_app() -> Flask:
    """Build an app whose endpoints flask-jsonp announces as deprecated, with the
    pages of :func:`create_api_app`.

    - ``/api/retiring/<name>``: envelope, deprecation and sunset; CORS allowed for
      the localhost pages (with the three headers exposed);
    - ``/api/retiring-jsonp/<name>``: the same without CORS;
    - ``/api/gone``: its sunset has passed.
    """
    app = Flask(__name__)
    JSONP(app)
    _add_pages(app)
    retiring = jsonp(
        envelope=True,
        deprecation=DEPRECATION,
        sunset=SUNSET,
        deprecation_link=DEPRECATION_LINK,
    )

    @app.get("/api/retiring/<name>")
    @cross_origin(origins=[LOCALHOST_PAGES], expose_headers=DEPRECATION_HEADERS)
    @retiring
    def retiring_with_cors(name: str) -> dict[str, Any]:
        via = "callback" if "callback" in request.args else "cors"
        return {"name": name, "via": via}

    @app.get("/api/retiring-jsonp/<name>")
    @retiring
    def retiring_jsonp_only(name: str) -> dict[str, Any]:
        return {"name": name}

    @app.get("/api/gone")
    @jsonp(envelope=True, deprecation=PAST_DEPRECATION, sunset=PAST_SUNSET)
    def gone() -> dict[str, Any]:
        return {"name": "gone"}

    return app
