"""The demo's API: public JSON views that also answer JSONP.

It is written the way a user of flask-jsonp would write it: ``JSONP(app)`` and
the :func:`~flask_jsonp.jsonp` decorator on each view. ``/api/user`` and the
other views of the first steps send no ``Access-Control-Allow-Origin`` header,
so a page of another origin cannot read them with ``fetch``. ``/api/profile`` is
an endpoint on its way out of JSONP: one allowlist, the demo page, drives both
its JSONP (by ``Referer``) and its CORS (by ``Origin``), and its JSONP answers
announce their deprecation and sunset. ``/api/usage`` counts who still uses
which (:mod:`demo_site.usage`). The demo's own device, the log of the answers
the API sent (:mod:`demo_site.answers`), is open to the demo page by CORS too.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any

from flask import abort
from flask import Flask
from flask import request
from flask import url_for
from flask_cors import CORS

from flask_jsonp import cors_origins
from flask_jsonp import JSONP
from flask_jsonp import jsonp

from .answers import AnswerLog
from .usage import Usage

#: Longest delay ``/api/slow`` accepts, in seconds: long enough to show a timeout
#: and an abort, short enough that a forgotten request does not hold a server
#: thread for long.
MAX_DELAY_SECONDS = 5.0

#: Delay of ``/api/slow`` when the request names none, in seconds.
DEFAULT_DELAY_SECONDS = 3.0

#: The public profiles the API serves.
USERS: dict[str, dict[str, Any]] = {
    "ada": {"username": "ada", "name": "Ada Lovelace", "born": 1815},
    "grace": {"username": "grace", "name": "Grace Hopper", "born": 1906},
}

#: The user ``/api/user`` answers with.
CURRENT_USER = "ada"

#: Where the demo page reads the answers the API sent (:mod:`demo_site.answers`).
ANSWERS_PATH = "/_demo/answers"

#: When ``/api/profile``'s JSONP was deprecated and when it ends, in days from
#: the demo's start: relative, so that the demo never reaches its own sunset.
DEPRECATED_DAYS_AGO = 30
SUNSET_IN_DAYS = 180

#: The headers a page's script may read from a CORS answer besides the simple
#: ones: the loader reads the announcement of the end of JSONP from them.
EXPOSED_HEADERS = ["Deprecation", "Sunset", "Link"]


def slow_delay(value: str | None) -> float:
    """Return the delay ``/api/slow`` should sleep for the ``delay`` parameter:
    a number of seconds, clamped to ``[0, MAX_DELAY_SECONDS]``; the default when
    missing or not a finite number.
    """
    try:
        delay = float(value) if value is not None else DEFAULT_DELAY_SECONDS
    except ValueError:
        delay = DEFAULT_DELAY_SECONDS
    if not math.isfinite(delay):
        delay = DEFAULT_DELAY_SECONDS
    return min(max(delay, 0.0), MAX_DELAY_SECONDS)


def retirement_dates(now: datetime) -> tuple[datetime, datetime]:
    """Return the deprecation and the sunset of ``/api/profile``'s JSONP: the
    midnights (UTC) :data:`DEPRECATED_DAYS_AGO` before ``now`` and
    :data:`SUNSET_IN_DAYS` after it.
    """
    midnight = now.astimezone(timezone.utc).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return (
        midnight - timedelta(days=DEPRECATED_DAYS_AGO),
        midnight + timedelta(days=SUNSET_IN_DAYS),
    )


def create_api_app(page_origin: str, *, now: datetime | None = None) -> Flask:
    """Create the API application.

    :param page_origin: the demo page's origin, e.g. ``http://localhost:5000``:
        the allowlist of ``/api/profile``, for JSONP and CORS alike.
    :param now: the time the deprecation and sunset are counted from
        (:func:`retirement_dates`); the current time by default.

    ``GET /api/user``
        The current user's profile, as JSON or, with ``?callback=``, as JSONP.
    ``GET /api/users/<username>``
        A user's profile, enveloped: an unknown user answers 200 with
        ``{"meta": {"status": 404}, "data": ...}`` so the page can see the error.
    ``GET /api/slow?delay=<seconds>``
        Sleeps (at most :data:`MAX_DELAY_SECONDS`), then answers.
    ``GET /api/profile``
        The current user's profile: as plain JSON with CORS headers to the demo
        page, as enveloped JSONP to the same page with ``Deprecation``,
        ``Sunset`` and ``Link`` headers and the same facts in the envelope's
        ``meta``; refused to other pages.
    ``GET /api/usage``
        The JSONP and CORS answers counted by page (:mod:`demo_site.usage`).
    ``GET /_demo/answers?target=<path and query>``
        The newest answer this app sent to a GET of that target, as JSON: its
        status, headers and body; ``{"answer": null}`` until there is one.
    """
    app = Flask(__name__, static_folder=None)
    JSONP(app)
    # One allowlist for both ways a page reads /api/profile.
    pages = [page_origin]
    deprecation, sunset = retirement_dates(now or datetime.now(timezone.utc))
    CORS(
        app,
        resources=["^/api/profile$", "^/api/usage$", f"^{ANSWERS_PATH}$"],
        origins=cors_origins(pages),
        expose_headers=EXPOSED_HEADERS,
    )
    # The page reads both after every step: they are neither logged nor counted.
    demo_endpoints = frozenset({"answers", "usage_report"})
    answer_log = AnswerLog(app, skip_endpoints=demo_endpoints)
    usage = Usage(app, pages, skip_endpoints=demo_endpoints)

    @app.get("/")
    def index() -> dict[str, Any]:
        return {
            "about": "The flask-jsonp demo API. Add ?callback=name for JSONP.",
            "endpoints": [
                url_for("user"),
                url_for("user_by_name", username=CURRENT_USER),
                url_for("slow", delay=1),
                url_for("profile"),
                url_for("usage_report"),
            ],
        }

    @app.get("/api/user")
    @jsonp
    def user() -> dict[str, Any]:
        return USERS[CURRENT_USER]

    @app.get("/api/users/<username>")
    @jsonp(envelope=True)
    def user_by_name(username: str) -> dict[str, Any]:
        if username not in USERS:
            abort(404, description=f"There is no user named {username!r}.")
        return USERS[username]

    @app.get("/api/slow")
    @jsonp
    def slow() -> dict[str, Any]:
        delay = slow_delay(request.args.get("delay"))
        time.sleep(delay)
        return {"slept_seconds": delay}

    @app.get("/api/profile")
    @jsonp(
        allowed_referrers=pages,
        envelope=True,
        deprecation=deprecation,
        sunset=sunset,
        deprecation_link=f"{page_origin}/#step-cors",
    )
    def profile() -> dict[str, Any]:
        return USERS[CURRENT_USER]

    @app.get("/api/usage")
    def usage_report() -> dict[str, Any]:
        return usage.report()

    @app.get(ANSWERS_PATH)
    def answers() -> dict[str, Any]:
        return {"answer": answer_log.find(request.args.get("target", ""))}

    return app
