"""The application and payloads every benchmark measures.

:func:`create_app` serves each payload as ``/bare/<size>``, an undecorated
:func:`~flask.jsonify` view (plain JSON); as ``/jsonp/<size>``, a ``@jsonp``
view returning the data (asked with and without a callback); as
``/jsonp-response/<size>``, ``@jsonp`` over the ``jsonify`` view; and as
``/jsonpify/<size>``, flask-jsonpify's ``jsonpify()``.

The app is made in three set-ups, so that what the extension costs cannot hide
in a baseline: without :class:`~flask_jsonp.JSONP` (the plain JSON and
flask-jsonpify baselines), with it (flask-jsonp as the README sets it up), and
with it and a receiver connected to the usage signals.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask import jsonify
from flask import Response
from flask import send_file
from flask_jsonpify import jsonpify

# Only what every revision compared by ``--against`` has: the signals are
# imported where they are used.
from flask_jsonp import JSONP
from flask_jsonp import jsonp

#: The JSON providers compared: Flask's own and flask-orjson's.
PROVIDERS = ("standard", "orjson")
SIZES = ("small", "big")
SIZE = f"<any({', '.join(SIZES)}):size>"  # the URL part; other sizes are a 404

#: Records in the big payload: about 120 KB of JSON, a page of a listing API.
BIG_RECORDS = 460

#: The callback sent: the shape of the names the bundled loader generates.
CALLBACK = "__jsonp_k3x9q2_17"

#: npm packages (Express, fetch-jsonp) and payloads for Node.js; gitignored.
NPM_DIR = Path(__file__).resolve().parent.parent / ".cache" / "bench-npm"

_FIRST = ("Ada", "Grace", "Linus", "Zoë", "Jürgen", "Maya", "Omar", "Yuki")
_LAST = ("Lovelace", "Hopper", "Müller", "Okafor", "Tanaka", "Rossi", "Diaz")
_COMPANIES = ("Smith & Sons", "Acme", "Initech", "Globex", "Soylent", "Umbrella")
_TAGS = ("new", "vip", "newsletter", "b2b", "trial", "churn-risk", "beta")
_CITIES = ("Paris", "Lagos", "Osaka", "Lima", "Köln")


def payloads() -> dict[str, dict[str, Any]]:
    """The small (about 100 B) and big (about 120 KB) payloads, by size name: the
    big one is customer records with non-ASCII names and a few ``&``, seeded.
    """
    rng = random.Random(2024)
    items = []
    for index in range(BIG_RECORDS):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        month, day, hour, minute = (rng.randint(1, top) for top in (12, 28, 23, 59))
        address = {"street": f"{rng.randint(1, 999)} Main Street"}
        address |= {"city": rng.choice(_CITIES), "zip": f"{rng.randint(10000, 99999)}"}
        items.append(
            {
                "id": 10_000 + index,
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}{index}@example.com",
                "company": rng.choice(_COMPANIES),
                "created": f"2024-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00Z",
                "balance": round(rng.uniform(-500, 5000), 2),
                "orders": rng.randint(0, 300),
                "active": rng.random() > 0.2,
                "tags": rng.sample(_TAGS, rng.randint(0, 3)),
                "address": address,
            }
        )
    small = {"id": 42, "user": "admin", "email": "admin@example.com"}
    small |= {"roles": ["reader", "editor"], "active": True}
    big = {"items": items, "count": len(items), "next": "/api/customers?page=2"}
    return {"small": small, "big": big}


#: The browser benchmark's page, asked on ``localhost``; it calls the API on
#: ``127.0.0.1``, the same server as another origin. Playwright calls ``run()``.
BENCH_PAGE = """<!doctype html>
<meta charset="utf-8">
<script src="/_jsonp/jsonp.js"></script>
<script src="/bench/fetch-jsonp.js"></script>
<script>
window.run = async (library, count, path) => {
  const url = 'http://127.0.0.1:' + location.port + path, timeout = 60000;
  const load = library === 'loader' ? () => jsonp(url, { timeout })
    : () => fetchJsonp(url, { timeout }).then((answer) => answer.json());
  const start = performance.now();
  const results = await Promise.all(Array.from({ length: count }, load));
  const elapsed = performance.now() - start;
  if (!results.every((data) => data && data.user === 'admin')) throw new Error(library);
  return elapsed;
};
</script>
"""


#: The set-ups :func:`create_app` makes.
SETUPS = ("plain", "extension", "signalled")


def create_app(
    provider: str = "standard",
    setup: str = "extension",
    *,
    hook: bool = False,
    config: Mapping[str, Any] | None = None,
) -> Flask:
    """Build the benchmark app with Flask's JSON provider or flask-orjson's.

    :param provider: ``"standard"`` or ``"orjson"``.
    :param setup: ``"plain"``: without the extension; ``"extension"``:
        ``JSONP(app)``; ``"signalled"``: that, and a receiver connected to
        :data:`~flask_jsonp.jsonp_answered` and
        :data:`~flask_jsonp.jsonp_refused` that counts what they send.
    :param hook: add one trivial app-wide ``before_request`` function, as most
        apps have one (Flask-Limiter, CSRFProtect, flask-talisman).
    :param config: app config set before the extension is, e.g. ``JSONP_*``
        keys.
    """
    app = Flask(__name__)
    app.config.update(config or {})
    if provider == "orjson":
        from flask_orjson import OrjsonProvider

        app.json = OrjsonProvider(app)
    elif provider != "standard":
        raise ValueError(f"provider must be one of {PROVIDERS}")
    if setup not in SETUPS:
        raise ValueError(f"setup must be one of {SETUPS}")
    if setup != "plain":
        JSONP(app)
    if hook:
        # Added after JSONP(app), as an extension set up later would be.
        app.before_request(_trivial_hook)
    if setup == "signalled":
        from flask_jsonp import jsonp_answered
        from flask_jsonp import jsonp_refused

        sent: list[int] = [0]

        def count(sender: Flask, **extra: Any) -> None:
            sent[0] += 1

        # Strong references, kept with the app: blinker holds receivers weakly.
        app.extensions["bench_receiver"] = count
        jsonp_answered.connect(count, app)
        jsonp_refused.connect(count, app)
    data = payloads()

    def bare(size: str) -> Response:
        return jsonify(data[size])

    def jsonpify_view(size: str) -> Any:
        # flask-jsonpify 1.5 (2016) still works on Flask 3: it only touches the
        # removed request.is_xhr when JSONIFY_PRETTYPRINT_REGULAR is set.
        return jsonpify(data[size])

    app.add_url_rule(f"/bare/{SIZE}", "bare", bare)
    # A JSONP view as the README writes it, returning the data; and over jsonify().
    app.add_url_rule(f"/jsonp/{SIZE}", "jsonp", jsonp(lambda size: data[size]))
    app.add_url_rule(f"/jsonp-response/{SIZE}", "jsonp_response", jsonp(bare))
    app.add_url_rule(f"/jsonpify/{SIZE}", "jsonpify", jsonpify_view)

    @app.get("/bench/page")
    def bench_page() -> str:
        return BENCH_PAGE

    @app.get("/bench/fetch-jsonp.js")
    def fetch_jsonp_script() -> Response:
        script = NPM_DIR / "node_modules/fetch-jsonp/build/fetch-jsonp.js"
        return send_file(script, mimetype="text/javascript")

    return app


def _trivial_hook() -> None:
    """A ``before_request`` function that does nothing: what any hook costs
    Flask to call, and what it makes the extension do.
    """
