"""The app that tests/test_deploy_nginx.py serves with gunicorn behind the deploy
guide's nginx configuration: the guide's catalog view, and a view for each kind
of JSONP answer the guide says nginx must or must not store.

The views of answers nginx must not store ask for ``Cache-Control: public``
all the same, so that what nginx stores is decided by what flask-jsonp makes of
that, not by the view. The data never changes between
requests: an answer fetched again is the same answer, which is what lets nginx
revalidate an expired entry instead of fetching it again.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timezone
from typing import Any

from flask import Flask
from flask import request
from flask import Response
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_jsonp import jsonp

#: What the guide's catalog view answers; nginx may keep it for 5 minutes.
PUBLIC = {"Cache-Control": "public, max-age=300"}
#: The lifetime of the ticker's answers, which the expiry test waits out:
#: nginx counts lifetimes in whole seconds.
SHORT_MAX_AGE = 1
#: The only page origin the account view answers.
APP_ORIGIN = "https://app.example"
#: The only callback the widgets view answers.
WIDGETS_CALLBACK = "onWidgets"
#: A sunset in the past: the legacy view refuses JSONP with 410 Gone.
RETIRED = datetime(2020, 1, 1, tzinfo=timezone.utc)


def load_catalog(page: int) -> dict[str, Any]:
    """A page of the catalog, the same on every call."""
    return {"page": page, "items": [f"item {page}.{n}" for n in range(1, 4)]}


def create_app() -> Flask:
    """The app, behind one proxy as the guide sets it up."""
    app = Flask(__name__)
    # As the guide says: trust exactly the one proxy in front (nginx).
    app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
        app.wsgi_app, x_for=1, x_proto=1
    )

    # The guide's view, as the guide writes it.
    @app.get("/api/catalog")
    @jsonp
    def catalog() -> tuple[dict[str, Any], int, dict[str, str]]:
        page = request.args.get("page", 1, type=int)
        return load_catalog(page), 200, {"Cache-Control": "public, max-age=300"}

    @app.get("/api/ticker")
    @jsonp
    def ticker() -> tuple[dict[str, Any], int, dict[str, str]]:
        cache_control = f"public, max-age={SHORT_MAX_AGE}"
        return {"symbol": "JSONP", "price": 42}, 200, {"Cache-Control": cache_control}

    @app.get("/api/widgets")
    @jsonp(allowed_callbacks=[WIDGETS_CALLBACK])
    def widgets() -> tuple[dict[str, Any], int, dict[str, str]]:
        return {"widgets": ["gear", "sprocket"]}, 200, PUBLIC

    @app.get("/api/account")
    @jsonp(allowed_referrers=[APP_ORIGIN])
    def account() -> tuple[dict[str, Any], int, dict[str, str]]:
        return {"plan": "team", "seats": 12}, 200, PUBLIC

    @app.route("/api/orders", methods=["GET", "POST"])
    @jsonp
    def orders() -> tuple[dict[str, Any], int, dict[str, str]]:
        return {"orders": []}, 200, PUBLIC

    @app.get("/api/legacy")
    @jsonp(sunset=RETIRED)
    def legacy() -> tuple[dict[str, Any], int, dict[str, str]]:
        return {"legacy": True}, 200, PUBLIC

    @app.get("/api/request")
    @jsonp
    def request_seen() -> dict[str, Any]:
        """What the app learns of the request through nginx and ProxyFix."""
        return {"scheme": request.scheme, "remote_addr": request.remote_addr}

    # The mistake the guide warns of: a lifetime given to every answer of a
    # view, its refusals included.
    @app.get("/api/hooked")
    @jsonp
    def hooked() -> dict[str, Any]:
        return {"hooked": True}

    @app.after_request
    def cache_everything_hooked(response: Response) -> Response:
        if request.path == "/api/hooked":
            response.headers["Cache-Control"] = "public, max-age=300"
        return response

    return app
