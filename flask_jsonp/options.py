"""JSONP settings, where they come from, and how nested layers combine.

Each setting is resolved in this order: the argument given to :func:`~flask_jsonp.jsonp`
(or to :meth:`~flask_jsonp.JSONP.enable_blueprint`), the defaults given to
:class:`~flask_jsonp.JSONP`, the application's ``JSONP_*`` config key, and finally the
built-in default below.

A view can be covered by several *layers*: a decorated view in a JSONP blueprint,
a blueprint nested in another. The answer is wrapped once, and the strictest policy
of all the layers applies: each layer's settings are resolved as if it were alone,
then the allowlists must all accept the request, the shortest length limit and the
strictest callback policy win. ``callback_params``, ``envelope`` and the
announcements of the end (``deprecation``, ``sunset``, ``deprecation_link``) shape
the answer rather than guard it: the innermost layer that sets them wins.

Options are resolved once per application and view, on the view's first request,
and kept in the app's extension state. Changes to ``app.config`` after that are not
seen; set the ``JSONP_*`` keys before the app serves requests.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .callback import CALLBACK_POLICIES
from .callback import CallbackAllowlist
from .callback import DEFAULT_CALLBACK_POLICY
from .callback import DEFAULT_MAX_CALLBACK_LENGTH
from .callback import parse_callback_allowlist
from .deprecation import as_utc
from .referrer import OriginPattern
from .referrer import parse_origin_pattern

#: Built-in defaults, by option name. The config key is ``JSONP_`` + the upper-case
#: name, e.g. ``JSONP_CALLBACK_PARAMS``.
DEFAULTS: dict[str, Any] = {
    "callback_params": ("callback",),
    "max_callback_length": DEFAULT_MAX_CALLBACK_LENGTH,
    "callback_policy": DEFAULT_CALLBACK_POLICY,
    "allowed_callbacks": None,
    "allowed_referrers": None,
    "allowed_referrers_report_only": None,
    "envelope": False,
    "deprecation": None,
    "sunset": None,
    "deprecation_link": None,
    "etag": True,
}

#: Options that shape the answer rather than guard it: the innermost layer that
#: sets one wins. Every other option is a policy, combined strictest-first.
SHAPING_OPTIONS = (
    "callback_params",
    "envelope",
    "deprecation",
    "sunset",
    "deprecation_link",
    "etag",
)

#: The value of ``allowed_referrers`` (and ``allowed_referrers_report_only``)
#: that accepts every page, where ``None`` means "not set here": it opens one
#: view or blueprint over an app-wide ``JSONP_ALLOWED_REFERRERS``.
ANY_PAGE = "*"

#: The extension's key in ``app.extensions``.
EXTENSION_KEY = "jsonp"


def config_key(name: str) -> str:
    """Return the config key of option ``name``: ``callback_params`` becomes
    ``JSONP_CALLBACK_PARAMS``.
    """
    return f"JSONP_{name.upper()}"


@dataclass(frozen=True)
class JsonpOptions:
    """Validated JSONP settings of one view on one application, all layers
    combined.

    .. versionadded:: 0.1
    """

    #: Query parameter names that carry the callback; the first present wins.
    callback_params: tuple[str, ...]
    #: Longer callbacks are refused.
    max_callback_length: int
    #: Which valid names are refused as unsafe: ``"safe"`` or ``"identifier"``.
    callback_policy: str
    #: Every allowlist here must accept the callback; empty: any valid name.
    allowed_callbacks: tuple[CallbackAllowlist, ...]
    #: Every allowlist here must accept the page's origin; empty: any page.
    allowed_referrers: tuple[tuple[OriginPattern, ...], ...]
    #: Pages that one of these does not accept are reported, and answered.
    allowed_referrers_report_only: tuple[tuple[OriginPattern, ...], ...]
    #: Always answer 200 and pass ``{"meta": {"status": N}, "data": ...}``.
    envelope: bool
    #: When the endpoint was deprecated (UTC), announced in each JSONP answer.
    deprecation: datetime | None = None
    #: When JSONP ends (UTC): announced, then refused with 410 Gone.
    sunset: datetime | None = None
    #: A page that tells the endpoint's users what to do.
    deprecation_link: str | None = None
    #: Give each script answer a weak entity tag and answer a matching
    #: ``If-None-Match`` with 304 Not Modified.
    etag: bool = True


def _names(value: str | Iterable[str], option: str) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(name, str) and name for name in names):
        raise TypeError(
            f"{option} must be a string or an iterable of non-empty strings"
        )
    return names


def _callback_params(value: Any) -> tuple[str, ...]:
    params = _names(value, "callback_params")
    if not params:
        raise ValueError("callback_params must name at least one query parameter")
    return params


def _max_length(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("max_callback_length must be a positive integer")
    return value


def _policy(value: Any) -> str:
    if value not in CALLBACK_POLICIES:
        choices = ", ".join(repr(policy) for policy in CALLBACK_POLICIES)
        raise ValueError(f"callback_policy must be one of {choices}")
    return str(value)


def _callback_allowlist(value: Any) -> CallbackAllowlist | None:
    if value is None:
        return None
    return parse_callback_allowlist(_names(value, "allowed_callbacks"))


def _referrer_allowlist(
    value: Any, option: str = "allowed_referrers"
) -> tuple[OriginPattern, ...] | None:
    if value is None or value == ANY_PAGE:
        return None
    return tuple(parse_origin_pattern(entry) for entry in _names(value, option))


def _report_only_allowlist(value: Any) -> tuple[OriginPattern, ...] | None:
    return _referrer_allowlist(value, "allowed_referrers_report_only")


def _moment(option: str) -> Callable[[Any], datetime | None]:
    def parse(value: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"{option} must be a datetime, not {type(value).__name__}")
        return as_utc(value)

    return parse


def _link(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        kind = type(value).__name__
        raise TypeError(f"deprecation_link must be a string, not {kind}")
    parts = urlsplit(value)
    # Written into a Link header between <>, and into the envelope.
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or not value.isascii()
        or any(char in value for char in '<>" ')
        or not value.isprintable()
    ):
        raise ValueError(
            "deprecation_link must be an absolute http(s) URL in ASCII, such as"
            " 'https://api.example/retiring-jsonp'"
        )
    return value


#: How each option's raw value is checked and converted.
_PARSERS: dict[str, Callable[[Any], Any]] = {
    "callback_params": _callback_params,
    "max_callback_length": _max_length,
    "callback_policy": _policy,
    "allowed_callbacks": _callback_allowlist,
    "allowed_referrers": _referrer_allowlist,
    "allowed_referrers_report_only": _report_only_allowlist,
    "envelope": bool,
    "deprecation": _moment("deprecation"),
    "sunset": _moment("sunset"),
    "deprecation_link": _link,
    "etag": bool,
}


def check_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Validate options given in code, so mistakes fail at import time.

    :return: the options that were given (not ``None``), iterables as tuples.
    :raise TypeError: for an unknown option name.
    :raise ValueError: for an invalid value.
    """
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown JSONP option(s): {', '.join(sorted(unknown))}")
    given = {
        # Iterables are read once, here: a generator would be empty the next
        # time, and the layers compare the options by value.
        name: tuple(value)
        if isinstance(value, Iterable) and not isinstance(value, (str, bytes))
        else value
        for name, value in overrides.items()
        if value is not None
    }
    parsed = {name: _PARSERS[name](value) for name, value in given.items()}
    _check_dates(parsed.get("deprecation"), parsed.get("sunset"))
    return given


