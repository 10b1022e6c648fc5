from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_jsonp._browser_globals import BROWSER_GLOBALS
from flask_jsonp._browser_globals import BROWSERS
from flask_jsonp.callback import BROWSER_GLOBAL
from flask_jsonp.callback import callback_path
from flask_jsonp.callback import CALLBACK_PATTERN
from flask_jsonp.callback import CALLBACK_POLICIES
from flask_jsonp.callback import callback_refusal
from flask_jsonp.callback import CallbackAllowlist
from flask_jsonp.callback import DEFAULT_CALLBACK_POLICY
from flask_jsonp.callback import EMPTY
from flask_jsonp.callback import is_valid_callback
from flask_jsonp.callback import LIBRARY_GLOBAL
from flask_jsonp.callback import NOT_A_NAME
from flask_jsonp.callback import parse_callback_allowlist
from flask_jsonp.callback import REFUSAL_REASONS
from flask_jsonp.callback import RESERVED_WORD
from flask_jsonp.callback import SINK
from flask_jsonp.callback import SINK_SEGMENTS

# The names real clients generate, each as the client's own source builds it
# (repository and file in the comment; read at the tags or commits named).
CLIENT_NAMES = [
    # jquery/jquery src/ajax/jsonp.js: jQuery.expando + "_" + nonce, where
    # src/core.js (src/data.js before 1.9) has expando = "jQuery" + (version +
    # Math.random()).replace(/\D/g, "") and the nonce starts at Date.now().
    # Tags 1.5, 1.8.3, 1.9.1, 1.12.4, 2.2.4, 3.7.1 and 4.0.0 all build it so;
    # these were printed by that expression for each version.
    pytest.param("jQuery11240957587133346985_1796111126255", id="jquery-1.12"),
    pytest.param("jQuery22409691720532642829_1796111126258", id="jquery-2.2"),
    pytest.param("jQuery37102441210985443265_1796111126258", id="jquery-3.7"),
    pytest.param("jQuery400036030180489216357_1796111126268", id="jquery-4.0"),
    # jquery/jquery 1.4.4 src/ajax.js: "jsonp" + jsc++, jsc = jQuery.now().
    pytest.param("jsonp1700000000000", id="jquery-1.4"),
    # angular/angular.js src/ng/httpBackend.js (1.0 to 1.4) and
    # src/ng/jsonpCallbacks.js (1.5 on): 'angular.callbacks.' + '_' +
    # (counter++).toString(36).
    pytest.param("angular.callbacks._0", id="angularjs"),
    pytest.param("angular.callbacks._a", id="angularjs-base36"),
    pytest.param("angular.callbacks._1k", id="angularjs-base36-2"),
    # angular/angular packages/common/http/src/jsonp.ts (HttpClient, Angular 4.3
    # on): `ng_jsonp_callback_${nextRequestId++}`.
    pytest.param("ng_jsonp_callback_0", id="angular-httpclient"),
    # angular/angular packages/http/src/backends/browser_jsonp.ts (@angular/http,
    # Angular 2 to 5): `${JSONP_HOME}.${id}.finished`, id = `__req${n}`.
    pytest.param("__ng_jsonp__.__req1.finished", id="angular-http"),
    # yui/yui3 src/jsonp/js/jsonp.js: 'YUI.Env.JSONP.' + Y.guid(); src/yui/js/
    # yui.js: guid = _guidp + '_' + ++_uidx, _guidp = 'yui_' + VERSION + '_' +
    # _yidx + '_' + time with dots and dashes made underscores.
    pytest.param("YUI.Env.JSONP.yui_3_18_1_1_1700000000000_3", id="yui3"),
    # dojo/dojo io/script.js (dojo 1.x): dojo._scopeName + ".io.script.jsonp_" +
    # ioArgs.id + "._jsonpCallback", id = _scopeName + "IoScript" + counter.
    pytest.param("dojo.io.script.jsonp_dojoIoScript1._jsonpCallback", id="dojo"),
    # pagekit/vue-resource src/http/client/jsonp.js: '_jsonp' +
    # Math.random().toString(36).substr(2).
    pytest.param("_jsonpk2j4l1x9q0a", id="vue-resource"),
    # camsong/fetch-jsonp src/fetch-jsonp.js:
    # `jsonp_${Date.now()}_${Math.ceil(Math.random() * 100000)}`.
    pytest.param("jsonp_1700000000000_42", id="fetch-jsonp"),
    # webmodules/jsonp index.js (the `jsonp` npm package): (opts.prefix ||
    # '__jp') + count++.
    pytest.param("__jp0", id="jsonp-npm"),
    # madrobby/zepto src/ajax.js: 'jsonp' + (++jsonpID) in 1.1, 'Zepto' +
    # (jsonpID++) later.
    pytest.param("jsonp1", id="zepto-1.1"),
    pytest.param("Zepto1700000000000", id="zepto"),
    # flask_jsonp/static/jsonp.js: '__jsonp_' + Math.random().toString(36)
    # .slice(2, 8) + '_' + ++nameCounter.
    pytest.param("__jsonp_k2j4l1_1", id="flask-jsonp-loader"),
    # Written by hand, as in the tutorials and this project's README.
    pytest.param("onBack", id="hand-onBack"),
    pytest.param("handleCallback", id="hand-handleCallback"),
    pytest.param("myApp.handlers.user", id="hand-dotted"),
    pytest.param("callbacks[3]", id="hand-index"),
    pytest.param("onData", id="hand-onData"),
    pytest.param("onLoad", id="hand-onLoad-not-onload"),
    pytest.param("onSuccess", id="hand-onSuccess"),
    pytest.param("_", id="hand-underscore"),
    pytest.param("a.b[0]", id="hand-short"),
]


