"""How the notifications modules may import each other, read from their sources: the stream's imports go one
way, the channel layer's internals are touched in one module of the whole repository (tests included), and
the other apps reach notifications only through ``notifications.services``."""

import ast
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
ADAPTER = "notifications.channel_layer"
# channels_redis's private names (and its host parser), and what a layer keeps by name: its channels' queues
# and its groups' members (``<layer>.channels``, ``<layer>.groups``).
LAYER_PRIVATE_NAMES = frozenset(
    {"_get_layer", "_layers", "_shards", "_pubsub", "_consistent_hash", "_subscribed_to", "decode_hosts"}
)
LAYER_CONTAINERS = frozenset({"channels", "groups"})
ATTRIBUTE_BY_NAME = frozenset({"getattr", "setattr", "hasattr", "delattr"})
# Not the project's code: environments, caches, data and what a tool made.
OUTSIDE = frozenset({"node_modules", "var", "mestring.egg-info"})


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


def every_module() -> dict[str, Path]:
    """Every Python file of the repository: each package, its migrations, the tests, ``bench/``, ``manage.py``."""
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if not any(part.startswith(".") or part in OUTSIDE for part in parts):
            found[module_name(path)] = path
    return found


def _touches_internals(node: ast.AST) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom):
        modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        names = {alias.name for alias in node.names}
        return any(module.split(".")[0] == "channels_redis" for module in modules) or bool(LAYER_PRIVATE_NAMES & names)
    if isinstance(node, ast.Name):
        return node.id in LAYER_PRIVATE_NAMES
    if isinstance(node, ast.Attribute):
        return node.attr in LAYER_PRIVATE_NAMES or (
            node.attr in LAYER_CONTAINERS and "layer" in ast.unparse(node.value).lower()
        )
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ATTRIBUTE_BY_NAME
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and node.args[1].value in LAYER_PRIVATE_NAMES
    )


def layer_internals(source: str) -> list[str]:
    """The code in ``source`` that touches a channel layer's internals: an import from channels_redis, one of
    its private names (as a name, an attribute, or the name given to ``getattr`` and its kin), or a layer's
    ``channels`` or ``groups`` (an attribute of an expression that names a layer: ``layer.groups``,
    ``self.layer.channels``; ``cell.groups`` and ``receiver.groups()`` are not a layer's)."""
    return [ast.unparse(node) for node in ast.walk(ast.parse(source)) if _touches_internals(node)]


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
    modules = every_module()
    assert {ADAPTER, "tests.notifications.test_channel_layer", "config.settings", "manage"} <= set(modules)
    # Only a file that has one of the names in it can touch them: the others need no parsing.
    words = (*LAYER_PRIVATE_NAMES, *(f".{name}" for name in LAYER_CONTAINERS), "channels_redis")
    texts = {name: text for name, path in modules.items() if any(word in (text := path.read_text()) for word in words)}
    touching = {name: found for name, text in texts.items() if (found := layer_internals(text))}
    assert set(touching) - {ADAPTER} == set(), touching
    assert ADAPTER in touching


def test_the_scan_finds_each_way_of_touching_a_layers_internals():
    touching = [
        "from channels_redis.pubsub import RedisPubSubChannelLayer",
        "import channels_redis.core",
        "from notifications.somewhere import _consistent_hash",
        "inner = layer._get_layer()",
        "loop_layer = channel_layer._layers.get(loop)",
        "for shard in inner._shards: pass",
        "names = shard._subscribed_to",
        'pubsub = getattr(shard, "_pubsub", None)',
        "queue = hub.layer.channels[name]",
        "members = get_channel_layer().groups",
        "redis_layer.groups.clear()",
    ]
    assert [bool(layer_internals(line)) for line in touching] == [True] * len(touching)
    not_touching = [
        "from channels.layers import channel_layers",
        "channel_layers.backends.clear()",
        "rows = [group for group in cell.groups]",
        "assert hub.receiver.groups() == []",
        "values = matched.groups()",
        "held = receiver.held().channels",
        'text = "the layer keeps _shards and _pubsub"',
    ]
    assert [layer_internals(line) for line in not_touching] == [[]] * len(not_touching)


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
