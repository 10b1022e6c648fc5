"""The demo's page: one HTML page, on another origin than the API, under a
strict Content-Security-Policy.

Every response carries a policy with a fresh nonce, which the page's own scripts
(the loader from ``{{ jsonp_loader() }}`` and ``static/demo.js``) carry too.
``demo.js`` sets ``jsonp.defaults.nonce``, so the loader gives the nonce to each
JSONP ``<script>`` it adds, and JSONP works without ``'unsafe-inline'`` or an
allowlist of script hosts.
"""

from __future__ import annotations

import re
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
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

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

#: The documentation's Markdown sources, in a checkout or an sdist.
DOCS_SOURCE = Path(__file__).resolve().parents[1] / "docs"

#: Where ``make docs`` builds the documentation.
DOCS_BUILD = DOCS_SOURCE / "_build" / "html"

#: A Markdown heading: ``## What arrived``.
_HEADING = re.compile(r"#{1,6}[ \t]+(?P<title>.+?)(?:[ \t]+#+)?[ \t]*")

#: The policy of the documentation's pages, which Sphinx writes with inline
#: styles and scripts of their own, not with this page's nonce. Inline scripts
#: stay blocked: the search box is then hidden, the search page still works.
DOCS_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
    " object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def heading_anchor(title: str) -> str:
    """Return the ``id`` the documentation gives a heading: MyST's
    ``myst_heading_anchors``, GitHub's rule (lower case, punctuation dropped,
    spaces as hyphens), so that ``page.html#what-arrived`` and
    ``page.md#what-arrived`` reach the same section.
    """
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def source_lines(text: str) -> list[tuple[str | None, str]]:
    """Split a Markdown source into lines, each with the anchor of the heading
    it is (``None`` for other lines and inside fenced code blocks).
    """
    lines: list[tuple[str | None, str]] = []
    fence: str | None = None
    for line in text.splitlines():
        stripped = line.lstrip()
        if fence is None and stripped[:3] in ("```", "~~~", ":::"):
            fence = stripped[:3]
        elif fence is not None and stripped.startswith(fence):
            fence = None
        heading = _HEADING.fullmatch(line) if fence is None else None
        lines.append((heading_anchor(heading["title"]) if heading else None, line))
    return lines


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
    docs_source: Path = DOCS_SOURCE,
) -> Flask:
    """Create the page application.

    :param api_origin: where the API app runs, e.g. ``http://127.0.0.1:5001``.
    :param timeout_ms: the loader's timeout in the timeout step.
    :param slow_delay: the delay, in seconds, the page asks of the slow
        endpoint in the timeout and abort steps.
    :param docs_dir: the built documentation, served under ``/docs/``; where it
        is missing, ``/docs/`` says how to build it.
    :param docs_source: the documentation's Markdown sources, which the page
        links to, under ``/docs/source/``, for each page not built into
        ``docs_dir``: a fresh checkout's links work before ``make docs``.
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
        """The URL of a page of the documentation: its HTML where it is built,
        else its Markdown source, else the index (which says how to build it).
        """
        if (docs_dir / f"{page}.html").is_file():
            return url_for("docs_file", filename=f"{page}.html")
        if (docs_source / f"{page}.md").is_file():
            return url_for("docs_source_file", page=page)
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

    @app.get("/docs/source/<page>.md")
    def docs_source_file(page: str) -> str:
        # Shown as text with the headings' anchors, not rendered: rendering
        # MyST is Sphinx's job, and the demo does not install it.
        path = safe_join(str(docs_source), f"{page}.md")
        if path is None or not Path(path).is_file():
            raise NotFound()
        text = Path(path).read_text(encoding="utf-8")
        return render_template(
            "docs_source.html",
            page=page,
            lines=source_lines(text),
            docs_dir=docs_dir,
        )

    return app
