"""How the notifications modules may import each other, read from their sources: the stream's imports go one
way, the channel layer's internals are touched in one module, and the other apps reach notifications only
through ``notifications.services``."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("backend", "config", "notifications", "selvbetjening", "velfaerdsteknologi")

# Each module of the live stream, and the stream modules it must not import (those above it).
STREAM_ABOVE = {
    "notifications.consumers": set(),
    "notifications.stream_hub": {"notifications.consumers"},
    "notifications.replay": {"notifications.consumers", "notifications.stream_hub"},
    "notifications.stream_checks": {"notifications.consumers", "notifications.stream_hub"},
    "notifications.stream_protocol": {"notifications.consumers", "notifications.stream_hub"},
    "notifications.streams": {"notifications.consumers", "notifications.stream_hub"},
    "notifications.channel_layer": {
        "notifications.consumers",
        "notifications.stream_hub",
        "notifications.replay",
        "notifications.stream_checks",
        "notifications.services",
    },
}
LAYER_INTERNALS = re.compile(r"_get_layer|\b_layers\b|_shards|_pubsub|_consistent_hash|decode_hosts|\.channels\[")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def imported(path: Path) -> set[str]:
    """Every module the file imports, at the top or inside a function, and the packages they are in."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            names.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return names


def test_the_stream_imports_one_way():
    modules = sources()
    upward = {name: sorted(imported(modules[name]) & above) for name, above in STREAM_ABOVE.items() if name in modules}
    assert set(upward) == set(STREAM_ABOVE)
    assert {name: found for name, found in upward.items() if found} == {}


def test_the_channel_layers_internals_are_touched_in_the_adapter_only():
    touching = {
        name
        for name, path in sources().items()
        if LAYER_INTERNALS.search(path.read_text()) or "channels_redis" in imported(path)
    }
    assert touching == {"notifications.channel_layer"}


def test_other_apps_reach_notifications_through_its_services_only():
    reaching = {
        name: sorted(
            module
            for module in imported(path)
            if module.startswith("notifications.") and not module.startswith("notifications.services")
        )
        for name, path in sources().items()
        if name.split(".")[0] in {"selvbetjening", "velfaerdsteknologi"}
    }
    assert {name: modules for name, modules in reaching.items() if modules} == {}
