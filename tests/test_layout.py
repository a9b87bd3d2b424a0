"""The package's shape: layers import downwards, no module imports another in
a circle, imports sit at the top of modules, modules stay readable.

These read the source with ``ast`` (nothing is imported), so a new circle or
an import tucked into a function fails here before anyone has to find it.
"""
from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "ckanext" / "governance"
NAME = "ckanext.governance"

# Longest module, in lines, without a reason written here.
MODULE_MAX = 400
LONGER = {
    # The table of every route, action and auth function of the site: one
    # entry a line, read from top to bottom; splitting it would hide gaps.
    f"{NAME}.surface": "the classification table",
}

# Layers, lowest first: a module may import from its own layer or below.
# Domain modules (one per capability) sit on the plumbing; the action, auth,
# schema and validator layer on the domain; views on the actions; the plugin
# on everything. Nothing imports the plugin.
LAYERS = (
    ("plumbing", (f"{NAME}.config", f"{NAME}.clock", f"{NAME}.policy", f"{NAME}.model",
                  f"{NAME}.urls", f"{NAME}.duo")),
    ("views", (f"{NAME}.views",)),
    ("logic", (f"{NAME}.logic",)),
    ("cli", (f"{NAME}.cli",)),
    ("plugin", (f"{NAME}.plugin",)),
)
RANK = {"plumbing": 0, "domain": 1, "logic": 2, "cli": 2, "views": 3, "plugin": 4}


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, tuple[pathlib.Path, ast.Module]]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migration" in path.parts:
            continue
        found[_module_name(path)] = (path, ast.parse(path.read_text(), str(path)))
    return found


SOURCES = _sources()


def _resolve(module: str, node: ast.ImportFrom | ast.Import, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        here = module.split(".") if is_package else module.split(".")[:-1]
        here = here[: len(here) - node.level + 1]
        base = ".".join(here + ([base] if base else []))
    # "from . import x" names modules; "from .x import y" names x (or x.y).
    out = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        out.append(candidate if candidate in SOURCES else base)
    return out


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    out = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append(node)
        elif isinstance(node, ast.Try):
            out.extend(n for n in node.body if isinstance(n, (ast.Import, ast.ImportFrom)))
    return out


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, (path, tree) in SOURCES.items():
        targets = set()
        for node in _top_level_imports(tree):
            for target in _resolve(module, node, path.name == "__init__.py"):
                if target.startswith(NAME) and target != module and target in SOURCES:
                    targets.add(target)
        graph[module] = targets
    return graph


def _layer(module: str) -> str:
    for layer, prefixes in LAYERS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return layer
    return "domain"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_another_in_a_circle():
    # A package's __init__ importing its own modules is how packages are
    # assembled, not a circle: only edges between distinct modules count.
    assert _cycles(_graph()) == []


def test_layers_import_only_downwards():
    upward = []
    for module, targets in _graph().items():
        for target in targets:
            if target.startswith(module + "."):
                continue  # a package assembling its own modules
            if RANK[_layer(target)] > RANK[_layer(module)]:
                upward.append(f"{module} ({_layer(module)}) imports {target} ({_layer(target)})")
            if target == f"{NAME}.plugin":
                upward.append(f"{module} imports the plugin")
    assert upward == []


def _nested_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    top = set(map(id, _top_level_imports(tree)))
    allowed = set()
    for node in ast.walk(tree):
        if _type_checking(node):
            allowed.update(id(n) for n in ast.walk(node))
    return [node for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            and id(node) not in top and id(node) not in allowed]


def test_imports_inside_functions_say_why():
    """An import inside a function is allowed only under a comment that says
    why (an optional plugin, an import CKAN cannot take at start-up)."""
    unexplained = []
    for module, (path, tree) in SOURCES.items():
        lines = path.read_text().splitlines()
        for node in _nested_imports(tree):
            above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
            if not above.startswith("#"):
                unexplained.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert unexplained == []


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_module_is_short_enough_to_read(module):
    path = SOURCES[module][0]
    length = len(path.read_text().splitlines())
    assert length <= MODULE_MAX or module in LONGER, f"{module}: {length} lines"


def test_the_checks_see_a_circle_and_an_upward_import():
    # The checks above are only as good as the graph they read.
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _layer(f"{NAME}.logic.action") == "logic"
    assert _layer(f"{NAME}.embargo") == "domain"
    assert _layer(f"{NAME}.views.agreements") == "views"
    tree = ast.parse("import os\ndef f():\n    import json\n")
    assert len(_nested_imports(tree)) == 1