@pytest.mark.parametrize("policy", CALLBACK_POLICIES)
@pytest.mark.parametrize("callback", CLIENT_NAMES)
def test_names_real_clients_generate_are_valid(callback: str, policy: str) -> None:
    assert callback_refusal(callback, policy) is None
    assert is_valid_callback(callback, policy=policy)


#: Names a real client generates that the "safe" policy refuses, with the reason.
#: Such pages need ``callback_policy="identifier"`` with an allowlist.
REFUSED_CLIENT_NAMES = [
    # mootools/mootools-more Source/Request/Request.JSONP.js:
    # '=Request.JSONP.request_map.request_' + index. MooTools replaces the
    # global Request, which on any other page is the Fetch API's.
    pytest.param("Request.JSONP.request_map.request_0", BROWSER_GLOBAL, id="mootools"),
    # dojo/dojo io/script.js with frameDoc: "parent." + ..., a name that goes
    # through another window, exactly what SOME abuses.
    pytest.param(
        "parent.dojo.io.script.jsonp_dojoIoScript1._jsonpCallback",
        BROWSER_GLOBAL,
        id="dojo-framedoc",
    ),
    # dojo/dojo request/script.js (1.8 on): mid + '_callbacks[' + id +
    # ']._jsonpCallback': an index before the last segment, which the grammar
    # (and so both policies) has always refused.
    pytest.param(
        "dojo_request_script_callbacks[0]._jsonpCallback", NOT_A_NAME, id="dojo-1.8"
    ),
]


@pytest.mark.parametrize(("callback", "reason"), REFUSED_CLIENT_NAMES)
def test_client_names_the_safe_policy_refuses(callback: str, reason: str) -> None:
    assert callback_refusal(callback) == reason


