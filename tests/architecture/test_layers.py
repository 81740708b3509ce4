"""The package reads top-down: each layer imports only the layers above it, and no module imports
itself back through a circle (function-level imports included)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PKG = "servicekpi"
# lower number = lower layer; a module may import its own layer or a lower one, never a higher one
LAYERS = {"core": 0, "catalog": 1, "store": 2, "ingest": 3, "connectors": 4, "engine": 5, "analysis": 6,
          "sample": 6, "report": 7, "delivery": 8, "server": 9, "cli": 10, "__main__": 11, "": -1}
# "" is the package root: it holds only __version__ and imports nothing


def modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / PKG).rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """servicekpi modules imported anywhere in the file (a package's own name when a name comes from it)."""
    ispkg = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == PKG}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if ispkg else name.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != PKG:
                continue
            for a in node.names:
                sub = f"{target}.{a.name}"
                found.add(sub if sub in known else target)
    found.discard(name)
    return {m for m in found if m in known}


def layer(name: str) -> tuple[str, int]:
    parts = name.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if top not in LAYERS:
        raise AssertionError(f"{name}: not in a layer package ({', '.join(k for k in LAYERS if k)}); "
                             "add it to a layer or to LAYERS")
    return top, LAYERS[top]


GRAPH = None


def graph() -> dict[str, set[str]]:
    global GRAPH
    if GRAPH is None:
        mods = modules()
        GRAPH = {m: imports(m, p, set(mods)) for m, p in mods.items()}
    return GRAPH


def test_every_module_sits_in_a_layer():
    for name in graph():
        layer(name)


def test_no_module_imports_a_higher_layer():
    upward = []
    for name, deps in sorted(graph().items()):
        top, level = layer(name)
        for dep in sorted(deps):
            dtop, dlevel = layer(dep)
            if dlevel > level or (dlevel == level and dtop != top):
                upward.append(f"{name} ({top}) imports {dep} ({dtop})")
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_circles():
    found = cycles(graph())
    assert not found, "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_cycle_finder_finds_a_circle():
    # the guard itself must be able to fail: a -> b -> c -> a is one circle, d stands alone
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("name", ["servicekpi.core.model", "servicekpi.engine.query", "servicekpi.cli.app"])
def test_known_modules_are_seen(name):
    assert name in graph()
