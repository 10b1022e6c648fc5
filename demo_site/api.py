"""The demo's API: public JSON views that also answer JSONP, and no CORS.

It is written the way a user of flask-jsonp would write it: ``JSONP(app)`` and
the :func:`~flask_jsonp.jsonp` decorator on each view. It sends no
``Access-Control-Allow-Origin`` header on purpose, so a page of another origin
cannot read it with ``fetch``.
"""

from __future__ import annotations

import math
import time
from typing import Any

from flask import abort
from flask import Flask
from flask import request
from flask import url_for

from flask_jsonp import JSONP
from flask_jsonp import jsonp

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


def create_api_app() -> Flask:
    """Create the API application.

    ``GET /api/user``
        The current user's profile, as JSON or, with ``?callback=``, as JSONP.
    ``GET /api/users/<username>``
        A user's profile, enveloped: an unknown user answers 200 with
        ``{"meta": {"status": 404}, "data": ...}`` so the page can see the error.
    ``GET /api/slow?delay=<seconds>``
        Sleeps (at most :data:`MAX_DELAY_SECONDS`), then answers.
    """
    app = Flask(__name__, static_folder=None)
    JSONP(app)

    @app.get("/")
    def index() -> dict[str, Any]:
        return {
            "about": "The flask-jsonp demo API. Add ?callback=name for JSONP.",
            "endpoints": [
                url_for("user"),
                url_for("user_by_name", username=CURRENT_USER),
                url_for("slow", delay=1),
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

    return app