#: Callbacks that turn the including page against itself, and why each works
#: under the plain grammar: the answer calls ``name(data)`` and the attacker
#: influences ``data`` (a search endpoint that echoes the query, say).
SOME_CALLBACKS = [
    # Strings as code: setTimeout(["alert(1)"]) runs String(["alert(1)"]).
    ("setTimeout", BROWSER_GLOBAL),
    ("setInterval", BROWSER_GLOBAL),
    ("eval", BROWSER_GLOBAL),
    ("Function", BROWSER_GLOBAL),
    ("execScript", SINK),
    ("setImmediate", SINK),
    # Markup: document.write("<script>...") runs it.
    ("document.write", BROWSER_GLOBAL),
    ("document.writeln", BROWSER_GLOBAL),
    ("document.body.insertAdjacentHTML", BROWSER_GLOBAL),
    # Navigation to javascript: URLs, new windows, messages.
    ("location.assign", BROWSER_GLOBAL),
    ("location.replace", BROWSER_GLOBAL),
    ("window.open", BROWSER_GLOBAL),
    ("open", BROWSER_GLOBAL),
    ("postMessage", BROWSER_GLOBAL),
    ("navigation.navigate", BROWSER_GLOBAL),
    ("history.back", BROWSER_GLOBAL),
    ("alert", BROWSER_GLOBAL),
    ("fetch", BROWSER_GLOBAL),
    # Other windows, the SOME setup: a popup reaches back into its opener.
    ("opener.document.write", BROWSER_GLOBAL),
    ("opener.document.body.firstElementChild.click", BROWSER_GLOBAL),
    ("top.location.assign", BROWSER_GLOBAL),
    ("parent.eval", BROWSER_GLOBAL),
    ("frames.x.setTimeout", BROWSER_GLOBAL),
    ("globalThis.setTimeout", BROWSER_GLOBAL),
    ("self.eval", BROWSER_GLOBAL),
    # Event handler slots: onmessage(data) hands a forged "event" (with any
    # "origin" the attacker likes) to the page's message handler.
    ("onmessage", BROWSER_GLOBAL),
    ("onerror", BROWSER_GLOBAL),
    ("onload", BROWSER_GLOBAL),
    # Elements by id are globals too: <form id="login">, <iframe name="f">.
    ("login.submit", SINK),
    ("deleteButton.click", SINK),
    ("login.requestSubmit", SINK),
    ("main.firstChild.nextSibling.click", SINK),
    ("main.parentNode.x", SINK),
    ("main.ownerDocument.write", SINK),
    ("f.contentWindow.x", SINK),
    ("f.eval", SINK),
    ("f.setTimeout", SINK),
    ("f.location.assign", SINK),
    ("f.document.write", SINK),
    ("f.opener.x", SINK),
    ("f.onmessage", SINK),
    ("deleteButton.onclick", SINK),
    ("f.history.back", SINK),
    ("f.navigator.sendBeacon", SINK),
    ("range.createContextualFragment", SINK),
    ("parser.parseFromString", SINK),
    ("el.innerHTML", SINK),
    ("el.outerHTML", SINK),
    ("el.setHTMLUnsafe", SINK),
    ("el.form.submit", SINK),
    # jQuery and jqLite markup sinks on a page's own objects, and the library
    # namespaces themselves.
    ("$container.html", SINK),
    ("$list.append", SINK),
    ("$list.prepend", SINK),
    ("$item.after", SINK),
    ("$item.before", SINK),
    ("$item.replaceWith", SINK),
    ("lib.globalEval", SINK),
    ("lib.parseHTML", SINK),
    ("lib.fn.init", SINK),
    ("angular.element", SINK),
    ("dojo.eval", SINK),
    ("$", LIBRARY_GLOBAL),
    ("$.getScript", LIBRARY_GLOBAL),
    ("jQuery", LIBRARY_GLOBAL),
    ("jQuery.ajax", LIBRARY_GLOBAL),
    ("jQuery.globalEval", LIBRARY_GLOBAL),
    ("Zepto", LIBRARY_GLOBAL),
    ("require", LIBRARY_GLOBAL),
    ("requirejs", LIBRARY_GLOBAL),
    # The same libraries kept under another name, at any position: Django's
    # admin (jquery.init.js), Backbone, jQuery.noConflict() aliases.
    ("django.jQuery", LIBRARY_GLOBAL),
    ("Backbone.$", LIBRARY_GLOBAL),
    ("app.vendor.jQuery", LIBRARY_GLOBAL),
    ("$j", LIBRARY_GLOBAL),
    ("jq.globalEval", LIBRARY_GLOBAL),
    ("myApp.$j", LIBRARY_GLOBAL),
    ("widgets.Zepto", LIBRARY_GLOBAL),
    ("ui.cash", LIBRARY_GLOBAL),
    ("dojoConfig.require", LIBRARY_GLOBAL),
    ("loader.requirejs", LIBRARY_GLOBAL),
]


