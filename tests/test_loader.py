"""The Python side of the bundled loader: serving, template helper, copy command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask import g
from flask import render_template_string

from flask_jsonp import JSONP
from flask_jsonp.loader import cli
from flask_jsonp.loader import LOADER_FILES
from flask_jsonp.loader import STATIC_FOLDER


@pytest.fixture
def app(app: Flask) -> Flask:
    JSONP(app)
    return app


@pytest.mark.parametrize(
    ("filename", "mimetype"),
    [
        ("jsonp.js", "text/javascript"),
        ("jsonp.mjs", "text/javascript"),
        ("jsonp.d.ts", "text/plain"),
        ("jsonp.d.mts", "text/plain"),
    ],
)
def test_loader_files_are_served_from_the_package(
    app: Flask, filename: str, mimetype: str
) -> None:
    response = app.test_client().get(f"/_jsonp/{filename}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.data == (STATIC_FOLDER / filename).read_bytes()
    response.close()


@pytest.mark.parametrize(
    "path",
    [
        "/_jsonp/other.js",
        "/_jsonp/..%2Fcallback.py",
        "/_jsonp/",
        "/_jsonp/package.json",
    ],
)
def test_only_the_loader_files_are_served(app: Flask, path: str) -> None:
    assert app.test_client().get(path).status_code == 404


def test_template_helper_emits_the_script_tag(app: Flask) -> None:
    with app.test_request_context():
        html = render_template_string("{{ jsonp_loader() }}")
        assert html == '<script src="/_jsonp/jsonp.js"></script>'
        module = render_template_string("{{ jsonp_loader(module=True) }}")
        assert module == '<script type="module" src="/_jsonp/jsonp.mjs"></script>'


def test_template_helper_uses_the_apps_csp_nonce(app: Flask) -> None:
    with app.test_request_context():
        g.csp_nonce = "r4nd0m"
        html = render_template_string("{{ jsonp_loader() }}")
        assert html == '<script nonce="r4nd0m" src="/_jsonp/jsonp.js"></script>'


def test_template_helper_escapes_the_nonce(app: Flask) -> None:
    with app.test_request_context():
        html = render_template_string('{{ jsonp_loader(nonce="a\\"><x") }}')
        assert '"><x' not in html
        assert "&#34;&gt;&lt;x" in html


def test_init_app_twice_registers_the_loader_once() -> None:
    app = Flask(__name__)
    JSONP(app)
    JSONP(app)
    response = app.test_client().get("/_jsonp/jsonp.js")
    assert response.status_code == 200
    response.close()


def test_copy_loader_writes_the_loader_files(tmp_path: Path) -> None:
    destination = tmp_path / "static" / "js"
    result = CliRunner().invoke(cli, ["copy-loader", str(destination)])
    assert result.exit_code == 0, result.output
    for filename in LOADER_FILES:
        copied = destination / filename
        assert copied.read_bytes() == (STATIC_FOLDER / filename).read_bytes()
        assert f"wrote {copied}" in result.output


def test_copy_loader_is_idempotent(tmp_path: Path) -> None:
    CliRunner().invoke(cli, ["copy-loader", str(tmp_path)])
    result = CliRunner().invoke(cli, ["copy-loader", str(tmp_path)])
    assert result.exit_code == 0
    assert "already has the current loader files" in result.output


def test_copy_loader_keeps_changed_files_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "jsonp.js").write_text("// my edits\n")
    result = CliRunner().invoke(cli, ["copy-loader", str(tmp_path)])
    assert result.exit_code == 1
    assert "--force" in result.output
    assert (tmp_path / "jsonp.js").read_text() == "// my edits\n"
    assert not (tmp_path / "jsonp.mjs").exists()

    result = CliRunner().invoke(cli, ["copy-loader", "--force", str(tmp_path)])
    assert result.exit_code == 0
    assert (tmp_path / "jsonp.js").read_bytes() == (
        STATIC_FOLDER / "jsonp.js"
    ).read_bytes()


def test_flask_command_is_registered(tmp_path: Path) -> None:
    # The entry point makes `flask jsonp` available in any app, extension or not.
    app_file = tmp_path / "tiny_app.py"
    app_file.write_text("from flask import Flask\napp = Flask(__name__)\n")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "tiny_app", "jsonp", "copy-loader",
         str(tmp_path / "out")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(LOADER_FILES)


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        (["jsonp.js"], "{0}/jsonp.js already exists with other content"),
        (
            ["jsonp.js", "jsonp.mjs"],
            "{0}/jsonp.js, {0}/jsonp.mjs already exist with other content",
        ),
    ],
)
def test_copy_loader_names_the_changed_files_in_good_english(
    tmp_path: Path, changed: list[str], message: str
) -> None:
    for filename in changed:
        (tmp_path / filename).write_text("// my edits\n")
    result = CliRunner().invoke(cli, ["copy-loader", str(tmp_path)])
    assert result.exit_code == 1
    assert message.format(tmp_path) in result.output
    assert "exist(s)" not in result.output
