"""The application and payloads every benchmark measures.

One factory, :func:`create_app`, serves the same payloads three ways: through a
view decorated with :func:`flask_jsonp.jsonp` (asked with and without a callback,
so JSONP and plain JSON come from the same view), through an undecorated view, and
through flask-jsonpify. Gunicorn loads it as
``benchmarks.bench_app:create_app('orjson')``.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from flask import abort
from flask import Flask
from flask import Response
from flask import send_file

from flask_jsonp import JSONP
from flask_jsonp import jsonp

#: The JSON providers compared: Flask's own and flask-orjson's.
PROVIDERS = ("standard", "orjson")

#: Payload sizes compared.
SIZES = ("small", "big")

#: Records in the big payload: about 120 KB of JSON, a page of a listing API.
BIG_RECORDS = 460

#: The callback the HTTP and in-process benchmarks send: the shape of the names
#: the bundled loader generates.
CALLBACK = "__jsonp_k3x9q2_17"

#: Where the benchmarks keep npm packages (Express, fetch-jsonp) and payload
#: files for Node.js; gitignored.
CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache"

#: Environment variable naming the npm folder the browser page's scripts come from.
NPM_DIR_VARIABLE = "BENCH_NPM_DIR"

_FIRST_NAMES = ("Ada", "Grace", "Linus", "Zoë", "Jürgen", "Maya", "Omar", "Yuki")
_LAST_NAMES = ("Lovelace", "Hopper", "Müller", "Okafor", "Tanaka", "Rossi", "Diaz")
_COMPANIES = ("Smith & Sons", "Acme", "Initech", "Globex", "Soylent", "Umbrella")
_TAGS = ("new", "vip", "newsletter", "b2b", "trial", "churn-risk", "beta")


def small_payload() -> dict[str, Any]:
    """About 100 bytes of JSON: a typical "who am I" answer."""
    return {
        "id": 42,
        "user": "admin",
        "email": "admin@example.com",
        "roles": ["reader", "editor"],
        "active": True,
    }


def big_payload() -> dict[str, Any]:
    """About 120 KB of JSON: a page of customer records, with non-ASCII names and
    a few ``&`` (which the JSONP body escapes), generated from a fixed seed.
    """
    rng = random.Random(2024)
    items = []
    for index in range(BIG_RECORDS):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        items.append(
            {
                "id": 10_000 + index,
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}{index}@example.com",
                "company": rng.choice(_COMPANIES),
                "created": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
                "balance": round(rng.uniform(-500, 5000), 2),
                "orders": rng.randint(0, 300),
                "active": rng.random() > 0.2,
                "tags": rng.sample(_TAGS, rng.randint(0, 3)),
                "address": {
                    "street": f"{rng.randint(1, 999)} Main Street",
                    "city": rng.choice(("Paris", "Lagos", "Osaka", "Lima", "Köln")),
                    "zip": f"{rng.randint(10000, 99999)}",
                },
            }
        )
    return {"items": items, "count": len(items), "next": "/api/customers?page=2"}


def payloads() -> dict[str, dict[str, Any]]:
    """Both payloads, by size name."""
    return {"small": small_payload(), "big": big_payload()}


def write_payload_files(folder: Path) -> dict[str, Path]:
    """Write the payloads as JSON files, for servers in other languages.

    :return: the file of each payload, by size name.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for size, payload in payloads().items():
        path = folder / f"{size}.json"
        path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        files[size] = path
    return files


#: The browser benchmark's page, asked on ``localhost``; it calls the API on
#: ``127.0.0.1``, the same server as another origin. Playwright calls ``run()``.
BENCH_PAGE = """<!doctype html>
<meta charset="utf-8">
<title>JSONP loader benchmark</title>
<script src="/_jsonp/jsonp.js"></script>
<script src="/bench/fetch-jsonp.js"></script>
<script>
window.run = async (library, count, path) => {
  const url = 'http://127.0.0.1:' + location.port + path;
  const load = library === 'loader'
    ? () => jsonp(url, { timeout: 60000 })
    : () => fetchJsonp(url, { timeout: 60000 }).then((answer) => answer.json());
  const start = performance.now();
  const results = await Promise.all(Array.from({ length: count }, load));
  const elapsed = performance.now() - start;
  if (!results.every((data) => data && data.user === 'admin')) {
    throw new Error(library + ': unexpected answer');
  }
  return elapsed;
};
</script>
"""


def create_app(provider: str = "standard") -> Flask:
    """Build the benchmark app with Flask's JSON provider or flask-orjson's.

    Routes, for ``<size>`` in :data:`SIZES`:

    - ``/jsonp/<size>``: a view decorated with ``@jsonp``, JSON without a
      callback, JSONP with one;
    - ``/bare/<size>``: the same view, undecorated;
    - ``/jsonp-one-write/<size>``: the JSONP answer with its body joined into one
      chunk (to measure what writing a big answer as three chunks costs);
    - ``/jsonpify/<size>``: flask-jsonpify's ``jsonpify()`` (standard provider);
    - ``/bench/page`` and ``/bench/fetch-jsonp.js``: the browser benchmark's page.

    :param provider: ``"standard"`` or ``"orjson"``.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {PROVIDERS}")
    app = Flask(__name__)
    if provider == "orjson":
        from flask_orjson import OrjsonProvider

        app.json = OrjsonProvider(app)
    JSONP(app)
    data = payloads()

    def bare_view(size: str) -> dict[str, Any]:
        if size not in data:
            abort(404)
        return data[size]

    jsonp_view = jsonp(bare_view)

    def one_write_view(size: str) -> Response:
        # A diagnostic, not a way to use flask-jsonp: the same JSONP answer with
        # its three body chunks joined, so a WSGI server writes it at once.
        response: Response = jsonp_view(size)  # type: ignore[assignment]
        if isinstance(response.response, tuple):
            response.set_data(b"".join(response.response))
        return response

    app.add_url_rule("/bare/<size>", "bare", bare_view)
    app.add_url_rule("/jsonp/<size>", "jsonp", jsonp_view)
    app.add_url_rule("/jsonp-one-write/<size>", "jsonp_one_write", one_write_view)

    try:
        # flask-jsonpify 1.5 (2016) still imports on Flask 3: it only touches
        # the removed request.is_xhr when JSONIFY_PRETTYPRINT_REGULAR is set.
        from flask_jsonpify import jsonpify as jsonpify_response  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - optional comparison
        jsonpify_response = None

    if jsonpify_response is not None:

        def jsonpify_view(size: str) -> Response:
            if size not in data:
                abort(404)
            response: Response = jsonpify_response(data[size])
            return response

        app.add_url_rule("/jsonpify/<size>", "jsonpify", jsonpify_view)

    @app.get("/bench/page")
    def bench_page() -> str:
        return BENCH_PAGE

    @app.get("/bench/fetch-jsonp.js")
    def fetch_jsonp_script() -> Response:
        npm_dir = Path(os.environ.get(NPM_DIR_VARIABLE, CACHE_DIR / "bench-npm"))
        script = npm_dir / "node_modules" / "fetch-jsonp" / "build" / "fetch-jsonp.js"
        if not script.is_file():
            abort(404)
        return send_file(script, mimetype="text/javascript")

    return app
