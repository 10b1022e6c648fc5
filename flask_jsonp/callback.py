"""What a valid JSONP callback name is.

The callback is the one part of a JSONP answer that the *client* chooses and the
server writes into executable script, so it is checked against a strict grammar and
refused, never stripped or repaired, when it does not match. The checks are plain
functions of strings so they can be tested without an application.

The grammar alone stops script injection, but not Same Origin Method Execution
(SOME): a grammatical name such as ``opener.document.body.firstChild.click`` or
``setTimeout`` still makes the page that includes the answer call a method of its
own choosing, with data the attacker may influence. The default ``"safe"`` callback
policy also refuses the names that reach the browser's own dangerous surface; see
:func:`callback_refusal`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ._browser_globals import BROWSER_GLOBALS

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

#: The callback policies: ``"safe"`` is the grammar, the reserved words and the
#: SOME rules of :func:`callback_refusal`; ``"identifier"`` is the grammar and the
#: reserved words only, for endpoints whose names are pinned by an allowlist.
CALLBACK_POLICIES = ("safe", "identifier")

#: The policy of an endpoint that sets none.
DEFAULT_CALLBACK_POLICY = "safe"

#: Library namespaces that hand the argument to a script loader or an HTML
#: parser, refused at any position: ``$``, ``jQuery`` and ``Zepto`` are full of
#: both (``$.getScript(url)`` and ``$.ajax({url, dataType: "script"})`` run a
#: script from a URL; ``$(html)``, ``$.parseHTML(html)`` before jQuery 3 and
#: ``$.fn.init(html)`` build elements in the page, where ``<img onerror>`` runs),
#: and a page often keeps one under another name: Django's admin as
#: ``django.jQuery``, Backbone as ``Backbone.$``, code written for
#: ``jQuery.noConflict()`` as ``$j`` or ``jq``; ``cash`` is a jQuery-compatible
#: library of its own. ``require`` and ``requirejs`` (AMD: RequireJS, dojo) load
#: one script per module id or URL in the array they are given. No client
#: library's callback lives in them: jQuery's and Zepto's are top-level names,
#: ``jQuery3710…_1700000000000`` and ``Zepto1700000000000``, whose segment is not
#: one of these. A page's own objects that keep a library under a name of the
#: page's choosing cannot be listed: ``allowed_callbacks`` is the complete
#: defence.
LIBRARY_GLOBALS = frozenset(
    {"$", "$j", "jq", "jQuery", "Zepto", "cash", "require", "requirejs"}
)

#: Segments refused at any position, because the method or object they name runs
#: strings as code, writes markup, navigates, acts for the user, or walks from one
#: object to the rest of the document or to another window, which is how SOME
#: reaches its target (Ben Hayak, "Same Origin Method Execution", Black Hat Europe
#: 2014: ``opener.document.body.privateAlbum.firstChild.nextElementSibling.submit``).
#: Sources: the HTML Standard (``Window``, ``Document``, ``Location``,
#: ``HTMLFormElement``, ``HTMLElement``, ``HTMLIFrameElement``, timers and
#: ``document.write``), the DOM Standard (``Node``, ``ParentNode``,
#: ``NonDocumentTypeChildNode``, ``Range``), DOM Parsing and Serialization
#: (``innerHTML``, ``outerHTML``, ``insertAdjacentHTML``, ``DOMParser``), and the
#: manipulation API of jQuery (``src/manipulation.js``, ``src/core/parseHTML.js``,
#: ``src/core.js``) and of AngularJS's jqLite (``angular.element``). A few entries
#: are not functions (``innerHTML``): calling them does nothing, and refusing them
#: costs nothing.
SINK_SEGMENTS = frozenset(
    {
        # Strings run as code.
        "eval", "execScript", "setTimeout", "setInterval", "setImmediate",
        "msSetImmediate", "Function", "globalEval", "importScripts",
        "execCommand",
        # Markup written into a document, or parsed into live elements.
        "write", "writeln", "open", "insertAdjacentHTML", "innerHTML",
        "outerHTML", "srcdoc", "setHTMLUnsafe", "parseHTMLUnsafe",
        "createContextualFragment", "parseFromString",
        # jQuery and jqLite markup sinks ($el.html(s) runs the scripts in s).
        "html", "append", "prepend", "after", "before", "replaceWith",
        "replaceAll", "wrap", "wrapAll", "wrapInner", "appendTo", "prependTo",
        "insertAfter", "insertBefore", "parseHTML", "fn", "element",
        # Navigation (a javascript: URL runs in the page), messages, requests.
        "location", "assign", "replace", "reload", "navigate", "navigation",
        "history", "showModalDialog", "postMessage", "navigator", "sendBeacon",
        # Acting for the user.
        "click", "submit", "requestSubmit",
        # Other windows and frames.
        "window", "self", "top", "parent", "opener", "frames", "globalThis",
        "contentWindow", "contentDocument", "defaultView", "frameElement",
        # From a node to the document and the nodes around it.
        "document", "ownerDocument", "documentElement", "body", "head",
        "parentNode", "parentElement", "offsetParent", "childNodes",
        "children", "firstChild", "firstElementChild", "lastChild",
        "lastElementChild", "nextSibling", "nextElementSibling",
        "previousSibling", "previousElementSibling", "shadowRoot",
        "activeElement", "scrollingElement", "all", "forms", "elements",
        "form", "images", "links", "anchors", "scripts", "embeds", "plugins",
        "applets",
    }
)  # fmt: skip

#: The browser's event handler slots (``onload``, ``onmessage``, ``onclick``...),
#: refused at any position: calling one hands the page's handler a forged event,
#: such as a message with any ``origin`` the attacker writes. All lower case, so
#: ``onData``, ``onLoad`` and ``onBack`` are not among them.
EVENT_HANDLER_SLOTS = frozenset(
    name for name in BROWSER_GLOBALS if name.startswith("on") and name.islower()
)

#: The reasons :func:`callback_refusal` gives, one per rule. None quotes the
#: callback, so a refusal never reflects what the client sent.
EMPTY = "The callback parameter is empty."
NOT_A_NAME = (
    "The callback must be JavaScript identifiers joined by dots, with an optional"
    " numeric index at the end."
)
RESERVED_WORD = "The callback uses a JavaScript reserved word or prototype property."
BROWSER_GLOBAL = (
    "The callback starts with a global of the browser (such as window, document"
    " or setTimeout), so it would act on the page."
)
LIBRARY_GLOBAL = (
    "The callback names a library namespace that loads scripts or parses markup"
    " ($, jQuery, Zepto, require), at any position."
)
SINK = (
    "The callback names a method or property that runs code, writes markup,"
    " navigates, fires an event handler, acts for the user or walks the document."
)
REFUSAL_REASONS = (
    EMPTY,
    NOT_A_NAME,
    RESERVED_WORD,
    BROWSER_GLOBAL,
    LIBRARY_GLOBAL,
    SINK,
)

#: What may stand in for the ``*`` of an allowlist prefix: the rest of the last
#: segment, never a dot or a bracket, so ``jQuery*`` cannot reach ``jQuery.ajax``.
_PREFIX_TAIL = re.compile(r"[A-Za-z0-9_$]+")


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


def callback_refusal(
    callback: str, policy: str = DEFAULT_CALLBACK_POLICY
) -> str | None:
    """Tell why ``callback`` may not be written into a JSONP answer, if it may not.

    Under both policies the callback must match
    :data:`~flask_jsonp.callback.CALLBACK_PATTERN` and no segment may be one of
    :data:`~flask_jsonp.callback.RESERVED_WORDS`. The ``"safe"`` policy also
    refuses a callback

    - whose first segment is a global of the browser
      (:data:`~flask_jsonp.callback.BROWSER_GLOBALS`,
      read from Chromium and Firefox: ``window``, ``opener``, ``document``,
      ``location``, ``setTimeout``, ``eval``, ``alert``, the ``on*`` event
      handler slots...);
    - any segment of which is one of :data:`~flask_jsonp.callback.LIBRARY_GLOBALS`,
      :data:`~flask_jsonp.callback.SINK_SEGMENTS` or
      :data:`~flask_jsonp.callback.EVENT_HANDLER_SLOTS`.

    What is left are names under the page's own globals: the ones client
    libraries and page authors define (``jQuery3710…_1700000000000``,
    ``angular.callbacks._0``, ``onBack``). The length is not checked here.

    >>> from flask_jsonp import callback_refusal
    >>> callback_refusal("onBack") is None
    True
    >>> callback_refusal("opener.location.assign")  # doctest: +ELLIPSIS
    'The callback starts with a global of the browser (such as window, ...'
    >>> callback_refusal("opener.location.assign", policy="identifier") is None
    True

    :param callback: the callback as given by the client.
    :param policy: one of :data:`CALLBACK_POLICIES`.
    :return: ``None`` if the callback is acceptable, else one of
        :data:`~flask_jsonp.callback.REFUSAL_REASONS`, which never contains the
        callback.
    :raise ValueError: for an unknown policy.

    .. versionadded:: 0.1
    """
    if policy not in CALLBACK_POLICIES:
        raise ValueError(
            f"callback_policy must be one of {', '.join(map(repr, CALLBACK_POLICIES))}"
        )
    if not callback:
        return EMPTY
    match = CALLBACK_PATTERN.fullmatch(callback)
    if match is None:
        return NOT_A_NAME
    segments = match["path"].split(".")
    if not RESERVED_WORDS.isdisjoint(segments):
        return RESERVED_WORD
    if policy == "identifier":
        return None
    if segments[0] in BROWSER_GLOBALS:
        return BROWSER_GLOBAL
    if not LIBRARY_GLOBALS.isdisjoint(segments):
        return LIBRARY_GLOBAL
    if not SINK_SEGMENTS.isdisjoint(segments):
        return SINK
    if not EVENT_HANDLER_SLOTS.isdisjoint(segments):
        return SINK
    return None


@dataclass(frozen=True)
class CallbackAllowlist:
    """The callbacks an endpoint answers: exact names, and prefixes that stand for
    every name that continues the last segment (``jQuery*``, ``__jsonp_*``).

    Build it with :func:`parse_callback_allowlist`, and pass it where
    ``allowed_callbacks`` entries are taken:

    >>> from flask_jsonp import is_valid_callback, parse_callback_allowlist
    >>> allowlist = parse_callback_allowlist(["onData", "jQuery*"])
    >>> allowlist.allows("jQuery3710_1"), "onData" in allowlist
    (True, True)
    >>> is_valid_callback("onOther", allowed=allowlist)
    False

    .. versionadded:: 0.1
    """

    #: Names accepted as they are.
    names: frozenset[str] = frozenset()
    #: Prefixes, without their ``*``.
    prefixes: tuple[str, ...] = ()

    def allows(self, callback: str) -> bool:
        """Tell whether ``callback`` is one of :attr:`names`, or one of
        :attr:`prefixes` followed by one or more identifier characters (no dot,
        no bracket) and grammatical as a whole.
        """
        if callback in self.names:
            return True
        return any(
            callback.startswith(prefix)
            and _PREFIX_TAIL.fullmatch(callback, len(prefix)) is not None
            and callback_path(callback) is not None
            for prefix in self.prefixes
        )

    def __contains__(self, callback: object) -> bool:
        return isinstance(callback, str) and self.allows(callback)


def parse_callback_allowlist(
    entries: Iterable[str], policy: str = "identifier"
) -> CallbackAllowlist:
    """Parse ``allowed_callbacks`` entries: exact names, or prefixes ending with
    one ``*`` (``"jQuery*"``, ``"__jsonp_*"``, ``"angular.callbacks._*"``).

    A ``*`` stands for one or more identifier characters that continue the last
    segment: ``jQuery*`` matches ``jQuery3710_1`` but neither ``jQuery`` nor
    ``jQuery.ajax``.

    >>> from flask_jsonp import parse_callback_allowlist
    >>> allowlist = parse_callback_allowlist(["onData", "jQuery*"])
    >>> names = ["jQuery3710_1", "jQuery", "jQuery.ajax"]
    >>> [allowlist.allows(name) for name in names]
    [True, False, False]
    >>> parse_callback_allowlist(["alert(1)"])
    Traceback (most recent call last):
      ...
    ValueError: ...

    :param entries: the names and prefixes.
    :param policy: the policy the entries must pass (an exact entry as it is, a
        prefix with a letter in place of its ``*``), so that an entry the
        endpoint's policy would always refuse fails at configuration time.
    :raise TypeError: if ``entries`` is a string or holds something else than
        strings.
    :raise ValueError: for an entry that is not a valid name or prefix.

    .. versionadded:: 0.1
    """
    if isinstance(entries, (str, bytes)):
        raise TypeError("allowed_callbacks must be a list of names, not a string")
    names: set[str] = set()
    prefixes: list[str] = []
    for entry in entries:
        if not isinstance(entry, str):
            raise TypeError(
                f"allowed_callbacks entries must be strings, not {type(entry).__name__}"
            )
        prefix = entry[:-1] if entry.endswith("*") else None
        if prefix is not None and (not prefix or "*" in prefix):
            raise ValueError(
                f"allowed callback {entry!r} must be a name, or a prefix such as"
                " 'jQuery*' with one * at the end"
            )
        # A prefix is checked with a letter in place of its *: "angular.cb._*"
        # and "a.*" pass, "a[*" and "this.*" do not.
        reason = callback_refusal(entry if prefix is None else prefix + "x", policy)
        if reason is not None:
            raise ValueError(
                f"allowed callback {entry!r} is refused under the {policy!r}"
                f" callback policy: {reason}"
            )
        if prefix is None:
            names.add(entry)
        elif prefix not in prefixes:
            prefixes.append(prefix)
    return CallbackAllowlist(frozenset(names), tuple(prefixes))


def is_valid_callback(
    callback: str,
    max_length: int = DEFAULT_MAX_CALLBACK_LENGTH,
    allowed: Iterable[str] | CallbackAllowlist | None = None,
    policy: str = DEFAULT_CALLBACK_POLICY,
) -> bool:
    """Tell whether ``callback`` may be written into a JSONP answer.

    It answers ``True`` exactly when a view with these options would accept the
    name: the grammar, the length, the policy, then the allowlist if given.

    >>> from flask_jsonp import is_valid_callback
    >>> is_valid_callback("angular.callbacks._0")
    True
    >>> is_valid_callback("alert(1)"), is_valid_callback("eval")
    (False, False)
    >>> is_valid_callback("eval", policy="identifier")
    True
    >>> is_valid_callback("jQuery3710_1", allowed=["jQuery*"])
    True

    :param callback: the callback as given by the client.
    :param max_length: longer names are refused.
    :param allowed: if given, only these names are accepted: a
        :class:`CallbackAllowlist` or entries for :func:`parse_callback_allowlist`
        (exact names and prefixes such as ``"jQuery*"``). The policy applies too.
    :param policy: one of :data:`CALLBACK_POLICIES`, see :func:`callback_refusal`.

    .. versionadded:: 0.1
    """
    if len(callback) > max_length or callback_refusal(callback, policy) is not None:
        return False
    if allowed is None:
        return True
    if not isinstance(allowed, CallbackAllowlist):
        allowed = parse_callback_allowlist(allowed)
    return allowed.allows(callback)
