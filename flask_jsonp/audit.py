"""An audit of the JSONP endpoints of an app: which endpoints answer JSONP,
with which options, and what is wrong with their set-up for sure.

:func:`audit_app` is what ``flask jsonp routes`` prints (:mod:`flask_jsonp.cli`);
it can be called from Python too, in a test that keeps an app's JSONP surface
as intended. It reads the app and changes nothing in it: the endpoints are
resolved with the same functions the extension uses
(:mod:`flask_jsonp.discovery`), but no guard is put in place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone
from typing import Any

from flask import Flask
from werkzeug.routing import Rule

from .callback import CallbackAllowlist
from .deprecation import as_utc
from .discovery import Declaration
from .discovery import declarations
from .discovery import hidden_wrappers
from .discovery import resolve_plans
from .endpoints import hidden_message
from .errors import JSONP_METHODS
from .options import DEFAULTS
from .options import EXTENSION_KEY
from .options import JsonpOptions
from .options import resolve
from .plan import APP_LAYERS
from .plan import JsonpPlan
from .plan import plan_for
from .referrer import OriginPattern
from .state import JsonpState

#: The name of the row of :func:`~flask_jsonp.jsonpify` called outside any
#: JSONP view: it answers with the app's own options, from any view.
APP_WIDE_ENDPOINT = "jsonpify (app-wide)"

#: Methods never listed: a CORS preflight is never answered with JSONP.
_UNLISTED_METHODS = frozenset({"OPTIONS"})

View = Callable[..., Any]


@dataclass(frozen=True)
class RouteAudit:
    """One URL rule of an endpoint that answers JSONP, for the HTTP methods
    that share the same options (a class-based view can declare JSONP on
    ``get`` and not on ``post``).

    Its ``options`` are the effective options, every layer and the config
    combined, as the endpoint's requests see them: each option is an
    attribute named as the option. They are ``None`` when the endpoint
    answers no JSONP after all (its options conflict, or its JSONP view is
    hidden).

    .. versionadded:: 0.1
    """

    #: The endpoint's name, or ``"jsonpify (app-wide)"``.
    endpoint: str
    #: The URL rule, as Flask writes it; ``None`` for the app-wide row.
    rule: str | None
    #: The HTTP methods of the rule these options cover, sorted, without
    #: ``OPTIONS``.
    methods: tuple[str, ...]
    #: Whether the JSONP checks run before every decorator stacked on the
    #: view: the view function is itself a JSONP wrapper, or
    #: :class:`~flask_jsonp.JSONP` is set up and puts a guard in its place.
    checks_first: bool
    #: The effective options, every layer and the config combined; ``None``
    #: when the endpoint answers no JSONP after all (its options conflict,
    #: or its JSONP view is hidden).
    options: JsonpOptions | None
    #: What is wrong with the set-up for sure.
    warnings: tuple[str, ...] = ()
    #: Facts worth knowing that are not mistakes (a sunset that has passed).
    notes: tuple[str, ...] = ()
    #: Whole days (UTC calendar days) from the day of the audit to the
    #: sunset's day, negative once it has passed; ``None`` without a sunset.
    days_left: int | None = None

    @property
    def answers_jsonp(self) -> bool:
        """Whether JSONP requests to it are answered: its options resolve."""
        return self.options is not None

    def as_json(self) -> dict[str, Any]:
        """The row as JSON-serialisable data: every option under its name
        (``None`` where ``options`` is), datetimes in ISO 8601, each
        allowlist as a list of its entries in their normalised form.
        """
        data: dict[str, Any] = {
            "endpoint": self.endpoint,
            "rule": self.rule,
            "methods": list(self.methods),
            "checks_first": self.checks_first,
            "answers_jsonp": self.answers_jsonp,
        }
        data.update(options_json(self.options))
        data["days_left"] = self.days_left
        data["warnings"] = list(self.warnings)
        data["notes"] = list(self.notes)
        return data


def options_json(options: JsonpOptions | None) -> dict[str, Any]:
    """Every option of :data:`~flask_jsonp.options.DEFAULTS`, by name, as
    JSON-serialisable data; all ``None`` when ``options`` is.
    """
    return {
        name: None if options is None else json_value(getattr(options, name))
        for name in DEFAULTS
    }


def default_options_json() -> dict[str, Any]:
    """The built-in default of each option, as :func:`options_json` writes
    it: what a row shows when nothing was set anywhere.
    """
    return options_json(resolve({}, {}))


def json_value(value: Any) -> Any:
    """Write an option's resolved value as JSON-serialisable data.

    Allowlists come back as the entries they were parsed from, normalised as
    they are compared: callback names sorted, then prefixes with their ``*``;
    origins in the ASCII form browsers send (``xn--`` hosts, no default port).
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, CallbackAllowlist):
        return callback_entries(value)
    if isinstance(value, OriginPattern):
        return origin_entry(value)
    if isinstance(value, (tuple, list, frozenset, set)):
        return [json_value(item) for item in value]
    # An option type added later: its text rather than a failure.
    return str(value)


def callback_entries(allowlist: CallbackAllowlist) -> list[str]:
    """The entries of a callback allowlist, as ``allowed_callbacks`` takes
    them: names sorted, then prefixes ending with ``*``.
    """
    return sorted(allowlist.names) + [f"{prefix}*" for prefix in allowlist.prefixes]


