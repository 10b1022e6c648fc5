"""Another revision's flask_jsonp, checked out and run in a worker process.

Two versions of one package cannot share a process, so each side of a
comparison runs in a :mod:`benchmarks.worker` process of its own: this tree's
``flask_jsonp`` in one, the revision's, checked out in a git worktree under
:data:`CACHE_DIR` (ignored by git), in the other. Both use this tree's
benchmark code and this environment's Flask, so only ``flask_jsonp`` differs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any
from typing import IO

from .common import BenchmarkError
from .common import ROOT

#: Worktrees of compared revisions, one per commit, kept between runs.
CACHE_DIR = ROOT / ".bench-cache" / "worktrees"

#: Worktrees kept: the least recently used beyond these are removed (each run
#: of the smoke test compares with a new HEAD).
MAX_WORKTREES = 4


def _git(*arguments: str, cwd: Path = ROOT) -> str:
    try:
        done = subprocess.run(
            ["git", *arguments], cwd=cwd, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError) as error:
        stderr = getattr(error, "stderr", "") or ""
        raise BenchmarkError(f"git {' '.join(arguments)} failed: {stderr}") from None
    return done.stdout.strip()


def describe_tree() -> str:
    """This tree's commit, and whether files differ from it: ``4c21361-dirty``."""
    return _git("describe", "--always", "--dirty")


def checkout(revision: str) -> tuple[Path, str]:
    """Check ``revision`` out in a detached worktree under :data:`CACHE_DIR`,
    or reuse the one a previous run made.

    :return: the worktree's root and the commit's short name.
    :raise BenchmarkError: the revision is unknown (a shallow clone lacks old
        commits) or git failed.
    """
    commit = _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    short = _git("rev-parse", "--short", commit)
    path = CACHE_DIR / commit
    if (path / "flask_jsonp" / "__init__.py").is_file():
        try:
            if _git("rev-parse", "HEAD", cwd=path) == commit:
                path.touch()  # recently used: kept by _forget_old_worktrees
                return path, short
        except BenchmarkError:
            pass  # not a worktree any more: made anew
    shutil.rmtree(path, ignore_errors=True)
    _git("worktree", "prune")  # forgets worktrees whose folder is gone
    path.parent.mkdir(parents=True, exist_ok=True)
    _git("worktree", "add", "--detach", "--force", str(path), commit)
    _forget_old_worktrees()
    return path, short


def _forget_old_worktrees() -> None:
    """Remove the least recently used worktrees beyond :data:`MAX_WORKTREES`."""
    folders = sorted(
        (folder for folder in CACHE_DIR.iterdir() if folder.is_dir()),
        key=lambda folder: folder.stat().st_mtime,
        reverse=True,
    )
    for folder in folders[MAX_WORKTREES:]:
        try:
            _git("worktree", "remove", "--force", str(folder))
        except BenchmarkError:
            shutil.rmtree(folder, ignore_errors=True)
    _git("worktree", "prune")


class Worker:
    """A :mod:`benchmarks.worker` process running the ``flask_jsonp`` of
    ``code_root``, asked one JSON message at a time.

    :param code_root: the folder holding the ``flask_jsonp`` package to run.
    :param label: how reports name this side (``this tree``, a commit).
    """

    def __init__(self, code_root: Path, label: str) -> None:
        self.code_root, self.label = code_root, label
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", str(code_root)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        #: Where the worker found ``flask_jsonp``, as it reports it.
        self.package = str(self.ask({"op": "hello"})["flask_jsonp"])

    def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one message, return the worker's answer.

        :raise BenchmarkError: the worker failed or answered an error.
        """
        stdin: IO[str] | None = self._process.stdin
        stdout: IO[str] | None = self._process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(json.dumps(message) + "\n")
            stdin.flush()
            line = stdout.readline()
        except OSError as error:
            failure = f"the worker of {self.label} failed: {error}"
            raise BenchmarkError(failure) from None
        if not line:
            code = self._process.wait(timeout=10)
            raise BenchmarkError(f"the worker of {self.label} exited with {code}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise BenchmarkError(f"{self.label}: {answer['error']}")
        return answer

    def close(self) -> None:
        """End the worker: it exits when its input closes."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