@pytest.mark.parametrize(("callback", "reason"), SOME_CALLBACKS)
def test_callbacks_that_act_on_the_page_are_refused(callback: str, reason: str) -> None:
    assert callback_refusal(callback) == reason
    assert callback_refusal(callback, "safe") == reason
    assert not is_valid_callback(callback)


@pytest.mark.parametrize(("callback", "reason"), SOME_CALLBACKS)
def test_identifier_policy_is_the_plain_grammar(callback: str, reason: str) -> None:
    # The opt-out accepts them all: that is its risk.
    assert callback_refusal(callback, "identifier") is None
    assert is_valid_callback(callback, policy="identifier")


def test_default_policy_is_safe() -> None:
    assert DEFAULT_CALLBACK_POLICY == "safe"
    assert CALLBACK_POLICIES == ("safe", "identifier")


def test_unknown_policy_is_an_error() -> None:
    with pytest.raises(ValueError, match="callback_policy"):
        callback_refusal("onData", "strict")
    with pytest.raises(ValueError):
        is_valid_callback("onData", policy="")


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
@pytest.mark.parametrize("policy", CALLBACK_POLICIES)
def test_invalid_names_are_refused(callback: str, policy: str) -> None:
    assert not is_valid_callback(callback, policy=policy)
    expected = EMPTY if callback == "" else (NOT_A_NAME, RESERVED_WORD)
    assert callback_refusal(callback, policy) in expected


@pytest.mark.parametrize(
    "callback",
    ["a b", "x.constructor", "opener.x", "$.getScript", "a.click", "<img src=x>"],
)
def test_refusal_reasons_never_quote_the_callback(callback: str) -> None:
    for policy in CALLBACK_POLICIES:
        reason = callback_refusal(callback, policy)
        if reason is not None:
            assert reason in REFUSAL_REASONS
            assert callback not in reason


def test_length_limit_is_inclusive() -> None:
    assert is_valid_callback("a" * 128)
    assert not is_valid_callback("a" * 129)
    assert is_valid_callback("a" * 10, max_length=10)
    assert not is_valid_callback("a" * 11, max_length=10)


def test_callback_path_splits_segments_and_index() -> None:
    assert callback_path("a.b.c") == (["a", "b", "c"], None)
    assert callback_path("cbs[12]") == (["cbs"], "12")
    assert callback_path("a b") is None
    # The grammar only: the guarded call is built for any grammatical name.
    assert callback_path("opener.document.write") == (
        ["opener", "document", "write"],
        None,
    )


# -- The browsers' globals ------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        *("window", "self", "top", "parent", "opener", "frames", "globalThis"),
        *("document", "location", "history", "navigation", "setTimeout"),
        *("setInterval", "eval", "Function", "open", "postMessage", "alert"),
        *("fetch", "name", "onload", "onerror", "onmessage", "Request"),
        *("Object", "JSON", "console", "toString", "SharedArrayBuffer"),
        # Firefox only.
        "mozInnerScreenX",
        # Chromium only.
        "webkitURL",
    ],
)
def test_browser_globals_hold_what_both_browsers_expose(name: str) -> None:
    assert name in BROWSER_GLOBALS


@pytest.mark.parametrize(
    "name",
    [
        *("jQuery", "$", "_", "angular", "YUI", "dojo", "Zepto", "onBack"),
        *("ng_jsonp_callback_0", "__ng_jsonp__", "__jp0", "__jsonp_", "_jsonp"),
        *("jsonp_1700000000000_42", "myApp", "callbacks", "handleCallback"),
        *("onData", "onLoad", "onSuccess", "require", "define", "process"),
    ],
)
def test_browser_globals_leave_out_what_pages_and_clients_define(name: str) -> None:
    assert name not in BROWSER_GLOBALS


