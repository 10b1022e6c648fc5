"""Property tests: any callback text, any JSON value, through a decorated view and
Node.js.

Each example is one request to a Flask app and, when the answer is a script, one
run of that script in a fresh V8 context (the session ``node_runner``: the
function-scoped ``node`` fixture cannot be shared across hypothesis examples).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import current_app
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from flask_jsonp import CallbackNotAllowed
from flask_jsonp import InvalidCallback
from flask_jsonp import jsonp
from flask_jsonp._browser_globals import BROWSER_GLOBALS
from flask_jsonp.callback import DEFAULT_MAX_CALLBACK_LENGTH
from flask_jsonp.callback import REFUSAL_REASONS
from flask_jsonp.callback import SINK_SEGMENTS
from tests.helpers import assert_jsonp_headers
from tests.node import NodeRunner
from tests.tools import in_ci

pytestmark = pytest.mark.node

#: 2,000 examples per property in CI, a quick run locally.
MAX_EXAMPLES = 2000 if in_ci() else 300

PROPERTY_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    # Both apps are built once per module; hypothesis warns about fixtures that
    # are rebuilt per test function, not about these.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: What every accepted callback receives.
DATA = {"html": "</script><!--", "separators": "\u2028\u2029", "n": [1, 2.5, None]}

#: The exact names the ``/fixed`` endpoint answers.
FIXED_CALLBACKS = ("onData", "app.callbacks[0]")

#: What a client may rely on: ASCII identifiers joined by dots, with one optional
#: canonical index at the end. Written out again here, not imported, so that a
#: change to the package's grammar has to be a deliberate change to this test.
IDENTIFIER_PATH = re.compile(
    r"[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*(\[(0|[1-9][0-9]*)\])?"
)

#: The bodies a refusal may have: one per status and reason, none of which can
#: depend on the callback sent (the reasons are fixed texts).
REFUSAL_BODIES = {
    400: [
        {"error": InvalidCallback.error, "message": message}
        for message in (InvalidCallback.description, *REFUSAL_REASONS)
    ],
    403: [
        {
            "error": CallbackNotAllowed.error,
            "message": CallbackNotAllowed.description,
        }
    ],
}

#: First segments of the library namespaces the default policy refuses. Written
#: out, like :data:`IDENTIFIER_PATH`, so that changing them is deliberate.
LIBRARY_NAMESPACES = {"$", "jQuery", "Zepto", "require", "requirejs"}


def _make_callback_app() -> Flask:
    app = Flask(__name__)
    app.config["TESTING"] = True

    @app.get("/data")
    @jsonp
    def data() -> Any:
        return DATA

    @app.get("/fixed")
    @jsonp(allowed_callbacks=FIXED_CALLBACKS)
    def fixed() -> Any:
        return DATA

    return app


#: The value the ``/value`` views answer, set by each example before its request.
_served: dict[str, Any] = {}


def _make_value_app() -> Flask:
    app = Flask(__name__)
    app.config["TESTING"] = True

    @app.get("/value")
    @jsonp
    def value() -> Any:
        return current_app.json.response(_served["value"])

    @app.get("/value-envelope")
    @jsonp(envelope=True)
    def value_envelope() -> Any:
        return current_app.json.response(_served["value"])

    return app


CALLBACK_APP = _make_callback_app()
VALUE_APP = _make_value_app()


@pytest.fixture(scope="module")
def callback_client() -> FlaskClient:
    return CALLBACK_APP.test_client()


@pytest.fixture(scope="module")
def value_client() -> FlaskClient:
    return VALUE_APP.test_client()


# -- Callbacks ----------------------------------------------------------------

_REFUSED_UPPER_CASE = BROWSER_GLOBALS | {"$", "Function"}

#: Segments no ECMAScript reserved word can be (reserved words are lower case and
#: contain no ``$``), no global of the browser (the data read from Chromium and
#: Firefox) and none of the upper case or ``$`` names the default policy refuses.
#: Names built only from these must always be accepted.
SURELY_VALID_SEGMENT = st.from_regex(
    r"[A-Z$][A-Za-z0-9_$]{0,8}", fullmatch=True
).filter(
    lambda segment: segment not in BROWSER_GLOBALS and segment not in {"$", "Function"}
)
ANY_PLAIN_SEGMENT = st.from_regex(r"[A-Za-z_$][A-Za-z0-9_$]{0,8}", fullmatch=True)

#: Reserved words, prototype machinery and globals with behaviour of their own.
SPECIAL_SEGMENTS = [
    *("this", "new", "typeof", "void", "delete", "let", "await", "yield", "static"),
    *("null", "true", "false", "function", "class", "import", "in", "if", "do"),
    *("constructor", "prototype", "__proto__", "eval", "arguments", "undefined"),
    *("NaN", "Infinity", "globalThis", "window", "document", "toString"),
    *("valueOf", "hasOwnProperty", "Function", "Object", "setTimeout", "opener"),
    # What the default policy refuses besides the grammar: globals of the
    # browser, library namespaces, and segments that act on the page.
    *("location", "onload", "onmessage", "Request", "alert", "$", "jQuery"),
    *("click", "submit", "write", "firstChild", "parentNode", "html", "fn"),
    *FIXED_CALLBACKS,
    "onDat",
    "ondata",
]

#: Characters that look like, or are treated like, identifier characters
#: somewhere: Cyrillic and fullwidth letters, the Kelvin sign and long s (case
#: folding), zero-width (non-)joiners (valid in JS identifiers), digits of other
#: scripts, spaces, BOM, line separators.
LOOKALIKES = [
    *("\u0430", "\u0435", "\u043e", "\uff41", "\uff44", "\u0131", "\u212a"),
    *("\u017f", "\u00e9", "e\u0301", "\u200b", "\u200c", "\u200d", "\u0661"),
    *("\uff10", "\u00a0", "\u3000", "\ufeff", "\u2028", "\u2029", "\U0001d44e"),
]

PUNCTUATION = [
    *list(";()=/*+-,'\"`\\<>!?:{}[] \t\n\r%&#@~^|."),
    *("//", "/*", "*/", "<!--", "-->", "\\u0061", "\\x61", "\x00", "..", "?."),
    *("</script>", "=>", "${", "%00", "&callback=x"),
]

INDEXES = [
    *("[0]", "[1]", "[42]", "[01]", "[-1]", "[1.5]", "[1e3]", "['x']", '["x"]'),
    *("[x]", "[]", "[0][1]", "[ 1]", "[0x1]", "[\u0661]", "[1]]", "[[1]"),
]

CANONICAL_INDEXES = ["[0]", "[7]", "[42]", "[1000]"]


@st.composite
def near_valid_callbacks(draw: st.DrawFn) -> tuple[str, bool]:
    """Build names close to valid ones: identifier paths with reserved words,
    look-alike letters, indexes and punctuation mixed in, near the length limit.

    :return: the name, and whether it is certainly valid (built only from
        :data:`SURELY_VALID_SEGMENT` and canonical indexes, within the length).
    """
    surely_valid = True
    segments = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["safe", "safe", "plain", "special", "tainted"]))
        if kind == "safe":
            segments.append(draw(SURELY_VALID_SEGMENT))
            continue
        surely_valid = False
        if kind == "plain":
            segments.append(draw(ANY_PLAIN_SEGMENT))
        elif kind == "special":
            segments.append(draw(st.sampled_from(SPECIAL_SEGMENTS)))
        else:
            segment = draw(ANY_PLAIN_SEGMENT)
            at = draw(st.integers(0, len(segment)))
            lookalike = draw(st.sampled_from(LOOKALIKES))
            segments.append(segment[:at] + lookalike + segment[at:])
    name = ".".join(segments)
    index = draw(st.sampled_from([None, "canonical", "odd"]))
    if index == "canonical":
        name += draw(st.sampled_from(CANONICAL_INDEXES))
    elif index == "odd":
        name += draw(st.sampled_from(INDEXES))
        surely_valid = False
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(name)))
        name = name[:at] + draw(st.sampled_from(PUNCTUATION)) + name[at:]
        surely_valid = False
    target_length = draw(
        st.sampled_from([None, None, None, 127, 128, 129, 130, 1000, 100_000])
    )
    if target_length is not None and len(name) < target_length:
        # Lengthen the first segment after its first character, so the result
        # keeps its shape.
        name = name[:1] + "a" * (target_length - len(name)) + name[1:]
    if len(name) > DEFAULT_MAX_CALLBACK_LENGTH:
        surely_valid = False
    return name, surely_valid


ANY_CALLBACK = st.one_of(
    st.text().map(lambda text: (text, False)),
    near_valid_callbacks(),
)


def _assert_refused_without_echo(response: Any, callback: str) -> None:
    assert response.status_code in REFUSAL_BODIES, response.status_code
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert not response.data.startswith(b"/**/")
    # The body is one of a few fixed texts, whatever the callback was: nothing
    # is reflected.
    assert response.json in REFUSAL_BODIES[response.status_code]
    canonical_text = json.dumps(response.json)
    if len(callback) > 2 and callback not in canonical_text:
        assert callback.encode() not in response.data
        assert json.dumps(callback)[1:-1].encode() not in response.data
        for _, value in response.headers:
            assert callback not in value


@PROPERTY_SETTINGS
@given(case=ANY_CALLBACK, fixed=st.booleans())
def test_any_callback_is_refused_or_called_exactly_once(
    callback_client: FlaskClient,
    node_runner: NodeRunner,
    case: tuple[str, bool],
    fixed: bool,
) -> None:
    callback, surely_valid = case
    path = "/fixed" if fixed else "/data"
    response = callback_client.get(path, query_string={"callback": callback})
    if surely_valid and (not fixed or callback in FIXED_CALLBACKS):
        assert response.status_code == 200, (callback, response.data)
    if response.status_code != 200:
        _assert_refused_without_echo(response, callback)
        return
    # Accepted: an ASCII identifier path, no longer than the limit, under one of
    # the page's own globals and clear of anything that acts on the page...
    assert IDENTIFIER_PATH.fullmatch(callback), callback
    assert len(callback) <= DEFAULT_MAX_CALLBACK_LENGTH
    segments = callback.split("[")[0].split(".")
    assert segments[0] not in BROWSER_GLOBALS, callback
    assert segments[0] not in LIBRARY_NAMESPACES, callback
    assert SINK_SEGMENTS.isdisjoint(segments), callback
    if fixed:
        assert callback in FIXED_CALLBACKS
    assert_jsonp_headers(response)
    assert response.data.startswith(b"/**/")
    # ...and running the answer calls exactly that path, once, with the data,
    # and does nothing else.
    result = node_runner.run(response.data, callback)
    assert result.error is None, (callback, result.error)
    assert result.new_globals == []
    # Read-only globals no page can turn into a function (``undefined``,
    # ``NaN``) are globals of the browser, refused: every accepted name can be
    # defined by the page, and is called.
    assert result.callback_defined is True, callback
    assert result.calls == [[DATA]], callback


# -- JSON values --------------------------------------------------------------

#: Integers JavaScript numbers hold exactly.
JS_SAFE_INTEGERS = st.integers(-(2**53), 2**53)

#: Text that tries to end the script, the string or the line, or to be read
#: as markup, plus text drawn from every Unicode plane (surrogates cannot be
#: encoded as UTF-8 and are left out).
SCRIPT_BREAKERS = [
    *("</script>", "</SCRIPT >", "<!--", "-->", "<script>", "]]>", "&lt;", "&"),
    *("\u2028", "\u2029", "\r\n", "\x00", "\x1f", '"', "\\", "'", "`", "${x}"),
    *("\ufeff", "\U0001f600", "\U0010ffff", "\ue000", "*/", "/*", "//"),
]
ANY_PLANE_CHARACTER = st.integers(0, 16).flatmap(
    lambda plane: st.characters(
        min_codepoint=plane << 16, max_codepoint=(plane << 16) | 0xFFFF, codec="utf-8"
    )
)
JSON_TEXT = st.lists(
    st.one_of(
        st.text(max_size=6),
        st.text(ANY_PLANE_CHARACTER, max_size=4),
        st.sampled_from(SCRIPT_BREAKERS),
    ),
    max_size=5,
).map("".join)

#: Keys include ``__proto__`` often: in an object literal it would set the
#: prototype, so the package passes such bodies through ``JSON.parse``.
JSON_KEYS = JSON_TEXT | st.just("__proto__")

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | JS_SAFE_INTEGERS
    | st.floats(allow_nan=False, allow_infinity=False)
    | JSON_TEXT,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(JSON_KEYS, children, max_size=5)
    ),
    max_leaves=25,
)


def assert_same_json(expected: Any, actual: Any, where: str = "value") -> None:
    """Compare as JavaScript would: one number type, but ``true`` is not ``1``."""
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        assert type(actual) is type(expected) and actual == expected, where
    elif isinstance(expected, (int, float)):
        # Node prints 4.7e16 as 47092713083315470, which Python reads as an int
        # that is not the double 47092713083315472: compare as doubles.
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool)
        assert float(actual) == float(expected), where
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for position, (item, got) in enumerate(zip(expected, actual, strict=True)):
            assert_same_json(item, got, f"{where}[{position}]")
    else:
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), where
        for key, item in expected.items():
            assert_same_json(item, actual[key], f"{where}[{key!r}]")


@PROPERTY_SETTINGS
@given(
    value=JSON_VALUES,
    ensure_ascii=st.booleans(),
    sort_keys=st.booleans(),
    compact=st.booleans(),
    envelope=st.booleans(),
    callback=st.sampled_from(["cb", "a.b.c", "cbs[7]", "$cb"]),
)
def test_any_json_value_arrives_unchanged(
    value_client: FlaskClient,
    node_runner: NodeRunner,
    value: Any,
    ensure_ascii: bool,
    sort_keys: bool,
    compact: bool,
    envelope: bool,
    callback: str,
) -> None:
    provider: Any = VALUE_APP.json
    provider.ensure_ascii = ensure_ascii
    provider.sort_keys = sort_keys
    provider.compact = compact
    _served["value"] = value
    path = "/value-envelope" if envelope else "/value"
    response = value_client.get(path, query_string={"callback": callback})
    assert response.status_code == 200
    assert_jsonp_headers(response)
    for unsafe in (b"<", b">", "\u2028".encode(), "\u2029".encode()):
        assert unsafe not in response.data
    result = node_runner.run(response.data, callback)
    assert result.error is None, result.error
    assert result.new_globals == []
    assert len(result.calls) == 1
    (received,) = result.calls[0]
    if envelope:
        assert received.keys() == {"meta", "data"}
        assert received["meta"] == {"status": 200}
        received = received["data"]
    assert_same_json(value, received)
