"""Reading the callback from the raw query string, without parsing the rest."""

from __future__ import annotations

from urllib.parse import parse_qsl
from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from flask_jsonp.query import CallbackFinder
from flask_jsonp.query import QueryError

FINDER = CallbackFinder(("callback",))


@pytest.mark.parametrize(
    ("query", "callback"),
    [
        ("", None),
        ("page=2&sort=name", None),
        ("callback=cb", "cb"),
        ("a=1&callback=cb&b=2", "cb"),
        ("%63allback=cb", "cb"),
        ("callback=%63b", "cb"),
        ("callback=a+b", "a b"),
        ("callback", ""),
        ("callback=", ""),
        ("callbacks=cb", None),
        ("xcallback=cb", None),
        ("callback=a=b", "a=b"),
        ("&&callback=cb&&", "cb"),
        ("callback=cb;x=1", "cb;x=1"),
        ("callback=caf%C3%A9", "caf\u00e9"),
    ],
)
def test_finds_the_callback_as_parse_qsl_reads_it(query: str, callback: str) -> None:
    assert FINDER.find(query) == callback


@pytest.mark.parametrize("query", ["callback=a&callback=b", "callback=a&%63allback=b"])
def test_repeated_parameter_is_refused(query: str) -> None:
    with pytest.raises(QueryError, match="more than once"):
        FINDER.find(query)


def test_query_that_is_not_utf8_is_refused() -> None:
    # WSGI hands the raw bytes over as latin-1.
    with pytest.raises(QueryError, match="UTF-8"):
        FINDER.find(b"callback=cb&q=\xff".decode("latin-1"))
    assert FINDER.find("callback=caf\u00e9".encode().decode("latin-1")) == "caf\u00e9"


def test_first_present_parameter_wins() -> None:
    finder = CallbackFinder(("cb", "callback"))
    assert finder.find("callback=a&cb=b") == "b"
    assert finder.find("callback=a") == "a"
    # Only the parameter that wins has to be unambiguous, as with getlist().
    assert finder.find("cb=b&callback=a&callback=c") == "b"


def test_a_parameter_name_with_a_space_may_hide_behind_a_plus() -> None:
    assert CallbackFinder(("my cb",)).find("my+cb=x") == "x"


#: Query strings made of pieces that matter: the parameter's name, spelt
#: plainly or encoded, other names, separators and encoded values.
_pieces = st.sampled_from(
    ["callback", "%63allback", "callback=", "=", "&", "cb", "%26", "+", "%2B", "x", "%"]
)


@given(st.lists(_pieces, max_size=12).map("".join))
def test_agrees_with_werkzeugs_args(query: str) -> None:
    # What request.args.getlist("callback") gives, through the same parser.
    values = MultiDict(parse_qsl(query, keep_blank_values=True)).getlist("callback")
    if len(values) > 1:
        with pytest.raises(QueryError):
            FINDER.find(query)
    else:
        assert FINDER.find(query) == (values[0] if values else None)


@given(st.text(max_size=20))
def test_any_value_round_trips(value: str) -> None:
    assert FINDER.find(f"a=1&callback={quote_plus(value)}") == value


#: Pieces of queries a plan's shortcut must not misread: valid and reserved
#: names, dots and indexes, what needs decoding, other parameters, non-ASCII.
_plan_pieces = st.sampled_from(
    [
        *("callback=", "cb", "a.b", "[0]", "$", "_", "%", "%62", "+", "&", "="),
        *("x=1", "eval", "this", "\u00e9", "jQuery", ";", "callback", "9"),
    ]
)


@given(
    st.lists(_plan_pieces, max_size=8).map("".join), st.sampled_from(["GET", "POST"])
)
def test_a_plans_shortcut_accepts_only_what_the_full_check_accepts(
    query: str, method: str
) -> None:
    from flask import Flask

    from flask_jsonp.errors import JsonpRequestError
    from flask_jsonp.plan import Layers
    from flask_jsonp.plan import plan_for

    app = Flask(__name__)
    plan = plan_for(app, Layers())
    environ = {"REQUEST_METHOD": method, "QUERY_STRING": query}
    accepted = plan.accepted(query, environ)
    try:
        found = plan.finder.find(query)
    except QueryError:
        assert accepted is None
        return
    if accepted is None:
        return
    # The shortcut read the callback the parser reads, and every check takes it.
    assert accepted == found
    try:
        plan.check(app, accepted, environ)
    except JsonpRequestError as refusal:  # pragma: no cover - the failure
        pytest.fail(f"accepted {accepted!r}, refused by the check: {refusal!r}")