def test_browser_globals_come_from_both_engines() -> None:
    assert set(BROWSERS) == {"Chromium", "Firefox"}
    # Fewer would mean a blank or broken page was walked.
    assert len(BROWSER_GLOBALS) > 1000
    # Only names a callback segment can be are kept.
    assert all(CALLBACK_PATTERN.fullmatch(name) for name in BROWSER_GLOBALS)


def test_event_handler_slots_are_refused_anywhere_camel_case_names_are_not() -> None:
    assert callback_refusal("app.handlers.onmessage") == SINK
    assert callback_refusal("app.handlers.onerror") == SINK
    assert callback_refusal("app.handlers.onMessage") is None
    assert callback_refusal("app.handlers.onData") is None


def test_every_event_handler_slot_is_lower_case() -> None:
    # Why onBack, onData, onLoad pass: the browser's handler slots are all
    # lower case (onload, onmessage), and JavaScript names are case-sensitive.
    handlers = {name for name in BROWSER_GLOBALS if name.startswith("on")}
    assert len(handlers) > 80
    assert all(name == name.lower() for name in handlers)


def test_sinks_are_names_the_grammar_allows() -> None:
    assert all(callback_path(name) is not None for name in SINK_SEGMENTS)


# -- The allowlist ----------------------------------------------------------------


def test_allowed_names_are_exact() -> None:
    assert is_valid_callback("onData", allowed=["onData"])
    assert not is_valid_callback("onDat", allowed=["onData"])
    assert not is_valid_callback("x.onData", allowed=["onData"])
    assert not is_valid_callback("onData2", allowed=["onData"])


@pytest.mark.parametrize(
    ("callback", "allowed"),
    [
        ("jQuery37102441210985443265_1796111126258", True),
        ("jQuery1", True),
        ("__jsonp_k2j4l1_1", True),
        ("angular.callbacks._0", True),
        ("angular.callbacks._1k", True),
        ("onData", True),
        # The * continues the last segment: one or more identifier characters.
        ("jQuery", False),
        ("__jsonp_", False),
        ("jQuery.ajax", False),
        ("jQuery1.globalEval", False),
        ("jQuery1[0]", False),
        ("jQuery1 ", False),
        ("angular.callbacks._0.x", False),
        ("angular.callbacks.x", False),
        ("xjQuery1", False),
        ("onData1", False),
    ],
)
def test_allowlist_prefixes_continue_the_last_segment(
    callback: str, allowed: bool
) -> None:
    allowlist = parse_callback_allowlist(
        ["jQuery*", "__jsonp_*", "angular.callbacks._*", "onData"]
    )
    assert allowlist.allows(callback) is allowed
    assert (callback in allowlist) is allowed
    entries = ["jQuery*", "__jsonp_*", "angular.callbacks._*", "onData"]
    assert is_valid_callback(callback, allowed=entries) is allowed
    assert is_valid_callback(callback, allowed=allowlist) is allowed


def test_a_prefix_match_must_still_be_grammatical() -> None:
    allowlist = parse_callback_allowlist(["a.*", "cb*"])
    assert allowlist.allows("a.b")
    assert not allowlist.allows("a.1")  # a segment cannot start with a digit
    assert not allowlist.allows("a.new")  # nor be a reserved word
    assert allowlist.allows("cb1")


def test_the_policy_applies_to_allowed_names_too() -> None:
    # "s*" matches setTimeout, which the safe policy still refuses.
    assert not is_valid_callback("setTimeout", allowed=["s*"])
    assert is_valid_callback("setTimeout", allowed=["s*"], policy="identifier")
    assert is_valid_callback("sendData", allowed=["s*"])


