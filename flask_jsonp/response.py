"""Building the JSONP body from JSON bytes: pure functions, no Flask.

The body is ``/**/`` followed by a guarded call::

    /**/typeof onBack === "function" && onBack({"user": "admin"});

The leading comment keeps the first bytes of the answer out of the attacker's hands
(the Rosetta Flash defence), and the guard means a page that has not defined the
callback, or has removed it after a timeout, gets no error.
"""

from __future__ import annotations

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


def escape_json_for_script(json_body: bytes) -> bytes:
    """Escape the characters of :data:`SCRIPT_UNSAFE_JSON_BYTES` in UTF-8 JSON.

    Works on bytes, so a big body is never decoded; when a character does not
    occur, ``bytes.replace`` returns the same object and nothing is copied.

    :param json_body: UTF-8 encoded JSON text.

    .. versionadded:: 0.1
    """
    for unsafe, escaped in SCRIPT_UNSAFE_JSON_BYTES:
        json_body = json_body.replace(unsafe, escaped)
    return json_body


def guarded_call_prefix(callback: str) -> bytes:
    """Return the script that precedes the JSON argument for ``callback``.

    Every object on the callback's path is checked before it is dereferenced,
    so ``a.b.c`` with ``a`` undefined is a no-op rather than a ``ReferenceError``,
    and the call happens only when the target is a function.

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


def jsonp_body_chunks(
    callback: str, json_body: bytes, envelope_status: int | None = None
) -> tuple[bytes, bytes, bytes]:
    """Return the JSONP body for ``callback`` and ``json_body`` as three chunks.

    The chunks are the guarded call, the escaped JSON and the closing ``);``.
    They are kept apart so a big body is not copied once more to join them; a
    WSGI server writes them one after the other. A trailing newline (as added by
    :func:`flask.jsonify`) stays inside the parentheses, where it is harmless,
    rather than costing a copy of the body.

    :param callback: a valid callback name.
    :param json_body: UTF-8 encoded JSON text.
    :param envelope_status: if given, the callback receives
        ``{"meta": {"status": envelope_status}, "data": <json_body>}``, spliced
        around the JSON bytes without parsing them again.

    .. versionadded:: 0.1
    """
    prefix, suffix = guarded_call_prefix(callback), CALL_SUFFIX
    if envelope_status is not None:
        prefix += b'{"meta":{"status":%d},"data":' % envelope_status
        suffix = b"}" + suffix
    return prefix, escape_json_for_script(json_body), suffix
