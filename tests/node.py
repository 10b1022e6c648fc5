"""Run JSONP answers in Node.js, through one long-lived process.

One process serves every test of a session (starting Node costs tens of
milliseconds, too much for thousands of property-test cases).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUNNER = Path(__file__).parent / "js" / "jsonp_runner.js"


@dataclass
class ScriptResult:
    """What running one script did."""

    #: The argument lists of each call of the callback, decoded from JSON.
    calls: list[list[Any]]
    #: The exception the script raised, as text, or ``None``.
    error: str | None
    #: Global names the script created.
    new_globals: list[str]
    #: Whether the script could see the recording callback: ``False`` for names a
    #: page can never define (``undefined``, ``NaN``: read-only globals), ``None``
    #: when no callback was given or it is not an identifier path.
    callback_defined: bool | None = None


class NodeRunner:
    """A Node.js process that runs scripts in fresh contexts."""

    def __init__(self, node: str) -> None:
        self._process = subprocess.Popen(
            [node, str(RUNNER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def run(self, script: bytes | str, callback: str | None = None) -> ScriptResult:
        """Run ``script`` with ``callback`` defined as a recording function."""
        if isinstance(script, bytes):
            script = script.decode("utf-8")
        assert self._process.stdin is not None and self._process.stdout is not None
        request = json.dumps({"script": script, "callback": callback})
        self._process.stdin.write(request + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the Node.js runner exited")
        reply = json.loads(line)
        return ScriptResult(
            reply["calls"],
            reply["error"],
            reply["newGlobals"],
            reply.get("callbackDefined"),
        )

    def close(self) -> None:
        """Stop the process."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()
