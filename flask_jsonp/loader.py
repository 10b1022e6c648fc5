"""The bundled JavaScript loader: where it lives, how it is served, copied and
included in templates.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import click
from flask import Blueprint
from flask import Flask
from flask import g
from flask import request
from flask import Response
from flask import send_from_directory
from flask import url_for
from markupsafe import Markup
from werkzeug.exceptions import NotFound

from .cli import routes_command

#: Folder of the loader files inside the installed package.
STATIC_FOLDER = Path(__file__).parent / "static"

#: The files of the loader: classic script, ES module and their TypeScript types.
LOADER_FILES = ("jsonp.js", "jsonp.mjs", "jsonp.d.ts", "jsonp.d.mts")

#: Media types to serve them with. Module scripts are refused by browsers without
#: a JavaScript type, and ``mimetypes`` does not know ``.mjs`` everywhere.
_MIMETYPES = {
    "jsonp.js": "text/javascript",
    "jsonp.mjs": "text/javascript",
    "jsonp.d.ts": "text/plain",
    "jsonp.d.mts": "text/plain",
}

#: Name of the blueprint that serves the loader, and so of its endpoint.
BLUEPRINT_NAME = "flask_jsonp"

#: URL path the loader files are served under.
LOADER_URL_PATH = "/_jsonp"


def serve_loader_file(filename: str) -> Response:
    """Serve one of :data:`LOADER_FILES` from the package."""
    if filename not in LOADER_FILES:
        raise NotFound()
    return send_from_directory(STATIC_FOLDER, filename, mimetype=_MIMETYPES[filename])


def csp_nonce() -> str | None:
    """Return the request's Content-Security-Policy nonce, if the app set one.

    Looks for ``g.csp_nonce`` (a common convention) and ``request.csp_nonce``
    (set by Flask-Talisman).
    """
    nonce = g.get("csp_nonce") or getattr(request, "csp_nonce", None)
    return str(nonce) if nonce else None


def jsonp_loader(module: bool = False, nonce: str | None = None) -> Markup:
    """Return the ``<script>`` tag that loads the bundled loader.

    Available in templates once :class:`~flask_jsonp.JSONP` is set up::

        {{ jsonp_loader() }}

    gives ``<script src="/_jsonp/jsonp.js"></script>``, the classic script,
    which defines the global ``jsonp``.

    :param module: load the ES module (``<script type="module">``) instead. A
        module defines no global: a page's own module script imports ``jsonp``
        from the URL of ``url_for("flask_jsonp.loader_file",
        filename="jsonp.mjs")``.
    :param nonce: the CSP nonce; by default the one the app set for the request
        (``g.csp_nonce``, or Flask-Talisman's ``request.csp_nonce``).

    .. versionadded:: 0.1
    """
    filename = "jsonp.mjs" if module else "jsonp.js"
    src = url_for(f"{BLUEPRINT_NAME}.loader_file", filename=filename)
    nonce = nonce or csp_nonce()
    return Markup('<script{}{} src="{}"></script>').format(
        Markup(' type="module"') if module else "",
        Markup(' nonce="{}"').format(nonce) if nonce else "",
        src,
    )


def copy_loader(destination: Path, force: bool = False) -> list[Path]:
    """Copy the loader files into ``destination``, creating it if needed.

    A file that already exists with other content is kept unless ``force`` is
    true, so nothing the user changed is lost silently.

    :return: the paths written (identical files are not rewritten).
    :raise FileExistsError: a different file exists and ``force`` is false.

    .. versionadded:: 0.1
    """
    destination.mkdir(parents=True, exist_ok=True)
    sources = [STATIC_FOLDER / filename for filename in LOADER_FILES]
    conflicts = [
        destination / source.name
        for source in sources
        if (destination / source.name).exists()
        and not filecmp.cmp(source, destination / source.name, shallow=False)
    ]
    if conflicts and not force:
        names = ", ".join(str(path) for path in conflicts)
        verb = "exists" if len(conflicts) == 1 else "exist"
        raise FileExistsError(f"{names} already {verb} with other content")
    written = []
    for source in sources:
        target = destination / source.name
        if target.exists() and target not in conflicts:
            continue
        shutil.copyfile(source, target)
        written.append(target)
    return written


@click.group("jsonp", help="flask-jsonp commands.")
def cli() -> None:
    """The ``flask jsonp`` command group."""


@cli.command("copy-loader")
@click.argument(
    "destination", type=click.Path(file_okay=False, writable=True, path_type=Path)
)
@click.option("--force", is_flag=True, help="Overwrite files that differ.")
def copy_loader_command(destination: Path, force: bool) -> None:
    """Copy the JSONP loader (jsonp.js, jsonp.mjs and their types) into DESTINATION,
    e.g. your app's static folder.
    """
    try:
        written = copy_loader(destination, force=force)
    except FileExistsError as error:
        raise click.ClickException(f"{error}; use --force to overwrite.") from None
    for path in written:
        click.echo(f"wrote {path}")
    if not written:
        click.echo(f"{destination} already has the current loader files.")


cli.add_command(routes_command)


def register_loader(app: Flask) -> None:
    """Serve the loader under :data:`LOADER_URL_PATH` and add the
    ``jsonp_loader()`` template helper to ``app``.
    """
    if BLUEPRINT_NAME in app.blueprints:
        return
    blueprint = Blueprint(BLUEPRINT_NAME, __name__)
    blueprint.add_url_rule(
        f"{LOADER_URL_PATH}/<filename>", "loader_file", serve_loader_file
    )
    app.register_blueprint(blueprint)
    app.add_template_global(jsonp_loader)
