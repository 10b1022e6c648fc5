"""The JSONP body, built without Flask, executed by Node.js."""

from __future__ import annotations

import json

import pytest

from flask_jsonp import response
from flask_jsonp.response import escape_json_for_script
from flask_jsonp.response import guarded_call_prefix
from flask_jsonp.response import jsonp_body
from tests.node import NodeRunner

TRICKY = {
    "html": "</script><script>alert(1)</script><!-- -->",
    "separators": "a\u2028b\u2029c",
    "amp": "&amp; & &#x3c;",
    "unicode": "snow \u2603 astral \U0001f600 nul \x00",
    "quote": 'it\'s "quoted" \\ backslash',
    "numbers": [0, -1, 1.5, 1e300, -1e-300, 2**53],
    "nested": [[[{"deep": [None, True, False]}]]],
}


def body(callback: str, data: object, *, ensure_ascii: bool = True) -> bytes:
    json_body = json.dumps(data, ensure_ascii=ensure_ascii).encode()
    built = jsonp_body(callback, json_body)
    joined = b"".join(built.chunks)
    assert len(joined) == built.length
    return joined


@pytest.mark.node
@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize(
    "callback", ["onBack", "a.b.c", "callbacks[3]", "$", "angular.callbacks._0"]
)
def test_callback_receives_the_data_once(
    node: NodeRunner, callback: str, ensure_ascii: bool
) -> None:
    result = node.run(body(callback, TRICKY, ensure_ascii=ensure_ascii), callback)
    assert result.error is None
    assert result.calls == [[TRICKY]]
    assert result.new_globals == []


@pytest.mark.node
@pytest.mark.parametrize("callback", ["onBack", "a.b.c", "callbacks[3]", "a.b[1]"])
def test_undefined_callback_is_a_silent_no_op(node: NodeRunner, callback: str) -> None:
    result = node.run(body(callback, {"x": 1}), callback=None)
    assert result.error is None
    assert result.calls == []
    assert result.new_globals == []


@pytest.mark.node
def test_dotted_callback_with_missing_middle_is_a_no_op(node: NodeRunner) -> None:
    script = b"var a = {};" + body("a.b.c", [1])
    result = node.run(script)
    assert result.error is None
    assert result.new_globals == ["a"]


@pytest.mark.node
def test_callback_that_is_not_a_function_is_not_called(node: NodeRunner) -> None:
    result = node.run(b"var onBack = 42;" + body("onBack", [1]))
    assert result.error is None


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_body_never_contains_markup_or_raw_line_separators(ensure_ascii: bool) -> None:
    json_body = json.dumps(TRICKY, ensure_ascii=ensure_ascii).encode()
    raw = b"".join(jsonp_body("cb", json_body).chunks)
    escaped = raw[len(guarded_call_prefix("cb")) : -len(b");")]
    assert raw.startswith(b"/**/")
    for needle in (
        b"</script",
        b"<!--",
        b"<",
        b">",
        "\u2028".encode(),
        "\u2029".encode(),
    ):
        assert needle not in raw.lower()
    assert b"&" not in escaped


def test_escaping_keeps_bytes_without_unsafe_characters_uncopied() -> None:
    json_body = b'{"a": "plain"}' * 1000
    assert escape_json_for_script(json_body) is json_body


def test_guard_refuses_invalid_callbacks() -> None:
    with pytest.raises(ValueError):
        guarded_call_prefix("alert(1)")


@pytest.mark.node
def test_envelope_is_spliced_around_the_json(node: NodeRunner) -> None:
    built = jsonp_body("cb", b'{"a": [1]}\n', envelope_status=201)
    result = node.run(b"".join(built.chunks), "cb")
    assert result.calls == [[{"meta": {"status": 201}, "data": {"a": [1]}}]]


def test_big_body_without_unsafe_characters_is_not_copied() -> None:
    json_body = b'{"a": "plain"}' * 10_000
    built = jsonp_body("cb", json_body)
    assert isinstance(built.chunks, tuple)
    assert built.chunks[1] is json_body


@pytest.mark.node
def test_small_body_is_one_chunk(node: NodeRunner) -> None:
    built = jsonp_body("cb", b'{"a": "<b>"}')
    assert isinstance(built.chunks, tuple)
    assert len(built.chunks) == 1
    assert node.run(built.chunks[0], "cb").calls == [[{"a": "<b>"}]]


