"""``flask jsonp routes``: every endpoint that answers JSONP, its effective
options, and the warnings that hold for sure.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import sys
from collections.abc import Callable
from datetime import datetime
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Blueprint
from flask import Flask
from flask.cli import FlaskGroup
from flask.views import MethodView

from flask_jsonp import audit
from flask_jsonp import JSONP
from flask_jsonp import jsonp
from flask_jsonp import jsonpify
from flask_jsonp.audit import APP_WIDE_ENDPOINT
from flask_jsonp.audit import audit_app
from flask_jsonp.cli import TABLE_WIDTH
from flask_jsonp.loader import cli
from flask_jsonp.options import DEFAULTS

ROOT = Path(__file__).parent.parent

#: The moment the tests audit at.
NOW = datetime(2030, 6, 1, 12, tzinfo=timezone.utc)

View = Callable[..., Any]


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "utc_now", lambda: NOW)


def routes(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(cli, ["routes", *args])


def rows(app: Flask) -> list[dict[str, Any]]:
    result = routes(app, "--json")
    assert result.exit_code == 0, result.output
    listed: list[dict[str, Any]] = json.loads(result.output)
    return listed


def by_endpoint(app: Flask) -> dict[str, dict[str, Any]]:
    return {row["endpoint"]: row for row in rows(app)}


def counted(view: View) -> View:
    """A decorator that copies the view's attributes, as most do."""

    @functools.wraps(view)
    def counted_view(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    return counted_view


def timed(view: View) -> View:
    """A decorator that does not use functools.wraps."""

    def timed_view(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    return timed_view


def test_function_view_is_listed_with_its_options_field_by_field(app: Flask) -> None:
    @app.get("/api/user")
    @jsonp(
        callback_params=["cb", "callback"],
        callback_policy="identifier",
        max_callback_length=64,
        allowed_callbacks=["onUser", "jQuery*"],
        allowed_referrers=["https://Bücher.example", "https://*.shop.example"],
        allowed_referrers_report_only=["https://app.example:8443"],
        envelope=True,
        deprecation=datetime(2030, 1, 1),
        sunset=datetime(2030, 7, 1, tzinfo=timezone.utc),
        deprecation_link="https://api.example/retiring",
    )
    def user() -> dict[str, str]:
        return {"user": "admin"}

    row = by_endpoint(app)["user"]
    assert row == {
        "endpoint": "user",
        "rule": "/api/user",
        "methods": ["GET", "HEAD"],
        "checks_first": True,
        "answers_jsonp": True,
        "callback_params": ["cb", "callback"],
        "max_callback_length": 64,
        "callback_policy": "identifier",
        "allowed_callbacks": [["onUser", "jQuery*"]],
        "allowed_referrers": [
            ["https://xn--bcher-kva.example", "https://*.shop.example"]
        ],
        "allowed_referrers_report_only": [["https://app.example:8443"]],
        "envelope": True,
        "deprecation": "2030-01-01T00:00:00+00:00",
        "sunset": "2030-07-01T00:00:00+00:00",
        "deprecation_link": "https://api.example/retiring",
        "etag": True,
        "days_left": 30,
        "warnings": [],
        "notes": [],
    }


def test_every_row_has_every_option_of_defaults(app: Flask) -> None:
    # Options added to DEFAULTS later are listed without a change here.
    @app.get("/a")
    @jsonp
    def a() -> dict[str, str]:
        return {}

    listed = rows(app)
    assert [row["endpoint"] for row in listed] == ["a", APP_WIDE_ENDPOINT]
    for row in listed:
        assert set(DEFAULTS) <= set(row)


def test_default_options_are_the_built_in_ones(app: Flask) -> None:
    @app.get("/a")
    @jsonp
    def a() -> dict[str, str]:
        return {}

    row = by_endpoint(app)["a"]
    assert row["callback_params"] == ["callback"]
    assert row["callback_policy"] == "safe"
    assert row["allowed_callbacks"] == row["allowed_referrers"] == []
    assert row["envelope"] is False
    assert row["sunset"] is row["days_left"] is None


def test_plain_views_are_never_listed(app: Flask) -> None:
    JSONP(app)

    @app.get("/plain")
    @counted
    def plain() -> dict[str, str]:
        return {}

    assert [row["endpoint"] for row in rows(app)] == [APP_WIDE_ENDPOINT]
    assert "plain" not in routes(app).output


@pytest.mark.parametrize(
    ("with_extension", "checks_first"), [(False, False), (True, True)]
)
def test_view_below_another_decorator_checks_first_only_with_the_extension(
    app: Flask, with_extension: bool, checks_first: bool
) -> None:
    if with_extension:
        JSONP(app)

    @app.get("/api/user")
    @counted
    @jsonp
    def user() -> dict[str, str]:
        return {}

    row = by_endpoint(app)["user"]
    assert row["checks_first"] is checks_first
    assert row["warnings"] == []
    line = next(line for line in routes(app).output.splitlines() if "/api/user" in line)
    assert ("first" if checks_first else "later") in line


def test_view_with_jsonp_outermost_checks_first_without_the_extension(
    app: Flask,
) -> None:
    @app.get("/api/user")
    @jsonp
    @counted
    def user() -> dict[str, str]:
        return {}

    assert by_endpoint(app)["user"]["checks_first"] is True


def test_method_view_lists_only_the_methods_that_answer_jsonp(app: Flask) -> None:
    class Cart(MethodView):
        @jsonp(allowed_callbacks=["onCart"])
        def get(self) -> dict[str, str]:
            return {}

        def post(self) -> dict[str, str]:
            return {}

    app.add_url_rule("/cart", view_func=Cart.as_view("cart"))
    cart = [row for row in rows(app) if row["endpoint"] == "cart"]
    assert [(row["rule"], row["methods"]) for row in cart] == [
        ("/cart", ["GET", "HEAD"])
    ]
    assert cart[0]["allowed_callbacks"] == [["onCart"]]


def test_method_view_methods_with_different_options_get_a_row_each(
    app: Flask,
) -> None:
    class Items(MethodView):
        @jsonp(envelope=True)
        def get(self) -> dict[str, str]:
            return {}

        @jsonp
        def delete(self) -> dict[str, str]:
            return {}

    app.add_url_rule("/items", view_func=Items.as_view("items"))
    items = {
        tuple(row["methods"]): row["envelope"]
        for row in rows(app)
        if row["endpoint"] == "items"
    }
    assert items == {("GET", "HEAD"): True, ("DELETE",): False}


def test_endpoint_with_two_rules_gets_a_row_per_rule(app: Flask) -> None:
    @app.get("/items/")
    @app.get("/items/<int:page>")
    @jsonp
    def items(page: int = 1) -> dict[str, int]:
        return {"page": page}

    assert [row["rule"] for row in rows(app) if row["endpoint"] == "items"] == [
        "/items/",
        "/items/<int:page>",
    ]


def test_blueprint_mode_view_is_listed_with_the_blueprint_options(
    app: Flask,
) -> None:
    JSONP(app)
    api = JSONP.enable_blueprint(
        Blueprint("api", __name__, url_prefix="/api"),
        allowed_referrers=["https://shop.example"],
    )

    @api.get("/items")
    def items() -> dict[str, str]:
        return {}

    app.register_blueprint(api)
    row = by_endpoint(app)["api.items"]
    assert row["rule"] == "/api/items"
    assert row["checks_first"] is True
    assert row["allowed_referrers"] == [["https://shop.example"]]


def test_app_wide_jsonpify_row_has_the_apps_options(app: Flask) -> None:
    app.config["JSONP_ALLOWED_REFERRERS"] = ["https://app.example"]
    JSONP(app, callback_params="cb")

    @app.get("/user")
    def user() -> Any:
        return jsonpify(user="admin")

    listed = rows(app)
    assert [row["endpoint"] for row in listed] == [APP_WIDE_ENDPOINT]
    (row,) = listed
    assert row["rule"] is None
    assert row["methods"] == ["GET", "HEAD"]
    # Outside a JSONP view, jsonpify checks the request once the view has run.
    assert row["checks_first"] is False
    assert row["callback_params"] == ["cb"]
    assert row["allowed_referrers"] == [["https://app.example"]]


def test_hidden_view_is_a_warning_naming_the_function_and_the_fix(
    app: Flask,
) -> None:
    @app.get("/status")
    @timed
    @jsonp
    def status() -> dict[str, str]:
        return {}

    (row,) = [row for row in rows(app) if row["rule"] == "/status"]
    assert row["answers_jsonp"] is False
    (warning,) = row["warnings"]
    assert "test_hidden_view_is_a_warning_naming_the_function_and_the_fix" in warning
    assert "timed.<locals>.timed_view" in warning
    assert "@functools.wraps(view)" in warning
    assert "put @jsonp above it" in warning
    text = routes(app).output
    assert "warning: endpoint 'timed_view'" in text
    assert routes(app, "--strict").exit_code == 1


@pytest.mark.parametrize("source", ["config", "layers"])
def test_conflicting_options_are_a_warning_and_fail_strict(
    app: Flask, source: str
) -> None:
    sunset = datetime(2030, 1, 1, tzinfo=timezone.utc)
    late = datetime(2030, 3, 1, tzinfo=timezone.utc)
    if source == "config":
        app.config["JSONP_SUNSET"] = sunset

        @app.get("/old")
        @jsonp(deprecation=late)
        def old() -> dict[str, str]:
            return {}

    else:

        @app.get("/old")
        @jsonp(sunset=sunset)
        @jsonp(deprecation=late)
        def old() -> dict[str, str]:
            return {}

    row = by_endpoint(app)["old"]
    assert row["answers_jsonp"] is False
    (warning,) = row["warnings"]
    assert "endpoint 'old'" in warning
    assert "sunset must not come before deprecation" in warning
    assert routes(app).exit_code == 0
    strict = routes(app, "--strict")
    assert strict.exit_code == 1
    assert "1 warning." in strict.output


def test_public_endpoint_is_no_warning_and_strict_passes(app: Flask) -> None:
    @app.get("/public")
    @jsonp
    def public() -> dict[str, str]:
        return {}

    result = routes(app, "--strict")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    assert "any page" in result.output


@pytest.mark.parametrize(
    ("sunset", "days_left", "shown"),
    [
        (datetime(2030, 6, 13, tzinfo=timezone.utc), 12, "in 12 days"),
        (datetime(2030, 6, 2, tzinfo=timezone.utc), 1, "in 1 day"),
        (datetime(2030, 6, 1, 18, tzinfo=timezone.utc), 0, "today"),
    ],
)
def test_days_left_to_the_sunset(
    app: Flask, sunset: datetime, days_left: int, shown: str
) -> None:
    @app.get("/old")
    @jsonp(sunset=sunset)
    def old() -> dict[str, str]:
        return {}

    row = by_endpoint(app)["old"]
    assert row["days_left"] == days_left
    assert row["notes"] == []
    assert shown in routes(app).output


def test_a_passed_sunset_is_a_note_not_a_warning(app: Flask) -> None:
    @app.get("/gone")
    @jsonp(sunset=datetime(2030, 5, 1, tzinfo=timezone.utc))
    def gone() -> dict[str, str]:
        return {}

    row = by_endpoint(app)["gone"]
    assert row["days_left"] == -31
    assert row["warnings"] == []
    (note,) = row["notes"]
    assert "410 Gone" in note
    result = routes(app, "--strict")
    assert result.exit_code == 0
    assert "passed" in result.output


def test_audit_at_a_given_moment_from_python(app: Flask) -> None:
    @app.get("/old")
    @jsonp(sunset=datetime(2031, 1, 1))
    def old() -> dict[str, str]:
        return {}

    (row, app_wide) = audit_app(app, now=datetime(2030, 12, 31, 23, 59))
    assert (row.endpoint, row.days_left) == ("old", 1)
    assert row.options is not None and row.options.sunset == datetime(
        2031, 1, 1, tzinfo=timezone.utc
    )
    assert app_wide.endpoint == APP_WIDE_ENDPOINT


def test_audit_leaves_the_view_functions_alone(app: Flask) -> None:
    JSONP(app)

    @app.get("/api/user")
    @counted
    @jsonp
    def user() -> dict[str, str]:
        return {}

    before = dict(app.view_functions)
    audit_app(app)
    assert app.view_functions == before


def test_table_fits_its_width_and_abbreviates_long_allowlists(app: Flask) -> None:
    pages = [f"https://page-{number}.partner.example" for number in range(12)]

    @app.get("/api/a/rather/long/rule/<int:identifier>/with/many/parts")
    @jsonp(allowed_referrers=pages, allowed_callbacks=[f"on{n}" for n in range(30)])
    def a_view_with_a_rather_long_name_in_a_module() -> dict[str, str]:
        return {}

    output = routes(app).output
    assert TABLE_WIDTH <= 100
    assert max(len(line) for line in output.splitlines()) <= TABLE_WIDTH
    assert "(+9 more)" in output
    assert "on29" in output
    header = output.splitlines()[0].split()
    assert header == ["Endpoint", "Methods", "Rule", "Checks", "Referrers"]


def test_the_flask_command_has_the_routes_command(app: Flask) -> None:
    @app.get("/a")
    @jsonp
    def a() -> dict[str, str]:
        return {}

    group = FlaskGroup(create_app=lambda: app)
    result = app.test_cli_runner().invoke(group, ["jsonp", "routes", "--json"])
    assert result.exit_code == 0, result.output
    assert [row["endpoint"] for row in json.loads(result.output)] == [
        "a",
        APP_WIDE_ENDPOINT,
    ]


#: The example output on the guide's page.
OUTPUT_BLOCK = re.compile(
    r"```text\n\$ flask --app routes_app jsonp routes\n(.*?)```", re.DOTALL
)


def test_guide_output_is_what_the_command_prints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = (ROOT / "docs" / "routes.md").read_text(encoding="utf-8")
    (shown,) = OUTPUT_BLOCK.findall(page)
    # The page says when it ran: the days left depend on it.
    assert "On 1 June 2030" in page
    assert "```{literalinclude} recipes/routes_app.py" in page
    # Imported under the name `flask --app routes_app` gives it.
    spec = importlib.util.spec_from_file_location(
        "routes_app", ROOT / "docs" / "recipes" / "routes_app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "routes_app", module)
    spec.loader.exec_module(module)
    result = module.app.test_cli_runner().invoke(cli, ["routes"])
    assert result.exit_code == 0, result.output
    assert result.output == shown


def test_json_with_strict_keeps_stdout_json_and_exits_1(app: Flask) -> None:
    @app.get("/status")
    @timed
    @jsonp
    def status() -> dict[str, str]:
        return {}

    result = routes(app, "--json", "--strict")
    assert result.exit_code == 1
    listed = json.loads(result.stdout)
    assert [len(row["warnings"]) for row in listed] == [1, 0]
