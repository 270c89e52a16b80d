"""Readable, stable names for signals, receivers, senders and arguments."""

import importlib
import inspect
import re
import sys
from pathlib import Path

import django
from django.apps import AppConfig, apps
from django.db import models
from django.dispatch import Signal

# Modules that define Django's built-in signals, searched before anything else so
# that each signal gets its canonical name (post_save is imported in many places).
BUILTIN_SIGNAL_MODULES = [
    "django.db.models.signals",
    "django.core.signals",
    "django.db.backends.signals",
    "django.test.signals",
    "django.contrib.auth.signals",
]


def project_modules():
    """The ``signals`` module of every installed app that lives in the project folder."""
    root = Path.cwd().resolve()
    for config in apps.get_app_configs():
        if root not in Path(config.path).resolve().parents:
            continue
        name = f"{config.name}.signals"
        try:
            yield importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name != name:
                raise


def all_signals():
    """Map each Signal object to its dotted name: Django's own first, then the project's."""
    modules = [importlib.import_module(name) for name in BUILTIN_SIGNAL_MODULES]
    modules += list(project_modules())
    names = {}
    for module in modules:
        for attribute, value in vars(module).items():
            if isinstance(value, Signal) and defines(module, attribute):
                names.setdefault(value, f"{module.__name__}.{attribute}")
    return names


def defines(module, attribute):
    """True when the module creates the signal, rather than importing it from elsewhere."""
    if module.__name__ in BUILTIN_SIGNAL_MODULES:
        return True
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return False
    return re.search(rf"^{attribute}\s*=\s*(\w+\.)?Signal\(", source, re.MULTILINE) is not None


def signal_name(signal, known=None):
    known = all_signals() if known is None else known
    return known.get(signal) or find_in_loaded_modules(signal) or "an anonymous Signal()"


def find_in_loaded_modules(signal):
    for module_name, module in list(sys.modules.items()):
        for attribute, value in list(vars(module).items()) if module else []:
            if value is signal:
                return f"{module_name}.{attribute}"
    return None


def callable_name(function):
    function = getattr(function, "__func__", function)
    module = getattr(function, "__module__", None) or "?"
    return f"{module}.{getattr(function, '__qualname__', repr(function))}"


def source_location(function):
    """``path:line`` of a function, relative to the project or to site-packages."""
    function = inspect.unwrap(getattr(function, "__func__", function))
    try:
        path = Path(inspect.getsourcefile(function)).resolve()
        line = inspect.getsourcelines(function)[1]
    except (TypeError, OSError):
        return "?"
    site_packages = Path(django.__file__).resolve().parent.parent
    for base in (Path.cwd().resolve(), site_packages):
        if base in path.parents:
            return f"{path.relative_to(base).as_posix()}:{line}"
    return f"{path}:{line}"


def sender_name(sender):
    if sender is None:
        return "any"
    if isinstance(sender, type) and issubclass(sender, models.Model):
        return sender.__name__
    if isinstance(sender, type):
        return sender.__qualname__
    if isinstance(sender, AppConfig):
        return f"AppConfig {sender.label!r}"
    return short_repr(sender)


def short_repr(value, limit=60):
    """A repr without memory addresses, so that notebook outputs are reproducible."""
    if isinstance(value, models.Model):
        return f"<{type(value).__name__} pk={value.pk}>"
    if isinstance(value, type):
        return value.__qualname__
    if isinstance(value, dict):
        return f"<dict of {len(value)} items>"
    if callable(value) and hasattr(value, "__qualname__"):
        return value.__qualname__
    text = repr(value)
    if " at 0x" in text or " object at " in text:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"
