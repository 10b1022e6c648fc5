"""Helpers for tests that need a tool from outside Python (Node.js, Chromium,
Firefox, npm).

Such tests skip with a reason where the tool is missing, and fail instead when the
``CI`` environment variable is set, so a CI machine that lacks a tool cannot pass
by skipping.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
FIREFOX_PATH = os.environ.get("FIREFOX_PATH", "/usr/bin/firefox-esr")

#: Headless Chromium as root in a container, with nothing that reaches the network
#: on its own (this machine reaches only package registries).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def in_ci() -> bool:
    """Whether the tests run under CI, where missing tools are failures."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def missing_tool(reason: str) -> NoReturn:
    """Skip the current test, or fail it under CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def require_executable(name: str) -> str:
    """Return the path of ``name`` on ``PATH``, or skip/fail the test."""
    path = shutil.which(name)
    if path is None:
        missing_tool(f"{name} is not installed")
    return path


def require_chromium() -> str:
    """Return the path of Debian's Chromium, or skip/fail the test."""
    if not os.access(CHROMIUM_PATH, os.X_OK):
        missing_tool(
            f"Chromium not found at {CHROMIUM_PATH} (apt-get install chromium)"
        )
    return CHROMIUM_PATH


def require_firefox() -> str:
    """Return the path of Debian's Firefox ESR, or skip/fail the test."""
    if not os.access(FIREFOX_PATH, os.X_OK):
        missing_tool(
            f"Firefox not found at {FIREFOX_PATH} (apt-get install firefox-esr)"
        )
    return FIREFOX_PATH