@pytest.mark.node
@pytest.mark.parametrize("slice_size", [1, 2, 3, 5, 64])
def test_escaping_in_slices_never_splits_a_character(
    node: NodeRunner, monkeypatch: pytest.MonkeyPatch, slice_size: int
) -> None:
    monkeypatch.setattr(response, "EAGER_ESCAPE_LIMIT", 0)
    monkeypatch.setattr(response, "SLICE_SIZE", slice_size)
    data = ["<\u2028>\u2029&" * 7, "caf\u00e9 \U0001f600 \u2028" * 5, {"k<": "v>"}]
    json_body = json.dumps(data, ensure_ascii=False).encode()
    built = jsonp_body("cb", json_body)
    assert not isinstance(built.chunks, tuple)
    joined = b"".join(built.chunks)
    assert len(joined) == built.length
    assert joined.decode("utf-8")  # every slice boundary fell between characters
    assert node.run(joined, "cb").calls == [[data]]


@pytest.mark.node
@pytest.mark.parametrize(
    "data",
    [
        {"__proto__": {"isAdmin": True}},
        [{"a": {"__proto__": [1, "</script>"]}}],
        {"key": 'a"__proto__'},
        {'a"__proto__': 1},
    ],
)
def test_proto_keys_arrive_as_own_properties(node: NodeRunner, data: object) -> None:
    # In an object literal "__proto__" would set the prototype and vanish from
    # the keys (and from the JSON the runner sends back).
    script = body("cb", data, ensure_ascii=False)
    assert b"</script" not in script
    result = node.run(script + b"var check = 1;", "cb")
    assert result.error is None
    assert result.calls == [[data]]


def test_small_body_drops_jsonifys_trailing_newline() -> None:
    built = jsonp_body("cb", b'{"a":1}\n')
    assert built.chunks == (b'/**/typeof cb === "function" && cb({"a":1});',)
    assert built.length == len(built.chunks[0])


@pytest.mark.parametrize("size", [10, 100_000, 2_000_000])
def test_same_bytes_whatever_the_size(size: int) -> None:
    # jsonify's trailing newline is dropped from every body, not only small ones.
    data = {"a": "x" * size, "b": "<&>"}
    json_body = json.dumps(data, separators=(",", ":")).encode()
    with_newline = b"".join(jsonp_body("cb", json_body + b"\n").chunks)
    assert with_newline == b"".join(jsonp_body("cb", json_body).chunks)
    assert with_newline.endswith(b'"\\u003c\\u0026\\u003e"});')


@pytest.mark.node
def test_proto_key_with_nan_still_calls_the_callback(node: NodeRunner) -> None:
    # Flask's default provider writes NaN and Infinity, which JSON.parse refuses.
    json_body = b'{"__proto__": {"x": NaN}, "y": [Infinity, -Infinity]}'
    script = b"".join(jsonp_body("cb", json_body).chunks)
    check = (
        b"function cb(d) { report(Object.keys(d), Number.isNaN(d.__proto__.x),"
        b" d.y[0] === Infinity, Object.getPrototypeOf(d) === Object.prototype); }\n"
    )
    result = node.run(check + script, "report")
    assert result.error is None
    assert result.calls == [[["__proto__", "y"], True, True, True]]


@pytest.mark.parametrize(
    "json_body",
    [
        b'{"key": "a\\"__proto__\\": 1"}',
        b'["__proto__", {"k": "__proto__"}]',
        b'{"a": ",\\"__proto__\\":"}',
    ],
)
def test_proto_inside_strings_is_left_alone(json_body: bytes) -> None:
    assert response.own_proto_keys(json_body) is json_body


def test_only_real_proto_keys_are_rewritten() -> None:
    json_body = b'{"__proto__":1,"s":"{\\"__proto__\\":2}", "n": { "__proto__" : 3}}'
    assert response.own_proto_keys(json_body) == (
        b'{["__proto__"]:1,"s":"{\\"__proto__\\":2}", "n": { ["__proto__"] : 3}}'
    )


def test_prefix_cache_is_bounded() -> None:
    for number in range(response.PREFIX_CACHE_SIZE + 10):
        guarded_call_prefix(f"cb{number}")
    info = guarded_call_prefix.cache_info()
    assert info.currsize <= response.PREFIX_CACHE_SIZE
