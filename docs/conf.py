"""Sphinx configuration for the skmtl documentation.

Build with ``bash scripts/docs.sh`` (``--quick`` skips executing the example gallery).
The build is fully offline: no intersphinx inventories, no remote assets.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # the checkout, even without an editable install

import skmtl  # noqa: E402

# -- project ---------------------------------------------------------------------------------
project = "skmtl"
author = "skmtl developers"
copyright = "skmtl developers"  # noqa: A001
version = release = skmtl.__version__

# -- general ---------------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints",
                    "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip"]
default_role = "py:obj"  # `name` in a docstring links to the Python object
pygments_style = "sphinx"

# Offline build: no inventories are fetched (intersphinx is not even loaded).
intersphinx_mapping: dict = {}

# -- autodoc / autosummary / numpydoc --------------------------------------------------------
autosummary_generate = True  # stubs go to docs/generated (git-ignored)
autosummary_imported_members = True  # the public names live in private submodules
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the numpydoc sections document the types
autoclass_content = "class"
add_module_names = False

numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Parameter types are turned into cross-references (as in scikit-learn's docs), so names such
# as ``n_outputs_`` in "ndarray of shape (n_samples, n_outputs_)" are code, not reST targets
# (see also _literal_attribute_names below). Unresolved ones render as plain code (nitpicky
# mode is off: there are no remote inventories).
numpydoc_xref_param_type = True


def _numpydoc_xref_settings() -> tuple[dict, set]:
    """numpydoc's type aliases, minus those that need another project's inventory.

    numpydoc maps ``bool``, ``list``, ``array-like`` ... to roles in Python's and NumPy's
    documentation (``:term:`numpy:array_like```); without intersphinx those are unresolved
    (warnings) or render as "python:list". They become plain text here instead.
    """
    from numpydoc.xref import DEFAULT_LINKS

    plain = {name for name, link in DEFAULT_LINKS.items() if link.startswith(":")}
    aliases = {name: name for name in plain}
    aliases.update({
        "DataFrame": "pandas.DataFrame",
        "Series": "pandas.Series",
        "History": "skorch.history.History",
        "Task": "skmtl.tasks.Task",
        "TaskLoss": "skmtl.losses.TaskLoss",
        "Weighting": "skmtl.weighting.Weighting",
        "Architecture": "skmtl.architectures.Architecture",
        "MultiTaskNet": "skmtl.MultiTaskNet",
        "MultiTaskClassifier": "skmtl.MultiTaskClassifier",
        "MultiTaskRegressor": "skmtl.MultiTaskRegressor",
        "MultiTaskEnsemble": "skmtl.MultiTaskEnsemble",
    })
    ignore = plain | {
        "of", "or", "and", "shape", "default", "optional", "instance", "type", "subclass",
        "it", "to", "the", "a", "an", "in", "with", "as", "per", "one", "each", "for", "from",
        "like", "fitted", "unfitted", "any", "set", "estimator", "estimators", "skmtl",
        "matplotlib", "arrays", "column", "columns", "name", "names", "task", "tasks",
        "labels", "spec", "specs", "value", "values", "object", "objects", "class", "classes",
        "skorch", "torch", "pandas", "number", "key", "keys",
    }
    return aliases, ignore


numpydoc_xref_aliases, numpydoc_xref_ignore = _numpydoc_xref_settings()

# -- MyST (the Markdown pages guide.md and benchmarks.md) ------------------------------------
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# -- HTML ------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skmtl {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    # nothing that would be fetched from the network at build or view time
    "icon_links": [],
}
html_show_sourcelink = False

# -- example gallery -------------------------------------------------------------------------
# The gallery runs examples/plot_*.py; examples/penguins_demo.py (the README's demo, run by
# scripts/demo.sh) is a command-line script, not a gallery example: ignore_pattern skips it.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|penguins_demo)\.py",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skmtl",),
    "backreferences_dir": "gen_modules/backreferences",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 0,
    # the execution-time summary pages load DataTables and jQuery from CDNs: leave them out
    # (each example still reports its own running time)
    "write_computation_times": False,
    "matplotlib_animations": False,
    # the build fails (under -W) when an example raises
    "only_warn_on_example_error": False,
}

# The examples' networks are tiny: one torch thread trains them as fast as several, and
# avoids the stalls of a spinning thread pool when the cores are shared (CI runners).
import torch  # noqa: E402

torch.set_num_threads(1)

# -- keep the API reference in sync with the code --------------------------------------------
API_MODULES = ["skmtl", "skmtl.tasks", "skmtl.architectures", "skmtl.weighting", "skmtl.losses",
               "skmtl.callbacks", "skmtl.metrics", "skmtl.plotting", "skmtl.transfer"]


def _documented_names() -> set[str]:
    """The ``module.name`` entries of the autosummary tables in api.rst."""
    names, module, in_table = set(), None, False
    for line in (DOCS / "api.rst").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith(".. currentmodule::"):
            module, in_table = stripped.split("::", 1)[1].strip(), False
        elif stripped.startswith(".. autosummary::"):
            in_table = True
        elif in_table and line.startswith("   ") and stripped and not stripped.startswith(":"):
            names.add(f"{module}.{stripped}")
        elif in_table and stripped and not line.startswith(" "):
            in_table = False
    return names


def _check_api_reference(app) -> None:
    """Warn (an error under -W) when a public name of skmtl is missing from api.rst."""
    import importlib

    from sphinx.util import logging

    logger = logging.getLogger("skmtl.docs")
    documented = _documented_names()
    for module_name in API_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if name.startswith("__") or inspect.ismodule(getattr(module, name)):
                continue
            if f"{module_name}.{name}" not in documented:
                logger.warning("%s.%s is public (in __all__) but missing from docs/api.rst",
                               module_name, name)


# -- references into scikit-learn's documentation --------------------------------------------
# The estimators inherit get_params, set_params and the metadata-routing methods from
# scikit-learn; their docstrings refer to labels and glossary terms of scikit-learn's own
# documentation. Without intersphinx (the build is offline) those would be unresolved, so
# they become plain links to scikit-learn's website (no request is made at build time).
SKLEARN_DOCS = "https://scikit-learn.org/stable/"
SKLEARN_REFS = {
    ("ref", "metadata_routing"): "metadata_routing.html",
    ("term", "meta-estimator"): "glossary.html#term-meta-estimator",
}


def _sklearn_reference(app, env, node, contnode):
    from docutils import nodes

    target = SKLEARN_REFS.get((node.get("reftype"), node.get("reftarget", "").lower()))
    if target is None:
        return None
    reference = nodes.reference("", "", internal=False, refuri=SKLEARN_DOCS + target)
    reference += contnode
    return reference


# -- module constants -----------------------------------------------------------------------
# A constant re-exported by a package (skmtl.tasks.MAX_AUTO_CLASSES, defined with a "#:"
# comment in skmtl/tasks/_inference.py) has no comment where autodoc looks (the package's
# __init__), and autodoc falls back to the docstring of its type: int's. Use the "#:"
# comment of the defining module instead, or nothing.
def _constant_docstrings(app, what, name, obj, options, lines):
    if what != "data" or not lines:
        return
    type_doc = inspect.getdoc(type(obj)) or ""
    if lines[0].strip() != type_doc.splitlines()[0].strip():
        return  # a real comment or docstring
    import pkgutil

    from sphinx.pycode import ModuleAnalyzer

    attribute = name.rsplit(".", 1)[-1]
    comment: list[str] = []
    for info in pkgutil.walk_packages(skmtl.__path__, "skmtl."):
        try:
            docs = ModuleAnalyzer.for_module(info.name).find_attr_docs()
        except Exception:  # noqa: BLE001 - a module without source: skip it
            continue
        if ("", attribute) in docs:
            comment = list(docs[("", attribute)])
            break
    lines[:] = comment


def setup(app):
    app.connect("autodoc-process-docstring", _constant_docstrings, priority=300)
    app.connect("builder-inited", _check_api_reference)
    app.connect("missing-reference", _sklearn_reference)
