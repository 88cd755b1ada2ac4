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


# --- Reads are logged by the access layer, never by a handler or a page ---------------------------------

# What writes access-log rows; only access functions, selectors and services may call it.
LOG_WRITERS = frozenset({"read_logged", "access_log_record", "access_log_record_each"})


def _handler_modules() -> list[Path]:
    """Every module that answers a request: the API's routers of every app and the kernel, and the web views."""
    apis = [path for app in (*APPS, "backend") for path in _modules(app, "api")]
    routers = sorted((ROOT / "backend" / "routers").rglob("*.py"))
    views = sorted((ROOT / "staffweb" / "views").rglob("*.py")) + [ROOT / "borgerapp" / "views.py"]
    return [*apis, *routers, ROOT / "config" / "api.py", *views]


def log_writes(source: str) -> list[str]:
    """Where ``source`` reaches a writer of the access log: imports it, or names it (``audit.read_logged``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "backend.audit":
            found += [f"line {node.lineno}: imports {alias.name}" for alias in node.names if alias.name in LOG_WRITERS]
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: imports {alias.name}" for alias in node.names if alias.name == "backend.audit"
            ]
        elif isinstance(node, ast.Name) and node.id in LOG_WRITERS:
            found.append(f"line {node.lineno}: {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in LOG_WRITERS:
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


def test_the_handler_modules_are_found():
    modules = _handler_modules()
    assert all(path.exists() for path in modules)
    names = {path.relative_to(ROOT).as_posix() for path in modules}
    assert {"staffweb/views/requests.py", "staffweb/views/it/work.py", "selvbetjening/api/staff.py"} <= names
    assert {"velfaerdsteknologi/api.py", "backend/routers/citizens.py", "borgerapp/views.py"} <= names


@pytest.mark.parametrize(
    "source",
    [
        "from backend.audit import read_logged\n",
        "from backend import audit\naudit.access_log_record(actor=a, citizens=[c], resource_type='x', action='read')\n",
        "import backend.audit\n",
        "def view(request):\n    return read_logged\n",
    ],
)
def test_a_handler_writing_the_access_log_itself_is_found(source):
    assert log_writes(source)


def test_no_handler_or_page_writes_the_access_log_itself():
    """A read of citizen data is logged by the access function that fetched it (``backend.access``, each
    app's ``access``), so no API handler or web view can show data and forget its row."""
    found = {
        path.relative_to(ROOT).as_posix(): writes
        for path in _handler_modules()
        if (writes := log_writes(path.read_text()))
    }
    assert found == {}