def origin_entry(pattern: OriginPattern) -> str:
    """An ``allowed_referrers`` entry as it is compared:
    ``https://*.example.com`` for every subdomain of ``example.com``.
    """
    origin = pattern.origin.serialize()
    if pattern.subdomains:
        scheme, _, rest = origin.partition("://")
        return f"{scheme}://*.{rest}"
    return origin


def utc_now() -> datetime:
    """The current time in UTC: the moment of an audit by default."""
    return datetime.now(timezone.utc)


def audit_app(app: Flask, now: datetime | None = None) -> list[RouteAudit]:
    """List every endpoint of ``app`` that answers JSONP, one row per URL
    rule (and per set of methods where a class-based view declares JSONP on
    some methods only), sorted by endpoint and rule, then the row of
    :func:`~flask_jsonp.jsonpify` called from any other view.

    Plain views are not listed, nor endpoints without a URL rule (nothing
    reaches them). A view whose JSONP view is hidden below a decorator that
    does not use :func:`functools.wraps` is listed, with a warning and no
    options: it answers no JSONP.

    The app is not changed: options are resolved as the first request would
    (the app's cache of resolved options is filled), but no view function is
    replaced.

    :param app: the app to audit; its config and extension defaults apply.
    :param now: the moment of the audit, for the days left to each sunset;
        by default the current time.

    .. versionadded:: 0.1
    """
    now = as_utc(now) if now is not None else utc_now()
    # Read before resolving: resolving creates the app's state when the app
    # has none, with no extension.
    state = app.extensions.get(EXTENSION_KEY)
    extension = isinstance(state, JsonpState) and state.extension is not None
    rules: dict[str, list[Rule]] = defaultdict(list)
    for rule in app.url_map.iter_rules():
        rules[rule.endpoint].append(rule)
    rows: list[RouteAudit] = []
    for endpoint, view in app.view_functions.items():
        rows.extend(
            _endpoint_rows(app, endpoint, view, rules[endpoint], extension, now)
        )
    rows.sort(key=lambda row: (row.endpoint, row.rule or "", row.methods))
    rows.append(_app_wide_row(app, now))
    return rows


def _endpoint_rows(
    app: Flask,
    endpoint: str,
    view: View,
    rules: Iterable[Rule],
    extension: bool,
    now: datetime,
) -> list[RouteAudit]:
    hidden = tuple(
        hidden_message(endpoint, hider, wrapper)
        for hider, wrapper in hidden_wrappers(view)
    )
    groups = _groups(declarations(view))
    rows = []
    for rule in rules:
        rule_methods = set(rule.methods or ()) - _UNLISTED_METHODS
        if not groups and hidden:
            # Answers no JSONP: listed for the warning.
            rows.append(
                RouteAudit(
                    endpoint,
                    rule.rule,
                    tuple(sorted(rule_methods)),
                    False,
                    None,
                    hidden,
                )
            )
        for methods, declaration in groups:
            covered = rule_methods if methods is None else rule_methods & methods
            if not covered:
                continue
            checks_first = extension or declaration.wrappers[0] is view
            try:
                plan = resolve_plans(app, endpoint, declaration)
            except (TypeError, ValueError) as error:
                rows.append(
                    RouteAudit(
                        endpoint,
                        rule.rule,
                        tuple(sorted(covered)),
                        checks_first,
                        None,
                        (*hidden, str(error)),
                    )
                )
                continue
            assert isinstance(plan, JsonpPlan)
            rows.append(
                _row(endpoint, rule.rule, covered, checks_first, plan, hidden, now)
            )
    return rows


def _groups(
    found: dict[str, Declaration | None] | Declaration | None,
) -> list[tuple[frozenset[str] | None, Declaration]]:
    """The declarations of an endpoint, each with the methods it covers
    (``None``: every method of the rule).
    """
    if found is None:
        return []
    if isinstance(found, Declaration):
        return [(None, found)]
    methods: dict[Declaration, set[str]] = defaultdict(set)
    for method, declaration in found.items():
        if declaration is not None:
            methods[declaration].add(method)
    return [
        (frozenset(covered), declaration) for declaration, covered in methods.items()
    ]


def _row(
    endpoint: str,
    rule: str | None,
    methods: Iterable[str],
    checks_first: bool,
    plan: JsonpPlan,
    warnings: tuple[str, ...],
    now: datetime,
) -> RouteAudit:
    options = plan.options
    days_left = None
    notes: tuple[str, ...] = ()
    if options.sunset is not None:
        days_left = (options.sunset.date() - now.date()).days
        if options.sunset <= now:
            notes = (
                f"the sunset ({options.sunset.isoformat()}) has passed: JSONP"
                " requests are answered 410 Gone",
            )
    return RouteAudit(
        endpoint,
        rule,
        tuple(sorted(methods)),
        checks_first,
        options,
        warnings,
        notes,
        days_left,
    )


def _app_wide_row(app: Flask, now: datetime) -> RouteAudit:
    # Outside a JSONP view, jsonpify checks the request once the view has run.
    try:
        plan = plan_for(app, APP_LAYERS)
    except (TypeError, ValueError) as error:
        return RouteAudit(
            APP_WIDE_ENDPOINT,
            None,
            JSONP_METHODS,
            False,
            None,
            (f"the app's JSONP options conflict: {error}",),
        )
    return _row(APP_WIDE_ENDPOINT, None, JSONP_METHODS, False, plan, (), now)
