"""The demo's page: one HTML page, on another origin than the API, under a
strict Content-Security-Policy.

Every response carries a policy with a fresh nonce, which the page's own scripts
(the loader from ``{{ jsonp_loader() }}`` and ``static/demo.js``) carry too.
``demo.js`` sets ``jsonp.defaults.nonce``, so the loader gives the nonce to each
JSONP ``<script>`` it adds, and JSONP works without ``'unsafe-inline'`` or an
allowlist of script hosts.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.error import HTTPError
from urllib.error import URLError
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.request import urlopen

from flask import Flask
from flask import g
from flask import render_template
from flask import request
from flask import Response

from flask_jsonp import JSONP

#: Bytes of randomness in each CSP nonce; 128 bits, as the CSP spec recommends.
NONCE_BYTES = 16

#: How long the page's loader waits for the slow endpoint, in milliseconds.
DEFAULT_TIMEOUT_MS = 1000

#: How long the page asks the slow endpoint to take, in seconds: longer than
#: the timeout, and long enough to press "Abort".
DEFAULT_SLOW_DELAY = 3.0

#: The callback a hostile page would send: script, not a function name.
HOSTILE_CALLBACK = "alert(document.domain)//"

#: How long the page's server waits for the API, in seconds.
SERVER_SIDE_TIMEOUT = 5.0


def check_origin(origin: str) -> str:
    """Return ``origin`` (``http://host:port``) without a trailing slash.

    :raise ValueError: if it is not an http(s) origin without a path.
    """
    parts = urlsplit(origin)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ValueError(f"{origin!r} is not an origin such as 'http://127.0.0.1:5001'")
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(nonce: str, api_origin: str) -> str:
    """Return the page's policy for one response.

    Scripts run only with the nonce. ``connect-src`` allows the API origin so
    that the plain ``fetch`` of the first step reaches the API and is then
    blocked by the same-origin policy (no CORS headers), not by this policy.
    """
    directives = {
        "default-src": "'self'",
        "script-src": f"'nonce-{nonce}'",
        "connect-src": f"'self' {api_origin}",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def api_answer(url: str) -> tuple[dict[str, Any], int]:
    """GET ``url`` from the server and describe the answer as JSON: what the
    browser does not let the page read.
    """
    try:
        with urlopen(url, timeout=SERVER_SIDE_TIMEOUT) as response:
            status = response.status
            content_type = response.headers.get_content_type()
            body = response.read()
    except HTTPError as error:
        with error:
            status = error.code
            content_type = error.headers.get_content_type()
            body = error.read()
    except OSError as error:  # URLError, a refused connection, a timeout
        reason = error.reason if isinstance(error, URLError) else error
        return {"url": url, "error": f"the API did not answer: {reason}"}, 502
    text = body.decode("utf-8", "replace")
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text
    answer = {"url": url, "status": status, "content_type": content_type}
    return {**answer, "body": parsed}, 200


def create_page_app(
    api_origin: str,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    slow_delay: float = DEFAULT_SLOW_DELAY,
) -> Flask:
    """Create the page application.

    :param api_origin: where the API app runs, e.g. ``http://127.0.0.1:5001``.
    :param timeout_ms: the loader's timeout in the timeout step.
    :param slow_delay: the delay, in seconds, the page asks of the slow
        endpoint in the timeout and abort steps.
    """
    app = Flask(__name__)
    app.config.from_mapping(
        DEMO_API_ORIGIN=check_origin(api_origin),
        DEMO_TIMEOUT_MS=timeout_ms,
        DEMO_SLOW_DELAY=slow_delay,
    )
    JSONP(app)

    @app.before_request
    def make_nonce() -> None:
        g.csp_nonce = secrets.token_urlsafe(NONCE_BYTES)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        nonce = g.get("csp_nonce") or secrets.token_urlsafe(NONCE_BYTES)
        response.headers["Content-Security-Policy"] = content_security_policy(
            nonce, app.config["DEMO_API_ORIGIN"]
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        return response

    @app.get("/")
    def index() -> str:
        api = app.config["DEMO_API_ORIGIN"]
        return render_template(
            "index.html",
            page_origin=request.host_url.rstrip("/"),
            api_origin=api,
            timeout_ms=app.config["DEMO_TIMEOUT_MS"],
            slow_delay=app.config["DEMO_SLOW_DELAY"],
            hostile_callback=HOSTILE_CALLBACK,
            content_security_policy=content_security_policy(g.csp_nonce, api),
        )

    @app.get("/server-side/hostile-callback")
    def hostile_callback_answer() -> tuple[dict[str, Any], int]:
        query = urlencode({"callback": HOSTILE_CALLBACK})
        return api_answer(f"{app.config['DEMO_API_ORIGIN']}/api/user?{query}")

    return app
