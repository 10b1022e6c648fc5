"""The demo's API: public JSON views that also answer JSONP.

It is written the way a user of flask-jsonp would write it: ``JSONP(app)`` and
the :func:`~flask_jsonp.jsonp` decorator on each view. Its JSONP views send no
``Access-Control-Allow-Origin`` header, so a page of another origin cannot read
them with ``fetch``. Only the demo's own device, the log of the answers it sent
(:mod:`demo_site.answers`), is open to the demo page by CORS.
"""

from __future__ import annotations

import math
import time
from typing import Any

from flask import abort
from flask import Flask
from flask import request
from flask import url_for
from flask_cors import CORS

from flask_jsonp import JSONP
from flask_jsonp import jsonp

from .answers import AnswerLog

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


def create_api_app(page_origin: str) -> Flask:
    """Create the API application.

    :param page_origin: the demo page's origin, e.g. ``http://localhost:5000``:
        the one page that may read :data:`ANSWERS_PATH` with CORS.

    ``GET /api/user``
        The current user's profile, as JSON or, with ``?callback=``, as JSONP.
    ``GET /api/users/<username>``
        A user's profile, enveloped: an unknown user answers 200 with
        ``{"meta": {"status": 404}, "data": ...}`` so the page can see the error.
    ``GET /api/slow?delay=<seconds>``
        Sleeps (at most :data:`MAX_DELAY_SECONDS`), then answers.
    ``GET /_demo/answers?target=<path and query>``
        The newest answer this app sent to a GET of that target, as JSON: its
        status, headers and body; ``{"answer": null}`` until there is one.
    """
    app = Flask(__name__, static_folder=None)
    JSONP(app)
    CORS(app, resources=[ANSWERS_PATH], origins=[page_origin])
    answer_log = AnswerLog(app, skip_endpoints=frozenset({"answers"}))

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

    @app.get(ANSWERS_PATH)
    def answers() -> dict[str, Any]:
        return {"answer": answer_log.find(request.args.get("target", ""))}

    return app
