"""One allowlist for JSONP and CORS: ``cors_origins`` given to the real flask-cors
allows exactly the origins that ``allowed_referrers`` allows, and
``matching_entry`` names the entry that allowed one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_cors import CORS
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_jsonp import jsonp
from flask_jsonp.origins import cors_origins
from flask_jsonp.origins import matching_entry
from flask_jsonp.signals import page_origin

#: Allowlists by a short name, for the table below.
ALLOWLISTS: dict[str, str | tuple[str, ...]] = {
    "exact": ("https://app.example",),
    "subdomains": ("https://*.example.com",),
    "idn": ("https://bücher.example", "https://*.MÜNCHEN.example"),
    "ports": ("http://localhost:5000", "http://[::1]:8080", "http://127.0.0.1:8080"),
    "metachars": ("https://a+b.example", "https://*.c$d.example", "http://(x).test"),
    "every": "*",
    "none": (),
}

#: Origins, and the allowlists above that allow them, besides "every".
ORIGINS = [
    ("https://app.example", {"exact"}),
    ("https://APP.Example", {"exact"}),
    ("HTTPS://app.example", {"exact"}),
    ("https://app.example.", {"exact"}),
    ("https://app.example:443", {"exact"}),
    ("https://app.example:0443", {"exact"}),
    ("https://app.example:8443", set()),
    ("https://app.example.:80", set()),
    ("http://app.example", set()),
    ("https://xapp.example", set()),
    ("https://a.app.example", set()),
    ("https://app.example.evil.test", set()),
    ("https://app-example", set()),
    ("https://appxexample", set()),
    # subdomains: any depth, never the domain itself, nor a lookalike
    ("https://a.example.com", {"subdomains"}),
    ("https://a.b.c.example.com", {"subdomains"}),
    ("https://A.EXAMPLE.COM.", {"subdomains"}),
    ("https://a.example.com:443", {"subdomains"}),
    ("https://a-b_c.example.com", {"subdomains"}),
    ("https://a.example.com:8443", set()),
    ("http://a.example.com", set()),
    ("https://example.com", set()),
    ("https://.example.com", set()),
    ("https://a..example.com", set()),
    ("https://xexample.com", set()),
    ("https://a.xexample.com", set()),
    ("https://example.com.evil.test", set()),
    ("https://a.example.com.evil.test", set()),
    ("https://a.example.community", set()),
    ("https://evil-example.com", set()),
    ("https://evil.test/.example.com", set()),
    ("https://evil.test?.example.com", set()),
    ("https://evil.test#.example.com", set()),
    ("https://evil.test:443.example.com", set()),
    # IDN: browsers send the xn-- form; a raw Unicode host is no browser's
    ("https://xn--bcher-kva.example", {"idn"}),
    ("https://XN--BCHER-KVA.EXAMPLE", {"idn"}),
    ("https://bücher.example", set()),
    ("https://a.xn--mnchen-3ya.example", {"idn"}),
    ("https://xn--mnchen-3ya.example", set()),
    ("https://a.münchen.example", set()),
    # ports and addresses
    ("http://localhost:5000", {"ports"}),
    ("http://localhost.:5000", {"ports"}),
    ("http://LOCALHOST:05000", {"ports"}),
    ("http://localhost", set()),
    ("http://localhost:5001", set()),
    ("http://localhost:50000", set()),
    ("https://localhost:5000", set()),
    ("http://[::1]:8080", {"ports"}),
    ("http://[::1]", set()),
    ("http://[::2]:8080", set()),
    ("http://127.0.0.1:8080", {"ports"}),
    ("http://127.0.0.2:8080", set()),
    ("http://127x0x0x1:8080", set()),
    # hosts with regular expression metacharacters are literal
    ("https://a+b.example", {"metachars"}),
    ("https://aab.example", set()),
    ("https://ab.example", set()),
    ("https://x.c$d.example", {"metachars"}),
    ("https://x.cd.example", set()),
    ("https://c$d.example", set()),
    ("http://(x).test", {"metachars"}),
    ("http://x.test", set()),
    # no origin
    ("null", set()),
]


@cache
def agreement_client(entries: str | tuple[str, ...]) -> FlaskClient:
    """An app whose ``/cors`` is open to CORS with ``cors_origins(entries)`` and
    whose ``/jsonp`` has ``entries`` as its referrer allowlist.
    """
    app = Flask(__name__)
    CORS(app, resources=r"/cors", origins=cors_origins(entries))

    @app.get("/cors")
    def by_cors() -> Any:
        return {"ok": True}

    @app.get("/jsonp")
    @jsonp(allowed_referrers=entries)
    def by_jsonp() -> Any:
        return {"ok": True}

    return app.test_client()


def cors_allows(entries: str | tuple[str, ...], origin: str) -> bool:
    """Whether flask-cors lets a page of ``origin`` read the answer."""
    response = agreement_client(entries).get("/cors", headers={"Origin": origin})
    return response.headers.get("Access-Control-Allow-Origin") == origin


def jsonp_allows(entries: str | tuple[str, ...], referrer: str) -> bool:
    """Whether a page at ``referrer`` gets the JSONP answer (else a 403)."""
    response = agreement_client(entries).get(
        "/jsonp?callback=cb", headers={"Referer": referrer}
    )
    assert response.status_code in (200, 403)
    return response.status_code == 200


@pytest.mark.parametrize("name", ALLOWLISTS)
@pytest.mark.parametrize(("origin", "allowed_by"), ORIGINS)
def test_cors_allows_exactly_the_origins_the_referrer_allowlist_allows(
    name: str, origin: str, allowed_by: set[str]
) -> None:
    entries = ALLOWLISTS[name]
    expected = name in allowed_by or name == "every"
    assert jsonp_allows(entries, f"{origin}/page?q=1") is expected
    assert cors_allows(entries, origin) is expected


@pytest.mark.parametrize(
    ("referrer", "origin"),
    [
        ("https://user:secret@app.example/path?q=1#top", "https://app.example"),
        ("https://app.example:443/", "https://app.example"),
        ("https://App.Example./a/b", "https://app.example."),
        (
            "https://deep.a.example.com/x?https://evil.test",
            "https://deep.a.example.com",
        ),
    ],
)
def test_a_page_allowed_by_referrer_is_allowed_by_the_origin_its_browser_sends(
    referrer: str, origin: str
) -> None:
    entries = ALLOWLISTS["exact" if "app.example" in origin else "subdomains"]
    assert jsonp_allows(entries, referrer)
    assert cors_allows(entries, origin)


@pytest.mark.parametrize(
    ("entry", "referrer"),
    [
        ("https://app.example", "https://app.example:443/p?token=x"),
        ("http://localhost:5000", "http://localhost:5000/p#f"),
        ("https://[2001:db8::1]", "https://[2001:DB8::1]/p?token=x"),
        ("https://[2001:db8::1]", "https://[2001:db8::1]:443/p"),
        ("http://[::1]:8080", "http://[::1]:8080/p"),
    ],
)
def test_the_origin_a_signal_reports_is_the_one_cors_and_metrics_know(
    entry: str, referrer: str
) -> None:
    # The signals' origin labels metrics through matching_entry and is what
    # the page's browser sends CORS: one spelling for all three.
    origin = page_origin({"HTTP_REFERER": referrer})
    assert origin is not None
    assert cors_allows((entry,), origin)
    assert matching_entry(origin, [entry]) == entry


@pytest.mark.parametrize(
    "origin",
    [
        "https://app.example/",
        "https://app.example/page",
        "https://user@app.example",
        "https://app.example@evil.test",
        "https://evil.test#https://app.example",
        "https://evil.test?https://app.example",
        " https://app.example",
        "https://app.example\t",
        "https://app.exa\tmple",
        "https://app.example:443:443",
        "https://evil.test@a.example.com",
        "https://evil.test\\.example.com",
    ],
)
def test_cors_refuses_what_is_not_an_origin(origin: str) -> None:
    assert not cors_allows(ALLOWLISTS["exact"], origin)


#: Labels made of the characters a browser may write in a host name.
LABELS = st.text(
    st.sampled_from("abcXYZ019-_!$&'()*+,;=~{}`\""), min_size=1, max_size=4
)
PROPERTY_ENTRIES = (
    "https://app.example",
    "https://*.example.com",
    "http://*.xn--bcher-kva.example:8080",
    "http://a+b.test:80",
)


@st.composite
def origin_shaped(draw: st.DrawFn) -> str:
    """``scheme://host[:port]`` near one of :data:`PROPERTY_ENTRIES`, spelled
    in every way browsers or forgers may.
    """
    scheme, domain, port = draw(
        st.sampled_from(
            [
                ("https", "app.example", 443),
                ("https", "example.com", 443),
                ("http", "xn--bcher-kva.example", 8080),
                ("http", "a+b.test", 80),
            ]
        )
    )
    scheme = draw(st.sampled_from([scheme, scheme.upper(), "http", "https"]))
    labels = draw(st.lists(LABELS, max_size=2))
    host = ".".join([*labels, draw(st.sampled_from([domain, domain.upper()]))])
    host += draw(st.sampled_from(["", "."]))
    zeros = "0" * draw(st.integers(0, 2))
    spelled = draw(
        st.sampled_from(
            ["", ":", f":{zeros}{port}", f":{port + 1}", ":80", ":443", ":8080"]
        )
    )
    return f"{scheme}://{host}{spelled}"


@settings(max_examples=300, deadline=None)
@given(origin=origin_shaped())
def test_cors_and_referrer_allowlist_agree_on_any_origin(origin: str) -> None:
    referrer = f"{origin}/"
    assert cors_allows(PROPERTY_ENTRIES, origin) is jsonp_allows(
        PROPERTY_ENTRIES, referrer
    )


def test_cors_origins_are_anchored_patterns_immune_to_flask_cors_guessing() -> None:
    origins = cors_origins(["https://app.example", "https://*.example.com"])
    assert all(isinstance(origin, re.Pattern) for origin in origins)


@pytest.mark.parametrize(("entries", "expected"), [("*", ["*"]), ([], [])])
def test_every_page_and_no_page(entries: str | list[str], expected: list[str]) -> None:
    assert cors_origins(entries) == expected


def test_a_single_string_is_one_entry() -> None:
    (origin,) = cors_origins("https://app.example")
    assert isinstance(origin, re.Pattern)
    assert origin.match("https://app.example")


@pytest.mark.parametrize(
    "entry",
    [
        "app.example",
        "https://app.example/path",
        "https://user@app.example",
        "https://*",
        "https://a.*.example",
        "ftp://app.example",
        "https://faß.example",
    ],
)
def test_an_entry_refused_by_allowed_referrers_is_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        cors_origins([entry])
    with pytest.raises(ValueError):
        matching_entry("https://app.example", [entry])


def test_cors_answers_vary_origin_and_no_origin_to_requests_without_one() -> None:
    client = agreement_client(ALLOWLISTS["exact"])
    allowed = client.get("/cors", headers={"Origin": "https://app.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert allowed.headers["Vary"] == "Origin"
    # A plain string would make flask-cors send it to requests without Origin.
    assert "Access-Control-Allow-Origin" not in client.get("/cors").headers


MATCHING = [
    "https://app.example",
    "https://api.example.com",
    "https://*.example.com",
    "https://bücher.example",
    "http://localhost:5000",
]


@pytest.mark.parametrize(
    ("origin", "entry"),
    [
        ("https://app.example", "https://app.example"),
        ("https://APP.example.:443", "https://app.example"),
        ("https://api.example.com", "https://api.example.com"),
        ("https://shop.example.com", "https://*.example.com"),
        ("https://a.api.example.com", "https://*.example.com"),
        ("https://xn--bcher-kva.example", "https://bücher.example"),
        ("http://localhost:5000", "http://localhost:5000"),
        ("http://localhost:5001", None),
        ("https://example.com", None),
        ("https://xexample.com", None),
        ("https://app.example.evil.test", None),
        ("null", None),
        ("", None),
        (None, None),
    ],
)
def test_matching_entry_names_the_first_entry_that_allows_the_origin(
    origin: str | None, entry: str | None
) -> None:
    assert matching_entry(origin, MATCHING) == entry


@pytest.mark.parametrize(
    ("origin", "entries", "entry"),
    [
        ("https://evil.test", "*", "*"),
        ("null", "*", None),
        (None, "*", None),
        ("https://app.example", "https://app.example", "https://app.example"),
        ("https://app.example", (e for e in MATCHING), "https://app.example"),
        ("https://app.example", [], None),
    ],
)
def test_matching_entry_takes_what_allowed_referrers_takes(
    origin: str | None, entries: str | Iterable[str], entry: str | None
) -> None:
    assert matching_entry(origin, entries) == entry
