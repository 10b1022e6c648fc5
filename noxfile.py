"""The version matrix: the unit tests on each supported Python with the oldest and
the newest supported Flask.

Run it with ``make matrix`` (which puts pyenv's Pythons on ``PATH``), or
``nox -s "tests-3.12(flask='lowest')"`` for one cell. Browser and Node.js tests
and the load test (gunicorn and wrk, from the bench group) are deselected by
marker: they run once, in ``make test``.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
#: The oldest supported release lines (setup.cfg: flask>=2.3, markupsafe>=2.1)
#: with the Werkzeug of their time, and whatever pip picks as newest.
FLASKS = {
    "lowest": ["flask==2.3.*", "werkzeug==2.3.*", "markupsafe==2.1.*"],
    "latest": ["flask", "werkzeug", "markupsafe"],
}
UNIT_TESTS = "not browser and not node and not load"
PYPROJECT = nox.project.load_toml("pyproject.toml")
REPORT_VERSIONS = (
    "import platform; from importlib.metadata import version;"
    " print('Python', platform.python_version(),"
    " '| Flask', version('flask'), '| Werkzeug', version('werkzeug'),"
    " '| MarkupSafe', version('markupsafe'))"
)


@nox.session(python=PYTHONS)
@nox.parametrize("flask", list(FLASKS))
def tests(session: nox.Session, flask: str) -> None:
    """The unit tests against one Python and one Flask."""
    session.install(
        *nox.project.dependency_groups(PYPROJECT, "test"),
        "-e",
        ".[orjson]",
        *FLASKS[flask],
    )
    if flask == "latest":
        # A reused environment may hold an older release.
        session.install("--upgrade", *FLASKS[flask])
    session.run("python", "-c", REPORT_VERSIONS)
    session.run(
        "python",
        "-m",
        "pytest",
        "-m",
        UNIT_TESTS,
        "-p",
        "no:cacheprovider",
        *session.posargs,
    )
