"""What a valid JSONP callback name is.

The callback is the one part of a JSONP answer that the *client* chooses and the
server writes into executable script, so it is checked against a strict grammar and
refused, never stripped or repaired, when it does not match. The checks are plain
functions of strings so they can be tested without an application.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

#: Identifier segments joined by dots, with at most one numeric index at the end:
#: ``onBack``, ``angular.callbacks._0``, ``callbacks[3]``. ASCII only: Unicode
#: escapes and look-alike letters are refused rather than normalised.
CALLBACK_PATTERN = re.compile(
    r"(?P<path>[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*)"
    r"(?:\[(?P<index>0|[1-9][0-9]*)\])?"
)

#: ECMAScript reserved words (ES2023 keywords, future reserved words, strict mode
#: reserved words and the literals) plus the property names that reach an object's
#: prototype machinery. A segment equal to one of these is refused: ``this.x``,
#: ``a.constructor`` or ``Object.prototype.y`` are not names a client generates.
RESERVED_WORDS = frozenset(
    {
        "await", "break", "case", "catch", "class", "const", "continue",
        "debugger", "default", "delete", "do", "else", "enum", "export",
        "extends", "false", "finally", "for", "function", "if", "implements",
        "import", "in", "instanceof", "interface", "let", "new", "null",
        "package", "private", "protected", "public", "return", "static",
        "super", "switch", "this", "throw", "true", "try", "typeof", "var",
        "void", "while", "with", "yield",
        "__proto__", "prototype", "constructor",
    }
)  # fmt: skip

#: Default upper bound on the callback's length, in characters.
DEFAULT_MAX_CALLBACK_LENGTH = 128


def callback_path(callback: str) -> tuple[list[str], str | None] | None:
    """Split a callback into its identifier segments and optional index.

    :param callback: the callback as given by the client.
    :return: ``(segments, index)`` for a well-formed name, ``None`` otherwise. The
        grammar and reserved words are checked; the length is not.

    .. versionadded:: 0.1
    """
    match = CALLBACK_PATTERN.fullmatch(callback)
    if match is None:
        return None
    segments = match["path"].split(".")
    if not RESERVED_WORDS.isdisjoint(segments):
        return None
    return segments, match["index"]


def is_valid_callback(
    callback: str,
    max_length: int = DEFAULT_MAX_CALLBACK_LENGTH,
    allowed: Iterable[str] | None = None,
) -> bool:
    """Tell whether ``callback`` may be written into a JSONP answer.

    :param callback: the callback as given by the client.
    :param max_length: longer names are refused.
    :param allowed: if given, only these exact names are accepted.

    .. versionadded:: 0.1
    """
    if len(callback) > max_length or callback_path(callback) is None:
        return False
    return allowed is None or callback in allowed


# -- Interim: replaced by the SOME-safe policy (issue 10) ----------------------

#: Callback policies, strictest first.
CALLBACK_POLICIES = ("safe", "identifier")

#: The policy used unless another is configured.
DEFAULT_CALLBACK_POLICY = "safe"


def callback_refusal(
    callback: str, policy: str = DEFAULT_CALLBACK_POLICY
) -> str | None:
    """Return why ``callback`` is refused under ``policy``, or ``None``."""
    if callback_path(callback) is None:
        return "not a valid JavaScript name"
    return None


@dataclass(frozen=True)
class CallbackAllowlist:
    """Exact names and ``prefix*`` entries."""

    names: frozenset[str]
    prefixes: tuple[str, ...] = ()

    def allows(self, callback: str) -> bool:
        return callback in self.names or callback.startswith(self.prefixes)


def parse_callback_allowlist(entries: Iterable[str]) -> CallbackAllowlist:
    entries = tuple(entries)
    return CallbackAllowlist(
        frozenset(entry for entry in entries if not entry.endswith("*")),
        tuple(entry[:-1] for entry in entries if entry.endswith("*")),
    )
