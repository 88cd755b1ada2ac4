"""Every app has the same anatomy (README, Layout): access functions live in the app's ``access``, presenters
in its ``presenters``, and imports go one way: ``api`` → ``services``/``selectors``/``access``/``presenters``
→ ``models``, with ``access`` and ``selectors`` importing each other in one direction only."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ("selvbetjening", "velfaerdsteknologi", "notifications", "effekt")
# Which of an app's layers a layer may not import.
FORBIDDEN = {
    "models": ("access", "selectors", "services", "presenters", "api"),
    "selectors": ("services", "presenters", "api"),
    "access": ("services", "presenters", "api"),
    "presenters": ("access", "api"),
    "services": ("api",),
}


def _modules(app: str, layer: str) -> list[Path]:
    package, module = ROOT / app / layer, ROOT / app / f"{layer}.py"
    return sorted(package.rglob("*.py")) if package.is_dir() else [module] if module.exists() else []


def _imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _imports_layer(app: str, layer: str, other: str) -> bool:
    return any(name.split(".")[:2] == [app, other] for path in _modules(app, layer) for name in _imported(path))


def layer_violations(app: str) -> list[str]:
    problems = []
    if _imports_layer(app, "access", "selectors") and _imports_layer(app, "selectors", "access"):
        problems.append(f"{app}: access and selectors import each other")
    for layer, forbidden in FORBIDDEN.items():
        for path in _modules(app, layer):
            for name in sorted(_imported(path)):
                parts = name.split(".")
                if parts[0] == app and len(parts) > 1 and parts[1] in forbidden:
                    problems.append(f"{path.relative_to(ROOT)} imports {name}")
    return problems


def misplaced_access_functions(app: str) -> list[str]:
    """``access_<entity>(actor, …)`` functions defined anywhere in the app but its ``access``."""
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        relative = path.relative_to(ROOT / app).parts
        if relative[0] in ("access", "access.py", "migrations", "management"):
            continue
        for node in ast.parse(path.read_text()).body:
            is_access = isinstance(node, ast.FunctionDef) and node.name.startswith("access_")
            if is_access and node.args.args and node.args.args[0].arg == "actor":
                found.append(f"{path.relative_to(ROOT)}: {node.name}")
    return found


@pytest.mark.parametrize("app", APPS)
def test_every_app_has_its_access_functions_in_access(app):
    assert _modules(app, "access"), f"{app} has no access module"
    assert misplaced_access_functions(app) == []


@pytest.mark.parametrize("app", APPS)
def test_imports_go_one_way(app):
    assert layer_violations(app) == []


def _presents_a_parameter(function: ast.FunctionDef) -> bool:
    """Whether the function returns a dict display with a value read from an attribute of one of its parameters
    (``{"key": indicator.key, …}``): a model or a figure turned into a response's shape."""
    parameters = {argument.arg for argument in function.args.args + function.args.kwonlyargs}
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
            for value in node.value.values:
                if not isinstance(value, ast.Attribute):
                    continue
                while isinstance(value, ast.Attribute):
                    value = value.value
                if isinstance(value, ast.Name) and value.id in parameters:
                    return True
    return False


def misplaced_presenters(app: str) -> list[str]:
    """Presenters written outside ``presenters``: a function of ``api`` or ``selectors`` that is not a route
    handler and turns its parameters' attributes into a response's dict, or is named ``*_out``."""
    found = []
    for layer in ("api", "selectors"):
        for path in _modules(app, layer):
            for node in ast.parse(path.read_text()).body:
                if not isinstance(node, ast.FunctionDef):
                    continue
                named = node.name.removeprefix("_").endswith("_out")
                if named or (not node.decorator_list and _presents_a_parameter(node)):
                    found.append(f"{path.relative_to(ROOT)}: {node.name}")
    return found


@pytest.mark.parametrize("app", APPS)
def test_every_app_keeps_its_presenters_in_presenters(app):
    assert _modules(app, "presenters"), f"{app} has no presenters module"
    assert misplaced_presenters(app) == []
