"""The version matrix: the unit tests on each supported Python with the oldest and
the newest supported Flask.

Run it with ``make matrix`` (which puts pyenv's Pythons on ``PATH``), or
``nox -s "tests-3.12(flask='lowest')"`` for one cell. Every test that needs
neither a browser, Node.js, the load tools nor nginx runs in each cell, the
combination tests with the real extensions (tests/company/) included; browser,
Node.js, load tests (gunicorn and wrk, from the bench group) and the deploy
guide's nginx tests (nginx before gunicorn) are deselected by marker: they run
once, in ``make test``.
"""

from __future__ import annotations

import re

import nox

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = True

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
#: The oldest supported release lines (setup.cfg: flask>=2.3, markupsafe>=2.1,
#: and the prometheus extra's prometheus-client>=0.20) with the Werkzeug of
#: their time, and whatever pip picks as newest.
FLASKS = {
    "lowest": [
        "flask==2.3.*",
        "werkzeug==2.3.*",
        "markupsafe==2.1.*",
        "prometheus-client==0.20.*",
    ],
    "latest": ["flask", "werkzeug", "markupsafe"],
}
UNIT_TESTS = "not browser and not node and not load and not nginx"
PYPROJECT = nox.project.load_toml("pyproject.toml")
#: The extensions the combination tests stack around JSONP views. The group
#: pins the releases ``make test`` runs with, some of which need Flask 3 or
#: Python 3.11 (Flask-Caching 2.5). Like Flask in the "latest" cells, the
#: matrix installs them unpinned, so that pip picks the newest release of each
#: that supports the cell's Python and Flask (Flask 2.3: Flask-Caching 2.4,
#: flask-smorest 0.42; Python 3.10: Flask-Caching 2.4).
COMPANY = nox.project.dependency_groups(PYPROJECT, "company")
REPORT_VERSIONS = (
    "import platform; from importlib.metadata import version;"
    " print('Python', platform.python_version(),"
    " '| Flask', version('flask'), '| Werkzeug', version('werkzeug'),"
    " '| MarkupSafe', version('markupsafe'))"
)
REPORT_COMPANY = (
    "import sys; from importlib.metadata import version;"
    " print(' | '.join(f'{name} {version(name)}' for name in sys.argv[1:]))"
)


@nox.session(python=PYTHONS)
@nox.parametrize("flask", list(FLASKS))
def tests(session: nox.Session, flask: str) -> None:
    """The unit tests against one Python and one Flask."""
    test_group = [
        unpinned(name) if name in COMPANY else name
        for name in nox.project.dependency_groups(PYPROJECT, "test")
    ]
    # The extras, as users install them: tests/test_prometheus.py runs with the
    # prometheus extra's requirement, not only the test group's pin.
    session.install(*test_group, "-e", ".[orjson,prometheus]", *FLASKS[flask])
    if flask == "latest":
        # A reused environment may hold an older release.
        session.install("--upgrade", *FLASKS[flask], *map(unpinned, COMPANY))
    session.run("python", "-c", REPORT_VERSIONS)
    session.run("python", "-c", REPORT_COMPANY, *map(unpinned, COMPANY))
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


def unpinned(requirement: str) -> str:
    """The project name of a requirement: ``"Flask-Caching==2.5.1"`` gives
    ``"Flask-Caching"``.
    """
    return re.split(r"[\s\[;<>=!~]", requirement, maxsplit=1)[0]
