"""Which installed apps publish figures to the overview: an app whose ``selectors`` module has
``indicators`` (and optionally ``alerts`` and ``map_markers``) joins; the others are simply absent. Overview imports no app's
models — only these two selectors (the contract: docs/overview.md)."""

from dataclasses import dataclass
from functools import cache
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps


@dataclass(frozen=True)
class Provider:
    label: str
    name: str  # the app's verbose name (Chinese)
    indicators: object
    alerts: object | None


@cache
def providers() -> tuple[Provider, ...]:
    found = []
    for config in apps.get_app_configs():
        if config.label == "overview" or not config.name.startswith("smartgov."):
            continue
        module_name = f"{config.name}.selectors"
        if find_spec(module_name) is None:
            continue
        module = import_module(module_name)
        fn = getattr(module, "indicators", None)
        if callable(fn):
            found.append(Provider(config.label, str(config.verbose_name), fn, getattr(module, "alerts", None)))
    return tuple(found)


@cache
def marker_sources() -> tuple[tuple[str, object], ...]:
    """``(label, map_markers)`` of each installed app whose selectors publish places for the region map (an app
    may publish places without publishing indicators, as the exit-entry hall does today)."""
    found = []
    for config in apps.get_app_configs():
        if config.label == "overview" or not config.name.startswith("smartgov."):
            continue
        module_name = f"{config.name}.selectors"
        if find_spec(module_name) is None:
            continue
        fn = getattr(import_module(module_name), "map_markers", None)
        if callable(fn):
            found.append((config.label, fn))
    return tuple(found)
