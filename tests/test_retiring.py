"""Retiring JSONP: the usage signals, the report-only allowlist, and the
announcements of the end (Deprecation, Sunset, Link, then 410 Gone).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any

import pytest
from flask import Blueprint
from flask import Flask
from werkzeug.http import parse_date

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from flask_jsonp import jsonp_answered
from flask_jsonp import jsonp_refused
from flask_jsonp import jsonpify
from flask_jsonp import plan
from tests.helpers import assert_refused
from tests.helpers import run_jsonp
from tests.node import NodeRunner

ALLOWED = "https://app.example"
OTHER = "https://other.example:8443"
DATA = {"user": "admin"}

PAST = datetime(2026, 1, 1, tzinfo=timezone.utc)
SOON = datetime.now(timezone.utc) + timedelta(days=30)
LINK = "https://api.example/retiring-jsonp"

Event = tuple[str, dict[str, Any]]


@pytest.fixture
def events(app: Flask) -> Iterator[list[Event]]:
    """What the signals sent for ``app``."""
    seen: list[Event] = []

    def answered(sender: Flask, **extra: Any) -> None:
        assert sender is app
        seen.append(("answered", extra))

    def refused(sender: Flask, **extra: Any) -> None:
        assert sender is app
        seen.append(("refused", extra))

    with (
        jsonp_answered.connected_to(answered, app),
        jsonp_refused.connected_to(refused, app),
    ):
        yield seen


def _serve(app: Flask, door: str, **options: Any) -> str:
    """Serve DATA through one entry point; return its URL."""
    methods = ["GET", "POST"]
    if door == "decorator":
        app.route("/data", endpoint="data", methods=methods)(
            jsonp(**options)(lambda: DATA)
        )
    elif door == "blueprint":
        api = JSONP.enable_blueprint(Blueprint("api", __name__), **options)
        api.route("/data", endpoint="data", methods=methods)(lambda: DATA)
        app.register_blueprint(api)
    else:
        JSONP(app, **options)
        app.route("/data", endpoint="data", methods=methods)(lambda: jsonpify(DATA))
    return "/data"


DOORS = ["decorator", "blueprint", "jsonpify"]


@pytest.mark.parametrize("door", DOORS)
def test_answers_are_signalled_with_the_page_origin_only(
    app: Flask, events: list[Event], door: str
) -> None:
    url = _serve(app, door)
    client = app.test_client()
    client.get(f"{url}?callback=onData", headers={"Referer": f"{OTHER}/p?token=t"})
    client.get(url, headers={"Referer": f"{OTHER}/p"})
    client.get(f"{url}?callback=onData")
    endpoint = "api.data" if door == "blueprint" else "data"
    assert events == [
        ("answered", {"endpoint": endpoint, "callback": "onData", "origin": OTHER}),
        ("answered", {"endpoint": endpoint, "callback": "onData", "origin": None}),
    ]


@pytest.mark.parametrize(
    ("referrer", "origin"),
    [
        # A default port, said or not: never the path, query or fragment.
        ("https://app.example/secret?token=x", "https://app.example"),
        ("http://app.example:80/p", "http://app.example"),
        ("https://app.example:443/p#f", "https://app.example"),
        ("HTTPS://App.Example./p?q", "https://app.example"),
        # Another port is part of the origin.
        ("https://app.example:8443/p?token=x", "https://app.example:8443"),
        ("http://app.example:443/p", "http://app.example:443"),
        # IPv6 hosts in brackets, as browsers and cors_origins write them.
        ("https://[2001:DB8::1]/p?token=x", "https://[2001:db8::1]"),
        ("https://[2001:db8::1]:443/p", "https://[2001:db8::1]"),
        ("http://[::1]:8080/p#f", "http://[::1]:8080"),
        # No origin to read.
        ("/relative?token=x", None),
        ("file:///home/me/page.html", None),
    ],
)
def test_signals_carry_the_origin_as_browsers_write_it(
    app: Flask, events: list[Event], referrer: str, origin: str | None
) -> None:
    url = _serve(app, "decorator", allowed_callbacks=["onData"])
    client = app.test_client()
    headers = {"Referer": referrer}
    client.get(f"{url}?callback=onData", headers=headers)
    client.get(f"{url}?callback=other", headers=headers)
    assert [(kind, extra["origin"]) for kind, extra in events] == [
        ("answered", origin),
        ("refused", origin),
    ]


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    ("query", "method", "reason", "callback"),
    [
        ("callback=eval", "GET", "invalid_callback", "eval"),
        ("callback=a&callback=b", "GET", "invalid_callback", None),
        ("callback=nope", "GET", "callback_not_allowed", "nope"),
        ("callback=onData", "POST", "method_not_allowed", "onData"),
    ],
)
def test_refusals_are_signalled_with_their_reason(
    app: Flask,
    events: list[Event],
    door: str,
    query: str,
    method: str,
    reason: str,
    callback: str | None,
) -> None:
    url = _serve(app, door, allowed_callbacks=["onData"])
    app.test_client().open(f"{url}?{query}", method=method)
    assert events[-1:] == [
        (
            "refused",
            {
                "endpoint": "api.data" if door == "blueprint" else "data",
                "callback": callback,
                "origin": None,
                "reason": reason,
                "report_only": False,
            },
        )
    ]


def test_referrer_refusals_are_signalled(app: Flask, events: list[Event]) -> None:
    url = _serve(app, "decorator", allowed_referrers=[ALLOWED])
    app.test_client().get(f"{url}?callback=cb", headers={"Referer": f"{OTHER}/x"})
    assert events == [
        (
            "refused",
            {
                "endpoint": "data",
                "callback": "cb",
                "origin": OTHER,
                "reason": "referrer_not_allowed",
                "report_only": False,
            },
        )
    ]


def test_requests_without_a_callback_and_preflights_send_nothing(
    app: Flask, events: list[Event]
) -> None:
    url = _serve(app, "decorator", allowed_referrers=[ALLOWED])
    client = app.test_client()
    client.get(url, headers={"Referer": f"{OTHER}/"})
    client.options(f"{url}?callback=cb", headers={"Origin": OTHER})
    assert events == []


@pytest.mark.parametrize("door", DOORS)
def test_report_only_answers_and_reports_pages_outside_it(
    app: Flask, node: NodeRunner, events: list[Event], door: str
) -> None:
    url = _serve(app, door, allowed_referrers_report_only=[ALLOWED])
    client = app.test_client()
    inside = client.get(f"{url}?callback=cb", headers={"Referer": f"{ALLOWED}/"})
    outside = client.get(f"{url}?callback=cb", headers={"Referer": f"{OTHER}/"})
    assert run_jsonp(node, inside, "cb") == DATA
    assert run_jsonp(node, outside, "cb") == DATA
    refused = [extra for kind, extra in events if kind == "refused"]
    assert refused == [
        {
            "endpoint": "api.data" if door == "blueprint" else "data",
            "callback": "cb",
            "origin": OTHER,
            "reason": "referrer_not_allowed",
            "report_only": True,
        }
    ]
    assert [kind for kind, _ in events].count("answered") == 2


def test_report_only_from_the_config(app: Flask, events: list[Event]) -> None:
    app.config["JSONP_ALLOWED_REFERRERS_REPORT_ONLY"] = [ALLOWED]
    JSONP(app)
    app.get("/data", endpoint="data")(jsonp(lambda: DATA))
    assert app.test_client().get("/data?callback=cb").status_code == 200
    assert events == [
        (
            "refused",
            {
                "endpoint": "data",
                "callback": "cb",
                "origin": None,
                "reason": "referrer_not_allowed",
                "report_only": True,
            },
        ),
        ("answered", {"endpoint": "data", "callback": "cb", "origin": None}),
    ]


@pytest.mark.parametrize("door", DOORS)
def test_jsonp_answers_announce_deprecation_and_sunset(
    app: Flask, node: NodeRunner, door: str
) -> None:
    url = _serve(app, door, deprecation=PAST, sunset=SOON, deprecation_link=LINK)
    client = app.test_client()
    answer = client.get(f"{url}?callback=cb")
    assert answer.headers["Deprecation"] == f"@{int(PAST.timestamp())}"
    assert parse_date(answer.headers["Sunset"]) == SOON.replace(microsecond=0)
    assert answer.headers["Link"] == f'<{LINK}>; rel="deprecation"'
    assert run_jsonp(node, answer, "cb") == DATA
    plain = client.get(url)
    assert plain.json == DATA
    for name in ("Deprecation", "Sunset", "Link"):
        assert name not in plain.headers


def test_the_envelope_carries_the_announcements(app: Flask, node: NodeRunner) -> None:
    naive_past = PAST.replace(tzinfo=None)
    url = _serve(
        app,
        "decorator",
        envelope=True,
        deprecation=naive_past,
        sunset=SOON,
        deprecation_link=LINK,
    )
    answer = app.test_client().get(f"{url}?callback=cb")
    assert run_jsonp(node, answer, "cb") == {
        "meta": {
            "status": 200,
            "deprecation": "2026-01-01T00:00:00Z",
            "sunset": SOON.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "link": LINK,
        },
        "data": DATA,
    }


@pytest.mark.parametrize("door", DOORS)
def test_after_the_sunset_jsonp_is_gone_and_json_stays(
    app: Flask, events: list[Event], door: str
) -> None:
    url = _serve(app, door, sunset=PAST)
    client = app.test_client()
    gone = client.get(f"{url}?callback=cb")
    assert_refused(gone, 410, "gone")
    assert gone.headers["Sunset"] == "Thu, 01 Jan 2026 00:00:00 GMT"
    assert client.get(url).json == DATA
    assert events[-1][1]["reason"] == "gone"
    # An invalid callback is still refused as such.
    assert_refused(client.get(f"{url}?callback=eval"), 400, "invalid_callback")


#: One instant, 2031-03-01 12:00:00 UTC, written three ways.
SUNSET_INSTANT = datetime(2031, 3, 1, 12, tzinfo=timezone.utc)
SUNSETS = {
    "naive, read as UTC": datetime(2031, 3, 1, 12),
    "aware, UTC+9": datetime(2031, 3, 1, 21, tzinfo=timezone(timedelta(hours=9))),
    "aware, UTC-5": datetime(2031, 3, 1, 7, tzinfo=timezone(timedelta(hours=-5))),
}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The time the sunset check reads, set by the test; the process's local
    time zone is UTC+9 meanwhile, so that reading a naive sunset as local time
    would be nine hours off.
    """
    now = [SUNSET_INSTANT.timestamp()]

    class Clock:
        @staticmethod
        def time() -> float:
            return now[0]

    monkeypatch.setattr(plan, "time", Clock)
    # A POSIX TZ string: needs no tz database.
    local_zone = os.environ.get("TZ")
    os.environ["TZ"] = "JST-9"
    time.tzset()
    try:
        yield now
    finally:
        if local_zone is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = local_zone
        time.tzset()


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("sunset", SUNSETS.values(), ids=SUNSETS.keys())
def test_jsonp_is_gone_from_the_second_of_the_sunset(
    app: Flask, clock: list[float], door: str, sunset: datetime
) -> None:
    url = _serve(app, door, sunset=sunset)
    client = app.test_client()
    instant = SUNSET_INSTANT.timestamp()
    for offset, status in [
        (-86400, 200),
        (-1, 200),
        (-0.001, 200),
        (0, 410),
        (1, 410),
        (3600, 410),
        (86400 + 1, 410),
    ]:
        clock[0] = instant + offset
        answer = client.get(f"{url}?callback=cb")
        assert answer.status_code == status, f"{offset:+} s from the sunset"
        assert answer.headers["Sunset"] == "Sat, 01 Mar 2031 12:00:00 GMT"
        assert client.get(url).json == DATA


