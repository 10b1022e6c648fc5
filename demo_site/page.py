"""The demo's page: one HTML page, on another origin than the API, under a
strict Content-Security-Policy.

Every response carries a policy with a fresh nonce, which the page's own scripts
(the loader from ``{{ jsonp_loader() }}`` and ``static/demo.js``) carry too.
``demo.js`` sets ``jsonp.defaults.nonce``, so the loader gives the nonce to each
JSONP ``<script>`` it adds, and JSONP works without ``'unsafe-inline'`` or an
allowlist of script hosts.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from flask import g
from flask import render_template
from flask import request
from flask import Response
from flask import send_from_directory
from flask import url_for

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

#: Where ``make docs`` builds the documentation, in a checkout or an sdist.
DOCS_BUILD = Path(__file__).resolve().parents[1] / "docs" / "_build" / "html"

#: The policy of the documentation's pages, which Sphinx writes with inline
#: styles and scripts of their own, not with this page's nonce. Inline scripts
#: stay blocked: the search box is then hidden, the search page still works.
DOCS_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
    " object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


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
    blocked by the same-origin policy (no CORS headers), not by this policy,
    and so that the page can ``fetch`` what the API opens to it by CORS.
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


def create_page_app(
    api_origin: str,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    slow_delay: float = DEFAULT_SLOW_DELAY,
    docs_dir: Path = DOCS_BUILD,
) -> Flask:
    """Create the page application.

    :param api_origin: where the API app runs, e.g. ``http://127.0.0.1:5001``.
    :param timeout_ms: the loader's timeout in the timeout step.
    :param slow_delay: the delay, in seconds, the page asks of the slow
        endpoint in the timeout and abort steps.
    :param docs_dir: the built documentation, served under ``/docs/``; where it
        is missing, ``/docs/`` says how to build it.
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
        if request.endpoint == "docs_file":
            policy = DOCS_POLICY
        else:
            nonce = g.get("csp_nonce") or secrets.token_urlsafe(NONCE_BYTES)
            policy = content_security_policy(nonce, app.config["DEMO_API_ORIGIN"])
        response.headers["Content-Security-Policy"] = policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        return response

    def docs_url(page: str) -> str:
        """The URL of a page of the documentation, or of its index (which says
        how to build it) when that page is not there.
        """
        if (docs_dir / f"{page}.html").is_file():
            return url_for("docs_file", filename=f"{page}.html")
        return url_for("docs_file")

    @app.get("/")
    def index() -> str:
        api = app.config["DEMO_API_ORIGIN"]
        return render_template(
            "index.html",
            docs_url=docs_url,
            page_origin=request.host_url.rstrip("/"),
            api_origin=api,
            timeout_ms=app.config["DEMO_TIMEOUT_MS"],
            slow_delay=app.config["DEMO_SLOW_DELAY"],
            hostile_callback=HOSTILE_CALLBACK,
            content_security_policy=content_security_policy(g.csp_nonce, api),
        )

    @app.get("/docs/", defaults={"filename": ""})
    @app.get("/docs/<path:filename>")
    def docs_file(filename: str) -> Response | tuple[str, int]:
        if not (docs_dir / "index.html").is_file():
            return render_template("docs_missing.html", docs_dir=docs_dir), 404
        if filename == "" or filename.endswith("/"):
            filename += "index.html"
        return send_from_directory(docs_dir, filename)

    return app
