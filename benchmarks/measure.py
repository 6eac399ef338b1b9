"""Helpers for ``benchmarks/run.py``: one step in a child process with its wall time and peak
memory, the machine's description, and the system tools the benchmark installs if missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class Step:
    seconds: float
    peak_mib: float  # the child's maximum resident set, its own waited-for children included
    stdout: str
    stderr: str


# A small launcher between this process and the step: a child's peak RSS as the kernel reports it
# starts at its parent's RSS at the fork (exec keeps the old high-water mark), so the step is
# forked from this few-MiB interpreter, never from the benchmark's own, larger process.
LAUNCHER = """import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) & 255)
"""


def measured(
    command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None, check: bool = True
) -> Step:
    """Run ``command`` to its end; its wall time and peak RSS (``wait4``: that step only, its
    own waited-for children included)."""
    import time

    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.NamedTemporaryFile("r") as rss,
    ):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, rss.name, *command],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=err,
            check=False,
        )
        seconds = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        kib = int(rss.read() or 0)
        step = Step(seconds, kib / 1024, out.read(), err.read())
    if check and proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed ({proc.returncode}):\n{step.stdout[-3000:]}"
            f"\n{step.stderr[-3000:]}"
        )
    return step


def machine() -> dict[str, str]:
    """CPU model, cores and RAM from /proc; the software versions."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    kib = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "ram": f"{kib / 1024 / 1024:.1f} GiB",
        "python": sys.version.split()[0],
    }


def ensure_tool(program: str, package: str) -> str | None:
    """The path of ``program``, installing Debian's ``package`` with apt-get if it is missing
    and this process may (root); None (and why, printed) if it stays missing."""
    found = shutil.which(program)
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(f"{program}: not installed and not root (apt-get install -y {package}); skipped")
        return None
    print(f"{program}: installing the Debian package {package} ...", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", package], env=env, **quiet).returncode:
        subprocess.run(["apt-get", "update"], env=env, **quiet)
        subprocess.run(["apt-get", "install", "-y", package], env=env, **quiet)
    found = shutil.which(program)
    if found is None:
        print(f"{program}: apt-get could not install {package}; skipped")
    return found


def tool_version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    except OSError:
        return "?"
    return out.strip().splitlines()[0] if out.strip() else "?"
