"""The metrics recipe of the "Retiring JSONP" guide (docs/recipes/metrics.py),
run against a real app: its counts, and labels that stay bounded whatever pages
send requests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry

from docs.recipes.metrics import JsonpUsageMetrics
from docs.recipes.metrics import page_label
from flask_jsonp import jsonp
from flask_jsonp import jsonpify

ROOT = Path(__file__).parent.parent
PAGES = ["https://app.example", "https://*.partner.example"]

#: Distinct pages of each kind that send requests.
MANY = 120


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def app(app: Flask, registry: CollectorRegistry) -> Flask:
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

    JsonpUsageMetrics(registry).init_app(app, PAGES)
    return app


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


def test_recipe_counts_answers_and_refusals_by_endpoint_reason_and_page(
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


def test_recipe_labels_stay_bounded_whatever_pages_ask(
    client: FlaskClient, registry: CollectorRegistry
) -> None:
    for index in range(MANY):
        for referrer in pages_of_every_kind(index):
            get(client, "/private?callback=cb", referrer)
            get(client, "/public?callback=cb", referrer)
    series = [
        sample.labels
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name in ("jsonp_answers_total", "jsonp_refusals_total")
    ]
    # 4 * MANY distinct pages asked; each endpoint got one series per bucket.
    assert {labels["page"] for labels in series} == {*PAGES, "other", "none"}
    assert len(series) == 4 + 2 + 2
    assert not any("site" in value for labels in series for value in labels.values())


def test_one_metrics_object_counts_several_apps_once_each(
    registry: CollectorRegistry,
) -> None:
    metrics = JsonpUsageMetrics(registry)
    apps = [Flask(__name__), Flask(__name__)]
    for app in apps:
        app.add_url_rule("/a", "a", jsonp(lambda: {"a": 1}))
        metrics.init_app(app, PAGES)
    for _ in range(3):
        apps[0].test_client().get("/a?callback=cb")
    apps[1].test_client().get("/a?callback=cb")
    assert count(registry, "jsonp_answers", endpoint="a", page="none") == 4


@pytest.mark.parametrize(
    ("origin", "label"),
    [
        ("https://app.example", "https://app.example"),
        ("https://a.b.partner.example", "https://*.partner.example"),
        ("https://partner.example", "other"),
        ("https://app.example.evil.test", "other"),
        (None, "none"),
    ],
)
def test_page_label_is_an_allowlist_entry_other_or_none(
    origin: str | None, label: str
) -> None:
    assert page_label(origin, PAGES) == label


def test_the_guide_shows_the_recipe_the_tests_run() -> None:
    guide = (ROOT / "docs" / "retiring.md").read_text(encoding="utf-8")
    assert "```{literalinclude} recipes/metrics.py" in guide
