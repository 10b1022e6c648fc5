"""``flask_jsonp.prometheus``: Prometheus counters fed by the JSONP signals, run
against real apps with the real prometheus-client. Its counts, as a scraper
reads them, and labels that stay bounded whatever pages send requests.
"""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from flask_jsonp import jsonpify
from flask_jsonp.prometheus import JsonpMetrics
from flask_jsonp.prometheus import page_label

ROOT = Path(__file__).parent.parent
PAGES = ["https://app.example", "https://*.partner.example"]
COUNTERS = ("jsonp_answers_total", "jsonp_refusals_total")

#: Distinct pages of each kind that send requests.
MANY = 120


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def add_views(app: Flask) -> None:
    """Views of each kind: open, allowlisted, report-only, jsonpify."""

    @app.get("/public")
    @jsonp
    def public() -> Any:
        return {"items": [1, 2]}

    @app.get("/private")
    @jsonp(allowed_referrers=PAGES)
    def private() -> Any:
        return {"balance": 42}

    @app.get("/tightening")
    @jsonp(allowed_referrers_report_only=PAGES)
    def tightening() -> Any:
        return {"items": [3]}

    @app.get("/user")
    def user() -> Any:
        return jsonpify(name="ada")


@pytest.fixture
def app(app: Flask, registry: CollectorRegistry) -> Flask:
    add_views(app)
    JsonpMetrics(app, PAGES, registry=registry)
    return app


def scraped(registry: CollectorRegistry) -> dict[tuple[str, frozenset[Any]], float]:
    """The counters' samples as a Prometheus server reads them: the text
    exposition format, parsed by prometheus-client's own parser.
    """
    text = generate_latest(registry).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name in COUNTERS
    }


