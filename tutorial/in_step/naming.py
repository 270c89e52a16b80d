"""Readable, stable names for signals, receivers, senders and arguments."""

import ast
import importlib
import inspect
import os
import sys
from pathlib import Path

import django
from django.apps import AppConfig, apps
from django.db import models
from django.db.models.options import Options
from django.dispatch import Signal

# Modules that define Django's built-in signals, searched before anything else so
# that each signal gets its canonical name (post_save is imported in many places).
BUILTIN_SIGNAL_MODULES = [
    "django.db.models.signals",
    "django.core.signals",
    "django.db.backends.signals",
    "django.test.signals",
    "django.contrib.auth.signals",
    "django.utils.autoreload",
]


def project_root():
    """The folder that holds manage.py: the parent of the settings module's package.

    Under the toolbar's settings, which wrap the step's, the step's own settings module.
    """
    from django.conf import settings

    settings_name = getattr(settings, "STEP_SETTINGS_MODULE", os.environ["DJANGO_SETTINGS_MODULE"])
    settings_file = Path(importlib.import_module(settings_name).__file__).resolve()
    package_depth = settings_name.count(".") + (settings_file.name == "__init__.py")
    return settings_file.parents[package_depth]


def all_signals():
    """Map each Signal object to its dotted name: Django's own first, then the project's.

    A signal is named after the module that creates it (``name = Signal()``), never
    after a module that imports it.
    """
    names = {}
    for module in builtin_modules():
        for attribute, value in vars(module).items():
            if is_signal(value):
                names.setdefault(value, f"{module.__name__}.{attribute}")
    for module in [*project_modules(), *other_installed_modules()]:
        for attribute, value in vars(module).items():
            if is_signal(value) and value not in names:
                if attribute in signals_created_in(module):
                    names[value] = f"{module.__name__}.{attribute}"
    return names


def is_signal(value):
    """Without touching the value: isinstance() would evaluate a lazy object (GEOS, say)."""
    return issubclass(type(value), Signal)


def builtin_modules():
    return [importlib.import_module(name) for name in BUILTIN_SIGNAL_MODULES]


def other_installed_modules():
    """Every loaded module of Django and of the installed apps' packages (django_tasks, say).

    Signals outside the usual signals modules live there, such as the tasks framework's.
    """
    packages = {"django"} | {config.name.partition(".")[0] for config in apps.get_app_configs()}
    return [
        module
        for name, module in sorted(sys.modules.copy().items())
        if name.partition(".")[0] in packages and module is not None
    ]


def project_modules():
    """Each module of the project's own apps that is loaded or creates a Signal.

    Modules are read before they are imported, and only those with a module-level
    ``name = ...Signal(...)`` are imported, so that looking has no other side effects.
    Loaded modules are all searched: a signal made by a function of the project's own
    (``name = make_signal()``) lives in one of them, since its receivers are connected.
    """
    root = project_root()
    for config in apps.get_app_configs():
        app_folder = Path(config.path).resolve()
        if root not in app_folder.parents:
            continue
        for path in sorted(app_folder.rglob("*.py")):
            name = module_name(config, app_folder, path)
            if name in sys.modules or signal_assignments(path.read_text(encoding="utf-8")):
                yield importlib.import_module(name)


def module_name(config, app_folder, path):
    parts = [*path.relative_to(app_folder).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([config.name, *parts])


def signals_created_in(module):
    """Names the module assigns from a call; an import never creates a name here."""
    try:
        return set(assigned_calls(inspect.getsource(module)))
    except (OSError, TypeError, SyntaxError):
        return set()


def signal_assignments(source):
    """Names assigned at module level from a call to ``Signal``, ``ModelSignal``, ``x.Signal``."""
    if "Signal(" not in source:
        return set()
    return {name for name, called in assigned_calls(source).items() if called.endswith("Signal")}


def assigned_calls(source):
    """Map each name assigned at module level from a call to the called name."""
    assigned = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if isinstance(value, ast.Call):
            called = _called_name(value.func)
            assigned |= {target.id: called for target in targets if isinstance(target, ast.Name)}
    return assigned


def _called_name(function):
    if isinstance(function, ast.Attribute):
        return function.attr
    return function.id if isinstance(function, ast.Name) else ""


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
    """``module.qualname``; a bound method also names its object, as several may listen."""
    bound_to = getattr(function, "__self__", None)
    function = getattr(function, "__func__", function)
    module = getattr(function, "__module__", None) or "?"
    name = f"{module}.{getattr(function, '__qualname__', short_repr(function))}"
    if bound_to is None or inspect.ismodule(bound_to):
        return name
    return f"{name} of {bound_object_name(bound_to)}"


def bound_object_name(value):
    # migrate builds its own copies of the models, outside the app registry; a swappable
    # one (User) connects to setting_changed just like the real model does.
    if isinstance(value, Options) and value.apps is not apps:
        return f"{short_repr(value)}, a historical model built by migrate"
    return short_repr(value)


def source_location(function):
    """``path:line`` of a function, relative to the project or to site-packages."""
    function = inspect.unwrap(getattr(function, "__func__", function))
    try:
        path = Path(inspect.getsourcefile(function)).resolve()
        line = inspect.getsourcelines(function)[1]
    except (TypeError, OSError):
        return "?"
    site_packages = Path(django.__file__).resolve().parent.parent
    for base in (project_root(), site_packages):
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
    """A repr without memory addresses, so that notebook outputs are reproducible.

    It never runs a query (a QuerySet is not evaluated) and never raises.
    """
    if isinstance(value, models.Model):
        return f"<{type(value).__name__} pk={value.pk}>"
    if isinstance(value, models.QuerySet):
        return f"<QuerySet of {value.model.__name__}>"
    if isinstance(value, type):
        return value.__qualname__
    if isinstance(value, dict):
        return f"<dict of {len(value)} items>"
    if isinstance(value, (set, frozenset)):
        # A set's order changes from one interpreter to the next: sort it.
        items = ", ".join(sorted(map(short_repr, value)))
        value = f"{type(value).__name__}({{{items}}})"
        return value if len(value) <= limit else value[: limit - 1] + "…"
    if callable(value) and hasattr(value, "__qualname__"):
        return value.__qualname__
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__}>"
    if " at 0x" in text or " object at " in text:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"
