"""The Flask app the browser tests load pages from and call the loader against.

Its API views are decorated with the real :func:`flask_jsonp.jsonp`; a few raw
views answer what other servers send (no ``typeof`` guard, no call at all), and
some wait for a :class:`Gates` entry, so a test decides when a response arrives.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
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


def create_api_app(gates: Gates, vendor_dir: Path | None = None) -> Flask:
    """Build the app; ``vendor_dir`` is served under ``/vendor/`` (npm packages)."""
    app = Flask(__name__)
    JSONP(app)

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
        response.headers["Content-Security-Policy"] = policy.format(
            nonce=g.csp_nonce, page_origin=request.host_url.rstrip("/")
        )
        return response

    @app.get("/vendor/<path:filename>")
    def vendor(filename: str) -> Response:
        if vendor_dir is None:
            abort(404)
        return send_from_directory(vendor_dir, filename)

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

    return app
