"""Docs that cannot drift (STYLE 8): CLI, settings, contract and rule IDs are all documented."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from volcredit.cli import build_parser
from volcredit.contract import TABLES
from volcredit.settings import SETTING_NAMES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
GUIDE = (ROOT / "docs/guide.md").read_text(encoding="utf-8")
RULE_ID = re.compile(r"\b(?:BJ|CQ|HN|PUB)-\d+[a-z]?\b|\bPERIOD\b")


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_cli_command_and_option_is_documented() -> None:
    commands = subcommands()
    assert {"load", "check", "cases", "verify-history", "demo"} <= set(commands)
    for name, sub in commands.items():
        assert f"volcredit {name}" in README, name
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in README + GUIDE, f"{name} {flag}"


def test_every_setting_is_documented() -> None:
    for name in SETTING_NAMES:
        assert f"`{name}`" in README and f"`{name}`" in GUIDE, name


def test_every_table_and_field_of_the_contract_is_in_the_guide() -> None:
    for name, spec in TABLES.items():
        assert f"### `{name}`" in GUIDE, name
        section = GUIDE.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
        for field in spec.field_names:
            assert f"| `{field}` |" in section, f"{name}.{field}"


def test_readme_quick_start_has_exactly_two_commands() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip()]
    assert [c.split("#")[0].strip() for c in commands] == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\ndemo:" in makefile and "\ntest:" in makefile
    assert "make test" in (ROOT / ".ci/run").read_text(encoding="utf-8")


def test_every_rule_the_code_enforces_is_named_by_a_test() -> None:
    """Every rule ID cited in the core is cited by at least one test (RULES.md, preamble)."""
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "volcredit").rglob("*.py"))
    tests = "\n".join(
        p.read_text(encoding="utf-8")
        for p in (ROOT / "tests").rglob("test_*.py")
        if p.name != "test_docs.py"
    )
    cited = set(RULE_ID.findall(code))
    assert len(cited) > 20
    assert sorted(cited - set(RULE_ID.findall(tests))) == []
    rules = ROOT.parent / "shared" / "RULES.md"
    if rules.is_file():
        known = set(RULE_ID.findall(rules.read_text(encoding="utf-8")))
        assert sorted(cited - known) == []


def test_readme_screenshots_are_files_the_browser_suite_writes() -> None:
    """Issue 8: the README shows real screenshots: each image exists in docs/screenshots and
    is one the browser suite takes (``shot(page, name)`` in tests/e2e)."""
    images = re.findall(r"\]\((docs/screenshots/[^)]+\.png)\)", README)
    assert len(images) >= 2
    suite = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests" / "e2e").glob("*.py"))
    for image in images:
        path = ROOT / image
        assert path.is_file() and path.read_bytes().startswith(b"\x89PNG"), image
        assert f'"{path.stem}"' in suite, f"no e2e test takes {path.stem}"