def test_parse_allowlist_keeps_names_and_prefixes() -> None:
    allowlist = parse_callback_allowlist(["onData", "jQuery*", "jQuery*", "a.b[0]"])
    assert allowlist == CallbackAllowlist(frozenset({"onData", "a.b[0]"}), ("jQuery",))
    assert parse_callback_allowlist([]) == CallbackAllowlist()
    assert not CallbackAllowlist().allows("onData")


@pytest.mark.parametrize(
    "entry",
    [
        "*",
        "**",
        "a*b",
        "*a",
        "a**",
        "a*.b*",
        "a[*",
        "a[0]*",
        "this.*",
        "new",
        "x.constructor",
        "a b",
        "",
        "alert(1)",
        "a.",
        "a..*",
    ],
)
def test_bad_allowlist_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="allowed callback"):
        parse_callback_allowlist([entry])


def test_allowlist_entries_can_be_checked_against_the_safe_policy() -> None:
    # Identifier by default: the allowlist is the developer's choice.
    assert parse_callback_allowlist(["Request.JSONP.request_map.request_*"])
    with pytest.raises(ValueError, match="'safe' callback policy"):
        parse_callback_allowlist(["Request.JSONP.request_map.request_*"], "safe")
    with pytest.raises(ValueError, match="'safe' callback policy"):
        parse_callback_allowlist(["setTimeout"], "safe")
    assert parse_callback_allowlist(["jQuery*", "onData"], "safe").allows("jQuery1")


@pytest.mark.parametrize("entries", ["onData", b"onData", ["onData", 1], [None]])
def test_allowlist_of_something_else_than_names_is_a_type_error(
    entries: object,
) -> None:
    with pytest.raises(TypeError):
        parse_callback_allowlist(entries)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        is_valid_callback("onData", allowed=entries)  # type: ignore[arg-type]


# -- Properties -------------------------------------------------------------------

#: Text near the callback grammar: identifier characters, dots, brackets, digits,
#: and the names the policy cares about.
NEAR_NAMES = st.lists(
    st.one_of(
        st.from_regex(r"[A-Za-z_$][A-Za-z0-9_$]{0,6}", fullmatch=True),
        st.sampled_from(
            [*sorted(SINK_SEGMENTS)[:40], "window", "opener", "jQuery", "$", "new"]
        ),
        st.sampled_from([".", "[0]", "[", "]", "*", " ", "(", "1"]),
    ),
    min_size=1,
    max_size=6,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(callback=st.one_of(NEAR_NAMES, st.text(max_size=20)))
def test_safe_policy_only_narrows_the_grammar(callback: str) -> None:
    safe = callback_refusal(callback, "safe")
    identifier = callback_refusal(callback, "identifier")
    assert identifier is None or safe == identifier
    for reason in (safe, identifier):
        assert reason is None or reason in REFUSAL_REASONS
    assert (identifier is None) == (callback_path(callback) is not None)
    if safe is None:
        segments = callback.split("[")[0].split(".")
        assert segments[0] not in BROWSER_GLOBALS
        assert SINK_SEGMENTS.isdisjoint(segments)


#: Allowlist prefixes: a name, or a name and a dot, with its * to come.
PREFIXES = st.from_regex(
    r"[A-Za-z_$][A-Za-z0-9_$]{0,5}(\.[A-Za-z_$]{1,3})?\.?", fullmatch=True
)


@settings(max_examples=500, deadline=None)
@given(prefix=PREFIXES, tail=st.text(alphabet="ab1_$.[]0 *", max_size=5))
def test_a_prefix_stands_for_the_rest_of_the_last_segment(
    prefix: str, tail: str
) -> None:
    try:
        allowlist = parse_callback_allowlist([prefix + "*"])
    except ValueError:
        # Only a prefix that cannot start a valid name is refused.
        assert callback_path(prefix + "x") is None
        return
    expected = (
        tail != ""
        and all(char.isalnum() or char in "_$" for char in tail)
        and callback_path(prefix + tail) is not None
    )
    assert allowlist.allows(prefix + tail) is expected
