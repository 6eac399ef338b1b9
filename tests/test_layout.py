"""DESIGN.md's layout and import rules, enforced by walking every import (STYLE 2)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FACES = ("generator", "portal")
NEVER_IN_CORE = {"starlette", "mkdocs", "jinja2", "whoosh", "uvicorn", "material"}
CLI_MODULES = {
    Path("volcredit/cli.py"),
    Path("volcredit/cli_portal.py"),
    Path("volcredit/cli_demo.py"),
    Path("volcredit/cli_orgs.py"),
    Path("volcredit/cli_transfer.py"),
    Path("volcredit/cli_certificates.py"),
    Path("volcredit/cli_cases.py"),
}
CORE_THIRD_PARTY = {
    "cryptography",  # signatures of the manifest and of record certificates
    "sqlalchemy",
    "alembic",
    "yaml",
    "stdnum",
    "chinese_calendar",
    "dateutil",
    "tqdm",
}


def imports(path: Path) -> list[tuple[str, bool]]:
    """``(top-level module, imported at module level?)`` for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(n) for n in tree.body}
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found += [(n.split(".")[0], id(node) in top_level) for n in names]
    return found


def package_files(name: str) -> list[Path]:
    return sorted((ROOT / name).rglob("*.py"))


def test_core_never_imports_the_faces_or_web_libraries() -> None:
    """The core knows nothing of the web, templates or search; the CLI imports faces lazily."""
    stdlib = set(sys.stdlib_module_names)
    bad: list[str] = []
    for path in package_files("volcredit"):
        rel = path.relative_to(ROOT)
        for module, at_top in imports(path):
            if module in NEVER_IN_CORE:
                bad.append(f"{rel}: {module}")
            elif module in FACES and (at_top or rel not in CLI_MODULES):
                bad.append(f"{rel}: {module} (only the CLI may, inside a command)")
            elif module not in stdlib | CORE_THIRD_PARTY | {"volcredit", *FACES}:
                bad.append(f"{rel}: {module} (not an allowed core dependency)")
    assert bad == []


def test_faces_never_import_each_other() -> None:
    bad = []
    for face in FACES:
        other = next(f for f in FACES if f != face)
        for path in package_files(face):
            bad += [f"{path.relative_to(ROOT)}: {m}" for m, _ in imports(path) if m == other]
    assert bad == []


def test_the_walker_sees_violations(tmp_path: Path) -> None:
    """The check above can fail: a planted import is found."""
    planted = tmp_path / "m.py"
    planted.write_text("import starlette\n\ndef f():\n    from portal import app\n")
    assert imports(planted) == [("starlette", True), ("portal", False)]


def test_modules_stay_small() -> None:
    """STYLE 9: no module over ~500 lines."""
    big = [
        f"{p.relative_to(ROOT)}: {n}"
        for name in ("volcredit", *FACES, "tests")
        for p in package_files(name)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500
    ]
    assert big == []
