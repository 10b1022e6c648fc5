from __future__ import annotations

import pytest

from flask_jsonp.callback import callback_path
from flask_jsonp.callback import is_valid_callback

# Names that real clients generate: jQuery, AngularJS (1.x and 1.5+), YUI, and the
# hand-written ones from the tutorials.
CLIENT_NAMES = [
    "jQuery37100123456789_1700000000000",
    "angular.callbacks._0",
    "__ng_jsonp__.__req1.finished",
    "YUI.Env.JSONP.yui_3_5_1_1",
    "$",
    "_",
    "onBack",
    "callbacks[3]",
    "a.b[0]",
    "jsonp_1700000000000_42",
]


@pytest.mark.parametrize("callback", CLIENT_NAMES)
def test_names_real_clients_generate_are_valid(callback: str) -> None:
    assert is_valid_callback(callback)


@pytest.mark.parametrize(
    "callback",
    [
        "",
        "alert(1)",
        "a;b",
        "a b",
        "1abc",
        "a..b",
        "a.",
        ".a",
        "a[01]",
        "a[-1]",
        "a[1][2]",
        "a[1].b",
        "a['x']",
        "a[x]",
        "</script>",
        "a\n",
        "a\u2028",
        "caf\u00e9",  # non-ASCII letters are refused, not normalised
        "\uff41",  # fullwidth a
        "a\\u0062",
        "a-b",
        "a/*x*/",
        "a=1",
        "(a)",
        "new",
        "this.x",
        "x.constructor",
        "x.prototype",
        "x.__proto__",
        "a.function.b",
        "typeof",
        "await",
        "let",
        "null",
        "true",
    ],
)
def test_invalid_names_are_refused(callback: str) -> None:
    assert not is_valid_callback(callback)


def test_length_limit_is_inclusive() -> None:
    assert is_valid_callback("a" * 128)
    assert not is_valid_callback("a" * 129)
    assert is_valid_callback("a" * 10, max_length=10)
    assert not is_valid_callback("a" * 11, max_length=10)


def test_allowed_names_are_exact() -> None:
    assert is_valid_callback("onData", allowed=["onData"])
    assert not is_valid_callback("onDat", allowed=["onData"])
    assert not is_valid_callback("x.onData", allowed=["onData"])


def test_callback_path_splits_segments_and_index() -> None:
    assert callback_path("a.b.c") == (["a", "b", "c"], None)
    assert callback_path("cbs[12]") == (["cbs"], "12")
    assert callback_path("a b") is None