def count(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(f"{name}_total", labels)
    return 0.0 if value is None else value


def get(client: FlaskClient, path: str, referrer: str | None) -> int:
    headers = {} if referrer is None else {"Referer": referrer}
    return client.get(path, headers=headers).status_code


def pages_of_every_kind(index: int) -> list[str | None]:
    return [
        "https://app.example/page?token=secret",
        f"https://shop{index}.partner.example/",
        f"https://site{index}.test/{index}",
        None,
    ]


def test_answers_and_refusals_are_counted_by_endpoint_reason_and_page(
    client: FlaskClient, registry: CollectorRegistry
) -> None:
    for index in range(MANY):
        for referrer in pages_of_every_kind(index):
            assert get(client, "/public?callback=cb", referrer) == 200
            assert get(client, "/user?callback=cb", referrer) == 200
            assert get(client, "/tightening?callback=cb", referrer) == 200
            allowed = referrer is not None and "test" not in referrer
            assert get(client, "/private?callback=cb", referrer) == (
                200 if allowed else 403
            )
            assert get(client, "/public?callback=alert(1)", referrer) == 400
            assert get(client, "/public", referrer) == 200  # no callback: JSON

    for endpoint in ("public", "user", "tightening"):
        for page in [*PAGES, "other", "none"]:
            assert count(registry, "jsonp_answers", endpoint=endpoint, page=page) == (
                MANY
            )
    for page, answered in [(PAGES[0], MANY), (PAGES[1], MANY), ("other", 0)]:
        assert count(registry, "jsonp_answers", endpoint="private", page=page) == (
            answered
        )
    refused = {"endpoint": "private", "reason": "referrer_not_allowed"}
    for page in ("other", "none"):
        assert count(
            registry, "jsonp_refusals", **refused, report_only="false", page=page
        ) == (MANY)
    reported = {"endpoint": "tightening", "reason": "referrer_not_allowed"}
    for page in ("other", "none"):
        assert count(
            registry, "jsonp_refusals", **reported, report_only="true", page=page
        ) == (MANY)
    invalid = {"endpoint": "public", "reason": "invalid_callback"}
    for page in [*PAGES, "other", "none"]:
        assert count(
            registry, "jsonp_refusals", **invalid, report_only="false", page=page
        ) == (MANY)


def test_labels_stay_bounded_whatever_pages_ask(
    client: FlaskClient, registry: CollectorRegistry
) -> None:
    for index in range(MANY):
        for referrer in pages_of_every_kind(index):
            get(client, "/private?callback=cb", referrer)
            get(client, "/public?callback=cb", referrer)
    series = [dict(labels) for _, labels in scraped(registry)]
    # 4 * MANY distinct pages asked; each endpoint got one series per bucket.
    assert {labels["page"] for labels in series} == {*PAGES, "other", "none"}
    assert len(series) == 4 + 2 + 2
    assert not any("site" in value for labels in series for value in labels.values())
    # Never a path or a query of the page, which can hold tokens.
    assert not any("token" in value for labels in series for value in labels.values())


def test_a_scraper_reads_both_counters_with_their_help(
    client: FlaskClient, registry: CollectorRegistry
) -> None:
    get(client, "/private?callback=cb", "https://shop.partner.example/cart")
    get(client, "/private?callback=cb", "https://evil.test/")
    families = {
        family.name: family
        for family in text_string_to_metric_families(generate_latest(registry).decode())
    }
    assert families["jsonp_answers"].type == "counter"
    assert families["jsonp_refusals"].type == "counter"
    assert "answered" in families["jsonp_answers"].documentation
    assert scraped(registry) == {
        (
            "jsonp_answers_total",
            frozenset({"endpoint": "private", "page": PAGES[1]}.items()),
        ): 1.0,
        (
            "jsonp_refusals_total",
            frozenset(
                {
                    "endpoint": "private",
                    "reason": "referrer_not_allowed",
                    "report_only": "false",
                    "page": "other",
                }.items()
            ),
        ): 1.0,
    }


@pytest.mark.parametrize(
    ("method", "reason", "status"),
    [("POST", "method_not_allowed", 405), ("GET", "callback_not_allowed", 403)],
)
def test_every_refusal_reason_is_a_label(
    app: Flask, registry: CollectorRegistry, method: str, reason: str, status: int
) -> None:
    @app.route("/pinned", methods=["GET", "POST"])
    @jsonp(allowed_callbacks=["onData"])
    def pinned() -> Any:
        return {"a": 1}

    response = app.test_client().open("/pinned?callback=cb", method=method)
    assert response.status_code == status
    labels = {"endpoint": "pinned", "reason": reason, "report_only": "false"}
    assert count(registry, "jsonp_refusals", **labels, page="none") == 1


def test_requests_without_a_callback_are_not_counted(
    client: FlaskClient, registry: CollectorRegistry
) -> None:
    for path in ("/public", "/user", "/private", "/missing?callback=cb"):
        client.get(path, headers={"Referer": "https://app.example/"})
    assert scraped(registry) == {}


def test_one_metrics_object_counts_several_apps_once_each(
    registry: CollectorRegistry,
) -> None:
    metrics = JsonpMetrics(pages=PAGES, registry=registry)
    apps = [Flask(__name__), Flask(__name__)]
    for app in apps:
        app.add_url_rule("/a", "a", jsonp(lambda: {"a": 1}))
        metrics.init_app(app)
    for _ in range(3):
        apps[0].test_client().get("/a?callback=cb")
    apps[1].test_client().get("/a?callback=cb")
    assert count(registry, "jsonp_answers", endpoint="a", page="none") == 4


def test_an_app_not_given_is_not_counted(registry: CollectorRegistry) -> None:
    counted, other = Flask(__name__), Flask(__name__)
    for app in (counted, other):
        app.add_url_rule("/a", "a", jsonp(lambda: {"a": 1}))
    JsonpMetrics(counted, registry=registry)
    other.test_client().get("/a?callback=cb")
    assert scraped(registry) == {}


def test_init_app_twice_counts_once_with_the_latest_pages(
    app: Flask, registry: CollectorRegistry
) -> None:
    # The fixture's metrics object is not at hand: a second object, on a
    # registry of its own, set up twice for the same app.
    own = CollectorRegistry()
    metrics = JsonpMetrics(registry=own)
    metrics.init_app(app, ["https://app.example"])
    metrics.init_app(app, ["https://*.partner.example"])
    app.test_client().get(
        "/public?callback=cb", headers={"Referer": "https://shop.partner.example/"}
    )
    assert count(own, "jsonp_answers", endpoint="public", page=PAGES[1]) == 1
    assert count(own, "jsonp_answers", endpoint="public", page=PAGES[0]) == 0
    # The two objects count apart, each in its own registry.
    assert count(registry, "jsonp_answers", endpoint="public", page=PAGES[1]) == 1


def test_metrics_made_for_one_app_keep_counting_unreferenced(
    registry: CollectorRegistry,
) -> None:
    app = Flask(__name__)
    app.add_url_rule("/a", "a", jsonp(lambda: {"a": 1}))
    JsonpMetrics(app, registry=registry)  # no reference kept
    gc.collect()
    app.test_client().get("/a?callback=cb")
    assert count(registry, "jsonp_answers", endpoint="a", page="none") == 1


def test_counts_blueprint_mode_with_the_extension(registry: CollectorRegistry) -> None:
    app = Flask(__name__)
    public = Blueprint("public", __name__)

    @public.get("/items")
    def items() -> Any:
        return {"items": []}

    JSONP(app).enable_blueprint(public)
    app.register_blueprint(public)
    JsonpMetrics(app, PAGES, registry=registry)
    app.test_client().get(
        "/items?callback=cb", headers={"Referer": "https://app.example/"}
    )
    assert count(registry, "jsonp_answers", endpoint="public.items", page=PAGES[0]) == 1


@pytest.mark.parametrize("pages", [["app.example"], ["https://app.example/path"]])
def test_a_mistyped_page_fails_when_the_app_is_set_up(
    registry: CollectorRegistry, pages: list[str]
) -> None:
    with pytest.raises(ValueError):
        JsonpMetrics(pages=pages, registry=registry)
    with pytest.raises(ValueError):
        JsonpMetrics(registry=CollectorRegistry()).init_app(Flask(__name__), pages)


@pytest.mark.parametrize(
    ("origin", "pages", "label"),
    [
        ("https://app.example", PAGES, "https://app.example"),
        ("https://a.b.partner.example", PAGES, "https://*.partner.example"),
        ("https://partner.example", PAGES, "other"),
        ("https://app.example.evil.test", PAGES, "other"),
        (None, PAGES, "none"),
        ("https://app.example", "https://app.example", "https://app.example"),
        ("https://anything.test", "*", "*"),
        (None, "*", "none"),
        ("https://app.example", [], "other"),
    ],
)
def test_page_label_is_an_allowlist_entry_other_or_none(
    origin: str | None, pages: str | list[str], label: str
) -> None:
    assert page_label(origin, pages) == label


#: Run in a fresh interpreter: what a user's app sees without the extra.
WITHOUT_PROMETHEUS = """
import sys

class NoPrometheus:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "prometheus_client":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoPrometheus())
import flask_jsonp
assert "prometheus_client" not in sys.modules
try:
    import flask_jsonp.prometheus
except ImportError as error:
    print(error)
"""


def test_without_the_extra_the_import_error_names_it() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_PROMETHEUS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "pip install 'flask-jsonp[prometheus]'" in result.stdout


def test_importing_flask_jsonp_does_not_import_prometheus_client() -> None:
    code = "import sys, flask_jsonp; print('prometheus_client' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == "False\n"


def test_the_guide_uses_the_shipped_module() -> None:
    guide = (ROOT / "docs" / "retiring.md").read_text(encoding="utf-8")
    assert "flask_jsonp.prometheus" in guide
    assert "flask-jsonp[prometheus]" in guide
    assert "recipes/" not in guide