def _check_dates(deprecation: datetime | None, sunset: datetime | None) -> None:
    if deprecation is not None and sunset is not None and sunset < deprecation:
        raise ValueError("sunset must not come before deprecation")


def resolve(
    config: Mapping[str, Any],
    extension_defaults: Mapping[str, Any],
    layers: Sequence[Mapping[str, Any]] = (),
) -> JsonpOptions:
    """Merge the sources of settings and combine the layers.

    :param config: the application's config.
    :param extension_defaults: keyword arguments given to :class:`~flask_jsonp.JSONP`.
    :param layers: the options given in code by each layer that covers the view
        (blueprint mode, the decorator), outermost first.
    :raise ValueError, TypeError: for an invalid value in the config.
    """
    base = {
        name: config.get(config_key(name), default)
        for name, default in DEFAULTS.items()
    }
    base.update(extension_defaults)
    alone = [{**base, **layer} for layer in layers] or [base]
    shaping = dict(base)
    for layer in layers:
        shaping.update({name: layer[name] for name in SHAPING_OPTIONS if name in layer})
    callback_allowlists = [
        _callback_allowlist(settings["allowed_callbacks"]) for settings in alone
    ]
    referrer_allowlists = [
        _referrer_allowlist(settings["allowed_referrers"]) for settings in alone
    ]
    report_only_allowlists = [
        _report_only_allowlist(settings["allowed_referrers_report_only"])
        for settings in alone
    ]
    deprecation = _PARSERS["deprecation"](shaping["deprecation"])
    sunset = _PARSERS["sunset"](shaping["sunset"])
    _check_dates(deprecation, sunset)
    return JsonpOptions(
        callback_params=_callback_params(shaping["callback_params"]),
        max_callback_length=min(
            _max_length(settings["max_callback_length"]) for settings in alone
        ),
        # CALLBACK_POLICIES is ordered strictest first.
        callback_policy=min(
            (_policy(settings["callback_policy"]) for settings in alone),
            key=CALLBACK_POLICIES.index,
        ),
        allowed_callbacks=tuple(
            dict.fromkeys(item for item in callback_allowlists if item is not None)
        ),
        allowed_referrers=tuple(
            dict.fromkeys(item for item in referrer_allowlists if item is not None)
        ),
        allowed_referrers_report_only=tuple(
            dict.fromkeys(item for item in report_only_allowlists if item is not None)
        ),
        envelope=bool(shaping["envelope"]),
        deprecation=deprecation,
        sunset=sunset,
        deprecation_link=_link(shaping["deprecation_link"]),
        etag=bool(shaping["etag"]),
    )


def check_config(config: Mapping[str, Any]) -> None:
    """Validate the application's ``JSONP_*`` config keys, so that a mistake
    fails when the extension is set up rather than on each request.

    :raise TypeError, ValueError: for an unknown ``JSONP_*`` key or an invalid
        value, with the key in the message.
    """
    known = {config_key(name): name for name in DEFAULTS}
    unknown = sorted(
        key for key in config if key.startswith("JSONP_") and key not in known
    )
    if unknown:
        raise ValueError(
            f"unknown flask-jsonp config key(s): {', '.join(unknown)}; the keys"
            f" are {', '.join(known)}"
        )
    for key, name in known.items():
        if key not in config or config[key] is None:
            continue
        try:
            _PARSERS[name](config[key])
        except (TypeError, ValueError) as error:
            raise type(error)(f"{key} = {config[key]!r}: {error}") from None
    try:
        resolve(config, {})
    except (TypeError, ValueError) as error:
        raise type(error)(f"JSONP_* config: {error}") from None
