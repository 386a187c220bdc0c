"""The import structure (docs/architecture.md): every module imports on its own, and imports only run down the layers.

    foundation ← libraries ← stages ← cli

The foundation imports nothing of ours; a library imports only the foundation and its own package; a stage composes
libraries (never another stage); the CLI parses and calls. Imports inside functions count like any other.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("volctrans", "cleaning", "serving", "volctrans_fairseq")

# Each unit is a module or a package (all modules under it); a module belongs to the longest unit it falls under.
LAYERS: dict[str, tuple[str, ...]] = {
    "foundation": ("volctrans", "volctrans.errors", "volctrans.io", "volctrans.config", "volctrans.artifacts",
                   "volctrans.languages"),
    "libraries": ("cleaning", "serving", "volctrans.data", "volctrans.weighting", "volctrans.evaluate",
                  "volctrans.apertium", "volctrans.plot"),
    "stages": ("volctrans.prepare", "volctrans.train", "volctrans.backtranslate", "volctrans.select",
               "volctrans.average", "volctrans.bench", "volctrans.show", "volctrans_fairseq"),
    "cli": ("volctrans.cli",),
}
ORDER = list(LAYERS)


def all_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


MODULES = all_modules()


def unit_of(module: str) -> tuple[str, str] | None:
    """(layer, unit) of a module; the foundation modules form one unit."""
    best = None
    for layer, units in LAYERS.items():
        for unit in units:
            if (module == unit or module.startswith(unit + ".")) and (best is None or len(unit) > len(best[1])):
                best = (layer, unit)
    if best and best[0] == "foundation":
        return ("foundation", "foundation")
    return best


def imports_of(module: str, path: Path) -> set[str]:
    """Our modules that `module` imports anywhere in its file (top level or inside functions).

    `import a.b.c` also runs the packages a and a.b: those that do not contain `module` itself count as imported
    (that is how `import cleaning.features` reached cleaning/rules/__init__.py and came back round).
    """
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            # `from pkg import name`: name is a submodule or a name defined in pkg.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] not in PACKAGES:
                continue
            parts = target.split(".")
            for end in range(1, len(parts) + 1):
                ancestor = ".".join(parts[:end])
                if ancestor in MODULES and ancestor != module and not module.startswith(ancestor + "."):
                    found.add(ancestor)
    return found


GRAPH = {module: imports_of(module, path) for module, path in MODULES.items()}


def test_every_module_has_a_layer():
    unplaced = [module for module in MODULES if unit_of(module) is None]
    assert not unplaced, f"add these modules to a layer in LAYERS (and docs/architecture.md): {unplaced}"


def test_imports_run_down_the_layers():
    wrong = []
    for module, targets in GRAPH.items():
        layer, unit = unit_of(module)
        for target in sorted(targets):
            target_layer, target_unit = unit_of(target)
            if target_unit == unit:
                continue  # inside one package (or the foundation)
            if ORDER.index(target_layer) >= ORDER.index(layer):
                wrong.append(f"{module} ({layer}) imports {target} ({target_layer})")
    assert not wrong, "imports that run back up or sideways:\n" + "\n".join(wrong)


def test_no_import_circles():
    """No module reaches itself again through the imports it makes (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in GRAPH[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert not circles, "import circles:\n" + "\n".join(" ⇄ ".join(c) for c in circles)


# Imports each of our modules in a process where none of our modules was imported before: a parent preloads the
# third-party libraries (torch, fairseq...) once, then forks one child per module, so each child imports exactly
# as `python -c "import MODULE"` would, without paying for torch again.
_FRESH_IMPORTS = r"""
import importlib, json, os, sys, traceback
ours, preload, modules = (arg.split(",") for arg in sys.argv[1:4])
for name in preload:
    try:
        importlib.import_module(name)
    except Exception:
        pass
leaked = sorted(m for m in sys.modules if m.split(".")[0] in ours)
assert not leaked, f"preloading imported our modules: {leaked}"
failures = {}
for module in modules:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        code = 0
        try:
            importlib.import_module(module)
        except BaseException:
            os.write(write, traceback.format_exc().encode())
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode(errors="replace").strip()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        failures[module] = message.splitlines()[-1] if message else f"exit status {status}"
print(json.dumps(failures))
"""


def _third_party_imports() -> list[str]:
    """Absolute imports at the top level of our modules that are not ours (what a fresh import pays for)."""
    names = set()
    for path in MODULES.values():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return sorted(name for name in names if name.split(".")[0] not in PACKAGES and name != "__future__")


def test_every_module_imports_alone():
    result = subprocess.run(
        [sys.executable, "-c", _FRESH_IMPORTS, ",".join(PACKAGES), ",".join(_third_party_imports()), ",".join(MODULES)],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    failures = json.loads(result.stdout.strip().splitlines()[-1])
    assert not failures, "\n".join(f"python -c 'import {module}': {error}" for module, error in failures.items())
