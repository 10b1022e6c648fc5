"""The app of the "Auditing JSONP endpoints" guide: what ``flask jsonp routes``
lists, and what it warns about.
"""

from datetime import datetime
from datetime import timezone

from flask import Blueprint
from flask import Flask
from flask.views import MethodView

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from flask_jsonp import jsonpify

app = Flask(__name__)
JSONP(app)

# Blueprint mode: every view of the blueprint answers JSONP.
api = JSONP.enable_blueprint(
    Blueprint("api", __name__, url_prefix="/api"),
    allowed_referrers=["https://shop.example", "https://*.partner.example"],
)


@api.get("/items")
def items():
    return {"items": []}


@api.get("/old-items")
@jsonp(
    deprecation=datetime(2030, 1, 1, tzinfo=timezone.utc),
    sunset=datetime(2030, 7, 1, tzinfo=timezone.utc),
)
def old_items():
    return {"items": []}


app.register_blueprint(api)


class Cart(MethodView):
    # JSONP on reading the cart only.
    @jsonp(allowed_callbacks=["onCart", "jQuery*"])
    def get(self):
        return {"cart": []}

    def post(self):
        return {"added": True}


app.add_url_rule("/cart", view_func=Cart.as_view("cart"))


def timed(view):
    # No functools.wraps: the JSONP view below is out of sight.
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs)

    return wrapper


@app.get("/status")
@timed
@jsonp
def status():
    return {"status": "ok"}


@app.get("/user")
def user():
    # Answers JSONP with the app's own options.
    return jsonpify(user="admin")
