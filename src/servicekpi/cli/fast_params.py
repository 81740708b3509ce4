"""Plain option values coerced without Pydantic.

Typer (0.29) coerces every parameter, given or not, through a Pydantic TypeAdapter it builds on first
use: importing Pydantic and building the adapters costs ~0.3 s of CPU a process, more than a warm
query. The values this CLI's parameters take are plain: nothing, a str, a Path, a list of str, or an
int or float default. Those are coerced here to exactly what Typer's adapters return
(tests/cli/test_fast_params.py compares the two on every parameter of the app); any other case,
every invalid value included, goes to Typer's own coercion, so messages and exit codes are Typer's.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import List

MISS = object()  # not a plain case: Typer coerces it
STR_LISTS = (List[str], list[str])


def _plain_path(info) -> bool:
    """Path options with Typer's default checks only (no exists/resolve/dash/kind/write rules)."""
    return (info.path_type is None and not info.exists and not info.resolve_path and not info.allow_dash
            and info.file_okay and info.dir_okay and not info.writable)


def coerce(descriptor, multi: bool, value):
    """value coerced as Typer would for this parameter, or MISS."""
    if value is None:  # Typer's RuntimeParam.coerce: no value, whatever the type
        return () if multi else None
    info = descriptor.parameter_info
    if info.parser is not None or descriptor.file_annotation is not None:
        return MISS
    ann = descriptor.annotation
    if multi:
        if ann in STR_LISTS and isinstance(value, (list, tuple)) and all(type(v) is str for v in value):
            return list(value)
        return MISS
    if ann is str and type(value) is str:
        return value
    if ann in (int, float) and type(value) is ann and info.min is None and info.max is None:
        return value
    if ann is Path and type(value) is str and value and _plain_path(info):
        try:
            os.stat(value)
        except OSError:
            return Path(value)  # a path that does not exist yet: allowed without exists=True
        return Path(value) if (not info.readable or os.access(value, os.R_OK)) else MISS
    return MISS


class _Plain:
    """Stands in for Typer's RuntimeParam until a value is not plain, then builds Typer's."""

    def __init__(self, descriptor, build):
        self.descriptor = descriptor
        self.build = build
        self.typer = None

    def coerce(self, value, param, ctx):
        if self.typer is None:
            out = coerce(self.descriptor, param.multiple or param.nargs == -1, value)
            if out is not MISS:
                return out
            self.typer = self.build(self.descriptor)
        return self.typer.coerce(value, param=param, ctx=ctx)


def install() -> bool:
    """Route Typer's parameter coercion through _Plain; False (nothing changed) on a Typer without
    the runtime-parameter hook this relies on."""
    try:
        from typer import core
        from typer._coercion import build_runtime_param
    except ImportError:
        return False
    cls = getattr(core, "_TyperParameter", None)
    if cls is None or not hasattr(cls, "get_runtime_param"):
        return False
    if getattr(cls, "_servicekpi_plain", False):
        return True

    def get_runtime_param(self):
        if self._runtime_param is None:
            self._runtime_param = _Plain(self.type_descriptor, build_runtime_param)
        return self._runtime_param

    cls.get_runtime_param = get_runtime_param
    cls._servicekpi_plain = True
    return True
