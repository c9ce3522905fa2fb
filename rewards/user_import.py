"""Find the callable a ``reward_funcs`` entry names: ``package.module:function`` or ``path/to/file.py:function``.

A module path is imported as Python would (``trl.rewards:think_format_reward``).
A file is looked up next to the config file first (``base_dir``), then in the
current directory, so a config and its reward file travel together; it is loaded
once per process as a module of its own (``sys.modules`` under a name made from
its resolved path), so the config check and the build share one copy and its
top-level code runs once. What it cannot find is one ValueError starting with
``reward_funcs:``, naming the entry.

>>> load_user_reward("trl.rewards:think_format_reward").__name__
'think_format_reward'
>>> load_user_reward("rewards/nowhere.py:f", base_dir="recipes/configs")
Traceback (most recent call last):
...
ValueError: reward_funcs: 'rewards/nowhere.py:f': no file rewards/nowhere.py (looked in ...)
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["describe", "is_user_reward", "load_user_reward"]

_MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def is_user_reward(entry: str) -> bool:
    """``module:function`` or ``file.py:function`` (registry names have no colon)."""
    return isinstance(entry, str) and ":" in entry


def load_user_reward(entry: str, base_dir: str | Path | None = None) -> Callable[..., Any]:
    """The callable ``entry`` names, imported (a file resolved against ``base_dir``, then the current dir)."""
    target, _, attr = entry.rpartition(":")
    if not target or not attr.isidentifier():
        raise ValueError(f"reward_funcs: {entry!r}: expected module:function or path/to/file.py:function")
    if target.endswith(".py"):
        module = _load_file(entry, target, base_dir)
    elif _MODULE.fullmatch(target):
        module = _import(entry, target)
    else:
        raise ValueError(f"reward_funcs: {entry!r}: {target!r} is neither a module path (a.b.c) nor a .py file")
    try:
        fn = getattr(module, attr)
    except AttributeError:
        raise ValueError(f"reward_funcs: {entry!r}: {target} has no {attr!r}; it defines "
                         f"{', '.join(_callables(module)) or 'no public callables'}") from None
    if not callable(fn):
        raise ValueError(f"reward_funcs: {entry!r} is a {type(fn).__name__}, not a function")
    return fn


def _callables(module) -> list[str]:
    out = []
    for name in dir(module):  # dir, not vars: TRL's lazy modules import their names on first access
        try:
            if not name.startswith("_") and callable(getattr(module, name)):
                out.append(name)
        except Exception:  # noqa: BLE001  (a lazy name that fails to import is not offered)
            continue
    return out


def _import(entry: str, target: str):
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as err:
        raise ValueError(f"reward_funcs: {entry!r}: no module named {err.name or target!r}") from None
    except Exception as err:  # noqa: BLE001  (the user's module may raise anything while importing)
        raise ValueError(f"reward_funcs: {entry!r}: importing {target} failed: {describe(err)}") from None


def _load_file(entry: str, target: str, base_dir: str | Path | None):
    path = Path(target).expanduser()
    places = [path] if path.is_absolute() else [Path(d) / path for d in (base_dir, Path.cwd()) if d is not None]
    found = next((p.resolve() for p in places if p.is_file()), None)
    if found is None:
        where = " or ".join(str(p.parent.resolve()) for p in places)
        raise ValueError(f"reward_funcs: {entry!r}: no file {target} (looked in {where})")
    name = f"_user_reward_{found.stem}_{hashlib.sha1(str(found).encode()).hexdigest()[:8]}"
    if name in sys.modules:  # the config check and the build share one module: its code runs once
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, found)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # (dataclasses and pickle look the module up while it runs)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001
        del sys.modules[name]
        raise ValueError(f"reward_funcs: {entry!r}: loading {found} failed: {describe(err)}") from None
    return module


def describe(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
