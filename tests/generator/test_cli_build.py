"""``volcredit build``, ``verify-site`` and ``demo`` through the CLI: exit codes and messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from volcredit.cli import main

CONTENT = Path(__file__).resolve().parents[2] / "content"


def test_demo_then_verify_site_then_tamper(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PUB-8: the demo publishes a signed site; ``verify-site`` passes, then names a change."""
    monkeypatch.setenv("VOLCREDIT_SIGNING_KEY", str(tmp_path / "demo.key"))
    db = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    site = tmp_path / "site"
    assert (
        main(["demo", "--db", db, "--today", "2026-11-21", "--site", str(site), "--no-serve"]) == 0
    )
    out = capsys.readouterr().out
    assert "案件一览" in out and "网站已发布到" in out and "index.html" in out
    assert main(["verify-site", str(site), "--public-key", str(tmp_path / "demo.key.pub")]) == 0
    assert "网站与签名清单一致" in capsys.readouterr().out
    page = site.resolve() / "honours/index.html"
    page.write_text(page.read_text(encoding="utf-8") + "<!-- x -->", encoding="utf-8")
    assert main(["verify-site", str(site)]) == 1
    assert "文件被改动：honours/index.html" in capsys.readouterr().err


def test_build_refused_by_the_leak_gate_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PUB-1: a leak exits 1 with one line per leaking file and keeps nothing."""
    monkeypatch.setenv("VOLCREDIT_SIGNING_KEY", str(tmp_path / "k.key"))
    content = tmp_path / "content"
    (content / "pages").mkdir(parents=True)
    (content / "pages" / "help.md").write_text("# 帮助\n\n联系电话 13912345678\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 's.sqlite3'}"
    assert main(["load", str(CONTENT), "--db", db]) == 0
    capsys.readouterr()
    code = main(
        [
            "build",
            "--db",
            db,
            "--today",
            "2026-11-21",
            "--out",
            str(tmp_path / "site"),
            "--content",
            str(content),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "help/index.html: 泄露 mobile（139****5678） [PUB-1]" in err
    assert "13912345678" not in err and not (tmp_path / "site").exists()


def test_build_shows_progress_on_a_terminal_and_nothing_in_a_pipe(tmp_path: Path) -> None:
    """Issue 8: ``load`` and ``build`` run long; on a terminal each shows a progress bar (file
    and rows; build phase and pages), and in a pipe or a log they print only their result."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    volcredit = [sys.executable, "-m", "volcredit"]
    env = {**os.environ, "VOLCREDIT_SIGNING_KEY": str(tmp_path / "k.key")}
    db = ["--db", f"sqlite:///{tmp_path / 'p.sqlite3'}", "--today", "2026-11-21"]
    build = [*volcredit, "build", *db, "--out", str(tmp_path / "site")]

    def on_terminal(argv: list[str]) -> str:
        """Run with standard error on a pseudo-terminal; what the terminal showed."""
        leader, follower = pty.openpty()
        # A terminal 120 columns wide (a fresh pseudo-terminal has none, and tqdm draws to fit).
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        proc = subprocess.Popen(argv, stderr=follower, stdout=subprocess.DEVNULL, env=env)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        assert proc.wait(timeout=300) == 0
        os.close(leader)
        return shown.decode("utf-8", "replace")

    loaded = on_terminal([*volcredit, "load", str(CONTENT), *db])
    assert "service_records" in loaded and "行" in loaded
    shown = on_terminal(build)
    assert "构建网站" in shown and "泄露检查" in shown
    piped = subprocess.run(build, capture_output=True, text=True, env=env, timeout=300)
    assert piped.returncode == 0 and "构建网站" not in piped.stderr and piped.stderr == ""


def test_build_says_what_it_reused_and_full_redoes_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9: a second build says how many pages it took from the published build and how
    many files it scanned; ``--full`` renders and scans everything again."""
    monkeypatch.setenv("VOLCREDIT_SIGNING_KEY", str(tmp_path / "k.key"))
    db = f"sqlite:///{tmp_path / 's.sqlite3'}"
    assert main(["load", str(CONTENT), "--db", db, "--today", "2026-11-21"]) == 0
    build = ["build", "--db", db, "--today", "2026-11-21", "--out", str(tmp_path / "site")]
    assert main(build) == 0
    assert "沿用" not in capsys.readouterr().out
    assert main(build) == 0
    again = capsys.readouterr().out
    assert "个页面输入未变，沿用上次发布的文件" in again
    scanned = int(re.search(r"逐字扫描了 (\d+) 个文件", again).group(1))
    files = int(re.search(r"(\d+) 个文件，清单已签名", again).group(1))
    assert scanned < files / 10
    assert main([*build, "--full"]) == 0
    assert "沿用" not in capsys.readouterr().out
