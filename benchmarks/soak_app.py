"""The example app ``make soak`` serves with gunicorn (``benchmarks.soak_app:app``).

It uses every door and option of flask-jsonp: the decorator, ``jsonpify``,
blueprint mode, ``allowed_callbacks``, ``allowed_referrers`` and its report-only
twin, the envelope, ``deprecation``, ``sunset`` and ``deprecation_link``,
flask-cors with ``cors_origins``, and a ``before_request`` function that answers
instead of the view (a rate limit), which the extension wraps.
``flask_jsonp.prometheus`` counts every JSONP request from the signals, and
``/metrics`` shows its counters.
Answers echo the request's ``X-Soak-Kind`` header: wrk does not say which request
a response answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort
from flask import Blueprint
from flask import Flask
from flask import request
from flask import Response
from flask_cors import CORS
from prometheus_client import CollectorRegistry
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import generate_latest

from flask_jsonp import cors_origins
from flask_jsonp import JSONP
from flask_jsonp import jsonp
from flask_jsonp import jsonpify
from flask_jsonp.prometheus import JsonpMetrics

#: Origins whose pages may read ``/api/private``.
ALLOWED_REFERRERS = ["https://app.example", "https://*.example.com"]

#: A payload of realistic size and content (about 4 KB of JSON).
ITEMS = [
    {
        "id": number,
        "name": f"Item {number}",
        "html": f"<b>{number}</b> & <i>more</i>",
        "tags": ["a", "b", "\u2028"],
        "price": number * 1.25,
    }
    for number in range(40)
]


def create_app() -> Flask:
    """Build the soak app."""
    app = Flask(__name__)
    JSONP(app)
    CORS(app, resources=r"/api/private", origins=cors_origins(ALLOWED_REFERRERS))
    registry = CollectorRegistry()
    JsonpMetrics(app, ALLOWED_REFERRERS, registry=registry)

    @app.before_request
    def rate_limit() -> Any:
        # Answers before the view, as Flask-Limiter does: JSONP requests are
        # checked before it runs, and its answer is finished as JSONP answers
        # are (nosniff, the envelope).
        if request.headers.get("X-Soak-Limit"):
            return {"error": "too_many_requests"}, 429
        return None

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    @app.route("/api/items", methods=["GET", "POST"])
    @jsonp
    def items() -> Any:
        return {"items": ITEMS}

    @app.get("/api/user")
    def user() -> Response:
        return jsonpify(user="admin", roles=["a", "b"])

    @app.get("/api/fixed")
    @jsonp(allowed_callbacks=["onData"])
    def fixed() -> Any:
        return {"fixed": True}

    @app.get("/api/private")
    @jsonp(allowed_referrers=ALLOWED_REFERRERS)
    def private() -> Any:
        return {"balance": 42}

    @app.get("/api/tightening")
    @jsonp(allowed_referrers_report_only=ALLOWED_REFERRERS)
    def tightening() -> Any:
        return {"items": ITEMS[:5]}

    @app.get("/api/retiring")
    @jsonp(
        envelope=True,
        deprecation=datetime(2026, 11, 1),
        sunset=datetime(2099, 1, 1),
        deprecation_link="https://api.example/retiring-jsonp",
    )
    def retiring() -> Any:
        return {"items": ITEMS[:5]}

    @app.get("/api/retired")
    @jsonp(sunset=datetime(2026, 1, 1))
    def retired() -> Any:
        return {"items": ITEMS[:5]}

    @app.get("/api/enveloped/<int:status>")
    @jsonp(envelope=True)
    def enveloped(status: int) -> Any:
        abort(status)

    public = JSONP.enable_blueprint(
        Blueprint("public", __name__, url_prefix="/public"), envelope=True
    )

    @public.get("/stats")
    def stats() -> Any:
        return {"visits": 1234, "top": ITEMS[:5]}

    @public.get("/gone")
    def gone() -> Any:
        abort(410)

    app.register_blueprint(public)

    @app.after_request
    def echo_kind(response: Response) -> Response:
        response.headers["X-Soak-Kind"] = request.headers.get("X-Soak-Kind", "")
        return response

    return app


app = create_app()
