"""Building the JSONP body from JSON bytes: pure functions, no Flask.

The body is ``/**/`` followed by a guarded call::

    /**/typeof onBack === "function" && onBack({"user": "admin"});

The leading comment keeps the first bytes of the answer out of the attacker's hands
(the Rosetta Flash defence), and the guard means a page that has not defined the
callback, or has removed it after a timeout, gets no error.

The JSON is the provider's bytes, escaped for a script context without being
decoded: not copied at all when nothing needs escaping, and for very big bodies
escaped slice by slice while the answer is sent, so that the wrapping step never
holds more than one escaped slice beside the body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

from .callback import callback_path

#: Characters that are valid inside a JSON string but dangerous in a script: ``<``
#: and ``>`` could close the surrounding ``<script>`` or open ``<!--`` when the
#: answer is inlined, ``&`` starts HTML entities, and U+2028/U+2029 end a line in
#: older JavaScript engines. Each is replaced by its JSON ``\\uXXXX`` escape, which
#: decodes to the same string. In JSON text they can only occur inside strings, so
#: the replacement never changes the value.
SCRIPT_UNSAFE_JSON_BYTES: tuple[tuple[bytes, bytes], ...] = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)

#: Content type of JSONP answers.
JAVASCRIPT_MIMETYPE = "text/javascript"

#: Bodies that need escaping and are bigger than this are escaped in slices of
#: :data:`SLICE_SIZE` while they are sent, which bounds the memory the wrapping
#: step needs however many characters grow sixfold; smaller ones are escaped at
#: once, which is faster (``bytes.replace`` beats ``bytes.count``).
EAGER_ESCAPE_LIMIT = 1024 * 1024

#: Size of the slices a big body is escaped in.
SLICE_SIZE = 64 * 1024

#: Answers up to this size are sent as one chunk: most WSGI servers make one
#: ``send()`` per chunk, which costs more than copying a few kilobytes.
SINGLE_CHUNK_LIMIT = 64 * 1024

#: A ``"__proto__"`` key of the JSON text: after ``{`` or ``,`` and before ``:``. An
#: object literal gives such a key a special meaning (it sets the prototype) where
#: ``JSON.parse`` makes it an ordinary property; the computed key
#: ``["__proto__"]`` defines an own property, as ``JSON.parse`` does. The pattern
#: cannot match inside a string: there every ``"`` is escaped as ``\\"``.
PROTO_KEY_PATTERN = re.compile(rb'([{,][ \t\n\r]*)"__proto__"(?=[ \t\n\r]*:)')

#: Bodies without these bytes have no ``"__proto__"`` key, which one search tells.
PROTO_KEY = b'"__proto__"'

#: What each ``"__proto__"`` key becomes.
PROTO_KEY_REPLACEMENT = rb'\1["__proto__"]'

#: Lead byte of the UTF-8 encodings of U+2028 and U+2029. Finding one byte is a
#: ``memchr``, many times faster than searching for a three-byte sequence, and
#: most bodies do not contain it. Single bytes are searched for as ints: ``int in
#: bytes`` is a bare ``memchr``, where ``bytes in bytes`` first tries to read its
#: operand as an int and handles the failure, which costs more than the search in
#: a small body.
_LINE_SEPARATOR_LEAD = "\u2028".encode()[0]

#: A byte of every ``"__proto__"`` key.
_UNDERSCORE = ord("_")

#: The single bytes of :data:`SCRIPT_UNSAFE_JSON_BYTES`, as ints.
_LESS_THAN, _GREATER_THAN, _AMPERSAND = b"<>&"

Escapes = tuple[tuple[bytes, bytes], ...]

#: The pairs of :data:`SCRIPT_UNSAFE_JSON_BYTES` for one byte, and for the line
#: separators.
_SINGLE_BYTE_ESCAPES = SCRIPT_UNSAFE_JSON_BYTES[:3]
_SEPARATOR_ESCAPES = SCRIPT_UNSAFE_JSON_BYTES[3:]


def _escapes_needed(json_body: bytes) -> Escapes:
    """Return the pairs of :data:`SCRIPT_UNSAFE_JSON_BYTES` that occur in
    ``json_body``: one ``memchr`` per byte, and a search for the three-byte
    line separators only when their lead byte occurs.
    """
    # Plain ifs: a comprehension's frame costs more than these searches in a
    # small body.
    found: Escapes = ()
    for pair in _SINGLE_BYTE_ESCAPES:
        if pair[0][0] in json_body:
            found += (pair,)
    if _LINE_SEPARATOR_LEAD in json_body:
        for pair in _SEPARATOR_ESCAPES:
            if pair[0] in json_body:
                found += (pair,)
    return found


def _escape(json_body: bytes, escapes: Escapes) -> bytes:
    for unsafe, escaped in escapes:
        json_body = json_body.replace(unsafe, escaped)
    return json_body


def escape_json_for_script(json_body: bytes) -> bytes:
    """Escape the characters of :data:`SCRIPT_UNSAFE_JSON_BYTES` in UTF-8 JSON.

    Works on bytes, so a big body is never decoded; when no character needs
    escaping, the same object is returned and nothing is copied.

    :param json_body: UTF-8 encoded JSON text.

    .. versionadded:: 0.1
    """
    return _escape(json_body, _escapes_needed(json_body))


def _escaped_slices(json_body: bytes, escapes: Escapes) -> Iterator[bytes]:
    """Escape ``json_body`` one slice at a time, never splitting a UTF-8
    sequence (U+2028 and U+2029 are three bytes long).
    """
    start, size = 0, len(json_body)
    while start < size:
        end = start + SLICE_SIZE
        while end < size and 0x80 <= json_body[end] <= 0xBF:
            end += 1
        yield _escape(json_body[start:end], escapes)
        start = end


def own_proto_keys(json_body: bytes) -> bytes:
    """Turn every ``"__proto__"`` key of ``json_body`` into the computed key
    ``["__proto__"]``, so the object literal gets it as an own property.

    Strings are left alone, and ``NaN`` or ``Infinity`` (which Flask's default
    provider writes) keep working, unlike with ``JSON.parse``. Returns the same
    object when there is no such key.

    .. versionadded:: 0.1
    """
    if PROTO_KEY not in json_body:
        return json_body
    return PROTO_KEY_PATTERN.sub(PROTO_KEY_REPLACEMENT, json_body)


#: How many guarded calls :func:`guarded_call_prefix` keeps: callbacks are few
#: per page (a loader's counter, a fixed name), and each entry is at most a few
#: hundred bytes.
PREFIX_CACHE_SIZE = 1024


@lru_cache(maxsize=PREFIX_CACHE_SIZE)
def guarded_call_prefix(callback: str) -> bytes:
    """Return the script that precedes the JSON argument for ``callback``.

    Every object on the callback's path is checked before it is dereferenced,
    so ``a.b.c`` with ``a`` undefined is a no-op rather than a ``ReferenceError``,
    and the call happens only when the target is a function. The result is
    cached for the last :data:`PREFIX_CACHE_SIZE` names.

    :param callback: a callback that passed
        :func:`~flask_jsonp.callback.is_valid_callback`.
    :raise ValueError: if the callback is not a valid name.

    .. versionadded:: 0.1
    """
    parsed = callback_path(callback)
    if parsed is None:
        raise ValueError("not a valid JSONP callback name")
    segments, index = parsed
    prefixes = [".".join(segments[: end + 1]) for end in range(len(segments))]
    if index is not None:
        prefixes.append(f"{prefixes[-1]}[{index}]")
    *containers, target = prefixes
    checks = [
        f'typeof {name} !== "undefined" && {name} !== null' for name in containers[:1]
    ]
    checks += [f"{name} != null" for name in containers[1:]]
    checks.append(f'typeof {target} === "function"')
    return f"/**/{' && '.join(checks)} && {target}(".encode("ascii")


#: Closes the call opened by :func:`guarded_call_prefix`.
CALL_SUFFIX = b");"


class JsonpBody(NamedTuple):
    """A JSONP body: its chunks, to be written one after the other, and its
    length in bytes.

    .. versionadded:: 0.1
    """

    #: A tuple, or for a big body that needs escaping an iterator that escapes
    #: the JSON as it is consumed: iterate it once.
    chunks: Iterable[bytes]
    length: int


#: JSON up to this size is checked by :func:`joined_script` with one regular
#: expression search, which beats five ``memchr`` calls and their bytecodes in a
#: small body but not in a big one.
JOINED_SCRIPT_LIMIT = 2048

#: A byte that means more work than joining: a character to escape, the ``_``
#: of a ``"__proto__"`` key, a newline (a trailing one is dropped, and indented
#: JSON has them).
_NEEDS_WORK = re.compile(rb"[_<>&\n\xe2]")


def joined_script(callback: str, json_body: bytes) -> bytes | None:
    """Return the whole JSONP body for ``json_body`` when it needs nothing
    but joining to the guarded call: small, nothing to escape, no
    ``"__proto__"`` key, no newline. ``None`` otherwise, for
    :func:`jsonp_body`.

    .. versionadded:: 0.1
    """
    if len(json_body) > JOINED_SCRIPT_LIMIT or _NEEDS_WORK.search(json_body):
        return None
    return guarded_call_prefix(callback) + json_body + CALL_SUFFIX


def jsonp_body(
    callback: str,
    json_body: bytes,
    envelope_status: int | None = None,
    envelope_meta: bytes = b"",
) -> JsonpBody:
    """Build the JSONP body that passes ``json_body`` to ``callback``.

    The body is the guarded call, the escaped JSON and the closing ``);``, the
    same bytes whatever the size: a trailing newline (which
    :func:`flask.json.jsonify` adds) is dropped, and ``"__proto__"`` keys become
    own properties (:func:`own_proto_keys`). A small body is one chunk. A big
    one is not copied when it needs no change, and a very big one that needs
    escaping is escaped lazily, slice by slice, as it is sent.

    :param callback: a valid callback name.
    :param json_body: UTF-8 encoded JSON text.
    :param envelope_status: if given, the callback receives
        ``{"meta": {"status": envelope_status}, "data": <json_body>}``, spliced
        around the JSON bytes without parsing them again.
    :param envelope_meta: more members of the envelope's ``meta``, each after a
        comma (``b',"sunset":"2027-06-30T00:00:00Z"'``), already escaped for a
        script; ignored without ``envelope_status``.

    .. versionadded:: 0.1
    """
    if json_body[-1:] == b"\n":
        json_body = json_body[:-1]
    if envelope_status is None:
        joined = joined_script(callback, json_body)
        if joined is not None:
            return tuple.__new__(JsonpBody, ((joined,), len(joined)))
    prefix, suffix = guarded_call_prefix(callback), CALL_SUFFIX
    if envelope_status is not None:
        prefix += b'{"meta":{"status":%d%s},"data":' % (envelope_status, envelope_meta)
        suffix = b"}" + suffix
    escapes: Escapes = ()
    # A memchr per byte tells that most small bodies need nothing done: no
    # "_" of a "__proto__" key, nothing to escape.
    if (
        _UNDERSCORE in json_body
        or _LESS_THAN in json_body
        or _GREATER_THAN in json_body
        or _AMPERSAND in json_body
        or _LINE_SEPARATOR_LEAD in json_body
    ):
        if _UNDERSCORE in json_body:
            json_body = own_proto_keys(json_body)
        escapes = _escapes_needed(json_body)
    if escapes:
        if len(json_body) > EAGER_ESCAPE_LIMIT:
            growth = sum(
                json_body.count(unsafe) * (len(escaped) - len(unsafe))
                for unsafe, escaped in escapes
            )
            length = len(prefix) + len(json_body) + growth + len(suffix)
            lazy = _chain(prefix, _escaped_slices(json_body, escapes), suffix)
            return JsonpBody(lazy, length)
        json_body = _escape(json_body, escapes)
    length = len(prefix) + len(json_body) + len(suffix)
    # tuple.__new__: a named tuple's own constructor is a Python function.
    if length <= SINGLE_CHUNK_LIMIT:
        return tuple.__new__(JsonpBody, ((prefix + json_body + suffix,), length))
    return tuple.__new__(JsonpBody, ((prefix, json_body, suffix), length))


def _chain(prefix: bytes, middle: Iterator[bytes], suffix: bytes) -> Iterator[bytes]:
    yield prefix
    yield from middle
    yield suffix
