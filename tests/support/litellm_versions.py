"""The LiteLLM releases the suite tests against, each in its own virtualenv.

CURRENT is the pinned `litellm[proxy]` of requirements-dev.txt, in the project's `.venv/`. Each older release lives
in `.venv-litellm-<version>/`, installed from `tests/support/requirements-litellm-<version>.txt` (every dependency
pinned). `make test` builds it first (`python -m tests.support.litellm_versions`); a test session that finds it
missing or out of date builds it itself, so `pytest tests/test_chat.py` works on its own too. About a minute.

Why 1.53.1: it is the oldest release on PyPI (as seen from here) that installs and starts offline. The index has
nothing between 1.14.4 and 1.53.1; 1.14.4 downloads tiktoken's encoding at import (it cannot start offline) and,
given that file, has no `/health/liveliness`.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_PIN = re.compile(r"^litellm\[proxy\]==(\S+)", re.MULTILINE)

CURRENT = _PIN.search((ROOT / "requirements-dev.txt").read_text()).group(1)
OLDER = ("1.53.1",)
VERSIONS = (CURRENT, *OLDER)  # newest first


def requirements(version: str) -> Path:
    """The pinned requirements of an older release's virtualenv."""
    return ROOT / "tests" / "support" / f"requirements-litellm-{version}.txt"


def venv(version: str) -> Path:
    return ROOT / f".venv-litellm-{version}"


def executable(version: str) -> str:
    """The `litellm` command of that release: the project's own for CURRENT, else its virtualenv's (built if
    missing)."""
    if version == CURRENT:
        return str(Path(sys.executable).with_name("litellm"))
    return str(ensure(version) / "bin" / "litellm")


def ensure(version: str) -> Path:
    """The release's virtualenv, created or reinstalled when its requirements file changed. Safe to call from
    several processes at once (a lock file); a failed install leaves no marker, so the next call tries again."""
    path, pins = venv(version), requirements(version)
    wanted = hashlib.sha256(pins.read_bytes()).hexdigest()
    marker = path / ".installed"
    if _read(marker) == wanted:
        return path
    lock_path = path.with_name(path.name + ".lock")
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _read(marker) != wanted:
            marker.unlink(missing_ok=True)
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(path)], check=True)
            subprocess.run([str(path / "bin" / "python"), "-m", "pip", "install", "--quiet",
                            "--disable-pip-version-check", "--no-input", "-r", str(pins)], check=True)
            marker.write_text(wanted)
    return path


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


if __name__ == "__main__":
    for older in OLDER:
        print(f"LiteLLM {older}: {ensure(older)}")
