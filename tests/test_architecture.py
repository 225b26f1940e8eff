"""The dependency rules, read from the source with ``ast``.

- Between apps, imports sit at the top of the module, where a cycle fails loudly at start-up.
  An import of another app inside a function body hides a cycle; cross-app wiring belongs in
  ``AppConfig.ready()`` (hooks, panels, job kinds). Migrations are generated and exempt.
- ``workers/`` holds framework-free engines: nothing from Django or ``apps/``, anywhere.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _python_files(folder: str) -> Iterator[Path]:
    for path in sorted((ROOT / folder).rglob("*.py")):
        if "migrations" not in path.relative_to(ROOT).parts:
            yield path


def _imported_modules(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def _is_app_config_ready(func: ast.AST, parents: list[ast.AST]) -> bool:
    if not isinstance(func, ast.FunctionDef) or func.name != "ready" or not parents:
        return False
    owner = parents[-1]
    return isinstance(owner, ast.ClassDef) and any(
        (isinstance(base, ast.Name) and base.id == "AppConfig")
        or (isinstance(base, ast.Attribute) and base.attr == "AppConfig")
        for base in owner.bases
    )


def _imports_in_functions(tree: ast.Module) -> Iterator[tuple[int, str, str]]:
    """(line, function, module) for each import inside a function body, ``ready()`` left out."""

    def visit(node: ast.AST, parents: list[ast.AST], function: str | None) -> Iterator:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                if _is_app_config_ready(child, [*parents, node]):
                    continue
                yield from visit(child, [*parents, node], child.name)
                continue
            if function is not None:
                for module in _imported_modules(child):
                    yield child.lineno, function, module  # type: ignore[attr-defined]
            yield from visit(child, [*parents, node], function)

    yield from visit(tree, [], None)


def _app_of(path: Path) -> str:
    return path.relative_to(ROOT / "apps").parts[0]


def cross_app_imports_in_functions() -> list[str]:
    offenders = []
    for path in _python_files("apps"):
        own = _app_of(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, function, module in _imports_in_functions(tree):
            parts = module.split(".")
            if parts[0] == "apps" and len(parts) > 1 and parts[1] != own:
                where = path.relative_to(ROOT)
                offenders.append(f"{where}:{line} {function}() imports {module}")
    return offenders


def framework_imports_in_workers() -> list[str]:
    offenders = []
    for path in _python_files("workers"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            for module in _imported_modules(node):
                if module.split(".")[0] in ("django", "apps"):
                    where = path.relative_to(ROOT)
                    offenders.append(f"{where}:{node.lineno} imports {module}")  # type: ignore[attr-defined]
    return offenders


def test_no_app_imports_another_app_inside_a_function():
    offenders = cross_app_imports_in_functions()
    assert not offenders, "Import at module level, or wire it in AppConfig.ready():\n" + "\n".join(
        offenders
    )


def test_workers_import_nothing_from_django_or_apps():
    offenders = framework_imports_in_workers()
    assert not offenders, "workers/ must stay framework-free:\n" + "\n".join(offenders)


def test_the_checks_find_what_they_look_for():
    """The walkers themselves: a hidden import is found, ready() and same-app imports are not."""
    source = (
        "from django.apps import AppConfig\n"
        "class DraftsConfig(AppConfig):\n"
        "    def ready(self):\n"
        "        from apps.core.panels import register\n"
        "def queue():\n"
        "    from apps.exports.services import export_queue\n"
        "    from apps.drafts.models import Draft\n"
        "    import os\n"
    )
    found = list(_imports_in_functions(ast.parse(source)))
    assert [(line, function, module) for line, function, module in found] == [
        (6, "queue", "apps.exports.services"),
        (7, "queue", "apps.drafts.models"),
        (8, "queue", "os"),
    ]
