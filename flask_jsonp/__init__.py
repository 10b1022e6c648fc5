"""Validated, secure-by-default JSONP for Flask views."""

from __future__ import annotations

from .callback import is_valid_callback
from .decorators import jsonp
from .decorators import jsonpify
from .errors import CallbackNotAllowed
from .errors import InvalidCallback
from .errors import JsonpMethodNotAllowed
from .errors import JsonpRequestError
from .errors import ReferrerNotAllowed
from .extension import JSONP

__all__ = [
    "JSONP",
    "CallbackNotAllowed",
    "InvalidCallback",
    "JsonpMethodNotAllowed",
    "JsonpRequestError",
    "ReferrerNotAllowed",
    "is_valid_callback",
    "jsonp",
    "jsonpify",
]
