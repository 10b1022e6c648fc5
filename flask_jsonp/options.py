"""JSONP settings, where they come from, and how nested layers combine.

Each setting is resolved in this order: the argument given to :func:`~flask_jsonp.jsonp`
(or to :meth:`~flask_jsonp.JSONP.enable_blueprint`), the defaults given to
:class:`~flask_jsonp.JSONP`, the application's ``JSONP_*`` config key, and finally the
built-in default below.

A view can be covered by several *layers*: a decorated view in a JSONP blueprint,
a blueprint nested in another. The answer is wrapped once, and the strictest policy
of all the layers applies: each layer's settings are resolved as if it were alone,
then the allowlists must all accept the request, the shortest length limit and the
strictest callback policy win. ``callback_params`` and ``envelope`` shape the answer
rather than guard it: the innermost layer that sets them wins.

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
from typing import Any

from .callback import CALLBACK_POLICIES
from .callback import CallbackAllowlist
from .callback import DEFAULT_CALLBACK_POLICY
from .callback import DEFAULT_MAX_CALLBACK_LENGTH
from .callback import parse_callback_allowlist
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
    "envelope": False,
}

#: Options that shape the answer rather than guard it: the innermost layer that
#: sets one wins. Every other option is a policy, combined strictest-first.
SHAPING_OPTIONS = ("callback_params", "envelope")

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
    #: Always answer 200 and pass ``{"meta": {"status": N}, "data": ...}``.
    envelope: bool


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


def _referrer_allowlist(value: Any) -> tuple[OriginPattern, ...] | None:
    if value is None:
        return None
    return tuple(
        parse_origin_pattern(entry) for entry in _names(value, "allowed_referrers")
    )


#: How each option's raw value is checked and converted.
_PARSERS: dict[str, Callable[[Any], Any]] = {
    "callback_params": _callback_params,
    "max_callback_length": _max_length,
    "callback_policy": _policy,
    "allowed_callbacks": _callback_allowlist,
    "allowed_referrers": _referrer_allowlist,
    "envelope": bool,
}


def check_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Validate options given in code, so mistakes fail at import time.

    :return: the options that were given (not ``None``).
    :raise TypeError: for an unknown option name.
    :raise ValueError: for an invalid value.
    """
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown JSONP option(s): {', '.join(sorted(unknown))}")
    given = {name: value for name, value in overrides.items() if value is not None}
    for name, value in given.items():
        _PARSERS[name](value)
    return given


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
        envelope=bool(shaping["envelope"]),
    )
