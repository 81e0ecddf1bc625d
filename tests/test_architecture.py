"""The package's shape: stages depend one way (docs/architecture.md), and no module imports itself in a circle.

Read from the source with ``ast``, imports inside functions included: a lazy import that goes upwards is still a
dependency upwards, and a lazy import that closes a circle is still a circle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "aidqa"

# Lowest first. A module may import its own stage and the stages of lower layers; stages on one layer (eval and
# web) do not import each other.
LAYERS: list[tuple[str, ...]] = [
    ("aidqa.models", "aidqa.zh"),
    ("aidqa.settings",),
    ("aidqa.ingest",),
    ("aidqa.index",),
    ("aidqa.retrieval",),
    ("aidqa.qa",),
    ("aidqa.eval", "aidqa.web"),
    ("aidqa.cli",),
]
# The package root is the public facade: it only holds ``__version__`` and lazy re-exports, so any module may read
# ``aidqa.__version__`` and the root itself may reach any stage.
ROOT = "aidqa"
# Old module names kept as deprecated aliases of a stage.
ALIASES = {"aidqa.evaluation": "aidqa.eval"}


def module_name(path: Path, src: Path = SRC) -> str:
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(src: Path = SRC) -> dict[str, Path]:
    return {module_name(p, src): p for p in sorted((src / ROOT).rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The aidqa modules ``path`` imports (``from aidqa.x import y`` counts as aidqa.x.y when that is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == ROOT)
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.add(f"relative import in {path.name}")  # not used here; would hide a dependency
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == ROOT:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
    return found


def stage_of(module: str) -> tuple[int, str] | None:
    module = ALIASES.get(module, module)
    for layer, stages in enumerate(LAYERS):
        for stage in stages:
            if module == stage or module.startswith(stage + "."):
                return layer, stage
    return None


def graph(src: Path = SRC) -> dict[str, set[str]]:
    mods = modules(src)
    known = set(mods)
    return {name: imports_of(path, known) - {name} for name, path in mods.items()}


def upward_imports(g: dict[str, set[str]]) -> list[str]:
    """Imports that go to a higher layer, or sideways to another stage of the same layer."""
    wrong = []
    for module, deps in sorted(g.items()):
        if module == ROOT:
            continue
        here = stage_of(module)
        for dep in sorted(deps - {ROOT}):
            there = stage_of(dep)
            if here is None or there is None or there[0] > here[0] or (there[0] == here[0] and there[1] != here[1]):
                wrong.append(f"{module} -> {dep}")
    return wrong


def circles(g: dict[str, set[str]]) -> list[str]:
    deps = {m: ds - {ROOT} for m, ds in g.items() if m != ROOT}
    found: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(deps.get(module, ())):
            if state.get(dep) == 1:
                found.append(" -> ".join([*path[path.index(dep):], module, dep] if dep in path else [module, dep]))
            elif dep not in state:
                visit(dep, [*path, module])
        state[module] = 2

    for module in sorted(deps):
        if module not in state:
            visit(module, [])
    return found


def test_every_module_belongs_to_a_stage():
    assert [m for m in modules() if m != ROOT and stage_of(m) is None] == []


def test_dependencies_point_one_way():
    assert upward_imports(graph()) == []


def test_no_import_circles():
    assert circles(graph()) == []


def test_the_graph_sees_the_imports_it_should():
    # The checks above are only as good as the graph: imports at module level and inside functions are in it.
    g = graph()
    assert "aidqa.qa.answerers.base" in g["aidqa.qa.answerers.extractive"]
    assert "aidqa.zh.numbers" in g["aidqa.index.figures"]
    assert "aidqa.qa.assistant" in g["aidqa.web.service"]
    assert "aidqa.index.figures" in g["aidqa.qa.grounding"]  # imported inside a function


def test_an_upward_import_and_a_circle_would_be_caught(tmp_path):
    pkg = tmp_path / ROOT
    for sub in ("zh", "qa"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("__version__ = '0'\n")
    (pkg / "zh" / "a.py").write_text("from aidqa import __version__\nfrom aidqa.qa.b import f\n")
    (pkg / "qa" / "b.py").write_text("def f():\n    from aidqa.qa.c import g\n")
    (pkg / "qa" / "c.py").write_text("from aidqa.qa import b\n\ndef g():\n    pass\n")
    g = graph(tmp_path)
    assert upward_imports(g) == ["aidqa.zh.a -> aidqa.qa.b"]
    assert circles(g) == ["aidqa.qa.b -> aidqa.qa.c -> aidqa.qa.b"]


@pytest.mark.integration
def test_every_module_imports_on_its_own():
    """Each aidqa module imported first, in a process where no other aidqa module is loaded yet (a circle that only
    bites in one import order fails). The heavy third-party libraries are imported once in a parent process that
    then forks one child per module, so this takes seconds rather than minutes."""
    script = """
import importlib, os, sys, traceback
for lib in ("numpy", "torch", "sentence_transformers", "chromadb", "langchain_core", "gradio", "fastapi", "jieba"):
    importlib.import_module(lib)
assert not any(m == "aidqa" or m.startswith("aidqa.") for m in sys.modules)
failed = 0
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            print(name, traceback.format_exc().strip().splitlines()[-1], flush=True)
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    failed += status != 0
sys.exit(1 if failed else 0)
"""
    names = sorted(modules())
    r = subprocess.run([sys.executable, "-c", script, *names], capture_output=True, text=True, timeout=600,
                       env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())})
    assert (r.returncode, r.stdout) == (0, ""), r.stdout + r.stderr[-2000:]


def test_the_old_evaluation_module_still_works():
    import importlib

    with pytest.warns(DeprecationWarning, match="aidqa.eval"):
        old = importlib.reload(importlib.import_module("aidqa.evaluation"))
    import aidqa.eval as new

    assert old.__all__ == new.__all__ and old.evaluate is new.evaluate and old.load_items is new.load_items