@pytest.mark.parametrize("mode", ["extension", "decorator-alone"])
def test_after_the_sunset_the_envelope_passes_410(
    app: Flask, node: NodeRunner, mode: str
) -> None:
    if mode == "extension":
        JSONP(app)
    url = _serve(app, "decorator", sunset=PAST, envelope=True)
    answer = app.test_client().get(f"{url}?callback=cb")
    enveloped = run_jsonp(node, answer, "cb")
    assert enveloped["meta"] == {"status": 410, "sunset": "2026-01-01T00:00:00Z"}
    assert enveloped["data"]["name"] == "Gone"
    assert "admin" not in str(enveloped)


def test_the_innermost_layer_announces(app: Flask) -> None:
    api = JSONP.enable_blueprint(Blueprint("api", __name__), sunset=PAST)
    api.get("/kept", endpoint="kept")(jsonp(sunset=SOON)(lambda: DATA))
    api.get("/gone", endpoint="gone")(lambda: DATA)
    app.register_blueprint(api)
    client = app.test_client()
    assert client.get("/kept?callback=cb").status_code == 200
    assert client.get("/gone?callback=cb").status_code == 410


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sunset": "2027-01-01"}, "sunset must be a datetime"),
        ({"deprecation_link": "/relative"}, "absolute http"),
        ({"deprecation_link": 'https://x.example/"><script>'}, "absolute http"),
        ({"deprecation": SOON, "sunset": PAST}, "sunset must not come before"),
    ],
)
def test_bad_announcements_fail_when_written(
    app: Flask, options: dict[str, Any], message: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        jsonp(**options)
    with pytest.raises((TypeError, ValueError), match=message):
        JSONP(app, **options)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("JSONP_CALLBACK_POLICY", "strict", "JSONP_CALLBACK_POLICY = 'strict'"),
        ("JSONP_MAX_CALLBACK_LENGTH", 0, "JSONP_MAX_CALLBACK_LENGTH = 0"),
        ("JSONP_ALLOWED_REFERRERS", ["app.example"], "JSONP_ALLOWED_REFERRERS"),
        ("JSONP_SUNSET", "tomorrow", "JSONP_SUNSET"),
        ("JSONP_CALLBACK_PARAM", "cb", "unknown flask-jsonp config key"),
    ],
)
def test_bad_config_fails_at_set_up_naming_the_key(
    app: Flask, key: str, value: Any, message: str
) -> None:
    app.config[key] = value
    with pytest.raises((TypeError, ValueError), match=message):
        JSONP(app)


def test_any_page_opens_one_view_over_the_app_allowlist(
    app: Flask, node: NodeRunner
) -> None:
    app.config["JSONP_ALLOWED_REFERRERS"] = [ALLOWED]
    JSONP(app)
    app.get("/private", endpoint="private")(jsonp(lambda: DATA))
    app.get("/public", endpoint="public")(jsonp(allowed_referrers="*")(lambda: DATA))
    client = app.test_client()
    headers = {"Referer": f"{OTHER}/"}
    assert_refused(
        client.get("/private?callback=cb", headers=headers), 403, "referrer_not_allowed"
    )
    public = client.get("/public?callback=cb", headers=headers)
    assert run_jsonp(node, public, "cb") == DATA
    assert not public.cache_control.private


def test_empty_callback_is_refused_as_empty(app: Flask) -> None:
    app.get("/data")(jsonp(lambda: DATA))
    response = app.test_client().get("/data?callback=")
    assert_refused(response, 400, "invalid_callback")
    assert response.json is not None
    assert response.json["message"] == "The callback parameter is empty."
