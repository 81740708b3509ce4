"""A module imported on first use: `ibis = lazy("ibis")` at the top of a module keeps `import
servicekpi...` cheap. A query answered from the compiled-SQL cache never touches Ibis, so a
command that only prints cached answers never pays for importing it (about 0.5-1 s)."""
from __future__ import annotations

import importlib


class LazyModule:
    def __init__(self, name: str):
        self.__dict__["_name"] = name

    def __getattr__(self, attr: str):
        module = importlib.import_module(self.__dict__["_name"])
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_name']}>"


def lazy(name: str) -> LazyModule:
    return LazyModule(name)
