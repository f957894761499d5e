"""The package's floors: a folder imports only from floors below it (README, "Architecture")."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "speechsynth"
FLOORS = {
    "errors": 0,
    "fileio": 0,
    "text": 1,
    "audio": 1,
    "models": 1,
    "data": 2,
    "infer": 2,
    "export": 2,
    "prepare": 3,
    "train": 3,
    "serve": 3,
    "evaluate": 3,
    "cli": 4,
}


def part_of(module: str) -> str:
    """`speechsynth.train.trainer` -> `train`; `speechsynth` itself -> `` (the version only)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return {module for module in modules if module.split(".")[0] == "speechsynth"}


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_go_down(path):
    relative = path.relative_to(PACKAGE)
    own = relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 else relative.stem
    if own not in FLOORS:
        return  # __init__, __main__: the package's entry points
    for module in imported_modules(path):
        target = part_of(module)
        if target in ("", own):
            continue
        assert target in FLOORS, f"{relative}: imports {module}, which is in no floor"
        assert FLOORS[target] < FLOORS[own], (
            f"{relative} (floor {FLOORS[own]}, {own}/) imports {module} "
            f"(floor {FLOORS[target]}, {target}/)"
        )


def test_runtime_never_imports_training():
    for folder in ("infer", "export", "serve"):
        for path in (PACKAGE / folder).rglob("*.py"):
            assert not any(part_of(m) == "train" for m in imported_modules(path)), path


CLI_FORBIDDEN = ("torch", "numpy", "onnxruntime")


def imported_top_level_names(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in the file (functions included), by its first
    name: `from torch.nn import X` -> torch."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "cli").rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_cli_imports_no_numerical_library(path):
    """The command layer parses and prints: lower floors compute and hand back plain values."""
    imported = imported_top_level_names(path) & set(CLI_FORBIDDEN)
    assert not imported, f"{path.relative_to(PACKAGE)} imports {', '.join(sorted(imported))}"
