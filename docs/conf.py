"""Sphinx configuration for the flask-jsonp documentation.

Build it with ``make docs`` (HTML in ``docs/_build/html``, warnings are errors,
every reference must resolve) and run its examples with ``make doctest``.
"""

from __future__ import annotations

import logging
import re
import zlib
from pathlib import Path

from docutils.nodes import Element
from docutils.nodes import TextElement
from pallets_sphinx_themes import get_version
from pallets_sphinx_themes import ProjectLink
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.ext import intersphinx

# Project --------------------------------------------------------------

project = "flask-jsonp"
copyright = "2026 flask-jsonp contributors"
author = "flask-jsonp contributors"
release, version = get_version("flask-jsonp")

# General --------------------------------------------------------------

master_doc = "index"
default_role = "code"
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinxcontrib.log_cabinet",
    "pallets_sphinx_themes",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
nitpicky = True
nitpick_ignore = [
    # The decorators' type variables (ParamSpec P, TypeVar R): names in the
    # signatures, not documented objects.
    ("py:class", "P"),
    ("py:class", "~P"),
    ("py:class", "flask_jsonp.decorators.R"),
    # Werkzeug's HTTPException.__init__ annotates with this private alias of
    # werkzeug.sansio.response.Response, which Werkzeug does not document.
    ("py:class", "SansIOResponse"),
    # cors_origins returns re.Pattern objects; the Python 3.11 inventory
    # (Debian's python3-doc) documents their methods but not the class.
    ("py:class", "re.Pattern"),
    # flask_jsonp.prometheus's registry parameter: prometheus-client's docs are
    # not built with Sphinx, so there is no inventory to link it to.
    ("py:class", "CollectorRegistry"),
]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
# Types of the parameters a docstring describes, and return types other than
# None: an exception's constructor would otherwise read "Return type: None".
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True

myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]


class _HideMystConfig(logging.Filter):
    """Drop what myst-parser logs below a warning when the build starts: the
    whole ``MdParserConfig(...)`` repr, a 1,000-character line on every build.
    Its warnings and errors (an invalid ``myst_*`` option) still show, and
    fail the build under ``-W``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


# Sphinx's loggers are the standard library's, under the "sphinx." prefix.
logging.getLogger("sphinx.myst_parser.sphinx_ext.main").addFilter(_HideMystConfig())

# Intersphinx ----------------------------------------------------------

#: Debian's documentation packages ship each project's ``objects.inv``; this
#: machine reaches only package registries, so the inventories come from there
#: (``apt-get install python3-doc python-flask-doc python-werkzeug-doc``). Links
#: still point at the projects' own sites. Where a package is missing, Sphinx
#: downloads the inventory from the site instead.
DEBIAN_DOCS = Path("/usr/share/doc")
#: Debian builds the Pallets docs as ``api.html``; their sites serve ``api/``.
DIRHTML_INVENTORIES = Path(__file__).parent / "_build" / "inventories"


def as_dirhtml(source: Path, name: str) -> Path:
    """Copy an inventory built as ``page.html`` with the URIs of ``page/``."""
    header, _, body = source.read_bytes().partition(b"compressed using zlib.\n")
    lines = zlib.decompress(body).decode().splitlines()
    converted = []
    for line in lines:
        # name domain:role priority uri display-name; the name may hold spaces.
        match = re.fullmatch(r"(.+?\s+\S+:\S+\s+-?\d+\s+)(\S*)(\s+.*)", line)
        if match is not None:
            uri = re.sub(r"(^|/)index\.html", r"\1", match[2])
            uri = re.sub(r"\.html", "/", uri)
            line = match[1] + uri + match[3]
        converted.append(line)
    target = DIRHTML_INVENTORIES / f"{name}.inv"
    target.parent.mkdir(parents=True, exist_ok=True)
    compressed = zlib.compress("\n".join(converted).encode() + b"\n")
    target.write_bytes(header + b"compressed using zlib.\n" + compressed)
    return target


def inventory(debian_package: str, dirhtml: bool = False) -> tuple[str | None, ...]:
    """Where to read one project's inventory: Debian's copy first, then the web."""
    local = DEBIAN_DOCS / debian_package / "html" / "objects.inv"
    if not local.is_file():
        return (None,)
    if dirhtml:
        local = as_dirhtml(local, debian_package)
    return (str(local), None)


intersphinx_mapping = {
    "python": ("https://docs.python.org/3/", inventory("python3-doc")),
    "flask": (
        "https://flask.palletsprojects.com/en/stable/",
        inventory("python-flask-doc", dirhtml=True),
    ),
    "werkzeug": (
        "https://werkzeug.palletsprojects.com/en/stable/",
        inventory("python-werkzeug-doc", dirhtml=True),
    ),
}
intersphinx_timeout = 10

#: Names autodoc leaves unqualified: it does not evaluate the annotations of a
#: class's own signature (``JSONP(app: Flask | None)``), so they reach Sphinx as
#: written in the module. Each is resolved as the name its project documents.
SHORT_NAMES = {"Flask": "flask.Flask", "Blueprint": "flask.Blueprint"}


def resolve_short_name(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: TextElement
) -> Element | None:
    target = SHORT_NAMES.get(node["reftarget"])
    if node.get("refdomain") != "py" or target is None:
        return None
    node["reftarget"] = target
    return intersphinx.missing_reference(app, env, node, contnode)


# Doctest --------------------------------------------------------------

# The examples write ``Flask(__name__)`` as an app module would; under doctest
# ``__name__`` is "builtins", which Flask cannot find a root folder for.
doctest_global_setup = """
__name__ = "example_app"
"""

# HTML -----------------------------------------------------------------

html_theme = "flask"
html_theme_options = {"index_sidebar_logo": False}
# No release is on PyPI yet, so no "PyPI Releases" link: it would lead nowhere.
# Add ProjectLink("PyPI Releases", "https://pypi.org/project/flask-jsonp/") with
# the first release.
html_context: dict[str, list[ProjectLink]] = {"project_links": []}
html_sidebars = {
    "index": ["project.html", "localtoc.html", "searchbox.html"],
    "**": ["localtoc.html", "relations.html", "searchbox.html"],
}
singlehtml_sidebars = {"index": ["project.html", "localtoc.html"]}
html_title = f"flask-jsonp Documentation ({version})"
html_show_sourcelink = False


def setup(app: Sphinx) -> None:
    app.connect("missing-reference", resolve_short_name)
